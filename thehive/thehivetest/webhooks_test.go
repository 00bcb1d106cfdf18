package thehivetest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

// receiver collects webhook deliveries.
type receiver struct {
	mu     sync.Mutex
	events []map[string]any
	auth   []string
	status int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var ev map[string]any
	_ = json.Unmarshal(b, &ev)
	rc.mu.Lock()
	rc.events = append(rc.events, ev)
	rc.auth = append(rc.auth, r.Header.Get("Authorization")+" "+r.Header.Get("Content-Type"))
	status := rc.status
	rc.mu.Unlock()
	if status != 0 {
		w.WriteHeader(status)
	}
}

func (rc *receiver) got() ([]map[string]any, []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]map[string]any(nil), rc.events...), append([]string(nil), rc.auth...)
}

func TestWebhookDelivery(t *testing.T) {
	t.Parallel()
	rc := &receiver{}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	srv := thehivetest.NewServer(t, thehivetest.WithWebhook(hook.URL, "Bearer hook-token"))
	c := newClient(t, srv)
	cs := createCase(t, c, map[string]any{"title": "hooked"})
	task := c.do("POST", "/api/v1/case/"+id(cs)+"/task", map[string]any{"title": "t"}).want(t, http.StatusCreated).obj()
	c.do("POST", "/api/v1/task/"+id(task)+"/log", map[string]any{"message": "m"}).want(t, http.StatusCreated)
	obs := c.do("POST", "/api/v1/case/"+id(cs)+"/observable", map[string]any{"dataType": "ip", "data": "10.0.0.1"}).list()[0]
	c.do("PATCH", "/api/v1/case/"+id(cs), map[string]any{"status": "FalsePositive"}).want(t, http.StatusNoContent)
	c.do("DELETE", "/api/v1/observable/"+id(obs), nil).want(t, http.StatusNoContent)
	a := createAlert(t, c, "h1", nil)
	srv.FlushWebhooks()

	events, auths := rc.got()
	type summary struct {
		Action, ObjectType, RootID string
		Main                       bool
	}
	var got []summary
	for _, ev := range events {
		got = append(got, summary{ev["action"].(string), ev["objectType"].(string), ev["rootId"].(string), ev["mainAction"].(bool)})
	}
	orgID := events[0]["organisation"].(map[string]any)["organisationId"].(string)
	want := []summary{
		{"create", "Case", id(cs), true},
		{"create", "Task", id(cs), true},
		{"create", "Log", id(cs), true},
		{"update", "Task", id(cs), false}, // the log started the task
		{"create", "Observable", id(cs), true},
		{"update", "Case", id(cs), true},
		{"update", "Task", id(cs), false}, // closing the case cancels its task
		{"delete", "Observable", orgID, true},
		{"create", "Alert", id(a), true},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("events (-want +got):\n%s", d)
	}
	for _, a := range auths {
		if a != "Bearer hook-token application/json" {
			t.Errorf("delivery headers %q", a)
		}
	}
	// The payload is TheHive 5's audit rendering.
	create := events[0]
	for _, k := range []string{"_id", "_createdAt", "requestId", "details", "object", "context"} {
		if create[k] == nil {
			t.Errorf("case creation event lacks %s", k)
		}
	}
	if create["_type"] != "Audit" || create["_createdBy"] != thehivetest.AdminLogin || create["objectId"] != id(cs) {
		t.Errorf("event %v", create)
	}
	obj := create["object"].(map[string]any)
	if obj["title"] != "hooked" || obj["customFieldValues"] == nil {
		t.Errorf("event object %v", obj)
	}
	update := events[5]
	if d := cmp.Diff(map[string]any{"status": "FalsePositive", "stage": "Closed", "endDate": update["details"].(map[string]any)["endDate"]}, update["details"]); d != "" {
		t.Errorf("update details (-want +got):\n%s", d)
	}
	if obs := events[4]["object"].(map[string]any); obs["case"].(map[string]any)["_id"] != id(cs) {
		t.Errorf("observable event does not embed its case: %v", obs)
	}
	if _, ok := events[7]["object"]; ok {
		t.Error("deletion event has an object")
	}
	// Events() returns the same events.
	if d := cmp.Diff(events, srv.Events()); d != "" {
		t.Errorf("Events() differs from deliveries (-delivered +Events):\n%s", d)
	}
}

func TestWebhookFailuresAreNotRetried(t *testing.T) {
	t.Parallel()
	rc := &receiver{status: http.StatusInternalServerError}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	srv := thehivetest.NewServer(t, thehivetest.WithWebhook(hook.URL, ""))
	c := newClient(t, srv)
	createCase(t, c, map[string]any{})
	createCase(t, c, map[string]any{})
	srv.FlushWebhooks()
	events, auths := rc.got()
	if len(events) != 2 || srv.WebhookFailures() != 2 {
		t.Errorf("%d deliveries, %d failures; want 2 and 2", len(events), srv.WebhookFailures())
	}
	if auths[0] != " application/json" {
		t.Errorf("headers %q: want no Authorization", auths[0])
	}
}

func TestEventsWithoutWebhook(t *testing.T) {
	t.Parallel()
	srv := thehivetest.NewServer(t)
	c := newClient(t, srv)
	a := createAlert(t, c, "e1", nil)
	c.do("POST", "/api/v1/alert/"+id(a)+"/case", nil).want(t, http.StatusCreated)
	srv.FlushWebhooks() // nothing to wait for
	var got [][2]any
	for _, ev := range srv.Events() {
		got = append(got, [2]any{ev["action"], ev["objectType"]})
	}
	want := [][2]any{{"create", "Alert"}, {"create", "Case"}, {"update", "Alert"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	promote := srv.Events()[2]
	if promote["rootId"] != srv.Cases()[0]["_id"] || promote["mainAction"] != false {
		t.Errorf("alert update of a promotion: %v", promote)
	}
}
