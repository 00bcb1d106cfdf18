package workflow

import (
	"context"
	"log/slog"
	"time"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/thehive"
)

// defaultStepTimeout bounds a step's attempt: room for a large attachment.
const defaultStepTimeout = 10 * time.Minute

// MailConfig configures the mail workflows, Ews2Case and Ews2Alert. The
// zero value works: cases titled after the thread subject with a
// "Communication" task, every observable extracted, no owner.
type MailConfig struct {
	// Name names the workflow in logs and reports (default "ews2case" or
	// "ews2alert").
	Name string
	// Mail tunes parsing and the keys stored in TheHive.
	Mail MailOptions
	// Case holds the defaults of new cases (Ews2Case).
	Case CaseOptions
	// Owner says who owns new cases (Ews2Case).
	Owner OwnerOptions
	// Alert holds the fields of new alerts (Ews2Alert).
	Alert AlertOptions
	// Observables says which observables are added.
	Observables ObservableOptions
	// StepRetry retries each step on transient errors (TheHive overloaded
	// or unreachable for a moment); see RetryPolicy for the defaults.
	StepRetry RetryPolicy
	// StepTimeout bounds each attempt of a step (default 10 minutes, room
	// for a large attachment).
	StepTimeout time.Duration
	// Concurrency is how many messages are handled at once (default 4).
	Concurrency int
	// MaxAttempts quarantines a message after that many failed attempts
	// (default 3).
	MaxAttempts int
	// Logger receives the runner's and the steps' records; nil discards
	// them.
	Logger *slog.Logger
	// Middleware wraps every step, outside the retries (metrics, tracing).
	Middleware []Middleware
}

func (c *MailConfig) middleware() []Middleware {
	timeout := c.StepTimeout
	if timeout <= 0 {
		timeout = defaultStepTimeout
	}
	mw := []Middleware{}
	if c.Logger != nil {
		mw = append(mw, Logging(c.Logger))
	}
	mw = append(mw, c.Middleware...)
	return append(mw, Retry(c.StepRetry), Timeout(timeout))
}

// Ews2CasePipeline returns the steps of Ews2Case: parse the message, wait
// for the earlier messages of its thread, find the thread's case or create it (assigned from
// the message's category), ensure the communication task, log the message
// with the original attached, add the observables.
func Ews2CasePipeline(th *thehive.Client, cfg MailConfig) *Pipeline[Mail] {
	if cfg.Observables.Logger == nil {
		cfg.Observables.Logger = cfg.Logger
	}
	return NewPipeline("ews2case",
		ParseMail(cfg.Mail),
		WaitForThread(),
		FindThreadCase(th),
		ResolveOwner(th, cfg.Owner),
		CreateCase(th, cfg.Case),
		EnsureTask(th, cfg.Case),
		AddMailLog(th),
		AddMailObservables(th, cfg.Observables),
	).Use(cfg.middleware()...)
}

// Ews2AlertPipeline returns the steps of Ews2Alert: parse the message and
// create an alert from it, with its observables, unless TheHive has it.
func Ews2AlertPipeline(th *thehive.Client, cfg MailConfig) *Pipeline[Mail] {
	return NewPipeline("ews2alert",
		ParseMail(cfg.Mail),
		CreateMailAlert(th, cfg.Alert, cfg.Observables),
	).Use(cfg.middleware()...)
}

// Ews2Case returns a runner that turns every unprocessed message of mb into
// a case, or a task log of its thread's existing case, and marks it
// processed only once every step succeeded.
func Ews2Case(mb ews.Mailbox, th *thehive.Client, cfg MailConfig) *Runner[ews.Message] {
	if cfg.Name == "" {
		cfg.Name = "ews2case"
	}
	return NewMailRunner(cfg.Name, mb, Ews2CasePipeline(th, cfg), cfg)
}

// Ews2Alert returns a runner that turns every unprocessed message of mb
// into an alert (sourceRef = Message-ID), for teams that triage alerts
// first.
func Ews2Alert(mb ews.Mailbox, th *thehive.Client, cfg MailConfig) *Runner[ews.Message] {
	if cfg.Name == "" {
		cfg.Name = "ews2alert"
	}
	return NewMailRunner(cfg.Name, mb, Ews2AlertPipeline(th, cfg), cfg)
}

// NewMailRunner returns a runner that runs pipeline p on every unprocessed
// message of mb: the way to run a mail pipeline of one's own. Concurrency,
// MaxAttempts and Logger are taken from cfg.
func NewMailRunner(name string, mb ews.Mailbox, p Step[Mail], cfg MailConfig) *Runner[ews.Message] {
	src := &mailSource{mb: mb}
	return &Runner[ews.Message]{
		Name:   name,
		Source: src,
		Key:    func(m ews.Message) string { return string(m.ID) },
		Process: func(ctx context.Context, msg ews.Message) (Outcome, error) {
			m := src.newMail(msg)
			defer m.Release()
			err := p.Run(ctx, m)
			return m.Outcome, err
		},
		Concurrency: cfg.Concurrency,
		MaxAttempts: cfg.MaxAttempts,
		Logger:      cfg.Logger,
	}
}
