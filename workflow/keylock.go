package workflow

import (
	"context"
	"slices"
	"sync"
)

// KeyLock serialises work on items that share a key: two mails of one
// thread must not both create a case. Its zero value is ready to use.
type KeyLock struct {
	mu   sync.Mutex
	held map[string]*keyEntry
}

type keyEntry struct {
	ch   chan struct{} // holds one token while the key is locked
	refs int
}

// Lock locks every key (in a fixed order, so two callers with overlapping
// keys cannot deadlock), waiting as long as needed or until ctx ends. It
// returns the function that unlocks them all. Empty and repeated keys are
// ignored.
func (l *KeyLock) Lock(ctx context.Context, keys ...string) (unlock func(), err error) {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if len(keys) > 0 && keys[0] == "" {
		keys = keys[1:]
	}
	locked := make([]string, 0, len(keys))
	release := func() {
		for i := len(locked) - 1; i >= 0; i-- {
			l.unlock(locked[i])
		}
	}
	for _, k := range keys {
		if err := l.lock(ctx, k); err != nil {
			release()
			return nil, err
		}
		locked = append(locked, k)
	}
	var once sync.Once
	return func() { once.Do(release) }, nil
}

func (l *KeyLock) lock(ctx context.Context, key string) error {
	l.mu.Lock()
	if l.held == nil {
		l.held = make(map[string]*keyEntry)
	}
	e := l.held[key]
	if e == nil {
		e = &keyEntry{ch: make(chan struct{}, 1)}
		l.held[key] = e
	}
	e.refs++
	l.mu.Unlock()

	select {
	case e.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		l.drop(key, e)
		l.mu.Unlock()
		return ctx.Err()
	}
}

func (l *KeyLock) unlock(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.held[key]
	<-e.ch
	l.drop(key, e)
}

// drop releases one reference to e; l.mu must be held.
func (l *KeyLock) drop(key string, e *keyEntry) {
	e.refs--
	if e.refs == 0 {
		delete(l.held, key)
	}
}
