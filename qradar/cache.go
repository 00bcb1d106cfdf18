package qradar

import (
	"sync"
	"time"
)

// DefaultCacheTTL is how long offense types, rule names and domain names
// are kept.
const DefaultCacheTTL = time.Hour

// cache keeps lookups, found or not, for a while. It is safe for
// concurrent use.
type cache[K comparable, V any] struct {
	mu  sync.Mutex
	ttl time.Duration // <0: disabled
	m   map[K]cacheEntry[V]
	now func() time.Time
}

type cacheEntry[V any] struct {
	v       V
	found   bool
	expires time.Time
}

func newCache[K comparable, V any](ttl time.Duration) *cache[K, V] {
	if ttl == 0 {
		ttl = DefaultCacheTTL
	}
	return &cache[K, V]{ttl: ttl, m: map[K]cacheEntry[V]{}, now: time.Now}
}

// get returns the cached lookup of k: cached reports whether there is one,
// found whether it found a value.
func (c *cache[K, V]) get(k K) (v V, found, cached bool) {
	if c.ttl < 0 {
		return v, false, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return v, false, false
	}
	if c.now().After(e.expires) {
		delete(c.m, k)
		return v, false, false
	}
	return e.v, e.found, true
}

// put records a lookup of k; found is false for a value that does not
// exist.
func (c *cache[K, V]) put(k K, v V, found bool) {
	if c.ttl < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[k] = cacheEntry[V]{v: v, found: found, expires: c.now().Add(c.ttl)}
}

// split copies into out the cached values of the ids that were found and
// returns the ids that have no cached lookup.
func (c *cache[K, V]) split(ids []K, out map[K]V) (missing []K) {
	for _, id := range ids {
		if v, found, cached := c.get(id); cached {
			if found {
				out[id] = v
			}
			continue
		}
		missing = append(missing, id)
	}
	return missing
}

// clear forgets every lookup.
func (c *cache[K, V]) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}
