package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// The KiNS scenario: a municipality runs the KiNS competence programme (8
// modules) with the four role rules of the programme, a roster whose
// roles and people change over the year, an October security-month
// campaign, and statements as the platforms send them:
//
//   - KS Læring (Moodle with logstore_xapi): "completed" when a course
//     module's completion is updated, "passed" with a score for a SCORM
//     status, "launched" for a SCO launch; learners by account
//     (https://kslaring.no, username); the course and site in the grouping;
//     the statements of one Moodle session in one registration.
//   - a cmi5 LMS (https://lms.kommune.no): AU statements carrying the AU's
//     publisher id in the grouping, and the LMS's "satisfied" for a course
//     with the course's publisher id in the grouping.
//   - a SCORM player using the ADL SCORM profile (category
//     https://w3id.org/xapi/scorm), with the package in the grouping.
//   - the state's learning platform for the leaders' module.
//
// The test asserts the exact report rows as of several days, as known at
// several times, with voiding (before and after the voided statement
// arrives), expiry and renewal, back-filled records, and learners unknown
// to the roster until HR adds them; then rebuilds the projection and
// checks that every report is the same.

const tenant = "kommune"

var oslo = mustLocation("Europe/Oslo")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone("CET", 3600) // no tz database: reports still run, dates at +01:00
	}
	return loc
}

// Activity IRIs.
const (
	ksl        = "https://kslaring.no"
	cmi5LMS    = "https://lms.kommune.no"
	trusler    = "https://kins.example/cmi5/trusler"            // cmi5 course publisher id of module 3
	utvidet    = "https://kins.example/cmi5/personvern-utvidet" // cmi5 course publisher id of module 6
	utvidetAU1 = utvidet + "/au1"
	utvidetAU2 = utvidet + "/au2"
	fysisk     = "https://scorm.example/kins/fysisk" // SCORM package of module 4
	erDet      = "https://laringsplattform.example/er-det-sikkert"
)

// KSLModule returns the activity IRI of KiNS module n (1-8) in KS Læring.
func KSLModule(n int) string { return fmt.Sprintf("%s/mod/scorm/view.php?id=%d", ksl, 1000+n) }

// KiNSCatalog returns the scenario's catalog: the 8 KiNS modules (as KS
// Læring, a cmi5 LMS, a SCORM player and the state's platform deliver
// them), the four role rules of the programme, and the October campaign.
// Benchmarks use it too.
func KiNSCatalog() ([]*reporting.Module, []*reporting.Rule, *reporting.Campaign) {
	titles := []string{"Grunnleggende informasjonssikkerhet", "Sikkerhet på mobile enheter", "Trusler fra IT-kriminelle",
		"Fysisk sikkerhet", "Grunnleggende personvern", "Utvidet personvern (særlige kategorier)",
		"Informasjonssikkerhet for ledere", "Håndtering av sikkerhetshendelser"}
	var mods []*reporting.Module
	for i, title := range titles {
		n := i + 1
		mods = append(mods, &reporting.Module{ID: fmt.Sprintf("kins-%d", n), Title: map[string]string{"nb-NO": title},
			Activities: []string{KSLModule(n)}, Completion: reporting.Completed})
	}
	mods[0].Validity = reporting.MustPeriod("P1Y")
	mods[2].Activities = append(mods[2].Activities, trusler)
	mods[3].Activities = append(mods[3].Activities, fysisk)
	// The SCORM package's SCO is its part, as packages.SuggestModule makes
	// it: the SCORM player's statements are about the SCO, with the course
	// in the grouping, which does not count for SCORM-profile statements.
	mods[3].Parts = []string{fysisk + "/sco-1"}
	mods[4].Completion, mods[4].MinScore, mods[4].Validity = reporting.CompletedAndPassed, score(0.8), reporting.MustPeriod("P1Y")
	mods[5].Activities = []string{utvidet}
	mods[5].Parts = []string{utvidetAU1, utvidetAU2}
	mods[5].Completion = reporting.Passed
	mods[6].Activities = append(mods[6].Activities, erDet)
	mods[6].Completion = reporting.CompletedOrPassed
	mods[7].Validity = reporting.MustPeriod("P2Y")

	p30 := reporting.MustPeriod("P30D")
	rules := []*reporting.Rule{
		{ID: "mobil", Role: "mobil", Modules: []string{"kins-1", "kins-2", "kins-3", "kins-4", "kins-8"}, DueWithin: p30},
		{ID: "adm", Role: "adm", Modules: []string{"kins-1", "kins-2", "kins-3", "kins-4", "kins-5", "kins-8"}, DueWithin: p30},
		{ID: "sensitiv", Role: "sensitiv", Modules: []string{"kins-1", "kins-2", "kins-3", "kins-4", "kins-5", "kins-6", "kins-8"}, DueWithin: p30},
		{ID: "leder", Role: "leder", Modules: []string{"kins-1", "kins-2", "kins-3", "kins-4", "kins-5", "kins-6", "kins-7", "kins-8"},
			DueWithin: reporting.MustPeriod("P90D")},
	}
	camp := &reporting.Campaign{ID: "okt-2025", Title: map[string]string{"nb-NO": "Sikkerhetsmåneden 2025"}, Units: []string{"helse"},
		Modules: []string{"kins-3"}, Start: reporting.MustDate("2025-10-01"), End: reporting.MustDate("2025-10-31")}
	return mods, rules, camp
}

func kinsAccount(name string) map[string]any {
	return map[string]any{"account": map[string]any{"homePage": ksl, "name": name}}
}

func kinsRoster(step int) *reporting.Import {
	imp := &reporting.Import{
		Effective: reporting.MustDate("2025-01-01"),
		Source:    "personalsystem.json",
		Units: []reporting.UnitIn{
			{ID: "kommune", Name: "Eksempel kommune", Managers: []string{"e100"}},
			{ID: "helse", Name: "Helse og omsorg", Parent: "kommune", Managers: []string{"e200"}},
			{ID: "sykehjem", Name: "Solbakken sykehjem", Parent: "helse"},
			{ID: "it", Name: "IT-tjenesten", Parent: "kommune"},
			{ID: "skole", Name: "Bakken skole", Parent: "kommune"},
		},
		People: []reporting.PersonIn{
			{ID: "e100", Name: "Randi Rådmann", Email: "randi.radmann@kommune.no", Start: reporting.MustDate("2015-03-01"),
				Identifiers: []map[string]any{kinsAccount("randi")}, Units: units("kommune"), Roles: units("leder")},
			{ID: "e200", Name: "Helge Helsesjef", Email: "helge@kommune.no", Start: reporting.MustDate("2020-02-01"),
				Identifiers: []map[string]any{kinsAccount("helge")}, Units: units("helse"), Roles: units("adm")},
			{ID: "e211", Name: "Ola Nordmann", Email: "ola.nordmann@kommune.no", Start: reporting.MustDate("2021-05-01"),
				Identifiers: []map[string]any{kinsAccount("ola.nordmann")}, Units: units("sykehjem"), Roles: units("mobil")},
			{ID: "e212", Name: "Kari Ødegård", Email: "Kari.Odegard@kommune.no", Start: reporting.MustDate("2024-12-01"),
				Identifiers: []map[string]any{kinsAccount("kari")}, Units: units("sykehjem"), Roles: units("mobil")},
			{ID: "e213", Name: "Per Vikar", Email: "per.vikar@kommune.no", Start: reporting.MustDate("2024-10-01"),
				Identifiers: []map[string]any{kinsAccount("per")}, Units: units("sykehjem"), Roles: units("mobil")},
			{ID: "e301", Name: "Trine Tekniker", Email: "trine@kommune.no", Start: reporting.MustDate("2023-01-01"),
				Identifiers: []map[string]any{{"account": map[string]any{"homePage": cmi5LMS, "name": "trine"}}},
				Units:       units("it"), Roles: units("sensitiv")},
		},
	}
	if step >= 2 {
		// From 1 June Kari handles special-category data.
		imp.Effective = reporting.MustDate("2025-06-01")
		imp.People[3].Roles = units("sensitiv")
	}
	if step >= 3 {
		// From 1 September: Per has left, Nils started on 15 August (he
		// took the first modules before HR registered him), Åse starts on
		// 20 September, and HR has Trine's KS Læring account.
		imp.Effective = reporting.MustDate("2025-09-01")
		// HR now exports Trine's KS Læring account too.
		imp.People[5].Identifiers = append(imp.People[5].Identifiers, kinsAccount("trine"))
		imp.People = append(imp.People[:4], imp.People[5],
			reporting.PersonIn{ID: "e214", Name: "Nils Ny", Email: "nils.ny@kommune.no", Start: reporting.MustDate("2025-08-15"),
				Identifiers: []map[string]any{kinsAccount("nils.ny")}, Units: units("sykehjem"), Roles: units("mobil")},
			reporting.PersonIn{ID: "e400", Name: "Åse Lærer", Email: "ase.laerer@kommune.no", Start: reporting.MustDate("2025-09-20"),
				Units: units("skole"), Roles: units("adm")})
	}
	return imp
}

func units(ids ...string) []reporting.Assignment {
	out := make([]reporting.Assignment, len(ids))
	for i, id := range ids {
		out[i] = reporting.Assignment{ID: id}
	}
	return out
}

// scenario drives the stores and names statements by label.
type scenario struct {
	t      *testing.T
	rep    reporting.Store
	stmts  IngestStore
	labels map[string]string // statement id -> label
	posts  int
}

func (s *scenario) id(label string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("kins/"+label)).String()
}

// post stores statements as the LRS does (id, stored, authority, version
// set; indexed), then runs the ingest hook, like the service after each
// POST. A scenario without a statements store only projects them.
func (s *scenario) post(stored time.Time, labelled ...any) {
	s.t.Helper()
	var recs []*statements.Record
	var trees []map[string]any
	for i := 0; i < len(labelled); i += 2 {
		label, st := labelled[i].(string), labelled[i+1].(map[string]any)
		id := s.id(label)
		s.labels[id] = label
		rec, tree := record(s.t, tenant, id, stored, st)
		recs = append(recs, rec)
		trees = append(trees, tree)
	}
	// Half the requests go through each ingest path the service has:
	// Commit, or (when that fails for the projection's sake) Insert then
	// Ingest. Both must give the same reports.
	if s.stmts == nil {
		must(s.t, reporting.Ingest(ctx, s.rep, tenant, recs, trees))
		return
	}
	s.posts++
	if s.posts%2 == 0 {
		facts, voids, err := reporting.Projection(recs, trees)
		must(s.t, err)
		must(s.t, s.stmts.Commit(ctx, &ingest.Unit{Tenant: tenant, Records: recs, Facts: facts, Retractions: voids}))
		return
	}
	must(s.t, s.stmts.Insert(ctx, recs, nil))
	must(s.t, reporting.Ingest(ctx, s.rep, tenant, recs, trees))
}

// record returns statement st as the LRS stores it in tenant under id
// (stored, authority and version set; indexed), with its tree.
func record(t *testing.T, tenant, id string, stored time.Time, st map[string]any) (*statements.Record, map[string]any) {
	t.Helper()
	raw, err := json.Marshal(st)
	must(t, err)
	tree, err := statements.ParseStatement(raw, statements.V103)
	if err != nil {
		t.Fatalf("statement %s: %v\n%s", id, err, raw)
	}
	hash := statements.ContentHash(tree)
	tree["id"] = id
	tree["stored"] = stored.UTC().Format("2006-01-02T15:04:05.000Z")
	if _, ok := tree["timestamp"]; !ok {
		tree["timestamp"] = tree["stored"]
	}
	tree["authority"] = map[string]any{"objectType": "Agent", "account": map[string]any{"homePage": "https://lrs.kommune.no", "name": "lms-key"}}
	tree["version"] = "1.0.0"
	statements.Normalize(tree)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	must(t, enc.Encode(tree))
	rec := &statements.Record{Tenant: tenant, ID: id, Stored: stored.UTC(), Authority: "lms-key", Hash: hash,
		JSON: bytes.TrimSuffix(buf.Bytes(), []byte("\n"))}
	statements.Index(tree, rec)
	return rec, tree
}

// Statement builders, shaped like what each platform sends.

func moodleUser(name, username string) map[string]any {
	return map[string]any{"name": name, "account": map[string]any{"homePage": ksl, "name": username}}
}

func moodle(actor map[string]any, verb string, module int, ts string, result map[string]any) map[string]any {
	st := map[string]any{
		"actor": actor,
		"verb":  map[string]any{"id": "http://adlnet.gov/expapi/verbs/" + verb, "display": map[string]any{"nb": verb}},
		"object": map[string]any{"id": KSLModule(module), "definition": map[string]any{
			"type": "http://id.tincanapi.com/activitytype/lms/module", "name": map[string]any{"nb": fmt.Sprintf("KiNS modul %d", module)}}},
		"timestamp": ts,
		"context": map[string]any{
			"platform": "Moodle", "language": "nb",
			"extensions": map[string]any{"http://lrs.learninglocker.net/define/extensions/info": map[string]any{
				"https://moodle.org/": "4.1.2", "https://github.com/xAPI-vle/moodle-logstore_xapi": "v4.7.0", "event_name": "\\core\\event\\course_module_completion_updated"}},
			"contextActivities": map[string]any{
				"grouping": []any{
					map[string]any{"id": ksl, "definition": map[string]any{"type": "http://id.tincanapi.com/activitytype/lms", "name": map[string]any{"nb": "KS Læring"}}},
					map[string]any{"id": ksl + "/course/view.php?id=101", "definition": map[string]any{"type": "http://id.tincanapi.com/activitytype/lms/course"}},
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

func cmi5Actor(username string) map[string]any {
	return map[string]any{"objectType": "Agent", "account": map[string]any{"homePage": cmi5LMS, "name": username}}
}

// cmi5AU is a cmi5 defined statement from an AU.
func cmi5AU(actor map[string]any, verb, auPublisherID string, au int, ts string, result map[string]any) map[string]any {
	cats := []any{map[string]any{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}}
	if verb == "passed" || verb == "failed" || verb == "completed" {
		cats = append(cats, map[string]any{"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"})
	}
	st := map[string]any{
		"actor":  actor,
		"verb":   map[string]any{"id": "http://adlnet.gov/expapi/verbs/" + verb, "display": map[string]any{"en-US": verb}},
		"object": map[string]any{"objectType": "Activity", "id": fmt.Sprintf("%s/cmi5/au/%d", cmi5LMS, au)},
		"context": map[string]any{
			"registration":      "6fbd4b6c-1e2a-4c8e-9a55-0a1c2b3d4e5f",
			"contextActivities": map[string]any{"category": cats, "grouping": []any{map[string]any{"id": auPublisherID}}},
			"extensions":        map[string]any{"https://w3id.org/xapi/cmi5/context/extensions/sessionid": "s-" + ts},
		},
		"timestamp": ts,
	}
	if result != nil {
		st["result"] = result
	}
	return st
}

// cmi5Satisfied is the LMS's statement that a course's moveOn criteria
// are met.
func cmi5Satisfied(actor map[string]any, coursePublisherID string, course int, ts string) map[string]any {
	return map[string]any{
		"actor": actor,
		"verb":  map[string]any{"id": "https://w3id.org/xapi/adl/verbs/satisfied", "display": map[string]any{"en-US": "satisfied"}},
		"object": map[string]any{"objectType": "Activity", "id": fmt.Sprintf("%s/cmi5/course/%d", cmi5LMS, course),
			"definition": map[string]any{"type": "https://w3id.org/xapi/cmi5/activitytype/course"}},
		"context": map[string]any{
			"registration": "0c9d1f6e-7b7a-4a53-8f0e-2c6f0e4b9d11",
			"contextActivities": map[string]any{
				"category": []any{map[string]any{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}},
				"grouping": []any{map[string]any{"id": coursePublisherID}},
			},
			"extensions": map[string]any{"https://w3id.org/xapi/cmi5/context/extensions/sessionid": "lms-" + ts},
		},
		"timestamp": ts,
	}
}

// scormProfile is a statement of a SCORM player following the ADL SCORM
// profile: the SCO as object, the package in the grouping.
func scormProfile(actor map[string]any, verb, ts string, result map[string]any) map[string]any {
	st := map[string]any{
		"actor":  actor,
		"verb":   map[string]any{"id": "http://adlnet.gov/expapi/verbs/" + verb, "display": map[string]any{"en-US": verb}},
		"object": map[string]any{"id": fysisk + "/sco-1", "definition": map[string]any{"type": "http://adlnet.gov/expapi/activities/lesson"}},
		"context": map[string]any{"contextActivities": map[string]any{
			"grouping": []any{map[string]any{"id": fysisk, "definition": map[string]any{"type": "http://adlnet.gov/expapi/activities/course"}}},
			"category": []any{map[string]any{"id": "https://w3id.org/xapi/scorm", "definition": map[string]any{"type": "http://adlnet.gov/expapi/activities/profile"}}},
		}},
		"timestamp": ts,
	}
	if result != nil {
		st["result"] = result
	}
	return st
}

// moodleSession returns the registration logstore_xapi gives the
// statements of one Moodle session (a UUID v5 of the session key).
func moodleSession(name string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("moodle-session/"+name)).String()
}

func voiding(target string) map[string]any {
	return map[string]any{
		"actor":  map[string]any{"mbox": "mailto:lms-admin@kommune.no", "name": "LMS-administrator"},
		"verb":   map[string]any{"id": "http://adlnet.gov/expapi/verbs/voided", "display": map[string]any{"en-US": "voided"}},
		"object": map[string]any{"objectType": "StatementRef", "id": target},
	}
}

func scored(scaled float64, success bool) map[string]any {
	return map[string]any{"score": map[string]any{"scaled": scaled}, "success": success}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// RunKiNS runs the scenario against a fresh store pair (both backed by the
// same database, as the service has them).
func RunKiNS(t *testing.T, open func(t *testing.T) (reporting.Store, IngestStore)) {
	rep, stm := open(t)
	s := &scenario{t: t, rep: rep, stmts: stm, labels: map[string]string{}}

	mods, rules, camp := KiNSCatalog()
	for _, m := range mods {
		must(t, m.Validate())
		must(t, rep.PutModule(ctx, tenant, m))
	}
	for _, r := range rules {
		must(t, r.Validate())
		must(t, rep.PutRule(ctx, tenant, r))
	}
	must(t, camp.Validate())
	must(t, rep.PutCampaign(ctx, tenant, camp))

	randi := moodleUser("Randi Rådmann", "randi")
	randiMbox := map[string]any{"mbox": "mailto:Randi.Radmann@kommune.no", "name": "Randi Rådmann"}
	helge := moodleUser("Helge Helsesjef", "helge")
	ola := moodleUser("Ola Nordmann", "ola.nordmann")
	kari := moodleUser("Kari Ødegård", "kari")
	per := moodleUser("Per Vikar", "per")
	nils := moodleUser("Nils Ny", "nils.ny")
	ase := map[string]any{"mbox": "mailto:ase.laerer@kommune.no", "name": "Åse Lærer"}
	karicmi5 := map[string]any{"objectType": "Agent", "mbox": "mailto:kari.odegard@kommune.no"}

	// History from before the LRS had a roster.
	s.post(at("2023-06-01T12:00:00Z"), "randi-8-2023", moodle(randi, "completed", 8, "2023-06-01T11:58:00+02:00", nil))
	s.post(at("2024-03-01T09:00:00Z"), "randi-2", moodle(randi, "completed", 2, "2024-03-01T08:59:00Z", nil))
	// Module 5 (completed and passed, with a minimum score): Moodle sends
	// the module's completion and the SCORM status with its score as
	// statements of one session (its registration).
	s.post(at("2024-09-01T10:00:00Z"),
		"randi-5-completed", inSession(moodle(randi, "completed", 5, "2024-09-01T09:40:00Z", nil), moodleSession("randi-5")),
		"randi-5-passed", inSession(moodle(randi, "passed", 5, "2024-09-01T09:41:00Z", scored(0.9, true)), moodleSession("randi-5")))
	s.post(at("2024-11-05T10:00:10Z"), "randi-1", moodle(randi, "completed", 1, "2024-11-05T10:00:00Z", nil))
	s.post(at("2024-12-01T13:00:00Z"), "trine-1", moodle(moodleUser("Trine Tekniker", "trine"), "completed", 1, "2024-12-01T12:30:00Z", nil))

	_, err := rep.ImportRoster(ctx, tenant, kinsRoster(1), at("2025-01-06T07:00:00Z"))
	must(t, err)

	s.post(at("2025-01-15T10:05:00Z"),
		"ola-1", moodle(ola, "completed", 1, "2025-01-15T10:00:00Z", nil),
		"ola-2", moodle(ola, "completed", 2, "2025-01-15T10:30:00Z", nil))
	// The LMS takes back Ola's module 2 completion (recorded in error).
	s.post(at("2025-02-01T08:00:00Z"), "void-ola-2", voiding(s.id("ola-2")))
	s.post(at("2025-02-01T12:00:00Z"),
		"kari-1", moodle(kari, "completed", 1, "2025-02-01T11:00:00Z", nil),
		"kari-2", moodle(kari, "completed", 2, "2025-02-01T11:45:00Z", nil))
	s.post(at("2025-02-10T14:00:00Z"),
		"randi-3", cmi5Satisfied(randiMbox, trusler, 3, "2025-02-10T13:59:00Z"),
		"per-1", moodle(per, "completed", 1, "2025-02-10T13:00:00Z", nil))
	s.post(at("2025-03-01T10:00:00Z"), "randi-6-au1", cmi5AU(randiMbox, "passed", utvidetAU1, 61, "2025-03-01T09:50:00Z", scored(0.95, true)))
	s.post(at("2025-03-03T10:00:00Z"), "ola-3", moodle(ola, "completed", 3, "2025-03-03T09:00:00Z", nil))
	s.post(at("2025-04-02T10:00:00Z"), "randi-7", map[string]any{
		"actor":     randiMbox,
		"verb":      map[string]any{"id": "http://adlnet.gov/expapi/verbs/passed", "display": map[string]any{"nb-NO": "bestått"}},
		"object":    map[string]any{"id": erDet, "definition": map[string]any{"name": map[string]any{"nb-NO": "Er det sikkert?"}}},
		"result":    map[string]any{"success": true, "completion": true},
		"timestamp": "2025-04-02T09:00:00Z",
	})
	s.post(at("2025-05-04T10:00:00Z"),
		"trine-6-au1", cmi5AU(cmi5Actor("trine"), "passed", utvidetAU1, 61, "2025-05-02T10:00:00Z", scored(0.9, true)),
		"trine-6-au2-failed", cmi5AU(cmi5Actor("trine"), "failed", utvidetAU2, 62, "2025-05-03T10:00:00Z", scored(0.5, false)),
		"trine-6-au2", cmi5AU(cmi5Actor("trine"), "passed", utvidetAU2, 62, "2025-05-04T09:00:00Z", scored(0.85, true)),
		"trine-6-satisfied", cmi5Satisfied(cmi5Actor("trine"), utvidet, 6, "2025-05-04T09:00:05Z"))
	s.post(at("2025-05-05T12:00:00Z"), "helge-4", scormProfile(helge, "completed", "2025-05-05T11:00:00Z", map[string]any{"completion": true}))

	_, err = rep.ImportRoster(ctx, tenant, kinsRoster(2), at("2025-06-03T06:00:00Z"))
	must(t, err)

	s.post(at("2025-06-20T09:00:00Z"),
		"kari-5-completed", inSession(moodle(kari, "completed", 5, "2025-06-20T08:00:00Z", nil), moodleSession("kari-5")),
		"kari-5-passed", inSession(moodle(kari, "passed", 5, "2025-06-20T08:01:00Z", scored(0.8, true)), moodleSession("kari-5")))
	// Ola's module 4 completion from March reaches the LRS only in June
	// (the LMS re-sent a backlog).
	s.post(at("2025-06-20T09:30:00Z"), "ola-4", moodle(ola, "completed", 4, "2025-03-10T10:00:00Z", nil))
	s.post(at("2025-06-26T10:00:00Z"),
		"kari-6-au1", cmi5AU(karicmi5, "passed", utvidetAU1, 61, "2025-06-25T10:00:00Z", scored(0.9, true)),
		"kari-6-au2", cmi5AU(karicmi5, "passed", utvidetAU2, 62, "2025-06-26T09:00:00Z", scored(0.92, true)))
	// A voiding statement that arrives before the statement it voids.
	s.post(at("2025-06-28T08:00:00Z"), "void-kari-8", voiding(s.id("kari-8")))
	s.post(at("2025-06-29T08:00:00Z"), "kari-8", moodle(kari, "completed", 8, "2025-06-27T15:00:00Z", nil))

	s.post(at("2025-08-01T10:00:00Z"),
		"helge-5-completed", inSession(moodle(helge, "completed", 5, "2025-08-01T09:00:00Z", nil), moodleSession("helge-5-august")),
		"helge-5-passed-low", inSession(moodle(helge, "passed", 5, "2025-08-01T09:05:00Z", scored(0.7, true)), moodleSession("helge-5-august")))
	s.post(at("2025-08-20T12:00:00Z"),
		"nils-1", moodle(nils, "completed", 1, "2025-08-20T10:00:00Z", nil),
		"nils-2", moodle(nils, "completed", 2, "2025-08-20T10:20:00Z", nil),
		"nils-3", moodle(nils, "completed", 3, "2025-08-20T10:40:00Z", nil),
		"nils-4", moodle(nils, "completed", 4, "2025-08-20T11:00:00Z", nil),
		"nils-8", moodle(nils, "completed", 8, "2025-08-20T11:20:00Z", nil))

	// Before HR registers Nils, his statements are unmatched.
	s.checkUnmatched(reporting.Options{AsOf: at("2025-09-01T12:00:00Z")}, []string{
		"account:https://kslaring.no nils.ny Nils Ny facts=5 2025-08-20T10:00:00Z..2025-08-20T11:20:00Z [kins-1 kins-2 kins-3 kins-4 kins-8]",
		"account:https://kslaring.no trine Trine Tekniker facts=1 2024-12-01T12:30:00Z..2024-12-01T12:30:00Z [kins-1]",
	})

	_, err = rep.ImportRoster(ctx, tenant, kinsRoster(3), at("2025-09-02T06:00:00Z"))
	must(t, err)

	s.post(at("2025-09-20T10:00:00Z"), "helge-1", moodle(helge, "completed", 1, "2025-09-20T09:00:00Z", nil))
	s.post(at("2025-10-01T09:00:00Z"), "unknown-1", moodle(map[string]any{"mbox": "mailto:ukjent@kommune.no", "name": "Ukjent Bruker"}, "completed", 1, "2025-10-01T08:00:00Z", nil))
	s.post(at("2025-10-02T09:00:00Z"), "kari-3", moodle(kari, "completed", 3, "2025-10-02T08:00:00Z", nil))
	s.post(at("2025-10-05T09:00:00Z"), "helge-3", moodle(helge, "completed", 3, "2025-10-05T08:00:00Z", nil))
	s.post(at("2025-10-06T09:00:00Z"), "nils-3-launched", moodle(nils, "launched", 3, "2025-10-06T08:00:00Z", nil))
	s.post(at("2025-10-08T09:00:00Z"), "ase-2", moodle(map[string]any{"mbox": "mailto:ase.laerer@kommune.no"}, "completed", 2, "2025-10-08T08:00:00Z", nil))
	s.post(at("2025-10-09T09:00:00Z"), "ase-5-terminated", map[string]any{
		"actor":     ase,
		"verb":      map[string]any{"id": "http://adlnet.gov/expapi/verbs/terminated", "display": map[string]any{"en-US": "terminated"}},
		"object":    map[string]any{"id": KSLModule(5)},
		"result":    map[string]any{"completion": true, "success": true, "score": map[string]any{"scaled": 0.92}, "duration": "PT25M"},
		"timestamp": "2025-10-09T08:00:00Z",
	})
	s.post(at("2025-10-10T09:00:00Z"),
		"ase-1-launched", moodle(map[string]any{"mbox": "mailto:ase.laerer@kommune.no"}, "launched", 1, "2025-10-10T08:00:00Z", nil),
		"randi-8-2025", moodle(randi, "completed", 8, "2025-10-10T07:00:00Z", nil))
	s.post(at("2025-10-12T09:00:00Z"),
		"helge-5-passed", inSession(moodle(helge, "passed", 5, "2025-10-12T08:00:00Z", scored(0.85, true)), moodleSession("helge-5-october")),
		"helge-5-completed-again", inSession(moodle(helge, "completed", 5, "2025-10-12T08:01:00Z", nil), moodleSession("helge-5-october")))
	s.post(at("2025-10-14T09:00:00Z"), "helge-8-launched", moodle(helge, "launched", 8, "2025-10-14T08:00:00Z", nil))

	checks := s.checks()
	t.Run("Ingested", func(t *testing.T) {
		for _, c := range checks {
			t.Run(c.name, func(t *testing.T) { c.fn(t, s) })
		}
	})

	// The projection is derived data: rebuilt from the statements, it
	// gives the same reports.
	n, err := reporting.Rebuild(ctx, stm, rep, tenant)
	must(t, err)
	if n != 45 { // 47 posted, 2 of them voided
		t.Errorf("rebuild read %d statements, want 45", n)
	}
	t.Run("Rebuilt", func(t *testing.T) {
		for _, c := range checks {
			t.Run(c.name, func(t *testing.T) { c.fn(t, s) })
		}
	})
}

// check is one report and what it must give.
type check struct {
	name string
	fn   func(t *testing.T, s *scenario)
}

// report checks the rows of a status report; it returns the summary.
func (s *scenario) report(t *testing.T, q reporting.Query, want []string) *reporting.Summary {
	t.Helper()
	var got []string
	sum, err := reporting.Report(ctx, s.rep, tenant, q, func(r *reporting.Row) error {
		got = append(got, s.fmtRow(r))
		return nil
	})
	must(t, err)
	checkEqual(t, "rows", got, want)
	return sum
}

func fmtCounts(c *reporting.Counts) string {
	if c == nil {
		return "none"
	}
	var parts []string
	for _, st := range reporting.Statuses {
		if n := c.Status[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", st, n))
		}
	}
	return fmt.Sprintf("rows=%d compliant=%d %.1f%% %s", c.Rows, c.Compliant, c.Percent, strings.Join(parts, " "))
}

// fmtRow renders a row compactly: person, module, campaign, status, due,
// completion, expiry, score, evidence labels (with stored times when
// stored on another day than the statement's timestamp).
func (s *scenario) fmtRow(r *reporting.Row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Person, r.Module)
	if r.Campaign != "" {
		fmt.Fprintf(&b, " [%s]", r.Campaign)
	}
	fmt.Fprintf(&b, " %s", r.Status)
	if r.Due != 0 {
		fmt.Fprintf(&b, " due=%s", r.Due)
	}
	if !r.Completed.IsZero() {
		fmt.Fprintf(&b, " done=%s", r.Completed.UTC().Format(time.RFC3339))
	}
	if r.Expires != 0 {
		fmt.Fprintf(&b, " expires=%s", r.Expires)
	}
	if r.Score != nil {
		fmt.Fprintf(&b, " score=%g", *r.Score)
	}
	for _, e := range r.Evidence {
		label := s.labels[e.Statement]
		if label == "" {
			label = e.Statement
		}
		b.WriteString(" " + label)
		if e.Timestamp.Format("2006-01-02") != e.Stored.Format("2006-01-02") {
			fmt.Fprintf(&b, "(stored %s)", e.Stored.Format("2006-01-02"))
		}
	}
	return b.String()
}

func (s *scenario) checkUnmatched(opts reporting.Options, want []string) {
	s.t.Helper()
	list, err := reporting.Unmatched(ctx, s.rep, tenant, opts)
	must(s.t, err)
	got := []string{}
	for _, u := range list {
		got = append(got, fmt.Sprintf("%s %s facts=%d %s..%s %v", u.Agent, u.Name, u.Facts,
			u.First.Format(time.RFC3339), u.Last.Format(time.RFC3339), u.Modules))
	}
	checkEqual(s.t, "unmatched learners", got, want)
}

// The expected rows below were worked out by hand from the statements
// and the roster above; the comments give the reasons.

// octoberRows is the whole organisation on 15 October 2025.
var octoberRows = []string{
	// Randi, leader since 2015: all 8 modules, due 90 days after she
	// started. Module 1 (valid a year) expires on 5 November: within 30
	// days. Module 5 expired on 1 September. Module 6 needs both AUs; she
	// passed one. Module 8 expired in June and was renewed on 10 October.
	"e100 kins-1 expiring-soon due=2015-05-30 done=2024-11-05T10:00:00Z expires=2025-11-05 randi-1",
	"e100 kins-2 completed due=2015-05-30 done=2024-03-01T08:59:00Z randi-2",
	"e100 kins-3 completed due=2015-05-30 done=2025-02-10T13:59:00Z randi-3",
	"e100 kins-4 overdue due=2015-05-30",
	"e100 kins-5 expired due=2015-05-30 done=2024-09-01T09:41:00Z expires=2025-09-01 score=0.9 randi-5-completed randi-5-passed",
	"e100 kins-6 overdue due=2015-05-30",
	"e100 kins-7 completed due=2015-05-30 done=2025-04-02T09:00:00Z randi-7",
	"e100 kins-8 completed due=2015-05-30 done=2025-10-10T07:00:00Z expires=2027-10-10 randi-8-2025",
	// Helge (adm): module 4 through the SCORM-profile package; module 5's
	// first session (1 August) passed with 0.7, under the 0.8 required,
	// the second (12 October) with 0.85: the completion is that session's
	// alone, dated and expiring from it. He is in the campaign (unit helse)
	// and completed module 3 in October.
	"e200 kins-1 completed due=2020-03-02 done=2025-09-20T09:00:00Z expires=2026-09-20 helge-1",
	"e200 kins-2 overdue due=2020-03-02",
	"e200 kins-3 completed due=2020-03-02 done=2025-10-05T08:00:00Z helge-3",
	"e200 kins-4 completed due=2020-03-02 done=2025-05-05T11:00:00Z helge-4",
	"e200 kins-5 completed due=2020-03-02 done=2025-10-12T08:01:00Z expires=2026-10-12 score=0.85 helge-5-passed helge-5-completed-again",
	"e200 kins-8 overdue due=2020-03-02",
	"e200 kins-3 [okt-2025] completed due=2025-10-31 done=2025-10-05T08:00:00Z helge-3",
	// Ola (mobil): module 2 was voided; module 4's record arrived in June;
	// his module 3 from March does not count for the October campaign.
	"e211 kins-1 completed due=2021-05-31 done=2025-01-15T10:00:00Z expires=2026-01-15 ola-1",
	"e211 kins-2 overdue due=2021-05-31",
	"e211 kins-3 completed due=2021-05-31 done=2025-03-03T09:00:00Z ola-3",
	"e211 kins-4 completed due=2021-05-31 done=2025-03-10T10:00:00Z ola-4(stored 2025-06-20)",
	"e211 kins-8 overdue due=2021-05-31",
	"e211 kins-3 [okt-2025] not-started due=2025-10-31",
	// Kari: sensitiv since 1 June, so 7 modules due 1 July. Module 6 from
	// both AUs through the cmi5 LMS (her mbox in another case than HR's);
	// module 8's statement was voided before it arrived.
	"e212 kins-1 completed due=2025-07-01 done=2025-02-01T11:00:00Z expires=2026-02-01 kari-1",
	"e212 kins-2 completed due=2025-07-01 done=2025-02-01T11:45:00Z kari-2",
	"e212 kins-3 completed due=2025-07-01 done=2025-10-02T08:00:00Z kari-3",
	"e212 kins-4 overdue due=2025-07-01",
	"e212 kins-5 completed due=2025-07-01 done=2025-06-20T08:01:00Z expires=2026-06-20 score=0.8 kari-5-completed kari-5-passed",
	"e212 kins-6 completed due=2025-07-01 done=2025-06-26T09:00:00Z score=0.9 kari-6-au1(stored 2025-06-26) kari-6-au2",
	"e212 kins-8 overdue due=2025-07-01",
	"e212 kins-3 [okt-2025] completed due=2025-10-31 done=2025-10-02T08:00:00Z kari-3",
	// Nils: his August statements count now that HR has him; he launched
	// module 3 in October.
	"e214 kins-1 completed due=2025-09-14 done=2025-08-20T10:00:00Z expires=2026-08-20 nils-1",
	"e214 kins-2 completed due=2025-09-14 done=2025-08-20T10:20:00Z nils-2",
	"e214 kins-3 completed due=2025-09-14 done=2025-08-20T10:40:00Z nils-3",
	"e214 kins-4 completed due=2025-09-14 done=2025-08-20T11:00:00Z nils-4",
	"e214 kins-8 completed due=2025-09-14 done=2025-08-20T11:20:00Z expires=2027-08-20 nils-8",
	"e214 kins-3 [okt-2025] in-progress due=2025-10-31",
	// Trine: module 1 through the account HR added in September; module 6
	// through the LMS's satisfied statement for the course (which lasts
	// longer than her AU passes).
	"e301 kins-1 completed due=2023-01-31 done=2024-12-01T12:30:00Z expires=2025-12-01 trine-1",
	"e301 kins-2 overdue due=2023-01-31",
	"e301 kins-3 overdue due=2023-01-31",
	"e301 kins-4 overdue due=2023-01-31",
	"e301 kins-5 overdue due=2023-01-31",
	"e301 kins-6 completed due=2023-01-31 done=2025-05-04T09:00:05Z trine-6-satisfied",
	"e301 kins-8 overdue due=2023-01-31",
	// Åse started 20 September: due 20 October, within 14 days. Module 5
	// from a terminated statement's result.
	"e400 kins-1 in-progress due=2025-10-20",
	"e400 kins-2 completed due=2025-10-20 done=2025-10-08T08:00:00Z ase-2",
	"e400 kins-3 due due=2025-10-20",
	"e400 kins-4 due due=2025-10-20",
	"e400 kins-5 completed due=2025-10-20 done=2025-10-09T08:00:00Z expires=2026-10-09 score=0.92 ase-5-terminated",
	"e400 kins-8 due due=2025-10-20",
}

func rowsOf(rows []string, people ...string) []string {
	var out []string
	for _, r := range rows {
		for _, p := range people {
			if strings.HasPrefix(r, p+" ") {
				out = append(out, r)
			}
		}
	}
	return out
}

func (s *scenario) checks() []check {
	october := reporting.Options{AsOf: at("2025-10-15T12:00:00+02:00"), Location: oslo}
	return []check{
		{"Trend", func(t *testing.T, s *scenario) { s.checkTrend(t) }},
		{"October", func(t *testing.T, s *scenario) {
			sum := s.report(t, reporting.Query{Options: october}, octoberRows)
			if sum.People != 7 || sum.Day != reporting.MustDate("2025-10-15") {
				t.Errorf("summary: %d people, day %s", sum.People, sum.Day)
			}
			checkEqual(t, "summary", map[string]string{
				"total":           fmtCounts(&sum.Total),
				"unit kommune":    fmtCounts(sum.Units["kommune"]),
				"unit helse":      fmtCounts(sum.Units["helse"]),
				"unit sykehjem":   fmtCounts(sum.Units["sykehjem"]),
				"unit it":         fmtCounts(sum.Units["it"]),
				"unit skole":      fmtCounts(sum.Units["skole"]),
				"role leder":      fmtCounts(sum.Roles["leder"]),
				"role adm":        fmtCounts(sum.Roles["adm"]),
				"role mobil":      fmtCounts(sum.Roles["mobil"]),
				"role sensitiv":   fmtCounts(sum.Roles["sensitiv"]),
				"module kins-3":   fmtCounts(sum.Modules["kins-3"]),
				"module kins-6":   fmtCounts(sum.Modules["kins-6"]),
				"campaign":        fmtCounts(sum.Campaigns["okt-2025"]),
				"other campaigns": fmt.Sprint(len(sum.Campaigns)),
			}, map[string]string{
				"total":           "rows=48 compliant=28 58.3% completed=27 expiring-soon=1 expired=1 overdue=13 due=3 in-progress=2 not-started=1",
				"unit kommune":    "rows=48 compliant=28 58.3% completed=27 expiring-soon=1 expired=1 overdue=13 due=3 in-progress=2 not-started=1",
				"unit helse":      "rows=27 compliant=19 70.4% completed=19 overdue=6 in-progress=1 not-started=1",
				"unit sykehjem":   "rows=20 compliant=14 70.0% completed=14 overdue=4 in-progress=1 not-started=1",
				"unit it":         "rows=7 compliant=2 28.6% completed=2 overdue=5",
				"unit skole":      "rows=6 compliant=2 33.3% completed=2 due=3 in-progress=1",
				"role leder":      "rows=8 compliant=5 62.5% completed=4 expiring-soon=1 expired=1 overdue=2",
				"role adm":        "rows=12 compliant=6 50.0% completed=6 overdue=2 due=3 in-progress=1",
				"role mobil":      "rows=10 compliant=8 80.0% completed=8 overdue=2",
				"role sensitiv":   "rows=14 compliant=7 50.0% completed=7 overdue=7",
				"module kins-3":   "rows=11 compliant=7 63.6% completed=7 overdue=1 due=1 in-progress=1 not-started=1",
				"module kins-6":   "rows=3 compliant=2 66.7% completed=2 overdue=1",
				"campaign":        "rows=4 compliant=2 50.0% completed=2 in-progress=1 not-started=1",
				"other campaigns": "1",
			})
		}},
		{"OctoberUnit", func(t *testing.T, s *scenario) {
			// One unit subtree: Helse og omsorg and its nursing home.
			sum := s.report(t, reporting.Query{Options: october, Units: []string{"helse"}}, rowsOf(octoberRows, "e200", "e211", "e212", "e214"))
			if len(sum.Units) != 2 || sum.Units["kommune"] != nil {
				t.Errorf("summary units %v, want helse and sykehjem only", sum.Units)
			}
		}},
		{"OctoberFilters", func(t *testing.T, s *scenario) {
			s.report(t, reporting.Query{Options: october, Roles: []string{"sensitiv"}, Modules: []string{"kins-6"}}, []string{
				"e212 kins-6 completed due=2025-07-01 done=2025-06-26T09:00:00Z score=0.9 kari-6-au1(stored 2025-06-26) kari-6-au2",
				"e301 kins-6 completed due=2023-01-31 done=2025-05-04T09:00:05Z trine-6-satisfied",
			})
			s.report(t, reporting.Query{Options: october, People: []string{"e400", "e999"}}, rowsOf(octoberRows, "e400"))
			s.report(t, reporting.Query{Options: october, Units: []string{"no-such-unit"}}, nil)
		}},
		{"EndOfJune", func(t *testing.T, s *scenario) {
			// The roster of 30 June: Per is still employed; Nils and Åse
			// are not yet. Randi's module 8 from 2023 expired on 1 June;
			// Kari's new modules are due tomorrow.
			s.report(t, reporting.Query{Options: reporting.Options{AsOf: at("2025-06-30T22:00:00+02:00"), Location: oslo}}, []string{
				"e100 kins-1 completed due=2015-05-30 done=2024-11-05T10:00:00Z expires=2025-11-05 randi-1",
				"e100 kins-2 completed due=2015-05-30 done=2024-03-01T08:59:00Z randi-2",
				"e100 kins-3 completed due=2015-05-30 done=2025-02-10T13:59:00Z randi-3",
				"e100 kins-4 overdue due=2015-05-30",
				"e100 kins-5 completed due=2015-05-30 done=2024-09-01T09:41:00Z expires=2025-09-01 score=0.9 randi-5-completed randi-5-passed",
				"e100 kins-6 overdue due=2015-05-30",
				"e100 kins-7 completed due=2015-05-30 done=2025-04-02T09:00:00Z randi-7",
				"e100 kins-8 expired due=2015-05-30 done=2023-06-01T09:58:00Z expires=2025-06-01 randi-8-2023",
				"e200 kins-1 overdue due=2020-03-02",
				"e200 kins-2 overdue due=2020-03-02",
				"e200 kins-3 overdue due=2020-03-02",
				"e200 kins-4 completed due=2020-03-02 done=2025-05-05T11:00:00Z helge-4",
				"e200 kins-5 overdue due=2020-03-02",
				"e200 kins-8 overdue due=2020-03-02",
				"e211 kins-1 completed due=2021-05-31 done=2025-01-15T10:00:00Z expires=2026-01-15 ola-1",
				"e211 kins-2 overdue due=2021-05-31",
				"e211 kins-3 completed due=2021-05-31 done=2025-03-03T09:00:00Z ola-3",
				"e211 kins-4 completed due=2021-05-31 done=2025-03-10T10:00:00Z ola-4(stored 2025-06-20)",
				"e211 kins-8 overdue due=2021-05-31",
				"e212 kins-1 completed due=2025-07-01 done=2025-02-01T11:00:00Z expires=2026-02-01 kari-1",
				"e212 kins-2 completed due=2025-07-01 done=2025-02-01T11:45:00Z kari-2",
				"e212 kins-3 due due=2025-07-01",
				"e212 kins-4 due due=2025-07-01",
				"e212 kins-5 completed due=2025-07-01 done=2025-06-20T08:01:00Z expires=2026-06-20 score=0.8 kari-5-completed kari-5-passed",
				"e212 kins-6 completed due=2025-07-01 done=2025-06-26T09:00:00Z score=0.9 kari-6-au1(stored 2025-06-26) kari-6-au2",
				"e212 kins-8 due due=2025-07-01",
				"e213 kins-1 completed due=2024-10-31 done=2025-02-10T13:00:00Z expires=2026-02-10 per-1",
				"e213 kins-2 overdue due=2024-10-31",
				"e213 kins-3 overdue due=2024-10-31",
				"e213 kins-4 overdue due=2024-10-31",
				"e213 kins-8 overdue due=2024-10-31",
				"e301 kins-1 completed due=2023-01-31 done=2024-12-01T12:30:00Z expires=2025-12-01 trine-1",
				"e301 kins-2 overdue due=2023-01-31",
				"e301 kins-3 overdue due=2023-01-31",
				"e301 kins-4 overdue due=2023-01-31",
				"e301 kins-5 overdue due=2023-01-31",
				"e301 kins-6 completed due=2023-01-31 done=2025-05-04T09:00:05Z trine-6-satisfied",
				"e301 kins-8 overdue due=2023-01-31",
			})
		}},
		{"BackFilled", func(t *testing.T, s *scenario) {
			// Was Ola trained by 1 April? By the statements' timestamps,
			// module 4 was done on 10 March; but the LRS received that
			// record only in June: as known on 1 April, it was overdue.
			april := at("2025-04-01T00:00:00+02:00")
			s.report(t, reporting.Query{Options: reporting.Options{AsOf: april, Location: oslo}, People: []string{"e211"}}, []string{
				"e211 kins-1 completed due=2021-05-31 done=2025-01-15T10:00:00Z expires=2026-01-15 ola-1",
				"e211 kins-2 overdue due=2021-05-31",
				"e211 kins-3 completed due=2021-05-31 done=2025-03-03T09:00:00Z ola-3",
				"e211 kins-4 completed due=2021-05-31 done=2025-03-10T10:00:00Z ola-4(stored 2025-06-20)",
				"e211 kins-8 overdue due=2021-05-31",
			})
			s.report(t, reporting.Query{Options: reporting.Options{AsOf: april, KnownAt: april, Location: oslo}, People: []string{"e211"}}, []string{
				"e211 kins-1 completed due=2021-05-31 done=2025-01-15T10:00:00Z expires=2026-01-15 ola-1",
				"e211 kins-2 overdue due=2021-05-31",
				"e211 kins-3 completed due=2021-05-31 done=2025-03-03T09:00:00Z ola-3",
				"e211 kins-4 overdue due=2021-05-31",
				"e211 kins-8 overdue due=2021-05-31",
			})
		}},
		{"Voided", func(t *testing.T, s *scenario) {
			// Ola's module 2 was voided on 1 February. A report as of 31
			// January leaves it out (the voiding corrects the record); as
			// known on 31 January, before the voiding, it counted.
			jan := at("2025-01-31T23:00:00+01:00")
			q := reporting.Query{Options: reporting.Options{AsOf: jan, Location: oslo}, People: []string{"e211"}, Modules: []string{"kins-2"}}
			s.report(t, q, []string{"e211 kins-2 overdue due=2021-05-31"})
			q.KnownAt = jan
			s.report(t, q, []string{"e211 kins-2 completed due=2021-05-31 done=2025-01-15T10:30:00Z ola-2"})
			// Kari's module 8: voided before the statement arrived; never
			// counted.
			q = reporting.Query{Options: reporting.Options{AsOf: at("2025-06-29T12:00:00Z"), KnownAt: at("2025-06-29T12:00:00Z"), Location: oslo},
				People: []string{"e212"}, Modules: []string{"kins-8"}}
			s.report(t, q, []string{"e212 kins-8 due due=2025-07-01"})
		}},
		{"RosterAsKnown", func(t *testing.T, s *scenario) {
			// On 15 June, as HR's data stood before the import of 3 June
			// was recorded, Kari was still mobil (modules long overdue);
			// with what is known now, she became sensitiv on 1 June and
			// her modules are due on 1 July.
			june := at("2025-06-15T12:00:00+02:00")
			before := at("2025-06-02T12:00:00Z")
			s.report(t, reporting.Query{Options: reporting.Options{AsOf: june, KnownAt: before, Location: oslo}, People: []string{"e212"}}, []string{
				"e212 kins-1 completed due=2024-12-31 done=2025-02-01T11:00:00Z expires=2026-02-01 kari-1",
				"e212 kins-2 completed due=2024-12-31 done=2025-02-01T11:45:00Z kari-2",
				"e212 kins-3 overdue due=2024-12-31",
				"e212 kins-4 overdue due=2024-12-31",
				"e212 kins-8 overdue due=2024-12-31",
			})
			s.report(t, reporting.Query{Options: reporting.Options{AsOf: june, Location: oslo}, People: []string{"e212"}}, []string{
				"e212 kins-1 completed due=2025-07-01 done=2025-02-01T11:00:00Z expires=2026-02-01 kari-1",
				"e212 kins-2 completed due=2025-07-01 done=2025-02-01T11:45:00Z kari-2",
				"e212 kins-3 not-started due=2025-07-01",
				"e212 kins-4 not-started due=2025-07-01",
				"e212 kins-5 not-started due=2025-07-01",
				"e212 kins-6 not-started due=2025-07-01",
				"e212 kins-8 not-started due=2025-07-01",
			})
		}},
		{"Reminders", func(t *testing.T, s *scenario) {
			groups, err := reporting.Reminders(ctx, s.rep, tenant, reporting.Query{Options: october}, reporting.MustPeriod("P14D"))
			must(t, err)
			got := map[string][]string{}
			for _, g := range groups {
				key := g.Manager + " " + g.Name
				for _, r := range g.Rows {
					got[key] = append(got[key], fmt.Sprintf("%s %s %s", r.Person, r.Module, r.Status))
				}
			}
			checkEqual(t, "reminders", got, map[string][]string{
				// Randi reminds Helge (who manages helse himself), Trine
				// (it has no manager) and Åse (skole has none).
				"e100 Randi Rådmann": {"e200 kins-2 overdue", "e200 kins-8 overdue",
					"e301 kins-2 overdue", "e301 kins-3 overdue", "e301 kins-4 overdue", "e301 kins-5 overdue", "e301 kins-8 overdue",
					"e400 kins-1 in-progress", "e400 kins-3 due", "e400 kins-4 due", "e400 kins-8 due"},
				// Helge reminds the nursing home (it has no manager of
				// its own). The campaign is due after the 14 days.
				"e200 Helge Helsesjef": {"e211 kins-2 overdue", "e211 kins-8 overdue", "e212 kins-4 overdue", "e212 kins-8 overdue"},
				// Nobody is above the chief executive.
				" ": {"e100 kins-4 overdue", "e100 kins-5 expired", "e100 kins-6 overdue"},
			})
			if len(groups) != 3 || groups[2].Manager != "" {
				t.Errorf("groups in order %v, want e100, e200, then no manager", groups)
			}
		}},
		{"Transcripts", func(t *testing.T, s *scenario) {
			tr, err := reporting.PersonTranscript(ctx, s.rep, s.stmts, tenant, "e212", october)
			must(t, err)
			// Every piece of evidence, of a module or an entry, carries
			// the authority and the hash of its statement as stored.
			checkProof := func(e reporting.Evidence) {
				t.Helper()
				rec, err := s.stmts.Get(ctx, tenant, e.Statement)
				must(t, err)
				if sum := sha256.Sum256(rec.JSON); e.Authority != "lms-key" || e.SHA256 != hex.EncodeToString(sum[:]) {
					t.Errorf("transcript evidence %+v: want authority lms-key and the SHA-256 of the stored statement", e)
				}
			}
			var mods, entries []string
			for _, m := range tr.Modules {
				var ev []string
				for _, e := range m.Evidence {
					ev = append(ev, s.labels[e.Statement])
					checkProof(e)
				}
				mods = append(mods, fmt.Sprintf("%s %s %s %v", m.Module, m.Completed.Format(time.RFC3339), m.Expires, ev))
			}
			for _, e := range tr.Entries {
				entries = append(entries, fmt.Sprintf("%s %s %v", s.labels[e.Statement], e.Outcome, e.Modules))
				checkProof(e.Evidence)
			}
			if tr.Name != "Kari Ødegård" {
				t.Errorf("transcript name %q", tr.Name)
			}
			checkEqual(t, "Kari's modules", mods, []string{
				"kins-1 2025-02-01T11:00:00Z 2026-02-01 [kari-1]",
				"kins-2 2025-02-01T11:45:00Z  [kari-2]",
				"kins-3 2025-10-02T08:00:00Z  [kari-3]",
				"kins-5 2025-06-20T08:01:00Z 2026-06-20 [kari-5-completed kari-5-passed]",
				"kins-6 2025-06-26T09:00:00Z  [kari-6-au1 kari-6-au2]",
			})
			checkEqual(t, "Kari's entries", entries, []string{
				"kari-1 completed [kins-1]",
				"kari-2 completed [kins-2]",
				"kari-5-completed completed [kins-5]",
				"kari-5-passed passed [kins-5]",
				"kari-6-au1 passed [kins-6]",
				"kari-6-au2 passed [kins-6]",
				"kari-3 completed [kins-3]",
			})
			// Per has left; his transcript remains.
			tr, err = reporting.PersonTranscript(ctx, s.rep, s.stmts, tenant, "e213", october)
			must(t, err)
			if len(tr.Modules) != 1 || tr.Modules[0].Module != "kins-1" || s.labels[tr.Modules[0].Evidence[0].Statement] != "per-1" {
				t.Errorf("Per's transcript: %+v", tr.Modules)
			}
			_, err = reporting.PersonTranscript(ctx, s.rep, s.stmts, tenant, "e999", october)
			wantKind(t, "transcript of an unknown person", err, errs.NotFound)
		}},
		{"Unmatched", func(t *testing.T, s *scenario) {
			s.checkUnmatched(october, []string{
				"mbox:mailto:ukjent@kommune.no Ukjent Bruker facts=1 2025-10-01T08:00:00Z..2025-10-01T08:00:00Z [kins-1]",
			})
			// As the roster was known on 1 September.
			s.checkUnmatched(reporting.Options{AsOf: october.AsOf, KnownAt: at("2025-09-01T12:00:00Z")}, []string{
				"account:https://kslaring.no nils.ny Nils Ny facts=5 2025-08-20T10:00:00Z..2025-08-20T11:20:00Z [kins-1 kins-2 kins-3 kins-4 kins-8]",
				"account:https://kslaring.no trine Trine Tekniker facts=1 2024-12-01T12:30:00Z..2024-12-01T12:30:00Z [kins-1]",
			})
		}},
	}
}

// checkTrend checks that the trend of each month end of 2025 (and the
// 15th of October), of everyone, of a unit subtree, of a module, and as
// known at a past time, gives the summaries of the reports of those days.
func (s *scenario) checkTrend(t *testing.T) {
	days := reporting.MonthEnds(reporting.MustDate("2025-10-15"), 12)
	if days[0] != reporting.MustDate("2024-11-30") || days[9] != reporting.MustDate("2025-08-31") || days[11] != reporting.MustDate("2025-10-15") {
		t.Fatalf("MonthEnds: %v", days)
	}
	for _, q := range []reporting.Query{
		{},
		{Units: []string{"helse"}},
		{Modules: []string{"kins-1", "kins-5"}},
		{Roles: []string{"mobil"}},
		{Options: reporting.Options{KnownAt: at("2025-06-20T09:10:00Z")}, Units: []string{"sykehjem"}},
	} {
		q.Location = oslo
		trend, err := reporting.Trend(ctx, s.rep, tenant, q, days)
		must(t, err)
		if len(trend) != len(days) {
			t.Fatalf("%+v: %d summaries for %d days", q, len(trend), len(days))
		}
		people := 0
		for i, d := range days {
			rq := q
			rq.AsOf = d.AddDays(1).Start(oslo).Add(-time.Nanosecond)
			want, err := reporting.Report(ctx, s.rep, tenant, rq, func(*reporting.Row) error { return nil })
			must(t, err)
			checkEqual(t, fmt.Sprintf("trend of %+v on %s", q, d), trend[i], want)
			people += want.People
		}
		if people == 0 {
			t.Errorf("%+v: nobody in the trend", q)
		}
	}
	for _, bad := range [][]reporting.Date{nil, {days[1], days[0]}, {days[0], days[0]}} {
		if _, err := reporting.Trend(ctx, s.rep, tenant, reporting.Query{}, bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("trend of %v: %v", bad, err)
		}
	}
}
