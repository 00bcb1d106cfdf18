package thehivetest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind is a kind of failure the server can inject.
type FaultKind int

// The faults a Server can inject.
const (
	// FaultStatus500 answers 500 with TheHive's InternalError body.
	FaultStatus500 FaultKind = iota + 1
	// FaultStatus502 answers 502 as a reverse proxy does, in plain text.
	FaultStatus502
	// FaultStatus503 answers 503 in plain text, with Retry-After when
	// Faults.RetryAfter is set.
	FaultStatus503
	// FaultTooManyRequests answers 429 with a Retry-After header.
	FaultTooManyRequests
	// FaultDropConnection closes the connection without answering.
	FaultDropConnection
	// FaultSlowBody sends the status and headers, part of the body, then
	// stalls until the client gives up or the server closes.
	FaultSlowBody
	// FaultTimeout holds the request without answering until the client
	// gives up or the server closes.
	FaultTimeout
)

var faultNames = map[FaultKind]string{
	FaultStatus500: "500", FaultStatus502: "502", FaultStatus503: "503", FaultTooManyRequests: "429",
	FaultDropConnection: "drop", FaultSlowBody: "slow-body", FaultTimeout: "timeout",
}

// String returns the name of k as MarshalText writes it.
func (k FaultKind) String() string {
	if n, ok := faultNames[k]; ok {
		return n
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText writes k as "500", "502", "503", "429", "drop", "slow-body" or
// "timeout".
func (k FaultKind) MarshalText() ([]byte, error) {
	if n, ok := faultNames[k]; ok {
		return []byte(n), nil
	}
	return nil, fmt.Errorf("thehivetest: unknown fault kind %d", int(k))
}

// UnmarshalText reads a name written by MarshalText.
func (k *FaultKind) UnmarshalText(b []byte) error {
	for kind, n := range faultNames {
		if n == string(b) {
			*k = kind
			return nil
		}
	}
	return fmt.Errorf("thehivetest: unknown fault kind %q", b)
}

// Faults configures fault injection. Each API request matching Routes is
// faulty with probability Rate, at most Times times in all (0: no limit);
// its fault is drawn from Kinds (all of them when empty). A fault happens
// before the request is applied (nothing is stored) or, with probability
// AfterApply, after it (the change is stored but the answer is lost): a
// client must survive both. Seed makes the draws reproducible.
type Faults struct {
	// Rate is the probability, from 0 to 1, that a matching request fails.
	Rate float64 `json:"rate"`
	// Routes limits faults to these routes, written as Requests keys
	// ("POST /api/v1/case") or as a pattern alone ("/api/v1/case/{id}") for
	// every method; empty means every API route.
	Routes []string `json:"routes,omitempty"`
	// Kinds lists the faults to draw from; empty means all kinds.
	Kinds []FaultKind `json:"kinds,omitempty"`
	// RetryAfter is sent in 429 (at least 1 s) and 503 answers.
	RetryAfter time.Duration `json:"-"`
	// AfterApply is the probability that a fault happens after the request
	// was applied.
	AfterApply float64 `json:"afterApply,omitempty"`
	// Times bounds how many faults are injected; 0 means no bound.
	Times int `json:"times,omitempty"`
	// Seed seeds the random draws; 0 picks a fixed default seed.
	Seed uint64 `json:"seed,omitempty"`
}

// MarshalJSON writes RetryAfter as "retryAfter" in seconds.
func (f Faults) MarshalJSON() ([]byte, error) {
	type plain Faults
	return json.Marshal(struct {
		plain
		RetryAfter float64 `json:"retryAfter,omitempty"`
	}{plain(f), f.RetryAfter.Seconds()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (f *Faults) UnmarshalJSON(b []byte) error {
	type plain Faults
	var v struct {
		plain
		RetryAfter float64 `json:"retryAfter"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Faults(v.plain)
	f.RetryAfter = time.Duration(v.RetryAfter * float64(time.Second))
	return nil
}

// faultState is the current fault injection setting and its random source.
type faultState struct {
	mu       sync.Mutex
	f        Faults
	rng      *rand.Rand
	injected int
}

func (fs *faultState) set(f Faults) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f.Rate = math.Min(math.Max(f.Rate, 0), 1)
	f.AfterApply = math.Min(math.Max(f.AfterApply, 0), 1)
	seed := f.Seed
	if seed == 0 {
		seed = 0x7468656869766521
	}
	fs.f = f
	fs.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	fs.injected = 0
}

func (fs *faultState) count() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.injected
}

// pick decides whether a request to route fails, how, and whether after
// being applied.
func (fs *faultState) pick(route string) (kind FaultKind, after, faulty bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := fs.f
	if f.Rate <= 0 || (f.Times > 0 && fs.injected >= f.Times) || !routeMatches(f.Routes, route) {
		return 0, false, false
	}
	if fs.rng.Float64() >= f.Rate {
		return 0, false, false
	}
	kinds := f.Kinds
	if len(kinds) == 0 {
		kinds = []FaultKind{FaultStatus500, FaultStatus502, FaultStatus503, FaultTooManyRequests, FaultDropConnection, FaultSlowBody, FaultTimeout}
	}
	kind = kinds[fs.rng.IntN(len(kinds))]
	after = f.AfterApply > 0 && fs.rng.Float64() < f.AfterApply
	fs.injected++
	return kind, after, true
}

func routeMatches(routes []string, route string) bool {
	if len(routes) == 0 {
		return true
	}
	_, pattern, _ := strings.Cut(route, " ")
	for _, r := range routes {
		if r == route || r == pattern {
			return true
		}
	}
	return false
}

// InjectedFaults returns how many faults were injected since the last
// SetFaults (or WithFaults).
func (s *Server) InjectedFaults() int { return s.faults.count() }

func newBuffer() *httptest.ResponseRecorder { return httptest.NewRecorder() }

// inject answers with a fault. rec holds the real answer when the request
// was applied first.
func (s *Server) inject(w http.ResponseWriter, r *http.Request, kind FaultKind, rec *httptest.ResponseRecorder) {
	s.faults.mu.Lock()
	retryAfter := s.faults.f.RetryAfter
	s.faults.mu.Unlock()
	switch kind {
	case FaultStatus500:
		writeError(w, errInternal("injected fault"))
	case FaultStatus502, FaultStatus503:
		status := http.StatusBadGateway
		if kind == FaultStatus503 {
			status = http.StatusServiceUnavailable
			if retryAfter > 0 {
				w.Header().Set("Retry-After", retrySeconds(retryAfter))
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(http.StatusText(status)))
	case FaultTooManyRequests:
		w.Header().Set("Retry-After", retrySeconds(max(retryAfter, time.Second)))
		writeError(w, &apiError{status: http.StatusTooManyRequests, typ: "RateLimitExceeded", message: "Too many requests"})
	case FaultDropConnection:
		dropConnection(w)
	case FaultSlowBody:
		status, body, header := http.StatusOK, []byte(`{"_id":"~`), http.Header{"Content-Type": {"application/json"}}
		if rec != nil {
			status, body, header = rec.Code, rec.Body.Bytes(), rec.Header()
		}
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(status)
		_, _ = w.Write(body[:len(body)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		s.stall(r)
	case FaultTimeout:
		s.stall(r)
	}
}

// stall blocks until the client gives up or the server closes, then
// aborts the answer so that the client never mistakes a truncated body for
// a whole one.
func (s *Server) stall(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.closing:
	}
	panic(http.ErrAbortHandler)
}

func retrySeconds(d time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
