package httpx

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxErrorBody is how much of an error response's body is kept.
const MaxErrorBody = 64 << 10

// ResponseError describes a request that ended with a non-2xx status, after
// any retries. Product packages turn it into their own APIError through
// [Config.DecodeError]; it is returned as is when there is none.
type ResponseError struct {
	// Name is the client's name ("thehive", "qradar"...).
	Name string
	// StatusCode and Status are the last response's.
	StatusCode int
	Status     string
	// Method and URL identify the request; the URL is redacted.
	Method string
	URL    string
	// Header is the last response's header.
	Header http.Header
	// Body holds up to MaxErrorBody bytes of the last response's body.
	Body []byte
	// RequestID is the server's request identifier, when it sent one.
	RequestID string
	// RetryAfter is the server's Retry-After, or zero.
	RetryAfter time.Duration
	// Attempts is how many times the request was sent.
	Attempts int
}

// Error implements error.
func (e *ResponseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s %s: %s", e.Name, e.Method, e.URL, e.Status)
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if body := strings.TrimSpace(string(e.Body)); body != "" {
		if len(body) > 512 {
			body = body[:512] + "..."
		}
		b.WriteString(": ")
		b.WriteString(body)
	}
	return b.String()
}

// requestIDHeaders are the headers servers use for a request id.
var requestIDHeaders = []string{"X-Request-Id", "Request-Id", "X-Ms-Request-Id", "Client-Request-Id"}

func requestID(h http.Header) string {
	for _, k := range requestIDHeaders {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// ParseRetryAfter reads a Retry-After header value: a number of seconds or an
// HTTP date. It returns false when the value is absent or malformed.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// Temporary reports whether the status is worth another try later: 408, 429
// and the 5xx answers of an overloaded or restarting server.
func (e *ResponseError) Temporary() bool { return TemporaryStatus(e.StatusCode) }

// TemporaryStatus reports whether an HTTP status is worth another try later.
func TemporaryStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
