// Package dovecot runs a private Dovecot IMAP server for tests and test
// programs: its own configuration, users and maildir store in one
// directory, on free loopback ports, touching no system state.
//
// Tests call [Start], which skips the test when Dovecot is not installed,
// unless CI=true, when it fails instead. Programs that have no
// *testing.T (an end-to-end or crash test driver) call [Launch] and
// [Server.Stop].
//
// It needs Debian's dovecot-imapd (apt-get install dovecot-imapd). Run as
// root, as CI does, it stores mail as the "vmail" system user (created when
// missing) and runs the login processes as Debian's dovenull and dovecot
// users, since Dovecot refuses to run them as root; run as another user, it
// runs everything as that user.
//
// [NewCertificate] makes a self-signed certificate for the TLS and STARTTLS
// listeners and for in-process test servers.
package dovecot
