package qradar_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/qradar/qradartest"
)

func ptr[T any](v T) *T { return &v }

// TestOffenseRequests pins the exact request of every offense and note
// operation.
func TestOffenseRequests(t *testing.T) {
	t.Parallel()
	since := t0.Add(2 * time.Minute)
	tests := []struct {
		name string
		op   func(ctx context.Context, c *qradar.Client) error
		want []sent
	}{
		{
			name: "list",
			op: func(ctx context.Context, c *qradar.Client) error {
				_, err := c.Offenses.List(ctx, &qradar.OffenseListOptions{
					Filter: qradar.And(qradar.Gt("last_updated_time", since), qradar.Eq("status", qradar.StatusOpen)),
					Fields: []string{"id", "status"},
					Sort:   "+last_updated_time",
					Offset: 10,
					Limit:  20,
				})
				return err
			},
			want: []sent{{Method: "GET", Path: "/api/siem/offenses",
				Query: url.Values{
					"filter": {`last_updated_time > 1709294520000 and status = "OPEN"`},
					"fields": {"id,status"},
					"sort":   {"+last_updated_time"},
				},
				Header: hdr("Range", "items=10-29")}},
		},
		{
			name: "list with no options",
			op: func(ctx context.Context, c *qradar.Client) error {
				_, err := c.Offenses.List(ctx, nil)
				return err
			},
			want: []sent{{Method: "GET", Path: "/api/siem/offenses", Header: hdr("Range", "items=0-49")}},
		},
		{
			name: "get",
			op: func(ctx context.Context, c *qradar.Client) error {
				_, err := c.Offenses.Get(ctx, 3, "id", "status")
				return err
			},
			want: []sent{{Method: "GET", Path: "/api/siem/offenses/3", Query: url.Values{"fields": {"id,status"}}, Header: hdr()}},
		},
		{
			name: "update",
			op: func(ctx context.Context, c *qradar.Client) error {
				_, err := c.Offenses.Update(ctx, 3, qradar.OffenseUpdate{
					Status: qradar.StatusHidden, AssignedTo: ptr("admin"), FollowUp: ptr(true), Protected: ptr(false),
					Fields: []string{"id"},
				})
				return err
			},
			want: []sent{{Method: "POST", Path: "/api/siem/offenses/3",
				Query:  url.Values{"status": {"HIDDEN"}, "assigned_to": {"admin"}, "follow_up": {"true"}, "protected": {"false"}, "fields": {"id"}},
				Header: hdr()}},
		},
		{
			name: "close",
			op: func(ctx context.Context, c *qradar.Client) error {
				_, err := c.Offenses.Close(ctx, 3, 2)
				return err
			},
			want: []sent{
				{Method: "GET", Path: "/api/siem/offenses/3", Header: hdr()},
				{Method: "POST", Path: "/api/siem/offenses/3", Query: url.Values{"status": {"CLOSED"}, "closing_reason_id": {"2"}}, Header: hdr()},
			},
		},
		{
			name: "list notes",
			op: func(ctx context.Context, c *qradar.Client) error {
				_, err := c.Offenses.ListNotes(ctx, 3, &qradar.NoteListOptions{Filter: qradar.Ge("create_time", since), Fields: []string{"note_text"}, Limit: 5})
				return err
			},
			want: []sent{{Method: "GET", Path: "/api/siem/offenses/3/notes",
				Query:  url.Values{"filter": {"create_time >= 1709294520000"}, "fields": {"note_text"}},
				Header: hdr("Range", "items=0-4")}},
		},
		{
			name: "add note",
			op: func(ctx context.Context, c *qradar.Client) error {
				_, err := c.Offenses.AddNote(ctx, 3, "Closed in TheHive: case #42 & more")
				return err
			},
			want: []sent{{Method: "POST", Path: "/api/siem/offenses/3/notes",
				Query: url.Values{"note_text": {"Closed in TheHive: case #42 & more"}}, Header: hdr()}},
		},
		{
			name: "get note",
			op: func(ctx context.Context, c *qradar.Client) error {
				_, err := c.Offenses.GetNote(ctx, 3, 1)
				return err
			},
			want: []sent{{Method: "GET", Path: "/api/siem/offenses/3/notes/1", Header: hdr()}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			seedOffenses(t, e.srv, 3)
			must(t)(e.srv.AddNote(3, "first", "admin"))
			if err := tt.op(t.Context(), e.c); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, e.rec.take(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetOffense(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	must(t)(e.srv.AddOffense(qradartest.Offense{
		ID: 16, Description: "Session Closed\n", StartTime: t0, LastUpdatedTime: t0.Add(time.Minute),
		OffenseType: 3, OffenseSource: "yarden", Magnitude: 1, Severity: 2, Credibility: 2,
		SourceAddressIDs: []int64{10}, LocalDestinationAddressIDs: []int64{1}, DomainID: 2,
		Rules:      []qradartest.OffenseRule{{ID: 100405}},
		LogSources: []qradartest.LogSource{{ID: 112, Name: "WindowsAuthServer @ 192.168.1.3", TypeID: 12, TypeName: "WindowsAuthServer"}},
		Categories: []string{"Session Closed"}, DestinationNetworks: []string{"Net-16-182-192.Net_182_10_0_0"},
	}))
	got, err := e.c.Offenses.Get(t.Context(), 16)
	if err != nil {
		t.Fatal(err)
	}
	want := &qradar.Offense{
		ID: 16, Description: "Session Closed\n", Categories: []string{"Session Closed"}, CategoryCount: 1,
		Credibility: 2, Severity: 2, Magnitude: 1, DestinationNetworks: []string{"Net-16-182-192.Net_182_10_0_0"},
		SourceNetwork: "other", DeviceCount: 1, EventCount: 1, LastUpdatedTime: t0.Add(time.Minute),
		LocalDestinationCount: 1, OffenseSource: "yarden", OffenseType: 3, SourceCount: 1, StartTime: t0,
		Status: qradar.StatusOpen, SourceAddressIDs: []qradar.AddressID{10}, LocalDestinationAddressIDs: []qradar.AddressID{1},
		DomainID: 2, FirstPersistedTime: t0, LastPersistedTime: t0.Add(time.Minute),
		Rules:      []qradar.OffenseRule{{ID: 100405, Type: "CRE_RULE"}},
		LogSources: []qradar.LogSource{{ID: 112, Name: "WindowsAuthServer @ 192.168.1.3", TypeID: 12, TypeName: "WindowsAuthServer"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("offense (-want +got):\n%s", diff)
	}
	if got.StartTime.Location() != time.UTC {
		t.Errorf("StartTime in %v, want UTC", got.StartTime.Location())
	}

	_, err = e.c.Offenses.Get(t.Context(), 99)
	var apiErr *qradar.APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, qradar.ErrNotFound) {
		t.Fatalf("err = %v, want a not-found *APIError", err)
	}
	wantErr := &qradar.APIError{StatusCode: 404, Code: 1002, Message: "Offense 99 does not exist",
		Description: "No offense was found for the provided offense_id.",
		HTTPMessage: "We could not find the resource you requested.", Details: []byte("{}"),
		Method: "GET", URL: e.ts.URL + "/api/siem/offenses/99", Attempts: 1}
	if diff := cmp.Diff(wantErr, apiErr); diff != "" {
		t.Errorf("APIError (-want +got):\n%s", diff)
	}
}

func TestListAllPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	seedOffenses(t, e.srv, 7)
	var got []qradar.OffenseID
	for o, err := range e.c.Offenses.ListAll(t.Context(), &qradar.OffenseListOptions{Sort: "+id", Limit: 3, Fields: []string{"id"}}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, o.ID)
	}
	if diff := cmp.Diff([]qradar.OffenseID{1, 2, 3, 4, 5, 6, 7}, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	var ranges []string
	for _, r := range e.rec.take() {
		ranges = append(ranges, r.Header["Range"])
	}
	if diff := cmp.Diff([]string{"items=0-2", "items=3-5", "items=6-8"}, ranges); diff != "" {
		t.Errorf("Range headers (-want +got):\n%s", diff)
	}
}

// TestListAllEmptyLastPage: offenses close while the list is read, so the
// total shrinks and the next page is past the end: QRadar answers [] with
// "Content-Range: items */3" and paging ends there.
func TestListAllEmptyLastPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	seedOffenses(t, e.srv, 6)
	var got []qradar.OffenseID
	opts := &qradar.OffenseListOptions{Filter: qradar.Eq("status", qradar.StatusOpen), Sort: "+id", Limit: 3}
	for o, err := range e.c.Offenses.ListAll(t.Context(), opts) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, o.ID)
		if o.ID == 3 {
			for id := int64(4); id <= 6; id++ {
				if err := e.srv.ModifyOffense(id, func(o *qradartest.Offense) { o.Status = "CLOSED" }); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if diff := cmp.Diff([]qradar.OffenseID{1, 2, 3}, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if n := e.srv.Requests("GET /api/siem/offenses"); n != 2 {
		t.Errorf("%d list requests, want 2", n)
	}
	page, err := e.c.Offenses.List(t.Context(), &qradar.OffenseListOptions{Filter: opts.Filter, Offset: 3, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&qradar.Page[qradar.Offense]{Offset: 3, Total: 3}, page, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("page past the end (-want +got):\n%s", diff)
	}
	if page.More() {
		t.Error("More() on a page past the end")
	}
}

// TestListAllWithoutContentRange: a proxy that drops Content-Range leaves
// the total unknown; paging then ends at the first short or empty page.
func TestListAllWithoutContentRange(t *testing.T) {
	t.Parallel()
	srv := qradartest.New()
	seedOffenses(t, srv, 6)
	var (
		mu     sync.Mutex
		ranges []string
	)
	strip := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		mu.Unlock()
		srv.Handler().ServeHTTP(noContentRange{w}, r)
	})
	ts := newTestServer(t, strip)
	c, err := qradar.NewClient(ts, qradar.WithToken(qradartest.Token))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range c.Offenses.ListAll(t.Context(), &qradar.OffenseListOptions{Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 6 {
		t.Errorf("%d offenses, want 6", n)
	}
	mu.Lock()
	if diff := cmp.Diff([]string{"items=0-2", "items=3-5", "items=6-8"}, ranges); diff != "" {
		t.Errorf("Range headers (-want +got):\n%s", diff)
	}
	mu.Unlock()
	page, err := c.Offenses.List(t.Context(), &qradar.OffenseListOptions{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != -1 || !page.More() {
		t.Errorf("page without Content-Range: Total %d, More %v", page.Total, page.More())
	}
}

type noContentRange struct{ http.ResponseWriter }

func (w noContentRange) WriteHeader(code int) {
	w.Header().Del("Content-Range")
	w.ResponseWriter.WriteHeader(code)
}

func TestListAllStopsEarlyAndOnError(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, qradar.WithRetry(qradar.RetryPolicy{MaxRetries: -1}))
	seedOffenses(t, e.srv, 9)
	n := 0
	for _, err := range e.c.Offenses.ListAll(t.Context(), &qradar.OffenseListOptions{Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 4 {
			break
		}
	}
	if got := e.srv.Requests("GET /api/siem/offenses"); got != 2 {
		t.Errorf("%d requests after breaking on the 4th offense, want 2", got)
	}

	e.srv.ResetRequestCounts()
	var errs []error
	n = 0
	for _, err := range e.c.Offenses.ListAll(t.Context(), &qradar.OffenseListOptions{Limit: 3}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if n++; n == 3 {
			e.srv.SetFaults(qradartest.Faults{Rate: 1, Kinds: []qradartest.FaultKind{qradartest.FaultStatus500}})
		}
	}
	if n != 3 || len(errs) != 1 || !errors.Is(errs[0], qradar.ErrServer) {
		t.Errorf("got %d offenses and errors %v, want 3 and one server error", n, errs)
	}

	// ListAll from an offset.
	e.srv.SetFaults(qradartest.Faults{})
	var ids []qradar.OffenseID
	for o, err := range e.c.Offenses.ListAll(t.Context(), &qradar.OffenseListOptions{Offset: 7, Limit: 3, Sort: "+id"}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	if diff := cmp.Diff([]qradar.OffenseID{8, 9}, ids); diff != "" {
		t.Errorf("from offset 7 (-want +got):\n%s", diff)
	}
}

func TestUpdateValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tests := []struct {
		name string
		u    qradar.OffenseUpdate
	}{
		{"nothing", qradar.OffenseUpdate{}},
		{"only fields", qradar.OffenseUpdate{Fields: []string{"id"}}},
		{"closed without reason", qradar.OffenseUpdate{Status: qradar.StatusClosed}},
		{"reason without close", qradar.OffenseUpdate{Status: qradar.StatusOpen, ClosingReasonID: 1}},
		{"bad status", qradar.OffenseUpdate{Status: "closed"}},
	}
	for _, tt := range tests {
		if _, err := e.c.Offenses.Update(t.Context(), 1, tt.u); !errors.Is(err, qradar.ErrInvalidParams) {
			t.Errorf("%s: err = %v, want ErrInvalidParams", tt.name, err)
		}
	}
	if _, err := e.c.Offenses.Close(t.Context(), 1, 0); !errors.Is(err, qradar.ErrInvalidParams) {
		t.Errorf("Close without reason: %v", err)
	}
	if _, err := e.c.Offenses.AddNote(t.Context(), 1, ""); !errors.Is(err, qradar.ErrInvalidParams) {
		t.Errorf("empty note: %v", err)
	}
	if _, err := e.c.Offenses.List(t.Context(), &qradar.OffenseListOptions{Offset: -1}); !errors.Is(err, qradar.ErrInvalidParams) {
		t.Errorf("negative offset: %v", err)
	}
	if reqs := e.rec.take(); len(reqs) != 0 {
		t.Errorf("refused arguments sent %d requests", len(reqs))
	}
}

func TestUpdateAndClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	seedOffenses(t, e.srv, 2)
	o, err := e.c.Offenses.Update(t.Context(), 1, qradar.OffenseUpdate{AssignedTo: ptr("admin"), FollowUp: ptr(true), Protected: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if o.AssignedTo != "admin" || !o.FollowUp || !o.Protected {
		t.Errorf("updated offense: %+v", o)
	}
	closed, err := e.c.Offenses.Close(t.Context(), 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := struct {
		Status  qradar.OffenseStatus
		Reason  qradar.ClosingReasonID
		User    string
		Closed  time.Time
		Persist time.Time
	}{qradar.StatusClosed, 2, qradartest.TokenLabel, t0.Add(time.Hour), t0.Add(time.Hour)}
	got := want
	got.Status, got.Reason, got.User, got.Closed, got.Persist = closed.Status, closed.ClosingReasonID, closed.ClosingUser, closed.CloseTime, closed.LastPersistedTime
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("closed offense (-want +got):\n%s", diff)
	}

	// Closing it again: recognised from its status, nothing is sent.
	e.rec.take()
	again, err := e.c.Offenses.Close(t.Context(), 1, 1)
	if !errors.Is(err, qradar.ErrAlreadyClosed) || again == nil || again.ClosingReasonID != 2 {
		t.Errorf("second close: %v, %+v", err, again)
	}
	if diff := cmp.Diff([]sent{{Method: "GET", Path: "/api/siem/offenses/1", Header: hdr()}}, e.rec.take(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("second close requests (-want +got):\n%s", diff)
	}

	// The console refuses a close without a valid reason.
	_, err = e.c.Offenses.Close(t.Context(), 2, 77)
	var apiErr *qradar.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 422 || apiErr.Code != 1005 || !errors.Is(err, qradar.ErrInvalidRequest) {
		t.Errorf("close with an unknown reason: %v", err)
	}
	if _, err := e.c.Offenses.Close(t.Context(), 99, 1); !errors.Is(err, qradar.ErrNotFound) {
		t.Errorf("close of an unknown offense: %v", err)
	}
}

// TestCloseAnswerLost: the first close is applied but its answer is lost;
// the retry gets 409 and Close reports ErrAlreadyClosed with the offense.
func TestCloseAnswerLost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	seedOffenses(t, e.srv, 1)
	e.srv.SetFaults(qradartest.Faults{Rate: 1, Times: 1, Kinds: []qradartest.FaultKind{qradartest.FaultStatus500}, AfterApply: 1, Routes: []string{"POST /api/siem/offenses/{offense_id}"}})
	o, err := e.c.Offenses.Close(t.Context(), 1, 1)
	if !errors.Is(err, qradar.ErrAlreadyClosed) || !errors.Is(err, qradar.ErrConflict) {
		t.Fatalf("err = %v, want ErrAlreadyClosed and ErrConflict", err)
	}
	if o == nil || o.Status != qradar.StatusClosed {
		t.Errorf("offense = %+v", o)
	}
	if n := e.srv.Requests("POST /api/siem/offenses/{offense_id}"); n != 2 {
		t.Errorf("%d POSTs, want 2 (the lost one and its retry)", n)
	}
}

func TestNotes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	seedOffenses(t, e.srv, 1)
	for _, text := range []string{"one", "two", "three"} {
		must(t)(e.srv.AddNote(1, text, "admin"))
	}
	n, err := e.c.Offenses.AddNote(t.Context(), 1, "Closed by Synapse")
	if err != nil {
		t.Fatal(err)
	}
	want := &qradar.Note{ID: 4, CreateTime: t0.Add(time.Hour), Username: "API_user: qradartest", Text: "Closed by Synapse"}
	if diff := cmp.Diff(want, n); diff != "" {
		t.Errorf("note (-want +got):\n%s", diff)
	}
	var texts []string
	for n, err := range e.c.Offenses.ListNotesAll(t.Context(), 1, &qradar.NoteListOptions{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, n.Text)
	}
	if diff := cmp.Diff([]string{"one", "two", "three", "Closed by Synapse"}, texts); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	page, err := e.c.Offenses.ListNotes(t.Context(), 1, &qradar.NoteListOptions{Offset: 1, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.Items[0].Text != "two" || page.Total != 4 || !page.More() {
		t.Errorf("page = %+v", page)
	}
	got, err := e.c.Offenses.GetNote(t.Context(), 1, 2)
	if err != nil || got.Text != "two" {
		t.Errorf("GetNote: %+v, %v", got, err)
	}
	if _, err := e.c.Offenses.GetNote(t.Context(), 1, 9); !errors.Is(err, qradar.ErrNotFound) {
		t.Errorf("unknown note: %v", err)
	}
}

// TestAddNoteIsNotRetried: a note whose answer is lost must not be sent
// again, or the offense would get it twice.
func TestAddNoteIsNotRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	seedOffenses(t, e.srv, 1)
	e.srv.SetFaults(qradartest.Faults{Rate: 1, Times: 1, Kinds: []qradartest.FaultKind{qradartest.FaultStatus503}, AfterApply: 1})
	_, err := e.c.Offenses.AddNote(t.Context(), 1, "once")
	var apiErr *qradar.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || apiErr.Body == nil || !errors.Is(err, qradar.ErrServer) {
		t.Fatalf("err = %v, want a 503 with the web server's page", err)
	}
	if n := e.srv.Requests("POST /api/siem/offenses/{offense_id}/notes"); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
	if n := len(e.srv.Notes(1)); n != 1 {
		t.Errorf("%d notes, want 1", n)
	}
}

func TestGetIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	seedOffenses(t, e.srv, 1)
	e.srv.SetFaults(qradartest.Faults{Rate: 1, Times: 3, Kinds: []qradartest.FaultKind{qradartest.FaultStatus500, qradartest.FaultStatus503, qradartest.FaultDropConnection}})
	o, err := e.c.Offenses.Get(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != 1 {
		t.Errorf("offense %d", o.ID)
	}
	if n := e.srv.Requests("GET /api/siem/offenses/{offense_id}"); n != 4 {
		t.Errorf("%d attempts, want 4", n)
	}
}
