// Command crashrunner is the process the crash test kills: it runs the
// Ews2Case pipeline over an IMAP folder into TheHive, run after run, until a
// run finds nothing to do, and tells on its standard output, one JSON line
// per event (see crashtest.Event), which step of which email it is in.
//
// Usage:
//
//	CRASHTEST_IMAP_PASSWORD=... CRASHTEST_THEHIVE_KEY=... crashrunner \
//	    -imap 127.0.0.1:1143 -user soc -folder Inbox/Phishing -quarantine Inbox/Quarantine \
//	    -thehive http://127.0.0.1:9000 -concurrency 4
//
// The secrets come from the environment, not from flags, so that they do
// not show in the process list. It exits 0 once a run saw no message, 1 on
// an error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/internal/crashtest"
	"github.com/synapse-go/synapse/thehive"
	"github.com/synapse-go/synapse/workflow"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "crashrunner:", err)
		os.Exit(1)
	}
}

// run parses the flags, then runs the workflow until a run finds nothing.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("crashrunner", flag.ContinueOnError)
	addr := fs.String("imap", "", "IMAP server host:port (plain text)")
	user := fs.String("user", "", "IMAP user name")
	folder := fs.String("folder", "Inbox/Phishing", "folder of reported emails")
	quarantine := fs.String("quarantine", "Inbox/Quarantine", "folder for emails that keep failing")
	hive := fs.String("thehive", "", "TheHive base URL")
	concurrency := fs.Int("concurrency", 4, "emails handled at once")
	maxRuns := fs.Int("runs", 20, "give up after this many runs that each found messages")
	if err := fs.Parse(args); err != nil {
		return err
	}
	password, key := getenv("CRASHTEST_IMAP_PASSWORD"), getenv("CRASHTEST_THEHIVE_KEY")
	switch {
	case *addr == "" || *user == "" || *hive == "":
		return errors.New("-imap, -user and -thehive are required")
	case password == "" || key == "":
		return errors.New("CRASHTEST_IMAP_PASSWORD and CRASHTEST_THEHIVE_KEY must be set")
	case *concurrency < 1 || *maxRuns < 1:
		return errors.New("-concurrency and -runs must be positive")
	}

	em := crashtest.NewEmitter(stdout)
	mb, err := ews.NewIMAP(ews.IMAPConfig{
		Addr:       *addr,
		TLS:        ews.TLSNone,
		Username:   *user,
		Password:   password,
		Folders:    []string{*folder},
		Processed:  ews.Disposition{MarkRead: true, Category: crashtest.ProcessedKeyword},
		Quarantine: ews.Disposition{Category: crashtest.QuarantinedKeyword, MoveTo: *quarantine},
		MaxConns:   *concurrency + 2,
	})
	if err != nil {
		return err
	}
	defer mb.Close()
	th, err := thehive.NewClient(*hive, thehive.WithAPIKey(key),
		thehive.WithTimeout(30*time.Second),
		thehive.WithRetryPolicy(thehive.RetryPolicy{MinWait: 5 * time.Millisecond, MaxWait: 200 * time.Millisecond}))
	if err != nil {
		return err
	}

	cfg := workflow.MailConfig{
		Owner:       workflow.OwnerOptions{Fallback: crashtest.Owner},
		Observables: workflow.ObservableOptions{Tags: []string{"synapse"}},
		StepRetry:   workflow.RetryPolicy{MinWait: 5 * time.Millisecond, MaxWait: 200 * time.Millisecond},
		Concurrency: *concurrency,
	}
	// Ews2Case, with every step attempt and every acknowledgement told on
	// stdout.
	p := workflow.Ews2CasePipeline(th, cfg).Use(func(step string, next workflow.Handler) workflow.Handler {
		return func(ctx context.Context) error {
			em.Emit(crashtest.Event{Kind: "begin", Step: step})
			err := next(ctx)
			em.Emit(crashtest.Event{Kind: "end", Step: step, Err: errString(err)})
			return err
		}
	})
	em.Emit(crashtest.Event{Kind: "pipeline", Steps: p.Steps()})
	r := workflow.NewMailRunner("ews2case", &tellingMailbox{Mailbox: mb, em: em}, p, cfg)
	r.RetryWait = 10 * time.Millisecond
	process := r.Process
	r.Process = func(ctx context.Context, msg ews.Message) (workflow.Outcome, error) {
		o, err := process(ctx, msg)
		outcome := o.String()
		if err != nil {
			outcome = "failed"
		}
		em.Emit(crashtest.Event{Kind: "item", Outcome: outcome, Err: errString(err)})
		return o, err
	}

	for range *maxRuns {
		rep, err := r.Run(ctx)
		if err != nil {
			return err
		}
		if rep.Seen == 0 {
			em.Emit(crashtest.Event{Kind: "idle"})
			return nil
		}
		em.Emit(crashtest.Event{Kind: "run", Seen: rep.Seen, Done: rep.Done()})
	}
	return fmt.Errorf("%d runs and messages are still left", *maxRuns)
}

// tellingMailbox tells when a message is being marked processed: the last
// thing done for it.
type tellingMailbox struct {
	ews.Mailbox
	em *crashtest.Emitter
}

func (t *tellingMailbox) MarkProcessed(ctx context.Context, msg ews.Message) error {
	t.em.Emit(crashtest.Event{Kind: "begin", Step: crashtest.MarkStep})
	err := t.Mailbox.MarkProcessed(ctx, msg)
	t.em.Emit(crashtest.Event{Kind: "end", Step: crashtest.MarkStep, Err: errString(err)})
	return err
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
