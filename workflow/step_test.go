package workflow

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type trace struct{ log []string }

func record(name string) Step[trace] {
	return NewStep(name, func(_ context.Context, s *trace) error {
		s.log = append(s.log, name)
		return nil
	})
}

func TestPipelineRunsInOrderAndStops(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	p := NewPipeline("outer",
		record("a"),
		NewPipeline("inner", record("b1"), NewStep("b2", func(_ context.Context, s *trace) error {
			s.log = append(s.log, "b2")
			return boom
		})),
		record("c"),
	)
	var s trace
	err := p.Run(t.Context(), &s)
	var se *StepError
	if !errors.As(err, &se) || se.Step != "b2" || !errors.Is(err, boom) {
		t.Fatalf("error = %v, want a StepError for b2 wrapping boom", err)
	}
	if diff := cmp.Diff([]string{"a", "b1", "b2"}, s.log); diff != "" {
		t.Errorf("steps run (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a", "inner", "c"}, p.Steps()); diff != "" {
		t.Errorf("Steps (-want +got):\n%s", diff)
	}
	if (&Pipeline[trace]{}).Name() != "pipeline" || p.Name() != "outer" {
		t.Error("pipeline names")
	}
}

func TestPipelineStopsOnCancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	p := NewPipeline("p", NewStep("cancel", func(context.Context, *trace) error {
		cancel()
		return nil
	}), record("never"))
	var s trace
	if err := p.Run(ctx, &s); !errors.Is(err, context.Canceled) || len(s.log) != 0 {
		t.Errorf("err %v, ran %v", err, s.log)
	}
}

func TestMiddlewareOrder(t *testing.T) {
	t.Parallel()
	var seen []string
	mw := func(tag string) Middleware {
		return func(step string, next Handler) Handler {
			return func(ctx context.Context) error {
				seen = append(seen, tag+">"+step)
				err := next(ctx)
				seen = append(seen, tag+"<"+step)
				return err
			}
		}
	}
	p := NewPipeline("p", record("x")).Use(mw("outer"), mw("inner"))
	if err := p.Run(t.Context(), &trace{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"outer>x", "inner>x", "inner<x", "outer<x"}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("middleware order (-want +got):\n%s", diff)
	}
}

func TestRetry(t *testing.T) {
	t.Parallel()
	fast := RetryPolicy{Attempts: 4, MinWait: time.Microsecond, MaxWait: time.Millisecond}
	tests := []struct {
		name      string
		failures  int
		err       error
		wantCalls int
		wantErr   bool
	}{
		{"transient then success", 2, temporary{}, 3, false},
		{"transient forever", 10, temporary{}, 4, true},
		{"permanent is not retried", 10, errors.New("bad request"), 1, true},
		{"marked permanent is not retried", 10, Permanent(temporary{}), 1, true},
		{"deadline is retried", 1, context.DeadlineExceeded, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			h := Retry(fast)("s", func(context.Context) error {
				calls++
				if calls <= tt.failures {
					return tt.err
				}
				return nil
			})
			err := h(t.Context())
			if (err != nil) != tt.wantErr || calls != tt.wantCalls {
				t.Errorf("err %v after %d calls, want error=%v after %d", err, calls, tt.wantErr, tt.wantCalls)
			}
		})
	}
}

func TestRetryStopsWaitingOnCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	h := Retry(RetryPolicy{Attempts: 3, MinWait: time.Hour})("s", func(context.Context) error {
		cancel()
		return temporary{}
	})
	if err := h(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	h := Timeout(time.Millisecond)("slow", func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	if err := h(t.Context()); !errors.Is(err, context.DeadlineExceeded) || !IsTransient(err) {
		t.Errorf("err = %v, want a transient deadline error", err)
	}
}

func TestObserve(t *testing.T) {
	t.Parallel()
	var got []string
	p := NewPipeline("p", record("a"), NewStep("b", func(context.Context, *trace) error { return errors.New("x") })).
		Use(Observe(func(step string, d time.Duration, err error) {
			got = append(got, fmt.Sprintf("%s:%v", step, err != nil))
		}))
	_ = p.Run(t.Context(), &trace{})
	if diff := cmp.Diff([]string{"a:false", "b:true"}, got); diff != "" {
		t.Error(diff)
	}
}

func TestIsTransient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("plain"), false},
		{temporary{}, true},
		{fmt.Errorf("wrapped: %w", temporary{}), true},
		{&StepError{Step: "s", Err: temporary{}}, true},
		{Permanent(temporary{}), false},
		{context.Canceled, false},
		{context.DeadlineExceeded, true},
	}
	for _, tt := range tests {
		if got := IsTransient(tt.err); got != tt.want {
			t.Errorf("IsTransient(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) is not nil")
	}
}
