package ewstest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The application and mailbox every [GraphServer] knows: an app registered
// in the tenant with the Mail.ReadWrite application permission, and a
// mailbox it reads.
const (
	GraphTenantID     = "9188040d-6c67-4c5b-b112-36a304b66dad"
	GraphTenantDomain = "example.onmicrosoft.com"
	GraphClientID     = "6731de76-14a6-49ae-97bc-6eba6914391e"
	GraphClientSecret = "graphtest~client.secret-Do-Not-Use"
	GraphMailbox      = "soc@example.com"
)

// GraphApp is an application registered in the fake tenant.
type GraphApp struct {
	// ClientID is the application (client) id.
	ClientID string
	// Secret is the client secret.
	Secret string
	// Roles are the application permissions granted, such as "Mail.Read"
	// or "Mail.ReadWrite" (the default when empty).
	Roles []string
	// Mailboxes, when not empty, restricts the app to these mailboxes, as
	// an Exchange application access policy does.
	Mailboxes []string
}

// GraphFaultKind is a failure a [GraphServer] can be told to answer with.
type GraphFaultKind int

const (
	// GraphThrottled answers 429 ApplicationThrottled with a Retry-After
	// header.
	GraphThrottled GraphFaultKind = iota
	// GraphServiceUnavailable answers 503 ServiceUnavailable, with a
	// Retry-After header when RetryAfter is set.
	GraphServiceUnavailable
	// GraphGatewayTimeout answers 504 UnknownError.
	GraphGatewayTimeout
	// GraphDropConnection closes the connection without answering; the
	// request is not applied.
	GraphDropConnection
	// GraphDropAfterApply applies the request, then closes the connection
	// without answering.
	GraphDropAfterApply
)

// GraphFault is a failure injected into the answers of a [GraphServer].
type GraphFault struct {
	// Route limits the fault to one route, as [GraphServer.Requests]
	// names them ("GET /users/{id}/messages/{id}/$value"); empty matches
	// every Graph route (not the token endpoint).
	Route string
	// Kind is the failure.
	Kind GraphFaultKind
	// RetryAfter is the Retry-After of 429 and 503 answers, rounded up to
	// whole seconds unless it has a fraction of a second, which is then
	// sent as a decimal (as Graph's documentation shows).
	RetryAfter time.Duration
	// Count is how many matching requests fail; zero means one.
	Count int
}

// GraphOption configures a [GraphServer].
type GraphOption func(*GraphServer)

// WithGraphApp registers another application.
func WithGraphApp(a GraphApp) GraphOption {
	return func(s *GraphServer) { s.apps = append(s.apps, a) }
}

// WithGraphExchange serves x instead of a new, empty organisation, so that
// a [GraphServer] and an [EWSServer] can share mailboxes.
func WithGraphExchange(x *Exchange) GraphOption {
	return func(s *GraphServer) { s.Exchange = x }
}

// WithGraphTokenLifetime sets the expires_in of issued tokens (default 3599
// seconds); tokens are refused once expired.
func WithGraphTokenLifetime(d time.Duration) GraphOption {
	return func(s *GraphServer) { s.tokenLife = d }
}

// WithGraphMailboxConcurrency makes the server answer 429 "Application is
// over its MailboxConcurrency limit." when more than n requests of one app
// are in progress on one mailbox, as Exchange Online does with n = 4. The
// answer's Retry-After is retryAfter. By default there is no limit.
func WithGraphMailboxConcurrency(n int, retryAfter time.Duration) GraphOption {
	return func(s *GraphServer) { s.concurrency, s.concurrencyWait = n, retryAfter }
}

// GraphServer is a fake Microsoft Graph for mail, with its Microsoft
// identity platform token endpoint. It answers like Graph v1.0 does: the
// same paths, JSON shapes, OData query options ($filter, $select, $top,
// $skip, $orderby with the InefficientFilter rule), @odata.nextLink paging,
// raw MIME through $value, PATCH, move (201 and a new id), status codes and
// error bodies. Tokens come from the client credentials grant.
//
// It is safe for concurrent use.
type GraphServer struct {
	// Exchange holds the mailboxes the server serves; seed and inspect it
	// directly.
	*Exchange

	apps            []GraphApp
	tokenLife       time.Duration
	concurrency     int
	concurrencyWait time.Duration

	srv    listening
	faults faultQueue[GraphFault]
	counts requestCounts

	mu       sync.Mutex
	tokens   map[string]graphToken
	inFlight map[string]int // app + mailbox -> requests in progress
}

type graphToken struct {
	app     *GraphApp
	expires time.Time
}

// NewGraph returns a server that is not listening: serve its Handler, or
// call Start.
func NewGraph(opts ...GraphOption) *GraphServer {
	s := &GraphServer{
		apps:      []GraphApp{{ClientID: GraphClientID, Secret: GraphClientSecret}},
		tokenLife: 3599 * time.Second,
		tokens:    make(map[string]graphToken),
		inFlight:  make(map[string]int),
	}
	for _, o := range opts {
		o(s)
	}
	if s.Exchange == nil {
		s.Exchange = NewExchange()
	}
	_ = s.AddMailbox(GraphMailbox)
	return s
}

// NewGraphServer starts a server on a loopback port and closes it when tb's
// test ends.
func NewGraphServer(tb testing.TB, opts ...GraphOption) *GraphServer {
	tb.Helper()
	s := NewGraph(opts...)
	s.srv.startTest(s.Handler(), nil)
	tb.Cleanup(s.Close)
	return s
}

// Start listens on addr (such as "127.0.0.1:0") and serves in the
// background, for a standalone fake.
func (s *GraphServer) Start(addr string) error {
	return s.srv.start(addr, s.Handler(), nil)
}

// URL returns the Graph base URL, such as "http://127.0.0.1:41234/v1.0",
// or "" when the server is not listening.
func (s *GraphServer) URL() string {
	if r := s.srv.root(); r != "" {
		return r + "/v1.0"
	}
	return ""
}

// TokenURL returns the token endpoint of the fake tenant, such as
// "http://127.0.0.1:41234/9188040d-.../oauth2/v2.0/token".
func (s *GraphServer) TokenURL() string {
	if r := s.srv.root(); r != "" {
		return r + "/" + GraphTenantID + "/oauth2/v2.0/token"
	}
	return ""
}

// Close stops the server. Closing twice is not an error.
func (s *GraphServer) Close() { s.srv.close() }

// CloseClientConnections breaks every open client connection. It works on
// a server started by NewGraphServer.
func (s *GraphServer) CloseClientConnections() { s.srv.closeClientConnections() }

// Backend returns a conformance [Backend] that seeds and inspects mailbox
// directly in the server's store.
func (s *GraphServer) Backend(mailbox string) Backend {
	return &exchangeBackend{x: s.Exchange, mailbox: mailbox, drop: s.CloseClientConnections}
}

// InjectFault queues a failure for the next f.Count requests matching
// f.Route. Faults are used in the order they were queued.
func (s *GraphServer) InjectFault(f GraphFault) { s.faults.push(f.Route, f.Count, f) }

// Requests returns how many requests the server received for a route,
// such as "GET /users/{id}/mailFolders/{id}/messages",
// "PATCH /users/{id}/messages/{id}" or "POST /token".
func (s *GraphServer) Requests(route string) int { return s.counts.get(route) }

// RequestCounts returns the number of requests per route.
func (s *GraphServer) RequestCounts() map[string]int { return s.counts.all() }

// ExpireTokens makes every issued token expired, as if an hour had passed.
func (s *GraphServer) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		t.expires = time.Now().Add(-time.Second)
		s.tokens[k] = t
	}
}

// Handler returns the server's HTTP handler: the token endpoint at
// /{tenant}/oauth2/v2.0/token and Graph under /v1.0.
func (s *GraphServer) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *GraphServer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newGUID()
	w.Header().Set("request-id", reqID)
	if cid := r.Header.Get("client-request-id"); cid != "" {
		w.Header().Set("client-request-id", cid)
	}
	p := r.URL.EscapedPath()
	if strings.HasSuffix(p, "/oauth2/v2.0/token") {
		s.serveToken(w, r)
		return
	}
	rest, ok := strings.CutPrefix(p, "/v1.0/")
	if !ok {
		graphError(w, r, http.StatusNotFound, "UnknownError", "")
		return
	}
	segs := strings.Split(rest, "/")
	for i, seg := range segs {
		if u, err := url.PathUnescape(seg); err == nil {
			segs[i] = u
		}
	}
	g := &graphRequest{s: s, w: w, r: r}
	g.serve(segs)
}

// graphError writes Graph's error body.
func graphError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	body := map[string]any{"error": map[string]any{
		"code":    code,
		"message": msg,
		"innerError": map[string]any{
			"date":              time.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        w.Header().Get("request-id"),
			"client-request-id": cmpOr(r.Header.Get("client-request-id"), w.Header().Get("request-id")),
		},
	}}
	writeJSON(w, status, body)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"UnknownError","message":""}}`)
	}
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ---- token endpoint ----

// aadError writes a Microsoft identity platform error.
func aadError(w http.ResponseWriter, status int, code string, aadsts int, desc string) {
	now := time.Now().UTC()
	trace, corr := newGUID(), newGUID()
	writeJSON(w, status, map[string]any{
		"error": code,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			aadsts, desc, trace, corr, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":    []int{aadsts},
		"timestamp":      now.Format("2006-01-02 15:04:05Z"),
		"trace_id":       trace,
		"correlation_id": corr,
		"error_uri":      "https://login.microsoftonline.com/error?code=" + strconv.Itoa(aadsts),
	})
}

func (s *GraphServer) serveToken(w http.ResponseWriter, r *http.Request) {
	s.counts.add("POST /token")
	tenant := strings.TrimPrefix(strings.TrimSuffix(r.URL.Path, "/oauth2/v2.0/token"), "/")
	if r.Method != http.MethodPost {
		aadError(w, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts POST requests. Received a "+r.Method+" request.")
		return
	}
	if !strings.EqualFold(tenant, GraphTenantID) && !strings.EqualFold(tenant, GraphTenantDomain) {
		aadError(w, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant))
		return
	}
	if err := r.ParseForm(); err != nil {
		aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		// RFC 6749 2.3.1: the credentials are form-encoded before Basic.
		id, _ = url.QueryUnescape(u)
		secret, _ = url.QueryUnescape(p)
	}
	grant := r.PostForm.Get("grant_type")
	switch {
	case grant == "":
		aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	case grant != "client_credentials":
		aadError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '"+grant+"'.")
		return
	case id == "":
		aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	var app *GraphApp
	for i := range s.apps {
		if strings.EqualFold(s.apps[i].ClientID, id) {
			app = &s.apps[i]
		}
	}
	if app == nil {
		aadError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", id, GraphTenantDomain))
		return
	}
	if secret == "" {
		aadError(w, http.StatusUnauthorized, "invalid_client", 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(app.Secret)) != 1 {
		aadError(w, http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", app.ClientID))
		return
	}
	scope := r.PostForm.Get("scope")
	switch {
	case scope == "":
		aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
		return
	case !strings.HasSuffix(scope, "/.default"):
		aadError(w, http.StatusBadRequest, "invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope))
		return
	case scope != "https://graph.microsoft.com/.default" && scope != "00000003-0000-0000-c000-000000000000/.default":
		aadError(w, http.StatusBadRequest, "invalid_resource", 500011, fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", strings.TrimSuffix(scope, "/.default"), GraphTenantDomain))
		return
	}
	tok := newAccessToken(app.ClientID)
	s.mu.Lock()
	s.tokens[tok] = graphToken{app: app, expires: time.Now().Add(s.tokenLife)}
	s.mu.Unlock()
	secs := int(s.tokenLife / time.Second)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   tok,
	})
}

// newAccessToken returns an opaque token shaped like a JWT.
func newAccessToken(appID string) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"typ":"JWT","alg":"RS256"}`))
	claims := enc.EncodeToString([]byte(`{"aud":"https://graph.microsoft.com","appid":"` + appID + `","roles":["Mail.ReadWrite"],"tid":"` + GraphTenantID + `"}`))
	var sig [32]byte
	_, _ = rand.Read(sig[:])
	return head + "." + claims + "." + enc.EncodeToString(sig[:])
}

// authenticate checks the bearer token and returns its app, or answers
// 401 InvalidAuthenticationToken.
func (s *GraphServer) authenticate(w http.ResponseWriter, r *http.Request) *GraphApp {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	fail := func(msg string) *GraphApp {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
		graphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		return nil
	}
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return fail("Access token is empty.")
	}
	if !strings.Contains(tok, ".") {
		return fail("IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format. (JWS): 'EncodedHeader.EndcodedPayload.EncodedSignature'. (JWE): 'EncodedProtectedHeader.EncodedEncryptedKey.EncodedInitializationVector.EncodedCiphertext.EncodedAuthenticationTag'.")
	}
	s.mu.Lock()
	t, ok := s.tokens[tok]
	s.mu.Unlock()
	switch {
	case !ok:
		return fail("Access token validation failure. Invalid audience.")
	case time.Now().After(t.expires):
		return fail("Lifetime validation failed, the token is expired.")
	}
	return t.app
}
