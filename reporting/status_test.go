package reporting

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// evalRows runs the engine for one person on facts, as of day, and
// renders the rows.
func evalRows(t *testing.T, cat *Catalog, rows []RosterRow, facts []Fact, day string) []string {
	t.Helper()
	asOf := MustDate(day).Start(time.UTC).Add(12 * time.Hour)
	opts := Options{AsOf: asOf}
	opts.defaults(asOf)
	e := newEngine(cat, opts)
	v := NewView(rows, e.day)
	var out []string
	for _, id := range v.SortedPeople() {
		p := v.People[id]
		var efs []efact
		for i := range facts {
			if facts[i].Counts(asOf, time.Time{}) {
				efs = e.convert(efs, &facts[i], nil)
			}
		}
		g := e.group(efs)
		for _, q := range e.requirements(v, p) {
			r := e.evaluate(p, roleIDs(p), q, g.of(q.module))
			s := fmt.Sprintf("%s %s %s", r.Module, r.Campaign, r.Status)
			if r.Due != 0 {
				s += " due=" + r.Due.String()
			}
			if r.Expires != 0 {
				s += " expires=" + r.Expires.String()
			}
			for _, ev := range r.Evidence {
				s += " " + ev.Activity[strings.LastIndexByte(ev.Activity, '/')+1:] + "@" + ev.Timestamp.Format("2006-01-02")
			}
			out = append(out, strings.Join(strings.Fields(s), " "))
		}
	}
	return out
}

func fact1(act string, day string, o Outcome, score ...float64) Fact {
	ts := MustDate(day).Start(time.UTC).Add(9 * time.Hour)
	f := Fact{Statement: uuid.New(), Agent: "mbox:mailto:p1@kommune.no", Activities: []string{"https://lms.example/" + act},
		Outcome: o, Timestamp: ts, Stored: ts}
	if len(score) > 0 {
		f.HasScore, f.Score = true, score[0]
	}
	return f
}

func onePerson(roles ...string) []RosterRow {
	rows := []RosterRow{
		{Kind: RowUnit, Key: "u"},
		{Kind: RowPerson, Key: "p1", Name: "P", Interval: Interval{From: MustDate("2025-01-01")}},
		{Kind: RowMember, Key: "p1", Value: "u", Interval: Interval{From: MustDate("2025-01-01")}},
		{Kind: RowIdent, Key: "p1", Value: "mbox:mailto:p1@kommune.no"},
	}
	for _, r := range roles {
		rows = append(rows, RosterRow{Kind: RowRole, Key: "p1", Value: r, Interval: Interval{From: MustDate("2025-03-01")}})
	}
	return rows
}

func mod(id string, rule CompletionRule, mods ...func(*Module)) *Module {
	m := &Module{ID: id, Title: map[string]string{"en": id}, Activities: []string{"https://lms.example/" + id}, Completion: rule}
	for _, f := range mods {
		f(m)
	}
	return m
}

func TestStatusRules(t *testing.T) {
	min := 0.8
	cat := &Catalog{
		Modules: []*Module{
			mod("a", Completed, func(m *Module) { m.Validity = MustPeriod("P1Y") }),
			mod("b", CompletedAndPassed),
			mod("c", Passed, func(m *Module) { m.MinScore = &min }),
			mod("d", Passed, func(m *Module) { m.Parts = []string{"https://lms.example/d1", "https://lms.example/d2"} }),
		},
		Rules: []*Rule{
			{ID: "r1", Role: "x", Modules: []string{"a", "b"}, DueWithin: MustPeriod("P30D")},
			// The same module by another rule: the earlier due date and
			// the shorter renewal win.
			{ID: "r2", Role: "x", Modules: []string{"a"}, DueWithin: MustPeriod("P10D"), Renewal: MustPeriod("P6M")},
			// Due from the start date; in force from 1 April only.
			{ID: "r3", Role: "x", Modules: []string{"c", "d"}, DueFrom: FromStart, DueWithin: MustPeriod("P60D"),
				Effective: Interval{From: MustDate("2025-04-01")}},
			{ID: "r4", Role: "x", Modules: []string{"nope"}}, // an unknown module is skipped
		},
	}
	facts := []Fact{
		fact1("a", "2025-03-05", OutcomeCompleted),
		fact1("b", "2025-03-06", OutcomeCompleted),
		fact1("c", "2025-03-07", OutcomePassed, 0.7),                  // passed, but under the minimum
		fact1("c", "2025-03-08", OutcomeFailed, 0.9),                  // the score of a failure does not count
		fact1("d1", "2025-03-09", OutcomePassed),                      // one part of two
		fact1("d", "2025-03-10", OutcomeCompleted|OutcomeFailed, 0.3), // an attempt on the module
	}
	check(t, "before r3 is in force", evalRows(t, cat, onePerson("x"), facts, "2025-03-20"), []string{
		"a completed due=2025-03-11 expires=2025-09-05 a@2025-03-05",
		"b in-progress due=2025-03-31",
	})
	// r3 counts from the start date (1 January): c and d are overdue. c's
	// pass scored under the minimum, its failure's score does not count;
	// d has one part of two.
	check(t, "in force", evalRows(t, cat, onePerson("x"), facts, "2025-04-10"), []string{
		"a completed due=2025-03-11 expires=2025-09-05 a@2025-03-05",
		"b overdue due=2025-03-31",
		"c overdue due=2025-03-02",
		"d overdue due=2025-03-02",
	})
	more := append(facts,
		fact1("b", "2025-04-11", OutcomeSatisfied),   // satisfied: completed and passed
		fact1("c", "2025-04-12", OutcomePassed, 0.8), // at the minimum
		fact1("d2", "2025-04-13", OutcomePassed),     // the other part
		fact1("a", "2025-09-01", OutcomeCompleted),   // renewed
	)
	check(t, "completed", evalRows(t, cat, onePerson("x"), more, "2025-04-20"), []string{
		"a completed due=2025-03-11 expires=2025-09-05 a@2025-03-05",
		"b completed due=2025-03-31 b@2025-04-11",
		"c completed due=2025-03-02 c@2025-04-12",
		"d completed due=2025-03-02 d1@2025-03-09 d2@2025-04-13",
	})
	check(t, "expiring, then renewed", evalRows(t, cat, onePerson("x"), more, "2025-08-20")[:1], []string{
		"a expiring-soon due=2025-03-11 expires=2025-09-05 a@2025-03-05",
	})
	check(t, "renewed", evalRows(t, cat, onePerson("x"), more, "2025-09-10")[:1], []string{
		"a completed due=2025-03-11 expires=2026-03-01 a@2025-09-01",
	})
	check(t, "expired", evalRows(t, cat, onePerson("x"), facts, "2025-09-10")[:1], []string{
		"a expired due=2025-03-11 expires=2025-09-05 a@2025-03-05",
	})
}

func TestStatusCampaignsAndExemptions(t *testing.T) {
	cat := &Catalog{
		Modules: []*Module{mod("a", Completed), mod("b", Completed)},
		Rules:   []*Rule{{ID: "r", Role: "x", Modules: []string{"a"}, DueWithin: MustPeriod("P30D")}},
		Campaigns: []*Campaign{
			{ID: "mine", Units: []string{"u"}, Modules: []string{"a", "b"}, Start: MustDate("2025-10-01"), End: MustDate("2025-10-31")},
			{ID: "other-role", Roles: []string{"y"}, Modules: []string{"b"}, Start: MustDate("2025-10-01"), End: MustDate("2025-10-31")},
			{ID: "later", Modules: []string{"b"}, Start: MustDate("2025-11-01"), End: MustDate("2025-11-30")},
		},
		Exemptions: []*Exemption{{ID: "x1", Person: "p1", Module: "b", Reason: "permisjon",
			Effective: Interval{From: MustDate("2025-10-10"), To: MustDate("2025-12-01")}}},
	}
	facts := []Fact{fact1("a", "2025-09-15", OutcomeCompleted), fact1("b", "2025-10-03", 0)}
	check(t, "campaign", evalRows(t, cat, onePerson("x"), facts, "2025-10-05"), []string{
		"a completed due=2025-03-31 a@2025-09-15",
		"a mine not-started due=2025-10-31", // completed before the campaign
		"b mine in-progress due=2025-10-31",
	})
	check(t, "exempt", evalRows(t, cat, onePerson("x"), facts, "2025-10-20"), []string{
		"a completed due=2025-03-31 a@2025-09-15",
		"a mine due due=2025-10-31",
		"b mine exempt due=2025-10-31",
	})
}
