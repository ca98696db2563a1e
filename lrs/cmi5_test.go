package lrs_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/launch"
	"github.com/xapi-lrs/lrs/packages/packagetest"
)

// cmi5 IRIs of the tests.
const (
	courseID  = "https://lrs.example/kurs/beredskap"
	au1       = "https://lrs.example/kurs/beredskap/au/1"
	au2       = "https://lrs.example/kurs/beredskap/au/2"
	block2    = "https://lrs.example/kurs/beredskap/blokk/2"
	moveOnCat = "https://w3id.org/xapi/cmi5/context/categories/moveon"
	sessionX  = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
)

// au is an AU launched by the LRS, as the AU sees it: its launch
// parameters and, once fetched, its auth-token.
type au struct {
	s                                                *testServer
	launchURL                                        *url.URL
	endpoint, fetch, registration, activityID, token string
	actor                                            map[string]any
	template                                         map[string]any
}

// launchAU opens the cmi5 launch link l, as a browser does, and returns
// the AU's launch parameters.
func (s *testServer) launchAU(l launched) *au {
	s.t.Helper()
	r := s.do(req{method: "GET", path: strings.TrimPrefix(l.URL, "https://lrs.test"), noAuth: true, version: "-", noFollow: true,
		header: map[string]string{"Accept-Language": "nb-NO,nb;q=0.9,en;q=0.5"}})
	expect(s.t, r, http.StatusSeeOther)
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		s.t.Fatal(err)
	}
	q := u.Query()
	a := &au{s: s, launchURL: u, endpoint: q.Get("endpoint"), fetch: q.Get("fetch"), registration: q.Get("registration"), activityID: q.Get("activityId")}
	if err := json.Unmarshal([]byte(q.Get("actor")), &a.actor); err != nil {
		s.t.Fatalf("actor %q: %v", q.Get("actor"), err)
	}
	return a
}

// fetchToken posts to the fetch URL and returns its answer.
func (a *au) fetchToken() map[string]string {
	a.s.t.Helper()
	r := a.s.do(req{method: "POST", path: strings.TrimPrefix(a.fetch, "https://lrs.test"), noAuth: true, version: "-"})
	expect(a.s.t, r, http.StatusOK)
	var out map[string]string
	r.json(a.s.t, &out)
	if r.header.Get("Content-Type") != "application/json" {
		a.s.t.Errorf("fetch answered %s", r.header.Get("Content-Type"))
	}
	return out
}

// initialize fetches the auth-token and reads LMS.LaunchData, as an AU
// starts.
func (a *au) initialize() {
	a.s.t.Helper()
	got := a.fetchToken()
	if got["auth-token"] == "" {
		a.s.t.Fatalf("fetch: %v", got)
	}
	a.token = got["auth-token"]
	r := a.xapi("GET", a.stateURL(launch.LaunchDataID), nil)
	expect(a.s.t, r, http.StatusOK)
	var ld map[string]any
	r.json(a.s.t, &ld)
	a.template = ld["contextTemplate"].(map[string]any)
}

// xapi makes an xAPI request with the AU's auth-token.
func (a *au) xapi(method, path string, body any) *response {
	return a.s.do(req{method: method, path: path, noAuth: true, body: body, version: "1.0.3",
		header: map[string]string{"Authorization": "Basic " + a.token}})
}

func (a *au) stateURL(id string) string {
	actor, _ := json.Marshal(a.actor)
	return "/xapi/activities/state?activityId=" + url.QueryEscape(a.activityID) + "&agent=" + url.QueryEscape(string(actor)) +
		"&registration=" + a.registration + "&stateId=" + url.QueryEscape(id)
}

// statement is a cmi5 defined statement of the AU with its context
// template (and the moveon category for a result with success or
// completion).
func (a *au) statement(verb string, result map[string]any) map[string]any {
	ctx := map[string]any{"registration": a.registration, "contextActivities": map[string]any{
		"grouping": a.template["contextActivities"].(map[string]any)["grouping"],
		"category": []any{map[string]any{"id": cmi5Cat}}}, "extensions": a.template["extensions"]}
	if result["success"] != nil || result["completion"] != nil {
		ctx["contextActivities"].(map[string]any)["category"] = []any{map[string]any{"id": cmi5Cat}, map[string]any{"id": moveOnCat}}
	}
	st := map[string]any{"actor": a.actor, "verb": map[string]any{"id": "http://adlnet.gov/expapi/verbs/" + verb},
		"object": map[string]any{"id": a.activityID}, "context": ctx}
	if result != nil {
		st["result"] = result
	}
	return st
}

// send posts the AU's statements, expecting 200.
func (a *au) send(stmts ...map[string]any) {
	a.s.t.Helper()
	expect(a.s.t, a.xapi("POST", "/xapi/statements", stmts), http.StatusOK)
}

// byVerb returns the statements of the registration with the verb (its
// last segment), as the LMS reads them.
func (s *testServer) byVerb(registration, verb string) []map[string]any {
	s.t.Helper()
	id := "http://adlnet.gov/expapi/verbs/" + verb
	if verb == "satisfied" || verb == "abandoned" || verb == "waived" {
		id = "https://w3id.org/xapi/adl/verbs/" + verb
	}
	r := s.do(req{method: "GET", path: "/xapi/statements?ascending=true&registration=" + registration + "&verb=" + url.QueryEscape(id)})
	expect(s.t, r, http.StatusOK)
	stmts, _ := r.result(s.t)
	return stmts
}

func cmi5Server(t *testing.T, open opener) (*testServer, importedJSON) {
	s := newPackageServerOn(t, open)
	p := s.importPackage("content-hr", "?module=beredskap", packagetest.CMI5())
	expect(t, s.hr("PUT", "/api/v1/rules/alle", "application/json", `{"role":"ansatt","modules":["beredskap"]}`), http.StatusCreated)
	expect(t, s.hr("POST", "/api/v1/roster/imports", "application/json", `{"people":[
		{"id":"1001","name":"Kari Nordmann","identifiers":[{"account":{"homePage":"https://portal.example","name":"kari"}}],"roles":[{"id":"ansatt"}]}]}`),
		http.StatusCreated)
	return s, p
}

// TestLaunchCMI5: the LRS launches the AUs of a cmi5 course as an LMS:
// the launch parameters, launched before the launch, LMS.LaunchData and
// the learner preferences, a one-time fetch URL whose auth-token writes
// and reads the learner's statements and documents of that registration
// and AU only; the AUs' completions and passes satisfy the block and the
// course (publisher ids in the grouping), which completes the module; a
// terminated session writes no more; the next launch is a new
// registration.
func TestLaunchCMI5(t *testing.T) { onBackends(t, testLaunchCMI5) }

func testLaunchCMI5(t *testing.T, open opener) {
	s, p := cmi5Server(t, open)
	l := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001","returnUrl":"https://portal.example/kurs"}`, p.ID))
	if l.Launchable != au1 {
		t.Fatalf("launch %+v", l)
	}
	a := s.launchAU(l)
	lq := a.launchURL.Query()
	if a.launchURL.Host != "lrs.test" || !strings.HasPrefix(a.launchURL.Path, "/launch/l1.") || !strings.HasSuffix(a.launchURL.Path, "/content/au1/index.html") ||
		lq.Get("del") != "1" || a.endpoint != "https://lrs.test/xapi/" || !strings.HasSuffix(a.fetch, "/fetch") ||
		a.registration != l.Registration || a.actor["account"].(map[string]any)["name"] != "kari" ||
		!strings.HasPrefix(a.activityID, "https://lrs.test/activities/cmi5/default/"+p.ID+"/au/") || a.activityID == au1 {
		t.Fatalf("launch URL %s", a.launchURL)
	}

	// Before the launch: launched, LMS.LaunchData, the preferences.
	launchedStmts := s.byVerb(l.Registration, "launched")
	if len(launchedStmts) != 1 {
		t.Fatalf("%d launched statements", len(launchedStmts))
	}
	ctx := launchedStmts[0]["context"].(map[string]any)
	ext := ctx["extensions"].(map[string]any)
	session := ext[sessionX].(string)
	if launchedStmts[0]["object"].(map[string]any)["id"] != a.activityID || ext["https://w3id.org/xapi/cmi5/context/extensions/launchmode"] != "Normal" ||
		ext["https://w3id.org/xapi/cmi5/context/extensions/moveon"] != "CompletedAndPassed" ||
		ext["https://w3id.org/xapi/cmi5/context/extensions/masteryscore"] != 0.75 ||
		ext["https://w3id.org/xapi/cmi5/context/extensions/launchparameters"] != `{"tema":"brann"}` ||
		ext["https://w3id.org/xapi/cmi5/context/extensions/launchurl"] != "https://lrs.test"+a.launchURL.Path ||
		!strings.Contains(asJSON(ctx["contextActivities"]), au1) || !strings.Contains(asJSON(ctx["contextActivities"]), cmi5Cat) {
		t.Errorf("launched %v", launchedStmts[0])
	}
	r := s.do(req{method: "GET", path: a.stateURL(launch.LaunchDataID)})
	expect(t, r, http.StatusOK)
	var ld map[string]any
	r.json(t, &ld)
	if ld["launchMode"] != "Normal" || ld["moveOn"] != "CompletedAndPassed" || ld["masteryScore"] != 0.75 || ld["launchMethod"] != "OwnWindow" ||
		ld["launchParameters"] != `{"tema":"brann"}` || ld["returnURL"] != "https://portal.example/kurs" ||
		!strings.Contains(asJSON(ld["contextTemplate"]), session) || !strings.Contains(asJSON(ld["contextTemplate"]), au1) {
		t.Errorf("LMS.LaunchData %v", ld)
	}
	actor, _ := json.Marshal(a.actor)
	prefURL := "/xapi/agents/profile?agent=" + url.QueryEscape(string(actor)) + "&profileId=" + launch.PreferencesID
	r = s.do(req{method: "GET", path: prefURL})
	if expect(t, r, http.StatusOK); !strings.Contains(string(r.body), `"languagePreference":"nb-NO,nb,en"`) {
		t.Errorf("preferences %s", r.body)
	}

	// The one-time fetch URL.
	if a.xapi("GET", "/xapi/statements", nil).status != http.StatusUnauthorized {
		t.Error("a request without the auth-token was let in")
	}
	a.initialize()
	if again := a.fetchToken(); again["error-code"] != "1" || again["auth-token"] != "" {
		t.Errorf("the fetch URL a second time: %v", again)
	}
	if forged := s.do(req{method: "POST", path: strings.TrimPrefix(a.fetch, "https://lrs.test")[:30] + "x/fetch", noAuth: true, version: "-"}); forged.status != 200 ||
		!strings.Contains(string(forged.body), `"error-code":"2"`) {
		t.Errorf("a forged fetch URL: %d %s", forged.status, forged.body)
	}
	if r := s.do(req{method: "GET", path: strings.TrimPrefix(a.fetch, "https://lrs.test"), noAuth: true, version: "-"}); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET of the fetch URL: %d", r.status)
	}
	// The launch URL (in a browser's history) holds no credential.
	content := strings.Split(a.launchURL.Path, "/")[2]
	if r := s.do(req{method: "GET", path: "/xapi/statements", noAuth: true,
		header: map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(content+":"))}}); r.status != http.StatusUnauthorized {
		t.Errorf("the content token as credentials: %d", r.status)
	}
	if c := s.page(a.launchURL.RequestURI(), ""); c.status != http.StatusOK || string(c.body) != packagetest.CMI5Files()["au1/index.html"] {
		t.Errorf("the AU's page: %d", c.status)
	}

	// The AU's statements and documents, within its registration and AU.
	a.send(a.statement("initialized", nil))
	other := a.statement("experienced", nil)
	other["context"].(map[string]any)["registration"] = "0c9d1f6e-7b7a-4a53-8f0e-2c6f0e4b9d11"
	elsewhere := a.statement("experienced", nil)
	elsewhere["object"] = map[string]any{"id": au2}
	delete(elsewhere, "context")
	for name, st := range map[string]map[string]any{"another registration": other, "another AU": elsewhere} {
		if r := a.xapi("POST", "/xapi/statements", st); r.status != http.StatusForbidden {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	expect(t, a.xapi("PUT", a.stateURL("bokmerke"), `{"side":2}`), http.StatusNoContent)
	expect(t, a.xapi("POST", prefURL, `{"audioPreference":"off"}`), http.StatusNoContent)
	for _, bad := range []struct{ method, path string }{
		{"PUT", a.stateURL(launch.LaunchDataID)},
		{"GET", strings.Replace(a.stateURL("bokmerke"), url.QueryEscape(a.activityID), url.QueryEscape(au1), 1)},
		{"GET", strings.Replace(a.stateURL("bokmerke"), a.registration, "0c9d1f6e-7b7a-4a53-8f0e-2c6f0e4b9d11", 1)},
		{"PUT", "/xapi/activities/profile?activityId=" + url.QueryEscape(a.activityID) + "&profileId=p"},
	} {
		if r := a.xapi(bad.method, bad.path, `{"x":1}`); r.status != http.StatusForbidden {
			t.Errorf("%s %s: %d %s", bad.method, bad.path, r.status, r.body)
		}
	}
	a.send(a.statement("completed", map[string]any{"completion": true, "duration": "PT1M"}),
		a.statement("passed", map[string]any{"success": true, "duration": "PT1M", "score": map[string]any{"scaled": 0.8}}))
	if sat := s.byVerb(l.Registration, "satisfied"); len(sat) != 0 {
		t.Errorf("satisfied with one AU of two: %v", sat)
	}
	if got := s.personStatus("1001"); got != "in-progress" {
		t.Errorf("Kari after the first AU: %s", got)
	}
	a.send(a.statement("terminated", map[string]any{"duration": "PT2M"}))
	expect(t, a.xapi("GET", a.stateURL("bokmerke"), nil), http.StatusOK) // within the grace
	s.clock.Set(time.Now().Add(launch.TerminatedGrace + time.Minute))
	if r := a.xapi("POST", "/xapi/statements", a.statement("experienced", nil)); r.status != http.StatusUnauthorized {
		t.Errorf("a statement after terminated: %d %s", r.status, r.body)
	}
	s.clock.Set(time.Time{})

	// The second AU, in its block.
	l2 := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001","launchable":%q}`, p.ID, au2))
	if l2.Registration != l.Registration || !l2.Resumed {
		t.Fatalf("the second AU's launch: %+v", l2)
	}
	b := s.launchAU(l2)
	b.initialize()
	if b.activityID == a.activityID || b.registration != a.registration {
		t.Errorf("the second AU's launch parameters: %s", b.launchURL)
	}
	b.send(b.statement("initialized", nil), b.statement("completed", map[string]any{"completion": true, "duration": "PT1M"}),
		b.statement("passed", map[string]any{"success": true, "duration": "PT1M"}))
	sat := s.byVerb(l.Registration, "satisfied")
	if len(sat) != 2 {
		t.Fatalf("satisfied statements: %v", sat)
	}
	for i, want := range []struct{ object, typ, publisher string }{
		{"https://lrs.test/activities/cmi5/default/" + p.ID + "/block/", "https://w3id.org/xapi/cmi5/activitytype/block", block2},
		{"https://lrs.test/activities/cmi5/default/" + p.ID, "https://w3id.org/xapi/cmi5/activitytype/course", courseID},
	} {
		obj := sat[i]["object"].(map[string]any)
		grouping := asJSON(sat[i]["context"].(map[string]any)["contextActivities"].(map[string]any)["grouping"])
		if !strings.HasPrefix(obj["id"].(string), want.object) || obj["definition"].(map[string]any)["type"] != want.typ ||
			!strings.Contains(grouping, want.publisher) || sat[i]["context"].(map[string]any)["extensions"].(map[string]any)[sessionX] == session {
			t.Errorf("satisfied %d: %v", i, sat[i])
		}
	}
	if got := s.personStatus("1001"); got != "completed" {
		t.Errorf("Kari after both AUs: %s", got)
	}
	// Once per registration.
	b.send(b.statement("terminated", map[string]any{"duration": "PT2M"}))
	if sat := s.byVerb(l.Registration, "satisfied"); len(sat) != 2 {
		t.Errorf("%d satisfied statements after another write", len(sat))
	}
	// The course is satisfied: a new registration.
	if l3 := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID)); l3.Registration == l.Registration || l3.Resumed {
		t.Errorf("the launch after the course was satisfied: %+v", l3)
	}
}

// TestCMI5Abandoned: a session the AU never terminated is abandoned when
// the AU is launched again in the registration, and, when its token
// expires, by the sweep; once each, with its session id and duration; an
// abandoned session's auth-token writes nothing more.
func TestCMI5Abandoned(t *testing.T) { onBackends(t, testCMI5Abandoned) }

func testCMI5Abandoned(t *testing.T, open opener) {
	s, p := cmi5Server(t, open)
	start := time.Now().UTC().Truncate(time.Second)
	s.clock.Set(start)
	l := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID))
	a := s.launchAU(l)
	a.initialize()
	s.clock.Set(start.Add(90 * time.Second))
	st := a.statement("initialized", nil)
	st["timestamp"] = start.Add(90 * time.Second).Format(time.RFC3339)
	a.send(st)
	sessionA := a.template["extensions"].(map[string]any)[sessionX]

	s.clock.Set(start.Add(5 * time.Minute))
	b := s.launchAU(s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID)))
	ab := s.byVerb(l.Registration, "abandoned")
	if len(ab) != 1 || ab[0]["context"].(map[string]any)["extensions"].(map[string]any)[sessionX] != sessionA ||
		ab[0]["object"].(map[string]any)["id"] != a.activityID || ab[0]["result"].(map[string]any)["duration"] != "PT0H1M30S" {
		t.Fatalf("abandoned statements after the relaunch: %v", ab)
	}
	if r := a.xapi("POST", "/xapi/statements", a.statement("experienced", nil)); r.status != http.StatusUnauthorized {
		t.Errorf("the abandoned session wrote: %d %s", r.status, r.body)
	}
	if got := a.fetchToken(); got["error-code"] != "1" {
		t.Errorf("the abandoned session's fetch URL: %v", got)
	}
	b.initialize()
	b.send(b.statement("initialized", nil))

	// The sweep leaves live sessions alone, and abandons expired ones once.
	ctx := context.Background()
	if n, err := s.svc.SweepAbandonedSessions(ctx); err != nil || n != 0 {
		t.Errorf("sweep of a live session: %d, %v", n, err)
	}
	s.clock.Set(start.Add(launch.SessionTTL + 10*time.Minute))
	if n, err := s.svc.SweepAbandonedSessions(ctx); err != nil || n != 1 {
		t.Errorf("sweep after the session expired: %d, %v", n, err)
	}
	if n, err := s.svc.SweepAbandonedSessions(ctx); err != nil || n != 0 {
		t.Errorf("sweep again: %d, %v", n, err)
	}
	if ab := s.byVerb(l.Registration, "abandoned"); len(ab) != 2 {
		t.Errorf("%d abandoned statements", len(ab))
	}
	// A session that terminated is not abandoned.
	s.clock.Set(start.Add(launch.SessionTTL + time.Hour))
	c := s.launchAU(s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID)))
	c.initialize()
	c.send(c.statement("initialized", nil), c.statement("terminated", map[string]any{"duration": "PT1S"}))
	s.clock.Set(start.Add(2*launch.SessionTTL + 2*time.Hour))
	if n, err := s.svc.SweepAbandonedSessions(ctx); err != nil || n != 0 {
		t.Errorf("sweep of a terminated session: %d, %v", n, err)
	}
}

// TestCMI5Waiver: an AU waived through the API counts as meeting its
// moveOn: with the other AU done, the block and the course are
// satisfied; a second waiver of the AU is a conflict; bad waivers are 4xx.
func TestCMI5Waiver(t *testing.T) { onBackends(t, testCMI5Waiver) }

func testCMI5Waiver(t *testing.T, open opener) {
	s, p := cmi5Server(t, open)
	r := s.do(req{method: "POST", path: "/api/v1/waivers", key: "launcher",
		body: fmt.Sprintf(`{"package":%q,"launchable":%q,"person":"1001","reason":"Tested Out"}`, p.ID, au2)})
	expect(t, r, http.StatusCreated)
	var w struct {
		Registration, Statement string
		Satisfied               []string
	}
	r.json(t, &w)
	if len(w.Satisfied) != 1 { // the block; the course waits for the first AU
		t.Errorf("waiver: %s", r.body)
	}
	waived := s.get(w.Statement)
	res := waived["result"].(map[string]any)
	if waived["verb"].(map[string]any)["id"] != "https://w3id.org/xapi/adl/verbs/waived" || res["success"] != true || res["completion"] != true ||
		res["extensions"].(map[string]any)["https://w3id.org/xapi/cmi5/result/extensions/reason"] != "Tested Out" ||
		!strings.Contains(asJSON(waived["context"]), moveOnCat) || !strings.Contains(asJSON(waived["context"]), au2) {
		t.Errorf("waived %v", waived)
	}
	r = s.do(req{method: "POST", path: "/api/v1/waivers", key: "launcher",
		body: fmt.Sprintf(`{"package":%q,"launchable":%q,"person":"1001","reason":"Administrative"}`, p.ID, au2)})
	expect(t, r, http.StatusConflict)

	a := s.launchAU(s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID)))
	if a.registration != w.Registration {
		t.Errorf("the launch after the waiver is another attempt")
	}
	a.initialize()
	a.send(a.statement("initialized", nil), a.statement("completed", map[string]any{"completion": true, "duration": "PT1M"}),
		a.statement("passed", map[string]any{"success": true, "duration": "PT1M"}))
	if sat := s.byVerb(w.Registration, "satisfied"); len(sat) != 2 {
		t.Errorf("%d satisfied statements", len(sat))
	}
	if got := s.personStatus("1001"); got != "completed" {
		t.Errorf("Kari: %s", got)
	}

	scormPkg := s.importPackage("content", "", packagetest.SCORM12())
	for _, tt := range []struct {
		body   string
		status int
	}{
		{fmt.Sprintf(`{"package":%q,"launchable":%q,"person":"1001"}`, p.ID, au1), 400},
		{fmt.Sprintf(`{"package":%q,"person":"1001","reason":"x"}`, p.ID), 400},
		{fmt.Sprintf(`{"package":%q,"launchable":"https://x.example/nope","person":"1001","reason":"x"}`, p.ID), 400},
		{fmt.Sprintf(`{"package":%q,"launchable":"sco-1","person":"1001","reason":"x"}`, scormPkg.ID), 400},
		{fmt.Sprintf(`{"package":%q,"launchable":%q,"person":"9999","reason":"x"}`, p.ID, au1), 404},
		{`{"reason":"x"}`, 400},
		{fmt.Sprintf(`{"package":%q,"launchable":%q,"person":"1001","reason":"x","returnUrl":"https://x.example"}`, p.ID, au1), 400},
	} {
		r := s.do(req{method: "POST", path: "/api/v1/waivers", key: "launcher", body: tt.body})
		if r.status != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.body, r.status, r.body, tt.status)
		}
		r.errorKind(t)
	}
}

// asJSON is the JSON of v, to look for values in.
func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// refused posts the AU's statements and checks that the LRS refuses them
// with a 400 naming the rule.
func (a *au) refused(name, rule string, stmts ...map[string]any) {
	a.s.t.Helper()
	r := a.xapi("POST", "/xapi/statements", stmts)
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"rule":"`+rule+`"`) {
		a.s.t.Errorf("%s: %d %s, want 400 %s", name, r.status, r.body, rule)
	}
}

// TestCMI5Learner: a cmi5 learner is an Agent with an account (cmi5
// section 9.2): a launch or waiver for an Agent without one is a 400, and
// a roster person is launched by their account, though they have an
// e-mail address too.
func TestCMI5Learner(t *testing.T) { onBackends(t, testCMI5Learner) }

func testCMI5Learner(t *testing.T, open opener) {
	s, p := cmi5Server(t, open)
	expect(t, s.hr("POST", "/api/v1/roster/imports", "application/json", `{"people":[
		{"id":"1002","name":"Ola Nordmann","email":"ola@example.com","roles":[{"id":"ansatt"}]},
		{"id":"1003","name":"Nils Nordmann","email":"nils@example.com","identifiers":[{"account":{"homePage":"https://portal.example","name":"nils"}}],"roles":[{"id":"ansatt"}]}]}`),
		http.StatusCreated)
	for _, body := range []string{
		fmt.Sprintf(`{"package":%q,"agent":{"mbox":"mailto:kari@example.com"}}`, p.ID),
		fmt.Sprintf(`{"package":%q,"person":"1002"}`, p.ID),
	} {
		for _, path := range []string{"/api/v1/launches", "/api/v1/waivers"} {
			if path == "/api/v1/waivers" {
				body = strings.Replace(body, "{", fmt.Sprintf(`{"launchable":%q,"reason":"Administrative",`, au1), 1)
			}
			r := s.do(req{method: "POST", path: path, key: "launcher", body: body})
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"rule":"cmi5-actor"`) || !strings.Contains(string(r.body), "account") {
				t.Errorf("%s %s: %d %s", path, body, r.status, r.body)
			}
		}
	}
	a := s.launchAU(s.launch(fmt.Sprintf(`{"package":%q,"person":"1003"}`, p.ID)))
	if acc, _ := a.actor["account"].(map[string]any); acc["name"] != "nils" || a.actor["mbox"] != nil {
		t.Errorf("Nils launched as %v", a.actor)
	}
	// A SCORM launch of the same person is by e-mail address, as before.
	scormPkg := s.importPackage("content", "", packagetest.SCORM12())
	l := s.launch(fmt.Sprintf(`{"package":%q,"person":"1003"}`, scormPkg.ID))
	in, _ := playerInit(t, s.page(l.URL, ""))
	if in.LearnerID != "nils@example.com" {
		t.Errorf("Nils in SCORM: %q", in.LearnerID)
	}
}

// TestCMI5LaunchMode: a cmi5 AU launched in Review (or Browse) mode gets
// that launchMode in LMS.LaunchData and the launched statement, and may
// send initialized and terminated only: no completion or pass counts
// towards moveOn, nor do cmi5 allowed ones (without the cmi5 category).
// launchMode is for cmi5 packages, and one of three.
func TestCMI5LaunchMode(t *testing.T) { onBackends(t, testCMI5LaunchMode) }

func testCMI5LaunchMode(t *testing.T, open opener) {
	s, p := cmi5Server(t, open)
	scormPkg := s.importPackage("content", "", packagetest.SCORM12())
	for _, body := range []string{
		fmt.Sprintf(`{"package":%q,"person":"1001","launchMode":"Sideways"}`, p.ID),
		fmt.Sprintf(`{"package":%q,"person":"1001","launchMode":"review"}`, p.ID),
		fmt.Sprintf(`{"package":%q,"person":"1001","launchMode":"Review"}`, scormPkg.ID),
	} {
		r := s.do(req{method: "POST", path: "/api/v1/launches", key: "launcher", body: body})
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"path":"launchMode"`) {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
	l := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001","launchMode":"Review"}`, p.ID))
	a := s.launchAU(l)
	launched := s.byVerb(l.Registration, "launched")
	if len(launched) != 1 || launched[0]["context"].(map[string]any)["extensions"].(map[string]any)["https://w3id.org/xapi/cmi5/context/extensions/launchmode"] != "Review" {
		t.Errorf("launched in Review mode: %v", launched)
	}
	a.initialize()
	r := a.xapi("GET", a.stateURL(launch.LaunchDataID), nil)
	if !strings.Contains(string(r.body), `"launchMode":"Review"`) {
		t.Errorf("LMS.LaunchData in Review mode: %s", r.body)
	}
	a.send(a.statement("initialized", nil))
	a.refused("completed in Review mode", "cmi5-launch-mode", a.statement("completed", map[string]any{"completion": true, "duration": "PT1M"}))
	a.refused("passed in Review mode", "cmi5-launch-mode", a.statement("passed", map[string]any{"success": true, "duration": "PT1M"}))
	a.send(a.statement("terminated", map[string]any{"duration": "PT2M"}))
	if got := s.byVerb(l.Registration, "completed"); len(got) != 0 {
		t.Errorf("completed in Review mode: %v", got)
	}

	// Browse mode, then Normal: the same registration; only Normal
	// completes. Completions without the cmi5 category (cmi5 allowed
	// statements) are stored, and count for nothing.
	b := s.launchAU(s.launch(fmt.Sprintf(`{"package":%q,"person":"1001","launchMode":"Browse","launchable":%q}`, p.ID, au2)))
	b.initialize()
	b.send(b.statement("initialized", nil))
	b.refused("completed in Browse mode", "cmi5-launch-mode", b.statement("completed", map[string]any{"completion": true, "duration": "PT1M"}))
	for _, verb := range []string{"completed", "passed"} {
		st := b.statement(verb, nil)
		st["context"].(map[string]any)["contextActivities"].(map[string]any)["category"] = []any{}
		b.send(st)
	}
	for i, id := range []string{au1, au2} {
		n := s.launchAU(s.launch(fmt.Sprintf(`{"package":%q,"person":"1001","launchMode":"Normal","launchable":%q}`, p.ID, id)))
		n.initialize()
		if n.registration != l.Registration {
			t.Errorf("the Normal launch is another registration")
		}
		n.send(n.statement("initialized", nil), n.statement("completed", map[string]any{"completion": true, "duration": "PT1M"}),
			n.statement("passed", map[string]any{"success": true, "duration": "PT1M", "score": map[string]any{"scaled": 0.9}}))
		if sat := s.byVerb(l.Registration, "satisfied"); len(sat) != 2*i {
			t.Errorf("%d satisfied statements after %d Normal sessions", len(sat), i+1)
		}
	}

	// The course is satisfied: a Review launch looks at that registration;
	// a Normal launch starts the next attempt.
	if r := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001","launchMode":"Review"}`, p.ID)); r.Registration != l.Registration {
		t.Errorf("a Review launch after the course was satisfied started registration %s, not %s", r.Registration, l.Registration)
	}
	if r := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID)); r.Registration == l.Registration {
		t.Errorf("a Normal launch after the course was satisfied kept the satisfied registration")
	}
}

// TestCMI5StatementRules: the LRS refuses, with a 400 naming the rule, the
// statements of an AU that break cmi5's rules (sections 9.3 to 9.6): the
// LMS's verbs, no session id, anything before initialized, verbs cmi5
// does not define with its category, results against section 9.5, a pass
// below the masteryScore, a failure at or above it, a verb twice in a
// session, and completed or passed twice in a registration, or failed
// after passed; cmi5 allowed statements pass.
func TestCMI5StatementRules(t *testing.T) { onBackends(t, testCMI5StatementRules) }

func testCMI5StatementRules(t *testing.T, open opener) {
	s, p := cmi5Server(t, open)
	l := s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID))
	a := s.launchAU(l)
	a.initialize()
	allowed := func(a *au, verb string) map[string]any {
		st := a.statement(verb, nil)
		st["verb"] = map[string]any{"id": "http://adlnet.gov/expapi/verbs/" + verb}
		delete(st["context"].(map[string]any)["contextActivities"].(map[string]any), "category")
		return st
	}
	with := func(st map[string]any, edit func(st map[string]any)) map[string]any {
		edit(st)
		return st
	}
	a.refused("before initialized", "cmi5-initialized-first", allowed(a, "experienced"))
	a.refused("satisfied by the AU", "cmi5-lms-verb", with(a.statement("initialized", nil), func(st map[string]any) {
		st["verb"] = map[string]any{"id": "https://w3id.org/xapi/adl/verbs/satisfied"}
	}))
	a.refused("no session id", "cmi5-session", with(a.statement("initialized", nil), func(st map[string]any) {
		delete(st["context"].(map[string]any), "extensions")
	}))
	a.send(a.statement("initialized", nil), allowed(a, "experienced"))
	a.refused("initialized twice", "cmi5-verb-order", a.statement("initialized", nil))
	a.refused("a verb cmi5 does not define", "cmi5-verb", a.statement("experienced", nil))
	a.refused("another object", "cmi5-object", with(a.statement("completed", map[string]any{"completion": true, "duration": "PT1M"}), func(st map[string]any) {
		st["object"] = map[string]any{"id": au1}
	}))
	for _, tt := range []struct {
		name, verb string
		result     map[string]any
	}{
		{"completed without duration", "completed", map[string]any{"completion": true}},
		{"completed with a score", "completed", map[string]any{"completion": true, "duration": "PT1M", "score": map[string]any{"scaled": 1}}},
		{"completed not complete", "completed", map[string]any{"completion": false, "duration": "PT1M"}},
		{"passed without success", "passed", map[string]any{"duration": "PT1M"}},
		{"passed below the masteryScore", "passed", map[string]any{"success": true, "duration": "PT1M", "score": map[string]any{"scaled": 0.5}}},
		{"failed at the masteryScore", "failed", map[string]any{"success": false, "duration": "PT1M", "score": map[string]any{"scaled": 0.75}}},
		{"terminated with success", "terminated", map[string]any{"success": true, "duration": "PT1M"}},
	} {
		a.refused(tt.name, "cmi5-result", a.statement(tt.verb, tt.result))
	}
	a.refused("terminated with the moveon category", "cmi5-result", with(a.statement("terminated", map[string]any{"duration": "PT1M"}), func(st map[string]any) {
		ca := st["context"].(map[string]any)["contextActivities"].(map[string]any)
		ca["category"] = []any{map[string]any{"id": cmi5Cat}, map[string]any{"id": moveOnCat}}
	}))
	completed := func(a *au) map[string]any {
		return a.statement("completed", map[string]any{"completion": true, "duration": "PT1M"})
	}
	a.refused("completed twice in one request", "cmi5-verb-order", completed(a), completed(a))
	a.send(completed(a))
	a.refused("completed twice in a session", "cmi5-verb-order", completed(a))
	a.send(a.statement("failed", map[string]any{"success": false, "duration": "PT1M", "score": map[string]any{"scaled": 0.5}}))
	a.refused("passed after failed in a session", "cmi5-verb-order", a.statement("passed", map[string]any{"success": true, "duration": "PT1M", "score": map[string]any{"scaled": 0.8}}))
	a.send(a.statement("terminated", map[string]any{"duration": "PT2M"}))

	// The next session of the AU in the registration.
	b := s.launchAU(s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID)))
	b.initialize()
	b.send(b.statement("initialized", nil))
	b.refused("completed twice in a registration", "cmi5-verb-order", completed(b))
	b.send(b.statement("passed", map[string]any{"success": true, "duration": "PT1M", "score": map[string]any{"scaled": 0.75}}))
	b.send(b.statement("terminated", map[string]any{"duration": "PT2M"}))
	c := s.launchAU(s.launch(fmt.Sprintf(`{"package":%q,"person":"1001"}`, p.ID)))
	c.initialize()
	c.send(c.statement("initialized", nil))
	c.refused("passed twice in a registration", "cmi5-verb-order", c.statement("passed", map[string]any{"success": true, "duration": "PT1M"}))
	c.refused("failed after passed", "cmi5-verb-order", c.statement("failed", map[string]any{"success": false, "duration": "PT1M"}))
	if got := s.byVerb(l.Registration, "completed"); len(got) != 1 {
		t.Errorf("%d completed statements", len(got))
	}
	if got := s.byVerb(l.Registration, "passed"); len(got) != 1 {
		t.Errorf("%d passed statements", len(got))
	}
}
