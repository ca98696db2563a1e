package reporting

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/internal/lineartest"
	"github.com/xapi-lrs/lrs/statements"
)

// record parses a statement as the LRS stores it and returns the record
// and the tree.
func record(t *testing.T, js string) (*statements.Record, map[string]any) {
	t.Helper()
	tree, err := statements.ParseStatement([]byte(js), statements.V103)
	if err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	rec := &statements.Record{Tenant: "t", ID: "0b6c4e2a-6a0e-4a32-9d7e-2f1b7c9e4d10", Stored: time.Date(2025, 3, 1, 10, 0, 1, 0, time.UTC),
		Authority: "moodle-key", JSON: []byte(js)}
	statements.Index(tree, rec)
	return rec, tree
}

func TestProject(t *testing.T) {
	const moodleCtx = `"context":{"contextActivities":{"grouping":[{"id":"https://kslaring.no"},{"id":"https://kslaring.no/course/view.php?id=101"}],"category":[{"id":"http://moodle.org"}]}}`
	const cmi5Ctx = `"context":{"registration":"6fbd4b6c-1e2a-4c8e-9a55-0a1c2b3d4e5f","contextActivities":{"category":[{"id":"https://w3id.org/xapi/cmi5/context/categories/cmi5"}],"grouping":[{"id":"https://pub.example/au1"}],"parent":{"id":"https://pub.example/block"}}}`
	for _, tc := range []struct {
		name     string
		js       string
		agents   []string
		acts     []string
		outcome  Outcome
		score    float64
		hasScore bool
	}{
		{"moodle module completion", `{"actor":{"name":"Ola","account":{"homePage":"https://kslaring.no","name":"ola"}},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://kslaring.no/mod/scorm/view.php?id=5"},` + moodleCtx + `,"timestamp":"2025-03-01T10:00:00Z"}`,
			[]string{"account:https://kslaring.no ola"}, []string{"https://kslaring.no/mod/scorm/view.php?id=5"}, OutcomeCompleted, 0, false},
		{"passed with score and completion", `{"actor":{"mbox":"mailto:Ola.Nordmann@Kommune.NO"},"verb":{"id":"http://adlnet.gov/expapi/verbs/passed"},"object":{"id":"https://lms.example/q"},"result":{"score":{"scaled":0.85},"success":true,"completion":true}}`,
			[]string{"mbox:mailto:ola.nordmann@kommune.no"}, []string{"https://lms.example/q"}, OutcomePassed | OutcomeCompleted, 0.85, true},
		{"failed", `{"actor":{"mbox":"mailto:a@b.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/failed"},"object":{"id":"https://lms.example/q"},"result":{"score":{"scaled":0},"success":false}}`,
			[]string{"mbox:mailto:a@b.no"}, []string{"https://lms.example/q"}, OutcomeFailed, 0, true},
		{"completed but failed", `{"actor":{"mbox":"mailto:a@b.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://lms.example/q"},"result":{"success":false}}`,
			[]string{"mbox:mailto:a@b.no"}, []string{"https://lms.example/q"}, OutcomeCompleted | OutcomeFailed, 0, false},
		{"cmi5 AU with context", `{"actor":{"mbox":"mailto:a@b.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://lms.example/au/7"},` + cmi5Ctx + `}`,
			[]string{"mbox:mailto:a@b.no"}, []string{"https://lms.example/au/7", "https://pub.example/block", "https://pub.example/au1"}, OutcomeCompleted, 0, false},
		{"cmi5 satisfied", `{"actor":{"mbox":"mailto:a@b.no"},"verb":{"id":"https://w3id.org/xapi/adl/verbs/satisfied"},"object":{"id":"https://lms.example/course/1"},` + cmi5Ctx + `}`,
			[]string{"mbox:mailto:a@b.no"}, []string{"https://lms.example/course/1", "https://pub.example/block", "https://pub.example/au1"}, OutcomeSatisfied, 0, false},
		{"SCORM profile", `{"actor":{"mbox":"mailto:a@b.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/terminated"},"object":{"id":"https://pkg.example/sco1"},"result":{"completion":true,"success":true},"context":{"contextActivities":{"grouping":[{"id":"https://pkg.example"}],"category":[{"id":"https://w3id.org/xapi/scorm"}]}}}`,
			[]string{"mbox:mailto:a@b.no"}, []string{"https://pkg.example/sco1"}, OutcomeCompleted | OutcomePassed, 0, false},
		{"SCORM profile interaction: its SCO, not the course", `{"actor":{"mbox":"mailto:a@b.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://pkg.example/sco1/interactions/q1"},"context":{"contextActivities":{"parent":[{"id":"https://pkg.example/sco1"}],"grouping":[{"id":"https://pkg.example"},{"id":"https://pkg.example/sco1?attemptId=1"}],"category":[{"id":"https://w3id.org/xapi/scorm"}]}}}`,
			[]string{"mbox:mailto:a@b.no"}, []string{"https://pkg.example/sco1/interactions/q1", "https://pkg.example/sco1"}, OutcomeCompleted, 0, false},
		{"SCORM rollup: the course", `{"actor":{"mbox":"mailto:a@b.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/passed"},"object":{"id":"https://pkg.example"},"result":{"completion":true,"success":true},"context":{"contextActivities":{"category":[{"id":"https://w3id.org/xapi/scorm"}]}}}`,
			[]string{"mbox:mailto:a@b.no"}, []string{"https://pkg.example"}, OutcomeCompleted | OutcomePassed, 0, false},
		{"terminated without result: an attempt", `{"actor":{"mbox":"mailto:a@b.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/terminated"},"object":{"id":"https://lms.example/au/7"}}`,
			[]string{"mbox:mailto:a@b.no"}, []string{"https://lms.example/au/7"}, 0, 0, false},
		{"launched: an attempt", `{"actor":{"mbox":"mailto:a@b.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/launched"},"object":{"id":"https://lms.example/au/7"},"result":{"completion":true}}`,
			[]string{"mbox:mailto:a@b.no"}, []string{"https://lms.example/au/7"}, 0, 0, false},
		{"group and its members", `{"actor":{"objectType":"Group","name":"Team","mbox":"mailto:team@b.no","member":[{"mbox":"mailto:x@b.no","name":"X"},{"account":{"homePage":"https://lms.example","name":"y"}}]},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://lms.example/c"}}`,
			[]string{"mbox:mailto:team@b.no", "mbox:mailto:x@b.no", "account:https://lms.example y"}, []string{"https://lms.example/c"}, OutcomeCompleted, 0, false},
		{"anonymous group: members only", `{"actor":{"objectType":"Group","member":[{"mbox":"mailto:x@b.no"}]},"verb":{"id":"http://adlnet.gov/expapi/verbs/passed"},"object":{"id":"https://lms.example/c"}}`,
			[]string{"mbox:mailto:x@b.no"}, []string{"https://lms.example/c"}, OutcomePassed, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, tree := record(t, tc.js)
			facts := Project(rec, tree)
			var agents []string
			for _, f := range facts {
				agents = append(agents, f.Agent)
				if !slices.Equal(f.Activities, tc.acts) || f.Outcome != tc.outcome || f.HasScore != tc.hasScore || f.Score != tc.score {
					t.Errorf("fact %+v; want activities %v, outcome %v, score %v %v", f, tc.acts, tc.outcome, tc.hasScore, tc.score)
				}
				if f.Statement.String() != rec.ID || !f.Stored.Equal(rec.Stored) {
					t.Errorf("fact %+v does not carry the record's id and stored time", f)
				}
				if !f.Timestamp.Equal(rec.Timestamp) {
					t.Errorf("timestamp %v, want %v", f.Timestamp, rec.Timestamp)
				}
				// The registration, when the statement has one.
				if want := rec.Registration; f.Registration.String() != want && (want != "" || f.Registration != uuid.Nil) {
					t.Errorf("registration %v, want %q", f.Registration, want)
				}
			}
			if !slices.Equal(agents, tc.agents) {
				t.Errorf("agents %v, want %v", agents, tc.agents)
			}
			// ProjectRecord decodes the stored JSON to the same facts.
			again, err := ProjectRecord(rec)
			if err != nil || len(again) != len(facts) {
				t.Fatalf("ProjectRecord = %d facts, %v", len(again), err)
			}
			for i := range again {
				if !slices.Equal(again[i].Activities, facts[i].Activities) || again[i].Agent != facts[i].Agent || again[i].Outcome != facts[i].Outcome ||
					again[i].Registration != facts[i].Registration {
					t.Errorf("ProjectRecord fact %d = %+v, Project gave %+v", i, again[i], facts[i])
				}
			}
		})
	}
}

func TestProjectSkips(t *testing.T) {
	for _, js := range []string{
		// Verbs the projection ignores.
		`{"actor":{"mbox":"mailto:a@b.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/answered"},"object":{"id":"https://lms.example/q1"},"result":{"success":true,"completion":true}}`,
		`{"actor":{"mbox":"mailto:a@b.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"object":{"id":"https://lms.example/c"}}`,
		// Objects that are not activities.
		`{"actor":{"mbox":"mailto:a@b.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"},"object":{"objectType":"StatementRef","id":"0b6c4e2a-6a0e-4a32-9d7e-2f1b7c9e4d11"}}`,
		`{"actor":{"mbox":"mailto:a@b.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"objectType":"StatementRef","id":"0b6c4e2a-6a0e-4a32-9d7e-2f1b7c9e4d11"}}`,
		`{"actor":{"mbox":"mailto:a@b.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"objectType":"Agent","mbox":"mailto:c@b.no"}}`,
		`{"actor":{"mbox":"mailto:a@b.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"objectType":"SubStatement","actor":{"mbox":"mailto:c@b.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://lms.example/c"}}}`,
	} {
		rec, tree := record(t, js)
		if facts := Project(rec, tree); len(facts) != 0 {
			t.Errorf("Project(%s) = %+v, want no fact", js, facts)
		}
	}
}

func TestMatchKey(t *testing.T) {
	if MatchKey("mbox:mailto:Kari.Odegard@Kommune.no") != "mbox:mailto:kari.odegard@kommune.no" ||
		MatchKey("account:https://kslaring.no Kari") != "account:https://kslaring.no Kari" {
		t.Error("MatchKey")
	}
	// SHA-1 of "mailto:kari@kommune.no".
	if k := sha1Key("mbox:mailto:kari@kommune.no"); k != "mbox_sha1sum:56217239da5968606d9b3dfd5007eb59a2fc8896" {
		t.Errorf("sha1Key = %s", k)
	}
}

func TestCounts(t *testing.T) {
	ts := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	f := Fact{Timestamp: ts, Stored: ts.Add(time.Hour), VoidedAt: ts.Add(2 * time.Hour)}
	for _, tc := range []struct {
		asOf, knownAt time.Time
		want          bool
	}{
		{ts, time.Time{}, false},                   // voided, known now
		{ts.Add(-time.Second), time.Time{}, false}, // after the report's instant
		{ts, ts.Add(30 * time.Minute), false},      // not stored yet then
		{ts, ts.Add(90 * time.Minute), true},       // stored, not yet voided then
		{ts.Add(time.Hour * 24), ts.Add(2 * time.Hour), false},
	} {
		if got := f.Counts(tc.asOf, tc.knownAt); got != tc.want {
			t.Errorf("Counts(%v, %v) = %v", tc.asOf, tc.knownAt, got)
		}
	}
}

// TestProjectCostIsLinear: projecting the completion of a Group of 16 times
// as many members (the limit is statements.MaxGroupMembers) costs about 16
// times as much, not 256 times: learners are de-duplicated through a map.
func TestProjectCostIsLinear(t *testing.T) {
	lineartest.Check(t, "Project", 500, func(n int) func() {
		var b strings.Builder
		b.WriteString(`{"actor":{"objectType":"Group","member":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"mbox":"mailto:m%d@example.com"}`, i)
		}
		b.WriteString(`]},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://lms.example/c"}}`)
		rec, tree := record(t, b.String())
		return func() {
			if facts := Project(rec, tree); len(facts) != n {
				t.Fatalf("%d facts for %d members", len(facts), n)
			}
		}
	})
}
