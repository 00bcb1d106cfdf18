package qradartest

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Well-known credentials accepted by every new Server.
const (
	// Token is an authorized-service token, sent as "SEC: <Token>".
	Token = "qradartest-0b7c5e52-6a4f-4d3e-9a57-0c2f3b8d1e64"
	// TokenLabel is the authorized service's name: notes added with Token
	// are signed "API_user: qradartest".
	TokenLabel = "qradartest"
	// Username and Password are a QRadar user for basic authentication; it
	// is also the one user offenses can be assigned to unless more are
	// added with [WithUser].
	Username = "admin"
	Password = "qradartest-password"
)

// DefaultVersions returns the API versions a new Server accepts in the
// Version header: those of QRadar 7.4.0 to 7.5.0 Update Package 13.
func DefaultVersions() []string {
	return []string{"12.0", "12.1", "13.0", "13.1", "14.0", "15.0", "16.0", "17.0",
		"18.0", "19.0", "20.0", "21.0", "22.0", "23.0", "24.0", "25.0", "26.0"}
}

// APIToken is an extra authorized-service token.
type APIToken struct {
	// Value is what the client sends in the SEC header.
	Value string
	// Label is the authorized service's name.
	Label string
	// ReadOnly tokens are refused (403) on every POST and DELETE.
	ReadOnly bool
}

// Option configures a Server.
type Option func(*Server)

// WithToken accepts one more authorized-service token.
func WithToken(t APIToken) Option {
	return func(s *Server) { s.tokens[t.Value] = t }
}

// WithUser adds a QRadar user: it can log in with basic authentication and
// offenses can be assigned to it.
func WithUser(name, password string) Option {
	return func(s *Server) { s.users[name] = password }
}

// WithLatency delays every answer by d.
func WithLatency(d time.Duration) Option {
	return func(s *Server) { s.latency = d }
}

// WithFaults injects faults; see [Faults].
func WithFaults(f Faults) Option {
	return func(s *Server) { s.setFaultsLocked(f) }
}

// WithVersions sets the API versions the Version header may name. An older
// version is answered as removed, any other as not valid (422).
func WithVersions(versions ...string) Option {
	return func(s *Server) { s.versions = slices.Clone(versions) }
}

// WithClock replaces the server's clock (close and note times).
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// WithRecloseAllowed makes closing an offense that is already CLOSED a
// no-op answered 200, instead of the default 409 (code 1008).
func WithRecloseAllowed() Option {
	return func(s *Server) { s.recloseOK = true }
}

// WithUnlistedOffenseTypes makes the offense type list leave out the given
// types, as QRadar Community Edition does for some stock types
// (filter=id=3 answers []); GET /siem/offense_types/{id} still finds them.
func WithUnlistedOffenseTypes(ids ...int64) Option {
	return func(s *Server) {
		for _, id := range ids {
			s.unlistedTypes[id] = true
		}
	}
}

// WithSearchPolls sets how many status reads a search that matches no
// canned search needs before it completes (default 1).
func WithSearchPolls(n int) Option {
	return func(s *Server) { s.defaultPolls = n }
}

// Server is an in-process fake QRadar console. It is safe for concurrent
// use; every method may be called while it serves requests.
type Server struct {
	mu sync.Mutex

	tokens        map[string]APIToken
	users         map[string]string // name -> password
	versions      []string
	now           func() time.Time
	recloseOK     bool
	unlistedTypes map[int64]bool
	defaultPolls  int

	offenses  map[int64]*Offense
	notes     map[int64][]*Note // by offense
	nextNote  int64
	reasons   map[int64]*ClosingReason
	types     map[int64]*OffenseType
	sources   map[int64]*SourceAddress
	locals    map[int64]*LocalDestinationAddress
	rules     map[int64]*Rule
	domains   map[int64]*Domain
	canned    map[string]Search
	events    map[int64][]map[string]any // canned events by offense
	searches  map[string]*search
	searchSeq []string // search ids in creation order

	lastOffense, lastSource, lastLocal, lastRule, lastReason int64

	// reverse index: address id -> offenses naming it
	srcOffenses, dstOffenses map[int64][]int64
	indexDirty               bool

	latency time.Duration
	faults  Faults
	rng     *rand.Rand
	faulted int

	counts map[string]int

	httpSrv  *httptest.Server
	listener *http.Server
	url      string
	routes   []route
}

// New returns a Server that is not listening: serve its Handler, or call
// Start.
func New(opts ...Option) *Server {
	s := &Server{
		tokens:        map[string]APIToken{Token: {Value: Token, Label: TokenLabel}},
		users:         map[string]string{Username: Password},
		versions:      DefaultVersions(),
		now:           time.Now,
		unlistedTypes: map[int64]bool{},
		defaultPolls:  1,
		offenses:      map[int64]*Offense{},
		notes:         map[int64][]*Note{},
		reasons:       map[int64]*ClosingReason{},
		types:         map[int64]*OffenseType{},
		sources:       map[int64]*SourceAddress{},
		locals:        map[int64]*LocalDestinationAddress{},
		rules:         map[int64]*Rule{},
		domains:       map[int64]*Domain{0: {ID: 0, Name: "Default Domain"}},
		canned:        map[string]Search{},
		events:        map[int64][]map[string]any{},
		searches:      map[string]*search{},
		counts:        map[string]int{},
		rng:           rand.New(rand.NewPCG(1, 2)),
	}
	for _, t := range stockOffenseTypes {
		s.types[t.ID] = &t
	}
	for _, c := range stockClosingReasons {
		s.reasons[c.ID] = &c
		s.lastReason = max(s.lastReason, c.ID)
	}
	for _, o := range opts {
		o(s)
	}
	s.routes = s.buildRoutes()
	return s
}

// NewServer returns a Server listening on a loopback port, closed when the
// test ends.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := New(opts...)
	s.httpSrv = httptest.NewServer(s.Handler())
	s.url = s.httpSrv.URL
	tb.Cleanup(s.Close)
	return s
}

// NewTLSServer is like NewServer but serves HTTPS with a self-signed
// certificate; Certificate returns it, to be trusted by the client.
func NewTLSServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := New(opts...)
	s.httpSrv = httptest.NewTLSServer(s.Handler())
	s.url = s.httpSrv.URL
	tb.Cleanup(s.Close)
	return s
}

// CertificatePEM returns the PEM-encoded certificate of a server started by
// NewTLSServer, or nil.
func (s *Server) CertificatePEM() []byte {
	if s.httpSrv == nil || s.httpSrv.TLS == nil {
		return nil
	}
	return pemCert(s.httpSrv.Certificate().Raw)
}

// Start listens on addr ("127.0.0.1:0" picks a port) and serves in the
// background until Close.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("qradartest: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.listener = srv
	s.url = "http://" + ln.Addr().String()
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// URL returns the server's root URL ("http://127.0.0.1:port", no trailing
// slash); the API is under URL()+"/api". It is "" until the server listens.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops the server. It is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	h, l := s.httpSrv, s.listener
	s.httpSrv, s.listener = nil, nil
	s.mu.Unlock()
	if h != nil {
		h.CloseClientConnections()
		h.Close()
	}
	if l != nil {
		_ = l.Close()
	}
}

// SetLatency delays every later answer by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetFaults replaces the fault injection settings; the zero Faults turns
// injection off.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setFaultsLocked(f)
}

func (s *Server) setFaultsLocked(f Faults) {
	f.Routes = slices.Clone(f.Routes)
	f.Kinds = slices.Clone(f.Kinds)
	s.faults = f
	s.faulted = 0
	s.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
}

// Requests returns how many requests reached route, written "METHOD
// /api/path/{param}" as in IBM's reference, for example "GET
// /api/siem/source_addresses" or "POST /api/siem/offenses/{offense_id}".
// Every request that matched the route counts, refused ones included.
func (s *Server) Requests(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[route]
}

// RequestCounts returns a copy of the request counts of every route that
// was called.
func (s *Server) RequestCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.counts)
}

// ResetRequestCounts sets every request count back to zero.
func (s *Server) ResetRequestCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
}

// identity is who sent a request.
type identity struct {
	name     string // token label or user name
	apiUser  bool   // authorized-service token
	readOnly bool
}

func (id identity) noteUsername() string {
	if id.apiUser {
		return "API_user: " + id.name
	}
	return id.name
}

// call is one request being served.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	params map[string]string
	who    identity
}

type route struct {
	method  string
	pattern string
	segs    []string
	handle  func(*call)
}

// Handler returns the server's HTTP handler: the QRadar API under /api/.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) match(method, p string) (*route, map[string]string, bool) {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	pathFound := false
	for i := range s.routes {
		rt := &s.routes[i]
		if len(rt.segs) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for j, seg := range rt.segs {
			if strings.HasPrefix(seg, "{") {
				params[seg[1:len(seg)-1]] = segs[j]
			} else if seg != segs[j] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		pathFound = true
		if rt.method == method {
			return rt, params, true
		}
	}
	return nil, nil, pathFound
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rt, params, pathFound := s.match(r.Method, r.URL.Path)
	if rt == nil {
		if pathFound {
			writeError(w, apiError{status: 405, code: 0, message: "Method " + r.Method + " is not supported by this endpoint"})
			return
		}
		writeError(w, apiError{status: 404, code: 0, message: "No endpoint matches " + r.URL.Path})
		return
	}
	key := rt.method + " " + rt.pattern

	s.mu.Lock()
	s.counts[key]++
	latency := s.latency
	fault, afterApply := s.pickFaultLocked(key)
	s.mu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if fault != 0 && !afterApply {
		s.writeFault(w, r, fault, rt.pattern)
		return
	}
	c := &call{w: w, r: r, params: params}
	if fault != 0 {
		// The request is applied, then its answer is lost.
		c.w = httptest.NewRecorder()
		s.serve(c, rt)
		s.writeFault(w, r, fault, rt.pattern)
		return
	}
	s.serve(c, rt)
}

func (s *Server) serve(c *call, rt *route) {
	who, ok := s.authenticate(c.r)
	if !ok {
		writeError(c.w, errUnauthorized())
		return
	}
	if who.readOnly && rt.method != http.MethodGet {
		writeError(c.w, errForbidden())
		return
	}
	if e, bad := s.checkVersion(c.r.Header.Get("Version")); bad {
		writeError(c.w, e)
		return
	}
	c.who = who
	rt.handle(c)
}

func (s *Server) authenticate(r *http.Request) (identity, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := r.Header.Get("SEC"); sec != "" {
		for v, t := range s.tokens {
			if subtle.ConstantTimeCompare([]byte(v), []byte(sec)) == 1 {
				return identity{name: t.Label, apiUser: true, readOnly: t.ReadOnly}, true
			}
		}
		return identity{}, false
	}
	auth := r.Header.Get("Authorization")
	if len(auth) > 6 && strings.EqualFold(auth[:6], "basic ") {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(auth[6:]))
		if err != nil {
			return identity{}, false
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return identity{}, false
		}
		want, known := s.users[user]
		if !known || subtle.ConstantTimeCompare([]byte(want), []byte(pass)) != 1 {
			return identity{}, false
		}
		return identity{name: user}, true
	}
	return identity{}, false
}

var versionRE = regexp.MustCompile(`^\s*(\d+)(?:\.(\d+))?\s*$`)

// checkVersion validates a Version header: absent means the latest version,
// a major alone means its latest minor.
func (s *Server) checkVersion(v string) (apiError, bool) {
	if v == "" {
		return apiError{}, false
	}
	s.mu.Lock()
	versions := s.versions
	s.mu.Unlock()
	m := versionRE.FindStringSubmatch(v)
	invalid := apiError{status: 422, code: 1005,
		message: fmt.Sprintf("Version (%s) from header parameter (Version) is not a valid version. Please refer to documentation for list of valid versions.", v)}
	if m == nil {
		return invalid, true
	}
	major, _ := strconv.Atoi(m[1])
	oldest := -1.0
	for _, sv := range versions {
		sm := versionRE.FindStringSubmatch(sv)
		if sm == nil {
			continue
		}
		smaj, _ := strconv.Atoi(sm[1])
		if f, err := strconv.ParseFloat(sv, 64); err == nil && (oldest < 0 || f < oldest) {
			oldest = f
		}
		if smaj != major {
			continue
		}
		if m[2] == "" {
			return apiError{}, false
		}
		want, _ := strconv.Atoi(m[2])
		have, _ := strconv.Atoi(sm[2])
		if want == have {
			return apiError{}, false
		}
	}
	if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && oldest >= 0 && f < oldest {
		return apiError{status: 422, code: 1005,
			message: fmt.Sprintf("Version (%s) from header parameter (Version) has been removed and is no longer valid. Please refer to documentation for list of valid versions.", strings.TrimSpace(v))}, true
	}
	return invalid, true
}

// sortedKeys returns the keys of m in ascending order.
func sortedKeys[V any](m map[int64]V) []int64 {
	return slices.Sorted(maps.Keys(m))
}

// errDuplicate is returned by the Add methods for an id already in use.
var errDuplicate = errors.New("id already in use")
