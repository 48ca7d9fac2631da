package mockserver

import (
	"sync"
	"sync/atomic"
)

// verifiedCacheSize bounds the verified-token cache: about 10 000 tokens of
// a few hundred bytes each, a few MB.
const verifiedCacheSize = 10000

// verifiedCache maps the text of verified access tokens to their claims.
//
// It evicts with the CLOCK (second chance) rule: a hit sets an entry's
// referenced bit, and the eviction hand passes over referenced entries once,
// clearing the bit. A token in use survives as long as it is used again
// before the hand comes round, so one client cycling thousands of fresh
// tokens evicts only its own (never re-used) entries, not everyone's. A hit
// takes only the read lock; CLOCK needs no list to reorder.
type verifiedCache struct {
	mu    sync.RWMutex
	index map[string]int // token text -> slot
	slots []cacheSlot
	hand  int
	max   int

	hits, misses atomic.Int64 // for tests and benchmarks
}

type cacheSlot struct {
	raw        string
	claims     *AccessClaims
	referenced atomic.Bool
}

func newVerifiedCache(max int) *verifiedCache {
	return &verifiedCache{index: make(map[string]int, max), slots: make([]cacheSlot, 0, max), max: max}
}

func (v *verifiedCache) get(raw string) (*AccessClaims, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	i, ok := v.index[raw]
	if !ok {
		v.misses.Add(1)
		return nil, false
	}
	v.hits.Add(1)
	slot := &v.slots[i]
	if !slot.referenced.Load() { // avoid writing a shared cache line on every hit
		slot.referenced.Store(true)
	}
	return slot.claims, true
}

func (v *verifiedCache) put(raw string, c *AccessClaims) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.index[raw]; ok {
		return
	}
	if len(v.slots) < v.max {
		v.index[raw] = len(v.slots)
		v.slots = append(v.slots, cacheSlot{raw: raw, claims: c})
		return
	}
	// Sweep: at most one full turn clears every bit, so this ends.
	for v.slots[v.hand].referenced.Load() {
		v.slots[v.hand].referenced.Store(false)
		v.hand = (v.hand + 1) % v.max
	}
	victim := &v.slots[v.hand]
	delete(v.index, victim.raw)
	victim.raw, victim.claims = raw, c
	v.index[raw] = v.hand
	v.hand = (v.hand + 1) % v.max
}
