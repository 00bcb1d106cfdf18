package workflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/synapse-go/synapse/thehive/thehivetest"
	"github.com/synapse-go/synapse/workflow"
)

const (
	apiToken     = "server-test-api-token-1f2e"
	webhookToken = "server-test-webhook-token-9a8b"
)

type serverFixture struct {
	url  string
	hive *thehivetest.Server
	imap *imapFixture
	app  *workflow.App
	logs *syncBuffer
	stop context.CancelFunc
	done chan error
	hc   *http.Client
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs a synapse server over an in-memory IMAP mailbox and a
// fake TheHive, configured from YAML like a real deployment.
func startServer(t *testing.T, schedule string) *serverFixture {
	t.Helper()
	fx := &serverFixture{imap: newIMAPFixture(t), logs: &syncBuffer{}, hc: &http.Client{Timeout: 30 * time.Second}}
	fx.hive, _ = newTheHive(t)
	yaml := fmt.Sprintf(`
server:
  api_token: ${API_TOKEN}
  webhook_token: ${WEBHOOK_TOKEN}
  log_level: debug
  shutdown_timeout: 5s
thehive:
  url: %s
  api_key: ${THEHIVE_KEY}
  organisation: %s
sources:
  mailbox:
    type: imap
    address: %s
    tls: none
    username: %s
    password: ${IMAP_PASSWORD}
    folders: [%s]
    processed: {mark_read: true, category: synapse-done}
    quarantine: {category: synapse-quarantine}
workflows:
  phishing:
    type: ews2case
    source: mailbox
    schedule: "%s"
    concurrency: 4
    owner: {fallback: %s}
`, fx.hive.URL(), thehivetest.Organisation, fx.imap.srv.Addr(), imapUser, imapFolder, schedule, thehivetest.AdminLogin)
	cfg, err := workflow.ParseConfig("synapse.yaml", []byte(yaml), env(map[string]string{
		"API_TOKEN": apiToken, "WEBHOOK_TOKEN": webhookToken,
		"THEHIVE_KEY": thehivetest.APIKey, "IMAP_PASSWORD": imapPassword,
	}))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(fx.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fx.app, err = workflow.NewApp(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	h, err := fx.app.Handler()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fx.url = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	fx.stop, fx.done = cancel, make(chan error, 1)
	go func() { fx.done <- fx.app.ServeListener(ctx, ln, h) }()
	t.Cleanup(func() {
		fx.shutdown(t)
		fx.app.Close()
	})
	return fx
}

func (fx *serverFixture) shutdown(t *testing.T) {
	t.Helper()
	if fx.stop == nil {
		return
	}
	fx.stop()
	fx.stop = nil
	if err := <-fx.done; err != nil {
		t.Errorf("server stopped with %v", err)
	}
}

// call sends a request and decodes a JSON answer into a map.
func (fx *serverFixture) call(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, fx.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := fx.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %s", method, path, raw)
		}
	} else {
		out = map[string]any{"text": string(raw)}
	}
	return resp.StatusCode, out
}

func TestServerEndpoints(t *testing.T) {
	t.Parallel()
	fx := startServer(t, "")
	phish, reply, _ := scenario()
	fx.imap.seed(t, phish.raw())
	fx.imap.seed(t, reply.raw())

	// Open endpoints.
	if code, body := fx.call(t, "GET", "/version", "", ""); code != 200 || body["version"] != workflow.Version {
		t.Errorf("/version: %d %v", code, body)
	}
	if code, body := fx.call(t, "GET", "/healthz", "", ""); code != 200 || body["status"] != "ok" {
		t.Errorf("/healthz: %d %v", code, body)
	}

	// Trigger endpoints require the token.
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/ews2case", ""}, {"GET", "/workflows", ""},
		{"POST", "/workflows/phishing/run", ""}, {"POST", "/QRadar2alert", `{"timerange": 10}`},
	} {
		for _, token := range []string{"", "wrong-token"} {
			if code, _ := fx.call(t, c.method, c.path, token, c.body); code != http.StatusUnauthorized {
				t.Errorf("%s %s with token %q: %d, want 401", c.method, c.path, token, code)
			}
		}
	}
	if len(fx.hive.Cases()) != 0 {
		t.Fatal("an unauthenticated request ran the workflow")
	}

	// The original GET /ews2case answers {"success": true}.
	code, body := fx.call(t, "GET", "/ews2case", apiToken, "")
	if code != 200 || body["success"] != true {
		t.Fatalf("/ews2case: %d %v", code, body)
	}
	if n := len(fx.hive.Cases()); n != 1 {
		t.Errorf("%d cases after /ews2case, want 1 (a mail and its reply)", n)
	}

	// POST /workflows/{name}/run answers the report.
	code, body = fx.call(t, "POST", "/workflows/phishing/run", apiToken, "")
	if code != 200 || body["success"] != true {
		t.Errorf("run: %d %v", code, body)
	}
	if rep, _ := body["report"].(map[string]any); rep["seen"] != 0.0 {
		t.Errorf("second run saw %v messages", rep["seen"])
	}
	if code, _ := fx.call(t, "POST", "/workflows/nope/run", apiToken, ""); code != 404 {
		t.Errorf("unknown workflow: %d", code)
	}

	// GET /workflows lists runs and counts.
	code, body = fx.call(t, "GET", "/workflows", apiToken, "")
	wfs, _ := body["workflows"].([]any)
	if code != 200 || len(wfs) != 1 {
		t.Fatalf("/workflows: %d %v", code, body)
	}
	st := wfs[0].(map[string]any)
	if st["name"] != "phishing" || st["runs"] != 2.0 || st["last"].(map[string]any)["workflow"] != "phishing" {
		t.Errorf("status %v", st)
	}

	// The original POST /QRadar2alert keeps its error bodies.
	if code, body := fx.call(t, "POST", "/QRadar2alert", apiToken, `{"minutes": 10}`); code != 500 || body["sucess"] != false || body["message"] != "timerange key missing in request" {
		t.Errorf("QRadar2alert without timerange: %d %v", code, body)
	}
	if code, body := fx.call(t, "POST", "/QRadar2alert", apiToken, `not json`); code != 400 || body["message"] != "Request didn't contain valid JSON" {
		t.Errorf("QRadar2alert with bad JSON: %d %v", code, body)
	}

	// Metrics reflect the runs.
	_, body = fx.call(t, "GET", "/metrics", "", "")
	metrics := body["text"].(string)
	for _, want := range []string{
		`synapse_workflow_runs_total{workflow="phishing",result="ok"} 2`,
		`synapse_workflow_items_total{workflow="phishing",outcome="created"} 1`,
		`synapse_workflow_items_total{workflow="phishing",outcome="updated"} 1`,
		`synapse_step_runs_total{workflow="phishing",step="create-case",result="ok"} 2`,
		`synapse_http_requests_total{route="GET /ews2case",code="401"} 2`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s:\n%s", want, metrics)
		}
	}

	// Nothing secret in the logs.
	fx.shutdown(t)
	logs := fx.logs.String()
	for _, secret := range []string{apiToken, webhookToken, thehivetest.APIKey, imapPassword} {
		if strings.Contains(logs, secret) {
			t.Errorf("a secret is in the logs")
		}
	}
}

func TestServerWebhook(t *testing.T) {
	t.Parallel()
	fx := startServer(t, "")
	event := `{"operation":"Update","objectType":"case","objectId":"~1","rootId":"~1","details":{"status":"Resolved"},"object":{"_id":"~1","status":"Resolved"}}`
	if code, _ := fx.call(t, "POST", "/webhook", "", event); code != http.StatusUnauthorized {
		t.Errorf("webhook without credentials: %d", code)
	}
	if code, _ := fx.call(t, "POST", "/webhook", apiToken, event); code != http.StatusUnauthorized {
		t.Errorf("webhook with the API token: %d, want 401 (it has its own secret)", code)
	}
	code, body := fx.call(t, "POST", "/webhook", webhookToken, event)
	if code != 200 || body["action"] != "None" || body["success"] != true {
		t.Errorf("webhook: %d %v", code, body)
	}
	if code, _ := fx.call(t, "POST", "/webhook", webhookToken, `{"not":"an event"}`); code != 400 {
		t.Errorf("webhook with a non-event: %d", code)
	}
	big := `{"operation":"Update","pad":"` + strings.Repeat("x", 5<<20) + `"}`
	if code, _ := fx.call(t, "POST", "/webhook", webhookToken, big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized webhook: %d", code)
	}
}

// TestServerScheduleAndShutdown lets the scheduler run the workflow on its
// own, then stops the server: it must stop cleanly, within the grace.
func TestServerScheduleAndShutdown(t *testing.T) {
	t.Parallel()
	fx := startServer(t, "1s")
	phish, _, forward := scenario()
	fx.imap.seed(t, phish.raw())
	fx.imap.seed(t, forward.raw())
	deadline := time.Now().Add(20 * time.Second)
	for len(fx.hive.Cases()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the scheduled run did not create the cases")
		}
		time.Sleep(50 * time.Millisecond)
	}
	start := time.Now()
	fx.shutdown(t)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	st := fx.app.Scheduler().Status()[0]
	if st.Runs < 1 || st.Running {
		t.Errorf("status after shutdown: %+v", st)
	}
	if fx.app.Metrics().Value("synapse_workflow_running", "workflow", "phishing") != 0 {
		t.Error("the running gauge stayed up")
	}
}
