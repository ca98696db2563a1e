package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/internal/browsertest"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/reporting/evidence"
)

// TestPagesUnitFiltersInBrowser: in Chromium, a manager filters the unit
// page to the overdue rows of one module, downloads the workbook (only
// those rows, checked with excelize) and the signed evidence pack of the
// last full month (verified with the keys the service publishes); an
// auditor downloads a pack of a period of their own as known on a day.
// The page with its filters and forms passes axe-core.
func TestPagesUnitFiltersInBrowser(t *testing.T) {
	b := browsertest.Start(t)
	e := startPages(t)
	keys := e.jwksOf(t)

	t.Run("manager", func(t *testing.T) {
		tab := b.NewTab(t)
		tab.SetLanguage("nb-NO", "nb", "en")
		tab.Open(e.base + "/login?next=%2Funits%2Foppvekst")
		tab.SetValue("#name", acctManager)
		tab.SetValue("#password", pagesPassword)
		if tab.Click("form.login button[type=submit]"); !strings.HasSuffix(tab.URL(), "/units/oppvekst") {
			t.Fatalf("signing in led to %s", tab.URL())
		}
		tab.CheckAccessibility()

		tab.SetValue("#status", "overdue")
		tab.SetValue("#module", "personvern-5")
		tab.Click("form.dates button[type=submit]")
		if u := tab.URL(); !strings.Contains(u, "status=overdue") || !strings.Contains(u, "module=personvern-5") {
			t.Errorf("the filter form led to %s", u)
		}
		if n := tab.Count("table.grid tbody tr"); n != 3 || tab.Count("table.grid thead th") != 2 || tab.Count(".s-completed") != 0 {
			t.Errorf("the filtered table: %d people, %d columns:\n%s", n, tab.Count("table.grid thead th"), tab.Text("main"))
		}
		if got := tab.Attr("#status option[selected]", "value"); got != "overdue" {
			t.Errorf("the status chosen shows as %q", got)
		}
		tab.CheckAccessibility()

		name, data := tab.Download("#xlsx")
		if name != "status-oppvekst-"+e.day(0)+".xlsx" {
			t.Errorf("the workbook's name: %s", name)
		}
		rows := xlsxRows(t, data)["Report"]
		if len(rows) != 1+3 {
			t.Fatalf("the workbook has %d rows: %v", len(rows), rows)
		}
		for _, r := range rows[1:] {
			if r[6] != "personvern-5" || r[9] != "overdue" {
				t.Errorf("a row outside the filter: %v", r)
			}
		}
		var people []string
		for _, r := range rows[1:] {
			people = append(people, r[0])
		}
		if !slices.Equal(people, []string{"200", "201", "202"}) {
			t.Errorf("the workbook's people: %v", people)
		}

		// The evidence pack of the last full month, by default.
		from, to := tab.Attr("#from", "value"), tab.Attr("#to", "value")
		today := reporting.DateOf(e.today, e.oslo)
		wantFrom, wantTo := lastMonth(today)
		if from != wantFrom.String() || to != wantTo.String() {
			t.Errorf("the pack's period by default: %s to %s, want %s to %s", from, to, wantFrom, wantTo)
		}
		name, data = tab.Download("#evidence")
		pack, err := evidence.Verify(data, keys)
		if err != nil {
			t.Fatalf("the downloaded pack %s does not verify: %v", name, err)
		}
		if name != "evidence-oppvekst-"+to+".jws" || !slices.Equal(pack.Units, []string{"oppvekst"}) ||
			pack.Period.From.String() != from || pack.Period.To.String() != to || pack.TimeZone != "Europe/Oslo" || len(pack.Rows) != 6 {
			t.Errorf("the pack %s: units %v, period %v, %s, %d rows", name, pack.Units, pack.Period, pack.TimeZone, len(pack.Rows))
		}
		if p := tab.Problems(); len(p) > 0 {
			t.Errorf("the pages reported problems: %v", p)
		}
	})

	t.Run("auditor", func(t *testing.T) {
		tab := b.NewTab(t)
		tab.SetLanguage("en")
		tab.Open(e.base + "/login")
		tab.SetValue("#name", acctAuditor)
		tab.SetValue("#password", pagesPassword)
		tab.Click("form.login button[type=submit]")
		tab.Open(e.base + "/units/k?knownAt=" + e.day(0) + "&status=open")
		if h := tab.Text("#evidence-title"); h != "Signed evidence pack" {
			t.Errorf("the pack's heading in English: %q", h)
		}
		if got := tab.Text("#people"); got != "6" {
			t.Errorf("people with something not done: %q", got)
		}
		tab.CheckAccessibility()
		tab.SetValue("#from", e.day(-30))
		tab.SetValue("#to", e.day(0))
		name, data := tab.Download("#evidence")
		pack, err := evidence.Verify(data, keys)
		if err != nil {
			t.Fatalf("the downloaded pack %s does not verify: %v", name, err)
		}
		if name != "evidence-k-"+e.day(0)+"-known-"+e.day(0)+".jws" || pack.KnownAt.IsZero() || len(pack.Rows) != 12 ||
			pack.Period.From.String() != e.day(-30) {
			t.Errorf("the auditor's pack %s: known at %v, %d rows, period %v", name, pack.KnownAt, len(pack.Rows), pack.Period)
		}
		// A bad period: a 400 page, accessible.
		tab.ResetProblems()
		if status := tab.Open(e.base + "/units/k/evidence?from=" + e.day(0) + "&to=" + e.day(-1)); status != 400 ||
			!strings.Contains(tab.Text("main"), "starts") {
			t.Errorf("a period ending before it starts: %d %s", status, tab.Text("main"))
		}
		tab.CheckAccessibility()
	})
}

// lastMonth returns the first and last day of the month before d's.
func lastMonth(d reporting.Date) (from, to reporting.Date) {
	t := d.Start(time.UTC)
	first := reporting.NewDate(t.Year(), t.Month(), 1)
	last := first.AddDays(-1).Start(time.UTC)
	return reporting.NewDate(last.Year(), last.Month(), 1), first.AddDays(-1)
}
