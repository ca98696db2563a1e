package reporting

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// diffs renders diffs as "id name op fields relations", e.g.
// "2 Person 2 changed [name] member+b-a role+adm".
func diffs(list []*EntityDiff) []string {
	var out []string
	for _, d := range list {
		s := fmt.Sprintf("%s %s %s %v", d.ID, d.Name, d.Op, d.Fields)
		for _, r := range d.Relations {
			s += " " + string(r.Kind)
			for _, v := range r.Added {
				s += "+" + v
			}
			for _, v := range r.Ended {
				s += "-" + v
			}
			for _, v := range r.Changed {
				s += "~" + v
			}
		}
		out = append(out, strings.ReplaceAll(s, "  ", " "))
	}
	return out
}

// TestSummarize: a second complete import adds a person and a unit,
// renames one person and moves them to another unit with a new role, ends
// one person who is no longer listed and one unit; the summary groups the
// plan's changes by person and unit, naming the fields that changed.
func TestSummarize(t *testing.T) {
	rows, _ := apply(t, nil, &Import{Units: append(slices.Clone(twoUnits), UnitIn{ID: "c", Name: "C"}), People: []PersonIn{
		person("1", []string{"a"}, []string{"ansatt"}),
		person("2", []string{"a"}, []string{"ansatt"}),
		person("3", []string{"b"}, nil),
	}}, "2026-01-01", 1)
	renamed := func(p *PersonIn) { p.Name = "Kari Nordmann" }
	imp := &Import{Units: []UnitIn{{ID: "a", Name: "A"}, {ID: "b", Name: "B", Parent: "a", Managers: []string{"1"}}, {ID: "d", Name: "D", Parent: "a"}},
		People: []PersonIn{
			person("1", []string{"a"}, []string{"ansatt"}),
			person("2", []string{"b"}, []string{"ansatt", "adm"}, renamed),
			person("4", []string{"d"}, []string{"ansatt"}),
		}}
	plan, err := PlanImport(rows, imp, MustDate("2026-03-01"))
	if err != nil {
		t.Fatal(err)
	}
	pv := Summarize(rows, plan.Changes, MustDate("2026-03-01"))
	check(t, "people added", diffs(pv.PeopleAdded), []string{"4 Person 4 added [] member+d role+ansatt ident+mbox:mailto:4@kommune.no"})
	check(t, "people changed", diffs(pv.PeopleChanged), []string{"2 Kari Nordmann changed [name] member+b-a role+adm"})
	check(t, "people ended", diffs(pv.PeopleEnded), []string{"3 Person 3 ended [] member-b"})
	check(t, "units added", diffs(pv.UnitsAdded), []string{"d D added [] parent+a"})
	check(t, "units changed", diffs(pv.UnitsChanged), []string{"b B [] manager+1"})
	check(t, "units ended", diffs(pv.UnitsEnded), []string{"c C ended []"})
	if pv.RoleChanges != 2 || pv.Effective != MustDate("2026-03-01") || len(pv.Changes) != len(plan.Changes) {
		t.Errorf("role changes %d, effective %s, %d changes", pv.RoleChanges, pv.Effective, len(pv.Changes))
	}
	if d := pv.PeopleChanged[0]; d.Before.Name != "Person 2" || d.After.Name != "Kari Nordmann" {
		t.Errorf("the rename: %+v -> %+v", d.Before, d.After)
	}
}

// TestParseTableDates: a workbook's sheet, split into cells, parses as
// its CSV would, with the caller's date reader for the date columns.
func TestParseTableDates(t *testing.T) {
	serial := func(s string) (Date, error) {
		if s == "45658" { // 2025-01-01 in Excel's 1900 date system
			return MustDate("2025-01-01"), nil
		}
		return ParseDate(s)
	}
	people, err := ParsePeopleTable([][]string{{"Ansattnr", "Navn", "Startdato"}, {"7", "Kari", "45658"}, {"", "", ""}, {"8", "Ola", "02.01.2025"}}, serial)
	if err != nil {
		t.Fatal(err)
	}
	if len(people) != 2 || people[0].Start != MustDate("2025-01-01") || people[1].Start != MustDate("2025-01-02") {
		t.Errorf("people %+v", people)
	}
	units, err := ParseUnitsTable([][]string{{"id", "navn", "fra"}, {"u", "U", "45658"}}, serial)
	if err != nil || len(units) != 1 || units[0].From != MustDate("2025-01-01") {
		t.Errorf("units %+v, %v", units, err)
	}
	if _, err := ParsePeopleTable(nil, nil); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("an empty sheet: %v", err)
	}
}
