package workflow

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// TestThreadGateOrdersAThread admits a thread's three messages and an
// unrelated one, then lets them enter in reverse order: the thread goes
// through in listing order, the unrelated message at once.
func TestThreadGateOrdersAThread(t *testing.T) {
	t.Parallel()
	g := newThreadGate()
	keys := map[string][]string{
		"first":     {"msg=a"},
		"reply":     {"msg=b", "msg=a"},
		"unrelated": {"msg=z"},
		"reply2":    {"msg=c", "msg=b"},
	}
	order := []string{"first", "reply", "unrelated", "reply2"}
	for _, id := range order {
		g.admit(id)
	}
	var mu sync.Mutex
	var entered []string
	var wg sync.WaitGroup
	for i := len(order) - 1; i >= 0; i-- {
		id := order[i]
		seq := g.take(id)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.enter(t.Context(), seq, keys[id]); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			entered = append(entered, id)
			mu.Unlock()
			g.leave(seq)
		}()
	}
	wg.Wait()
	pos := map[string]int{}
	for i, id := range entered {
		pos[id] = i
	}
	if !(pos["first"] < pos["reply"] && pos["reply"] < pos["reply2"]) {
		t.Errorf("thread entered in order %v", entered)
	}
	if len(g.entries) != 0 {
		t.Errorf("%d entries left", len(g.entries))
	}
}

func TestThreadGateWaitsForUnparsedEarlierMessages(t *testing.T) {
	t.Parallel()
	g := newThreadGate()
	g.admit("early")
	g.admit("late")
	early, late := g.take("early"), g.take("late")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- g.enter(ctx, late, []string{"k2"}) }()
	// "late" cannot know yet whether "early" is of its thread.
	select {
	case err := <-done:
		t.Fatalf("entered before the earlier message was parsed: %v", err)
	default:
	}
	if err := g.enter(t.Context(), early, []string{"k1"}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("not let through once the earlier message declared other keys: %v", err)
	}
	// A waiter gives up when its context ends.
	g.admit("x")
	x := g.take("x")
	go func() { done <- g.enter(ctx, x, []string{"k1"}) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	// A retried message keeps its place, ahead of the messages listed
	// after it, whether they were taken by a worker or not.
	g.admit("later")
	if seq := g.take("early"); seq != early {
		t.Errorf("retry got %d, want its first number %d", seq, early)
	}
	if err := g.enter(t.Context(), early, []string{"k1"}); err != nil {
		t.Errorf("a retried message waits for later ones: %v", err)
	}

}
