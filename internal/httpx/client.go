package httpx

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Config configures a [Client]. The zero value of every field but BaseURL
// and Name is usable.
type Config struct {
	// Name starts every error message ("thehive", "qradar", "ews"...).
	Name string
	// BaseURL is the server's root URL; request paths are appended to its
	// path. It must not hold credentials.
	BaseURL string
	// HTTPClient is copied, never modified; nil means a pooled client built
	// for this Client alone.
	HTTPClient *http.Client
	// TLSConfig, when set, is used by a clone of the HTTP client's
	// *http.Transport.
	TLSConfig *tls.Config
	// WrapTransport, when set, wraps the base transport (for example an NTLM
	// negotiator). Authorization and logging sit above it.
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// Timeout bounds each attempt, body included; zero means no bound other
	// than the caller's context (and a 2-minute wait for response headers
	// with the default transport).
	Timeout time.Duration
	// UserAgent is sent with every request.
	UserAgent string
	// Header is sent with every request (an organisation, an API version).
	Header http.Header
	// Authorize adds credentials to a request. It is called for every
	// attempt, on a copy of the request. An error fails the request without
	// a retry.
	Authorize func(*http.Request) error
	// SecretHeaders names extra headers whose values logs redact.
	SecretHeaders []string
	// Logger receives a Debug record per attempt and a Warn record per
	// retry. nil means no logging at all.
	Logger *slog.Logger
	// Retry is the retry policy.
	Retry RetryPolicy
	// DecodeError turns a non-2xx response into the product's error. nil
	// means the *ResponseError itself is returned.
	DecodeError func(*ResponseError) error
}

// RetryPolicy says how often and how patiently requests are retried.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt: zero
	// means DefaultMaxRetries, a negative number means none.
	MaxRetries int
	// MinWait is the first backoff step (default 250ms); each further step
	// doubles, with jitter.
	MinWait time.Duration
	// MaxWait caps one wait, including a server's Retry-After (default 30s).
	MaxWait time.Duration
}

// Defaults of RetryPolicy.
const (
	DefaultMaxRetries = 4
	DefaultMinWait    = 250 * time.Millisecond
	DefaultMaxWait    = 30 * time.Second
)

func (p RetryPolicy) withDefaults() RetryPolicy {
	switch {
	case p.MaxRetries == 0:
		p.MaxRetries = DefaultMaxRetries
	case p.MaxRetries < 0:
		p.MaxRetries = 0
	}
	if p.MinWait <= 0 {
		p.MinWait = DefaultMinWait
	}
	if p.MaxWait <= 0 {
		p.MaxWait = DefaultMaxWait
	}
	if p.MaxWait < p.MinWait {
		p.MaxWait = p.MinWait
	}
	return p
}

// Client sends requests to one server with retries, credentials, logging
// and error decoding. It is safe for concurrent use.
type Client struct {
	name   string
	base   *url.URL
	header http.Header
	rc     *retryablehttp.Client
	hc     *http.Client
	log    *slog.Logger
	decode func(*ResponseError) error
	policy RetryPolicy
}

// New returns a Client for cfg. It does no I/O.
func New(cfg Config) (*Client, error) {
	if cfg.Name == "" {
		cfg.Name = "http"
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		// The URL itself is left out: it might hold a credential.
		return nil, fmt.Errorf("%s: base URL must be an absolute http or https URL", cfg.Name)
	}
	if base.User != nil {
		return nil, fmt.Errorf("%s: base URL must not hold credentials; use the client's authentication options", cfg.Name)
	}
	base.RawQuery, base.Fragment = "", ""

	hc, err := buildHTTPClient(cfg, base)
	if err != nil {
		return nil, err
	}
	c := &Client{
		name:   cfg.Name,
		base:   base,
		header: cfg.Header.Clone(),
		hc:     hc,
		log:    cfg.Logger,
		decode: cfg.DecodeError,
		policy: cfg.Retry.withDefaults(),
	}
	if c.header == nil {
		c.header = make(http.Header)
	}
	if cfg.UserAgent != "" {
		c.header.Set("User-Agent", cfg.UserAgent)
	}
	c.rc = &retryablehttp.Client{
		HTTPClient:   hc,
		Logger:       nil, // logging is done by the transport and checkRetry, redacted
		RetryWaitMin: c.policy.MinWait,
		RetryWaitMax: c.policy.MaxWait,
		RetryMax:     c.policy.MaxRetries,
		CheckRetry:   c.checkRetry,
		Backoff:      backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return c, nil
}

func buildHTTPClient(cfg Config, base *url.URL) (*http.Client, error) {
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		*hc = *cfg.HTTPClient
	}
	rt := hc.Transport
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		t.ResponseHeaderTimeout = 2 * time.Minute
		rt = t
	}
	if cfg.TLSConfig != nil {
		t, ok := rt.(*http.Transport)
		if !ok {
			return nil, fmt.Errorf("%s: TLS options need an *http.Transport, the HTTP client has a %T", cfg.Name, rt)
		}
		t = t.Clone()
		t.TLSClientConfig = cfg.TLSConfig.Clone()
		rt = t
	}
	if cfg.WrapTransport != nil {
		rt = cfg.WrapTransport(rt)
	}
	hc.Transport = &transport{
		next:      rt,
		authorize: cfg.Authorize,
		log:       cfg.Logger,
		secret:    cfg.SecretHeaders,
	}
	if cfg.Timeout > 0 {
		hc.Timeout = cfg.Timeout
	}
	userRedirect := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !sameHost(req.URL, base) {
			return &RedirectRefusedError{Host: req.URL.Host}
		}
		if userRedirect != nil {
			return userRedirect(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return hc, nil
}

func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(a.Hostname(), b.Hostname()) && a.Port() == b.Port() && a.Scheme == b.Scheme
}

// BaseURL returns a copy of the client's base URL.
func (c *Client) BaseURL() *url.URL {
	u := *c.base
	return &u
}

// CloseIdleConnections closes the client's idle connections.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// Request is one HTTP request relative to the client's base URL.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is appended to the base URL's path. It must already be escaped:
	// build it with url.PathEscape for every variable segment.
	Path string
	// Query is encoded as the URL's query.
	Query url.Values
	// Header adds to (and overrides) the client's headers.
	Header http.Header
	// Body is the request body, or nil.
	Body *Body
	// Idempotent marks a POST or PATCH as safe to retry: sending it twice
	// has the effect of sending it once.
	Idempotent bool
}

// URL returns the absolute URL r would be sent to.
func (c *Client) URL(r *Request) *url.URL {
	u := *c.base
	escaped := strings.TrimSuffix(c.base.EscapedPath(), "/") + "/" + strings.TrimPrefix(r.Path, "/")
	if p, err := url.PathUnescape(escaped); err == nil {
		u.Path, u.RawPath = p, escaped
	} else {
		u.Path, u.RawPath = escaped, ""
	}
	u.RawQuery = r.Query.Encode()
	return &u
}

// idempotentMethods may be retried without being marked.
func idempotentMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// Do sends r, with retries as the policy allows. A 2xx response is returned
// for the caller to read and close; any other status becomes an error from
// Config.DecodeError (or a *ResponseError), and a failure to reach the server
// a *TransportError. Neither holds a credential.
func (c *Client) Do(ctx context.Context, r *Request) (*http.Response, error) {
	u := c.URL(r)
	st := &requestState{
		client: c,
		method: r.Method,
		url:    RedactURL(u),
		retry:  c.policy.MaxRetries > 0 && (idempotentMethod(r.Method) || r.Idempotent) && (r.Body == nil || r.Body.Replayable),
	}
	ctx = context.WithValue(ctx, stateKey{}, st)

	var body any
	if r.Body != nil {
		open := r.Body.Open
		body = retryablehttp.ReaderFunc(func() (io.Reader, error) { return &lazyReader{open: open}, nil })
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.Method, u.String(), body)
	if err != nil {
		return nil, &TransportError{Name: c.name, Method: r.Method, URL: st.url, Err: redactURLError(err)}
	}
	for k, v := range c.header {
		req.Header[k] = append([]string(nil), v...)
	}
	for k, v := range r.Header {
		req.Header[k] = append([]string(nil), v...)
	}
	if r.Body != nil {
		req.ContentLength = r.Body.Length
		if r.Body.Length < 0 {
			req.ContentLength = -1
		}
		if r.Body.ContentType != "" {
			req.Header.Set("Content-Type", r.Body.ContentType)
		}
	}

	resp, err := c.rc.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &TransportError{Name: c.name, Method: r.Method, URL: st.url, Attempts: st.attempts(), Err: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	return nil, c.responseError(st, resp)
}

func (c *Client) responseError(st *requestState, resp *http.Response) error {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	re := &ResponseError{
		Name:       c.name,
		StatusCode: resp.StatusCode,
		Status:     resp.Status,
		Method:     st.method,
		URL:        st.url,
		Header:     RedactHeader(resp.Header),
		Body:       body,
		RequestID:  requestID(resp.Header),
		Attempts:   st.attempts(),
	}
	if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		re.RetryAfter = d
	}
	if c.decode != nil {
		return c.decode(re)
	}
	return re
}

// DoJSON sends r and decodes a JSON answer into out; a nil out discards
// the answer. An empty body leaves out untouched.
func (c *Client) DoJSON(ctx context.Context, r *Request, out any) error {
	resp, err := c.Do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %s %s: decoding the response: %w", c.name, r.Method, RedactURL(c.URL(r)), err)
	}
	return nil
}

// TransportError is a request that got no HTTP response: the server could
// not be reached, the connection broke, a certificate was refused, or the
// context ended.
type TransportError struct {
	// Name is the client's name.
	Name string
	// Method and URL identify the request; the URL is redacted.
	Method string
	URL    string
	// Attempts is how many times the request was sent.
	Attempts int
	// Err is the underlying error (a net.Error, a TLS error, ctx.Err()...).
	Err error
}

// Error implements error.
func (e *TransportError) Error() string {
	s := fmt.Sprintf("%s: %s %s: %v", e.Name, e.Method, e.URL, e.Err)
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

// Temporary reports whether another try later may succeed: true for a
// broken or refused connection or a timeout, false for a refused
// certificate, a refused redirect or a cancelled context.
func (e *TransportError) Temporary() bool {
	return !errors.Is(e.Err, context.Canceled) && !permanent(e.Err)
}
