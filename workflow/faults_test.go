package workflow_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/thehive"
	"github.com/synapse-go/synapse/thehive/thehivetest"
	"github.com/synapse-go/synapse/workflow"
)

// TestEws2CaseUnderFaults runs 1000 emails through Ews2Case while the fake
// TheHive fails 10% of the requests in every way it knows (5xx, 429 with
// Retry-After, dropped connections, stalled bodies, timeouts), half of the
// failures after the request was applied (the answer is lost). Every email
// must end up as exactly one case with exactly one log and be marked
// processed: none lost, none doubled.
func TestEws2CaseUnderFaults(t *testing.T) {
	t.Parallel()
	n := 1000
	if testing.Short() {
		n = 150
	}
	fx := newIMAPFixture(t)
	for i := range n {
		fx.seed(t, testMail{
			From:      fmt.Sprintf("sender%d@phish.example.com", i),
			To:        "soc@corp.example",
			Subject:   fmt.Sprintf("Report %04d", i),
			MessageID: fmt.Sprintf("report-%04d@corp.example", i),
			Text:      fmt.Sprintf("See http://bad-%d.example.com/x and 198.51.100.%d", i, i%250),
		}.raw())
	}
	srv, _ := newTheHive(t)
	th, err := thehive.NewClient(srv.URL(), thehive.WithAPIKey(thehivetest.APIKey),
		thehive.WithOrganisation(thehivetest.Organisation),
		thehive.WithTimeout(time.Second), // a held request gives up after a second
		thehive.WithRetryPolicy(thehive.RetryPolicy{MinWait: time.Millisecond, MaxWait: 20 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	srv.SetFaults(thehivetest.Faults{Rate: 0.10, AfterApply: 0.5, RetryAfter: time.Second, Seed: 7})

	mb := fx.mailbox(t)
	cfg := mailConfig()
	cfg.Concurrency = 16
	cfg.StepRetry = workflow.RetryPolicy{Attempts: 6, MinWait: time.Millisecond, MaxWait: 50 * time.Millisecond}
	r := workflow.Ews2Case(mb, th, cfg)
	r.RetryWait = time.Millisecond
	r.StopAfterFailures = -1

	// A scheduler would run the workflow again; what one run leaves (an
	// email whose every retry failed) the next picks up.
	var total workflow.Report
	for run := 0; run < 5; run++ {
		rep, err := r.Run(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		total.Seen += rep.Seen
		total.Created += rep.Created
		total.Failed += rep.Failed
		total.Quarantined += rep.Quarantined
		if rep.Seen == 0 {
			break
		}
	}
	t.Logf("%d faults injected; %d emails seen over the runs, %d failed once, %d quarantined",
		srv.InjectedFaults(), total.Seen, total.Failed, total.Quarantined)
	if srv.InjectedFaults() < n/2 {
		t.Errorf("only %d faults were injected", srv.InjectedFaults())
	}
	srv.SetFaults(thehivetest.Faults{})

	if total.Quarantined != 0 {
		t.Errorf("%d emails quarantined: faults are transient", total.Quarantined)
	}
	cases := srv.Cases()
	if len(cases) != n {
		t.Errorf("%d cases, want %d", len(cases), n)
	}
	titles := map[string]int{}
	for _, c := range cases {
		titles[fmt.Sprint(c["title"])]++
	}
	for title, k := range titles {
		if k != 1 {
			t.Errorf("%d cases titled %q", k, title)
		}
	}
	logsPerCase := map[string]int{}
	for _, l := range srv.Logs() {
		msg := fmt.Sprint(l["message"])
		i := strings.Index(msg, "synapse:raw=")
		if i < 0 {
			t.Fatalf("log without a message key: %s", msg)
		}
		logsPerCase[msg[i:i+len("synapse:raw=")+24]]++
	}
	if len(logsPerCase) != n {
		t.Errorf("%d messages logged, want %d", len(logsPerCase), n)
	}
	for key, k := range logsPerCase {
		if k != 1 {
			t.Errorf("message %s logged %d times", key, k)
		}
	}
	if tasks := srv.Tasks(); len(tasks) != n {
		t.Errorf("%d tasks, want %d", len(tasks), n)
	}
	// Every email was marked processed.
	left := 0
	mb2, err := ews.NewIMAP(fx.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer mb2.Close()
	for _, err := range mb2.Messages(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		left++
	}
	if left != 0 {
		t.Errorf("%d emails not marked processed", left)
	}
}
