package workflow

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// memSource is an in-memory Source of strings.
type memSource struct {
	mu          sync.Mutex
	items       []string
	acked       []string
	quarantined map[string]string
	listErrAt   int // yield an error instead of the item at this index (-1: never)
	ackErr      error
}

func newMemSource(n int) *memSource {
	s := &memSource{quarantined: map[string]string{}, listErrAt: -1}
	for i := range n {
		s.items = append(s.items, fmt.Sprintf("item-%03d", i))
	}
	return s
}

func (s *memSource) Items(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		s.mu.Lock()
		var pending []string
		for _, it := range s.items {
			if !slices.Contains(s.acked, it) && s.quarantined[it] == "" {
				pending = append(pending, it)
			}
		}
		s.mu.Unlock()
		for i, it := range pending {
			if ctx.Err() != nil {
				yield("", ctx.Err())
				return
			}
			if i == s.listErrAt {
				yield("", errors.New("listing broke"))
				return
			}
			if !yield(it, nil) {
				return
			}
		}
	}
}

func (s *memSource) Ack(_ context.Context, item string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ackErr != nil {
		return s.ackErr
	}
	s.acked = append(s.acked, item)
	return nil
}

func (s *memSource) Quarantine(_ context.Context, item, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quarantined[item] = reason
	return nil
}

// temporary is an error that says it is temporary.
type temporary struct{}

func (temporary) Error() string   { return "server busy" }
func (temporary) Temporary() bool { return true }

func newRunner(src *memSource, process func(context.Context, string) (Outcome, error)) *Runner[string] {
	return &Runner[string]{
		Name:        "test",
		Source:      src,
		Process:     process,
		Key:         func(s string) string { return s },
		Concurrency: 8,
		RetryWait:   time.Millisecond,
	}
}

func TestRunnerCountsOutcomes(t *testing.T) {
	t.Parallel()
	src := newMemSource(30)
	var running, peak atomic.Int32
	r := newRunner(src, func(_ context.Context, item string) (Outcome, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		var i int
		fmt.Sscanf(item, "item-%d", &i)
		return Outcome(i % 3), nil
	})
	r.Concurrency = 4
	rep, err := r.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := [6]int{rep.Seen, rep.Created, rep.Updated, rep.Skipped, rep.Failed, rep.Quarantined}
	if want := [6]int{30, 10, 10, 10, 0, 0}; got != want {
		t.Errorf("seen/created/updated/skipped/failed/quarantined = %v, want %v", got, want)
	}
	if len(src.acked) != 30 {
		t.Errorf("%d items acknowledged, want 30", len(src.acked))
	}
	if p := peak.Load(); p > 4 {
		t.Errorf("%d items ran at once, concurrency is 4", p)
	}
	if rep.Rate() <= 0 || rep.Done() != 30 {
		t.Errorf("rate %v, done %d", rep.Rate(), rep.Done())
	}
}

func TestRunnerQuarantinesPoisonItems(t *testing.T) {
	t.Parallel()
	src := newMemSource(5)
	var attempts sync.Map
	r := newRunner(src, func(_ context.Context, item string) (Outcome, error) {
		n, _ := attempts.LoadOrStore(item, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		if item == "item-002" {
			return 0, errors.New("malformed beyond repair")
		}
		return Created, nil
	})
	rep, err := r.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 4 || rep.Quarantined != 1 || rep.Failed != 0 {
		t.Errorf("report %+v, want 4 created and 1 quarantined", rep)
	}
	reason := src.quarantined["item-002"]
	if reason == "" || !containsAll(reason, "failed 3 times", "malformed beyond repair") {
		t.Errorf("quarantine reason %q", reason)
	}
	n, _ := attempts.Load("item-002")
	if got := n.(*atomic.Int32).Load(); got != 3 {
		t.Errorf("poison item tried %d times, want 3", got)
	}
	if slices.Contains(src.acked, "item-002") {
		t.Error("the poison item was acknowledged")
	}
	if len(rep.Errors) != 1 || !rep.Errors[0].Quarantined {
		t.Errorf("report errors %+v", rep.Errors)
	}
}

func TestRunnerLeavesTransientFailuresForTheNextRun(t *testing.T) {
	t.Parallel()
	src := newMemSource(4)
	var down atomic.Bool
	down.Store(true)
	r := newRunner(src, func(_ context.Context, item string) (Outcome, error) {
		if down.Load() && item >= "item-002" {
			return 0, fmt.Errorf("creating case: %w", temporary{})
		}
		return Created, nil
	})
	rep, err := r.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 2 || rep.Failed != 2 || rep.Quarantined != 0 {
		t.Fatalf("first run %+v, want 2 created and 2 failed", rep)
	}
	down.Store(false)
	rep, err = r.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seen != 2 || rep.Created != 2 {
		t.Errorf("second run %+v, want the 2 failed items created", rep)
	}
	if len(src.quarantined) != 0 {
		t.Errorf("transient failures were quarantined: %v", src.quarantined)
	}
}

func TestRunnerStopsWhenEverythingFails(t *testing.T) {
	t.Parallel()
	src := newMemSource(100)
	var calls atomic.Int32
	r := newRunner(src, func(context.Context, string) (Outcome, error) {
		calls.Add(1)
		return 0, temporary{}
	})
	r.Concurrency = 1
	r.StopAfterFailures = 5
	rep, err := r.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stopped == "" || calls.Load() != 5 || rep.Failed != 5 || rep.Seen != 5 {
		t.Errorf("report %+v after %d calls, want a stop after 5", rep, calls.Load())
	}
}

func TestRunnerAckFailureIsNotSuccess(t *testing.T) {
	t.Parallel()
	src := newMemSource(2)
	src.ackErr = errors.New("mailbox gone")
	r := newRunner(src, func(context.Context, string) (Outcome, error) { return Created, nil })
	rep, err := r.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 2 || rep.Created != 0 {
		t.Errorf("report %+v, want 2 failed", rep)
	}
}

func TestRunnerReportsListingErrors(t *testing.T) {
	t.Parallel()
	src := newMemSource(5)
	src.listErrAt = 3
	r := newRunner(src, func(context.Context, string) (Outcome, error) { return Created, nil })
	rep, err := r.Run(t.Context())
	if err == nil || rep.Created != 3 {
		t.Errorf("err %v, report %+v: want the listing error after 3 items", err, rep)
	}
}

func TestRunnerDrainsOnCancel(t *testing.T) {
	t.Parallel()
	src := newMemSource(50)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	started := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	r := newRunner(src, func(ictx context.Context, item string) (Outcome, error) {
		once.Do(func() { close(started) })
		<-release
		if ictx.Err() != nil {
			return 0, ictx.Err()
		}
		return Created, nil
	})
	r.Concurrency = 2
	done := make(chan struct{})
	var rep Report
	var err error
	go func() {
		rep, err = r.Run(ctx)
		close(done)
	}()
	<-started
	cancel()
	close(release)
	<-done
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	// The items already started finished and were acknowledged; no other
	// item started after the cancel.
	if rep.Created == 0 || rep.Created > 2 || rep.Failed != 0 || len(src.acked) != rep.Created {
		t.Errorf("report %+v, %d acked", rep, len(src.acked))
	}
}

func TestRunnerRejectsIncompleteConfig(t *testing.T) {
	t.Parallel()
	if _, err := (&Runner[string]{}).Run(t.Context()); err == nil {
		t.Error("an empty runner ran")
	}
}

func TestOutcomeString(t *testing.T) {
	t.Parallel()
	got := []string{Skipped.String(), Created.String(), Updated.String(), Outcome(9).String()}
	if diff := cmp.Diff([]string{"skipped", "created", "updated", "Outcome(9)"}, got); diff != "" {
		t.Error(diff)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func TestRunnerQuarantinesAnItemThatPanics(t *testing.T) {
	t.Parallel()
	src := newMemSource(3)
	r := newRunner(src, func(_ context.Context, item string) (Outcome, error) {
		if item == "item-001" {
			panic("a bug reached by one item only")
		}
		return Created, nil
	})
	rep, err := r.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 2 || rep.Quarantined != 1 || !strings.Contains(src.quarantined["item-001"], "panic") {
		t.Errorf("report %+v, quarantined %v", rep, src.quarantined)
	}
}

func TestRunnerItemThatSucceedsOnRetryIsNotFailed(t *testing.T) {
	t.Parallel()
	src := newMemSource(2)
	var calls sync.Map
	r := newRunner(src, func(_ context.Context, item string) (Outcome, error) {
		n, _ := calls.LoadOrStore(item, new(atomic.Int32))
		if n.(*atomic.Int32).Add(1) == 1 && item == "item-000" {
			return 0, errors.New("refused once")
		}
		return Created, nil
	})
	rep, err := r.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 2 || rep.Failed != 0 || len(rep.Errors) != 0 {
		t.Errorf("report %+v, want 2 created and no error", rep)
	}
}
