package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Job is a named workflow that a Scheduler runs.
type Job interface {
	// Name names the job; names are unique within a Scheduler.
	Name() string
	// Run runs the job once.
	Run(ctx context.Context) (Report, error)
}

// JobFunc adapts a function to Job.
func JobFunc(name string, run func(ctx context.Context) (Report, error)) Job {
	return jobFunc{name: name, run: run}
}

type jobFunc struct {
	name string
	run  func(ctx context.Context) (Report, error)
}

func (j jobFunc) Name() string                            { return j.name }
func (j jobFunc) Run(ctx context.Context) (Report, error) { return j.run(ctx) }

// ParseSchedule parses a schedule: a Go duration ("90s", "5m") meaning
// "every", a descriptor ("@every 5m", "@hourly") or a five-field cron
// expression ("*/10 * * * *"). An empty spec means "only when triggered".
func ParseSchedule(spec string) (cron.Schedule, error) {
	if spec == "" {
		return nil, nil
	}
	if d, err := time.ParseDuration(spec); err == nil {
		if d < time.Second {
			return nil, fmt.Errorf("schedule %q: the interval must be at least 1s", spec)
		}
		return cron.Every(d), nil
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	return s, nil
}

// ErrRunning is returned when a job is asked to run while it is running.
var ErrRunning = errors.New("workflow: the job is already running")

// ErrStopped is returned when a job is asked to run after Stop.
var ErrStopped = errors.New("workflow: the scheduler is stopped")

// ErrUnknownJob is returned for a job name the scheduler does not have.
var ErrUnknownJob = errors.New("workflow: no such job")

// JobStatus is what a Scheduler knows of one job.
type JobStatus struct {
	// Name is the job's name.
	Name string `json:"name"`
	// Schedule is the schedule as configured ("" when only triggered).
	Schedule string `json:"schedule,omitempty"`
	// Running tells whether a run is in progress.
	Running bool `json:"running"`
	// Runs and Failures count the runs since the scheduler started and
	// those that returned an error.
	Runs     int `json:"runs"`
	Failures int `json:"failures"`
	// Last is the last finished run's report and LastError its error.
	Last      *Report `json:"last,omitempty"`
	LastError string  `json:"last_error,omitempty"`
	// Next is when the next scheduled run is due (zero when none).
	Next time.Time `json:"next,omitzero"`
}

// Scheduler runs jobs on their schedules and on demand, one run of a job at
// a time.
type Scheduler struct {
	logger *slog.Logger
	mu     sync.Mutex
	jobs   []*scheduledJob
	wg     sync.WaitGroup
	// OnRun, when set, is called after every run (for metrics).
	onRun   func(JobStatus, Report, error)
	started bool
	stopped bool
	stop    context.CancelFunc // ends the schedule loops and the runs
	runCtx  context.Context
}

type scheduledJob struct {
	job      Job
	spec     string
	schedule cron.Schedule
	running  chan struct{} // holds a token while a run is in progress
	status   JobStatus
}

// NewScheduler returns an empty Scheduler. onRun, if not nil, is called after
// every run; logger may be nil.
func NewScheduler(logger *slog.Logger, onRun func(JobStatus, Report, error)) *Scheduler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{logger: logger, onRun: onRun}
}

// Add registers job with a schedule spec (see ParseSchedule). It must be
// called before Start.
func (s *Scheduler) Add(job Job, spec string) error {
	sched, err := ParseSchedule(spec)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("workflow: jobs must be added before the scheduler starts")
	}
	if slices.ContainsFunc(s.jobs, func(j *scheduledJob) bool { return j.job.Name() == job.Name() }) {
		return fmt.Errorf("workflow: two jobs are named %q", job.Name())
	}
	s.jobs = append(s.jobs, &scheduledJob{
		job: job, spec: spec, schedule: sched,
		running: make(chan struct{}, 1),
		status:  JobStatus{Name: job.Name(), Schedule: spec},
	})
	return nil
}

// Start starts running the scheduled jobs until Stop. Runs get a context
// derived from ctx.
func (s *Scheduler) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return
	}
	s.started = true
	s.runCtx, s.stop = context.WithCancel(ctx)
	for _, j := range s.jobs {
		if j.schedule == nil {
			continue
		}
		s.wg.Add(1)
		go s.loop(s.runCtx, j)
	}
}

// Stop stops scheduling and waits for the runs in progress, which see their
// context end and finish their current items (see Runner.DrainTimeout), or
// until ctx ends.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopped = true
	if s.stop != nil {
		s.stop()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Scheduler) loop(ctx context.Context, j *scheduledJob) {
	defer s.wg.Done()
	for {
		next := j.schedule.Next(time.Now())
		s.mu.Lock()
		j.status.Next = next
		s.mu.Unlock()
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if _, err := s.run(ctx, j); errors.Is(err, ErrRunning) {
			s.logger.Info("scheduled run skipped: the previous run is still going", "workflow", j.job.Name())
		}
	}
}

// Run runs the named job now and returns its report. It returns ErrRunning
// at once when the job is already running, and ErrUnknownJob for a name the
// scheduler does not have.
func (s *Scheduler) Run(ctx context.Context, name string) (Report, error) {
	j := s.find(name)
	if j == nil {
		return Report{}, fmt.Errorf("%w: %q", ErrUnknownJob, name)
	}
	return s.run(ctx, j)
}

func (s *Scheduler) run(ctx context.Context, j *scheduledJob) (Report, error) {
	select {
	case j.running <- struct{}{}:
	default:
		return Report{}, ErrRunning
	}
	defer func() { <-j.running }()
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return Report{}, ErrStopped
	}
	if s.runCtx != nil {
		// A triggered run also ends when the scheduler stops.
		var cancel context.CancelFunc
		ctx, cancel = mergeCancel(ctx, s.runCtx)
		defer cancel()
	}
	s.wg.Add(1)
	defer s.wg.Done()
	j.status.Running = true
	s.mu.Unlock()

	s.logger.Info("workflow run started", "workflow", j.job.Name())
	rep, err := j.job.Run(ctx)

	s.mu.Lock()
	j.status.Running = false
	j.status.Runs++
	j.status.Last = &rep
	j.status.LastError = ""
	if err != nil {
		j.status.Failures++
		j.status.LastError = err.Error()
	}
	st := j.status
	s.mu.Unlock()

	attrs := []any{"workflow", j.job.Name(), "seen", rep.Seen, "created", rep.Created, "updated", rep.Updated,
		"skipped", rep.Skipped, "failed", rep.Failed, "quarantined", rep.Quarantined, "duration", rep.Duration}
	if err != nil {
		s.logger.Error("workflow run failed", append(attrs, "error", err.Error())...)
	} else {
		s.logger.Info("workflow run done", attrs...)
	}
	if s.onRun != nil {
		s.onRun(st, rep, err)
	}
	return rep, err
}

func (s *Scheduler) find(name string) *scheduledJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		if j.job.Name() == name {
			return j
		}
	}
	return nil
}

// Status returns the status of every job, in the order they were added.
func (s *Scheduler) Status() []JobStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]JobStatus, len(s.jobs))
	for i, j := range s.jobs {
		out[i] = j.status
		if j.status.Last != nil {
			last := *j.status.Last
			out[i].Last = &last
		}
	}
	return out
}

// mergeCancel returns a context with a's values that ends when a or b ends.
func mergeCancel(a, b context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(a)
	stop := context.AfterFunc(b, func() { cancel(context.Cause(b)) })
	return ctx, func() { stop(); cancel(context.Canceled) }
}
