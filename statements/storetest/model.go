package storetest

import (
	"slices"
	"sort"

	"github.com/xapi-lrs/lrs/statements"
)

// model is the reference a store is compared with: the stored records in a
// plain map, and the Query semantics written out as directly as the
// specification states them.
type model struct {
	byKey map[string]*statements.Record // tenant + "\x00" + id
	all   []*statements.Record          // in insertion order
}

func newModel() *model { return &model{byKey: map[string]*statements.Record{}} }

func mkey(tenant, id string) string { return tenant + "\x00" + id }

// add records successfully inserted records (a re-inserted id keeps the first).
func (m *model) add(recs ...*statements.Record) {
	for _, r := range recs {
		k := mkey(r.Tenant, r.ID)
		if _, ok := m.byKey[k]; ok {
			continue
		}
		m.byKey[k] = r
		m.all = append(m.all, r)
	}
}

// voided reports whether a stored voiding statement targets r and r is not
// itself a voiding statement.
func (m *model) voided(r *statements.Record) bool {
	if r.Voids != "" {
		return false
	}
	for _, v := range m.all {
		if v.Tenant == r.Tenant && v.Voids == r.ID {
			return true
		}
	}
	return false
}

// chain returns r and the stored statements it refers to, transitively
// (StatementRef filter inheritance), without repeating one.
func (m *model) chain(r *statements.Record) []*statements.Record {
	out := []*statements.Record{r}
	for cur := r; cur.RefID != ""; {
		next, ok := m.byKey[mkey(r.Tenant, cur.RefID)]
		if !ok || slices.Contains(out, next) {
			break
		}
		out = append(out, next)
		cur = next
	}
	return out
}

// inChain reports whether some statement of r's chain satisfies f.
func (m *model) inChain(r *statements.Record, f func(*statements.Record) bool) bool {
	return slices.ContainsFunc(m.chain(r), f)
}

func (m *model) matches(r *statements.Record, q statements.Query) bool {
	if r.Tenant != q.Tenant || m.voided(r) {
		return false
	}
	if q.Authority != "" && r.Authority != q.Authority {
		return false
	}
	if !q.Since.IsZero() && !r.Stored.After(q.Since) {
		return false
	}
	if !q.Until.IsZero() && r.Stored.After(q.Until) {
		return false
	}
	if q.Agent != "" && !m.inChain(r, func(s *statements.Record) bool {
		return slices.Contains(s.Agents, q.Agent) || q.RelatedAgents && slices.Contains(s.RelatedAgents, q.Agent)
	}) {
		return false
	}
	if q.Verb != "" && !m.inChain(r, func(s *statements.Record) bool { return s.VerbID == q.Verb }) {
		return false
	}
	if q.Activity != "" && !m.inChain(r, func(s *statements.Record) bool {
		return slices.Contains(s.Activities, q.Activity) || q.RelatedActivities && slices.Contains(s.RelatedActivities, q.Activity)
	}) {
		return false
	}
	if q.Registration != "" && !m.inChain(r, func(s *statements.Record) bool { return s.Registration == q.Registration }) {
		return false
	}
	return true
}

// query returns every match of q (Limit and Cursor ignored), newest stored
// first unless q.Ascending. Stored times in the model are distinct.
func (m *model) query(q statements.Query) []*statements.Record {
	var out []*statements.Record
	for _, r := range m.all {
		if m.matches(r, q) {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if q.Ascending {
			return out[i].Stored.Before(out[j].Stored)
		}
		return out[i].Stored.After(out[j].Stored)
	})
	return out
}
