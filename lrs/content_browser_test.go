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

	"github.com/chromedp/chromedp"

	"github.com/xapi-lrs/lrs/internal/browsertest"
	"github.com/xapi-lrs/lrs/packages/packagetest"
)

// The end-to-end tests of content that talks xAPI itself, cmi5 AUs and Tin
// Can courses: the real server, a real Chromium, the test packages' pages
// driving the LRS with their own scripts (packagetest.AUScript,
// TinCanScript), called as a learner's clicks would.

// awaitJS evaluates expr, a promise, in the tab's page and returns what it
// resolves to.
func awaitJS[T any](t *testing.T, tab *browsertest.Tab, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Context(), browsertest.ActionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %s: %v (page %s)", expr, err, tab.URL())
	}
	return v
}

// waitReady waits until the content's script object (window.au, window.tc)
// is ready, failing on the errors it saw.
func waitReady(t *testing.T, tab *browsertest.Tab, obj string) {
	t.Helper()
	deadline := time.Now().Add(browsertest.ActionTimeout)
	for !eval[bool](t, tab, "!!(window."+obj+" && "+obj+".ready)") {
		if errs := eval[string](t, tab, "JSON.stringify(window."+obj+" ? "+obj+".errors : [])"); errs != "[]" {
			t.Fatalf("the content at %s failed to start: %s", tab.URL(), errs)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the content at %s did not start; problems: %v", tab.URL(), tab.Problems())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// do calls a function of the content's script that resolves to "true", and
// fails the test otherwise.
func do(t *testing.T, tab *browsertest.Tab, obj, call string) {
	t.Helper()
	if got := awaitJS[string](t, tab, obj+"."+call); got != "true" {
		t.Fatalf("%s.%s = %s; errors %s", obj, call, got, eval[string](t, tab, "JSON.stringify("+obj+".errors)"))
	}
}

// launchParam is a launch parameter of the page the tab shows.
func launchParam(t *testing.T, tab *browsertest.Tab, name string) string {
	t.Helper()
	u, err := url.Parse(tab.URL())
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get(name)
}

// sessionOf is the cmi5 session id of a statement.
func sessionOf(st map[string]any) any {
	ext, _ := st["context"].(map[string]any)["extensions"].(map[string]any)
	return ext[sessionX]
}

// TestCMI5InBrowser: Kari opens her link to the cmi5 course; the first
// AU's own page reads the launch parameters, fetches its auth-token (a
// second fetch is refused), reads LMS.LaunchData and her preferences, and
// sends initialized, completed, passed and terminated: the LRS recorded
// launched before, and satisfies nothing yet. She opens the second AU,
// completes it and closes the window without terminating; a new link to
// it abandons that session; she passes and terminates: the block and then
// the course are satisfied, and the status report shows the module
// completed. Every page passes axe-core.
func TestCMI5InBrowser(t *testing.T) { onBackends(t, testCMI5InBrowser) }

func testCMI5InBrowser(t *testing.T, open opener) {
	s, p := browserServer(t, open, packagetest.CMI5(), "beredskap", kariByAccount)
	b := browsertest.Start(t)
	l := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID))

	tab := b.NewTab(t)
	if status := tab.Open(l.URL); status != http.StatusOK {
		t.Fatalf("the launch link: %d", status)
	}
	waitReady(t, tab, "au")
	checkPage(t, tab)
	activity := launchParam(t, tab, "activityId")
	var ld struct {
		LaunchMode, MoveOn string
		MasteryScore       float64
		ContextTemplate    map[string]any
	}
	if err := json.Unmarshal([]byte(eval[string](t, tab, "JSON.stringify(au.launchData)")), &ld); err != nil {
		t.Fatal(err)
	}
	if ld.LaunchMode != "Normal" || ld.MoveOn != "CompletedAndPassed" || ld.MasteryScore != 0.75 || !strings.Contains(asJSON(ld.ContextTemplate), au1) {
		t.Errorf("LMS.LaunchData as the AU read it: %+v", ld)
	}
	if got := eval[string](t, tab, "au.preferences.languagePreference"); got == "" {
		t.Error("the AU read no language preference")
	}
	if got := awaitJS[string](t, tab, "au.refetch()"); !strings.Contains(got, `"error-code":"1"`) || strings.Contains(got, "auth-token") {
		t.Errorf("the fetch URL a second time: %s", got)
	}
	launched := s.byVerb(l.Registration, "launched")
	if len(launched) != 1 || launched[0]["object"].(map[string]any)["id"] != activity || sessionOf(launched[0]) != ld.ContextTemplate["extensions"].(map[string]any)[sessionX] {
		t.Fatalf("launched statements: %v", launched)
	}
	do(t, tab, "au", "complete()")
	do(t, tab, "au", "pass(0.8)")
	do(t, tab, "au", "terminate()")
	if sat := s.byVerb(l.Registration, "satisfied"); len(sat) != 0 {
		t.Errorf("satisfied with one AU of two: %v", sat)
	}
	if got := s.personStatus("1001"); got != "in-progress" {
		t.Errorf("Kari after the first AU: %s", got)
	}

	// The second AU: completed, then the window is closed.
	tab = b.NewTab(t)
	tab.Open(s.launch(fmt.Sprintf(`{"package":%q,"person":"1001","launchable":%q}`, p.ID, au2)).URL)
	waitReady(t, tab, "au")
	first := eval[string](t, tab, "au.launchData.contextTemplate.extensions['"+sessionX+"']")
	do(t, tab, "au", "complete()")
	if ab := s.byVerb(l.Registration, "abandoned"); len(ab) != 0 {
		t.Fatalf("abandoned before the relaunch: %v", ab)
	}

	tab = b.NewTab(t)
	tab.Open(s.launch(fmt.Sprintf(`{"package":%q,"person":"1001","launchable":%q}`, p.ID, au2)).URL)
	waitReady(t, tab, "au")
	checkPage(t, tab)
	ab := s.byVerb(l.Registration, "abandoned")
	if len(ab) != 1 || sessionOf(ab[0]) != first || ab[0]["result"].(map[string]any)["duration"] == nil {
		t.Fatalf("abandoned statements after the relaunch: %v", ab)
	}
	second := eval[string](t, tab, "au.launchData.contextTemplate.extensions['"+sessionX+"']")
	do(t, tab, "au", "pass(0.9)")
	do(t, tab, "au", "terminate()")

	sat := s.byVerb(l.Registration, "satisfied")
	if len(sat) != 2 || !strings.Contains(asJSON(sat[0]), block2) || !strings.Contains(asJSON(sat[1]), courseID) ||
		sessionOf(sat[0]) != second || sessionOf(sat[1]) != second {
		t.Fatalf("satisfied statements: %v", sat)
	}
	verbs, stmts := s.verbsOf(l.Registration)
	want := []string{"launched", "initialized", "completed", "passed", "terminated", // AU 1
		"launched", "initialized", "completed", "abandoned", // AU 2, first session
		"launched", "initialized", "passed", "satisfied", "satisfied", "terminated"} // AU 2, second session
	if !slices.Equal(verbs, want) {
		t.Errorf("statements of the registration: %v, want %v", verbs, want)
	}
	for _, st := range stmts {
		if acc := st["actor"].(map[string]any)["account"].(map[string]any); acc["name"] != "kari" {
			t.Errorf("a statement of someone else: %v", st)
		}
	}
	if got := s.personStatus("1001"); got != "completed" {
		t.Errorf("Kari after both AUs: %s", got)
	}
}

// TestTinCanInBrowser: Kari opens her link to the Tin Can package; its
// page reads the launch parameters and sends its statements and bookmark
// with the launch's credentials, which write as Kari only; a new link
// continues the attempt (the same registration, the bookmark read back);
// she finishes, and the status report shows the module completed. Every
// page passes axe-core.
func TestTinCanInBrowser(t *testing.T) {
	s, p := browserServer(t, openSQLite, packagetest.TinCan(), "varsling", kariByEmail)
	b := browsertest.Start(t)
	l := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID))

	tab := b.NewTab(t)
	if status := tab.Open(l.URL); status != http.StatusOK {
		t.Fatalf("the launch link: %d", status)
	}
	waitReady(t, tab, "tc")
	if got := launchParam(t, tab, "activity_id"); got != p.ActivityID || launchParam(t, tab, "registration") != l.Registration {
		t.Errorf("launched with activity_id %q", got)
	}
	if got := eval[string](t, tab, "JSON.stringify(tc.bookmark)"); got != "null" {
		t.Errorf("a bookmark before the first session: %s", got)
	}
	do(t, tab, "tc", "experience()")
	do(t, tab, "tc", `save({"side": 2})`)
	tab.CheckAccessibility()
	for _, p := range tab.Problems() { // the browser reports the 404 of the bookmark not yet saved
		if !strings.Contains(p, "404") || !strings.Contains(p, "stateId=bookmark") {
			t.Errorf("a problem on the page: %s", p)
		}
	}
	if got := awaitJS[string](t, tab, "tc.sendAs('mailto:ola@example.com')"); got != "403" {
		t.Errorf("a statement of someone else: %s", got)
	}
	if got := s.personStatus("1001"); got != "in-progress" {
		t.Errorf("Kari after the first session: %s", got)
	}

	l2 := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID))
	if l2.Registration != l.Registration || !l2.Resumed {
		t.Fatalf("the second launch is another attempt: %+v", l2)
	}
	tab = b.NewTab(t)
	tab.Open(l2.URL)
	waitReady(t, tab, "tc")
	if got := eval[string](t, tab, "JSON.stringify(tc.bookmark)"); got != `{"side":2}` {
		t.Errorf("the bookmark the second session read: %s", got)
	}
	do(t, tab, "tc", "finish(0.9)")
	checkPage(t, tab)

	verbs, stmts := s.verbsOf(l.Registration)
	if want := []string{"attempted", "experienced", "attempted", "completed", "passed"}; !slices.Equal(verbs, want) {
		t.Errorf("statements of the attempt: %v, want %v", verbs, want)
	}
	for _, st := range stmts {
		auth := st["authority"].(map[string]any)["account"].(map[string]any)
		if st["actor"].(map[string]any)["mbox"] != "mailto:kari@example.com" || auth["name"] != "launch:"+l.Registration {
			t.Errorf("a statement not by Kari's launch: %v", st)
		}
	}
	if got := s.personStatus("1001"); got != "completed" {
		t.Errorf("Kari after finishing: %s", got)
	}
	// The course is done: the next link starts a new attempt.
	if l3 := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID)); l3.Registration == l.Registration {
		t.Errorf("the launch after the course was completed kept its registration")
	}
}
