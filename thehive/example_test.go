package thehive_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/synapse-go/synapse/thehive"
	"github.com/synapse-go/synapse/thehive/thehivetest"
)

// exampleFake starts a fake TheHive with a "Phishing" case template and a
// "synapse-thread" custom field, and returns a client of it.
func exampleFake() (*thehive.Client, func()) {
	fake := thehivetest.New(
		thehivetest.WithCustomField(thehivetest.CustomField{Name: "synapse-thread", Group: "synapse", Description: "mail thread", Type: "string"}),
		thehivetest.WithCaseTemplate(thehivetest.CaseTemplate{
			Name: "Phishing", TitlePrefix: "[PHISH] ", Severity: 3,
			Tasks: []thehivetest.TemplateTask{{Title: "Communication"}, {Title: "Analysis"}},
		}),
	)
	srv := httptest.NewServer(fake.Handler())
	c, err := thehive.NewClient(srv.URL,
		thehive.WithAPIKey(thehivetest.APIKey),
		thehive.WithOrganisation(thehivetest.Organisation))
	if err != nil {
		log.Fatal(err)
	}
	return c, func() { srv.Close(); fake.Close() }
}

func Example() {
	c, stop := exampleFake()
	defer stop()
	ctx := context.Background()

	cs, err := c.Cases.Create(ctx, &thehive.CaseCreate{
		Title:        "Invoice from an unknown supplier",
		Description:  "Reported by the finance team.",
		Template:     "Phishing",
		TLP:          thehive.Ptr(thehive.TLPGreen),
		CustomFields: thehive.CustomFields{"synapse-thread": "AAQkADAwATM0MDAAMS0"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("case #%d %q, severity %s, TLP:%s, stage %s\n", cs.Number, cs.Title, cs.Severity, cs.TLP, cs.Stage)

	tasks, err := c.Cases.FindTasks(ctx, cs.ID, &thehive.Query{Sort: []thehive.Sort{thehive.Asc("title")}})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tasks {
		fmt.Println("task:", t.Title, t.Status)
	}

	err = c.Cases.Close(ctx, cs.ID, thehive.CaseClose{Status: thehive.CaseStatusFalsePositive, Summary: "Genuine invoice."})
	if err != nil {
		log.Fatal(err)
	}
	cs, err = c.Cases.Get(ctx, thehive.CaseNumber(cs.Number))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("closed:", cs.Stage, cs.Status, cs.ImpactStatus)
	// Output:
	// case #1 "[PHISH] Invoice from an unknown supplier", severity HIGH, TLP:GREEN, stage New
	// task: Analysis Waiting
	// task: Communication Waiting
	// closed: Closed FalsePositive NotApplicable
}

// A case is found by a key stored in a custom field, through the query
// API: the way a reply lands in the case of its thread.
func ExampleCasesService_FindByCustomField() {
	c, stop := exampleFake()
	defer stop()
	ctx := context.Background()

	for _, subject := range []string{"Invoice", "Re: Invoice"} {
		found, err := c.Cases.FindByCustomField(ctx, "synapse-thread", "thread-42")
		if err != nil {
			log.Fatal(err)
		}
		if len(found) > 0 {
			fmt.Printf("%q goes to case #%d\n", subject, found[0].Number)
			continue
		}
		cs, err := c.Cases.Create(ctx, &thehive.CaseCreate{
			Title: subject, Description: "mail", CustomFields: thehive.CustomFields{"synapse-thread": "thread-42"},
		})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%q opens case #%d\n", subject, cs.Number)
	}
	// Output:
	// "Invoice" opens case #1
	// "Re: Invoice" goes to case #1
}

// TheHive refuses a second alert with the same type, source and
// sourceRef: the duplicate is found instead of created.
func ExampleAlertsService_Create() {
	c, stop := exampleFake()
	defer stop()
	ctx := context.Background()

	in := &thehive.AlertCreate{
		Type: "external", Source: "QRadar_Offenses", SourceRef: "211",
		Title: "Offense 211", Description: "Multiple login failures",
		Observables: []thehive.ObservableCreate{
			{DataType: thehive.DataIP, Data: []string{"198.51.100.7"}, Tags: []string{"src"}},
		},
	}
	for range 2 {
		a, err := c.Alerts.Create(ctx, in, thehive.SafeToRetry())
		if errors.Is(err, thehive.ErrDuplicate) {
			a, err = c.Alerts.GetBySourceRef(ctx, in.Type, in.Source, in.SourceRef)
			fmt.Print("found: ")
		} else {
			fmt.Print("created: ")
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(a.Title, a.Status, a.ObservableCount)
	}
	// Output:
	// created: Offense 211 New 1
	// found: Offense 211 New 1
}

// A file observable is streamed from a reader; the same file again is a
// duplicate.
func ExampleObservablesService_AddToCase() {
	c, stop := exampleFake()
	defer stop()
	ctx := context.Background()

	cs, err := c.Cases.Create(ctx, &thehive.CaseCreate{Title: "Malware", Description: "An attachment"})
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		obs, err := c.Observables.AddToCase(ctx, cs.ID, &thehive.ObservableCreate{
			DataType: thehive.DataFile,
			File:     &thehive.File{Name: "invoice.txt", ContentType: "text/plain", Reader: strings.NewReader("hello, world\n")},
		}, thehive.SafeToRetry())
		if errors.Is(err, thehive.ErrDuplicate) {
			fmt.Println("already there")
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		a := obs[0].Attachment
		fmt.Println(a.Name, a.Size, a.SHA256())
	}
	// Output:
	// invoice.txt 13 853ff93762a06ddbf722c4ebe9ddd66d8f63ddaea97f521c3ecc20da7c976020
	// already there
}

// A task log with the original mail attached.
func ExampleTaskLogsService_Create() {
	c, stop := exampleFake()
	defer stop()
	ctx := context.Background()

	cs, err := c.Cases.Create(ctx, &thehive.CaseCreate{Title: "Mail", Description: "d"})
	if err != nil {
		log.Fatal(err)
	}
	task, err := c.Tasks.Create(ctx, cs.ID, &thehive.TaskCreate{Title: "Communication", Status: thehive.TaskInProgress})
	if err != nil {
		log.Fatal(err)
	}
	l, err := c.TaskLogs.Create(ctx, task.ID, &thehive.LogCreate{
		Message:     "**From:** eve@example.org\n\nPlease pay the invoice.",
		Attachments: []thehive.File{{Name: "mail.eml", ContentType: "message/rfc822", Reader: strings.NewReader("Subject: invoice\r\n\r\nPay.\r\n")}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.SplitN(l.Message, "\n", 2)[0], "-", l.Attachments[0].Name, l.Attachments[0].Size)
	// Output:
	// **From:** eve@example.org - mail.eml 26
}

// FindAll walks every page of a query lazily.
func ExampleCasesService_FindAll() {
	c, stop := exampleFake()
	defer stop()
	ctx := context.Background()

	for _, title := range []string{"scan", "phishing", "malware"} {
		if _, err := c.Cases.Create(ctx, &thehive.CaseCreate{Title: title, Description: "d"}); err != nil {
			log.Fatal(err)
		}
	}
	q := &thehive.Query{Filter: thehive.Ne("title", "scan"), Limit: 1} // one case per page
	for cs, err := range c.Cases.FindAll(ctx, q) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(cs.Number, cs.Title)
	}
	// Output:
	// 2 phishing
	// 3 malware
}

func ExampleAnd() {
	f := thehive.And(
		thehive.Eq("status", thehive.CaseStatusNew),
		thehive.Or(thehive.Gte("severity", thehive.SeverityHigh), thehive.Eq("tags", "vip")),
		thehive.Not(thehive.Has("assignee")),
	)
	fmt.Println(f)
	// Output:
	// {"_and":[{"_eq":{"_field":"status","_value":"New"}},{"_or":[{"_gte":{"_field":"severity","_value":3}},{"_eq":{"_field":"tags","_value":"vip"}}]},{"_not":{"_has":"assignee"}}]}
}

func ExampleParseEvent() {
	payloads := []string{
		// TheHive 3
		`{"operation":"Update","objectType":"case","objectId":"AV6FZsTj0KeanEfOQfd_","details":{"status":"Resolved"},"object":{"caseId":1445}}`,
		// TheHive 4
		`{"operation":"update","objectType":"alert","objectId":"~86128","details":{"read":true},"organisation":"MyOrg"}`,
		// TheHive 5
		`{"_type":"Audit","action":"update","objectType":"Case","objectId":"~41","details":{"status":"TruePositive","stage":"Closed"},"object":{"number":12}}`,
	}
	for _, p := range payloads {
		e, err := thehive.ParseEvent([]byte(p))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("TheHive %d: %s %s %s closed case=%v (number %d) ignored alert=%v\n",
			e.Version, e.Operation, e.ObjectType, e.ObjectID, e.IsCaseClosed(), e.CaseNumber(), e.IsAlertIgnoredOrRead())
	}
	// Output:
	// TheHive 3: update Case AV6FZsTj0KeanEfOQfd_ closed case=true (number 1445) ignored alert=false
	// TheHive 4: update Alert ~86128 closed case=false (number 0) ignored alert=true
	// TheHive 5: update Case ~41 closed case=true (number 12) ignored alert=false
}

func ExampleNewWebhookHandler() {
	h, err := thehive.NewWebhookHandler(func(ctx context.Context, e *thehive.Event) error {
		if e.IsCaseClosed() {
			fmt.Println("case", e.CaseNumber(), "closed as", e.Details["status"])
		}
		return nil
	}, thehive.WithBearerToken("webhook-secret"))
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	for _, token := range []string{"wrong", "webhook-secret"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(
			`{"action":"update","objectType":"Case","objectId":"~41","details":{"status":"TruePositive"},"object":{"number":12,"stage":"Closed"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
	}
	// Output:
	// 401 Unauthorized
	// case 12 closed as TruePositive
	// 204 No Content
}
