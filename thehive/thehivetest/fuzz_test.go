package thehivetest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

// FuzzRequestBodies sends arbitrary bodies to the routes that parse the
// most: the fake must answer every one with a status below 500, never
// panic.
func FuzzRequestBodies(f *testing.F) {
	for _, seed := range []string{
		`{"query": [{"_name": "listCase"}, {"_name": "filter", "_and": [{"_eq": {"_field": "tags", "_value": "x"}}]}, {"_name": "sort", "_fields": ["-number"]}, {"_name": "page", "from": 0, "to": 5, "extraData": ["links", "total"]}]}`,
		`{"query": [{"_name": "getCase", "idOrName": 1}, {"_name": "tasks"}, {"_name": "count"}]}`,
		`{"query": [{"_name": "listAlert"}, {"_name": "filter", "_between": {"_field": "date", "_from": {"amount": 2, "unit": "days"}, "_to": 9e99}}]}`,
		`{"title": "t", "description": "d", "customFields": [{"name": "f", "value": 1, "order": "x"}], "tasks": [{"title": 3}]}`,
		`{"title": "t", "description": "d", "severity": "2", "tlp": 1.5, "tags": "one"}`,
		`[1, 2]`, `null`, `{"query": "listCase"}`, `{"query": [null]}`,
	} {
		f.Add([]byte(seed))
	}
	srv := thehivetest.New(thehivetest.WithCustomField(thehivetest.CustomField{Name: "f", Type: "integer"}))
	defer srv.Close()
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{"/api/v1/query", "/api/v1/case", "/api/v1/alert", "/api/v1/case/1/observable"} {
			req := httptest.NewRequest("POST", path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+thehivetest.APIKey)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= http.StatusInternalServerError {
				t.Fatalf("POST %s %q: %d %s", path, body, rec.Code, rec.Body.Bytes())
			}
		}
	})
}
