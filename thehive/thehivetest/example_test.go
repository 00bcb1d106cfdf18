package thehivetest_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

// post sends a JSON body with the admin's API key and decodes the answer.
func post(url, body string, out any) int {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+thehivetest.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// A case created from a template gets the template's prefix, severity and
// tasks.
func Example() {
	srv := thehivetest.New(thehivetest.WithCaseTemplate(thehivetest.CaseTemplate{
		Name: "Phishing", TitlePrefix: "[Phishing]", Severity: 3,
		Tasks: []thehivetest.TemplateTask{{Title: "Communication"}, {Title: "Analysis"}},
	}))
	if err := srv.Start("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	var cs struct {
		Number        int
		Title, Status string
		SeverityLabel string
	}
	status := post(srv.URL()+"/api/v1/case", `{"title": "Invoice 42", "description": "Reported by a user", "caseTemplate": "Phishing"}`, &cs)
	fmt.Println(status, cs.Number, cs.Title, cs.Status, cs.SeverityLabel)
	for _, task := range srv.Tasks() {
		fmt.Println(task["title"], task["status"])
	}
	// Output:
	// 201 1 [Phishing] Invoice 42 New HIGH
	// Communication Waiting
	// Analysis Waiting
}

// The fake refuses what TheHive refuses, with TheHive's error bodies.
func Example_rejections() {
	srv := thehivetest.New()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	defer srv.Close()

	alert := `{"type": "siem", "source": "qradar", "sourceRef": "offense-7", "title": "Brute force", "description": "..."}`
	fmt.Println(post(ts.URL+"/api/v1/alert", alert, nil))
	var e struct{ Type, Message string }
	fmt.Println(post(ts.URL+"/api/v1/alert", alert, &e), e.Type, e.Message)
	fmt.Println(post(ts.URL+"/api/v1/case", `{"title": "no description", "assignee": "nobody"}`, &e), e.Type, e.Message)
	// Output:
	// 201
	// 400 CreateError Alert siem:qradar:offense-7 already exist in organisation main-org
	// 400 AttributeCheckingError [Attribute description is missing]
}

// A fault injected after the request was applied loses the answer but
// keeps the change: a client that retries must not create a duplicate.
func ExampleServer_SetFaults() {
	srv := thehivetest.New()
	if err := srv.Start("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.SetFaults(thehivetest.Faults{
		Rate:       1,
		Routes:     []string{"POST /api/v1/alert"},
		Kinds:      []thehivetest.FaultKind{thehivetest.FaultStatus503},
		AfterApply: 1,
		Times:      1,
	})

	alert := `{"type": "mail", "source": "imap", "sourceRef": "<id@example.com>", "title": "Phishing", "description": "..."}`
	fmt.Println(post(srv.URL()+"/api/v1/alert", alert, nil), len(srv.Alerts()))
	fmt.Println(post(srv.URL()+"/api/v1/alert", alert, nil), len(srv.Alerts()))
	fmt.Println(srv.Requests("POST /api/v1/alert"), srv.InjectedFaults())
	// Output:
	// 503 1
	// 400 1
	// 2 1
}

// Events lists the notifications TheHive 5 would send to a webhook.
func ExampleServer_Events() {
	srv := thehivetest.New()
	if err := srv.Start("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	var a struct {
		ID string `json:"_id"`
	}
	post(srv.URL()+"/api/v1/alert", `{"type": "t", "source": "s", "sourceRef": "1", "title": "x", "description": "y"}`, &a)
	post(srv.URL()+"/api/v1/alert/"+a.ID+"/case", `{}`, nil)
	for _, ev := range srv.Events() {
		fmt.Println(ev["action"], ev["objectType"], ev["mainAction"])
	}
	// Output:
	// create Alert true
	// create Case true
	// update Alert false
}
