package thehive_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/synapse-go/synapse/thehive"
)

func TestFilterJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f    thehive.Filter
		want string
	}{
		{thehive.Filter{}, `{}`},
		{thehive.Eq("severity", thehive.SeverityHigh), `{"_eq":{"_field":"severity","_value":3}}`},
		{thehive.Ne("status", "New"), `{"_ne":{"_field":"status","_value":"New"}}`},
		{thehive.Lt("_createdAt", t0), `{"_lt":{"_field":"_createdAt","_value":1700000000000}}`},
		{thehive.Lte("tlp", thehive.TLPAmber), `{"_lte":{"_field":"tlp","_value":2}}`},
		{thehive.Gt("number", 10), `{"_gt":{"_field":"number","_value":10}}`},
		{thehive.Gte("_updatedAt", &t0), `{"_gte":{"_field":"_updatedAt","_value":1700000000000}}`},
		{thehive.Between("date", t0, 1700000001000), `{"_between":{"_field":"date","_from":1700000000000,"_to":1700000001000}}`},
		{thehive.In("tags", "a", "b"), `{"_in":{"_field":"tags","_values":["a","b"]}}`},
		{thehive.Like("title", "phish"), `{"_like":{"_field":"title","_value":"phish"}}`},
		{thehive.Match("description", "invoice"), `{"_match":{"_field":"description","_value":"invoice"}}`},
		{thehive.StartsWith("login", "a"), `{"_startsWith":{"_field":"login","_value":"a"}}`},
		{thehive.EndsWith("login", "z"), `{"_endsWith":{"_field":"login","_value":"z"}}`},
		{thehive.Has("assignee"), `{"_has":"assignee"}`},
		{thehive.Contains("assignee"), `{"_contains":"assignee"}`},
		{thehive.ID("~1"), `{"_id":"~1"}`},
		{thehive.Not(thehive.Eq("a", 1)), `{"_not":{"_eq":{"_field":"a","_value":1}}}`},
		{thehive.Not(thehive.Filter{}), `{}`},
		{thehive.And(), `{}`},
		{thehive.And(thehive.Filter{}, thehive.Has("a")), `{"_has":"a"}`},
		{thehive.And(thehive.And(thehive.Has("a"), thehive.Has("b")), thehive.Has("c")),
			`{"_and":[{"_has":"a"},{"_has":"b"},{"_has":"c"}]}`},
		{thehive.Or(thehive.Has("a"), thehive.And(thehive.Has("b"), thehive.Has("c"))),
			`{"_or":[{"_has":"a"},{"_and":[{"_has":"b"},{"_has":"c"}]}]}`},
		{thehive.Eq(thehive.CustomFieldPath("synapse-thread"), "T"), `{"_eq":{"_field":"customFields.synapse-thread","_value":"T"}}`},
	}
	for _, tc := range tests {
		b, err := json.Marshal(tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(jsonOf(t, []byte(tc.want)), jsonOf(t, b)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.want, diff)
		}
		if tc.f.String() != string(b) {
			t.Errorf("String() = %s, MarshalJSON = %s", tc.f.String(), b)
		}
	}
	if !(thehive.Filter{}).IsZero() || thehive.Has("x").IsZero() {
		t.Error("IsZero")
	}
	if got, _ := json.Marshal(thehive.FilterOp(thehive.Filter{})); string(got) != `{"_any":null,"_name":"filter"}` {
		t.Errorf("FilterOp of the zero filter: %s", got)
	}
}

// pageRequest is the page operation of a query request.
type pageRequest struct {
	From, To int
	Sort     any
}

func pageOf(t *testing.T, r seen) pageRequest {
	t.Helper()
	var q struct {
		Query []map[string]any `json:"query"`
	}
	if err := json.Unmarshal(r.Body, &q); err != nil {
		t.Fatal(err)
	}
	var p pageRequest
	for _, op := range q.Query {
		switch op["_name"] {
		case "page":
			p.From, p.To = int(op["from"].(float64)), int(op["to"].(float64))
		case "sort":
			p.Sort = op["_fields"]
		}
	}
	return p
}

func TestFindAllPages(t *testing.T) {
	t.Parallel()
	ps := newPinServer(t, ok(200, list(caseJSON, caseJSON)), ok(200, list(caseJSON, caseJSON)), ok(200, list(caseJSON)))
	c := newClient(t, ps.URL+basePath)
	n := 0
	for cs, err := range c.Cases.FindAll(ctx(t), &thehive.Query{Filter: thehive.Eq("status", "New"), From: 4, Limit: 2}) {
		if err != nil {
			t.Fatal(record(err))
		}
		if cs.ID != "~4104" {
			t.Fatalf("item %+v", cs)
		}
		n++
	}
	if n != 5 {
		t.Errorf("%d items, want 5", n)
	}
	var pages []pageRequest
	for _, r := range ps.requests() {
		pages = append(pages, pageOf(t, r))
	}
	sort := []any{map[string]any{"_createdAt": "asc"}}
	want := []pageRequest{{4, 6, sort}, {6, 8, sort}, {8, 10, sort}}
	if diff := cmp.Diff(want, pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}

func TestFindAllStopsEarly(t *testing.T) {
	t.Parallel()
	ps := newPinServer(t, ok(200, list(taskJSON, taskJSON, taskJSON)))
	c := newClient(t, ps.URL+basePath)
	for _, err := range c.Cases.FindTasksAll(ctx(t), "~1", &thehive.Query{Sort: []thehive.Sort{thehive.Desc("order")}, Limit: 3}) {
		if err != nil {
			t.Fatal(record(err))
		}
		break
	}
	reqs := ps.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests after breaking out of the first page", len(reqs))
	}
	if got := pageOf(t, reqs[0]); got.From != 0 || got.To != 3 {
		t.Errorf("page %+v", got)
	}
}

func TestFindAllError(t *testing.T) {
	t.Parallel()
	items := make([]string, thehive.DefaultPageSize)
	for i := range items {
		items[i] = observableJSON
	}
	ps := newPinServer(t, ok(200, list(items...)), ok(400, `{"type":"SearchError","message":"bad"}`))
	c := newClient(t, ps.URL+basePath)
	var got, errs int
	for _, err := range c.Cases.FindObservablesAll(ctx(t), "~1", nil) {
		if err != nil {
			errIs(t, err, thehive.ErrBadRequest)
			errs++
			continue
		}
		got++
	}
	if got != thehive.DefaultPageSize || errs != 1 {
		t.Errorf("%d items and %d errors, want %d and 1", got, errs, thehive.DefaultPageSize)
	}
	if p := pageOf(t, ps.requests()[1]); p.From != 100 || p.To != 200 {
		t.Errorf("second page %+v", p)
	}
	// An invalid query yields its error without any request.
	ps2 := newPinServer(t)
	c2 := newClient(t, ps2.URL+basePath)
	for _, err := range c2.Alerts.FindAll(ctx(t), &thehive.Query{From: -1}) {
		errIs(t, err, thehive.ErrInvalidParams)
	}
	if len(ps2.requests()) != 0 {
		t.Error("an invalid query was sent")
	}
}

func TestFindAllEveryService(t *testing.T) {
	t.Parallel()
	ps := newPinServer(t, ok(200, "[]"))
	c := newClient(t, ps.URL+basePath)
	ctx := ctx(t)
	seqs := map[string]func() error{
		"cases":          func() error { return firstErr(c.Cases.FindAll(ctx, nil)) },
		"alerts":         func() error { return firstErr(c.Alerts.FindAll(ctx, nil)) },
		"observables":    func() error { return firstErr(c.Observables.FindAll(ctx, nil)) },
		"tasks":          func() error { return firstErr(c.Tasks.FindAll(ctx, nil)) },
		"logs":           func() error { return firstErr(c.TaskLogs.FindAll(ctx, "~1", nil)) },
		"users":          func() error { return firstErr(c.Users.FindAll(ctx, nil)) },
		"case templates": func() error { return firstErr(c.CaseTemplates.FindAll(ctx, nil)) },
	}
	for name, run := range seqs {
		if err := run(); err != nil {
			t.Errorf("%s: %v", name, record(err))
		}
	}
	want := map[string]bool{"listCase": true, "listAlert": true, "listObservable": true, "listTask": true,
		"getTask": true, "listUser": true, "listCaseTemplate": true}
	for _, r := range ps.requests() {
		var q struct {
			Query []map[string]any `json:"query"`
		}
		if err := json.Unmarshal(r.Body, &q); err != nil {
			t.Fatal(err)
		}
		delete(want, q.Query[0]["_name"].(string))
	}
	if len(want) != 0 {
		t.Errorf("queries not sent: %v", want)
	}
}

func firstErr[T any](seq func(func(T, error) bool)) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}
