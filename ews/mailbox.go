package ews

import (
	"context"
	"io"
	"iter"
	"time"
)

// MessageID identifies a message within one Mailbox. It is stable for as long
// as the message stays where it is: an EWS ItemId, a Graph message id, or for
// IMAP the folder, UIDVALIDITY and UID together. Treat it as opaque.
type MessageID string

// Message describes one message that a Mailbox listed. It carries metadata
// only; the raw RFC 5322 content is streamed by [Mailbox.Open].
type Message struct {
	// ID is the mailbox's identifier of the message.
	ID MessageID
	// Folder is the path of the folder the message was listed in, as it was
	// configured (for example "Inbox/Phishing").
	Folder string
	// ConversationID is the server's thread identifier (EWS and Graph
	// ConversationId). It is empty where the server has none (IMAP).
	ConversationID string
	// InternetMessageID is the Message-ID header when the server reports it
	// without the message being downloaded; it may be empty.
	InternetMessageID string
	// Subject is the decoded subject when the server reports it; it may be
	// empty.
	Subject string
	// Categories holds Outlook categories (EWS, Graph) or IMAP keywords, in
	// the server's order.
	Categories []string
	// Size is the size of the raw message in bytes as reported by the
	// server, or -1 when unknown.
	Size int64
	// Received is when the server received the message.
	Received time.Time
}

// Mailbox is a source of raw email messages. EWS, Microsoft Graph and IMAP
// mailboxes implement it, so a workflow never needs to know which it reads.
//
// Implementations are safe for concurrent use: a runner lists messages from
// one goroutine while others open, mark or quarantine them.
type Mailbox interface {
	// Messages yields the messages of the configured folders that are not yet
	// processed, oldest first within each folder. It does no I/O until it is
	// ranged over and stops fetching as soon as the loop breaks. After an
	// error it yields nothing more.
	Messages(ctx context.Context) iter.Seq2[Message, error]

	// Open returns the raw RFC 5322 message as a stream. The connector never
	// holds the whole message in memory. The caller must close the reader.
	Open(ctx context.Context, msg Message) (io.ReadCloser, error)

	// MarkProcessed records that msg has been handled, as the mailbox is
	// configured to: a seen/read flag, a category or keyword, a move to
	// another folder, or several of these. A processed message is not listed
	// again. Marking a message twice is not an error.
	MarkProcessed(ctx context.Context, msg Message) error

	// Quarantine sets msg aside (a quarantine folder, a category or a
	// keyword) so that it is not listed again, for a message that failed too
	// often. reason is recorded where the server allows it.
	Quarantine(ctx context.Context, msg Message, reason string) error

	// Close releases the mailbox's connections.
	Close() error
}

// Waiter is implemented by mailboxes that can wait for new mail, such as an
// IMAP mailbox with IDLE.
type Waiter interface {
	// WaitForMail blocks until new mail may have arrived in a configured
	// folder, ctx is done, or the server ends the wait. A nil error means the
	// caller should list messages again.
	WaitForMail(ctx context.Context) error
}

// Disposition says what happens to a message when it is marked processed or
// quarantined. Several actions may be combined; they are applied in the
// order category, read flag, move, so that a message moved away already
// carries its marks.
//
// The same disposition also decides which messages are listed as not yet
// processed:
//   - when Category is set, a message is unprocessed while it lacks that
//     category (EWS, Graph) or keyword (IMAP), whatever its read state, so a
//     message an analyst opened by hand is still processed;
//   - otherwise, when MarkRead is set, a message is unprocessed while it is
//     unread (IMAP: lacks \Seen);
//   - otherwise (MoveTo only), every message left in a listed folder is
//     unprocessed.
//
// Messages carrying the quarantine disposition's category are never listed.
type Disposition struct {
	// MarkRead sets the read flag (EWS IsRead, Graph isRead, IMAP \Seen).
	MarkRead bool
	// Category adds an Outlook category (EWS, Graph) or an IMAP keyword.
	Category string
	// MoveTo moves the message to this folder path (for example
	// "Inbox/Processed"), which must exist.
	MoveTo string
}

// IsZero reports whether d does nothing.
func (d Disposition) IsZero() bool { return !d.MarkRead && d.Category == "" && d.MoveTo == "" }
