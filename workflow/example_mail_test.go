package workflow_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
	"github.com/synapse-go/synapse/thehive"
	"github.com/synapse-go/synapse/thehive/thehivetest"
	"github.com/synapse-go/synapse/workflow"
)

// exampleMailbox starts an in-memory IMAP server holding one reported
// email, and returns a mailbox reading it.
func exampleMailbox() (*ews.IMAPMailbox, func()) {
	srv, err := ewstest.NewIMAPServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	_ = srv.AddUser("soc@corp.example", "secret")
	_ = srv.CreateFolder("soc@corp.example", "Inbox/Phishing")
	raw := "From: CEO <ceo@corp-example-payments.com>\r\n" +
		"To: finance@corp.example\r\n" +
		"Subject: Urgent wire transfer\r\n" +
		"Message-ID: <ceo-1@corp-example-payments.com>\r\n" +
		"Date: Mon, 2 Nov 2026 10:00:00 +0000\r\n" +
		"\r\n" +
		"Please wire 48,000 EUR today. Details: https://corp-example-payments.com/iban\r\n"
	err = srv.Seed("soc@corp.example", "Inbox/Phishing", ewstest.SeedMessage{
		Raw: []byte(raw), Received: time.Date(2026, 11, 2, 10, 1, 0, 0, time.UTC),
	})
	if err != nil {
		log.Fatal(err)
	}
	mb, err := ews.NewIMAP(ews.IMAPConfig{
		Addr: srv.Addr(), TLS: ews.TLSNone, Username: "soc@corp.example", Password: "secret",
		Folders: []string{"Inbox/Phishing"}, Processed: ews.Disposition{MarkRead: true},
	})
	if err != nil {
		log.Fatal(err)
	}
	return mb, func() { mb.Close(); srv.Close() }
}

func exampleTheHive() (*thehive.Client, func()) {
	hive := thehivetest.New()
	if err := hive.Start("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	th, err := thehive.NewClient(hive.URL(), thehive.WithAPIKey(thehivetest.APIKey))
	if err != nil {
		log.Fatal(err)
	}
	return th, hive.Close
}

// Every unprocessed message of a mailbox becomes a case, or a log of its
// thread's case, and is marked processed once all of it is in TheHive.
func ExampleEws2Case() {
	mb, closeMailbox := exampleMailbox()
	defer closeMailbox()
	th, closeHive := exampleTheHive()
	defer closeHive()

	r := workflow.Ews2Case(mb, th, workflow.MailConfig{
		Case:  workflow.CaseOptions{Tags: []string{"phishing"}},
		Owner: workflow.OwnerOptions{Fallback: thehivetest.AdminLogin},
	})
	rep, err := r.Run(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("seen %d, created %d\n", rep.Seen, rep.Created)

	cases, _ := th.Cases.Find(context.Background(), nil)
	obs, _ := th.Cases.FindObservables(context.Background(), cases[0].ID,
		&thehive.Query{Filter: thehive.Eq("dataType", "url")})
	fmt.Printf("case #%d %q owned by %s\n", cases[0].Number, cases[0].Title, cases[0].Assignee)
	fmt.Println("url:", obs[0].Data)
	// Output:
	// seen 1, created 1
	// case #1 "Urgent wire transfer" owned by admin@thehive.local
	// url: https://corp-example-payments.com/iban
}

// A pipeline of one's own: the built-in steps, plus a step that raises the
// severity of cases about money.
func ExampleNewPipeline() {
	mb, closeMailbox := exampleMailbox()
	defer closeMailbox()
	th, closeHive := exampleTheHive()
	defer closeHive()

	money := workflow.NewStep("flag-money", func(ctx context.Context, m *workflow.Mail) error {
		s := strings.ToLower(m.Email.Subject)
		if !m.CaseCreated || !(strings.Contains(s, "wire") || strings.Contains(s, "invoice")) {
			return nil
		}
		high := thehive.SeverityHigh
		return th.Cases.Update(ctx, m.Case.ID, &thehive.CaseUpdate{Severity: &high, AddTags: []string{"bec"}})
	})
	cfg := workflow.MailConfig{}
	p := workflow.NewPipeline("mail-with-bec",
		workflow.ParseMail(cfg.Mail),
		workflow.WaitForThread(),
		workflow.FindThreadCase(th),
		workflow.CreateCase(th, cfg.Case),
		money,
		workflow.EnsureTask(th, cfg.Case),
		workflow.AddMailLog(th),
	).Use(workflow.Retry(workflow.RetryPolicy{}))

	rep, err := workflow.NewMailRunner("mail-with-bec", mb, p, cfg).Run(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	cases, _ := th.Cases.Find(context.Background(), nil)
	fmt.Printf("created %d: %q severity %s, tags %s\n", rep.Created, cases[0].Title, cases[0].Severity,
		strings.Join(visible(cases[0].Tags), ","))
	// Output:
	// created 1: "Urgent wire transfer" severity HIGH, tags bec
}

// visible leaves out the tags that hold the message keys.
func visible(tags []string) []string {
	var out []string
	for _, t := range tags {
		if !strings.HasPrefix(t, "synapse:") {
			out = append(out, t)
		}
	}
	return out
}
