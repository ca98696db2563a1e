package storetest

import (
	"fmt"
	"testing"

	"github.com/xapi-lrs/lrs/reporting"
)

// testScoreEvidence checks, through the store (which must keep each
// fact's registration), that a completion rule with a minimum score is met
// by the statement carrying the outcome, or by the statements of one
// registration (Moodle's logstore_xapi sends the score and the status of a
// SCORM attempt as two statements of one session), never by statements of
// different registrations; and that the proof dates both the completion
// and the expiry.
func testScoreEvidence(t *testing.T, st reporting.Store) {
	s := &scenario{t: t, rep: st, labels: map[string]string{}}
	year := reporting.MustPeriod("P1Y")
	for _, m := range []*reporting.Module{
		{ID: "gdpr", Title: map[string]string{"nb-NO": "Grunnleggende personvern"}, Activities: []string{KSLModule(5)},
			Completion: reporting.Passed, MinScore: score(0.8), Validity: year},
		{ID: "gdpr-cp", Title: map[string]string{"nb-NO": "Grunnleggende personvern (fullført og bestått)"}, Activities: []string{KSLModule(6)},
			Completion: reporting.CompletedAndPassed, MinScore: score(0.8), Validity: year},
	} {
		must(t, m.Validate())
		must(t, st.PutModule(ctx, tenant, m))
	}
	must(t, st.PutRule(ctx, tenant, &reporting.Rule{ID: "adm", Role: "adm", Modules: []string{"gdpr", "gdpr-cp"}, DueWithin: year}))
	imp := &reporting.Import{Effective: reporting.MustDate("2025-01-01"), Units: []reporting.UnitIn{{ID: "k", Name: "Kommunen"}}}
	for n := 1; n <= 8; n++ {
		imp.People = append(imp.People, reporting.PersonIn{ID: fmt.Sprintf("p%d", n), Name: fmt.Sprintf("Person %d", n),
			Email: fmt.Sprintf("p%d@kommune.no", n), Start: reporting.MustDate("2025-01-01"), Units: units("k"), Roles: units("adm")})
	}
	_, err := st.ImportRoster(ctx, tenant, imp, at("2025-01-02T07:00:00Z"))
	must(t, err)

	learner := func(n int) map[string]any { return map[string]any{"mbox": fmt.Sprintf("mailto:p%d@kommune.no", n)} }
	// scoreraw is what logstore_xapi sends for scoreraw_submitted: the
	// score, under the verb of the lesson status at that moment.
	scoreraw := func(n int, verb string, module int, ts string, scaled float64) map[string]any {
		return moodle(learner(n), verb, module, ts, map[string]any{"score": map[string]any{"scaled": scaled, "raw": scaled * 100, "min": 0.0, "max": 100.0}})
	}
	status := func(n int, verb string, module int, ts string) map[string]any {
		return moodle(learner(n), verb, module, ts, nil)
	}
	const sessionA, sessionB = "8d3c1a52-0f4e-5a7b-9c1d-2e3f4a5b6c7d", "1f2e3d4c-5b6a-5978-8a9b-0c1d2e3f4a5b"

	s.post(at("2025-04-01T12:00:00Z"),
		// A completed scoring 0.9, then a passed without a score: the
		// pass has no score, the score no pass.
		"p1-scored", scoreraw(1, "completed", 5, "2025-04-01T09:00:00Z", 0.9),
		"p1-passed", status(1, "passed", 5, "2025-04-01T09:00:05Z"),
		// A passed scoring 0.5, then a completed scoring 0.95.
		"p2-passed", scoreraw(2, "passed", 5, "2025-04-01T09:00:00Z", 0.5),
		"p2-scored", scoreraw(2, "completed", 5, "2025-04-01T10:00:00Z", 0.95),
		// The same pair as p1's, in one session: one attempt.
		"p5-scored", inSession(scoreraw(5, "completed", 5, "2025-04-01T09:00:00Z", 0.9), sessionA),
		"p5-passed", inSession(status(5, "passed", 5, "2025-04-01T09:00:05Z"), sessionA),
		// The same pair in two sessions.
		"p6-scored", inSession(scoreraw(6, "completed", 5, "2025-04-01T09:00:00Z", 0.9), sessionA),
		"p6-passed", inSession(status(6, "passed", 5, "2025-04-01T09:00:05Z"), sessionB),
		// Completed and passed: the score, the status and Moodle's module
		// completion, in one session and without sessions.
		"p7-scored", inSession(scoreraw(7, "passed", 6, "2025-04-01T09:00:00Z", 0.9), sessionA),
		"p7-passed", inSession(status(7, "passed", 6, "2025-04-01T09:00:05Z"), sessionA),
		"p7-completed", inSession(status(7, "completed", 6, "2025-04-01T09:00:10Z"), sessionA),
		"p8-scored", scoreraw(8, "passed", 6, "2025-04-01T09:00:00Z", 0.9),
		"p8-passed", status(8, "passed", 6, "2025-04-01T09:00:05Z"),
		"p8-completed", status(8, "completed", 6, "2025-04-01T09:00:10Z"))
	// Passes scoring 0.95 in February, 0.85 in April, 0.6 in May: the
	// newest that meets the minimum counts.
	s.post(at("2025-02-01T12:00:00Z"), "p4-february", scoreraw(4, "passed", 5, "2025-02-01T09:00:00Z", 0.95))
	s.post(at("2025-04-03T12:00:00Z"),
		"p3-passed", scoreraw(3, "passed", 5, "2025-04-03T09:00:00Z", 0.9),
		"p4-april", scoreraw(4, "passed", 5, "2025-04-03T09:00:00Z", 0.85))
	s.post(at("2025-05-01T12:00:00Z"), "p4-may", scoreraw(4, "passed", 5, "2025-05-01T09:00:00Z", 0.6))

	june := reporting.Options{AsOf: at("2025-06-01T12:00:00Z")}
	s.report(t, reporting.Query{Options: june, Modules: []string{"gdpr"}, People: []string{"p1", "p2", "p3", "p4", "p5", "p6"}}, []string{
		"p1 gdpr in-progress due=2026-01-01",
		"p2 gdpr in-progress due=2026-01-01",
		"p3 gdpr completed due=2026-01-01 done=2025-04-03T09:00:00Z expires=2026-04-03 score=0.9 p3-passed",
		"p4 gdpr completed due=2026-01-01 done=2025-04-03T09:00:00Z expires=2026-04-03 score=0.85 p4-april",
		"p5 gdpr completed due=2026-01-01 done=2025-04-01T09:00:05Z expires=2026-04-01 score=0.9 p5-scored p5-passed",
		"p6 gdpr in-progress due=2026-01-01",
	})
	s.report(t, reporting.Query{Options: june, Modules: []string{"gdpr-cp"}, People: []string{"p7", "p8"}}, []string{
		"p7 gdpr-cp completed due=2026-01-01 done=2025-04-01T09:00:10Z expires=2026-04-01 score=0.9 p7-scored p7-passed p7-completed",
		"p8 gdpr-cp in-progress due=2026-01-01",
	})
	// As of March, p4's February pass counts.
	s.report(t, reporting.Query{Options: reporting.Options{AsOf: at("2025-03-01T12:00:00Z")}, Modules: []string{"gdpr"}, People: []string{"p4"}}, []string{
		"p4 gdpr completed due=2026-01-01 done=2025-02-01T09:00:00Z expires=2026-02-01 score=0.95 p4-february",
	})
}

// inSession returns statement st with context.registration set, as
// logstore_xapi sets it from the Moodle session.
func inSession(st map[string]any, registration string) map[string]any {
	st["context"].(map[string]any)["registration"] = registration
	return st
}
