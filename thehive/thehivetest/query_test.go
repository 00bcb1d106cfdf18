package thehivetest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

// seedCases creates four cases with known fields and returns their ids by
// title.
func seedCases(t *testing.T, c *client) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, cs := range []map[string]any{
		{"title": "alpha phishing", "severity": 1, "tags": []any{"mail", "phishing"}, "startDate": 1000},
		{"title": "beta malware", "severity": 2, "tags": []any{"malware"}, "startDate": 2000, "flag": true},
		{"title": "gamma phishing", "severity": 3, "tags": []any{"mail"}, "startDate": 3000, "summary": "s"},
		{"title": "delta", "severity": 4, "startDate": 4000},
	} {
		ids[cs["title"].(string)] = id(createCase(t, c, cs))
	}
	return ids
}

func titles(list []map[string]any) []any {
	out := []any{}
	for _, m := range list {
		out = append(out, m["title"])
	}
	return out
}

func TestQueryFilters(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	ids := seedCases(t, c)
	f := func(op string, arg any) map[string]any { return map[string]any{"_name": "filter", op: arg} }
	fv := func(field string, v any) map[string]any { return map[string]any{"_field": field, "_value": v} }
	tests := []struct {
		name   string
		filter map[string]any
		want   []any
	}{
		{"eq", f("_eq", fv("title", "delta")), []any{"delta"}},
		{"is", f("_is", fv("severity", 2)), []any{"beta malware"}},
		{"eq on a list field", f("_eq", fv("tags", "mail")), []any{"alpha phishing", "gamma phishing"}},
		{"eq on number", f("_eq", fv("number", 3)), []any{"gamma phishing"}},
		{"ne", f("_ne", fv("tags", "mail")), []any{"beta malware", "delta"}},
		{"lt", f("_lt", fv("severity", 2)), []any{"alpha phishing"}},
		{"lte", f("_lte", fv("severity", 2)), []any{"alpha phishing", "beta malware"}},
		{"gt", f("_gt", fv("startDate", 3000)), []any{"delta"}},
		{"gte", f("_gte", fv("startDate", 3000)), []any{"gamma phishing", "delta"}},
		{"between includes from, excludes to", f("_between", map[string]any{"_field": "startDate", "_from": 2000, "_to": 4000}), []any{"beta malware", "gamma phishing"}},
		{"in", f("_in", map[string]any{"_field": "title", "_values": []any{"delta", "nope", "alpha phishing"}}), []any{"alpha phishing", "delta"}},
		{"startsWith", f("_startsWith", fv("title", "gam")), []any{"gamma phishing"}},
		{"endsWith", f("_endsWith", fv("title", "phishing")), []any{"alpha phishing", "gamma phishing"}},
		{"like without wildcard is contains", f("_like", fv("title", "MALW")), []any{"beta malware"}},
		{"like with wildcards", f("_like", fv("title", "*a ph*")), []any{"alpha phishing", "gamma phishing"}},
		{"match words", f("_match", fv("title", "phishing gamma")), []any{"gamma phishing"}},
		{"has", f("_has", "summary"), []any{"gamma phishing"}},
		{"contains (deprecated has)", f("_contains", "summary"), []any{"gamma phishing"}},
		{"id", f("_id", ids["delta"]), []any{"delta"}},
		{"eq on _id", f("_eq", fv("_id", ids["beta malware"])), []any{"beta malware"}},
		{"boolean", f("_eq", fv("flag", true)), []any{"beta malware"}},
		{"and", f("_and", []any{
			map[string]any{"_eq": fv("tags", "mail")},
			map[string]any{"_gt": fv("severity", 1)},
		}), []any{"gamma phishing"}},
		{"or", f("_or", []any{
			map[string]any{"_eq": fv("title", "delta")},
			map[string]any{"_eq": fv("severity", 1)},
		}), []any{"alpha phishing", "delta"}},
		{"not", f("_not", map[string]any{"_eq": fv("tags", "mail")}), []any{"beta malware", "delta"}},
		{"any", f("_any", nil), []any{"alpha phishing", "beta malware", "gamma phishing", "delta"}},
		{"legacy field/value", map[string]any{"_name": "filter", "_field": "title", "_value": "delta"}, []any{"delta"}},
		{"relative date: created in the last hour", f("_gte", map[string]any{"_field": "_createdAt", "_value": map[string]any{"amount": 1, "unit": "hours", "look": "behind"}}),
			[]any{"alpha phishing", "beta malware", "gamma phishing", "delta"}},
		{"relative date: created in the future", f("_gt", map[string]any{"_field": "_createdAt", "_value": map[string]any{"amount": 1, "unit": "days", "look": "ahead"}}),
			[]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := query(c, map[string]any{"_name": "listCase"}, tt.filter).want(t, http.StatusOK).list()
			if d := cmp.Diff(tt.want, titles(got)); d != "" {
				t.Errorf("titles (-want +got):\n%s", d)
			}
		})
	}
}

func TestQueryFiltersOnUsers(t *testing.T) {
	t.Parallel()
	// thehive4py's filter tests run against listUser with the full login.
	srv := thehivetest.NewServer(t, thehivetest.WithUser(thehivetest.User{Login: "user@example.com", Name: "test user", Profile: "analyst"}))
	c := newClient(t, srv)
	u := c.do("GET", "/api/v1/user/user@example.com", nil).want(t, http.StatusOK).obj()
	login := u["login"]
	now := time.Now().UnixMilli() + 1
	for _, filter := range []map[string]any{
		{"_between": map[string]any{"_field": "_createdAt", "_from": 0, "_to": now}},
		{"_has": "login"},
		{"_in": map[string]any{"_field": "login", "_values": []any{"...", "xyz", login}}},
		{"_endsWith": map[string]any{"_field": "login", "_value": login}},
		{"_startsWith": map[string]any{"_field": "login", "_value": login}},
		{"_eq": map[string]any{"_field": "_id", "_value": id(u)}},
		{"_ne": map[string]any{"_field": "_id", "_value": login}},
		{"_id": id(u)},
		{"_gt": map[string]any{"_field": "_createdAt", "_value": 0}},
		{"_lte": map[string]any{"_field": "_createdAt", "_value": now}},
		{"_like": map[string]any{"_field": "login", "_value": login}},
		{"_match": map[string]any{"_field": "login", "_value": login}},
	} {
		filter["_name"] = "filter"
		if n := len(query(c, map[string]any{"_name": "listUser"}, filter).want(t, http.StatusOK).list()); n == 0 {
			t.Errorf("filter %v found nothing", filter)
		}
	}
	found := query(c, map[string]any{"_name": "listUser"}, map[string]any{"_name": "filter", "_eq": map[string]any{"_field": "login", "_value": login}}).list()
	if len(found) != 1 || cmp.Diff(u, found[0]) != "" {
		t.Errorf("found %v, want the user as GET renders it", found)
	}
}

func TestQuerySortPageCount(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	seedCases(t, c)
	list := map[string]any{"_name": "listCase"}
	got := query(c, list, map[string]any{"_name": "sort", "_fields": []any{map[string]any{"severity": "desc"}}}).list()
	if d := cmp.Diff([]any{"delta", "gamma phishing", "beta malware", "alpha phishing"}, titles(got)); d != "" {
		t.Errorf("sort desc (-want +got):\n%s", d)
	}
	got = query(c, list, map[string]any{"_name": "sort", "_fields": []any{"-startDate"}}).list()
	if titles(got)[0] != "delta" {
		t.Errorf("string sort: %v", titles(got))
	}
	// Missing values come last.
	got = query(c, list, map[string]any{"_name": "sort", "_fields": []any{map[string]any{"summary": "asc"}, map[string]any{"number": "desc"}}}).list()
	if d := cmp.Diff([]any{"gamma phishing", "delta", "beta malware", "alpha phishing"}, titles(got)); d != "" {
		t.Errorf("sort with missing values (-want +got):\n%s", d)
	}
	r := query(c, list, map[string]any{"_name": "sort", "_fields": []any{map[string]any{"number": "asc"}}},
		map[string]any{"_name": "page", "from": 1, "to": 3, "extraData": []any{"total"}}).want(t, http.StatusOK)
	if d := cmp.Diff([]any{"beta malware", "gamma phishing"}, titles(r.list())); d != "" {
		t.Errorf("page (-want +got):\n%s", d)
	}
	if r.header.Get("X-Total") != "4" {
		t.Errorf("X-Total %q", r.header.Get("X-Total"))
	}
	if got := query(c, list, map[string]any{"_name": "page", "from": 10, "to": 20}).list(); len(got) != 0 {
		t.Errorf("page past the end: %v", got)
	}
	count := query(c, list, map[string]any{"_name": "filter", "_eq": map[string]any{"_field": "tags", "_value": "mail"}}, map[string]any{"_name": "count"}).want(t, http.StatusOK)
	if count.body != 2.0 || string(count.raw) != "2" {
		t.Errorf("count %s", count.raw)
	}
	// excludeFields drops fields from each object.
	ex := c.do("POST", "/api/v1/query?name=cases", map[string]any{"query": []any{list}, "excludeFields": []any{"description", "tags"}}).list()
	if _, ok := ex[0]["description"]; ok || ex[0]["title"] == nil {
		t.Errorf("excludeFields: %v", ex[0])
	}
}

func TestQueryTraversalsAndGetters(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{"title": "c1"})
	other := createCase(t, c, map[string]any{"title": "c2"})
	task := c.do("POST", "/api/v1/case/"+id(cs)+"/task", map[string]any{"title": "t1"}).want(t, http.StatusCreated).obj()
	c.do("POST", "/api/v1/case/"+id(other)+"/task", map[string]any{"title": "t2"}).want(t, http.StatusCreated)
	a := createAlert(t, c, "q1", nil)
	c.do("POST", "/api/v1/alert/"+id(a)+"/merge/"+id(cs), nil).want(t, http.StatusOK)

	getCase := map[string]any{"_name": "getCase", "idOrName": id(cs)}
	if got := query(c, getCase).list(); len(got) != 1 || got[0]["title"] != "c1" {
		t.Errorf("getCase %v", got)
	}
	if got := query(c, map[string]any{"_name": "getCase", "idOrName": "2"}).list(); len(got) != 1 || got[0]["title"] != "c2" {
		t.Errorf("getCase by number %v", got)
	}
	if got := query(c, map[string]any{"_name": "getCase", "idOrName": "~1"}).want(t, http.StatusOK).list(); len(got) != 0 {
		t.Errorf("getCase of an unknown id: %v", got)
	}
	if got := query(c, getCase, map[string]any{"_name": "tasks"}).list(); len(got) != 1 || got[0]["title"] != "t1" {
		t.Errorf("tasks %v", got)
	}
	if got := query(c, getCase, map[string]any{"_name": "alerts"}).list(); len(got) != 1 || id(got[0]) != id(a) {
		t.Errorf("alerts %v", got)
	}
	if got := query(c, map[string]any{"_name": "getAlert", "idOrName": "external;siem;q1"}, map[string]any{"_name": "case"}).list(); len(got) != 1 || id(got[0]) != id(cs) {
		t.Errorf("alert case %v", got)
	}
	if got := query(c, map[string]any{"_name": "getTask", "idOrName": id(task)}, map[string]any{"_name": "case"}).list(); len(got) != 1 || id(got[0]) != id(cs) {
		t.Errorf("task case %v", got)
	}
	if got := query(c, map[string]any{"_name": "waitingTasks"}).list(); len(got) != 2 {
		t.Errorf("waitingTasks %v", got)
	}
	extra := query(c, map[string]any{"_name": "listTask"}, map[string]any{"_name": "filter", "_eq": map[string]any{"_field": "title", "_value": "t1"}},
		map[string]any{"_name": "page", "from": 0, "to": 10, "extraData": []any{"caseId", "unknownExtra"}}).list()
	if d := cmp.Diff(map[string]any{"caseId": id(cs)}, extra[0]["extraData"]); d != "" {
		t.Errorf("extraData (-want +got):\n%s", d)
	}
	stats := query(c, getCase, map[string]any{"_name": "page", "from": 0, "to": 1, "extraData": []any{"taskStats", "alertCount"}}).list()[0]["extraData"]
	if d := cmp.Diff(map[string]any{"taskStats": map[string]any{"Waiting": 1.0, "total": 1.0}, "alertCount": 1.0}, stats); d != "" {
		t.Errorf("case extraData (-want +got):\n%s", d)
	}
}

func TestQueryErrors(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	tests := []struct {
		name         string
		body         any
		typ, message string
	}{
		{"unknown starting query", map[string]any{"query": []any{map[string]any{"_name": "listNothing"}}}, "AttributeCheckingError",
			"[Invalid format for _name: FString(listNothing), expected query ()]"},
		{"unknown traversal", map[string]any{"query": []any{map[string]any{"_name": "listCase"}, map[string]any{"_name": "logs"}}}, "AttributeCheckingError", ""},
		{"unknown property", map[string]any{"query": []any{map[string]any{"_name": "listCase"},
			map[string]any{"_name": "filter", "_eq": map[string]any{"_field": "colour", "_value": "red"}}}}, "BadRequest", "Property colour for type Case not found"},
		{"unknown sort property", map[string]any{"query": []any{map[string]any{"_name": "listAlert"},
			map[string]any{"_name": "sort", "_fields": []any{map[string]any{"colour": "asc"}}}}}, "BadRequest", "Property colour for type Alert not found"},
		{"unknown operator", map[string]any{"query": []any{map[string]any{"_name": "listCase"},
			map[string]any{"_name": "filter", "_near": map[string]any{"_field": "title", "_value": "x"}}}}, "BadRequest", ""},
		{"no query", map[string]any{}, "AttributeCheckingError", "[Attribute query is missing]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c.do("POST", "/api/v1/query", tt.body).wantError(t, http.StatusBadRequest, tt.typ, tt.message)
		})
	}
}

func TestQueryIsolatesOrganisations(t *testing.T) {
	t.Parallel()
	_, c, other := newServerWithOtherOrg(t)
	createCase(t, c, map[string]any{"title": "mine"})
	theirs := createCase(t, other, map[string]any{"title": "theirs"})
	if got := titles(query(c, map[string]any{"_name": "listCase"}).list()); cmp.Diff([]any{"mine"}, got) != "" {
		t.Errorf("main-org sees %v", got)
	}
	if got := query(c, map[string]any{"_name": "getCase", "idOrName": id(theirs)}).list(); len(got) != 0 {
		t.Errorf("getCase of another organisation's case: %v", got)
	}
}
