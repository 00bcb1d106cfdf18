package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// stateKey carries a *requestState in a request's context: the one thing
// go-retryablehttp hands to CheckRetry.
type stateKey struct{}

// requestState is what the retry policy and the logs know of a request.
type requestState struct {
	client *Client
	method string
	url    string // redacted
	retry  bool   // idempotent (or marked so) and replayable
	// sent counts the attempts made; the transport increments it.
	sent atomic.Int32
}

func (st *requestState) attempts() int { return int(st.sent.Load()) }

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	return st
}

// authorizeError marks a failure of Config.Authorize: it is never retried.
type authorizeError struct{ err error }

func (e *authorizeError) Error() string { return "adding credentials: " + e.err.Error() }
func (e *authorizeError) Unwrap() error { return e.err }

// transport adds credentials to every attempt and logs it.
type transport struct {
	next      http.RoundTripper
	authorize func(*http.Request) error
	log       *slog.Logger
	secret    []string
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	st := stateFrom(req.Context())
	attempt := 1
	if st != nil {
		attempt = int(st.sent.Add(1))
	}
	if t.authorize != nil {
		// RoundTrippers must not modify the request they are given.
		r2 := req.Clone(req.Context())
		if err := t.authorize(r2); err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, &authorizeError{err: err}
		}
		req = r2
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if t.log != nil && t.log.Enabled(req.Context(), slog.LevelDebug) {
		attrs := []slog.Attr{
			slog.String("method", req.Method),
			slog.String("url", RedactURL(req.URL)),
			slog.Int("attempt", attempt),
			slog.Duration("duration", time.Since(start)),
		}
		if err != nil {
			attrs = append(attrs, slog.String("error", redactURLError(err).Error()))
		} else {
			attrs = append(attrs, slog.Int("status", resp.StatusCode))
		}
		t.log.LogAttrs(req.Context(), slog.LevelDebug, "http request", attrs...)
	}
	return resp, err
}

// CloseIdleConnections closes the idle connections of the wrapped
// transport, so that Client.CloseIdleConnections reaches it.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// checkRetry is the go-retryablehttp CheckRetry: it retries only requests
// marked retryable, and only for transient failures.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	st := stateFrom(ctx)
	if st == nil || !st.retry {
		return false, nil
	}
	reason := retryReason(resp, err)
	if reason == "" {
		return false, nil
	}
	if c.log != nil && st.attempts() <= c.policy.MaxRetries {
		c.log.LogAttrs(ctx, slog.LevelWarn, "retrying request",
			slog.String("method", st.method),
			slog.String("url", st.url),
			slog.Int("attempt", st.attempts()),
			slog.String("reason", reason))
	}
	return true, nil
}

// retryReason says why a result is worth another attempt, or "" when it is
// not.
func retryReason(resp *http.Response, err error) string {
	if err != nil {
		if permanent(err) {
			return ""
		}
		return redactURLError(err).Error()
	}
	if TemporaryStatus(resp.StatusCode) {
		return fmt.Sprintf("status %d", resp.StatusCode)
	}
	return ""
}

// permanent reports transport errors that another attempt cannot fix.
func permanent(err error) bool {
	var (
		ae   *authorizeError
		ua   x509.UnknownAuthorityError
		ci   x509.CertificateInvalidError
		he   x509.HostnameError
		cve  *tls.CertificateVerificationError
		rhe  tls.RecordHeaderError
		perr *RedirectRefusedError
	)
	switch {
	case errors.As(err, &ae), errors.As(err, &ua), errors.As(err, &ci),
		errors.As(err, &he), errors.As(err, &cve), errors.As(err, &rhe),
		errors.As(err, &perr):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "unsupported protocol scheme") ||
		strings.Contains(msg, "stopped after") ||
		strings.Contains(msg, "invalid header")
}

// RedirectRefusedError is returned when a server redirects to another host:
// credentials are never sent there.
type RedirectRefusedError struct {
	// Host is where the server redirected to.
	Host string
}

// Error implements error.
func (e *RedirectRefusedError) Error() string {
	return fmt.Sprintf("redirect to another host (%s) refused", e.Host)
}

// backoff is the go-retryablehttp Backoff: a server's Retry-After (on 429 and
// 503) clamped to max, else an exponential step from min with jitter in
// [step/2, step].
func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, maxWait)
		}
	}
	step := minWait
	for i := 0; i < attempt && step < maxWait; i++ {
		step *= 2
	}
	step = min(step, maxWait)
	half := step / 2
	return half + rand.N(half+1)
}
