package reporting

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// engineRows runs the engine for the people of rows on facts, as of noon
// UTC on day.
func engineRows(t *testing.T, cat *Catalog, rows []RosterRow, facts []Fact, day string) []Row {
	t.Helper()
	asOf := MustDate(day).Start(time.UTC).Add(12 * time.Hour)
	opts := Options{AsOf: asOf}
	opts.defaults(asOf)
	e := newEngine(cat, opts)
	v := NewView(rows, e.day)
	var out []Row
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
			out = append(out, e.evaluate(p, roleIDs(p), q, g.of(q.module)))
		}
	}
	return out
}

// evalRows runs the engine for one person on facts, as of day, and
// renders the rows.
func evalRows(t *testing.T, cat *Catalog, rows []RosterRow, facts []Fact, day string) []string {
	t.Helper()
	var out []string
	for _, r := range engineRows(t, cat, rows, facts, day) {
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

// TestStatusEvidenceMeetsWholeRule checks that a completion rule, minimum
// score included, is met by one statement, or by statements of one
// registration judged at the statement carrying the outcome; and that the
// proof found dates both the completion and the expiry.
func TestStatusEvidenceMeetsWholeRule(t *testing.T) {
	min := 0.8
	year := func(m *Module) { m.Validity = MustPeriod("P1Y") }
	cat := &Catalog{
		Modules: []*Module{
			mod("p", Passed, year, func(m *Module) { m.MinScore = &min }),
			mod("c", Completed, year, func(m *Module) { m.MinScore = &min }),
			mod("cp", CompletedAndPassed, year),
			mod("cps", CompletedAndPassed, year, func(m *Module) { m.MinScore = &min }),
		},
		// Due a year after the role was assigned: a module not completed
		// shows in progress.
		Rules: []*Rule{{ID: "r", Role: "x", Modules: []string{"p", "c", "cp", "cps"}, DueWithin: MustPeriod("P1Y")}},
	}
	// at is a fact on module act at an instant, in a registration (""
	// for none).
	at := func(act, ts, reg string, o Outcome, score ...float64) Fact {
		f := fact1(act, "2025-01-01", o, score...)
		f.Timestamp, _ = time.Parse(time.RFC3339, ts)
		f.Stored = f.Timestamp.Add(time.Second)
		if reg != "" {
			f.Registration = uuid.MustParse(reg)
		}
		return f
	}
	const (
		regA = "6fbd4b6c-1e2a-4c8e-9a55-0a1c2b3d4e5f"
		regB = "0c9d1f6e-7b7a-4a53-8f0e-2c6f0e4b9d11"
	)
	for _, tc := range []struct {
		name   string
		module string
		facts  []Fact
		want   string // status, completion, expiry, evidence (timestamps)
	}{
		// A minimum score with rule passed.
		{"completed 0.9, then passed without a score", "p", []Fact{
			at("p", "2025-04-01T09:00:00Z", "", OutcomeCompleted, 0.9),
			at("p", "2025-04-02T09:00:00Z", "", OutcomePassed),
		}, "in-progress"},
		{"passed 0.5, then completed 0.95", "p", []Fact{
			at("p", "2025-04-01T09:00:00Z", "", OutcomePassed, 0.5),
			at("p", "2025-04-02T09:00:00Z", "", OutcomeCompleted, 0.95),
		}, "in-progress"},
		{"passed 0.9: its own timestamp dates completion and expiry", "p", []Fact{
			at("p", "2025-04-03T09:00:00Z", "", OutcomePassed, 0.9),
		}, "completed 2025-04-03T09:00 expires=2026-04-03 0.9 [2025-04-03T09:00]"},
		{"the newest qualifying pass wins", "p", []Fact{
			at("p", "2025-02-01T09:00:00Z", "", OutcomePassed, 0.95),
			at("p", "2025-04-03T09:00:00Z", "", OutcomePassed, 0.85),
			at("p", "2025-05-01T09:00:00Z", "", OutcomePassed, 0.6), // newer, under the minimum
			at("p", "2025-05-02T09:00:00Z", "", OutcomeFailed, 0.9), // the score of a failure
		}, "completed 2025-04-03T09:00 expires=2026-04-03 0.85 [2025-04-03T09:00]"},
		// One registration: Moodle's scoreraw_submitted (the score, under
		// the verb of the status then) and status_submitted (the status).
		{"one registration: completed 0.9, then passed", "p", []Fact{
			at("p", "2025-04-01T09:00:00Z", regA, OutcomeCompleted, 0.9),
			at("p", "2025-04-01T09:00:05Z", regA, OutcomePassed),
		}, "completed 2025-04-01T09:00 expires=2026-04-01 0.9 [2025-04-01T09:00 2025-04-01T09:00]"},
		{"two registrations: completed 0.9, then passed", "p", []Fact{
			at("p", "2025-04-01T09:00:00Z", regA, OutcomeCompleted, 0.9),
			at("p", "2025-04-01T09:00:05Z", regB, OutcomePassed),
		}, "in-progress"},
		{"one registration: a score after the pass does not count for it", "p", []Fact{
			at("p", "2025-04-01T09:00:00Z", regA, OutcomePassed, 0.5),
			at("p", "2025-04-01T09:10:00Z", regA, OutcomeCompleted, 0.95),
		}, "in-progress"},
		{"one registration: the latest score before the pass counts", "p", []Fact{
			at("p", "2025-04-01T09:00:00Z", regA, OutcomeCompleted, 0.9),
			at("p", "2025-04-01T09:10:00Z", regA, OutcomeCompleted, 0.3),
			at("p", "2025-04-01T09:10:05Z", regA, OutcomePassed),
		}, "in-progress"},
		{"one registration, proofs at two passes: the newer wins", "p", []Fact{
			at("p", "2025-04-01T09:00:00Z", regA, OutcomePassed, 0.9),
			at("p", "2025-04-08T09:00:00Z", regA, OutcomeFailed, 0.4),
			at("p", "2025-04-09T09:00:00Z", regA, OutcomePassed, 0.85),
		}, "completed 2025-04-09T09:00 expires=2026-04-09 0.85 [2025-04-09T09:00]"},
		// A minimum score with rule completed.
		{"completed, then scored on a pass", "c", []Fact{
			at("c", "2025-04-01T09:00:00Z", "", OutcomeCompleted),
			at("c", "2025-04-02T09:00:00Z", "", OutcomePassed, 0.9),
		}, "in-progress"},
		{"completed 0.9", "c", []Fact{
			at("c", "2025-04-01T09:00:00Z", "", OutcomeCompleted, 0.9),
		}, "completed 2025-04-01T09:00 expires=2026-04-01 0.9 [2025-04-01T09:00]"},
		// Completed and passed.
		{"completed, then passed: two statements", "cp", []Fact{
			at("cp", "2025-04-01T09:00:00Z", "", OutcomeCompleted),
			at("cp", "2025-04-02T09:00:00Z", "", OutcomePassed),
		}, "in-progress"},
		{"one statement carrying both (terminated, or passed with completion)", "cp", []Fact{
			at("cp", "2025-04-01T09:00:00Z", "", OutcomeCompleted),
			at("cp", "2025-04-02T09:00:00Z", "", OutcomeCompleted|OutcomePassed),
		}, "completed 2025-04-02T09:00 expires=2026-04-02 [2025-04-02T09:00]"},
		{"cmi5: completed and passed in one registration, a session apart", "cp", []Fact{
			at("cp", "2025-03-20T09:00:00Z", regA, OutcomeCompleted),
			at("cp", "2025-04-02T09:00:00Z", regA, OutcomePassed),
		}, "completed 2025-04-02T09:00 expires=2026-03-20 [2025-03-20T09:00 2025-04-02T09:00]"},
		{"completed and passed in two registrations", "cp", []Fact{
			at("cp", "2025-03-20T09:00:00Z", regA, OutcomeCompleted),
			at("cp", "2025-04-02T09:00:00Z", regB, OutcomePassed),
		}, "in-progress"},
		{"satisfied", "cp", []Fact{at("cp", "2025-04-02T09:00:00Z", "", OutcomeSatisfied)},
			"completed 2025-04-02T09:00 expires=2026-04-02 [2025-04-02T09:00]"},
		{"a pass after a failure in one registration", "cp", []Fact{
			at("cp", "2025-04-01T09:00:00Z", regA, OutcomeCompleted|OutcomeFailed),
			at("cp", "2025-04-01T10:00:00Z", regA, OutcomePassed),
		}, "completed 2025-04-01T10:00 expires=2026-04-01 [2025-04-01T09:00 2025-04-01T10:00]"},
		{"a failure after the pass in one registration: the pass stands", "cp", []Fact{
			at("cp", "2025-04-01T09:00:00Z", regA, OutcomeCompleted|OutcomePassed),
			at("cp", "2025-04-01T10:00:00Z", regA, OutcomeFailed),
		}, "completed 2025-04-01T09:00 expires=2026-04-01 [2025-04-01T09:00]"},
		{"a failure between the pass and the completion of one registration", "cp", []Fact{
			at("cp", "2025-04-01T09:00:00Z", regA, OutcomePassed),
			at("cp", "2025-04-01T10:00:00Z", regA, OutcomeFailed),
			at("cp", "2025-04-01T11:00:00Z", regA, OutcomeCompleted),
		}, "in-progress"},
		// Completed and passed with a minimum score: Moodle sends the
		// score, the status and the module completion as three
		// statements of one session.
		{"Moodle: score, status and completion of one session", "cps", []Fact{
			at("cps", "2025-04-01T09:00:00Z", regA, OutcomePassed, 0.9),
			at("cps", "2025-04-01T09:00:01Z", regA, OutcomePassed),
			at("cps", "2025-04-01T09:00:02Z", regA, OutcomeCompleted),
		}, "completed 2025-04-01T09:00 expires=2026-04-01 0.9 [2025-04-01T09:00 2025-04-01T09:00 2025-04-01T09:00]"},
		{"the same without registrations", "cps", []Fact{
			at("cps", "2025-04-01T09:00:00Z", "", OutcomePassed, 0.9),
			at("cps", "2025-04-01T09:00:01Z", "", OutcomePassed),
			at("cps", "2025-04-01T09:00:02Z", "", OutcomeCompleted),
		}, "in-progress"},
		{"an old low session and a new good one: the new one alone", "cps", []Fact{
			at("cps", "2025-02-01T09:00:00Z", regA, OutcomeCompleted),
			at("cps", "2025-02-01T09:05:00Z", regA, OutcomePassed, 0.7),
			at("cps", "2025-04-01T09:00:00Z", regB, OutcomeCompleted),
			at("cps", "2025-04-01T09:05:00Z", regB, OutcomePassed, 0.85),
		}, "completed 2025-04-01T09:05 expires=2026-04-01 0.85 [2025-04-01T09:00 2025-04-01T09:05]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			for _, r := range engineRows(t, cat, onePerson("x"), tc.facts, "2025-06-01") {
				if r.Module != tc.module {
					continue
				}
				got = string(r.Status)
				if !r.Completed.IsZero() {
					got += " " + r.Completed.Format("2006-01-02T15:04") + " expires=" + r.Expires.String()
				}
				if r.Score != nil {
					got += fmt.Sprintf(" %g", *r.Score)
				}
				if len(r.Evidence) > 0 {
					var ev []string
					for _, e := range r.Evidence {
						ev = append(ev, e.Timestamp.Format("2006-01-02T15:04"))
					}
					got += " [" + strings.Join(ev, " ") + "]"
				}
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
