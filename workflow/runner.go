package workflow

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// Source is where a runner takes its items from: a mailbox, a SIEM's
// offense list, anything a user plugs in.
type Source[I any] interface {
	// Items yields the items waiting to be processed. It should stop at the
	// first error.
	Items(ctx context.Context) iter.Seq2[I, error]
	// Ack records that item was fully processed (a mail is marked
	// processed); it is called only after every step succeeded.
	Ack(ctx context.Context, item I) error
	// Quarantine sets aside an item that keeps failing, with the reason, so
	// it never blocks the others.
	Quarantine(ctx context.Context, item I, reason string) error
}

// Outcome is what processing one item did.
type Outcome int

// Outcomes reported by a runner's Process function.
const (
	// Skipped means everything the item would produce already existed (a
	// rerun after a crash, a duplicate).
	Skipped Outcome = iota
	// Created means the item produced a new object (a case, an alert).
	Created
	// Updated means the item added to or changed an existing object.
	Updated
)

// String returns the outcome's name.
func (o Outcome) String() string {
	switch o {
	case Skipped:
		return "skipped"
	case Created:
		return "created"
	case Updated:
		return "updated"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Runner processes the items of a Source with bounded concurrency. An item is
// acknowledged only after Process succeeded; an item that fails with a
// permanent error MaxAttempts times (within one run or over several runs of
// the same Runner) is quarantined with the reason; an item that fails with a
// transient error is left for the next run. Runs of one Runner never overlap.
//
// The fields must be set before the first Run and not changed afterwards.
type Runner[I any] struct {
	// Name names the workflow in logs and reports.
	Name string
	// Source provides, acknowledges and quarantines items.
	Source Source[I]
	// Process does the work for one item. It must be idempotent.
	Process func(ctx context.Context, item I) (Outcome, error)
	// Key identifies an item across runs (a message id, an offense id).
	Key func(I) string
	// Concurrency is how many items are processed at once (default 4).
	Concurrency int
	// MaxAttempts is how many failed attempts quarantine an item (default
	// 3). Attempts within a run wait RetryWait between them (default 1s,
	// doubling).
	MaxAttempts int
	RetryWait   time.Duration
	// StopAfterFailures ends a run early once that many items in a row
	// failed with transient errors: the server behind them is likely down.
	// Zero means 25; a negative number never stops.
	StopAfterFailures int
	// DrainTimeout is how long items in progress may still run once Run's
	// context is done (default 30s); no new item starts.
	DrainTimeout time.Duration
	// Logger receives a record per item (nil: no logs).
	Logger *slog.Logger

	runMu    sync.Mutex
	mu       sync.Mutex
	failures map[string]int // permanent failures per key, across runs
}

// Report sums up one run.
type Report struct {
	// Workflow is the runner's name.
	Workflow string `json:"workflow"`
	// Started and Duration time the run.
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"`
	// Seen counts the items listed; the others count what became of them.
	Seen        int `json:"seen"`
	Created     int `json:"created"`
	Updated     int `json:"updated"`
	Skipped     int `json:"skipped"`
	Failed      int `json:"failed"`
	Quarantined int `json:"quarantined"`
	// Errors holds the first failures, at most MaxReportErrors of them.
	Errors []ItemError `json:"errors,omitempty"`
	// Stopped says why the run ended early, if it did.
	Stopped string `json:"stopped,omitempty"`
}

// MaxReportErrors caps Report.Errors.
const MaxReportErrors = 50

// ItemError is the failure of one item.
type ItemError struct {
	// Key is the item's key.
	Key string `json:"key"`
	// Error is what went wrong.
	Error string `json:"error"`
	// Quarantined tells whether the item was set aside.
	Quarantined bool `json:"quarantined"`
}

// Rate returns the items seen per second.
func (r Report) Rate() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Seen) / r.Duration.Seconds()
}

// Done counts the items that were processed successfully.
func (r Report) Done() int { return r.Created + r.Updated + r.Skipped }

func (r *Runner[I]) concurrency() int {
	if r.Concurrency <= 0 {
		return 4
	}
	return r.Concurrency
}

func (r *Runner[I]) maxAttempts() int {
	if r.MaxAttempts <= 0 {
		return 3
	}
	return r.MaxAttempts
}

func (r *Runner[I]) log(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if r.Logger != nil {
		r.Logger.LogAttrs(ctx, level, msg, append([]slog.Attr{slog.String("workflow", r.Name)}, attrs...)...)
	}
}

// Run processes every item the source yields and returns the run's report.
// The error is the source's (listing failed) or the context's; failures of
// single items are counted in the report, not returned.
//
// When ctx ends, no new item starts and the items in progress get
// DrainTimeout to finish.
func (r *Runner[I]) Run(ctx context.Context) (Report, error) {
	if r.Source == nil || r.Process == nil || r.Key == nil {
		return Report{}, errors.New("workflow: runner needs a Source, a Process and a Key function")
	}
	r.runMu.Lock()
	defer r.runMu.Unlock()

	rep := Report{Workflow: r.Name, Started: time.Now()}
	var repMu sync.Mutex

	// Items in progress outlive ctx by at most DrainTimeout.
	itemCtx, cancelItems := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelItems()
	drain := r.DrainTimeout
	if drain <= 0 {
		drain = 30 * time.Second
	}
	stopDrain := context.AfterFunc(ctx, func() { time.AfterFunc(drain, cancelItems) })
	defer stopDrain()

	// dispatchCtx ends on ctx or when too many failures in a row stop the run.
	dispatchCtx, stopDispatch := context.WithCancel(ctx)
	defer stopDispatch()
	stopAfter := r.StopAfterFailures
	if stopAfter == 0 {
		stopAfter = 25
	}
	consecutive := 0

	work := make(chan I)
	var wg sync.WaitGroup
	for range r.concurrency() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for item := range work {
				res := r.processItem(itemCtx, item)
				repMu.Lock()
				rep.add(res)
				if res.transient {
					consecutive++
					if stopAfter > 0 && consecutive >= stopAfter && rep.Stopped == "" {
						rep.Stopped = fmt.Sprintf("%d items in a row failed with transient errors; the rest is left for the next run", consecutive)
						stopDispatch()
					}
				} else if res.err == nil {
					consecutive = 0
				}
				repMu.Unlock()
			}
		}()
	}

	var listErr error
	for item, err := range r.Source.Items(dispatchCtx) {
		if err == nil && dispatchCtx.Err() != nil {
			break // listed as the run was stopping: left for the next run
		}
		if err != nil {
			listErr = err
			break
		}
		select {
		case work <- item:
			repMu.Lock()
			rep.Seen++
			repMu.Unlock()
			continue
		case <-dispatchCtx.Done():
			// Listed but never started: it will be listed again.
		}
		break
	}
	close(work)
	wg.Wait()
	rep.Duration = time.Since(rep.Started)

	if ctx.Err() != nil {
		return rep, ctx.Err()
	}
	if listErr != nil && dispatchCtx.Err() == nil {
		return rep, fmt.Errorf("workflow %s: listing items: %w", r.Name, listErr)
	}
	return rep, nil
}

// itemResult is what became of one item.
type itemResult struct {
	key         string
	outcome     Outcome
	err         error
	transient   bool
	quarantined bool
}

func (rep *Report) add(res itemResult) {
	switch {
	case res.quarantined:
		rep.Quarantined++
	case res.err != nil:
		rep.Failed++
	case res.outcome == Created:
		rep.Created++
	case res.outcome == Updated:
		rep.Updated++
	default:
		rep.Skipped++
	}
	if res.err != nil && len(rep.Errors) < MaxReportErrors {
		rep.Errors = append(rep.Errors, ItemError{Key: res.key, Error: res.err.Error(), Quarantined: res.quarantined})
	}
}

// processItem runs Process on item until it succeeds, fails transiently,
// or fails permanently often enough to be quarantined.
func (r *Runner[I]) processItem(ctx context.Context, item I) itemResult {
	key := r.Key(item)
	res := itemResult{key: key}
	wait := r.RetryWait
	if wait <= 0 {
		wait = time.Second
	}
	for {
		start := time.Now()
		outcome, err := r.process(ctx, item)
		if err == nil {
			if aerr := r.Source.Ack(ctx, item); aerr != nil {
				res.err, res.transient = fmt.Errorf("acknowledging: %w", aerr), true
				r.log(ctx, slog.LevelWarn, "item done but not acknowledged", slog.String("item", key), slog.String("error", aerr.Error()))
				return res
			}
			r.forget(key)
			res.outcome, res.err = outcome, nil
			r.log(ctx, slog.LevelInfo, "item done", slog.String("item", key),
				slog.String("outcome", outcome.String()), slog.Duration("duration", time.Since(start)))
			return res
		}
		res.err = err
		if ctx.Err() != nil || IsTransient(err) {
			res.transient = true
			r.log(ctx, slog.LevelWarn, "item failed, left for the next run", slog.String("item", key), slog.String("error", err.Error()))
			return res
		}
		attempts := r.countFailure(key)
		if attempts >= r.maxAttempts() {
			reason := fmt.Sprintf("failed %d times: %v", attempts, err)
			if qerr := r.Source.Quarantine(ctx, item, reason); qerr != nil {
				res.err = fmt.Errorf("%w; quarantining it failed too: %v", err, qerr)
				r.log(ctx, slog.LevelError, "item could not be quarantined", slog.String("item", key), slog.String("error", res.err.Error()))
				return res
			}
			r.forget(key)
			res.quarantined = true
			r.log(ctx, slog.LevelWarn, "item quarantined", slog.String("item", key), slog.String("reason", reason))
			return res
		}
		r.log(ctx, slog.LevelWarn, "item failed, trying again", slog.String("item", key),
			slog.Int("attempt", attempts), slog.String("error", err.Error()))
		if serr := sleep(ctx, wait); serr != nil {
			res.transient = true
			return res
		}
		wait *= 2
	}
}

// process runs Process, turning a panic into a permanent error so that a
// bug triggered by one item sets that item aside instead of stopping the
// run.
func (r *Runner[I]) process(ctx context.Context, item I) (outcome Outcome, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log(ctx, slog.LevelError, "item processing panicked", slog.String("item", r.Key(item)),
				slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
			err = Permanent(fmt.Errorf("panic: %v", p))
		}
	}()
	return r.Process(ctx, item)
}

func (r *Runner[I]) countFailure(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failures == nil {
		r.failures = make(map[string]int)
	}
	r.failures[key]++
	return r.failures[key]
}

func (r *Runner[I]) forget(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.failures, key)
}
