package sqlite

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// The facts cache keeps, per agent of a tenant, what Facts reads from
// rp_fact_chunks: the agent's name and the data of its chunks joined in
// the order the query returns them, still encoded (35 to 60 bytes a fact,
// with a score and a registration: the 2,000,000 facts of the 55,000
// people of storetest.FillScale take about 135 MiB with the entries'
// overhead; decoded structs would take twice that). A report then decodes
// the facts of the people it finds there instead of reading SQLite, which
// was half the CPU of the report of a whole organisation. Retractions are applied at read time
// from the tenant's map of them, as for facts read from the database, so
// they need no invalidation.
//
// The cache is exact because one process writes the projection (see
// reporting.go) and every write of rp_fact_chunks invalidates, after its
// commit, the entries of the agents it wrote (invalidate), or all of a
// tenant's (invalidateTenant). A stale entry must not be put back by a
// reader that read the chunks before a commit and stores them after its
// invalidation: each shard of agents has a generation that every
// invalidation of one of its agents advances; a reader takes the
// generations before its query and stores an entry only if the agent's
// shard is still at that generation. A writer committing after the
// reader's query started invalidates after the commit, so either after
// the reader stored its entry (removing it) or before (the reader sees the
// new generation and does not store it).
//
// The cache is bounded by a byte budget (the data, name and key of each
// entry and a fixed overhead); an entry that does not fit evicts others,
// in no particular order (of a map's iteration) until it does.

// DefaultFactsCache is the byte budget of a store's facts cache unless
// Options says otherwise: room for the facts of some 4,000,000 statements.
const DefaultFactsCache = 256 << 20

// cacheShards is the number of generations: a write advances the shards
// of the agents it wrote, so that readers meanwhile still store the
// entries of the other shards.
const cacheShards = 256

// entryOverhead is what an entry costs besides its strings and data: the
// map slot, the entry and its allocation headers.
const entryOverhead = 128

type cacheKey struct{ tenant, agent string }

// cachedFacts is an agent's entry. It is never modified once stored:
// readers use it after releasing the lock.
type cachedFacts struct {
	name string
	data []byte
}

func (k cacheKey) cost(e *cachedFacts) int64 {
	return int64(len(k.tenant) + len(k.agent) + len(e.name) + cap(e.data) + entryOverhead)
}

// factCache is the facts cache of one DB; budget 0 turns it off.
type factCache struct {
	budget int64
	seed   maphash.Seed

	mu   sync.Mutex
	used int64
	m    map[cacheKey]*cachedFacts
	gens [cacheShards]uint64

	hits, misses atomic.Int64
}

func newFactCache(budget int64) *factCache {
	return &factCache{budget: max(budget, 0), seed: maphash.MakeSeed(), m: map[cacheKey]*cachedFacts{}}
}

func (c *factCache) on() bool { return c.budget > 0 }

func (c *factCache) shard(agent string) int {
	return int(maphash.String(c.seed, agent) % cacheShards)
}

// generations copies the current generations into gens.
func (c *factCache) generations(gens *[cacheShards]uint64) {
	c.mu.Lock()
	*gens = c.gens
	c.mu.Unlock()
}

// lookup sets out[i] to the entry of agents[i], nil when not cached, and
// returns the number found.
func (c *factCache) lookup(tenant string, agents []string, out []*cachedFacts) int {
	n := 0
	c.mu.Lock()
	for i, a := range agents {
		out[i] = c.m[cacheKey{tenant, a}]
		if out[i] != nil {
			n++
		}
	}
	c.mu.Unlock()
	c.hits.Add(int64(n))
	c.misses.Add(int64(len(agents) - n))
	return n
}

// store stores the entries of agents read from the database (nil ones
// are skipped) whose shards are still at the generations in gens, taken
// before they were read.
func (c *factCache) store(tenant string, agents []string, entries []*cachedFacts, gens *[cacheShards]uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range entries {
		if e == nil || c.gens[c.shard(agents[i])] != gens[c.shard(agents[i])] {
			continue
		}
		k := cacheKey{tenant, agents[i]}
		size := k.cost(e)
		if size > c.budget {
			continue
		}
		if old, ok := c.m[k]; ok {
			c.used -= k.cost(old)
			delete(c.m, k)
		}
		for c.used+size > c.budget && len(c.m) > 0 {
			for ek, old := range c.m {
				delete(c.m, ek)
				c.used -= ek.cost(old)
				if c.used+size <= c.budget {
					break
				}
			}
		}
		c.m[k] = e
		c.used += size
	}
}

// invalidate drops the entries of agents, whose chunks a committed write
// changed, and advances their shards' generations.
func (c *factCache) invalidate(tenant string, agents []string) {
	if !c.on() || len(agents) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range agents {
		k := cacheKey{tenant, a}
		if e, ok := c.m[k]; ok {
			c.used -= k.cost(e)
			delete(c.m, k)
		}
		c.gens[c.shard(a)]++
	}
}

// invalidateTenant drops the entries of a tenant and advances every
// generation.
func (c *factCache) invalidateTenant(tenant string) {
	if !c.on() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if k.tenant == tenant {
			c.used -= k.cost(e)
			delete(c.m, k)
		}
	}
	for i := range c.gens {
		c.gens[i]++
	}
}

// invalidateAll drops every entry and advances every generation.
func (c *factCache) invalidateAll() {
	if !c.on() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
	c.used = 0
	for i := range c.gens {
		c.gens[i]++
	}
}

// FactsCacheStats describes a store's facts cache.
type FactsCacheStats struct {
	Budget, Bytes int64 // the byte budget (0: off) and the bytes counted against it
	Entries       int   // agents cached
	Hits, Misses  int64 // agents found and not found by reads so far
}

// FactsCacheStats returns the state of the facts cache.
func (db *DB) FactsCacheStats() FactsCacheStats {
	c := db.rp().facts
	c.mu.Lock()
	defer c.mu.Unlock()
	return FactsCacheStats{Budget: c.budget, Bytes: c.used, Entries: len(c.m), Hits: c.hits.Load(), Misses: c.misses.Load()}
}
