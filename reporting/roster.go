package reporting

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// The roster is bitemporal. Every fact about people and units is a row with
// an effective interval as HR gives it (valid time: when it was true in the
// organisation) and the import that recorded it (transaction time: when the
// LRS learnt it). An import never edits a row: it supersedes the rows of
// each changed timeline and records new ones, so the roster as it was on
// any date, as known at any time, can be reconstructed, and each import's
// changes can be listed.

// RowKind says what a roster row states.
type RowKind string

const (
	RowPerson  RowKind = "person"  // Key: employee id; Name, Email; interval: employment
	RowUnit    RowKind = "unit"    // Key: unit id; Name; interval: the unit exists
	RowParent  RowKind = "parent"  // Key: unit id; Value: the parent unit's id
	RowManager RowKind = "manager" // Key: unit id; Value: the manager's employee id
	RowMember  RowKind = "member"  // Key: employee id; Value: unit id
	RowRole    RowKind = "role"    // Key: employee id; Value: role
	RowIdent   RowKind = "ident"   // Key: employee id; Value: MatchKey of an xAPI identifier
)

// personKind reports whether rows of kind k are keyed by an employee id.
func (k RowKind) personKind() bool {
	return k == RowPerson || k == RowMember || k == RowRole || k == RowIdent
}

// RosterRow is one version of one roster fact. The rows of one (Kind, Key,
// Value) form its timeline: intervals that do not overlap.
type RosterRow struct {
	Kind  RowKind `json:"kind"`
	Key   string  `json:"key"`
	Value string  `json:"value,omitempty"`
	Name  string  `json:"name,omitempty"`  // person and unit rows
	Email string  `json:"email,omitempty"` // person rows
	Interval
	Recorded   int64 `json:"recorded"`             // the import that recorded the row
	Superseded int64 `json:"superseded,omitempty"` // the import that replaced it; 0 while current
}

// Timeline identifies the timeline of a roster fact: its rows over time.
type Timeline struct {
	Kind       RowKind
	Key, Value string
}

func (r *RosterRow) timeline() Timeline { return Timeline{r.Kind, r.Key, r.Value} }

// Assignment is a unit membership or a role of a person in an import: the
// unit or role id, and the dates HR gives for it, if any: from its first
// day through its last (To is inclusive, as every end date of an import
// is; see days).
type Assignment struct {
	ID string `json:"id"`
	Interval
}

// UnmarshalJSON accepts "U1" as well as {"id": "U1", "from": …, "to": …}.
func (a *Assignment) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = Assignment{ID: s}
		return nil
	}
	type plain Assignment
	var p plain
	if err := strictUnmarshal(b, &p); err != nil {
		return err
	}
	*a = Assignment(p)
	return nil
}

// UnitIn is a unit as an import gives it.
type UnitIn struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Parent   string   `json:"parent,omitempty"`
	Managers []string `json:"managers,omitempty"` // employee ids
	Interval          // when the unit exists, if HR says: from its first day through its last (inclusive; see days)
}

// PersonIn is a person as an import gives them.
type PersonIn struct {
	ID    string `json:"id"` // employee id
	Name  string `json:"name"`
	Email string `json:"email,omitempty"` // also an identifier (mbox)
	// Identifiers are further xAPI identifiers of the person, as in an
	// Agent: {"mbox": "mailto:…"}, {"mbox_sha1sum": "…"}, {"openid": "…"},
	// {"account": {"homePage": "https://lms.example", "name": "kari"}}.
	Identifiers []map[string]any `json:"identifiers,omitempty"`
	// Start and End are the first and the last day employed, as HR
	// systems give them (both inclusive). The roster stores the
	// employment as the interval [Start, End+1 day) (see Interval), so
	// End must not be before Start.
	Start Date         `json:"start,omitzero"`
	End   Date         `json:"end,omitzero"`
	Units []Assignment `json:"units,omitempty"`
	Roles []Assignment `json:"roles,omitempty"`
}

// employment returns the interval of days a person listed in an import is
// employed: End is the last day, To the first day after it.
func (in *PersonIn) employment() Interval { return days(in.Start, in.End) }

// days returns the days from first through last, as an import gives them
// (both inclusive; zero: unbounded), as the roster stores them: the
// half-open Interval [first, last+1 day). Every end date of an import is
// the last day, as HR systems give it (sluttdato, til): a person, a unit,
// a membership or a role ending on D still counts on D and not on D+1.
func days(first, last Date) Interval { return Interval{first, last.AddDays(1)} }

// validDays checks that an import's dates from first through last hold
// at least one day.
func validDays(path string, first, last Date) error {
	if first != 0 && last != 0 && last < first {
		return errs.Invalidf(path, "interval", "the last day %s comes before the first day %s", last, first)
	}
	return nil
}

// Import is one roster import: a snapshot of the organisation as the HR
// system exports it.
type Import struct {
	// Effective is the day the changes without dates of their own take
	// effect (a new role, a unit change, a person missing from a complete
	// snapshot); zero: the day of the import.
	Effective Date `json:"effective,omitzero"`
	// Partial imports change only the people and units they list. A
	// complete one (the default) also ends everyone it does not list, if it
	// lists people, and every unit it does not list, if it lists units (so
	// units and people may come in separate complete imports).
	Partial bool       `json:"partial,omitempty"`
	Source  string     `json:"source,omitempty"` // e.g. the file name, kept with the import's record
	Units   []UnitIn   `json:"units,omitempty"`
	People  []PersonIn `json:"people,omitempty"`
}

// Change is what an import changed on one timeline: its intervals before
// and after (with the names and e-mail of person and unit rows).
type Change struct {
	Kind   RowKind     `json:"kind"`
	Key    string      `json:"key"`
	Value  string      `json:"value,omitempty"`
	Op     string      `json:"op"` // added, changed, ended, removed
	Before []RowPeriod `json:"before,omitempty"`
	After  []RowPeriod `json:"after,omitempty"`
}

// RowPeriod is one interval of a timeline in a Change.
type RowPeriod struct {
	Interval
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// ImportRecord is the record an import leaves: when, with what effective
// date, and what it changed.
type ImportRecord struct {
	ID        int64     `json:"id"`
	Recorded  time.Time `json:"recorded"`
	Effective Date      `json:"effective"`
	Partial   bool      `json:"partial,omitempty"`
	Source    string    `json:"source,omitempty"`
	People    int       `json:"people"` // how many the import listed
	Units     int       `json:"units"`
	Changes   []Change  `json:"changes"`
}

// Plan is the result of planning an import against the current roster.
// A store applies it atomically: it marks every current row of each
// timeline in Supersede as superseded by the import, and records the rows
// of Insert (Recorded set to the import; the timelines they replace are
// all in Supersede).
type Plan struct {
	Supersede []Timeline
	Insert    []RosterRow
	Changes   []Change
}

// RowScope is the part of the current roster that planning a partial
// import reads: every unit, parent and manager row (units are few); the
// person, member, role and ident rows of People; and the ident rows of
// anyone whose value is one of Idents. A store gives PlanImport only these
// rows for a partial import, so that a daily delta from HR costs in
// proportion to its size rather than to the roster's.
type RowScope struct {
	People []string // employee ids, sorted
	Idents []string // identifier match keys, sorted
}

// Scope returns the rows of the current roster PlanImport needs to plan
// imp, or nil when it needs them all: a complete import ends whoever it
// does not list. A partial import needs the people it lists and the
// managers its units name, and the holders of the identifiers it lists.
func (imp *Import) Scope() *RowScope {
	if !imp.Partial {
		return nil
	}
	sc := &RowScope{People: []string{}, Idents: []string{}}
	for _, u := range imp.Units {
		sc.People = append(sc.People, u.Managers...)
	}
	for i := range imp.People {
		in := &imp.People[i]
		sc.People = append(sc.People, in.ID)
		keys, _ := identKeys(in, "") // a bad identifier fails the plan
		sc.Idents = append(sc.Idents, keys...)
	}
	slices.Sort(sc.People)
	slices.Sort(sc.Idents)
	sc.People, sc.Idents = slices.Compact(sc.People), slices.Compact(sc.Idents)
	return sc
}

// PlanImport computes what imp changes in the current roster cur (the rows
// not superseded: all of them, or at least those imp.Scope() selects).
// today is the day of the import, the default effective date. It is a
// pure function; stores call it inside their write, against the roster as
// it is at that moment, and apply the plan atomically.
//
// Defaults for what HR does not date:
//   - a new person is employed from Start (or the effective date)
//     through End, their last day (stored as the interval ending the day
//     after: a person whose End is D counts on D and not on D+1); their
//     undated units and roles start with the employment;
//   - on a person already known, a unit or role not held before starts on
//     the effective date, and one no longer listed ends on it;
//   - a person or unit missing from a complete import ends on the
//     effective date, with their units, roles, parents and managers (not
//     their identifiers);
//   - a new unit, its parent and managers have no start (it existed
//     before we knew); a changed parent or manager takes effect on the
//     effective date;
//   - an identifier never held by anyone else has no start (statements
//     sent before HR mentioned it count); one taken over from someone else
//     (a reused e-mail address) passes to the new holder on the effective
//     date. Identifiers are kept when a person leaves.
//
// Dated units and roles replace the timeline of that unit or role exactly.
func PlanImport(cur []RosterRow, imp *Import, today Date) (*Plan, error) {
	eff := imp.Effective
	if eff == 0 {
		eff = today
	}
	p := planner{eff: eff, timelines: map[Timeline][]RosterRow{}, values: map[kindKey][]string{},
		keys: map[RowKind][]string{}, holders: map[string][]string{}}
	for _, r := range cur {
		if r.Superseded != 0 {
			continue
		}
		k := r.timeline()
		if _, ok := p.timelines[k]; !ok {
			p.index(k)
		}
		p.timelines[k] = append(p.timelines[k], r)
		if r.Kind == RowIdent {
			p.holders[r.Value] = appendNew(p.holders[r.Value], r.Key)
		}
	}
	for k, rows := range p.timelines {
		slices.SortFunc(rows, byFrom)
		p.timelines[k] = rows
	}
	if err := p.validate(imp); err != nil {
		return nil, err
	}
	p.units(imp)
	p.people(imp)
	slices.SortFunc(p.plan.Changes, func(a, b Change) int {
		return cmp.Or(cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)), cmp.Compare(a.Key, b.Key), cmp.Compare(a.Value, b.Value))
	})
	if p.plan.Changes == nil {
		p.plan.Changes = []Change{}
	}
	return &p.plan, nil
}

func kindOrder(k RowKind) int {
	return slices.Index([]RowKind{RowUnit, RowParent, RowManager, RowPerson, RowMember, RowRole, RowIdent}, k)
}

func byFrom(a, b RosterRow) int { return cmp.Compare(a.From, b.From) }

type planner struct {
	eff       Date
	timelines map[Timeline][]RosterRow // current rows, sorted by From
	values    map[kindKey][]string     // the values of the timelines of a kind and key
	keys      map[RowKind][]string     // the keys of the timelines of a kind
	holders   map[string][]string      // ident value -> employee ids with a timeline for it
	plan      Plan

	idents map[string][]string // employee id -> identifier keys listed in the import
}

type kindKey struct {
	kind RowKind
	key  string
}

// index records a new timeline in values and keys.
func (p *planner) index(t Timeline) {
	kk := kindKey{t.Kind, t.Key}
	vals, ok := p.values[kk]
	if !ok {
		p.keys[t.Kind] = append(p.keys[t.Kind], t.Key)
	}
	p.values[kk] = append(vals, t.Value)
}

// current returns the current rows of a timeline.
func (p *planner) current(kind RowKind, key, value string) []RosterRow {
	return p.timelines[Timeline{kind, key, value}]
}

// valuesOf returns the values of the timelines of kind for key, sorted.
func (p *planner) valuesOf(kind RowKind, key string) []string {
	out := slices.Clone(p.values[kindKey{kind, key}])
	slices.Sort(out)
	return out
}

// open reports whether the entity with a timeline rows exists on the
// effective date or later (it has an open interval or one reaching past it).
func (p *planner) live(rows []RosterRow) bool {
	for _, r := range rows {
		if r.To == 0 || r.To > p.eff {
			return true
		}
	}
	return false
}

// set makes rows the timeline of (kind, key, value), recording a change
// when it differs from the current one.
func (p *planner) set(kind RowKind, key, value string, rows []RosterRow) {
	rows = slices.DeleteFunc(rows, func(r RosterRow) bool { return r.Empty() })
	for i := range rows {
		rows[i].Kind, rows[i].Key, rows[i].Value = kind, key, value
		rows[i].Recorded, rows[i].Superseded = 0, 0
	}
	slices.SortFunc(rows, byFrom)
	before := p.current(kind, key, value)
	if samePeriods(before, rows) {
		return
	}
	tk := Timeline{kind, key, value}
	if _, ok := p.timelines[tk]; !ok {
		p.index(tk)
	}
	if len(before) > 0 {
		p.plan.Supersede = append(p.plan.Supersede, tk)
	}
	p.plan.Insert = append(p.plan.Insert, rows...)
	c := Change{Kind: kind, Key: key, Value: value, Before: periods(before), After: periods(rows)}
	switch {
	case len(before) == 0:
		c.Op = "added"
	case len(rows) == 0:
		c.Op = "removed"
	case p.live(before) && !p.live(rows):
		c.Op = "ended"
	default:
		c.Op = "changed"
	}
	p.plan.Changes = append(p.plan.Changes, c)
	p.timelines[tk] = rows
}

func periods(rows []RosterRow) []RowPeriod {
	if len(rows) == 0 {
		return nil
	}
	out := make([]RowPeriod, len(rows))
	for i, r := range rows {
		out[i] = RowPeriod{Interval: r.Interval, Name: r.Name, Email: r.Email}
	}
	return out
}

func samePeriods(a, b []RosterRow) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Interval != b[i].Interval || a[i].Name != b[i].Name || a[i].Email != b[i].Email {
			return false
		}
	}
	return true
}

// closeAt returns rows ended on day d: intervals starting on d or later are
// dropped, open ones and those reaching past d end on d.
func closeAt(rows []RosterRow, d Date) []RosterRow {
	out := make([]RosterRow, 0, len(rows))
	for _, r := range rows {
		if r.From != 0 && r.From >= d {
			continue
		}
		if r.To == 0 || r.To > d {
			r.To = d
		}
		out = append(out, r)
	}
	return out
}

// covers reports whether the timeline holds on day d or is open (or starts
// later and is open: a future-dated assignment stays).
func covers(rows []RosterRow, d Date) bool {
	for _, r := range rows {
		if r.Contains(d) || r.To == 0 {
			return true
		}
	}
	return false
}

// entity plans the timeline of a person or unit listed in the import: it
// exists from start (zero: keep the known start, or def when new) to end.
func (p *planner) entity(kind RowKind, id string, iv Interval, def Date, name, email string) (isNew bool) {
	cur := p.current(kind, id, "")
	rows := slices.Clone(cur)
	if len(rows) == 0 {
		from := iv.From
		if from == 0 {
			from = def
		}
		p.set(kind, id, "", []RosterRow{{Name: name, Email: email, Interval: Interval{from, iv.To}}})
		return true
	}
	last := &rows[len(rows)-1]
	switch {
	case iv.From != 0 && last.To != 0 && iv.From >= last.To:
		// Back after the last interval ended (a rehire, a unit reopened).
		rows = append(rows, RosterRow{Interval: Interval{iv.From, iv.To}})
	case iv.From == 0 && iv.To == 0 && last.To != 0 && last.To <= p.eff:
		// Listed again without dates after having ended: back from the
		// effective date.
		rows = append(rows, RosterRow{Interval: Interval{p.eff, 0}})
	default:
		if iv.From != 0 {
			last.From = iv.From
		}
		last.To = iv.To
	}
	last = &rows[len(rows)-1]
	last.Name, last.Email = name, email
	p.set(kind, id, "", rows)
	return false
}

// relations plans the timelines of kind for key: listed is what the import
// gives (dated or not); def is the start of a new undated one.
func (p *planner) relations(kind RowKind, key string, listed []Assignment, def Date) {
	dated := map[string][]RosterRow{}
	undated := map[string]bool{}
	var values []string
	for _, a := range listed {
		values = appendNew(values, a.ID)
		if a.From == 0 && a.To == 0 {
			undated[a.ID] = true
		} else {
			dated[a.ID] = append(dated[a.ID], RosterRow{Interval: days(a.From, a.To)})
		}
	}
	for _, v := range p.valuesOf(kind, key) {
		values = appendNew(values, v)
	}
	for _, v := range values {
		cur := p.current(kind, key, v)
		var rows []RosterRow
		switch {
		case dated[v] != nil:
			rows = mergeIntervals(dated[v])
			if undated[v] && !covers(rows, p.eff) {
				rows = append(rows, openFrom(rows, def))
			}
		case undated[v]:
			rows = slices.Clone(cur)
			if !covers(rows, p.eff) {
				rows = append(rows, openFrom(rows, def))
			}
		default:
			rows = closeAt(cur, p.eff)
		}
		p.set(kind, key, v, rows)
	}
}

// openFrom returns an open interval starting on from, or where the last of
// rows ends if that is later.
func openFrom(rows []RosterRow, from Date) RosterRow {
	for _, r := range rows {
		if r.To != 0 && (from == 0 || r.To > from) {
			from = r.To
		}
	}
	return RosterRow{Interval: Interval{From: from}}
}

// mergeIntervals sorts rows and merges overlapping or adjacent intervals.
func mergeIntervals(rows []RosterRow) []RosterRow {
	slices.SortFunc(rows, byFrom)
	out := rows[:0]
	for _, r := range rows {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.To == 0 || (r.From != 0 && r.From <= last.To) {
				if last.To != 0 && (r.To == 0 || r.To > last.To) {
					last.To = r.To
				}
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

func (p *planner) units(imp *Import) {
	listed := map[string]bool{}
	for _, u := range imp.Units {
		listed[u.ID] = true
		isNew := p.entity(RowUnit, u.ID, days(u.From, u.To), u.From, u.Name, "")
		def := p.eff
		if isNew {
			def = u.From
		}
		var parent []Assignment
		if u.Parent != "" {
			parent = []Assignment{{ID: u.Parent}}
		}
		p.relations(RowParent, u.ID, parent, def)
		mgrs := make([]Assignment, len(u.Managers))
		for i, m := range u.Managers {
			mgrs[i] = Assignment{ID: m}
		}
		p.relations(RowManager, u.ID, mgrs, def)
	}
	if imp.Partial || len(imp.Units) == 0 {
		return
	}
	for _, id := range p.keysOf(RowUnit) {
		if listed[id] {
			continue
		}
		p.set(RowUnit, id, "", closeAt(p.current(RowUnit, id, ""), p.eff))
		p.relations(RowParent, id, nil, 0)
		p.relations(RowManager, id, nil, 0)
	}
}

// keysOf returns the keys of the timelines of kind, sorted.
func (p *planner) keysOf(kind RowKind) []string {
	out := slices.Clone(p.keys[kind])
	slices.Sort(out)
	return out
}

func (p *planner) people(imp *Import) {
	listed := map[string]bool{}
	for _, in := range imp.People {
		listed[in.ID] = true
		isNew := p.entity(RowPerson, in.ID, in.employment(), p.eff, in.Name, in.Email)
		def := p.eff
		if isNew {
			def = p.current(RowPerson, in.ID, "")[0].From
		}
		p.relations(RowMember, in.ID, in.Units, def)
		p.relations(RowRole, in.ID, in.Roles, def)
	}
	if !imp.Partial && len(imp.People) > 0 {
		for _, id := range p.keysOf(RowPerson) {
			if listed[id] {
				continue
			}
			p.set(RowPerson, id, "", closeAt(p.current(RowPerson, id, ""), p.eff))
			p.relations(RowMember, id, nil, 0)
			p.relations(RowRole, id, nil, 0)
		}
	}
	p.identifiers(imp)
}

// identifiers plans the ident timelines of the people listed.
func (p *planner) identifiers(imp *Import) {
	for _, in := range imp.People {
		keys := p.idents[in.ID]
		for _, v := range p.valuesOf(RowIdent, in.ID) {
			if !slices.Contains(keys, v) {
				p.set(RowIdent, in.ID, v, closeAt(p.current(RowIdent, in.ID, v), p.eff))
			}
		}
		for _, k := range keys {
			cur := p.current(RowIdent, in.ID, k)
			if covers(cur, p.eff) {
				continue
			}
			var from Date
			for _, other := range p.holders[k] {
				if other == in.ID {
					continue
				}
				// Taken over from someone else: theirs ends, ours starts,
				// on the effective date.
				from = p.eff
				p.set(RowIdent, other, k, closeAt(p.current(RowIdent, other, k), p.eff))
			}
			if len(cur) > 0 {
				from = max(from, p.eff)
			}
			p.set(RowIdent, in.ID, k, append(slices.Clone(cur), openFrom(cur, from)))
		}
	}
}

// validate checks the import as a whole against itself and the current
// roster, and computes the identifier keys of each person.
func (p *planner) validate(imp *Import) error {
	unitIDs := map[string]bool{}
	for i, u := range imp.Units {
		path := fmt.Sprintf("units[%d]", i)
		if err := validID(path+".id", u.ID); err != nil {
			return err
		}
		if unitIDs[u.ID] {
			return errs.Invalidf(path+".id", "duplicate", "unit %q is listed twice", u.ID)
		}
		unitIDs[u.ID] = true
		if err := validDays(path, u.From, u.To); err != nil {
			return err
		}
		if err := validText(path+".name", u.Name); err != nil {
			return err
		}
	}
	// A unit or person is known if the import lists it, or if the roster
	// has it and the import does not end it (a partial import, or one
	// listing no units or no people at all).
	known := func(kind RowKind, id string) bool {
		if kind == RowUnit && unitIDs[id] {
			return true
		}
		keeps := imp.Partial || kind == RowUnit && len(imp.Units) == 0 || kind == RowPerson
		return keeps && len(p.current(kind, id, "")) > 0
	}
	personIDs := map[string]bool{}
	for i, in := range imp.People {
		path := fmt.Sprintf("people[%d]", i)
		if err := validID(path+".id", in.ID); err != nil {
			return err
		}
		if personIDs[in.ID] {
			return errs.Invalidf(path+".id", "duplicate", "person %q is listed twice", in.ID)
		}
		personIDs[in.ID] = true
	}
	for i, u := range imp.Units {
		path := fmt.Sprintf("units[%d]", i)
		if u.Parent != "" {
			if u.Parent == u.ID {
				return errs.Invalidf(path+".parent", "unit-cycle", "unit %q cannot be its own parent", u.ID)
			}
			if !known(RowUnit, u.Parent) {
				return errs.Invalidf(path+".parent", "unknown-unit", "the parent %q of unit %q is not in the roster", u.Parent, u.ID)
			}
		}
		if dup := firstDuplicate(u.Managers); dup != "" {
			return errs.Invalidf(path+".managers", "duplicate", "manager %q is listed twice", dup)
		}
		for j, m := range u.Managers {
			if !personIDs[m] && !known(RowPerson, m) {
				return errs.Invalidf(fmt.Sprintf("%s.managers[%d]", path, j), "unknown-person", "the manager %q of unit %q is not in the roster", m, u.ID)
			}
		}
	}
	if err := p.checkCycles(imp); err != nil {
		return err
	}
	p.idents = map[string][]string{}
	claimed := map[string]string{}
	for i, in := range imp.People {
		path := fmt.Sprintf("people[%d]", i)
		if in.Start != 0 && in.End != 0 && in.End < in.Start {
			return errs.Invalidf(path+".end", "interval", "person %q ends (last day %s) before starting (%s)", in.ID, in.End, in.Start)
		}
		if in.Start == 0 && in.End != 0 && in.End < p.eff && len(p.current(RowPerson, in.ID, "")) == 0 {
			// A new person starts on the effective date unless HR says.
			return errs.Invalidf(path+".start", "interval", "person %q is new and ended (last day %s) before the effective date %s: give their start date",
				in.ID, in.End, p.eff)
		}
		if err := validText(path+".name", in.Name); err != nil {
			return err
		}
		if err := validText(path+".email", in.Email); err != nil {
			return err
		}
		for j, a := range in.Units {
			apath := fmt.Sprintf("%s.units[%d]", path, j)
			if err := validDays(apath, a.From, a.To); err != nil {
				return err
			}
			if !known(RowUnit, a.ID) {
				return errs.Invalidf(apath, "unknown-unit", "unit %q of person %q is not in the roster", a.ID, in.ID)
			}
		}
		for j, a := range in.Roles {
			apath := fmt.Sprintf("%s.roles[%d]", path, j)
			if err := validID(apath, a.ID); err != nil {
				return err
			}
			if err := validDays(apath, a.From, a.To); err != nil {
				return err
			}
		}
		keys, err := identKeys(&in, path)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if other, ok := claimed[k]; ok && other != in.ID {
				return errs.Invalidf(path, "identifier-conflict", "people %q and %q have the same identifier %s", other, in.ID, k)
			}
			claimed[k] = in.ID
		}
		p.idents[in.ID] = keys
	}
	return nil
}

// identKeys returns the match keys of the identifiers of a person listed
// in an import (path names them in errors): their e-mail address's and
// their identifiers'.
func identKeys(in *PersonIn, path string) ([]string, error) {
	var keys []string
	if in.Email != "" {
		k, err := emailKey(in.Email)
		if err != nil {
			return nil, errs.Invalidf(path+".email", "email", "%q is not an e-mail address", in.Email)
		}
		keys = append(keys, k)
	}
	for j, ident := range in.Identifiers {
		k := MatchKey(statements.AgentKey(ident))
		ipath := fmt.Sprintf("%s.identifiers[%d]", path, j)
		if k == "" || len(ident) != 1 {
			return nil, errs.Invalidf(ipath, "identifier",
				"an identifier has exactly one of mbox, mbox_sha1sum, openid or account {homePage, name}")
		}
		if err := validText(ipath, k); err != nil {
			return nil, err
		}
		keys = appendNew(keys, k)
	}
	return keys, nil
}

// checkCycles rejects an import whose parent links would form a cycle.
func (p *planner) checkCycles(imp *Import) error {
	parent := map[string]string{}
	if imp.Partial {
		for k, rows := range p.timelines {
			if k.Kind == RowParent && covers(rows, p.eff) {
				parent[k.Key] = k.Value
			}
		}
	}
	for _, u := range imp.Units {
		delete(parent, u.ID)
		if u.Parent != "" {
			parent[u.ID] = u.Parent
		}
	}
	for start := range parent {
		seen := map[string]bool{}
		for u := start; u != ""; u = parent[u] {
			if seen[u] {
				return errs.Invalidf("units", "unit-cycle", "the units' parents form a cycle through %q", u)
			}
			seen[u] = true
		}
	}
	return nil
}

// validText rejects control characters (tabs and line breaks included) and
// invalid UTF-8 in names, e-mail addresses and identifiers: they are
// mistakes of an export, and stores may use control characters as
// separators.
func validText(path, s string) error {
	if !utf8.ValidString(s) {
		return errs.Invalidf(path, "text", "not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return errs.Invalidf(path, "text", "%q holds a control character", s)
		}
	}
	return nil
}

// emailKey returns the match key of an e-mail address.
func emailKey(email string) (string, error) {
	email = strings.TrimSpace(email)
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 || strings.ContainsAny(email, " :<>,;") {
		return "", fmt.Errorf("bad e-mail address")
	}
	return MatchKey("mbox:mailto:" + email), nil
}
