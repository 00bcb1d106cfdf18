package ews

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/synapse-go/synapse/internal/httpx"
)

// Defaults of GraphConfig fields left zero.
const (
	DefaultGraphBaseURL     = "https://graph.microsoft.com/v1.0"
	DefaultGraphScope       = "https://graph.microsoft.com/.default"
	DefaultGraphPageSize    = 50
	DefaultGraphConcurrency = 4
)

// GraphConfig configures a Microsoft Graph mailbox (Exchange Online). The
// app authenticates with the OAuth2 client credentials grant of its
// tenant and needs the Mail.ReadWrite application permission (Mail.Read
// is enough for a mailbox that is only listed and opened). TenantID,
// ClientID and ClientSecret (or a TokenSource), User, Folders and
// Processed are required.
//
// Its String, Format and LogValue methods never print the client secret
// or the token source, so a configuration can be logged.
type GraphConfig struct {
	// TenantID is the directory (tenant) id or a verified domain, such as
	// "contoso.onmicrosoft.com".
	TenantID string
	// ClientID is the application (client) id.
	ClientID string
	// ClientSecret is the application's client secret. It is never logged
	// or put in errors.
	ClientSecret string
	// TokenURL overrides the token endpoint
	// (https://login.microsoftonline.com/{TenantID}/oauth2/v2.0/token), for
	// a national cloud or a test server.
	TokenURL string
	// Scopes overrides the requested scope (DefaultGraphScope).
	Scopes []string
	// TokenSource, when set, gives the access tokens instead of the client
	// credentials (a certificate credential, a managed identity).
	TokenSource oauth2.TokenSource

	// BaseURL overrides the Graph root (DefaultGraphBaseURL).
	BaseURL string
	// User is the mailbox: its user principal name, primary SMTP address
	// (a shared mailbox too) or user id.
	User string

	// Folders are the folder paths listed, in order, with "/" between
	// levels (for example "Inbox/Phishing"). A first level that is a
	// well-known folder name ("Inbox", "JunkEmail", "Archive"...), in any
	// case, is that folder; any other first level is a folder at the top of
	// the mailbox. Names compare without regard to case.
	Folders []string
	// Processed is what MarkProcessed does, and decides which messages are
	// listed: see [Disposition]. It must do something.
	Processed Disposition
	// Quarantine is what Quarantine does. When it is zero, Quarantine fails
	// with ErrInvalidConfig.
	Quarantine Disposition

	// PageSize is the $top of listing requests (default
	// DefaultGraphPageSize, at most 1000).
	PageSize int
	// MaxConcurrency bounds the requests in progress at once (default
	// DefaultGraphConcurrency, Exchange Online's limit per app and
	// mailbox). A request counts until its answer's headers arrive; a
	// message being streamed does not hold a slot.
	MaxConcurrency int
	// HTTPClient is copied, never modified; nil means a client of the
	// mailbox's own. It is used for the token endpoint too.
	HTTPClient *http.Client
	// TLSConfig, when set, configures TLS (a private CA for a proxy).
	TLSConfig *tls.Config
	// Timeout bounds each HTTP request, body included, so it must allow for
	// streaming the largest message; zero means no bound but the context's.
	Timeout time.Duration
	// MaxRetries is how many times a request is retried after a transient
	// failure or a throttling answer (default DefaultMaxRetries; negative
	// means never).
	MaxRetries int
	// MaxRetryWait is the longest the mailbox waits before a retry (default
	// DefaultMaxRetryWait). When a 429 or 503 asks for a longer wait with
	// Retry-After, the call fails at once with an error matching
	// ErrThrottled whose ServerError.RetryAfter says how long to wait.
	MaxRetryWait time.Duration
	// UserAgent is sent with every request.
	UserAgent string
	// Logger receives a debug record per HTTP request and a warning per
	// retry, without credentials; nil discards them.
	Logger *slog.Logger
}

// String describes the configuration without its secrets.
func (c GraphConfig) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ews.GraphConfig{TenantID:%q ClientID:%q", c.TenantID, c.ClientID)
	if c.ClientSecret != "" {
		b.WriteString(" ClientSecret:" + httpx.Redacted)
	}
	if c.TokenSource != nil {
		b.WriteString(" TokenSource:" + httpx.Redacted)
	}
	fmt.Fprintf(&b, " User:%q Folders:%q Processed:%+v Quarantine:%+v}", c.User, c.Folders, c.Processed, c.Quarantine)
	return b.String()
}

// Format prints [GraphConfig.String] for every verb, so that no verb (not
// even %#v or %x) prints the client secret.
func (c GraphConfig) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue logs the configuration without its secrets.
func (c GraphConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("tenant", c.TenantID),
		slog.String("client_id", c.ClientID),
		slog.String("user", c.User),
		slog.Any("folders", c.Folders),
	)
}

func (c GraphConfig) validate() (GraphConfig, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: graph: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	if c.TokenSource == nil {
		switch {
		case c.TenantID == "" && c.TokenURL == "":
			return c, bad("TenantID is empty")
		case c.ClientID == "":
			return c, bad("ClientID is empty")
		case c.ClientSecret == "":
			return c, bad("ClientSecret is empty (or set a TokenSource)")
		case strings.ContainsAny(c.TenantID, "/?#% "):
			return c, bad("TenantID %q is not a tenant id or domain", c.TenantID)
		}
		if c.TokenURL == "" {
			c.TokenURL = "https://login.microsoftonline.com/" + c.TenantID + "/oauth2/v2.0/token"
		}
		if u, err := url.Parse(c.TokenURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
			return c, bad("TokenURL must be an absolute http or https URL without credentials")
		}
		if len(c.Scopes) == 0 {
			c.Scopes = []string{DefaultGraphScope}
		}
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultGraphBaseURL
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	if c.User == "" {
		return c, bad("User is empty")
	}
	if strings.ContainsAny(c.User, "/?#\\ \r\n") {
		return c, bad("User %q is not a user principal name, address or id", c.User)
	}
	if err := xchCheckDispositions(c.Folders, c.Processed, c.Quarantine); err != nil {
		return c, bad("%v", err)
	}
	if err := xchLimit("PageSize", &c.PageSize, DefaultGraphPageSize, 1000); err != nil {
		return c, bad("%v", err)
	}
	if err := xchLimit("MaxConcurrency", &c.MaxConcurrency, DefaultGraphConcurrency, 0); err != nil {
		return c, bad("%v", err)
	}
	if c.Timeout < 0 || c.MaxRetryWait < 0 {
		return c, bad("Timeout and MaxRetryWait must not be negative")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Folders = append([]string(nil), c.Folders...)
	return c, nil
}

// GraphMailbox reads messages from folders of an Exchange Online mailbox
// through Microsoft Graph. It implements [Mailbox] and is safe for
// concurrent use.
//
// Folders are found by well-known name or display name, level by level
// (mailFolders, childFolders with $filter), and remembered. Listing asks
// for a folder's messages with $filter (unread, or without the category),
// $orderby=receivedDateTime asc, $select and $top, and follows
// @odata.nextLink; Open streams /messages/{id}/$value; MarkProcessed and
// Quarantine PATCH categories and isRead (with If-Match) and POST move.
// Answers 429 and 503 are retried after their Retry-After, and an expired
// token is refreshed once on 401.
//
// Message IDs are Graph message ids. Moving a message gives it a new id;
// the mailbox remembers the ones it moved, and after a restart finds a
// moved message again by its Internet Message-ID in the destination.
type GraphMailbox struct {
	xchMailbox
	cfg    GraphConfig
	hc     *httpx.Client
	tokens *graphTokens
	slots  chan struct{}
	user   string // escaped path segment
}

var _ Mailbox = (*GraphMailbox)(nil)

// NewGraph returns a mailbox for cfg. It does no I/O: the first call that
// needs the server gets a token and connects. Configuration errors match
// ErrInvalidConfig.
func NewGraph(cfg GraphConfig) (*GraphMailbox, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	m := &GraphMailbox{
		xchMailbox: xchMailbox{
			protocol: "graph",
			idName:   "a Graph message id",
			log:      cfg.Logger,
			retry:    newXchRetry(cfg.MaxRetries, cfg.MaxRetryWait, cfg.Logger),
		},
		cfg:   cfg,
		slots: make(chan struct{}, cfg.MaxConcurrency),
		user:  url.PathEscape(cfg.User),
	}
	tokenClient, err := graphTokenClient(cfg)
	if err != nil {
		return nil, err
	}
	m.tokens = &graphTokens{lock: make(chan struct{}, 1)}
	if cfg.TokenSource != nil {
		ts := cfg.TokenSource
		m.tokens.fetch = func(context.Context) (*oauth2.Token, error) { return ts.Token() }
	} else {
		cc := &clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     cfg.TokenURL,
			Scopes:       cfg.Scopes,
			// The Microsoft identity platform takes the secret in the form;
			// saying so spares a failed first try with Basic.
			AuthStyle: oauth2.AuthStyleInParams,
		}
		m.tokens.fetch = func(ctx context.Context) (*oauth2.Token, error) {
			return cc.Token(context.WithValue(ctx, oauth2.HTTPClient, tokenClient))
		}
	}
	hc, err := httpx.New(httpx.Config{
		Name:       "graph",
		BaseURL:    cfg.BaseURL,
		HTTPClient: cfg.HTTPClient,
		TLSConfig:  cfg.TLSConfig,
		Timeout:    cfg.Timeout,
		UserAgent:  cfg.UserAgent,
		Header:     http.Header{"Accept": {"application/json"}},
		Authorize: func(r *http.Request) error {
			tok, err := m.tokens.get(r.Context())
			if err != nil {
				return err
			}
			r.Header.Set("Authorization", "Bearer "+tok)
			return nil
		},
		Logger:      cfg.Logger,
		Retry:       httpx.RetryPolicy{MaxRetries: -1},
		DecodeError: graphDecodeError,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	m.hc = hc
	m.host = hc.BaseURL().Host
	return m, nil
}

// graphTokenClient is the HTTP client of the token endpoint: the
// configured client and TLS settings, without the Graph credentials.
func graphTokenClient(cfg GraphConfig) (*http.Client, error) {
	hc := &http.Client{Timeout: time.Minute}
	if cfg.HTTPClient != nil {
		*hc = *cfg.HTTPClient
	}
	if cfg.TLSConfig != nil {
		t, ok := hc.Transport.(*http.Transport)
		if hc.Transport == nil {
			t, ok = http.DefaultTransport.(*http.Transport), true
		}
		if !ok {
			return nil, fmt.Errorf("%w: graph: TLSConfig needs an *http.Transport, the HTTP client has a %T", ErrInvalidConfig, hc.Transport)
		}
		t = t.Clone()
		t.TLSClientConfig = cfg.TLSConfig.Clone()
		hc.Transport = t
	}
	return hc, nil
}

// graphTokens caches the access token. Fetching honours the caller's
// context, concurrent callers share one fetch, and a token the server
// refused is dropped so that the next call fetches a new one.
type graphTokens struct {
	lock  chan struct{} // a mutex that a waiter can give up on
	fetch func(context.Context) (*oauth2.Token, error)
	tok   *oauth2.Token
}

// get returns a valid access token.
func (t *graphTokens) get(ctx context.Context) (string, error) {
	select {
	case t.lock <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-t.lock }()
	// oauth2.Token.Valid treats a token as expired 10 s early.
	if t.tok.Valid() {
		return t.tok.AccessToken, nil
	}
	tok, err := t.fetch(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", tokenError(err)
	}
	if tok.AccessToken == "" {
		return "", &ServerError{Message: "the token endpoint returned no access token", Kind: ErrAuth}
	}
	t.tok = tok
	return tok.AccessToken, nil
}

// invalidate drops the cached token if it is still the one given.
func (t *graphTokens) invalidate(ctx context.Context, access string) {
	select {
	case t.lock <- struct{}{}:
	case <-ctx.Done():
		return
	}
	if t.tok != nil && t.tok.AccessToken == access {
		t.tok = nil
	}
	<-t.lock
}

// graphErrorBody is Graph's error JSON.
type graphErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// graphDecodeError turns a non-2xx answer into a *ServerError, reading
// Graph's error body and Retry-After (whole or decimal seconds).
func graphDecodeError(re *httpx.ResponseError) error {
	se := &ServerError{StatusCode: re.StatusCode, Err: re}
	var body graphErrorBody
	if json.Unmarshal(re.Body, &body) == nil {
		se.Code, se.Message = body.Error.Code, firstLine(body.Error.Message)
	}
	if se.Message == "" {
		se.Message = http.StatusText(re.StatusCode)
	}
	if v := strings.TrimSpace(re.Header.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 && secs < 86400 {
			se.RetryAfter = time.Duration(secs * float64(time.Second))
		} else if d, ok := httpx.ParseRetryAfter(v, time.Now()); ok {
			se.RetryAfter = d
		}
	}
	switch {
	case re.StatusCode == http.StatusUnauthorized, re.StatusCode == http.StatusForbidden:
		se.Kind = ErrAuth
	case re.StatusCode == http.StatusTooManyRequests, re.StatusCode == http.StatusServiceUnavailable:
		se.Kind = ErrThrottled
	case se.Code == "ErrorItemNotFound":
		se.Kind = ErrMessageNotFound
	case se.Code == "ErrorInvalidIdMalformed":
		se.Kind = ErrInvalidID
	case re.StatusCode == http.StatusPreconditionFailed, se.Code == "ErrorIrresolvableConflict":
		se.Kind = ErrStale
	}
	return se
}

// String names the mailbox by user and server, without secrets.
func (m *GraphMailbox) String() string { return "graph://" + m.cfg.User + "@" + m.host }

// Format prints [GraphMailbox.String] for every verb, so that no verb
// prints the configuration's secret.
func (m *GraphMailbox) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(m.String())) }

// LogValue logs the mailbox's server and user.
func (m *GraphMailbox) LogValue() slog.Value {
	return slog.GroupValue(slog.String("server", m.host), slog.String("user", m.cfg.User))
}

// Close closes idle connections; later calls fail with ErrClosed. Open
// message streams keep working until they are closed. Closing twice is not
// an error.
func (m *GraphMailbox) Close() error {
	m.markClosed()
	m.hc.CloseIdleConnections()
	return nil
}

// do sends one request, with retries, and hands a 2xx answer to handle,
// which must close it unless it keeps it. A 401 refreshes the token and
// tries once more.
func (m *GraphMailbox) do(ctx context.Context, op string, idempotent bool, req *httpx.Request, handle func(*http.Response) error) error {
	refreshed := false
	return m.retry.do(ctx, op, idempotent, func(ctx context.Context) error {
		for {
			select {
			case m.slots <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			r, err := m.hc.Do(ctx, req)
			<-m.slots
			var se *ServerError
			if !refreshed && errors.As(err, &se) && se.StatusCode == http.StatusUnauthorized {
				if tok := m.currentToken(ctx); tok != "" {
					// The token may have been revoked or expired early: get
					// a new one once.
					refreshed = true
					m.tokens.invalidate(ctx, tok)
					continue
				}
			}
			if err != nil {
				return err
			}
			return handle(r)
		}
	})
}

// currentToken returns the cached access token, or "".
func (m *GraphMailbox) currentToken(ctx context.Context) string {
	select {
	case m.tokens.lock <- struct{}{}:
	case <-ctx.Done():
		return ""
	}
	defer func() { <-m.tokens.lock }()
	if m.tokens.tok == nil {
		return ""
	}
	return m.tokens.tok.AccessToken
}

// getJSON sends a request and decodes its JSON answer into out. An answer
// cut short is retried like a broken connection.
func (m *GraphMailbox) getJSON(ctx context.Context, op string, idempotent bool, req *httpx.Request, out any) error {
	return m.do(ctx, op, idempotent, req, func(resp *http.Response) error {
		defer resp.Body.Close()
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxGraphAnswer)).Decode(out); err != nil {
			return &httpx.TransportError{Name: "graph", Method: req.Method, URL: httpx.RedactURL(m.hc.URL(req)), Attempts: 1,
				Err: fmt.Errorf("decoding the %s answer: %w", op, err)}
		}
		return nil
	})
}

const maxGraphAnswer = 32 << 20

// odataString quotes s as an OData string literal.
func odataString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// graphWellKnown are the well-known folder names Graph accepts in place of
// an id.
var graphWellKnown = map[string]string{
	"inbox": "inbox", "archive": "archive", "clutter": "clutter", "conflicts": "conflicts",
	"conversationhistory": "conversationhistory", "deleteditems": "deleteditems", "drafts": "drafts",
	"junkemail": "junkemail", "localfailures": "localfailures", "msgfolderroot": "msgfolderroot",
	"outbox": "outbox", "recoverableitemsdeletions": "recoverableitemsdeletions", "scheduled": "scheduled",
	"searchfolders": "searchfolders", "sentitems": "sentitems", "serverfailures": "serverfailures",
	"syncissues": "syncissues",
}

type graphFolder struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// folderID resolves a configured path to a folder id, asking the server
// once per path.
func (m *GraphMailbox) folderID(ctx context.Context, path string) (string, error) {
	id, ok := m.cachedFolder(path)
	if ok {
		return id, nil
	}
	levels := strings.Split(strings.Trim(path, "/"), "/")
	start := 0
	base := "users/" + m.user + "/mailFolders"
	if wk, ok := graphWellKnown[strings.ToLower(levels[0])]; ok {
		var f graphFolder
		err := m.getJSON(ctx, "GET mailFolder", true, &httpx.Request{
			Method: http.MethodGet, Path: base + "/" + wk, Query: url.Values{"$select": {"id,displayName"}},
		}, &f)
		if errors.Is(err, ErrMessageNotFound) {
			err = fmt.Errorf("%w: no well-known folder %q: %w", ErrFolderNotFound, levels[0], err)
		}
		if err != nil {
			return "", m.opErr(path, "GET mailFolder", err)
		}
		id, start = f.ID, 1
	}
	for i := start; i < len(levels); i++ {
		p := base
		if id != "" {
			p = base + "/" + url.PathEscape(id) + "/childFolders"
		}
		var page struct {
			Value []graphFolder `json:"value"`
		}
		err := m.getJSON(ctx, "GET mailFolders", true, &httpx.Request{
			Method: http.MethodGet, Path: p,
			Query: url.Values{"$filter": {"displayName eq " + odataString(levels[i])}, "$select": {"id,displayName"}},
		}, &page)
		if err != nil {
			if errors.Is(err, ErrMessageNotFound) {
				err = fmt.Errorf("%w: %w", ErrFolderNotFound, err)
			}
			return "", m.opErr(path, "GET mailFolders", err)
		}
		id = ""
		for _, f := range page.Value {
			if id == "" || f.DisplayName == levels[i] {
				id = f.ID
			}
		}
		if id == "" {
			return "", m.opErr(path, "GET mailFolders", fmt.Errorf("%w: no folder %q in %q", ErrFolderNotFound, levels[i], strings.Join(levels[:i], "/")))
		}
	}
	m.rememberFolder(path, id)
	return id, nil
}

// ---- listing ----

// graphMessage is the part of Graph's message JSON the mailbox reads.
type graphMessage struct {
	ETag              string    `json:"@odata.etag"`
	ID                string    `json:"id"`
	Subject           string    `json:"subject"`
	ReceivedDateTime  time.Time `json:"receivedDateTime"`
	InternetMessageID string    `json:"internetMessageId"`
	ConversationID    string    `json:"conversationId"`
	Categories        []string  `json:"categories"`
	IsRead            bool      `json:"isRead"`
	ParentFolderID    string    `json:"parentFolderId"`
}

type graphPage struct {
	Value    []graphMessage `json:"value"`
	NextLink string         `json:"@odata.nextLink"`
}

const graphListSelect = "id,subject,receivedDateTime,internetMessageId,conversationId,categories"

// Messages yields the unprocessed messages of each configured folder,
// oldest first. It implements [Mailbox].
func (m *GraphMailbox) Messages(ctx context.Context) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		for _, folder := range m.cfg.Folders {
			if !m.listFolder(ctx, folder, yield) {
				return
			}
		}
	}
}

// filter is the $filter of a listing from cursor on. The received time
// comes first: Graph requires the $orderby property to lead the $filter.
func (m *GraphMailbox) filter(cursor time.Time) string {
	if cursor.IsZero() {
		cursor = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	terms := []string{"receivedDateTime ge " + cursor.UTC().Format("2006-01-02T15:04:05Z")}
	p := m.cfg.Processed
	switch {
	case p.Category != "":
		terms = append(terms, "not(categories/any(c:c eq "+odataString(p.Category)+"))")
	case p.MarkRead:
		terms = append(terms, "isRead eq false")
	}
	if q := m.cfg.Quarantine.Category; q != "" && !strings.EqualFold(q, p.Category) {
		terms = append(terms, "not(categories/any(c:c eq "+odataString(q)+"))")
	}
	return strings.Join(terms, " and ")
}

func (m *GraphMailbox) listFolder(ctx context.Context, folder string, yield func(Message, error) bool) bool {
	fail := func(op string, err error) bool {
		yield(Message{}, m.opErr(folder, op, err))
		return false
	}
	if err := m.ready(ctx); err != nil {
		return fail("GET messages", err)
	}
	id, err := m.folderID(ctx, folder)
	if err != nil {
		return fail("GET mailFolders", err)
	}
	var ks xchKeyset
	var req *httpx.Request // the page to ask for; nil means from the cursor
	refreshed := false
	for {
		if err := m.ready(ctx); err != nil {
			return fail("GET messages", err)
		}
		if req == nil {
			req = &httpx.Request{
				Method: http.MethodGet,
				Path:   "users/" + m.user + "/mailFolders/" + url.PathEscape(id) + "/messages",
				Query: url.Values{
					"$filter":  {m.filter(ks.cursor)},
					"$orderby": {"receivedDateTime asc"},
					"$select":  {graphListSelect},
					"$top":     {strconv.Itoa(m.cfg.PageSize)},
				},
			}
		}
		var page graphPage
		err := m.getJSON(ctx, "GET messages", true, req, &page)
		if errors.Is(err, ErrMessageNotFound) && !refreshed {
			// The remembered folder id went stale: find the folder again.
			refreshed = true
			m.forgetFolder(folder)
			if id, err = m.folderID(ctx, folder); err != nil {
				return fail("GET mailFolders", err)
			}
			req = nil
			continue
		}
		if err != nil {
			return fail("GET messages", err)
		}
		for _, it := range page.Value {
			if it.ID == "" || it.ReceivedDateTime.IsZero() {
				return fail("GET messages", errors.New("the server listed a message without an id or receivedDateTime"))
			}
			if !ks.admit(it.ID, it.ReceivedDateTime) {
				continue
			}
			if !yield(m.message(folder, it), nil) {
				return false
			}
		}
		if page.NextLink == "" || len(page.Value) == 0 {
			return true
		}
		switch ks.step(len(page.Value)) {
		case "restart":
			req = nil
		case "skip":
			// Every message of the page, all received in the cursor's
			// second, was listed already: go on with the server's link.
			if req, err = m.nextLink(page.NextLink); err != nil {
				return fail("GET messages", err)
			}
		}
	}
}

// nextLink turns an @odata.nextLink into a request, refusing a link to
// another server (the token must not leave for it).
func (m *GraphMailbox) nextLink(link string) (*httpx.Request, error) {
	u, err := url.Parse(link)
	base := m.hc.BaseURL()
	if err != nil || !strings.EqualFold(u.Host, base.Host) || u.Scheme != base.Scheme {
		return nil, fmt.Errorf("the server's @odata.nextLink points to another server (%s)", httpx.RedactURL(u))
	}
	p, ok := strings.CutPrefix(u.EscapedPath(), strings.TrimSuffix(base.EscapedPath(), "/")+"/")
	if !ok {
		return nil, errors.New("the server's @odata.nextLink is outside the Graph root")
	}
	return &httpx.Request{Method: http.MethodGet, Path: p, Query: u.Query()}, nil
}

func (m *GraphMailbox) message(folder string, it graphMessage) Message {
	return Message{
		ID:                MessageID(it.ID),
		Folder:            folder,
		ConversationID:    it.ConversationID,
		InternetMessageID: strings.TrimSpace(it.InternetMessageID),
		Subject:           it.Subject,
		Categories:        it.Categories,
		Size:              -1, // Graph v1.0 does not report a message's size
		Received:          it.ReceivedDateTime.UTC(),
	}
}

// ---- opening ----

func (m *GraphMailbox) messagePath(id string) string {
	return "users/" + m.user + "/messages/" + url.PathEscape(id)
}

// Open streams the raw message from /messages/{id}/$value. It implements
// [Mailbox].
func (m *GraphMailbox) Open(ctx context.Context, msg Message) (io.ReadCloser, error) {
	const op = "GET $value"
	if err := m.precheck(ctx, msg, op); err != nil {
		return nil, err
	}
	id := string(m.moved.resolve(msg.ID))
	var body io.ReadCloser
	err := m.do(ctx, op, true, &httpx.Request{Method: http.MethodGet, Path: m.messagePath(id) + "/$value"},
		func(resp *http.Response) error { body = resp.Body; return nil })
	if err != nil {
		return nil, m.opErr(msg.Folder, op, err)
	}
	return body, nil
}

// ---- marking ----

// MarkProcessed applies the Processed disposition. It implements
// [Mailbox].
func (m *GraphMailbox) MarkProcessed(ctx context.Context, msg Message) error {
	return m.apply(ctx, msg, m.cfg.Processed)
}

// Quarantine applies the Quarantine disposition. The reason is logged at
// Info level. It implements [Mailbox].
func (m *GraphMailbox) Quarantine(ctx context.Context, msg Message, reason string) error {
	if m.cfg.Quarantine.IsZero() {
		return m.refuseQuarantine(ctx, msg)
	}
	if err := m.apply(ctx, msg, m.cfg.Quarantine); err != nil {
		return err
	}
	m.logQuarantined(ctx, msg, reason)
	return nil
}

const graphStateSelect = "id,isRead,categories,parentFolderId,internetMessageId"

// state reads what marking needs to know of a message.
func (m *GraphMailbox) state(ctx context.Context, id string) (graphMessage, error) {
	var st graphMessage
	err := m.getJSON(ctx, "GET message", true, &httpx.Request{
		Method: http.MethodGet, Path: m.messagePath(id), Query: url.Values{"$select": {graphStateSelect}},
	}, &st)
	return st, err
}

// findMoved looks for a message already moved to folder, by its Internet
// Message-ID.
func (m *GraphMailbox) findMoved(ctx context.Context, folder, messageID string) (graphMessage, error) {
	fid, err := m.folderID(ctx, folder)
	if err != nil {
		return graphMessage{}, err
	}
	var page graphPage
	err = m.getJSON(ctx, "GET messages", true, &httpx.Request{
		Method: http.MethodGet,
		Path:   "users/" + m.user + "/mailFolders/" + url.PathEscape(fid) + "/messages",
		Query: url.Values{
			"$filter": {"internetMessageId eq " + odataString(messageID)},
			"$select": {graphStateSelect},
			"$top":    {"1"},
		},
	}, &page)
	if err != nil {
		return graphMessage{}, err
	}
	if len(page.Value) == 0 {
		return graphMessage{}, fmt.Errorf("%w: the message is neither where it was listed nor in %q", ErrMessageNotFound, folder)
	}
	return page.Value[0], nil
}

// apply brings the message to the state d describes: categories and read
// flag first (one PATCH), then the move. Every step checks the current
// state first, so applying twice does nothing the second time.
func (m *GraphMailbox) apply(ctx context.Context, msg Message, d Disposition) error {
	if err := m.precheck(ctx, msg, "PATCH message"); err != nil {
		return err
	}
	id := string(m.moved.resolve(msg.ID))
	st, err := m.state(ctx, id)
	if errors.Is(err, ErrMessageNotFound) && d.MoveTo != "" && msg.InternetMessageID != "" {
		st, err = m.findMoved(ctx, d.MoveTo, msg.InternetMessageID)
	}
	if err != nil {
		return m.opErr(msg.Folder, "GET message", err)
	}
	if st.ID != id {
		m.moved.put(msg.ID, MessageID(st.ID))
	}
	for attempt := 0; ; attempt++ {
		err := m.patch(ctx, &st, d)
		if err == nil {
			break
		}
		if attempt == 0 && errors.Is(err, ErrStale) {
			// Changed since it was read (If-Match failed): read it again.
			if st, err = m.state(ctx, st.ID); err == nil {
				continue
			}
		}
		return m.opErr(msg.Folder, "PATCH message", err)
	}
	if d.MoveTo == "" {
		return nil
	}
	dest, err := m.folderID(ctx, d.MoveTo)
	if err != nil {
		return m.opErr(d.MoveTo, "GET mailFolders", err)
	}
	if st.ParentFolderID == dest {
		return nil
	}
	newID, err := m.move(ctx, st, d.MoveTo, dest)
	if err != nil {
		return m.opErr(msg.Folder, "POST move", err)
	}
	m.moved.put(MessageID(st.ID), MessageID(newID))
	m.moved.put(msg.ID, MessageID(newID))
	return nil
}

// patch adds the category and sets isRead, if either is missing.
func (m *GraphMailbox) patch(ctx context.Context, st *graphMessage, d Disposition) error {
	body := map[string]any{}
	if d.Category != "" && !xchHasCategory(st.Categories, d.Category) {
		// categories replaces the whole list: send the union.
		body["categories"] = append(append([]string{}, st.Categories...), d.Category)
	}
	if d.MarkRead && !st.IsRead {
		body["isRead"] = true
	}
	if len(body) == 0 {
		return nil
	}
	b, err := httpx.JSONBody(body)
	if err != nil {
		return err
	}
	req := &httpx.Request{Method: http.MethodPatch, Path: m.messagePath(st.ID), Body: b, Header: http.Header{}}
	if st.ETag != "" {
		req.Header.Set("If-Match", st.ETag)
	}
	var out graphMessage
	// Setting fields to fixed values may be repeated safely.
	if err := m.getJSON(ctx, "PATCH message", true, req, &out); err != nil {
		return err
	}
	st.Categories, st.IsRead, st.ETag = out.Categories, out.IsRead, out.ETag
	return nil
}

// move posts the move and returns the message's new id. A move is not
// idempotent (the old id is gone once it succeeded), so when its answer is
// lost the message is looked for in both folders before trying again.
func (m *GraphMailbox) move(ctx context.Context, st graphMessage, destPath, dest string) (string, error) {
	b, err := httpx.JSONBody(map[string]string{"destinationId": dest})
	if err != nil {
		return "", err
	}
	req := &httpx.Request{Method: http.MethodPost, Path: m.messagePath(st.ID) + "/move", Body: b}
	for attempt := 0; ; attempt++ {
		var out graphMessage
		err := m.getJSON(ctx, "POST move", false, req, &out)
		if err == nil {
			if out.ID == "" {
				return "", errors.New("the move answer holds no message id")
			}
			return out.ID, nil
		}
		var te *httpx.TransportError
		if attempt > 0 || !errors.As(err, &te) || ctx.Err() != nil {
			return "", err
		}
		if _, serr := m.state(ctx, st.ID); serr == nil {
			continue // still in its folder: move it now
		} else if !errors.Is(serr, ErrMessageNotFound) || st.InternetMessageID == "" {
			return "", err
		}
		moved, ferr := m.findMoved(ctx, destPath, st.InternetMessageID)
		if ferr != nil {
			return "", err
		}
		return moved.ID, nil
	}
}
