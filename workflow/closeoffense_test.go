package workflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/qradar/qradartest"
	"github.com/synapse-go/synapse/thehive"
	"github.com/synapse-go/synapse/thehive/thehivetest"
	"github.com/synapse-go/synapse/workflow"
)

// qrHookReceiver receives TheHive's webhook and hands each event to an
// OffenseCloser, recording what it did.
type qrHookReceiver struct {
	srv *httptest.Server

	mu      sync.Mutex
	closer  *workflow.OffenseCloser
	results []workflow.CloseResult
	errs    []error
}

const qrHookSecret = "hook-secret-5d8e"

func qrNewHookReceiver(t testing.TB) *qrHookReceiver {
	t.Helper()
	r := &qrHookReceiver{}
	h, err := thehive.NewWebhookHandler(func(ctx context.Context, e *thehive.Event) error {
		r.mu.Lock()
		c := r.closer
		r.mu.Unlock()
		if c == nil {
			return nil
		}
		res, err := c.Handle(ctx, e)
		r.mu.Lock()
		defer r.mu.Unlock()
		if res.Action != workflow.ActionNone || err != nil {
			r.results = append(r.results, res)
		}
		if err != nil {
			r.errs = append(r.errs, err)
		}
		return err
	}, thehive.WithBearerToken(qrHookSecret))
	if err != nil {
		t.Fatal(err)
	}
	r.srv = httptest.NewServer(h)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *qrHookReceiver) setCloser(c *workflow.OffenseCloser) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closer = c
}

// done returns what the closer did so far and forgets it.
func (r *qrHookReceiver) done() ([]workflow.CloseResult, []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res, errs := r.results, r.errs
	r.results, r.errs = nil, nil
	return res, errs
}

// qrNoteTexts returns the notes of an offense.
func qrNoteTexts(srv *qradartest.Server, id int64) []string {
	var out []string
	for _, n := range srv.Notes(id) {
		out = append(out, n.Text)
	}
	return out
}

// qrOffenseField returns a field of a stored offense.
func qrOffenseField(t testing.TB, srv *qradartest.Server, id int64, field string) string {
	t.Helper()
	o, ok := srv.Offense(id)
	if !ok {
		t.Fatalf("no offense %d", id)
	}
	return fmt.Sprint(o[field])
}

// qrLogBuffer is a log sink safe for concurrent use.
type qrLogBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *qrLogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *qrLogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// qrCloseScene is the scenario's offenses as alerts in a fake TheHive whose
// webhook reaches an OffenseCloser.
type qrCloseScene struct {
	fx     *qrFixture
	hive   *thehivetest.Server
	th     *thehive.Client
	hook   *qrHookReceiver
	closer *workflow.OffenseCloser
}

func qrNewCloseScene(t *testing.T, cfg workflow.CloseOffenseConfig) *qrCloseScene {
	t.Helper()
	s := &qrCloseScene{fx: qrNewFixture(t), hook: qrNewHookReceiver(t)}
	s.hive, s.th = qrNewHive(t, thehivetest.WithWebhook(s.hook.srv.URL, "Bearer "+qrHookSecret))
	w := qrNewWorkflow(t, s.fx.qr, s.th, qrDefaultConfig())
	if rep, err := w.Run(t.Context()); err != nil || rep.Created != 2 {
		t.Fatalf("QRadar2Alert: %+v, %v", rep, err)
	}
	cfg.Instances = append(cfg.Instances, w.Instance())
	closer, err := workflow.NewOffenseCloser(s.th, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.closer = closer
	s.hive.FlushWebhooks()
	s.hook.setCloser(closer)
	return s
}

// promote makes a case of the alert of an offense.
func (s *qrCloseScene) promote(t *testing.T, ref string) (*thehive.Case, thehive.AlertID) {
	t.Helper()
	a := qrAlertByRef(t, s.th, "QRadar_Offenses:main", ref)
	c, err := s.th.Alerts.Promote(t.Context(), a.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, a.ID
}

func (s *qrCloseScene) closeCase(t *testing.T, id thehive.CaseID, status thehive.CaseStatus, summary string) {
	t.Helper()
	if err := s.th.Cases.Close(t.Context(), id, thehive.CaseClose{Status: status, ImpactStatus: thehive.ImpactNone, Summary: summary}); err != nil {
		t.Fatal(err)
	}
	s.hive.FlushWebhooks()
}

func TestOffenseCloserClosesCaseOffense(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		reasons    map[string]string
		status     thehive.CaseStatus
		wantReason string
		wantID     string
	}{
		{name: "mapped reason", reasons: map[string]string{"FalsePositive": "False-Positive, Tuned"},
			status: thehive.CaseStatusFalsePositive, wantReason: "False-Positive, Tuned", wantID: "2"},
		{name: "mapping ignores case", reasons: map[string]string{"truepositive": "Policy Violation"},
			status: thehive.CaseStatusTruePositive, wantReason: "Policy Violation", wantID: "3"},
		{name: "default as the original", reasons: map[string]string{"FalsePositive": "False-Positive, Tuned"},
			status: thehive.CaseStatusTruePositive, wantReason: "Non-Issue", wantID: "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := qrNewCloseScene(t, workflow.CloseOffenseConfig{ClosingReasons: tt.reasons})
			c, alertID := s.promote(t, "211")
			s.closeCase(t, c.ID, tt.status, "The IT team's vulnerability scanner")

			results, errs := s.hook.done()
			if len(errs) > 0 {
				t.Fatalf("closer errors: %v", errs)
			}
			want := []workflow.CloseResult{{Action: workflow.ActionCloseOffense, Offenses: []workflow.OffenseClose{{
				Source: "QRadar_Offenses:main", OffenseID: 211, AlertID: alertID,
				Status: workflow.OffenseClosed, ClosingReason: tt.wantReason,
			}}}}
			if diff := cmp.Diff(want, results); diff != "" {
				t.Errorf("closer results (-want +got):\n%s", diff)
			}
			if st, reason := qrOffenseField(t, s.fx.srv, 211, "status"), qrOffenseField(t, s.fx.srv, 211, "closing_reason_id"); st != "CLOSED" || reason != tt.wantID {
				t.Errorf("offense 211 is %v with reason %v, want CLOSED with %v", st, reason, tt.wantID)
			}
			wantNote := "Closed from TheHive case #" + qrItoa(c.Number) + " (" + string(c.ID) + "): " + c.Title +
				"\nResolution: " + string(tt.status) + "; impact: NoImpact\nSummary: The IT team's vulnerability scanner"
			if diff := cmp.Diff([]string{wantNote}, qrNoteTexts(s.fx.srv, 211)); diff != "" {
				t.Errorf("notes of offense 211 (-want +got):\n%s", diff)
			}
			if st := qrOffenseField(t, s.fx.srv, 212, "status"); st != "OPEN" {
				t.Errorf("offense 212, whose alert is not in the case, is %v", st)
			}
		})
	}
}

func TestOffenseCloserMergedCasesCloseEveryOffense(t *testing.T) {
	t.Parallel()
	s := qrNewCloseScene(t, workflow.CloseOffenseConfig{})
	c1, a1 := s.promote(t, "211")
	c2, a2 := s.promote(t, "212")
	merged, err := s.th.Cases.Merge(t.Context(), []thehive.CaseID{c1.ID, c2.ID})
	if err != nil {
		t.Fatal(err)
	}
	s.hive.FlushWebhooks()
	if res, _ := s.hook.done(); len(res) != 0 {
		t.Fatalf("merging closed something: %+v", res)
	}
	s.closeCase(t, merged.ID, thehive.CaseStatusTruePositive, "Both were the same intrusion")

	results, errs := s.hook.done()
	if len(errs) > 0 || len(results) != 1 {
		t.Fatalf("results %+v, errors %v", results, errs)
	}
	want := []workflow.OffenseClose{
		{Source: "QRadar_Offenses:main", OffenseID: 211, AlertID: a1, Status: workflow.OffenseClosed, ClosingReason: "Non-Issue"},
		{Source: "QRadar_Offenses:main", OffenseID: 212, AlertID: a2, Status: workflow.OffenseClosed, ClosingReason: "Non-Issue"},
	}
	sortClose := cmpopts.SortSlices(func(a, b workflow.OffenseClose) bool { return a.OffenseID < b.OffenseID })
	if diff := cmp.Diff(want, results[0].Offenses, sortClose); diff != "" {
		t.Errorf("offenses closed with the merged case (-want +got):\n%s", diff)
	}
	for _, id := range []int64{211, 212} {
		if st := qrOffenseField(t, s.fx.srv, id, "status"); st != "CLOSED" {
			t.Errorf("offense %d is %v", id, st)
		}
		if notes := qrNoteTexts(s.fx.srv, id); len(notes) != 1 || !strings.Contains(notes[0], "TheHive case #"+qrItoa(merged.Number)) {
			t.Errorf("notes of offense %d: %q", id, notes)
		}
	}
}

// TheHive 3 marks a case merged from others with mergeFrom; the alerts stay
// with the old cases.
func TestOffenseCloserTheHive3MergeFrom(t *testing.T) {
	t.Parallel()
	s := qrNewCloseScene(t, workflow.CloseOffenseConfig{ClosingReasons: map[string]string{"FalsePositive": "False-Positive, Tuned"}})
	c1, _ := s.promote(t, "211")
	c2, _ := s.promote(t, "212")
	payload := `{"operation":"Update","objectType":"case","objectId":"` + string(c1.ID) + `","base":true,"startDate":1772445600000,
		"details":{"status":"Resolved","resolutionStatus":"FalsePositive","summary":"merged duplicate","impactStatus":"NoImpact"},
		"object":{"id":"` + string(c1.ID) + `","_type":"case","caseId":41,"title":"Old case","status":"Resolved",
		"resolutionStatus":"FalsePositive","mergeFrom":["` + string(c2.ID) + `"]}}`
	e, err := thehive.ParseEvent([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.closer.Handle(t.Context(), e)
	if err != nil || res.Action != workflow.ActionCloseOffense || len(res.Offenses) != 2 {
		t.Fatalf("Handle = %+v, %v", res, err)
	}
	for _, id := range []int64{211, 212} {
		if reason := qrOffenseField(t, s.fx.srv, id, "closing_reason_id"); reason != "2" {
			t.Errorf("offense %d closing reason %v, want 2 (False-Positive, Tuned)", id, reason)
		}
		want := "Closed from TheHive case #41 (" + string(c1.ID) + "): Old case\nResolution: FalsePositive; impact: NoImpact\nSummary: merged duplicate"
		if diff := cmp.Diff([]string{want}, qrNoteTexts(s.fx.srv, id)); diff != "" {
			t.Errorf("notes of offense %d (-want +got):\n%s", id, diff)
		}
	}
}

// TheHive 5 in the TheHive 3 format says "Resolved" and puts the
// resolution in extendedStatus.
func TestOffenseCloserTheHive5LegacyFormat(t *testing.T) {
	t.Parallel()
	s := qrNewCloseScene(t, workflow.CloseOffenseConfig{ClosingReasons: map[string]string{"FalsePositive": "False-Positive, Tuned"}})
	c, _ := s.promote(t, "211")
	payload := `{"operation":"Update","objectType":"case","objectId":"` + string(c.ID) + `","base":true,"_type":"audit",
		"organisation":{"organisation":"main-org","organisationId":"~1"},
		"details":{"status":"Resolved","resolutionStatus":null,"extendedStatus":"FalsePositive","stage":"Closed"},
		"object":{"_type":"case","caseId":` + qrItoa(c.Number) + `,"status":"Resolved","stage":"Closed","extendedStatus":"FalsePositive"}}`
	e, err := thehive.ParseEvent([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.closer.Handle(t.Context(), e)
	if err != nil || len(res.Offenses) != 1 || res.Offenses[0].ClosingReason != "False-Positive, Tuned" {
		t.Fatalf("Handle = %+v, %v", res, err)
	}
}

func TestOffenseCloserAlertClosedWithoutCase(t *testing.T) {
	t.Parallel()
	for _, enabled := range []bool{true, false} {
		t.Run(map[bool]string{true: "enabled", false: "disabled"}[enabled], func(t *testing.T) {
			t.Parallel()
			s := qrNewCloseScene(t, workflow.CloseOffenseConfig{CloseOnAlertIgnored: enabled,
				ClosingReasons: map[string]string{"FalsePositive": "False-Positive, Tuned"}})
			a := qrAlertByRef(t, s.th, "QRadar_Offenses:main", "212")
			status := thehive.AlertStatus("FalsePositive")
			if err := s.th.Alerts.Update(t.Context(), a.ID, &thehive.AlertUpdate{Status: &status}); err != nil {
				t.Fatal(err)
			}
			s.hive.FlushWebhooks()
			results, errs := s.hook.done()
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			st := qrOffenseField(t, s.fx.srv, 212, "status")
			if !enabled {
				if len(results) != 0 || st != "OPEN" {
					t.Errorf("disabled: results %+v, offense %v", results, st)
				}
				return
			}
			want := []workflow.CloseResult{{Action: workflow.ActionCloseOffense, Offenses: []workflow.OffenseClose{{
				Source: "QRadar_Offenses:main", OffenseID: 212, AlertID: a.ID, Status: workflow.OffenseClosed, ClosingReason: "False-Positive, Tuned",
			}}}}
			if diff := cmp.Diff(want, results); diff != "" || st != "CLOSED" {
				t.Errorf("offense %v; results (-want +got):\n%s", st, diff)
			}
			wantNote := "Closed from TheHive alert " + string(a.ID) + ": Session Closed\nThe alert was closed without a case (FalsePositive)."
			if diff := cmp.Diff([]string{wantNote}, qrNoteTexts(s.fx.srv, 212)); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOffenseCloserAlreadyClosedAndMissingOffenses(t *testing.T) {
	t.Parallel()
	s := qrNewCloseScene(t, workflow.CloseOffenseConfig{})
	c, a211 := s.promote(t, "211")
	// An analyst closed the offense in QRadar already, and another alert
	// of the case names an offense QRadar no longer has.
	if _, err := s.fx.qr.Offenses.Close(t.Context(), 211, 2); err != nil {
		t.Fatal(err)
	}
	gone, err := s.th.Alerts.Create(t.Context(), &thehive.AlertCreate{Type: "internal", Source: "QRadar_Offenses:main",
		SourceRef: "9999", Title: "Purged offense", Description: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.th.Alerts.MergeIntoCase(t.Context(), gone.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	s.hive.FlushWebhooks()
	s.closeCase(t, c.ID, thehive.CaseStatusTruePositive, "done")

	results, errs := s.hook.done()
	if len(errs) > 0 || len(results) != 1 {
		t.Fatalf("results %+v, errors %v", results, errs)
	}
	want := []workflow.OffenseClose{
		{Source: "QRadar_Offenses:main", OffenseID: 211, AlertID: a211, Status: workflow.OffenseAlreadyClosed},
		{Source: "QRadar_Offenses:main", OffenseID: 9999, AlertID: gone.ID, Status: workflow.OffenseMissing},
	}
	sortClose := cmpopts.SortSlices(func(a, b workflow.OffenseClose) bool { return a.OffenseID < b.OffenseID })
	if diff := cmp.Diff(want, results[0].Offenses, sortClose); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if notes := qrNoteTexts(s.fx.srv, 211); len(notes) != 0 {
		t.Errorf("a note was added to an offense closed already: %q", notes)
	}
	if reason := qrOffenseField(t, s.fx.srv, 211, "closing_reason_id"); reason != "2" {
		t.Errorf("the analyst's closing reason was replaced: %v", reason)
	}
	if got := s.hive.WebhookFailures(); got != 0 {
		t.Errorf("%d webhook deliveries failed", got)
	}
}

func TestOffenseCloserRetryAddsOneNote(t *testing.T) {
	t.Parallel()
	s := qrNewCloseScene(t, workflow.CloseOffenseConfig{})
	c, _ := s.promote(t, "211")
	// QRadar fails to close: the webhook fails (TheHive logs it), the note
	// is there.
	s.fx.srv.SetFaults(qradartest.Faults{Rate: 1, Routes: []string{"POST /api/siem/offenses/{offense_id}"},
		Kinds: []qradartest.FaultKind{qradartest.FaultStatus503}})
	s.closeCase(t, c.ID, thehive.CaseStatusTruePositive, "done")
	results, errs := s.hook.done()
	if len(errs) != 1 || len(results) != 1 || results[0].Offenses[0].Status != workflow.OffenseCloseFailed {
		t.Fatalf("results %+v, errors %v; want one failure", results, errs)
	}
	if got := s.hive.WebhookFailures(); got != 1 {
		t.Errorf("%d failed webhook deliveries, want 1", got)
	}
	if resp := workflow.NewCloseResponse(results[0], errs[0]); resp.StatusCode() != 500 || resp.Success {
		t.Errorf("answer to a failure: %+v", resp)
	}

	// The same event again, once QRadar is back: closed, with still one
	// note.
	s.fx.srv.SetFaults(qradartest.Faults{})
	e := lastCaseUpdate(t, s.hive, string(c.ID))
	res, err := s.closer.Handle(t.Context(), e)
	if err != nil || res.Offenses[0].Status != workflow.OffenseClosed {
		t.Fatalf("second delivery: %+v, %v", res, err)
	}
	if notes := qrNoteTexts(s.fx.srv, 211); len(notes) != 1 {
		t.Errorf("%d notes after a retried close, want 1: %q", len(notes), notes)
	}
	// And a third time: already closed, nothing added.
	res, err = s.closer.Handle(t.Context(), e)
	if err != nil || res.Offenses[0].Status != workflow.OffenseAlreadyClosed || len(qrNoteTexts(s.fx.srv, 211)) != 1 {
		t.Errorf("third delivery: %+v, %v", res, err)
	}
	body, _ := json.Marshal(workflow.NewCloseResponse(res, err))
	if string(body) != `{"action":"closeOffense","success":true}` {
		t.Errorf("answer %s", body)
	}
}

// lastCaseUpdate returns the last update event of a case, as the webhook
// received it.
func lastCaseUpdate(t *testing.T, hive *thehivetest.Server, id string) *thehive.Event {
	t.Helper()
	events := hive.Events()
	for i := len(events) - 1; i >= 0; i-- {
		ev := events[i]
		if ev["objectType"] == "Case" && ev["objectId"] == id && ev["action"] == "update" {
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			e, err := thehive.ParseEvent(b)
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
	}
	t.Fatalf("no update event of case %s", id)
	return nil
}

func TestOffenseCloserIgnoresOtherEvents(t *testing.T) {
	t.Parallel()
	s := qrNewCloseScene(t, workflow.CloseOffenseConfig{CloseOnAlertIgnored: true})
	// A case without QRadar alerts, an alert of another source closed, a
	// task: nothing to close.
	cs, err := s.th.Cases.Create(t.Context(), &thehive.CaseCreate{Title: "Phishing", Description: "reported by mail",
		Tasks: []thehive.TaskCreate{{Title: "Triage"}}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.th.Alerts.Create(t.Context(), &thehive.AlertCreate{Type: "internal", Source: "QRadar_Offenses:other",
		SourceRef: "211", Title: "Another console's offense", Description: "x"})
	if err != nil {
		t.Fatal(err)
	}
	status := thehive.AlertStatus("Ignored")
	if err := s.th.Alerts.Update(t.Context(), other.ID, &thehive.AlertUpdate{Status: &status}); err != nil {
		t.Fatal(err)
	}
	s.closeCase(t, cs.ID, thehive.CaseStatusFalsePositive, "not phishing")
	results, errs := s.hook.done()
	if len(results) != 0 || len(errs) != 0 {
		t.Errorf("results %+v, errors %v; want nothing", results, errs)
	}
	for _, id := range []int64{211, 212} {
		if st := qrOffenseField(t, s.fx.srv, id, "status"); st != "OPEN" {
			t.Errorf("offense %d is %v", id, st)
		}
	}
	res, err := s.closer.Handle(t.Context(), nil)
	if body, _ := json.Marshal(workflow.NewCloseResponse(res, err)); string(body) != `{"action":"None","success":true}` {
		t.Errorf("answer to nothing: %s", body)
	}
}

func TestOffenseCloserUnknownClosingReason(t *testing.T) {
	t.Parallel()
	s := qrNewCloseScene(t, workflow.CloseOffenseConfig{DefaultClosingReason: "Resolved in TheHive"})
	c, _ := s.promote(t, "211")
	s.closeCase(t, c.ID, thehive.CaseStatusTruePositive, "done")
	results, errs := s.hook.done()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `no closing reason "Resolved in TheHive"`) {
		t.Fatalf("errors %v, want one naming the missing reason", errs)
	}
	if results[0].Offenses[0].Status != workflow.OffenseCloseFailed {
		t.Errorf("results %+v", results)
	}
	if st := qrOffenseField(t, s.fx.srv, 211, "status"); st != "OPEN" || len(qrNoteTexts(s.fx.srv, 211)) != 0 {
		t.Errorf("offense %v with notes %q: nothing should be written before the reason is known", st, qrNoteTexts(s.fx.srv, 211))
	}

	// A reason given by id works when no reason has that name.
	closer, err := workflow.NewOffenseCloser(s.th, workflow.CloseOffenseConfig{DefaultClosingReason: "2",
		Instances: []workflow.QRadarInstance{{Source: "QRadar_Offenses:main", Client: s.fx.qr}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := closer.Handle(t.Context(), lastCaseUpdate(t, s.hive, string(c.ID)))
	if err != nil || res.Offenses[0].ClosingReason != "False-Positive, Tuned" {
		t.Errorf("reason by id: %+v, %v", res, err)
	}
}

func TestCloseOffenseConfigErrors(t *testing.T) {
	t.Parallel()
	qr, err := qradar.NewClient("https://qradar.example.com", qradar.WithToken("unused-token"))
	if err != nil {
		t.Fatal(err)
	}
	inst := workflow.QRadarInstance{Source: "QRadar_Offenses:main", Client: qr}
	tests := []struct {
		field string
		cfg   workflow.CloseOffenseConfig
	}{
		{"Instances", workflow.CloseOffenseConfig{}},
		{"Instances[0].Source", workflow.CloseOffenseConfig{Instances: []workflow.QRadarInstance{{Client: qr}}}},
		{"Instances[0].Client", workflow.CloseOffenseConfig{Instances: []workflow.QRadarInstance{{Source: "x"}}}},
		{"Instances[1].Source", workflow.CloseOffenseConfig{Instances: []workflow.QRadarInstance{inst, inst}}},
		{"ClosingReasons", workflow.CloseOffenseConfig{Instances: []workflow.QRadarInstance{inst}, ClosingReasons: map[string]string{"FalsePositive": " "}}},
		{"StepTimeout", workflow.CloseOffenseConfig{Instances: []workflow.QRadarInstance{inst}, StepTimeout: -time.Second}},
	}
	for _, tt := range tests {
		_, err := workflow.NewOffenseCloser(&thehive.Client{}, tt.cfg)
		var ce *workflow.QRadarConfigError
		if !errors.As(err, &ce) || ce.Field != tt.field || ce.Config != "CloseOffenseConfig" {
			t.Errorf("%s: error %v", tt.field, err)
		}
	}
}

// No credential of TheHive, QRadar or the webhook appears in any log record
// or error, even when everything fails.
func TestQRadarWorkflowsLeakNoSecret(t *testing.T) {
	t.Parallel()
	var logs qrLogBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := qrNewCloseScene(t, workflow.CloseOffenseConfig{Logger: logger, CloseOnAlertIgnored: true})
	s.fx.srv.SetFaults(qradartest.Faults{Rate: 1, Kinds: []qradartest.FaultKind{qradartest.FaultStatus500, qradartest.FaultStatus503}})
	s.hive.SetFaults(thehivetest.Faults{Rate: 0.5, Routes: []string{"POST /api/v1/query"}})

	cfg := qrDefaultConfig()
	cfg.Logger = logger
	w := qrNewWorkflow(t, s.fx.qr, s.th, cfg)
	var errs []error
	rep, err := w.Run(t.Context())
	errs = append(errs, err)
	for _, e := range rep.Errors {
		errs = append(errs, errors.New(e.Error))
	}
	results, err := w.RunTimerange(t.Context(), time.Hour)
	errs = append(errs, err)
	for _, r := range results {
		errs = append(errs, r.Err)
	}
	_, err = w.ProcessOffense(t.Context(), 211)
	errs = append(errs, err)
	s.hive.SetFaults(thehivetest.Faults{})
	c, _ := s.promote(t, "211")
	s.closeCase(t, c.ID, thehive.CaseStatusTruePositive, "done")
	_, hookErrs := s.hook.done()
	errs = append(errs, hookErrs...)

	var all bytes.Buffer
	all.WriteString(logs.String())
	failures := 0
	for _, err := range errs {
		if err != nil {
			failures++
			all.WriteString(err.Error() + "\n")
		}
	}
	if failures == 0 || !strings.Contains(logs.String(), "offense not closed") {
		t.Fatalf("the faults caused no failure to check (%d errors, logs %d bytes)", failures, len(logs.String()))
	}
	for _, secret := range []string{qradartest.Token, thehivetest.APIKey, qrHookSecret, thehivetest.AdminPassword} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("a secret appears in the logs or errors: %q", secret)
		}
	}
}

// Two deliveries of one event at once close the offense once, with one
// note.
func TestOffenseCloserConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	s := qrNewCloseScene(t, workflow.CloseOffenseConfig{})
	s.hook.setCloser(nil)
	c, _ := s.promote(t, "211")
	if err := s.th.Cases.Close(t.Context(), c.ID, thehive.CaseClose{Status: thehive.CaseStatusTruePositive}); err != nil {
		t.Fatal(err)
	}
	e := lastCaseUpdate(t, s.hive, string(c.ID))
	var wg sync.WaitGroup
	statuses := make(chan workflow.CloseStatus, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.closer.Handle(t.Context(), e)
			if err != nil {
				t.Error(err)
				return
			}
			statuses <- res.Offenses[0].Status
		}()
	}
	wg.Wait()
	close(statuses)
	var got []workflow.CloseStatus
	for st := range statuses {
		got = append(got, st)
	}
	want := []workflow.CloseStatus{workflow.OffenseAlreadyClosed, workflow.OffenseAlreadyClosed, workflow.OffenseAlreadyClosed, workflow.OffenseClosed}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b workflow.CloseStatus) bool { return a < b })); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if notes := qrNoteTexts(s.fx.srv, 211); len(notes) != 1 {
		t.Errorf("%d notes, want 1", len(notes))
	}
}
