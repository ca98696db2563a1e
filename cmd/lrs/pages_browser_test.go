package main

import (
	"context"
	"html"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/internal/browsertest"
)

// TestPagesInBrowser uses the pages in a real headless Chromium, through
// `lrs serve`: a manager signs in with a local account, opens their
// unit, moves the as-of date back, downloads the CSV, opens a person and
// the transcript, switches to English and signs out; a learner signs in
// with OpenID Connect; an auditor looks at units and people on past
// days; hr looks at the whole organisation as known on a day and at the
// overview with its chart. Every page passes axe-core's WCAG 2.1 A/AA rules, and no page
// logs an error or has anything refused by its Content-Security-Policy.
func TestPagesInBrowser(t *testing.T) {
	b := browsertest.Start(t)
	m, flags := startOIDC(t)
	e := startPages(t, flags...)

	t.Run("manager", func(t *testing.T) {
		tab := b.NewTab(t)
		tab.SetLanguage("nb-NO", "nb", "en")
		if status := tab.Open(e.base + "/units/oppvekst"); status != 200 || !strings.Contains(tab.URL(), "/login?next=") {
			t.Fatalf("not signed in, /units/oppvekst led to %s (%d)", tab.URL(), status)
		}
		tab.CheckAccessibility()
		tab.SetValue("#name", acctManager)
		tab.SetValue("#password", pagesPassword)
		if status := tab.Click("form.login button[type=submit]"); status != 200 || !strings.HasSuffix(tab.URL(), "/units/oppvekst") {
			t.Fatalf("signing in led to %s (%d): %s", tab.URL(), status, tab.Text("main"))
		}
		tab.CheckAccessibility()
		kari := "table.grid tbody tr:nth-child(2)"
		if row := tab.Text(kari); !strings.Contains(row, "Kari Nordmann") || !strings.HasPrefix(cellText(row, 1), "Fullført") {
			t.Errorf("Kari's row today: %q", row)
		}
		if got := tab.Text("#percent"); got != "16,7\u00a0%" {
			t.Errorf("compliance today: %q", got)
		}

		// Twenty days ago Kari had not completed module 1: overdue.
		tab.SetValue("#asOf", e.day(-20))
		tab.Click("form.dates button[type=submit]")
		if !strings.Contains(tab.URL(), "asOf="+e.day(-20)) {
			t.Errorf("the as-of form led to %s", tab.URL())
		}
		if row := tab.Text(kari); !strings.HasPrefix(cellText(row, 1), "Forfalt") {
			t.Errorf("Kari's row as of %s: %q", e.day(-20), row)
		}
		if got := tab.Text("#percent"); got != "0,0\u00a0%" {
			t.Errorf("compliance as of %s: %q", e.day(-20), got)
		}
		tab.CheckAccessibility()
		name, data := tab.Download("#csv")
		api := e.api(t, "GET", "/api/v1/reports/status?format=csv&delimiter=semicolon&unit=oppvekst&tz=Europe/Oslo&asOf="+e.day(-20), nil, 200)
		if name != "status-oppvekst-"+e.day(-20)+".csv" || string(data) != string(api) {
			t.Errorf("the download %s differs from the API's CSV:\n%s\n---\n%s", name, data, api)
		}

		// Kari's page keeps the date; today's shows her evidence.
		tab.Click(kari + " a")
		if !strings.Contains(tab.URL(), "/people/201?asOf="+e.day(-20)) {
			t.Errorf("Kari's link led to %s", tab.URL())
		}
		tab.CheckAccessibility()
		tab.Open(e.base + "/people/201")
		if hash := tab.Text("code.hash"); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(hash) {
			t.Errorf("the transcript's SHA-256: %q", hash)
		}
		tab.CheckAccessibility()
		for _, path := range []string{"/units", "/me", "/units/skole"} {
			if status := tab.Open(e.base + path); status != 200 {
				t.Errorf("%s: %d", path, status)
			}
			tab.CheckAccessibility()
		}
		if p := tab.Problems(); len(p) > 0 {
			t.Errorf("the pages reported problems: %v", p)
		}
		// A unit not theirs: refused, on an accessible page (the console
		// notes the 403).
		if status := tab.Open(e.base + "/units/helse"); status != http.StatusForbidden {
			t.Errorf("/units/helse: %d", status)
		}
		tab.CheckAccessibility()
		tab.ResetProblems()

		// In English.
		tab.Open(e.base + "/units/oppvekst")
		tab.Click(".lang a")
		if lang := tab.Attr("html", "lang"); lang != "en" || !strings.HasSuffix(tab.URL(), "/units/oppvekst") {
			t.Errorf("the language switch led to %s in %q", tab.URL(), lang)
		}
		if h1 := tab.Text("h1"); h1 != "Status of Oppvekst" {
			t.Errorf("h1 in English: %q", h1)
		}
		tab.CheckAccessibility()
		tab.Click(".account button[type=submit]")
		if !strings.HasSuffix(tab.URL(), "/login") || tab.Text("h1") != "Sign in" {
			t.Errorf("signing out led to %s", tab.URL())
		}
		if status := tab.Open(e.base + "/units/oppvekst"); status != 200 || !strings.Contains(tab.URL(), "/login?next=") {
			t.Errorf("after signing out, /units/oppvekst led to %s", tab.URL())
		}
		if p := tab.Problems(); len(p) > 0 {
			t.Errorf("the pages reported problems: %v", p)
		}
	})

	t.Run("learner with OpenID Connect", func(t *testing.T) {
		tab := b.NewTab(t)
		tab.SetLanguage("nb-NO", "nb", "en")
		m.QueueUser(oidcUser{"kari-sub", map[string]any{"email": "kari.nordmann@k.no", "email_verified": true}})
		tab.Open(e.base + "/me")
		tab.Click("a.button")
		if !strings.HasSuffix(tab.URL(), "/me") || !strings.Contains(tab.Text(".account"), "Kari Nordmann") {
			t.Fatalf("the sign-in led to %s", tab.URL())
		}
		if must := tab.Text("main table"); !strings.Contains(must, "Grunnleggende personvern") || strings.Contains(must, "informasjonssikkerhet") {
			t.Errorf("what Kari must take: %q", must)
		}
		if done := tab.Text("main table:last-of-type"); !strings.Contains(done, "Grunnleggende informasjonssikkerhet") {
			t.Errorf("what Kari has done: %q", done)
		}
		tab.CheckAccessibility()
		if p := tab.Problems(); len(p) > 0 {
			t.Errorf("the pages reported problems: %v", p)
		}
	})

	t.Run("auditor", func(t *testing.T) {
		tab := b.NewTab(t)
		tab.SetLanguage("nb-NO", "nb", "en")
		tab.Open(e.base + "/")
		tab.SetValue("#name", acctAuditor)
		tab.SetValue("#password", pagesPassword)
		if tab.Click("form.login button[type=submit]"); !strings.HasSuffix(tab.URL(), "/overview") {
			t.Fatalf("the auditor's start page: %s", tab.URL())
		}
		if tab.Count("nav a[href='/me']") != 0 {
			t.Error("the auditor, nobody in the roster, is offered a page of their own")
		}
		tab.CheckAccessibility()
		for _, path := range []string{"/units/helse?asOf=" + e.day(-30), "/people/301?asOf=" + e.day(-5)} {
			if status := tab.Open(e.base + path); status != 200 {
				t.Errorf("%s: %d", path, status)
			}
			tab.CheckAccessibility()
		}
		if p := tab.Problems(); len(p) > 0 {
			t.Errorf("the pages reported problems: %v", p)
		}
	})

	t.Run("hr", func(t *testing.T) {
		tab := b.NewTab(t)
		tab.SetLanguage("nb-NO", "nb", "en")
		tab.Open(e.base + "/login")
		tab.SetValue("#name", acctHR)
		tab.SetValue("#password", pagesPassword)
		tab.Click("form.login button[type=submit]")
		tab.Open(e.base + "/units/k")
		if got := tab.Text("#people"); got != "6" {
			t.Errorf("people in the whole organisation: %q", got)
		}
		tab.SetValue("#knownAt", e.day(-1))
		tab.Click("form.dates button[type=submit]")
		// As the LRS knew it yesterday: nobody (the roster came today).
		if !strings.Contains(tab.URL(), "knownAt="+e.day(-1)) || tab.Text("#people") != "0" {
			t.Errorf("known at %s: %s shows %q people", e.day(-1), tab.URL(), tab.Text("#people"))
		}
		tab.CheckAccessibility()
		tab.Open(e.base + "/units")
		if n := tab.Count("ul.units li"); n != 4 {
			t.Errorf("hr sees %d units", n)
		}
		tab.CheckAccessibility()
		// The overview, its chart and the table of its figures.
		tab.Click("nav a[href='/overview']")
		if n := tab.Count("svg.chart circle.point"); n < 2 || tab.Text("#percent") != "8,3\u00a0%" {
			t.Errorf("the overview: %d points in the chart, %q completed", n, tab.Text("#percent"))
		}
		tab.CheckAccessibility()
		tab.Press("details.figures summary")
		if n := tab.Count("#trend-table tbody tr"); n != 12 || tab.Text("#trend-table tbody tr:last-child td:nth-child(3)") != "8,3\u00a0%" {
			t.Errorf("the trend table has %d rows", n)
		}
		tab.CheckAccessibility()
		if p := tab.Problems(); len(p) > 0 {
			t.Errorf("the pages reported problems: %v", p)
		}
	})
}

// cellText returns the text of the i-th cell of a table row's text
// (cells separated by tabs, as innerText gives them).
func cellText(row string, i int) string {
	cells := strings.Split(row, "\t")
	if i >= len(cells) {
		return ""
	}
	return strings.TrimSpace(cells[i])
}

// TestPagesFirstAccount: on a new installation the service logs the
// pages' address, nobody can sign in, and the sign-in page says how to
// make the first account (an accessible page); once an account exists it
// says nothing of it.
func TestPagesFirstAccount(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lrs.db")
	addr, _, logs := startServeLogged(t, "--db", db, "--rate-limit", "off")
	if !strings.Contains(logs.String(), `"pages":"http://`+addr+`/"`) {
		t.Errorf("the serving line does not give the pages' address:\n%s", logs.String())
	}
	login := func() string {
		t.Helper()
		res, err := http.Get("http://" + addr + "/login")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return html.UnescapeString(string(b))
	}
	if page := login(); !strings.Contains(page, `id="first-account"`) || !strings.Contains(page, "lrs accounts create --name deg@kommune.no --grant hr") {
		t.Fatalf("a new installation's sign-in page does not say how to make an account:\n%s", page)
	}
	b := browsertest.Start(t)
	tab := b.NewTab(t)
	tab.SetLanguage("en")
	tab.Open("http://" + addr + "/login")
	if got := tab.Text("#first-account"); !strings.Contains(got, "there are no accounts") {
		t.Errorf("in English: %q", got)
	}
	tab.CheckAccessibility()

	passwordInput = strings.NewReader(pagesPassword + "\n")
	if err := run(context.Background(), []string{"accounts", "create", "--db", db, "--name", "hr@k.no", "--grant", "hr", "--password-stdin"},
		io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if page := login(); strings.Contains(page, `id="first-account"`) {
		t.Errorf("the sign-in page still says there are no accounts")
	}
}
