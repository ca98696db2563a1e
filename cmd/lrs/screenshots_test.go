package main

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/xapi-lrs/lrs/internal/browsertest"
	"github.com/xapi-lrs/lrs/packages/packagetest"
	"github.com/xapi-lrs/lrs/reminders/smtptest"
)

// TestScreenshots saves PNG screenshots of the main pages with demo data
// (the test organisation of the page tests, employed for 400 days, with
// completions over the year, a campaign, a package to start and a
// reminder run) into the directory LRS_SCREENSHOTS names (relative to the
// repository's root), for the README:
//
//	LRS_SCREENSHOTS=docs/screenshots go test ./cmd/lrs -run TestScreenshots
//
// Without LRS_SCREENSHOTS it is skipped. Every page it shows passes
// axe-core, as in the other tests.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("LRS_SCREENSHOTS")
	if dir == "" {
		t.Skip("LRS_SCREENSHOTS is not set")
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := browsertest.Start(t)
	mailer := smtptest.Start(t)
	e := startPages(t, "--smtp-url", mailer.URL(), "--smtp-from", "Kurs <kurs@k.no>")

	// The same people, employed since 400 days ago.
	start := e.day(-400)
	e.api(t, "POST", "/api/v1/roster/imports", pagesRoster(start, true), http.StatusCreated)
	for _, c := range []struct {
		email, module string
		day           int
	}{
		{"ola.nordmann@k.no", "infosikkerhet-1", -330}, {"sykepleier@k.no", "personvern-5", -250},
		{"radmann@k.no", "infosikkerhet-1", -200}, {"radmann@k.no", "personvern-5", -150},
		{"oppvekstsjef@k.no", "infosikkerhet-1", -100}, {"ola.nordmann@k.no", "personvern-5", -70},
		{"helsesjef@k.no", "infosikkerhet-1", -45}, {"helsesjef@k.no", "personvern-5", -44},
	} {
		stmt := `{"actor":{"mbox":"mailto:` + c.email + `"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},` +
			`"object":{"id":"https://kurs.k.no/` + c.module + `"},"result":{"completion":true},"timestamp":"` + e.day(c.day) + `T10:00:00Z"}`
		if code, body := postStatement(t, e.base+"/xapi/statements", e.key, e.secret, stmt); code != http.StatusOK {
			t.Fatalf("posting a completion: %d %s", code, body)
		}
	}
	e.api(t, "PUT", "/api/v1/campaigns/sikkerhetsmaned", map[string]any{"title": map[string]string{"nb-NO": "Sikkerhetsmåneden", "en": "Security month"},
		"modules": []string{"infosikkerhet-1"}, "start": e.day(-20), "end": e.day(10)}, http.StatusCreated)
	e.importPackage(t, packagetest.SCORM12(), "personvern-5")
	e.api(t, "POST", "/api/v1/reminders/run", nil, http.StatusOK)

	shoot := func(account string, pages map[string]string) {
		tab := b.NewTab(t)
		tab.SetLanguage("nb-NO", "nb")
		tab.Open(e.base + "/login")
		tab.SetValue("#name", account)
		tab.SetValue("#password", pagesPassword)
		tab.Click("form.login button[type=submit]")
		for name, path := range pages {
			if status := tab.Open(e.base + path); status != http.StatusOK {
				t.Fatalf("%s: %d", path, status)
			}
			if name == "overview" {
				tab.Press("details.figures summary")
			}
			tab.CheckAccessibility()
			if err := os.WriteFile(filepath.Join(dir, name+".png"), tab.Screenshot(1200), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	shoot(acctHR, map[string]string{"overview": "/overview", "unit": "/units/oppvekst", "person": "/people/201"})
	shoot(acctLearner, map[string]string{"me": "/me"})
}
