package ews_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
)

// ExampleNewEWS reads the shared mailbox soc@example.com over EWS, as a
// delegate signed in with NTLM: every unprocessed message of
// Inbox/Phishing is streamed, then tagged, marked read and moved.
func ExampleNewEWS() {
	// A fake Exchange server stands in for
	// https://mail.example.com/EWS/Exchange.asmx.
	srv := ewstest.NewEWS()
	if err := srv.Start("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	for _, f := range []string{"Inbox/Phishing", "Processed"} {
		if _, err := srv.CreateFolder(ewstest.EWSSharedMailbox, f); err != nil {
			log.Fatal(err)
		}
	}
	raw := "From: Alice <alice@example.com>\r\nSubject: Invoice overdue\r\nMessage-ID: <inv-1@example.com>\r\n\r\nPlease pay.\r\n"
	if _, err := srv.AddMessage(ewstest.EWSSharedMailbox, "Inbox/Phishing", ewstest.ExchangeMessage{
		Raw: []byte(raw), Received: time.Date(2026, 3, 2, 9, 14, 7, 0, time.UTC),
	}); err != nil {
		log.Fatal(err)
	}

	mb, err := ews.NewEWS(ews.EWSConfig{
		URL:       srv.URL(),
		Username:  ewstest.EWSUsername, // `EXAMPLE\svc-synapse`; NTLM is the default
		Password:  ewstest.EWSPassword,
		Mailbox:   "soc@example.com",
		Folders:   []string{"Inbox/Phishing"},
		Processed: ews.Disposition{Category: "TheHive", MarkRead: true, MoveTo: "Processed"},
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
		n, err := io.Copy(io.Discard, rc) // a real workflow parses the MIME here
		rc.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %s %q received %s, %d bytes\n", msg.Folder, msg.InternetMessageID, msg.Subject, msg.Received.Format(time.RFC3339), n)
		if err := mb.MarkProcessed(ctx, msg); err != nil {
			log.Fatal(err)
		}
	}

	done, err := srv.Messages(ewstest.EWSSharedMailbox, "Processed")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Processed: %q read=%t categories=%v\n", done[0].Subject, done[0].Read, done[0].Categories)
	// Output:
	// Inbox/Phishing <inv-1@example.com> "Invoice overdue" received 2026-03-02T09:14:07Z, 107 bytes
	// Processed: "Invoice overdue" read=true categories=[TheHive]
}

// ExampleEWSMailbox_errors shows the errors of a mailbox: they match the
// shared sentinels, and name the server, folder and operation.
func ExampleEWSMailbox_errors() {
	srv := ewstest.NewEWS()
	if err := srv.Start("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	mb, err := ews.NewEWS(ews.EWSConfig{
		URL:       srv.URL(),
		Auth:      ews.EWSAuthBasic,
		Username:  ewstest.EWSUsername,
		Password:  ewstest.EWSPassword,
		Mailbox:   "soc@example.com",
		Folders:   []string{"Inbox/Reported"},
		Processed: ews.Disposition{MarkRead: true},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer mb.Close()
	for _, err := range mb.Messages(context.Background()) {
		var op *ews.OpError
		if errors.As(err, &op) {
			fmt.Println(errors.Is(err, ews.ErrFolderNotFound), op.Protocol, op.Folder, op.Op)
		}
	}
	// Output:
	// true ews Inbox/Reported FindFolder
}
