package thehive

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/synapse-go/synapse/internal/httpx"
)

// DefaultUserAgent is sent when no [WithUserAgent] option is given.
const DefaultUserAgent = "synapse-go-thehive"

// Client talks to one TheHive 5 server through its REST API (v1). Its
// services group the operations by entity. A Client is safe for concurrent
// use; make one and share it.
type Client struct {
	http *httpx.Client
	org  string

	// Cases manages cases.
	Cases *CasesService
	// Alerts manages alerts.
	Alerts *AlertsService
	// Observables manages the observables of cases and alerts.
	Observables *ObservablesService
	// Tasks manages the tasks of cases.
	Tasks *TasksService
	// TaskLogs manages the logs of tasks.
	TaskLogs *TaskLogsService
	// Comments manages the comments of cases and alerts.
	Comments *CommentsService
	// Users reads users.
	Users *UsersService
	// CustomFields manages custom field definitions.
	CustomFields *CustomFieldsService
	// CaseTemplates manages case templates.
	CaseTemplates *CaseTemplatesService
	// ObservableTypes manages observable types.
	ObservableTypes *ObservableTypesService
	// Cortex runs Cortex analyzers through TheHive's Cortex connector.
	Cortex *CortexService
}

type service struct{ c *Client }

type config struct {
	apiKey    httpx.Secret
	login     string
	password  httpx.Secret
	basic     bool
	org       string
	hc        *http.Client
	tls       *tls.Config
	rootCAs   *x509.CertPool
	timeout   time.Duration
	userAgent string
	logger    *slog.Logger
	retry     httpx.RetryPolicy
	header    http.Header
}

// Option configures a [Client].
type Option func(*config) error

// WithAPIKey authenticates every request with TheHive API key key, sent as
// "Authorization: Bearer <key>". The key is never logged nor put in an
// error.
func WithAPIKey(key string) Option {
	return func(c *config) error {
		if strings.TrimSpace(key) == "" {
			return errors.New("WithAPIKey: empty key")
		}
		c.apiKey = httpx.NewSecret(key)
		return nil
	}
}

// WithBasicAuth authenticates every request with a login and a password
// (HTTP basic authentication). It takes precedence over [WithAPIKey], as
// in TheHive's Python client.
func WithBasicAuth(login, password string) Option {
	return func(c *config) error {
		if login == "" || password == "" {
			return errors.New("WithBasicAuth: empty login or password")
		}
		if strings.Contains(login, ":") {
			return errors.New("WithBasicAuth: the login must not contain a colon")
		}
		c.login, c.password, c.basic = login, httpx.NewSecret(password), true
		return nil
	}
}

// WithOrganisation sends every request in the context of organisation org
// (the X-Organisation header). Without it, TheHive uses the user's default
// organisation. [InOrganisation] overrides it for one call.
func WithOrganisation(org string) Option {
	return func(c *config) error {
		if strings.TrimSpace(org) == "" {
			return errors.New("WithOrganisation: empty organisation")
		}
		c.org = org
		return nil
	}
}

// WithHTTPClient sends requests through a copy of hc. Its Transport, if
// set, must be an *http.Transport for the TLS options to apply.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil client")
		}
		c.hc = hc
		return nil
	}
}

// WithTLSConfig uses a copy of cfg for HTTPS connections (client
// certificates, minimum version, server name...).
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *config) error {
		if cfg == nil {
			return errors.New("WithTLSConfig: nil config")
		}
		c.tls = cfg.Clone()
		return nil
	}
}

// WithRootCAs trusts the certificate authorities of pool instead of the
// system's, for a TheHive behind an internal CA.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(c *config) error {
		if pool == nil {
			return errors.New("WithRootCAs: nil pool")
		}
		c.rootCAs = pool
		return nil
	}
}

// WithCACertificatesPEM trusts the PEM-encoded certificate authorities in
// pem instead of the system's.
func WithCACertificatesPEM(pem []byte) Option {
	return func(c *config) error {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return errors.New("WithCACertificatesPEM: no certificate found in the PEM data")
		}
		c.rootCAs = pool
		return nil
	}
}

// WithTimeout bounds each attempt of a request, reading the response body
// included. Without it only the caller's context bounds a request (and
// response headers must arrive within two minutes).
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("WithTimeout: %v is not positive", d)
		}
		c.timeout = d
		return nil
	}
}

// WithUserAgent sets the User-Agent header (default [DefaultUserAgent]).
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if ua == "" || strings.ContainsAny(ua, "\r\n") {
			return errors.New("WithUserAgent: empty or multi-line user agent")
		}
		c.userAgent = ua
		return nil
	}
}

// WithLogger logs every attempt at Debug level and every retry at Warn
// level to l, with credentials redacted. Without it the client logs
// nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// RetryPolicy says how failed requests are retried. Only requests that are
// safe to repeat are retried: reads, updates, deletions and queries, and
// creations marked [SafeToRetry]. Transport errors, 408, 429, 500, 502, 503
// and 504 are retried, with a jittered exponential backoff; a Retry-After
// header is honoured up to MaxWait.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt: zero
	// means 4, a negative number means none.
	MaxRetries int
	// MinWait is the first wait (default 250ms); each further wait doubles.
	MinWait time.Duration
	// MaxWait caps each wait, Retry-After included (default 30s).
	MaxWait time.Duration
}

// WithRetryPolicy replaces the default retry policy.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) error {
		if p.MinWait < 0 || p.MaxWait < 0 {
			return errors.New("WithRetryPolicy: negative wait")
		}
		c.retry = httpx.RetryPolicy{MaxRetries: p.MaxRetries, MinWait: p.MinWait, MaxWait: p.MaxWait}
		return nil
	}
}

// WithHeader sends header name with value on every request (for a proxy,
// or TheHive's X-USER header behind an authenticating proxy).
func WithHeader(name, value string) Option {
	return func(c *config) error {
		if name == "" || strings.ContainsAny(name+value, "\r\n") {
			return errors.New("WithHeader: empty name or multi-line header")
		}
		if c.header == nil {
			c.header = make(http.Header)
		}
		c.header.Add(name, value)
		return nil
	}
}

// NewClient returns a client for the TheHive server at baseURL (e.g.
// "https://thehive.example.com" or "http://10.0.0.5:9000/thehive"). It does
// no I/O: use [Client.Status] to check the server and the credentials.
func NewClient(baseURL string, opts ...Option) (*Client, error) {
	cfg := config{userAgent: DefaultUserAgent}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("thehive: %w", err)
		}
	}
	tlsCfg := cfg.tls
	if cfg.rootCAs != nil {
		if tlsCfg == nil {
			tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tlsCfg.RootCAs = cfg.rootCAs
	}
	header := cfg.header.Clone()
	if header == nil {
		header = make(http.Header)
	}
	hc, err := httpx.New(httpx.Config{
		Name:          "thehive",
		BaseURL:       baseURL,
		HTTPClient:    cfg.hc,
		TLSConfig:     tlsCfg,
		Timeout:       cfg.timeout,
		UserAgent:     cfg.userAgent,
		Header:        header,
		Authorize:     authorizer(cfg),
		SecretHeaders: []string{"X-User"},
		Logger:        cfg.logger,
		Retry:         cfg.retry,
		DecodeError:   decodeError,
	})
	if err != nil {
		return nil, err
	}
	c := &Client{http: hc, org: cfg.org}
	c.Cases = &CasesService{c: c}
	c.Alerts = &AlertsService{c: c}
	c.Observables = &ObservablesService{c: c}
	c.Tasks = &TasksService{c: c}
	c.TaskLogs = &TaskLogsService{c: c}
	c.Comments = &CommentsService{c: c}
	c.Users = &UsersService{c: c}
	c.CustomFields = &CustomFieldsService{c: c}
	c.CaseTemplates = &CaseTemplatesService{c: c}
	c.ObservableTypes = &ObservableTypesService{c: c}
	c.Cortex = &CortexService{c: c}
	return c, nil
}

func authorizer(cfg config) func(*http.Request) error {
	switch {
	case cfg.basic:
		login, password := cfg.login, cfg.password
		return func(r *http.Request) error {
			cred := base64.StdEncoding.EncodeToString([]byte(login + ":" + password.Reveal()))
			r.Header.Set("Authorization", "Basic "+cred)
			return nil
		}
	case !cfg.apiKey.IsZero():
		key := cfg.apiKey
		return func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+key.Reveal())
			return nil
		}
	}
	return nil
}

// CallOption changes one call.
type CallOption func(*callConfig)

type callConfig struct {
	safe bool
	org  string
}

// SafeToRetry marks a creation as safe to send again when its answer is
// lost or the server is briefly unavailable. Creations are not retried
// otherwise, since a retried creation may create twice.
//
// It suits creations whose duplicates TheHive refuses: observables (same
// data in the same case or alert) and alerts (same type, source and
// sourceRef). A retry of such a creation that had in fact succeeded ends in
// an error matching [ErrDuplicate], which the caller can treat as success.
// A body read from a plain io.Reader (neither an io.Seeker nor reopened by
// a [File]'s Open) cannot be sent twice and is never retried.
func SafeToRetry() CallOption { return func(c *callConfig) { c.safe = true } }

// InOrganisation sends the call in the context of organisation org,
// overriding [WithOrganisation].
func InOrganisation(org string) CallOption { return func(c *callConfig) { c.org = org } }

// request is one call to the API.
type request struct {
	method string
	path   string // escaped, from the server root: "/api/v1/case/~1"
	query  url.Values
	in     any         // encoded as JSON when body is nil
	body   *httpx.Body // a prepared body (multipart)
	// idempotent marks requests other than GET/PUT/DELETE that are safe to
	// repeat: updates and queries.
	idempotent bool
}

// do sends r and returns the 2xx response for the caller to read and close.
func (c *Client) do(ctx context.Context, r request, opts []CallOption) (*http.Response, error) {
	if ctx == nil {
		return nil, invalid("nil context")
	}
	var cc callConfig
	for _, o := range opts {
		if o != nil {
			o(&cc)
		}
	}
	body := r.body
	if body == nil && r.in != nil {
		b, err := httpx.JSONBody(r.in)
		if err != nil {
			return nil, fmt.Errorf("thehive: %s %s: %w", r.method, r.path, err)
		}
		body = b
	}
	hr := &httpx.Request{
		Method:     r.method,
		Path:       r.path,
		Query:      r.query,
		Body:       body,
		Idempotent: r.idempotent || cc.safe,
	}
	org := c.org
	if cc.org != "" {
		org = cc.org
	}
	if org != "" {
		hr.Header = http.Header{"X-Organisation": {org}}
	}
	return c.http.Do(ctx, hr)
}

// doJSON sends r and decodes the JSON answer into out (nil discards it).
func (c *Client) doJSON(ctx context.Context, r request, out any, opts []CallOption) error {
	resp, err := c.do(ctx, r, opts)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return c.decode(resp, r, out)
}

// send sends r and returns its JSON answer decoded into a new T.
func send[T any](ctx context.Context, c *Client, r request, opts []CallOption) (*T, error) {
	var out T
	if err := c.doJSON(ctx, r, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// get reads the entity at format filled with id (GET).
func get[T any](ctx context.Context, c *Client, format, id string, opts []CallOption) (*T, error) {
	path, err := pathf(format, id)
	if err != nil {
		return nil, err
	}
	return send[T](ctx, c, request{method: http.MethodGet, path: path}, opts)
}

// update sends a PATCH to format filled with id.
func (c *Client) update(ctx context.Context, format, id string, b body, opts []CallOption) error {
	path, err := pathf(format, id)
	if err != nil {
		return err
	}
	return c.doJSON(ctx, request{method: http.MethodPatch, path: path, in: b, idempotent: true}, nil, opts)
}

// remove sends a DELETE to format filled with id. A 404 after a retry
// means an earlier attempt did delete.
func (c *Client) remove(ctx context.Context, format, id string, opts []CallOption) error {
	path, err := pathf(format, id)
	if err != nil {
		return err
	}
	err = c.doJSON(ctx, request{method: http.MethodDelete, path: path}, nil, opts)
	var ae *APIError
	if errors.As(err, &ae) && ae.Attempts > 1 && ae.StatusCode == http.StatusNotFound {
		return nil
	}
	return err
}

func (c *Client) decode(resp *http.Response, r request, out any) error {
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	// Read first, then decode: a broken connection is told apart from a
	// body that is not what was expected.
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return &ReadError{Method: r.method, Path: r.path, Err: err}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return fmt.Errorf("thehive: %s %s: empty response (status %d)", r.method, r.path, resp.StatusCode)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return r.decodingError(err)
	}
	return nil
}

// decodingError reports an answer to r that is not the JSON expected.
func (r request) decodingError(err error) error {
	return fmt.Errorf("thehive: %s %s: decoding the response: %w", r.method, r.path, err)
}

// ReadError reports a response whose status was 2xx but whose body could
// not be read to the end: the connection broke or timed out. The request
// may have been applied. It is temporary, so a caller's retry policy tries
// again (creations should then be idempotent, see [SafeToRetry]).
type ReadError struct {
	// Method and Path identify the request.
	Method string
	Path   string
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *ReadError) Error() string {
	return fmt.Sprintf("thehive: %s %s: reading the response: %v", e.Method, e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *ReadError) Unwrap() error { return e.Err }

// Temporary reports whether another try may succeed: true unless the
// caller's context was cancelled.
func (e *ReadError) Temporary() bool { return !errors.Is(e.Err, context.Canceled) }

// pathf builds an API path from a format whose %s verbs are filled with
// escaped path segments. Every segment must be non-empty.
func pathf(format string, segs ...string) (string, error) {
	args := make([]any, len(segs))
	for i, s := range segs {
		if s == "" {
			return "", invalid("empty id in %s", strings.ReplaceAll(format, "%s", "{}"))
		}
		args[i] = url.PathEscape(s)
	}
	return fmt.Sprintf(format, args...), nil
}

// Status is the answer of TheHive's status endpoint.
type Status struct {
	// Versions holds the versions of TheHive and its components, e.g.
	// {"TheHive": "5.5.13-1", "Scala": "2.13.x"}.
	Versions map[string]string `json:"versions"`
	// Config holds the server's public configuration.
	Config map[string]any `json:"config,omitempty"`
}

// Status reads the server's status and versions (GET /api/v1/status).
// TheHive answers it without checking credentials: to check them, call
// [UsersService.Current].
func (c *Client) Status(ctx context.Context, opts ...CallOption) (*Status, error) {
	return send[Status](ctx, c, request{method: http.MethodGet, path: "/api/v1/status"}, opts)
}

// RawQuery runs a query of the query API (POST /api/v1/query) made of the
// given operations, and decodes the answer (a list, or a number after a
// "count" operation) into out. It is the escape hatch for queries the
// services do not cover; each operation is a JSON object such as
// {"_name": "listCase"}. Filters built with [Eq] and friends can be placed
// with [FilterOp].
func (c *Client) RawQuery(ctx context.Context, ops []any, out any, opts ...CallOption) error {
	if len(ops) == 0 {
		return invalid("empty query")
	}
	return c.query(ctx, "", ops, out, opts)
}
