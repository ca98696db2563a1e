package lrs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/packages/packagetest"
	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reminders/smtptest"
)

// newReminderServer is a reporting server sending mail to a real SMTP
// server started in the test, with Berit (boss) managing Kari (e1), Ola
// (e2) and Per (e3, no e-mail address), who must complete m1 (started at
// https://kurs.kommune.no/m1) and m2 (no web address) by 2025-01-31; Ola
// completed m1.
func newReminderServer(t *testing.T, edit ...func(*lrs.Config)) (*testServer, *smtptest.Server) {
	t.Helper()
	mailer := smtptest.Start(t)
	snd, err := reminders.ParseSMTPURL(mailer.URL())
	if err != nil {
		t.Fatal(err)
	}
	ts := newReportingServerWith(t, func(c *lrs.Config) {
		c.Mail, c.MailFrom, c.MailBackoff = snd, "Kurs <kurs@kommune.no>", 5*time.Millisecond
		for _, e := range edit {
			e(c)
		}
	})
	ts.clock.Set(time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC))
	hr := ts.hr
	expect(t, hr("PUT", "/api/v1/modules/m1", "", `{"title":{"nb":"Informasjonssikkerhet","en":"Information security"},"activities":["https://kurs.kommune.no/m1"],"completion":"completed"}`), http.StatusCreated)
	expect(t, hr("PUT", "/api/v1/modules/m2", "", `{"title":{"nb":"Personvern"},"activities":["urn:kurs:m2"],"completion":"completed"}`), http.StatusCreated)
	expect(t, hr("PUT", "/api/v1/rules/r1", "", `{"role":"alle","modules":["m1","m2"],"dueWithin":"P30D"}`), http.StatusCreated)
	expect(t, hr("POST", "/api/v1/roster/imports?kind=units&effective=2025-01-01", "text/csv", "id,name,parent,managers\nk,Kommunen,,\n"), http.StatusCreated)
	expect(t, hr("POST", "/api/v1/roster/imports?effective=2025-01-01", "text/csv", "id,name,email,units,roles,start\n"+
		"boss,Berit Sjef,berit@kommune.no,k,leder,2025-01-01\ne1,Kari Nordmann,kari@kommune.no,k,alle,2025-01-01\n"+
		"e2,Ola Nordmann,ola@kommune.no,k,alle,2025-01-01\ne3,Per Uten,,k,alle,2025-01-01\n"), http.StatusCreated)
	expect(t, hr("POST", "/api/v1/roster/imports?kind=units&effective=2025-01-01", "text/csv", "id,name,parent,managers\nk,Kommunen,,boss\n"), http.StatusCreated)
	expect(t, ts.do(req{method: "POST", path: "/xapi/statements", key: "lms", body: map[string]any{
		"actor": map[string]any{"mbox": "mailto:ola@kommune.no"}, "verb": map[string]any{"id": "http://adlnet.gov/expapi/verbs/completed"},
		"object": map[string]any{"id": "https://kurs.kommune.no/m1"}, "timestamp": "2025-01-09T10:00:00Z"}}), http.StatusOK)
	return ts, mailer
}

// runReminders runs (or plans) the reminders at the given instant.
func runReminders(t *testing.T, ts *testServer, at, params string) *reminders.Result {
	t.Helper()
	now, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatal(err)
	}
	ts.clock.Set(now)
	r := ts.do(req{method: "POST", path: "/api/v1/reminders/run?tz=Europe/Oslo" + params, key: "roster"})
	expect(t, r, http.StatusOK)
	var res reminders.Result
	r.json(t, &res)
	return &res
}

// plan renders a run's messages without what sending added.
func plan(res *reminders.Result) []string {
	var out []string
	for _, m := range res.Messages {
		line := m.Template + " " + m.Person + " " + m.Email + ":"
		for _, it := range m.Items {
			line += " " + it.Person + "/" + it.Module + "/" + string(it.Status) + "/" + it.Due.String() + "/" + it.Title + "/" + it.Link
		}
		out = append(out, line)
	}
	return out
}

// mailBody returns the decoded text and HTML parts of a message.
func mailBody(t *testing.T, data []byte) (hdr mail.Header, text, html string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			html = string(b)
		} else {
			text = string(b)
		}
	}
	return m.Header, text, html
}

// TestReminderEmails: a dry run plans what a run sends through a real SMTP
// server: Kari's message names both modules with the due date 31.01.2025
// and m1's start link, Ola's only m2, Berit's digest all three rows, Per
// (no address) is listed; a second run the same day sends nothing, the
// next step (3 days before) sends again, in English when asked; the record
// of each message is served by /reminders/sent.
func TestReminderEmails(t *testing.T) {
	ts, mailer := newReminderServer(t)
	const day = "2025-01-20T07:00:00Z" // 11 days before the deadline: the 14-day step
	dry := runReminders(t, ts, day, "&dryRun=true")
	want := []string{
		"learner/nb e1 kari@kommune.no: e1/m1/due/2025-01-31/Informasjonssikkerhet/https://kurs.kommune.no/m1 e1/m2/due/2025-01-31/Personvern/",
		"learner/nb e2 ola@kommune.no: e2/m2/due/2025-01-31/Personvern/",
		"manager/nb boss berit@kommune.no: e1/m1/due/2025-01-31/Informasjonssikkerhet/ e1/m2/due/2025-01-31/Personvern/ e2/m2/due/2025-01-31/Personvern/ e3/m1/due/2025-01-31/Informasjonssikkerhet/ e3/m2/due/2025-01-31/Personvern/",
	}
	if got := plan(dry); !slices.Equal(got, want) {
		t.Fatalf("dry run plans\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !dry.DryRun || dry.Sent != 0 || !slices.Equal(dry.NoAddress, []string{"e3"}) || dry.Messages[0].Outcome != "planned" {
		t.Errorf("dry run: dryRun %v sent %d noAddress %v outcome %s", dry.DryRun, dry.Sent, dry.NoAddress, dry.Messages[0].Outcome)
	}
	if capped := runReminders(t, ts, day, "&dryRun=true&max=1"); len(capped.Messages) != 1 || capped.Deferred != 2 {
		t.Errorf("max=1: %d messages, %d deferred; want 1 and 2", len(capped.Messages), capped.Deferred)
	}
	if n := len(mailer.Messages()); n != 0 {
		t.Fatalf("dry runs delivered %d messages", n)
	}

	res := runReminders(t, ts, day, "")
	if got := plan(res); !slices.Equal(got, want) {
		t.Errorf("the run sent\n%s\nwant what the dry run planned\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if res.DryRun || res.Sent != 3 || res.Failed != 0 {
		t.Errorf("run: sent %d failed %d", res.Sent, res.Failed)
	}
	msgs := mailer.Messages()
	if len(msgs) != 3 {
		t.Fatalf("delivered %d messages, want 3", len(msgs))
	}
	byTo := map[string]smtptest.Received{}
	for _, m := range msgs {
		if m.From != "kurs@kommune.no" || len(m.To) != 1 {
			t.Errorf("message from %q to %v", m.From, m.To)
		}
		byTo[m.To[0]] = m
	}
	hdr, text, html := mailBody(t, byTo["kari@kommune.no"].Data)
	subject, _ := new(mime.WordDecoder).DecodeHeader(hdr.Get("Subject"))
	if subject != "Påminnelse: obligatorisk opplæring" || hdr.Get("Message-ID") != "<"+res.Messages[0].MessageID+">" {
		t.Errorf("Kari's message: subject %q, id %s (want %s)", subject, hdr.Get("Message-ID"), res.Messages[0].MessageID)
	}
	for _, part := range []string{text, html} {
		for _, s := range []string{"Kari Nordmann", "Informasjonssikkerhet", "Personvern", "frist 31.01.2025", "https://kurs.kommune.no/m1"} {
			if !strings.Contains(part, s) {
				t.Errorf("Kari's message lacks %q:\n%s", s, part)
			}
		}
	}
	if !strings.Contains(html, `<a href="https://kurs.kommune.no/m1">Informasjonssikkerhet</a>`) {
		t.Errorf("Kari's HTML part does not link m1:\n%s", html)
	}
	_, text, _ = mailBody(t, byTo["ola@kommune.no"].Data)
	if strings.Contains(text, "Informasjonssikkerhet") || !strings.Contains(text, "Personvern: frist 31.01.2025") {
		t.Errorf("Ola's message:\n%s", text)
	}
	_, text, _ = mailBody(t, byTo["berit@kommune.no"].Data)
	for _, s := range []string{"Hei Berit Sjef", "Per Uten (e3): Personvern, frist 31.01.2025", "Kari Nordmann (e1): Informasjonssikkerhet"} {
		if !strings.Contains(text, s) {
			t.Errorf("Berit's digest lacks %q:\n%s", s, text)
		}
	}

	// The same day again, and the next day: nothing more.
	for _, at := range []string{"2025-01-20T14:00:00Z", "2025-01-21T07:00:00Z"} {
		if again := runReminders(t, ts, at, ""); len(again.Messages) != 0 || again.Sent != 0 {
			t.Errorf("run at %s sent %q", at, plan(again))
		}
	}
	if n := len(mailer.Messages()); n != 3 {
		t.Errorf("%d messages delivered after the repeated runs, want 3", n)
	}

	// 3 days before: again, in English.
	en := runReminders(t, ts, "2025-01-28T07:00:00Z", "&lang=en")
	if en.Sent != 3 || en.Messages[0].Template != "learner/en" {
		t.Fatalf("3 days before: %q", plan(en))
	}
	hdr, text, _ = mailBody(t, mailer.Messages()[3].Data)
	if hdr.Get("Subject") != "Reminder: mandatory training" || !strings.Contains(text, "Information security: due by 31.01.2025") {
		t.Errorf("the English message: %q\n%s", hdr.Get("Subject"), text)
	}

	r := ts.do(req{method: "GET", path: "/api/v1/reminders/sent?person=e1", key: "auditor"})
	expect(t, r, http.StatusOK)
	var sent struct {
		Person    string
		Reminders []struct{ Module, Due, Template, MessageID, Outcome string }
	}
	r.json(t, &sent)
	var got []string
	for _, s := range sent.Reminders {
		got = append(got, s.Module+" "+s.Due+" "+s.Template+" "+s.Outcome)
	}
	if want := []string{"m2 2025-01-31 learner/en sent", "m1 2025-01-31 learner/en sent", "m2 2025-01-31 learner/nb sent", "m1 2025-01-31 learner/nb sent"}; !slices.Equal(got, want) ||
		sent.Reminders[2].MessageID != res.Messages[0].MessageID {
		t.Errorf("sent to e1: %q, want %q with the first run's message id", got, want)
	}
	// The person's export holds the reminders sent to them.
	if err := ts.db.CreateCredential(context.Background(), &auth.Credential{Key: "dpo", SecretHash: auth.HashSecret("dpo-secret"),
		Tenant: auth.DefaultTenant, Scopes: []string{auth.ScopePrivacyRead}, Created: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	r = ts.do(req{method: "GET", path: "/api/v1/people/e1/export", key: "dpo"})
	expect(t, r, http.StatusOK)
	files := unzip(t, r.body)
	var exported []struct{ Module, Due, Template, MessageID, Outcome string }
	if err := json.Unmarshal(files["reminders-sent.json"], &exported); err != nil || len(exported) != 4 ||
		exported[3].MessageID != res.Messages[0].MessageID || exported[3].Due != "2025-01-31" ||
		!strings.Contains(string(files["README.md"]), "| reminders-sent.json | reminder e-mails sent to you (module, deadline, time, outcome) | 4 |") {
		t.Errorf("the export's reminders (%v): %s\n%s", err, files["reminders-sent.json"], files["README.md"])
	}
	for _, bad := range []string{"/api/v1/reminders/sent?limit=0", "/api/v1/reminders/sent?person=e1&limit=0", "/api/v1/reminders/sent?person=e%20"} {
		expect(t, ts.do(req{method: "GET", path: bad, key: "auditor"}), http.StatusBadRequest)
	}
	// Without a person: the tenant's record, newest first, each naming
	// its person; the access log notes everyone listed.
	r = ts.do(req{method: "GET", path: "/api/v1/reminders/sent?limit=3", key: "auditor"})
	expect(t, r, http.StatusOK)
	var recent struct {
		Reminders []struct{ Person, Time, Template string }
	}
	r.json(t, &recent)
	if len(recent.Reminders) != 3 || recent.Reminders[0].Person == "" || recent.Reminders[0].Time < recent.Reminders[2].Time {
		t.Errorf("the tenant's latest reminders: %s", r.body)
	}
	for _, bad := range []string{"?lang=de", "?max=0", "?asOf=2025-01-01", "?dryRun=yes"} {
		expect(t, ts.do(req{method: "POST", path: "/api/v1/reminders/run" + bad, key: "roster"}), http.StatusBadRequest)
	}
}

// TestReminderEmailsRetried: a message the SMTP server refuses once is
// sent on the second attempt; messages refused on every attempt are
// reported failed and recorded so, after two of them the rest is skipped,
// and the next run sends them all.
func TestReminderEmailsRetried(t *testing.T) {
	ts, mailer := newReminderServer(t)
	mailer.FailNext(1)
	res := runReminders(t, ts, "2025-02-01T07:00:00Z", "") // the first day overdue
	if res.Sent != 3 || res.Failed != 0 || res.Messages[0].Attempts != 2 || res.Messages[1].Attempts != 1 {
		t.Fatalf("sent %d failed %d attempts %d %d", res.Sent, res.Failed, res.Messages[0].Attempts, res.Messages[1].Attempts)
	}
	if got := plan(res)[0]; !strings.Contains(got, "e1/m1/overdue/2025-01-31") {
		t.Errorf("overdue run: %s", got)
	}
	mailer.FailNext(1000)
	res = runReminders(t, ts, "2025-02-08T07:00:00Z", "") // a week overdue
	// Two messages fail (three attempts each); the third is not tried.
	if res.Sent != 0 || res.Failed != 2 || res.Skipped != 1 || len(res.Messages) != 3 {
		t.Fatalf("with the server refusing: sent %d failed %d skipped %d", res.Sent, res.Failed, res.Skipped)
	}
	for _, m := range res.Messages[:2] {
		if m.Outcome != reminders.OutcomeFailed || m.Attempts != 3 || !strings.Contains(m.Error, "451") {
			t.Errorf("message to %s: %s after %d attempts: %s", m.Person, m.Outcome, m.Attempts, m.Error)
		}
	}
	if m := res.Messages[2]; m.Outcome != reminders.OutcomeSkipped || m.Attempts != 0 {
		t.Errorf("message to %s: %s after %d attempts, want skipped", m.Person, m.Outcome, m.Attempts)
	}
	r := ts.do(req{method: "GET", path: "/api/v1/reminders/sent?person=boss", key: "roster"})
	expect(t, r, http.StatusOK)
	var boss struct{ Reminders []struct{ Outcome string } }
	r.json(t, &boss)
	if len(boss.Reminders) != 1 || boss.Reminders[0].Outcome != "sent" {
		t.Errorf("Berit's records: %+v, want only the first run's digest (the skipped one is not recorded)", boss.Reminders)
	}
	r = ts.do(req{method: "GET", path: "/api/v1/reminders/sent?person=e2&limit=1", key: "roster"})
	expect(t, r, http.StatusOK)
	var sent struct {
		Reminders []struct{ Outcome, Error string }
	}
	r.json(t, &sent)
	if len(sent.Reminders) != 1 || sent.Reminders[0].Outcome != "failed" || !strings.Contains(sent.Reminders[0].Error, "451") {
		t.Errorf("the record of the failed message: %+v", sent.Reminders)
	}
	mailer.FailNext(0)
	if res = runReminders(t, ts, "2025-02-08T09:00:00Z", ""); res.Sent != 3 {
		t.Errorf("the run after the failures sent %d, want 3", res.Sent)
	}
	if n := len(mailer.Messages()); n != 6 {
		t.Errorf("%d messages delivered, want 6", n)
	}
}

// TestReminderRunWithoutSMTP: with no SMTP server configured, a dry run
// answers and a run is 503.
func TestReminderRunWithoutSMTP(t *testing.T) {
	ts := newReportingServer(t)
	expect(t, ts.do(req{method: "POST", path: "/api/v1/reminders/run?dryRun=true", key: "roster"}), http.StatusOK)
	expect(t, ts.do(req{method: "POST", path: "/api/v1/reminders/run", key: "roster"}), http.StatusServiceUnavailable)
}

// TestReminderBadAddress: an address the roster took but that is not one
// (e3@x@kommune.no) is never put into a header: its message is reported
// and recorded failed without an attempt, and the others go out.
func TestReminderBadAddress(t *testing.T) {
	ts, mailer := newReminderServer(t)
	expect(t, ts.hr("POST", "/api/v1/roster/imports?effective=2025-01-01", "text/csv", "id,name,email,units,roles,start\n"+
		"boss,Berit Sjef,berit@kommune.no,k,leder,2025-01-01\ne1,Kari Nordmann,kari@kommune.no,k,alle,2025-01-01\n"+
		"e2,Ola Nordmann,ola@kommune.no,k,alle,2025-01-01\ne3,Per Uten,e3@x@kommune.no,k,alle,2025-01-01\n"), http.StatusCreated)
	res := runReminders(t, ts, "2025-01-20T07:00:00Z", "")
	if res.Sent != 3 || res.Failed != 1 || res.Skipped != 0 || len(mailer.Messages()) != 3 {
		t.Fatalf("sent %d failed %d skipped %d delivered %d: %q", res.Sent, res.Failed, res.Skipped, len(mailer.Messages()), plan(res))
	}
	for _, m := range res.Messages {
		if m.Person == "e3" && (m.Outcome != reminders.OutcomeFailed || m.Attempts != 0 || !strings.Contains(m.Error, "not an e-mail address")) {
			t.Errorf("e3's message: %s after %d attempts: %s", m.Outcome, m.Attempts, m.Error)
		}
	}
}

// TestReminderLinkHookAndOneRunAtATime: Config.ReminderLink gives the
// learner's start link (where personal launch links plug in): a personal
// one is made only as the learner's message is sent, goes into that
// message alone, and is never answered (the result says there is one); a
// second run of the tenant while one is sending is 409, a dry run is not
// held up.
func TestReminderLinkHookAndOneRunAtATime(t *testing.T) {
	var made atomic.Int32
	ts, mailer := newReminderServer(t, func(c *lrs.Config) {
		c.ReminderLink = func(_ context.Context, r reminders.LinkRequest) (string, bool, error) {
			if r.Plan {
				return "", true, nil
			}
			made.Add(1)
			return r.BaseURL + "/launch/" + r.Tenant + "/" + r.Person + "/" + r.Module.ID, true, nil
		}
	})
	ts.clock.Set(time.Date(2025, 1, 20, 7, 0, 0, 0, time.UTC))
	held, release := mailer.Hold()
	done := make(chan *response, 1)
	go func() { done <- ts.do(req{method: "POST", path: "/api/v1/reminders/run", key: "roster"}) }()
	<-held
	expect(t, ts.do(req{method: "POST", path: "/api/v1/reminders/run", key: "roster"}), http.StatusConflict)
	dry := ts.do(req{method: "POST", path: "/api/v1/reminders/run?dryRun=true", key: "roster"})
	expect(t, dry, http.StatusOK)
	release()
	r := <-done
	expect(t, r, http.StatusOK)
	var res reminders.Result
	r.json(t, &res)
	if res.Sent != 3 {
		t.Fatalf("the run sent %d, want 3", res.Sent)
	}
	for _, b := range [][]byte{dry.body, r.body} {
		if bytes.Contains(b, []byte("/launch/")) || !bytes.Contains(b, []byte(`"personalLink":true`)) {
			t.Errorf("a run's answer shows personal links, or does not say there are some: %s", b)
		}
	}
	if got := plan(&res)[0]; !strings.Contains(got, "e1/m1/due/2025-01-31/Informasjonssikkerhet/ e1/m2/due/2025-01-31/Personvern/") {
		t.Errorf("Kari's items: %s", got)
	}
	if made.Load() != 3 { // Kari's two and Ola's one; none for the dry run or the manager's digest
		t.Errorf("%d personal links made", made.Load())
	}
	for _, m := range mailer.Messages() {
		data := string(m.Data)
		switch m.To[0] {
		case "kari@kommune.no":
			if !strings.Contains(data, "https://lrs.test/launch/default/e1/m1") || !strings.Contains(data, "https://lrs.test/launch/default/e1/m2") {
				t.Errorf("Kari's message lacks her launch links:\n%s", data)
			}
		case "berit@kommune.no":
			if strings.Contains(data, "/launch/") {
				t.Errorf("the manager's digest carries her people's launch links:\n%s", data)
			}
		}
		if strings.Contains(data, "/launch/") && !strings.Contains(data, "/launch/default/"+map[string]string{
			"kari@kommune.no": "e1", "ola@kommune.no": "e2"}[m.To[0]]+"/") {
			t.Errorf("a message to %s carries another person's link", m.To[0])
		}
	}
}

// TestReminderSchedulesAndDigest: a rule's own schedule (5 days before the
// deadline, then every 2 days overdue) and a campaign's (1 day before,
// not while overdue) decide what each run sends through the SMTP server
// instead of the service's (14 and 3 days, weekly); a manager's digest
// goes at most weekly and lists every requirement a schedule reminds of;
// the run keeps to its rate.
func TestReminderSchedulesAndDigest(t *testing.T) {
	ts, mailer := newReminderServer(t, func(c *lrs.Config) { c.MailRate = 10 })
	expect(t, ts.hr("PUT", "/api/v1/rules/r1", "", `{"role":"alle","modules":["m1","m2"],"dueWithin":"P30D","reminders":{"before":[5],"every":2}}`), http.StatusOK)
	expect(t, ts.hr("PUT", "/api/v1/campaigns/c1", "", `{"modules":["m2"],"start":"2025-01-01","end":"2025-02-10","reminders":{"before":[1],"every":0}}`), http.StatusCreated)
	for _, bad := range []string{`{"before":[-1]}`, `{"before":[],"every":0}`, `{"before":[3],"every":400}`} {
		expect(t, ts.hr("PUT", "/api/v1/rules/r2", "", `{"role":"alle","modules":["m1"],"reminders":`+bad+`}`), http.StatusBadRequest)
	}
	const (
		kari = "learner/nb e1 kari@kommune.no: e1/m1/due/2025-01-31/Informasjonssikkerhet/https://kurs.kommune.no/m1 e1/m2/due/2025-01-31/Personvern/"
		ola  = "learner/nb e2 ola@kommune.no: e2/m2/due/2025-01-31/Personvern/"
	)
	overdue := func(s string) string { return strings.ReplaceAll(s, "/due/", "/overdue/") }
	digest := "manager/nb boss berit@kommune.no: e1/m1/overdue/2025-01-31/Informasjonssikkerhet/ e1/m2/overdue/2025-01-31/Personvern/ e2/m2/overdue/2025-01-31/Personvern/ e3/m1/overdue/2025-01-31/Informasjonssikkerhet/ e3/m2/overdue/2025-01-31/Personvern/"
	for _, step := range []struct {
		at   string
		want []string
	}{
		// 11 days before: the service's 14-day step, not the rule's.
		{"2025-01-20T07:00:00Z", nil},
		{"2025-01-26T07:00:00Z", []string{kari, ola,
			"manager/nb boss berit@kommune.no: e1/m1/due/2025-01-31/Informasjonssikkerhet/ e1/m2/due/2025-01-31/Personvern/ e2/m2/due/2025-01-31/Personvern/ e3/m1/due/2025-01-31/Informasjonssikkerhet/ e3/m2/due/2025-01-31/Personvern/"}},
		{"2025-01-27T07:00:00Z", nil},
		// The first day overdue: the learners; Berit had her digest 6 days ago.
		{"2025-02-01T07:00:00Z", []string{overdue(kari), overdue(ola)}},
		// A week after her digest: the next.
		{"2025-02-02T07:00:00Z", []string{digest}},
		// Two days after the first day overdue.
		{"2025-02-03T07:00:00Z", []string{overdue(kari), overdue(ola)}},
		{"2025-02-04T07:00:00Z", nil},
		// The campaign's day before its end (it covers everyone, Berit
		// too), the rule's fifth step overdue (every 2 days from 1
		// February) and the next digest, with the campaign's rows.
		{"2025-02-09T07:00:00Z", []string{
			"learner/nb boss berit@kommune.no: boss/m2/due/2025-02-10/Personvern/",
			strings.TrimSuffix(overdue(kari), "/") + "/ e1/m2/due/2025-02-10/Personvern/",
			strings.TrimSuffix(overdue(ola), "/") + "/ e2/m2/due/2025-02-10/Personvern/",
			"manager/nb boss berit@kommune.no: e1/m1/overdue/2025-01-31/Informasjonssikkerhet/ e1/m2/overdue/2025-01-31/Personvern/ e1/m2/due/2025-02-10/Personvern/ e2/m2/overdue/2025-01-31/Personvern/ e2/m2/due/2025-02-10/Personvern/ e3/m1/overdue/2025-01-31/Informasjonssikkerhet/ e3/m2/overdue/2025-01-31/Personvern/ e3/m2/due/2025-02-10/Personvern/"}},
	} {
		dry := runReminders(t, ts, step.at, "&dryRun=true")
		start := time.Now()
		res := runReminders(t, ts, step.at, "")
		if got := plan(res); !slices.Equal(got, step.want) || !slices.Equal(plan(dry), step.want) {
			t.Errorf("%s: planned\n%s\nsent\n%s\nwant\n%s", step.at, strings.Join(plan(dry), "\n"), strings.Join(got, "\n"), strings.Join(step.want, "\n"))
		}
		if res.Sent != len(step.want) || res.DigestEvery != 7 {
			t.Errorf("%s: sent %d, digest every %d", step.at, res.Sent, res.DigestEvery)
		}
		if n := len(step.want); n > 1 && time.Since(start) < time.Duration(n-1)*100*time.Millisecond-10*time.Millisecond {
			t.Errorf("%s: %d messages in %v at 10 a second", step.at, n, time.Since(start))
		}
	}
	// After the campaign's end: not while overdue (every 0).
	res := runReminders(t, ts, "2025-02-11T07:00:00Z", "&dryRun=true")
	for _, m := range res.Messages {
		for _, it := range m.Items {
			if it.Due.String() == "2025-02-10" {
				t.Errorf("the campaign's row is reminded of while overdue: %q", plan(res))
			}
		}
	}
	if n := len(mailer.Messages()); n != 12 {
		t.Errorf("the SMTP server received %d messages, want 12", n)
	}
}

// TestReminderPersonalLaunchLink: with a package here delivering m2, a
// learner's reminder carries a personal launch link for m2 (made as the
// message is sent; the run's answer only says there is one) that opens
// the player for that learner, and m1's address in the catalog; the
// manager's digest carries neither learner's link.
func TestReminderPersonalLaunchLink(t *testing.T) {
	ts, mailer := newReminderServer(t)
	ts.addPackageCreds()
	ts.importPackage("content-hr", "?module=m2", packagetest.SCORM12())
	res := runReminders(t, ts, "2025-01-20T07:00:00Z", "")
	if res.Sent != 3 {
		t.Fatalf("sent %d: %q", res.Sent, plan(res))
	}
	for _, m := range res.Messages {
		for _, it := range m.Items {
			personal := it.Module == "m2" && strings.HasPrefix(m.Template, reminders.TemplateLearner)
			if it.Personal != personal || strings.Contains(it.Link, "/launch/") {
				t.Errorf("%s's item %s: personal %v, link %q", m.Person, it.Module, it.Personal, it.Link)
			}
		}
	}
	link := regexp.MustCompile(`https://lrs\.test(/launch/[A-Za-z0-9._~-]+)`)
	var kari string
	for _, m := range mailer.Messages() {
		_, text, html := mailBody(t, m.Data)
		switch m.To[0] {
		case "kari@kommune.no":
			found := link.FindStringSubmatch(text)
			if found == nil || !strings.Contains(html, found[0]) || !strings.Contains(text, "https://kurs.kommune.no/m1") {
				t.Fatalf("Kari's message lacks her launch link for m2 or m1's address:\n%s", text)
			}
			kari = found[1]
		case "berit@kommune.no":
			if link.MatchString(text) || link.MatchString(html) {
				t.Errorf("the manager's digest carries a launch link:\n%s", text)
			}
		}
	}
	r := ts.do(req{method: "GET", path: kari, noAuth: true})
	expect(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), "Kari Nordmann") && !strings.Contains(string(r.body), "kari@kommune.no") {
		t.Errorf("the link does not open Kari's player: %.500s", r.body)
	}
}
