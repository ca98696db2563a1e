package main

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/internal/browsertest"
	"github.com/xapi-lrs/lrs/packages/packagetest"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reminders/smtptest"
)

// tableRows returns the text of each row of the body of the table with
// id in page, tags removed.
func tableRows(page, id string) []string {
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		return nil
	}
	table := page[i:]
	table = table[strings.Index(table, "<tbody>"):strings.Index(table, "</tbody>")]
	var out []string
	for _, row := range strings.Split(table, "<tr>")[1:] {
		out = append(out, html.UnescapeString(strings.Join(strings.Fields(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(row, " ")), " ")))
	}
	return out
}

// apiDryRun returns the messages a dry run of the API would send, as
// "template person" lines.
func (e *pagesEnv) apiDryRun(t *testing.T) []string {
	var res struct {
		Messages []struct{ Template, Person string }
	}
	if err := json.Unmarshal(e.api(t, "POST", "/api/v1/reminders/run?dryRun=true&tz=Europe/Oslo", nil, http.StatusOK), &res); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range res.Messages {
		out = append(out, m.Template+" "+m.Person)
	}
	return out
}

// TestPagesAdminReminders uses the reminder page over HTTP as hr, with a
// real SMTP server (a manager is refused it, and sends nothing): the preview lists what the API's dry run would send
// (recipients, templates, modules with status and deadline, whether a
// personal start link goes with it) and sends nothing; filters narrow
// it, and bad ones are a 400 page; Send now delivers the messages (the
// learner's with a personal launch link, which no page shows), says what
// was sent, lists them in the record, and is audited; a second run the
// same day sends nothing; a failed message is shown with its error; a
// run while another of the tenant is sending (one started through the
// API: the pages and the API share one service) is a 409 page. Without
// an SMTP server the page has no Send button and says how to configure
// one.
func TestPagesAdminReminders(t *testing.T) {
	mailer := smtptest.Start(t)
	e := startPages(t, "--smtp-url", mailer.URL(), "--smtp-from", "Kurs <kurs@k.no>")
	e.importPackage(t, packagetest.SCORM12(), "personvern-5") // personal links for personvern-5
	b := e.browser(t)
	b.signIn(acctHR)
	noLink := func(what, page string) {
		t.Helper()
		if strings.Contains(page, "/launch/") {
			t.Errorf("%s shows a personal launch link", what)
		}
	}

	// The preview.
	res, page := b.get("/admin/reminders")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/reminders: %d\n%s", res.StatusCode, page)
	}
	noLink("the preview", page)
	want := e.apiDryRun(t)
	rows := tableRows(page, "messages")
	if len(rows) != len(want) || len(want) == 0 {
		t.Fatalf("the preview lists %d messages, the API's dry run %d:\n%q\n%q", len(rows), len(want), rows, want)
	}
	due := dateNB(e.day(-30))
	for _, w := range []string{
		"Dette ville blitt sendt i dag (" + dateNB(e.day(0)) + ")",
		`<dt>E-poster</dt><dd>` + strconv.Itoa(len(want)) + `</dd>`, `<dt>Utsatt (over taket)</dt><dd>0</dd>`, `<dt>Personer uten e-postadresse</dt><dd>0</dd>`,
		`<button type="submit" aria-describedby="send-help">Send nå</button>`,
	} {
		if !strings.Contains(page, w) {
			t.Errorf("the preview lacks %q", w)
		}
	}
	kari := "Kari Nordmann 201 kari.nordmann@k.no Til deltakeren (nb) Grunnleggende personvern – Forfalt – frist " + due + " Ja Skal sendes"
	if !slices.Contains(rows, kari) {
		t.Errorf("the preview lacks Kari's message %q:\n%q", kari, rows)
	}
	if !slices.ContainsFunc(rows, func(r string) bool {
		return strings.HasPrefix(r, "Oppvekstsjef Ødegård 200 oppvekstsjef@k.no Ukesoversikt til leder (nb) Kari Nordmann: Grunnleggende personvern – Forfalt")
	}) {
		t.Errorf("the preview lacks the manager's digest:\n%q", rows)
	}
	for _, r := range rows {
		if strings.Contains(r, "Ukesoversikt") && !strings.Contains(r, " – Skal sendes") {
			t.Errorf("a digest said to carry a personal link: %q", r)
		}
	}
	if n := len(mailer.Messages()); n != 0 {
		t.Fatalf("the preview sent %d messages", n)
	}

	// Filters, in English.
	_, page = b.get("/admin/reminders?unit=helse&module=personvern-5&lang=en")
	rows = tableRows(page, "messages")
	if len(rows) == 0 || !strings.Contains(page, `<option value="helse" selected>`) {
		t.Fatalf("helse: %q", rows)
	}
	for _, r := range rows {
		if strings.Contains(r, "Kari") || strings.Contains(r, "informasjonssikkerhet") || !strings.Contains(r, "(en)") {
			t.Errorf("helse, personvern-5, in English: %q", r)
		}
	}
	for _, q := range []string{"unit=ukjent", "module=ukjent", "lang=de"} {
		if res, page := b.get("/admin/reminders?" + q); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, `class="alert" role="alert"`) {
			t.Errorf("GET /admin/reminders?%s: %d", q, res.StatusCode)
		}
	}

	// Only hr: a manager is refused the page and the run, and nothing is sent.
	m := e.browser(t)
	m.signIn(acctManager)
	if res, _ := m.get("/admin/reminders"); res.StatusCode != http.StatusForbidden {
		t.Errorf("a manager's GET /admin/reminders: %d", res.StatusCode)
	}
	m.get("/units")
	if res, _ := m.post("/admin/reminders/run", url.Values{"lang": {"nb"}}); res.StatusCode != http.StatusForbidden || len(mailer.Messages()) != 0 {
		t.Errorf("a manager's POST /admin/reminders/run: %d, %d messages sent", res.StatusCode, len(mailer.Messages()))
	}

	// Send now.
	_, page = b.get("/admin/reminders")
	res, page = b.post("/admin/reminders/run", hiddenFields(page, "/admin/reminders/run"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("sending: %d\n%s", res.StatusCode, page)
	}
	noLink("the run's page", page)
	msgs := mailer.Messages()
	if len(msgs) != len(want) {
		t.Fatalf("the run delivered %d messages, want %d", len(msgs), len(want))
	}
	for _, w := range []string{"Utsendelsen er ferdig: " + strconv.Itoa(len(want)) + " e-poster sendt.", "Dette ble sendt i dag",
		`<dt>Sendt</dt><dd>` + strconv.Itoa(len(want)) + `</dd>`, `<dt>Feilet</dt><dd>0</dd>`} {
		if !strings.Contains(page, w) {
			t.Errorf("the run's page lacks %q", w)
		}
	}
	if rows = tableRows(page, "messages"); !slices.Contains(rows, strings.Replace(kari, "Skal sendes", "Sendt", 1)) {
		t.Errorf("the run's page lacks Kari's message sent:\n%q", rows)
	}
	for _, m := range msgs {
		if m.To[0] == "kari.nordmann@k.no" && !strings.Contains(string(m.Data), "/launch/") {
			t.Error("Kari's message lacks her personal launch link")
		}
	}
	record := tableRows(page, "record")
	var api struct {
		Reminders []struct{ Module, Outcome string }
	}
	json.Unmarshal(e.api(t, "GET", "/api/v1/reminders/sent?person=201", nil, http.StatusOK), &api)
	if len(api.Reminders) != 1 || !slices.ContainsFunc(record, func(r string) bool {
		return strings.HasPrefix(r, dateNB(e.day(0))+" kl. ") && strings.HasSuffix(r, " Kari Nordmann 201 Grunnleggende personvern "+due+" Til deltakeren (nb) Sendt")
	}) {
		t.Errorf("the record lists %q; the API %+v", record, api)
	}

	// Again: nothing is due. (The run's page links to the preview, which
	// has the Send button.)
	if !strings.Contains(page, `<a href="/admin/reminders?lang=nb" id="preview">`) || strings.Contains(page, `action="/admin/reminders/run"`) {
		t.Error("the run's page does not lead back to the preview")
	}
	_, page = b.get("/admin/reminders?lang=nb")
	res, page = b.post("/admin/reminders/run", hiddenFields(page, "/admin/reminders/run"))
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "Ingen påminnelser skulle sendes") || len(mailer.Messages()) != len(want) {
		t.Errorf("a second run: %d, %d messages in all", res.StatusCode, len(mailer.Messages()))
	}
	if _, page = b.get("/admin/reminders"); !strings.Contains(page, "Ingen påminnelser skal sendes i dag.") || len(tableRows(page, "record")) != len(record) {
		t.Errorf("after the runs, the preview: %q", tableRows(page, "messages"))
	}

	// Audited, and the people read are in the access log.
	st, err := openStores(context.Background(), e.db)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := st.Audit.Audit(context.Background(), auth.DefaultTenant, time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var runs []string
	for _, en := range entries {
		if en.Action == "reminders.run" && en.Actor == acctHR {
			runs = append(runs, en.Detail)
		}
	}
	if len(runs) != 2 || !strings.HasPrefix(runs[0], "sent "+strconv.Itoa(len(want))+", failed 0") && !strings.HasPrefix(runs[1], "sent "+strconv.Itoa(len(want))+", failed 0") {
		t.Errorf("audit entries of the runs: %q", runs)
	}
	reads, err := st.Privacy.AccessesAbout(context.Background(), auth.DefaultTenant, []string{privacy.PersonSubject("201")}, time.Time{}, 100)
	st.Close()
	if err != nil || len(reads) == 0 || reads[0].What != privacy.ReadPageReminders || reads[0].Actor != acctHR {
		t.Errorf("the access log of 201: %+v, %v", reads, err)
	}

	// New requirements; the server fails the first message (three
	// attempts): the page shows the error, and the rest are sent.
	e.api(t, "PUT", "/api/v1/modules/brannvern", map[string]any{"title": map[string]string{"nb-NO": "Brannvern"},
		"activities": []string{"https://kurs.k.no/brannvern"}, "completion": "completed"}, http.StatusCreated)
	e.api(t, "PUT", "/api/v1/rules/brann", map[string]any{"role": "ansatt", "modules": []string{"brannvern"}, "dueWithin": "P30D", "dueFrom": "start"}, http.StatusCreated)
	mailer.FailNext(3)
	before := len(mailer.Messages())
	res, page = b.post("/admin/reminders/run", url.Values{"module": {"brannvern"}, "lang": {"nb"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `<dt>Feilet</dt><dd>1</dd>`) || !strings.Contains(page, "451") ||
		!strings.Contains(page, "1 feilet og 0 hoppet over") {
		t.Errorf("a run with a failure: %d %q", res.StatusCode, tableRows(page, "messages"))
	}
	if len(mailer.Messages()) == before {
		t.Error("nothing was sent after the failure")
	}

	// A run while another is sending: 409.
	held, release := mailer.Hold()
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("POST", e.base+"/api/v1/reminders/run", nil) // the one that failed is due again
		req.SetBasicAuth(e.key, e.secret)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the API's run sent nothing")
	}
	b.get("/admin/reminders")
	res, page = b.post("/admin/reminders/run", url.Values{"lang": {"nb"}})
	release()
	if res.StatusCode != http.StatusConflict || !strings.Contains(page, "Påminnelser sendes allerede") || !strings.Contains(page, `id="preview"`) {
		t.Errorf("a run while another is sending: %d", res.StatusCode)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// No SMTP server: no button, and how to configure one.
	e2 := startPages(t)
	b2 := e2.browser(t)
	b2.signIn(acctHR)
	_, page = b2.get("/admin/reminders")
	if strings.Contains(page, `action="/admin/reminders/run"`) || !strings.Contains(page, "--smtp-url") || len(tableRows(page, "messages")) == 0 {
		t.Errorf("without SMTP: %s", page)
	}
	if res, page := b2.post("/admin/reminders/run", url.Values{}); res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, "--smtp-url") {
		t.Errorf("sending without SMTP: %d", res.StatusCode)
	}
}

// TestPagesAdminRemindersInBrowser: hr opens the reminder page in a real
// headless Chromium, sees the preview, sends the reminders through a
// real SMTP server and sees what was sent; both pages pass axe-core and
// show no personal launch link.
func TestPagesAdminRemindersInBrowser(t *testing.T) {
	b := browsertest.Start(t)
	mailer := smtptest.Start(t)
	e := startPages(t, "--smtp-url", mailer.URL(), "--smtp-from", "Kurs <kurs@k.no>")
	e.importPackage(t, packagetest.SCORM12(), "personvern-5")
	tab := b.NewTab(t)
	tab.SetLanguage("nb-NO", "nb")
	tab.Open(e.base + "/login?next=/admin")
	tab.SetValue("#name", acctHR)
	tab.SetValue("#password", pagesPassword)
	tab.Click("form.login button[type=submit]")
	if status := tab.Click("a[href='/admin/reminders']"); status != http.StatusOK || tab.Text("h1") != "Påminnelser på e-post" {
		t.Fatalf("the reminder page: %d %s", status, tab.URL())
	}
	planned := tab.Count("#messages tbody tr")
	if planned == 0 || !strings.Contains(tab.Text("#messages"), "Skal sendes") {
		t.Fatalf("the preview: %q", tab.Text("main"))
	}
	noLink := func() {
		t.Helper()
		if page := browsertest.Eval[string](tab, `document.documentElement.outerHTML`); strings.Contains(page, "/launch/") {
			t.Errorf("%s shows a personal launch link", tab.URL())
		}
	}
	noLink()
	tab.CheckAccessibility()
	if status := tab.Click("#send button[type=submit]"); status != http.StatusOK || !strings.HasSuffix(tab.URL(), "/admin/reminders/run") {
		t.Fatalf("sending: %d %s", status, tab.URL())
	}
	if got := tab.Text("p.notice"); got != "Utsendelsen er ferdig: "+strconv.Itoa(planned)+" e-poster sendt." {
		t.Errorf("after sending: %q", got)
	}
	if n := len(mailer.Messages()); n != planned {
		t.Errorf("%d messages delivered, %d planned", n, planned)
	}
	if n := tab.Count("#record tbody tr"); n < planned {
		t.Errorf("the record lists %d reminders", n)
	}
	noLink()
	tab.CheckAccessibility()
	// The language switch leads from the run's page to the preview.
	tab.Click("p.lang a")
	if tab.Text("h1") != "Reminder e-mails" || !strings.Contains(tab.Text("main"), "No reminders are due to be sent today.") {
		t.Errorf("in English: %s %q", tab.URL(), tab.Text("main"))
	}
	tab.CheckAccessibility()
	if p := tab.Problems(); len(p) > 0 {
		t.Errorf("problems: %v", p)
	}
}
