package workflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/thehive"
)

// Version is the synapse server's version, as GET /version reports it.
const Version = "2.0.0"

// App is a configuration brought to life: TheHive's client, the sources'
// clients, and every workflow as a job of a Scheduler. NewApp does no I/O;
// Serve runs the HTTP API and the schedules.
type App struct {
	cfg     *Config
	logger  *slog.Logger
	th      *thehive.Client
	sched   *Scheduler
	metrics *Metrics
	closers []io.Closer
	// byType lists the workflows' names by type, in file order.
	byType map[string][]string
	// webhook handles a TheHive notification; nil when no workflow does.
	webhook func(ctx context.Context, e *thehive.Event) (action string, err error)
	// qradars holds one client per QRadar source; qradarJobs and
	// closersByName the QRadar workflows.
	qradars       map[string]*qradar.Client
	qradarJobs    []*QRadar2Alert
	closersByName []*OffenseCloser
}

// NewLogger returns the logger a server configuration asks for, writing to
// w.
func NewLogger(s ServerConfig, w io.Writer) *slog.Logger {
	level := map[string]slog.Level{"debug": slog.LevelDebug, "warn": slog.LevelWarn, "error": slog.LevelError}[s.LogLevel]
	opts := &slog.HandlerOptions{Level: level}
	if s.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// NewApp builds the clients and workflows cfg describes, without I/O.
// logger may be nil (no logs).
func NewApp(cfg *Config, logger *slog.Logger) (*App, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &App{cfg: cfg, logger: logger, metrics: NewMetrics(), byType: map[string][]string{}, qradars: map[string]*qradar.Client{}}
	a.sched = NewScheduler(logger, func(st JobStatus, rep Report, err error) {
		a.metrics.RecordRun(st.Name, rep, err)
	})
	th, err := cfg.TheHiveClient(logger.With("client", "thehive"))
	if err != nil {
		return nil, err
	}
	a.th = th
	for _, w := range cfg.Workflows {
		if err := a.addWorkflow(w); err != nil {
			a.Close()
			return nil, fmt.Errorf("workflow %s: %w", w.Name, err)
		}
		a.byType[w.Type] = append(a.byType[w.Type], w.Name)
	}
	return a, nil
}

func (a *App) addWorkflow(w *WorkflowConfig) error {
	logger := a.logger.With("workflow", w.Name)
	switch w.Type {
	case WorkflowEws2Case, WorkflowEws2Alert:
		mb, err := a.cfg.Mailbox(w, logger)
		if err != nil {
			return err
		}
		a.closers = append(a.closers, mb)
		mc, err := w.MailConfig(logger)
		if err != nil {
			return err
		}
		mc.Middleware = []Middleware{a.metrics.StepMiddleware(w.Name)}
		var r *Runner[ews.Message]
		if w.Type == WorkflowEws2Case {
			r = Ews2Case(mb, a.th, mc)
		} else {
			r = Ews2Alert(mb, a.th, mc)
		}
		return a.sched.Add(a.instrument(w.Name, r.Run), w.Schedule)
	case WorkflowQRadar2Alert:
		return a.addQRadar(w, logger)
	case WorkflowCloseOffenses:
		return a.addCloser(w, logger)
	}
	return fmt.Errorf("unknown type %q", w.Type)
}

// instrument makes a job of a run function that keeps the running gauge.
func (a *App) instrument(name string, run func(context.Context) (Report, error)) Job {
	return JobFunc(name, func(ctx context.Context) (Report, error) {
		a.metrics.SetRunning(name, true)
		defer a.metrics.SetRunning(name, false)
		return run(ctx)
	})
}

// Scheduler returns the app's scheduler, which holds every workflow.
func (a *App) Scheduler() *Scheduler { return a.sched }

// Metrics returns the app's metrics.
func (a *App) Metrics() *Metrics { return a.metrics }

// TheHive returns the app's TheHive client.
func (a *App) TheHive() *thehive.Client { return a.th }

// Workflows returns the names of the configured workflows of a type, in
// file order.
func (a *App) Workflows(typ string) []string { return a.byType[typ] }

// Close closes the app's connections.
func (a *App) Close() error {
	var errs []error
	for _, c := range a.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// RunOnce runs the named workflows once each, in order, and returns their
// reports: what a one-shot command does. No name means every workflow that
// runs on its own (all but close_offenses).
func (a *App) RunOnce(ctx context.Context, names ...string) ([]Report, error) {
	if len(names) == 0 {
		for _, w := range a.cfg.Workflows {
			if w.Type != WorkflowCloseOffenses {
				names = append(names, w.Name)
			}
		}
	}
	var reports []Report
	for _, name := range names {
		rep, err := a.sched.Run(ctx, name)
		reports = append(reports, rep)
		if err != nil {
			return reports, fmt.Errorf("workflow %s: %w", name, err)
		}
	}
	return reports, nil
}

// PrintReport writes a one-line summary of a run.
func PrintReport(w io.Writer, rep Report) {
	fmt.Fprintf(w, "%s: %d seen, %d created, %d updated, %d skipped, %d failed, %d quarantined in %v (%.1f/s)\n",
		rep.Workflow, rep.Seen, rep.Created, rep.Updated, rep.Skipped, rep.Failed, rep.Quarantined,
		rep.Duration.Round(1e6), rep.Rate())
	for _, e := range rep.Errors {
		state := "failed"
		if e.Quarantined {
			state = "quarantined"
		}
		fmt.Fprintf(w, "  %s %s: %s\n", state, e.Key, strings.ReplaceAll(e.Error, "\n", " "))
	}
}
