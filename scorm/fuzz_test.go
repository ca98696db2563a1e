package scorm_test

import (
	"encoding/json"
	"testing"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/scorm"
	"github.com/xapi-lrs/lrs/statements"
)

// FuzzParseCommit checks the commit parser and the mapping on any input:
// the parser never panics and fails only with Invalid errors; every
// commit it accepts maps, as an attempt's first commit, to statements the
// statements package accepts in both xAPI versions; and the same commit
// again against the new state maps to none (a replayed commit is
// idempotent). testdata/fuzz/FuzzParseCommit holds the seed commits of
// both editions, from scorm-again's shapes.
func FuzzParseCommit(f *testing.F) {
	for _, s := range []string{
		`{"cmi":{}}`,
		`{"cmi":{"core":{"lesson_status":"passed","score":{"raw":"85","max":"100"},"session_time":"00:01:30"}},"terminate":true}`,
		`{"runtimeData":{"cmi":{"completion_status":"completed","score":{"scaled":"0.5"}}}}`,
		`{"cmi":{"interactions":{"0":{"id":"q","type":"fill-in","learner_response":"{lang=en}x","description":"{lang=nb-NO}Spørsmål"}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := scorm.ParseCommit(body)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("ParseCommit(%q): %v, want an Invalid error", body, err)
			}
			return
		}
		next, stmts, err := scorm.Map(nil, c, attempt)
		if err != nil {
			t.Fatalf("Map of accepted commit %q: %v", body, err)
		}
		for _, s := range stmts {
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []statements.Version{statements.V103, statements.V200} {
				if _, err := statements.ParseStatement(b, v); err != nil {
					t.Fatalf("commit %q maps to statement %s, invalid in xAPI %v: %v", body, b, v, err)
				}
			}
		}
		if _, again, err := scorm.Map(next, c, attempt); err != nil || len(again) != 0 {
			t.Fatalf("commit %q again: %d statements, %v", body, len(again), err)
		}
	})
}
