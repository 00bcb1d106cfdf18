package thehivetest_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

func TestCreateAlertDefaults(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	got := c.do("POST", "/api/v1/alert", map[string]any{
		"type": "test", "source": "test", "sourceRef": "first", "title": "my first alert", "description": "...",
		"externalLink": "http://", "date": 123, "tags": []any{"whatever"},
	}).want(t, http.StatusCreated).obj()
	want := map[string]any{
		"_type": "Alert", "_createdBy": thehivetest.AdminLogin,
		"type": "test", "source": "test", "sourceRef": "first", "title": "my first alert", "description": "...",
		"externalLink": "http://", "tags": []any{"whatever"},
		"severity": 2.0, "severityLabel": "MEDIUM", "tlp": 2.0, "tlpLabel": "AMBER", "pap": 2.0, "papLabel": "AMBER",
		"follow": true, "customFields": []any{}, "observableCount": 0.0, "status": "New", "stage": "New",
		"extraData": map[string]any{},
	}
	if d := diff(want, got); d != "" {
		t.Errorf("created alert (-want +got):\n%s", d)
	}
	if got["date"] != 123.0 {
		t.Errorf("date %v, want 123", got["date"])
	}
	for _, ref := range []string{id(got), "test;test;first"} {
		if d := cmp.Diff(got, c.do("GET", "/api/v1/alert/"+ref, nil).want(t, http.StatusOK).obj()); d != "" {
			t.Errorf("GET %s (-created +fetched):\n%s", ref, d)
		}
	}
}

func TestDuplicateAlert(t *testing.T) {
	t.Parallel()
	srv, c, other := newServerWithOtherOrg(t)
	createAlert(t, c, "r1", nil)
	c.do("POST", "/api/v1/alert", map[string]any{"type": "external", "source": "siem", "sourceRef": "r1", "title": "again", "description": "d"}).
		wantError(t, http.StatusBadRequest, "CreateError", "Alert external:siem:r1 already exist in organisation main-org")
	// Another sourceRef, type or source is a different alert.
	createAlert(t, c, "r2", nil)
	createAlert(t, c, "r1", map[string]any{"type": "internal"})
	// The same triple is allowed in another organisation.
	createAlert(t, other, "r1", nil)
	// Changing a triple onto an existing one is refused too.
	a2 := srv.Alerts()[1]
	c.do("PATCH", "/api/v1/alert/"+id(a2), map[string]any{"sourceRef": "r1"}).wantError(t, http.StatusBadRequest, "CreateError", "")
	if n := len(srv.Alerts()); n != 4 {
		t.Errorf("%d alerts stored, want 4", n)
	}
}

func TestConcurrentDuplicateAlertsCreateOne(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	body := map[string]any{"type": "t", "source": "s", "sourceRef": "same", "title": "x", "description": "y"}
	statuses := make([]int, 16)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = c.do("POST", "/api/v1/alert", body).status
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if d := cmp.Diff(map[int]int{201: 1, 400: 15}, count); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
}

func TestCreateAlertRejections(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	tests := []struct {
		name         string
		body         map[string]any
		status       int
		typ, message string
	}{
		{"missing attributes", map[string]any{"title": "t"}, 400, "AttributeCheckingError",
			"[Attribute type is missing][Attribute source is missing][Attribute sourceRef is missing][Attribute description is missing]"},
		{"severity out of range", map[string]any{"type": "t", "source": "s", "sourceRef": "1", "title": "t", "description": "d", "severity": 9}, 400, "AttributeCheckingError", ""},
		{"unknown status", map[string]any{"type": "t", "source": "s", "sourceRef": "1", "title": "t", "description": "d", "status": "Imported"}, 400, "AttributeCheckingError", ""},
		{"unknown assignee", map[string]any{"type": "t", "source": "s", "sourceRef": "1", "title": "t", "description": "d", "assignee": "ghost@soc"}, 404, "NotFoundError", "User not found"},
		{"unknown observable type", map[string]any{"type": "t", "source": "s", "sourceRef": "1", "title": "t", "description": "d",
			"observables": []any{map[string]any{"dataType": "color", "data": "red"}}}, 404, "NotFoundError", "ObservableType color not found"},
		{"observable without type", map[string]any{"type": "t", "source": "s", "sourceRef": "1", "title": "t", "description": "d",
			"observables": []any{map[string]any{"data": "red"}}}, 400, "AttributeCheckingError", "[Attribute observables[0].dataType is missing]"},
		{"file observable without its part", map[string]any{"type": "t", "source": "s", "sourceRef": "1", "title": "t", "description": "d",
			"observables": []any{map[string]any{"dataType": "file", "attachment": "f1"}}}, 400, "BadRequest", "Attachment f1 not found in the request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c.do("POST", "/api/v1/alert", tt.body).wantError(t, tt.status, tt.typ, tt.message)
		})
	}
	if n := len(srv.Alerts()); n != 0 {
		t.Errorf("%d alerts stored after rejected creations", n)
	}
}

func TestCreateAlertWithObservables(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	created := c.do("POST", "/api/v1/alert", map[string]any{
		"type": "test", "source": "test", "sourceRef": "second", "title": "t", "description": "d",
		"observables": []any{
			map[string]any{"dataType": "url", "data": "example.org"},
			map[string]any{"dataType": "mail", "data": "foo@example.org", "tags": []any{"a"}},
			map[string]any{"dataType": "mail", "data": "foo@example.org", "tags": []any{"b"}},
		},
	}).want(t, http.StatusCreated).obj()
	if created["observableCount"] != 2.0 {
		t.Errorf("observableCount %v, want 2 (duplicates merged)", created["observableCount"])
	}
	// Like TheHive, the answer lacks the update the observables made.
	fetched := c.do("GET", "/api/v1/alert/"+id(created), nil).obj()
	if _, ok := created["_updatedAt"]; ok {
		t.Error("creation answer has _updatedAt")
	}
	delete(fetched, "_updatedAt")
	delete(fetched, "_updatedBy")
	if d := cmp.Diff(created, fetched); d != "" {
		t.Errorf("(-created +fetched):\n%s", d)
	}
	obs := query(c, map[string]any{"_name": "getAlert", "idOrName": id(created)}, map[string]any{"_name": "observables"},
		map[string]any{"_name": "filter", "_eq": map[string]any{"_field": "dataType", "_value": "mail"}}).want(t, http.StatusOK).list()
	if len(obs) != 1 || cmp.Diff([]any{"a", "b"}, obs[0]["tags"]) != "" {
		t.Errorf("merged observable %v", obs)
	}
}

func TestCreateAlertMultipart(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	alert, _ := json.Marshal(map[string]any{
		"type": "test", "source": "test", "sourceRef": "third", "title": "t", "description": "d",
		"observables": []any{
			map[string]any{"dataType": "url", "data": "example.com"},
			map[string]any{"dataType": "file", "attachment": "obs1"},
		},
	})
	// thehive4py sends "_json" as a file part named after its key, last.
	got := c.multipart("POST", "/api/v1/alert",
		part{name: "obs1", filename: "alert-observable.txt", contentType: "text/plain", data: []byte("observable content")},
		part{name: "_json", filename: "_json", data: alert},
	).want(t, http.StatusCreated).obj()
	if got["observableCount"] != 2.0 {
		t.Errorf("observableCount %v", got["observableCount"])
	}
	var file map[string]any
	for _, o := range srv.Observables() {
		if o["dataType"] == "file" {
			file = o
		}
	}
	att, _ := file["attachment"].(map[string]any)
	want := map[string]any{
		"_type": "Attachment", "_createdBy": thehivetest.AdminLogin, "name": "alert-observable.txt", "contentType": "text/plain",
		"size": 18.0, "extraData": map[string]any{}, "hashes": hashesOf([]byte("observable content")),
	}
	if d := diff(want, att); d != "" {
		t.Errorf("attachment (-want +got):\n%s", d)
	}
	if att["id"] != want["hashes"].([]any)[0] {
		t.Errorf("id %v is not the SHA-256", att["id"])
	}
	if _, ok := file["data"]; ok {
		t.Error("file observable has data")
	}
}

func TestPromoteAlert(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t,
		thehivetest.WithCustomField(thehivetest.CustomField{Name: "source-id", Type: "string"}),
		thehivetest.WithCaseTemplate(thehivetest.CaseTemplate{Name: "Alerts", TitlePrefix: "[A]", Tasks: []thehivetest.TemplateTask{{Title: "Review"}}}),
	)
	c := newClient(t, srv)
	a := createAlert(t, c, "p1", map[string]any{
		"severity": 3, "tags": []any{"t1"}, "caseTemplate": "Alerts", "date": 1000,
		"customFields": map[string]any{"source-id": "42"},
		"observables":  []any{map[string]any{"dataType": "ip", "data": "10.0.0.1"}},
	})
	cs := c.do("POST", "/api/v1/alert/"+id(a)+"/case", map[string]any{}).want(t, http.StatusCreated).obj()
	if cs["title"] != "[A] alert p1" || cs["severity"] != 3.0 || cs["alertDate"] != 1000.0 {
		t.Errorf("case %v", cs)
	}
	if d := cmp.Diff([]any{"t1"}, cs["tags"]); d != "" {
		t.Errorf("tags (-want +got):\n%s", d)
	}
	if v := cs["customFields"].([]any)[0].(map[string]any)["value"]; v != "42" {
		t.Errorf("custom field %v", v)
	}
	got := c.do("GET", "/api/v1/alert/"+id(a), nil).obj()
	if got["caseId"] != id(cs) || got["status"] != "Imported" || got["stage"] != "Imported" {
		t.Errorf("promoted alert %v", got)
	}
	obs := query(c, map[string]any{"_name": "getCase", "idOrName": id(cs)}, map[string]any{"_name": "observables"}).list()
	tasks := query(c, map[string]any{"_name": "getCase", "idOrName": id(cs)}, map[string]any{"_name": "tasks"}).list()
	if len(obs) != 1 || obs[0]["data"] != "10.0.0.1" || len(tasks) != 1 {
		t.Errorf("observables %v, tasks %v", obs, tasks)
	}
	// Promoting again answers the same case.
	again := c.do("POST", "/api/v1/alert/"+id(a)+"/case", nil).want(t, http.StatusCreated).obj()
	if id(again) != id(cs) || len(srv.Cases()) != 1 {
		t.Errorf("second promotion made case %v", id(again))
	}
	// Overrides change the case, not the alert.
	b := createAlert(t, c, "p2", nil)
	cs2 := c.do("POST", "/api/v1/alert/"+id(b)+"/case", map[string]any{"title": "promoted title"}).want(t, http.StatusCreated).obj()
	if cs2["title"] != "promoted title" || c.do("GET", "/api/v1/alert/"+id(b), nil).obj()["title"] != "alert p2" {
		t.Errorf("override: case %v", cs2["title"])
	}
	c.do("POST", "/api/v1/alert/~1/case", nil).wantError(t, http.StatusNotFound, "NotFoundError", "Alert not found")
}

func TestMergeAndImportAlerts(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{"description": "base", "tags": []any{"c"}})
	a := createAlert(t, c, "m1", map[string]any{"tags": []any{"a"}, "observables": []any{map[string]any{"dataType": "domain", "data": "x.org"}}})
	merged := c.do("POST", "/api/v1/alert/"+id(a)+"/merge/"+id(cs), nil).want(t, http.StatusOK).obj()
	if id(merged) != id(cs) || merged["description"] != "base\n  \n#### Merged with alert #m1 alert m1\n\nseen" {
		t.Errorf("merged case %v", merged)
	}
	if d := cmp.Diff([]any{"c", "a"}, merged["tags"]); d != "" {
		t.Errorf("tags (-want +got):\n%s", d)
	}
	if got := c.do("GET", "/api/v1/alert/"+id(a), nil).obj(); got["caseId"] != id(cs) || got["status"] != "Imported" {
		t.Errorf("merged alert %v", got)
	}
	c.do("POST", "/api/v1/alert/"+id(a)+"/merge/"+id(cs), nil).wantError(t, http.StatusBadRequest, "BadRequest", "Alert is already imported")

	b := createAlert(t, c, "m2", nil)
	imported := c.do("POST", "/api/v1/alert/"+id(b)+"/import/"+id(cs), nil).want(t, http.StatusOK).obj()
	if imported["description"] != merged["description"] {
		t.Error("import changed the description")
	}
	d1, d2 := createAlert(t, c, "m3", nil), createAlert(t, c, "m4", nil)
	c.do("POST", "/api/v1/alert/merge/_bulk", map[string]any{"caseId": "1", "alertIds": []any{id(d1), id(d2)}}).want(t, http.StatusOK)
	for _, al := range srv.Alerts() {
		if al["caseId"] != id(cs) {
			t.Errorf("alert %v has caseId %v", al["sourceRef"], al["caseId"])
		}
	}
	// Unlinking removes the case id.
	c.do("DELETE", "/api/v1/case/"+id(cs)+"/alert/"+id(b), nil).want(t, http.StatusNoContent)
	if _, ok := c.do("GET", "/api/v1/alert/"+id(b), nil).obj()["caseId"]; ok {
		t.Error("caseId kept after unlink")
	}
}

func TestUpdateFollowAndDeleteAlerts(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	a := createAlert(t, c, "u1", nil)
	path := "/api/v1/alert/" + id(a)
	c.do("PATCH", path, map[string]any{"title": "new", "status": "InProgress", "addTags": []any{"x"}}).want(t, http.StatusNoContent)
	c.do("POST", path+"/unfollow", nil).want(t, http.StatusNoContent)
	got := c.do("GET", path, nil).obj()
	if got["title"] != "new" || got["stage"] != "InProgress" || got["follow"] != false || cmp.Diff([]any{"x"}, got["tags"]) != "" {
		t.Errorf("alert %v", got)
	}
	c.do("POST", path+"/follow", nil).want(t, http.StatusNoContent)
	if c.do("GET", path, nil).obj()["follow"] != true {
		t.Error("follow not restored")
	}
	b := createAlert(t, c, "u2", nil)
	c.do("PATCH", "/api/v1/alert/_bulk", map[string]any{"ids": []any{id(a), id(b)}, "severity": 4}).want(t, http.StatusNoContent)
	for _, al := range srv.Alerts() {
		if al["severity"] != 4.0 {
			t.Errorf("alert %v severity %v", al["sourceRef"], al["severity"])
		}
	}
	c.do("DELETE", path, nil).want(t, http.StatusNoContent)
	c.do("GET", path, nil).wantError(t, http.StatusNotFound, "NotFoundError", "Alert not found")
	c.do("POST", "/api/v1/alert/delete/_bulk", map[string]any{"ids": []any{id(b)}}).want(t, http.StatusNoContent)
	if n := len(srv.Alerts()); n != 0 {
		t.Errorf("%d alerts left", n)
	}
}
