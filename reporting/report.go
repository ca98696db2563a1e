package reporting

import (
	"cmp"
	"context"
	"maps"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// Query selects the rows of a compliance report. The filters combine: a
// person must be in one of the unit subtrees, hold one of the roles and be
// one of the people given (when given); rows are kept for the modules given.
type Query struct {
	Options
	Units   []string // roots of unit subtrees
	Roles   []string
	Modules []string
	People  []string // employee ids
	// Statuses, when given, keeps only the rows of Report with one of
	// these statuses; its summary counts those rows alone (People: the
	// people with at least one).
	Statuses []Status
}

// Counts are the statuses of a set of rows.
type Counts struct {
	Rows   int            `json:"rows"`
	Status map[Status]int `json:"status"`
	// Compliant counts completed and expiring-soon rows; Percent is their
	// share of the rows that are not exempt (100 when all are exempt).
	Compliant int     `json:"compliant"`
	Percent   float64 `json:"percent"`

	byStatus [len(statuses)]int // while counting, in the order of Statuses; finish fills Status
}

func (c *Counts) add(s Status) {
	c.Rows++
	for i, x := range statuses {
		if x == s {
			c.byStatus[i]++
			break
		}
	}
	if s == StatusCompleted || s == StatusExpiringSoon {
		c.Compliant++
	}
}

func (c *Counts) finish() {
	c.Status = map[Status]int{}
	for i, n := range c.byStatus {
		if n > 0 {
			c.Status[statuses[i]] = n
		}
	}
	c.byStatus = [len(statuses)]int{} // finished Counts are their exported fields
	if n := c.Rows - c.Status[StatusExempt]; n > 0 {
		c.Percent = float64(int(float64(c.Compliant)/float64(n)*1000+0.5)) / 10
	} else {
		c.Percent = 100
	}
}

// Summary sums up a report: totals, and the same per unit (each unit with
// its sub-units), per role (rows required by the role's rules), per module
// and per campaign.
type Summary struct {
	AsOf      time.Time          `json:"asOf"`
	Day       Date               `json:"day"`
	KnownAt   time.Time          `json:"knownAt,omitzero"`
	People    int                `json:"people"`
	Total     Counts             `json:"total"`
	Units     map[string]*Counts `json:"units"`
	Roles     map[string]*Counts `json:"roles"`
	Modules   map[string]*Counts `json:"modules"`
	Campaigns map[string]*Counts `json:"campaigns"`
}

func (s *Summary) count(m map[string]*Counts, key string, st Status) {
	s.counts(m, key).add(st)
}

// counts returns the counts of key in m, added if missing.
func (s *Summary) counts(m map[string]*Counts, key string) *Counts {
	c := m[key]
	if c == nil {
		c = &Counts{}
		m[key] = c
	}
	return c
}

// run is a report being computed: the roster as of its day and the people
// it covers.
type run struct {
	st     Store
	tenant string
	q      Query
	eng    *engine
	view   *View
	people []*Person
	units  map[string]bool // the unit subtrees of the query, nil when none
	roster []RosterRow     // the rows the view was built from (shared: never modified)
	only   map[string]bool // the people of the query, nil when none
}

// batchSize is how many people's facts are read at once, but for the
// first batches of a report, which grow from firstBatch: the first rows
// wait for only a few people's facts.
const (
	batchSize  = 1000
	firstBatch = 50
)

// batchStarts returns where the batches of n people start, and n.
func batchStarts(n int) []int {
	starts := []int{0}
	for size, i := firstBatch, 0; i < n; size = min(2*size, batchSize) {
		i = min(i+size, n)
		starts = append(starts, i)
	}
	return starts
}

func prepare(ctx context.Context, st Store, tenant string, q Query) (*run, error) {
	return prepareDays(ctx, st, tenant, q, nil)
}

// prepareDays prepares the run of q as of q.AsOf; when the query names
// units, its roster rows hold the members of the units' subtrees on each
// of the other days too (Trend).
func prepareDays(ctx context.Context, st Store, tenant string, q Query, also []Date) (*run, error) {
	q.Options.defaults(time.Now())
	cat, err := st.Catalog(ctx, tenant)
	if err != nil {
		return nil, err
	}
	r := &run{st: st, tenant: tenant, q: q, eng: newEngine(cat, q.Options)}
	day := r.eng.day
	var rv *rosterView
	if len(q.People) == 0 && len(q.Units) == 0 {
		rows, err := st.RosterRows(ctx, tenant, RosterFilter{KnownAt: q.KnownAt})
		if err != nil {
			return nil, err
		}
		rv = cachedView(rows, day)
		r.roster = rows
	} else {
		rows, err := st.RosterRows(ctx, tenant, RosterFilter{KnownAt: q.KnownAt, UnitsOnly: true})
		if err != nil {
			return nil, err
		}
		f := RosterFilter{KnownAt: q.KnownAt, People: q.People}
		if len(q.Units) > 0 {
			r.units = NewView(rows, day).Subtree(q.Units)
			all := maps.Clone(r.units)
			for _, d := range also {
				maps.Copy(all, NewView(rows, d).Subtree(q.Units))
			}
			f.MembersOf = sortedKeys(all)
			if len(f.MembersOf) == 0 {
				f.MembersOf = []string{}
			}
		}
		more, err := st.RosterRows(ctx, tenant, f)
		if err != nil {
			return nil, err
		}
		r.roster = append(slices.Clip(rows), more...)
		rv = newRosterView(r.roster, day)
	}
	r.view = rv.View
	if len(q.People) > 0 {
		r.only = make(map[string]bool, len(q.People))
		for _, id := range q.People {
			r.only[id] = true
		}
	}
	for _, p := range rv.people {
		if r.selects(p, r.units) {
			r.people = append(r.people, p)
		}
	}
	return r, nil
}

// selects reports whether the query covers person p, a member of units
// (the query's unit subtrees on p's day; nil: any).
func (r *run) selects(p *Person, units map[string]bool) bool {
	if r.only != nil && !r.only[p.ID] {
		return false
	}
	if units != nil && !slices.ContainsFunc(p.Units, func(u string) bool { return units[u] }) {
		return false
	}
	return len(r.q.Roles) == 0 || slices.ContainsFunc(p.Roles, func(a Assignment) bool { return slices.Contains(r.q.Roles, a.ID) })
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// batch is a batch of people and their facts, read by one goroutine and
// evaluated by another.
type batch struct {
	people []*Person
	facts  [][]efact // by index in people
	index  map[string]int
	keys   []string
	err    error
}

// read fills b.facts with the facts that count in the report for the
// people of b; cache is the reading goroutine's own.
func (r *run) read(ctx context.Context, b *batch, cache targetCache) error {
	clear(b.index)
	b.keys = b.keys[:0]
	for len(b.facts) < len(b.people) {
		b.facts = append(b.facts, nil)
	}
	dups := false // a person listed twice (reminders list people once per manager)
	for i, p := range b.people {
		b.facts[i] = b.facts[i][:0]
		if _, dup := b.index[p.ID]; dup {
			dups = true
			continue
		}
		b.index[p.ID] = i
		b.keys = append(b.keys, p.Keys...)
	}
	if len(b.keys) == 0 {
		return nil
	}
	if dups {
		defer func() {
			for i, p := range b.people {
				if j := b.index[p.ID]; j != i {
					b.facts[i] = append(b.facts[i], b.facts[j]...)
				}
			}
		}()
	}
	asOf, knownAt, loc := r.q.AsOf, r.q.KnownAt, r.q.Location
	return r.st.Facts(ctx, r.tenant, b.keys, func(agent string, facts []Fact) error {
		hs := r.view.holders[agent]
		if len(hs) == 1 && hs[0].From == 0 && hs[0].To == 0 {
			// The common case: one holder, ever.
			j, ok := b.index[hs[0].person]
			if !ok {
				return nil
			}
			for i := range facts {
				if f := &facts[i]; f.Counts(asOf, knownAt) {
					b.facts[j] = r.eng.convert(b.facts[j], f, cache)
				}
			}
			return nil
		}
		for i := range facts {
			f := &facts[i]
			if !f.Counts(asOf, knownAt) {
				continue
			}
			if j, ok := b.index[r.view.HolderAt(agent, f.Timestamp, loc)]; ok {
				b.facts[j] = r.eng.convert(b.facts[j], f, cache)
			}
		}
		return nil
	})
}

// batchPool keeps batch buffers from report to report: the facts of a
// thousand people take a few megabytes.
var batchPool = sync.Pool{New: func() any { return &batch{index: map[string]int{}} }}

// readers is how many goroutines read facts for a report, each on a
// connection of its own, while one evaluates.
var readers = max(1, min(4, runtime.GOMAXPROCS(0)))

// rows computes the rows of the run's people, calling emit for each, in
// order, with the index in r.people of the person it is of.
func (r *run) rows(ctx context.Context, emit func(i int, row *Row) error) error {
	var row Row // each row in turn, so that a report of any size allocates none
	return r.batches(ctx, r.people, func(start int, b *batch) error {
		for i, p := range b.people {
			reqs := r.eng.requirements(r.view, p)
			if len(reqs) == 0 {
				continue
			}
			roles := roleIDs(p)
			g := r.eng.group(b.facts[i])
			for _, q := range reqs {
				if !r.wants(q) {
					continue
				}
				row = r.eng.evaluate(p, roles, q, g.of(q.module))
				if err := emit(start+i, &row); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// wants reports whether the query keeps the rows of requirement q.
func (r *run) wants(q requirement) bool {
	return len(r.q.Modules) == 0 || slices.Contains(r.q.Modules, r.eng.modules[q.module].ID)
}

// batches reads the facts of people in batches and calls each for every
// batch in order, with the index in people of its first person.
// Goroutines read the facts of the next batches while each works on the
// current one.
func (r *run) batches(ctx context.Context, people []*Person, each func(start int, b *batch) error) error {
	starts := batchStarts(len(people))
	n := len(starts) - 1
	if n == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	var readersDone sync.WaitGroup
	bufs := make([]*batch, readers+1)
	defer func() {
		// The buffers go back to the pool once no reader can touch them.
		cancel()
		readersDone.Wait()
		for _, b := range bufs {
			batchPool.Put(b)
		}
	}()
	work := make(chan int, n)
	for k := range n {
		work <- k
	}
	close(work)
	results := make([]chan *batch, n)
	for k := range results {
		results[k] = make(chan *batch, 1)
	}
	// A reader takes a buffer before a batch number, so the earliest batch
	// not yet evaluated always has one: no deadlock.
	free := make(chan *batch, readers+1)
	for i := range bufs {
		bufs[i] = batchPool.Get().(*batch)
		free <- bufs[i]
	}
	for range readers {
		readersDone.Add(1)
		go func() {
			defer readersDone.Done()
			cache := targetCache{}
			for {
				var b *batch
				select {
				case b = <-free:
				case <-ctx.Done():
					return
				}
				k, ok := <-work
				if !ok {
					return
				}
				b.people = people[starts[k]:starts[k+1]]
				b.err = r.read(ctx, b, cache)
				results[k] <- b
			}
		}()
	}
	for k := range n {
		var b *batch
		select {
		case b = <-results[k]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if b.err != nil {
			return b.err
		}
		if err := each(starts[k], b); err != nil {
			return err
		}
		free <- b
	}
	return nil
}

// Report computes the compliance status of tenant: one row per person and
// required module (see Row), in order of employee id, then module order,
// with campaign rows after role rows. It calls emit for each row as it is
// computed (a report streams) and returns the summary once all rows are
// out. The *Row is valid only during the call (the next row is computed
// into it): emit copies what it keeps. A row's Units, Roles and Rules
// slices may be shared with other rows and with the store: emit may keep
// them but must not modify them.
func Report(ctx context.Context, st Store, tenant string, q Query, emit func(*Row) error) (*Summary, error) {
	r, err := prepare(ctx, st, tenant, q)
	if err != nil {
		return nil, err
	}
	s := newSummer(r, r.eng, r.view, r.units)
	err = r.rows(ctx, func(_ int, row *Row) error {
		if q.Statuses != nil && !slices.Contains(q.Statuses, row.Status) {
			return nil
		}
		s.add(row)
		return emit(row)
	})
	if err != nil {
		return nil, err
	}
	return s.finish(), nil
}

// summer sums up the rows of one day of a run.
type summer struct {
	sum    *Summary
	view   *View
	units  map[string]bool // the query's unit subtrees on the day, nil when none
	roleOf map[string]string
	last   string
	counts []*Counts // of the person's units and the units above them
	roles  []string
}

func newSummer(r *run, eng *engine, view *View, units map[string]bool) *summer {
	s := &summer{view: view, units: units, roleOf: map[string]string{},
		sum: &Summary{AsOf: eng.opts.AsOf, Day: eng.day, KnownAt: r.q.KnownAt,
			Units: map[string]*Counts{}, Roles: map[string]*Counts{}, Modules: map[string]*Counts{}, Campaigns: map[string]*Counts{}}}
	for _, rule := range eng.cat.Rules {
		s.roleOf[rule.ID] = rule.Role
	}
	return s
}

// add counts a row; the rows of a person come together.
func (s *summer) add(row *Row) {
	sum := s.sum
	if row.Person != s.last {
		sum.People++
		s.last = row.Person
		s.counts = s.counts[:0]
		for _, u := range row.Units {
			for _, a := range s.view.Ancestors(u) {
				if s.units == nil || s.units[a] {
					s.counts = appendNew(s.counts, sum.counts(sum.Units, a))
				}
			}
		}
	}
	sum.Total.add(row.Status)
	for _, c := range s.counts {
		c.add(row.Status)
	}
	s.roles = s.roles[:0]
	for _, id := range row.Rules {
		s.roles = appendNew(s.roles, s.roleOf[id])
	}
	for _, role := range s.roles {
		sum.count(sum.Roles, role, row.Status)
	}
	sum.count(sum.Modules, row.Module, row.Status)
	if row.Campaign != "" {
		sum.count(sum.Campaigns, row.Campaign, row.Status)
	}
}

// finish returns the summary once every row is counted.
func (s *summer) finish() *Summary {
	sum := s.sum
	sum.Total.finish()
	for _, m := range []map[string]*Counts{sum.Units, sum.Roles, sum.Modules, sum.Campaigns} {
		for _, c := range m {
			c.finish()
		}
	}
	return sum
}

// ReminderGroup is the people one manager should remind.
type ReminderGroup struct {
	Manager string `json:"manager"` // employee id; "" for people with no manager
	Name    string `json:"name,omitempty"`
	Email   string `json:"email,omitempty"`
	Rows    []Row  `json:"rows"` // filled by Reminders; StreamReminders gives them one by one
}

// StreamReminders computes who is overdue (or expired) or due (or
// expiring) within the given period of the report's day, grouped by the
// managers responsible for them (View.Managers; a person with two managers
// is in both groups), managers sorted by employee id, people without a
// manager last; within a group, by person and module as in Report. It
// calls emit for each row as it is computed, with its group (without
// rows; the same *ReminderGroup for all the rows of a group), so that a
// caller can stream reminders of any size.
func StreamReminders(ctx context.Context, st Store, tenant string, q Query, within Period, emit func(g *ReminderGroup, row *Row) error) error {
	r, managers, err := prepareReminders(ctx, st, tenant, q)
	if err != nil {
		return err
	}
	// List each person once per manager, in the order of the output, and
	// let the report evaluate them in that order. (Reading the facts of
	// people in this order costs some 10 % more than in the order of
	// their ids, which SummariseReminders keeps.)
	type entry struct {
		manager string
		p       *Person
	}
	entries := make([]entry, 0, len(r.people))
	for i, p := range r.people {
		for _, m := range managers[i] {
			entries = append(entries, entry{m, p})
		}
	}
	// r.people is by id: a stable sort keeps that order in each group.
	slices.SortStableFunc(entries, func(a, b entry) int { return compareManagers(a.manager, b.manager) })
	r.people = r.people[:0]
	for _, e := range entries {
		r.people = append(r.people, e.p)
	}
	limit := r.eng.day.Add(within)
	var g *ReminderGroup
	return r.rows(ctx, func(i int, row *Row) error {
		if !row.remind(limit) {
			return nil
		}
		if m := entries[i].manager; g == nil || g.Manager != m {
			g = &ReminderGroup{Manager: m}
			g.Name, g.Email = r.contact(m)
		}
		return emit(g, row)
	})
}

// prepareReminders prepares the run of a reminders report, with the
// managers of each of its people ("" for none).
func prepareReminders(ctx context.Context, st Store, tenant string, q Query) (*run, [][]string, error) {
	r, err := prepare(ctx, st, tenant, q)
	if err != nil {
		return nil, nil, err
	}
	managers := make([][]string, len(r.people))
	for i, p := range r.people {
		if managers[i] = r.view.Managers(p); len(managers[i]) == 0 {
			managers[i] = []string{""}
		}
	}
	return r, managers, nil
}

// compareManagers orders managers by employee id, "" (no manager) last.
func compareManagers(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	return cmp.Compare(a, b)
}

// contact returns the name and e-mail of a manager: as of the report's
// day, or their latest known name if they have left.
func (r *run) contact(manager string) (name, email string) {
	if p := r.view.People[manager]; p != nil {
		return p.Name, p.Email
	}
	return r.view.Name(manager), ""
}

// remind reports whether the row is one to remind of: overdue or expired,
// or due or expiring on or before limit.
func (row *Row) remind(limit Date) bool {
	switch row.Status {
	case StatusOverdue, StatusExpired:
		return true
	case StatusDue, StatusInProgress, StatusNotStarted:
		return row.Due != 0 && row.Due <= limit
	case StatusExpiringSoon, StatusCompleted:
		return row.Expires != 0 && row.Expires <= limit
	}
	return false
}

// Reminders is StreamReminders with the rows collected in their groups.
func Reminders(ctx context.Context, st Store, tenant string, q Query, within Period) ([]ReminderGroup, error) {
	out := []ReminderGroup{}
	err := StreamReminders(ctx, st, tenant, q, within, func(g *ReminderGroup, row *Row) error {
		if n := len(out); n == 0 || out[n-1].Manager != g.Manager {
			out = append(out, *g)
		}
		last := &out[len(out)-1]
		last.Rows = append(last.Rows, *row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReminderCounts counts the rows to remind of.
type ReminderCounts struct {
	Overdue int `json:"overdue"` // overdue or expired
	DueSoon int `json:"dueSoon"` // due, or expiring, within the period
}

func (c *ReminderCounts) add(row *Row) {
	if row.Status == StatusOverdue || row.Status == StatusExpired {
		c.Overdue++
	} else {
		c.DueSoon++
	}
}

// ReminderSummary is what one manager has to remind of, counted: the
// summary form of a ReminderGroup, a few hundred bytes however many
// people the manager has.
type ReminderSummary struct {
	Manager string                     `json:"manager"` // employee id; "" for people with no manager
	Name    string                     `json:"name,omitempty"`
	Email   string                     `json:"email,omitempty"`
	People  int                        `json:"people"` // people to remind
	Total   ReminderCounts             `json:"total"`
	Modules map[string]*ReminderCounts `json:"modules"` // by module id
}

// SummariseReminders counts the reminders of StreamReminders per manager,
// in the same order. It evaluates people in the order of their ids, once
// each.
func SummariseReminders(ctx context.Context, st Store, tenant string, q Query, within Period) ([]ReminderSummary, error) {
	r, managers, err := prepareReminders(ctx, st, tenant, q)
	if err != nil {
		return nil, err
	}
	limit := r.eng.day.Add(within)
	sums := map[string]*ReminderSummary{}
	last := -1 // the person of the previous row counted
	err = r.rows(ctx, func(i int, row *Row) error {
		if !row.remind(limit) {
			return nil
		}
		for _, m := range managers[i] {
			s := sums[m]
			if s == nil {
				s = &ReminderSummary{Manager: m, Modules: map[string]*ReminderCounts{}}
				s.Name, s.Email = r.contact(m)
				sums[m] = s
			}
			if i != last {
				s.People++
			}
			s.Total.add(row)
			c := s.Modules[row.Module]
			if c == nil {
				c = &ReminderCounts{}
				s.Modules[row.Module] = c
			}
			c.add(row)
		}
		last = i
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]ReminderSummary, 0, len(sums))
	for _, s := range sums {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b ReminderSummary) int { return compareManagers(a.Manager, b.Manager) })
	return out, nil
}

// Transcript is everything a person completed, with evidence.
type Transcript struct {
	Person  string             `json:"person"`
	Name    string             `json:"name"`
	Email   string             `json:"email,omitempty"`
	AsOf    time.Time          `json:"asOf"`
	Modules []TranscriptModule `json:"modules"` // the catalog modules completed, by module id
	// Entries are every completion, pass, failure and satisfaction the
	// person's statements record, oldest first, whether or not they count
	// for a module.
	Entries []TranscriptEntry `json:"entries"`
}

// TranscriptModule is a module's latest completion.
type TranscriptModule struct {
	Module    string     `json:"module"`
	Completed time.Time  `json:"completed"`
	Expires   Date       `json:"expires,omitzero"` // by the module's validity
	Score     *float64   `json:"score,omitempty"`
	Evidence  []Evidence `json:"evidence"`
}

// TranscriptEntry is one statement of a transcript.
type TranscriptEntry struct {
	Evidence
	Activities []string `json:"activities"`        // all the activities it counts for
	Modules    []string `json:"modules,omitempty"` // the catalog modules it counts for
}

// StatementGetter reads stored statements (statements.Store has it): the
// source of the authority and the hash of evidence.
type StatementGetter interface {
	Get(ctx context.Context, tenant, id string) (*statements.Record, error)
}

// AddProof fills the Authority and SHA256 of evidence from the stored
// statements: the key of the credential that stored each, and the SHA-256
// of its JSON as the LRS holds it. A statement no longer found is an
// error.
func AddProof(ctx context.Context, stmts StatementGetter, tenant string, evs []Evidence) error {
	ptrs := make([]*Evidence, len(evs))
	for i := range evs {
		ptrs[i] = &evs[i]
	}
	return addProofs(ctx, stmts, tenant, ptrs)
}

// addProofs is AddProof for evidence wherever it is held, reading each
// statement once.
func addProofs(ctx context.Context, stmts StatementGetter, tenant string, evs []*Evidence) error {
	read := map[string]*Evidence{}
	for _, e := range evs {
		if p, ok := read[e.Statement]; ok {
			e.Authority, e.SHA256 = p.Authority, p.SHA256
			continue
		}
		rec, err := stmts.Get(ctx, tenant, e.Statement)
		if err != nil {
			return err
		}
		e.Authority = rec.Authority
		e.SHA256 = statements.StatementSHA256(rec.JSON)
		read[e.Statement] = e
	}
	return nil
}

// PersonTranscript returns the transcript of person (employee id) as of
// opts.AsOf (and as known at opts.KnownAt), or an errs.NotFound error for
// an unknown person. People who have left have transcripts too. With
// stmts, the evidence carries authority and hash (see AddProof).
func PersonTranscript(ctx context.Context, st Store, stmts StatementGetter, tenant, person string, opts Options) (*Transcript, error) {
	opts.defaults(time.Now())
	cat, err := st.Catalog(ctx, tenant)
	if err != nil {
		return nil, err
	}
	rows, err := st.RosterRows(ctx, tenant, RosterFilter{KnownAt: opts.KnownAt, People: []string{person}})
	if err != nil {
		return nil, err
	}
	day := DateOf(opts.AsOf, opts.Location)
	t := &Transcript{Person: person, AsOf: opts.AsOf, Modules: []TranscriptModule{}, Entries: []TranscriptEntry{}}
	var keys []string
	var shown *RosterRow // the employment whose name the transcript shows
	for i := range rows {
		row := &rows[i]
		switch row.Kind {
		case RowPerson:
			// The latest employment started by the day, or else the
			// earliest.
			switch {
			case shown == nil:
				shown = row
			case row.From <= day && (shown.From > day || row.From > shown.From):
				shown = row
			case row.From > day && shown.From > day && row.From < shown.From:
				shown = row
			}
		}
	}
	keys = IdentMatchKeys(rows)
	if shown == nil {
		return nil, errs.E(errs.NotFound, "no person %q in the roster", person)
	}
	t.Name, t.Email = shown.Name, shown.Email
	view := NewView(rows, day)
	eng := newEngine(cat, opts)
	var facts []Fact
	var efacts []efact
	if len(keys) > 0 {
		err = st.Facts(ctx, tenant, keys, func(agent string, fs []Fact) error {
			for i := range fs {
				f := &fs[i]
				if f.Counts(opts.AsOf, opts.KnownAt) && view.HolderAt(agent, f.Timestamp, opts.Location) == person {
					facts = append(facts, *f)
					efacts = eng.convert(efacts, f, nil)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	g := eng.group(efacts)
	modulesOf := map[uuid.UUID][]string{}
	for mi, m := range eng.modules {
		mf := g.of(mi)
		if mf == nil {
			continue
		}
		for _, f := range mf.any {
			modulesOf[f.sid] = append(modulesOf[f.sid], m.ID)
		}
		a, done := achieveModule(m, mf, minInt64)
		if !done {
			continue
		}
		tm := TranscriptModule{Module: m.ID, Completed: time.Unix(0, a.at).UTC(), Score: a.scorePtr(), Evidence: evidenceOf(a.evidence())}
		if !m.Validity.IsZero() {
			tm.Expires = DateOf(time.Unix(0, a.oldest), opts.Location).Add(m.Validity)
		}
		t.Modules = append(t.Modules, tm)
	}
	for i := range facts {
		f := &facts[i]
		if f.Outcome == 0 {
			continue
		}
		e := TranscriptEntry{Evidence: Evidence{Statement: f.Statement.String(), Activity: f.Activities[0],
			Outcome: f.Outcome.String(), Timestamp: f.Timestamp, Stored: f.Stored}, Activities: f.Activities,
			Modules: modulesOf[f.Statement]}
		if f.HasScore {
			s := f.Score
			e.Score = &s
		}
		t.Entries = append(t.Entries, e)
	}
	slices.SortFunc(t.Entries, func(a, b TranscriptEntry) int {
		return cmp.Or(a.Timestamp.Compare(b.Timestamp), cmp.Compare(a.Statement, b.Statement))
	})
	if stmts != nil {
		var evs []*Evidence
		for i := range t.Modules {
			for j := range t.Modules[i].Evidence {
				evs = append(evs, &t.Modules[i].Evidence[j])
			}
		}
		for i := range t.Entries {
			evs = append(evs, &t.Entries[i].Evidence)
		}
		if err := addProofs(ctx, stmts, tenant, evs); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// IdentMatchKeys returns the identifiers (match keys) of the ident rows
// among rows, each once, with the mbox_sha1sum key of each e-mail address:
// the agents whose facts and statements are a person's.
func IdentMatchKeys(rows []RosterRow) []string {
	var keys []string
	for i := range rows {
		if row := &rows[i]; row.Kind == RowIdent {
			keys = appendNew(keys, row.Value)
			if strings.HasPrefix(row.Value, "mbox:") {
				keys = appendNew(keys, sha1Key(row.Value))
			}
		}
	}
	return keys
}

// UnmatchedAgent is a learner whose statements count for nobody: no one in
// the roster has ever held the identifier.
type UnmatchedAgent struct {
	Agent   string    `json:"agent"` // the MatchKey
	Name    string    `json:"name,omitempty"`
	Facts   int       `json:"facts"` // statements projected, not voided
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
	Modules []string  `json:"modules,omitempty"` // catalog modules the statements count for
}

// Unmatched lists the learners with projected statements whom the roster
// (as known at opts.KnownAt) does not know, by agent key. Their facts are
// kept: they count as soon as the person is added.
func Unmatched(ctx context.Context, st Store, tenant string, opts Options) ([]UnmatchedAgent, error) {
	opts.defaults(time.Now())
	cat, err := st.Catalog(ctx, tenant)
	if err != nil {
		return nil, err
	}
	rows, err := st.RosterRows(ctx, tenant, RosterFilter{KnownAt: opts.KnownAt})
	if err != nil {
		return nil, err
	}
	view := cachedView(rows, DateOf(opts.AsOf, opts.Location))
	agents, err := st.FactAgents(ctx, tenant)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, a := range agents {
		if !view.Known(a.Agent) {
			keys = append(keys, a.Agent)
		}
	}
	out := []UnmatchedAgent{}
	if len(keys) == 0 {
		return out, nil
	}
	eng := newEngine(cat, opts)
	var counted []efact
	err = st.Facts(ctx, tenant, keys, func(agent string, fs []Fact) error {
		u := UnmatchedAgent{Agent: agent}
		counted = counted[:0]
		for i := range fs {
			f := &fs[i]
			if !f.Counts(opts.AsOf, opts.KnownAt) {
				continue
			}
			counted = eng.convert(counted, f, nil)
			u.Facts++
			u.Name = f.Name
			if u.First.IsZero() || f.Timestamp.Before(u.First) {
				u.First = f.Timestamp
			}
			if f.Timestamp.After(u.Last) {
				u.Last = f.Timestamp
			}
		}
		if u.Facts == 0 {
			return nil
		}
		for _, mi := range eng.group(counted).used {
			u.Modules = append(u.Modules, eng.modules[mi].ID)
		}
		slices.Sort(u.Modules)
		out = append(out, u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b UnmatchedAgent) int { return cmp.Compare(a.Agent, b.Agent) })
	return out, nil
}
