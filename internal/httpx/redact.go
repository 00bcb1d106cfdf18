package httpx

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// Redacted is what stands in for a secret wherever one would be printed.
const Redacted = "[REDACTED]"

// Secret holds a credential (an API key, a password, a token). Printing it
// with any fmt verb, logging it with slog or marshalling it as text yields
// [Redacted]; only [Secret.Reveal] returns the value. The value sits behind a
// pointer, so even a %+v of a struct holding a Secret in an unexported field
// prints an address, not the credential.
type Secret struct{ p *string }

// NewSecret wraps s. An empty s gives the zero Secret.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{p: &s}
}

// Reveal returns the credential, for the one place that must send it.
func (s Secret) Reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// IsZero reports whether s holds no credential.
func (s Secret) IsZero() bool { return s.p == nil }

// String implements fmt.Stringer.
func (s Secret) String() string { return Redacted }

// GoString implements fmt.GoStringer.
func (s Secret) GoString() string { return Redacted }

// Format implements fmt.Formatter so every verb prints [Redacted].
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText implements encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// secretHeaders are redacted in logs whatever the configuration says.
var secretHeaders = []string{
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
	"Sec", "X-Api-Key", "X-Auth-Token",
}

// RedactHeader returns a copy of h in which the values of credential headers,
// and of the extra header names given, are replaced by [Redacted].
func RedactHeader(h http.Header, extra ...string) http.Header {
	out := h.Clone()
	for _, name := range secretHeaders {
		if _, ok := out[http.CanonicalHeaderKey(name)]; ok {
			out.Set(name, Redacted)
		}
	}
	for _, name := range extra {
		if _, ok := out[http.CanonicalHeaderKey(name)]; ok {
			out.Set(name, Redacted)
		}
	}
	return out
}

// secretQueryWords mark query parameters whose values are redacted.
var secretQueryWords = []string{
	"token", "key", "secret", "password", "passwd", "pwd", "auth",
	"sig", "code", "credential", "session", "assertion",
}

// isSecretParam reports whether a query parameter name looks like it carries
// a credential. It errs on the side of redacting.
func isSecretParam(name string) bool {
	name = strings.ToLower(name)
	for _, w := range secretQueryWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// RedactURL returns u as a string without its user information and with the
// values of credential-looking query parameters replaced by [Redacted]. It
// is what errors and logs show of a URL.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		c.User = url.User("REDACTED")
	}
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err != nil {
			c.RawQuery = Redacted
		} else {
			for name, vals := range q {
				if isSecretParam(name) {
					for i := range vals {
						vals[i] = Redacted
					}
				}
			}
			c.RawQuery = q.Encode()
		}
	}
	c.Fragment = ""
	c.RawFragment = ""
	return c.String()
}

// redactURLError replaces the URL in a *url.Error, which net/http puts in
// every transport error, by its redacted form.
func redactURLError(err error) error {
	ue, ok := err.(*url.Error)
	if !ok {
		return err
	}
	u, perr := url.Parse(ue.URL)
	red := Redacted
	if perr == nil {
		red = RedactURL(u)
	}
	return &url.Error{Op: ue.Op, URL: red, Err: ue.Err}
}
