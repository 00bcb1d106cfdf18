package ewstest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/synapse-go/synapse/ews/ewstest"
)

// ExampleNewGraph serves a fake Microsoft Graph, gets an app-only token
// from its token endpoint with Go's OAuth2 client, and lists the inbox.
func ExampleNewGraph() {
	srv := ewstest.NewGraph()
	if err := srv.Start("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	if _, err := srv.AddMessage(ewstest.GraphMailbox, "Inbox", ewstest.ExchangeMessage{
		Raw:      []byte("Subject: Account locked\r\nMessage-ID: <al@example.com>\r\n\r\nVerify now.\r\n"),
		Received: time.Date(2026, 3, 2, 9, 14, 7, 0, time.UTC),
	}); err != nil {
		log.Fatal(err)
	}

	cc := clientcredentials.Config{
		ClientID:     ewstest.GraphClientID,
		ClientSecret: ewstest.GraphClientSecret,
		TokenURL:     srv.TokenURL(),
		Scopes:       []string{"https://graph.microsoft.com/.default"},
	}
	client := cc.Client(context.Background())
	resp, err := client.Get(srv.URL() + "/users/soc@example.com/mailFolders/inbox/messages?$select=subject,receivedDateTime,isRead")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Value []struct {
			Subject          string
			ReceivedDateTime time.Time
			IsRead           bool
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode)
	for _, m := range page.Value {
		fmt.Println(m.Subject, m.ReceivedDateTime.Format(time.RFC3339), m.IsRead)
	}
	fmt.Println(srv.Requests("POST /token"), srv.Requests("GET /users/{id}/mailFolders/{id}/messages"))
	// Output:
	// 200
	// Account locked 2026-03-02T09:14:07Z false
	// 1 1
}

// ExampleGraphServer_InjectFault throttles the next request the way
// Exchange Online does.
func ExampleGraphServer_InjectFault() {
	srv := ewstest.NewGraph()
	if err := srv.Start("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.InjectFault(ewstest.GraphFault{Kind: ewstest.GraphThrottled, RetryAfter: 2 * time.Second})

	cc := clientcredentials.Config{ClientID: ewstest.GraphClientID, ClientSecret: ewstest.GraphClientSecret,
		TokenURL: srv.TokenURL(), Scopes: []string{"https://graph.microsoft.com/.default"}}
	resp, err := cc.Client(context.Background()).Get(srv.URL() + "/users/soc@example.com/messages")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, resp.Header.Get("Retry-After"), e.Error.Code+":", e.Error.Message)

	// Output:
	// 429 2 ApplicationThrottled: Application is over its MailboxConcurrency limit.
}
