package lrs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/xapi-lrs/lrs/internal/browsertest"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/packages/packagetest"
	scormrt "github.com/xapi-lrs/lrs/scorm"
)

// The end-to-end tests of the SCORM player: the real server, a real
// Chromium, the test packages' SCOs driving the run-time API with their
// own script (packagetest.SCOScript), called through the frame as a
// learner's clicks would.

// Kari (1001) in the roster of the browser tests: by her e-mail address,
// or (for cmi5, whose learner is an account) by her account.
const (
	kariByEmail   = `{"id":"1001","name":"Kari Nordmann","email":"kari@example.com","roles":[{"id":"ansatt"}]}`
	kariByAccount = `{"id":"1001","name":"Kari Nordmann","identifiers":[{"account":{"homePage":"https://portal.example","name":"kari"}}],"roles":[{"id":"ansatt"}]}`
)

// browserServer is a package server over the database open opens, whose
// URLs are its own address (no BaseURL), with kari (kariByEmail or
// kariByAccount) in the roster, required to complete module.
func browserServer(t *testing.T, open opener, zip []byte, module, kari string) (*testServer, importedJSON) {
	t.Helper()
	s := newPackageServerOn(t, open, func(cfg *lrs.Config) { cfg.BaseURL = "" })
	p := s.importPackage("content-hr", "?module="+module, zip)
	expect(t, s.hr("PUT", "/api/v1/rules/alle", "application/json", `{"role":"ansatt","modules":["`+module+`"]}`), http.StatusCreated)
	expect(t, s.hr("POST", "/api/v1/roster/imports", "application/json", `{"people":[`+kari+`]}`), http.StatusCreated)
	return s, p
}

// eval evaluates expr in the tab's page.
func eval[T any](t *testing.T, tab *browsertest.Tab, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Context(), browsertest.ActionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v (page %s)", expr, err, tab.URL())
	}
	return v
}

// scoExpr is the SCO's window.sco, seen from the player through the frame
// (same origin).
const scoExpr = "document.getElementById('lrs-sco').contentWindow.sco"

// waitForSCO waits until the SCO in the player's frame has initialised the
// API, and returns how it was entered.
func waitForSCO(t *testing.T, tab *browsertest.Tab) (entry, suspendData, location string) {
	t.Helper()
	deadline := time.Now().Add(browsertest.ActionTimeout)
	for !eval[bool](t, tab, "(() => { const f = document.getElementById('lrs-sco'); return !!(f && f.contentWindow && f.contentWindow.sco && "+scoExpr+".ready); })()") {
		if time.Now().After(deadline) {
			t.Fatalf("the SCO in %s did not initialise the API; problems: %v", tab.URL(), tab.Problems())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var st struct{ Entry, SuspendData, Location string }
	if err := json.Unmarshal([]byte(eval[string](t, tab, "JSON.stringify({entry: "+scoExpr+".entry, suspendData: "+scoExpr+".suspendData, location: "+scoExpr+".location})")), &st); err != nil {
		t.Fatal(err)
	}
	return st.Entry, st.SuspendData, st.Location
}

// sco calls a function of the SCO and fails unless it returns "true" and
// the SCO saw no failing call.
func sco(t *testing.T, tab *browsertest.Tab, call string) {
	t.Helper()
	if got := eval[string](t, tab, scoExpr+"."+call); got != "true" {
		t.Fatalf("sco.%s = %q; errors %s", call, got, eval[string](t, tab, "JSON.stringify("+scoExpr+".errors)"))
	}
	if errs := eval[string](t, tab, "JSON.stringify("+scoExpr+".errors)"); errs != "[]" {
		t.Fatalf("sco.%s: failing API calls %s", call, errs)
	}
}

// checkPage checks the player page in the tab: no WCAG 2.1 A/AA
// violation, no console error or refused script or style.
func checkPage(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	tab.CheckAccessibility()
	if p := tab.Problems(); len(p) > 0 {
		t.Errorf("problems on %s: %v", tab.URL(), p)
	}
}

// verbsOf returns the verbs (last path segment) of the statements of a
// registration, oldest first, and the statements.
func (s *testServer) verbsOf(registration string) ([]string, []map[string]any) {
	s.t.Helper()
	r := s.do(req{method: "GET", path: "/xapi/statements?ascending=true&limit=100&registration=" + registration})
	expect(s.t, r, http.StatusOK)
	stmts, _ := r.result(s.t)
	var verbs []string
	for _, st := range stmts {
		id := st["verb"].(map[string]any)["id"].(string)
		verbs = append(verbs, id[strings.LastIndex(id, "/")+1:])
	}
	return verbs, stmts
}

// TestPlayerSCORM12InBrowser: Kari opens her link to the SCORM 1.2
// package; the SCO initialises the API of the player's window, answers a
// question and suspends with suspend data; she closes the tab, opens a
// new link: the SCO is entered with resume and its suspend data and
// location; she passes. The statements, the attempt's state and the
// compliance report say so; every page passes axe-core.
func TestPlayerSCORM12InBrowser(t *testing.T) {
	s, p := browserServer(t, openSQLite, packagetest.SCORM12(), "infosikkerhet", kariByEmail)
	b := browsertest.Start(t)
	l := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID))

	tab := b.NewTab(t)
	if status := tab.Open(l.URL); status != http.StatusOK {
		t.Fatalf("the launch link: %d", status)
	}
	if entry, data, _ := waitForSCO(t, tab); entry != "ab-initio" || data != "" {
		t.Errorf("first entry %q with suspend data %q", entry, data)
	}
	if v := eval[string](t, tab, scoExpr+".version"); v != "1.2" {
		t.Errorf("the SCO found the API of SCORM %s", v)
	}
	checkPage(t, tab)
	sco(t, tab, "answer('q1', 'b', true)")
	sco(t, tab, "suspend('side=3', 'kapittel-2')")
	if got := tab.Text("#lrs-status"); !strings.Contains(got, "lagret") && !strings.Contains(got, "saved") {
		t.Errorf("the status line after suspending: %q", got)
	}

	// The attempt's state holds the suspend data.
	q := url.Values{"activityId": {p.Launchables[0].ActivityID}, "agent": {`{"mbox":"mailto:kari@example.com"}`},
		"registration": {l.Registration}, "stateId": {scormrt.StateID}}
	r := s.do(req{method: "GET", path: "/xapi/activities/state?" + q.Encode()})
	expect(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"suspendData":"side=3"`) || !strings.Contains(string(r.body), `"suspended":true`) {
		t.Errorf("the attempt's state: %s", r.body)
	}
	if got := s.personStatus("1001"); got != "in-progress" {
		t.Errorf("Kari after suspending: %s", got)
	}

	// Closed; a new link resumes.
	tab = b.NewTab(t)
	l2 := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID))
	if l2.Registration != l.Registration {
		t.Fatalf("the second launch is another attempt: %+v", l2)
	}
	tab.Open(l2.URL)
	if entry, data, loc := waitForSCO(t, tab); entry != "resume" || data != "side=3" || loc != "kapittel-2" {
		t.Errorf("resumed with entry %q, suspend data %q, location %q", entry, data, loc)
	}
	checkPage(t, tab)
	sco(t, tab, "finish(0.9)")

	verbs, stmts := s.verbsOf(l.Registration)
	want := []string{"initialized", "responded", "suspended", "resumed", "completed", "passed", "scored", "terminated", "passed"}
	if !slices.Equal(verbs, want) {
		t.Errorf("statements of the attempt: %v, want %v", verbs, want)
	}
	last := stmts[len(stmts)-1]
	if last["object"].(map[string]any)["id"] != p.ActivityID {
		t.Errorf("the last statement is not the course's rollup: %v", last)
	}
	for _, st := range stmts {
		if st["actor"].(map[string]any)["mbox"] != "mailto:kari@example.com" {
			t.Errorf("a statement of someone else: %v", st)
		}
	}
	if got := s.personStatus("1001"); got != "completed" {
		t.Errorf("Kari after passing: %s", got)
	}

	// The page of a link that does not work is accessible too.
	tab = b.NewTab(t)
	if status := tab.Open(l.URL[:len(l.URL)-4] + "AAAA"); status != http.StatusForbidden {
		t.Errorf("a forged link: %d", status)
	}
	if h := tab.Text("h1"); h != "The course cannot be opened" && h != "Kurset kan ikke åpnes" {
		t.Errorf("the error page's heading: %q", h)
	}
	tab.CheckAccessibility()
}

// TestPlayerSCORM2004InBrowser: the two-SCO package: Kari completes the
// introduction, goes to the test through the table of contents, answers
// and suspends; a new link to the test resumes it; she passes, which rolls
// the course up and completes the module. Every page passes axe-core.
func TestPlayerSCORM2004InBrowser(t *testing.T) {
	s, p := browserServer(t, openSQLite, packagetest.SCORM2004(), "personvern", kariByEmail)
	b := browsertest.Start(t)
	l := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID))

	tab := b.NewTab(t)
	// A browser asking for Norwegian gets the page in Bokmål.
	if _, err := chromedp.Call(tab.Context(), network.SetExtraHTTPHeaders,
		network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "nb-NO,nb;q=0.9"}}); err != nil {
		t.Fatal(err)
	}
	tab.Open(l.URL)
	if entry, _, _ := waitForSCO(t, tab); entry != "ab-initio" {
		t.Errorf("the introduction's entry %q", entry)
	}
	if h := tab.Text("nav h2"); h != "Innhold" || tab.Attr("html", "lang") != "nb" {
		t.Errorf("the Norwegian page's table of contents is headed %q", h)
	}
	if v := eval[string](t, tab, scoExpr+".version"); v != "2004" {
		t.Errorf("the SCO found the API of SCORM %s", v)
	}
	checkPage(t, tab)
	sco(t, tab, "finish(1)")
	if got := s.personStatus("1001"); got != "in-progress" {
		t.Errorf("Kari after the introduction: %s", got)
	}

	tab.Click(`nav a[href$="sco=test"]`)
	if entry, _, _ := waitForSCO(t, tab); entry != "ab-initio" {
		t.Errorf("the test's entry %q", entry)
	}
	// The introduction's own script judged it passed (no mastery score).
	if got := tab.Text(`nav li:first-child .status`); got != "Bestått" {
		t.Errorf("the introduction's status in the table of contents: %q", got)
	}
	if got := tab.Attr(`nav a[aria-current="page"]`, "href"); !strings.HasSuffix(got, "sco=test") {
		t.Errorf("the current item: %q", got)
	}
	checkPage(t, tab)
	sco(t, tab, "answer('q1', 'a', false)")
	sco(t, tab, "suspend('svar=a', 'side-2')")

	tab = b.NewTab(t)
	l2 := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001","launchable":"test"}`, p.ID))
	tab.Open(l2.URL)
	if entry, data, loc := waitForSCO(t, tab); entry != "resume" || data != "svar=a" || loc != "side-2" {
		t.Errorf("the test resumed with entry %q, suspend data %q, location %q", entry, data, loc)
	}
	checkPage(t, tab)
	sco(t, tab, "finish(0.85)")

	verbs, stmts := s.verbsOf(l.Registration)
	if len(verbs) == 0 || verbs[len(verbs)-1] != "passed" || stmts[len(stmts)-1]["object"].(map[string]any)["id"] != p.ActivityID {
		t.Fatalf("statements of the attempt: %v", verbs)
	}
	for _, v := range []string{"initialized", "completed", "terminated", "responded", "suspended", "resumed", "passed"} {
		if !slices.Contains(verbs, v) {
			t.Errorf("no %s statement: %v", v, verbs)
		}
	}
	if got := s.personStatus("1001"); got != "completed" {
		t.Errorf("Kari after passing the test: %s", got)
	}
	// The player shows both SCOs done.
	tab = b.NewTab(t)
	tab.Open(s.URL + "/launch/" + strings.TrimPrefix(l2.URL, s.URL+"/launch/"))
	if n := tab.Count(`nav .status-completed, nav .status-passed`); n != 2 {
		t.Errorf("%d SCOs shown done", n)
	}
}

// TestPlayerCommitOnUnloadInBrowser: a SCO that suspends only as its page
// goes away (LMSFinish in its pagehide handler, when Chromium refuses the
// runtime's synchronous request) still has its data stored: the runtime
// sends that last commit with a keepalive request that outlives the page.
// The next launch resumes from it.
func TestPlayerCommitOnUnloadInBrowser(t *testing.T) {
	s, p := browserServer(t, openSQLite, packagetest.SCORM12(), "infosikkerhet", kariByEmail)
	b := browsertest.Start(t)
	l := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID))

	tab := b.NewTab(t)
	tab.Open(l.URL)
	waitForSCO(t, tab)
	sco(t, tab, "answer('q1', 'b', true)")
	sco(t, tab, "suspendOnUnload('side=9', 'kapittel-3')")
	tab.Open(s.URL + "/xapi/about") // the learner leaves the course

	q := url.Values{"activityId": {p.Launchables[0].ActivityID}, "agent": {`{"mbox":"mailto:kari@example.com"}`},
		"registration": {l.Registration}, "stateId": {scormrt.StateID}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := s.do(req{method: "GET", path: "/xapi/activities/state?" + q.Encode()})
		if r.status == http.StatusOK && strings.Contains(string(r.body), `"suspendData":"side=9"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the commit made as the page went away was not stored: %d %s", r.status, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if verbs, _ := s.verbsOf(l.Registration); !slices.Equal(verbs, []string{"initialized", "responded", "suspended"}) {
		t.Errorf("statements of the attempt: %v", verbs)
	}
	tab = b.NewTab(t)
	tab.Open(s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID)).URL)
	if entry, data, loc := waitForSCO(t, tab); entry != "resume" || data != "side=9" || loc != "kapittel-3" {
		t.Errorf("resumed with entry %q, suspend data %q, location %q", entry, data, loc)
	}
}
