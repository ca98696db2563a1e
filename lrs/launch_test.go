package lrs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/launch"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/packages/packagetest"
	scormrt "github.com/xapi-lrs/lrs/scorm"
)

// launched is the answer of POST /api/v1/launches.
type launched struct {
	URL          string    `json:"url"`
	Expires      time.Time `json:"expires"`
	Registration string    `json:"registration"`
	Resumed      bool      `json:"resumed"`
	Package      string    `json:"package"`
	Version      int       `json:"version"`
	Launchable   string    `json:"launchable"`
}

// launch asks for a launch link as the launcher credential, expecting 201.
func (s *testServer) launch(body string) launched {
	s.t.Helper()
	r := s.do(req{method: "POST", path: "/api/v1/launches", key: "launcher", body: body})
	expect(s.t, r, http.StatusCreated)
	var out launched
	r.json(s.t, &out)
	return out
}

// page fetches a page of the player (a path or URL of the server) with
// Accept-Language lang.
func (s *testServer) page(u, lang string) *response {
	s.t.Helper()
	return s.do(req{method: "GET", path: strings.TrimPrefix(u, "https://lrs.test"), noAuth: true, version: "-",
		header: map[string]string{"Accept-Language": lang}})
}

var initRE = regexp.MustCompile(`(?s)<script type="application/json" id="lrs-init">(.*?)</script>`)
var frameRE = regexp.MustCompile(`<iframe id="lrs-sco" title="[^"]*" data-src="([^"]*)"`)

// playerInit returns the runtime's initial data a player page carries, and
// the address of its frame.
func playerInit(t *testing.T, r *response) (scormrt.Init, string) {
	t.Helper()
	m := initRE.FindSubmatch(r.body)
	f := frameRE.FindSubmatch(r.body)
	if m == nil || f == nil {
		t.Fatalf("no init data or frame in the player page: %s", r.body)
	}
	var in scormrt.Init
	if err := json.Unmarshal(m[1], &in); err != nil {
		t.Fatalf("the init data is not JSON (%v): %s", err, m[1])
	}
	return in, strings.ReplaceAll(string(f[1]), "&amp;", "&")
}

// commit posts a SCORM commit of the player to its commit URL.
func (s *testServer) commit(commitURL, body string) *response {
	s.t.Helper()
	return s.do(req{method: "POST", path: commitURL, noAuth: true, version: "-", body: body})
}

// launchServer is a package server with a SCORM 1.2 package linked to the
// module infosikkerhet, required of the role ansatt, and Kari (1001) and
// Ola (1002) in the roster.
func launchServer(t *testing.T, open opener) (*testServer, importedJSON) {
	s := newPackageServerOn(t, open)
	p := s.importPackage("content-hr", "?module=infosikkerhet", packagetest.SCORM12())
	expect(t, s.hr("PUT", "/api/v1/rules/alle", "application/json", `{"role":"ansatt","modules":["infosikkerhet"]}`), http.StatusCreated)
	expect(t, s.hr("POST", "/api/v1/roster/imports", "application/json", `{"people":[
		{"id":"1001","name":"Kari Nordmann","email":"kari@example.com","roles":[{"id":"ansatt"}]},
		{"id":"1002","name":"Ola Nordmann","identifiers":[{"account":{"homePage":"https://lms.example","name":"ola"}}],"roles":[{"id":"ansatt"}]}]}`),
		http.StatusCreated)
	return s, p
}

// personStatus is the status of a person's one required module.
func (s *testServer) personStatus(person string) string {
	s.t.Helper()
	r := s.hr("GET", "/api/v1/reports/status?person="+person, "", "")
	expect(s.t, r, http.StatusOK)
	var rep struct {
		Rows []struct{ Status string } `json:"rows"`
	}
	r.json(s.t, &rep)
	if len(rep.Rows) != 1 {
		s.t.Fatalf("status report of %s: %s", person, r.body)
	}
	return rep.Rows[0].Status
}

// TestLaunchSCORM12: a launch link for a roster person opens the player
// (an init for the SCO from the manifest and the learner, the content
// same-origin, commits by the session token); a suspended attempt resumes
// in the next launch (same registration, entry resume, suspend data); the
// passed SCO rolls the course up, which completes the module; the next
// launch starts a new attempt.
func TestLaunchSCORM12(t *testing.T) { onBackends(t, testLaunchSCORM12) }

func testLaunchSCORM12(t *testing.T, open opener) {
	s, p := launchServer(t, open)
	l := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001","returnUrl":"https://portal.example/kurs"}`, p.ID))
	if !strings.HasPrefix(l.URL, "https://lrs.test/launch/l1.") || l.Resumed || l.Package != p.ID || l.Version != 1 || l.Launchable != "sco-1" ||
		l.Expires.Sub(time.Now()) < 23*time.Hour || l.Expires.Sub(time.Now()) > 25*time.Hour {
		t.Fatalf("launch: %+v", l)
	}
	if strings.Contains(l.URL, "kari") {
		t.Errorf("the launch URL shows the learner: %s", l.URL)
	}

	r := s.page(l.URL, "nb-NO,nb;q=0.9,en;q=0.5")
	expect(t, r, http.StatusOK)
	csp := r.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("player headers: %v", r.header)
	}
	for _, want := range []string{`<html lang="nb">`, "Gå til innholdet", `href="https://portal.example/kurs"`, `<script src="/static/scorm.js" defer>`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("the player page lacks %s: %s", want, r.body)
		}
	}
	in, frame := playerInit(t, r)
	if in.Version != scormrt.V12 || in.LearnerID != "kari@example.com" || in.LearnerName != "Kari Nordmann" || in.Entry != "ab-initio" ||
		in.MasteryScore != "80" || in.LaunchData != "start=1" || in.Credit != "credit" ||
		!strings.HasPrefix(in.CommitURL, "/launch/l1.") || !strings.HasSuffix(in.CommitURL, "/commit?sco=sco-1") {
		t.Errorf("init %+v", in)
	}
	session := strings.Split(in.CommitURL, "/")[2]
	if frame != "/launch/"+session+"/content/index.html?lang=nb" {
		t.Errorf("frame %s, want the launchable under the session %s", frame, session)
	}
	if en := s.page(l.URL, "en-GB,en;q=0.8"); !strings.Contains(string(en.body), `<html lang="en">`) || !strings.Contains(string(en.body), "Skip to content") {
		t.Errorf("the English page: %s", en.body)
	}

	// The content, same-origin: no sandbox, framed by the player only.
	c := s.page(frame, "")
	expect(t, c, http.StatusOK)
	if string(c.body) != packagetest.SCORM12Files()["index.html"] || c.header.Get("Content-Security-Policy") != "frame-ancestors 'self'" {
		t.Errorf("content: %v %s", c.header, c.body)
	}
	if js := s.page("/launch/"+session+"/content/sco.js", ""); js.status != http.StatusOK || !strings.Contains(string(js.body), "API_1484_11") {
		t.Errorf("a relative file of the SCO: %d", js.status)
	}

	// A first session: an answer, then suspended.
	body := `{"cmi":{"core":{"entry":"ab-initio","lesson_status":"incomplete","exit":"suspend","session_time":"0000:01:00","total_time":"0000:01:00"},` +
		`"suspend_data":"side=3","interactions":{"0":{"id":"q1","type":"choice","student_response":"b","result":"correct"}}},"terminate":true}`
	cr := s.commit(in.CommitURL, body)
	expect(t, cr, http.StatusOK)
	var ans struct {
		Result     string   `json:"result"`
		Statements []string `json:"statements"`
	}
	cr.json(t, &ans)
	if ans.Result != "true" || len(ans.Statements) != 3 { // initialized, responded, suspended
		t.Fatalf("commit: %s", cr.body)
	}
	st := s.get(ans.Statements[1])
	if st["actor"].(map[string]any)["mbox"] != "mailto:kari@example.com" || st["context"].(map[string]any)["registration"] != l.Registration {
		t.Errorf("a statement of the session: %v", st)
	}
	if auth := st["authority"].(map[string]any)["account"].(map[string]any)["name"]; auth != "launch:"+l.Registration {
		t.Errorf("authority %v", auth)
	}
	if got := s.personStatus("1001"); got != "in-progress" {
		t.Errorf("Kari after a suspended session: %s", got)
	}

	// The next launch resumes the attempt.
	l2 := s.launch(fmt.Sprintf(`{"package":%q,"agent":{"mbox":"mailto:kari@example.com","name":"Kari Nordmann"}}`, p.ID))
	if l2.Registration != l.Registration || !l2.Resumed {
		t.Fatalf("relaunch: %+v, first %+v", l2, l)
	}
	in2, _ := playerInit(t, s.page(l2.URL, ""))
	if in2.Entry != "resume" || in2.SuspendData != "side=3" || in2.Lesson != "incomplete" || in2.TotalTime != "0000:01:00" {
		t.Errorf("resumed init %+v", in2)
	}
	cr = s.commit(in2.CommitURL, `{"cmi":{"core":{"entry":"resume","lesson_status":"passed","score":{"raw":"90","min":"0","max":"100"},"exit":"","session_time":"0000:02:00"}},"terminate":true}`)
	expect(t, cr, http.StatusOK)
	cr.json(t, &ans)
	// resumed, completed, passed, scored, terminated, and the rollup
	if len(ans.Statements) != 6 {
		t.Fatalf("finishing commit: %s", cr.body)
	}
	rollup := s.get(ans.Statements[5])
	obj := rollup["object"].(map[string]any)
	res := rollup["result"].(map[string]any)
	if rollup["verb"].(map[string]any)["id"] != "http://adlnet.gov/expapi/verbs/passed" || obj["id"] != p.ActivityID ||
		res["success"] != true || res["completion"] != true || res["score"].(map[string]any)["scaled"] != 0.9 {
		t.Errorf("rollup %v", rollup)
	}
	if got := s.personStatus("1001"); got != "completed" {
		t.Errorf("Kari after passing: %s", got)
	}
	// The same terminating commit again (a retry) stores nothing.
	cr = s.commit(in2.CommitURL, `{"cmi":{"core":{"entry":"resume","lesson_status":"passed","score":{"raw":"90","min":"0","max":"100"},"exit":"","session_time":"0000:02:00"}},"terminate":true}`)
	expect(t, cr, http.StatusOK)
	if cr.json(t, &ans); len(ans.Statements) != 0 {
		t.Errorf("the retried commit stored %v", ans.Statements)
	}

	// The attempt is over: a new one.
	l3 := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID))
	if l3.Registration == l.Registration || l3.Resumed {
		t.Errorf("launch after the attempt: %+v", l3)
	}
	if in3, _ := playerInit(t, s.page(l3.URL, "")); in3.Entry != "ab-initio" || in3.SuspendData != "" {
		t.Errorf("a new attempt's init: %+v", in3)
	}

	// Ola, named by person, is launched by his account.
	lo := s.launch(fmt.Sprintf(`{"package":%q,"person":"1002"}`, p.ID))
	if ino, _ := playerInit(t, s.page(lo.URL, "")); ino.LearnerID != "ola" || ino.LearnerName != "Ola Nordmann" {
		t.Errorf("Ola's init: %+v", ino)
	}
}

// TestLaunchSCORM2004: the player of a two-SCO package lists both SCOs
// with their status; each SCO has its own state; the course is rolled up
// once both are done (the second passed against its minNormalizedMeasure),
// and not before.
func TestLaunchSCORM2004(t *testing.T) { onBackends(t, testLaunchSCORM2004) }

func testLaunchSCORM2004(t *testing.T, open opener) {
	s := newPackageServerOn(t, open)
	p := s.importPackage("content-hr", "?module=personvern", packagetest.SCORM2004())
	expect(t, s.hr("PUT", "/api/v1/rules/alle", "application/json", `{"role":"ansatt","modules":["personvern"]}`), http.StatusCreated)
	expect(t, s.hr("POST", "/api/v1/roster/imports", "application/json", `{"people":[
		{"id":"1001","name":"Kari Nordmann","email":"kari@example.com","roles":[{"id":"ansatt"}]}]}`), http.StatusCreated)
	l := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID))
	r := s.page(l.URL, "nb")
	expect(t, r, http.StatusOK)
	in, _ := playerInit(t, r)
	if in.Version != scormrt.V2004 || in.LaunchData != "kapittel=1" || !strings.HasSuffix(in.CommitURL, "/commit?sco=intro") {
		t.Errorf("intro's init %+v", in)
	}
	for _, want := range []string{"Innhold</h2>", `aria-current="page">Innledning</a> <span class="status status-not-attempted">Ikke startet</span>`,
		`>Test</a> <span class="status status-not-attempted">`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("the table of contents lacks %s: %s", want, r.body)
		}
	}
	var ans struct{ Statements []string }
	cr := s.commit(in.CommitURL, `{"cmi":{"entry":"ab-initio","completion_status":"completed","exit":"normal"},"terminate":true}`)
	expect(t, cr, http.StatusOK)
	if cr.json(t, &ans); len(ans.Statements) != 3 { // initialized, completed, terminated: no rollup yet
		t.Errorf("intro's commit: %s", cr.body)
	}
	if got := s.personStatus("1001"); got != "in-progress" {
		t.Errorf("after the intro: %s", got)
	}

	session := strings.Split(in.CommitURL, "/")[2]
	r = s.page("/launch/"+session+"?sco=test", "nb")
	expect(t, r, http.StatusOK)
	in2, frame := playerInit(t, r)
	if in2.ScaledPassingScore != "0.8" || in2.CompletionThreshold != "0.9" || in2.TimeLimitAction != "continue,message" ||
		in2.Entry != "ab-initio" || !strings.HasSuffix(frame, "/content/test/test.html#start") ||
		!strings.Contains(string(r.body), `>Innledning</a> <span class="status status-completed">Fullført</span>`) {
		t.Errorf("the test SCO's page: %+v %s", in2, r.body)
	}
	cr = s.commit(in2.CommitURL, `{"cmi":{"entry":"ab-initio","completion_status":"completed","success_status":"failed","score":{"scaled":"0.5"},"exit":"normal"},"terminate":true}`)
	expect(t, cr, http.StatusOK)
	if got := s.personStatus("1001"); got != "in-progress" {
		t.Errorf("after failing the test: %s", got)
	}
	cr = s.commit(in2.CommitURL, `{"cmi":{"entry":"ab-initio","completion_status":"completed","success_status":"passed","score":{"scaled":"0.85"},"exit":"normal"},"terminate":true}`)
	expect(t, cr, http.StatusOK)
	cr.json(t, &ans)
	rollup := s.get(ans.Statements[len(ans.Statements)-1])
	if rollup["verb"].(map[string]any)["id"] != "http://adlnet.gov/expapi/verbs/passed" || rollup["object"].(map[string]any)["id"] != p.ActivityID {
		t.Fatalf("rollup %v", rollup)
	}
	if got := s.personStatus("1001"); got != "completed" {
		t.Errorf("after passing the test: %s", got)
	}
	// One rollup per attempt: the intro again in the same session adds none.
	cr = s.commit(in.CommitURL, `{"cmi":{"entry":"ab-initio","completion_status":"completed","exit":"normal","session_time":"PT1S"},"terminate":true}`)
	expect(t, cr, http.StatusOK)
	r = s.do(req{method: "GET", path: "/xapi/statements?activity=" + url.QueryEscape(p.ActivityID) + "&verb=" +
		url.QueryEscape("http://adlnet.gov/expapi/verbs/passed")})
	if stmts, _ := r.result(t); len(stmts) != 1 {
		t.Errorf("%d rollups of the attempt", len(stmts))
	}
}

// TestLaunchTinCan: a Tin Can launch redirects to the content with the
// launch parameters (endpoint, auth, actor, registration, activity_id);
// the auth is a bearer token that writes and reads the learner's
// statements and State documents, and nobody else's. The request log
// shows neither token.
func TestLaunchTinCan(t *testing.T) { onBackends(t, testLaunchTinCan) }

func testLaunchTinCan(t *testing.T, open opener) {
	var logs bytes.Buffer
	s := newPackageServerOn(t, open, func(cfg *lrs.Config) { cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	p := s.importPackage("content", "", packagetest.TinCan())
	agent := map[string]any{"objectType": "Agent", "mbox": "mailto:kari@example.com", "name": "Kari"}
	l := s.launch(fmt.Sprintf(`{"package":%q,"agent":{"objectType":"Agent","mbox":"mailto:kari@example.com","name":"Kari"}}`, p.ID))
	r := s.do(req{method: "GET", path: strings.TrimPrefix(l.URL, "https://lrs.test"), noAuth: true, version: "-", noFollow: true})
	expect(t, r, http.StatusSeeOther)
	to, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := to.Query()
	var actor map[string]any
	if err := json.Unmarshal([]byte(q.Get("actor")), &actor); err != nil || actor["mbox"] != agent["mbox"] || actor["name"] != "Kari" {
		t.Errorf("actor %q", q.Get("actor"))
	}
	bearer := q.Get("auth")
	session := strings.TrimPrefix(bearer, "Bearer ")
	if to.Host != "lrs.test" || to.Path != "/launch/"+session+"/content/story.html" || q.Get("endpoint") != "https://lrs.test/xapi/" ||
		!strings.HasPrefix(session, "l1.") || q.Get("registration") != l.Registration || q.Get("activity_id") != p.ActivityID || len(q) != 5 {
		t.Fatalf("redirect to %s", to)
	}
	if c := s.page(to.RequestURI(), ""); c.status != http.StatusOK || c.header.Get("Content-Security-Policy") != "frame-ancestors 'self'" {
		t.Errorf("the content: %d %v", c.status, c.header)
	}

	xapi := func(method, path string, body any) *response {
		return s.do(req{method: method, path: path, noAuth: true, body: body, header: map[string]string{"Authorization": bearer}})
	}
	stmt := func(mbox, verb string) map[string]any {
		return map[string]any{"actor": map[string]any{"mbox": mbox}, "verb": map[string]any{"id": "http://adlnet.gov/expapi/verbs/" + verb},
			"object": map[string]any{"id": p.ActivityID}, "context": map[string]any{"registration": l.Registration}}
	}
	r = xapi("POST", "/xapi/statements", stmt("mailto:kari@example.com", "experienced"))
	expect(t, r, http.StatusOK)
	var ids []string
	r.json(t, &ids)
	if r := xapi("POST", "/xapi/statements", []any{stmt("mailto:kari@example.com", "experienced"), stmt("mailto:ola@example.com", "completed")}); r.status != http.StatusForbidden ||
		!strings.Contains(string(r.body), `"path":"[1].actor"`) {
		t.Errorf("a statement of another learner: %d %s", r.status, r.body)
	}
	void := map[string]any{"actor": map[string]any{"mbox": "mailto:kari@example.com"}, "verb": map[string]any{"id": "http://adlnet.gov/expapi/verbs/voided"},
		"object": map[string]any{"objectType": "StatementRef", "id": ids[0]}}
	expect(t, xapi("POST", "/xapi/statements", void), http.StatusForbidden)
	r = xapi("GET", "/xapi/statements", nil)
	expect(t, r, http.StatusOK)
	if stmts, _ := r.result(t); len(stmts) != 1 || stmts[0]["id"] != ids[0] {
		t.Errorf("the session reads %d statements", len(stmts))
	}
	s.post(stmt("mailto:ola@example.com", "completed")) // by the LMS: not the session's to read
	if r := xapi("GET", "/xapi/statements", nil); r.status != http.StatusOK || !strings.Contains(string(r.body), ids[0]) || strings.Contains(string(r.body), "ola@") {
		t.Errorf("the session reads others' statements: %s", r.body)
	}

	state := func(mbox, id string) string {
		return "/xapi/activities/state?activityId=" + url.QueryEscape(p.ActivityID) + "&agent=" + url.QueryEscape(`{"mbox":"`+mbox+`"}`) +
			"&stateId=" + url.QueryEscape(id)
	}
	expect(t, xapi("PUT", state("mailto:kari@example.com", "bookmark"), `{"side":4}`), http.StatusNoContent)
	expect(t, xapi("GET", state("mailto:kari@example.com", launch.AttemptStateID), nil), http.StatusOK)
	for _, bad := range []struct{ method, path string }{
		{"GET", state("mailto:ola@example.com", "bookmark")},
		{"PUT", state("mailto:ola@example.com", "bookmark")},
		{"PUT", state("mailto:kari@example.com", launch.AttemptStateID)},
		{"DELETE", "/xapi/activities/state?activityId=" + url.QueryEscape(p.ActivityID) + "&agent=" + url.QueryEscape(`{"mbox":"mailto:kari@example.com"}`)},
		{"GET", "/xapi/activities/profile?activityId=" + url.QueryEscape(p.ActivityID)},
	} {
		if r := xapi(bad.method, bad.path, `{"x":1}`); r.status != http.StatusForbidden {
			t.Errorf("%s %s: %d %s", bad.method, bad.path, r.status, r.body)
		}
	}
	// A forged or foreign token is no credential.
	forged := bearer[:len(bearer)-2] + "AA"
	if r := s.do(req{method: "GET", path: "/xapi/statements", noAuth: true, header: map[string]string{"Authorization": forged}}); r.status != http.StatusUnauthorized {
		t.Errorf("a forged session token: %d", r.status)
	}
	if r := s.do(req{method: "GET", path: "/xapi/statements", noAuth: true, header: map[string]string{"Authorization": "Bearer " + strings.TrimPrefix(l.URL, "https://lrs.test/launch/")}}); r.status != http.StatusUnauthorized {
		t.Errorf("the launch link as a bearer token: %d", r.status)
	}

	// Completing the course ends the attempt: the next launch has a new
	// registration.
	expect(t, xapi("POST", "/xapi/statements", stmt("mailto:kari@example.com", "completed")), http.StatusOK)
	if l2 := s.launch(fmt.Sprintf(`{"package":%q,"agent":{"mbox":"mailto:kari@example.com"}}`, p.ID)); l2.Registration == l.Registration {
		t.Errorf("the attempt after the course's completion kept its registration")
	}
	link := strings.TrimPrefix(l.URL, "https://lrs.test/launch/")
	if strings.Contains(logs.String(), session[3:40]) || strings.Contains(logs.String(), link[3:40]) ||
		!strings.Contains(logs.String(), `"path":"/launch/-/content/story.html"`) || !strings.Contains(logs.String(), `"path":"/launch/-"`) {
		t.Errorf("the request log shows a launch token, or not the redacted paths:\n%s", logs.String())
	}
}

// TestLaunchBadRequests: every bad launch request is a 4xx naming what is
// wrong, as are forged, expired and revoked links.
func TestLaunchBadRequests(t *testing.T) { onBackends(t, testLaunchBadRequests) }

func testLaunchBadRequests(t *testing.T, open opener) {
	s, p := launchServer(t, open)
	for _, tt := range []struct {
		body   string
		status int
		want   string
	}{
		{`{}`, 400, "package is required"},
		{`{"package":"nope","person":"1001"}`, 404, "20 hex digits"},
		{`{"package":"0123456789abcdef0123","person":"1001"}`, 404, ""},
		{fmt.Sprintf(`{"package":%q}`, p.ID), 400, "name the learner"},
		{fmt.Sprintf(`{"package":%q,"person":"1001","agent":{"mbox":"mailto:a@b.no"}}`, p.ID), 400, "not both"},
		{fmt.Sprintf(`{"package":%q,"person":"9999"}`, p.ID), 404, `no person`},
		{fmt.Sprintf(`{"package":%q,"agent":{"name":"nobody"}}`, p.ID), 400, ""},
		{fmt.Sprintf(`{"package":%q,"agent":{"objectType":"Group","mbox":"mailto:g@b.no"}}`, p.ID), 400, "not a Group"},
		{fmt.Sprintf(`{"package":%q,"agent":"kari"}`, p.ID), 400, ""},
		{fmt.Sprintf(`{"package":%q,"person":"1001","launchable":"sco-9"}`, p.ID), 400, `no launchable`},
		{fmt.Sprintf(`{"package":%q,"person":"1001","expiresIn":"1000h"}`, p.ID), 400, "at most"},
		{fmt.Sprintf(`{"package":%q,"person":"1001","expiresIn":"soon"}`, p.ID), 400, "expiresIn"},
		{fmt.Sprintf(`{"package":%q,"person":"1001","returnUrl":"javascript:alert(1)"}`, p.ID), 400, "returnUrl"},
		{fmt.Sprintf(`{"package":%q,"person":"1001","colour":"red"}`, p.ID), 400, "colour"},
		{fmt.Sprintf(`{"package":%q,"agent":{"mbox":"mailto:a@b.no","name":%q}}`, p.ID, strings.Repeat("Kari ", 2000)), 400, "at most"},
		{`[1,2]`, 400, ""},
		{`{"package":`, 400, ""},
	} {
		r := s.do(req{method: "POST", path: "/api/v1/launches", key: "launcher", body: tt.body})
		if r.status != tt.status || !strings.Contains(string(r.body), tt.want) {
			t.Errorf("%s: %d %s; want %d saying %q", tt.body, r.status, r.body, tt.status, tt.want)
		}
		r.errorKind(t)
	}
	if r := s.do(req{method: "POST", path: "/api/v1/launches", key: "launcher", body: `{}`, ctype: "text/plain"}); r.status != http.StatusUnsupportedMediaType {
		t.Errorf("a text body: %d", r.status)
	}
	if r := s.do(req{method: "POST", path: "/api/v1/launches?x=1", key: "launcher", body: `{}`}); r.status != http.StatusBadRequest {
		t.Errorf("a parameter: %d", r.status)
	}

	l := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001","expiresIn":"1h"}`, p.ID))
	tok := strings.TrimPrefix(l.URL, "https://lrs.test/launch/")
	in, _ := playerInit(t, s.page(l.URL, ""))
	for name, u := range map[string]string{
		"forged":      "/launch/" + tok[:len(tok)-3] + "AAA",
		"not base64":  "/launch/l1.***",
		"no token":    "/launch/abc",
		"unknown sco": "/launch/" + tok + "?sco=sco-9",
		"a parameter": "/launch/" + tok + "?debug=1",
	} {
		r := s.page(u, "en")
		if r.status < 400 || r.status >= 500 || !strings.Contains(string(r.body), "The course cannot be opened") {
			t.Errorf("%s link: %d %s", name, r.status, r.body)
		}
	}
	for name, path := range map[string]string{
		"link as session": "/launch/" + tok + "/content/index.html",
		"forged session":  strings.Replace(in.CommitURL, "/commit?sco=sco-1", "", 1)[:40] + "/content/index.html",
		"traversal":       strings.Replace(in.CommitURL, "/commit?sco=sco-1", "/content/..%2Fimsmanifest.xml", 1),
		"missing file":    strings.Replace(in.CommitURL, "/commit?sco=sco-1", "/content/none.html", 1),
	} {
		if r := s.page(path, ""); r.status < 400 || r.status >= 500 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	for name, c := range map[string]struct{ path, body, ctype string }{
		"no sco":       {strings.Replace(in.CommitURL, "?sco=sco-1", "", 1), `{"cmi":{"core":{}}}`, ""},
		"unknown sco":  {strings.Replace(in.CommitURL, "sco-1", "sco-9", 1), `{"cmi":{"core":{}}}`, ""},
		"not JSON":     {in.CommitURL, `{"cmi":`, ""},
		"bad value":    {in.CommitURL, `{"cmi":{"core":{"lesson_status":"great"}}}`, ""},
		"content type": {in.CommitURL, `{"cmi":{"core":{}}}`, "application/xml"},
		"bad flag":     {in.CommitURL + "&terminate=maybe", `{"cmi":{"core":{}}}`, ""},
	} {
		r := s.do(req{method: "POST", path: c.path, noAuth: true, version: "-", body: c.body, ctype: c.ctype})
		if r.status < 400 || r.status >= 500 {
			t.Errorf("commit, %s: %d %s", name, r.status, r.body)
		}
	}

	// Expired: the link an hour later, the session eight hours later.
	s.clock.Set(time.Now().Add(61 * time.Minute))
	if r := s.page(l.URL, "en"); r.status != http.StatusForbidden || !strings.Contains(string(r.body), "expired") {
		t.Errorf("an expired link: %d %s", r.status, r.body)
	}
	expect(t, s.commit(in.CommitURL, `{"cmi":{"core":{"lesson_status":"incomplete"}}}`), http.StatusOK)
	s.clock.Set(time.Now().Add(launch.SessionTTL + time.Minute))
	if r := s.commit(in.CommitURL, `{"cmi":{"core":{"lesson_status":"incomplete"}}}`); r.status != http.StatusForbidden {
		t.Errorf("a commit of an expired session: %d %s", r.status, r.body)
	}
	s.clock.Set(time.Time{})

	// Revoking the launcher's credential ends its links and sessions.
	l = s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID))
	in, _ = playerInit(t, s.page(l.URL, ""))
	expect(t, s.do(req{method: "POST", path: "/api/v1/admin/credentials/launcher/revoke", key: "launch-admin"}), http.StatusOK)
	if r := s.page(l.URL, ""); r.status != http.StatusForbidden {
		t.Errorf("the link of a revoked launcher: %d", r.status)
	}
	if r := s.commit(in.CommitURL, `{"cmi":{"core":{}}}`); r.status != http.StatusForbidden {
		t.Errorf("a session of a revoked launcher: %d", r.status)
	}
}

// TestLaunchOtherTenant: a launcher of another tenant cannot launch this
// tenant's package, nor name its people.
func TestLaunchOtherTenant(t *testing.T) { onBackends(t, testLaunchOtherTenant) }

func testLaunchOtherTenant(t *testing.T, open opener) {
	s, p := launchServer(t, open)
	ctx := context.Background()
	if err := s.st.Tenants.CreateTenant(ctx, &auth.Tenant{Name: "bergen", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.st.Credentials.CreateCredential(ctx, &auth.Credential{Key: "bergen-launcher", SecretHash: auth.HashSecret("bergen-launcher-secret"),
		Tenant: "bergen", Scopes: []string{auth.ScopeLaunchWrite}, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	r := s.do(req{method: "POST", path: "/api/v1/launches", key: "bergen-launcher", body: fmt.Sprintf(`{"package":%q,"agent":{"mbox":"mailto:a@b.no"}}`, p.ID)})
	expect(t, r, http.StatusNotFound)
}
