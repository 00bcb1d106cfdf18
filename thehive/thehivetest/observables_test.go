package thehivetest_test

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

func TestCreateObservablesInCase(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	path := "/api/v1/case/" + id(cs) + "/observable"
	one := c.do("POST", path, map[string]any{"dataType": "domain", "data": "example.com", "message": "m", "tlp": 1, "tags": []any{"t"}}).
		want(t, http.StatusCreated).list()
	want := []map[string]any{{
		"_type": "Observable", "_createdBy": thehivetest.AdminLogin, "dataType": "domain", "data": "example.com",
		"message": "m", "tlp": 1.0, "tlpLabel": "GREEN", "pap": 2.0, "papLabel": "AMBER", "tags": []any{"t"},
		"ioc": false, "sighted": false, "ignoreSimilarity": false, "reports": map[string]any{}, "extraData": map[string]any{},
	}}
	if d := diff(want, one); d != "" {
		t.Errorf("created (-want +got):\n%s", d)
	}
	if d := cmp.Diff(one[0], c.do("GET", "/api/v1/observable/"+id(one[0]), nil).want(t, http.StatusOK).obj()); d != "" {
		t.Errorf("(-created +fetched):\n%s", d)
	}
	many := c.do("POST", path, map[string]any{"dataType": "domain", "data": []any{"1.example.com", "2.example.com", " "}}).
		want(t, http.StatusCreated).list()
	if len(many) != 2 {
		t.Errorf("%d observables for two values and a blank", len(many))
	}
	found := query(c, map[string]any{"_name": "getCase", "idOrName": id(cs)}, map[string]any{"_name": "observables"}).list()
	if len(found) != 3 {
		t.Errorf("case has %d observables", len(found))
	}
}

func TestDuplicateObservable(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	path := "/api/v1/case/" + id(cs) + "/observable"
	c.do("POST", path, map[string]any{"dataType": "ip", "data": "10.0.0.1"}).want(t, http.StatusCreated)
	r := c.do("POST", path, map[string]any{"dataType": "ip", "data": []any{"10.0.0.1", "10.0.0.2"}}).want(t, http.StatusMultiStatus)
	got := r.obj()
	if n := len(got["success"].([]any)); n != 1 {
		t.Errorf("%d successes", n)
	}
	wantFailure := []any{map[string]any{"type": "CreateError", "message": "Observable already exists", "object": map[string]any{"data": "10.0.0.1"}}}
	if d := cmp.Diff(wantFailure, got["failure"]); d != "" {
		t.Errorf("failure (-want +got):\n%s", d)
	}
	// The same value with another type, or in another case, is not a duplicate.
	c.do("POST", path, map[string]any{"dataType": "other", "data": "10.0.0.1"}).want(t, http.StatusCreated)
	other := createCase(t, c, map[string]any{})
	c.do("POST", "/api/v1/case/"+id(other)+"/observable", map[string]any{"dataType": "ip", "data": "10.0.0.1"}).want(t, http.StatusCreated)
	// A file with the same content is a duplicate whatever its name.
	file := func(name string) response {
		return c.multipart("POST", path, part{name: "_json", data: []byte(`{"dataType":"file"}`)},
			part{name: "attachment", filename: name, data: []byte("same bytes")})
	}
	file("a.bin").want(t, http.StatusCreated)
	dup := file("b.bin").want(t, http.StatusMultiStatus).obj()
	wantFile := []any{map[string]any{"type": "CreateError", "message": "Observable already exists",
		"object": map[string]any{"data": "file:b.bin", "attachment": map[string]any{"name": "b.bin"}}}}
	if d := cmp.Diff(wantFile, dup["failure"]); d != "" {
		t.Errorf("file failure (-want +got):\n%s", d)
	}
	// Alerts follow the same rule.
	a := createAlert(t, c, "d1", map[string]any{"observables": []any{map[string]any{"dataType": "ip", "data": "10.0.0.1"}}})
	c.do("POST", "/api/v1/alert/"+id(a)+"/observable", map[string]any{"dataType": "ip", "data": "10.0.0.1"}).want(t, http.StatusMultiStatus)
}

func TestObservableRejections(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	path := "/api/v1/case/" + id(cs) + "/observable"
	c.do("POST", path, map[string]any{"data": "x"}).wantError(t, http.StatusBadRequest, "AttributeCheckingError", "[Attribute dataType is missing]")
	c.do("POST", path, map[string]any{"dataType": "color", "data": "red"}).wantError(t, http.StatusNotFound, "NotFoundError", "ObservableType color not found")
	c.do("POST", path, map[string]any{"dataType": "ip", "data": "x", "tlp": 9}).wantError(t, http.StatusBadRequest, "AttributeCheckingError", "")
	c.do("POST", "/api/v1/case/~1/observable", map[string]any{"dataType": "ip", "data": "x"}).
		wantError(t, http.StatusForbidden, "AuthorizationError", "Operation not permitted")
	c.do("GET", "/api/v1/observable/~1", nil).wantError(t, http.StatusNotFound, "NotFoundError", "Observable not found")
}

func TestUpdateAndDeleteObservables(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	obs := c.do("POST", "/api/v1/case/"+id(cs)+"/observable", map[string]any{"dataType": "domain", "data": []any{"a.org", "b.org"}}).list()
	path := "/api/v1/observable/" + id(obs[0])
	c.do("PATCH", path, map[string]any{"dataType": "fqdn", "message": "updated", "ioc": true, "sighted": true, "tags": []any{"x"}, "data": "ignored"}).
		want(t, http.StatusNoContent)
	got := c.do("GET", path, nil).obj()
	for k, v := range map[string]any{"dataType": "fqdn", "message": "updated", "ioc": true, "sighted": true, "data": "a.org"} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	c.do("PATCH", path, map[string]any{"dataType": "file"}).wantError(t, http.StatusBadRequest, "BadRequest", "")
	c.do("PATCH", "/api/v1/observable/_bulk", map[string]any{"ids": []any{id(obs[0]), id(obs[1])}, "dataType": "other"}).want(t, http.StatusNoContent)
	for _, o := range srv.Observables() {
		if o["dataType"] != "other" {
			t.Errorf("observable %v has type %v", o["data"], o["dataType"])
		}
	}
	c.do("DELETE", path, nil).want(t, http.StatusNoContent)
	c.do("GET", path, nil).want(t, http.StatusNotFound)
}

func TestFileObservableDownload(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	a := createAlert(t, c, "f1", nil)
	content := []byte("observable content")
	obs := c.multipart("POST", "/api/v1/alert/"+id(a)+"/observable",
		part{name: "_json", data: []byte(`{"dataType":"file","message":"file based observable"}`)},
		part{name: "attachment", filename: "alert-observable.txt", contentType: "text/plain", data: content},
	).want(t, http.StatusCreated).list()[0]
	att := obs["attachment"].(map[string]any)
	if att["name"] != "alert-observable.txt" || att["size"] != float64(len(content)) {
		t.Fatalf("attachment %v", att)
	}
	base := "/api/v1/observable/" + id(obs) + "/attachment/" + id(att) + "/download"
	raw := c.do("GET", base+"?asZip=false", nil).want(t, http.StatusOK).raw
	if !bytes.Equal(raw, content) {
		t.Errorf("download %q, want %q", raw, content)
	}
	zipped := c.do("GET", base+"?asZip=true", nil).want(t, http.StatusOK).raw
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "alert-observable.txt" || zr.File[0].Flags&1 == 0 {
		t.Fatalf("archive entries %+v", zr.File)
	}
	rc, err := zr.File[0].OpenRaw()
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := io.ReadAll(rc)
	plain := thehivetest.DecryptZipEntry(enc, []byte("malware"))
	if !bytes.Equal(plain, content) {
		t.Errorf("decrypted %q, want %q", plain, content)
	}
	// The attachment is also reachable by its storage id.
	if raw := c.do("GET", "/api/v1/attachment/"+att["id"].(string)+"/download", nil).want(t, http.StatusOK).raw; !bytes.Equal(raw, content) {
		t.Errorf("download by id %q", raw)
	}
}

func TestLargeUploadKeepsOnlyHashes(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t, thehivetest.WithKeptAttachmentBytes(1024))
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	big := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	obs := c.multipart("POST", "/api/v1/case/"+id(cs)+"/observable",
		part{name: "_json", data: []byte(`{"dataType":"file"}`)},
		part{name: "attachment", filename: "big.bin", data: big},
	).want(t, http.StatusCreated).list()[0]
	att := obs["attachment"].(map[string]any)
	if d := cmp.Diff(hashesOf(big), att["hashes"]); d != "" {
		t.Errorf("hashes (-want +got):\n%s", d)
	}
	if att["size"] != float64(len(big)) {
		t.Errorf("size %v", att["size"])
	}
	if _, kept := srv.AttachmentContent(id(att)); kept {
		t.Error("content above the limit was kept")
	}
	c.do("GET", "/api/v1/observable/"+id(obs)+"/attachment/"+id(att)+"/download", nil).wantError(t, http.StatusNotFound, "NotFoundError", "")
}

func TestObservableTypes(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	admin := newClient(t, srv).in(thehivetest.AdminOrganisation)
	got := admin.do("GET", "/api/v1/observable/type/ip", nil).want(t, http.StatusOK).obj()
	if got["isAttachment"] != false || got["_createdBy"] != thehivetest.SystemLogin {
		t.Errorf("ip type %v", got)
	}
	created := admin.do("POST", "/api/v1/observable/type", map[string]any{"name": "username"}).want(t, http.StatusCreated).obj()
	if d := cmp.Diff(created, admin.do("GET", "/api/v1/observable/type/"+id(created), nil).obj()); d != "" {
		t.Errorf("(-created +fetched):\n%s", d)
	}
	admin.do("POST", "/api/v1/observable/type", map[string]any{"name": "username"}).wantError(t, http.StatusBadRequest, "CreateError", "Observable type username already exists")
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{})
	c.do("POST", "/api/v1/case/"+id(cs)+"/observable", map[string]any{"dataType": "username", "data": "bob"}).want(t, http.StatusCreated)
	admin.do("DELETE", "/api/v1/observable/type/username", nil).wantError(t, http.StatusBadRequest, "BadRequest", "")
	found := query(admin, map[string]any{"_name": "listObservableType"}, map[string]any{"_name": "filter", "_eq": map[string]any{"_field": "name", "_value": "username"}}).list()
	if len(found) != 1 {
		t.Errorf("found %v", found)
	}
}
