package thehivetest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

func TestControlRoutes(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	ctl := c.as("") // control routes need no credentials
	createCase(t, c, map[string]any{"title": "before reset"})

	state := ctl.do("GET", "/_thehivetest/state", nil).want(t, http.StatusOK).obj()
	cases := state["cases"].([]any)
	if len(cases) != 1 || cases[0].(map[string]any)["title"] != "before reset" {
		t.Errorf("state cases %v", cases)
	}
	if state["requests"].(map[string]any)["POST /api/v1/case"] != 1.0 {
		t.Errorf("state requests %v", state["requests"])
	}

	ctl.do("PUT", "/_thehivetest/faults", map[string]any{"rate": 1, "kinds": []any{"503"}, "routes": []any{"POST /api/v1/case"}, "times": 1, "retryAfter": 2}).
		want(t, http.StatusNoContent)
	r := c.do("POST", "/api/v1/case", map[string]any{"title": "t", "description": "d"}).want(t, http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") != "2" {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	ctl.do("PUT", "/_thehivetest/faults", map[string]any{"kinds": []any{"teapot"}}).wantError(t, http.StatusBadRequest, "BadRequest", "")

	ctl.do("PUT", "/_thehivetest/latency", map[string]any{"latency": "1ms"}).want(t, http.StatusNoContent)
	ctl.do("PUT", "/_thehivetest/latency", map[string]any{"ms": 0}).want(t, http.StatusNoContent)
	ctl.do("PUT", "/_thehivetest/latency", map[string]any{"latency": "soon"}).wantError(t, http.StatusBadRequest, "BadRequest", "")

	ctl.do("POST", "/_thehivetest/reset", nil).want(t, http.StatusNoContent)
	if n := len(srv.Cases()); n != 0 {
		t.Errorf("%d cases after reset", n)
	}
	if n := len(srv.RequestCounts()); n != 0 {
		t.Errorf("counters after reset: %v", srv.RequestCounts())
	}
	if n := createCase(t, c, map[string]any{})["number"]; n != 1.0 {
		t.Errorf("first number after reset %v", n)
	}
	ctl.do("POST", "/_thehivetest/webhooks/flush", nil).want(t, http.StatusNoContent)
	// Control requests are not counted.
	if got := srv.RequestCounts(); len(got) != 1 {
		t.Errorf("counts %v", got)
	}
}

func TestResetRestoresOptions(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t,
		thehivetest.WithUser(thehivetest.User{Login: "kept@soc", APIKey: "kept-key"}),
		thehivetest.WithLatency(time.Millisecond),
	)
	srv.SetLatency(time.Hour)
	srv.Reset()
	newClient(t, srv).as("Bearer kept-key").do("GET", "/api/v1/user/current", nil).want(t, http.StatusOK)
}
