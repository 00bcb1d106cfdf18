package thehivetest_test

import (
	"net/http"
	"testing"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

func TestExportAndImportCase(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{"title": "exported", "severity": 3, "tags": []any{"x"}})
	c.do("POST", "/api/v1/case/"+id(cs)+"/task", map[string]any{"title": "t"}).want(t, http.StatusCreated)
	c.do("POST", "/api/v1/case/"+id(cs)+"/observable", map[string]any{"dataType": "ip", "data": "10.0.0.1"}).want(t, http.StatusCreated)
	archive := c.do("GET", "/api/v1/case/"+id(cs)+"/export?password=test", nil).want(t, http.StatusOK).raw
	c.do("GET", "/api/v1/case/"+id(cs)+"/export", nil).wantError(t, http.StatusBadRequest, "BadRequest", "")

	c.multipart("POST", "/api/v1/case/import", part{name: "_json", data: []byte(`{"password": "wrong"}`)},
		part{name: "file", filename: "export.thar", data: archive}).wantError(t, http.StatusBadRequest, "BadRequest", "Invalid case archive or wrong password")
	got := c.multipart("POST", "/api/v1/case/import", part{name: "_json", data: []byte(`{"password": "test"}`)},
		part{name: "file", filename: "export.thar", data: archive}).want(t, http.StatusOK).obj()
	imported := got["case"].(map[string]any)
	if imported["title"] != "exported" || imported["description"] != cs["description"] || imported["severity"] != 3.0 || imported["number"] != 2.0 {
		t.Errorf("imported %v", imported)
	}
	if n := len(got["observables"].([]any)); n != 1 {
		t.Errorf("%d observables imported", n)
	}
	if n := len(query(c, map[string]any{"_name": "getCase", "idOrName": id(imported)}, map[string]any{"_name": "tasks"}).list()); n != 1 {
		t.Errorf("%d tasks imported", n)
	}
}

func TestChangeOwnerAndMISP(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	c.do("POST", "/api/v1/case/"+id(cs)+"/owner", map[string]any{"organisation": thehivetest.Organisation}).want(t, http.StatusNoContent)
	c.do("POST", "/api/v1/case/"+id(cs)+"/owner", map[string]any{"organisation": thehivetest.AdminOrganisation}).wantError(t, http.StatusBadRequest, "BadRequest", "")

	status := c.do("GET", "/api/v1/connector/misp/status", nil).want(t, http.StatusOK).obj()
	if status["syncInProgress"] != false || len(status["status"].(map[string]any)) != 0 {
		t.Errorf("status %v", status)
	}
	if r := c.in(thehivetest.AdminOrganisation).do("GET", "/api/v1/connector/misp/_syncAlerts", nil).want(t, http.StatusOK); len(r.raw) != 0 {
		t.Errorf("sync answered %q", r.raw)
	}
	c.do("POST", "/api/v1/connector/misp/export/"+id(cs)+"/nowhere", nil).wantError(t, http.StatusNotFound, "NotFoundError", "MISP server nowhere not found")
	c.multipart("POST", "/api/v1/connector/misp/case/import", part{name: "_json", data: []byte(`{}`)}, part{name: "file", filename: "e.json", data: []byte("{}")}).
		wantError(t, http.StatusBadRequest, "BadRequest", "Could not convert json to MISP event")
}
