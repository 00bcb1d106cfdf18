package workflow

import (
	"context"
	"errors"
	"fmt"
)

// Step is a small named unit of work on the state S of one item: a mail
// being turned into a case, an offense being turned into an alert.
//
// Steps must be idempotent: the runner may run a step, or a whole pipeline,
// again after a failure or a crash, and running it twice must have the
// effect of running it once. The built-in steps achieve this by looking up
// what they would create (by a key stored on the created object) before
// creating it.
type Step[S any] interface {
	// Name names the step in logs, errors and metrics.
	Name() string
	// Run does the step's work on s.
	Run(ctx context.Context, s *S) error
}

type funcStep[S any] struct {
	name string
	fn   func(context.Context, *S) error
}

func (f funcStep[S]) Name() string                        { return f.name }
func (f funcStep[S]) Run(ctx context.Context, s *S) error { return f.fn(ctx, s) }

// NewStep returns a Step named name that runs fn.
func NewStep[S any](name string, fn func(ctx context.Context, s *S) error) Step[S] {
	return funcStep[S]{name: name, fn: fn}
}

// Handler is one run of a step, as middleware sees it.
type Handler func(ctx context.Context) error

// Middleware wraps every run of a step: a retry, a timeout, a log record, a
// metric. It sees the step's name and the rest of the chain, not the state,
// so one middleware serves pipelines of any state type.
type Middleware func(step string, next Handler) Handler

// Pipeline runs steps in order on one state, each wrapped by the pipeline's
// middleware, and stops at the first error. A Pipeline is itself a Step, so
// pipelines nest. Its zero value is an empty pipeline named "pipeline".
type Pipeline[S any] struct {
	name       string
	steps      []Step[S]
	middleware []Middleware
}

// NewPipeline returns a pipeline named name running steps in order.
func NewPipeline[S any](name string, steps ...Step[S]) *Pipeline[S] {
	return &Pipeline[S]{name: name, steps: steps}
}

// Then appends steps to p and returns p.
func (p *Pipeline[S]) Then(steps ...Step[S]) *Pipeline[S] {
	p.steps = append(p.steps, steps...)
	return p
}

// Use adds middleware to p and returns p. The first middleware added is the
// outermost: Use(Logging(l), Retry(r)) logs once per step, around all its
// attempts.
func (p *Pipeline[S]) Use(mw ...Middleware) *Pipeline[S] {
	p.middleware = append(p.middleware, mw...)
	return p
}

// Name implements Step.
func (p *Pipeline[S]) Name() string {
	if p.name == "" {
		return "pipeline"
	}
	return p.name
}

// Steps returns the names of p's steps, in order.
func (p *Pipeline[S]) Steps() []string {
	names := make([]string, len(p.steps))
	for i, s := range p.steps {
		names[i] = s.Name()
	}
	return names
}

// Run implements Step: it runs every step in order and returns the first
// error as a *StepError naming the step.
func (p *Pipeline[S]) Run(ctx context.Context, s *S) error {
	for _, step := range p.steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		h := Handler(func(ctx context.Context) error { return step.Run(ctx, s) })
		for i := len(p.middleware) - 1; i >= 0; i-- {
			h = p.middleware[i](step.Name(), h)
		}
		if err := h(ctx); err != nil {
			var se *StepError
			if errors.As(err, &se) {
				return err // a nested pipeline already named the step
			}
			return &StepError{Step: step.Name(), Err: err}
		}
	}
	return nil
}

// StepError is the failure of one step of a pipeline.
type StepError struct {
	// Step is the failed step's name.
	Step string
	// Err is what it returned.
	Err error
}

// Error implements error.
func (e *StepError) Error() string { return fmt.Sprintf("step %s: %v", e.Step, e.Err) }

// Unwrap returns the step's error.
func (e *StepError) Unwrap() error { return e.Err }

// Permanent marks err as one that another attempt cannot fix (bad input, a
// rejected request), so the retry middleware and the runner give up at
// once. It returns nil for a nil err.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// IsTransient reports whether err is worth another attempt: it is not
// permanent, not the end of the caller's context, and it is a timeout or
// says of itself that it is temporary (the SDK's API and transport errors
// do, for rate limits, 5xx answers and broken connections).
func IsTransient(err error) bool {
	if err == nil || IsPermanent(err) || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var t interface{ Temporary() bool }
	if errors.As(err, &t) {
		return t.Temporary()
	}
	var to interface{ Timeout() bool }
	return errors.As(err, &to) && to.Timeout()
}
