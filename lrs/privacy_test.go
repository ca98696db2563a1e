package lrs_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/reporting/evidence"
	"github.com/xapi-lrs/lrs/tokens"
)

// newPrivacyServer is the KiNS scenario (reporting_test.go) on a server
// that signs evidence packs, with a data protection officer's credential
// ("dpo": privacy/read, privacy/write): Ola Nordmann (e211) completed
// modules 1 and 2 in January 2025; everyone else nothing. Trine (e301)
// sent a statement from the municipal LMS.
func newPrivacyServer(t *testing.T) (*testServer, []string) {
	t.Helper()
	tok, err := tokens.New(tokens.Config{Issuer: "https://lrs.test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := newReportingServerWith(t, func(cfg *lrs.Config) { cfg.Tokens = tok })
	for key, scopes := range map[string][]string{
		"dpo":       {auth.ScopePrivacyRead, auth.ScopePrivacyWrite},
		"dpo-read":  {auth.ScopePrivacyRead},
		"dpo-write": {auth.ScopePrivacyWrite},
	} {
		if err := ts.db.CreateCredential(context.Background(), &auth.Credential{Key: key, SecretHash: auth.HashSecret(key + "-secret"),
			Tenant: auth.DefaultTenant, Scopes: scopes, Created: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
	}
	ts.clock.Set(at("2025-01-05T08:00:00Z"))
	for id, body := range kinsModules() {
		expect(t, ts.hr("PUT", "/api/v1/modules/"+id, "", body), http.StatusCreated)
	}
	for id, body := range kinsRules {
		expect(t, ts.hr("PUT", "/api/v1/rules/"+id, "", body), http.StatusCreated)
	}
	ts.clock.Set(at("2025-01-06T07:00:00Z"))
	expect(t, ts.hr("POST", "/api/v1/roster/imports", "application/json", kinsRoster), http.StatusCreated)
	ids := ts.postAt("2025-01-22T12:00:00Z",
		moodle("ola.nordmann", "Ola Nordmann", "completed", 1, "2025-01-20T09:00:00Z", nil),
		moodle("ola.nordmann", "Ola Nordmann", "completed", 2, "2025-01-21T09:00:00Z", nil),
		cmi5("trine", "completed", "https://kins.example/cmi5/trusler/au1", trusler, "2025-01-21T10:00:00Z", nil))
	ts.clock.Set(at("2025-02-01T12:00:00Z"))
	return ts, ids
}

type accessLogAnswer struct {
	Person  string        `json:"person"`
	Entries []accessEntry `json:"entries"`
}

type accessEntry struct {
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor"`
	ActorKind string    `json:"actorKind"`
	What      string    `json:"what"`
	Subjects  []string  `json:"subjects"`
	Total     int       `json:"total"`
	Count     int       `json:"count"`
}

// accessLog returns the access log of a person as lines "actor what
// subjects/total count".
func (s *testServer) accessLog(person string) []string {
	s.t.Helper()
	r := s.do(req{method: "GET", path: "/api/v1/access-log?person=" + person, key: "dpo"})
	expect(s.t, r, http.StatusOK)
	var a accessLogAnswer
	r.json(s.t, &a)
	out := []string{}
	for _, e := range a.Entries {
		out = append(out, fmt.Sprintf("%s/%s %s %s/%d %d", e.ActorKind, e.Actor, e.What, strings.Join(e.Subjects, ","), e.Total, e.Count))
	}
	return out
}

// TestAccessLog reads people's data through every route that names them
// and checks the access log of each person: one entry per request, naming
// the reader, the route and the person's identifiers, with the number of
// people read in all; reads that name nobody are not recorded; another
// tenant's log is its own; bad parameters are 400s.
func TestAccessLog(t *testing.T) {
	ts, _ := newPrivacyServer(t)
	get := func(key, path string, want int) {
		t.Helper()
		expect(t, ts.do(req{method: "GET", path: path, key: key}), want)
	}
	get("auditor", "/api/v1/reports/status", http.StatusOK)                          // everyone: 5 people
	get("auditor", "/api/v1/reports/status?format=csv&unit=sykehjem", http.StatusOK) // e211, e212
	get("auditor", "/api/v1/reports/status?format=xlsx&person=e211", http.StatusOK)
	get("auditor", "/api/v1/reports/summary", http.StatusOK) // names nobody
	get("hr", "/api/v1/reports/reminders?unit=sykehjem", http.StatusOK)
	get("hr", "/api/v1/people/e211/transcript", http.StatusOK)
	get("auditor", "/api/v1/reports/evidence?unit=sykehjem&from=2025-01-01&to=2025-01-31", http.StatusOK)
	get("auditor", "/api/v1/reports/unmatched", http.StatusOK) // nobody unmatched
	ola := url.QueryEscape(`{"account":{"homePage":"https://kslaring.no","name":"ola.nordmann"}}`)
	get("reader", "/xapi/statements?agent="+ola, http.StatusOK)
	get("reader", "/xapi/statements?verb=http://adlnet.gov/expapi/verbs/completed", http.StatusOK) // no agent: not logged
	olaMail := url.QueryEscape(`{"mbox":"mailto:ola.nordmann@kommune.no"}`)
	get("reader", "/xapi/statements?agent="+olaMail, http.StatusOK) // no statements, still a look-up of Ola

	sameLines(t, "Ola's access log", ts.accessLog("e211"), []string{
		"credential/auditor reports/status;json p:e211/5 31",
		"credential/auditor reports/status;csv p:e211/2 10",
		"credential/auditor reports/status;xlsx p:e211/1 5",
		"credential/hr reports/reminders;json p:e211/3 8", // e211, e212 and their manager e200
		"credential/hr people/transcript p:e211/1 2",
		"credential/auditor reports/evidence p:e211/2 10",
		"credential/reader xapi/statements a:account:https://kslaring.no ola.nordmann/1 2",
		"credential/reader xapi/statements a:mbox:mailto:ola.nordmann@kommune.no/1 0",
	})
	// Trine is in the whole organisation's report only; the DPO's reads
	// of the log are logged too.
	sameLines(t, "Trine's access log", ts.accessLog("e301"), []string{
		"credential/auditor reports/status;json p:e301/5 31",
	})
	sameLines(t, "Trine's access log again", ts.accessLog("e301"), []string{
		"credential/auditor reports/status;json p:e301/5 31",
		"credential/dpo access-log p:e301/1 1",
	})
	if got := ts.accessLog("nobody"); len(got) != 0 {
		t.Errorf("nobody's log: %q", got)
	}

	for _, q := range []string{"", "?person=", "?person=a%20b", "?person=e211&limit=0", "?person=e211&limit=x",
		"?person=e211&since=yesterday", "?person=e211&other=1"} {
		r := ts.do(req{method: "GET", path: "/api/v1/access-log" + q, key: "dpo"})
		expect(t, r, http.StatusBadRequest)
	}
	for _, key := range []string{"hr", "auditor", "admin", "dpo-write"} {
		expect(t, ts.do(req{method: "GET", path: "/api/v1/access-log?person=e211", key: key}), http.StatusForbidden)
	}
	r := ts.do(req{method: "GET", path: "/api/v1/access-log?person=e211&since=2100-01-01", key: "dpo-read"})
	expect(t, r, http.StatusOK)
	var a accessLogAnswer
	r.json(t, &a)
	if len(a.Entries) != 0 || a.Person != "e211" {
		t.Errorf("since 2100: %s", r.body)
	}
	r = ts.do(req{method: "GET", path: "/api/v1/access-log?person=e211&limit=2", key: "dpo-read"})
	r.json(t, &a)
	if len(a.Entries) != 2 || a.Entries[0].What != "reports/status;json" || !a.Entries[0].Time.Equal(at("2025-02-01T12:00:00Z")) {
		t.Errorf("limit=2: %s", r.body)
	}
}

// Agents of the scenario as statements carry them.
const (
	olaAccount = `{"account":{"homePage":"https://kslaring.no","name":"ola.nordmann"}}`
	olaMbox    = `{"mbox":"mailto:ola.nordmann@kommune.no"}`
	kariMbox   = `{"mbox":"mailto:Kari.Odegard@kommune.no"}`
)

// addPersonalData stores, beside the KiNS statements, more of Ola's data
// and some of Kari's: a statement by Ola (by e-mail) with an attachment;
// a statement of Helge's naming Ola as instructor; Kari's own statement;
// a State document and an Agent Profile of Ola, a State document of
// Kari's. It returns the ids of Ola's statements and of Kari's.
func addPersonalData(t *testing.T, ts *testServer) (ola, kari []string) {
	t.Helper()
	data := []byte("Ola Nordmann's certificate")
	byOla := stmt("x", "attended", "attachments", []any{attachmentMeta(data)})
	byOla["actor"] = map[string]any{"mbox": "mailto:ola.nordmann@kommune.no", "name": "Ola Nordmann"}
	r := ts.do(req{method: "POST", path: "/xapi/statements", key: "lms", body: multipartBody(t, "b1", byOla, [][]byte{data}),
		ctype: "multipart/mixed; boundary=b1"})
	expect(t, r, http.StatusOK)
	var ids []string
	r.json(t, &ids)
	ola = append(ola, ids...)
	taught := stmt("x", "attended")
	taught["actor"] = map[string]any{"account": map[string]any{"homePage": "https://kslaring.no", "name": "helge"}, "name": "Helge Helsesjef"}
	taught["context"] = map[string]any{"instructor": map[string]any{"account": map[string]any{"homePage": "https://kslaring.no", "name": "ola.nordmann"},
		"name": "Ola Nordmann"}}
	byKari := stmt("x", "attended")
	byKari["actor"] = map[string]any{"mbox": "mailto:Kari.Odegard@kommune.no", "name": "Kari Ødegård"}
	r = ts.do(req{method: "POST", path: "/xapi/statements", key: "lms", body: []any{taught, byKari}})
	expect(t, r, http.StatusOK)
	r.json(t, &ids)
	ola, kari = append(ola, ids[0]), append(kari, ids[1])
	const act = "https://kslaring.no/mod/scorm/view.php?id=1001"
	for _, d := range []struct{ path, body string }{
		{"/xapi/activities/state?activityId=" + url.QueryEscape(act) + "&agent=" + url.QueryEscape(olaAccount) + "&stateId=bookmark", `{"page":7,"learner":"Ola Nordmann"}`},
		{"/xapi/agents/profile?agent=" + url.QueryEscape(olaMbox) + "&profileId=prefs", `{"language":"nn","name":"Ola Nordmann"}`},
		{"/xapi/activities/state?activityId=" + url.QueryEscape(act) + "&agent=" + url.QueryEscape(kariMbox) + "&stateId=bookmark", `{"page":2,"learner":"Kari Ødegård"}`},
	} {
		expect(t, ts.do(req{method: "PUT", path: d.path, body: d.body, header: map[string]string{"If-None-Match": "*"}}), http.StatusNoContent)
	}
	return ola, kari
}

// unzip returns the files of a zip archive.
func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip archive: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], err = io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestPersonExport exports Ola's data and checks that the archive holds
// all of it (his statements as actor and as instructor, the attachment,
// his documents, facts, roster rows and changes, status rows, transcript,
// access log, a summary in both languages) and nothing of Kari's or
// Trine's; an unknown person is a 404, bad ids 400, other scopes 403.
func TestPersonExport(t *testing.T) {
	ts, kinsIDs := newPrivacyServer(t)
	olaIDs, kariIDs := addPersonalData(t, ts)
	expect(t, ts.do(req{method: "GET", path: "/api/v1/people/e211/transcript", key: "hr"}), http.StatusOK)

	r := ts.do(req{method: "GET", path: "/api/v1/people/e211/export", key: "dpo-read"})
	expect(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/zip" {
		t.Errorf("Content-Type %q", ct)
	}
	files := unzip(t, r.body)
	for _, name := range []string{"README.md", "person.json", "roster.json", "roster-changes.json", "statements.json", "attachments.json",
		"documents.json", "facts.json", "status.json", "transcript.json", "access-log.json"} {
		if _, ok := files[name]; !ok {
			t.Errorf("no %s in the export", name)
		}
	}
	var stmts []map[string]any
	if err := json.Unmarshal(files["statements.json"], &stmts); err != nil {
		t.Fatalf("statements.json: %v", err)
	}
	var got []string
	for _, s := range stmts {
		got = append(got, s["id"].(string))
	}
	want := append(slices.Clone(kinsIDs[:2]), olaIDs...)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("statements %v, want Ola's %v", got, want)
	}
	var atts []struct{ SHA2, File string }
	json.Unmarshal(files["attachments.json"], &atts)
	if len(atts) != 1 || string(files[atts[0].File]) != "Ola Nordmann's certificate" {
		t.Errorf("attachments: %s", files["attachments.json"])
	}
	var docs []struct{ Kind, File string }
	json.Unmarshal(files["documents.json"], &docs)
	if len(docs) != 2 {
		t.Errorf("documents: %s", files["documents.json"])
	}
	for _, d := range docs {
		if !strings.Contains(string(files[d.File]), "Ola Nordmann") {
			t.Errorf("document %s: %s", d.File, files[d.File])
		}
	}
	var facts, status, changes, log []any
	json.Unmarshal(files["facts.json"], &facts)
	json.Unmarshal(files["status.json"], &status)
	json.Unmarshal(files["roster-changes.json"], &changes)
	json.Unmarshal(files["access-log.json"], &log)
	if len(facts) != 2 || len(status) != 5 || len(changes) == 0 || len(log) != 1 {
		t.Errorf("%d facts, %d status rows, %d roster changes, %d access log entries; want 2, 5, some, 1 (the transcript)",
			len(facts), len(status), len(changes), len(log))
	}
	readme := string(files["README.md"])
	for _, s := range []string{"Innsyn", "Access export", "| statements.json | xAPI statements about you | 4 |", "ola.nordmann@kommune.no"} {
		if !strings.Contains(readme, s) {
			t.Errorf("README.md lacks %q:\n%s", s, readme)
		}
	}
	// Nothing of anyone else's in any file (Helge, the actor of the
	// statement naming Ola as instructor, is in that statement only).
	for name, b := range files {
		for _, other := range append([]string{"Kari", "kari", "Ødegård", "trine", "Trine", "e212", "e301", "randi"}, kariIDs...) {
			if bytes.Contains(b, []byte(other)) {
				t.Errorf("%s holds %q, another person's", name, other)
			}
		}
	}
	sameLines(t, "the export in the access log", ts.accessLog("e211")[1:], []string{"credential/dpo-read people/export p:e211/1 13"})

	expect(t, ts.do(req{method: "GET", path: "/api/v1/people/nobody/export", key: "dpo"}), http.StatusNotFound)
	expect(t, ts.do(req{method: "GET", path: "/api/v1/people/a%20b/export", key: "dpo"}), http.StatusBadRequest)
	expect(t, ts.do(req{method: "GET", path: "/api/v1/people/e211/export?format=zip", key: "dpo"}), http.StatusBadRequest)
	for _, key := range []string{"hr", "auditor", "admin", "dpo-write"} {
		expect(t, ts.do(req{method: "GET", path: "/api/v1/people/e211/export", key: key}), http.StatusForbidden)
	}
}

// TestPersonErasure erases Ola through the API: a dry run counts what
// the erasure then changes; afterwards no statement, report, transcript
// or pack names him (his statements name his pseudonym), the summary
// of a past date is the same, the evidence pack issued before still
// verifies with the published keys while a new one shows the
// pseudonym, Kari's export is unchanged but for her access log, and a
// second erasure changes nothing. Bad requests are 400s, an unknown
// person a 404, other scopes 403.
func TestPersonErasure(t *testing.T) {
	ts, kinsIDs := newPrivacyServer(t)
	addPersonalData(t, ts)
	packPath := "/api/v1/reports/evidence?unit=sykehjem&from=2025-01-01&to=2025-01-31"
	r := ts.do(req{method: "GET", path: packPath, key: "auditor"})
	expect(t, r, http.StatusOK)
	packBefore := r.body
	summaryPath := "/api/v1/reports/summary?asOf=2025-01-31"
	r = ts.do(req{method: "GET", path: summaryPath, key: "hr"})
	expect(t, r, http.StatusOK)
	summaryBefore := r.body
	r = ts.do(req{method: "GET", path: "/api/v1/people/e212/export", key: "dpo"})
	expect(t, r, http.StatusOK)
	kariBefore := unzip(t, r.body)

	erase := func(key, body string, want int) map[string]any {
		t.Helper()
		r := ts.do(req{method: "POST", path: "/api/v1/people/e211/erasure", key: key, body: body, ctype: "application/json"})
		expect(t, r, want)
		var out map[string]any
		if want == http.StatusOK {
			r.json(t, &out)
		}
		return out
	}
	for _, key := range []string{"hr", "admin", "dpo-read"} {
		erase(key, `{"mode":"delete"}`, http.StatusForbidden)
	}
	erase("dpo", `{"mode":"shred"}`, http.StatusBadRequest)
	erase("dpo", `{}`, http.StatusBadRequest)
	erase("dpo", `{"mode":"delete","extra":1}`, http.StatusBadRequest)
	expect(t, ts.do(req{method: "POST", path: "/api/v1/people/nobody/erasure", key: "dpo", body: `{"mode":"delete"}`,
		ctype: "application/json"}), http.StatusNotFound)

	dry := erase("dpo", `{"mode":"pseudonymise","dryRun":true}`, http.StatusOK)
	r = ts.do(req{method: "GET", path: "/xapi/statements?statementId=" + kinsIDs[0]})
	if !bytes.Contains(r.body, []byte("ola.nordmann")) {
		t.Fatalf("the dry run changed Ola's statement: %s", r.body)
	}
	done := erase("dpo-write", `{"mode":"pseudonymise"}`, http.StatusOK)
	dc, wc := dry["counts"].(map[string]any), done["counts"].(map[string]any)
	for _, k := range []string{"statements", "documents", "facts", "rosterRows", "rosterChanges", "accessLog"} {
		if dc[k] != wc[k] || wc[k].(float64) == 0 {
			t.Errorf("%s: the dry run said %v, the erasure did %v", k, dc[k], wc[k])
		}
	}
	pseudonym := done["pseudonym"].(string)
	if !strings.HasPrefix(pseudonym, "erased-") || done["actor"] != "dpo-write" || done["mode"] != "pseudonymise" {
		t.Errorf("the erasure record: %v", done)
	}
	ola := []string{"e211", "Ola Nordmann", "ola.nordmann", "Nordmann"}
	// A pseudonym's hex digits may hold "e211" by chance: they are not
	// Ola's identifier.
	pseudonyms := regexp.MustCompile(`erased-(account-)?[0-9a-f]+`)
	noOla := func(what string, b []byte) {
		t.Helper()
		b = pseudonyms.ReplaceAll(b, nil)
		for _, s := range ola {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s still names %q: %.300s", what, s, b)
			}
		}
	}
	r = ts.do(req{method: "GET", path: "/xapi/statements?statementId=" + kinsIDs[0]})
	expect(t, r, http.StatusOK)
	noOla("his statement", r.body)
	if !bytes.Contains(r.body, []byte(`"homePage":"https://pseudonym.invalid"`)) {
		t.Errorf("his statement does not name the pseudonym: %s", r.body)
	}
	r = ts.do(req{method: "GET", path: summaryPath, key: "hr"})
	expect(t, r, http.StatusOK)
	if !bytes.Equal(r.body, summaryBefore) {
		t.Errorf("the summary of January changed:\n%s\nwas\n%s", r.body, summaryBefore)
	}
	jwks := ts.do(req{method: "GET", path: "/api/v1/jwks.json", noAuth: true, version: "-"})
	keys, err := evidence.ParseJWKS(jwks.body)
	if err != nil {
		t.Fatal(err)
	}
	old, err := evidence.Verify(packBefore, keys)
	if err != nil {
		t.Fatalf("the pack issued before the erasure no longer verifies: %v", err)
	}
	if b, _ := json.Marshal(old); !bytes.Contains(b, []byte("e211")) {
		t.Errorf("the pack issued before does not name Ola: %.300s", b)
	}
	r = ts.do(req{method: "GET", path: packPath, key: "auditor"})
	expect(t, r, http.StatusOK)
	pack, err := evidence.Verify(r.body, keys)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(pack)
	noOla("a pack issued after", b)
	if !bytes.Contains(b, []byte(pseudonym)) || jsonString(pack.Summary) != jsonString(old.Summary) {
		t.Errorf("a pack issued after: %d completed, was %d; the pseudonym in it: %v", pack.Summary.Total.Compliant,
			old.Summary.Total.Compliant, bytes.Contains(b, []byte(pseudonym)))
	}
	r = ts.do(req{method: "GET", path: "/api/v1/people/" + pseudonym + "/transcript", key: "hr"})
	expect(t, r, http.StatusOK)
	noOla("the pseudonym's transcript", r.body)
	expect(t, ts.do(req{method: "GET", path: "/api/v1/people/e211/transcript", key: "hr"}), http.StatusNotFound)

	r = ts.do(req{method: "GET", path: "/api/v1/people/e212/export", key: "dpo"})
	expect(t, r, http.StatusOK)
	for name, b := range unzip(t, r.body) {
		if name != "access-log.json" && name != "README.md" && name != "person.json" && !bytes.Equal(b, kariBefore[name]) {
			t.Errorf("Kari's %s changed:\n%s\nwas\n%s", name, b, kariBefore[name])
		}
	}

	again := erase("dpo", `{"mode":"pseudonymise"}`, http.StatusOK)
	for k, v := range again["counts"].(map[string]any) {
		if v.(float64) != 0 {
			t.Errorf("a second erasure changed %v %s", v, k)
		}
	}
	r = ts.do(req{method: "GET", path: "/api/v1/erasures", key: "dpo"})
	expect(t, r, http.StatusOK)
	var list struct{ Erasures []map[string]any }
	r.json(t, &list)
	if len(list.Erasures) != 2 || list.Erasures[0]["pseudonym"] != pseudonym {
		t.Errorf("erasure records: %s", r.body)
	}
	noOla("the erasure records", r.body)
	expect(t, ts.do(req{method: "GET", path: "/api/v1/erasures", key: "dpo-write"}), http.StatusForbidden)
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestRetention: the rules are off until set; only privacy/write sets
// them and rejects what is out of bounds; five years after Ola left, a
// dry run predicts what the run deletes (his two statements), the
// summary of January 2025 stays the same, a second run finds nothing,
// and every run is listed, newest first.
func TestRetention(t *testing.T) {
	ts, kinsIDs := newPrivacyServer(t)
	expect(t, ts.hr("POST", "/api/v1/roster/imports", "application/json", `{"partial": true, "effective": "2025-02-01",
		"people": [{"id": "e211", "name": "Ola Nordmann", "email": "ola.nordmann@kommune.no", "start": "2025-01-01", "end": "2025-01-31",
		"identifiers": [{"account": {"homePage": "https://kslaring.no", "name": "ola.nordmann"}}], "units": ["sykehjem"], "roles": ["mobil"]}]}`),
		http.StatusCreated)
	summaryPath := "/api/v1/reports/summary?asOf=2025-01-31"
	r := ts.do(req{method: "GET", path: summaryPath, key: "hr"})
	expect(t, r, http.StatusOK)
	summaryBefore := r.body

	var rules map[string]any
	r = ts.do(req{method: "GET", path: "/api/v1/retention", key: "dpo-read"})
	expect(t, r, http.StatusOK)
	r.json(t, &rules)
	for k, v := range rules {
		if v != float64(0) {
			t.Errorf("before any is set, rule %s = %v", k, v)
		}
	}
	if len(rules) != 6 {
		t.Errorf("the rules: %s", r.body)
	}
	put := func(key, body string, want int) *response {
		t.Helper()
		r := ts.do(req{method: "PUT", path: "/api/v1/retention", key: key, body: body, ctype: "application/json"})
		expect(t, r, want)
		return r
	}
	for _, key := range []string{"hr", "admin", "dpo-read"} {
		put(key, `{"statementsYearsAfterEmployment": 5}`, http.StatusForbidden)
	}
	expect(t, ts.do(req{method: "GET", path: "/api/v1/retention", key: "hr"}), http.StatusForbidden)
	for _, bad := range []string{``, `null`, `{"statementsYearsAfterEmployment": -1}`, `{"auditLogYears": 101}`,
		`{"documentsMonths": 1.5}`, `{"statementYears": 5}`, `{"updatedBy": "someone"}`, `[]`} {
		put("dpo", bad, http.StatusBadRequest)
	}
	r = put("dpo-write", `{"statementsYearsAfterEmployment": 5, "accessLogYears": 3}`, http.StatusOK)
	r.json(t, &rules)
	if rules["statementsYearsAfterEmployment"] != float64(5) || rules["updatedBy"] != "dpo-write" || rules["documentsMonths"] != float64(0) {
		t.Errorf("the rules set: %s", r.body)
	}
	audit, err := ts.db.Audit(context.Background(), auth.DefaultTenant, time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(audit, func(e *auth.AuditEntry) bool { return e.Action == "retention.set" && e.Actor == "dpo-write" }) {
		t.Errorf("the audit log does not record the change")
	}

	type runAnswer struct {
		Time   time.Time      `json:"time"`
		Actor  string         `json:"actor"`
		DryRun bool           `json:"dryRun"`
		Counts map[string]int `json:"counts"`
	}
	run := func(key, body string, want int) runAnswer {
		t.Helper()
		r := ts.do(req{method: "POST", path: "/api/v1/retention/runs", key: key, body: body, ctype: "application/json"})
		expect(t, r, want)
		var a runAnswer
		if want == http.StatusOK {
			r.json(t, &a)
		}
		return a
	}
	run("dpo-read", `{"dryRun": true}`, http.StatusForbidden)
	run("dpo", `{"dryRun": "yes"}`, http.StatusBadRequest)
	// Four years after: nothing yet.
	ts.clock.Set(at("2029-03-01T12:00:00Z"))
	if a := run("dpo", `{"dryRun": true}`, http.StatusOK); a.Counts["people"] != 0 || a.Counts["statements"] != 0 {
		t.Errorf("four years after: %+v", a)
	}
	ts.clock.Set(at("2030-03-01T12:00:00Z"))
	dry := run("dpo", `{"dryRun": true}`, http.StatusOK)
	expect(t, ts.do(req{method: "GET", path: "/xapi/statements?statementId=" + kinsIDs[0]}), http.StatusOK)
	done := run("dpo-write", ``, http.StatusOK)
	if !dry.DryRun || done.DryRun || done.Actor != "dpo-write" || done.Counts["people"] != 1 || done.Counts["statements"] != 2 ||
		fmt.Sprint(dry.Counts) != fmt.Sprint(done.Counts) {
		t.Errorf("the dry run said %+v, the run did %+v", dry, done)
	}
	for _, id := range kinsIDs[:2] {
		expect(t, ts.do(req{method: "GET", path: "/xapi/statements?statementId=" + id}), http.StatusNotFound)
	}
	expect(t, ts.do(req{method: "GET", path: "/xapi/statements?statementId=" + kinsIDs[2]}), http.StatusOK) // Trine's
	r = ts.do(req{method: "GET", path: summaryPath, key: "hr"})
	expect(t, r, http.StatusOK)
	if !bytes.Equal(r.body, summaryBefore) {
		t.Errorf("the summary of January 2025 changed:\n%s\nwas\n%s", r.body, summaryBefore)
	}
	if again := run("dpo", `{}`, http.StatusOK); fmt.Sprint(again.Counts) != fmt.Sprint(map[string]int{"accessLog": 0, "attachments": 0,
		"auditLog": 0, "documents": 0, "facts": 0, "people": 0, "remindersSent": 0, "statements": 0}) {
		t.Errorf("a second run: %+v", again)
	}

	var runs struct {
		Runs []runAnswer `json:"runs"`
	}
	r = ts.do(req{method: "GET", path: "/api/v1/retention/runs", key: "dpo-read"})
	expect(t, r, http.StatusOK)
	r.json(t, &runs)
	if len(runs.Runs) != 4 || runs.Runs[1].Actor != "dpo-write" || !runs.Runs[2].DryRun || runs.Runs[1].Counts["statements"] != 2 {
		t.Errorf("the runs: %s", r.body)
	}
	r = ts.do(req{method: "GET", path: "/api/v1/retention/runs?limit=1", key: "dpo"})
	expect(t, r, http.StatusOK)
	r.json(t, &runs)
	if len(runs.Runs) != 1 || runs.Runs[0].Counts["people"] != 0 {
		t.Errorf("the newest run: %s", r.body)
	}
	for _, bad := range []string{"?limit=0", "?limit=x", "?tenant=other"} {
		expect(t, ts.do(req{method: "GET", path: "/api/v1/retention/runs" + bad, key: "dpo"}), http.StatusBadRequest)
	}
	expect(t, ts.do(req{method: "GET", path: "/api/v1/retention/runs", key: "hr"}), http.StatusForbidden)
}
