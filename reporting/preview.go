package reporting

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/xapi-lrs/lrs/errs"
)

// A roster import can be previewed before it is applied (a dry run): the
// import is planned against the current roster exactly as ImportRoster
// would plan it (PlanImport), and its changes are grouped by person and
// unit for the people who decide to apply it. The preview names the last
// import of the roster it was planned against (Base); ApplyImport applies
// the import only while that is still the last one, so a preview made
// stale by another import is never applied unseen.

// ImportPreview is what an import would change in the current roster.
type ImportPreview struct {
	// Base is the id of the roster's last import when the preview was
	// made (0: none yet).
	Base      int64
	Effective Date // the effective date of the changes without dates of their own
	// People and Units are how many the import lists.
	People, Units int
	// Changes are every changed timeline, as PlanImport gives them.
	Changes []Change
	// The changes by person and by unit, each list sorted by id. Ended
	// holds those the import ends or removes.
	PeopleAdded, PeopleChanged, PeopleEnded []*EntityDiff
	UnitsAdded, UnitsChanged, UnitsEnded    []*EntityDiff
	// RoleChanges counts the people whose roles change (added or ended):
	// the rules they fall under change with them.
	RoleChanges int
}

// EntityDiff is what an import changes for one person or unit.
type EntityDiff struct {
	ID   string
	Name string // after the import (before it, for one it ends)
	// Op is what happens to the person or unit itself: added, changed,
	// ended or removed (as in Change), or "" when only its relations
	// change (units, roles, identifiers; parent, managers).
	Op string
	// Fields lists what changed of a person or unit that stays: name,
	// email, start, end (the days of its last period).
	Fields        []string
	Before, After *RowPeriod // its last period before and after, when it changes
	Relations     []RelationDiff
}

// RelationDiff is what changes in one kind of relation of a person
// (member, role, ident) or unit (parent, manager): the values (unit ids,
// roles, identifier keys, employee ids) that start, end, or change dates.
type RelationDiff struct {
	Kind                  RowKind
	Added, Ended, Changed []string
}

// Relation returns the diff of kind, or nil.
func (d *EntityDiff) Relation(kind RowKind) *RelationDiff {
	for i := range d.Relations {
		if d.Relations[i].Kind == kind {
			return &d.Relations[i]
		}
	}
	return nil
}

// LatestImport returns the id of the last import of a tenant's roster, 0
// when there is none.
func LatestImport(ctx context.Context, st RosterStore, tenant string) (int64, error) {
	recs, err := st.Imports(ctx, tenant)
	if err != nil {
		return 0, err
	}
	var last int64
	for _, r := range recs {
		last = max(last, r.ID)
	}
	return last, nil
}

// PreviewImport plans imp against the tenant's current roster, as
// ImportRoster would at now, without applying it. Errors in imp are
// errs.Invalid, as ImportRoster's.
func PreviewImport(ctx context.Context, st RosterStore, tenant string, imp *Import, now time.Time) (*ImportPreview, error) {
	// The last import first: if another lands between the two reads, the
	// preview names an older base than its rows and is refused as stale,
	// never the other way round.
	base, err := LatestImport(ctx, st, tenant)
	if err != nil {
		return nil, err
	}
	rows, err := st.RosterRows(ctx, tenant, RosterFilter{})
	if err != nil {
		return nil, err
	}
	today := DateOf(now, time.UTC) // as ImportRoster
	plan, err := PlanImport(rows, imp, today)
	if err != nil {
		return nil, err
	}
	eff := imp.Effective
	if eff == 0 {
		eff = today
	}
	pv := Summarize(rows, plan.Changes, eff)
	pv.Base, pv.People, pv.Units = base, len(imp.People), len(imp.Units)
	return pv, nil
}

// ApplyImport applies imp as ImportRoster does if base is still the last
// import of the tenant's roster (the preview's Base); otherwise it is an
// errs.Conflict error and nothing is applied. (Between the check and the
// import another import could still land: the stores do not compare
// bases; the window is one read.)
func ApplyImport(ctx context.Context, st RosterStore, tenant string, imp *Import, base int64, now time.Time) (*ImportRecord, error) {
	last, err := LatestImport(ctx, st, tenant)
	if err != nil {
		return nil, err
	}
	if last != base {
		return nil, errs.E(errs.Conflict, "the roster has changed since the preview (import %d is the latest, the preview was of %d)", last, base)
	}
	return st.ImportRoster(ctx, tenant, imp, now)
}

// Summarize groups changes (of a plan or an import record) by person and
// unit. cur is the roster the changes apply to (for the names of those
// whose name does not change); eff is the effective date, on which a
// relation counts as started or ended.
func Summarize(cur []RosterRow, changes []Change, eff Date) *ImportPreview {
	names := map[Timeline]string{}
	for _, r := range cur {
		if (r.Kind == RowPerson || r.Kind == RowUnit) && r.Superseded == 0 && r.Name != "" {
			names[Timeline{Kind: r.Kind, Key: r.Key}] = r.Name
		}
	}
	pv := &ImportPreview{Effective: eff, Changes: changes}
	people, units := map[string]*EntityDiff{}, map[string]*EntityDiff{}
	entity := func(kind RowKind, id string) *EntityDiff {
		m := units
		if kind.personKind() {
			kind, m = RowPerson, people
		} else {
			kind = RowUnit
		}
		d := m[id]
		if d == nil {
			d = &EntityDiff{ID: id, Name: names[Timeline{Kind: kind, Key: id}]}
			m[id] = d
		}
		return d
	}
	for _, c := range changes {
		d := entity(c.Kind, c.Key)
		if c.Kind == RowPerson || c.Kind == RowUnit {
			d.Op = c.Op
			if n := len(c.Before); n > 0 {
				d.Before = &c.Before[n-1]
			}
			if n := len(c.After); n > 0 {
				d.After = &c.After[n-1]
				if d.After.Name != "" {
					d.Name = d.After.Name
				}
			}
			if c.Op == "changed" {
				d.Fields = changedFields(d.Before, d.After)
			}
			continue
		}
		rel := d.Relation(c.Kind)
		if rel == nil {
			d.Relations = append(d.Relations, RelationDiff{Kind: c.Kind})
			rel = &d.Relations[len(d.Relations)-1]
		}
		switch {
		case c.Op == "added" || c.Op == "changed" && !livePeriods(c.Before, eff) && livePeriods(c.After, eff):
			rel.Added = append(rel.Added, c.Value)
		case c.Op == "ended" || c.Op == "removed":
			rel.Ended = append(rel.Ended, c.Value)
		default:
			rel.Changed = append(rel.Changed, c.Value)
		}
	}
	for _, d := range people {
		if r := d.Relation(RowRole); r != nil && len(r.Added)+len(r.Ended) > 0 {
			pv.RoleChanges++
		}
	}
	pv.PeopleAdded, pv.PeopleChanged, pv.PeopleEnded = groupDiffs(people)
	pv.UnitsAdded, pv.UnitsChanged, pv.UnitsEnded = groupDiffs(units)
	return pv
}

// groupDiffs splits diffs into those added, changed and ended (or
// removed), each sorted by id, their relations in kind order.
func groupDiffs(m map[string]*EntityDiff) (added, changed, ended []*EntityDiff) {
	for _, d := range m {
		slices.SortFunc(d.Relations, func(a, b RelationDiff) int { return cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)) })
		switch d.Op {
		case "added":
			added = append(added, d)
		case "ended", "removed":
			ended = append(ended, d)
		default:
			changed = append(changed, d)
		}
	}
	for _, list := range [][]*EntityDiff{added, changed, ended} {
		slices.SortFunc(list, func(a, b *EntityDiff) int { return cmp.Compare(a.ID, b.ID) })
	}
	return added, changed, ended
}

// changedFields names what differs between two periods of a person or
// unit: name, email, start, end.
func changedFields(before, after *RowPeriod) []string {
	if before == nil || after == nil {
		return nil
	}
	var out []string
	if before.Name != after.Name {
		out = append(out, "name")
	}
	if before.Email != after.Email {
		out = append(out, "email")
	}
	if before.From != after.From {
		out = append(out, "start")
	}
	if before.To != after.To {
		out = append(out, "end")
	}
	return out
}

// livePeriods reports whether periods hold on day d or later.
func livePeriods(periods []RowPeriod, d Date) bool {
	for _, p := range periods {
		if p.To == 0 || p.To > d {
			return true
		}
	}
	return false
}
