package thehivetest_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

func TestInvalidJSON(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	for _, body := range []string{`{"title": `, `["a list"]`} {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL()+"/api/v1/case", bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		c.send(req).wantError(t, http.StatusBadRequest, "BadRequest", "")
	}
}

func TestSimilarAndSharedObservables(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	a, b := createCase(t, c, map[string]any{}), createCase(t, c, map[string]any{})
	al := createAlert(t, c, "s1", map[string]any{"observables": []any{map[string]any{"dataType": "ip", "data": "10.0.0.1"}}})
	obsA := c.do("POST", "/api/v1/case/"+id(a)+"/observable", map[string]any{"dataType": "ip", "data": []any{"10.0.0.1", "10.0.0.2"}}).list()
	c.do("POST", "/api/v1/case/"+id(b)+"/observable", map[string]any{"dataType": "ip", "data": "10.0.0.2"}).want(t, http.StatusCreated)

	similar := func(path string) []any {
		var out []any
		for _, o := range c.do("GET", path, nil).want(t, http.StatusOK).list() {
			out = append(out, o["data"])
		}
		return out
	}
	if d := cmp.Diff([]any{"10.0.0.2"}, similar("/api/v1/case/"+id(a)+"/similar/"+id(b)+"/observables")); d != "" {
		t.Errorf("case/case (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]any{"10.0.0.1"}, similar("/api/v1/alert/"+id(al)+"/similar/"+id(a)+"/observables")); d != "" {
		t.Errorf("alert/case (-want +got):\n%s", d)
	}
	if got := similar("/api/v1/case/" + id(b) + "/similar/" + id(al) + "/observables"); len(got) != 0 {
		t.Errorf("nothing shared, got %v", got)
	}
	got := c.do("POST", "/api/v1/case/"+id(a)+"/observable/_merge", nil).want(t, http.StatusOK).obj()
	if d := cmp.Diff(map[string]any{"deleted": 0.0, "untouched": 2.0, "updated": 0.0}, got); d != "" {
		t.Errorf("merge (-want +got):\n%s", d)
	}
	// thehive4py lists an observable's shares at /api/v1/case/{observableId}/shares.
	for _, path := range []string{"/api/v1/case/" + id(obsA[0]) + "/shares", "/api/v1/observable/" + id(obsA[0]) + "/shares"} {
		if n := len(c.do("GET", path, nil).want(t, http.StatusOK).list()); n != 0 {
			t.Errorf("%s: %d shares", path, n)
		}
	}
	c.do("POST", "/api/v1/observable/"+id(obsA[0])+"/shares", map[string]any{"organisations": []any{thehivetest.Organisation}}).want(t, http.StatusNoContent)
	c.do("GET", "/api/v1/case/~1/shares", nil).want(t, http.StatusNotFound)
	// Traversals from observables to their case or alert.
	parents := query(c, map[string]any{"_name": "listObservable"}, map[string]any{"_name": "filter", "_eq": map[string]any{"_field": "data", "_value": "10.0.0.1"}},
		map[string]any{"_name": "case"}).list()
	if len(parents) != 1 || id(parents[0]) != id(a) {
		t.Errorf("cases %v", parents)
	}
	parents = query(c, map[string]any{"_name": "listObservable"}, map[string]any{"_name": "alert"}).list()
	if len(parents) != 1 || id(parents[0]) != id(al) {
		t.Errorf("alerts %v", parents)
	}
}

func TestReadBackAddsParents(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	al := createAlert(t, c, "rb", nil)
	task := c.do("POST", "/api/v1/case/"+id(cs)+"/task", map[string]any{"title": "t"}).want(t, http.StatusCreated).obj()
	log := c.multipart("POST", "/api/v1/task/"+id(task)+"/log", part{name: "_json", data: []byte(`{"message": "m"}`)},
		part{name: "attachments", filename: "a.txt", data: []byte("a")}).want(t, http.StatusCreated).obj()
	c.do("POST", "/api/v1/alert/"+id(al)+"/comment", map[string]any{"message": "c"}).want(t, http.StatusCreated)
	obs := c.multipart("POST", "/api/v1/case/"+id(cs)+"/observable", part{name: "_json", data: []byte(`{"dataType": "file"}`)},
		part{name: "attachment", filename: "f.bin", data: []byte("f")}).want(t, http.StatusCreated).list()[0]

	extra := func(m map[string]any) any { return m["extraData"] }
	if d := cmp.Diff(map[string]any{"caseId": id(cs)}, extra(srv.Tasks()[0])); d != "" {
		t.Errorf("task (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]any{"caseId": id(cs), "taskId": id(task)}, extra(srv.Logs()[0])); d != "" {
		t.Errorf("log (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]any{"alertId": id(al)}, extra(srv.Comments()[0])); d != "" {
		t.Errorf("comment (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]any{"caseId": id(cs)}, extra(srv.Observables()[0])); d != "" {
		t.Errorf("observable (-want +got):\n%s", d)
	}
	atts := srv.Attachments()
	logAtt := log["attachments"].([]any)[0].(map[string]any)
	want := []any{
		map[string]any{"logId": id(log), "taskId": id(task)},
		map[string]any{"observableId": id(obs), "caseId": id(cs)},
	}
	if d := cmp.Diff(want, []any{extra(atts[0]), extra(atts[1])}); d != "" {
		t.Errorf("attachments (-want +got):\n%s", d)
	}
	if content, kept := srv.AttachmentContent(id(logAtt)); !kept || string(content) != "a" {
		t.Errorf("content %q, kept %v", content, kept)
	}
	users := srv.Users()
	if len(users) != 1 || users[0]["login"] != thehivetest.AdminLogin {
		t.Errorf("users %v", users)
	}
	// Read-back maps are copies.
	srv.Cases()[0]["title"] = "changed"
	if srv.Cases()[0]["title"] == "changed" {
		t.Error("Cases() shares its maps with the store")
	}
}

func TestAddAfterStartAndCannedAnalyzers(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t, thehivetest.WithAnalyzers(thehivetest.Analyzer{
		ID: "Mail_1_0", Name: "Mail", Version: "1.0", DataTypes: []string{"mail"},
		Report:     map[string]any{"verdict": "clean"},
		Taxonomies: []thehivetest.Taxonomy{{Level: "safe", Namespace: "Mail", Predicate: "Verdict", Value: "clean"}},
	}))
	if err := srv.AddCustomField(thehivetest.CustomField{Name: "msgid", Type: "string"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddCustomField(thehivetest.CustomField{Name: "msgid"}); err == nil {
		t.Error("duplicate custom field accepted")
	}
	if err := srv.AddCaseTemplate(thehivetest.CaseTemplate{Name: "Mail", CustomFields: map[string]any{"msgid": "none"}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddCaseTemplate(thehivetest.CaseTemplate{Name: "Bad", Severity: 9}); err == nil {
		t.Error("template with severity 9 accepted")
	}
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{"caseTemplate": "Mail"})
	if v := cs["customFields"].([]any)[0].(map[string]any)["value"]; v != "none" {
		t.Errorf("template value %v", v)
	}
	got := c.do("GET", "/api/connector/cortex/analyzer/Mail_1_0", nil).want(t, http.StatusOK).obj()
	if got["name"] != "Mail" || cmp.Diff([]any{"mail"}, got["dataTypeList"]) != "" {
		t.Errorf("analyzer %v", got)
	}
	c.do("GET", "/api/connector/cortex/analyzer/nope", nil).wantError(t, http.StatusNotFound, "NotFoundError", "Analyzer nope not found")
	obs := c.do("POST", "/api/v1/case/"+id(cs)+"/observable", map[string]any{"dataType": "mail", "data": "a@b.c"}).list()[0]
	job := c.do("POST", "/api/v1/connector/cortex/job", map[string]any{"analyzerId": "Mail", "artifactId": id(obs)}).want(t, http.StatusCreated).obj()
	if full := job["report"].(map[string]any)["full"]; cmp.Diff(map[string]any{"verdict": "clean"}, full) != "" {
		t.Errorf("report %v", full)
	}
	action := c.do("POST", "/api/connector/cortex/action", map[string]any{"responderId": "r", "objectType": "case", "objectId": id(cs)}).want(t, http.StatusOK).obj()
	if action["status"] != "Failure" {
		t.Errorf("action %v", action)
	}
	if n := len(c.do("GET", "/api/v1/connector/cortex/action/case/"+id(cs), nil).want(t, http.StatusOK).list()); n != 1 {
		t.Errorf("%d actions", n)
	}
	lic := c.do("GET", "/api/v1/license/current", nil).want(t, http.StatusOK).obj()
	if _, ok := lic["fallback"].(map[string]any)["expiresAt"].(float64); !ok {
		t.Errorf("license %v", lic)
	}
}

func TestMoreUpdates(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t, thehivetest.WithCustomField(thehivetest.CustomField{Name: "f", Type: "boolean"}))
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{"customFields": map[string]any{"f": true}})
	t1 := c.do("POST", "/api/v1/case/"+id(cs)+"/task", map[string]any{"title": "a"}).obj()
	t2 := c.do("POST", "/api/v1/case/"+id(cs)+"/task", map[string]any{"title": "b", "dueDate": 5}).obj()
	c.do("PATCH", "/api/v1/task/_bulk", map[string]any{"ids": []any{id(t1), id(t2)}, "status": "Completed", "dueDate": nil}).want(t, http.StatusNoContent)
	for _, tk := range srv.Tasks() {
		if tk["status"] != "Completed" || tk["endDate"] == nil || tk["dueDate"] != nil {
			t.Errorf("task %v", tk)
		}
	}
	cfID := id(cs["customFields"].([]any)[0].(map[string]any))
	c.do("DELETE", "/api/v1/case/customField/"+cfID, nil).want(t, http.StatusNoContent)
	c.do("DELETE", "/api/v1/case/customField/"+cfID, nil).want(t, http.StatusNotFound)
	ev := c.do("POST", "/api/v1/case/"+id(cs)+"/customEvent", map[string]any{"date": 1, "title": "e"}).want(t, http.StatusCreated).obj()
	c.do("PATCH", "/api/v1/customEvent/"+id(ev), map[string]any{"title": "renamed", "endDate": 2}).want(t, http.StatusNoContent)
	events := c.do("GET", "/api/v1/case/"+id(cs)+"/timeline", nil).obj()["events"].([]any)
	found := false
	for _, e := range events {
		m := e.(map[string]any)
		if m["entityId"] == id(ev) && m["details"].(map[string]any)["title"] == "renamed" && m["endDate"] == 2.0 {
			found = true
		}
	}
	if !found {
		t.Errorf("timeline %v", events)
	}
	al := createAlert(t, c, "x1", nil)
	c.do("POST", "/api/v1/alert/"+id(al)+"/merge/"+id(cs), nil).want(t, http.StatusOK)
	extra := query(c, map[string]any{"_name": "getAlert", "idOrName": id(al)},
		map[string]any{"_name": "page", "from": 0, "to": 1, "extraData": []any{"caseNumber", "relatedCase", "procedureCount"}}).list()[0]["extraData"]
	want := map[string]any{"caseNumber": 1.0, "procedureCount": 0.0,
		"relatedCase": map[string]any{"number": 1.0, "accessKind": "OrganisationAccessKind", "isVisible": true}}
	if d := cmp.Diff(want, extra); d != "" {
		t.Errorf("alert extraData (-want +got):\n%s", d)
	}
	lg := c.do("POST", "/api/v1/task/"+id(t1)+"/log", map[string]any{"message": "m"}).obj()
	logExtra := query(c, map[string]any{"_name": "getLog", "idOrName": id(lg)},
		map[string]any{"_name": "page", "from": 0, "to": 1, "extraData": []any{"taskId", "task", "case"}}).list()[0]["extraData"].(map[string]any)
	if logExtra["taskId"] != id(t1) || logExtra["task"].(map[string]any)["_id"] != id(t1) || logExtra["case"].(map[string]any)["_id"] != id(cs) {
		t.Errorf("log extraData %v", logExtra)
	}
}
