package qradar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/synapse-go/synapse/internal/httpx"
	"github.com/synapse-go/synapse/internal/pager"
)

// DefaultVersion is the API version sent in the Version header unless
// [WithVersion] says otherwise. QRadar answers a version it does not know
// with 422 ([ErrUnsupportedVersion]): 26.0 is served by QRadar 7.5.0 Update
// Package 12 and later; older consoles need WithVersion (for example
// "14.0" for 7.4.1 to 7.4.3, "20.0" for 7.5.0 UP6 to UP9).
const DefaultVersion = "26.0"

// DefaultPageSize is the number of items asked for per page (in the Range
// header) when a list's options leave it zero.
const DefaultPageSize = 50

// DefaultBatchSize is the number of ids looked up per request when
// resolving ids in batches (filter=id in (...)).
const DefaultBatchSize = 100

// MaxBatchSize bounds [WithBatchSize], keeping request URLs short enough
// for proxies and the console's web server.
const MaxBatchSize = 500

// Client talks to one QRadar console. It is safe for concurrent use. Its
// services group the API's endpoints.
type Client struct {
	hc        *httpx.Client
	batchSize int

	// Offenses: offenses and their notes.
	Offenses *OffensesService
	// ClosingReasons: offense closing reasons.
	ClosingReasons *ClosingReasonsService
	// OffenseTypes: offense types, cached.
	OffenseTypes *OffenseTypesService
	// SourceAddresses: offense source addresses.
	SourceAddresses *SourceAddressesService
	// LocalDestinationAddresses: offense local destination addresses.
	LocalDestinationAddresses *LocalDestinationAddressesService
	// Rules: analytics rules, their names cached.
	Rules *RulesService
	// Domains: domains of a multi-tenant console, their names cached.
	Domains *DomainsService
	// Ariel: AQL searches.
	Ariel *ArielService
	// System: the console's version and the API versions it serves.
	System *SystemService
}

// NewClient returns a client for the console at baseURL
// ("https://qradar.example.com"; a trailing "/api" is accepted). It does
// no I/O. A credential is required: [WithToken] or [WithBasicAuth].
func NewClient(baseURL string, opts ...Option) (*Client, error) {
	cfg := config{version: DefaultVersion, batchSize: DefaultBatchSize}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("qradar: %w: %v", ErrInvalidParams, err)
		}
	}
	if cfg.token.IsZero() && cfg.user == "" {
		return nil, fmt.Errorf("qradar: %w: no credential: use WithToken or WithBasicAuth", ErrInvalidParams)
	}
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		// The URL itself is left out: it might hold a password.
		return nil, fmt.Errorf("qradar: %w: base URL must be an absolute http or https URL", ErrInvalidParams)
	}
	if u.User != nil {
		return nil, fmt.Errorf("qradar: %w: base URL must not hold credentials: use WithToken or WithBasicAuth", ErrInvalidParams)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api") + "/api"
	u.RawPath = ""

	header := make(http.Header)
	header.Set("Accept", "application/json")
	if cfg.version != "" {
		header.Set("Version", cfg.version)
	}
	ua := "synapse-qradar"
	if cfg.userAgent != "" {
		ua = cfg.userAgent
	}
	hcfg := httpx.Config{
		Name:        "qradar",
		BaseURL:     u.String(),
		HTTPClient:  cfg.httpClient,
		TLSConfig:   cfg.tls,
		Timeout:     cfg.timeout,
		UserAgent:   ua,
		Header:      header,
		Logger:      cfg.logger,
		Retry:       httpx.RetryPolicy(cfg.retry),
		DecodeError: decodeError,
	}
	token, user, password := cfg.token, cfg.user, cfg.password
	if !token.IsZero() {
		hcfg.Authorize = func(r *http.Request) error {
			r.Header.Set("SEC", token.Reveal())
			return nil
		}
	} else {
		hcfg.Authorize = func(r *http.Request) error {
			r.SetBasicAuth(user, password.Reveal())
			return nil
		}
	}
	hc, err := httpx.New(hcfg)
	if err != nil {
		return nil, err
	}
	c := &Client{hc: hc, batchSize: cfg.batchSize}
	ttl := cfg.cacheTTL
	c.Offenses = &OffensesService{c: c}
	c.ClosingReasons = &ClosingReasonsService{c: c}
	c.OffenseTypes = &OffenseTypesService{c: c, cache: newCache[OffenseTypeID, OffenseType](ttl)}
	c.SourceAddresses = &SourceAddressesService{c: c}
	c.LocalDestinationAddresses = &LocalDestinationAddressesService{c: c}
	c.Rules = &RulesService{c: c, names: newCache[RuleID, string](ttl)}
	c.Domains = &DomainsService{c: c, names: newCache[DomainID, string](ttl)}
	c.Ariel = &ArielService{c: c}
	c.System = &SystemService{c: c}
	return c, nil
}

// CloseIdleConnections closes the client's idle connections.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// request describes one call relative to /api/.
type request struct {
	method     string
	path       string // escaped, relative to /api/
	query      url.Values
	header     http.Header
	idempotent bool
}

// do sends r and decodes the JSON answer into out (nil discards it). It
// returns the response's header.
func (c *Client) do(ctx context.Context, r *request, out any) (http.Header, error) {
	hr := &httpx.Request{Method: r.method, Path: r.path, Query: r.query, Header: r.header, Idempotent: r.idempotent}
	resp, err := c.hc.Do(ctx, hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return resp.Header, nil
	}
	dec := json.NewDecoder(resp.Body)
	if err := dec.Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("qradar: %s %s: decoding the answer: %w", r.method, httpx.RedactURL(c.hc.URL(hr)), err)
	}
	return resp.Header, nil
}

// call sends r and returns its decoded answer.
func call[T any](ctx context.Context, c *Client, r *request) (*T, error) {
	var v T
	if _, err := c.do(ctx, r, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// listParams is what a request for a page of a list takes from the list's
// options: the query (filter, fields, sort) and the bounds of the page.
type listParams struct {
	query  url.Values
	offset int
	limit  int
}

// listQuery is the query of a list request.
func listQuery(filter Filter, fields []string, sort string) url.Values {
	q := url.Values{}
	if filter != "" {
		q.Set("filter", string(filter))
	}
	fieldsQuery(q, fields)
	if sort != "" {
		q.Set("sort", sort)
	}
	return q
}

// listPage fetches the items [p.offset, p.offset+p.limit) of a list
// endpoint with a Range header; the page's total is the one the server gave
// in Content-Range, or -1.
func listPage[T any](ctx context.Context, c *Client, path string, p listParams) (*Page[T], error) {
	if p.offset < 0 {
		return nil, invalidParams("negative offset %d", p.offset)
	}
	limit := p.limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	var items []T
	header, err := c.do(ctx, &request{method: http.MethodGet, path: path, query: p.query, header: rangeHeader(p.offset, limit)}, &items)
	if err != nil {
		return nil, err
	}
	return &Page[T]{Items: items, Offset: p.offset, Total: contentTotal(header)}, nil
}

// listAll iterates over a Range-paged list from p.offset on, p.limit items
// per request.
func listAll[T any](ctx context.Context, c *Client, path string, p listParams) iter.Seq2[T, error] {
	size := p.limit
	if size <= 0 {
		size = DefaultPageSize
	}
	return pager.Offset(ctx, size, func(ctx context.Context, offset, size int) ([]T, int, error) {
		page, err := listPage[T](ctx, c, path, listParams{query: p.query, offset: p.offset + offset, limit: size})
		if err != nil {
			return nil, 0, err
		}
		total := page.Total
		if total >= 0 {
			total = max(0, total-p.offset)
		}
		return page.Items, total, nil
	})
}

// listAllItems fetches a whole list without a Range header: QRadar then
// answers every matching item. It suits short lists (closing reasons,
// offense types, a batch of ids).
func listAllItems[T any](ctx context.Context, c *Client, path string, query url.Values) ([]T, error) {
	var items []T
	_, err := c.do(ctx, &request{method: http.MethodGet, path: path, query: query}, &items)
	return items, err
}

// rangeHeader asks for the items [offset, offset+limit).
func rangeHeader(offset, limit int) http.Header {
	h := make(http.Header)
	h.Set("Range", fmt.Sprintf("items=%d-%d", offset, offset+limit-1))
	return h
}

// contentTotal is the total of the Content-Range header, or -1.
func contentTotal(h http.Header) int {
	if n, ok := parseContentRange(h.Get("Content-Range")); ok {
		return n
	}
	return -1
}

// parseContentRange reads the total of "items 0-49/120" or "items */3".
func parseContentRange(v string) (int, bool) {
	v = strings.TrimSpace(v)
	unit, rest, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(unit, "items") {
		return 0, false
	}
	_, total, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(total))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// Page is one page of a list.
type Page[T any] struct {
	// Items are the page's items.
	Items []T
	// Offset is the position of the first item in the whole list.
	Offset int
	// Total is the number of items in the whole list, as the server's
	// Content-Range header gave it, or -1.
	Total int
}

// More reports whether items follow this page.
func (p *Page[T]) More() bool {
	if p.Total >= 0 {
		return p.Offset+len(p.Items) < p.Total
	}
	return len(p.Items) > 0
}

func fieldsQuery(q url.Values, fields []string) {
	if len(fields) > 0 {
		q.Set("fields", strings.Join(fields, ","))
	}
}

func idPath(prefix string, id int64) string {
	return prefix + "/" + strconv.FormatInt(id, 10)
}
