package mailkit_test

import (
	"context"
	"fmt"
	"log"

	"github.com/synapse-go/synapse/ews/ewstest"
	"github.com/synapse-go/synapse/internal/crashtest/mailkit"
)

// Generate a small batch of reported emails: every third answers an earlier
// one, every second carries a file.
func ExampleGenerate() {
	for _, m := range mailkit.Generate(6, mailkit.Options{Seed: 1, ReplyEvery: 3, AttachEvery: 2}) {
		fmt.Printf("%d thread %d files %d: %s\n", m.Index, m.Thread, len(m.Attachments), m.Subject)
	}
	// Output:
	// 0 thread 0 files 0: Action required: mailbox RNI-10000 will be suspended
	// 1 thread 1 files 1: Overdue invoice INV-10001
	// 2 thread 2 files 0: Your parcel PAR-10002 is on hold
	// 3 thread 2 files 0: RE: Your parcel PAR-10002 is on hold
	// 4 thread 4 files 0: Action required: mailbox OFF-10004 will be suspended
	// 5 thread 5 files 1: Overdue invoice INV-10005
}

// Seed a folder of an IMAP server and read it back.
func ExampleStore() {
	ctx := context.Background()
	srv, err := ewstest.NewIMAPServer(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	if err := srv.AddUser("soc", "example-password"); err != nil {
		log.Fatal(err)
	}
	st := &mailkit.Store{Addr: srv.Addr(), Username: "soc", Password: "example-password"}
	if err := st.CreateFolders(ctx, "Inbox/Phishing"); err != nil {
		log.Fatal(err)
	}
	m := mailkit.Generate(1, mailkit.Options{Seed: 1})[0]
	if err := st.Append(ctx, "Inbox/Phishing", mailkit.Seed{Raw: m.Raw, Keywords: []string{"analyst1"}}); err != nil {
		log.Fatal(err)
	}
	stored, err := st.Inspect(ctx, "Inbox/Phishing")
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range stored {
		fmt.Println(s.UID, s.Subject, s.HasFlag("analyst1"), s.HasFlag(`\Seen`), s.SHA256 == m.SHA256)
	}
	// Output:
	// 1 Action required: mailbox RNI-10000 will be suspended true false true
}
