package thehivetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Well-known credentials and names seeded in every new Server.
const (
	// Organisation is the default organisation of the seeded users, where
	// cases and alerts live.
	Organisation = "main-org"
	// AdminOrganisation is TheHive's platform administration organisation,
	// where custom fields, observable types, profiles and organisations are
	// managed.
	AdminOrganisation = "admin"
	// AdminLogin is the platform administrator (profile "admin" in
	// AdminOrganisation) and org-admin of Organisation.
	AdminLogin = "admin@thehive.local"
	// AdminPassword is the password of AdminLogin, and of every user added
	// with an empty Password.
	AdminPassword = "secret"
	// APIKey is the Bearer key of AdminLogin.
	APIKey = "thehivetest-admin-key"
	// SystemLogin is the creator of built-in objects, as in TheHive.
	SystemLogin = "system@thehive.local"
)

// Server is a fake TheHive 5 holding everything in memory. It serves the v1
// REST API, the query API, the Cortex connector routes and the test-control
// routes under /_thehivetest/. All its methods are safe for concurrent use.
type Server struct {
	cfg         config
	router      router
	kinds       map[string]*kind
	seedProblem error

	mu sync.RWMutex // guards st
	st *store

	latency atomic.Int64 // time.Duration
	faults  faultState
	counts  counters
	hook    *webhookQueue

	closing   chan struct{}
	closeOnce sync.Once

	lmu  sync.Mutex // guards http, hts, url
	http *http.Server
	hts  *httptest.Server
	url  string
}

// New returns a Server that is not listening: mount Handler in your own
// server, or call Start.
func New(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{cfg: cfg, closing: make(chan struct{})}
	s.latency.Store(int64(cfg.latency))
	s.faults.set(cfg.faults)
	s.hook = newWebhookQueue(cfg.webhookURL, cfg.webhookAuth, cfg.webhookClient)
	s.registerRoutes()
	s.st = s.seed()
	return s
}

// NewServer starts a Server on a loopback port and closes it when tb's test
// ends. Options that are invalid (a user with an unknown profile, say) fail
// the test.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := New(opts...)
	if err := s.seedErr(); err != nil {
		tb.Fatalf("thehivetest: %v", err)
	}
	s.hts = httptest.NewServer(s)
	s.url = s.hts.URL
	tb.Cleanup(s.Close)
	return s
}

// Handler returns the HTTP handler of the fake, for mounting in another
// server.
func (s *Server) Handler() http.Handler { return s }

// Start listens on addr (for example "127.0.0.1:0") and serves in the
// background until Close.
func (s *Server) Start(addr string) error {
	if err := s.seedErr(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("thehivetest: listen: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.lmu.Lock()
	s.http = srv
	s.url = "http://" + ln.Addr().String()
	s.lmu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// URL is the base URL of a started server, "http://127.0.0.1:port" without
// a trailing slash; it is empty before NewServer or Start.
func (s *Server) URL() string {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	return s.url
}

// Close stops the server: stalled requests (injected timeouts and slow
// bodies) are released, pending webhooks are dropped and the listener is
// closed. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.hook.close()
		s.lmu.Lock()
		hts, srv := s.hts, s.http
		s.lmu.Unlock()
		if hts != nil {
			hts.CloseClientConnections()
			hts.Close()
		}
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				_ = srv.Close()
			}
		}
	})
}

// Routes lists every route of the TheHive API the fake serves, as
// "METHOD /path/{param}"; these are the keys of Requests and RequestCounts.
func (s *Server) Routes() []string {
	var out []string
	for _, p := range s.router.patterns() {
		if !strings.Contains(p, controlPrefix) {
			out = append(out, p)
		}
	}
	return out
}

// SetLatency makes every later API request wait d before it is handled. The
// wait does not hold any lock, so concurrent requests wait in parallel.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(max(d, 0))) }

// SetFaults replaces the fault injection settings; the zero Faults turns
// injection off.
func (s *Server) SetFaults(f Faults) { s.faults.set(f) }

// Requests returns how many requests the route received, route being
// "METHOD /path/pattern" as listed by Routes, e.g. "POST /api/v1/case" or
// "GET /api/v1/case/{id}". Requests that matched no route are counted under
// their method and literal path.
func (s *Server) Requests(route string) int { return s.counts.get(route) }

// RequestCounts returns a copy of all request counters.
func (s *Server) RequestCounts() map[string]int { return s.counts.snapshot() }

// reply is what a handler answers: a status and a JSON body, or a raw body
// written by write.
type reply struct {
	status int
	body   any
	header http.Header
	write  func(w http.ResponseWriter)
}

func ok(body any) reply      { return reply{status: http.StatusOK, body: body} }
func created(body any) reply { return reply{status: http.StatusCreated, body: body} }
func noContent() reply       { return reply{status: http.StatusNoContent} }

// call is one API request being handled.
type call struct {
	s      *Server
	r      *http.Request
	route  *route
	params map[string]string
	reqID  string
	now    int64

	// The authenticated caller, copied out of the store so that handlers can
	// use it without the lock.
	login   string
	orgName string
	orgID   string
	perms   map[string]bool

	audited bool // an audit event was recorded: later ones are not the mainAction
}

func (c *call) param(name string) string { return pathValue(c.params[name]) }

func (c *call) body() ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, c.r.Body, maxJSONBody))
	if err != nil {
		return nil, errBadRequest("cannot read the request body: %v", err)
	}
	return b, nil
}

// fields reads the JSON body of the request.
func (c *call) fields() (fields, error) {
	b, err := c.body()
	if err != nil {
		return fields{}, err
	}
	return parseFields(b)
}

// write runs fn under the store's write lock.
func (c *call) write(fn func(st *store) (reply, error)) (reply, error) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return fn(c.s.st)
}

// targets returns the ids of the entities an update acts on: the path's
// {id} or, for a bulk update, the body's required "ids".
func (c *call) targets(f fields, bulk bool) []string {
	if bulk {
		return f.reqStrs("ids")
	}
	return []string{c.param("id")}
}

// applyAll runs fn, under the write lock, on each entity of ids, found with
// find. Every id is looked up first, so that an unknown one fails the call
// before anything changes. It answers 204 No Content.
func applyAll[T any](c *call, ids []string, find func(*store, string) (T, error), fn func(*store, T) error) (reply, error) {
	return c.write(func(st *store) (reply, error) {
		list := make([]T, 0, len(ids))
		for _, id := range ids {
			x, err := find(st, id)
			if err != nil {
				return reply{}, err
			}
			list = append(list, x)
		}
		for _, x := range list {
			if err := fn(st, x); err != nil {
				return reply{}, err
			}
		}
		return noContent(), nil
	})
}

// read runs fn under the store's read lock.
func (c *call) read(fn func(st *store) (reply, error)) (reply, error) {
	c.s.mu.RLock()
	defer c.s.mu.RUnlock()
	return fn(c.s.st)
}

const (
	maxJSONBody   = 32 << 20
	controlPrefix = "/_thehivetest/"
)

// ServeHTTP serves the fake TheHive API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := requestPath(r)
	rt, params := s.router.match(r.Method, path)
	if rt != nil && rt.control {
		s.dispatch(w, r, rt, params)
		return
	}
	if rt != nil {
		s.counts.add(rt.counted)
	} else {
		s.counts.add(r.Method + " " + r.URL.Path)
	}
	if d := time.Duration(s.latency.Load()); d > 0 && !s.wait(r.Context(), d) {
		panic(http.ErrAbortHandler) // the client left or the server is closing
	}
	if rt == nil {
		writeError(w, &apiError{status: http.StatusNotFound, typ: "NotFoundError", message: r.URL.Path})
		return
	}
	fault, after, faulty := s.faults.pick(rt.counted)
	if faulty && !after {
		s.inject(w, r, fault, nil)
		return
	}
	if faulty {
		rec := newBuffer()
		s.dispatch(rec, r, rt, params)
		s.inject(w, r, fault, rec)
		return
	}
	s.dispatch(w, r, rt, params)
}

// dispatch authenticates the caller, checks the route's permission, runs
// the handler and writes its answer.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, rt *route, params map[string]string) {
	c := &call{s: s, r: r, route: rt, params: params, reqID: newRequestID(), now: s.now()}
	if !rt.public {
		if err := s.authenticate(c); err != nil {
			writeError(w, err)
			return
		}
		if rt.perm != "" && !c.perms[rt.perm] {
			writeError(w, errPermission(rt.name, rt.perm))
			return
		}
	}
	rep, err := rt.handle(c)
	if err != nil {
		writeError(w, err)
		return
	}
	writeReply(w, rep)
}

func writeReply(w http.ResponseWriter, rep reply) {
	for k, vs := range rep.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if rep.write != nil {
		rep.write(w)
		return
	}
	if rep.body == nil {
		w.WriteHeader(rep.status)
		return
	}
	b, err := json.Marshal(rep.body)
	if err != nil {
		writeError(w, errInternal("cannot render the answer: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = errInternal("%v", err)
	}
	b, _ := json.Marshal(ae.body())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ae.status)
	_, _ = w.Write(b)
}

// wait sleeps d unless the request is cancelled or the server closes; it
// reports whether the full delay elapsed.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

func (s *Server) now() int64 { return s.cfg.clock().UnixMilli() }

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:4]) + ":" + hex.EncodeToString(b[4:])
}

// counters counts requests per route.
type counters struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counters) add(k string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]int)
	}
	c.m[k]++
	c.mu.Unlock()
}

func (c *counters) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

func (c *counters) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

func (c *counters) reset() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}
