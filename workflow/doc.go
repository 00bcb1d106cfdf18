// Package workflow chains connector calls into pipelines and runs them
// reliably over the items of a source: the mail-to-case pipeline
// (Ews2Case), its alert variant (Ews2Alert), QRadar2Alert, closing QRadar
// offenses when TheHive closes their case, and the synapse server that
// runs them from one YAML file.
//
// # Steps, pipelines, middleware
//
// A [Step] is a small named unit of work on the state of one item (a
// [Mail], an offense). Steps chain into a [Pipeline], which is itself a
// Step; [Middleware] wraps every step of a pipeline: [Retry] (jittered
// backoff on transient errors, see [IsTransient]), [Timeout], [Logging],
// [Observe] (metrics). A step of one's own is a function:
//
//	vip := workflow.NewStep("flag-vip", func(ctx context.Context, m *workflow.Mail) error {
//		...
//	})
//	p := workflow.NewPipeline("my-mail", workflow.ParseMail(opts), vip, ...)
//
// # Running
//
// A [Runner] takes items from a [Source] with bounded concurrency, runs the
// pipeline on each, and acknowledges an item (marks a mail processed) only
// after every step succeeded. An item failing with a permanent error is
// retried, then quarantined with the reason after MaxAttempts; an item
// failing with a transient error (TheHive down) is left for the next run.
// Every step is idempotent, so this at-least-once processing has the effect
// of exactly-once: a crash or a failing server at any point, then a rerun,
// duplicates nothing and loses nothing.
//
// # Mail to case
//
// [Ews2Case] reads a mailbox (EWS, Graph or IMAP, see package ews): each
// message is parsed as a stream ([ParseMail]); messages of one thread are
// handled in the order listed ([WaitForThread]); the thread's case is found
// by the hashed keys of its messages, stored as tags, through the query
// API ([FindThreadCase]), or created from the first message with its owner
// taken from the message's category ([ResolveOwner], [CreateCase]); the
// message becomes a log of the "Communication" task with the original .eml
// attached ([EnsureTask], [AddMailLog]); its indicators and attachments
// become observables, streamed from the mailbox ([AddMailObservables]).
// [Ews2Alert] makes one alert per message instead ([CreateMailAlert]).
//
// # QRadar to alert, and back
//
// [QRadar2Alert] turns QRadar offenses into TheHive alerts, identified by
// (type, source, offense id) with the source naming the console
// ([QRadarAlertSource]: "QRadar_Offenses:<instance>", so several consoles
// feed one TheHive; the original's plain "QRadar_Offenses" when no
// instance is named). Offenses are paged, enriched in batches (types,
// addresses, rules, domains), given their first events through an Ariel
// search, and an alert is updated when its offense changed. Each run takes
// the offenses changed since an in-memory watermark; RunTimerange serves
// the original "POST /QRadar2alert {timerange}".
//
// [OffenseCloser] closes the loop: given TheHive's notifications (TheHive
// 3, 4 and 5), it closes the still-open offenses of a closed case's alerts,
// those of cases merged into it included, with a closing reason mapped
// from the case's resolution and a note naming the case.
//
// # The server
//
// [LoadConfig] reads the YAML configuration (TheHive, named sources, named
// workflows, secrets from the environment); [NewApp] wires it; [App.Serve]
// runs the schedules and the HTTP API, which keeps the original Synapse
// endpoints. See examples/synapse.
package workflow
