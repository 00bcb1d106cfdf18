package qradar

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/synapse-go/synapse/internal/httpx"
)

// config is what the options build.
type config struct {
	token      httpx.Secret
	user       string
	password   httpx.Secret
	version    string
	httpClient *http.Client
	tls        *tls.Config
	timeout    time.Duration
	retry      RetryPolicy
	logger     *slog.Logger
	userAgent  string
	batchSize  int
	cacheTTL   time.Duration
}

// Option configures a Client. Options check their arguments: NewClient
// fails on a bad one.
type Option func(*config) error

// RetryPolicy says how often and how patiently idempotent requests (GETs,
// offense updates, Ariel search status changes) are retried after a
// transport error, a 408, 429, 500, 502, 503 or 504. A note is never
// retried, since a second attempt would add a second note.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt: zero
	// means 4, a negative number none.
	MaxRetries int
	// MinWait is the first backoff step (default 250ms); each further step
	// doubles, with jitter.
	MinWait time.Duration
	// MaxWait caps one wait (default 30s).
	MaxWait time.Duration
}

// WithToken authenticates with an authorized-service token, sent in the
// SEC header. It is the way IBM recommends for integrations.
func WithToken(token string) Option {
	return func(c *config) error {
		token = strings.TrimSpace(token)
		if token == "" {
			return errors.New("WithToken: empty token")
		}
		c.token = httpx.NewSecret(token)
		c.user, c.password = "", httpx.Secret{}
		return nil
	}
}

// WithBasicAuth authenticates as a QRadar user with HTTP basic
// authentication.
func WithBasicAuth(user, password string) Option {
	return func(c *config) error {
		if user == "" || strings.Contains(user, ":") {
			return errors.New("WithBasicAuth: the user name must be non-empty and hold no colon")
		}
		c.user, c.password = user, httpx.NewSecret(password)
		c.token = httpx.Secret{}
		return nil
	}
}

// WithVersion sets the Version header ("14.0", "20.0"...). The empty
// string sends none: the console then serves its latest version, which IBM
// advises against since an upgrade may change the answers.
func WithVersion(v string) Option {
	return func(c *config) error {
		v = strings.TrimSpace(v)
		if v != "" {
			major, minor, _ := strings.Cut(v, ".")
			if !allDigits(major) || (strings.Contains(v, ".") && !allDigits(minor)) {
				return fmt.Errorf("WithVersion: %q is not a version such as \"20.0\"", v)
			}
		}
		c.version = v
		return nil
	}
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// WithHTTPClient makes the client send its requests through a copy of hc
// (its transport, proxy, jar and redirect policy); hc is not modified.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithTLSConfig sets the TLS configuration (client certificates, minimum
// version, trusted roots). It is cloned, and replaces what earlier TLS
// options set; WithCACertPEM and WithInsecureSkipVerify given after it
// change the clone.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *config) error {
		if cfg == nil {
			return errors.New("WithTLSConfig: nil configuration")
		}
		c.tls = cfg.Clone()
		return nil
	}
}

// WithCACertPEM trusts the certificates in pemCerts, and only them, to sign
// the console's certificate: a console with a self-signed certificate or
// one from a private authority. Give the whole chain up to the root.
func WithCACertPEM(pemCerts []byte) Option {
	return func(c *config) error {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemCerts) {
			return errors.New("WithCACertPEM: no PEM certificate found")
		}
		if c.tls == nil {
			c.tls = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		c.tls.RootCAs = pool
		return nil
	}
}

// WithInsecureSkipVerify accepts any certificate the console presents. It
// leaves the connection open to interception: use it only against a test
// console, never in production; prefer WithCACertPEM.
func WithInsecureSkipVerify() Option {
	return func(c *config) error {
		if c.tls == nil {
			c.tls = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		c.tls.InsecureSkipVerify = true
		return nil
	}
}

// WithTimeout bounds each attempt of a request, reading the answer
// included. The caller's context bounds the whole call, retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("WithTimeout: negative duration")
		}
		c.timeout = d
		return nil
	}
}

// WithRetry sets the retry policy.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) error {
		if p.MinWait < 0 || p.MaxWait < 0 {
			return errors.New("WithRetry: negative wait")
		}
		c.retry = p
		return nil
	}
}

// WithLogger logs every attempt at Debug and every retry at Warn, with
// credentials redacted. Without it the client logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if strings.ContainsAny(ua, "\r\n") {
			return errors.New("WithUserAgent: line break in user agent")
		}
		c.userAgent = ua
		return nil
	}
}

// WithBatchSize sets how many ids one request resolves when addresses,
// rules, offense types or domains are looked up in batches (default
// DefaultBatchSize, at most MaxBatchSize).
func WithBatchSize(n int) Option {
	return func(c *config) error {
		if n < 1 || n > MaxBatchSize {
			return fmt.Errorf("WithBatchSize: %d is not between 1 and %d", n, MaxBatchSize)
		}
		c.batchSize = n
		return nil
	}
}

// WithCacheTTL sets how long offense types, rule names and domain names
// are cached (default DefaultCacheTTL); a negative duration disables the
// caches.
func WithCacheTTL(d time.Duration) Option {
	return func(c *config) error {
		c.cacheTTL = d
		return nil
	}
}
