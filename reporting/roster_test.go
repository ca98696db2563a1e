package reporting

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/errs"
)

// apply plans imp against rows and returns the rows after it (as a store
// would hold them), as sorted strings, with the plan.
func apply(t *testing.T, rows []RosterRow, imp *Import, today string, id int64) ([]RosterRow, *Plan) {
	t.Helper()
	plan, err := PlanImport(rows, imp, MustDate(today))
	if err != nil {
		t.Fatalf("PlanImport: %v", err)
	}
	gone := map[Timeline]bool{}
	for _, tl := range plan.Supersede {
		gone[tl] = true
	}
	var out []RosterRow
	for _, r := range rows {
		if !gone[r.timeline()] {
			out = append(out, r)
		}
	}
	for _, r := range plan.Insert {
		r.Recorded = id
		out = append(out, r)
	}
	return out, plan
}

func render(rows []RosterRow, kinds ...RowKind) []string {
	var out []string
	for _, r := range rows {
		if len(kinds) > 0 && !slices.Contains(kinds, r.Kind) {
			continue
		}
		s := fmt.Sprintf("%s %s %s %s", r.Kind, r.Key, r.Value, r.Interval)
		if r.Name != "" {
			s += " " + r.Name
		}
		out = append(out, strings.TrimSpace(strings.ReplaceAll(s, "  ", " ")))
	}
	sort.Strings(out)
	return out
}

func check(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func person(id string, units, roles []string, mods ...func(*PersonIn)) PersonIn {
	p := PersonIn{ID: id, Name: "Person " + id, Email: id + "@kommune.no"}
	for _, u := range units {
		p.Units = append(p.Units, Assignment{ID: u})
	}
	for _, r := range roles {
		p.Roles = append(p.Roles, Assignment{ID: r})
	}
	for _, m := range mods {
		m(&p)
	}
	return p
}

var twoUnits = []UnitIn{{ID: "a", Name: "A"}, {ID: "b", Name: "B", Parent: "a"}}

func TestPlanImportLifecycle(t *testing.T) {
	start := func(d string) func(*PersonIn) { return func(p *PersonIn) { p.Start = MustDate(d) } }
	rows, _ := apply(t, nil, &Import{Units: twoUnits, People: []PersonIn{
		person("p1", []string{"a"}, []string{"adm"}, start("2020-01-01")),
		person("p2", []string{"b"}, []string{"mobil"}), // no start: from the import day
	}}, "2025-01-10", 1)
	check(t, "first import", render(rows, RowPerson, RowMember, RowRole), []string{
		"member p1 a [2020-01-01, …)",
		"member p2 b [2025-01-10, …)",
		"person p1 [2020-01-01, …) Person p1",
		"person p2 [2025-01-10, …) Person p2",
		"role p1 adm [2020-01-01, …)",
		"role p2 mobil [2025-01-10, …)",
	})

	// p1 changes unit and gains a role; p2 is missing: ended.
	rows, plan := apply(t, rows, &Import{Effective: MustDate("2025-03-01"), Units: twoUnits, People: []PersonIn{
		person("p1", []string{"b"}, []string{"adm", "leder"}, start("2020-01-01")),
	}}, "2025-03-02", 2)
	check(t, "second import", render(rows, RowPerson, RowMember, RowRole), []string{
		"member p1 a [2020-01-01, 2025-03-01)",
		"member p1 b [2025-03-01, …)",
		"member p2 b [2025-01-10, 2025-03-01)",
		"person p1 [2020-01-01, …) Person p1",
		"person p2 [2025-01-10, 2025-03-01) Person p2",
		"role p1 adm [2020-01-01, …)",
		"role p1 leder [2025-03-01, …)",
		"role p2 mobil [2025-01-10, 2025-03-01)",
	})
	var ops []string
	for _, c := range plan.Changes {
		ops = append(ops, c.Op+" "+string(c.Kind)+" "+c.Key+" "+c.Value)
	}
	check(t, "second import's changes", ops, []string{
		"ended person p2 ", "ended member p1 a", "added member p1 b", "ended member p2 b", "added role p1 leder", "ended role p2 mobil",
	})

	// p2 is rehired with a new start date; p1's start date is corrected.
	rows, _ = apply(t, rows, &Import{Effective: MustDate("2025-06-01"), Units: twoUnits, People: []PersonIn{
		person("p1", []string{"b"}, []string{"adm", "leder"}, start("2019-06-01")),
		person("p2", []string{"a"}, []string{"mobil"}, start("2025-05-15")),
	}}, "2025-06-02", 3)
	check(t, "third import", render(rows, RowPerson, RowMember, RowRole), []string{
		"member p1 a [2020-01-01, 2025-03-01)",
		"member p1 b [2025-03-01, …)",
		"member p2 a [2025-06-01, …)",
		"member p2 b [2025-01-10, 2025-03-01)",
		"person p1 [2019-06-01, …) Person p1",
		"person p2 [2025-01-10, 2025-03-01) Person p2",
		"person p2 [2025-05-15, …) Person p2",
		"role p1 adm [2020-01-01, …)",
		"role p1 leder [2025-03-01, …)",
		"role p2 mobil [2025-01-10, 2025-03-01)",
		"role p2 mobil [2025-06-01, …)",
	})

	// Importing the same snapshot again changes nothing.
	_, plan = apply(t, rows, &Import{Effective: MustDate("2025-07-01"), Units: twoUnits, People: []PersonIn{
		person("p1", []string{"b"}, []string{"adm", "leder"}, start("2019-06-01")),
		person("p2", []string{"a"}, []string{"mobil"}, start("2025-05-15")),
	}}, "2025-07-02", 4)
	if len(plan.Changes) != 0 || len(plan.Insert) != 0 || len(plan.Supersede) != 0 {
		t.Errorf("a repeated import planned %+v", plan)
	}
}

func TestPlanImportDated(t *testing.T) {
	// Dated units and roles are taken as HR gives them (to: the last day,
	// stored as the day after), and replace the timeline.
	p := person("p1", nil, nil, func(p *PersonIn) {
		p.Start = MustDate("2024-01-01")
		p.Units = []Assignment{{ID: "a", Interval: Interval{MustDate("2024-01-01"), MustDate("2024-07-01")}},
			{ID: "a", Interval: Interval{MustDate("2024-06-01"), MustDate("2024-08-31")}}, // overlapping: merged
			{ID: "b", Interval: Interval{From: MustDate("2024-09-01")}}}
		p.Roles = []Assignment{{ID: "leder", Interval: Interval{From: MustDate("2025-02-01")}}} // future-dated
	})
	rows, _ := apply(t, nil, &Import{Units: twoUnits, People: []PersonIn{p}}, "2025-01-10", 1)
	check(t, "dated", render(rows, RowMember, RowRole), []string{
		"member p1 a [2024-01-01, 2024-09-01)",
		"member p1 b [2024-09-01, …)",
		"role p1 leder [2025-02-01, …)",
	})
	v := NewView(rows, MustDate("2025-01-15"))
	if len(v.People["p1"].Roles) != 0 || !slices.Equal(v.People["p1"].Units, []string{"b"}) {
		t.Errorf("as of 15 January: %+v", v.People["p1"])
	}
	if v := NewView(rows, MustDate("2024-08-31")); !slices.Equal(v.People["p1"].Units, []string{"a"}) {
		t.Errorf("on the last day of the membership of a: %+v", v.People["p1"])
	}
	// A unit HR dates ends on its last day too.
	closing := []UnitIn{{ID: "a", Name: "A"}, {ID: "c", Name: "C", Parent: "a", Interval: Interval{To: MustDate("2025-03-31")}}}
	crows, _ := apply(t, nil, &Import{Units: closing}, "2025-01-10", 1)
	check(t, "dated unit", render(crows, RowUnit), []string{"unit a […, …) A", "unit c […, 2025-04-01) C"})
	if v := NewView(crows, MustDate("2025-03-31")); v.Units["c"] == nil {
		t.Error("unit c is gone on its last day")
	}
	if v := NewView(crows, MustDate("2025-04-01")); v.Units["c"] != nil {
		t.Error("unit c is still there the day after its last")
	}
	// Listed again without dates: the future-dated role stays.
	p.Roles = []Assignment{{ID: "leder"}}
	_, plan := apply(t, rows, &Import{Effective: MustDate("2025-01-20"), Units: twoUnits, People: []PersonIn{p}}, "2025-01-20", 2)
	for _, c := range plan.Changes {
		if c.Kind == RowRole {
			t.Errorf("an undated listing changed a future-dated role: %+v", c)
		}
	}
}

func TestPlanImportIdentifiers(t *testing.T) {
	withAccount := func(name string) func(*PersonIn) {
		return func(p *PersonIn) {
			p.Identifiers = []map[string]any{{"account": map[string]any{"homePage": "https://kslaring.no", "name": name}}}
		}
	}
	rows, _ := apply(t, nil, &Import{Units: twoUnits, People: []PersonIn{
		person("p1", []string{"a"}, nil, func(p *PersonIn) { p.Email = "Ola.Nordmann@Kommune.no" }),
	}}, "2025-01-10", 1)
	// Ola leaves; a new Ola Nordmann gets the same address later.
	rows, _ = apply(t, rows, &Import{Effective: MustDate("2025-04-01"), Units: twoUnits, People: []PersonIn{
		person("p2", []string{"a"}, nil, func(p *PersonIn) { p.Email = "ola.nordmann@kommune.no" }, withAccount("ola2")),
	}}, "2025-04-01", 2)
	got := render(rows, RowIdent)
	want := []string{
		"ident p1 mbox:mailto:ola.nordmann@kommune.no […, 2025-04-01)",
		"ident p2 account:https://kslaring.no ola2 […, …)",
		"ident p2 mbox:mailto:ola.nordmann@kommune.no [2025-04-01, …)",
	}
	check(t, "identifiers after the address passed on", got, want)
	v := NewView(rows, MustDate("2025-05-01"))
	key := "mbox:mailto:ola.nordmann@kommune.no"
	if v.Holder(key, MustDate("2025-03-31")) != "p1" || v.Holder(key, MustDate("2025-04-01")) != "p2" ||
		v.Holder(sha1Key(key), MustDate("2025-03-31")) != "p1" || v.Holder("mbox:mailto:nobody@kommune.no", MustDate("2025-03-31")) != "" {
		t.Error("statements are not attributed to the holder of the address at the time")
	}
	if !slices.Equal(v.People["p2"].Keys, []string{"account:https://kslaring.no ola2", key, sha1Key(key)}) {
		t.Errorf("p2's keys: %v", v.People["p2"].Keys)
	}
}

func TestPlanImportUnits(t *testing.T) {
	units := []UnitIn{{ID: "k", Name: "Kommune"}, {ID: "h", Name: "Helse", Parent: "k", Managers: []string{"m1"}}, {ID: "s", Name: "Skole", Parent: "k"}}
	people := []PersonIn{person("m1", []string{"h"}, []string{"leder"}), person("m2", []string{"h"}, []string{"leder"})}
	rows, _ := apply(t, nil, &Import{Units: units, People: people}, "2025-01-10", 1)
	// Reorganised: Skole moves under Helse, Helse gets a new manager, and
	// a units-only complete import does not end the people.
	units[2].Parent, units[1].Managers = "h", []string{"m2"}
	rows, _ = apply(t, rows, &Import{Effective: MustDate("2025-08-01"), Units: units}, "2025-08-01", 2)
	check(t, "units", render(rows, RowParent, RowManager, RowPerson), []string{
		"manager h m1 […, 2025-08-01)",
		"manager h m2 [2025-08-01, …)",
		"parent h k […, …)",
		"parent s h [2025-08-01, …)",
		"parent s k […, 2025-08-01)",
		"person m1 [2025-01-10, …) Person m1",
		"person m2 [2025-01-10, …) Person m2",
	})
	before, after := NewView(rows, MustDate("2025-07-31")), NewView(rows, MustDate("2025-08-01"))
	if !slices.Equal(before.Units["k"].Children, []string{"h", "s"}) || !slices.Equal(after.Units["h"].Children, []string{"s"}) {
		t.Errorf("children before %v, after %v", before.Units["k"].Children, after.Units["h"].Children)
	}
	if sub := after.Subtree([]string{"h"}); !sub["s"] || !sub["h"] || sub["k"] {
		t.Errorf("subtree of h: %v", sub)
	}
	// m1 manages h alone: reminders go to the nearest other manager.
	if got := before.Managers(before.People["m1"]); len(got) != 0 {
		t.Errorf("m1's managers before: %v (k has none)", got)
	}
	if got := after.Managers(after.People["m1"]); !slices.Equal(got, []string{"m2"}) {
		t.Errorf("m1's managers after: %v", got)
	}
	// A partial import touches only what it lists.
	_, plan := apply(t, rows, &Import{Partial: true, Effective: MustDate("2025-09-01"), People: []PersonIn{
		person("m2", []string{"s"}, []string{"leder"}),
	}}, "2025-09-01", 3)
	for _, c := range plan.Changes {
		if c.Key != "m2" {
			t.Errorf("a partial import changed %+v", c)
		}
	}
}

func TestPlanImportInvalid(t *testing.T) {
	for name, imp := range map[string]*Import{
		"cycle in the import":    {Units: []UnitIn{{ID: "a", Parent: "b"}, {ID: "b", Parent: "a"}}},
		"own parent":             {Units: []UnitIn{{ID: "a", Parent: "a"}}},
		"duplicate unit":         {Units: []UnitIn{{ID: "a"}, {ID: "a"}}},
		"bad unit id":            {Units: []UnitIn{{ID: "a/b"}}},
		"bad role id":            {Units: twoUnits, People: []PersonIn{person("p1", []string{"a"}, []string{"røle"})}},
		"last day before first":  {Units: twoUnits, People: []PersonIn{person("p1", nil, nil, func(p *PersonIn) { p.Units = []Assignment{{ID: "a", Interval: Interval{5, 4}}} })}},
		"unit ends before start": {Units: []UnitIn{{ID: "a", Interval: Interval{MustDate("2024-02-01"), MustDate("2024-01-31")}}}},
		"unit of another import": {People: []PersonIn{person("p1", []string{"a"}, nil)}},
		"duplicate manager":      {Units: []UnitIn{{ID: "a", Managers: []string{"p1", "p1"}}}, People: []PersonIn{person("p1", nil, nil)}},
		"identifier with two ids": {People: []PersonIn{person("p1", nil, nil, func(p *PersonIn) {
			p.Identifiers = []map[string]any{{"mbox": "mailto:a@b.no", "openid": "https://id.example/a"}}
		})}},
	} {
		_, err := PlanImport(nil, imp, MustDate("2025-01-01"))
		if !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: %v, want an Invalid error", name, err)
		}
	}
}

func TestParsePeopleCSV(t *testing.T) {
	// Norwegian Excel: semicolons, Windows-1252, dates as DD.MM.YYYY, one
	// line per position.
	csv := "Ansattnummer;Navn;E-post;Enhet;Rolle;Startdato;Sluttdato;Brukernavn;account_homepage\r\n" +
		"1001;\xc5se \xd8deg\xe5rd;ase@kommune.no;helse;leder;01.03.2019;;ase;https://kslaring.no\r\n" +
		"1001;\xc5se \xd8deg\xe5rd;;skole;adm;01.01.2018;;;\r\n" +
		"\r\n" +
		"1002;Per;per@kommune.no;helse|skole;mobil;2024-08-01;2025-08-01;;\r\n"
	people, err := ParsePeopleCSV(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if len(people) != 2 {
		t.Fatalf("%d people, want 2: %+v", len(people), people)
	}
	ase, per := people[0], people[1]
	if ase.Name != "Åse Ødegård" || ase.Email != "ase@kommune.no" || ase.Start != MustDate("2018-01-01") || ase.End != 0 ||
		len(ase.Units) != 2 || ase.Units[1].ID != "skole" || len(ase.Roles) != 2 || len(ase.Identifiers) != 1 {
		t.Errorf("Åse = %+v", ase)
	}
	if per.End != MustDate("2025-08-01") || len(per.Units) != 2 || per.Units[1].ID != "skole" {
		t.Errorf("Per = %+v", per)
	}
	// UTF-8 with a byte-order mark, commas, English headers.
	people, err = ParsePeopleCSV(strings.NewReader("\ufeffid,name,email\n7,Bjørn Æsir,bjorn@kommune.no\n"))
	if err != nil || len(people) != 1 || people[0].Name != "Bjørn Æsir" {
		t.Errorf("UTF-8 CSV = %+v, %v", people, err)
	}
	for name, bad := range map[string]string{
		"no id column":   "name,email\nA,a@b.no\n",
		"unknown column": "id,shoe size\n1,44\n",
		"bad date":       "id,start\n1,31.02.2025\n",
		"empty id":       "id,name\n,A\n",
		"half account":   "id,account_name\n1,a\n",
		"empty":          "",
	} {
		if _, err := ParsePeopleCSV(strings.NewReader(bad)); !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: %v, want Invalid", name, err)
		}
	}
}

// TestParsePeopleCSVIdentifiers parses the example file: several e-mail
// addresses and accounts of one person, in one cell ("|" or spaces) and on
// repeated lines; each is an identifier of the person once imported.
func TestParsePeopleCSVIdentifiers(t *testing.T) {
	read := func(name string) *os.File {
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	units, err := ParseUnitsCSV(read("roster-units.csv"))
	if err != nil {
		t.Fatal(err)
	}
	people, err := ParsePeopleCSV(read("roster-people.csv"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanImport(nil, &Import{Units: units, People: people}, MustDate("2025-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	idents := map[string][]string{}
	for _, r := range plan.Insert {
		if r.Kind == RowIdent {
			idents[r.Key] = append(idents[r.Key], r.Value)
		}
	}
	for person, want := range map[string][]string{
		"1000": {"account:https://kslaring.no randi", "mbox:mailto:randi.radmann@kommune.no"},
		"1001": {"account:https://kslaring.no kari", "account:https://kslaring.no kari.nordmann", "account:https://lms.kommune.no kodegard",
			"mbox:mailto:kari.nordmann@kommune.no", "mbox:mailto:kari.odegard@kommune.no", "mbox:mailto:kari@kommune.no"},
		"1002": {"mbox:mailto:ola.nordmann@kommune.no", "mbox:mailto:ola@kommune.no"},
	} {
		got := idents[person]
		slices.Sort(got)
		check(t, "identifiers of "+person, got, want)
	}
	// The first address is the one reports show.
	if kari := people[1]; kari.Email != "kari.odegard@kommune.no" || len(kari.Units) != 2 || len(kari.Roles) != 2 {
		t.Errorf("Kari = %+v", kari)
	}
	for name, bad := range map[string]string{
		"a bad second address":        "id,email\n1,a@b.no|nope\n",
		"a bad address on a repeat":   "id,email\n1,a@b.no\n1,a@b.no;c@d.no\n",
		"account names without site":  "id,account_name\n1,a|b\n",
		"a site without account name": "id,account_homepage,account_name\n1,https://lms.example, | \n",
	} {
		if _, err := ParsePeopleCSV(strings.NewReader(bad)); !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: %v, want Invalid", name, err)
		}
	}
	// The same address twice, in another case, is one identifier.
	people, err = ParsePeopleCSV(strings.NewReader("id,email\n1,a@b.no\n1,A@b.no|a@B.no\n"))
	if err != nil || len(people) != 1 || people[0].Email != "a@b.no" || len(people[0].Identifiers) != 0 {
		t.Errorf("one address in several cases = %+v, %v", people, err)
	}
}

func TestParseUnitsCSV(t *testing.T) {
	units, err := ParseUnitsCSV(strings.NewReader("enhet;navn;overordnet;ledere;fra\nk;Kommunen;;1001;\nh;Helse og omsorg;k;1002|1003;01.01.2020\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 2 || units[1].Parent != "k" || !slices.Equal(units[1].Managers, []string{"1002", "1003"}) || units[1].From != MustDate("2020-01-01") {
		t.Errorf("units = %+v", units)
	}
}

func TestParseImportJSON(t *testing.T) {
	imp, err := ParseImportJSON([]byte(`{"effective": "2025-03-01", "partial": true, "units": [{"id": "a", "name": "A"}],
		"people": [{"id": "p1", "name": "P", "start": "01.02.2020", "units": ["a", {"id": "a", "from": "2024-01-01", "to": "2024-02-01"}],
		"roles": ["leder"], "identifiers": [{"account": {"homePage": "https://kslaring.no", "name": "p1"}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	p := imp.People[0]
	if !imp.Partial || imp.Effective != MustDate("2025-03-01") || p.Start != MustDate("2020-02-01") || len(p.Units) != 2 ||
		p.Units[1].To != MustDate("2024-02-01") || p.Roles[0].ID != "leder" {
		t.Errorf("import = %+v", imp)
	}
	for _, bad := range []string{`{"peple": []}`, `{"people": [{"id": "p1", "start": "yesterday"}]}`, `[]`, `{"units": [{"id": "a"}]} x`,
		`{"people": [{"id": "p1", "units": [{"id": "a", "colour": "red"}]}]}`} {
		if _, err := ParseImportJSON([]byte(bad)); !errs.Is(err, errs.Invalid) {
			t.Errorf("ParseImportJSON(%s) = %v, want Invalid", bad, err)
		}
	}
}

func TestDecodeCatalog(t *testing.T) {
	m, err := Decode[Module]([]byte(`{"id": "kins-1", "title": {"nb-NO": "Grunnleggende informasjonssikkerhet"},
		"activities": ["https://kslaring.no/mod/scorm/view.php?id=1001"], "completion": "completed", "validity": "P1Y"}`))
	if err != nil || m.Validity.Years != 1 {
		t.Errorf("Decode[Module] = %+v, %v", m, err)
	}
	for _, bad := range []string{
		`{"id": "m", "title": {"nb-NO": "x"}, "activities": ["not an iri"], "completion": "completed"}`,
		`{"id": "m", "title": {}, "activities": ["https://a.example/1"], "completion": "completed"}`,
		`{"id": "m", "title": {"nb_NO": "x"}, "activities": ["https://a.example/1"], "completion": "completed"}`,
		`{"id": "m", "title": {"nb": "x"}, "activities": ["https://a.example/1"], "completion": "finished"}`,
		`{"id": "m", "title": {"nb": "x"}, "activities": ["https://a.example/1", "https://a.example/1"], "completion": "passed"}`,
		`{"id": "m", "title": {"nb": "x"}, "activities": ["https://a.example/1"], "completion": "passed", "minScore": 1.5}`,
		`{"id": "m", "title": {"nb": "x"}, "activities": ["https://a.example/1"], "completion": "passed", "validity": "PT1H"}`,
		`{"id": "m m", "title": {"nb": "x"}, "activities": ["https://a.example/1"], "completion": "passed"}`,
		`{"id": "m", "title": {"nb": "x"}, "activities": ["https://a.example/1"], "completion": "passed", "extra": 1}`,
	} {
		if _, err := Decode[Module]([]byte(bad)); !errs.Is(err, errs.Invalid) {
			t.Errorf("Decode[Module](%s) = %v, want Invalid", bad, err)
		}
	}
	if _, err := Decode[Rule]([]byte(`{"id": "r", "role": "leder", "modules": ["kins-1"], "dueWithin": "P30D", "dueFrom": "hire"}`)); !errs.Is(err, errs.Invalid) {
		t.Error("a bad dueFrom was accepted")
	}
	if _, err := Decode[Campaign]([]byte(`{"id": "c", "modules": ["kins-1"], "start": "2025-10-31", "end": "2025-10-01"}`)); !errs.Is(err, errs.Invalid) {
		t.Error("a campaign ending before it starts was accepted")
	}
	if x, err := Decode[Exemption]([]byte(`{"id": "x", "person": "1001", "module": "kins-1", "effective": {"from": "2025-01-01"}, "reason": "permisjon"}`)); err != nil || x.Effective.From != MustDate("2025-01-01") {
		t.Errorf("Decode[Exemption] = %+v, %v", x, err)
	}
}

// inScope returns the rows of rows that sc selects (all when sc is nil),
// as a store reads them for PlanImport.
func inScope(rows []RosterRow, sc *RowScope) []RosterRow {
	if sc == nil {
		return rows
	}
	var out []RosterRow
	for _, r := range rows {
		switch {
		case !r.Kind.personKind(), slices.Contains(sc.People, r.Key), r.Kind == RowIdent && slices.Contains(sc.Idents, r.Value):
			out = append(out, r)
		}
	}
	return out
}

// TestPlanImportScope: planning a partial import against the rows its
// Scope selects gives the same plan, or the same error, as planning it
// against the whole roster. Each import is applied in turn, so later ones
// meet the history of the earlier ones (ended rows, moves, identifiers
// passed on).
func TestPlanImportScope(t *testing.T) {
	units := []UnitIn{{ID: "k", Name: "Kommune", Managers: []string{"p1"}}, {ID: "h", Name: "Helse", Parent: "k", Managers: []string{"p2"}},
		{ID: "s", Name: "Skole", Parent: "k"}}
	var people []PersonIn
	for i := 1; i <= 8; i++ {
		unit := []string{"k", "h", "s"}[i%3]
		people = append(people, person(fmt.Sprintf("p%d", i), []string{unit}, []string{"adm"}))
	}
	rows, _ := apply(t, nil, &Import{Effective: MustDate("2025-01-01"), Units: units, People: people}, "2025-01-01", 1)
	partial := func(eff string, us []UnitIn, ps ...PersonIn) *Import {
		return &Import{Partial: true, Effective: MustDate(eff), Units: us, People: ps}
	}
	with := func(p PersonIn, edit func(*PersonIn)) PersonIn { edit(&p); return p }
	steps := []struct {
		name string
		imp  *Import
		err  bool
	}{
		{"a unit's new manager", partial("2025-02-01", []UnitIn{{ID: "s", Name: "Skole", Parent: "k", Managers: []string{"p3"}}}), false},
		{"a new unit under a known one", partial("2025-02-01", []UnitIn{{ID: "b", Name: "Barnehage", Parent: "s", Managers: []string{"p6"}}}), false},
		{"a person moved and given a role", partial("2025-03-01", nil, person("p4", []string{"b"}, []string{"adm", "leder"})), false},
		{"an e-mail address passed on", partial("2025-04-01", nil, with(people[4], func(p *PersonIn) { p.Email = "p4@kommune.no" })), false},
		{"an account added", partial("2025-04-01", nil, with(people[5], func(p *PersonIn) {
			p.Identifiers = []map[string]any{{"account": map[string]any{"homePage": "https://kslaring.no", "name": "p6"}}}
		})), false},
		{"a person leaving on a day", partial("2025-05-01", nil, with(people[6], func(p *PersonIn) { p.End = MustDate("2025-05-31") })), false},
		{"a new person", partial("2025-05-01", nil, person("p9", []string{"h"}, []string{"mobil"})), false},
		{"a unit moved and a manager who is new", partial("2025-06-01",
			[]UnitIn{{ID: "b", Name: "Barnehage", Parent: "h", Managers: []string{"p10"}}}, person("p10", []string{"b"}, []string{"leder"})), false},
		{"rehired", partial("2025-07-01", nil, with(people[6], func(p *PersonIn) { p.Start = MustDate("2025-07-01") })), false},
		{"a cycle", partial("2025-08-01", []UnitIn{{ID: "k", Name: "Kommune", Parent: "b"}}), true},
		{"an unknown unit", partial("2025-08-01", nil, person("p1", []string{"nowhere"}, nil)), true},
		{"an unknown manager", partial("2025-08-01", []UnitIn{{ID: "s", Name: "Skole", Managers: []string{"p99"}}}), true},
		{"two people, one address", partial("2025-08-01", nil, person("p1", nil, nil), with(people[1], func(p *PersonIn) { p.Email = "p1@kommune.no" })), true},
	}
	for i, step := range steps {
		sc := step.imp.Scope()
		if sc == nil {
			t.Fatalf("%s: a partial import has no scope", step.name)
		}
		scoped := inScope(rows, sc)
		if !step.err && len(scoped) >= len(rows) {
			t.Errorf("%s: the scope selects %d of %d rows", step.name, len(scoped), len(rows))
		}
		want, werr := PlanImport(rows, step.imp, MustDate(step.imp.Effective.String()))
		got, gerr := PlanImport(scoped, step.imp, MustDate(step.imp.Effective.String()))
		if (werr != nil) != step.err || ruleOf(gerr) != ruleOf(werr) {
			t.Fatalf("%s: error %v against the scope, %v against the roster; want an error: %v", step.name, gerr, werr, step.err)
		}
		if werr != nil {
			continue
		}
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Errorf("%s: the plan against the scope\n%+v\ndiffers from the plan against the roster\n%+v", step.name, got, want)
		}
		rows, _ = apply(t, rows, step.imp, step.imp.Effective.String(), int64(i+2))
	}
	if (&Import{}).Scope() != nil {
		t.Error("a complete import has a scope")
	}
}

// ruleOf names the rule an import error broke, and where.
func ruleOf(err error) string {
	var e *errs.Error
	if !errors.As(err, &e) {
		return fmt.Sprint(err)
	}
	return e.Path + " " + e.Rule
}
