// Package mailkit makes reported emails and puts them in, and reads them
// back from, an IMAP mailbox, for the proofs of the mail-to-case workflow:
// the end-to-end tests against Dovecot, the crash test and the benchmark.
//
// # Emails
//
// [Generate] returns a reproducible batch of reported emails of the kinds a
// SOC mailbox receives (credential phishing, fake invoices, parcel notices,
// CEO fraud): each names a few indicators (URLs, some defanged, addresses,
// IPs, domains), some carry an attachment, and some answer an earlier one,
// so that they form threads. Every [Message] tells what a mail-to-case
// workflow must make of it: its Message-ID, the thread it belongs to, the
// SHA-256 of its raw bytes and of each attachment.
//
// [Big] streams one email whose attachment is as large as asked, without
// holding it in memory, and tells the attachment's size and SHA-256 in
// advance.
//
// # Mailboxes
//
// A [Store] talks plain IMAP to a server on loopback (a test Dovecot, or the
// in-memory server of package ewstest): it creates folders, appends
// messages with their keywords over one connection, and inspects a folder
// read-only, hashing each message as it streams by, so that a test can
// check what was marked, moved or left behind without trusting the client
// under test.
package mailkit
