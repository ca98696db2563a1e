package reporting

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// CompletionRule says which outcomes complete a module.
//
// The evidence of a completion meets the whole rule, minimum score
// included: one statement that does (a passed scoring enough; for
// completed-and-passed, one carrying both, such as a cmi5 or SCORM
// terminated statement with result.completion and result.success true, a
// passed with result.completion true, or cmi5's satisfied), or statements
// of one registration (context.registration) that do together. A
// registration is one cmi5 registration, or one Moodle session
// (logstore_xapi sends a SCORM attempt's score and its status as two
// statements, and the module's completion as a third). Its statements are
// read in time order, each value replacing the one before, as in a SCORM
// attempt: the rule is judged at each statement carrying an outcome the
// rule asks for, with the registration's latest completion, success status
// (passed, failed or satisfied) and score up to that statement. So a score
// counts for the status it comes with or before, not for an earlier one,
// and after a failure a completion no longer combines with the
// registration's earlier pass; a proof once met stands, whatever follows.
// Statements of different registrations, or without one, never combine:
// a completed scoring 0.9 followed by an unscored passed, or a passed
// scoring 0.5 followed by a completed scoring 0.95, is not a pass with
// 0.9.
//
// Of several proofs, the one that lasts longest counts (of single
// statements, the newest). Its latest statement dates the completion and
// its earliest the expiry: the same statement, unless a registration's
// statements or a module's parts make the proof.
type CompletionRule string

const (
	Completed          CompletionRule = "completed"
	Passed             CompletionRule = "passed"
	CompletedAndPassed CompletionRule = "completed-and-passed"
	CompletedOrPassed  CompletionRule = "completed-or-passed"
)

func (r CompletionRule) valid() bool {
	switch r {
	case Completed, Passed, CompletedAndPassed, CompletedOrPassed:
		return true
	}
	return false
}

// Module is one entry of the module catalog: a piece of mandatory training,
// whatever platform delivers it.
type Module struct {
	ID    string            `json:"id"`
	Title map[string]string `json:"title"` // a language map, e.g. {"nb-NO": "Grunnleggende informasjonssikkerhet"}
	// Activities are the activity IRIs that identify the module: a fact
	// whose activities (object, or for cmi5 statements a context parent or
	// grouping, for SCORM-profile statements a context parent; see
	// Project) include one of them counts for it. A
	// module delivered by several packages or platforms lists the IRI of
	// each; a cmi5 course lists its course publisher id, which the LMS puts
	// in the grouping of its "satisfied" statement.
	Activities []string `json:"activities"`
	// Parts, when set, are activities that must each meet the completion
	// rule for the module to count as completed (e.g. the publisher ids of
	// the AUs of a cmi5 course, or the SCOs of a package): the module is
	// completed by a fact on one of Activities meeting the rule, or by every
	// part meeting it.
	Parts      []string       `json:"parts,omitempty"`
	Completion CompletionRule `json:"completion"`
	// MinScore, when set, is the lowest result.score.scaled (0..1) that
	// counts: the statement meeting the rule must carry at least this
	// score and not be a failure (within a registration, the latest score
	// up to it; see CompletionRule).
	MinScore *float64 `json:"minScore,omitempty"`
	// Validity, when set, is how long a completion counts (e.g. P1Y): it
	// expires that long after its date and must be renewed.
	Validity Period `json:"validity,omitzero"`
}

// DueBase says what a rule's due date counts from.
type DueBase string

const (
	FromAssignment DueBase = "assignment" // the first day of the role assignment (the default)
	FromStart      DueBase = "start"      // the person's start date
)

// Rule requires the holders of a role to complete modules.
type Rule struct {
	ID      string   `json:"id"`
	Role    string   `json:"role"`
	Modules []string `json:"modules"`
	// DueWithin is the time allowed, counted from DueFrom (e.g. P30D); zero:
	// due on that day.
	DueWithin Period  `json:"dueWithin,omitzero"`
	DueFrom   DueBase `json:"dueFrom,omitempty"`
	// Renewal, when set, is how long a completion counts for this rule,
	// instead of the module's Validity.
	Renewal Period `json:"renewal,omitzero"`
	// Effective is when the rule is in force (zero bounds: unbounded).
	Effective Interval `json:"effective,omitzero"`
	// Reminders, when set, is when the rule's requirements are reminded
	// of by e-mail (package reminders); nil: the service's schedule.
	Reminders *ReminderSchedule `json:"reminders,omitempty"`
}

// ReminderSchedule says on which days a requirement is reminded of by
// e-mail: Before days before its deadline (e.g. 14 and 3), then every
// Every days while it is overdue (0: never again). Package reminders
// applies it (reminders.Schedule).
type ReminderSchedule struct {
	Before []int `json:"before"`
	Every  int   `json:"every"`
}

// maxReminderDays bounds the days of a reminder schedule.
const maxReminderDays = 366

// validate checks s (nil: none), returning an errs.Invalid error naming
// the field under path.
func (s *ReminderSchedule) validate(path string) error {
	if s == nil {
		return nil
	}
	for _, b := range s.Before {
		if b < 0 || b > maxReminderDays {
			return errs.Invalidf(path+".before", "reminder-schedule", "days before a deadline are 0 to %d, got %d", maxReminderDays, b)
		}
	}
	if s.Every < 0 || s.Every > maxReminderDays {
		return errs.Invalidf(path+".every", "reminder-schedule", "every is 0 (never while overdue) to %d days, got %d", maxReminderDays, s.Every)
	}
	if len(s.Before) == 0 && s.Every == 0 {
		return errs.Invalidf(path, "reminder-schedule", "a reminder schedule needs days before the deadline or an interval while overdue")
	}
	return nil
}

// Campaign requires everyone in some units (and their sub-units) and/or
// roles to complete modules between two dates, e.g. a security month.
type Campaign struct {
	ID    string            `json:"id"`
	Title map[string]string `json:"title,omitempty"`
	Units []string          `json:"units,omitempty"` // roots of unit subtrees; none: everyone
	Roles []string          `json:"roles,omitempty"` // none: any role
	// Modules must be completed on or after Start; they are due on End.
	Modules []string `json:"modules"`
	Start   Date     `json:"start"`
	End     Date     `json:"end"`
	// Reminders, when set, is when the campaign's requirements are
	// reminded of; nil: the service's schedule.
	Reminders *ReminderSchedule `json:"reminders,omitempty"`
}

// Exemption releases a person from a module (all rules and campaigns
// requiring it) for a while, e.g. long-term leave or training given
// elsewhere.
type Exemption struct {
	ID        string   `json:"id"`
	Person    string   `json:"person"` // employee id
	Module    string   `json:"module"`
	Effective Interval `json:"effective,omitzero"`
	Reason    string   `json:"reason,omitempty"`
}

// validID checks the id of a catalog entry: 1 to 128 characters of letters,
// digits and . _ - : (safe in URLs and file names).
func validID(path, id string) error {
	if id == "" || len(id) > 128 {
		return errs.Invalidf(path, "id", "an id must be 1 to 128 characters long")
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == ':') {
			return errs.Invalidf(path, "id", "%q: an id may hold letters a-z, A-Z, digits and . _ - : only", id)
		}
	}
	return nil
}

func validLangMap(path string, m map[string]string, required bool) error {
	if len(m) == 0 && required {
		return errs.Invalidf(path, "language-map", "give the title in at least one language, e.g. {\"nb-NO\": \"…\"}")
	}
	for tag, s := range m {
		if !statements.ValidLanguageTag(tag) {
			return errs.Invalidf(path, "language-map", "%q is not an RFC 5646 language tag", tag)
		}
		if s == "" {
			return errs.Invalidf(path+"."+tag, "language-map", "the title must not be empty")
		}
	}
	return nil
}

func validIRIs(path string, iris []string, required bool) error {
	if len(iris) == 0 && required {
		return errs.Invalidf(path, "activities", "list at least one activity IRI")
	}
	for i, s := range iris {
		if !statements.ValidIRI(s) {
			return errs.Invalidf(fmt.Sprintf("%s[%d]", path, i), "iri", "%q is not an absolute IRI", s)
		}
	}
	if dup := firstDuplicate(iris); dup != "" {
		return errs.Invalidf(path, "duplicate", "%q is listed twice", dup)
	}
	return nil
}

func validIDs(path string, ids []string, required bool) error {
	if len(ids) == 0 && required {
		return errs.Invalidf(path, "required", "list at least one")
	}
	for i, id := range ids {
		if err := validID(fmt.Sprintf("%s[%d]", path, i), id); err != nil {
			return err
		}
	}
	if dup := firstDuplicate(ids); dup != "" {
		return errs.Invalidf(path, "duplicate", "%q is listed twice", dup)
	}
	return nil
}

func firstDuplicate(list []string) string {
	seen := make(map[string]bool, len(list))
	for _, s := range list {
		if seen[s] {
			return s
		}
		seen[s] = true
	}
	return ""
}

// Validate checks m, returning an errs.Invalid error naming the field.
func (m *Module) Validate() error {
	if err := validID("id", m.ID); err != nil {
		return err
	}
	if err := validLangMap("title", m.Title, true); err != nil {
		return err
	}
	if err := validIRIs("activities", m.Activities, true); err != nil {
		return err
	}
	if err := validIRIs("parts", m.Parts, false); err != nil {
		return err
	}
	if !m.Completion.valid() {
		return errs.Invalidf("completion", "completion-rule", "%q is not a completion rule: use completed, passed, completed-and-passed or completed-or-passed", m.Completion)
	}
	if m.MinScore != nil && (math.IsNaN(*m.MinScore) || *m.MinScore < 0 || *m.MinScore > 1) {
		return errs.Invalidf("minScore", "score-range", "minScore is a scaled score between 0 and 1")
	}
	return validPeriod("validity", m.Validity)
}

func validPeriod(path string, p Period) error {
	if p.Years < 0 || p.Months < 0 || p.Weeks < 0 || p.Days < 0 {
		return errs.Invalidf(path, "period", "a period must not be negative")
	}
	return nil
}

func validInterval(path string, iv Interval) error {
	if iv.Empty() {
		return errs.Invalidf(path, "interval", "the interval %s is empty: its end must come after its start", iv)
	}
	return nil
}

// Validate checks r, returning an errs.Invalid error naming the field.
func (r *Rule) Validate() error {
	if err := validID("id", r.ID); err != nil {
		return err
	}
	if err := validID("role", r.Role); err != nil {
		return err
	}
	if err := validIDs("modules", r.Modules, true); err != nil {
		return err
	}
	switch r.DueFrom {
	case "", FromAssignment, FromStart:
	default:
		return errs.Invalidf("dueFrom", "due-from", "%q: dueFrom is \"assignment\" or \"start\"", r.DueFrom)
	}
	if err := validPeriod("dueWithin", r.DueWithin); err != nil {
		return err
	}
	if err := validPeriod("renewal", r.Renewal); err != nil {
		return err
	}
	if err := r.Reminders.validate("reminders"); err != nil {
		return err
	}
	return validInterval("effective", r.Effective)
}

// Validate checks c, returning an errs.Invalid error naming the field.
func (c *Campaign) Validate() error {
	if err := validID("id", c.ID); err != nil {
		return err
	}
	if err := validLangMap("title", c.Title, false); err != nil {
		return err
	}
	if err := validIDs("units", c.Units, false); err != nil {
		return err
	}
	if err := validIDs("roles", c.Roles, false); err != nil {
		return err
	}
	if err := validIDs("modules", c.Modules, true); err != nil {
		return err
	}
	if c.Start == 0 || c.End == 0 {
		return errs.Invalidf("start", "required", "a campaign needs a start and an end date")
	}
	if c.End < c.Start {
		return errs.Invalidf("end", "interval", "the campaign ends (%s) before it starts (%s)", c.End, c.Start)
	}
	return c.Reminders.validate("reminders")
}

// Validate checks e, returning an errs.Invalid error naming the field.
func (e *Exemption) Validate() error {
	if err := validID("id", e.ID); err != nil {
		return err
	}
	if err := validID("person", e.Person); err != nil {
		return err
	}
	if err := validID("module", e.Module); err != nil {
		return err
	}
	return validInterval("effective", e.Effective)
}

// Catalog is everything configured besides the roster: modules, rules,
// campaigns and exemptions, each sorted by id.
type Catalog struct {
	Modules    []*Module
	Rules      []*Rule
	Campaigns  []*Campaign
	Exemptions []*Exemption
}

// Module returns the module with the id, or nil.
func (c *Catalog) Module(id string) *Module {
	i := sort.Search(len(c.Modules), func(i int) bool { return c.Modules[i].ID >= id })
	if i < len(c.Modules) && c.Modules[i].ID == id {
		return c.Modules[i]
	}
	return nil
}

// References returns the ids of the rules, campaigns and exemptions that
// name module id (a module they name must not be deleted).
func (c *Catalog) References(id string) []string {
	var out []string
	for _, r := range c.Rules {
		if slices.Contains(r.Modules, id) {
			out = append(out, "rule "+r.ID)
		}
	}
	for _, k := range c.Campaigns {
		if slices.Contains(k.Modules, id) {
			out = append(out, "campaign "+k.ID)
		}
	}
	for _, e := range c.Exemptions {
		if e.Module == id {
			out = append(out, "exemption "+e.ID)
		}
	}
	return out
}
