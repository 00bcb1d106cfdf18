package thehivetest_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

// client talks to a fake over HTTP as any TheHive client would.
type client struct {
	t    testing.TB
	srv  *thehivetest.Server
	auth string // Authorization header value
	org  string // X-Organisation, "" for none
}

func newClient(t testing.TB, srv *thehivetest.Server) *client {
	return &client{t: t, srv: srv, auth: "Bearer " + thehivetest.APIKey}
}

// as returns a client with other credentials.
func (c *client) as(auth string) *client {
	cp := *c
	cp.auth = auth
	return &cp
}

// in returns a client working in another organisation.
func (c *client) in(org string) *client {
	cp := *c
	cp.org = org
	return &cp
}

func basic(login, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(login+":"+password))
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   any
}

// obj returns the body as a JSON object.
func (r response) obj() map[string]any {
	m, _ := r.body.(map[string]any)
	return m
}

// list returns the body as a JSON array of objects.
func (r response) list() []map[string]any {
	arr, _ := r.body.([]any)
	out := make([]map[string]any, 0, len(arr))
	for _, e := range arr {
		m, _ := e.(map[string]any)
		out = append(out, m)
	}
	return out
}

// do sends a request with a JSON body (nil for none).
func (c *client) do(method, path string, body any) response {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatalf("marshal: %v", err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.srv.URL()+path, r)
	if err != nil {
		c.t.Fatalf("request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(req)
}

func (c *client) send(req *http.Request) response {
	c.t.Helper()
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	if c.org != "" {
		req.Header.Set("X-Organisation", c.org)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read: %v", req.Method, req.URL.Path, err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			c.t.Fatalf("%s %s: decode %q: %v", req.Method, req.URL.Path, raw, err)
		}
	}
	return out
}

// part is one part of a multipart request.
type part struct {
	name, filename, contentType string
	data                        []byte
}

func (c *client) multipart(method, path string, parts ...part) response {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename == "" {
			w, err = mw.CreateFormField(p.name)
		} else {
			h := make(map[string][]string)
			h["Content-Disposition"] = []string{`form-data; name="` + p.name + `"; filename="` + p.filename + `"`}
			if p.contentType != "" {
				h["Content-Type"] = []string{p.contentType}
			}
			w, err = mw.CreatePart(h)
		}
		if err != nil {
			c.t.Fatalf("multipart: %v", err)
		}
		_, _ = w.Write(p.data)
	}
	_ = mw.Close()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.srv.URL()+path, &buf)
	if err != nil {
		c.t.Fatalf("request: %v", err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.send(req)
}

// want checks the status of an answer.
func (r response) want(t testing.TB, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	return r
}

// wantError checks an error answer: its status, TheHive's type and, when
// not empty, its message.
func (r response) wantError(t testing.TB, status int, typ, message string) {
	t.Helper()
	r.want(t, status)
	got := r.obj()
	if got["type"] != typ || (message != "" && got["message"] != message) {
		t.Fatalf("error %v, want type %q message %q", got, typ, message)
	}
}

// id returns the _id of an object.
func id(m map[string]any) string { s, _ := m["_id"].(string); return s }

// dynamic lists the fields whose values depend on the clock or the id
// sequence.
var dynamic = cmpopts.IgnoreMapEntries(func(k string, _ any) bool {
	switch k {
	case "_id", "_createdAt", "_updatedAt", "startDate", "newDate", "date", "inProgressDate", "closedDate",
		"endDate", "importedDate", "timeToDetect", "timeToTriage", "timeToQualify", "timeToResolve",
		"handlingDuration", "id":
		return true
	}
	return false
})

// diff compares decoded JSON, ignoring clock- and id-dependent fields.
func diff(want, got any) string { return cmp.Diff(want, got, dynamic) }

func createCase(t testing.TB, c *client, body map[string]any) map[string]any {
	t.Helper()
	if body["title"] == nil {
		body["title"] = "a case"
	}
	if body["description"] == nil {
		body["description"] = "what happened"
	}
	return c.do("POST", "/api/v1/case", body).want(t, http.StatusCreated).obj()
}

func createAlert(t testing.TB, c *client, sourceRef string, extra map[string]any) map[string]any {
	t.Helper()
	body := map[string]any{"type": "external", "source": "siem", "sourceRef": sourceRef, "title": "alert " + sourceRef, "description": "seen"}
	for k, v := range extra {
		body[k] = v
	}
	return c.do("POST", "/api/v1/alert", body).want(t, http.StatusCreated).obj()
}

// newServerWithOtherOrg starts a fake with a second organisation,
// "other-org", whose only member is the analyst x@other; a platform
// administrator sets it up, as one manages the users of every organisation.
// It returns the server, a client of the administrator and one of x@other.
func newServerWithOtherOrg(t *testing.T) (*thehivetest.Server, *client, *client) {
	t.Helper()
	srv := thehivetest.NewServer(t, thehivetest.WithUser(thehivetest.User{Login: "x@other", Profile: "analyst", APIKey: "other-key"}))
	c := newClient(t, srv)
	admin := c.in(thehivetest.AdminOrganisation)
	admin.do("POST", "/api/v1/organisation", map[string]any{"name": "other-org", "description": "d"}).want(t, http.StatusCreated)
	admin.do("PUT", "/api/v1/user/x@other/organisations", map[string]any{
		"organisations": []any{map[string]any{"organisation": "other-org", "profile": "analyst", "default": true}},
	}).want(t, http.StatusOK)
	return srv, c, c.as("Bearer other-key")
}

// query runs a query and returns its answer.
func query(c *client, ops ...map[string]any) response {
	return c.do("POST", "/api/v1/query", map[string]any{"query": ops})
}

// hashesOf lists the hashes TheHive gives an attachment: SHA-256, SHA-1 and
// MD5, in hex.
func hashesOf(b []byte) []any {
	s256, s1, m5 := sha256.Sum256(b), sha1.Sum(b), md5.Sum(b)
	return []any{hex.EncodeToString(s256[:]), hex.EncodeToString(s1[:]), hex.EncodeToString(m5[:])}
}

// ignoreKey ignores one more map key in a comparison.
func ignoreKey(name string) cmp.Option {
	return cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return k == name })
}
