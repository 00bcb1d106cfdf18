package workflow_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/synapse-go/synapse/qradar/qradartest"
	"github.com/synapse-go/synapse/thehive"
	"github.com/synapse-go/synapse/thehive/thehivetest"
	"github.com/synapse-go/synapse/workflow"
)

// TestServerQRadar runs the QRadar half of the server over real HTTP: the
// original POST /QRadar2alert turns the offenses into alerts, then an
// analyst closes a case in TheHive, TheHive's webhook reaches the server,
// and the offense is closed in QRadar with the mapped reason and a note.
func TestServerQRadar(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	hive, th := newTheHive(t, thehivetest.WithWebhook(url+"/webhook", "Bearer "+webhookToken))
	fx := qrNewFixture(t)
	yaml := fmt.Sprintf(`
server: {api_token: %s, webhook_token: %s}
thehive: {url: %s, api_key: %s, organisation: %s}
sources:
  main: {type: qradar, url: %s, token: %s}
workflows:
  offenses:
    type: qradar2alert
    source: main
    alert: {case_template: QRadar Offense, tags: [soc-paris]}
  close:
    type: close_offenses
    source: main
    closing_reasons: {FalsePositive: "False-Positive, Tuned"}
`, apiToken, webhookToken, hive.URL(), thehivetest.APIKey, thehivetest.Organisation, fx.srv.URL(), qradartest.Token)
	cfg, err := workflow.ParseConfig("synapse.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	app, err := workflow.NewApp(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	h, err := app.Handler()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.ServeListener(ctx, ln, h) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	}()
	fxs := &serverFixture{url: url, hc: &http.Client{Timeout: 30 * time.Second}}

	// The offenses are from March 2026: a year covers them.
	code, body := fxs.call(t, "POST", "/QRadar2alert", apiToken, `{"timerange": 525600}`)
	if code != 200 || body["success"] != true {
		t.Fatalf("/QRadar2alert: %d %v", code, body)
	}
	offenses, _ := body["offenses"].([]any)
	if len(offenses) != 2 {
		t.Fatalf("offenses %v, want 211 and 212", offenses)
	}
	for _, o := range offenses {
		o := o.(map[string]any)
		id, _ := o["raised_alert_id"].(string)
		if o["success"] != true || !strings.HasPrefix(id, "~") || (o["qradar_offense_id"] != 211.0 && o["qradar_offense_id"] != 212.0) {
			t.Errorf("offense answer %v", o)
		}
	}
	if n := len(hive.Alerts()); n != 2 {
		t.Fatalf("%d alerts, want 2", n)
	}
	// A second call finds the alerts up to date: nothing to report.
	if _, body := fxs.call(t, "POST", "/QRadar2alert", apiToken, `{"timerange": 525600}`); len(body["offenses"].([]any)) != 0 {
		t.Errorf("second call: %v", body)
	}

	// The analyst promotes the alert of offense 211 and closes the case.
	alert, err := th.Alerts.GetBySourceRef(t.Context(), "internal", "QRadar_Offenses:main", "211")
	if err != nil {
		t.Fatal(err)
	}
	c, err := th.Alerts.Promote(t.Context(), alert.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := th.Cases.Close(t.Context(), c.ID, thehive.CaseClose{Status: thehive.CaseStatusFalsePositive, Summary: "scanner"}); err != nil {
		t.Fatal(err)
	}
	hive.FlushWebhooks()
	if st := qrOffenseField(t, fx.srv, 211, "status"); st != "CLOSED" {
		t.Fatalf("offense 211 is %s after its case was closed", st)
	}
	if reason := qrOffenseField(t, fx.srv, 211, "closing_reason_id"); reason != "2" {
		t.Errorf("closing reason %s, want the mapped False-Positive, Tuned (2)", reason)
	}
	if notes := qrNoteTexts(fx.srv, 211); len(notes) != 1 || !strings.Contains(notes[0], "Resolution: FalsePositive") {
		t.Errorf("notes %v", notes)
	}
	if st := qrOffenseField(t, fx.srv, 212, "status"); st != "OPEN" {
		t.Errorf("offense 212 is %s", st)
	}
	if hive.WebhookFailures() != 0 {
		t.Errorf("%d webhook deliveries failed", hive.WebhookFailures())
	}
	if got := app.Metrics().Value("synapse_webhook_events_total", "action", workflow.ActionCloseOffense); got < 1 {
		t.Errorf("closeOffense events counted: %v", got)
	}
	for _, secret := range []string{apiToken, webhookToken, thehivetest.APIKey, qradartest.Token} {
		if strings.Contains(logs.String(), secret) {
			t.Error("a secret is in the logs")
		}
	}
}
