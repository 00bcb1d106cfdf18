package ews_test

import (
	"bufio"
	"context"
	"fmt"
	"log"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
)

// ExampleNewIMAP lists the reported messages of a phishing folder, reads
// each one and marks it processed with a keyword and a move.
func ExampleNewIMAP() {
	// An in-memory IMAP server stands in for the real one.
	srv, err := ewstest.NewIMAPServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	_ = srv.AddUser("analyst", "secret")
	_ = srv.CreateFolder("analyst", "Inbox/Phishing")
	_ = srv.CreateFolder("analyst", "Processed")
	_ = srv.Append("analyst", "Inbox/Phishing", []byte("From: alice@example.com\r\nSubject: Fwd: Your invoice\r\n\r\nSee below.\r\n"))
	_ = srv.Append("analyst", "Inbox/Phishing", []byte("From: bob@example.com\r\nSubject: Fwd: Password expiry\r\n\r\nIs this real?\r\n"))

	mb, err := ews.NewIMAP(ews.IMAPConfig{
		Addr:      srv.Addr(),
		TLS:       ews.TLSNone, // a real server: ews.TLSImplicit or ews.TLSStartTLS
		Username:  "analyst",
		Password:  "secret",
		Folders:   []string{"Inbox/Phishing"},
		Processed: ews.Disposition{Category: "synapse-done", MoveTo: "Processed"},
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
		first, _ := bufio.NewReader(rc).ReadString('\n')
		rc.Close()
		fmt.Printf("%s: %q, first line %q\n", msg.Folder, msg.Subject, first)
		if err := mb.MarkProcessed(ctx, msg); err != nil {
			log.Fatal(err)
		}
	}
	n := 0
	for range mb.Messages(ctx) {
		n++
	}
	fmt.Println("left to process:", n)
	// Output:
	// Inbox/Phishing: "Fwd: Your invoice", first line "From: alice@example.com\r\n"
	// Inbox/Phishing: "Fwd: Password expiry", first line "From: bob@example.com\r\n"
	// left to process: 0
}

// ExampleIMAPMailbox_WaitForMail waits with IDLE until mail arrives.
func ExampleIMAPMailbox_WaitForMail() {
	srv, err := ewstest.NewIMAPServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	_ = srv.AddUser("analyst", "secret")

	mb, err := ews.NewIMAP(ews.IMAPConfig{
		Addr: srv.Addr(), TLS: ews.TLSNone, Username: "analyst", Password: "secret",
		Folders: []string{"Inbox"}, Processed: ews.Disposition{MarkRead: true},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer mb.Close()
	ctx := context.Background()
	for range mb.Messages(ctx) { // the inbox is empty
	}

	go func() {
		_ = srv.Append("analyst", "Inbox", []byte("Subject: new report\r\n\r\nHello.\r\n"))
	}()
	// A runner loops: wait, list, process. A wait may also end with no new
	// mail (the server ended it, or WaitTimeout passed).
	for {
		if err := mb.WaitForMail(ctx); err != nil {
			log.Fatal(err)
		}
		found := false
		for msg, err := range mb.Messages(ctx) {
			if err != nil {
				log.Fatal(err)
			}
			fmt.Println("new mail:", msg.Subject)
			found = true
		}
		if found {
			break
		}
	}
	// Output:
	// new mail: new report
}
