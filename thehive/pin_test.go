package thehive_test

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/synapse-go/synapse/thehive"
)

// Credentials of the fake server (thehive/thehivetest), as its contract
// names them.
const (
	fakeLogin    = "admin@thehive.local"
	fakePassword = "secret"
	fakeAPIKey   = "thehivetest-admin-key"
)

// seen is a request as the server received it.
type seen struct {
	Method string
	Path   string // escaped
	Query  string
	Header http.Header
	Body   []byte
	// Length is the request's Content-Length, -1 when it was chunked.
	Length int64
}

// answer is what the pin server replies.
type answer struct {
	status int
	body   string
	header map[string]string
}

// pinServer records every request and replies from a queue of answers (the
// last one repeats). It serves under a base path, so that a client
// dropping the base URL's path fails.
type pinServer struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []seen
	answers []answer
}

const basePath = "/thehive"

func newPinServer(t *testing.T, answers ...answer) *pinServer {
	t.Helper()
	if len(answers) == 0 {
		answers = []answer{{status: http.StatusNoContent}}
	}
	ps := &pinServer{answers: answers}
	ps.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ps.mu.Lock()
		ps.reqs = append(ps.reqs, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), b, r.ContentLength})
		a := ps.answers[0]
		if len(ps.answers) > 1 {
			ps.answers = ps.answers[1:]
		}
		ps.mu.Unlock()
		if !strings.HasPrefix(r.URL.Path, basePath+"/") {
			http.Error(w, `{"type":"NotFound","message":"no base path"}`, http.StatusNotFound)
			return
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		if a.body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(ps.Close)
	return ps
}

func (ps *pinServer) requests() []seen {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]seen(nil), ps.reqs...)
}

func (ps *pinServer) last(t *testing.T) seen {
	t.Helper()
	r := ps.requests()
	if len(r) == 0 {
		t.Fatal("no request reached the server")
	}
	return r[len(r)-1]
}

// newClient returns a client of url with the API key pinKey, organisation
// "soc", fast retries and the test logger; opts come last.
func newClient(t *testing.T, url string, opts ...thehive.Option) *thehive.Client {
	t.Helper()
	base := []thehive.Option{
		thehive.WithAPIKey(pinKey),
		thehive.WithOrganisation("soc"),
		thehive.WithLogger(testLogger),
		thehive.WithRetryPolicy(thehive.RetryPolicy{MaxRetries: 3, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}),
	}
	c, err := thehive.NewClient(url, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	clientsMade.Add(1)
	return c
}

// jsonOf decodes a JSON body for comparison.
func jsonOf(t *testing.T, b []byte) any {
	t.Helper()
	if len(b) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("body %q is not JSON: %v", b, err)
	}
	return v
}

// part is a multipart part as received.
type part struct {
	Name, FileName, ContentType string
	Data                        string
}

// partsOf reads a multipart/form-data body.
func partsOf(t *testing.T, r seen) []part {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("Content-Type %q is not multipart/form-data", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(strings.NewReader(string(r.Body)), params["boundary"])
	var parts []part
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, part{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), string(b)})
	}
}

// Canned answers of TheHive, shaped like the reference's samples.
const (
	caseJSON = `{"_id":"~4104","_type":"Case","_createdBy":"admin@thehive.local","_createdAt":1700000000000,
		"number":7,"title":"Phishing","description":"Reported by a user","severity":3,"severityLabel":"HIGH",
		"startDate":1700000000000,"tags":["phishing"],"flag":false,"tlp":2,"tlpLabel":"AMBER","pap":2,"papLabel":"AMBER",
		"status":"New","stage":"New","assignee":"analyst@soc","access":{"_kind":"OrganisationAccessKind"},
		"customFields":[{"_id":"~9","name":"synapse-thread","type":"string","value":"AAQkAD","order":0}],
		"userPermissions":[],"extraData":{},"newDate":1700000000000,"timeToDetect":0}`
	alertJSON = `{"_id":"~8200","_type":"Alert","_createdBy":"admin@thehive.local","_createdAt":1700000000000,
		"type":"external","source":"QRadar_Offenses","sourceRef":"211","title":"Offense 211","description":"d",
		"severity":2,"severityLabel":"MEDIUM","date":1700000000000,"tlp":2,"tlpLabel":"AMBER","pap":2,"papLabel":"AMBER",
		"follow":true,"customFields":[],"observableCount":1,"status":"New","stage":"New","extraData":{},
		"newDate":1700000000000,"timeToDetect":0}`
	observableJSON = `{"_id":"~300","_type":"Observable","_createdBy":"admin@thehive.local","_createdAt":1700000000000,
		"dataType":"ip","data":"10.0.0.1","startDate":1700000000000,"tlp":2,"tlpLabel":"AMBER","pap":2,"papLabel":"AMBER",
		"ioc":false,"sighted":false,"reports":{},"extraData":{},"ignoreSimilarity":false,"external":false}`
	fileObservableJSON = `{"_id":"~301","_type":"Observable","_createdBy":"admin@thehive.local","_createdAt":1700000000000,
		"dataType":"file","startDate":1700000000000,"tlp":2,"tlpLabel":"AMBER","pap":2,"papLabel":"AMBER",
		"attachment":{"_id":"~302","_type":"Attachment","_createdBy":"admin@thehive.local","_createdAt":1700000000000,
		"name":"mail.eml","hashes":["aa","bb","cc"],"size":11,"contentType":"message/rfc822","id":"aa","extraData":{}},
		"ioc":false,"sighted":false,"reports":{},"extraData":{},"ignoreSimilarity":false}`
	taskJSON = `{"_id":"~500","_type":"Task","_createdBy":"admin@thehive.local","_createdAt":1700000000000,
		"title":"Communication","group":"default","status":"InProgress","flag":false,"startDate":1700000001000,
		"order":0,"mandatory":false,"extraData":{}}`
	logJSON = `{"_id":"~600","_type":"Log","_createdBy":"admin@thehive.local","_createdAt":1700000000000,
		"message":"From: a@b","date":1700000000000,"owner":"admin@thehive.local","extraData":{},
		"attachments":[{"_id":"~601","_type":"Attachment","_createdBy":"admin@thehive.local","_createdAt":1700000000000,
		"name":"mail.eml","hashes":["aa","bb","cc"],"size":11,"contentType":"message/rfc822","id":"aa","extraData":{}}]}`
	commentJSON = `{"_id":"~700","_type":"Comment","createdBy":"admin@thehive.local","createdAt":1700000000000,
		"message":"looked at it","isEdited":false,"extraData":{}}`
	userJSON = `{"_id":"~800","_createdBy":"system@thehive.local","_createdAt":1700000000000,"login":"analyst@soc",
		"name":"Analyst","hasKey":true,"hasPassword":true,"hasMFA":false,"locked":false,"profile":"analyst",
		"organisation":"soc","type":"Normal","extraData":{}}`
	customFieldJSON = `{"_id":"~900","_type":"CustomField","_createdBy":"admin@thehive.local","_createdAt":1700000000000,
		"name":"synapse-thread","displayName":"Thread","group":"synapse","description":"mail thread","type":"string",
		"options":[],"mandatory":false,"extraData":{}}`
	templateJSON = `{"_id":"~950","_type":"CaseTemplate","_createdBy":"admin@thehive.local","_createdAt":1700000000000,
		"name":"Phishing","displayName":"Phishing","titlePrefix":"[PHISH]","severity":3,"severityLabel":"HIGH",
		"tags":["phishing"],"flag":false,"tlp":1,"tlpLabel":"GREEN","pap":2,"papLabel":"AMBER","customFields":[],
		"tasks":[],"extraData":{}}`
	observableTypeJSON = `{"_id":"~960","_type":"ObservableType","_createdBy":"system@thehive.local","_createdAt":1700000000000,
		"name":"ip","isAttachment":false}`
	jobJSON = `{"_id":"~970","id":"~970","_type":"case_artifact_job","_createdBy":"admin@thehive.local","_createdAt":1700000000000,
		"analyzerId":"abuse_finder_3_0","analyzerName":"Abuse_Finder_3_0","analyzerDefinition":"Abuse_Finder_3_0",
		"status":"Success","startDate":1700000000000,"endDate":1700000005000,"report":{"success":true,"full":{}},
		"cortexId":"local","cortexJobId":"AX1","operations":"[]"}`
	analyzersJSON = `[{"id":"abuse_finder_3_0","name":"Abuse_Finder_3_0","version":"3.0","description":"Find abuse contacts",
		"dataTypeList":["ip","domain"],"cortexIds":["local"]}]`
)

func ctx(t *testing.T) context.Context { return t.Context() }

func list(items ...string) string { return "[" + strings.Join(items, ",") + "]" }

var cmpTime = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })
