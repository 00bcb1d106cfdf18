package thehivetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

func TestFaultStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind        thehivetest.FaultKind
		status      int
		contentType string
		retryAfter  string
		body        string
	}{
		{thehivetest.FaultStatus500, 500, "application/json", "", `{"message":"injected fault","type":"InternalError"}`},
		{thehivetest.FaultStatus502, 502, "text/plain; charset=utf-8", "", "Bad Gateway"},
		{thehivetest.FaultStatus503, 503, "text/plain; charset=utf-8", "3", "Service Unavailable"},
		{thehivetest.FaultTooManyRequests, 429, "application/json", "3", `{"message":"Too many requests","type":"RateLimitExceeded"}`},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			t.Parallel()
			srv := thehivetest.NewServer(t, thehivetest.WithFaults(thehivetest.Faults{
				Rate: 1, Kinds: []thehivetest.FaultKind{tt.kind}, RetryAfter: 2500 * time.Millisecond, Times: 1,
			}))
			c := newClient(t, srv)
			r := c.do("POST", "/api/v1/case", map[string]any{"title": "t", "description": "d"})
			got := []string{r.header.Get("Content-Type"), r.header.Get("Retry-After"), string(r.raw)}
			if r.status != tt.status || cmp.Diff([]string{tt.contentType, tt.retryAfter, tt.body}, got) != "" {
				t.Errorf("answer %d %q", r.status, got)
			}
			if n := len(srv.Cases()); n != 0 {
				t.Errorf("a fault before the request stored %d cases", n)
			}
			// Times: the next request succeeds.
			createCase(t, c, map[string]any{})
			if n := srv.InjectedFaults(); n != 1 {
				t.Errorf("InjectedFaults = %d", n)
			}
		})
	}
}

func TestFaultAfterApplyStoresButLosesTheAnswer(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	srv.SetFaults(thehivetest.Faults{Rate: 1, Kinds: []thehivetest.FaultKind{thehivetest.FaultStatus503}, AfterApply: 1, Times: 1})
	c := newClient(t, srv)
	c.do("POST", "/api/v1/alert", map[string]any{"type": "t", "source": "s", "sourceRef": "r", "title": "x", "description": "y"}).want(t, http.StatusServiceUnavailable)
	if n := len(srv.Alerts()); n != 1 {
		t.Fatalf("%d alerts stored, want 1", n)
	}
	// A client retrying the creation now meets the duplicate rule.
	c.do("POST", "/api/v1/alert", map[string]any{"type": "t", "source": "s", "sourceRef": "r", "title": "x", "description": "y"}).
		wantError(t, http.StatusBadRequest, "CreateError", "")
}

func TestDroppedConnection(t *testing.T) {
	t.Parallel()
	for _, after := range []float64{0, 1} {
		srv := thehivetest.NewServer(t, thehivetest.WithFaults(thehivetest.Faults{
			Rate: 1, Kinds: []thehivetest.FaultKind{thehivetest.FaultDropConnection}, AfterApply: after, Times: 1,
		}))
		req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL()+"/api/v1/case", strings.NewReader(`{"title":"t","description":"d"}`))
		req.Header.Set("Authorization", "Bearer "+thehivetest.APIKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("AfterApply %v: got an answer %d", after, resp.StatusCode)
		}
		if n := len(srv.Cases()); n != int(after) {
			t.Errorf("AfterApply %v: %d cases stored", after, n)
		}
	}
}

func TestStalledAnswersEndWhenTheClientGivesUp(t *testing.T) {
	t.Parallel()
	for _, kind := range []thehivetest.FaultKind{thehivetest.FaultSlowBody, thehivetest.FaultTimeout} {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			srv := thehivetest.NewServer(t, thehivetest.WithFaults(thehivetest.Faults{
				Rate: 1, Kinds: []thehivetest.FaultKind{kind}, AfterApply: 1, Routes: []string{"POST /api/v1/case"},
			}))
			// The request must be applied before the client gives up: on a
			// loaded machine, under -race, 100 ms was sometimes too short.
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL()+"/api/v1/case", strings.NewReader(`{"title":"t","description":"d"}`))
			req.Header.Set("Authorization", "Bearer "+thehivetest.APIKey)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if kind == thehivetest.FaultSlowBody {
				if err != nil {
					t.Fatalf("no headers: %v", err)
				}
				defer resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					t.Errorf("status %d, want the real one", resp.StatusCode)
				}
				if _, err = io.ReadAll(resp.Body); err == nil {
					t.Fatal("the stalled body was read whole")
				}
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v, want the client's deadline", err)
			}
			if n := len(srv.Cases()); n != 1 {
				t.Errorf("%d cases stored, want 1", n)
			}
		})
	}
}

func TestCloseReleasesStalledRequests(t *testing.T) {
	t.Parallel()
	srv := thehivetest.New(thehivetest.WithFaults(thehivetest.Faults{Rate: 1, Kinds: []thehivetest.FaultKind{thehivetest.FaultTimeout}}))
	entered := make(chan struct{})
	hts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		srv.ServeHTTP(w, r)
	}))
	defer hts.Close()
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", hts.URL+"/api/v1/user/current", nil)
		req.Header.Set("Authorization", "Bearer "+thehivetest.APIKey)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		done <- err
	}()
	<-entered
	srv.Close() // releases the stalled handler, which aborts the answer
	if err := <-done; err == nil {
		t.Error("the client got an answer from a stalled request")
	}
}

func TestFaultRoutesAndSeeds(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	srv.SetFaults(thehivetest.Faults{Rate: 1, Kinds: []thehivetest.FaultKind{thehivetest.FaultStatus500}, Routes: []string{"/api/v1/case/{id}"}})
	c.do("GET", "/api/v1/case/"+id(cs), nil).want(t, http.StatusInternalServerError)
	c.do("PATCH", "/api/v1/case/"+id(cs), map[string]any{"title": "x"}).want(t, http.StatusInternalServerError)
	createCase(t, c, map[string]any{})
	query(c, map[string]any{"_name": "listCase"}).want(t, http.StatusOK)
	srv.SetFaults(thehivetest.Faults{})
	c.do("GET", "/api/v1/case/"+id(cs), nil).want(t, http.StatusOK)

	// The same seed draws the same faults.
	pattern := func() []int {
		s := thehivetest.NewServer(t, thehivetest.WithFaults(thehivetest.Faults{
			Rate: 0.5, Seed: 42, Kinds: []thehivetest.FaultKind{thehivetest.FaultStatus503, thehivetest.FaultTooManyRequests},
		}))
		cl := newClient(t, s)
		var out []int
		for range 20 {
			out = append(out, cl.do("GET", "/api/v1/user/current", nil).status)
		}
		return out
	}
	first, second := pattern(), pattern()
	if d := cmp.Diff(first, second); d != "" {
		t.Errorf("same seed, other faults (-first +second):\n%s", d)
	}
	seen := map[int]bool{}
	for _, s := range first {
		seen[s] = true
	}
	if !seen[200] || !(seen[503] || seen[429]) {
		t.Errorf("statuses %v: want both successes and faults at rate 0.5", first)
	}
}

func TestFaultsJSON(t *testing.T) {
	t.Parallel()
	f := thehivetest.Faults{Rate: 0.25, Routes: []string{"POST /api/v1/case"}, Kinds: []thehivetest.FaultKind{thehivetest.FaultStatus503, thehivetest.FaultDropConnection},
		RetryAfter: 1500 * time.Millisecond, AfterApply: 0.5, Times: 3, Seed: 7}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"rate":0.25,"routes":["POST /api/v1/case"],"kinds":["503","drop"],"afterApply":0.5,"times":3,"seed":7,"retryAfter":1.5}`
	if string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
	var back thehivetest.Faults
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(f, back); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	if err := json.Unmarshal([]byte(`{"kinds":["418"]}`), &back); err == nil {
		t.Error("unknown fault kind accepted")
	}
}

func TestLatencyIsCancellable(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t, thehivetest.WithLatency(time.Hour))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL()+"/api/v1/user/current", nil)
	req.Header.Set("Authorization", "Bearer "+thehivetest.APIKey)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("request answered despite an hour of latency")
	}
	// Control routes are never delayed; latency can be lifted.
	if got := len(srv.State().Cases); got != 0 {
		t.Errorf("state %d", got)
	}
	srv.SetLatency(0)
	newClient(t, srv).do("GET", "/api/v1/user/current", nil).want(t, http.StatusOK)
}

func TestConcurrentClients(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t, thehivetest.WithLatency(time.Millisecond))
	c := newClient(t, srv)
	const workers, perWorker = 16, 5
	var wg sync.WaitGroup
	errs := make(chan string, workers*perWorker)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				r := c.do("POST", "/api/v1/case", map[string]any{"title": "t", "description": "d", "tags": []any{"w"}})
				if r.status != http.StatusCreated {
					errs <- string(r.raw)
					continue
				}
				cs := r.obj()
				base := "/api/v1/case/" + id(cs)
				task := c.do("POST", base+"/task", map[string]any{"title": "Communication"}).obj()
				c.do("POST", "/api/v1/task/"+id(task)+"/log", map[string]any{"message": "m"})
				c.do("POST", base+"/observable", map[string]any{"dataType": "ip", "data": []any{"10.0.0.1", "10.0.0.2"}})
				c.do("POST", "/api/v1/alert", map[string]any{"type": "t", "source": "s", "sourceRef": string(rune('a'+w)) + string(rune('0'+i)), "title": "x", "description": "y"})
				query(c, map[string]any{"_name": "listCase"}, map[string]any{"_name": "filter", "_eq": map[string]any{"_field": "tags", "_value": "w"}}, map[string]any{"_name": "count"})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	var numbers []int
	for _, cs := range srv.Cases() {
		numbers = append(numbers, int(cs["number"].(float64)))
	}
	sort.Ints(numbers)
	for i, n := range numbers {
		if n != i+1 {
			t.Fatalf("case numbers %v are not 1..%d", numbers, workers*perWorker)
		}
	}
	got := []int{len(srv.Cases()), len(srv.Tasks()), len(srv.Logs()), len(srv.Observables()), len(srv.Alerts())}
	n := workers * perWorker
	if d := cmp.Diff([]int{n, n, n, 2 * n, n}, got); d != "" {
		t.Errorf("cases, tasks, logs, observables, alerts (-want +got):\n%s", d)
	}
}
