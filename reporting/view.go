package reporting

import (
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"weak"
)

// View is the roster as it was on one day: the people employed and the
// units existing that day, with their memberships, roles, parents and
// managers that day. It also knows who held each identifier when, over all
// time, to attribute statements to people.
type View struct {
	Date   Date
	People map[string]*Person
	Units  map[string]*Unit

	holders map[string][]holder // match key -> its holders over time
	named   map[string]string   // employee id -> latest known name, employed or not
}

// Person is a person as of a View's day.
type Person struct {
	ID         string
	Name       string
	Email      string
	Employment Interval     // the employment interval containing the day
	Units      []string     // sorted
	Roles      []Assignment // sorted by role; each with the interval containing the day
	// Keys are the match keys of every identifier the person has held (with
	// the mbox_sha1sum form of each e-mail address).
	Keys []string
}

// Unit is a unit as of a View's day.
type Unit struct {
	ID       string
	Name     string
	Parent   string   // "" for a root
	Managers []string // employee ids, sorted
	Children []string // sorted
}

type holder struct {
	person string
	Interval
}

// NewView builds the roster as of day d from rows (current rows, or rows
// as known at some time; superseded ones must have been left out).
func NewView(rows []RosterRow, d Date) *View {
	var people, idents int
	for i := range rows {
		switch rows[i].Kind {
		case RowPerson:
			people++
		case RowIdent:
			idents++
		}
	}
	v := &View{Date: d, People: make(map[string]*Person, people), Units: map[string]*Unit{},
		holders: make(map[string][]holder, idents*3/2), named: make(map[string]string, people)}
	// Entities first, then what refers to them.
	for i := range rows {
		r := &rows[i]
		switch r.Kind {
		case RowPerson:
			if r.Name != "" {
				v.named[r.Key] = r.Name
			}
			if r.Contains(d) {
				v.People[r.Key] = &Person{ID: r.Key, Name: r.Name, Email: r.Email, Employment: r.Interval}
			}
		case RowUnit:
			if r.Contains(d) {
				v.Units[r.Key] = &Unit{ID: r.Key, Name: r.Name}
			}
		}
	}
	for i := range rows {
		r := &rows[i]
		switch r.Kind {
		case RowIdent:
			h := holder{r.Key, r.Interval}
			v.holders[r.Value] = append(v.holders[r.Value], h)
			p := v.People[r.Key]
			if p != nil {
				p.Keys = append(p.Keys, r.Value)
			}
			if strings.HasPrefix(r.Value, "mbox:") {
				k := sha1Key(r.Value)
				v.holders[k] = append(v.holders[k], h)
				if p != nil {
					p.Keys = append(p.Keys, k)
				}
			}
		case RowParent, RowManager, RowMember, RowRole:
			if !r.Contains(d) {
				continue
			}
			switch r.Kind {
			case RowParent:
				if u := v.Units[r.Key]; u != nil && v.Units[r.Value] != nil {
					u.Parent = r.Value
				}
			case RowManager:
				if u := v.Units[r.Key]; u != nil {
					u.Managers = append(u.Managers, r.Value)
				}
			case RowMember:
				if p := v.People[r.Key]; p != nil && v.Units[r.Value] != nil {
					p.Units = append(p.Units, r.Value)
				}
			case RowRole:
				if p := v.People[r.Key]; p != nil {
					p.Roles = append(p.Roles, Assignment{ID: r.Value, Interval: r.Interval})
				}
			}
		}
	}
	v.breakCycles()
	for _, u := range v.Units {
		slices.Sort(u.Managers)
		if u.Parent != "" {
			p := v.Units[u.Parent]
			p.Children = append(p.Children, u.ID)
		}
	}
	for _, u := range v.Units {
		slices.Sort(u.Children)
	}
	for _, p := range v.People {
		if len(p.Units) > 1 {
			slices.Sort(p.Units)
		}
		if len(p.Roles) > 1 {
			slices.SortFunc(p.Roles, func(a, b Assignment) int { return compareStrings(a.ID, b.ID) })
		}
		if len(p.Keys) > 1 {
			slices.Sort(p.Keys)
			p.Keys = slices.Compact(p.Keys) // a key held in two intervals
		}
	}
	return v
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// breakCycles cuts parent links that would form a cycle (imports refuse
// them; rows edited by other means must not hang a report).
func (v *View) breakCycles() {
	for _, id := range v.sortedUnits() {
		seen := map[string]bool{}
		for u := v.Units[id]; u != nil && u.Parent != ""; u = v.Units[u.Parent] {
			if seen[u.ID] {
				u.Parent = ""
				break
			}
			seen[u.ID] = true
		}
	}
}

func (v *View) sortedUnits() []string {
	ids := make([]string, 0, len(v.Units))
	for id := range v.Units {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// rosterView is a View with its people in order of employee id, as a
// report takes them.
type rosterView struct {
	*View
	people []*Person
}

func newRosterView(rows []RosterRow, d Date) *rosterView {
	v := NewView(rows, d)
	rv := &rosterView{View: v, people: make([]*Person, 0, len(v.People))}
	for _, id := range v.SortedPeople() {
		rv.people = append(rv.people, v.People[id])
	}
	return rv
}

// views keeps the last views reports made, for stores that give out the
// same rows while the roster is unchanged (RosterStore.RosterRows; the
// SQLite store caches its current roster): the view of 55,000 people
// takes some 150 ms to build, more than the report of a unit, and the
// first row of a report waits for it. An entry is found by the identity
// of the rows (the address of the first and their number), which it holds
// weakly, and dropped once the garbage collector frees them; a store that
// reads the rows afresh each time never finds one. Views are read-only
// once built, so reports share them.
var views struct {
	mu      sync.Mutex
	entries []*viewEntry // most recently used first
}

// maxViews bounds the views kept: a few days' or tenants' rosters.
const maxViews = 4

type viewEntry struct {
	rows weak.Pointer[RosterRow]
	n    int
	day  Date
	view *rosterView
}

// cachedView returns the view of rows on day d: from views when rows are
// the rows of an entry, else built and kept.
func cachedView(rows []RosterRow, d Date) *rosterView {
	if len(rows) == 0 {
		return newRosterView(rows, d)
	}
	first := &rows[0]
	views.mu.Lock()
	for i, e := range views.entries {
		if e.day == d && e.n == len(rows) && e.rows.Value() == first {
			copy(views.entries[1:i+1], views.entries[:i])
			views.entries[0] = e
			views.mu.Unlock()
			return e.view
		}
	}
	views.mu.Unlock()
	e := &viewEntry{rows: weak.Make(first), n: len(rows), day: d, view: newRosterView(rows, d)}
	views.mu.Lock()
	views.entries = append([]*viewEntry{e}, views.entries[:min(len(views.entries), maxViews-1)]...)
	views.mu.Unlock()
	runtime.AddCleanup(first, dropView, e)
	return e.view
}

// dropView forgets the entry of rows the garbage collector has freed.
func dropView(e *viewEntry) {
	views.mu.Lock()
	defer views.mu.Unlock()
	views.entries = slices.DeleteFunc(views.entries, func(x *viewEntry) bool { return x == e })
}

// SortedPeople returns the employee ids of the view, sorted.
func (v *View) SortedPeople() []string {
	ids := make([]string, 0, len(v.People))
	for id := range v.People {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Subtree returns the units under the given roots (the roots included);
// unknown roots are left out.
func (v *View) Subtree(roots []string) map[string]bool {
	out := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		u := v.Units[id]
		if u == nil || out[id] {
			return
		}
		out[id] = true
		for _, c := range u.Children {
			walk(c)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return out
}

// Ancestors returns the unit and the units above it, nearest first.
func (v *View) Ancestors(unit string) []string {
	var out []string
	for u := v.Units[unit]; u != nil; u = v.Units[u.Parent] {
		out = append(out, u.ID)
		if u.Parent == "" {
			break
		}
	}
	return out
}

// Managers returns the managers responsible for person p: the managers of
// each of p's units, or, where p manages the unit alone or it has none,
// those of the nearest unit above that has someone else.
func (v *View) Managers(p *Person) []string {
	var out []string
	for _, unit := range p.Units {
		for _, id := range v.Ancestors(unit) {
			var found []string
			for _, m := range v.Units[id].Managers {
				if m != p.ID {
					found = append(found, m)
				}
			}
			if len(found) > 0 {
				for _, m := range found {
					out = appendNew(out, m)
				}
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// HolderAt returns the employee id of whoever held identifier key at
// instant t (its day in loc), or "".
func (v *View) HolderAt(key string, t time.Time, loc *time.Location) string {
	hs := v.holders[key]
	if len(hs) == 1 && hs[0].From == 0 && hs[0].To == 0 {
		return hs[0].person // the common case: one holder, ever
	}
	if len(hs) == 0 {
		return ""
	}
	return v.Holder(key, DateOf(t, loc))
}

// Holder returns the employee id of whoever held identifier key on day d,
// or "".
func (v *View) Holder(key string, d Date) string {
	for _, h := range v.holders[key] {
		if h.Contains(d) {
			return h.person
		}
	}
	return ""
}

// Known reports whether anyone in the roster has ever held identifier key.
func (v *View) Known(key string) bool { return len(v.holders[key]) > 0 }

// Name returns the latest known name of a person, employed on the view's
// day or not ("" if unknown).
func (v *View) Name(id string) string { return v.named[id] }
