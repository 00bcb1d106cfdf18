package workflow_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

var qrUpdateGolden = flag.Bool("update-qradar", false, "rewrite the qradar golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update-qradar.
func qrGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *qrUpdateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update-qradar to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, diff)
	}
}

// qrAlertView is what the tests pin of an alert.
type qrAlertView struct {
	Type, Source, SourceRef, Title string
	Severity                       thehive.Severity
	Tags                           []string
	Date                           time.Time
	ExternalLink, CaseTemplate     string
	TLP                            thehive.TLP
}

func qrViewAlert(a *thehive.Alert) qrAlertView {
	return qrAlertView{Type: a.Type, Source: a.Source, SourceRef: a.SourceRef, Title: a.Title, Severity: a.Severity,
		Tags: a.Tags, Date: a.Date.UTC(), ExternalLink: a.ExternalLink, CaseTemplate: a.CaseTemplate, TLP: a.TLP}
}

const qrConsoleLink = "https://qradar.example.com/console/qradar/jsp/QRadar.jsp?appName=Sem&pageId=OffenseSummary&summaryId="

func TestQRadar2AlertEndToEnd(t *testing.T) {
	t.Parallel()
	fx := qrNewFixture(t)
	hive, th := qrNewHive(t)
	w := qrNewWorkflow(t, fx.qr, th, qrDefaultConfig())

	rep, err := w.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Workflow != "qradar2alert" || rep.Seen != 2 || rep.Created != 2 || rep.Failed+rep.Quarantined+rep.Updated+rep.Skipped != 0 {
		t.Fatalf("report %+v, want 2 offenses seen and 2 alerts created", rep)
	}
	if got := len(hive.Alerts()); got != 2 {
		t.Fatalf("%d alerts, want 2 (the hidden offense is left out)", got)
	}

	a211 := qrAlertByRef(t, th, "QRadar_Offenses:main", "211")
	want211 := qrAlertView{
		Type: "internal", Source: "QRadar_Offenses:main", SourceRef: "211",
		Title:    "Multiple Login Failures for the Same User containing Failure Audit: An account failed to log on",
		Severity: thehive.SeverityHigh,
		Tags:     []string{"QRadar", "Offense", "Synapse", "User Login Failure", "Brute Force Login", "domain:ACME Corp", "qradar:main"},
		Date:     qrT0, ExternalLink: qrConsoleLink + "211", CaseTemplate: "QRadar Offense", TLP: thehive.TLPAmber,
	}
	if diff := cmp.Diff(want211, qrViewAlert(a211)); diff != "" {
		t.Errorf("alert of offense 211 (-want +got):\n%s", diff)
	}
	qrGolden(t, "qradar2alert_211.md", a211.Description)
	wantObs211 := []qrObs{
		{DataType: "ip", Data: "10.0.0.5", Message: "QRadar offense 211: offense source, source IP", Tags: []string{"src"}},
		{DataType: "ip", Data: "10.0.0.6", Message: "QRadar offense 211: source IP, local destination IP", Tags: []string{"dst", "src"}},
		{DataType: "ip", Data: "192.168.1.10", Message: "QRadar offense 211: local destination IP", Tags: []string{"dst"}},
		{DataType: "other", Data: "alice", Message: "QRadar offense 211: user in the offense's events", Tags: []string{"type:username"}},
	}
	if diff := cmp.Diff(wantObs211, qrAlertObservables(t, th, a211.ID)); diff != "" {
		t.Errorf("observables of offense 211 (-want +got):\n%s", diff)
	}

	// The original replaced a Username offense's alert tags with the user
	// name observable's ("type:username"): here they stay the alert's.
	a212 := qrAlertByRef(t, th, "QRadar_Offenses:main", "212")
	want212 := qrAlertView{
		Type: "internal", Source: "QRadar_Offenses:main", SourceRef: "212", Title: "Session Closed",
		Severity: thehive.SeverityLow,
		Tags:     []string{"QRadar", "Offense", "Synapse", "Session Closed", "domain:Default Domain", "qradar:main"},
		Date:     qrT0.Add(time.Minute), ExternalLink: qrConsoleLink + "212", CaseTemplate: "QRadar Offense", TLP: thehive.TLPAmber,
	}
	if diff := cmp.Diff(want212, qrViewAlert(a212)); diff != "" {
		t.Errorf("alert of the Username offense 212 (-want +got):\n%s", diff)
	}
	qrGolden(t, "qradar2alert_212.md", a212.Description)
	wantObs212 := []qrObs{
		{DataType: "ip", Data: "10.0.0.5", Message: "QRadar offense 212: source IP", Tags: []string{"src"}},
		{DataType: "ip", Data: "198.51.100.20", Message: "QRadar offense 212: remote destination IP", Tags: []string{"dst", "remote"}},
		{DataType: "ip", Data: "203.0.113.9", Message: "QRadar offense 212: remote destination IP", Tags: []string{"dst", "remote"}},
		{DataType: "other", Data: "bob", Message: "QRadar offense 212: user in the offense's events", Tags: []string{"type:username"}},
		{DataType: "other", Data: "yarden", Message: "QRadar offense 212: offense source", Tags: []string{"type:username"}},
	}
	if diff := cmp.Diff(wantObs212, qrAlertObservables(t, th, a212.ID)); diff != "" {
		t.Errorf("observables of offense 212 (-want +got):\n%s", diff)
	}

	// The watermark moved to the last offense handled: a second run lists
	// nothing and creates nothing.
	if got, want := w.Watermark(), qrT0.Add(12*time.Minute); !got.Equal(want) {
		t.Errorf("watermark %v, want %v", got, want)
	}
	rep, err = w.Run(t.Context())
	if err != nil || rep.Seen != 0 || rep.Created != 0 {
		t.Errorf("second run: %+v, %v; want nothing seen", rep, err)
	}
	if got := len(hive.Alerts()); got != 2 {
		t.Errorf("%d alerts after the second run, want 2", got)
	}
}

func TestQRadar2AlertRerunChangesNothing(t *testing.T) {
	t.Parallel()
	fx := qrNewFixture(t)
	hive, th := qrNewHive(t)
	w := qrNewWorkflow(t, fx.qr, th, qrDefaultConfig())
	if _, err := w.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := hive.RequestCounts()

	// Looking back again lists the same offenses: nothing changed, so
	// nothing is written.
	w.SetWatermark(qrT0.Add(-time.Hour))
	rep, err := w.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seen != 2 || rep.Skipped != 2 || rep.Created+rep.Updated+rep.Failed != 0 {
		t.Fatalf("report %+v, want 2 seen and skipped", rep)
	}
	after := hive.RequestCounts()
	for _, route := range []string{"POST /api/v1/alert", "PATCH /api/v1/alert/{id}", "POST /api/v1/alert/{id}/observable", "PATCH /api/v1/observable/{id}"} {
		if after[route] != before[route] {
			t.Errorf("%s sent %d times by a run over unchanged offenses", route, after[route]-before[route])
		}
	}
}

func TestQRadar2AlertUpdatesChangedOffense(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ref      string
		change   func(t *testing.T, fx *qrFixture)
		severity thehive.Severity
		obs      []string // data of the observables expected in addition
		inDesc   string
	}{
		{
			name: "new source address",
			ref:  "211",
			change: func(t *testing.T, fx *qrFixture) {
				if _, err := fx.srv.AddSourceAddress(qradartest.SourceAddress{ID: 3, SourceIP: "10.0.0.7"}); err != nil {
					t.Fatal(err)
				}
				qrModify(t, fx, func(o *qradartest.Offense) { o.SourceAddressIDs = append(o.SourceAddressIDs, 3) })
			},
			severity: thehive.SeverityHigh,
			obs:      []string{"10.0.0.7"},
			inDesc:   "- **Source:** 10.0.0.5, 10.0.0.6, 10.0.0.7",
		},
		{
			name: "new events",
			ref:  "212",
			change: func(t *testing.T, fx *qrFixture) {
				fx.srv.AddOffenseEvents(212, qrEvent(qrT0.Add(90*time.Second), "Session Opened", "mallory", "session opened"))
				if err := fx.srv.ModifyOffense(212, func(o *qradartest.Offense) {
					o.EventCount = 2
					o.LastPersistedTime = qrT0.Add(time.Hour)
				}); err != nil {
					t.Fatal(err)
				}
			},
			severity: thehive.SeverityLow,
			obs:      []string{"mallory"},
			inDesc:   "| **Events** | 2 events, 0 flows |",
		},
		{
			name: "new magnitude",
			ref:  "211",
			change: func(t *testing.T, fx *qrFixture) {
				qrModify(t, fx, func(o *qradartest.Offense) { o.Magnitude, o.Severity = 9, 9 })
			},
			severity: thehive.SeverityHigh,
			inDesc:   "| **Magnitude** | 9 |",
		},
		{
			name:     "lower severity",
			ref:      "211",
			change:   func(t *testing.T, fx *qrFixture) { qrModify(t, fx, func(o *qradartest.Offense) { o.Severity = 5 }) },
			severity: thehive.SeverityMedium,
			inDesc:   "| **Severity** | 5 |",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fx := qrNewFixture(t)
			_, th := qrNewHive(t)
			w := qrNewWorkflow(t, fx.qr, th, qrDefaultConfig())
			if _, err := w.Run(t.Context()); err != nil {
				t.Fatal(err)
			}
			before := qrAlertByRef(t, th, "QRadar_Offenses:main", tt.ref)
			obsBefore := qrAlertObservables(t, th, before.ID)

			tt.change(t, fx)
			rep, err := w.Run(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Seen != 1 || rep.Updated != 1 {
				t.Fatalf("report %+v, want the changed offense seen and its alert updated", rep)
			}
			after := qrAlertByRef(t, th, "QRadar_Offenses:main", tt.ref)
			if after.ID != before.ID || after.Severity != tt.severity || !strings.Contains(after.Description, tt.inDesc) {
				t.Errorf("alert after the change: id %s (was %s), severity %v (want %v), description has %q: %v",
					after.ID, before.ID, after.Severity, tt.severity, tt.inDesc, strings.Contains(after.Description, tt.inDesc))
			}
			var added []string
			for _, o := range qrAlertObservables(t, th, after.ID) {
				if !qrContainsObs(obsBefore, o.Data) {
					added = append(added, o.Data)
				}
			}
			if diff := cmp.Diff(tt.obs, added, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("observables added (-want +got):\n%s", diff)
			}
		})
	}
}

// modify changes offense 211 as new activity would, moving its persisted
// time past the watermark.
func qrModify(t *testing.T, fx *qrFixture, change func(*qradartest.Offense)) {
	t.Helper()
	if err := fx.srv.ModifyOffense(211, func(o *qradartest.Offense) {
		change(o)
		o.LastPersistedTime = qrT0.Add(time.Hour)
	}); err != nil {
		t.Fatal(err)
	}
}

func qrContainsObs(list []qrObs, data string) bool {
	for _, o := range list {
		if o.Data == data {
			return true
		}
	}
	return false
}

func TestQRadar2AlertKeepsAnalystChanges(t *testing.T) {
	t.Parallel()
	fx := qrNewFixture(t)
	_, th := qrNewHive(t)
	w := qrNewWorkflow(t, fx.qr, th, qrDefaultConfig())
	if _, err := w.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	a := qrAlertByRef(t, th, "QRadar_Offenses:main", "211")
	low := thehive.SeverityLow
	if err := th.Alerts.Update(t.Context(), a.ID, &thehive.AlertUpdate{Severity: &low, AddTags: []string{"triaged"}}); err != nil {
		t.Fatal(err)
	}
	// The offense is listed again without having changed: the analyst's
	// severity and tag stay.
	w.SetWatermark(qrT0.Add(-time.Hour))
	if rep, err := w.Run(t.Context()); err != nil || rep.Updated != 0 {
		t.Fatalf("run over unchanged offenses: %+v, %v", rep, err)
	}
	a = qrAlertByRef(t, th, "QRadar_Offenses:main", "211")
	if a.Severity != thehive.SeverityLow || !strings.Contains(strings.Join(a.Tags, ","), "triaged") {
		t.Errorf("analyst's changes lost: severity %v, tags %v", a.Severity, a.Tags)
	}
}

func TestQRadar2AlertSkipUpdates(t *testing.T) {
	t.Parallel()
	fx := qrNewFixture(t)
	_, th := qrNewHive(t)
	cfg := qrDefaultConfig()
	cfg.SkipUpdates = true
	w := qrNewWorkflow(t, fx.qr, th, cfg)
	if _, err := w.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	qrModify(t, fx, func(o *qradartest.Offense) { o.Magnitude = 9 })
	rep, err := w.Run(t.Context())
	if err != nil || rep.Seen != 1 || rep.Skipped != 1 {
		t.Fatalf("report %+v, %v; want the changed offense skipped", rep, err)
	}
	if d := qrAlertByRef(t, th, "QRadar_Offenses:main", "211").Description; strings.Contains(d, "| **Magnitude** | 9 |") {
		t.Error("the alert was updated although SkipUpdates is set")
	}
}

func TestQRadar2AlertSeveralInstances(t *testing.T) {
	t.Parallel()
	east, west := qrNewFixture(t), qrNewFixture(t)
	hive, th := qrNewHive(t)
	for _, inst := range []struct {
		name string
		fx   *qrFixture
	}{{"east", east}, {"west", west}} {
		cfg := qrDefaultConfig()
		cfg.Instance, cfg.Name = inst.name, "qradar2alert-"+inst.name
		w := qrNewWorkflow(t, inst.fx.qr, th, cfg)
		if rep, err := w.Run(t.Context()); err != nil || rep.Created != 2 {
			t.Fatalf("%s: %+v, %v", inst.name, rep, err)
		}
		if got := w.Instance().Source; got != "QRadar_Offenses:"+inst.name {
			t.Errorf("instance source %q", got)
		}
	}
	var got []string
	for _, a := range hive.Alerts() {
		got = append(got, a["source"].(string)+"/"+a["sourceRef"].(string))
	}
	want := []string{"QRadar_Offenses:east/211", "QRadar_Offenses:east/212", "QRadar_Offenses:west/211", "QRadar_Offenses:west/212"}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("alerts of two instances with the same offense ids (-want +got):\n%s", diff)
	}
	if tags := qrAlertByRef(t, th, "QRadar_Offenses:west", "211").Tags; !strings.Contains(strings.Join(tags, ","), "qradar:west") {
		t.Errorf("west's alert tags %v lack the instance", tags)
	}
}

func TestQRadar2AlertEnrichesInBatches(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewServer(t, qradartest.WithSearchPolls(0))
	const n = 30
	for i := 1; i <= n; i++ {
		ip := "10.1.0." + qrItoa(i)
		if _, err := srv.AddSourceAddress(qradartest.SourceAddress{ID: int64(i), SourceIP: ip}); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.AddLocalDestinationAddress(qradartest.LocalDestinationAddress{ID: int64(i), LocalDestinationIP: "192.168.0." + qrItoa(i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.AddRule(qradartest.Rule{ID: int64(100000 + i%5), Name: "Rule " + qrItoa(i%5)}); err != nil && i <= 5 {
			t.Fatal(err)
		}
		if _, err := srv.AddOffense(qradartest.Offense{
			Description: "Scan " + qrItoa(i), OffenseType: int64(i % 2 * 3), OffenseSource: ip, Severity: i % 11,
			SourceAddressIDs: []int64{int64(i)}, LocalDestinationAddressIDs: []int64{int64(i)},
			Rules:     []qradartest.OffenseRule{{ID: int64(100000 + i%5)}},
			StartTime: qrT0, LastPersistedTime: qrT0.Add(time.Duration(i) * time.Second),
		}); err != nil {
			t.Fatal(err)
		}
	}
	_, th := qrNewHive(t)
	cfg := qrDefaultConfig()
	cfg.EventLimit = -1
	w := qrNewWorkflow(t, qrNewClient(t, srv), th, cfg)
	rep, err := w.Run(t.Context())
	if err != nil || rep.Created != n {
		t.Fatalf("report %+v, %v; want %d created", rep, err, n)
	}
	want := map[string]int{
		"GET /api/siem/offenses":                                                   1,
		"GET /api/siem/source_addresses":                                           1,
		"GET /api/siem/source_addresses/{source_address_id}":                       0,
		"GET /api/siem/local_destination_addresses":                                1,
		"GET /api/siem/local_destination_addresses/{local_destination_address_id}": 0,
		"GET /api/analytics/rules":                                                 1,
		"GET /api/analytics/rules/{id}":                                            0,
		"GET /api/siem/offense_types":                                              1,
		"GET /api/config/domain_management/domains":                                1,
		"POST /api/ariel/searches":                                                 0,
	}
	got := map[string]int{}
	for route := range want {
		got[route] = srv.Requests(route)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests for %d offenses in one page (-want +got):\n%s", n, diff)
	}
}

func qrItoa(i int) string { return strconv.Itoa(i) }

func TestQRadar2AlertPagesByKey(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewServer(t)
	// Five offenses share one persisted time: paging two at a time must
	// still see each once.
	for i := 1; i <= 5; i++ {
		if _, err := srv.AddOffense(qradartest.Offense{Description: "Same time " + qrItoa(i), StartTime: qrT0, LastPersistedTime: qrT0}); err != nil {
			t.Fatal(err)
		}
	}
	_, th := qrNewHive(t)
	cfg := qrDefaultConfig()
	cfg.PageSize, cfg.EventLimit = 2, -1
	w := qrNewWorkflow(t, qrNewClient(t, srv), th, cfg)
	rep, err := w.Run(t.Context())
	if err != nil || rep.Seen != 5 || rep.Created != 5 {
		t.Fatalf("report %+v, %v; want 5 seen and created", rep, err)
	}
	if got := srv.Requests("GET /api/siem/offenses"); got != 3 {
		t.Errorf("%d list requests for 5 offenses by pages of 2, want 3", got)
	}
}

func TestQRadar2AlertWatermarkStaysBeforeFailures(t *testing.T) {
	t.Parallel()
	fx := qrNewFixture(t)
	hive, th := qrNewHive(t)
	w := qrNewWorkflow(t, fx.qr, th, qrDefaultConfig())
	start := w.Watermark()

	// TheHive refuses every alert for now: the run fails every offense and
	// the watermark stays, so the next run lists them again.
	hive.SetFaults(thehivetest.Faults{Rate: 1, Routes: []string{"POST /api/v1/alert"}, Kinds: []thehivetest.FaultKind{thehivetest.FaultStatus503}})
	rep, err := w.Run(t.Context())
	if err != nil || rep.Failed != 2 || rep.Created != 0 {
		t.Fatalf("report %+v, %v; want 2 failures", rep, err)
	}
	if !w.Watermark().Equal(start) {
		t.Errorf("watermark moved to %v past failed offenses", w.Watermark())
	}
	hive.SetFaults(thehivetest.Faults{})
	rep, err = w.Run(t.Context())
	if err != nil || rep.Created != 2 {
		t.Fatalf("run after the failure: %+v, %v; want 2 created", rep, err)
	}
}

func TestQRadar2AlertEventsFailure(t *testing.T) {
	t.Parallel()
	fx := qrNewFixture(t)
	// The events search of offense 211 ends in error: the alert is created
	// anyway and says the events are missing.
	if err := fx.srv.AddSearch(qradartest.Search{
		AQL:     qradar.OffenseEventsAQL(211, qrT0, workflow.DefaultQRadarEventLimit),
		Outcome: qradartest.OutcomeError,
		Errors:  []qradartest.SearchMessage{{Code: "1008", Message: "Ariel is unwell", Severity: "ERROR"}},
	}); err != nil {
		t.Fatal(err)
	}
	_, th := qrNewHive(t)
	w := qrNewWorkflow(t, fx.qr, th, qrDefaultConfig())
	rep, err := w.Run(t.Context())
	if err != nil || rep.Created != 2 {
		t.Fatalf("report %+v, %v; want 2 created", rep, err)
	}
	d := qrAlertByRef(t, th, "QRadar_Offenses:main", "211").Description
	if !strings.Contains(d, "_The offense's events could not be read from QRadar._") {
		t.Errorf("description does not say the events are missing:\n%s", d)
	}
}

func TestQRadar2AlertTimerange(t *testing.T) {
	t.Parallel()
	fx := qrNewFixture(t)
	now := time.Now().Truncate(time.Millisecond)
	for _, id := range []int64{211, 212} {
		if err := fx.srv.ModifyOffense(id, func(o *qradartest.Offense) { o.LastPersistedTime = now.Add(-time.Minute) }); err != nil {
			t.Fatal(err)
		}
	}
	_, th := qrNewHive(t)
	w := qrNewWorkflow(t, fx.qr, th, qrDefaultConfig())

	results, err := w.RunTimerange(t.Context(), 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].OffenseID != 211 || results[1].OffenseID != 212 ||
		results[0].Outcome != workflow.Created || results[0].Err != nil || results[0].AlertID == "" {
		t.Fatalf("results %+v", results)
	}
	resp := workflow.NewQRadar2AlertResponse(results, nil)
	body, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"offenses":[{"qradar_offense_id":211,"raised_alert_id":"` + string(results[0].AlertID) +
		`","success":true},{"qradar_offense_id":212,"raised_alert_id":"` + string(results[1].AlertID) + `","success":true}],"success":true}`
	if string(body) != want || resp.StatusCode() != 200 {
		t.Errorf("answer %d %s\nwant 200 %s", resp.StatusCode(), body, want)
	}

	// Again: nothing changed, so no offense is reported, as the original
	// left out offenses already imported.
	results, err = w.RunTimerange(t.Context(), 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := json.Marshal(workflow.NewQRadar2AlertResponse(results, err)); string(body) != `{"offenses":[],"success":true}` {
		t.Errorf("second answer %s", body)
	}
	// The timerange call leaves the scheduled runs' watermark alone.
	if !w.Watermark().Equal(qrT0.Add(-time.Hour)) {
		t.Errorf("watermark moved to %v", w.Watermark())
	}
	// A window before the offenses' changes lists nothing.
	if results, err := w.RunTimerange(t.Context(), time.Millisecond); err != nil || len(results) != 0 {
		t.Errorf("tiny window: %v, %v", results, err)
	}
	if _, err := w.RunTimerange(t.Context(), 0); err == nil {
		t.Error("a zero time range is accepted")
	}
}

func TestQRadar2AlertResponseShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		results []workflow.OffenseResult
		err     error
		want    string
		status  int
	}{
		{
			name:    "created, updated, skipped",
			results: []workflow.OffenseResult{{OffenseID: 211, AlertID: "~41", Outcome: workflow.Created}, {OffenseID: 212, AlertID: "~42", Outcome: workflow.Updated}, {OffenseID: 214, AlertID: "~44", Outcome: workflow.Skipped}},
			want:    `{"offenses":[{"qradar_offense_id":211,"raised_alert_id":"~41","success":true},{"qradar_offense_id":212,"raised_alert_id":"~42","success":true}],"success":true}`,
			status:  200,
		},
		{
			name:    "one failed",
			results: []workflow.OffenseResult{{OffenseID: 211, AlertID: "~41", Outcome: workflow.Created}, {OffenseID: 213, Err: errors.New("thehive: POST /api/v1/alert: 400 CreateError")}},
			want:    `{"offenses":[{"qradar_offense_id":211,"raised_alert_id":"~41","success":true},{"message":"thehive: POST /api/v1/alert: 400 CreateError: Couldn't raise alert in TheHive","offense_id":213,"success":false}],"success":false}`,
			status:  500,
		},
		{
			name:   "listing failed",
			err:    errors.New("listing offenses: qradar: GET /api/siem/offenses: 401"),
			want:   `{"message":"listing offenses: qradar: GET /api/siem/offenses: 401: Failed to create alert from offense","offenses":[],"success":false}`,
			status: 500,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := workflow.NewQRadar2AlertResponse(tt.results, tt.err)
			body, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(body)); diff != "" || r.StatusCode() != tt.status {
				t.Errorf("status %d (want %d), body (-want +got):\n%s", r.StatusCode(), tt.status, diff)
			}
		})
	}
}

func TestQRadar2AlertProcessOffense(t *testing.T) {
	t.Parallel()
	fx := qrNewFixture(t)
	_, th := qrNewHive(t)
	w := qrNewWorkflow(t, fx.qr, th, qrDefaultConfig())
	// On demand, even a hidden offense becomes an alert.
	res, err := w.ProcessOffense(t.Context(), 213)
	if err != nil || res.Outcome != workflow.Created || res.AlertID == "" {
		t.Fatalf("ProcessOffense(213) = %+v, %v", res, err)
	}
	want := []qrObs{{DataType: "hostname", Data: "ws-042.corp.example", Message: "QRadar offense 213: offense source"}}
	if diff := cmp.Diff(want, qrAlertObservables(t, th, res.AlertID), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("observables of the Hostname offense (-want +got):\n%s", diff)
	}
	if a := qrAlertByRef(t, th, "QRadar_Offenses:main", "213"); a.Severity != thehive.SeverityHigh {
		t.Errorf("severity %v, want high for QRadar severity 9", a.Severity)
	}
	res, err = w.ProcessOffense(t.Context(), 213)
	if err != nil || res.Outcome != workflow.Skipped {
		t.Errorf("again: %+v, %v; want skipped", res, err)
	}
	if _, err := w.ProcessOffense(t.Context(), 4040); !errors.Is(err, qradar.ErrNotFound) {
		t.Errorf("unknown offense: %v, want ErrNotFound", err)
	}
}

func TestSeverityMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mapping  workflow.SeverityMapping
		severity int
		mag      int
		want     thehive.Severity
	}{
		{severity: 0, want: thehive.SeverityLow},
		{severity: 1, want: thehive.SeverityLow},
		{severity: 4, want: thehive.SeverityLow},
		{severity: 5, want: thehive.SeverityMedium},
		{severity: 6, want: thehive.SeverityMedium},
		{severity: 7, want: thehive.SeverityHigh},
		{severity: 10, want: thehive.SeverityHigh},
		{severity: 10, mag: 2, mapping: workflow.SeverityMapping{Field: "magnitude"}, want: thehive.SeverityLow},
		{severity: 1, mag: 8, mapping: workflow.SeverityMapping{Field: "magnitude"}, want: thehive.SeverityHigh},
		{severity: 9, mapping: workflow.SeverityMapping{Critical: 9}, want: thehive.SeverityCritical},
		{severity: 8, mapping: workflow.SeverityMapping{Critical: 9}, want: thehive.SeverityHigh},
		{severity: 3, mapping: workflow.SeverityMapping{Medium: 3, High: 6}, want: thehive.SeverityMedium},
		{severity: 6, mapping: workflow.SeverityMapping{Medium: 3, High: 6}, want: thehive.SeverityHigh},
	}
	for _, tt := range tests {
		got := tt.mapping.Map(&qradar.Offense{Severity: tt.severity, Magnitude: tt.mag})
		if got != tt.want {
			t.Errorf("%+v.Map(severity %d, magnitude %d) = %v, want %v", tt.mapping, tt.severity, tt.mag, got, tt.want)
		}
	}
}

func TestQRadarConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		field string
		cfg   workflow.QRadarConfig
	}{
		{"Statuses", workflow.QRadarConfig{Statuses: []string{"OPEN", "ARCHIVED"}}},
		{"WatermarkField", workflow.QRadarConfig{WatermarkField: "start_time"}},
		{"ConsoleURL", workflow.QRadarConfig{ConsoleURL: "qradar.example.com"}},
		{"EventsQuery", workflow.QRadarConfig{EventsQuery: "SELECT * FROM events LIMIT 3"}},
		{"EventsQuery", workflow.QRadarConfig{EventsQuery: "SELECT * FROM events WHERE INOFFENSE({offense_id}) START {begin}"}},
		{"Severity.Field", workflow.QRadarConfig{Severity: workflow.SeverityMapping{Field: "relevance"}}},
		{"Severity", workflow.QRadarConfig{Severity: workflow.SeverityMapping{Medium: 8, High: 4}}},
		{"Severity.Critical", workflow.QRadarConfig{Severity: workflow.SeverityMapping{Critical: 11}}},
		{"Lookback", workflow.QRadarConfig{Lookback: -time.Hour}},
		{"TLP", workflow.QRadarConfig{TLP: thehive.Ptr(thehive.TLP(7))}},
	}
	qr, err := qradar.NewClient("https://qradar.example.com", qradar.WithToken("unused-token"))
	if err != nil {
		t.Fatal(err)
	}
	th := &thehive.Client{}
	for _, tt := range tests {
		_, err := workflow.NewQRadar2Alert(qr, th, tt.cfg)
		var ce *workflow.QRadarConfigError
		if !errors.As(err, &ce) || ce.Field != tt.field || ce.Config != "QRadarConfig" {
			t.Errorf("config %+v: error %v, want one about %s", tt.cfg, err, tt.field)
		}
	}
	if _, err := workflow.NewQRadar2Alert(qr, th, workflow.QRadarConfig{
		EventsQuery: "SELECT UTF8(payload) FROM events WHERE INOFFENSE({offense_id}) LIMIT {limit} START {start} STOP {stop}",
	}); err != nil {
		t.Errorf("a valid events query is refused: %v", err)
	}
	if _, err := workflow.NewQRadar2Alert(nil, th, workflow.QRadarConfig{}); err == nil {
		t.Error("no QRadar client accepted")
	}
}

func TestQRadar2AlertCustomEventsQuery(t *testing.T) {
	t.Parallel()
	fx := qrNewFixture(t)
	query := "SELECT DATEFORMAT(starttime,'YYYY-MM-dd HH:mm:ss') AS Date, UTF8(payload) FROM events WHERE INOFFENSE({offense_id}) ORDER BY Date ASC LIMIT {limit} START {start} STOP {stop}"
	aql := strings.NewReplacer("{offense_id}", "211", "{limit}", "3",
		"{start}", strconv.FormatInt(qrT0.Add(-time.Minute).UnixMilli(), 10), "{stop}", strconv.FormatInt(qrT0.Add(5*time.Minute).UnixMilli(), 10)).Replace(query)
	if err := fx.srv.AddSearch(qradartest.Search{AQL: aql, Rows: []map[string]any{
		{"Date": "2026-03-02 10:00:00", "utf8_payload": "raw | payload"},
	}}); err != nil {
		t.Fatal(err)
	}
	_, th := qrNewHive(t)
	cfg := qrDefaultConfig()
	cfg.EventsQuery = query
	w := qrNewWorkflow(t, fx.qr, th, cfg)
	if rep, err := w.Run(t.Context()); err != nil || rep.Created != 2 {
		t.Fatalf("report %+v, %v", rep, err)
	}
	d := qrAlertByRef(t, th, "QRadar_Offenses:main", "211").Description
	want := "## First events\n\n| Date |\n|---|\n| 2026-03-02 10:00:00 |\n\nPayload of event 1:\n\n```\nraw | payload\n```\n"
	if !strings.Contains(d, want) {
		t.Errorf("description lacks the custom query's events %q:\n%s", want, d)
	}
}

func TestQRadar2AlertUpdateCutShort(t *testing.T) {
	t.Parallel()
	fx := qrNewFixture(t)
	hive, th := qrNewHive(t)
	w := qrNewWorkflow(t, fx.qr, th, qrDefaultConfig())
	if _, err := w.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	mark := w.Watermark()
	if _, err := fx.srv.AddSourceAddress(qradartest.SourceAddress{ID: 3, SourceIP: "10.0.0.7"}); err != nil {
		t.Fatal(err)
	}
	qrModify(t, fx, func(o *qradartest.Offense) { o.SourceAddressIDs = append(o.SourceAddressIDs, 3) })

	// The new observable is added, then TheHive fails the alert's update:
	// the offense is left for the next run, which finishes the update.
	hive.SetFaults(thehivetest.Faults{Rate: 1, Routes: []string{"PATCH /api/v1/alert/{id}"}, Kinds: []thehivetest.FaultKind{thehivetest.FaultStatus503}})
	rep, err := w.Run(t.Context())
	if err != nil || rep.Failed != 1 || rep.Updated != 0 {
		t.Fatalf("report %+v, %v; want one failure", rep, err)
	}
	if !w.Watermark().Equal(mark) {
		t.Errorf("watermark moved past the failed update")
	}
	hive.SetFaults(thehivetest.Faults{})
	rep, err = w.Run(t.Context())
	if err != nil || rep.Updated != 1 {
		t.Fatalf("report %+v, %v; want the update finished", rep, err)
	}
	a := qrAlertByRef(t, th, "QRadar_Offenses:main", "211")
	if !strings.Contains(a.Description, "10.0.0.7") || !qrContainsObs(qrAlertObservables(t, th, a.ID), "10.0.0.7") {
		t.Errorf("the finished update lacks the new address")
	}
}

func TestQRadar2AlertKeepsEventsWhenAQLFailsForAWhile(t *testing.T) {
	t.Parallel()
	fx := qrNewFixture(t)
	_, th := qrNewHive(t)
	w := qrNewWorkflow(t, fx.qr, th, qrDefaultConfig())
	if _, err := w.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	qrModify(t, fx, func(o *qradartest.Offense) { o.Magnitude = 9 })
	// Ariel is down: the changed offense's alert keeps its events rather
	// than losing them, and the offense waits for the next run.
	fx.srv.SetFaults(qradartest.Faults{Rate: 1, Routes: []string{"POST /api/ariel/searches"}, Kinds: []qradartest.FaultKind{qradartest.FaultStatus503}})
	rep, err := w.Run(t.Context())
	if err != nil || rep.Failed != 1 {
		t.Fatalf("report %+v, %v; want one failure", rep, err)
	}
	if d := qrAlertByRef(t, th, "QRadar_Offenses:main", "211").Description; !strings.Contains(d, "| alice |") {
		t.Errorf("the alert lost its events:\n%s", d)
	}
	fx.srv.SetFaults(qradartest.Faults{})
	if rep, err := w.Run(t.Context()); err != nil || rep.Updated != 1 {
		t.Fatalf("report %+v, %v; want the update done", rep, err)
	}
	if d := qrAlertByRef(t, th, "QRadar_Offenses:main", "211").Description; !strings.Contains(d, "| **Magnitude** | 9 |") || !strings.Contains(d, "| alice |") {
		t.Errorf("description after Ariel came back:\n%s", d)
	}
}

// Scheduled runs, timerange calls and single offenses at once make one
// alert per offense.
func TestQRadar2AlertConcurrentCalls(t *testing.T) {
	t.Parallel()
	fx := qrNewFixture(t)
	hive, th := qrNewHive(t)
	w := qrNewWorkflow(t, fx.qr, th, qrDefaultConfig())
	for _, id := range []int64{211, 212} {
		if err := fx.srv.ModifyOffense(id, func(o *qradartest.Offense) { o.LastPersistedTime = time.Now().Add(-time.Minute) }); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 12)
	for i := range 12 {
		go func() {
			var err error
			switch i % 3 {
			case 0:
				_, err = w.Run(t.Context())
			case 1:
				var results []workflow.OffenseResult
				results, err = w.RunTimerange(t.Context(), time.Hour)
				for _, r := range results {
					err = errors.Join(err, r.Err)
				}
			case 2:
				_, err = w.ProcessOffense(t.Context(), 211)
			}
			errs <- err
		}()
	}
	for range 12 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := len(hive.Alerts()); got != 2 {
		t.Errorf("%d alerts, want 2", got)
	}
	if got := hive.Requests("PATCH /api/v1/alert/{id}"); got != 0 {
		t.Errorf("%d alert updates for offenses that did not change", got)
	}
}
