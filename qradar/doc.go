// Package qradar is a client for the IBM QRadar SIEM REST API: offenses and
// their notes, closing reasons, offense types, source and local
// destination addresses, analytics rules, domains and Ariel (AQL)
// searches.
//
// # Overview
//
// [NewClient] takes the console's URL and options and does no I/O; the
// client's services group the endpoints:
//
//	c, err := qradar.NewClient("https://qradar.example.com",
//		qradar.WithToken(os.Getenv("QRADAR_TOKEN")),
//		qradar.WithCACertPEM(caPEM))
//	...
//	for o, err := range c.Offenses.ListAll(ctx, &qradar.OffenseListOptions{
//		Filter: qradar.And(qradar.Gt("last_updated_time", since), qradar.Eq("status", qradar.StatusOpen)),
//		Sort:   "+id",
//	}) { ... }
//
// Ids are distinct types ([OffenseID], [AddressID], [RuleID]...), times are
// time.Time (QRadar sends epoch milliseconds) and statuses are typed
// constants. Every request sends "Accept: application/json" and the
// Version header ([DefaultVersion] unless [WithVersion] says otherwise).
//
// # Authentication
//
// An authorized-service token, sent in the SEC header ([WithToken]), or a
// user's name and password with HTTP basic authentication
// ([WithBasicAuth]). Credentials never appear in errors or logs. A console
// with a private or self-signed certificate is trusted with
// [WithCACertPEM] or [WithTLSConfig]; a certificate that does not verify
// is an error, never retried.
//
// # Errors
//
// An answer other than 2xx is an [*APIError] holding QRadar's error body
// (HTTP status, QRadar's code, message and description). It matches
// [ErrNotFound], [ErrUnauthorized], [ErrForbidden], [ErrConflict],
// [ErrInvalidRequest], [ErrInvalidFilter], [ErrInvalidAQL],
// [ErrUnsupportedVersion] and [ErrServer] through errors.Is. Arguments the
// client refuses before sending anything match [ErrInvalidParams].
// [OffensesService.Close] reports an offense that is already closed with
// [ErrAlreadyClosed]; a search that ends in ERROR or CANCELED is a
// [*FailedSearchError] matching [ErrSearchFailed] or [ErrSearchCanceled].
//
// # Pagination
//
// Lists are paged with the Range header (items=x-y) and the
// Content-Range answer. List methods return one [Page]; ListAll methods
// return an iter.Seq2 that fetches page after page as the loop goes on and
// stops at the first error. Lookups of many ids (addresses, rules,
// offense types, domains) are sent in batches of [DefaultBatchSize] ids
// (filter=id in (...)), never one request per id; [OffensesService.Enrich]
// resolves the ids of many offenses at once that way.
//
// # Ariel searches
//
// [ArielService.Run] runs one AQL query: it creates the search, polls its
// status with a growing pause (honouring ctx and an overall timeout),
// reads the results page by page and deletes the search. Create, Wait,
// Results, ResultsAll, Cancel and Delete do each step alone.
// [ArielService.OffenseEvents] and [ArielService.RemoteDestinations] read
// an offense's first events and its remote destination addresses.
//
// # Retries
//
// Transport errors and 408, 429, 500, 502, 503 and 504 answers are retried
// with a jittered exponential backoff ([WithRetry]) for requests that are
// safe to send twice: reads, offense updates, Ariel search creation and
// cancellation. Adding a note or a closing reason is never retried.
//
// # Logging
//
// Nothing is logged unless [WithLogger] gives a *slog.Logger: then every
// attempt is logged at Debug and every retry at Warn, credentials
// redacted.
//
// Package qradartest is an in-process fake console for tests.
package qradar
