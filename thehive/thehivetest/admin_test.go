package thehivetest_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

func TestCustomFieldDefinitions(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	admin := newClient(t, srv).in(thehivetest.AdminOrganisation)
	created := admin.do("POST", "/api/v1/customField", map[string]any{
		"name": "my-field", "displayName": "My Field", "description": "...", "group": "default", "type": "string", "options": []any{},
	}).want(t, http.StatusCreated).obj()
	want := map[string]any{
		"_type": "CustomField", "_createdBy": thehivetest.AdminLogin, "name": "my-field", "displayName": "My Field",
		"description": "...", "group": "default", "type": "string", "options": []any{}, "mandatory": false, "extraData": map[string]any{},
	}
	if d := diff(want, created); d != "" {
		t.Errorf("custom field (-want +got):\n%s", d)
	}
	list := newClient(t, srv).do("GET", "/api/v1/customField", nil).want(t, http.StatusOK).list()
	if len(list) != 1 || cmp.Diff(created, list[0]) != "" {
		t.Errorf("list %v", list)
	}
	admin.do("POST", "/api/v1/customField", map[string]any{"name": "my-field", "description": "d", "group": "g", "type": "string"}).
		wantError(t, http.StatusBadRequest, "CreateError", "CustomField my-field already exists")
	admin.do("POST", "/api/v1/customField", map[string]any{"name": "x", "description": "d", "group": "g", "type": "colour"}).
		wantError(t, http.StatusBadRequest, "AttributeCheckingError", "")
	admin.do("PATCH", "/api/v1/customField/"+id(created), map[string]any{"displayName": "something else", "type": "float"}).want(t, http.StatusNoContent)
	got := admin.do("GET", "/api/v1/customField", nil).list()[0]
	if got["displayName"] != "something else" || got["type"] != "float" {
		t.Errorf("updated %v", got)
	}
	admin.do("DELETE", "/api/v1/customField/"+id(created), nil).want(t, http.StatusNoContent)
	admin.do("DELETE", "/api/v1/customField/"+id(created), nil).wantError(t, http.StatusNotFound, "NotFoundError", "")
}

func TestCustomFieldInUse(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t, thehivetest.WithCustomField(thehivetest.CustomField{Name: "ref", Type: "integer", Mandatory: true}))
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{"customFields": map[string]any{"ref": 12}})
	admin := c.in(thehivetest.AdminOrganisation)
	admin.do("DELETE", "/api/v1/customField/ref", nil).wantError(t, http.StatusBadRequest, "BadRequest", "The custom field ref is used")
	admin.do("DELETE", "/api/v1/customField/ref?force=true", nil).want(t, http.StatusNoContent)
	if cfs := c.do("GET", "/api/v1/case/"+id(cs), nil).obj()["customFields"].([]any); len(cfs) != 0 {
		t.Errorf("values of a deleted field remain: %v", cfs)
	}
}

func TestCaseTemplatesAPI(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	created := c.do("POST", "/api/v1/caseTemplate", map[string]any{
		"name": "my first template", "description": "Template description", "tags": []any{"template-tag"},
		"tasks": []any{map[string]any{"title": "Triage"}},
	}).want(t, http.StatusCreated).obj()
	for _, ref := range []string{id(created), "my first template"} {
		if d := cmp.Diff(created, c.do("GET", "/api/v1/caseTemplate/"+ref, nil).want(t, http.StatusOK).obj()); d != "" {
			t.Errorf("GET %s (-created +fetched):\n%s", ref, d)
		}
	}
	if created["displayName"] != "my first template" || created["flag"] != false || len(created["tasks"].([]any)) != 1 {
		t.Errorf("template %v", created)
	}
	c.do("POST", "/api/v1/caseTemplate", map[string]any{"name": "my first template"}).
		wantError(t, http.StatusBadRequest, "CreateError", `The case template "my first template" already exists`)
	c.do("POST", "/api/v1/caseTemplate", map[string]any{"description": "x"}).wantError(t, http.StatusBadRequest, "AttributeCheckingError", "[Attribute name is missing]")

	// Applying a template to an existing case.
	cs := createCase(t, c, map[string]any{"tags": []any{"whatever"}})
	c.do("POST", "/api/v1/case/_bulk/caseTemplate", map[string]any{"ids": []any{id(cs)}, "caseTemplate": "my first template", "updateTags": true}).
		want(t, http.StatusNoContent)
	if d := cmp.Diff([]any{"whatever", "template-tag"}, c.do("GET", "/api/v1/case/"+id(cs), nil).obj()["tags"]); d != "" {
		t.Errorf("tags (-want +got):\n%s", d)
	}

	c.do("PATCH", "/api/v1/caseTemplate/"+id(created), map[string]any{"name": "renamed", "description": "new"}).want(t, http.StatusNoContent)
	got := c.do("GET", "/api/v1/caseTemplate/"+id(created), nil).obj()
	if got["name"] != "renamed" || got["description"] != "new" {
		t.Errorf("updated %v", got)
	}
	pt := c.do("POST", "/api/v1/pageTemplate", map[string]any{"title": "p", "category": "testing", "content": "..."}).want(t, http.StatusCreated).obj()
	c.do("PUT", "/api/v1/caseTemplate/renamed/pageTemplate/link", map[string]any{"pageTemplateIds": []any{id(pt)}}).want(t, http.StatusNoContent)
	linked := query(c, map[string]any{"_name": "getCaseTemplate", "idOrName": "renamed"}, map[string]any{"_name": "pageTemplates"}).list()
	if len(linked) != 1 || id(linked[0]) != id(pt) {
		t.Errorf("linked page templates %v", linked)
	}
	if n := len(query(c, map[string]any{"_name": "listCaseTemplate"}).list()); n != 1 {
		t.Errorf("%d templates listed", n)
	}
	c.do("DELETE", "/api/v1/caseTemplate/"+id(created), nil).want(t, http.StatusNoContent)
	c.do("GET", "/api/v1/caseTemplate/"+id(created), nil).wantError(t, http.StatusNotFound, "NotFoundError", "CaseTemplate not found")
}

func TestCortexConnector(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	for _, prefix := range []string{"/api/connector/cortex", "/api/v1/connector/cortex"} {
		if n := len(c.do("GET", prefix+"/analyzer", nil).want(t, http.StatusOK).list()); n != len(thehivetest.DefaultAnalyzers()) {
			t.Errorf("%s: %d analyzers", prefix, n)
		}
	}
	byType := c.do("GET", "/api/connector/cortex/analyzer/type/file", nil).want(t, http.StatusOK).list()
	var names []any
	for _, a := range byType {
		names = append(names, a["name"])
	}
	if d := cmp.Diff([]any{"FileInfo", "VirusTotal_GetReport"}, names); d != "" {
		t.Errorf("file analyzers (-want +got):\n%s", d)
	}
	cs := createCase(t, c, map[string]any{})
	obs := c.do("POST", "/api/v1/case/"+id(cs)+"/observable", map[string]any{"dataType": "domain", "data": []any{"example.com", "example.org"}}).list()
	job := c.do("POST", "/api/connector/cortex/job", map[string]any{"analyzerId": "VirusTotal_GetReport_3_1", "cortexId": "cortex0", "artifactId": id(obs[0])}).
		want(t, http.StatusCreated).obj()
	if job["_type"] != "case_artifact_job" || job["status"] != "Success" || job["id"] != id(job) || job["operations"] != "[]" {
		t.Errorf("job %v", job)
	}
	if d := cmp.Diff(job, c.do("GET", "/api/v1/connector/cortex/job/"+id(job), nil).want(t, http.StatusOK).obj()); d != "" {
		t.Errorf("(-created +fetched):\n%s", d)
	}
	reports := c.do("GET", "/api/v1/observable/"+id(obs[0]), nil).obj()["reports"]
	want := map[string]any{"VirusTotal_GetReport_3_1": map[string]any{"taxonomies": []any{
		map[string]any{"level": "safe", "namespace": "VT", "predicate": "GetReport", "value": "0/92"},
	}}}
	if d := cmp.Diff(want, reports); d != "" {
		t.Errorf("reports (-want +got):\n%s", d)
	}
	failed := c.do("POST", "/api/connector/cortex/job", map[string]any{"analyzerId": "dummy-analyzer", "cortexId": "dummy-cortex", "artifactId": id(obs[1])}).
		want(t, http.StatusCreated).obj()
	if failed["status"] != "Failure" || failed["_type"] != "case_artifact_job" {
		t.Errorf("job of an unknown analyzer %v", failed)
	}
	bulk := c.do("POST", "/api/v1/connector/cortex/job/_bulk", map[string]any{"jobs": []any{
		map[string]any{"analyzerId": "Abuse_Finder_3_0", "artifactId": id(obs[0])},
		map[string]any{"analyzerId": "Abuse_Finder_3_0", "artifactId": id(obs[1])},
	}}).want(t, http.StatusCreated).list()
	if len(bulk) != 2 {
		t.Errorf("bulk %v", bulk)
	}
	found := query(c, map[string]any{"_name": "listJob"}, map[string]any{"_name": "filter", "_id": id(failed)}).list()
	if len(found) != 1 || id(found[0]) != id(failed) {
		t.Errorf("listJob %v", found)
	}
	c.do("POST", "/api/connector/cortex/job", map[string]any{"analyzerId": "x", "artifactId": "~1"}).wantError(t, http.StatusNotFound, "NotFoundError", "Observable not found")
	if n := len(c.do("GET", "/api/connector/cortex/responder/case/"+id(cs), nil).want(t, http.StatusOK).list()); n != 0 {
		t.Errorf("%d responders", n)
	}
	if jobs := srv.Jobs(); len(jobs) != 4 || jobs[0]["extraData"].(map[string]any)["observableId"] != id(obs[0]) {
		t.Errorf("Jobs() %v", jobs)
	}
}

func TestWithoutCortex(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t, thehivetest.WithoutCortex())
	c := newClient(t, srv)
	if n := len(c.do("GET", "/api/connector/cortex/analyzer", nil).want(t, http.StatusOK).list()); n != 0 {
		t.Errorf("%d analyzers", n)
	}
	if n := len(c.do("GET", "/api/connector/cortex/analyzer/type/mail", nil).want(t, http.StatusOK).list()); n != 0 {
		t.Errorf("%d mail analyzers", n)
	}
	cs := createCase(t, c, map[string]any{})
	obs := c.do("POST", "/api/v1/case/"+id(cs)+"/observable", map[string]any{"dataType": "domain", "data": "example.com"}).list()[0]
	job := c.do("POST", "/api/connector/cortex/job", map[string]any{"analyzerId": "example", "cortexId": "cortex", "artifactId": id(obs)}).
		want(t, http.StatusCreated).obj()
	if job["status"] != "Waiting" || job["cortexId"] != "cortex" {
		t.Errorf("job %v", job)
	}
}

func TestAttachmentsOfCasesAlertsAndOrganisations(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	a := createAlert(t, c, "att", nil)
	for _, owner := range []struct{ add, get, del, query string }{
		{"/api/v1/case/" + id(cs) + "/attachments", "/api/v1/case/" + id(cs) + "/attachment/", "/api/v1/case/" + id(cs) + "/attachment/", "getCase"},
		{"/api/v1/alert/" + id(a) + "/attachments", "/api/v1/alert/" + id(a) + "/attachment/", "/api/v1/alert/" + id(a) + "/attachment/", "getAlert"},
		{"/api/v1/attachment", "/api/v1/attachment/", "/api/v1/attachment/", "getOrganisation"},
	} {
		added := c.multipart("POST", owner.add,
			part{name: "canRename", data: []byte("True")},
			part{name: "attachments", filename: "one.txt", contentType: "text/plain", data: []byte("content of one")},
			part{name: "attachments", filename: "two.txt", contentType: "text/plain", data: []byte("content of two")},
		).want(t, http.StatusCreated).obj()["attachments"].([]any)
		if len(added) != 2 {
			t.Fatalf("%s: %v", owner.add, added)
		}
		first := added[0].(map[string]any)
		raw := c.do("GET", owner.get+id(first)+"/download", nil).want(t, http.StatusOK).raw
		if !bytes.Equal(raw, []byte("content of one")) {
			t.Errorf("%s: download %q", owner.add, raw)
		}
		ref := map[string]any{"_name": owner.query, "idOrName": id(cs)}
		switch owner.query {
		case "getAlert":
			ref["idOrName"] = id(a)
		case "getOrganisation":
			ref["idOrName"] = thehivetest.Organisation
		}
		for _, at := range added {
			c.do("DELETE", owner.del+id(at.(map[string]any)), nil).want(t, http.StatusNoContent)
		}
		if left := query(c, ref, map[string]any{"_name": "attachments"}).want(t, http.StatusOK).list(); len(left) != 0 {
			t.Errorf("%s: %d attachments after deletion", owner.add, len(left))
		}
	}
}

func TestProceduresAndPages(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	p := c.do("POST", "/api/v1/case/"+id(cs)+"/procedure", map[string]any{"occurDate": 1, "patternId": "T1059.006", "tactic": "execution", "description": "..."}).
		want(t, http.StatusCreated).obj()
	if got := query(c, map[string]any{"_name": "getProcedure", "idOrName": id(p)}).list(); len(got) != 1 || cmp.Diff(p, got[0]) != "" {
		t.Errorf("getProcedure %v", got)
	}
	if p["tacticLabel"] != "Execution" {
		t.Errorf("procedure %v", p)
	}
	bulk := c.do("POST", "/api/v1/case/"+id(cs)+"/procedures", map[string]any{"procedures": []any{
		map[string]any{"occurDate": 1, "patternId": "T1"}, map[string]any{"occurDate": 2, "patternId": "T2"},
	}}).want(t, http.StatusCreated).list()
	found := query(c, map[string]any{"_name": "listProcedure"}, map[string]any{"_name": "filter", "_in": map[string]any{"_field": "_id", "_values": []any{id(bulk[0]), id(bulk[1])}}}).list()
	if len(found) != 2 {
		t.Errorf("found %v", found)
	}
	c.do("PATCH", "/api/v1/procedure/"+id(p), map[string]any{"description": "updated"}).want(t, http.StatusNoContent)
	c.do("POST", "/api/v1/procedure/delete/_bulk", map[string]any{"ids": []any{id(p)}}).want(t, http.StatusNoContent)
	if n := len(query(c, map[string]any{"_name": "getProcedure", "idOrName": id(p)}).list()); n != 0 {
		t.Error("procedure still found")
	}
	c.do("POST", "/api/v1/case/"+id(cs)+"/procedure", map[string]any{"tactic": "x"}).
		wantError(t, http.StatusBadRequest, "AttributeCheckingError", "[Attribute occurDate is missing][Attribute patternId is missing]")

	page := c.do("POST", "/api/v1/case/"+id(cs)+"/page", map[string]any{"title": "my case page", "category": "testing", "content": "..."}).
		want(t, http.StatusCreated).obj()
	pages := query(c, map[string]any{"_name": "getCase", "idOrName": id(cs)}, map[string]any{"_name": "pages"}).list()
	if len(pages) != 1 || cmp.Diff(page, pages[0]) != "" {
		t.Errorf("pages %v", pages)
	}
	c.do("PATCH", "/api/v1/case/"+id(cs)+"/page/"+id(page), map[string]any{"title": "updated"}).want(t, http.StatusNoContent)
	c.do("DELETE", "/api/v1/case/"+id(cs)+"/page/"+id(page), nil).want(t, http.StatusNoContent)
	if n := len(query(c, map[string]any{"_name": "getCase", "idOrName": id(cs)}, map[string]any{"_name": "pages"}).list()); n != 0 {
		t.Errorf("%d pages after deletion", n)
	}
}
