package scorm_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/scorm"
	"github.com/xapi-lrs/lrs/statements"
)

var (
	learner = map[string]any{"objectType": "Agent", "name": "Ann", "account": map[string]any{"homePage": "https://lms.example.org", "name": "ann"}}
	attempt = scorm.Context{
		Learner:      learner,
		Course:       "https://example.org/courses/infosec",
		SCO:          "https://example.org/courses/infosec/sco1",
		Registration: "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
		Time:         time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC),
	}
)

// commit runs the commit body against st and returns the new state and
// the statements, each checked with the statements package's parser in
// both xAPI versions.
func commit(t *testing.T, st *scorm.State, body string) (*scorm.State, []map[string]any) {
	t.Helper()
	c, err := scorm.ParseCommit([]byte(body))
	if err != nil {
		t.Fatalf("ParseCommit(%s): %v", body, err)
	}
	next, stmts, err := scorm.Map(st, c, attempt)
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	for _, s := range stmts {
		b, _ := json.Marshal(s)
		for _, v := range []statements.Version{statements.V103, statements.V200} {
			if _, err := statements.ParseStatement(b, v); err != nil {
				t.Fatalf("statement %s is not valid xAPI %v: %v", b, v, err)
			}
		}
	}
	return next, stmts
}

// verbs lists the verbs of statements by their last path segment.
func verbs(stmts []map[string]any) []string {
	out := []string{}
	for _, s := range stmts {
		id := s["verb"].(map[string]any)["id"].(string)
		out = append(out, id[strings.LastIndexByte(id, '/')+1:])
	}
	return out
}

func result(s map[string]any) map[string]any {
	r, _ := s["result"].(map[string]any)
	return r
}

// TestMapSCORM2004Attempt follows an attempt of a SCORM 2004 SCO through
// two sessions, a suspend and a resume, and checks the statements of the
// profile each commit makes.
func TestMapSCORM2004Attempt(t *testing.T) {
	st, stmts := commit(t, nil, `{"cmi":{"entry":"ab-initio","completion_status":"incomplete","location":"p1","suspend_data":"s1",
		"interactions":{"0":{"id":"q1","type":"choice","learner_response":"a[,]b","result":"correct","latency":"PT5S",
		"description":"{lang=nb}Hva er riktig?","correct_responses":{"0":{"pattern":"a[,]b"}}}},"progress_measure":"0.5"}}`)
	if got, want := verbs(stmts), []string{"initialized", "responded", "progressed"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("first commit: verbs %v, want %v", got, want)
	}
	resp := stmts[1]
	obj := resp["object"].(map[string]any)
	def := obj["definition"].(map[string]any)
	if obj["id"] != attempt.SCO+"/interactions/q1" || def["interactionType"] != "choice" ||
		!reflect.DeepEqual(def["correctResponsesPattern"], []any{"a[,]b"}) || !reflect.DeepEqual(def["description"], map[string]any{"nb": "Hva er riktig?"}) ||
		result(resp)["response"] != "a[,]b" || result(resp)["success"] != true || result(resp)["duration"] != "PT5S" {
		t.Errorf("responded statement %v", resp)
	}
	ctx := resp["context"].(map[string]any)
	ca := ctx["contextActivities"].(map[string]any)
	if ctx["registration"] != attempt.Registration || ca["parent"].([]any)[0].(map[string]any)["id"] != attempt.SCO ||
		ca["category"].([]any)[0].(map[string]any)["id"] != scorm.ProfileIRI ||
		ca["grouping"].([]any)[0].(map[string]any)["id"] != attempt.Course ||
		ca["grouping"].([]any)[1].(map[string]any)["id"] != attempt.SCO+"?attemptId="+attempt.Registration {
		t.Errorf("responded context %v", ctx)
	}
	if p := result(stmts[2])["score"].(map[string]any)["scaled"]; p != 0.5 {
		t.Errorf("progressed score %v, want scaled 0.5", p)
	}

	// The same commit again makes nothing.
	again, stmts := commit(t, st, `{"cmi":{"entry":"ab-initio","completion_status":"incomplete","location":"p1","suspend_data":"s1",
		"interactions":{"0":{"id":"q1","type":"choice","learner_response":"a[,]b","result":"correct","latency":"PT5S",
		"description":"{lang=nb}Hva er riktig?","correct_responses":{"0":{"pattern":"a[,]b"}}}},"progress_measure":"0.5"}}`)
	if len(stmts) != 0 || !reflect.DeepEqual(again, st) {
		t.Fatalf("the same commit again made %v and state %+v", verbs(stmts), again)
	}

	// Suspend.
	st, stmts = commit(t, st, `{"terminate":true,"cmi":{"entry":"ab-initio","exit":"suspend","completion_status":"incomplete","location":"p2",
		"suspend_data":"s2","session_time":"PT10M","interactions":{"0":{"id":"q1","type":"choice","learner_response":"a[,]b","result":"correct"}}}}`)
	if got, want := verbs(stmts), []string{"suspended"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("suspending commit: verbs %v, want %v", got, want)
	}
	if r := result(stmts[0]); r["duration"] != "PT10M" || r["completion"] != false {
		t.Errorf("suspended result %v, want duration PT10M, completion false", r)
	}
	if !st.Suspended || st.Open {
		t.Errorf("state after suspend %+v", st)
	}
	// The suspending commit again (a retry) starts no session.
	if again, stmts := commit(t, st, `{"terminate":true,"cmi":{"entry":"ab-initio","exit":"suspend","completion_status":"incomplete","location":"p2",
		"suspend_data":"s2","session_time":"PT10M","interactions":{"0":{"id":"q1","type":"choice","learner_response":"a[,]b","result":"correct"}}}}`); len(stmts) != 0 || !reflect.DeepEqual(again, st) {
		t.Fatalf("the suspending commit again made %v", verbs(stmts))
	}
	init := st.Resume(scorm.Init{LearnerID: "ann", CommitURL: "/c"})
	if init.Entry != "resume" || init.SuspendData != "s2" || init.Location != "p2" || len(init.Interaction) != 1 {
		t.Errorf("Resume: %+v", init)
	}

	// Resume, pass, complete, score, terminate.
	st, stmts = commit(t, st, `{"cmi":{"entry":"resume","completion_status":"completed","success_status":"passed",
		"score":{"scaled":"0.9","raw":"90","min":"0","max":"100"},"session_time":"PT5M","total_time":"PT10M",
		"interactions":{"0":{"id":"q1","type":"choice","learner_response":"a[,]b","result":"correct"},
		"1":{"id":"q2","type":"numeric","learner_response":"42","result":"incorrect","correct_responses":{"0":{"pattern":"40[:]41"}}}}}}`)
	if got, want := verbs(stmts), []string{"resumed", "responded", "completed", "passed", "scored"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("resumed commit: verbs %v, want %v", got, want)
	}
	if r := result(stmts[3]); r["success"] != true || r["completion"] != true || r["score"].(map[string]any)["scaled"] != 0.9 {
		t.Errorf("passed result %v", r)
	}
	st, stmts = commit(t, st, `{"terminate":true,"cmi":{"entry":"resume","exit":"normal","completion_status":"completed","success_status":"passed",
		"score":{"scaled":"0.9","raw":"90","min":"0","max":"100"},"session_time":"PT5M","total_time":"PT15M"}}`)
	if got, want := verbs(stmts), []string{"terminated"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("terminating commit: verbs %v, want %v", got, want)
	}
	if r := result(stmts[0]); r["success"] != true || r["completion"] != true || r["duration"] != "PT5M" {
		t.Errorf("terminated result %v", r)
	}
	if st.Session != 2 || st.Open || st.Suspended || st.Seq != 10 {
		t.Errorf("final state %+v, want session 2 closed, 10 statements", st)
	}
	if in := st.Resume(scorm.Init{}); in.Entry != "ab-initio" || in.SuspendData != "" {
		t.Errorf("Resume after a normal exit: %+v, want a new attempt", in)
	}
}

// TestMapSCORM12 maps a SCORM 1.2 session: lesson_status passed is a
// passed statement with completion and success, the raw score becomes
// scaled raw/100, the 1.2 response formats become xAPI's, and the
// session time an ISO 8601 duration.
func TestMapSCORM12(t *testing.T) {
	st, stmts := commit(t, nil, `{"cmi":{"core":{"student_id":"ann","entry":"ab-initio","lesson_status":"passed","exit":"",
		"score":{"raw":"85","min":"","max":"100"},"session_time":"0001:02:03.5","total_time":"0000:00:00"},
		"interactions":{"0":{"id":"q1","type":"choice","student_response":"{a,c}","result":"wrong","correct_responses":{"0":{"pattern":"a,b"}}},
		"1":{"id":"q2","type":"true-false","student_response":"t","result":"correct"},
		"2":{"id":"q3","type":"matching","student_response":"1.a,2.b"}}},"terminate":true}`)
	if got, want := verbs(stmts), []string{"initialized", "responded", "responded", "responded", "completed", "passed", "scored", "terminated"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("verbs %v, want %v", got, want)
	}
	if r := result(stmts[1]); r["response"] != "a[,]c" || r["success"] != false {
		t.Errorf("choice result %v", r)
	}
	if p := stmts[1]["object"].(map[string]any)["definition"].(map[string]any)["correctResponsesPattern"]; !reflect.DeepEqual(p, []any{"a[,]b"}) {
		t.Errorf("choice pattern %v", p)
	}
	if r := result(stmts[2]); r["response"] != "true" {
		t.Errorf("true-false result %v", r)
	}
	if r := result(stmts[3]); r["response"] != "1[.]a[,]2[.]b" {
		t.Errorf("matching result %v", r)
	}
	if r := result(stmts[5]); r["success"] != true || r["completion"] != true || !reflect.DeepEqual(r["score"], map[string]any{"scaled": 0.85, "raw": 85.0, "max": 100.0}) {
		t.Errorf("passed result %v", r)
	}
	if r := result(stmts[7]); r["duration"] != "PT1H2M3.5S" {
		t.Errorf("terminated result %v", r)
	}
	// A new session of the attempt: 1.2 interactions start again at 0
	// and are new responses.
	_, stmts = commit(t, st, `{"cmi":{"core":{"entry":"","lesson_status":"passed","score":{"raw":"85","max":"100"}},
		"interactions":{"0":{"id":"q1","type":"choice","student_response":"a,b","result":"correct"}}}}`)
	if got, want := verbs(stmts), []string{"initialized", "responded"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("second session: verbs %v, want %v", got, want)
	}
}

// TestMapIDs: statement ids are UUIDs determined by the attempt and the
// event, different for different learners, SCOs and registrations.
func TestMapIDs(t *testing.T) {
	body := `{"cmi":{"completion_status":"completed"}}`
	c, _ := scorm.ParseCommit([]byte(body))
	ids := map[string]bool{}
	for _, x := range []scorm.Context{
		attempt,
		func() scorm.Context { x := attempt; x.SCO += "2"; return x }(),
		func() scorm.Context { x := attempt; x.Registration = "3f2504e0-4f89-41d3-9a0c-0305e82c3302"; return x }(),
		func() scorm.Context {
			x := attempt
			x.Learner = map[string]any{"mbox": "mailto:bob@example.org"}
			return x
		}(),
	} {
		_, a, err := scorm.Map(nil, c, x)
		if err != nil {
			t.Fatal(err)
		}
		x.Time = x.Time.Add(time.Hour)
		_, b, _ := scorm.Map(nil, c, x)
		if len(a) != 2 || a[0]["id"] != b[0]["id"] || a[1]["id"] != b[1]["id"] || !statements.ValidUUID(a[0]["id"].(string)) {
			t.Fatalf("ids %v and %v, want the same two UUIDs", a, b)
		}
		for _, s := range a {
			if ids[s["id"].(string)] {
				t.Errorf("id %s made twice", s["id"])
			}
			ids[s["id"].(string)] = true
		}
	}
}

// TestMapScoreLimits: parts of a score that xAPI refuses are left out
// rather than making an invalid statement.
func TestMapScoreLimits(t *testing.T) {
	for _, tc := range []struct {
		body string
		want map[string]any
	}{
		{`{"cmi":{"core":{"score":{"raw":"120","max":"100"}}}}`, map[string]any{"raw": 120.0}},
		{`{"cmi":{"core":{"score":{"raw":"50","min":"60","max":"40"}}}}`, map[string]any{"scaled": 0.5, "raw": 50.0}},
		{`{"cmi":{"score":{"raw":"-5","min":"0"}}}`, map[string]any{"raw": -5.0}},
		{`{"cmi":{"score":{"scaled":"-1"}}}`, map[string]any{"scaled": -1.0}},
	} {
		_, stmts := commit(t, nil, tc.body)
		if len(stmts) != 2 || !reflect.DeepEqual(result(stmts[1])["score"], tc.want) {
			t.Errorf("%s: statements %v, want scored %v", tc.body, stmts, tc.want)
		}
	}
}

// TestParseCommitErrors: commits that break the structure or the SCORM
// types of what the mapping reads are Invalid, naming the element.
func TestParseCommitErrors(t *testing.T) {
	for _, tc := range []struct{ body, path string }{
		{`[]`, ""},
		{`{}`, "cmi"},
		{`{"cmi":"x"}`, "cmi"},
		{`{"runtimeData":{}}`, "runtimeData.cmi"},
		{`{"cmi":{},"terminate":"yes"}`, "terminate"},
		{`{"cmi":{"completion_status":"done"}}`, "cmi.completion_status"},
		{`{"cmi":{"success_status":"Passed"}}`, "cmi.success_status"},
		{`{"cmi":{"score":{"scaled":"1.5"}}}`, "cmi.score.scaled"},
		{`{"cmi":{"score":{"raw":"1e3"}}}`, "cmi.score.raw"},
		{`{"cmi":{"score":"90"}}`, "cmi.score"},
		{`{"cmi":{"progress_measure":"2"}}`, "cmi.progress_measure"},
		{`{"cmi":{"session_time":"00:10:00"}}`, "cmi.session_time"},
		{`{"cmi":{"session_time":"PT"}}`, "cmi.session_time"},
		{`{"cmi":{"exit":"quit"}}`, "cmi.exit"},
		{`{"cmi":{"location":{"a":1}}}`, "cmi.location"},
		{`{"cmi":{"interactions":{"1":{"id":"q"}}}}`, "cmi.interactions"},
		{`{"cmi":{"interactions":{"x":{"id":"q"}}}}`, "cmi.interactions"},
		{`{"cmi":{"interactions":{"0":{"id":""}}}}`, "cmi.interactions.0.id"},
		{`{"cmi":{"interactions":{"0":{"id":"q","type":"essay"}}}}`, "cmi.interactions.0.type"},
		{`{"cmi":{"interactions":{"0":"q"}}}`, "cmi.interactions.0"},
		{`{"cmi":{"core":{"lesson_status":"done"}}}`, "cmi.core.lesson_status"},
		{`{"cmi":{"core":{"session_time":"PT5M"}}}`, "cmi.core.session_time"},
		{`{"cmi":{"core":{"exit":"normal"}}}`, "cmi.core.exit"},
		{`{"cmi":{"core":{"score":{"raw":"abc"}}}}`, "cmi.core.score.raw"},
		{`{"cmi":{"interactions":{"0":{"id":"q","type":"long-fill-in"}},"core":{}}}`, "cmi.interactions.0.type"},
		{`{"cmi":{},"cmi":{}}`, ""},
		{`{"cmi":{"interactions":[` + strings.Repeat(`{"id":"q"},`, scorm.MaxInteractions) + `{"id":"q"}]}}`, "cmi.interactions"},
	} {
		_, err := scorm.ParseCommit([]byte(tc.body))
		var e *errs.Error
		if err == nil || !errs.Is(err, errs.Invalid) {
			t.Errorf("ParseCommit(%.80s): %v, want Invalid", tc.body, err)
			continue
		}
		if errorsAs(err, &e); e.Path != tc.path && tc.body != `{"cmi":{},"cmi":{}}` {
			t.Errorf("ParseCommit(%.80s): path %q, want %q (%v)", tc.body, e.Path, tc.path, err)
		}
	}
}

// TestParseCommitShapes: the shapes of scorm-again's commits parse: the
// default {"cmi":…}, renderCommonCommitFields' {"runtimeData":{"cmi":…}},
// JSON arrays for arrays, numbers for strings, null for unset.
func TestParseCommitShapes(t *testing.T) {
	for _, body := range []string{
		`{"cmi":{"core":{"lesson_status":"passed","score":{"raw":85}}},"commitSequence":3}`,
		`{"successStatus":"passed","completionStatus":"completed","totalTimeSeconds":5,"runtimeData":{"cmi":{"core":{"lesson_status":"passed","score":{"raw":"85"}}}}}`,
		`{"cmi":{"core":{"lesson_status":"passed","score":{"raw":"85","min":null}},"interactions":[]}}`,
	} {
		c, err := scorm.ParseCommit([]byte(body))
		if err != nil {
			t.Fatalf("ParseCommit(%s): %v", body, err)
		}
		if c.Version != scorm.V12 || c.Success != "passed" || c.Completion != "completed" || c.Score.Raw != "85" {
			t.Errorf("ParseCommit(%s) = %+v", body, c)
		}
	}
}

// TestMapRefusesBadContext: a learner without an identifier, a SCO that
// is not an IRI or a registration that is not a UUID cannot make
// statements.
func TestMapRefusesBadContext(t *testing.T) {
	c, _ := scorm.ParseCommit([]byte(`{"cmi":{}}`))
	for _, edit := range []func(*scorm.Context){
		func(x *scorm.Context) { x.Learner = map[string]any{"name": "Ann"} },
		func(x *scorm.Context) { x.SCO = "sco1" },
		func(x *scorm.Context) { x.Course = "course 1" },
		func(x *scorm.Context) { x.Registration = "{3f2504e0-4f89-41d3-9a0c-0305e82c3301}" },
	} {
		x := attempt
		edit(&x)
		if _, _, err := scorm.Map(nil, c, x); !errs.Is(err, errs.Invalid) {
			t.Errorf("Map with %+v: %v, want Invalid", x, err)
		}
	}
}

func errorsAs(err error, target **errs.Error) bool { return errors.As(err, target) }
