package workflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/qradar/qradartest"
	"github.com/synapse-go/synapse/thehive"
	"github.com/synapse-go/synapse/thehive/thehivetest"
	"github.com/synapse-go/synapse/workflow"
)

// exampleConsoles starts a fake QRadar holding a port scan offense and a
// fake TheHive, and returns clients for both and a function stopping them.
func exampleConsoles() (*qradartest.Server, *qradar.Client, *thehive.Client, func()) {
	qsrv := qradartest.New(qradartest.WithSearchPolls(0))
	hsrv := thehivetest.New()
	for _, start := range []func(string) error{qsrv.Start, hsrv.Start} {
		if err := start("127.0.0.1:0"); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := qsrv.AddSourceAddress(qradartest.SourceAddress{ID: 1, SourceIP: "10.0.0.5"}); err != nil {
		log.Fatal(err)
	}
	if _, err := qsrv.AddOffense(qradartest.Offense{
		ID: 42, Description: "Port scan from 10.0.0.5\n", OffenseSource: "10.0.0.5",
		Severity: 8, Magnitude: 6, Categories: []string{"Network Sweep"},
		SourceAddressIDs: []int64{1}, StartTime: time.Now().Add(-30 * time.Minute),
	}); err != nil {
		log.Fatal(err)
	}
	qr, err := qradar.NewClient(qsrv.URL(), qradar.WithToken(qradartest.Token))
	if err != nil {
		log.Fatal(err)
	}
	th, err := thehive.NewClient(hsrv.URL(), thehive.WithAPIKey(thehivetest.APIKey),
		thehive.WithOrganisation(thehivetest.Organisation))
	if err != nil {
		log.Fatal(err)
	}
	return qsrv, qr, th, func() { qsrv.Close(); hsrv.Close() }
}

// QRadar2Alert makes an alert of each new offense; a second run finds
// nothing changed and writes nothing.
func ExampleQRadar2Alert() {
	ctx := context.Background()
	_, qr, th, stop := exampleConsoles()
	defer stop()

	w, err := workflow.NewQRadar2Alert(qr, th, workflow.QRadarConfig{
		Instance:           "hq",
		ConsoleURL:         "https://qradar.example.com",
		SearchPollInterval: time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	rep, err := w.Run(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d seen, %d created\n", rep.Workflow, rep.Seen, rep.Created)

	a, err := th.Alerts.GetBySourceRef(ctx, "internal", w.Instance().Source, "42")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.Source, a.SourceRef, a.Title, a.Severity)
	fmt.Println(a.Tags)
	obs, err := th.Alerts.FindObservables(ctx, a.ID, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range obs {
		fmt.Println(o.DataType, o.Data, o.Tags, o.Message)
	}

	rep, err = w.Run(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("again: %d seen, %d created\n", rep.Seen, rep.Created)
	// Output:
	// qradar2alert: 1 seen, 1 created
	// QRadar_Offenses:hq 42 Port scan from 10.0.0.5 HIGH
	// [QRadar Offense Synapse Network Sweep domain:Default Domain qradar:hq]
	// ip 10.0.0.5 [src] QRadar offense 42: offense source, source IP
	// again: 0 seen, 0 created
}

// RunTimerange serves the original POST /QRadar2alert {"timerange": N}:
// the offenses changed in the last N minutes, and the original's answer.
func ExampleQRadar2Alert_RunTimerange() {
	ctx := context.Background()
	_, qr, th, stop := exampleConsoles()
	defer stop()

	w, err := workflow.NewQRadar2Alert(qr, th, workflow.QRadarConfig{EventLimit: -1})
	if err != nil {
		log.Fatal(err)
	}
	results, err := w.RunTimerange(ctx, 60*time.Minute)
	resp := workflow.NewQRadar2AlertResponse(results, err)
	for i := range resp.Offenses {
		resp.Offenses[i].RaisedAlertID = "~alert" // ids vary from run to run
	}
	body, _ := json.Marshal(resp)
	fmt.Println(resp.StatusCode(), string(body))
	// Output:
	// 200 {"offenses":[{"qradar_offense_id":42,"raised_alert_id":"~alert","success":true}],"success":true}
}

// An OffenseCloser closes the offense of a case closed in TheHive. Here the
// event is built by hand; a server gets it from TheHive's webhook (see
// thehive.NewWebhookHandler).
func ExampleOffenseCloser() {
	ctx := context.Background()
	qsrv, qr, th, stop := exampleConsoles()
	defer stop()

	w, err := workflow.NewQRadar2Alert(qr, th, workflow.QRadarConfig{Instance: "hq", EventLimit: -1})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := w.Run(ctx); err != nil {
		log.Fatal(err)
	}
	a, err := th.Alerts.GetBySourceRef(ctx, "internal", w.Instance().Source, "42")
	if err != nil {
		log.Fatal(err)
	}
	c, err := th.Alerts.Promote(ctx, a.ID, nil)
	if err != nil {
		log.Fatal(err)
	}

	closer, err := workflow.NewOffenseCloser(th, workflow.CloseOffenseConfig{
		Instances:      []workflow.QRadarInstance{w.Instance()},
		ClosingReasons: map[string]string{"FalsePositive": "False-Positive, Tuned"},
	})
	if err != nil {
		log.Fatal(err)
	}
	event, err := thehive.ParseEvent([]byte(fmt.Sprintf(`{"action":"update","objectType":"Case","objectId":%q,
		"details":{"status":"FalsePositive","stage":"Closed","summary":"The IT team's scanner"},
		"object":{"_id":%q,"number":%d,"title":"Port scan","status":"FalsePositive","stage":"Closed"}}`, c.ID, c.ID, c.Number)))
	if err != nil {
		log.Fatal(err)
	}
	res, err := closer.Handle(ctx, event)
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range res.Offenses {
		fmt.Println(o.OffenseID, o.Status, o.ClosingReason)
	}
	body, _ := json.Marshal(workflow.NewCloseResponse(res, err))
	fmt.Println(string(body))
	offense, _ := qsrv.Offense(42)
	fmt.Println(offense["status"], len(qsrv.Notes(42)), "note")
	// Output:
	// 42 closed False-Positive, Tuned
	// {"action":"closeOffense","success":true}
	// CLOSED 1 note
}
