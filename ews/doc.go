// Package ews reads reported emails from mailboxes: on-premises Exchange
// through EWS, Exchange Online through Microsoft Graph, and any IMAP server,
// all behind one [Mailbox] interface, so that a workflow never knows which
// it reads.
//
// # Overview
//
// A Mailbox lists the messages of its folders that are not yet processed,
// oldest first, lazily as an [iter.Seq2]; streams each raw RFC 5322 message
// with [Mailbox.Open], never holding it whole in memory; marks a message
// processed once the workflow is done with it; and sets a message that
// keeps failing aside with [Mailbox.Quarantine]. What "processed" and
// "quarantined" mean is a [Disposition]: a read flag, a category (IMAP
// keyword), a move to another folder, or several of these. The same
// disposition decides which messages are listed, so a processed message is
// never listed again.
//
//	for msg, err := range mb.Messages(ctx) {
//		if err != nil {
//			return err
//		}
//		rc, err := mb.Open(ctx, msg)
//		// ... parse, create the case ...
//		rc.Close()
//		if err := mb.MarkProcessed(ctx, msg); err != nil {
//			return err
//		}
//	}
//
// The connectors are [NewEWS], [NewGraph] and [NewIMAP]. Each takes a
// configuration struct, validates it and does no I/O until first used.
// Mailboxes are safe for concurrent use: one goroutine may list while others
// open, mark and quarantine.
//
// # IMAP
//
// [IMAPMailbox] speaks IMAP4rev1 through go-imap v2, in plain text, with
// STARTTLS or with implicit TLS, trusting the system's or a custom CA
// ([IMAPConfig.RootCAs], [IMAPConfig.CACertPEM]). It logs in with LOGIN,
// AUTHENTICATE PLAIN or XOAUTH2 (an oauth2.TokenSource). Folder paths use
// "/" whatever the server's separator, and "Inbox" names the inbox.
//
// A message is unprocessed while it lacks the Processed keyword, or, without
// one, while it lacks \Seen; messages with the quarantine keyword or
// \Deleted are never listed. Open fetches BODY.PEEK[], which leaves \Seen
// alone, and reads the literal straight from the connection. Marking stores
// flags with UID STORE and moves with UID MOVE, or with UID COPY, \Deleted
// and UID EXPUNGE on a server without MOVE (without UIDPLUS, the \Deleted
// copy stays until the server expunges it, and is never listed).
//
// Message IDs hold the folder, its UIDVALIDITY and the UID, so they survive
// reconnects and restarts. If a folder is rebuilt and its UIDVALIDITY
// changes, old IDs fail with [ErrStale] and the next listing yields the
// folder's unprocessed messages under new IDs; marks are flags on the
// server, so nothing already processed comes back. [IMAPMailbox.WaitForMail]
// uses IDLE to wake a runner when mail arrives.
//
// # EWS
//
// [EWSMailbox] speaks Exchange Web Services (SOAP 1.1) to on-premises
// Exchange 2013 SP1 and later. It signs in with NTLM, Basic or an OAuth2
// bearer token, and reads its own mailbox, a shared mailbox as a delegate,
// or any mailbox with ExchangeImpersonation. Folders are found by display
// name. Listing is FindItem sorted by DateTimeReceived, restricted to
// unread messages or to those without the category. Open decodes GetItem's
// base64 MimeContent while it streams, so memory stays flat whatever the
// size. Marking is UpdateItem with the current ChangeKey, with read
// receipts suppressed, then MoveItem. ErrorServerBusy's BackOffMilliseconds
// and 503 Retry-After are waited out, never shortened; a wait longer than
// MaxRetryWait fails at once with [ErrThrottled].
//
// # Microsoft Graph
//
// [GraphMailbox] reads Exchange Online with an app-only token from the
// client credentials grant (the Mail.ReadWrite application permission).
// Listing is /mailFolders/{id}/messages with $filter, $orderby on
// receivedDateTime, $select and $top; Open streams /messages/{id}/$value;
// marking is PATCH with If-Match, then move. 429 and 503 are retried after
// Retry-After, and requests in flight are bounded per mailbox. In both EWS
// and Graph, a message moved to a new id is still found when marked again,
// even after a restart.
//
// # Errors
//
// Every error from a Mailbox is an [*OpError] naming the protocol, server,
// folder and operation; it wraps a [*ServerError] when the server refused
// (with its response code), a network error, or a context error. Match
// causes with [errors.Is] against the shared sentinels: [ErrAuth],
// [ErrFolderNotFound], [ErrMessageNotFound], [ErrStale], [ErrInvalidID],
// [ErrThrottled], [ErrInvalidConfig], [ErrUnsupported] and [ErrClosed].
// Errors and log records never contain a password, a token or a query
// string, and the configuration types print their secrets as [REDACTED].
//
// # Logging
//
// Each configuration takes an optional *slog.Logger; nil discards. Records
// are Debug for connections and requests, Warn for retries, reconnects and
// changed UIDVALIDITY, and Info for quarantined messages with the reason.
//
// # Testing
//
// Package ewstest has an in-memory IMAP server, fake EWS and Graph
// endpoints, and the conformance suite that every connector passes.
package ews
