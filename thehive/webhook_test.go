package thehive_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/synapse-go/synapse/thehive"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/events")

// eventSummary is what the golden files hold of a parsed event.
type eventSummary struct {
	Version            int
	Operation          thehive.Operation
	RawOperation       string
	ObjectType         thehive.ObjectType
	RawObjectType      string
	ObjectID           string
	RootID             string
	RequestID          string
	Main               bool
	Date               string
	User               string
	Organisation       string
	OrganisationID     string
	Details            map[string]any
	HasObject          bool
	HasContext         bool
	CaseNumber         int
	MergedInto         string
	MergedFrom         []string
	CaseClosed         bool
	AlertIgnoredOrRead bool
}

func summarise(e *thehive.Event) eventSummary {
	s := eventSummary{
		Version: e.Version, Operation: e.Operation, RawOperation: e.RawOperation, ObjectType: e.ObjectType,
		RawObjectType: e.RawObjectType, ObjectID: e.ObjectID, RootID: e.RootID, RequestID: e.RequestID,
		Main: e.Main, User: e.User, Organisation: e.Organisation, OrganisationID: e.OrganisationID,
		Details: e.Details, HasObject: len(e.Object) > 0, HasContext: len(e.Context) > 0,
		CaseNumber: e.CaseNumber(), MergedInto: e.MergedInto(), MergedFrom: e.MergedFrom(),
		CaseClosed: e.IsCaseClosed(), AlertIgnoredOrRead: e.IsAlertIgnoredOrRead(),
	}
	if !e.Date.IsZero() {
		s.Date = e.Date.Format(time.RFC3339Nano)
	}
	return s
}

func samples(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = b
	}
	return out
}

// TestParseEventGolden parses every sample payload (TheHive 5 in both
// formats, TheHive 4 and TheHive 3) and compares the result to its golden
// file; go test -run TestParseEventGolden -update rewrites them.
func TestParseEventGolden(t *testing.T) {
	t.Parallel()
	for name, payload := range samples(t) {
		e, err := thehive.ParseEvent(payload)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got, err := json.MarshalIndent(summarise(e), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		golden := filepath.Join("testdata", "events", name+".golden")
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%s: %v (run with -update to create it)", name, err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

// TestParseEventFacts states, independently of the golden files, what the
// workflows rely on.
func TestParseEventFacts(t *testing.T) {
	t.Parallel()
	all := samples(t)
	type facts struct {
		version    int
		op         thehive.Operation
		typ        thehive.ObjectType
		objectID   string
		rootID     string
		org        string
		caseClosed bool
		ignored    bool
		caseNumber int
	}
	want := map[string]facts{
		"th5-case-create":                {5, thehive.OpCreate, thehive.ObjectCase, "~8765923376", "~8765923376", "Documentation", false, false, 3275},
		"th5-case-closed":                {5, thehive.OpUpdate, thehive.ObjectCase, "~8765923376", "~8765923376", "Documentation", true, false, 3275},
		"th5-case-custom-status-closed":  {5, thehive.OpUpdate, thehive.ObjectCase, "~8765923377", "~8765923377", "Documentation", true, false, 3276},
		"th5-case-severity-update":       {5, thehive.OpUpdate, thehive.ObjectCase, "~8765923376", "~8765923376", "Documentation", false, false, 3275},
		"th5-observable-analyzer-report": {5, thehive.OpUpdate, thehive.ObjectObservable, "~8561545240", "~8765923376", "Documentation", false, false, 0},
		"th5-alert-closed":               {5, thehive.OpUpdate, thehive.ObjectAlert, "~41024", "~41024", "Documentation", false, true, 0},
		"th5-alert-imported":             {5, thehive.OpUpdate, thehive.ObjectAlert, "~41025", "~8765923390", "Documentation", false, false, 0},
		"th5-case-delete":                {5, thehive.OpDelete, thehive.ObjectCase, "~8765923376", "~6840459424", "Documentation", false, false, 0},
		"th5-format0-case-closed":        {5, thehive.OpUpdate, thehive.ObjectCase, "~122884184", "~122884184", "SOC", true, false, 12},
		"th5-format0-task-log-create":    {5, thehive.OpCreate, thehive.ObjectLog, "~40968312", "~122884184", "SOC", false, false, 0},
		"th4-case-resolved":              {4, thehive.OpUpdate, thehive.ObjectCase, "~41024", "~41024", "MyOrg", true, false, 112},
		"th4-alert-read":                 {4, thehive.OpUpdate, thehive.ObjectAlert, "~86128", "~86128", "MyOrg", false, true, 0},
		"th4-observable-create":          {4, thehive.OpCreate, thehive.ObjectObservable, "~122880", "~41024", "MyOrg", false, false, 0},
		"th3-case-create":                {3, thehive.OpCreate, thehive.ObjectCase, "AV6FZsTj0KeanEfOQfd_", "AV6FZsTj0KeanEfOQfd_", "", false, false, 1445},
		"th3-case-resolved":              {3, thehive.OpUpdate, thehive.ObjectCase, "AV6FZsTj0KeanEfOQfd_", "AV6FZsTj0KeanEfOQfd_", "", true, false, 1445},
		"th3-case-merged":                {3, thehive.OpUpdate, thehive.ObjectCase, "AV6FZsTj0KeanEfOQfd_", "AV6FZsTj0KeanEfOQfd_", "", false, false, 1445},
		"th3-case-merge-result":          {3, thehive.OpCreate, thehive.ObjectCase, "AV6Fa1b2c3d4e5f6g7h8", "AV6Fa1b2c3d4e5f6g7h8", "", false, false, 1447},
		"th3-alert-ignored":              {3, thehive.OpUpdate, thehive.ObjectAlert, "ce2ae8fc3b2e4b6c94b6eb6bd8a6e1a3", "ce2ae8fc3b2e4b6c94b6eb6bd8a6e1a3", "", false, true, 0},
		"th3-artifact-create":            {3, thehive.OpCreate, thehive.ObjectObservable, "5a0d1fcd3b2e4b6c94b6eb6bd8a6e1a3", "AV6FZsTj0KeanEfOQfd_", "", false, false, 0},
	}
	if len(want) != len(all) {
		t.Errorf("%d samples, %d with facts", len(all), len(want))
	}
	for name, w := range want {
		e, err := thehive.ParseEvent(all[name])
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got := facts{e.Version, e.Operation, e.ObjectType, e.ObjectID, e.RootID, e.Organisation,
			e.IsCaseClosed(), e.IsAlertIgnoredOrRead(), e.CaseNumber()}
		if diff := cmp.Diff(w, got, cmp.AllowUnexported(facts{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}

	merged, _ := thehive.ParseEvent(all["th3-case-merged"])
	if merged.MergedInto() != "AV6Fa1b2c3d4e5f6g7h8" {
		t.Errorf("MergedInto = %q", merged.MergedInto())
	}
	result, _ := thehive.ParseEvent(all["th3-case-merge-result"])
	if diff := cmp.Diff([]string{"AV6FZsTj0KeanEfOQfd_", "AV6FZzzzzzzzzzzzzzzz"}, result.MergedFrom()); diff != "" {
		t.Errorf("MergedFrom (-want +got):\n%s", diff)
	}
	alert, _ := thehive.ParseEvent(all["th3-alert-ignored"])
	if v, ok := alert.ObjectField("source"); !ok || v != "QRadar_Offenses" {
		t.Errorf("ObjectField(source) = %v, %v", v, ok)
	}
	obs, _ := thehive.ParseEvent(all["th5-observable-analyzer-report"])
	if v, ok := obs.ObjectField("case.number"); !ok || v != float64(3275) {
		t.Errorf("ObjectField(case.number) = %v, %v", v, ok)
	}
	if _, ok := obs.DetailField("reports.VirusTotal_GetReport_3_1.taxonomies"); !ok {
		t.Error("DetailField of a nested key")
	}
	if _, ok := obs.ObjectField("nope.deeper"); ok {
		t.Error("ObjectField found a missing path")
	}
	created, _ := thehive.ParseEvent(all["th5-case-create"])
	if !created.Date.Equal(time.UnixMilli(1747138171250)) || created.User != "alice@example.com" || !created.Main {
		t.Errorf("date %v user %q main %v", created.Date, created.User, created.Main)
	}
}

func TestEventDecodeObject(t *testing.T) {
	t.Parallel()
	all := samples(t)
	e, err := thehive.ParseEvent(all["th5-case-closed"])
	if err != nil {
		t.Fatal(err)
	}
	var c thehive.Case
	if err := e.DecodeObject(&c); err != nil {
		t.Fatal(err)
	}
	if c.Number != 3275 || c.Status != thehive.CaseStatusTruePositive || !c.Closed() || c.Summary != "Blocked the domain" ||
		c.ImpactStatus != thehive.ImpactWith || !c.EndDate.Equal(time.UnixMilli(1747139999000)) {
		t.Errorf("case %+v", c)
	}
	if v, ok := c.CustomField("business-unit"); !ok || v.String() != "Sales" {
		t.Errorf("custom field %v %v", v, ok)
	}
	del, err := thehive.ParseEvent(all["th5-case-delete"])
	if err != nil {
		t.Fatal(err)
	}
	if err := del.DecodeObject(&c); err == nil {
		t.Error("decoded the object of a deletion, which has none")
	}
	if err := e.DecodeObject(&[]int{}); err == nil {
		t.Error("decoded a case into a slice")
	}
}

func TestParseEventErrors(t *testing.T) {
	t.Parallel()
	for _, payload := range []string{
		``, `   `, `null`, `[]`, `"x"`, `{`, `{"objectType":"case"}`, `{"operation":"Update"}`,
		`{"operation":"","objectType":"case"}`, `{"action":"update","objectType":"  "}`,
		`{"operation":"update","objectType":"case","details":{"a":}}`,
	} {
		_, err := thehive.ParseEvent([]byte(payload))
		if !errors.Is(err, thehive.ErrInvalidEvent) {
			t.Errorf("%q: error %v, want ErrInvalidEvent", payload, err)
		}
	}
}

func TestParseEventTolerance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		payload string
		op      thehive.Operation
		typ     thehive.ObjectType
		id      string
	}{
		{`{"operation":"UPDATE","objectType":"CASE","objectId":1}`, thehive.OpUpdate, thehive.ObjectCase, "1"},
		{`{"operation":"Deletion","objectType":"Case_Task"}`, thehive.OpDelete, thehive.ObjectTask, ""},
		{`{"action":"Merge","objectType":"case_artifact_job"}`, thehive.OpMerge, thehive.ObjectJob, ""},
		{`{"action":"","operation":"create","objectType":"page"}`, thehive.OpCreate, thehive.ObjectPage, ""},
		{`{"action":"archive","objectType":"dashboard","objectId":null,"details":[1]}`, "archive", "Dashboard", ""},
		{`{"operation":"create","objectType":"artifact","objectId":{"x":1},"details":null,"object":null}`, thehive.OpCreate, thehive.ObjectObservable, ""},
	}
	for _, tc := range tests {
		e, err := thehive.ParseEvent([]byte(tc.payload))
		if err != nil {
			t.Errorf("%s: %v", tc.payload, err)
			continue
		}
		if e.Operation != tc.op || e.ObjectType != tc.typ || e.ObjectID != tc.id || e.Details == nil || e.Object != nil {
			t.Errorf("%s: %+v", tc.payload, e)
		}
	}
}

func FuzzParseEvent(f *testing.F) {
	for _, b := range samples(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"operation":"Update","objectType":"case","details":{"status":"Resolved"},"object":{"mergeInto":1}}`))
	f.Add([]byte(`{"action":"update","objectType":"Alert","details":{"read":"yes","stage":3},"organisation":7}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		e, err := thehive.ParseEvent(payload)
		if err != nil {
			if !errors.Is(err, thehive.ErrInvalidEvent) {
				t.Fatalf("error %v does not match ErrInvalidEvent", err)
			}
			return
		}
		if e.Operation == "" || e.ObjectType == "" || e.Details == nil || e.Version < 3 || e.Version > 5 {
			t.Fatalf("accepted an incomplete event: %+v", e)
		}
		// The helpers never panic, whatever the payload.
		_ = summarise(e)
		_, _ = e.ObjectField("a.b.c")
		var v map[string]any
		_ = e.DecodeObject(&v)
	})
}

// hookRecorder collects the events a handler passes on.
type hookRecorder struct {
	mu     sync.Mutex
	events []*thehive.Event
	fail   error
}

func (h *hookRecorder) handle(_ context.Context, e *thehive.Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e)
	return h.fail
}

func (h *hookRecorder) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

func TestWebhookHandler(t *testing.T) {
	t.Parallel()
	payload := string(samples(t)["th5-case-closed"])
	type req struct {
		method, body, contentType string
		auth                      func(*http.Request)
	}
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	basic := func(u, p string) func(*http.Request) { return func(r *http.Request) { r.SetBasicAuth(u, p) } }
	tests := []struct {
		name     string
		opts     []thehive.WebhookOption
		fail     error
		req      req
		status   int
		received int
	}{
		{"bearer", []thehive.WebhookOption{thehive.WithBearerToken(hookToken)}, nil,
			req{"POST", payload, "application/json", bearer(hookToken)}, 204, 1},
		{"bearer scheme in lower case", []thehive.WebhookOption{thehive.WithBearerToken(hookToken)}, nil,
			req{"POST", payload, "application/json; charset=utf-8", func(r *http.Request) { r.Header.Set("Authorization", "bearer "+hookToken) }}, 204, 1},
		{"wrong token", []thehive.WebhookOption{thehive.WithBearerToken(hookToken)}, nil,
			req{"POST", payload, "application/json", bearer(hookToken + "x")}, 401, 0},
		{"no credentials", []thehive.WebhookOption{thehive.WithBearerToken(hookToken)}, nil,
			req{"POST", payload, "application/json", nil}, 401, 0},
		{"basic", []thehive.WebhookOption{thehive.WithBasicCredentials("thehive", hookPass)}, nil,
			req{"POST", payload, "", basic("thehive", hookPass)}, 204, 1},
		{"basic wrong user", []thehive.WebhookOption{thehive.WithBasicCredentials("thehive", hookPass)}, nil,
			req{"POST", payload, "", basic("other", hookPass)}, 401, 0},
		{"basic on a bearer handler", []thehive.WebhookOption{thehive.WithBearerToken(hookToken)}, nil,
			req{"POST", payload, "", basic("thehive", hookToken)}, 401, 0},
		{"either accepted", []thehive.WebhookOption{thehive.WithBearerToken(hookToken), thehive.WithBasicCredentials("thehive", hookPass)}, nil,
			req{"POST", payload, "", basic("thehive", hookPass)}, 204, 1},
		{"open", []thehive.WebhookOption{thehive.WithoutAuthentication()}, nil,
			req{"POST", payload, "application/json", nil}, 204, 1},
		{"GET", []thehive.WebhookOption{thehive.WithoutAuthentication()}, nil,
			req{"GET", "", "", nil}, 405, 0},
		{"not JSON", []thehive.WebhookOption{thehive.WithoutAuthentication()}, nil,
			req{"POST", payload, "text/xml", nil}, 415, 0},
		{"bad content type", []thehive.WebhookOption{thehive.WithoutAuthentication()}, nil,
			req{"POST", payload, "application/json; ===", nil}, 415, 0},
		{"too large", []thehive.WebhookOption{thehive.WithoutAuthentication(), thehive.WithMaxBodySize(100)}, nil,
			req{"POST", payload, "application/json", nil}, 413, 0},
		{"not an event", []thehive.WebhookOption{thehive.WithoutAuthentication()}, nil,
			req{"POST", `{"hello":"world"}`, "application/json", nil}, 400, 0},
		{"function fails", []thehive.WebhookOption{thehive.WithoutAuthentication()}, errors.New("queue full"),
			req{"POST", payload, "application/json", nil}, 500, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &hookRecorder{fail: tc.fail}
			h, err := thehive.NewWebhookHandler(rec.handle, append(tc.opts, thehive.WithWebhookLogger(testLogger))...)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			r, err := http.NewRequestWithContext(ctx(t), tc.req.method, srv.URL+"/webhook", strings.NewReader(tc.req.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.req.contentType != "" {
				r.Header.Set("Content-Type", tc.req.contentType)
			}
			if tc.req.auth != nil {
				tc.req.auth(r)
			}
			resp, err := srv.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			record(errors.New(string(body)))
			if resp.StatusCode != tc.status || rec.count() != tc.received {
				t.Fatalf("status %d, %d events; want %d, %d (body %q)", resp.StatusCode, rec.count(), tc.status, tc.received, body)
			}
			switch resp.StatusCode {
			case 401:
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			case 405:
				if resp.Header.Get("Allow") != "POST" {
					t.Error("405 without Allow: POST")
				}
			case 500:
				if strings.Contains(string(body), "queue full") {
					t.Error("the function's error was sent to the caller")
				}
			case 204:
				if !rec.events[0].IsCaseClosed() {
					t.Error("the event passed on is not the case closure")
				}
			}
		})
	}
}

func TestNewWebhookHandlerOptions(t *testing.T) {
	t.Parallel()
	fn := func(context.Context, *thehive.Event) error { return nil }
	bad := map[string][]thehive.WebhookOption{
		"no auth":        nil,
		"empty token":    {thehive.WithBearerToken("")},
		"empty password": {thehive.WithBasicCredentials("u", "")},
		"open and token": {thehive.WithoutAuthentication(), thehive.WithBearerToken(hookToken)},
		"zero size":      {thehive.WithoutAuthentication(), thehive.WithMaxBodySize(0)},
	}
	for name, opts := range bad {
		if _, err := thehive.NewWebhookHandler(fn, opts...); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), hookToken) {
			t.Errorf("%s: the token is in the error", name)
		}
	}
	if _, err := thehive.NewWebhookHandler(nil, thehive.WithoutAuthentication()); err == nil {
		t.Error("nil function accepted")
	}
	if _, err := thehive.NewWebhookHandler(fn, nil, thehive.WithoutAuthentication()); err != nil {
		t.Errorf("a nil option: %v", err)
	}
}
