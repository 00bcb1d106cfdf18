package qradar_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/qradar/qradartest"
)

// sent is what a test pins of a request.
type sent struct {
	Method string
	Path   string
	Query  url.Values
	Header map[string]string // the pinned headers that were present
}

// pinnedHeaders are compared by the tests; Authorization is masked.
var pinnedHeaders = []string{"SEC", "Authorization", "Version", "Accept", "Range", "Content-Type", "Prefer"}

// recorder records every request before the fake answers it.
type recorder struct {
	mu   sync.Mutex
	reqs []sent
	next http.Handler
	// onRequest, when set, is called with each request before it is served.
	onRequest func(*http.Request)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := sent{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: map[string]string{}}
	if len(s.Query) == 0 {
		s.Query = nil
	}
	for _, h := range pinnedHeaders {
		if v := r.Header.Get(h); v != "" {
			s.Header[h] = v
		}
	}
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, s)
	hook := rec.onRequest
	rec.mu.Unlock()
	if hook != nil {
		hook(r)
	}
	rec.next.ServeHTTP(w, r)
}

// take returns the requests recorded so far and forgets them.
func (rec *recorder) take() []sent {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := rec.reqs
	rec.reqs = nil
	return out
}

// env is a fake console, a recorder in front of it and a client.
type env struct {
	srv *qradartest.Server
	rec *recorder
	ts  *httptest.Server
	c   *qradar.Client
}

// fastRetry keeps retry waits in the millisecond range.
var fastRetry = qradar.RetryPolicy{MaxRetries: 3, MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond}

// fastWait keeps Ariel polling in the millisecond range.
var fastWait = qradar.WaitOptions{MinInterval: time.Millisecond, MaxInterval: 2 * time.Millisecond, Timeout: time.Minute}

// t0 is the start of the seeded offenses.
var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, srvOpts []qradartest.Option, opts ...qradar.Option) *env {
	t.Helper()
	srvOpts = append([]qradartest.Option{qradartest.WithClock(func() time.Time { return t0.Add(time.Hour) })}, srvOpts...)
	srv := qradartest.New(srvOpts...)
	rec := &recorder{next: srv.Handler()}
	ts := httptest.NewServer(rec)
	t.Cleanup(ts.Close)
	opts = append([]qradar.Option{qradar.WithToken(qradartest.Token), qradar.WithRetry(fastRetry)}, opts...)
	c, err := qradar.NewClient(ts.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return &env{srv: srv, rec: rec, ts: ts, c: c}
}

// must fails the test on a seeding error and returns the id.
func must(tb testing.TB) func(int64, error) int64 {
	return func(id int64, err error) int64 {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return id
	}
}

// hdr is the headers every request of the default client carries, plus
// extra ones.
func hdr(extra ...string) map[string]string {
	h := map[string]string{"SEC": qradartest.Token, "Version": qradar.DefaultVersion, "Accept": "application/json"}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

// seedOffenses adds n open offenses (ids 1..n) updated t0 + id minutes.
func seedOffenses(t *testing.T, srv *qradartest.Server, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		must(t)(srv.AddOffense(qradartest.Offense{
			Description:     "Offense\n",
			StartTime:       t0,
			LastUpdatedTime: t0.Add(time.Duration(i) * time.Minute),
			Magnitude:       i % 10,
		}))
	}
}

// newTestServer serves h on loopback for the test and returns its URL.
func newTestServer(tb testing.TB, h http.Handler) string {
	tb.Helper()
	ts := httptest.NewServer(h)
	tb.Cleanup(ts.Close)
	return ts.URL
}
