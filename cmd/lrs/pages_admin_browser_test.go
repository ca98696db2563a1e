package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/xapi-lrs/lrs/internal/browsertest"
)

// TestPagesAdminInBrowser uses the administration pages in a real
// headless Chromium, as hr: the roster upload through the page's file
// input, its preview, the confirmation and the change seen on the unit
// pages; a bad file's page; the module catalog, the rules, a campaign
// and an exemption made through their forms; the pages in English. Every
// page passes axe-core's WCAG 2.1 A/AA rules and reports no problem
// (nothing refused by the Content-Security-Policy, no console errors).
// A manager is refused the pages.
func TestPagesAdminInBrowser(t *testing.T) {
	b := browsertest.Start(t)
	e := startPages(t)
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good, bad := file("hr-eksport.csv", rosterCSV), file("feil.csv", "ansattnr;navn;startdato\n1;A;31.02.2026\n")

	tab := b.NewTab(t)
	tab.SetLanguage("nb-NO", "nb", "en")
	tab.Open(e.base + "/login")
	tab.SetValue("#name", acctHR)
	tab.SetValue("#password", pagesPassword)
	tab.Click("form.login button[type=submit]")
	if status := tab.Click("nav a[href='/admin']"); status != 200 || tab.Text("h1") != "Administrasjon" {
		t.Fatalf("the administration link: %d %s", status, tab.URL())
	}
	tab.CheckAccessibility()
	tab.Click("a[href='/admin/roster']")
	tab.CheckAccessibility()
	upload := func(path string) int {
		t.Helper()
		if _, err := chromedp.Run(tab.Context(), chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path}, chromedp.NodeReady)); err != nil {
			t.Fatalf("choosing %s: %v", path, err)
		}
		return tab.Click("form.admin button[type=submit]")
	}
	// tick clicks a check box's label (which loads no page).
	tick := func(sel string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(tab.Context(), browsertest.ActionTimeout)
		defer cancel()
		if _, err := chromedp.Run(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
			t.Fatalf("clicking %s: %v", sel, err)
		}
	}

	// A bad file: a page saying what is wrong, and the form again.
	if status := upload(bad); status != http.StatusBadRequest || !strings.Contains(tab.Text("#problem"), "line 2, start") {
		t.Errorf("a bad file: %d %q", status, tab.Text("main"))
	}
	tab.CheckAccessibility()
	tab.ResetProblems() // the console notes the 400

	// The preview, then the change.
	if status := upload(good); status != 200 || tab.Text("h1") != "Forhåndsvisning av endringene" {
		t.Fatalf("the preview: %d %s", status, tab.Text("main"))
	}
	if got := tab.Text("#people-added"); !strings.Contains(got, "Per Persen") || !strings.Contains(got, "Roller: + ansatt, + verneombud") {
		t.Errorf("people added: %q", got)
	}
	if got := tab.Text("#people-changed"); !strings.Contains(got, "Enheter: + helse, − skole") {
		t.Errorf("people changed: %q", got)
	}
	if got := tab.Text("#people-ended"); !strings.Contains(got, "Sykepleier Berg") {
		t.Errorf("people ended: %q", got)
	}
	tab.CheckAccessibility()
	if status := tab.Click("#apply"); status != 200 || !strings.Contains(tab.Text("#applied"), "Endringene er tatt i bruk") {
		t.Fatalf("applying: %d %s", status, tab.Text("main"))
	}
	tab.CheckAccessibility()
	tab.Open(e.base + "/units/helse")
	if people := tab.Text("table.grid tbody"); !strings.Contains(people, "Ola Nordmann") || strings.Contains(people, "Sykepleier Berg") {
		t.Errorf("helse after the import: %q", people)
	}
	tab.Open(e.base + "/units/skole")
	if people := tab.Text("table.grid tbody"); !strings.Contains(people, "Per Persen") || strings.Contains(people, "Ola Nordmann") {
		t.Errorf("skole after the import: %q", people)
	}

	// The catalog.
	tab.Open(e.base + "/admin/modules")
	tab.CheckAccessibility()
	tab.Click("#new")
	tab.CheckAccessibility()
	tab.SetValue("#id", "brann-1")
	tab.SetValue("#title_nb", "Brannvern")
	tab.SetValue("#activities", "https://kurs.k.no/brann")
	tab.SetValue("#validity", "P2Y")
	if tab.Click("#module button[type=submit]"); !strings.Contains(tab.Text("main"), "Lagret: brann-1") || !strings.Contains(tab.Text("main"), "2 år") {
		t.Errorf("after creating a module: %s", tab.Text("main"))
	}
	tab.Click("a[href='/admin/modules/brann-1']")
	tab.CheckAccessibility()
	tab.Open(e.base + "/admin/rules")
	tab.CheckAccessibility()
	tab.Click("a[href='/admin/rules/alle']")
	tab.CheckAccessibility()
	tab.Open(e.base + "/admin/rules/new")
	tab.SetValue("#id", "brann")
	tab.SetValue("#role", "verneombud")
	tick("label[for='m-0']") // brann-1, the first module by id
	tab.SetValue("#dueWithin", "P14D")
	if tab.Click("#rule button[type=submit]"); !strings.Contains(tab.Text("main"), "Lagret: brann") || !strings.Contains(tab.Text("main"), "14 dager") {
		t.Errorf("after creating a rule: %s", tab.Text("main"))
	}
	tab.CheckAccessibility()

	tab.Open(e.base + "/admin/campaigns")
	tab.CheckAccessibility()
	tab.SetValue("#id", "sikkerhetsmaned")
	tab.SetValue("#title_nb", "Sikkerhetsmåneden")
	tick("label[for='m-1']") // infosikkerhet-1
	tab.SetValue("#start", e.day(-1))
	tab.SetValue("#end", e.day(30))
	if tab.Click("#create button[type=submit]"); !strings.Contains(tab.Text("#list"), "Sikkerhetsmåneden") || !strings.Contains(tab.Text("#list"), "Pågår") {
		t.Errorf("after creating a campaign: %s", tab.Text("main"))
	}
	tab.CheckAccessibility()
	if tab.Click("#list td.actions button"); !strings.Contains(tab.Text("main"), "Avsluttet: sikkerhetsmaned") {
		t.Errorf("after ending a campaign: %s", tab.Text("main"))
	}

	tab.Open(e.base + "/admin/exemptions")
	tab.CheckAccessibility()
	tab.SetValue("#person", "201")
	tab.SetValue("#reason", "Tatt hos forrige arbeidsgiver")
	if tab.Click("#create button[type=submit]"); !strings.Contains(tab.Text("#list"), "Kari Nordmann") {
		t.Errorf("after creating an exemption: %s", tab.Text("main"))
	}
	tab.CheckAccessibility()

	// Erasing a person: the dry run, the confirmation, the record.
	tab.Open(e.base + "/admin/erasure")
	tab.CheckAccessibility()
	tab.SetValue("#person", "301") // Sykepleier Berg, who left in the import
	tick("label[for='mode-d']")
	if status := tab.Click("#erase button[type=submit]"); status != 200 || !strings.Contains(tab.Text("#counts"), "Rader og endringer i personallisten") {
		t.Fatalf("the erasure's dry run: %d %s", status, tab.Text("main"))
	}
	tab.CheckAccessibility()
	tick("label[for='confirm-box']")
	if tab.Click("#confirm button[type=submit]"); !strings.Contains(tab.Text("main"), "Personen er slettet") ||
		!strings.Contains(tab.Text("#records"), "Slettet") {
		t.Errorf("after the erasure: %s", tab.Text("main"))
	}
	tab.CheckAccessibility()

	// In English.
	tab.Open(e.base + "/admin/roster")
	tab.Click(".lang a")
	if lang := tab.Attr("html", "lang"); lang != "en" || tab.Text("h1") != "Staff list" {
		t.Errorf("the roster page in English: %q %q", lang, tab.Text("h1"))
	}
	tab.CheckAccessibility()
	if status := upload(good); status != 200 || !strings.Contains(tab.Text("main"), "The file changes nothing") {
		t.Errorf("the applied file again: %d %s", status, tab.Text("main"))
	}
	tab.CheckAccessibility()
	if p := tab.Problems(); len(p) > 0 {
		t.Errorf("the pages reported problems: %v", p)
	}

	// A manager is refused, on an accessible page.
	m := b.NewTab(t)
	m.SetLanguage("nb-NO", "nb", "en")
	m.Open(e.base + "/login")
	m.SetValue("#name", acctManager)
	m.SetValue("#password", pagesPassword)
	m.Click("form.login button[type=submit]")
	if m.Count("nav a[href='/admin']") != 0 {
		t.Error("a manager is offered the administration pages")
	}
	if status := m.Open(e.base + "/admin/roster"); status != http.StatusForbidden {
		t.Errorf("a manager's /admin/roster: %d", status)
	}
	m.CheckAccessibility()
}
