package reporting

import (
	"bytes"
	"cmp"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Status is the compliance status of one requirement of one person.
type Status string

const (
	StatusExempt       Status = "exempt"        // an exemption covers the module
	StatusCompleted    Status = "completed"     // completed, and not expiring soon
	StatusExpiringSoon Status = "expiring-soon" // completed, expiring within Options.ExpiringWithin
	StatusExpired      Status = "expired"       // completed once, expired since
	StatusOverdue      Status = "overdue"       // not completed, past the due date
	StatusInProgress   Status = "in-progress"   // started, not completed, not overdue
	StatusDue          Status = "due"           // not started, due within Options.DueWithin
	StatusNotStarted   Status = "not-started"   // not started, due later (or no due date)
)

// Statuses lists every status, in the order reports show them.
var Statuses = statuses[:]

var statuses = [...]Status{StatusCompleted, StatusExpiringSoon, StatusExpired, StatusOverdue,
	StatusDue, StatusInProgress, StatusNotStarted, StatusExempt}

// Options are the settings of a report.
type Options struct {
	// AsOf is the instant the report describes: requirements from the
	// roster and rules in effect on its day (by HR's effective dates), and
	// completions whose statement timestamp is at or before it. Zero: now.
	AsOf time.Time
	// KnownAt, when not zero, limits the report to what the LRS had by
	// then: statements stored, voidings stored and roster imports recorded
	// at or before it (to show whether records were back-filled).
	KnownAt time.Time
	// Location is the time zone of the organisation's calendar days (due
	// dates end at midnight there); nil: UTC.
	Location *time.Location
	// ExpiringWithin: a completion expiring within it is "expiring soon"
	// (default P30D).
	ExpiringWithin Period
	// DueWithin: a requirement not started and due within it is "due"
	// (default P14D).
	DueWithin Period
}

func (o *Options) defaults(now time.Time) {
	if o.AsOf.IsZero() {
		o.AsOf = now
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.ExpiringWithin.IsZero() {
		o.ExpiringWithin = Period{Days: 30}
	}
	if o.DueWithin.IsZero() {
		o.DueWithin = Period{Days: 14}
	}
}

// Evidence is one statement proving (part of) a completion.
type Evidence struct {
	Statement string    `json:"statement"`
	Activity  string    `json:"activity"` // the statement's object
	Outcome   string    `json:"outcome"`  // e.g. "completed", "passed", "completed+passed"
	Score     *float64  `json:"score,omitempty"`
	Timestamp time.Time `json:"timestamp"`
	Stored    time.Time `json:"stored"`
	// Authority (the key of the credential that stored the statement) and
	// SHA256 (of the statement's JSON as the LRS holds it) are read from
	// the statement for evidence packs and transcripts (see AddProof).
	Authority string `json:"authority,omitempty"`
	SHA256    string `json:"sha256,omitempty"`
}

// Row is one requirement of one person: a module required by the person's
// roles (one row however many rules require it) or by a campaign (one row
// per campaign).
type Row struct {
	Person   string   `json:"person"` // employee id
	Name     string   `json:"name"`
	Email    string   `json:"email,omitempty"`
	Units    []string `json:"units"` // the person's units on the report's day
	Roles    []string `json:"roles"`
	Module   string   `json:"module"`
	Campaign string   `json:"campaign,omitempty"` // set on campaign rows
	Rules    []string `json:"rules,omitempty"`    // the rules requiring the module (role rows)
	Status   Status   `json:"status"`
	Due      Date     `json:"due,omitzero"`
	// Completed is the time of the completion: the timestamp of its latest
	// evidence statement.
	Completed time.Time  `json:"completed,omitzero"`
	Expires   Date       `json:"expires,omitzero"` // the first day the completion no longer counts
	Score     *float64   `json:"score,omitempty"`
	Evidence  []Evidence `json:"evidence,omitempty"`
	Exemption string     `json:"exemption,omitempty"` // the reason, on exempt rows
}

// requirement is one row to evaluate.
type requirement struct {
	module   int // index in the engine's modules
	rules    []string
	campaign string
	due      Date
	since    int64 // completions count from here (Unix ns; campaigns), or minInt
	validity Period
	exempt   *Exemption
}

const minInt64 = -1 << 63

// efact is a fact as the engine keeps it: compact, with the modules and
// parts it counts for resolved.
type efact struct {
	sid      uuid.UUID
	reg      uuid.UUID // the registration, or uuid.Nil
	set      *actSet
	outcome  Outcome
	hasScore bool
	score    float64
	ts       int64 // Unix nanoseconds
	stored   int64
}

// actSet is an activity set of facts and what facts on it count for.
type actSet struct {
	acts    []string
	targets []target
}

func (f *efact) timestamp() time.Time { return time.Unix(0, f.ts).UTC() }

// target is a module (part -1) or one of its parts.
type target struct{ module, part int }

// engine evaluates requirements against facts. It is built once per report
// from the catalog. convert is safe for concurrent use (with a cache per
// goroutine); requirements, group and evaluate are used by one goroutine.
type engine struct {
	opts    Options
	day     Date
	modules []*Module
	byID    map[string]int
	acts    map[string][]target // activity IRI -> what facts on it count for
	cat     *Catalog

	rulesByRole map[string][]*Rule      // rules in force on the day
	exemptions  map[string][]*Exemption // by person, in force on the day
	campaigns   []*Campaign             // started by the day
	subtree     map[string]map[string]bool

	noEvidence bool // rows without Evidence (only counted: Trend)

	grp     groups             // reused by evaluation
	reqs    []requirement      // reused by requirements
	ruleIDs map[*Rule][]string // []string{rule.ID}, shared by the rows of one rule
}

func newEngine(cat *Catalog, opts Options) *engine {
	e := &engine{opts: opts, day: DateOf(opts.AsOf, opts.Location), modules: cat.Modules,
		byID: map[string]int{}, acts: map[string][]target{}, cat: cat,
		rulesByRole: map[string][]*Rule{}, exemptions: map[string][]*Exemption{},
		subtree: map[string]map[string]bool{}}
	for i, m := range cat.Modules {
		e.byID[m.ID] = i
		for _, a := range m.Activities {
			e.acts[a] = append(e.acts[a], target{i, -1})
		}
		for j, a := range m.Parts {
			e.acts[a] = append(e.acts[a], target{i, j})
		}
	}
	e.ruleIDs = map[*Rule][]string{}
	for _, r := range cat.Rules {
		if r.Effective.Contains(e.day) {
			e.rulesByRole[r.Role] = append(e.rulesByRole[r.Role], r)
			e.ruleIDs[r] = []string{r.ID} // len = cap = 1: appending copies
		}
	}
	for _, x := range cat.Exemptions {
		if x.Effective.Contains(e.day) {
			e.exemptions[x.Person] = append(e.exemptions[x.Person], x)
		}
	}
	for _, c := range cat.Campaigns {
		if c.Start <= e.day {
			e.campaigns = append(e.campaigns, c)
		}
	}
	e.grp.mods = make([]moduleFacts, len(cat.Modules))
	for i, m := range cat.Modules {
		e.grp.mods[i].parts = make([][]*efact, len(m.Parts))
	}
	return e
}

// targetCache caches activity sets by the address of their first element
// (stores share one slice per set), for one goroutine.
type targetCache map[*string]*actSet

// convert appends f to buf as an efact if it counts for some module. cache
// may be nil.
func (e *engine) convert(buf []efact, f *Fact, cache targetCache) []efact {
	if len(f.Activities) == 0 {
		return buf
	}
	key := &f.Activities[0]
	set, ok := cache[key]
	if !ok {
		set = &actSet{acts: f.Activities}
		for _, a := range f.Activities {
			for _, t := range e.acts[a] {
				if !slices.Contains(set.targets, t) {
					set.targets = append(set.targets, t)
				}
			}
		}
		if cache != nil {
			cache[key] = set
		}
	}
	if len(set.targets) == 0 {
		return buf
	}
	return append(buf, efact{sid: f.Statement, reg: f.Registration, set: set, outcome: f.Outcome,
		hasScore: f.HasScore, score: f.Score, ts: f.Timestamp.UnixNano(), stored: f.Stored.UnixNano()})
}

// requirements returns what person p must complete on the engine's day, in
// module order, campaign rows after role rows. The result is valid until
// the next call.
func (e *engine) requirements(v *View, p *Person) []requirement {
	reqs := e.reqs[:0]
	defer func() { e.reqs = reqs[:0] }()
	for _, a := range p.Roles {
		for _, r := range e.rulesByRole[a.ID] {
			base := a.From
			if r.DueFrom == FromStart {
				base = p.Employment.From
			}
			var due Date
			if base != 0 {
				due = base.Add(r.DueWithin)
			}
			for _, id := range r.Modules {
				mi, ok := e.byID[id]
				if !ok {
					continue
				}
				validity := r.Renewal
				if validity.IsZero() {
					validity = e.modules[mi].Validity
				}
				i := slices.IndexFunc(reqs, func(q requirement) bool { return q.module == mi })
				if i < 0 {
					reqs = append(reqs, requirement{module: mi, rules: e.ruleIDs[r], due: due, validity: validity, since: minInt64})
					continue
				}
				q := &reqs[i]
				q.rules = appendNew(q.rules, r.ID)
				if due != 0 && (q.due == 0 || due < q.due) {
					q.due = due
				}
				q.validity = shorter(q.validity, validity)
			}
		}
	}
	slices.SortFunc(reqs, func(a, b requirement) int { return cmp.Compare(a.module, b.module) })
	for _, c := range e.campaigns {
		if p.Employment.From > c.End || !e.inCampaign(v, c, p) {
			continue
		}
		for _, id := range c.Modules {
			if mi, ok := e.byID[id]; ok {
				reqs = append(reqs, requirement{module: mi, campaign: c.ID, due: c.End, since: c.Start.Start(e.opts.Location).UnixNano()})
			}
		}
	}
	if xs := e.exemptions[p.ID]; len(xs) > 0 {
		for i := range reqs {
			m := e.modules[reqs[i].module]
			for _, x := range xs {
				if x.Module == m.ID {
					reqs[i].exempt = x
					break
				}
			}
		}
	}
	return reqs
}

// shorter returns the shorter of two validity periods, a zero one meaning
// "never expires" (so the other wins).
func shorter(a, b Period) Period {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	}
	if approxDays(b) < approxDays(a) {
		return b
	}
	return a
}

func approxDays(p Period) int { return 365*p.Years + 30*p.Months + 7*p.Weeks + p.Days }

func (e *engine) inCampaign(v *View, c *Campaign, p *Person) bool {
	if len(c.Roles) > 0 && !slices.ContainsFunc(p.Roles, func(a Assignment) bool { return slices.Contains(c.Roles, a.ID) }) {
		return false
	}
	if len(c.Units) == 0 {
		return true
	}
	sub, ok := e.subtree[c.ID]
	if !ok {
		sub = v.Subtree(c.Units)
		e.subtree[c.ID] = sub
	}
	for _, u := range p.Units {
		if sub[u] {
			return true
		}
	}
	return false
}

// moduleFacts are a person's facts that count for one module.
type moduleFacts struct {
	module []*efact   // on one of its Activities
	parts  [][]*efact // on each of its Parts
	any    []*efact   // all of them
}

// groups are one person's facts by module, in buffers reused from person
// to person.
type groups struct {
	mods []moduleFacts // by module index
	used []int         // the modules with facts
}

// group sorts the facts of a person by the module (and part) they count
// for. The result is valid until the next call.
func (e *engine) group(facts []efact) *groups {
	g := &e.grp
	for _, mi := range g.used {
		mf := &g.mods[mi]
		mf.module, mf.any = mf.module[:0], mf.any[:0]
		for j := range mf.parts {
			mf.parts[j] = mf.parts[j][:0]
		}
	}
	g.used = g.used[:0]
	for i := range facts {
		f := &facts[i]
		last := -1
		for _, t := range f.set.targets {
			mf := &g.mods[t.module]
			if len(mf.any) == 0 {
				g.used = append(g.used, t.module)
			}
			if t.part < 0 {
				mf.module = append(mf.module, f)
			} else {
				mf.parts[t.part] = append(mf.parts[t.part], f)
			}
			if t.module != last && (len(mf.any) == 0 || mf.any[len(mf.any)-1] != f) {
				mf.any = append(mf.any, f)
			}
			last = t.module
		}
	}
	return g
}

// of returns the facts of module mi, or nil when there are none.
func (g *groups) of(mi int) *moduleFacts {
	if len(g.mods[mi].any) == 0 {
		return nil
	}
	return &g.mods[mi]
}

// achievement is a completion: the facts proving it. It is a value, kept
// by the caller: a report finds hundreds of thousands.
type achievement struct {
	at, oldest int64     // latest and earliest evidence timestamps (Unix ns)
	ev         [3]*efact // the evidence of one proof
	n          int
	parts      []*efact // the evidence of a completion of every part, when it is one
	score      float64
	hasScore   bool
}

// evidence returns the facts proving a.
func (a *achievement) evidence() []*efact {
	if a.parts != nil {
		return a.parts
	}
	return a.ev[:a.n]
}

// scorePtr returns the score of a, or nil.
func (a *achievement) scorePtr() *float64 {
	if !a.hasScore {
		return nil
	}
	s := a.score
	return &s
}

// later reports whether fact a is later than b (by timestamp, then stored
// time, then id, so that the choice is deterministic).
func later(a, b *efact) bool {
	if a.ts != b.ts {
		return a.ts > b.ts
	}
	if a.stored != b.stored {
		return a.stored > b.stored
	}
	return slices.Compare(a.sid[:], b.sid[:]) > 0
}

// proof is what the statements of one registration (or one statement
// without a registration) show up to some point: the latest of them
// carrying a completion, a success status (passed, failed or satisfied) and
// a score. A later value replaces an earlier one, as a SCORM attempt's
// lesson status and score do.
type proof struct {
	completion, success, scored *efact
}

func (p *proof) add(f *efact) {
	if f.outcome&(OutcomeCompleted|OutcomeSatisfied) != 0 {
		p.completion = f
	}
	if f.outcome&(OutcomePassed|OutcomeFailed|OutcomeSatisfied) != 0 {
		p.success = f
	}
	if f.hasScore {
		p.scored = f
	}
}

// carries reports whether f carries an outcome the rule of m asks for: a
// proof is judged at such a statement, with the score recorded up to it.
func carries(m *Module, f *efact) bool {
	switch m.Completion {
	case Completed:
		return f.outcome&(OutcomeCompleted|OutcomeSatisfied) != 0
	case Passed:
		return f.outcome&(OutcomePassed|OutcomeSatisfied) != 0
	}
	return f.outcome&(OutcomeCompleted|OutcomePassed|OutcomeSatisfied) != 0
}

// candidate is a set of facts meeting a module's whole rule.
type candidate struct {
	ev         [3]*efact // the completion, the pass and the score, without repeats
	n          int
	at, oldest int64 // latest and earliest timestamps of ev
	last       *efact
}

// meets returns the facts of p that meet the rule of m, or false.
func (p *proof) meets(m *Module) (c candidate, ok bool) {
	add := func(f *efact) {
		if slices.Contains(c.ev[:c.n], f) {
			return
		}
		c.ev[c.n] = f
		c.n++
		if c.last == nil || later(f, c.last) {
			c.last = f
		}
		if c.n == 1 || f.ts < c.oldest {
			c.oldest = f.ts
		}
	}
	passed := p.success != nil && p.success.outcome&(OutcomePassed|OutcomeSatisfied) != 0
	switch m.Completion {
	case Completed:
		if p.completion == nil {
			return c, false
		}
		add(p.completion)
	case Passed:
		if !passed {
			return c, false
		}
		add(p.success)
	case CompletedAndPassed:
		if p.completion == nil || !passed {
			return c, false
		}
		add(p.completion)
		add(p.success)
	case CompletedOrPassed:
		switch {
		case passed && (p.completion == nil || later(p.success, p.completion)):
			add(p.success)
		case p.completion != nil:
			add(p.completion)
		default:
			return c, false
		}
	default:
		return c, false
	}
	if m.MinScore != nil {
		s := p.scored
		if s == nil || s.score < *m.MinScore || s.outcome.Has(OutcomeFailed) {
			return c, false
		}
		add(s)
	}
	c.at = c.last.ts
	return c, true
}

// lastsLonger reports whether c is a better proof than d: its oldest
// evidence is later (so it expires later), then its latest, then (for a
// deterministic choice) its latest fact is later.
func (c *candidate) lastsLonger(d *candidate) bool {
	if c.oldest != d.oldest {
		return c.oldest > d.oldest
	}
	if c.at != d.at {
		return c.at > d.at
	}
	return later(c.last, d.last)
}

// achieve evaluates the completion rule of m on facts (of one activity
// set), counting only facts at or after since. The rule, score included,
// must be met by one statement, or by the statements of one registration
// judged at a statement carrying the outcome with the latest values of
// the registration up to it (see CompletionRule). Of the proofs found,
// the one that lasts longest wins: of single statements, the newest.
func achieve(m *Module, facts []*efact, since int64) (achievement, bool) {
	var best candidate
	consider := func(p *proof) {
		if c, ok := p.meets(m); ok && (best.n == 0 || c.lastsLonger(&best)) {
			best = c
		}
	}
	var buf [16]*efact
	registered := buf[:0]
	for _, f := range facts {
		switch {
		case f.ts < since:
		case f.reg != uuid.Nil:
			registered = append(registered, f)
		case carries(m, f):
			p := proof{}
			p.add(f)
			consider(&p)
		}
	}
	if len(registered) > 0 {
		slices.SortFunc(registered, func(a, b *efact) int {
			if c := bytes.Compare(a.reg[:], b.reg[:]); c != 0 {
				return c
			}
			switch {
			case later(a, b):
				return 1
			case later(b, a):
				return -1
			}
			return 0
		})
		var p proof
		for i, f := range registered {
			if i > 0 && f.reg != registered[i-1].reg {
				p = proof{}
			}
			p.add(f)
			if carries(m, f) {
				consider(&p)
			}
		}
	}
	if best.n == 0 {
		return achievement{}, false
	}
	a := achievement{at: best.at, oldest: best.oldest, ev: best.ev, n: best.n}
	var scored *efact
	for _, f := range a.ev[:a.n] {
		if f.hasScore && (scored == nil || later(f, scored)) {
			scored = f
		}
	}
	if scored != nil {
		a.score, a.hasScore = scored.score, true
	}
	return a, true
}

// achieveModule evaluates module m on the facts counting for it: a
// completion on the module's own activities, or one on every part,
// whichever lasts longer.
func achieveModule(m *Module, mf *moduleFacts, since int64) (achievement, bool) {
	if mf == nil {
		return achievement{}, false
	}
	best, ok := achieve(m, mf.module, since)
	if len(m.Parts) == 0 {
		return best, ok
	}
	var combined achievement
	for i, facts := range mf.parts {
		a, done := achieve(m, facts, since)
		if !done {
			return best, ok
		}
		for _, f := range a.evidence() {
			if !slices.Contains(combined.parts, f) {
				combined.parts = append(combined.parts, f)
			}
		}
		if i == 0 || a.at > combined.at {
			combined.at = a.at
		}
		if i == 0 || a.oldest < combined.oldest {
			combined.oldest = a.oldest
		}
		if a.hasScore && (!combined.hasScore || a.score < combined.score) {
			combined.score, combined.hasScore = a.score, true
		}
	}
	if !ok || combined.oldest > best.oldest || combined.oldest == best.oldest && combined.at > best.at {
		return combined, true
	}
	return best, true
}

// evaluate computes the row of one requirement; roles are p's role ids.
func (e *engine) evaluate(p *Person, roles []string, q requirement, mf *moduleFacts) Row {
	m := e.modules[q.module]
	row := Row{Person: p.ID, Name: p.Name, Email: p.Email, Units: orNone(p.Units), Roles: orNone(roles),
		Module: m.ID, Campaign: q.campaign, Rules: q.rules, Due: q.due}
	a, done := achieveModule(m, mf, q.since)
	if done {
		row.Completed = time.Unix(0, a.at).UTC()
		row.Score = a.scorePtr()
		if !e.noEvidence {
			row.Evidence = evidenceOf(a.evidence())
		}
		if !q.validity.IsZero() {
			row.Expires = DateOf(time.Unix(0, a.oldest), e.opts.Location).Add(q.validity)
		}
	}
	switch {
	case q.exempt != nil:
		row.Status = StatusExempt
		row.Exemption = q.exempt.Reason
		if row.Exemption == "" {
			row.Exemption = q.exempt.ID
		}
	case done && row.Expires != 0 && e.day >= row.Expires:
		row.Status = StatusExpired
	case done && row.Expires != 0 && e.day >= row.Expires.Add(negate(e.opts.ExpiringWithin)):
		row.Status = StatusExpiringSoon
	case done:
		row.Status = StatusCompleted
	case q.due != 0 && e.day > q.due:
		row.Status = StatusOverdue
	case started(mf, q.since):
		row.Status = StatusInProgress
	case q.due != 0 && e.day >= q.due.Add(negate(e.opts.DueWithin)):
		row.Status = StatusDue
	default:
		row.Status = StatusNotStarted
	}
	return row
}

// negate returns -p (for moving a date back).
func negate(p Period) Period { return Period{-p.Years, -p.Months, -p.Weeks, -p.Days} }

func started(mf *moduleFacts, since int64) bool {
	if mf == nil {
		return false
	}
	for _, f := range mf.any {
		if f.ts >= since {
			return true
		}
	}
	return false
}

func roleIDs(p *Person) []string {
	out := make([]string, len(p.Roles))
	for i, a := range p.Roles {
		out[i] = a.ID
	}
	return out
}

// evidenceOf describes facts as evidence, oldest first.
func evidenceOf(facts []*efact) []Evidence {
	out := make([]Evidence, len(facts))
	for i, f := range facts {
		out[i] = Evidence{Statement: f.sid.String(), Activity: f.set.acts[0], Outcome: f.outcome.String(),
			Timestamp: f.timestamp(), Stored: time.Unix(0, f.stored).UTC()}
		if f.hasScore {
			s := f.score
			out[i].Score = &s
		}
	}
	slices.SortFunc(out, func(a, b Evidence) int {
		return cmp.Or(a.Timestamp.Compare(b.Timestamp), cmp.Compare(a.Statement, b.Statement))
	})
	return out
}

// none is the empty list rows carry instead of nil, so that JSON shows []
// rather than null; it is never appended to.
var none = []string{}

func orNone(list []string) []string {
	if list == nil {
		return none
	}
	return list
}
