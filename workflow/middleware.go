package workflow

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// RetryPolicy says how the Retry middleware retries a failing step.
type RetryPolicy struct {
	// Attempts is the total number of runs of the step, the first included
	// (default 5).
	Attempts int
	// MinWait is the first wait (default 250ms); each further wait doubles,
	// with jitter, up to MaxWait (default 10s).
	MinWait time.Duration
	MaxWait time.Duration
	// Retryable decides which errors are worth another run (default
	// IsTransient).
	Retryable func(error) bool
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 5
	}
	if p.MinWait <= 0 {
		p.MinWait = 250 * time.Millisecond
	}
	if p.MaxWait <= 0 {
		p.MaxWait = 10 * time.Second
	}
	p.MaxWait = max(p.MaxWait, p.MinWait)
	if p.Retryable == nil {
		p.Retryable = IsTransient
	}
	return p
}

// wait returns the jittered wait before retry number n (0 for the first).
func (p RetryPolicy) wait(n int) time.Duration {
	step := p.MinWait
	for i := 0; i < n && step < p.MaxWait; i++ {
		step *= 2
	}
	step = min(step, p.MaxWait)
	return step/2 + rand.N(step/2+1)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retry runs a failing step again while its error is retryable, waiting
// between runs with jittered exponential backoff. Since the whole step runs
// again, the step must be idempotent, which every built-in step is.
func Retry(p RetryPolicy) Middleware {
	p = p.withDefaults()
	return func(_ string, next Handler) Handler {
		return func(ctx context.Context) error {
			var err error
			for attempt := 0; attempt < p.Attempts; attempt++ {
				if attempt > 0 {
					if serr := sleep(ctx, p.wait(attempt-1)); serr != nil {
						return fmt.Errorf("%w (while waiting to retry after: %v)", serr, err)
					}
				}
				if err = next(ctx); err == nil || !p.Retryable(err) {
					return err
				}
			}
			return err
		}
	}
}

// Timeout bounds every run of a step to d. A step that runs out of time
// fails with context.DeadlineExceeded, which IsTransient treats as worth a
// retry: put Timeout inside Retry (Use(Retry(p), Timeout(d))) to bound each
// attempt.
func Timeout(d time.Duration) Middleware {
	return func(_ string, next Handler) Handler {
		return func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			return next(ctx)
		}
	}
}

// Logging logs every run of a step: at Debug when it succeeds, at Warn
// when it fails.
func Logging(logger *slog.Logger) Middleware {
	return func(step string, next Handler) Handler {
		return func(ctx context.Context) error {
			start := time.Now()
			err := next(ctx)
			if err != nil {
				logger.LogAttrs(ctx, slog.LevelWarn, "step failed",
					slog.String("step", step), slog.Duration("duration", time.Since(start)),
					slog.String("error", err.Error()))
			} else {
				logger.LogAttrs(ctx, slog.LevelDebug, "step done",
					slog.String("step", step), slog.Duration("duration", time.Since(start)))
			}
			return err
		}
	}
}

// Observe calls fn after every run of a step with its name, duration and
// error: the hook for metrics.
func Observe(fn func(step string, d time.Duration, err error)) Middleware {
	return func(step string, next Handler) Handler {
		return func(ctx context.Context) error {
			start := time.Now()
			err := next(ctx)
			fn(step, time.Since(start), err)
			return err
		}
	}
}
