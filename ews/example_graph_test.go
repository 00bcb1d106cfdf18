package ews_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
)

// ExampleNewGraph reads an Exchange Online mailbox through Microsoft
// Graph, with an app registered in the tenant (client credentials, the
// Mail.ReadWrite application permission). Processed messages get a
// category, which also keeps them out of the next listing even if an
// analyst marks them unread.
func ExampleNewGraph() {
	// A fake Graph and token endpoint stand in for graph.microsoft.com
	// and login.microsoftonline.com.
	srv := ewstest.NewGraph()
	if err := srv.Start("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	for i, subject := range []string{"Password expiry notice", "Your parcel is waiting"} {
		raw := fmt.Sprintf("From: it@example.net\r\nSubject: %s\r\nMessage-ID: <r%d@example.net>\r\n\r\nClick here.\r\n", subject, i)
		if _, err := srv.AddMessage(ewstest.GraphMailbox, "Inbox", ewstest.ExchangeMessage{
			Raw: []byte(raw), Received: time.Date(2026, 3, 2, 9, i, 0, 0, time.UTC),
		}); err != nil {
			log.Fatal(err)
		}
	}

	mb, err := ews.NewGraph(ews.GraphConfig{
		TenantID:     ewstest.GraphTenantID,
		ClientID:     ewstest.GraphClientID,
		ClientSecret: ewstest.GraphClientSecret,
		TokenURL:     srv.TokenURL(), // by default login.microsoftonline.com/{tenant}/oauth2/v2.0/token
		BaseURL:      srv.URL(),      // by default https://graph.microsoft.com/v1.0
		User:         "soc@example.com",
		Folders:      []string{"Inbox"},
		Processed:    ews.Disposition{Category: "TheHive"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer mb.Close()

	ctx := context.Background()
	for msg, err := range mb.Messages(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		rc, err := mb.Open(ctx, msg)
		if err != nil {
			log.Fatal(err)
		}
		raw, err := io.ReadAll(rc) // small here; a workflow streams it
		rc.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%q, %d bytes\n", msg.Subject, len(raw))
		if err := mb.MarkProcessed(ctx, msg); err != nil {
			log.Fatal(err)
		}
	}
	left := 0
	for range mb.Messages(ctx) {
		left++
	}
	fmt.Println("left to process:", left)
	// Output:
	// "Password expiry notice", 100 bytes
	// "Your parcel is waiting", 100 bytes
	// left to process: 0
}
