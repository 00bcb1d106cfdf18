package thehivetest

import (
	"encoding/json"
	"time"
)

// The test-control routes under /_thehivetest/ are not part of TheHive's
// API: they let a test drive a fake that runs in another process (the
// standalone command). They need no credentials and are never delayed,
// faulted or counted.
func (s *Server) controlRoutes() []*route {
	return []*route{
		{method: "GET", pattern: controlPrefix + "state", name: "state", public: true, control: true, handle: s.controlState},
		{method: "PUT", pattern: controlPrefix + "faults", name: "set faults", public: true, control: true, handle: s.controlFaults},
		{method: "PUT", pattern: controlPrefix + "latency", name: "set latency", public: true, control: true, handle: s.controlLatency},
		{method: "POST", pattern: controlPrefix + "reset", name: "reset", public: true, control: true, handle: s.controlReset},
		{method: "POST", pattern: controlPrefix + "webhooks/flush", name: "flush webhooks", public: true, control: true, handle: s.controlFlush},
	}
}

// State is what GET /_thehivetest/state answers: every stored object as
// the read-back methods return it, and the request counters.
type State struct {
	Cases       []map[string]any `json:"cases"`          // as Server.Cases
	Alerts      []map[string]any `json:"alerts"`         // as Server.Alerts
	Observables []map[string]any `json:"observables"`    // as Server.Observables
	Tasks       []map[string]any `json:"tasks"`          // as Server.Tasks
	Logs        []map[string]any `json:"logs"`           // as Server.Logs
	Comments    []map[string]any `json:"comments"`       // as Server.Comments
	Users       []map[string]any `json:"users"`          // as Server.Users
	Attachments []map[string]any `json:"attachments"`    // as Server.Attachments
	Jobs        []map[string]any `json:"jobs"`           // as Server.Jobs
	Events      []map[string]any `json:"events"`         // as Server.Events
	Requests    map[string]int   `json:"requests"`       // as Server.RequestCounts
	Faults      int              `json:"injectedFaults"` // as Server.InjectedFaults
}

// State returns a snapshot of everything the server holds.
func (s *Server) State() State {
	s.mu.RLock()
	st := s.st
	state := State{
		Cases:       readBack(st, st.cases.all()),
		Alerts:      readBack(st, st.alerts.all()),
		Observables: readBack(st, st.observables.all()),
		Tasks:       readBack(st, st.tasks.all()),
		Logs:        readBack(st, st.logs.all()),
		Comments:    readBack(st, st.comments.all()),
		Users:       readBack(st, st.users.all()),
		Attachments: readBack(st, st.attachments.all()),
		Jobs:        readBack(st, st.jobs.all()),
		Events:      jsonCopies(st.audit),
	}
	s.mu.RUnlock()
	state.Requests = s.RequestCounts()
	state.Faults = s.InjectedFaults()
	return state
}

func (s *Server) controlState(*call) (reply, error) { return ok(s.State()), nil }

func (s *Server) controlFaults(c *call) (reply, error) {
	b, err := c.body()
	if err != nil {
		return reply{}, err
	}
	var f Faults
	if len(b) > 0 {
		if err := json.Unmarshal(b, &f); err != nil {
			return reply{}, errBadRequest("invalid faults: %v", err)
		}
	}
	s.SetFaults(f)
	return noContent(), nil
}

// controlLatency reads {"latency": "20ms"} or {"ms": 20}.
func (s *Server) controlLatency(c *call) (reply, error) {
	b, err := c.body()
	if err != nil {
		return reply{}, err
	}
	var v struct {
		Latency string   `json:"latency"`
		MS      *float64 `json:"ms"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return reply{}, errBadRequest("invalid latency: %v", err)
	}
	var d time.Duration
	switch {
	case v.MS != nil:
		d = time.Duration(*v.MS * float64(time.Millisecond))
	case v.Latency != "":
		if d, err = time.ParseDuration(v.Latency); err != nil {
			return reply{}, errBadRequest("invalid latency: %v", err)
		}
	}
	s.SetLatency(d)
	return noContent(), nil
}

func (s *Server) controlReset(*call) (reply, error) {
	s.Reset()
	return noContent(), nil
}

func (s *Server) controlFlush(*call) (reply, error) {
	s.FlushWebhooks()
	return noContent(), nil
}

// Reset puts the server back in its initial state: the seeded objects and
// those the options add, no request counted, and the latency and faults the
// options set.
func (s *Server) Reset() {
	st, _ := newStore(s.cfg, s.now())
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	s.counts.reset()
	s.SetLatency(s.cfg.latency)
	s.SetFaults(s.cfg.faults)
}
