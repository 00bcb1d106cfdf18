package qradartest_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/qradar/qradartest"
)

// answer is a decoded answer of the fake.
type answer struct {
	status       int
	contentRange string
	body         any
	raw          string
}

// call sends one request to srv with the well-known token unless header
// says otherwise (a nil header value removes the header).
func call(t *testing.T, srv *qradartest.Server, method, path string, header map[string]string) answer {
	t.Helper()
	req := newRequest(t.Context(), t, srv, method, path, nil)
	req.Header.Set("Accept", "application/json")
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, contentRange: resp.Header.Get("Content-Range"), raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, raw)
		}
	}
	return a
}

// newRequest returns a request to srv carrying the well-known token.
func newRequest(ctx context.Context, t *testing.T, srv *qradartest.Server, method, path string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, srv.URL()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("SEC", qradartest.Token)
	return req
}

// errorOf returns the (status, code, message) of a QRadar error body,
// checking its shape.
func errorOf(t *testing.T, a answer) (int, int, string) {
	t.Helper()
	m, ok := a.body.(map[string]any)
	if !ok {
		t.Fatalf("error body is not a JSON object: %s", a.raw)
	}
	hr, ok := m["http_response"].(map[string]any)
	if !ok {
		t.Fatalf("error body has no http_response: %s", a.raw)
	}
	if int(hr["code"].(float64)) != a.status {
		t.Errorf("http_response.code = %v, status %d", hr["code"], a.status)
	}
	if _, ok := hr["message"].(string); !ok {
		t.Errorf("http_response.message missing: %s", a.raw)
	}
	if _, ok := m["description"].(string); !ok {
		t.Errorf("description missing: %s", a.raw)
	}
	if d, ok := m["details"].(map[string]any); !ok || len(d) != 0 {
		t.Errorf("details = %v, want {}", m["details"])
	}
	return a.status, int(m["code"].(float64)), m["message"].(string)
}

// must fails the test on a seeding error and returns the id.
func must(t *testing.T) func(int64, error) int64 {
	return func(id int64, err error) int64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
}

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// seeded returns a server with five offenses (ids 1 to 5) whose
// last_updated_time is t0 + id minutes; offense 5 is CLOSED.
func seeded(t *testing.T, opts ...qradartest.Option) *qradartest.Server {
	t.Helper()
	srv := qradartest.NewServer(t, append([]qradartest.Option{qradartest.WithClock(func() time.Time { return t0.Add(time.Hour) })}, opts...)...)
	for i := 1; i <= 5; i++ {
		o := qradartest.Offense{
			Description:      "Offense " + string(rune('A'+i-1)) + "\n",
			Magnitude:        i,
			StartTime:        t0,
			LastUpdatedTime:  t0.Add(time.Duration(i) * time.Minute),
			OffenseSource:    "10.0.0." + string(rune('0'+i)),
			SourceAddressIDs: []int64{int64(i)},
			Rules:            []qradartest.OffenseRule{{ID: 100000 + int64(i)}},
			Categories:       []string{"Misc"},
		}
		if i == 5 {
			o.Status = "CLOSED"
			o.ClosingReasonID = 1
			o.CloseTime = t0.Add(10 * time.Minute)
			o.ClosingUser = "admin"
		}
		if i == 2 {
			o.AssignedTo = "admin"
		}
		must(t)(srv.AddOffense(o))
		must(t)(srv.AddSourceAddress(qradartest.SourceAddress{SourceIP: "10.0.0." + string(rune('0'+i))}))
	}
	return srv
}

func ids(t *testing.T, body any) []int {
	t.Helper()
	list, ok := body.([]any)
	if !ok {
		t.Fatalf("answer is not a list: %v", body)
	}
	out := []int{}
	for _, e := range list {
		out = append(out, int(e.(map[string]any)["id"].(float64)))
	}
	return out
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewServer(t,
		qradartest.WithToken(qradartest.APIToken{Value: "read-only", Label: "viewer", ReadOnly: true}),
		qradartest.WithUser("analyst", "pw"))
	must(t)(srv.AddOffense(qradartest.Offense{}))
	basic := func(user, pass string) string {
		r := &http.Request{Header: http.Header{}}
		r.SetBasicAuth(user, pass)
		return r.Header.Get("Authorization")
	}
	tests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		wantStatus int
		wantCode   int
	}{
		{"token", "GET", "/api/siem/offenses", nil, 200, 0},
		{"no credentials", "GET", "/api/siem/offenses", map[string]string{"SEC": ""}, 401, 18},
		{"wrong token", "GET", "/api/siem/offenses", map[string]string{"SEC": "nope"}, 401, 18},
		{"basic", "GET", "/api/siem/offenses", map[string]string{"SEC": "", "Authorization": basic("analyst", "pw")}, 200, 0},
		{"basic, wrong password", "GET", "/api/siem/offenses", map[string]string{"SEC": "", "Authorization": basic("analyst", "x")}, 401, 18},
		{"basic, unknown user", "GET", "/api/siem/offenses", map[string]string{"SEC": "", "Authorization": basic("mallory", "pw")}, 401, 18},
		{"basic, not base64", "GET", "/api/siem/offenses", map[string]string{"SEC": "", "Authorization": "Basic !!"}, 401, 18},
		{"wrong token wins over good basic", "GET", "/api/siem/offenses", map[string]string{"SEC": "nope", "Authorization": basic("analyst", "pw")}, 401, 18},
		{"read-only token reads", "GET", "/api/siem/offenses/1", map[string]string{"SEC": "read-only"}, 200, 0},
		{"read-only token writes", "POST", "/api/siem/offenses/1/notes?note_text=x", map[string]string{"SEC": "read-only"}, 403, 26},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, srv, tt.method, tt.path, tt.header)
			if tt.wantCode == 0 {
				if a.status != tt.wantStatus {
					t.Fatalf("status %d, want %d: %s", a.status, tt.wantStatus, a.raw)
				}
				return
			}
			status, code, _ := errorOf(t, a)
			if status != tt.wantStatus || code != tt.wantCode {
				t.Errorf("got %d/%d, want %d/%d: %s", status, code, tt.wantStatus, tt.wantCode, a.raw)
			}
		})
	}
}

func TestUnauthorizedBody(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewServer(t)
	a := call(t, srv, "GET", "/api/siem/offenses", map[string]string{"SEC": ""})
	want := map[string]any{
		"http_response": map[string]any{"code": 401.0, "message": "You are unauthorized to access the requested resource."},
		"code":          18.0,
		"description":   "",
		"details":       map[string]any{},
		"message":       `No SEC header present in request. Please provide it via "SEC: token". You may also use BASIC authentication parameters if this host supports it. e.g. "Authorization: Basic base64Encoding"`,
	}
	if diff := cmp.Diff(want, a.body); diff != "" {
		t.Errorf("401 body (-want +got):\n%s", diff)
	}
}

func TestVersionHeader(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewServer(t)
	tests := []struct {
		version string
		ok      bool
		message string
	}{
		{"", true, ""},
		{"14.0", true, ""},
		{"26.0", true, ""},
		{"12.1", true, ""},
		{"20", true, ""},
		{"3.0", false, "Version (3.0) from header parameter (Version) has been removed and is no longer valid. Please refer to documentation for list of valid versions."},
		{"322.0123", false, "Version (322.0123) from header parameter (Version) is not a valid version. Please refer to documentation for list of valid versions."},
		{"14.7", false, "Version (14.7) from header parameter (Version) is not a valid version. Please refer to documentation for list of valid versions."},
		{"latest", false, "Version (latest) from header parameter (Version) is not a valid version. Please refer to documentation for list of valid versions."},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			a := call(t, srv, "GET", "/api/system/about", map[string]string{"Version": tt.version})
			if tt.ok {
				if a.status != 200 {
					t.Fatalf("status %d: %s", a.status, a.raw)
				}
				return
			}
			status, _, msg := errorOf(t, a)
			if status != 422 || msg != tt.message {
				t.Errorf("got %d %q, want 422 %q", status, msg, tt.message)
			}
		})
	}
}

func TestRangeAndContentRange(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	tests := []struct {
		rng          string
		wantIDs      []int
		contentRange string
	}{
		{"", []int{1, 2, 3, 4, 5}, "items 0-4/5"},
		{"items=0-1", []int{1, 2}, "items 0-1/5"},
		{"items=2-3", []int{3, 4}, "items 2-3/5"},
		{"items=4-10", []int{5}, "items 4-4/5"},
		{"items=0-0", []int{1}, "items 0-0/5"},
		{"items=5-9", []int{}, "items */5"},
		{"items=50-99", []int{}, "items */5"},
	}
	for _, tt := range tests {
		t.Run(tt.rng, func(t *testing.T) {
			a := call(t, srv, "GET", "/api/siem/offenses?sort=%2Bid", map[string]string{"Range": tt.rng})
			if a.status != 200 {
				t.Fatalf("status %d: %s", a.status, a.raw)
			}
			if diff := cmp.Diff(tt.wantIDs, ids(t, a.body)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if a.contentRange != tt.contentRange {
				t.Errorf("Content-Range %q, want %q", a.contentRange, tt.contentRange)
			}
		})
	}
	bad := []struct{ rng, message string }{
		{"items=5", "Failed to parse Range header. The syntax of the Range header must follow this pattern: items=x-y"},
		{"items=a-b", "Failed to parse Range header. The syntax of the Range header must follow this pattern: items=x-y"},
		{"items=-3-2", "Failed to parse Range header. The syntax of the Range header must follow this pattern: items=x-y"},
		{"bytes=0-10", "Failed to parse Range header. The syntax of the Range header must follow this pattern: items=x-y"},
		{"items=3-0", `Range of pages specified in "Range" header is negative. Non-negative page range must be specified.`},
	}
	for _, tt := range bad {
		t.Run(tt.rng, func(t *testing.T) {
			a := call(t, srv, "GET", "/api/siem/offenses", map[string]string{"Range": tt.rng})
			status, code, msg := errorOf(t, a)
			if status != 422 || code != 36 || msg != tt.message {
				t.Errorf("got %d/%d %q", status, code, msg)
			}
		})
	}
}

func TestOffenseFilter(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	ms := func(minutes int) string {
		return itoa(t0.Add(time.Duration(minutes) * time.Minute).UnixMilli())
	}
	tests := []struct {
		filter string
		want   []int
	}{
		{"status=OPEN", []int{1, 2, 3, 4}},
		{`status = "CLOSED"`, []int{5}},
		{"status='CLOSED'", []int{5}},
		{"id = 3", []int{3}},
		{"id in (1, 3, 99)", []int{1, 3}},
		{"id not in (1,3)", []int{2, 4, 5}},
		{"id between 2 and 4", []int{2, 3, 4}},
		{"id not between 2 and 4", []int{1, 5}},
		{"last_updated_time > " + ms(3), []int{4, 5}},
		{"last_updated_time > " + ms(1) + " and last_updated_time < " + ms(4) + " and status=OPEN", []int{2, 3}},
		{"id>3 AND (status=OPEN)", []int{4}},
		{"id = 1 or id = 4", []int{1, 4}},
		{"not id in (1,2,3)", []int{4, 5}},
		{"magnitude >= 4", []int{4, 5}},
		{"magnitude <> 4", []int{1, 2, 3, 5}},
		{"magnitude ^= 4", []int{1, 2, 3, 5}},
		{"magnitude != 4", []int{1, 2, 3, 5}},
		{"magnitude <= 2", []int{1, 2}},
		{"assigned_to is null", []int{1, 3, 4, 5}},
		{"assigned_to is not null", []int{2}},
		{`assigned_to = "admin"`, []int{2}},
		{`assigned_to != "admin"`, []int{1, 3, 4, 5}},
		{`assigned_to in ("admin")`, []int{2}},
		{"closing_reason_id = 1", []int{5}},
		{"close_time > 0", []int{5}},
		{"protected = false", []int{1, 2, 3, 4, 5}},
		{"protected = true", []int{}},
		{"source_address_ids contains 3", []int{3}},
		{"source_address_ids contains (.<3)", []int{1, 2}},
		{"rules contains id = 100004", []int{4}},
		{"rules contains (id > 100003)", []int{4, 5}},
		{"STATUS=open or ID=1", nil}, // field names are case-sensitive: STATUS is not a field
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			a := call(t, srv, "GET", "/api/siem/offenses?filter="+url.QueryEscape(tt.filter), nil)
			if tt.want == nil {
				status, code, _ := errorOf(t, a)
				if status != 422 || code != 1010 {
					t.Errorf("got %d/%d, want 422/1010", status, code)
				}
				return
			}
			if a.status != 200 {
				t.Fatalf("status %d: %s", a.status, a.raw)
			}
			if diff := cmp.Diff(tt.want, ids(t, a.body)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestFilterErrors(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	for _, f := range []string{
		"status=",
		"status = OPEN and",
		"(status = OPEN",
		"status == OPEN",
		"id in (1,2",
		"description = \"x\"", // not filterable
		"offense_source = \"10.0.0.1\"",
		"no_such_field = 1",
		"id between 1 2",
		"assigned_to is empty",
		`assigned_to like admin`,
		`status = "OPEN`,
		"id ! 3",
		"id = 3 extra",
	} {
		t.Run(f, func(t *testing.T) {
			a := call(t, srv, "GET", "/api/siem/offenses?filter="+url.QueryEscape(f), nil)
			status, code, _ := errorOf(t, a)
			if status != 422 || code != 1010 {
				t.Errorf("got %d/%d, want 422/1010: %s", status, code, a.raw)
			}
		})
	}
}

func TestLikeFilter(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewServer(t)
	for _, ip := range []string{"10.1.2.3", "10.1.9.9", "192.168.0.1"} {
		must(t)(srv.AddSourceAddress(qradartest.SourceAddress{SourceIP: ip, Network: "Net-" + ip}))
	}
	tests := []struct {
		filter string
		want   []int
	}{
		{`source_ip like "10.1.%"`, []int{1, 2}},
		{`source_ip like '10.1._.3'`, []int{1}},
		{`source_ip not like "10.%"`, []int{3}},
		{`network like "net-%"`, []int{}},
		{`network ilike "net-10%"`, []int{1, 2}},
		{`source_ip = "192.168.0.1" or source_ip = "10.1.2.3"`, []int{1, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			a := call(t, srv, "GET", "/api/siem/source_addresses?filter="+url.QueryEscape(tt.filter), nil)
			if a.status != 200 {
				t.Fatalf("status %d: %s", a.status, a.raw)
			}
			if diff := cmp.Diff(tt.want, ids(t, a.body)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFieldsAndSort(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	a := call(t, srv, "GET", "/api/siem/offenses?fields="+url.QueryEscape("id,status,rules(id)")+"&sort="+url.QueryEscape("-magnitude")+"&filter=id%3C3", nil)
	want := []any{
		map[string]any{"id": 2.0, "status": "OPEN", "rules": []any{map[string]any{"id": 100002.0}}},
		map[string]any{"id": 1.0, "status": "OPEN", "rules": []any{map[string]any{"id": 100001.0}}},
	}
	if diff := cmp.Diff(want, a.body); diff != "" {
		t.Errorf("fields and sort (-want +got):\n%s", diff)
	}

	// An unencoded '+' arrives as a space and still sorts ascending.
	a = call(t, srv, "GET", "/api/siem/offenses?fields=id&sort=+id", nil)
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5}, ids(t, a.body)); diff != "" {
		t.Errorf("sort=+id unencoded (-want +got):\n%s", diff)
	}
	a = call(t, srv, "GET", "/api/siem/offenses?fields=id&sort="+url.QueryEscape("-status,+id"), nil)
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5}, ids(t, a.body)); diff != "" {
		t.Errorf("sort=-status,+id (-want +got):\n%s", diff)
	}

	errs := []struct {
		path       string
		code       int
		message    string
		wantStatus int
	}{
		{"/api/siem/offenses?fields=id,nope", 30, `Specified field "nope" is not recognized by this endpoint for media type "application/json"`, 422},
		{"/api/siem/offenses/1?fields=bogus", 30, `Specified field "bogus" is not recognized by this endpoint for media type "application/json"`, 422},
		{"/api/siem/offenses?sort=%2Bdescription", 1030, "", 422},
		{"/api/siem/offenses?sort=%2Bnope", 1030, "", 422},
		{"/api/siem/offense_types?sort=%2Bname", 1012, "", 422},
	}
	for _, e := range errs {
		a := call(t, srv, "GET", e.path, nil)
		status, code, msg := errorOf(t, a)
		if status != e.wantStatus || code != e.code || (e.message != "" && msg != e.message) {
			t.Errorf("%s: got %d/%d %q", e.path, status, code, msg)
		}
	}
}

func TestOffenseShape(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	a := call(t, srv, "GET", "/api/siem/offenses/1", nil)
	got := a.body.(map[string]any)
	want := map[string]any{
		"id": 1.0, "description": "Offense A\n", "assigned_to": nil, "categories": []any{"Misc"},
		"category_count": 1.0, "policy_category_count": 0.0, "security_category_count": 0.0,
		"close_time": nil, "closing_user": nil, "closing_reason_id": nil,
		"credibility": 0.0, "relevance": 0.0, "severity": 0.0, "magnitude": 1.0,
		"destination_networks": []any{}, "source_network": "other", "device_count": 0.0,
		"event_count": 1.0, "flow_count": 0.0, "inactive": false,
		"last_updated_time": float64(t0.Add(time.Minute).UnixMilli()), "local_destination_count": 0.0,
		"offense_source": "10.0.0.1", "offense_type": 0.0, "protected": false, "follow_up": false,
		"remote_destination_count": 0.0, "source_count": 1.0, "start_time": float64(t0.UnixMilli()),
		"status": "OPEN", "username_count": 0.0, "source_address_ids": []any{1.0},
		"local_destination_address_ids": []any{}, "domain_id": 0.0,
		"first_persisted_time": float64(t0.UnixMilli()), "last_persisted_time": float64(t0.Add(time.Minute).UnixMilli()),
		"rules":       []any{map[string]any{"id": 100001.0, "type": "CRE_RULE"}},
		"log_sources": []any{},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("offense (-want +got):\n%s", diff)
	}
}

func TestUpdateOffense(t *testing.T) {
	t.Parallel()
	now := t0.Add(time.Hour)
	tests := []struct {
		name       string
		opts       []qradartest.Option
		path       string
		wantStatus int
		wantCode   int
		wantMsg    string
		check      func(t *testing.T, o map[string]any)
	}{
		{name: "close", path: "/api/siem/offenses/1?status=CLOSED&closing_reason_id=2", wantStatus: 200,
			check: func(t *testing.T, o map[string]any) {
				want := map[string]any{"status": "CLOSED", "closing_reason_id": int64(2), "closing_user": qradartest.TokenLabel,
					"close_time": now.UnixMilli(), "last_persisted_time": now.UnixMilli()}
				got := map[string]any{}
				for k := range want {
					got[k] = o[k]
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("closed offense (-want +got):\n%s", diff)
				}
			}},
		{name: "close without reason", path: "/api/siem/offenses/1?status=CLOSED", wantStatus: 422, wantCode: 1005,
			wantMsg: "closing_reason_id must be provided when closing an offense."},
		{name: "close with unknown reason", path: "/api/siem/offenses/1?status=CLOSED&closing_reason_id=77", wantStatus: 422, wantCode: 1005},
		{name: "close with reserved reason", path: "/api/siem/offenses/1?status=CLOSED&closing_reason_id=10", wantStatus: 422, wantCode: 1005},
		{name: "close with deleted reason", path: "/api/siem/offenses/1?status=CLOSED&closing_reason_id=11", wantStatus: 422, wantCode: 1005},
		{name: "re-close", path: "/api/siem/offenses/5?status=CLOSED&closing_reason_id=1", wantStatus: 409, wantCode: 1008},
		{name: "re-close allowed", opts: []qradartest.Option{qradartest.WithRecloseAllowed()},
			path: "/api/siem/offenses/5?status=CLOSED&closing_reason_id=2", wantStatus: 200,
			check: func(t *testing.T, o map[string]any) {
				if o["closing_reason_id"] != int64(1) {
					t.Errorf("re-close changed the reason: %v", o["closing_reason_id"])
				}
			}},
		{name: "reopen closed", path: "/api/siem/offenses/5?status=OPEN", wantStatus: 409, wantCode: 1008},
		{name: "hide", path: "/api/siem/offenses/1?status=HIDDEN", wantStatus: 200,
			check: func(t *testing.T, o map[string]any) {
				if o["status"] != "HIDDEN" {
					t.Errorf("status %v", o["status"])
				}
			}},
		{name: "lower-case status", path: "/api/siem/offenses/1?status=closed&closing_reason_id=1", wantStatus: 422, wantCode: 11,
			wantMsg: `Failed to transform user query parameter "status" with a content type of "TEXT_PLAIN"`},
		{name: "bad boolean", path: "/api/siem/offenses/1?protected=yes", wantStatus: 422, wantCode: 11},
		{name: "bad reason id", path: "/api/siem/offenses/1?status=CLOSED&closing_reason_id=one", wantStatus: 422, wantCode: 11},
		{name: "flags and assignee", path: "/api/siem/offenses/1?protected=true&follow_up=true&assigned_to=admin", wantStatus: 200,
			check: func(t *testing.T, o map[string]any) {
				got := map[string]any{"protected": o["protected"], "follow_up": o["follow_up"], "assigned_to": o["assigned_to"]}
				want := map[string]any{"protected": true, "follow_up": true, "assigned_to": "admin"}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}},
		{name: "assign closed offense", path: "/api/siem/offenses/5?assigned_to=admin", wantStatus: 200},
		{name: "unknown assignee", path: "/api/siem/offenses/1?assigned_to=nobody", wantStatus: 422, wantCode: 1005},
		{name: "unknown offense", path: "/api/siem/offenses/99?status=HIDDEN", wantStatus: 404, wantCode: 1002},
		{name: "non-numeric id", path: "/api/siem/offenses/abc?status=HIDDEN", wantStatus: 422, wantCode: 11,
			wantMsg: `Failed to transform user query parameter "offense_id" with a content type of "TEXT_PLAIN"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := seeded(t, tt.opts...)
			must(t)(srv.AddClosingReason(qradartest.ClosingReason{ID: 10, Text: "System: Auto", Reserved: true}))
			must(t)(srv.AddClosingReason(qradartest.ClosingReason{ID: 11, Text: "Old reason", Deleted: true}))
			before, _ := srv.Offense(1)
			a := call(t, srv, "POST", tt.path, nil)
			if tt.wantCode != 0 {
				status, code, msg := errorOf(t, a)
				if status != tt.wantStatus || code != tt.wantCode || (tt.wantMsg != "" && msg != tt.wantMsg) {
					t.Errorf("got %d/%d %q, want %d/%d %q", status, code, msg, tt.wantStatus, tt.wantCode, tt.wantMsg)
				}
				if after, _ := srv.Offense(1); !cmp.Equal(before, after) {
					t.Errorf("a refused update changed the offense:\n%s", cmp.Diff(before, after))
				}
				return
			}
			if a.status != tt.wantStatus {
				t.Fatalf("status %d: %s", a.status, a.raw)
			}
			if tt.check != nil {
				id := int64(a.body.(map[string]any)["id"].(float64))
				o, _ := srv.Offense(id)
				tt.check(t, o)
			}
		})
	}
}

func TestUpdateHonoursFieldsAndAddsNoNote(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	a := call(t, srv, "POST", "/api/siem/offenses/1?status=CLOSED&closing_reason_id=1&fields=id,status", nil)
	if diff := cmp.Diff(map[string]any{"id": 1.0, "status": "CLOSED"}, a.body); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n := srv.Notes(1); len(n) != 0 {
		t.Errorf("closing added notes: %v", n)
	}
}

func TestNotes(t *testing.T) {
	t.Parallel()
	srv := seeded(t, qradartest.WithUser("analyst", "pw"))
	a := call(t, srv, "POST", "/api/siem/offenses/1/notes?note_text="+url.QueryEscape("Closed by Synapse: case #12"), nil)
	if a.status != 201 {
		t.Fatalf("status %d: %s", a.status, a.raw)
	}
	want := map[string]any{"id": 1.0, "note_text": "Closed by Synapse: case #12", "username": "API_user: qradartest",
		"create_time": float64(t0.Add(time.Hour).UnixMilli())}
	if diff := cmp.Diff(want, a.body); diff != "" {
		t.Errorf("note (-want +got):\n%s", diff)
	}
	r := &http.Request{Header: http.Header{}}
	r.SetBasicAuth("analyst", "pw")
	a = call(t, srv, "POST", "/api/siem/offenses/1/notes?note_text=second", map[string]string{"SEC": "", "Authorization": r.Header.Get("Authorization")})
	if got := a.body.(map[string]any)["username"]; got != "analyst" {
		t.Errorf("basic-auth note username %v, want analyst", got)
	}
	must(t)(srv.AddNote(2, "on another offense", "admin"))

	a = call(t, srv, "GET", "/api/siem/offenses/1/notes", nil)
	if diff := cmp.Diff([]int{1, 2}, ids(t, a.body)); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	if a.contentRange != "items 0-1/2" {
		t.Errorf("Content-Range %q", a.contentRange)
	}
	a = call(t, srv, "GET", "/api/siem/offenses/1/notes?filter="+url.QueryEscape(`username = "analyst"`), nil)
	if diff := cmp.Diff([]int{2}, ids(t, a.body)); diff != "" {
		t.Errorf("filtered notes (-want +got):\n%s", diff)
	}
	a = call(t, srv, "GET", "/api/siem/offenses/1/notes/2?fields=note_text", nil)
	if diff := cmp.Diff(map[string]any{"note_text": "second"}, a.body); diff != "" {
		t.Errorf("note (-want +got):\n%s", diff)
	}

	errs := []struct {
		method, path  string
		status, code  int
		wantMsgPrefix string
	}{
		{"POST", "/api/siem/offenses/1/notes", 422, 8, `Missing required parameter "note_text" from query parameters`},
		{"POST", "/api/siem/offenses/1/notes?note_text=", 422, 8, `Missing required parameter "note_text" from query parameters`},
		{"POST", "/api/siem/offenses/99/notes?note_text=x", 404, 1002, ""},
		{"GET", "/api/siem/offenses/99/notes", 404, 1002, ""},
		{"GET", "/api/siem/offenses/1/notes/3", 404, 1003, ""},
		{"GET", "/api/siem/offenses/1/notes/x", 422, 11, ""},
	}
	for _, e := range errs {
		a := call(t, srv, e.method, e.path, nil)
		status, code, msg := errorOf(t, a)
		if status != e.status || code != e.code || !strings.HasPrefix(msg, e.wantMsgPrefix) {
			t.Errorf("%s %s: got %d/%d %q", e.method, e.path, status, code, msg)
		}
	}
	got := srv.Notes(1)
	if len(got) != 2 || got[0].Text != "Closed by Synapse: case #12" || got[1].Username != "analyst" {
		t.Errorf("Notes(1) = %+v", got)
	}
}

func TestClosingReasons(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewServer(t)
	must(t)(srv.AddClosingReason(qradartest.ClosingReason{Text: "Reserved one", Reserved: true}))
	must(t)(srv.AddClosingReason(qradartest.ClosingReason{Text: "Deleted one", Deleted: true}))
	texts := func(body any) []string {
		var out []string
		for _, e := range body.([]any) {
			out = append(out, e.(map[string]any)["text"].(string))
		}
		return out
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"Non-Issue", "False-Positive, Tuned", "Policy Violation"}},
		{"?include_reserved=true", []string{"Non-Issue", "False-Positive, Tuned", "Policy Violation", "Reserved one"}},
		{"?include_deleted=true&include_reserved=true", []string{"Non-Issue", "False-Positive, Tuned", "Policy Violation", "Reserved one", "Deleted one"}},
		{"?filter=" + url.QueryEscape(`text="Non-Issue"`), []string{"Non-Issue"}},
	}
	for _, tt := range tests {
		a := call(t, srv, "GET", "/api/siem/offense_closing_reasons"+tt.query, nil)
		if diff := cmp.Diff(tt.want, texts(a.body)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.query, diff)
		}
	}
	a := call(t, srv, "GET", "/api/siem/offense_closing_reasons/1", nil)
	if diff := cmp.Diff(map[string]any{"id": 1.0, "text": "Non-Issue", "is_deleted": false, "is_reserved": false}, a.body); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	a = call(t, srv, "POST", "/api/siem/offense_closing_reasons?reason="+url.QueryEscape("Duplicate alert"), nil)
	if a.status != 201 || a.body.(map[string]any)["id"] != 6.0 {
		t.Errorf("create: %d %s", a.status, a.raw)
	}
	errs := []struct {
		method, path string
		status, code int
	}{
		{"POST", "/api/siem/offense_closing_reasons?reason=" + url.QueryEscape("non-issue"), 409, 1004},
		{"POST", "/api/siem/offense_closing_reasons?reason=abc", 422, 1005},
		{"POST", "/api/siem/offense_closing_reasons?reason=" + strings.Repeat("x", 61), 422, 1005},
		{"POST", "/api/siem/offense_closing_reasons", 422, 8},
		{"GET", "/api/siem/offense_closing_reasons/99", 404, 1002},
		{"GET", "/api/siem/offense_closing_reasons?include_deleted=maybe", 422, 11},
	}
	for _, e := range errs {
		status, code, _ := errorOf(t, call(t, srv, e.method, e.path, nil))
		if status != e.status || code != e.code {
			t.Errorf("%s %s: got %d/%d, want %d/%d", e.method, e.path, status, code, e.status, e.code)
		}
	}
}

func TestOffenseTypes(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewServer(t, qradartest.WithUnlistedOffenseTypes(3))
	if err := srv.AddOffenseType(qradartest.OffenseType{ID: 5000, Name: "Custom thing", PropertyName: "9f1c", DatabaseType: "EVENTS", Custom: true}); err != nil {
		t.Fatal(err)
	}
	a := call(t, srv, "GET", "/api/siem/offense_types?filter="+url.QueryEscape("id in (0,3,7,5000)")+"&fields=id,name", nil)
	want := []any{
		map[string]any{"id": 0.0, "name": "Source IP"},
		map[string]any{"id": 7.0, "name": "Hostname"},
		map[string]any{"id": 5000.0, "name": "Custom thing"},
	}
	if diff := cmp.Diff(want, a.body); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	a = call(t, srv, "GET", "/api/siem/offense_types/3", nil)
	if a.status != 200 || a.body.(map[string]any)["name"] != "Username" {
		t.Errorf("unlisted type by id: %d %s", a.status, a.raw)
	}
	status, code, _ := errorOf(t, call(t, srv, "GET", "/api/siem/offense_types/404", nil))
	if status != 404 || code != 1002 {
		t.Errorf("unknown type: %d/%d", status, code)
	}
	a = call(t, srv, "GET", "/api/siem/offense_types?sort=-id&fields=id&Range=x", map[string]string{"Range": "items=0-1"})
	if diff := cmp.Diff([]int{5000, 18}, ids(t, a.body)); diff != "" {
		t.Errorf("sorted types (-want +got):\n%s", diff)
	}
}

func TestAddresses(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewServer(t)
	for i := 1; i <= 3; i++ {
		must(t)(srv.AddSourceAddress(qradartest.SourceAddress{SourceIP: "10.0.0." + string(rune('0'+i)), OffenseIDs: []int64{42}}))
		must(t)(srv.AddLocalDestinationAddress(qradartest.LocalDestinationAddress{LocalDestinationIP: "192.168.1." + string(rune('0'+i))}))
	}
	must(t)(srv.AddOffense(qradartest.Offense{ID: 7, SourceAddressIDs: []int64{1, 3}, LocalDestinationAddressIDs: []int64{2}}))

	a := call(t, srv, "GET", "/api/siem/source_addresses?filter="+url.QueryEscape("id in (3,1,99)")+"&fields=id,source_ip,offense_ids", nil)
	want := []any{
		map[string]any{"id": 1.0, "source_ip": "10.0.0.1", "offense_ids": []any{7.0, 42.0}},
		map[string]any{"id": 3.0, "source_ip": "10.0.0.3", "offense_ids": []any{7.0, 42.0}},
	}
	if diff := cmp.Diff(want, a.body); diff != "" {
		t.Errorf("source addresses (-want +got):\n%s", diff)
	}
	a = call(t, srv, "GET", "/api/siem/local_destination_addresses/2?fields=local_destination_ip,offense_ids", nil)
	if diff := cmp.Diff(map[string]any{"local_destination_ip": "192.168.1.2", "offense_ids": []any{7.0}}, a.body); diff != "" {
		t.Errorf("local destination (-want +got):\n%s", diff)
	}
	a = call(t, srv, "GET", "/api/siem/local_destination_addresses?filter="+url.QueryEscape(`local_destination_ip = "192.168.1.3"`)+"&fields=id", nil)
	if diff := cmp.Diff([]int{3}, ids(t, a.body)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, p := range []string{"/api/siem/source_addresses/9", "/api/siem/local_destination_addresses/9"} {
		status, code, _ := errorOf(t, call(t, srv, "GET", p, nil))
		if status != 404 || code != 1002 {
			t.Errorf("%s: %d/%d", p, status, code)
		}
	}
}

func TestRulesAndDomains(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewServer(t)
	must(t)(srv.AddRule(qradartest.Rule{Name: "Multiple Login Failures", Enabled: true}))
	must(t)(srv.AddRule(qradartest.Rule{ID: 100405, Name: "Session Closed", Type: "COMMON", LinkedRuleIdentifier: "SYSTEM-1"}))
	if err := srv.AddDomain(qradartest.Domain{ID: 2, Name: "Tenant B"}); err != nil {
		t.Fatal(err)
	}
	a := call(t, srv, "GET", "/api/analytics/rules?filter="+url.QueryEscape("id in (100001,100405)")+"&fields=id,name", nil)
	want := []any{map[string]any{"id": 100001.0, "name": "Multiple Login Failures"}, map[string]any{"id": 100405.0, "name": "Session Closed"}}
	if diff := cmp.Diff(want, a.body); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	a = call(t, srv, "GET", "/api/analytics/rules?filter=type%3DEVENT&fields=id", nil)
	if diff := cmp.Diff([]int{100001}, ids(t, a.body)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	a = call(t, srv, "GET", "/api/analytics/rules/100405?fields=linked_rule_identifier,origin,owner", nil)
	if diff := cmp.Diff(map[string]any{"linked_rule_identifier": "SYSTEM-1", "origin": "USER", "owner": "admin"}, a.body); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	status, code, _ := errorOf(t, call(t, srv, "GET", "/api/analytics/rules/1", nil))
	if status != 404 || code != 1002 {
		t.Errorf("unknown rule: %d/%d", status, code)
	}
	a = call(t, srv, "GET", "/api/config/domain_management/domains?fields=id,name", nil)
	if diff := cmp.Diff([]any{map[string]any{"id": 0.0, "name": "Default Domain"}, map[string]any{"id": 2.0, "name": "Tenant B"}}, a.body); diff != "" {
		t.Errorf("domains (-want +got):\n%s", diff)
	}
	status, code, _ = errorOf(t, call(t, srv, "GET", "/api/config/domain_management/domains/9", nil))
	if status != 404 || code != 1002 {
		t.Errorf("unknown domain: %d/%d", status, code)
	}
}

func TestArielLifecycle(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewServer(t)
	const aql = "SELECT sourceip, COUNT(*) AS hits FROM events GROUP BY sourceip LAST 10 MINUTES"
	rows := []map[string]any{{"sourceip": "10.0.0.1", "hits": 3}, {"sourceip": "10.0.0.2", "hits": 1}, {"sourceip": "10.0.0.3", "hits": 1}}
	if err := srv.AddSearch(qradartest.Search{AQL: aql, Rows: rows, Polls: 2}); err != nil {
		t.Fatal(err)
	}
	a := call(t, srv, "POST", "/api/ariel/searches?query_expression="+url.QueryEscape(strings.ToLower(aql)+" ;"), nil)
	if a.status != 201 {
		t.Fatalf("create: %d %s", a.status, a.raw)
	}
	s := a.body.(map[string]any)
	id := s["search_id"].(string)
	if s["status"] != "WAIT" || s["cursor_id"] != id || s["record_count"] != 0.0 {
		t.Errorf("created search: %v", s)
	}
	status, code, _ := errorOf(t, call(t, srv, "GET", "/api/ariel/searches/"+id+"/results", nil))
	if status != 404 || code != 1003 {
		t.Errorf("results too early: %d/%d", status, code)
	}
	var statuses []string
	for range 3 {
		a := call(t, srv, "GET", "/api/ariel/searches/"+id, nil)
		statuses = append(statuses, a.body.(map[string]any)["status"].(string))
	}
	if diff := cmp.Diff([]string{"EXECUTE", "SORTING", "COMPLETED"}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	a = call(t, srv, "GET", "/api/ariel/searches/"+id+"/results", map[string]string{"Range": "items=1-5"})
	want := map[string]any{"events": []any{map[string]any{"sourceip": "10.0.0.2", "hits": 1.0}, map[string]any{"sourceip": "10.0.0.3", "hits": 1.0}}}
	if diff := cmp.Diff(want, a.body); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if a.contentRange != "items 1-2/3" {
		t.Errorf("Content-Range %q", a.contentRange)
	}
	a = call(t, srv, "GET", "/api/ariel/searches", nil)
	if diff := cmp.Diff([]any{id}, a.body); diff != "" {
		t.Errorf("search list (-want +got):\n%s", diff)
	}
	a = call(t, srv, "DELETE", "/api/ariel/searches/"+id, nil)
	if a.status != 202 {
		t.Errorf("delete: %d", a.status)
	}
	status, code, _ = errorOf(t, call(t, srv, "GET", "/api/ariel/searches/"+id, nil))
	if status != 404 || code != 1002 {
		t.Errorf("deleted search: %d/%d", status, code)
	}
	if n := len(srv.Searches()); n != 0 {
		t.Errorf("%d searches left", n)
	}
}

func TestArielOutcomes(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewServer(t, qradartest.WithSearchPolls(0))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(srv.AddSearch(qradartest.Search{AQL: "select a from events", Outcome: qradartest.OutcomeError,
		Errors: []qradartest.SearchMessage{{Code: "1", Message: "Ariel query failed", Severity: "ERROR"}}}))
	must(srv.AddSearch(qradartest.Search{AQL: "select b from events", Outcome: qradartest.OutcomeCanceled}))
	must(srv.AddSearch(qradartest.Search{AQL: "select c from flows", Outcome: qradartest.OutcomeNever}))
	srv.AddOffenseEvents(42, map[string]any{"utf8_payload": "one"}, map[string]any{"utf8_payload": "two"}, map[string]any{"utf8_payload": "three"})

	create := func(aql string) string {
		a := call(t, srv, "POST", "/api/ariel/searches?query_expression="+url.QueryEscape(aql), nil)
		if a.status != 201 {
			t.Fatalf("create %q: %d %s", aql, a.status, a.raw)
		}
		return a.body.(map[string]any)["search_id"].(string)
	}
	get := func(id string) map[string]any {
		return call(t, srv, "GET", "/api/ariel/searches/"+id, nil).body.(map[string]any)
	}

	s := get(create("select a from events"))
	if s["status"] != "ERROR" || len(s["error_messages"].([]any)) != 1 {
		t.Errorf("error search: %v", s)
	}
	if s := get(create("select b from events")); s["status"] != "CANCELED" {
		t.Errorf("canceled search: %v", s["status"])
	}
	never := create("select c from flows")
	for range 3 {
		if s := get(never); s["status"] != "EXECUTE" {
			t.Errorf("never-ending search: %v", s["status"])
		}
	}
	a := call(t, srv, "POST", "/api/ariel/searches/"+never+"?status=CANCELED", nil)
	if a.status != 200 || a.body.(map[string]any)["status"] != "CANCELED" {
		t.Errorf("cancel: %d %s", a.status, a.raw)
	}

	// An INOFFENSE query gets the offense's events, cut to its LIMIT.
	id := create("SELECT UTF8(payload) FROM events WHERE INOFFENSE(42) ORDER BY starttime LIMIT 2 START 1 STOP 2")
	get(id)
	a = call(t, srv, "GET", "/api/ariel/searches/"+id+"/results", nil)
	want := map[string]any{"events": []any{map[string]any{"utf8_payload": "one"}, map[string]any{"utf8_payload": "two"}}}
	if diff := cmp.Diff(want, a.body); diff != "" {
		t.Errorf("offense events (-want +got):\n%s", diff)
	}
	// Any other valid query completes empty; flows are under "flows".
	id = create("select x from flows")
	get(id)
	a = call(t, srv, "GET", "/api/ariel/searches/"+id+"/results", nil)
	if diff := cmp.Diff(map[string]any{"flows": []any{}}, a.body); diff != "" {
		t.Errorf("empty flows (-want +got):\n%s", diff)
	}
}

func TestArielErrors(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewServer(t)
	tests := []struct {
		name         string
		method, path string
		status, code int
		msg          string
	}{
		{"bad AQL", "POST", "/api/ariel/searches?query_expression=" + url.QueryEscape("SELEKT foo"), 422, 2000, ""},
		{"not a select", "POST", "/api/ariel/searches?query_expression=" + url.QueryEscape("DELETE FROM events"), 422, 2000, ""},
		{"no query", "POST", "/api/ariel/searches", 422, 1005, "Exactly one parameter is required."},
		{"both", "POST", "/api/ariel/searches?saved_search_id=3&query_expression=x", 422, 1005, "Exactly one parameter is required."},
		{"saved search", "POST", "/api/ariel/searches?saved_search_id=3", 404, 1002, ""},
		{"unknown search", "GET", "/api/ariel/searches/nope", 404, 1002, ""},
		{"unknown results", "GET", "/api/ariel/searches/nope/results", 404, 1002, ""},
		{"cancel unknown", "POST", "/api/ariel/searches/nope?status=CANCELED", 404, 1002, ""},
		{"bad status", "POST", "/api/ariel/searches/nope?status=CANCELLED", 422, 1005, ""},
		{"no change", "POST", "/api/ariel/searches/nope", 422, 1005, ""},
		{"delete unknown", "DELETE", "/api/ariel/searches/nope", 404, 1002, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code, msg := errorOf(t, call(t, srv, tt.method, tt.path, nil))
			if status != tt.status || code != tt.code || (tt.msg != "" && msg != tt.msg) {
				t.Errorf("got %d/%d %q, want %d/%d %q", status, code, msg, tt.status, tt.code, tt.msg)
			}
		})
	}
}

func TestArielFormBodyAndPreferWait(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewServer(t, qradartest.WithSearchPolls(5))
	form := url.Values{"query_expression": {"select utf8(payload) from events"}}.Encode()
	req := newRequest(t.Context(), t, srv, "POST", "/api/ariel/searches", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("form-encoded create: %d %v", resp.StatusCode, s)
	}
	a := call(t, srv, "GET", "/api/ariel/searches/"+s["search_id"].(string), map[string]string{"Prefer": "wait=10"})
	if a.status != 200 || a.body.(map[string]any)["status"] != "COMPLETED" {
		t.Errorf("Prefer: wait: %d %v", a.status, a.body)
	}
	if err := srv.AddSearch(qradartest.Search{AQL: "select a from events", Outcome: qradartest.OutcomeNever}); err != nil {
		t.Fatal(err)
	}
	id := call(t, srv, "POST", "/api/ariel/searches?query_expression=select+a+from+events", nil).body.(map[string]any)["search_id"].(string)
	a = call(t, srv, "GET", "/api/ariel/searches/"+id, map[string]string{"Prefer": "wait=0"})
	if a.status != 206 || a.body.(map[string]any)["status"] != "EXECUTE" {
		t.Errorf("Prefer: wait=0 on a running search: %d %v", a.status, a.body)
	}
}

func TestAddSearchRejectsBadInput(t *testing.T) {
	t.Parallel()
	srv := qradartest.New()
	if err := srv.AddSearch(qradartest.Search{AQL: "not aql"}); err == nil {
		t.Error("AddSearch accepted a query that is not AQL")
	}
	if err := srv.AddSearch(qradartest.Search{AQL: "select a from events", Outcome: "LATER"}); err == nil {
		t.Error("AddSearch accepted an unknown outcome")
	}
	if _, err := srv.AddOffense(qradartest.Offense{Status: "PENDING"}); err == nil {
		t.Error("AddOffense accepted an unknown status")
	}
	if _, err := srv.AddOffense(qradartest.Offense{ID: -1}); err == nil {
		t.Error("AddOffense accepted a negative id")
	}
	must(t)(srv.AddOffense(qradartest.Offense{ID: 3}))
	if _, err := srv.AddOffense(qradartest.Offense{ID: 3}); err == nil {
		t.Error("AddOffense accepted a duplicate id")
	}
	if err := srv.ModifyOffense(4, func(*qradartest.Offense) {}); err == nil {
		t.Error("ModifyOffense accepted an unknown offense")
	}
	if _, err := srv.AddNote(4, "x", "admin"); err == nil {
		t.Error("AddNote accepted an unknown offense")
	}
	if err := srv.AddOffenseType(qradartest.OffenseType{ID: 1}); err == nil {
		t.Error("AddOffenseType accepted a type without a name")
	}
	if _, err := srv.AddClosingReason(qradartest.ClosingReason{}); err == nil {
		t.Error("AddClosingReason accepted an empty text")
	}
	if _, err := srv.AddClosingReason(qradartest.ClosingReason{ID: 1, Text: "again"}); err == nil {
		t.Error("AddClosingReason accepted a duplicate id")
	}
	must(t)(srv.AddRule(qradartest.Rule{ID: 5, Name: "r"}))
	if _, err := srv.AddRule(qradartest.Rule{ID: 5, Name: "r"}); err == nil {
		t.Error("AddRule accepted a duplicate id")
	}
	must(t)(srv.AddSourceAddress(qradartest.SourceAddress{ID: 5}))
	if _, err := srv.AddSourceAddress(qradartest.SourceAddress{ID: 5}); err == nil {
		t.Error("AddSourceAddress accepted a duplicate id")
	}
	must(t)(srv.AddLocalDestinationAddress(qradartest.LocalDestinationAddress{ID: 5}))
	if _, err := srv.AddLocalDestinationAddress(qradartest.LocalDestinationAddress{ID: 5}); err == nil {
		t.Error("AddLocalDestinationAddress accepted a duplicate id")
	}
	if err := srv.AddDomain(qradartest.Domain{ID: -2}); err == nil {
		t.Error("AddDomain accepted a negative id")
	}
}

func TestRoutingErrors(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewServer(t)
	status, _, _ := errorOf(t, call(t, srv, "GET", "/api/siem/nothing", nil))
	if status != 404 {
		t.Errorf("unknown path: %d", status)
	}
	status, _, _ = errorOf(t, call(t, srv, "DELETE", "/api/siem/offenses", nil))
	if status != 405 {
		t.Errorf("wrong method: %d", status)
	}
}

func TestRequestCounts(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	call(t, srv, "GET", "/api/siem/offenses", nil)
	call(t, srv, "GET", "/api/siem/offenses/1", nil)
	call(t, srv, "GET", "/api/siem/offenses/2", map[string]string{"SEC": "wrong"})
	call(t, srv, "POST", "/api/siem/offenses/1/notes?note_text=x", nil)
	want := map[string]int{
		"GET /api/siem/offenses":                     1,
		"GET /api/siem/offenses/{offense_id}":        2,
		"POST /api/siem/offenses/{offense_id}/notes": 1,
	}
	if diff := cmp.Diff(want, srv.RequestCounts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if n := srv.Requests("GET /api/siem/offenses/{offense_id}"); n != 2 {
		t.Errorf("Requests = %d", n)
	}
	srv.ResetRequestCounts()
	if n := len(srv.RequestCounts()); n != 0 {
		t.Errorf("%d counts after reset", n)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		faults     qradartest.Faults
		method     string
		path       string
		wantStatus int
		wantJSON   bool
		wantCode   int
	}{
		{"500", qradartest.Faults{Rate: 1, Kinds: []qradartest.FaultKind{qradartest.FaultStatus500}}, "GET", "/api/siem/offenses", 500, true, 1020},
		{"503 html", qradartest.Faults{Rate: 1, Kinds: []qradartest.FaultKind{qradartest.FaultStatus503}}, "GET", "/api/siem/offenses", 503, false, 0},
		{"503 ariel", qradartest.Faults{Rate: 1, Kinds: []qradartest.FaultKind{qradartest.FaultStatus503}}, "GET", "/api/ariel/searches", 503, true, 1010},
		{"other route untouched", qradartest.Faults{Rate: 1, Routes: []string{"GET /api/siem/offenses/{offense_id}", "/api/siem/offenses/{offense_id}/notes"}}, "GET", "/api/siem/offenses", 200, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := seeded(t, qradartest.WithFaults(tt.faults))
			a := call(t, srv, tt.method, tt.path, nil)
			if a.status != tt.wantStatus {
				t.Fatalf("status %d, want %d", a.status, tt.wantStatus)
			}
			if tt.wantJSON != (a.body != nil) {
				t.Errorf("JSON body %v, want %v: %s", a.body != nil, tt.wantJSON, a.raw)
			}
			if tt.wantCode != 0 {
				if _, code, _ := errorOf(t, a); code != tt.wantCode {
					t.Errorf("code %d, want %d", code, tt.wantCode)
				}
			}
		})
	}
}

func TestFaultTimesAndAfterApply(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	srv.SetFaults(qradartest.Faults{Rate: 1, Times: 2, Kinds: []qradartest.FaultKind{qradartest.FaultStatus500}, AfterApply: 1, Routes: []string{"POST /api/siem/offenses/{offense_id}/notes"}})
	for i, want := range []int{500, 500, 201, 201} {
		if a := call(t, srv, "POST", "/api/siem/offenses/1/notes?note_text=n", nil); a.status != want {
			t.Errorf("request %d: status %d, want %d", i, a.status, want)
		}
	}
	// The faults came after the notes were stored: four notes.
	if n := len(srv.Notes(1)); n != 4 {
		t.Errorf("%d notes, want 4", n)
	}
	srv.SetFaults(qradartest.Faults{Rate: 1, Times: 1, Kinds: []qradartest.FaultKind{qradartest.FaultStatus500}, Routes: []string{"/api/siem/offenses/{offense_id}/notes"}})
	call(t, srv, "POST", "/api/siem/offenses/1/notes?note_text=n", nil)
	if n := len(srv.Notes(1)); n != 4 {
		t.Errorf("a fault before applying stored a note: %d notes", n)
	}
}

func TestDroppedConnection(t *testing.T) {
	t.Parallel()
	srv := seeded(t, qradartest.WithFaults(qradartest.Faults{Rate: 1, Kinds: []qradartest.FaultKind{qradartest.FaultDropConnection}}))
	req := newRequest(t.Context(), t, srv, "GET", "/api/siem/offenses", nil)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want a broken connection", resp.StatusCode)
	}
}

func TestLatencyHonoursCancellation(t *testing.T) {
	t.Parallel()
	srv := seeded(t, qradartest.WithLatency(time.Hour))
	ctx, cancel := context.WithCancel(t.Context())
	req := newRequest(ctx, t, srv, "GET", "/api/siem/offenses", nil)
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	srv.SetLatency(0)
	if a := call(t, srv, "GET", "/api/siem/offenses", nil); a.status != 200 {
		t.Errorf("status %d after latency removed", a.status)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	srv := seeded(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 10 {
				switch (i + j) % 4 {
				case 0:
					call(t, srv, "POST", "/api/siem/offenses/1/notes?note_text=n", nil)
				case 1:
					call(t, srv, "GET", "/api/siem/offenses?filter=status%3DOPEN", nil)
				case 2:
					_ = srv.ModifyOffense(2, func(o *qradartest.Offense) { o.EventCount++ })
				default:
					_ = srv.Offenses()
				}
			}
		}()
	}
	wg.Wait()
	if n := len(srv.Notes(1)); n != 20 {
		t.Errorf("%d notes, want 20", n)
	}
}

func TestStartAndHandler(t *testing.T) {
	t.Parallel()
	srv := qradartest.New()
	if srv.URL() != "" {
		t.Errorf("URL before Start = %q", srv.URL())
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	a := call(t, srv, "GET", "/api/help/versions?filter="+url.QueryEscape(`version = "20.0"`), nil)
	if a.status != 200 || len(a.body.([]any)) != 1 {
		t.Errorf("help/versions: %d %s", a.status, a.raw)
	}
	a = call(t, srv, "GET", "/api/ariel/databases", nil)
	if diff := cmp.Diff([]any{"events", "flows"}, a.body); diff != "" {
		t.Errorf("databases (-want +got):\n%s", diff)
	}
	srv.Close()
	srv.Close()
}

func TestTLSServer(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewTLSServer(t)
	pem := srv.CertificatePEM()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("CertificatePEM is not PEM: %q", pem)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	req := newRequest(t.Context(), t, srv, "GET", "/api/system/about", nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
	if qradartest.New().CertificatePEM() != nil {
		t.Error("CertificatePEM of a server without TLS is not nil")
	}
}

func TestWithVersions(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewServer(t, qradartest.WithVersions("20.0", "21.0"))
	for v, want := range map[string]int{"20.0": 200, "21": 200, "14.0": 422, "22.0": 422} {
		if a := call(t, srv, "GET", "/api/system/about", map[string]string{"Version": v}); a.status != want {
			t.Errorf("Version %s: status %d, want %d", v, a.status, want)
		}
	}
	_, _, msg := errorOf(t, call(t, srv, "GET", "/api/system/about", map[string]string{"Version": "14.0"}))
	if !strings.Contains(msg, "has been removed") {
		t.Errorf("14.0: %q", msg)
	}
}

// TestFaultKindsDrawn: without Kinds, every kind is drawn in turn, and the
// same seed draws the same sequence.
func TestFaultKindsDrawn(t *testing.T) {
	t.Parallel()
	draw := func() []int {
		srv := seeded(t, qradartest.WithFaults(qradartest.Faults{Rate: 1, Seed: 7}))
		var got []int
		for range 12 {
			req := newRequest(t.Context(), t, srv, "GET", "/api/siem/offenses", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				got = append(got, 0) // dropped
				continue
			}
			resp.Body.Close()
			got = append(got, resp.StatusCode)
		}
		return got
	}
	first := draw()
	seen := map[int]bool{}
	for _, s := range first {
		seen[s] = true
	}
	if !seen[0] || !seen[500] || !seen[503] {
		t.Errorf("kinds drawn: %v, want drops, 500 and 503", first)
	}
	if diff := cmp.Diff(first, draw()); diff != "" {
		t.Errorf("same seed, other draws (-first +second):\n%s", diff)
	}
}
