package lrs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/reporting"
)

// Credentials of the reporting tests, besides testCreds: key -> scopes.
var reportingCreds = map[string][]string{
	"hr":      {auth.ScopeRosterWrite, auth.ScopeReportsRead},
	"auditor": {auth.ScopeReportsRead},
	"roster":  {auth.ScopeRosterWrite},
	"lms":     {auth.ScopeStatementsWrite},
	"ops":     {auth.ScopeAdmin},
}

// newReportingServer is newServer with compliance reporting on (the same
// SQLite database) and the reporting credentials. The service stores
// statements and their projection in one transaction.
func newReportingServer(t *testing.T) *testServer {
	t.Helper()
	return newReportingServerWith(t, func(*lrs.Config) {})
}

// newReportingServerWith is newReportingServer with edit applied to the
// Config.
func newReportingServerWith(t testing.TB, edit func(*lrs.Config)) *testServer {
	t.Helper()
	return newReportingServerOn(t, openSQLite, edit)
}

// newReportingServerOn is newReportingServerWith over the database open
// opens.
func newReportingServerOn(t testing.TB, open opener, edit func(*lrs.Config)) *testServer {
	t.Helper()
	ts := newServerOn(t, open, edit) // reporting is on by default
	for key, scopes := range reportingCreds {
		c := &auth.Credential{Key: key, SecretHash: auth.HashSecret(key + "-secret"), Name: key + " app",
			Tenant: auth.DefaultTenant, Scopes: scopes, Created: time.Now().UTC()}
		if err := ts.st.Credentials.CreateCredential(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	return ts
}

// Activity IRIs of the scenario.
const (
	kslHome    = "https://kslaring.no"
	cmi5Home   = "https://lms.kommune.no"
	trusler    = "https://kins.example/cmi5/trusler"            // cmi5 course publisher id of module 3
	utvidet    = "https://kins.example/cmi5/personvern-utvidet" // cmi5 course publisher id of module 6
	fysisk     = "https://scorm.example/kins/fysisk"            // SCORM package of module 4
	erDet      = "https://laringsplattform.example/er-det-sikkert"
	scormCat   = "https://w3id.org/xapi/scorm"
	cmi5Cat    = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
	moodleInfo = "http://lrs.learninglocker.net/define/extensions/info"
)

func kslModule(n int) string { return fmt.Sprintf("%s/mod/scorm/view.php?id=%d", kslHome, 1000+n) }

// kinsModules are the 8 KiNS modules as an HR officer PUTs them.
func kinsModules() map[string]string {
	titles := []string{"Grunnleggende informasjonssikkerhet", "Sikkerhet på mobile enheter", "Trusler fra IT-kriminelle",
		"Fysisk sikkerhet", "Grunnleggende personvern", "Utvidet personvern (særlige kategorier)",
		"Informasjonssikkerhet for ledere", "Håndtering av sikkerhetshendelser"}
	out := map[string]string{}
	for i, title := range titles {
		n := i + 1
		acts := []string{kslModule(n)}
		extra := `"completion":"completed"`
		switch n {
		case 1:
			extra += `,"validity":"P1Y"`
		case 3:
			acts = append(acts, trusler)
		case 4:
			// The SCORM package's SCO is its part: the SCORM player's
			// statements are about the SCO, with the course in the
			// grouping, which counts for SCORM-profile statements no more
			// (see reporting.Project).
			acts = append(acts, fysisk)
			extra += fmt.Sprintf(`,"parts":[%q]`, fysisk+"/sco-1")
		case 5:
			extra = `"completion":"completed-and-passed","minScore":0.8,"validity":"P1Y"`
		case 6:
			acts = []string{utvidet}
			extra = fmt.Sprintf(`"completion":"passed","parts":[%q,%q]`, utvidet+"/au1", utvidet+"/au2")
		case 7:
			acts = append(acts, erDet)
			extra = `"completion":"completed-or-passed"`
		case 8:
			extra += `,"validity":"P2Y"`
		}
		quoted := make([]string, len(acts))
		for i, a := range acts {
			quoted[i] = fmt.Sprintf("%q", a)
		}
		out[fmt.Sprintf("kins-%d", n)] = fmt.Sprintf(`{"title":{"nb-NO":%q},"activities":[%s],%s}`,
			title, strings.Join(quoted, ","), extra)
	}
	return out
}

// The role rules of the programme.
var kinsRules = map[string]string{
	"mobil":    `{"role":"mobil","modules":["kins-1","kins-2","kins-3","kins-4","kins-8"],"dueWithin":"P30D"}`,
	"adm":      `{"role":"adm","modules":["kins-1","kins-2","kins-3","kins-4","kins-5","kins-8"],"dueWithin":"P30D"}`,
	"sensitiv": `{"role":"sensitiv","modules":["kins-1","kins-2","kins-3","kins-4","kins-5","kins-6","kins-8"],"dueWithin":"P30D"}`,
	"leder":    `{"role":"leder","modules":["kins-1","kins-2","kins-3","kins-4","kins-5","kins-6","kins-7","kins-8"],"dueWithin":"P90D"}`,
}

// kinsRoster is the first roster import, in JSON.
const kinsRoster = `{
  "effective": "2025-01-01",
  "source": "personalsystem.json",
  "units": [
    {"id": "kommune", "name": "Eksempel kommune", "managers": ["e100"]},
    {"id": "helse", "name": "Helse og omsorg", "parent": "kommune", "managers": ["e200"]},
    {"id": "sykehjem", "name": "Solbakken sykehjem", "parent": "helse"},
    {"id": "it", "name": "IT-tjenesten", "parent": "kommune"}
  ],
  "people": [
    {"id": "e100", "name": "Randi Rådmann", "email": "randi.radmann@kommune.no", "start": "2015-03-01",
     "identifiers": [{"account": {"homePage": "https://kslaring.no", "name": "randi"}}], "units": ["kommune"], "roles": ["leder"]},
    {"id": "e200", "name": "Helge Helsesjef", "email": "helge@kommune.no", "start": "2020-02-01",
     "identifiers": [{"account": {"homePage": "https://kslaring.no", "name": "helge"}}], "units": ["helse"], "roles": ["adm"]},
    {"id": "e211", "name": "Ola Nordmann", "email": "ola.nordmann@kommune.no", "start": "2025-01-01",
     "identifiers": [{"account": {"homePage": "https://kslaring.no", "name": "ola.nordmann"}}], "units": ["sykehjem"], "roles": ["mobil"]},
    {"id": "e212", "name": "Kari Ødegård", "email": "Kari.Odegard@kommune.no", "start": "2025-01-01",
     "units": ["sykehjem"], "roles": ["mobil"]},
    {"id": "e301", "name": "Trine Tekniker", "email": "trine@kommune.no", "start": "2023-01-01",
     "identifiers": [{"account": {"homePage": "https://lms.kommune.no", "name": "trine"}}], "units": ["it"], "roles": ["sensitiv"]}
  ]
}`

// Statement builders, shaped like what each platform sends.

// moodle is a statement of Moodle's logstore_xapi plugin (KS Læring):
// the learner by LMS account, the course module as object, the site and
// course in the grouping.
func moodle(username, name, verb string, module int, ts string, result map[string]any) map[string]any {
	st := map[string]any{
		"actor": map[string]any{"objectType": "Agent", "name": name, "account": map[string]any{"homePage": kslHome, "name": username}},
		"verb":  map[string]any{"id": "http://adlnet.gov/expapi/verbs/" + verb, "display": map[string]any{"en": verb}},
		"object": map[string]any{"objectType": "Activity", "id": kslModule(module), "definition": map[string]any{
			"type": "http://id.tincanapi.com/activitytype/lms/module", "name": map[string]any{"nb": fmt.Sprintf("KiNS modul %d", module)}}},
		"timestamp": ts,
		"context": map[string]any{
			"platform": "Moodle", "language": "nb",
			"extensions": map[string]any{moodleInfo: map[string]any{
				"https://moodle.org/": "4.1.2", "event_name": `\core\event\course_module_completion_updated`}},
			"contextActivities": map[string]any{
				"grouping": []any{
					map[string]any{"id": kslHome, "definition": map[string]any{"type": "http://id.tincanapi.com/activitytype/lms"}},
					map[string]any{"id": kslHome + "/course/view.php?id=101", "definition": map[string]any{"type": "http://id.tincanapi.com/activitytype/lms/course"}},
				},
				"category": []any{map[string]any{"id": "http://moodle.org", "definition": map[string]any{"type": "http://id.tincanapi.com/activitytype/source"}}},
			},
		},
	}
	if result != nil {
		st["result"] = result
	}
	return st
}

// cmi5 is a cmi5 statement: an AU's (the AU's publisher id in the
// grouping) or the LMS's "satisfied" for a course (the course's).
func cmi5(username, verb, object, publisherID, ts string, result map[string]any) map[string]any {
	verbID := "http://adlnet.gov/expapi/verbs/" + verb
	if verb == "satisfied" {
		verbID = "https://w3id.org/xapi/adl/verbs/satisfied"
	}
	st := map[string]any{
		"actor":  map[string]any{"objectType": "Agent", "account": map[string]any{"homePage": cmi5Home, "name": username}},
		"verb":   map[string]any{"id": verbID, "display": map[string]any{"en-US": verb}},
		"object": map[string]any{"objectType": "Activity", "id": cmi5Home + object},
		"context": map[string]any{
			"registration": "6fbd4b6c-1e2a-4c8e-9a55-0a1c2b3d4e5f",
			"contextActivities": map[string]any{
				"category": []any{map[string]any{"id": cmi5Cat}},
				"grouping": []any{map[string]any{"id": publisherID}},
			},
			"extensions": map[string]any{"https://w3id.org/xapi/cmi5/context/extensions/sessionid": "s-" + ts},
		},
		"timestamp": ts,
	}
	if result != nil {
		st["result"] = result
	}
	return st
}

// scorm is a statement of a SCORM player following the ADL SCORM profile:
// the SCO as object, the package in the grouping, the learner by e-mail.
func scorm(mbox, verb, ts string) map[string]any {
	return map[string]any{
		"actor":  map[string]any{"objectType": "Agent", "mbox": "mailto:" + mbox},
		"verb":   map[string]any{"id": "http://adlnet.gov/expapi/verbs/" + verb, "display": map[string]any{"en-US": verb}},
		"object": map[string]any{"id": fysisk + "/sco-1", "definition": map[string]any{"type": "http://adlnet.gov/expapi/activities/lesson"}},
		"context": map[string]any{"contextActivities": map[string]any{
			"grouping": []any{map[string]any{"id": fysisk, "definition": map[string]any{"type": "http://adlnet.gov/expapi/activities/course"}}},
			"category": []any{map[string]any{"id": scormCat, "definition": map[string]any{"type": "http://adlnet.gov/expapi/activities/profile"}}},
		}},
		"result":    map[string]any{"completion": true},
		"timestamp": ts,
	}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// postAt stores statements as the LMS credential with the server's clock
// at stored, and returns their ids.
func (s *testServer) postAt(stored string, stmts ...map[string]any) []string {
	s.t.Helper()
	s.clock.Set(at(stored))
	r := s.do(req{method: "POST", path: "/xapi/statements", body: stmts, key: "lms"})
	expect(s.t, r, http.StatusOK)
	var ids []string
	r.json(s.t, &ids)
	return ids
}

// statusReport is the JSON of GET /api/v1/reports/status.
type statusReport struct {
	Rows    []reporting.Row   `json:"rows"`
	Summary reporting.Summary `json:"summary"`
}

func (s *testServer) status(query string) statusReport {
	s.t.Helper()
	r := s.do(req{method: "GET", path: "/api/v1/reports/status?" + query, key: "auditor"})
	expect(s.t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		s.t.Fatalf("status report Content-Type %q", ct)
	}
	var out statusReport
	r.json(s.t, &out)
	return out
}

// rowLine sums a row up for comparison: person, module (and campaign),
// status, due day, completion day, expiry.
func rowLine(r reporting.Row) string {
	s := r.Person + " " + r.Module
	if r.Campaign != "" {
		s += "@" + r.Campaign
	}
	s += " " + string(r.Status)
	if r.Due != 0 {
		s += " due " + r.Due.String()
	}
	if !r.Completed.IsZero() {
		s += " done " + r.Completed.UTC().Format("2006-01-02")
	}
	if r.Expires != 0 {
		s += " exp " + r.Expires.String()
	}
	if r.Exemption != "" {
		s += " (" + r.Exemption + ")"
	}
	return s
}

func rowLines(rows []reporting.Row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = rowLine(r)
	}
	return out
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got:\n  %s\n want:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestReportingKiNS runs the KiNS scenario end to end over HTTP: HR loads
// the 8 modules, the role rules, a campaign, an exemption and the roster
// through the API; the LMSs post statements as Moodle (logstore_xapi), a
// cmi5 LMS and a SCORM player send them; the reports answer exact rows as
// of several days and as known at several times, in JSON and CSV, with a
// completion voided over HTTP, a back-filled one, a learner unknown until
// HR adds him, reminders by manager, a transcript with its evidence, and a
// rebuild of the projection that changes nothing.
//
// (The same reports from statements stored first and projected after, as
// the service does when the projection fails, are checked on both
// backends by reporting/storetest.RunKiNS.)
func TestReportingKiNS(t *testing.T) {
	ts := newReportingServer(t)
	ctx := context.Background()
	hr := ts.hr

	// The catalog, the rules, a campaign and an exemption.
	ts.clock.Set(at("2025-01-05T08:00:00Z"))
	for id, body := range kinsModules() {
		expect(t, hr("PUT", "/api/v1/modules/"+id, "", body), http.StatusCreated)
	}
	for id, body := range kinsRules {
		expect(t, hr("PUT", "/api/v1/rules/"+id, "", body), http.StatusCreated)
	}
	expect(t, hr("PUT", "/api/v1/campaigns/mars-2025", "",
		`{"title":{"nb-NO":"Sikkerhetsmåneden"},"units":["helse"],"modules":["kins-3"],"start":"2025-03-01","end":"2025-03-31"}`), http.StatusCreated)
	expect(t, hr("PUT", "/api/v1/exemptions/randi-6", "",
		`{"id":"randi-6","person":"e100","module":"kins-6","reason":"Permisjon"}`), http.StatusCreated)
	// Replacing answers 200 and keeps one entry.
	expect(t, hr("PUT", "/api/v1/exemptions/randi-6", "",
		`{"person":"e100","module":"kins-6","reason":"Permisjon","effective":{"from":"2025-01-01"}}`), http.StatusOK)
	var mods struct{ Modules []reporting.Module }
	hr("GET", "/api/v1/modules", "", "").json(t, &mods)
	if len(mods.Modules) != 8 || mods.Modules[0].ID != "kins-1" || mods.Modules[4].MinScore == nil ||
		*mods.Modules[4].MinScore != 0.8 || mods.Modules[0].Validity != reporting.MustPeriod("P1Y") {
		t.Fatalf("GET /api/v1/modules: %+v", mods.Modules)
	}
	var rule reporting.Rule
	ts.do(req{method: "GET", path: "/api/v1/rules/leder", key: "auditor"}).json(t, &rule)
	if rule.ID != "leder" || len(rule.Modules) != 8 || rule.DueWithin != reporting.MustPeriod("P90D") {
		t.Errorf("GET /api/v1/rules/leder: %+v", rule)
	}
	var exs struct{ Exemptions []reporting.Exemption }
	hr("GET", "/api/v1/exemptions", "", "").json(t, &exs)
	if len(exs.Exemptions) != 1 || exs.Exemptions[0].Effective.From != reporting.MustDate("2025-01-01") {
		t.Errorf("GET /api/v1/exemptions: %+v", exs.Exemptions)
	}

	// The roster.
	ts.clock.Set(at("2025-01-06T07:00:00Z"))
	r := hr("POST", "/api/v1/roster/imports", "application/json", kinsRoster)
	expect(t, r, http.StatusCreated)
	var imp reporting.ImportRecord
	r.json(t, &imp)
	if imp.ID != 1 || imp.People != 5 || imp.Units != 4 || len(imp.Changes) == 0 || r.header.Get("Location") != "/api/v1/roster/imports/1" {
		t.Fatalf("roster import: %s", r.body)
	}

	// Statements, as the platforms send them.
	ts.postAt("2025-01-22T12:00:00Z",
		moodle("ola.nordmann", "Ola Nordmann", "completed", 1, "2025-01-20T09:00:00Z", nil),
		moodle("ola.nordmann", "Ola Nordmann", "completed", 2, "2025-01-21T09:00:00Z", nil),
		moodle("ola.nordmann", "Ola Nordmann", "completed", 8, "2025-01-22T09:00:00Z", nil),
		moodle("ola.nordmann", "Ola Nordmann", "experienced", 3, "2025-01-22T09:30:00Z", nil))
	ola2 := ts.do(req{method: "GET", path: "/xapi/statements?verb=" + url.QueryEscape("http://adlnet.gov/expapi/verbs/completed") +
		"&activity=" + url.QueryEscape(kslModule(2))})
	stmts, _ := ola2.result(t)
	if len(stmts) != 1 {
		t.Fatalf("Ola's module 2 completion: %s", ola2.body)
	}
	ola2ID := stmts[0]["id"].(string)
	ts.postAt("2025-02-01T12:00:00Z", scorm("Kari.Odegard@kommune.no", "completed", "2025-02-01T08:00:00Z"))
	ts.postAt("2025-02-05T12:00:00Z", moodle("nils.ny", "Nils Ny", "completed", 1, "2025-02-05T10:00:00Z", nil))
	ts.postAt("2025-02-10T12:00:00Z", scorm("ola.nordmann@kommune.no", "completed", "2025-02-10T10:00:00Z"))
	ts.postAt("2025-03-03T12:00:00Z",
		cmi5("trine", "passed", "/cmi5/au/61", utvidet+"/au1", "2025-03-02T10:00:00Z", map[string]any{"success": true, "score": map[string]any{"scaled": 0.9}}),
		cmi5("trine", "failed", "/cmi5/au/62", utvidet+"/au2", "2025-03-03T09:00:00Z", map[string]any{"success": false, "score": map[string]any{"scaled": 0.4}}),
		cmi5("trine", "passed", "/cmi5/au/62", utvidet+"/au2", "2025-03-03T10:00:00Z", map[string]any{"success": true, "score": map[string]any{"scaled": 0.85}}),
		cmi5("trine", "satisfied", "/cmi5/course/3", trusler, "2025-03-03T11:00:00Z", nil))
	// Module 5 (completed and passed, minimum score): the module's
	// completion and the SCORM status with its score, in one session.
	const helgeSession = "3f0e8d5a-2b1c-5d4e-8f7a-6b5c4d3e2f1a"
	ts.postAt("2025-03-05T12:00:00Z",
		inSession(moodle("helge", "Helge Helsesjef", "completed", 5, "2025-03-04T09:00:00Z", nil), helgeSession),
		inSession(moodle("helge", "Helge Helsesjef", "passed", 5, "2025-03-04T09:05:00Z", map[string]any{"success": true, "score": map[string]any{"scaled": 0.9}}), helgeSession))

	const asOf = "asOf=2025-03-20"
	ola := []string{
		"e211 kins-1 completed due 2025-01-31 done 2025-01-20 exp 2026-01-20",
		"e211 kins-2 completed due 2025-01-31 done 2025-01-21",
		"e211 kins-3 overdue due 2025-01-31",
		"e211 kins-4 completed due 2025-01-31 done 2025-02-10",
		"e211 kins-8 completed due 2025-01-31 done 2025-01-22 exp 2027-01-22",
		"e211 kins-3@mars-2025 due due 2025-03-31",
	}
	sameLines(t, "Ola as of 20 March", rowLines(ts.status(asOf+"&person=e211").Rows), ola)

	// The LMS voids Ola's module 2 completion over HTTP.
	ts.postAt("2025-03-10T12:00:00Z", voiding(ola2ID))
	// And back-fills a module 3 completion of January.
	ts.postAt("2025-03-15T12:00:00Z", moodle("ola.nordmann", "Ola Nordmann", "completed", 3, "2025-01-28T09:00:00Z", nil))

	olaNow := []string{
		"e211 kins-1 completed due 2025-01-31 done 2025-01-20 exp 2026-01-20",
		"e211 kins-2 overdue due 2025-01-31",
		"e211 kins-3 completed due 2025-01-31 done 2025-01-28",
		"e211 kins-4 completed due 2025-01-31 done 2025-02-10",
		"e211 kins-8 completed due 2025-01-31 done 2025-01-22 exp 2027-01-22",
		"e211 kins-3@mars-2025 due due 2025-03-31", // the January completion predates the campaign
	}
	sameLines(t, "Ola as of 20 March, after the voiding and the back-fill", rowLines(ts.status(asOf+"&person=e211").Rows), olaNow)
	// As known on 5 March: the voiding and the back-fill had not arrived.
	sameLines(t, "Ola as of 20 March as known on 5 March", rowLines(ts.status(asOf+"&knownAt=2025-03-05&person=e211").Rows), ola)
	// As of 25 January: module 3's completion is dated the 28th; the
	// voided one does not count; due within 14 days of the 31st.
	sameLines(t, "Ola as of 25 January", rowLines(ts.status("asOf=2025-01-25&person=e211").Rows), []string{
		"e211 kins-1 completed due 2025-01-31 done 2025-01-20 exp 2026-01-20",
		"e211 kins-2 due due 2025-01-31",
		"e211 kins-3 due due 2025-01-31",
		"e211 kins-4 due due 2025-01-31",
		"e211 kins-8 completed due 2025-01-31 done 2025-01-22 exp 2027-01-22",
	})
	// A year on, module 1 has expired (P1Y).
	sameLines(t, "Ola's module 1 on 20 January 2026", rowLines(ts.status("asOf=2026-01-20&person=e211&module=kins-1").Rows),
		[]string{"e211 kins-1 expired due 2025-01-31 done 2025-01-20 exp 2026-01-20"})

	// The whole organisation as of 20 March.
	all := ts.status(asOf)
	everyone := []string{
		"e100 kins-1 overdue due 2015-05-30",
		"e100 kins-2 overdue due 2015-05-30",
		"e100 kins-3 overdue due 2015-05-30",
		"e100 kins-4 overdue due 2015-05-30",
		"e100 kins-5 overdue due 2015-05-30",
		"e100 kins-6 exempt due 2015-05-30 (Permisjon)",
		"e100 kins-7 overdue due 2015-05-30",
		"e100 kins-8 overdue due 2015-05-30",
		"e200 kins-1 overdue due 2020-03-02",
		"e200 kins-2 overdue due 2020-03-02",
		"e200 kins-3 overdue due 2020-03-02",
		"e200 kins-4 overdue due 2020-03-02",
		"e200 kins-5 completed due 2020-03-02 done 2025-03-04 exp 2026-03-04",
		"e200 kins-8 overdue due 2020-03-02",
		"e200 kins-3@mars-2025 due due 2025-03-31",
	}
	everyone = append(everyone, olaNow...)
	everyone = append(everyone,
		"e212 kins-1 overdue due 2025-01-31",
		"e212 kins-2 overdue due 2025-01-31",
		"e212 kins-3 overdue due 2025-01-31",
		"e212 kins-4 completed due 2025-01-31 done 2025-02-01",
		"e212 kins-8 overdue due 2025-01-31",
		"e212 kins-3@mars-2025 due due 2025-03-31",
		"e301 kins-1 overdue due 2023-01-31",
		"e301 kins-2 overdue due 2023-01-31",
		"e301 kins-3 completed due 2023-01-31 done 2025-03-03",
		"e301 kins-4 overdue due 2023-01-31",
		"e301 kins-5 overdue due 2023-01-31",
		"e301 kins-6 completed due 2023-01-31 done 2025-03-03",
		"e301 kins-8 overdue due 2023-01-31",
	)
	sameLines(t, "everyone as of 20 March", rowLines(all.Rows), everyone)
	sum := all.Summary
	// 34 rows: 8 completed, 22 overdue, 3 due, 1 exempt; 8 of 33 compliant.
	if sum.People != 5 || sum.Total.Rows != 34 || sum.Total.Compliant != 8 || sum.Total.Status[reporting.StatusOverdue] != 22 ||
		sum.Total.Status[reporting.StatusDue] != 3 || sum.Total.Status[reporting.StatusExempt] != 1 || sum.Total.Percent != 24.2 {
		t.Errorf("summary totals: %+v", sum.Total)
	}
	if h := sum.Units["helse"]; h == nil || h.Rows != 19 || h.Compliant != 6 {
		t.Errorf("summary of unit helse (with sykehjem): %+v", h)
	}
	if c := sum.Campaigns["mars-2025"]; c == nil || c.Rows != 3 || c.Status[reporting.StatusDue] != 3 {
		t.Errorf("summary of the campaign: %+v", c)
	}
	if m := sum.Roles["mobil"]; m == nil || m.Rows != 10 || m.Compliant != 5 {
		t.Errorf("summary of role mobil: %+v", m)
	}
	var only reporting.Summary
	ts.do(req{method: "GET", path: "/api/v1/reports/summary?" + asOf, key: "auditor"}).json(t, &only)
	if only.Total.Rows != sum.Total.Rows || only.Total.Percent != sum.Total.Percent || len(only.Units) != len(sum.Units) {
		t.Errorf("GET /reports/summary: %+v, want the status report's %+v", only.Total, sum.Total)
	}

	// Filters: a unit subtree, a role, a module.
	sameLines(t, "unit sykehjem, module kins-4", rowLines(ts.status(asOf+"&unit=sykehjem&module=kins-4").Rows), []string{
		"e211 kins-4 completed due 2025-01-31 done 2025-02-10",
		"e212 kins-4 completed due 2025-01-31 done 2025-02-01",
	})
	sameLines(t, "unit helse, role adm, module kins-5", rowLines(ts.status(asOf+"&unit=helse&role=adm&module=kins-5").Rows), []string{
		"e200 kins-5 completed due 2020-03-02 done 2025-03-04 exp 2026-03-04",
	})
	if rows := ts.status(asOf + "&unit=it,sykehjem&role=sensitiv,mobil&module=kins-6").Rows; len(rows) != 1 || rows[0].Person != "e301" {
		t.Errorf("unit it,sykehjem role sensitiv,mobil module kins-6: %v", rowLines(rows))
	}

	// Unmatched: Nils completed module 1 before HR registered him.
	var um struct{ Agents []reporting.UnmatchedAgent }
	ts.do(req{method: "GET", path: "/api/v1/reports/unmatched", key: "auditor"}).json(t, &um)
	if len(um.Agents) != 1 || um.Agents[0].Agent != "account:"+kslHome+" nils.ny" ||
		um.Agents[0].Name != "Nils Ny" || um.Agents[0].Facts != 1 || !slices.Equal(um.Agents[0].Modules, []string{"kins-1"}) {
		t.Fatalf("unmatched before Nils is added: %+v", um.Agents)
	}

	// HR adds Nils with a partial import in CSV (semicolons, Norwegian
	// headers and dates, as a spreadsheet saves them).
	ts.clock.Set(at("2025-03-21T07:00:00Z"))
	peopleCSV := "ansattnr;navn;epost;enhet;rolle;startdato;brukernavn;homepage\r\n" +
		"e214;Nils Ny;nils.ny@kommune.no;sykehjem;mobil;01.02.2025;nils.ny;https://kslaring.no\r\n"
	r = hr("POST", "/api/v1/roster/imports?partial=true&source=nils.csv", "text/csv; charset=utf-8", peopleCSV)
	expect(t, r, http.StatusCreated)
	r.json(t, &imp)
	if imp.ID != 2 || !imp.Partial || imp.People != 1 || imp.Source != "nils.csv" {
		t.Fatalf("CSV import: %s", r.body)
	}
	var got reporting.ImportRecord
	hr("GET", "/api/v1/roster/imports/2", "", "").json(t, &got)
	var changes []string
	for _, c := range got.Changes {
		changes = append(changes, string(c.Kind)+" "+c.Key+" "+c.Value+" "+c.Op)
	}
	sameLines(t, "the changes of import 2", changes, []string{
		"person e214  added",
		"member e214 sykehjem added",
		"role e214 mobil added",
		"ident e214 account:https://kslaring.no nils.ny added",
		"ident e214 mbox:mailto:nils.ny@kommune.no added",
	})
	var list struct{ Imports []reporting.ImportRecord }
	ts.do(req{method: "GET", path: "/api/v1/roster/imports", key: "auditor"}).json(t, &list)
	if len(list.Imports) != 2 || list.Imports[0].Source != "personalsystem.json" || list.Imports[1].ID != 2 || len(list.Imports[1].Changes) != 0 {
		t.Errorf("GET /roster/imports: %+v", list.Imports)
	}
	ts.do(req{method: "GET", path: "/api/v1/reports/unmatched", key: "auditor"}).json(t, &um)
	if len(um.Agents) != 0 {
		t.Errorf("unmatched after Nils is added: %+v", um.Agents)
	}
	nils := []string{
		"e214 kins-1 completed due 2025-03-03 done 2025-02-05 exp 2026-02-05",
		"e214 kins-2 overdue due 2025-03-03",
		"e214 kins-3 overdue due 2025-03-03",
		"e214 kins-4 overdue due 2025-03-03",
		"e214 kins-8 overdue due 2025-03-03",
		"e214 kins-3@mars-2025 due due 2025-03-31",
	}
	sameLines(t, "Nils as of 21 March", rowLines(ts.status("asOf=2025-03-21&person=e214").Rows), nils)
	// As known before his import, the roster had no Nils.
	if rows := ts.status("asOf=2025-03-21&knownAt=2025-03-20&person=e214").Rows; len(rows) != 0 {
		t.Errorf("Nils as known before his import: %v", rowLines(rows))
	}

	// Reminders as of 21 March, by manager: sykehjem has none, so Helge
	// (helse) reminds its people; Helge and Trine are reminded by Randi
	// (kommune); Randi has no one above her.
	r = ts.do(req{method: "GET", path: "/api/v1/reports/reminders?asOf=2025-03-21&within=P14D", key: "auditor"})
	expect(t, r, http.StatusOK)
	var rem struct {
		Day      reporting.Date
		Within   string
		Managers []reporting.ReminderGroup
	}
	r.json(t, &rem)
	if rem.Day != reporting.MustDate("2025-03-21") || rem.Within != "P14D" || len(rem.Managers) != 3 {
		t.Fatalf("reminders: %s", r.body)
	}
	want := map[string][]string{
		"e100": {
			"e200 kins-1 overdue due 2020-03-02", "e200 kins-2 overdue due 2020-03-02", "e200 kins-3 overdue due 2020-03-02",
			"e200 kins-4 overdue due 2020-03-02", "e200 kins-8 overdue due 2020-03-02", "e200 kins-3@mars-2025 due due 2025-03-31",
			"e301 kins-1 overdue due 2023-01-31", "e301 kins-2 overdue due 2023-01-31", "e301 kins-4 overdue due 2023-01-31",
			"e301 kins-5 overdue due 2023-01-31", "e301 kins-8 overdue due 2023-01-31",
		},
		"e200": {
			"e211 kins-2 overdue due 2025-01-31", "e211 kins-3@mars-2025 due due 2025-03-31",
			"e212 kins-1 overdue due 2025-01-31", "e212 kins-2 overdue due 2025-01-31", "e212 kins-3 overdue due 2025-01-31",
			"e212 kins-8 overdue due 2025-01-31", "e212 kins-3@mars-2025 due due 2025-03-31",
			"e214 kins-2 overdue due 2025-03-03", "e214 kins-3 overdue due 2025-03-03", "e214 kins-4 overdue due 2025-03-03",
			"e214 kins-8 overdue due 2025-03-03", "e214 kins-3@mars-2025 due due 2025-03-31",
		},
		"": {
			"e100 kins-1 overdue due 2015-05-30", "e100 kins-2 overdue due 2015-05-30", "e100 kins-3 overdue due 2015-05-30",
			"e100 kins-4 overdue due 2015-05-30", "e100 kins-5 overdue due 2015-05-30", "e100 kins-7 overdue due 2015-05-30",
			"e100 kins-8 overdue due 2015-05-30",
		},
	}
	for i, g := range rem.Managers {
		if wantOrder := []string{"e100", "e200", ""}[i]; g.Manager != wantOrder {
			t.Errorf("reminder group %d is manager %q, want %q", i, g.Manager, wantOrder)
		}
		sameLines(t, "reminders of manager "+g.Manager, rowLines(g.Rows), want[g.Manager])
	}
	if rem.Managers[0].Name != "Randi Rådmann" || rem.Managers[1].Email != "helge@kommune.no" {
		t.Errorf("reminder managers: %+v / %+v", rem.Managers[0].Name, rem.Managers[1].Email)
	}
	// The same in CSV: the manager's columns before each status row.
	r = ts.do(req{method: "GET", path: "/api/v1/reports/reminders?asOf=2025-03-21&format=csv&person=e100", key: "auditor"})
	expect(t, r, http.StatusOK)
	recs := readReportCSV(t, r, ',')
	if len(recs) != 8 || recs[0][0] != "manager" || recs[1][0] != "" || recs[1][3] != "e100" || recs[1][11] != "overdue" {
		t.Errorf("reminders CSV: %q", recs)
	}

	// Ola's transcript: the modules he completed, with the evidence of
	// each as stored (authority and SHA-256 of the statement).
	ts.clock.Set(at("2025-03-22T07:00:00Z"))
	r = ts.do(req{method: "GET", path: "/api/v1/people/e211/transcript", key: "auditor"})
	expect(t, r, http.StatusOK)
	var tr reporting.Transcript
	r.json(t, &tr)
	var trMods []string
	for _, m := range tr.Modules {
		trMods = append(trMods, m.Module+" "+m.Completed.Format("2006-01-02")+" "+m.Expires.String())
		for _, e := range m.Evidence {
			rec, err := ts.db.Get(ctx, auth.DefaultTenant, e.Statement)
			if err != nil {
				t.Fatalf("evidence %s: %v", e.Statement, err)
			}
			sum := sha256.Sum256(rec.JSON)
			if e.Authority != "lms" || e.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("evidence of %s: authority %q sha256 %q, want lms and the stored statement's", m.Module, e.Authority, e.SHA256)
			}
		}
	}
	sameLines(t, "Ola's transcript", trMods, []string{
		"kins-1 2025-01-20 2026-01-20", "kins-3 2025-01-28 ", "kins-4 2025-02-10 ", "kins-8 2025-01-22 2027-01-22",
	})
	if tr.Name != "Ola Nordmann" || len(tr.Entries) != 4 {
		t.Errorf("transcript: name %q, %d entries (want 4: the voided one left out): %s", tr.Name, len(tr.Entries), r.body)
	}
	// As known on 5 March, the voided completion counts and the back-fill
	// is not there.
	ts.do(req{method: "GET", path: "/api/v1/people/e211/transcript?knownAt=2025-03-05", key: "auditor"}).json(t, &tr)
	trMods = nil
	for _, m := range tr.Modules {
		trMods = append(trMods, m.Module)
	}
	sameLines(t, "Ola's transcript as known on 5 March", trMods, []string{"kins-1", "kins-2", "kins-4", "kins-8"})

	// CSV: a byte-order mark, a header row, one line per row; Kari's
	// name in UTF-8; times in the time zone asked for.
	r = ts.do(req{method: "GET", path: "/api/v1/reports/status?asOf=2025-03-20&person=e212&tz=Europe/Oslo&format=csv", key: "auditor"})
	expect(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("CSV Content-Type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="status-2025-03-20.csv"` {
		t.Errorf("CSV Content-Disposition %q", cd)
	}
	if !bytes.HasPrefix(r.body, []byte("\xef\xbb\xbfperson,name,email,units,roles,module,campaign,rules,status,due,completed,expires,score,exemption,evidence\r\n")) {
		t.Errorf("CSV does not start with a BOM and the header: %q", r.body[:min(len(r.body), 60)])
	}
	kari := ts.status("asOf=2025-03-20&person=e212").Rows[3]
	recs = readReportCSV(t, r, ',')
	wantCSV := [][]string{
		{"person", "name", "email", "units", "roles", "module", "campaign", "rules", "status", "due", "completed", "expires", "score", "exemption", "evidence"},
		{"e212", "Kari Ødegård", "Kari.Odegard@kommune.no", "sykehjem", "mobil", "kins-1", "", "mobil", "overdue", "2025-01-31", "", "", "", "", ""},
		{"e212", "Kari Ødegård", "Kari.Odegard@kommune.no", "sykehjem", "mobil", "kins-2", "", "mobil", "overdue", "2025-01-31", "", "", "", "", ""},
		{"e212", "Kari Ødegård", "Kari.Odegard@kommune.no", "sykehjem", "mobil", "kins-3", "", "mobil", "overdue", "2025-01-31", "", "", "", "", ""},
		{"e212", "Kari Ødegård", "Kari.Odegard@kommune.no", "sykehjem", "mobil", "kins-4", "", "mobil", "completed", "2025-01-31",
			"2025-02-01T09:00:00+01:00", "", "", "", kari.Evidence[0].Statement},
		{"e212", "Kari Ødegård", "Kari.Odegard@kommune.no", "sykehjem", "mobil", "kins-8", "", "mobil", "overdue", "2025-01-31", "", "", "", "", ""},
		{"e212", "Kari Ødegård", "Kari.Odegard@kommune.no", "sykehjem", "mobil", "kins-3", "mars-2025", "", "due", "2025-03-31", "", "", "", "", ""},
	}
	if !slices.EqualFunc(recs, wantCSV, slices.Equal) {
		t.Errorf("CSV rows:\n got %q\nwant %q", recs, wantCSV)
	}
	// Accept: text/csv chooses CSV too; semicolons on request.
	r = ts.do(req{method: "GET", path: "/api/v1/reports/status?asOf=2025-03-20&person=e200&module=kins-5&delimiter=semicolon", key: "auditor",
		header: map[string]string{"Accept": "text/csv"}})
	expect(t, r, http.StatusOK)
	recs = readReportCSV(t, r, ';')
	if len(recs) != 2 || recs[1][0] != "e200" || recs[1][8] != "completed" || recs[1][12] != "0.9" || recs[1][11] != "2026-03-04" {
		t.Errorf("semicolon CSV: %q", recs)
	}

	// A rebuild of the projection from the stored statements changes no
	// report.
	before := ts.do(req{method: "GET", path: "/api/v1/reports/status?asOf=2025-03-21&knownAt=2025-03-21T12:00:00Z", key: "auditor"}).body
	beforeVoided := ts.do(req{method: "GET", path: "/api/v1/reports/status?asOf=2025-03-21&knownAt=2025-03-05", key: "auditor"}).body
	r = ts.do(req{method: "POST", path: "/api/v1/projection/rebuild", key: "ops"})
	expect(t, r, http.StatusAccepted)
	job := waitRebuild(t, ts)
	// 15 statements stored; the query pages leave out the voided one,
	// which the rebuild reads through its voiding statement.
	if job.State != "done" || job.Statements != 14 {
		t.Fatalf("rebuild: %+v", job)
	}
	if after := ts.do(req{method: "GET", path: "/api/v1/reports/status?asOf=2025-03-21&knownAt=2025-03-21T12:00:00Z", key: "auditor"}).body; !bytes.Equal(before, after) {
		t.Errorf("the report changed with the rebuild:\n%s\n%s", before, after)
	}
	if after := ts.do(req{method: "GET", path: "/api/v1/reports/status?asOf=2025-03-21&knownAt=2025-03-05", key: "auditor"}).body; !bytes.Equal(beforeVoided, after) {
		t.Errorf("the report as known before the voiding changed with the rebuild:\n%s\n%s", beforeVoided, after)
	}

	// The reports are timed; no projection failed.
	metrics := string(ts.do(req{method: "GET", path: "/metrics", noAuth: true}).body)
	if !strings.Contains(metrics, "\nlrs_projection_ingest_failures_total 0\n") ||
		strings.Contains(metrics, "\nlrs_report_request_duration_seconds_count 0\n") ||
		!strings.Contains(metrics, "\nlrs_report_request_duration_seconds_count ") {
		t.Errorf("/metrics: the report durations and the projection failures: %s", metrics)
	}

	// The audit log has who changed the catalog and the roster.
	entries, err := ts.db.Audit(ctx, auth.DefaultTenant, time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Actor+" "+e.Action+" "+e.Target)
	}
	for _, a := range []string{"hr module.put kins-5", "hr rule.put leder", "hr exemption.put randi-6", "hr roster.import 2", "ops projection.rebuild default"} {
		if !slices.Contains(actions, a) {
			t.Errorf("audit log lacks %q: %q", a, actions)
		}
	}
}

// readReportCSV checks the BOM of a CSV report and parses it.
func readReportCSV(t *testing.T, r *response, comma rune) [][]string {
	t.Helper()
	body, ok := bytes.CutPrefix(r.body, []byte("\xef\xbb\xbf"))
	if !ok {
		t.Fatalf("CSV without a byte-order mark: %q", r.body)
	}
	cr := csv.NewReader(bytes.NewReader(body))
	cr.Comma = comma
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("CSV report: %v\n%s", err, body)
	}
	return recs
}

type rebuildJob struct {
	State      string
	Statements int
	Error      string
}

// waitRebuild polls the rebuild job until it ends.
func waitRebuild(t *testing.T, ts *testServer) rebuildJob {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var j rebuildJob
		r := ts.do(req{method: "GET", path: "/api/v1/projection/rebuild", key: "ops"})
		expect(t, r, http.StatusOK)
		r.json(t, &j)
		if j.State != "running" {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rebuild is still running: %s", r.body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
