package workflow_test

import (
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/qradar/qradartest"
	"github.com/synapse-go/synapse/thehive"
	"github.com/synapse-go/synapse/thehive/thehivetest"
	"github.com/synapse-go/synapse/workflow"
)

// qrT0 is when the scenario's offenses start.
var qrT0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// qrFixture is a fake QRadar with the scenario's offenses and a client for
// it.
type qrFixture struct {
	srv *qradartest.Server
	qr  *qradar.Client
}

// qrNewFixture starts a fake QRadar holding:
//   - offense 211, "Source IP" type, two source and two local destination
//     addresses (one in both lists), a named rule and a building block, in
//     domain "ACME Corp", with three events;
//   - offense 212, "Username" type ("yarden"), one source address, two
//     remote destinations and an event naming another user;
//   - offense 213, HIDDEN, which the default status filter leaves out.
func qrNewFixture(t testing.TB, opts ...qradartest.Option) *qrFixture {
	t.Helper()
	srv := qradartest.NewServer(t, append([]qradartest.Option{qradartest.WithSearchPolls(0)}, opts...)...)
	must := func(_ int64, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(srv.AddSourceAddress(qradartest.SourceAddress{ID: 1, SourceIP: "10.0.0.5", Network: "Net-10-172-192.Net_10_0_0_0"}))
	must(srv.AddSourceAddress(qradartest.SourceAddress{ID: 2, SourceIP: "10.0.0.6", Network: "Net-10-172-192.Net_10_0_0_0"}))
	must(srv.AddLocalDestinationAddress(qradartest.LocalDestinationAddress{ID: 1, LocalDestinationIP: "192.168.1.10"}))
	must(srv.AddLocalDestinationAddress(qradartest.LocalDestinationAddress{ID: 2, LocalDestinationIP: "10.0.0.6"}))
	must(srv.AddRule(qradartest.Rule{ID: 100405, Name: "Multiple Login Failures for Single Username", Type: "EVENT", Enabled: true, Owner: "admin", Origin: "SYSTEM"}))
	if err := srv.AddDomain(qradartest.Domain{ID: 5, Name: "ACME Corp"}); err != nil {
		t.Fatal(err)
	}
	must(srv.AddOffense(qradartest.Offense{
		ID:                         211,
		Description:                "Multiple Login Failures for the Same User\n containing Failure Audit: An account failed to log on\n",
		OffenseType:                0,
		OffenseSource:              "10.0.0.5",
		Magnitude:                  6,
		Severity:                   7,
		Credibility:                3,
		Relevance:                  5,
		EventCount:                 42,
		Categories:                 []string{"User Login Failure", "Brute Force Login"},
		SourceNetwork:              "Net-10-172-192.Net_10_0_0_0",
		DestinationNetworks:        []string{"other"},
		SourceAddressIDs:           []int64{1, 2},
		LocalDestinationAddressIDs: []int64{1, 2},
		Rules:                      []qradartest.OffenseRule{{ID: 100405}, {ID: 200001, Type: "BUILDING_BLOCK_RULE"}},
		DomainID:                   5,
		StartTime:                  qrT0,
		LastUpdatedTime:            qrT0.Add(10 * time.Minute),
		LastPersistedTime:          qrT0.Add(11 * time.Minute),
	}))
	srv.AddOffenseEvents(211,
		qrEvent(qrT0, "Failure Audit: An account failed to log on", "alice", "<13>Mar 2 10:00:00 dc01 4625 An account failed to log on. | user=alice"),
		qrEvent(qrT0.Add(time.Second), "Failure Audit: An account failed to log on", "alice", "<13>Mar 2 10:00:01 dc01 4625 ```weird``` payload"),
		qrEvent(qrT0.Add(2*time.Second), "Failure Audit: An account failed to log on", "N/A", ""),
	)
	must(srv.AddOffense(qradartest.Offense{
		ID:                     212,
		Description:            "Session Closed\n",
		OffenseType:            3,
		OffenseSource:          "yarden",
		Magnitude:              2,
		Severity:               3,
		Credibility:            2,
		Relevance:              1,
		EventCount:             1,
		Categories:             []string{"Session Closed"},
		SourceNetwork:          "other",
		DestinationNetworks:    []string{"other"},
		SourceAddressIDs:       []int64{1},
		RemoteDestinationCount: 2,
		StartTime:              qrT0.Add(time.Minute),
		LastUpdatedTime:        qrT0.Add(2 * time.Minute),
		LastPersistedTime:      qrT0.Add(12 * time.Minute),
	}))
	srv.AddOffenseEvents(212, qrEvent(qrT0.Add(time.Minute), "Session Closed", "bob", "session closed for bob"))
	if err := srv.AddSearch(qradartest.Search{
		AQL: qradar.RemoteDestinationsAQL(212, qrT0.Add(time.Minute), qrT0.Add(3*time.Minute), workflow.DefaultQRadarRemoteDestinationLimit),
		Rows: []map[string]any{
			{"destinationip": "203.0.113.9", "event_count": 12},
			{"destinationip": "198.51.100.20", "event_count": 3},
		},
	}); err != nil {
		t.Fatal(err)
	}
	must(srv.AddOffense(qradartest.Offense{
		ID:                213,
		Description:       "Hidden offense\n",
		OffenseType:       7,
		OffenseSource:     "ws-042.corp.example",
		Status:            "HIDDEN",
		Severity:          9,
		StartTime:         qrT0.Add(3 * time.Minute),
		LastUpdatedTime:   qrT0.Add(4 * time.Minute),
		LastPersistedTime: qrT0.Add(13 * time.Minute),
	}))
	return &qrFixture{srv: srv, qr: qrNewClient(t, srv)}
}

func qrNewClient(t testing.TB, srv *qradartest.Server) *qradar.Client {
	t.Helper()
	qr, err := qradar.NewClient(srv.URL(), qradar.WithToken(qradartest.Token),
		qradar.WithRetry(qradar.RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	return qr
}

// qrEvent is an event row as the default events query names its columns.
func qrEvent(at time.Time, name, user, payload string) map[string]any {
	return map[string]any{
		"starttime":                 at.UnixMilli(),
		"qidname_qid":               name,
		"logsourcename_logsourceid": "WindowsAuthServer @ dc01",
		"sourceip":                  "10.0.0.5",
		"destinationip":             "192.168.1.10",
		"username":                  user,
		"utf8_payload":              payload,
	}
}

// qrNewHive starts a fake TheHive and returns it with a client.
func qrNewHive(t testing.TB, opts ...thehivetest.Option) (*thehivetest.Server, *thehive.Client) {
	t.Helper()
	srv := thehivetest.NewServer(t, opts...)
	th, err := thehive.NewClient(srv.URL(), thehive.WithAPIKey(thehivetest.APIKey),
		thehive.WithOrganisation(thehivetest.Organisation),
		thehive.WithRetryPolicy(thehive.RetryPolicy{MaxRetries: 2, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	return srv, th
}

// qrDefaultConfig is the scenario's workflow configuration: fast searches, no
// waits between attempts.
func qrDefaultConfig() workflow.QRadarConfig {
	return workflow.QRadarConfig{
		Instance:           "main",
		ConsoleURL:         "https://qradar.example.com",
		CaseTemplate:       "QRadar Offense",
		SearchPollInterval: time.Millisecond,
		StepRetry:          workflow.RetryPolicy{Attempts: 2, MinWait: time.Millisecond, MaxWait: time.Millisecond},
		RetryWait:          time.Millisecond,
	}
}

// qrNewWorkflow returns the workflow with its watermark an hour before
// the scenario.
func qrNewWorkflow(t testing.TB, qr *qradar.Client, th *thehive.Client, cfg workflow.QRadarConfig) *workflow.QRadar2Alert {
	t.Helper()
	w, err := workflow.NewQRadar2Alert(qr, th, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.SetWatermark(qrT0.Add(-time.Hour))
	return w
}

// qrObs is what the tests compare of an observable.
type qrObs struct {
	DataType, Data, Message string
	Tags                    []string
}

func qrAlertObservables(t testing.TB, th *thehive.Client, id thehive.AlertID) []qrObs {
	t.Helper()
	obs, err := th.Alerts.FindObservables(t.Context(), id, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]qrObs, len(obs))
	for i, o := range obs {
		tags := slices.Clone(o.Tags)
		slices.Sort(tags)
		out[i] = qrObs{DataType: o.DataType, Data: o.Data, Message: o.Message, Tags: tags}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].DataType+out[i].Data < out[j].DataType+out[j].Data
	})
	return out
}

func qrAlertByRef(t testing.TB, th *thehive.Client, source, ref string) *thehive.Alert {
	t.Helper()
	a, err := th.Alerts.GetBySourceRef(t.Context(), workflow.DefaultQRadarAlertType, source, ref)
	if err != nil {
		t.Fatalf("alert %s/%s: %v", source, ref, err)
	}
	return a
}
