// Package storetest holds the contract tests every reporting.Store backend
// passes: Run checks the catalog (round trips, references, deletes), the
// roster (imports, their records, rows as known at a past time, filters),
// the projection (round trips, idempotency, retraction before and after
// the facts arrive, many facts of one learner, concurrency) and isolation
// between tenants; RunIngest checks the write of statements with their
// projection (ingest.Store's Commit); RunKiNS runs the KiNS scenario (kins.go) end to end,
// through the reports: exact rows as of several days and as known at
// several times, reminders, transcripts, unmatched learners, and the same
// again after a rebuild of the projection.
package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
)

// Run runs the contract tests against the stores open returns. open returns
// a fresh, empty store and registers its cleanup with t.
func Run(t *testing.T, open func(t *testing.T) reporting.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s reporting.Store)
	}{
		{"Catalog", testCatalog},
		{"CatalogReferences", testCatalogReferences},
		{"Import", testImport},
		{"ImportInvalid", testImportInvalid},
		{"EndDateInclusive", testEndDateInclusive},
		{"RosterKnownAt", testRosterKnownAt},
		{"PartialImport", testPartialImport},
		{"RosterFilters", testRosterFilters},
		{"FactsRoundTrip", testFactsRoundTrip},
		{"FactsIdempotent", testFactsIdempotent},
		{"Retract", testRetract},
		{"ManyFacts", testManyFacts},
		{"FactsConcurrent", testFactsConcurrent},
		{"ResetFacts", testResetFacts},
		{"TenantIsolation", testTenantIsolation},
		{"ScoreEvidence", testScoreEvidence},
		{"RosterCSVIdentifiers", testRosterCSVIdentifiers},
		{"RemindersInBatches", testRemindersInBatches},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var ctx = context.Background()

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, what string, err error, k errs.Kind) {
	t.Helper()
	if !errs.Is(err, k) {
		t.Errorf("%s: error %v, want kind %v", what, err, k)
	}
}

func score(f float64) *float64 { return &f }

func module(id string, acts ...string) *reporting.Module {
	return &reporting.Module{ID: id, Title: map[string]string{"nb-NO": "Modul " + id, "en": "Module " + id},
		Activities: acts, Completion: reporting.Completed}
}

func testCatalog(t *testing.T, s reporting.Store) {
	cat, err := s.Catalog(ctx, "t1")
	must(t, err)
	if len(cat.Modules)+len(cat.Rules)+len(cat.Campaigns)+len(cat.Exemptions) != 0 || cat.Modules == nil || cat.Rules == nil {
		t.Fatalf("empty catalog = %+v, want empty non-nil lists", cat)
	}
	m2 := module("m2", "https://lms.example/m2")
	m1 := &reporting.Module{ID: "m1", Title: map[string]string{"nb-NO": "Grunnleggende informasjonssikkerhet"},
		Activities: []string{"https://lms.example/m1", "https://other.example/course/7"}, Parts: []string{"https://lms.example/m1/au1"},
		Completion: reporting.CompletedAndPassed, MinScore: score(0.8), Validity: reporting.MustPeriod("P1Y")}
	for _, m := range []*reporting.Module{m2, m1} {
		must(t, m.Validate())
		must(t, s.PutModule(ctx, "t1", m))
	}
	r := &reporting.Rule{ID: "leaders", Role: "leader", Modules: []string{"m1", "m2"}, DueWithin: reporting.MustPeriod("P30D"),
		DueFrom: reporting.FromStart, Renewal: reporting.MustPeriod("P2Y"),
		Effective: reporting.Interval{From: reporting.MustDate("2024-01-01")}}
	c := &reporting.Campaign{ID: "oct", Title: map[string]string{"nb-NO": "Sikkerhetsmåneden"}, Units: []string{"u1"},
		Roles: []string{"leader"}, Modules: []string{"m2"}, Start: reporting.MustDate("2025-10-01"), End: reporting.MustDate("2025-10-31")}
	x := &reporting.Exemption{ID: "x1", Person: "e1", Module: "m1", Reason: "permisjon",
		Effective: reporting.Interval{From: reporting.MustDate("2025-01-01"), To: reporting.MustDate("2025-07-01")}}
	must(t, s.PutRule(ctx, "t1", r))
	must(t, s.PutCampaign(ctx, "t1", c))
	must(t, s.PutExemption(ctx, "t1", x))

	cat, err = s.Catalog(ctx, "t1")
	must(t, err)
	if len(cat.Modules) != 2 || cat.Modules[0].ID != "m1" || cat.Modules[1].ID != "m2" {
		t.Fatalf("modules %v, want m1, m2", ids(cat.Modules))
	}
	checkEqual(t, "module m1", cat.Modules[0], m1)
	checkEqual(t, "module m2", cat.Modules[1], m2)
	checkEqual(t, "rules", cat.Rules, []*reporting.Rule{r})
	checkEqual(t, "campaigns", cat.Campaigns, []*reporting.Campaign{c})
	checkEqual(t, "exemptions", cat.Exemptions, []*reporting.Exemption{x})
	if cat.Module("m2") == nil || cat.Module("m3") != nil {
		t.Error("Catalog.Module lookup")
	}

	// Replace.
	m2b := module("m2", "https://lms.example/m2", "https://lms.example/m2-v2")
	must(t, s.PutModule(ctx, "t1", m2b))
	cat, _ = s.Catalog(ctx, "t1")
	checkEqual(t, "replaced module", cat.Module("m2"), m2b)

	// Delete.
	must(t, s.DeleteExemption(ctx, "t1", "x1"))
	must(t, s.DeleteCampaign(ctx, "t1", "oct"))
	must(t, s.DeleteRule(ctx, "t1", "leaders"))
	wantKind(t, "DeleteRule again", s.DeleteRule(ctx, "t1", "leaders"), errs.NotFound)
	wantKind(t, "DeleteCampaign missing", s.DeleteCampaign(ctx, "t1", "oct"), errs.NotFound)
	wantKind(t, "DeleteExemption missing", s.DeleteExemption(ctx, "t1", "x1"), errs.NotFound)
	must(t, s.DeleteModule(ctx, "t1", "m1"))
	wantKind(t, "DeleteModule missing", s.DeleteModule(ctx, "t1", "m1"), errs.NotFound)
	cat, _ = s.Catalog(ctx, "t1")
	if len(cat.Modules) != 1 || len(cat.Rules)+len(cat.Campaigns)+len(cat.Exemptions) != 0 {
		t.Errorf("after deletes: %v modules, %d rules, %d campaigns, %d exemptions", ids(cat.Modules), len(cat.Rules), len(cat.Campaigns), len(cat.Exemptions))
	}
}

func ids(ms []*reporting.Module) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func testCatalogReferences(t *testing.T, s reporting.Store) {
	must(t, s.PutModule(ctx, "t1", module("m1", "https://lms.example/m1")))
	wantKind(t, "rule naming an unknown module",
		s.PutRule(ctx, "t1", &reporting.Rule{ID: "r", Role: "x", Modules: []string{"m1", "nope"}}), errs.Invalid)
	wantKind(t, "campaign naming an unknown module",
		s.PutCampaign(ctx, "t1", &reporting.Campaign{ID: "c", Modules: []string{"nope"}, Start: 1, End: 2}), errs.Invalid)
	wantKind(t, "exemption naming an unknown module",
		s.PutExemption(ctx, "t1", &reporting.Exemption{ID: "x", Person: "p", Module: "nope"}), errs.Invalid)
	// A module of another tenant does not count.
	must(t, s.PutModule(ctx, "t2", module("m2", "https://lms.example/m2")))
	wantKind(t, "rule naming another tenant's module",
		s.PutRule(ctx, "t1", &reporting.Rule{ID: "r", Role: "x", Modules: []string{"m2"}}), errs.Invalid)

	must(t, s.PutRule(ctx, "t1", &reporting.Rule{ID: "r", Role: "x", Modules: []string{"m1"}}))
	wantKind(t, "deleting a module a rule requires", s.DeleteModule(ctx, "t1", "m1"), errs.Conflict)
	must(t, s.DeleteRule(ctx, "t1", "r"))
	must(t, s.PutCampaign(ctx, "t1", &reporting.Campaign{ID: "c", Modules: []string{"m1"}, Start: 1, End: 2}))
	wantKind(t, "deleting a module a campaign requires", s.DeleteModule(ctx, "t1", "m1"), errs.Conflict)
	must(t, s.DeleteCampaign(ctx, "t1", "c"))
	must(t, s.PutExemption(ctx, "t1", &reporting.Exemption{ID: "x", Person: "p", Module: "m1"}))
	wantKind(t, "deleting a module an exemption names", s.DeleteModule(ctx, "t1", "m1"), errs.Conflict)
	must(t, s.DeleteExemption(ctx, "t1", "x"))
	must(t, s.DeleteModule(ctx, "t1", "m1"))
}

// Roster fixtures.
var (
	d2024 = reporting.MustDate("2024-01-01")
	d2025 = reporting.MustDate("2025-01-01")
	dMar  = reporting.MustDate("2025-03-01")
)

func baseImport() *reporting.Import {
	return &reporting.Import{
		Effective: d2025,
		Source:    "hr-2025-01-01.json",
		Units: []reporting.UnitIn{
			{ID: "k", Name: "Kommunen", Managers: []string{"e1"}},
			{ID: "hr", Name: "HR-avdelingen", Parent: "k", Managers: []string{"e2"}},
			{ID: "it", Name: "IT-tjenesten", Parent: "k"},
		},
		People: []reporting.PersonIn{
			{ID: "e1", Name: "Åse Ødegård", Email: "Ase.Odegard@Kommune.no", Start: reporting.MustDate("2019-08-01"),
				Units: []reporting.Assignment{{ID: "k"}}, Roles: []reporting.Assignment{{ID: "leader"}}},
			{ID: "e2", Name: "Bjørn Æsir", Email: "bjorn@kommune.no", Start: d2024,
				Identifiers: []map[string]any{{"account": map[string]any{"homePage": "https://kslaring.no", "name": "bjorn"}}},
				Units:       []reporting.Assignment{{ID: "hr"}, {ID: "it", Interval: reporting.Interval{From: d2024, To: reporting.MustDate("2025-02-28")}} /* the last day */},
				Roles:       []reporting.Assignment{{ID: "leader"}, {ID: "adm"}}},
			{ID: "e3", Name: "Cecilie Berg", Email: "cecilie@kommune.no", Start: reporting.MustDate("2024-11-15"),
				Units: []reporting.Assignment{{ID: "it"}}, Roles: []reporting.Assignment{{ID: "it-staff"}}},
		},
	}
}

// rowSet renders rows as sorted strings for comparison.
func rowSet(rows []reporting.RosterRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprintf("%s %s %s %q %q %s rec=%d sup=%d", r.Kind, r.Key, r.Value, r.Name, r.Email, r.Interval, r.Recorded, r.Superseded)
	}
	sort.Strings(out)
	return out
}

func testImport(t *testing.T, s reporting.Store) {
	now := time.Date(2025, 1, 2, 8, 0, 0, 0, time.UTC)
	rec, err := s.ImportRoster(ctx, "t1", baseImport(), now)
	must(t, err)
	if rec.ID != 1 || !rec.Recorded.Equal(now) || rec.Effective != d2025 || rec.People != 3 || rec.Units != 3 || rec.Source != "hr-2025-01-01.json" {
		t.Errorf("first import record = %+v", rec)
	}
	added := 0
	for _, c := range rec.Changes {
		if c.Op != "added" {
			t.Errorf("first import: change %+v, want only additions", c)
		}
		added++
	}
	// 3 units, 2 parents, 2 managers, 3 people, 4 memberships, 4 roles,
	// 4 identifiers.
	if added != 22 {
		t.Errorf("first import: %d additions, want 22", added)
	}
	rows, err := s.RosterRows(ctx, "t1", reporting.RosterFilter{})
	must(t, err)
	want := []string{
		`ident e1 mbox:mailto:ase.odegard@kommune.no "" "" […, …) rec=1 sup=0`,
		`ident e2 account:https://kslaring.no bjorn "" "" […, …) rec=1 sup=0`,
		`ident e2 mbox:mailto:bjorn@kommune.no "" "" […, …) rec=1 sup=0`,
		`ident e3 mbox:mailto:cecilie@kommune.no "" "" […, …) rec=1 sup=0`,
		`manager hr e2 "" "" […, …) rec=1 sup=0`,
		`manager k e1 "" "" […, …) rec=1 sup=0`,
		`member e1 k "" "" [2019-08-01, …) rec=1 sup=0`,
		`member e2 hr "" "" [2024-01-01, …) rec=1 sup=0`,
		`member e2 it "" "" [2024-01-01, 2025-03-01) rec=1 sup=0`,
		`member e3 it "" "" [2024-11-15, …) rec=1 sup=0`,
		`parent hr k "" "" […, …) rec=1 sup=0`,
		`parent it k "" "" […, …) rec=1 sup=0`,
		`person e1  "Åse Ødegård" "Ase.Odegard@Kommune.no" [2019-08-01, …) rec=1 sup=0`,
		`person e2  "Bjørn Æsir" "bjorn@kommune.no" [2024-01-01, …) rec=1 sup=0`,
		`person e3  "Cecilie Berg" "cecilie@kommune.no" [2024-11-15, …) rec=1 sup=0`,
		`role e1 leader "" "" [2019-08-01, …) rec=1 sup=0`,
		`role e2 adm "" "" [2024-01-01, …) rec=1 sup=0`,
		`role e2 leader "" "" [2024-01-01, …) rec=1 sup=0`,
		`role e3 it-staff "" "" [2024-11-15, …) rec=1 sup=0`,
		`unit hr  "HR-avdelingen" "" […, …) rec=1 sup=0`,
		`unit it  "IT-tjenesten" "" […, …) rec=1 sup=0`,
		`unit k  "Kommunen" "" […, …) rec=1 sup=0`,
	}
	checkEqual(t, "rows after the first import", rowSet(rows), want)

	// The same snapshot again changes nothing, even with a later
	// effective date.
	again := baseImport()
	again.Effective = reporting.MustDate("2025-02-01")
	rec2, err := s.ImportRoster(ctx, "t1", again, now.Add(time.Hour))
	must(t, err)
	if rec2.ID != 2 || len(rec2.Changes) != 0 {
		t.Errorf("repeated import: id %d, changes %+v; want id 2, no change", rec2.ID, rec2.Changes)
	}
	rows2, _ := s.RosterRows(ctx, "t1", reporting.RosterFilter{})
	checkEqual(t, "rows after the repeated import", rowSet(rows2), want)

	// e3 moves from it-staff to adm; e1 leaves (missing from a complete
	// snapshot); Cecilie's e-mail changes.
	next := baseImport()
	next.Effective = dMar
	next.People = next.People[1:]
	next.People[1].Roles = []reporting.Assignment{{ID: "adm"}}
	next.People[1].Email = "cecilie.berg@kommune.no"
	next.Units[0].Managers = []string{"e2"}
	rec3, err := s.ImportRoster(ctx, "t1", next, now.Add(2*time.Hour))
	must(t, err)
	var got []string
	for _, c := range rec3.Changes {
		got = append(got, fmt.Sprintf("%s %s %s %s %s -> %s", c.Op, c.Kind, c.Key, c.Value, fmtPeriods(c.Before), fmtPeriods(c.After)))
	}
	checkEqual(t, "changes of the third import", got, []string{
		"ended manager k e1 [[…, …)] -> [[…, 2025-03-01)]",
		"added manager k e2 [] -> [[2025-03-01, …)]",
		`ended person e1  [[2019-08-01, …) "Åse Ødegård" "Ase.Odegard@Kommune.no"] -> [[2019-08-01, 2025-03-01) "Åse Ødegård" "Ase.Odegard@Kommune.no"]`,
		`changed person e3  [[2024-11-15, …) "Cecilie Berg" "cecilie@kommune.no"] -> [[2024-11-15, …) "Cecilie Berg" "cecilie.berg@kommune.no"]`,
		"ended member e1 k [[2019-08-01, …)] -> [[2019-08-01, 2025-03-01)]",
		"ended role e1 leader [[2019-08-01, …)] -> [[2019-08-01, 2025-03-01)]",
		"added role e3 adm [] -> [[2025-03-01, …)]",
		"ended role e3 it-staff [[2024-11-15, …)] -> [[2024-11-15, 2025-03-01)]",
		// An identifier no one held before counts from the start; the old
		// address stays Cecilie's for what she did before the change.
		"added ident e3 mbox:mailto:cecilie.berg@kommune.no [] -> [[…, …)]",
		"ended ident e3 mbox:mailto:cecilie@kommune.no [[…, …)] -> [[…, 2025-03-01)]",
	})
	list, err := s.Imports(ctx, "t1")
	must(t, err)
	if len(list) != 3 || list[0].ID != 1 || list[2].ID != 3 || list[2].Changes != nil || list[1].Effective != reporting.MustDate("2025-02-01") {
		t.Errorf("Imports = %+v", list)
	}
	full, err := s.ImportRecord(ctx, "t1", 3)
	must(t, err)
	checkEqual(t, "ImportRecord(3)", full, rec3)
	_, err = s.ImportRecord(ctx, "t1", 4)
	wantKind(t, "ImportRecord(4)", err, errs.NotFound)

	// The current rows are the rows known now (stores may serve the two
	// differently, e.g. from a cache).
	cur, _ := s.RosterRows(ctx, "t1", reporting.RosterFilter{})
	known, err := s.RosterRows(ctx, "t1", reporting.RosterFilter{KnownAt: now.Add(24 * time.Hour)})
	must(t, err)
	checkEqual(t, "current rows and rows known now", rowSet(cur), rowSet(known))

	// The superseded rows are kept.
	for _, r := range cur {
		if r.Superseded != 0 {
			t.Errorf("current row %+v is superseded", r)
		}
		if r.Kind == reporting.RowRole && r.Key == "e3" && r.Value == "it-staff" && (r.Recorded != 3 || r.To != dMar) {
			t.Errorf("e3's it-staff role = %+v, want recorded by import 3, ending 2025-03-01", r)
		}
	}
}

func testImportInvalid(t *testing.T, s reporting.Store) {
	now := time.Date(2025, 1, 2, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		edit func(*reporting.Import)
	}{
		{"unknown unit", func(i *reporting.Import) { i.People[0].Units = []reporting.Assignment{{ID: "nowhere"}} }},
		{"unknown parent", func(i *reporting.Import) { i.Units[1].Parent = "nowhere" }},
		{"unknown manager", func(i *reporting.Import) { i.Units[0].Managers = []string{"e9"} }},
		{"cycle", func(i *reporting.Import) { i.Units[0].Parent = "hr" }},
		{"duplicate person", func(i *reporting.Import) { i.People = append(i.People, i.People[0]) }},
		{"shared identifier", func(i *reporting.Import) { i.People[1].Email = i.People[0].Email }},
		{"bad e-mail", func(i *reporting.Import) { i.People[0].Email = "not an address" }},
		{"bad identifier", func(i *reporting.Import) {
			i.People[0].Identifiers = []map[string]any{{"account": map[string]any{"name": "x"}, "mbox": "mailto:a@b.no"}}
		}},
		{"ends before start", func(i *reporting.Import) { i.People[0].End = i.People[0].Start.AddDays(-1) }},
		{"new, ended before the effective date, no start", func(i *reporting.Import) {
			i.People[0].Start, i.People[0].End = 0, i.Effective.AddDays(-1)
		}},
		{"bad id", func(i *reporting.Import) { i.People[0].ID = "a b" }},
	} {
		imp := baseImport()
		tc.edit(imp)
		_, err := s.ImportRoster(ctx, "t1", imp, now)
		wantKind(t, tc.name, err, errs.Invalid)
	}
	rows, err := s.RosterRows(ctx, "t1", reporting.RosterFilter{})
	must(t, err)
	list, _ := s.Imports(ctx, "t1")
	if len(rows) != 0 || len(list) != 0 {
		t.Errorf("after rejected imports: %d rows, %d imports; want none", len(rows), len(list))
	}
}

// testEndDateInclusive: a person's end date is their last day employed,
// as HR systems give it, in JSON and in CSV (sluttdato): someone whose end
// date is D still counts, and still owes their modules, on D, and no longer
// on D+1.
func testEndDateInclusive(t *testing.T, s reporting.Store) {
	must(t, s.PutModule(ctx, "t1", module("m1", "https://lms.example/m1")))
	must(t, s.PutRule(ctx, "t1", &reporting.Rule{ID: "r", Role: "alle", Modules: []string{"m1"}, DueWithin: reporting.MustPeriod("P30D")}))
	people, err := reporting.ParsePeopleCSV(strings.NewReader("Ansattnummer;Navn;Rolle;Startdato;Sluttdato\r\n" +
		"e1;Sommervikar;alle;01.06.2025;30.06.2025\r\n" +
		"e2;Dagsvikar;alle;15.06.2025;15.06.2025\r\n"))
	must(t, err)
	imp := &reporting.Import{Effective: reporting.MustDate("2025-06-01"), People: append(people,
		reporting.PersonIn{ID: "e3", Name: "Fra JSON", Roles: []reporting.Assignment{{ID: "alle"}},
			Start: reporting.MustDate("2025-06-01"), End: reporting.MustDate("2025-06-30")})}
	_, err = s.ImportRoster(ctx, "t1", imp, time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC))
	must(t, err)
	rows, err := s.RosterRows(ctx, "t1", reporting.RosterFilter{})
	must(t, err)
	var got []string
	for _, r := range rows {
		if r.Kind == reporting.RowPerson || r.Kind == reporting.RowRole {
			got = append(got, fmt.Sprintf("%s %s %s %s", r.Kind, r.Key, r.Value, r.Interval))
		}
	}
	sort.Strings(got)
	// Stored half-open: the employment ends the day after the last day
	// (the roles hold while the person is employed).
	checkEqual(t, "employment and role intervals", got, []string{
		"person e1  [2025-06-01, 2025-07-01)", "person e2  [2025-06-15, 2025-06-16)", "person e3  [2025-06-01, 2025-07-01)",
		"role e1 alle [2025-06-01, …)", "role e2 alle [2025-06-15, …)", "role e3 alle [2025-06-01, …)",
	})
	required := func(day string) []string {
		t.Helper()
		var out []string
		_, err := reporting.Report(ctx, s, "t1", reporting.Query{Options: reporting.Options{AsOf: at(day + "T23:00:00Z")}},
			func(r *reporting.Row) error {
				out = append(out, r.Person+" "+r.Module)
				return nil
			})
		must(t, err)
		return out
	}
	checkEqual(t, "required on 14 June", required("2025-06-14"), []string{"e1 m1", "e3 m1"})
	checkEqual(t, "required on 15 June, e2's one day", required("2025-06-15"), []string{"e1 m1", "e2 m1", "e3 m1"})
	checkEqual(t, "required on 16 June", required("2025-06-16"), []string{"e1 m1", "e3 m1"})
	checkEqual(t, "required on 30 June, the last day", required("2025-06-30"), []string{"e1 m1", "e3 m1"})
	if got := required("2025-07-01"); len(got) != 0 {
		t.Errorf("required on 1 July, after the last day: %v", got)
	}
}

func testRosterKnownAt(t *testing.T, s reporting.Store) {
	t1 := time.Date(2025, 1, 2, 8, 0, 0, 0, time.UTC)
	t2 := time.Date(2025, 3, 2, 8, 0, 0, 0, time.UTC)
	_, err := s.ImportRoster(ctx, "t1", baseImport(), t1)
	must(t, err)
	before, _ := s.RosterRows(ctx, "t1", reporting.RosterFilter{})
	next := baseImport()
	next.Effective = dMar
	next.People[2].Roles = []reporting.Assignment{{ID: "adm"}}
	_, err = s.ImportRoster(ctx, "t1", next, t2)
	must(t, err)

	// As known between the imports: the rows of the first, not superseded
	// then.
	known, err := s.RosterRows(ctx, "t1", reporting.RosterFilter{KnownAt: t1.Add(time.Hour)})
	must(t, err)
	for i := range known {
		known[i].Superseded = 0 // superseded later, by import 2
	}
	checkEqual(t, "rows known before the second import", rowSet(known), rowSet(before))
	none, err := s.RosterRows(ctx, "t1", reporting.RosterFilter{KnownAt: t1.Add(-time.Second)})
	must(t, err)
	if len(none) != 0 {
		t.Errorf("rows known before any import: %v", rowSet(none))
	}
	now, _ := s.RosterRows(ctx, "t1", reporting.RosterFilter{})
	atT2, _ := s.RosterRows(ctx, "t1", reporting.RosterFilter{KnownAt: t2})
	checkEqual(t, "rows known at the second import", rowSet(atT2), rowSet(now))

	// The views of the two knowledge states differ only for e3's role.
	v1 := reporting.NewView(known, reporting.MustDate("2025-04-01"))
	v2 := reporting.NewView(now, reporting.MustDate("2025-04-01"))
	if r1, r2 := v1.People["e3"].Roles, v2.People["e3"].Roles; len(r1) != 1 || r1[0].ID != "it-staff" || len(r2) != 1 || r2[0].ID != "adm" {
		t.Errorf("e3's roles: known then %v, now %v", r1, r2)
	}
}

// testPartialImport: a partial import changes only what it lists (a unit;
// a person, and the identifier they take over from someone else), the
// rest of the roster stays as it was, row for row, and the roster as known
// before them is reconstructed exactly. The imports run twice, in two
// tenants: reading the roster between imports in one (stores may keep it
// cached and advance the cache) and not in the other.
func testPartialImport(t *testing.T, s reporting.Store) {
	t1 := time.Date(2025, 1, 2, 8, 0, 0, 0, time.UTC)
	full := baseImport()
	for i := 4; i <= 30; i++ {
		full.People = append(full.People, reporting.PersonIn{ID: fmt.Sprintf("e%d", i), Name: fmt.Sprintf("Ansatt %d", i),
			Email: fmt.Sprintf("e%d@kommune.no", i), Units: []reporting.Assignment{{ID: []string{"hr", "it"}[i%2]}},
			Roles: []reporting.Assignment{{ID: "adm"}}})
	}
	unitDelta := &reporting.Import{Partial: true, Effective: dMar, Source: "unit.json", Units: []reporting.UnitIn{
		{ID: "it", Name: "Digitalisering", Parent: "k", Managers: []string{"e5"}}}}
	// e7 moves to hr and takes over e8's address (e8 gets a new one later).
	moved := full.People[6]
	moved.Units, moved.Email = []reporting.Assignment{{ID: "hr"}}, "e8@kommune.no"
	personDelta := &reporting.Import{Partial: true, Effective: reporting.MustDate("2025-04-01"), People: []reporting.PersonIn{moved}}

	run := func(tenant string, warm bool) [][]string {
		var states [][]string
		read := func() []reporting.RosterRow {
			rows, err := s.RosterRows(ctx, tenant, reporting.RosterFilter{})
			must(t, err)
			return rows
		}
		_, err := s.ImportRoster(ctx, tenant, full, t1)
		must(t, err)
		var before []reporting.RosterRow
		if warm {
			before = read()
		}
		rec, err := s.ImportRoster(ctx, tenant, unitDelta, t1.Add(24*time.Hour))
		must(t, err)
		var got []string
		for _, c := range rec.Changes {
			got = append(got, fmt.Sprintf("%s %s %s %s %s -> %s", c.Op, c.Kind, c.Key, c.Value, fmtPeriods(c.Before), fmtPeriods(c.After)))
		}
		checkEqual(t, tenant+": changes of the unit's import", got, []string{
			`changed unit it  [[…, …) "IT-tjenesten" ""] -> [[…, …) "Digitalisering" ""]`,
			"added manager it e5 [] -> [[2025-03-01, …)]",
		})
		if warm {
			read()
		}
		rec, err = s.ImportRoster(ctx, tenant, personDelta, t1.Add(48*time.Hour))
		must(t, err)
		got = nil
		for _, c := range rec.Changes {
			got = append(got, fmt.Sprintf("%s %s %s %s %s -> %s", c.Op, c.Kind, c.Key, c.Value, fmtPeriods(c.Before), fmtPeriods(c.After)))
		}
		checkEqual(t, tenant+": changes of the person's import", got, []string{
			`changed person e7  [[2025-01-01, …) "Ansatt 7" "e7@kommune.no"] -> [[2025-01-01, …) "Ansatt 7" "e8@kommune.no"]`,
			"added member e7 hr [] -> [[2025-04-01, …)]",
			"ended member e7 it [[2025-01-01, …)] -> [[2025-01-01, 2025-04-01)]",
			"ended ident e7 mbox:mailto:e7@kommune.no [[…, …)] -> [[…, 2025-04-01)]",
			"added ident e7 mbox:mailto:e8@kommune.no [] -> [[2025-04-01, …)]",
			"ended ident e8 mbox:mailto:e8@kommune.no [[…, …)] -> [[…, 2025-04-01)]",
		})
		after := read()
		known, err := s.RosterRows(ctx, tenant, reporting.RosterFilter{KnownAt: t1.Add(time.Hour)})
		must(t, err)
		for i := range known {
			known[i].Superseded = 0 // by the partial imports
		}
		if warm {
			checkEqual(t, tenant+": rows known before the partial imports", rowSet(known), rowSet(before))
		}
		before = known

		// Everyone else's rows are the rows of the first import, untouched.
		touched := func(r reporting.RosterRow) bool {
			return r.Key == "it" || r.Key == "e7" || r.Kind == reporting.RowIdent && r.Key == "e8"
		}
		var untouchedBefore, untouchedAfter []reporting.RosterRow
		for _, r := range before {
			if !touched(r) {
				untouchedBefore = append(untouchedBefore, r)
			}
		}
		for _, r := range after {
			if !touched(r) {
				untouchedAfter = append(untouchedAfter, r)
			}
			if r.Recorded != 1 && !touched(r) {
				t.Errorf("%s: a partial import recorded %+v", tenant, r)
			}
		}
		checkEqual(t, tenant+": the rows the partial imports did not list", rowSet(untouchedAfter), rowSet(untouchedBefore))

		// The roster as known now, by the two paths stores may serve it.
		now, err := s.RosterRows(ctx, tenant, reporting.RosterFilter{KnownAt: t1.Add(72 * time.Hour)})
		must(t, err)
		checkEqual(t, tenant+": current rows and rows known now", rowSet(after), rowSet(now))
		pick := func(keep func(r reporting.RosterRow) bool) []string {
			var out []reporting.RosterRow
			for _, r := range after {
				if keep(r) {
					out = append(out, r)
				}
			}
			return rowSet(out)
		}
		for _, unit := range []string{"hr", "it"} {
			members, err := s.RosterRows(ctx, tenant, reporting.RosterFilter{MembersOf: []string{unit}})
			must(t, err)
			keys := map[string]bool{}
			for _, r := range after {
				if r.Kind == reporting.RowMember && r.Value == unit {
					keys[r.Key] = true
				}
			}
			checkEqual(t, tenant+": members of "+unit, rowSet(members), pick(func(r reporting.RosterRow) bool { return personRow(r) && keys[r.Key] }))
		}
		e8, err := s.RosterRows(ctx, tenant, reporting.RosterFilter{People: []string{"e8"}})
		must(t, err)
		checkEqual(t, tenant+": e8's rows", rowSet(e8), pick(func(r reporting.RosterRow) bool { return personRow(r) && r.Key == "e8" }))
		units, err := s.RosterRows(ctx, tenant, reporting.RosterFilter{UnitsOnly: true})
		must(t, err)
		checkEqual(t, tenant+": unit rows", rowSet(units), pick(func(r reporting.RosterRow) bool { return !personRow(r) }))

		// The views of the organisation on days around the changes.
		for _, day := range []string{"2025-02-28", "2025-03-01", "2025-03-31", "2025-04-01"} {
			v := reporting.NewView(after, reporting.MustDate(day))
			var lines []string
			for _, id := range []string{"e5", "e7", "e8"} {
				p := v.People[id]
				lines = append(lines, fmt.Sprintf("%s in %v managed by %v", id, p.Units, v.Managers(p)))
			}
			lines = append(lines, fmt.Sprintf("it is %q; e8@ held by %s", v.Units["it"].Name,
				v.Holder("mbox:mailto:e8@kommune.no", reporting.MustDate(day))))
			states = append(states, lines)
		}
		return states
	}
	warm, cold := run("t1", true), run("t2", false)
	checkEqual(t, "views, the roster read between imports and not", warm, cold)
	// e5 manages it alone from March: the manager above reminds them.
	// A unit's name has no dates: the new one is its name all along.
	checkEqual(t, "views", warm, [][]string{
		{"e5 in [it] managed by [e1]", "e7 in [it] managed by [e1]", "e8 in [hr] managed by [e2]", `it is "Digitalisering"; e8@ held by e8`},
		{"e5 in [it] managed by [e1]", "e7 in [it] managed by [e5]", "e8 in [hr] managed by [e2]", `it is "Digitalisering"; e8@ held by e8`},
		{"e5 in [it] managed by [e1]", "e7 in [it] managed by [e5]", "e8 in [hr] managed by [e2]", `it is "Digitalisering"; e8@ held by e8`},
		{"e5 in [it] managed by [e1]", "e7 in [hr] managed by [e2]", "e8 in [hr] managed by [e2]", `it is "Digitalisering"; e8@ held by e7`},
	})
}

func testRosterFilters(t *testing.T, s reporting.Store) {
	_, err := s.ImportRoster(ctx, "t1", baseImport(), time.Date(2025, 1, 2, 8, 0, 0, 0, time.UTC))
	must(t, err)
	all, _ := s.RosterRows(ctx, "t1", reporting.RosterFilter{})
	pick := func(keep func(r reporting.RosterRow) bool) []string {
		var out []reporting.RosterRow
		for _, r := range all {
			if keep(r) {
				out = append(out, r)
			}
		}
		return rowSet(out)
	}
	units, err := s.RosterRows(ctx, "t1", reporting.RosterFilter{UnitsOnly: true})
	must(t, err)
	checkEqual(t, "UnitsOnly", rowSet(units), pick(func(r reporting.RosterRow) bool {
		return r.Kind == reporting.RowUnit || r.Kind == reporting.RowParent || r.Kind == reporting.RowManager
	}))
	people, err := s.RosterRows(ctx, "t1", reporting.RosterFilter{People: []string{"e2", "e9"}})
	must(t, err)
	checkEqual(t, "People e2", rowSet(people), pick(func(r reporting.RosterRow) bool {
		return r.Key == "e2" && r.Kind != reporting.RowManager && r.Kind != reporting.RowParent && r.Kind != reporting.RowUnit
	}))
	members, err := s.RosterRows(ctx, "t1", reporting.RosterFilter{MembersOf: []string{"it"}})
	must(t, err)
	checkEqual(t, "MembersOf it", rowSet(members), pick(func(r reporting.RosterRow) bool {
		return (r.Key == "e2" || r.Key == "e3") && r.Kind != reporting.RowManager && r.Kind != reporting.RowParent && r.Kind != reporting.RowUnit
	}))
	empty, err := s.RosterRows(ctx, "t1", reporting.RosterFilter{MembersOf: []string{}})
	must(t, err)
	if len(empty) != 0 {
		t.Errorf("MembersOf none: %v", rowSet(empty))
	}
	// Holding finds people by identifier: e2 by the LMS account, e1 by an
	// e-mail address given in mixed case; with MembersOf, only those in
	// the unit.
	bjorn := reporting.MatchKey("account:https://kslaring.no bjorn")
	ase := reporting.MatchKey("mbox:mailto:Ase.Odegard@Kommune.no")
	holders, err := s.RosterRows(ctx, "t1", reporting.RosterFilter{Holding: []string{bjorn, ase, "mbox:mailto:nobody@kommune.no"}})
	must(t, err)
	checkEqual(t, "Holding", rowSet(holders), pick(func(r reporting.RosterRow) bool {
		return (r.Key == "e1" || r.Key == "e2") && personRow(r)
	}))
	for _, f := range []reporting.RosterFilter{
		{Holding: []string{bjorn, ase}, MembersOf: []string{"hr"}},
		{Holding: []string{bjorn, ase}, People: []string{"e2", "e3"}},
	} {
		got, err := s.RosterRows(ctx, "t1", f)
		must(t, err)
		checkEqual(t, fmt.Sprintf("Holding with %v %v", f.MembersOf, f.People), rowSet(got), pick(func(r reporting.RosterRow) bool {
			return r.Key == "e2" && personRow(r)
		}))
		f.KnownAt = time.Now()
		got, err = s.RosterRows(ctx, "t1", f)
		must(t, err)
		checkEqual(t, fmt.Sprintf("Holding with %v %v known now", f.MembersOf, f.People), rowSet(got), pick(func(r reporting.RosterRow) bool {
			return r.Key == "e2" && personRow(r)
		}))
	}
	for _, f := range []reporting.RosterFilter{{Holding: []string{}}, {Holding: []string{"openid:https://nobody"}}, {Holding: []string{bjorn}, MembersOf: []string{"k"}}} {
		got, err := s.RosterRows(ctx, "t1", f)
		must(t, err)
		if len(got) != 0 {
			t.Errorf("Holding %v, MembersOf %v: %v", f.Holding, f.MembersOf, rowSet(got))
		}
	}
}

// personRow reports whether r is a row of a person (not of a unit).
func personRow(r reporting.RosterRow) bool {
	return r.Kind != reporting.RowManager && r.Kind != reporting.RowParent && r.Kind != reporting.RowUnit
}

// Fact fixtures.
var (
	alice = "mbox:mailto:alice@kommune.no"
	bob   = "account:https://kslaring.no bob"
	t0    = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
)

func fact(agent string, i int, outcome reporting.Outcome, acts ...string) reporting.Fact {
	return reporting.Fact{Statement: uuid.New(), Agent: agent, Name: "Name of " + agent, Activities: acts, Outcome: outcome,
		Timestamp: t0.Add(time.Duration(i) * time.Minute), Stored: t0.Add(time.Duration(i)*time.Minute + 1500*time.Millisecond)}
}

// collect reads every fact of the agents, by agent, sorted by timestamp.
func collect(t *testing.T, s reporting.Store, tenant string, agents []string) map[string][]reporting.Fact {
	t.Helper()
	out := map[string][]reporting.Fact{}
	err := s.Facts(ctx, tenant, agents, func(agent string, facts []reporting.Fact) error {
		if _, dup := out[agent]; dup {
			t.Errorf("Facts called twice for %s", agent)
		}
		for _, f := range facts {
			if f.Agent != agent {
				t.Errorf("fact of %s given for %s", f.Agent, agent)
			}
			f.Activities = slices.Clone(f.Activities)
			out[agent] = append(out[agent], f)
		}
		return nil
	})
	must(t, err)
	for _, fs := range out {
		slices.SortFunc(fs, func(a, b reporting.Fact) int { return a.Timestamp.Compare(b.Timestamp) })
	}
	return out
}

func testFactsRoundTrip(t *testing.T, s reporting.Store) {
	f1 := fact(alice, 1, reporting.OutcomeCompleted|reporting.OutcomePassed, "https://lms.example/m1", "https://w3id.example/au/1")
	f1.HasScore, f1.Score = true, 0.875
	f1.Registration = uuid.MustParse("6fbd4b6c-1e2a-4c8e-9a55-0a1c2b3d4e5f")
	f2 := fact(alice, 2, 0, "https://lms.example/m1")
	f2.Name = "Alice Ø. Ås"
	f3 := fact(bob, 3, reporting.OutcomeSatisfied, "https://lms.example/course")
	f3.HasScore, f3.Score = true, 0            // a zero score is a score
	f3.Stored = f3.Timestamp.Add(-time.Second) // a timestamp after stored (a client's clock ahead)
	must(t, s.AddFacts(ctx, "t1", []reporting.Fact{f1, f2, f3}))
	// Agents in any order, one without facts, one twice (two people who
	// held the identifier): each agent with facts is given once.
	got := collect(t, s, "t1", []string{bob, alice, "mbox:mailto:nobody@kommune.no", alice})
	f1.Name = "Alice Ø. Ås" // the latest name of the agent
	checkEqual(t, "alice's facts", got[alice], []reporting.Fact{f1, f2})
	checkEqual(t, "bob's facts", got[bob], []reporting.Fact{f3})
	if len(got) != 2 {
		t.Errorf("Facts called for %d agents, want 2", len(got))
	}
	all := collect(t, s, "t1", nil)
	checkEqual(t, "Facts(nil)", all, got)

	agents, err := s.FactAgents(ctx, "t1")
	must(t, err)
	// Sorted by agent key: "account:…" before "mbox:…".
	checkEqual(t, "FactAgents", agents, []reporting.AgentFacts{
		{Agent: bob, Name: f3.Name},
		{Agent: alice, Name: "Alice Ø. Ås"},
	})
}

func testFactsIdempotent(t *testing.T, s reporting.Store) {
	f := fact(alice, 1, reporting.OutcomeCompleted, "https://lms.example/m1")
	must(t, s.AddFacts(ctx, "t1", []reporting.Fact{f}))
	must(t, s.AddFacts(ctx, "t1", []reporting.Fact{f, f}))
	g := f
	g.Agent = bob // the same statement for another learner (a group member)
	must(t, s.AddFacts(ctx, "t1", []reporting.Fact{g, f}))
	got := collect(t, s, "t1", []string{alice, bob})
	if len(got[alice]) != 1 || len(got[bob]) != 1 {
		t.Errorf("after repeated adds: %d facts of alice, %d of bob; want 1 and 1", len(got[alice]), len(got[bob]))
	}
}

func testRetract(t *testing.T, s reporting.Store) {
	a := fact(alice, 1, reporting.OutcomeCompleted, "https://lms.example/m1")
	b := fact(alice, 2, reporting.OutcomePassed, "https://lms.example/m1")
	c := fact(bob, 3, reporting.OutcomeCompleted, "https://lms.example/m1")
	voidA := t0.Add(time.Hour)
	voidC := t0.Add(2 * time.Hour)
	// a is voided after it arrives; c before (its voiding statement came
	// first), and again later (the earliest counts).
	must(t, s.AddFacts(ctx, "t1", []reporting.Fact{a, b}))
	must(t, s.RetractFacts(ctx, "t1", []reporting.Retraction{{Statement: a.Statement, Stored: voidA}, {Statement: c.Statement, Stored: voidC}}))
	must(t, s.AddFacts(ctx, "t1", []reporting.Fact{c}))
	must(t, s.RetractFacts(ctx, "t1", []reporting.Retraction{{Statement: c.Statement, Stored: voidC.Add(time.Hour)}}))
	// A retraction in another tenant changes nothing here.
	must(t, s.RetractFacts(ctx, "t2", []reporting.Retraction{{Statement: b.Statement, Stored: voidA}}))
	got := collect(t, s, "t1", []string{alice, bob})
	a.VoidedAt, c.VoidedAt = voidA, voidC
	checkEqual(t, "alice after voiding", got[alice], []reporting.Fact{a, b})
	checkEqual(t, "bob after voiding", got[bob], []reporting.Fact{c})
	if !c.Counts(voidC.Add(-time.Minute), voidC.Add(-time.Minute)) || c.Counts(voidC, voidC) || c.Counts(voidC, time.Time{}) {
		t.Error("Fact.Counts does not honour VoidedAt")
	}
}

func testManyFacts(t *testing.T, s reporting.Store) {
	// Enough facts for one agent to need many chunks, added in batches of
	// various sizes, some voided.
	r := rand.New(rand.NewPCG(1, 2))
	var want []reporting.Fact
	for i := 0; i < 700; {
		n := 1 + r.IntN(90)
		var batch []reporting.Fact
		for j := 0; j < n && i < 700; j++ {
			f := fact(alice, i, reporting.Outcome(r.IntN(16)), fmt.Sprintf("https://lms.example/m%d", r.IntN(8)))
			if r.IntN(3) == 0 {
				f.HasScore, f.Score = true, r.Float64()
			}
			f.Stored = f.Timestamp.Add(time.Duration(r.IntN(1e6)) * time.Millisecond)
			batch = append(batch, f)
			i++
		}
		must(t, s.AddFacts(ctx, "t1", batch))
		want = append(want, batch...)
	}
	var rs []reporting.Retraction
	for i := 0; i < len(want); i += 37 {
		want[i].VoidedAt = t0.Add(48 * time.Hour)
		rs = append(rs, reporting.Retraction{Statement: want[i].Statement, Stored: want[i].VoidedAt})
	}
	must(t, s.RetractFacts(ctx, "t1", rs))
	got := collect(t, s, "t1", []string{alice})
	for i := range want {
		want[i].Name = want[len(want)-1].Name
	}
	checkEqual(t, "700 facts of one agent", got[alice], want)
}

func testFactsConcurrent(t *testing.T, s reporting.Store) {
	const workers, per = 8, 50
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				agent := fmt.Sprintf("mbox:mailto:learner%d@kommune.no", (w*per+i)%10)
				if err := s.AddFacts(ctx, "t1", []reporting.Fact{fact(agent, w*per+i, reporting.OutcomeCompleted, "https://lms.example/m1")}); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	total := 0
	for _, fs := range collect(t, s, "t1", nil) {
		total += len(fs)
	}
	if total != workers*per {
		t.Errorf("%d facts after concurrent adds, want %d", total, workers*per)
	}
}

func testResetFacts(t *testing.T, s reporting.Store) {
	a := fact(alice, 1, reporting.OutcomeCompleted, "https://lms.example/m1")
	must(t, s.AddFacts(ctx, "t1", []reporting.Fact{a}))
	must(t, s.AddFacts(ctx, "t2", []reporting.Fact{a}))
	must(t, s.RetractFacts(ctx, "t1", []reporting.Retraction{{Statement: a.Statement, Stored: t0}}))
	must(t, s.ResetFacts(ctx, "t1"))
	if got := collect(t, s, "t1", nil); len(got) != 0 {
		t.Errorf("facts after reset: %v", got)
	}
	// The retraction went with the reset: the fact added again counts.
	must(t, s.AddFacts(ctx, "t1", []reporting.Fact{a}))
	got := collect(t, s, "t1", nil)
	checkEqual(t, "re-added after reset", got[alice], []reporting.Fact{a})
	if got := collect(t, s, "t2", nil); len(got[alice]) != 1 {
		t.Errorf("reset of t1 touched t2: %v", got)
	}
}

// testRemindersInBatches: reminders of more people than a batch of the
// report engine, some with two managers (listed once per manager, twice
// in one batch), are the rows of the status report to remind of, grouped
// by manager; the summary counts the same.
func testRemindersInBatches(t *testing.T, s reporting.Store) {
	must(t, s.PutModule(ctx, "t1", &reporting.Module{ID: "m1", Title: map[string]string{"nb": "M1"},
		Activities: []string{"https://lms.example/m1"}, Completion: reporting.Completed, Validity: reporting.MustPeriod("P1Y")}))
	must(t, s.PutModule(ctx, "t1", module("m2", "https://lms.example/m2")))
	must(t, s.PutRule(ctx, "t1", &reporting.Rule{ID: "r", Role: "alle", Modules: []string{"m1", "m2"}, DueWithin: reporting.MustPeriod("P30D")}))
	imp := &reporting.Import{Effective: d2024, Units: []reporting.UnitIn{{ID: "k", Name: "K", Managers: []string{"p0000"}},
		{ID: "a", Name: "A", Parent: "k", Managers: []string{"p0001"}}, {ID: "b", Name: "B", Parent: "k", Managers: []string{"p0002"}},
		{ID: "c", Name: "C", Parent: "k"}}}
	var facts []reporting.Fact
	const n = 1100
	for i := range n {
		p := reporting.PersonIn{ID: fmt.Sprintf("p%04d", i), Name: fmt.Sprintf("P %d", i), Email: fmt.Sprintf("p%d@kommune.no", i),
			Start: reporting.MustDate("2025-01-01").AddDays(i % 300), Roles: []reporting.Assignment{{ID: "alle"}},
			Units: []reporting.Assignment{{ID: []string{"a", "b", "c"}[i%3]}}}
		if i%10 == 0 {
			p.Units = append(p.Units, reporting.Assignment{ID: []string{"b", "c", "a"}[i%3]})
		}
		imp.People = append(imp.People, p)
		if i%3 == 0 {
			f := fact("mbox:mailto:"+p.Email, i, reporting.OutcomeCompleted, "https://lms.example/m1")
			f.Timestamp = time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%60)
			f.Stored = f.Timestamp
			facts = append(facts, f)
		}
		if i%5 == 0 {
			facts = append(facts, fact("mbox:mailto:"+p.Email, i, reporting.OutcomeCompleted, "https://lms.example/m2"))
		}
	}
	_, err := s.ImportRoster(ctx, "t1", imp, time.Date(2024, 1, 2, 8, 0, 0, 0, time.UTC))
	must(t, err)
	must(t, s.AddFacts(ctx, "t1", facts))

	q := reporting.Query{Options: reporting.Options{AsOf: time.Date(2025, 10, 10, 12, 0, 0, 0, time.UTC)}}
	within := reporting.MustPeriod("P14D")
	limit := reporting.MustDate("2025-10-24")
	rows, err := s.RosterRows(ctx, "t1", reporting.RosterFilter{})
	must(t, err)
	view := reporting.NewView(rows, reporting.MustDate("2025-10-10"))
	want := map[string][]string{}
	wantSum := map[string]string{}
	counts := map[string]*[3]int{} // manager -> people, overdue, due soon
	lastOf := map[string]string{}
	_, err = reporting.Report(ctx, s, "t1", q, func(r *reporting.Row) error {
		due := r.Status == reporting.StatusOverdue || r.Status == reporting.StatusExpired ||
			(r.Status == reporting.StatusDue || r.Status == reporting.StatusInProgress || r.Status == reporting.StatusNotStarted) && r.Due != 0 && r.Due <= limit ||
			(r.Status == reporting.StatusExpiringSoon || r.Status == reporting.StatusCompleted) && r.Expires != 0 && r.Expires <= limit
		if !due {
			return nil
		}
		managers := view.Managers(view.People[r.Person])
		if len(managers) == 0 {
			managers = []string{""}
		}
		for _, m := range managers {
			want[m] = append(want[m], fmt.Sprintf("%s %s %s", r.Person, r.Module, r.Status))
			c := counts[m]
			if c == nil {
				c = &[3]int{}
				counts[m] = c
			}
			if lastOf[m] != r.Person {
				c[0]++
				lastOf[m] = r.Person
			}
			if r.Status == reporting.StatusOverdue || r.Status == reporting.StatusExpired {
				c[1]++
			} else {
				c[2]++
			}
		}
		return nil
	})
	must(t, err)
	for m, c := range counts {
		wantSum[m] = fmt.Sprintf("people %d overdue %d due soon %d", c[0], c[1], c[2])
	}
	groups, err := reporting.Reminders(ctx, s, "t1", q, within)
	must(t, err)
	got := map[string][]string{}
	var order []string
	for _, g := range groups {
		order = append(order, g.Manager)
		for _, r := range g.Rows {
			got[g.Manager] = append(got[g.Manager], fmt.Sprintf("%s %s %s", r.Person, r.Module, r.Status))
		}
	}
	checkEqual(t, "reminders by manager", got, want)
	checkEqual(t, "managers in order", order, []string{"p0000", "p0001", "p0002"})
	if len(want["p0001"]) < 100 || len(want["p0002"]) < 100 {
		t.Errorf("too few reminders to test batches: %d and %d", len(want["p0001"]), len(want["p0002"]))
	}
	sums, err := reporting.SummariseReminders(ctx, s, "t1", q, within)
	must(t, err)
	gotSum := map[string]string{}
	for i, sum := range sums {
		gotSum[sum.Manager] = fmt.Sprintf("people %d overdue %d due soon %d", sum.People, sum.Total.Overdue, sum.Total.DueSoon)
		var mods reporting.ReminderCounts
		for _, c := range sum.Modules {
			mods.Overdue, mods.DueSoon = mods.Overdue+c.Overdue, mods.DueSoon+c.DueSoon
		}
		if mods != sum.Total || sum.Manager != groups[i].Manager || sum.Name != groups[i].Name {
			t.Errorf("summary %+v: modules add up to %+v; group %+v", sum, mods, groups[i].Manager)
		}
	}
	checkEqual(t, "summaries", gotSum, wantSum)
}

func testTenantIsolation(t *testing.T, s reporting.Store) {
	must(t, s.PutModule(ctx, "t1", module("m1", "https://lms.example/m1")))
	_, err := s.ImportRoster(ctx, "t1", baseImport(), time.Date(2025, 1, 2, 8, 0, 0, 0, time.UTC))
	must(t, err)
	must(t, s.AddFacts(ctx, "t1", []reporting.Fact{fact(alice, 1, reporting.OutcomeCompleted, "https://lms.example/m1")}))

	cat, _ := s.Catalog(ctx, "t2")
	rows, _ := s.RosterRows(ctx, "t2", reporting.RosterFilter{})
	imports, _ := s.Imports(ctx, "t2")
	facts := collect(t, s, "t2", nil)
	agents, _ := s.FactAgents(ctx, "t2")
	if len(cat.Modules) != 0 || len(rows) != 0 || len(imports) != 0 || len(facts) != 0 || len(agents) != 0 {
		t.Errorf("t2 sees t1's data: %d modules, %d rows, %d imports, %d fact agents, %d agents", len(cat.Modules), len(rows), len(imports), len(facts), len(agents))
	}
	wantKind(t, "deleting t1's module through t2", s.DeleteModule(ctx, "t2", "m1"), errs.NotFound)
	// Import ids count per tenant.
	rec, err := s.ImportRoster(ctx, "t2", baseImport(), time.Date(2025, 1, 2, 8, 0, 0, 0, time.UTC))
	must(t, err)
	if rec.ID != 1 {
		t.Errorf("first import of t2 has id %d, want 1", rec.ID)
	}
}

func fmtPeriods(ps []reporting.RowPeriod) string {
	var parts []string
	for _, p := range ps {
		s := p.Interval.String()
		if p.Name != "" || p.Email != "" {
			s += fmt.Sprintf(" %q %q", p.Name, p.Email)
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
