package ewstest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"
)

// Plumbing shared by the EWS and Graph fakes: where they listen, the
// failures queued for them, and the requests they counted.

// listening is where a fake serves: an httptest.Server started for a
// test, or an http.Server started by Start.
type listening struct {
	mu   sync.Mutex
	test *httptest.Server
	ln   net.Listener
	hs   *http.Server
}

// startTest serves h on a loopback port. connState, when not nil, is told
// of every connection's changes of state.
func (l *listening) startTest(h http.Handler, connState func(net.Conn, http.ConnState)) {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = connState
	srv.Start()
	l.mu.Lock()
	l.test = srv
	l.mu.Unlock()
}

// start listens on addr and serves h in the background.
func (l *listening) start(addr string, h http.Handler, connState func(net.Conn, http.ConnState)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: h, ConnState: connState, ReadHeaderTimeout: 30 * time.Second}
	l.mu.Lock()
	l.ln, l.hs = ln, hs
	l.mu.Unlock()
	go func() { _ = hs.Serve(ln) }()
	return nil
}

// root returns the server's root URL, such as "http://127.0.0.1:41234",
// or "" when it is not listening.
func (l *listening) root() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.test != nil:
		return l.test.URL
	case l.ln != nil:
		return "http://" + l.ln.Addr().String()
	}
	return ""
}

// close stops the server. Closing twice does nothing.
func (l *listening) close() {
	l.mu.Lock()
	srv, hs := l.test, l.hs
	l.test, l.hs, l.ln = nil, nil, nil
	l.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
	if hs != nil {
		_ = hs.Close()
	}
}

// closeClientConnections breaks the open client connections of a server
// started by startTest.
func (l *listening) closeClientConnections() {
	l.mu.Lock()
	srv := l.test
	l.mu.Unlock()
	if srv != nil {
		srv.CloseClientConnections()
	}
}

// faultQueue holds injected failures in the order they were queued, each
// for a number of requests.
type faultQueue[F any] struct {
	mu     sync.Mutex
	queued []queuedFault[F]
}

type queuedFault[F any] struct {
	match string // the operation or route it is for; "" matches every one
	left  int
	fault F
}

// push queues f for the next count requests that match; a count of zero
// or less means one.
func (q *faultQueue[F]) push(match string, count int, f F) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queued = append(q.queued, queuedFault[F]{match: match, left: max(count, 1), fault: f})
}

// take returns the first queued fault for key, and uses it once.
func (q *faultQueue[F]) take(key string) (F, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := range q.queued {
		qf := &q.queued[i]
		if qf.match == "" || qf.match == key {
			f := qf.fault
			qf.left--
			if qf.left == 0 {
				q.queued = slices.Delete(q.queued, i, i+1)
			}
			return f, true
		}
	}
	var zero F
	return zero, false
}

// requestCounts counts the requests a fake answered, by name.
type requestCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *requestCounts) add(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = make(map[string]int)
	}
	c.n[name]++
}

func (c *requestCounts) get(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[name]
}

// all returns a copy of the counts.
func (c *requestCounts) all() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}
