package statements

import (
	"encoding/json"
	"reflect"
	"sync"
	"time"
)

// DefinitionUnchanged reports whether merging the definition new into the
// canonical definition old (MergeDefinition) would leave old as it is, so
// that a store need neither read nor write it again. It allocates nothing
// for the common properties (name, description, extensions, type,
// moreInfo); interaction component lists are merged and compared.
func DefinitionUnchanged(old, new map[string]any) bool {
	if old == nil {
		return len(new) == 0
	}
	for k, v := range new {
		ov, ok := old[k]
		if !ok {
			return false
		}
		switch k {
		case "name", "description", "extensions":
			nm, ok1 := v.(map[string]any)
			om, ok2 := ov.(map[string]any)
			if !ok1 || !ok2 {
				if !jsonEqual(ov, v) {
					return false
				}
				continue
			}
			for sk, sv := range nm {
				if osv, ok := om[sk]; !ok || !jsonEqual(osv, sv) {
					return false
				}
			}
		case "choices", "scale", "source", "target", "steps":
			if !reflect.DeepEqual(mergeComponents(deepCopy(ov), v), ov) {
				return false
			}
		default:
			// interactionType included: another type would drop old's
			// interaction properties, and differs from it anyway.
			if !jsonEqual(ov, v) {
				return false
			}
		}
	}
	return true
}

// jsonEqual reports whether two JSON trees (as DecodeJSON returns them)
// are equal, without reflection for the types DecodeJSON makes.
func jsonEqual(a, b any) bool {
	switch a := a.(type) {
	case string:
		b, ok := b.(string)
		return ok && a == b
	case json.Number:
		b, ok := b.(json.Number)
		return ok && a == b
	case bool:
		b, ok := b.(bool)
		return ok && a == b
	case nil:
		return b == nil
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, x := range a {
			y, ok := b[k]
			if !ok || !jsonEqual(x, y) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !jsonEqual(a[i], b[i]) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(a, b)
	}
}

// DefinitionCache remembers canonical activity definitions as a store last
// read or wrote them, per tenant and activity, so that the definitions
// statements repeat (nearly all of them: every statement of a course names
// the course) cost the store no read. Stores keep one beside their
// database: the definitions in it are never modified (callers must not
// modify what Get returns, nor what they Put afterwards).
//
// A store that is the only writer of its definitions (SQLite's one
// process) can trust an entry for ever; one shared by several processes
// (MongoDB's replicas) gives entries a time to live, after which a
// definition another replica changed is read again. The cache holds at
// most Max entries and starts afresh when full.
type DefinitionCache struct {
	// TTL, when not zero, is how long an entry is trusted.
	TTL time.Duration
	// Max bounds the entries; 0: DefaultDefinitionCacheMax.
	Max int

	mu sync.Mutex
	m  map[defKey]cachedDef
}

// DefaultDefinitionCacheMax bounds a DefinitionCache by default: about 20
// MiB of typical course definitions.
const DefaultDefinitionCacheMax = 20_000

type defKey struct{ tenant, id string }

type cachedDef struct {
	def  map[string]any
	when time.Time
}

// Unchanged reports whether def merged into the cached canonical
// definition of the activity would change nothing: true only when the
// activity is cached (and its entry still trusted).
func (c *DefinitionCache) Unchanged(tenant, id string, def map[string]any) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	e, ok := c.m[defKey{tenant, id}]
	c.mu.Unlock()
	if !ok || (c.TTL > 0 && time.Since(e.when) > c.TTL) {
		return false
	}
	return DefinitionUnchanged(e.def, def)
}

// Put records def as the canonical definition of the activity, as just
// read or committed (nil: none is stored, which is not cached).
func (c *DefinitionCache) Put(tenant, id string, def map[string]any) {
	if c == nil || def == nil {
		return
	}
	max := c.Max
	if max <= 0 {
		max = DefaultDefinitionCacheMax
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= max {
		c.m = make(map[defKey]cachedDef)
	}
	c.m[defKey{tenant, id}] = cachedDef{def, time.Now()}
}

// Forget drops every entry of a tenant (after its definitions were changed
// behind the cache's back, e.g. deleted).
func (c *DefinitionCache) Forget(tenant string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k.tenant == tenant {
			delete(c.m, k)
		}
	}
}
