package qradar_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/qradar/qradartest"
)

const hitsAQL = "SELECT sourceip, COUNT(*) AS hits FROM events GROUP BY sourceip LAST 10 MINUTES"

func hitRows(n int) []map[string]any {
	rows := make([]map[string]any, n)
	for i := range rows {
		rows[i] = map[string]any{"sourceip": "10.0.0." + itoa(i+1), "hits": i + 1}
	}
	return rows
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// TestArielRequests pins the requests of each step of a search.
func TestArielRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if err := e.srv.AddSearch(qradartest.Search{AQL: hitsAQL, Rows: hitRows(3), Polls: 1}); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	s, err := e.c.Ariel.Create(ctx, hitsAQL)
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != qradar.SearchWait || s.ID == "" {
		t.Errorf("created: %+v", s)
	}
	done, err := e.c.Ariel.Wait(ctx, s.ID, &fastWait)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != qradar.SearchCompleted || done.RecordCount != 3 || done.Progress != 100 {
		t.Errorf("completed: %+v", done)
	}
	res, err := e.c.Ariel.Results(ctx, s.ID, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantRes := &qradar.Results{Database: "events", Offset: 1, Total: 3, Rows: []qradar.Row{
		{"sourceip": "10.0.0.2", "hits": json.Number("2")},
		{"sourceip": "10.0.0.3", "hits": json.Number("3")},
	}}
	if diff := cmp.Diff(wantRes, res); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if _, err := e.c.Ariel.Cancel(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	ids, err := e.c.Ariel.List(ctx)
	if err != nil || len(ids) != 1 || ids[0] != s.ID {
		t.Errorf("List: %v, %v", ids, err)
	}
	if err := e.c.Ariel.Delete(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	path := "/api/ariel/searches/" + string(s.ID)
	want := []sent{
		{Method: "POST", Path: "/api/ariel/searches", Query: url.Values{"query_expression": {hitsAQL}}, Header: hdr()},
		{Method: "GET", Path: path, Header: hdr()},
		{Method: "GET", Path: path, Header: hdr()},
		{Method: "GET", Path: path + "/results", Header: hdr("Range", "items=1-10")},
		{Method: "POST", Path: path, Query: url.Values{"status": {"CANCELED"}}, Header: hdr()},
		{Method: "GET", Path: "/api/ariel/searches", Header: hdr()},
		{Method: "DELETE", Path: path, Header: hdr()},
	}
	if diff := cmp.Diff(want, e.rec.take(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if _, err := e.c.Ariel.Get(ctx, s.ID); !errors.Is(err, qradar.ErrNotFound) {
		t.Errorf("deleted search: %v", err)
	}
}

func TestArielRunPagesAndDeletes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if err := e.srv.AddSearch(qradartest.Search{AQL: hitsAQL, Rows: hitRows(7), Polls: 3}); err != nil {
		t.Fatal(err)
	}
	rows, err := e.c.Ariel.Run(t.Context(), hitsAQL, &qradar.RunOptions{Wait: fastWait, PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.String("sourceip"))
	}
	if diff := cmp.Diff([]string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7"}, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	var ranges []string
	for _, r := range e.rec.take() {
		if strings.HasSuffix(r.Path, "/results") {
			ranges = append(ranges, r.Header["Range"])
		}
	}
	if diff := cmp.Diff([]string{"items=0-2", "items=3-5", "items=6-8"}, ranges); diff != "" {
		t.Errorf("result pages (-want +got):\n%s", diff)
	}
	if left := e.srv.Searches(); len(left) != 0 {
		t.Errorf("Run left %d searches on the console", len(left))
	}

	// MaxRows stops reading early.
	rows, err = e.c.Ariel.Run(t.Context(), hitsAQL, &qradar.RunOptions{Wait: fastWait, MaxRows: 2, KeepSearch: true})
	if err != nil || len(rows) != 2 {
		t.Fatalf("MaxRows 2: %d rows, %v", len(rows), err)
	}
	if left := e.srv.Searches(); len(left) != 1 {
		t.Errorf("KeepSearch left %d searches, want 1", len(left))
	}
	if _, err := e.c.Ariel.Run(t.Context(), hitsAQL, &qradar.RunOptions{MaxRows: -1}); !errors.Is(err, qradar.ErrInvalidParams) {
		t.Errorf("negative MaxRows: %v", err)
	}
}

func TestArielResultsAll(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if err := e.srv.AddSearch(qradartest.Search{AQL: hitsAQL, Rows: hitRows(5), Polls: 0}); err != nil {
		t.Fatal(err)
	}
	s, err := e.c.Ariel.Create(t.Context(), hitsAQL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Ariel.Results(t.Context(), s.ID, 0, 10); !errors.Is(err, qradar.ErrNotFound) {
		t.Errorf("results of a running search: %v", err)
	}
	if _, err := e.c.Ariel.Wait(t.Context(), s.ID, &fastWait); err != nil {
		t.Fatal(err)
	}
	var hits []int64
	for r, err := range e.c.Ariel.ResultsAll(t.Context(), s.ID, 2) {
		if err != nil {
			t.Fatal(err)
		}
		n, ok := r.Int64("hits")
		if !ok {
			t.Fatalf("hits of %v", r)
		}
		hits = append(hits, n)
	}
	if diff := cmp.Diff([]int64{1, 2, 3, 4, 5}, hits); diff != "" {
		t.Errorf("hits (-want +got):\n%s", diff)
	}
}

func TestArielSearchEnds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		search  qradartest.Search
		wantErr error
		wantMsg string
	}{
		{"error", qradartest.Search{AQL: "select a from events", Polls: 1, Outcome: qradartest.OutcomeError,
			Errors: []qradartest.SearchMessage{{Code: "1000", Message: "The Ariel server ran out of memory", Severity: "ERROR"}}},
			qradar.ErrSearchFailed, "ended in status ERROR: The Ariel server ran out of memory"},
		{"canceled", qradartest.Search{AQL: "select b from events", Polls: 2, Outcome: qradartest.OutcomeCanceled},
			qradar.ErrSearchCanceled, "ended in status CANCELED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			if err := e.srv.AddSearch(tt.search); err != nil {
				t.Fatal(err)
			}
			_, err := e.c.Ariel.Run(t.Context(), tt.search.AQL, &qradar.RunOptions{Wait: fastWait})
			var se *qradar.FailedSearchError
			if !errors.Is(err, tt.wantErr) || !errors.As(err, &se) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %v, want %v with %q", err, tt.wantErr, tt.wantMsg)
			}
			if left := e.srv.Searches(); len(left) != 0 {
				t.Errorf("the failed search was not deleted: %v", left)
			}
			if n := e.srv.Requests("GET /api/ariel/searches/{search_id}/results"); n != 0 {
				t.Errorf("%d result reads of a failed search", n)
			}
		})
	}
}

func TestArielWaitTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if err := e.srv.AddSearch(qradartest.Search{AQL: "select c from events", Outcome: qradartest.OutcomeNever}); err != nil {
		t.Fatal(err)
	}
	opts := &qradar.RunOptions{Wait: qradar.WaitOptions{Timeout: 30 * time.Millisecond, MinInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}}
	_, err := e.c.Ariel.Run(t.Context(), "select c from events", opts)
	if !errors.Is(err, qradar.ErrSearchTimeout) {
		t.Fatalf("err = %v, want ErrSearchTimeout", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a wait timeout looks like the caller's deadline: %v", err)
	}
	if left := e.srv.Searches(); len(left) != 0 {
		t.Errorf("the search that timed out was not deleted")
	}
}

// TestArielWaitStopsOnCancel: cancelling ctx ends a wait at once, while
// it pauses between two status reads or during a read, and Run still
// deletes the search.
func TestArielWaitStopsOnCancel(t *testing.T) {
	t.Parallel()
	isStatusRead := func(r *http.Request) bool {
		return r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/api/ariel/searches/") && !strings.HasSuffix(r.URL.Path, "/results")
	}
	t.Run("between reads", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		// The first status read's answer cancels ctx once the client has
		// read it; the next read would be an hour later.
		var once sync.Once
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := http.DefaultTransport.RoundTrip(r)
			if err == nil && isStatusRead(r) {
				once.Do(func() { resp.Body = &onClose{ReadCloser: resp.Body, f: cancel} })
			}
			return resp, err
		})}
		e := newEnv(t, nil, qradar.WithHTTPClient(hc))
		if err := e.srv.AddSearch(qradartest.Search{AQL: "select c from events", Outcome: qradartest.OutcomeNever}); err != nil {
			t.Fatal(err)
		}
		opts := &qradar.RunOptions{Wait: qradar.WaitOptions{MinInterval: time.Hour, Timeout: 2 * time.Hour}}
		_, err := e.c.Ariel.Run(ctx, "select c from events", opts)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if n := e.srv.Requests("GET /api/ariel/searches/{search_id}"); n != 1 {
			t.Errorf("%d status reads, want 1", n)
		}
		if n := e.srv.Requests("DELETE /api/ariel/searches/{search_id}"); n != 1 {
			t.Errorf("%d deletes after cancellation, want 1", n)
		}
	})
	t.Run("during a read", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		if err := e.srv.AddSearch(qradartest.Search{AQL: "select c from events", Outcome: qradartest.OutcomeNever}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		hold := make(chan struct{})
		defer close(hold)
		var once sync.Once
		e.rec.mu.Lock()
		e.rec.onRequest = func(r *http.Request) {
			if isStatusRead(r) {
				// The answer never comes before ctx ends.
				once.Do(func() { cancel(); <-hold })
			}
		}
		e.rec.mu.Unlock()
		_, err := e.c.Ariel.Run(ctx, "select c from events", &qradar.RunOptions{Wait: fastWait})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if n := e.srv.Requests("DELETE /api/ariel/searches/{search_id}"); n != 1 {
			t.Errorf("%d deletes after cancellation, want 1", n)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// onClose calls f once the body is closed.
type onClose struct {
	io.ReadCloser
	f func()
}

func (c *onClose) Close() error {
	err := c.ReadCloser.Close()
	c.f()
	return err
}

func TestArielErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, err := e.c.Ariel.Create(t.Context(), "SELEKT * FROM nowhere")
	var apiErr *qradar.APIError
	if !errors.Is(err, qradar.ErrInvalidAQL) || !errors.Is(err, qradar.ErrInvalidRequest) || !errors.As(err, &apiErr) || apiErr.Code != 2000 {
		t.Errorf("bad AQL: %v", err)
	}
	if _, err := e.c.Ariel.Create(t.Context(), "  "); !errors.Is(err, qradar.ErrInvalidParams) {
		t.Errorf("empty AQL: %v", err)
	}
	for name, op := range map[string]func() error{
		"Get":     func() error { _, err := e.c.Ariel.Get(t.Context(), ""); return err },
		"Wait":    func() error { _, err := e.c.Ariel.Wait(t.Context(), "", nil); return err },
		"Results": func() error { _, err := e.c.Ariel.Results(t.Context(), "", 0, 0); return err },
		"Offset":  func() error { _, err := e.c.Ariel.Results(t.Context(), "x", -1, 0); return err },
		"Cancel":  func() error { _, err := e.c.Ariel.Cancel(t.Context(), ""); return err },
		"Delete":  func() error { return e.c.Ariel.Delete(t.Context(), "") },
	} {
		if err := op(); !errors.Is(err, qradar.ErrInvalidParams) {
			t.Errorf("%s with an empty id: %v", name, err)
		}
	}
	if reqs := e.rec.take(); len(reqs) != 1 {
		t.Errorf("%d requests, want only the bad AQL's", len(reqs))
	}
	if _, err := e.c.Ariel.Wait(t.Context(), "unknown", &fastWait); !errors.Is(err, qradar.ErrNotFound) {
		t.Errorf("waiting for an unknown search: %v", err)
	}
}

// TestArielCreateRetried: Ariel answers 503 (code 1010) while it is busy;
// creating a search is retried.
func TestArielCreateRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.srv.SetFaults(qradartest.Faults{Rate: 1, Times: 2, Kinds: []qradartest.FaultKind{qradartest.FaultStatus503}, Routes: []string{"POST /api/ariel/searches"}})
	if _, err := e.c.Ariel.Run(t.Context(), "select a from events", &qradar.RunOptions{Wait: fastWait}); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Requests("POST /api/ariel/searches"); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
}

func TestOffenseEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	start := t0
	o := &qradar.Offense{ID: 42, StartTime: start, LastUpdatedTime: start.Add(time.Hour), RemoteDestinationCount: 2}
	aql := qradar.OffenseEventsAQL(42, start, 3)
	wantAQL := "SELECT starttime, QIDNAME(qid), LOGSOURCENAME(logsourceid), sourceip, destinationip, username, UTF8(payload) " +
		"FROM events WHERE INOFFENSE(42) ORDER BY starttime ASC LIMIT 3 START 1709294340000 STOP 1709294700000"
	if aql != wantAQL {
		t.Errorf("OffenseEventsAQL =\n%s\nwant\n%s", aql, wantAQL)
	}
	e.srv.AddOffenseEvents(42,
		map[string]any{"starttime": start.UnixMilli(), "qidname_qid": "Failure Audit", "logsourcename_logsourceid": "DC01",
			"sourceip": "10.0.0.1", "destinationip": "10.0.0.2", "username": "alice", "utf8_payload": "<13>Mar  1 12:00:00 DC01 login failed"},
		map[string]any{"starttime": start.Add(time.Second).UnixMilli(), "qidname_qid": "Failure Audit", "username": nil, "utf8_payload": "second"},
		map[string]any{"starttime": start.Add(2 * time.Second).UnixMilli(), "utf8_payload": "third"},
		map[string]any{"starttime": start.Add(3 * time.Second).UnixMilli(), "utf8_payload": "fourth"},
	)
	events, err := e.c.Ariel.OffenseEvents(t.Context(), o, 3, &qradar.RunOptions{Wait: fastWait})
	if err != nil {
		t.Fatal(err)
	}
	want := []qradar.Event{
		{Time: start, Name: "Failure Audit", LogSource: "DC01", SourceIP: "10.0.0.1", DestinationIP: "10.0.0.2", Username: "alice", Payload: "<13>Mar  1 12:00:00 DC01 login failed"},
		{Time: start.Add(time.Second), Name: "Failure Audit", Payload: "second"},
		{Time: start.Add(2 * time.Second), Payload: "third"},
	}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if reqs := e.rec.take(); reqs[0].Query.Get("query_expression") != wantAQL {
		t.Errorf("query sent: %s", reqs[0].Query.Get("query_expression"))
	}

	rdAQL := qradar.RemoteDestinationsAQL(42, start, start.Add(time.Hour+time.Minute), 10)
	if err := e.srv.AddSearch(qradartest.Search{AQL: rdAQL, Rows: []map[string]any{
		{"destinationip": "203.0.113.9", "event_count": 12}, {"destinationip": "198.51.100.7", "event_count": 1},
	}}); err != nil {
		t.Fatal(err)
	}
	rds, err := e.c.Ariel.RemoteDestinations(t.Context(), o, 10, &qradar.RunOptions{Wait: fastWait})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]qradar.RemoteDestination{{IP: "203.0.113.9", EventCount: 12}, {IP: "198.51.100.7", EventCount: 1}}, rds); diff != "" {
		t.Errorf("remote destinations (-want +got):\n%s", diff)
	}
	e.rec.take()
	if rds, err := e.c.Ariel.RemoteDestinations(t.Context(), &qradar.Offense{ID: 1, StartTime: start}, 10, nil); err != nil || rds != nil {
		t.Errorf("offense without remote destinations: %v, %v", rds, err)
	}
	if reqs := e.rec.take(); len(reqs) != 0 {
		t.Errorf("an offense without remote destinations sent %d requests", len(reqs))
	}
	for _, bad := range []*qradar.Offense{nil, {ID: 1}, {StartTime: start}} {
		if _, err := e.c.Ariel.OffenseEvents(t.Context(), bad, 3, nil); !errors.Is(err, qradar.ErrInvalidParams) {
			t.Errorf("OffenseEvents(%+v): %v", bad, err)
		}
		if _, err := e.c.Ariel.RemoteDestinations(t.Context(), bad, 3, nil); !errors.Is(err, qradar.ErrInvalidParams) {
			t.Errorf("RemoteDestinations(%+v): %v", bad, err)
		}
	}
	if _, err := e.c.Ariel.OffenseEvents(t.Context(), o, 0, nil); !errors.Is(err, qradar.ErrInvalidParams) {
		t.Errorf("limit 0: %v", err)
	}
	if _, err := e.c.Ariel.RemoteDestinations(t.Context(), o, 0, nil); !errors.Is(err, qradar.ErrInvalidParams) {
		t.Errorf("limit 0: %v", err)
	}
}

func TestRow(t *testing.T) {
	t.Parallel()
	r := qradar.Row{
		"s": "text", "n": json.Number("42"), "f": json.Number("1.5"), "null": nil,
		"list": []any{"a", json.Number("2"), nil}, "t": json.Number("1709294400000"), "ns": "17", "b": true,
	}
	strs := map[string]string{"s": "text", "n": "42", "null": "", "absent": "", "list": "a, 2, ", "b": "true"}
	for col, want := range strs {
		if got := r.String(col); got != want {
			t.Errorf("String(%q) = %q, want %q", col, got, want)
		}
	}
	ints := []struct {
		col  string
		want int64
		ok   bool
	}{{"n", 42, true}, {"ns", 17, true}, {"f", 0, false}, {"s", 0, false}, {"null", 0, false}}
	for _, tt := range ints {
		if got, ok := r.Int64(tt.col); got != tt.want || ok != tt.ok {
			t.Errorf("Int64(%q) = %d, %v", tt.col, got, ok)
		}
	}
	if got := r.Time("t"); !got.Equal(t0) {
		t.Errorf("Time = %v", got)
	}
	if got := r.Time("s"); !got.IsZero() {
		t.Errorf("Time of text = %v", got)
	}
}

func TestSearchStatusDone(t *testing.T) {
	t.Parallel()
	for s, want := range map[qradar.SearchStatus]bool{
		qradar.SearchWait: false, qradar.SearchExecute: false, qradar.SearchSorting: false,
		qradar.SearchCompleted: true, qradar.SearchCanceled: true, qradar.SearchError: true,
	} {
		if s.Done() != want {
			t.Errorf("%s.Done() = %v", s, !want)
		}
	}
}
