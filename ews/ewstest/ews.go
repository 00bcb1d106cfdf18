package ewstest

import (
	"bufio"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials and mailboxes of the user every [EWSServer] knows. The user
// signs in with Basic, NTLM or the bearer token, owns EWSServiceMailbox,
// holds full access to EWSSharedMailbox and may impersonate any mailbox.
const (
	EWSUsername       = `EXAMPLE\svc-synapse`
	EWSPassword       = "Ews-Test-Pa55word!"
	EWSToken          = "ewstest-bearer-token"
	EWSServiceMailbox = "svc-synapse@example.com"
	EWSSharedMailbox  = "soc@example.com"
)

// EWSPath is the path of the EWS endpoint, as on Exchange servers.
const EWSPath = "/EWS/Exchange.asmx"

// EWSUser is an account that may sign in to an [EWSServer].
type EWSUser struct {
	// Username is the login: `DOMAIN\user`, "user@domain" or "user".
	// Names compare without regard to case.
	Username string
	// Password authenticates Basic and NTLM sign-ins.
	Password string
	// Token, when set, is an OAuth2 bearer token that authenticates the
	// user.
	Token string
	// Mailbox is the primary SMTP address of the user's own mailbox, or
	// empty for a service account without one. It is created if missing.
	Mailbox string
	// Impersonation grants the ApplicationImpersonation role: the user may
	// act as any mailbox with the ExchangeImpersonation header.
	Impersonation bool
	// FullAccess lists mailboxes the user may open as a delegate. They are
	// created if missing.
	FullAccess []string
}

// EWSAuthSchemes says which HTTP authentication schemes an [EWSServer]
// accepts and offers in its 401 answers.
type EWSAuthSchemes struct {
	// Basic accepts user name and password in the Authorization header.
	Basic bool
	// NTLM accepts NTLMv2 handshakes, offered as both "Negotiate" and
	// "NTLM"; a connection stays signed in once its handshake succeeded.
	NTLM bool
	// Bearer accepts the users' OAuth2 access tokens.
	Bearer bool
}

// EWSFaultKind is a failure an [EWSServer] can be told to answer with.
type EWSFaultKind int

const (
	// EWSServerBusyFault answers HTTP 500 with an ErrorServerBusy SOAP fault
	// whose MessageXml holds BackOffMilliseconds.
	EWSServerBusyFault EWSFaultKind = iota
	// EWSServerBusyResponse answers HTTP 200 with an ErrorServerBusy
	// response message (ResponseClass="Error") and BackOffMilliseconds in
	// m:MessageXml.
	EWSServerBusyResponse
	// EWSInternalServerBusy answers HTTP 200 with ErrorInternalServerError
	// whose inner error is ErrorServerBusy.
	EWSInternalServerBusy
	// EWSExceededConnectionCount answers HTTP 200 with an
	// ErrorExceededConnectionCount response message.
	EWSExceededConnectionCount
	// EWSServiceUnavailable answers HTTP 503, with a Retry-After header when
	// BackOff is set.
	EWSServiceUnavailable
	// EWSServerErrorPage answers HTTP 500 with an ASP.NET HTML error page.
	EWSServerErrorPage
	// EWSDropConnection closes the connection without answering; the
	// request is not applied.
	EWSDropConnection
	// EWSDropAfterApply applies the request, then closes the connection
	// without answering, so the client never learns that it succeeded.
	EWSDropAfterApply
	// EWSErrorResponse answers HTTP 200 with one error response message
	// (ResponseClass="Error") carrying ResponseCode, such as
	// ErrorIrresolvableConflict or ErrorMimeContentConversionFailed.
	EWSErrorResponse
)

// EWSFault is a failure injected into the answers of an [EWSServer].
type EWSFault struct {
	// Operation limits the fault to one SOAP operation, such as "FindItem";
	// empty matches every operation.
	Operation string
	// Kind is the failure.
	Kind EWSFaultKind
	// BackOff is the BackOffMilliseconds of busy faults and the Retry-After
	// of 503 answers.
	BackOff time.Duration
	// ResponseCode is the code of an EWSErrorResponse.
	ResponseCode string
	// Count is how many matching requests fail; zero means one.
	Count int
}

// EWSOption configures an [EWSServer].
type EWSOption func(*EWSServer)

// WithEWSUser adds a user.
func WithEWSUser(u EWSUser) EWSOption {
	return func(s *EWSServer) { s.addUser(u) }
}

// WithEWSExchange serves x instead of a new, empty organisation, so that
// an [EWSServer] and a [GraphServer] can share mailboxes.
func WithEWSExchange(x *Exchange) EWSOption {
	return func(s *EWSServer) { s.Exchange = x }
}

// WithEWSAuthSchemes sets the authentication schemes the server accepts.
// By default it accepts Basic, NTLM and Bearer.
func WithEWSAuthSchemes(a EWSAuthSchemes) EWSOption {
	return func(s *EWSServer) { s.schemes = a }
}

// WithEWSChangeKeyRequired makes UpdateItem refuse an ItemId without a
// ChangeKey with ErrorChangeKeyRequiredForWriteOperations, as some
// servers do; by default a missing ChangeKey means "the current one".
func WithEWSChangeKeyRequired() EWSOption {
	return func(s *EWSServer) { s.requireChangeKey = true }
}

// EWSServer is a fake Exchange Web Services endpoint. It speaks SOAP 1.1
// like Exchange 2016: the same namespaces, element order, response shapes,
// paging attributes, response codes and SOAP faults, for the operations a
// mailbox reader uses: GetFolder, FindFolder, FindItem, GetItem (with
// MimeContent streamed from the stored message), UpdateItem, MoveItem,
// MarkAsJunk and ConvertId. It authenticates with Basic, NTLM (bound to the
// connection, as IIS does) and OAuth2 bearer tokens, honours
// ExchangeImpersonation and delegate access, and can be told to fail.
//
// It is safe for concurrent use.
type EWSServer struct {
	// Exchange holds the mailboxes the server serves; seed and inspect it
	// directly.
	*Exchange

	schemes          EWSAuthSchemes
	requireChangeKey bool

	srv    listening
	faults faultQueue[EWSFault]
	counts requestCounts

	mu    sync.Mutex
	users []EWSUser
	ntlm  map[string]*ntlmConn // by remote address
}

// ntlmConn is the NTLM state of one TCP connection.
type ntlmConn struct {
	challenge [8]byte
	pending   bool
	user      *EWSUser
}

// NewEWS returns a server that is not listening: serve its Handler, or
// call Start.
func NewEWS(opts ...EWSOption) *EWSServer {
	s := &EWSServer{
		schemes: EWSAuthSchemes{Basic: true, NTLM: true, Bearer: true},
		ntlm:    make(map[string]*ntlmConn),
	}
	s.addUser(EWSUser{
		Username:      EWSUsername,
		Password:      EWSPassword,
		Token:         EWSToken,
		Mailbox:       EWSServiceMailbox,
		Impersonation: true,
		FullAccess:    []string{EWSSharedMailbox},
	})
	for _, o := range opts {
		o(s)
	}
	if s.Exchange == nil {
		s.Exchange = NewExchange()
	}
	for _, u := range s.users {
		for _, mb := range append([]string{u.Mailbox}, u.FullAccess...) {
			if mb != "" {
				_ = s.AddMailbox(mb)
			}
		}
	}
	return s
}

// NewEWSServer starts a server on a loopback port and closes it when tb's
// test ends.
func NewEWSServer(tb testing.TB, opts ...EWSOption) *EWSServer {
	tb.Helper()
	s := NewEWS(opts...)
	s.srv.startTest(s.Handler(), s.connState)
	tb.Cleanup(s.Close)
	return s
}

func (s *EWSServer) addUser(u EWSUser) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = append(s.users, u)
	if s.Exchange != nil {
		for _, mb := range append([]string{u.Mailbox}, u.FullAccess...) {
			if mb != "" {
				_ = s.AddMailbox(mb)
			}
		}
	}
}

// AddUser adds a user to a running server.
func (s *EWSServer) AddUser(u EWSUser) { s.addUser(u) }

// Start listens on addr (such as "127.0.0.1:0") and serves in the
// background, for a standalone fake.
func (s *EWSServer) Start(addr string) error {
	return s.srv.start(addr, s.Handler(), s.connState)
}

// URL returns the endpoint's URL, such as
// "http://127.0.0.1:41234/EWS/Exchange.asmx", or "" when the server is not
// listening.
func (s *EWSServer) URL() string {
	if r := s.srv.root(); r != "" {
		return r + EWSPath
	}
	return ""
}

// Close stops the server. Closing twice is not an error.
func (s *EWSServer) Close() { s.srv.close() }

// CloseClientConnections breaks every open client connection, as a server
// restart or a network failure would. It works on a server started by
// NewEWSServer.
func (s *EWSServer) CloseClientConnections() { s.srv.closeClientConnections() }

func (s *EWSServer) connState(c net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew, http.StateClosed, http.StateHijacked:
		s.mu.Lock()
		delete(s.ntlm, c.RemoteAddr().String())
		s.mu.Unlock()
	}
}

// InjectFault queues a failure: the next f.Count requests for f.Operation
// (after authentication) get it instead of their answer. Faults are used
// in the order they were queued.
func (s *EWSServer) InjectFault(f EWSFault) { s.faults.push(f.Operation, f.Count, f) }

// Requests returns how many requests the server answered for a SOAP
// operation ("FindItem"), or "Unauthorized" for 401 answers.
func (s *EWSServer) Requests(op string) int { return s.counts.get(op) }

// RequestCounts returns the number of requests per operation.
func (s *EWSServer) RequestCounts() map[string]int { return s.counts.all() }

// maxRequestBody bounds a request, as EWS's maxReceivedMessageSize does.
const maxRequestBody = 16 << 20

// Handler returns the server's HTTP handler. It serves EWSPath (in any
// case) and answers 404 elsewhere.
func (s *EWSServer) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *EWSServer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.URL.Path, EWSPath) {
		http.NotFound(w, r)
		return
	}
	user, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		http.Error(w, "Request Entity Too Large", http.StatusRequestEntityTooLarge)
		return
	}
	s.serveSOAP(w, r, user, body)
}

// challenge answers 401 with the configured schemes, as IIS does: an empty
// body and one WWW-Authenticate header per scheme.
func (s *EWSServer) challenge(w http.ResponseWriter, r *http.Request, ntlmToken string, bearerError bool) {
	h := w.Header()
	if ntlmToken != "" {
		h.Add("WWW-Authenticate", ntlmToken)
	} else {
		if s.schemes.NTLM {
			h.Add("WWW-Authenticate", "Negotiate")
			h.Add("WWW-Authenticate", "NTLM")
		}
		if s.schemes.Bearer {
			v := `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"`
			if bearerError {
				v += `, error="invalid_token"`
				h.Set("x-ms-diagnostics", `2000001;reason="The token has an invalid signature.";error_category="invalid_signature"`)
			}
			h.Add("WWW-Authenticate", v)
		}
		if s.schemes.Basic {
			h.Add("WWW-Authenticate", `Basic realm="`+r.Host+`"`)
		}
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
	s.counts.add("Unauthorized")
}

// authenticate returns the signed-in user, or answers 401 and returns
// false.
func (s *EWSServer) authenticate(w http.ResponseWriter, r *http.Request) (*EWSUser, bool) {
	// Read the body of a refused request, so that the connection (which
	// carries NTLM state) stays open for the next leg.
	drain := func() { _, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxRequestBody)) }
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	cred = strings.TrimSpace(cred)
	switch {
	case scheme == "":
		s.mu.Lock()
		c := s.ntlm[r.RemoteAddr]
		s.mu.Unlock()
		if c != nil && c.user != nil {
			return c.user, true
		}
	case strings.EqualFold(scheme, "Basic") && s.schemes.Basic:
		if u := s.checkBasic(cred); u != nil {
			return u, true
		}
	case strings.EqualFold(scheme, "Bearer") && s.schemes.Bearer:
		if u := s.checkBearer(cred); u != nil {
			return u, true
		}
		drain()
		s.challenge(w, r, "", true)
		return nil, false
	case (strings.EqualFold(scheme, "NTLM") || strings.EqualFold(scheme, "Negotiate")) && s.schemes.NTLM:
		msg, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			break
		}
		switch ntlmMessageType(msg) {
		case 1:
			c := &ntlmConn{challenge: newChallenge(), pending: true}
			s.mu.Lock()
			s.ntlm[r.RemoteAddr] = c
			s.mu.Unlock()
			drain()
			w.Header().Set("Connection", "keep-alive")
			s.challenge(w, r, scheme+" "+base64.StdEncoding.EncodeToString(ntlmChallenge(c.challenge, time.Now())), false)
			return nil, false
		case 3:
			s.mu.Lock()
			c := s.ntlm[r.RemoteAddr]
			s.mu.Unlock()
			if c == nil || !c.pending {
				break
			}
			c.pending = false
			if u := s.checkNTLM(msg, c.challenge); u != nil {
				s.mu.Lock()
				c.user = u
				s.mu.Unlock()
				return u, true
			}
		}
	}
	drain()
	s.challenge(w, r, "", false)
	return nil, false
}

func (s *EWSServer) checkBasic(cred string) *EWSUser {
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return nil
	}
	name, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.users {
		u := &s.users[i]
		if strings.EqualFold(u.Username, name) && u.Password != "" &&
			subtle.ConstantTimeCompare([]byte(u.Password), []byte(pass)) == 1 {
			return u
		}
	}
	return nil
}

func (s *EWSServer) checkBearer(token string) *EWSUser {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.users {
		u := &s.users[i]
		if u.Token != "" && subtle.ConstantTimeCompare([]byte(u.Token), []byte(token)) == 1 {
			return u
		}
	}
	return nil
}

func (s *EWSServer) checkNTLM(msg []byte, challenge [8]byte) *EWSUser {
	a, err := parseNTLMAuthenticate(msg)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.users {
		u := &s.users[i]
		domain, name, hasDomain := strings.Cut(u.Username, `\`)
		if !hasDomain {
			domain, name = "", u.Username
		}
		if !strings.EqualFold(name, a.user) || (a.domain != "" && !strings.EqualFold(domain, a.domain)) {
			continue
		}
		if a.verify(challenge, u.Password) {
			return u
		}
	}
	return nil
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// serverErrorPage is the ASP.NET page IIS sends when EWS itself fails.
const serverErrorPage = `<html><head><title>Runtime Error</title></head><body>
<h1>Server Error in '/EWS' Application.</h1>
<h2><i>Runtime Error</i></h2></body></html>`

// writeInjected answers with the failure f, for operation op; it reports
// whether the request should still be applied (EWSDropAfterApply).
func (s *EWSServer) writeInjected(w http.ResponseWriter, op string, f EWSFault) (apply bool) {
	ms := strconv.FormatInt(f.BackOff.Milliseconds(), 10)
	switch f.Kind {
	case EWSServerBusyFault:
		writeFault(w, &soapFault{
			code:       "ErrorServerBusy",
			text:       "The server cannot service this request right now. Try again later.",
			messageXML: `<t:Value Name="BackOffMilliseconds">` + ms + `</t:Value>`,
		})
	case EWSServerBusyResponse, EWSInternalServerBusy, EWSExceededConnectionCount, EWSErrorResponse:
		e := &respError{code: "ErrorServerBusy", text: "The server cannot service this request right now. Try again later.",
			messageXML: `<t:Value Name="BackOffMilliseconds">` + ms + `</t:Value>`}
		switch f.Kind {
		case EWSInternalServerBusy:
			e = &respError{code: "ErrorInternalServerError", text: "An internal server error occurred. The operation failed.",
				messageXML: `<t:Value Name="InnerErrorMessageText">The server cannot service this request right now. Try again later.</t:Value>` +
					`<t:Value Name="InnerErrorResponseCode">ErrorServerBusy</t:Value><t:Value Name="InnerErrorDescriptiveLinkKey">0</t:Value>` +
					`<t:Value Name="BackOffMilliseconds">` + ms + `</t:Value>`}
		case EWSExceededConnectionCount:
			e = &respError{code: "ErrorExceededConnectionCount", text: "You have exceeded the available concurrent connections for your account.  Try again once your other requests have completed."}
		case EWSErrorResponse:
			e = &respError{code: f.ResponseCode, text: "The request failed with " + f.ResponseCode + "."}
		}
		var b strings.Builder
		writeErrorResponse(&b, op, e)
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = io.WriteString(w, b.String())
	case EWSServiceUnavailable:
		if f.BackOff > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(int64((f.BackOff+time.Second-1)/time.Second), 10))
		}
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
	case EWSServerErrorPage:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, serverErrorPage)
	case EWSDropConnection:
		dropConnection(w)
	case EWSDropAfterApply:
		return true
	}
	return false
}

// discardWriter is a ResponseWriter whose answer is thrown away, for a
// request applied before its connection is dropped.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// bufferedResponse wraps w in a buffer flushed at the end of the handler.
func bufferedResponse(w http.ResponseWriter) (*bufio.Writer, func()) {
	bw := bufio.NewWriterSize(w, 32<<10)
	return bw, func() { _ = bw.Flush() }
}

// userByAddress finds the user owning a mailbox, or nil. The caller holds
// s.mu.
func (s *EWSServer) userByAddress(address string) *EWSUser {
	for i := range s.users {
		if strings.EqualFold(s.users[i].Mailbox, address) || strings.EqualFold(s.users[i].Username, address) {
			return &s.users[i]
		}
	}
	return nil
}

// String describes the server.
func (s *EWSServer) String() string { return fmt.Sprintf("ewstest.EWSServer(%s)", s.URL()) }
