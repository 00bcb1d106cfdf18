// Package ewstest provides in-process fakes of the servers that the ews
// connectors talk to, and a conformance suite that every [ews.Mailbox]
// implementation must pass.
//
// # Fakes
//
// [IMAPServer] is an IMAP server on a loopback port, built on go-imap's
// in-memory server, with users, folders and messages that tests and demo
// programs seed directly. The EWS and Graph fakes answer like Exchange's
// endpoints do, with the same XML namespaces, JSON shapes, paging and errors.
//
// # Conformance
//
// [RunConformance] runs the same checks against any mailbox: listing order
// and filtering, byte-exact streaming (a 50 MB message included),
// dispositions, quarantine, reconnects, context cancellation, concurrent use
// and the shared errors. A connector's test supplies a [Factory] that builds
// a fresh mailbox and a [Backend] that seeds and inspects the server behind
// it:
//
//	func TestConformance(t *testing.T) {
//		ewstest.RunConformance(t, func(t testing.TB, setup ewstest.Setup) ewstest.Harness {
//			// start or reuse a server, create setup.Create, build the mailbox
//		})
//	}
//
// [NewIMAPBackend] is a Backend for any IMAP server, used with [IMAPServer]
// and with a real Dovecot alike.
package ewstest
