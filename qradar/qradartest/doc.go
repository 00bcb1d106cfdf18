// Package qradartest is an in-process fake IBM QRadar console for tests
// and demonstrations. It serves the REST API endpoints a SOAR integration
// uses, under /api/, as QRadar does:
//
//   - offenses (list, get, update through query parameters), their notes,
//     closing reasons, offense types, source and local destination
//     addresses, analytics rules, domains, /system/about, /help/versions;
//   - Ariel searches: created with WAIT status, moving through EXECUTE and
//     SORTING to COMPLETED (or ERROR, or CANCELED, or never) as their
//     status is read, with canned results per AQL query ([Server.AddSearch])
//     or per offense ([Server.AddOffenseEvents]);
//   - the Range request header and the Content-Range answer ("items
//     0-49/120", "items */3" past the end); the filter syntax (comparisons,
//     in, between, is null, like, contains, and, or, not), fields and sort
//     parameters;
//   - authentication with the SEC header ([Token]) or basic authentication
//     ([Username], [Password]): 401 (code 18) without valid credentials,
//     403 (code 26) for a read-only token writing; the Version header (422
//     for a version the console does not serve);
//   - QRadar's error bodies: http_response {code, message}, code, message,
//     description, details. Codes and messages follow IBM's reference and
//     answers recorded from live consoles: 404/1002 for an unknown object,
//     422/1005 for closing without a closing reason, 409/1008 for changing
//     the status of a closed offense, 422/1010 for a bad filter, 422/2000
//     for bad AQL, 422/36 for a malformed Range, 422/8 for a missing
//     required parameter.
//
// [NewServer] starts it on a loopback port for a test, [NewTLSServer] over
// HTTPS (trust [Server.CertificatePEM]); [New] and [Server.Handler] or
// [Server.Start] serve it any other way.
//
// Tests seed it ([Server.AddOffense], [Server.AddSourceAddress],
// [Server.AddRule]...), inject latency ([Server.SetLatency]) and faults
// ([Server.SetFaults]: 500, 503, dropped connections, before or after the
// request takes effect), count requests per route ([Server.Requests]) and
// read back what clients changed ([Server.Offense], [Server.Notes]). A
// Server is safe for concurrent use.
//
// The fake does not import the qradar client package: it speaks JSON as
// the console does, so other clients can be tested against it too.
package qradartest
