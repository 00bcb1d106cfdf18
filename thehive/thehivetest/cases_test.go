package thehivetest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

func TestCreateCaseDefaults(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	got := c.do("POST", "/api/v1/case", map[string]any{"title": "Phishing", "description": "a mail"}).want(t, http.StatusCreated).obj()
	want := map[string]any{
		"_type": "Case", "_createdBy": thehivetest.AdminLogin, "number": float64(1),
		"title": "Phishing", "description": "a mail",
		"severity": float64(2), "severityLabel": "MEDIUM", "tlp": float64(2), "tlpLabel": "AMBER",
		"pap": float64(2), "papLabel": "AMBER", "flag": false, "status": "New", "stage": "New",
		"assignee": thehivetest.AdminLogin, "access": map[string]any{"_kind": "OrganisationAccessKind"},
		"customFields": []any{}, "userPermissions": []any{}, "extraData": map[string]any{},
	}
	if d := diff(want, got); d != "" {
		t.Errorf("created case (-want +got):\n%s", d)
	}
	if s, _ := got["_id"].(string); len(s) < 2 || s[0] != '~' {
		t.Errorf("_id %q is not ~NNN", s)
	}
	for _, k := range []string{"_createdAt", "startDate", "newDate"} {
		if _, ok := got[k].(float64); !ok {
			t.Errorf("%s = %v, want epoch milliseconds", k, got[k])
		}
	}
	// GET answers what the creation answered, by id and by number.
	for _, ref := range []string{id(got), "1"} {
		if d := cmp.Diff(got, c.do("GET", "/api/v1/case/"+ref, nil).want(t, http.StatusOK).obj()); d != "" {
			t.Errorf("GET %s (-created +fetched):\n%s", ref, d)
		}
	}
}

func TestCaseNumbersPerOrganisation(t *testing.T) {
	t.Parallel()
	srv, c, other := newServerWithOtherOrg(t)
	var numbers []any
	for range 3 {
		numbers = append(numbers, createCase(t, c, map[string]any{})["number"])
	}
	numbers = append(numbers, createCase(t, other, map[string]any{})["number"])
	if d := cmp.Diff([]any{1.0, 2.0, 3.0, 1.0}, numbers); d != "" {
		t.Errorf("numbers (-want +got):\n%s", d)
	}
	// A case of another organisation is invisible.
	c.do("GET", "/api/v1/case/"+id(srv.Cases()[3]), nil).wantError(t, http.StatusNotFound, "NotFoundError", "Case not found")
}

func TestCreateCaseRejections(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t, thehivetest.WithUser(thehivetest.User{Login: "elsewhere@soc", Organisation: thehivetest.AdminOrganisation, Profile: "admin"}))
	c := newClient(t, srv)
	tests := []struct {
		name          string
		body          map[string]any
		status        int
		typ, message  string
		attributeErrs []any
	}{
		{
			name: "missing title and description", body: map[string]any{"severity": 2},
			status: 400, typ: "AttributeCheckingError", message: "[Attribute title is missing][Attribute description is missing]",
			attributeErrs: []any{
				map[string]any{"name": "title", "type": "MissingAttributeError"},
				map[string]any{"name": "description", "type": "MissingAttributeError"},
			},
		},
		{
			name: "severity out of range", body: map[string]any{"title": "t", "description": "d", "severity": 5},
			status: 400, typ: "AttributeCheckingError", message: "[Invalid format for severity: FNumber(5), expected int (1,2,3,4)]",
		},
		{
			name: "tlp out of range", body: map[string]any{"title": "t", "description": "d", "tlp": 5},
			status: 400, typ: "AttributeCheckingError", message: "[Invalid format for tlp: FNumber(5), expected int (0,1,2,3,4)]",
		},
		{
			name: "pap out of range", body: map[string]any{"title": "t", "description": "d", "pap": 4},
			status: 400, typ: "AttributeCheckingError", message: "[Invalid format for pap: FNumber(4), expected int (0,1,2,3)]",
		},
		{
			name: "unknown status", body: map[string]any{"title": "t", "description": "d", "status": "Open"},
			status: 400, typ: "AttributeCheckingError",
		},
		{
			name: "title of the wrong type", body: map[string]any{"title": 3, "description": "d"},
			status: 400, typ: "AttributeCheckingError", message: "[Invalid format for title: FNumber(3), expected string ()]",
		},
		{
			name: "unknown assignee", body: map[string]any{"title": "t", "description": "d", "assignee": "nobody@soc"},
			status: 404, typ: "NotFoundError", message: "User not found",
		},
		{
			name: "assignee of another organisation", body: map[string]any{"title": "t", "description": "d", "assignee": "elsewhere@soc"},
			status: 404, typ: "NotFoundError", message: "User not found",
		},
		{
			name: "unknown case template", body: map[string]any{"title": "t", "description": "d", "caseTemplate": "nope"},
			status: 404, typ: "NotFoundError", message: "CaseTemplate not found",
		},
		{
			name: "unknown custom field", body: map[string]any{"title": "t", "description": "d", "customFields": map[string]any{"nope": "x"}},
			status: 404, typ: "NotFoundError", message: "CustomField nope not found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := c.do("POST", "/api/v1/case", tt.body)
			r.wantError(t, tt.status, tt.typ, tt.message)
			if tt.attributeErrs != nil {
				if d := cmp.Diff(tt.attributeErrs, r.obj()["errors"]); d != "" {
					t.Errorf("errors (-want +got):\n%s", d)
				}
			}
		})
	}
	if n := len(srv.Cases()); n != 0 {
		t.Errorf("%d cases stored after rejected creations", n)
	}
}

func TestUpdateCase(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t, thehivetest.WithUser(thehivetest.User{Login: "bob@soc", Profile: "analyst"}))
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{"tags": []any{"a", "b"}, "summary": "s", "impactStatus": "NoImpact"})
	path := "/api/v1/case/" + id(cs)
	r := c.do("PATCH", path, map[string]any{
		"title": "renamed", "severity": 4, "assignee": "bob@soc", "addTags": []any{"c"}, "removeTags": []any{"a"},
	})
	if r.want(t, http.StatusNoContent); len(r.raw) != 0 {
		t.Errorf("PATCH answered a body: %s", r.raw)
	}
	got := c.do("GET", path, nil).want(t, http.StatusOK).obj()
	want := map[string]any{"title": "renamed", "severity": 4.0, "severityLabel": "CRITICAL", "assignee": "bob@soc", "tags": []any{"b", "c"}, "_updatedBy": thehivetest.AdminLogin}
	for k, v := range want {
		if d := cmp.Diff(v, got[k]); d != "" {
			t.Errorf("%s (-want +got):\n%s", k, d)
		}
	}
	if _, ok := got["_updatedAt"].(float64); !ok {
		t.Errorf("_updatedAt = %v", got["_updatedAt"])
	}
	// null clears optional fields.
	c.do("PATCH", path, map[string]any{"summary": nil, "assignee": nil, "impactStatus": nil}).want(t, http.StatusNoContent)
	got = c.do("GET", path, nil).want(t, http.StatusOK).obj()
	for _, k := range []string{"summary", "assignee", "impactStatus"} {
		if v, ok := got[k]; ok {
			t.Errorf("%s = %v after PATCH null", k, v)
		}
	}
	// Rejections leave the case unchanged.
	c.do("PATCH", path, map[string]any{"assignee": "ghost@soc"}).wantError(t, http.StatusNotFound, "NotFoundError", "User not found")
	c.do("PATCH", path, map[string]any{"severity": 0}).wantError(t, http.StatusBadRequest, "AttributeCheckingError", "")
	c.do("PATCH", "/api/v1/case/~1", map[string]any{"title": "x"}).wantError(t, http.StatusNotFound, "NotFoundError", "Case not found")
	if got2 := c.do("GET", path, nil).obj(); got2["title"] != "renamed" || got2["severity"] != 4.0 {
		t.Errorf("case changed by rejected updates: %v", got2)
	}
}

func TestCloseAndReopenCase(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	srv := thehivetest.NewServer(t, thehivetest.WithClock(func() time.Time { return now }))
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	task := c.do("POST", "/api/v1/case/"+id(cs)+"/task", map[string]any{"title": "triage"}).want(t, http.StatusCreated).obj()
	path := "/api/v1/case/" + id(cs)
	c.do("PATCH", path, map[string]any{"status": "TruePositive", "impactStatus": "WithImpact", "summary": "done"}).want(t, http.StatusNoContent)
	got := c.do("GET", path, nil).obj()
	ms := float64(now.UnixMilli())
	want := map[string]any{"status": "TruePositive", "stage": "Closed", "impactStatus": "WithImpact", "summary": "done", "closedDate": ms, "endDate": ms}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if st := c.do("GET", "/api/v1/task/"+id(task), nil).obj()["status"]; st != "Cancel" {
		t.Errorf("open task of a closed case is %v, want Cancel", st)
	}
	c.do("PATCH", path, map[string]any{"status": "InProgress"}).want(t, http.StatusNoContent)
	got = c.do("GET", path, nil).obj()
	if got["status"] != "InProgress" || got["stage"] != "InProgress" || got["summary"] != "done" {
		t.Errorf("reopened case %v", got)
	}
	c.do("PATCH", path, map[string]any{"impactStatus": "Huge"}).wantError(t, http.StatusBadRequest, "AttributeCheckingError", "")
}

func TestBulkUpdateAndDeleteCases(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	a, b := createCase(t, c, map[string]any{}), createCase(t, c, map[string]any{})
	c.do("PATCH", "/api/v1/case/_bulk", map[string]any{"ids": []any{id(a), id(b)}, "title": "same"}).want(t, http.StatusNoContent)
	for _, cs := range srv.Cases() {
		if cs["title"] != "same" {
			t.Errorf("case %v not updated", cs["_id"])
		}
	}
	c.do("PATCH", "/api/v1/case/_bulk", map[string]any{"title": "x"}).wantError(t, http.StatusBadRequest, "AttributeCheckingError", "[Attribute ids is missing]")
	task := c.do("POST", "/api/v1/case/"+id(a)+"/task", map[string]any{"title": "t"}).want(t, http.StatusCreated).obj()
	r := c.do("DELETE", "/api/v1/case/"+id(a), nil)
	if r.want(t, http.StatusNoContent); len(r.raw) != 0 {
		t.Errorf("DELETE answered a body: %s", r.raw)
	}
	c.do("GET", "/api/v1/case/"+id(a), nil).wantError(t, http.StatusNotFound, "NotFoundError", "Case not found")
	c.do("GET", "/api/v1/task/"+id(task), nil).wantError(t, http.StatusNotFound, "NotFoundError", "Task not found")
	c.do("DELETE", "/api/v1/case/"+id(a), nil).want(t, http.StatusNotFound)
	// Numbers are not reused.
	if n := createCase(t, c, map[string]any{})["number"]; n != 3.0 {
		t.Errorf("next number %v, want 3", n)
	}
}

func TestMergeCases(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	a := createCase(t, c, map[string]any{"title": "my first case", "tags": []any{"x"}, "severity": 1})
	b := createCase(t, c, map[string]any{"title": "my second case", "tags": []any{"y"}, "severity": 3})
	c.do("POST", "/api/v1/case/"+id(a)+"/observable", map[string]any{"dataType": "domain", "data": "example.com"}).want(t, http.StatusCreated)
	c.do("POST", "/api/v1/case/"+id(b)+"/observable", map[string]any{"dataType": "domain", "data": []any{"example.com", "example.org"}}).want(t, http.StatusCreated)
	merged := c.do("POST", "/api/v1/case/_merge/"+id(a)+",2", nil).want(t, http.StatusCreated).obj()
	if merged["title"] != "my first case / my second case" || merged["severity"] != 3.0 || merged["number"] != 3.0 {
		t.Errorf("merged %v", merged)
	}
	if d := cmp.Diff([]any{"x", "y"}, merged["tags"]); d != "" {
		t.Errorf("tags (-want +got):\n%s", d)
	}
	for _, ref := range []string{id(a), id(b)} {
		c.do("GET", "/api/v1/case/"+ref, nil).want(t, http.StatusNotFound)
	}
	obs := query(c, map[string]any{"_name": "getCase", "idOrName": id(merged)}, map[string]any{"_name": "observables"}).want(t, http.StatusOK).list()
	if len(obs) != 2 {
		t.Errorf("merged case has %d observables, want 2 (duplicates merged)", len(obs))
	}
	c.do("POST", "/api/v1/case/_merge/"+id(merged), nil).wantError(t, http.StatusBadRequest, "BadRequest", "")
}

func TestCaseTemplateAppliedAtCreation(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t,
		thehivetest.WithCustomField(thehivetest.CustomField{Name: "business-unit", Type: "string"}),
		thehivetest.WithCustomField(thehivetest.CustomField{Name: "hits", Type: "integer"}),
		thehivetest.WithCaseTemplate(thehivetest.CaseTemplate{
			Name: "Phishing", TitlePrefix: "[PHISH]", Severity: 3, Tags: []string{"phishing"},
			Tasks: []thehivetest.TemplateTask{
				{Title: "Communication", Group: "mail"},
				{Title: "Analysis", Description: "look at it"},
			},
			CustomFields: map[string]any{"business-unit": "SOC", "hits": 1},
		}),
	)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{"title": "Invoice", "caseTemplate": "Phishing", "tags": []any{"mail"}, "customFields": map[string]any{"hits": 7}})
	if cs["title"] != "[PHISH] Invoice" || cs["severity"] != 3.0 {
		t.Errorf("case %v", cs)
	}
	if d := cmp.Diff([]any{"mail", "phishing"}, cs["tags"]); d != "" {
		t.Errorf("tags (-want +got):\n%s", d)
	}
	var values []any
	for _, cf := range cs["customFields"].([]any) {
		m := cf.(map[string]any)
		values = append(values, []any{m["name"], m["type"], m["value"]})
	}
	if d := cmp.Diff([]any{[]any{"business-unit", "string", "SOC"}, []any{"hits", "integer", 7.0}}, values); d != "" {
		t.Errorf("custom fields (-want +got):\n%s", d)
	}
	tasks := query(c, map[string]any{"_name": "getCase", "idOrName": id(cs)}, map[string]any{"_name": "tasks"},
		map[string]any{"_name": "sort", "_fields": []any{map[string]any{"order": "asc"}}}).want(t, http.StatusOK).list()
	var got [][2]any
	for _, tk := range tasks {
		got = append(got, [2]any{tk["title"], tk["group"]})
	}
	if d := cmp.Diff([][2]any{{"Communication", "mail"}, {"Analysis", "default"}}, got); d != "" {
		t.Errorf("tasks (-want +got):\n%s", d)
	}
	// Tasks given with the case replace the template's.
	cs2 := createCase(t, c, map[string]any{"caseTemplate": "Phishing", "tasks": []any{map[string]any{"title": "Only"}}})
	tasks = query(c, map[string]any{"_name": "getCase", "idOrName": id(cs2)}, map[string]any{"_name": "tasks"}).list()
	if len(tasks) != 1 || tasks[0]["title"] != "Only" {
		t.Errorf("tasks %v", tasks)
	}
}

func TestCaseCustomFields(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t,
		thehivetest.WithCustomField(thehivetest.CustomField{Name: "thread", Type: "string"}),
		thehivetest.WithCustomField(thehivetest.CustomField{Name: "score", Type: "float"}),
		thehivetest.WithCustomField(thehivetest.CustomField{Name: "level", Type: "string", Options: []any{"low", "high"}}),
	)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{"customFields": []any{map[string]any{"name": "thread", "value": "<a@b>", "order": 1}}})
	path := "/api/v1/case/" + id(cs)
	// The object form merges, the list form replaces.
	c.do("PATCH", path, map[string]any{"customFields": map[string]any{"score": 1.5}}).want(t, http.StatusNoContent)
	values := func() map[string]any {
		out := map[string]any{}
		for _, cf := range c.do("GET", path, nil).obj()["customFields"].([]any) {
			m := cf.(map[string]any)
			out[m["name"].(string)] = m["value"]
		}
		return out
	}
	if d := cmp.Diff(map[string]any{"thread": "<a@b>", "score": 1.5}, values()); d != "" {
		t.Errorf("after merge (-want +got):\n%s", d)
	}
	c.do("PATCH", path, map[string]any{"customFields": []any{map[string]any{"name": "level", "value": "high"}}}).want(t, http.StatusNoContent)
	if d := cmp.Diff(map[string]any{"level": "high"}, values()); d != "" {
		t.Errorf("after replace (-want +got):\n%s", d)
	}
	c.do("PATCH", path, map[string]any{"customFields": map[string]any{"level": "medium"}}).wantError(t, http.StatusBadRequest, "BadRequest", "")
	c.do("PATCH", path, map[string]any{"customFields": map[string]any{"score": "high"}}).wantError(t, http.StatusBadRequest, "BadRequest", "")
	// The query API filters on custom fields.
	createCase(t, c, map[string]any{"customFields": map[string]any{"thread": "<other@b>"}})
	c.do("PATCH", path, map[string]any{"customFields": map[string]any{"thread": "<a@b>"}}).want(t, http.StatusNoContent)
	found := query(c, map[string]any{"_name": "listCase"},
		map[string]any{"_name": "filter", "_eq": map[string]any{"_field": "customFields.thread", "_value": "<a@b>"}}).want(t, http.StatusOK).list()
	if len(found) != 1 || id(found[0]) != id(cs) {
		t.Errorf("found %v", found)
	}
}

func TestCaseLinksAndAccess(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	a, b := createCase(t, c, map[string]any{}), createCase(t, c, map[string]any{})
	c.do("GET", "/api/v1/case/link/types", nil).want(t, http.StatusOK)
	c.do("POST", "/api/v1/case/"+id(a)+"/link/case/add", map[string]any{"type": "related", "caseId": id(b)}).want(t, http.StatusNoContent)
	c.do("POST", "/api/v1/case/"+id(a)+"/link/external/add", map[string]any{"type": "ticket", "url": "https://example.com"}).want(t, http.StatusNoContent)
	page := map[string]any{"_name": "page", "from": 0, "to": 1, "extraData": []any{"links"}}
	got := query(c, map[string]any{"_name": "getCase", "idOrName": id(a)}, page).want(t, http.StatusOK).list()[0]
	links := got["extraData"].(map[string]any)["links"].(map[string]any)
	if links["caseLinks"].([]any)[0].(map[string]any)["caseId"] != id(b) || links["externalLinks"].([]any)[0].(map[string]any)["url"] != "https://example.com" {
		t.Errorf("links %v", links)
	}
	c.do("POST", "/api/v1/case/"+id(a)+"/link/case/remove", map[string]any{"type": "related", "caseId": id(b)}).want(t, http.StatusNoContent)
	got = query(c, map[string]any{"_name": "getCase", "idOrName": id(a)}, page).list()[0]
	if n := len(got["extraData"].(map[string]any)["links"].(map[string]any)["caseLinks"].([]any)); n != 0 {
		t.Errorf("%d case links after removal", n)
	}
	c.do("POST", "/api/v1/case/"+id(a)+"/access", map[string]any{"access": map[string]any{"_kind": "UserAccessKind", "users": []any{thehivetest.AdminLogin}}}).want(t, http.StatusNoContent)
	if k := c.do("GET", "/api/v1/case/"+id(a), nil).obj()["access"].(map[string]any)["_kind"]; k != "UserAccessKind" {
		t.Errorf("access kind %v", k)
	}
	// Two cases sharing an observable are linked.
	for _, cs := range []map[string]any{a, b} {
		c.do("POST", "/api/v1/case/"+id(cs)+"/observable", map[string]any{"dataType": "domain", "data": "example.com"}).want(t, http.StatusCreated)
	}
	linked := c.do("GET", "/api/v1/case/"+id(a)+"/links", nil).want(t, http.StatusOK).list()
	if len(linked) != 1 || id(linked[0]) != id(b) || linked[0]["linksCount"] != 1.0 {
		t.Errorf("linked cases %v", linked)
	}
}

func TestCaseTimeline(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	ev := c.do("POST", "/api/v1/case/"+id(cs)+"/customEvent", map[string]any{"date": 1, "title": "first contact"}).want(t, http.StatusCreated).obj()
	events := c.do("GET", "/api/v1/case/"+id(cs)+"/timeline", nil).want(t, http.StatusOK).obj()["events"].([]any)
	if len(events) != 2 || events[0].(map[string]any)["entityId"] != id(ev) {
		t.Fatalf("events %v", events)
	}
	c.do("DELETE", "/api/v1/customEvent/"+id(ev), nil).want(t, http.StatusNoContent)
	events = c.do("GET", "/api/v1/case/"+id(cs)+"/timeline", nil).obj()["events"].([]any)
	if len(events) != 1 || events[0].(map[string]any)["kind"] != "CaseCreated" {
		t.Errorf("events %v", events)
	}
}
