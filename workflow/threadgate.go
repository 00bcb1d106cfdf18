package workflow

import (
	"context"
	"slices"
	"sync"
)

// threadGate lets the messages of a thread through one at a time, in the
// order the mailbox listed them, while messages of other threads go on in
// parallel. Two messages belong to one thread when they share a key, and a
// message's keys are known only once it is parsed, so a message waits until
// every message listed before it has been parsed and none of those sharing a
// key with it is still in progress. A reply listed after the mail it answers
// therefore always finds the case that mail created, and the case takes its
// owner and description from the first mail of the thread.
//
// One gate serves one run: messages are admitted in listing order by the
// source and leave when their pipeline ends.
type threadGate struct {
	mu      sync.Mutex
	next    uint64
	seqOf   map[string]uint64 // message id → sequence number
	entries map[uint64]*gateEntry
	wake    chan struct{} // closed and replaced whenever an entry changes
}

type gateEntry struct {
	declared bool
	keys     []string
}

func newThreadGate() *threadGate {
	return &threadGate{
		seqOf:   make(map[string]uint64),
		entries: make(map[uint64]*gateEntry),
		wake:    make(chan struct{}),
	}
}

// admit registers a message in listing order.
func (g *threadGate) admit(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.next++
	g.seqOf[id] = g.next
	g.entries[g.next] = &gateEntry{}
}

// take returns the sequence number of a message about to be processed. A
// message processed again (a retry within the run) keeps its place: were it
// queued behind the messages listed since, it could wait for one that no
// worker is free to take.
func (g *threadGate) take(id string) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	seq, ok := g.seqOf[id]
	if !ok {
		g.next++
		seq = g.next
		g.seqOf[id] = seq
	}
	if g.entries[seq] == nil {
		g.entries[seq] = &gateEntry{}
	}
	return seq
}

// enter declares the message's keys and waits for its turn.
func (g *threadGate) enter(ctx context.Context, seq uint64, keys []string) error {
	g.mu.Lock()
	if e := g.entries[seq]; e != nil {
		e.declared, e.keys = true, keys
		g.broadcast()
	}
	for {
		blocked := false
		for s, e := range g.entries {
			if s < seq && (!e.declared || sharesKey(e.keys, keys)) {
				blocked = true
				break
			}
		}
		if !blocked {
			g.mu.Unlock()
			return nil
		}
		wake := g.wake
		g.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
		g.mu.Lock()
	}
}

// leave removes a message whose pipeline ended, whatever its outcome.
func (g *threadGate) leave(seq uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.entries, seq)
	g.broadcast()
}

// broadcast wakes every waiter; g.mu must be held.
func (g *threadGate) broadcast() {
	close(g.wake)
	g.wake = make(chan struct{})
}

func sharesKey(a, b []string) bool {
	for _, k := range a {
		if slices.Contains(b, k) {
			return true
		}
	}
	return false
}
