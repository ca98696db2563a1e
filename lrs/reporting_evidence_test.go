package lrs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/reporting"
)

// inSession returns statement st with context.registration set: the
// statements logstore_xapi sends in one Moodle session share it.
func inSession(st map[string]any, registration string) map[string]any {
	st["context"].(map[string]any)["registration"] = registration
	return st
}

// scoreOf is the result of logstore_xapi's scoreraw_submitted statement.
func scoreOf(scaled float64) map[string]any {
	return map[string]any{"score": map[string]any{"scaled": scaled, "raw": scaled * 100, "min": 0, "max": 100}}
}

// TestReportingScoreEvidence checks through the status report that a
// module's minimum score must be met by the statement carrying the outcome
// (or by the statements of one Moodle session), and that the completion
// and its expiry are dated by that proof.
func TestReportingScoreEvidence(t *testing.T) {
	ts := newReportingServer(t)
	hr := func(method, path, ctype, body string) {
		t.Helper()
		r := ts.hr(method, path, ctype, body)
		if r.status != http.StatusCreated {
			t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
		}
	}
	ts.clock.Set(at("2025-01-05T08:00:00Z"))
	hr("PUT", "/api/v1/modules/gdpr", "",
		`{"title":{"nb-NO":"Grunnleggende personvern"},"activities":["`+kslModule(5)+`"],"completion":"passed","minScore":0.8,"validity":"P1Y"}`)
	hr("PUT", "/api/v1/rules/adm", "", `{"role":"adm","modules":["gdpr"],"dueWithin":"P1Y"}`)
	hr("POST", "/api/v1/roster/imports", "text/csv",
		"id,name,units,roles,start,account_homepage,account_name\n"+
			"e1,Anne,,adm,2025-01-01,https://kslaring.no,anne\n"+
			"e2,Bård,,adm,2025-01-01,https://kslaring.no,bard\n"+
			"e3,Cato,,adm,2025-01-01,https://kslaring.no,cato\n"+
			"e4,Dina,,adm,2025-01-01,https://kslaring.no,dina\n")
	const session1, session2 = "2b1a8c3e-6d5f-5e4a-9b8c-7d6e5f4a3b2c", "5c4b3a29-1807-5f6e-8d7c-6b5a49382716"
	ts.postAt("2025-04-03T12:00:00Z",
		// Anne: a completed scoring 0.9, then a passed without a score.
		moodle("anne", "Anne", "completed", 5, "2025-04-01T09:00:00Z", scoreOf(0.9)),
		moodle("anne", "Anne", "passed", 5, "2025-04-01T09:00:05Z", nil),
		// Bård: a passed scoring 0.5, then a completed scoring 0.95.
		moodle("bard", "Bård", "passed", 5, "2025-04-01T09:00:00Z", scoreOf(0.5)),
		moodle("bard", "Bård", "completed", 5, "2025-04-01T10:00:00Z", scoreOf(0.95)),
		// Cato: the score and the status of one session.
		inSession(moodle("cato", "Cato", "completed", 5, "2025-04-02T09:00:00Z", scoreOf(0.9)), session1),
		inSession(moodle("cato", "Cato", "passed", 5, "2025-04-02T09:00:05Z", nil), session1),
		// Dina: a pass scoring 0.9, then one scoring 0.6 in another
		// session.
		moodle("dina", "Dina", "passed", 5, "2025-04-03T09:00:00Z", scoreOf(0.9)),
		inSession(moodle("dina", "Dina", "passed", 5, "2025-04-03T11:00:00Z", scoreOf(0.6)), session2))
	rows := ts.status("asOf=2025-06-01").Rows
	sameLines(t, "status as of 1 June", rowLines(rows), []string{
		"e1 gdpr in-progress due 2026-01-01",
		"e2 gdpr in-progress due 2026-01-01",
		"e3 gdpr completed due 2026-01-01 done 2025-04-02 exp 2026-04-02",
		"e4 gdpr completed due 2026-01-01 done 2025-04-03 exp 2026-04-03",
	})
	if len(rows) == 4 {
		if e := rows[3].Evidence; rows[3].Score == nil || *rows[3].Score != 0.9 || len(e) != 1 || !e[0].Timestamp.Equal(at("2025-04-03T09:00:00Z")) {
			t.Errorf("Dina's completion: score %v, evidence %+v; want 0.9 and the pass of 09:00", rows[3].Score, e)
		}
		if e := rows[2].Evidence; len(e) != 2 || rows[2].Completed != at("2025-04-02T09:00:05Z") {
			t.Errorf("Cato's completion at %v, evidence %+v; want the score and the status of the session", rows[2].Completed, e)
		}
	}
}

// TestReportingRosterCSVIdentifiers imports people whose CSV lines give
// several e-mail addresses (in one cell, and on a repeated line) and
// checks that statements under the second address count for the person
// and are not listed as unmatched.
func TestReportingRosterCSVIdentifiers(t *testing.T) {
	ts := newReportingServer(t)
	hr := func(method, path, ctype, body string) *response {
		t.Helper()
		return ts.do(req{method: method, path: path, body: body, key: "hr", ctype: ctype})
	}
	ts.clock.Set(at("2025-01-05T08:00:00Z"))
	expect(t, hr("PUT", "/api/v1/modules/kins-1", "",
		`{"title":{"nb-NO":"Grunnleggende informasjonssikkerhet"},"activities":["`+kslModule(1)+`"],"completion":"completed"}`), http.StatusCreated)
	expect(t, hr("PUT", "/api/v1/rules/mobil", "", `{"role":"mobil","modules":["kins-1"],"dueWithin":"P30D"}`), http.StatusCreated)
	expect(t, hr("POST", "/api/v1/roster/imports?kind=units", "text/csv", "id;navn\nsykehjem;Solbakken sykehjem\n"), http.StatusCreated)
	// Kari changed her name: her new address first, her old one on a
	// second line; Ola's two addresses in one cell.
	r := hr("POST", "/api/v1/roster/imports?kind=people", "text/csv",
		"ansattnr;navn;epost;enhet;rolle;startdato\n"+
			"e212;Kari Ødegård;kari.odegard@kommune.no;sykehjem;mobil;01.01.2025\n"+
			"e212;Kari Ødegård;kari.nordmann@kommune.no;;;\n"+
			"e211;Ola Nordmann;ola.nordmann@kommune.no | ola@kommune.no;sykehjem;mobil;01.01.2025\n")
	expect(t, r, http.StatusCreated)
	var imp reporting.ImportRecord
	r.json(t, &imp)
	var idents []string
	for _, c := range imp.Changes {
		if c.Kind == reporting.RowIdent {
			idents = append(idents, c.Key+" "+c.Value)
		}
	}
	sameLines(t, "identifiers imported", idents, []string{
		"e211 mbox:mailto:ola.nordmann@kommune.no",
		"e211 mbox:mailto:ola@kommune.no",
		"e212 mbox:mailto:kari.nordmann@kommune.no",
		"e212 mbox:mailto:kari.odegard@kommune.no",
	})

	mbox := func(addr, verb, ts string) map[string]any {
		return map[string]any{"actor": map[string]any{"mbox": "mailto:" + addr}, "verb": map[string]any{"id": "http://adlnet.gov/expapi/verbs/" + verb},
			"object": map[string]any{"id": kslModule(1)}, "timestamp": ts}
	}
	ts.postAt("2025-01-20T12:00:00Z",
		mbox("kari.nordmann@kommune.no", "completed", "2025-01-20T09:00:00Z"),
		mbox("ola@kommune.no", "completed", "2025-01-20T10:00:00Z"),
		mbox("ukjent@kommune.no", "completed", "2025-01-20T11:00:00Z"))
	sameLines(t, "status", rowLines(ts.status("asOf=2025-02-01").Rows), []string{
		"e211 kins-1 completed due 2025-01-31 done 2025-01-20",
		"e212 kins-1 completed due 2025-01-31 done 2025-01-20",
	})
	var um struct{ Agents []reporting.UnmatchedAgent }
	ts.do(req{method: "GET", path: "/api/v1/reports/unmatched", key: "auditor"}).json(t, &um)
	if len(um.Agents) != 1 || um.Agents[0].Agent != "mbox:mailto:ukjent@kommune.no" {
		t.Errorf("unmatched: %+v, want ukjent@kommune.no only", um.Agents)
	}
}

// TestReportingTranscriptProof checks that every entry of a transcript,
// not only the evidence of its modules, carries the authority and the
// SHA-256 of its statement as stored.
func TestReportingTranscriptProof(t *testing.T) {
	ts := newReportingServer(t)
	ts.clock.Set(at("2025-01-05T08:00:00Z"))
	expect(t, ts.do(req{method: "PUT", path: "/api/v1/modules/kins-1", key: "hr",
		body: `{"title":{"nb-NO":"Grunnleggende informasjonssikkerhet"},"activities":["` + kslModule(1) + `"],"completion":"completed"}`}), http.StatusCreated)
	expect(t, ts.do(req{method: "POST", path: "/api/v1/roster/imports", key: "hr", ctype: "text/csv",
		body: "id,name,account_homepage,account_name\ne211,Ola Nordmann,https://kslaring.no,ola.nordmann\n"}), http.StatusCreated)
	ts.postAt("2025-01-22T12:00:00Z",
		moodle("ola.nordmann", "Ola Nordmann", "completed", 1, "2025-01-20T09:00:00Z", nil),
		// Entries that count for no module of the catalog.
		moodle("ola.nordmann", "Ola Nordmann", "passed", 2, "2025-01-21T09:00:00Z", scoreOf(0.9)),
		moodle("ola.nordmann", "Ola Nordmann", "failed", 3, "2025-01-22T09:00:00Z", scoreOf(0.3)))
	r := ts.do(req{method: "GET", path: "/api/v1/people/e211/transcript", key: "auditor"})
	expect(t, r, http.StatusOK)
	var tr reporting.Transcript
	r.json(t, &tr)
	if len(tr.Entries) != 3 || len(tr.Modules) != 1 {
		t.Fatalf("transcript: %d entries, %d modules; want 3 and 1: %s", len(tr.Entries), len(tr.Modules), r.body)
	}
	evs := tr.Modules[0].Evidence
	for _, e := range tr.Entries {
		evs = append(evs, e.Evidence)
	}
	for _, e := range evs {
		rec, err := ts.db.Get(context.Background(), auth.DefaultTenant, e.Statement)
		if err != nil {
			t.Fatalf("statement %s: %v", e.Statement, err)
		}
		if sum := sha256.Sum256(rec.JSON); e.Authority != "lms" || e.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("evidence of %s (%s): authority %q, sha256 %q; want lms and the stored statement's %x", e.Statement, e.Outcome, e.Authority, e.SHA256, sum)
		}
	}
}
