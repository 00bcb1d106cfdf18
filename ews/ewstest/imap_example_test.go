package ewstest_test

import (
	"fmt"
	"log"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/synapse-go/synapse/ews/ewstest"
)

// ExampleNewIMAPServer starts an in-memory IMAP server for a demo program,
// seeds it and reads it back with a plain IMAP client.
func ExampleNewIMAPServer() {
	srv, err := ewstest.NewIMAPServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	if err := srv.AddUser("analyst", "secret"); err != nil {
		log.Fatal(err)
	}
	if err := srv.CreateFolder("analyst", "Inbox/Phishing"); err != nil {
		log.Fatal(err)
	}
	err = srv.Seed("analyst", "Inbox/Phishing", ewstest.SeedMessage{
		Raw:        []byte("From: alice@example.com\r\nSubject: Fwd: Your invoice\r\n\r\nSee below.\r\n"),
		Received:   time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC),
		Categories: []string{"triage"},
	})
	if err != nil {
		log.Fatal(err)
	}

	c, err := imapclient.DialInsecure(srv.Addr(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("analyst", "secret").Wait(); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Select("INBOX/Phishing", nil).Wait(); err != nil {
		log.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Envelope: true, Flags: true, InternalDate: true}).Collect()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(msgs[0].Envelope.Subject, msgs[0].Flags, msgs[0].InternalDate.UTC())
	// Output:
	// Fwd: Your invoice [triage] 2025-03-01 09:00:00 +0000 UTC
}
