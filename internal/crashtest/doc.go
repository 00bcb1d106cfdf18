// Package crashtest proves that the mail-to-case workflow loses and
// duplicates nothing when its process is killed at any point.
//
// # The test
//
// [Run] builds two commands: thehivetest's standalone fake TheHive
// (thehive/thehivetest/cmd/thehivetest, state in memory) and crashrunner
// (cmd/crashrunner, the Ews2Case pipeline run after run until a run finds
// nothing to do). It starts the fake and a private Dovecot
// (internal/dovecot), each in processes of its own, seeds a folder with
// reported emails (internal/crashtest/mailkit: phishing reports, some
// answering earlier ones, some with files), then starts crashrunner and
// kills it with SIGKILL after a delay drawn from a seed ([Delays]) and
// counted from the runner's first event (so that the time a machine takes
// to start a process does not decide where kills land), several times, and
// finally lets one run to the end. It then reads the fake's state
// through GET /_thehivetest/state and the folder through IMAP, and [Check]s
// that:
//
//   - every thread has exactly one case and every email exactly one log,
//     in its thread's case, with the original attached;
//   - every indicator and file of an email is an observable of its case,
//     and no case holds an observable, a task or a log twice;
//   - every email is marked processed and none was quarantined.
//
// The runner tells the driver on its standard output which steps are in
// flight ([Event], [Progress]), so that each kill is reported with the stage
// it interrupted.
//
// # Running it
//
// As a test (skipped with -short; skipped without Dovecot unless CI=true):
//
//	go test -race -run TestCrash ./internal/crashtest/
//
// As a program, with its knobs:
//
//	go run ./internal/crashtest/cmd/crashtest -emails 200 -kills 8 -seed 1 -v
//
// The delays are reproducible from the seed; where exactly each kill lands
// is not, since it depends on the machine's speed.
//
// # Shared checks
//
// [Snapshot] types what a fake TheHive holds, and [Snapshot.Problems]
// checks the promises that hold for any mail (no duplicates, nothing
// orphaned); the end-to-end tests of package workflow use them too.
package crashtest
