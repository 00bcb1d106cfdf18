// Command bench measures the mail-to-case pipeline (workflow.Ews2Case)
// against the targets of its design: throughput against a slow TheHive,
// and memory with a very large attachment.
//
// Run it by hand from the module root; it takes about five minutes with
// the defaults, most of them at concurrency 1:
//
//	go run ./internal/bench
//	go run ./internal/bench -n 1000 -latency 20ms -conc 1,16 -big 200
//	go run ./internal/bench -big 0                      # throughput only
//	go run ./internal/bench -n 0 -big 200 -imap memory  # large attachment only
//	go run ./internal/bench -cpuprofile cpu.out -memprofile mem.out
//
// # Throughput
//
// For each concurrency of -conc, a fresh in-memory IMAP server (package
// ewstest) holds -n reported emails (internal/crashtest/mailkit: a few
// indicators each, every fourth with a file, one in twenty answering an
// earlier one) and a fresh fake TheHive (package thehivetest) delays every
// request by -latency (SetLatency). Ews2Case runs until a run finds nothing
// left; the result is checked as the crash test checks it (every email
// logged once in its thread's case, its indicators and files added,
// nothing duplicated, every email marked). The program prints the emails
// per second, the TheHive requests per email (from the fake's request
// counters), and the ratio of the rate to the round-trip limit,
//
//	concurrency ÷ (requests per email × latency),
//
// which is the rate of a pipeline that does nothing but wait for TheHive.
// The targets are at least 90% of that limit at concurrency 16, and a
// speed-up of at least 10× from concurrency 1 to 16. To tell the pipeline's
// own cost from the machine's, it also prints each worker's wall time per
// call and the time of a bare call (GET /api/v1/user/current) made at the
// same concurrency against the same fake, and the breakdown of the calls
// per email by route.
//
// # Large attachment
//
// One email with an attachment of -big MiB (pseudo-random, so it does not
// compress; about 1.37 times that on the wire once base64-encoded) is
// streamed from IMAP to TheHive: a file observable of the attachment and a
// task log with the whole email attached. The fake TheHive runs as its
// standalone command (built with go build) and the IMAP server is Dovecot
// when installed (-imap auto or dovecot) or the in-memory server in a child
// process (-imap memory): neither lives in the measured process. The
// pipeline runs in a child process of its own that does nothing else, and
// reports its peak resident set size (VmHWM from /proc/self/status;
// getrusage's ru_maxrss would not do, since Linux carries the parent's peak
// into it across exec). The target is at most 64 MiB. The uploads are
// checked against the attachment's and the email's SHA-256.
//
// -cpuprofile and -memprofile profile the throughput runs in this process;
// the large-attachment child writes its own profiles next to them, with
// ".big" appended to the names.
package main
