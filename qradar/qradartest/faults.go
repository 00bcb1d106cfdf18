package qradartest

import (
	"encoding/pem"
	"net/http"
	"slices"
	"strings"
)

// FaultKind is a way for a request to fail.
type FaultKind int

// Fault kinds.
const (
	// FaultStatus500 answers 500 with QRadar's internal error body (code 1020).
	FaultStatus500 FaultKind = iota + 1
	// FaultStatus503 answers 503: on Ariel routes QRadar's "Ariel server
	// unavailable" body (code 1010), elsewhere the web server's HTML page,
	// as a console restarting its application server does.
	FaultStatus503
	// FaultDropConnection closes the connection without an answer.
	FaultDropConnection
)

// Faults says which requests fail and how. Requests are picked at random
// with a generator seeded by Seed, so a run is repeatable.
type Faults struct {
	// Rate is the fraction of matching requests that fail, from 0 to 1.
	Rate float64
	// Routes limits faults to these routes, written as for
	// [Server.Requests] ("GET /api/siem/offenses") or as a path pattern
	// alone ("/api/siem/offenses/{offense_id}") for every method; empty
	// means every route.
	Routes []string
	// Kinds are picked from at random; empty means all kinds.
	Kinds []FaultKind
	// AfterApply is the fraction of failing requests that are carried out
	// before their answer is lost (an offense closed, a note stored); the
	// others fail before anything changes.
	AfterApply float64
	// Times caps the number of faults injected; zero means no cap.
	Times int
	// Seed seeds the random choices.
	Seed uint64
}

var allFaultKinds = []FaultKind{FaultStatus500, FaultStatus503, FaultDropConnection}

// pickFaultLocked decides whether the request to route ("METHOD pattern")
// fails.
func (s *Server) pickFaultLocked(route string) (kind FaultKind, afterApply bool) {
	f := s.faults
	if f.Rate <= 0 {
		return 0, false
	}
	if len(f.Routes) > 0 {
		_, pattern, _ := strings.Cut(route, " ")
		if !slices.Contains(f.Routes, route) && !slices.Contains(f.Routes, pattern) {
			return 0, false
		}
	}
	if f.Times > 0 && s.faulted >= f.Times {
		return 0, false
	}
	if f.Rate < 1 && s.rng.Float64() >= f.Rate {
		return 0, false
	}
	s.faulted++
	kinds := f.Kinds
	if len(kinds) == 0 {
		kinds = allFaultKinds
	}
	kind = kinds[s.rng.IntN(len(kinds))]
	afterApply = f.AfterApply > 0 && (f.AfterApply >= 1 || s.rng.Float64() < f.AfterApply)
	return kind, afterApply
}

const unavailablePage = `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>503 Service Unavailable</title>
</head><body>
<h1>Service Unavailable</h1>
<p>The server is temporarily unable to service your
request due to maintenance downtime or capacity
problems. Please try again later.</p>
</body></html>
`

func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, kind FaultKind, pattern string) {
	switch kind {
	case FaultStatus503:
		if strings.HasPrefix(pattern, "/api/ariel/") {
			writeError(w, apiError{status: 503, code: 1010,
				description: "The Ariel server might be temporarily unavailable or offline. Please try again later.",
				message:     "The Ariel server might be temporarily unavailable or offline. Please try again later."})
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(unavailablePage))
	case FaultDropConnection:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler)
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		_ = conn.Close()
	default:
		writeError(w, errInternal("An error occurred while the request was being processed.", "Unexpected error while processing "+r.Method+" "+r.URL.Path))
	}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
