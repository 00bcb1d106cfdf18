// Package thehive is a typed client for the REST API (v1) of TheHive 5, the
// security incident response platform, and a receiver for its webhook
// notifications.
//
// # Overview
//
// [NewClient] returns a [Client] whose services group the operations by
// entity: Cases, Alerts, Observables, Tasks, TaskLogs, Comments, Users,
// CustomFields, CaseTemplates, ObservableTypes and Cortex. Inputs are
// method-specific structs ([CaseCreate], [CaseUpdate], [AlertCreate]...);
// outputs are plain structs with typed enums ([Severity], [TLP], [PAP],
// [CaseStatus]...) and time.Time dates (epoch milliseconds on the wire).
// Ids have distinct types ([CaseID], [AlertID]...) so that they cannot be
// mixed up.
//
//	c, err := thehive.NewClient("https://thehive.example.com",
//		thehive.WithAPIKey(key), thehive.WithOrganisation("soc"))
//	...
//	cs, err := c.Cases.Create(ctx, &thehive.CaseCreate{
//		Title:       "Phishing report",
//		Description: "Reported by a user",
//		Template:    "Phishing",
//		Severity:    thehive.SeverityHigh,
//	})
//
// Updates take pointers, so that an unset field is left as it is; [Ptr]
// makes them, and the Remove field of an update clears fields (TheHive
// removes a field sent as null).
//
// # Authentication
//
// [WithAPIKey] sends a bearer API key; [WithBasicAuth] a login and a
// password. [WithOrganisation] picks the organisation (the X-Organisation
// header), [InOrganisation] overrides it for one call. Credentials are
// kept in a type that prints as [REDACTED]: they never appear in logs or
// errors. [WithRootCAs], [WithCACertificatesPEM] and [WithTLSConfig]
// configure TLS.
//
// # Errors
//
// A non-2xx answer is an [*APIError] holding the status, TheHive's error
// type ("NotFoundError", "CreateError"...) and message. It matches the
// sentinels [ErrNotFound], [ErrUnauthorized], [ErrForbidden],
// [ErrConflict], [ErrDuplicate], [ErrBadRequest] and [ErrRateLimited] with
// errors.Is. Requests refused before being sent match [ErrInvalidParams];
// an assignment to a user the organisation does not have matches
// [ErrUnknownUser]. A request that got no answer fails with the transport's
// error, and a 2xx answer whose body broke off with a [*ReadError]. The
// errors worth another try later (429, 5xx, broken connections) say so with
// a Temporary method.
//
// TheHive refuses duplicates: an alert with the same (type, source,
// sourceRef), an observable with the same data in the same case or alert.
// Both come back as errors matching ErrDuplicate, which makes creations
// idempotent: run a step twice, count the duplicate as done. When a request
// creating several observables creates some and refuses others, the
// created ones are returned with a [*PartialError].
//
// # Queries and pagination
//
// Find, Count and FindAll methods use TheHive's query API. A [Query]
// holds a [Filter] built with [Eq], [Ne], [Lt], [Gt], [Between], [In],
// [Like], [Has], [And], [Or], [Not]..., a sort ([Asc], [Desc]) and a page
// (From, Limit). Find returns one page; FindAll returns an iter.Seq2 that
// fetches pages lazily, stops at the first error or when the loop breaks:
//
//	for cs, err := range c.Cases.FindAll(ctx, &thehive.Query{Filter: thehive.Eq("status", thehive.CaseStatusNew)}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(cs.Number, cs.Title)
//	}
//
// # Retries and rate limits
//
// Requests are retried on transport errors, 408, 429, 500, 502, 503 and
// 504, with a jittered exponential backoff, honouring Retry-After up to a
// bound ([WithRetryPolicy]). Only requests that are safe to repeat are
// retried: reads, updates, deletions, follows and queries. Creations are
// not, since a retried creation may create twice, unless the call is marked
// [SafeToRetry] — right for alerts and observables, whose duplicates
// TheHive refuses. Uploads are streamed from an io.Reader or an opener
// ([File]), never held whole in memory; a retried upload resends the same
// bytes.
//
// # Logging
//
// The client logs nothing unless given a *slog.Logger ([WithLogger]): then
// every attempt is logged at Debug level and every retry at Warn level,
// with credentials redacted.
//
// # Webhooks
//
// [ParseEvent] reads the notifications of TheHive 5 (both of its webhook
// formats), 4 and 3 into an [Event] with a normalised [Operation] and
// [ObjectType], and helpers such as [Event.IsCaseClosed] and
// [Event.IsAlertIgnoredOrRead]. [NewWebhookHandler] returns an
// http.Handler that authenticates TheHive (bearer token or basic
// credentials, compared in constant time), limits the body size and passes
// each event to a function.
//
// Package thehivetest provides an in-process fake TheHive for tests.
package thehive
