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

// scoreOf is the result of logstore_xapi's scoreraw_submitted statement.
func scoreOf(scaled float64) map[string]any {
	return map[string]any{"score": map[string]any{"scaled": scaled, "raw": scaled * 100, "min": 0, "max": 100}}
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
