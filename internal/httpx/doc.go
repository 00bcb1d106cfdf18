// Package httpx is the HTTP plumbing shared by the SDK's REST and SOAP
// clients (thehive, qradar, and the EWS and Graph mailboxes).
//
// A [Client] wraps go-retryablehttp, configured rather than used with its
// defaults:
//
//   - only idempotent requests are retried (GET, HEAD, PUT, DELETE, OPTIONS),
//     or a request the caller marks [Request.Idempotent], and only while its
//     body can be replayed;
//   - transport errors, 408, 429, 500, 502, 503 and 504 are retried with a
//     jittered exponential backoff; a Retry-After header is honoured but
//     clamped to [RetryPolicy.MaxWait]; certificate errors are never retried;
//   - bodies are rebuilt for every attempt from a [Body]'s Open function, so a
//     retried upload resends the same bytes and a large body is streamed, never
//     held whole in memory ([MultipartBody] streams files through a pipe);
//   - a non-2xx answer becomes a [*ResponseError] that keeps the last
//     response's status, headers and (bounded) body, which each product
//     package turns into its own APIError;
//   - nothing is logged unless a *slog.Logger is configured; then every
//     attempt is logged at Debug and every retry at Warn, with credentials
//     redacted from URLs and headers ([RedactURL], [RedactHeader]);
//   - credentials are added per attempt by [Config.Authorize] and redirects to
//     another host are refused, so they never leave for a host the caller did
//     not name.
//
// [Secret] holds a credential so that it cannot be printed by accident, and
// package pager (internal/pager) turns page functions into iterators.
package httpx
