package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/internal/browsertest"
	"github.com/xapi-lrs/lrs/reminders/smtptest"
)

// TestPagesReminders: after a reminder run through a real SMTP server, a
// person's page lists the reminders sent to them (when, which module,
// which template, the outcome), and a manager's page their digest; the
// page passes axe-core.
func TestPagesReminders(t *testing.T) {
	mailer := smtptest.Start(t)
	e := startPages(t, "--smtp-url", mailer.URL(), "--smtp-from", "Kurs <kurs@k.no>")
	if out := string(e.api(t, "POST", "/api/v1/reminders/run", nil, http.StatusOK)); !strings.Contains(out, `"sent":`) {
		t.Fatalf("run: %s", out)
	}
	if len(mailer.Messages()) == 0 {
		t.Fatal("the run sent nothing")
	}
	hr := e.browser(t)
	hr.signIn(acctHR)
	_, page := hr.get("/people/201")
	for _, want := range []string{`<h2 id="reminders">Påminnelser sendt</h2>`,
		`<td>Grunnleggende personvern</td><td>` + dateNB(e.day(-30)) + `</td><td>Til deltakeren (nb)</td><td>Sendt</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("Kari's page lacks %q", want)
		}
	}
	if _, list, _ := strings.Cut(page, `id="reminders"`); strings.Contains(list, "informasjonssikkerhet") {
		t.Error("Kari's page lists a reminder of the module she completed")
	}
	_, page = hr.get("/people/200")
	if !strings.Contains(page, `<td>Oversikt til leder</td><td></td><td>Ukesoversikt til leder (nb)</td><td>Sendt</td>`) {
		t.Error("the manager's page lacks their digest")
	}
	_, page = hr.get("/people/100")
	if !strings.Contains(page, "Påminnelser sendt") {
		t.Error("Rådmann's page lacks the reminders section")
	}

	b := browsertest.Start(t)
	tab := b.NewTab(t)
	tab.SetLanguage("en")
	tab.Open(e.base + "/login?next=/people/201")
	tab.SetValue("#name", acctAuditor)
	tab.SetValue("#password", pagesPassword)
	tab.Click("form.login button[type=submit]")
	if n := tab.Count("table.reminders tbody tr"); n != 1 || !strings.Contains(tab.Text("table.reminders"), "To the learner (nb)") {
		t.Errorf("%d reminders on %s: %q", n, tab.URL(), tab.Text("main"))
	}
	tab.CheckAccessibility()
	if p := tab.Problems(); len(p) > 0 {
		t.Errorf("problems: %v", p)
	}
}
