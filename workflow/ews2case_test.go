package workflow_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/synapse-go/synapse/workflow"
)

// scenario is a phishing report, a reply to it and a forwarded mail with an
// attached message.
func scenario() (phish, reply, forward testMail) {
	phish = testMail{
		From:      `"PayPal Security" <security@paypa1-verify.example.com>`,
		To:        "alice@corp.example",
		Subject:   "Your account is suspended",
		MessageID: "20261102093000.4711@paypa1-verify.example.com",
		Text:      "Dear customer,\nverify your account at hxxp://paypa1-verify[.]example.com/login?id=42\nor your account will be closed.\nSupport server: 203.0.113.7",
		HTML:      `<p>Dear customer, <a href="http://paypa1-verify.example.com/login?id=42">www.paypal.com</a></p>`,
		Files:     map[string][]byte{"invoice.pdf": []byte("%PDF-1.4 not really a pdf\n")},
	}
	reply = testMail{
		From:      "Alice <alice@corp.example>",
		To:        "soc@corp.example",
		Subject:   "RE: Your account is suspended",
		MessageID: "reply-1@corp.example",
		InReplyTo: phish.MessageID,
		Text:      "I clicked the link before I noticed. What now?",
	}
	inner := testMail{
		From:      "billing@invoices-online.example.net",
		To:        "bob@corp.example",
		Subject:   "Invoice overdue",
		MessageID: "inner-7@invoices-online.example.net",
		Text:      "Pay now: https://invoices-online.example.net/pay",
		Files:     map[string][]byte{"invoice.zip": []byte("PK\x03\x04 fake zip")},
	}
	forward = testMail{
		From:      "Bob <bob@corp.example>",
		To:        "soc@corp.example",
		Subject:   "FW: Invoice overdue",
		MessageID: "fw-3@corp.example",
		Text:      "Looks fishy, see attached.",
		Attached:  inner.raw(),
	}
	return phish, reply, forward
}

func mailConfig() workflow.MailConfig {
	return workflow.MailConfig{
		Case:        workflow.CaseOptions{Tags: []string{"phishing"}},
		Owner:       workflow.OwnerOptions{Categories: map[string]string{"Analyst1": "analyst1@corp.example"}, Fallback: "admin@thehive.local"},
		Observables: workflow.ObservableOptions{Tags: []string{"synapse"}},
		StepRetry:   workflow.RetryPolicy{MinWait: 1e6, MaxWait: 1e7},
		Concurrency: 4,
	}
}

func TestEws2CaseEndToEnd(t *testing.T) {
	t.Parallel()
	fx := newIMAPFixture(t)
	phish, reply, forward := scenario()
	fx.seed(t, phish.raw(), "Analyst1")
	fx.seed(t, reply.raw())
	fx.seed(t, forward.raw())
	srv, th := newTheHive(t)

	r := workflow.Ews2Case(fx.mailbox(t), th, mailConfig())
	rep, err := r.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seen != 3 || rep.Created != 2 || rep.Updated != 1 || rep.Failed != 0 || rep.Quarantined != 0 {
		t.Fatalf("report %+v, want 3 seen, 2 created, 1 updated", rep)
	}

	cases := srv.Cases()
	if len(cases) != 2 {
		t.Fatalf("%d cases, want 2", len(cases))
	}
	phishCase := byField(cases, "title", "Your account is suspended")
	fwCase := byField(cases, "title", "Invoice overdue")
	if len(phishCase) != 1 || len(fwCase) != 1 {
		t.Fatalf("case titles: %v", titles(cases))
	}
	if got := phishCase[0]["assignee"]; got != "analyst1@corp.example" {
		t.Errorf("phishing case owner %v, want the category's analyst", got)
	}
	if got := fwCase[0]["assignee"]; got != "admin@thehive.local" {
		t.Errorf("forward case owner %v, want the fallback", got)
	}
	if tags := fmt.Sprint(phishCase[0]["tags"]); !strings.Contains(tags, "phishing") || !strings.Contains(tags, "synapse:raw=") || !strings.Contains(tags, "synapse:msg=") {
		t.Errorf("case tags %s", tags)
	}

	tasks := srv.Tasks()
	if len(tasks) != 2 || tasks[0]["title"] != "Communication" || tasks[0]["status"] != "InProgress" || tasks[0]["startDate"] == nil {
		t.Errorf("tasks: %v", tasks)
	}
	logs := srv.Logs()
	if len(logs) != 3 {
		t.Fatalf("%d logs, want 3 (one per email)", len(logs))
	}
	for _, l := range logs {
		msg := fmt.Sprint(l["message"])
		if !strings.Contains(msg, "**From:**") || !strings.Contains(msg, "**Subject:**") {
			t.Errorf("log without the header block:\n%s", msg)
		}
		if atts, _ := l["attachments"].([]any); len(atts) != 1 {
			t.Errorf("log has %d attachments, want the original .eml", len(atts))
		}
	}

	var data []string
	for _, o := range srv.Observables() {
		if o["dataType"] == "file" {
			att, _ := o["attachment"].(map[string]any)
			data = append(data, "file:"+fmt.Sprint(att["name"]))
			continue
		}
		data = append(data, fmt.Sprint(o["dataType"], ":", o["data"]))
	}
	for _, want := range []string{
		"url:http://paypa1-verify.example.com/login?id=42",
		"ip:203.0.113.7",
		"mail:security@paypa1-verify.example.com",
		"file:invoice.pdf",
		"file:invoice.zip",
		"url:https://invoices-online.example.net/pay",
	} {
		if !slices.Contains(data, want) {
			t.Errorf("observable %s missing; have %v", want, data)
		}
	}

	// Everything was marked processed: a second run sees nothing.
	rep, err = r.Run(t.Context())
	if err != nil || rep.Seen != 0 {
		t.Errorf("second run: %+v, %v", rep, err)
	}
}

func titles(objs []map[string]any) []string {
	var out []string
	for _, o := range objs {
		out = append(out, fmt.Sprint(o["title"]))
	}
	return out
}

// TestEws2CaseRerunChangesNothing runs the pipeline twice over messages that
// are never marked processed, as after a crash just before the mark: the
// second run must create, log and add nothing.
func TestEws2CaseRerunChangesNothing(t *testing.T) {
	t.Parallel()
	fx := newIMAPFixture(t)
	phish, reply, forward := scenario()
	for _, m := range []testMail{phish, reply, forward} {
		fx.seed(t, m.raw())
	}
	srv, th := newTheHive(t)
	mb := &neverMarked{Mailbox: fx.mailbox(t)}
	r := workflow.Ews2Case(mb, th, mailConfig())
	if _, err := r.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := srv.State()
	rep, err := r.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seen != 3 || rep.Skipped != 3 {
		t.Errorf("rerun report %+v, want 3 skipped", rep)
	}
	after := srv.State()
	for name, pair := range map[string][2]int{
		"cases":       {len(before.Cases), len(after.Cases)},
		"tasks":       {len(before.Tasks), len(after.Tasks)},
		"logs":        {len(before.Logs), len(after.Logs)},
		"observables": {len(before.Observables), len(after.Observables)},
	} {
		if pair[0] != pair[1] {
			t.Errorf("%s changed on a rerun: %d then %d", name, pair[0], pair[1])
		}
	}
}

// TestMailRunnerRetryDoesNotWaitForLaterMessages retries a message that
// failed once with a single worker: the retry must not wait for the next
// message, which no worker is free to take.
func TestMailRunnerRetryDoesNotWaitForLaterMessages(t *testing.T) {
	t.Parallel()
	fx := newIMAPFixture(t)
	phish, _, forward := scenario()
	fx.seed(t, phish.raw())
	fx.seed(t, forward.raw())
	failed := false
	flaky := workflow.NewStep("flaky", func(_ context.Context, m *workflow.Mail) error {
		if !failed {
			failed = true
			return errors.New("refused once")
		}
		return nil
	})
	p := workflow.NewPipeline("p", workflow.ParseMail(workflow.MailOptions{}), workflow.WaitForThread(), flaky)
	r := workflow.NewMailRunner("p", fx.mailbox(t), p, workflow.MailConfig{Concurrency: 1})
	r.RetryWait = time.Millisecond
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	rep, err := r.Run(ctx)
	if err != nil {
		t.Fatalf("run: %v (report %+v)", err, rep)
	}
	if rep.Seen != 2 || rep.Skipped != 2 || rep.Failed != 0 {
		t.Errorf("report %+v, want both messages done", rep)
	}
}
