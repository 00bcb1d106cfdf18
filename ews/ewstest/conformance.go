package ewstest

import (
	"context"
	"testing"
	"time"

	"github.com/synapse-go/synapse/ews"
)

// Setup says how the conformance suite wants one mailbox configured.
//
// Folder paths use "/" between levels whatever the server's own separator,
// and a first level of "Inbox" (any case) names the user's inbox, as in
// [ews.Message.Folder].
type Setup struct {
	// Folders are the folders the mailbox lists, in this order.
	Folders []string
	// Create are the folders the server must hold before the test starts:
	// the listed folders and the move targets of the dispositions. A listed
	// folder missing from Create does not exist on the server (the suite
	// checks [ews.ErrFolderNotFound] that way). The inbox always exists.
	Create []string
	// Processed is the mailbox's disposition for processed messages.
	Processed ews.Disposition
	// Quarantine is the mailbox's disposition for quarantined messages.
	Quarantine ews.Disposition
}

// Harness is one mailbox under test and the server behind it, as a [Factory]
// returns it.
type Harness struct {
	// Mailbox is configured as the Setup asked. The suite may close it
	// itself; the factory's cleanup must tolerate a second Close.
	Mailbox ews.Mailbox
	// Server seeds and inspects the server side of Mailbox.
	Server Backend
}

// Backend seeds and inspects the server side of a mailbox under test,
// without going through the connector under test.
type Backend interface {
	// Seed stores msg in folder as if it had been delivered there.
	Seed(ctx context.Context, folder string, msg SeedMessage) error
	// Inspect returns the messages that folder holds now, in any order, as a
	// mail client would show them: messages flagged for deletion but not yet
	// expunged are left out.
	Inspect(ctx context.Context, folder string) ([]StoredMessage, error)
	// DropConnections breaks every connection that the Mailbox has open to
	// the server, as a server restart or a network failure would. The
	// Mailbox's next operations must reconnect by themselves.
	DropConnections()
}

// SeedMessage is a message to store on the server before a test.
type SeedMessage struct {
	// Raw is the RFC 5322 message, with CRLF line endings.
	Raw []byte
	// Received is when the server received the message. The suite uses whole
	// seconds in UTC.
	Received time.Time
	// Read says whether the message is already read (IMAP \Seen).
	Read bool
	// Categories are Outlook categories (EWS, Graph) or IMAP keywords.
	Categories []string
}

// StoredMessage is the server-side state of one message, as
// [Backend.Inspect] reports it.
type StoredMessage struct {
	// MessageID is the Message-ID header, with or without angle brackets.
	MessageID string
	// Subject is the message's subject.
	Subject string
	// Read reports the read flag (IMAP \Seen).
	Read bool
	// Categories are the message's categories or keywords, in any order and
	// any case.
	Categories []string
}

// Factory returns a fresh mailbox configured as setup says, backed by a
// server that holds only the folders in setup.Create and no messages. It is
// called once per subtest, from parallel subtests, and registers its own
// cleanup with t.Cleanup. It fails t (t.Fatal) when it cannot build the
// harness.
type Factory func(t testing.TB, setup Setup) Harness
