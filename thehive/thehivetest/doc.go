// Package thehivetest is a fake TheHive 5 that runs in process, for tests,
// demos and users' own test suites.
//
// # Overview
//
// A [Server] holds cases, alerts, observables, tasks, task logs, comments,
// attachments, users, custom fields, case templates, procedures, pages and
// Cortex jobs in memory and serves them through TheHive's v1 REST API
// (/api/v1/...), its query API (POST /api/v1/query) and its Cortex connector
// routes (/api/connector/cortex/... and /api/v1/connector/cortex/...). It
// answers like the real server, down to the details clients depend on: ids
// "~NNN", case numbers counted per organisation from 1, dates in epoch
// milliseconds, defaults (severity 2, TLP 2, PAP 2, status New), labels
// (severityLabel, tlpLabel, papLabel), "_type" names, 201 on creation, 204
// on update and deletion, and errors as {"type", "message"} with TheHive's
// status for each type.
//
//	srv := thehivetest.NewServer(t) // closed when the test ends
//	req, _ := http.NewRequest("GET", srv.URL()+"/api/v1/user/current", nil)
//	req.Header.Set("Authorization", "Bearer "+thehivetest.APIKey)
//
// New builds a server that does not listen, for mounting its Handler in
// another server; Start listens on an address (the standalone command in
// cmd/thehivetest does this).
//
// # Authentication and organisations
//
// Every new server has the organisations "admin" ([AdminOrganisation],
// platform administration) and "main-org" ([Organisation], where cases and
// alerts live), TheHive's built-in profiles (admin, org-admin, analyst,
// read-only) and the user [AdminLogin]: platform admin in "admin", org-admin
// and default organisation "main-org", password [AdminPassword], API key
// [APIKey]. Requests authenticate with "Authorization: Bearer <key>" or Basic
// credentials; X-Organisation picks the organisation (the user's default one
// otherwise). Bad or missing credentials, a locked account or an
// organisation the user is not a member of answer 401 AuthenticationError.
// Each route checks the permission TheHive requires (manageCase/create,
// manageAlert/import, manageCustomField, ...) in the current organisation and
// answers 403 AuthorizationError without it: custom fields, observable types
// and profiles are managed from the admin organisation, as in TheHive.
// [WithUser] adds users.
//
// # What the fake rejects
//
// As TheHive does: a missing required attribute or a value of the wrong
// type or out of its enumeration (severity 1-4, TLP 0-4, PAP 0-3, statuses)
// is a 400 AttributeCheckingError listing every problem; a second alert with
// the same (type, source, sourceRef) in an organisation is a 400 CreateError;
// an observable whose type and value (or file hash) its case or alert
// already has is refused in a 207 answer's "failure" list; an assignee who is
// not a member of the organisation, an unknown custom field, case template or
// observable type, and objects of another organisation are 404
// NotFoundError.
//
// # Query API
//
// The query API supports the starting queries (listCase, getCase,
// listAlert, getAlert, listObservable, listTask, waitingTasks, myTasks,
// getTask, listLog, getLog, listComment, getComment, listUser,
// listOrganisation, listCaseTemplate, listObservableType, listProfile,
// listProcedure, listJob, ...), traversals (a case's observables, tasks,
// alerts, comments, procedures, attachments and pages; an alert's
// observables, comments and case; a task's logs; ...), filters (_and, _or,
// _not, _eq, _is, _ne, _lt, _gt, _lte, _gte, _between, _in, _like, _match,
// _startsWith, _endsWith, _has, _contains, _id, _any, with dates absolute or
// relative; custom fields by "customFields.<name>"), sort, page (with
// extraData and the X-Total header) and count.
//
// The Cortex connector offers canned analyzers ([DefaultAnalyzers], or
// [WithAnalyzers]) whose jobs complete at once with a report; with
// [WithoutCortex] it behaves as a TheHive without Cortex (empty analyzer
// lists, jobs left Waiting), which is what thehive4py's integration tests
// expect. The MISP connector has no server. Cases export to and import from
// password-protected archives.
//
// # Conformance
//
// The fake was checked against thehive4py's own integration suite (written
// for TheHive 5.5.13), run against the standalone command with its
// container replaced by the fake: all its tests pass but three that
// thehive4py itself skips.
//
// # Test hooks
//
// [Server.SetLatency] delays every API request without serialising them;
// [Server.SetFaults] injects 500, 502, 503, 429 with Retry-After, dropped
// connections, stalled bodies and timeouts on a fraction of the requests or
// of chosen routes, before the request is applied or after it (see
// [Faults]); [Server.Requests] counts the requests of each route; the
// read-back methods ([Server.Cases], [Server.Alerts], [Server.Observables],
// ...) return every stored object; [Server.Events] returns the audit events
// TheHive would send to a webhook, and [WithWebhook] delivers them.
// The routes under /_thehivetest/ expose the same hooks over HTTP for a fake
// running in another process.
//
// # Reading back
//
// The read-back methods ([Server.Cases], [Server.Alerts],
// [Server.Observables], [Server.Tasks], [Server.Logs], [Server.Comments],
// [Server.Users], [Server.Attachments], [Server.Jobs]) return every stored
// object of a kind, oldest first, rendered as the API renders it and decoded
// as encoding/json decodes the API's answers (numbers are float64), so they
// compare directly with what a client received. The ids of an object's
// parents are added to its "extraData", as TheHive's query API does on
// request: "caseId" or "alertId" for observables and comments, "caseId" for
// tasks, "taskId" and "caseId" for logs, "observableId" for jobs, and for
// attachments the id of what holds them ("observableId", "logId", "caseId",
// "alertId" or "organisationId"). Users are rendered in their default
// organisation.
//
// Uploads (file observables, task log attachments) are streamed through
// SHA-256, SHA-1 and MD5 and counted as they arrive; the bytes are kept
// only up to [WithKeptAttachmentBytes] (1 MiB by default), so a 200 MB
// upload costs the fake a few kilobytes.
//
// # Concurrency
//
// A Server is safe for concurrent use. One lock guards the store and is
// never held while a request waits (latency, faults) or streams its body.
package thehivetest
