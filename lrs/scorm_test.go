package lrs_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/reporting"
	scormpkg "github.com/xapi-lrs/lrs/scorm"
)

// The attempt of the SCORM bridge tests.
const (
	scormAgent  = `{"objectType":"Agent","account":{"homePage":"https://lms.example.org","name":"ann"}}`
	scormSCO    = "https://scorm.example/infosec/sco1"
	scormCourse = "https://scorm.example/infosec"
	scormReg    = "6b0b5a1e-4d0f-4d36-9a1e-8f3c5b2a7c10"
)

// scormCommitPath is the bridge's URL for the attempt, with extra
// parameters.
func scormCommitPath(extra ...string) string {
	q := url.Values{"agent": {scormAgent}, "activityId": {scormSCO}, "course": {scormCourse}, "registration": {scormReg}}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			q.Del(extra[i])
		} else {
			q.Set(extra[i], extra[i+1])
		}
	}
	return "/api/v1/scorm/commits?" + q.Encode()
}

// TestSCORMCommitEndpoint posts a SCORM 1.2 session as scorm-again does
// (commits as application/json, the terminating one as text/plain by
// sendBeacon, marked by terminate=true) with a scorm/write credential:
// the answer is what scorm-again reads as success, the statements are in
// the LRS under the attempt's registration, a replay stores nothing, the
// attempt's state is an xAPI State document, and the passed SCO is a
// completion fact of the SCO, not of the course in the grouping (the
// bridge sends no rollup: a module counts the package's SCOs as its
// parts; see reporting.Project).
func TestSCORMCommitEndpoint(t *testing.T) {
	ts := newReportingServer(t)
	if err := ts.db.CreateCredential(context.Background(), &auth.Credential{Key: "player", SecretHash: auth.HashSecret("player-secret"),
		Tenant: auth.DefaultTenant, Scopes: []string{auth.ScopeSCORMWrite}, Created: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	first := `{"cmi":{"core":{"student_id":"ann","entry":"ab-initio","lesson_status":"incomplete","lesson_location":"p2"},"suspend_data":"x"}}`
	var ans struct {
		Result     string
		ErrorCode  int
		Statements []string
	}
	r := ts.do(req{method: "POST", path: scormCommitPath(), key: "player", version: "-", body: first})
	expect(t, r, http.StatusOK)
	r.json(t, &ans)
	if ans.Result != "true" || ans.ErrorCode != 0 || len(ans.Statements) != 1 {
		t.Fatalf("first commit answered %s, want result true, one statement (initialized)", r.body)
	}
	r = ts.do(req{method: "POST", path: scormCommitPath(), key: "player", version: "-", body: first})
	expect(t, r, http.StatusOK)
	r.json(t, &ans)
	if ans.Result != "true" || len(ans.Statements) != 0 {
		t.Fatalf("replayed commit answered %s, want result true and no statement", r.body)
	}
	last := `{"cmi":{"core":{"student_id":"ann","entry":"ab-initio","lesson_status":"passed","score":{"raw":"92","max":"100"},"session_time":"00:20:00"},"suspend_data":"y"}}`
	r = ts.do(req{method: "POST", path: scormCommitPath("terminate", "true"), key: "player", version: "-", ctype: "text/plain;charset=UTF-8", body: last})
	expect(t, r, http.StatusOK)
	r.json(t, &ans)
	if len(ans.Statements) != 4 {
		t.Fatalf("terminating commit answered %s, want completed, passed, scored, terminated", r.body)
	}
	// The beacon again (a retry): nothing new, no new session.
	r = ts.do(req{method: "POST", path: scormCommitPath("terminate", "true"), key: "player", version: "-", ctype: "text/plain;charset=UTF-8", body: last})
	expect(t, r, http.StatusOK)
	r.json(t, &ans)
	if len(ans.Statements) != 0 {
		t.Fatalf("terminating commit again answered %s, want no statement", r.body)
	}

	r = ts.do(req{method: "GET", path: "/xapi/statements?registration=" + scormReg})
	expect(t, r, http.StatusOK)
	stmts, _ := r.result(t)
	var got []string
	for _, s := range stmts {
		id := s["verb"].(map[string]any)["id"].(string)
		got = append(got, id[strings.LastIndexByte(id, '/')+1:])
		if a := s["authority"].(map[string]any)["account"].(map[string]any); a["name"] != "player" {
			t.Errorf("authority %v, want the player credential", a)
		}
	}
	if want := []string{"terminated", "scored", "passed", "completed", "initialized"}; !slices.Equal(got, want) {
		t.Errorf("statements of the registration: %v, want %v", got, want)
	}

	q := url.Values{"activityId": {scormSCO}, "agent": {scormAgent}, "registration": {scormReg}, "stateId": {scormpkg.StateID}}
	r = ts.do(req{method: "GET", path: "/xapi/activities/state?" + q.Encode()})
	expect(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"suspendData":"y"`) {
		t.Errorf("attempt state %s lacks the last suspend data", r.body)
	}

	passed, ofCourse := false, false
	err := ts.db.Facts(context.Background(), auth.DefaultTenant, nil, func(agent string, facts []reporting.Fact) error {
		for _, f := range facts {
			if f.Outcome.Has(reporting.OutcomePassed) && slices.Contains(f.Activities, scormSCO) && f.Registration.String() == scormReg {
				passed = true
			}
			ofCourse = ofCourse || slices.Contains(f.Activities, scormCourse)
		}
		return nil
	})
	if err != nil || !passed {
		t.Errorf("no passed fact of the SCO (%v)", err)
	}
	if ofCourse {
		t.Error("a SCO's statement counts for the course in its grouping")
	}
}

// TestSCORMCommitEndpointRefuses: requests the bridge refuses, each with
// its status and a JSON error; a credential without a write scope is
// forbidden, one without credentials unauthorized, and bad input is a 400
// naming what is wrong.
func TestSCORMCommitEndpointRefuses(t *testing.T) {
	ts := newServer(t)
	ok := `{"cmi":{"completion_status":"completed"}}`
	for _, tc := range []struct {
		name   string
		r      req
		status int
		says   string
	}{
		{"no credentials", req{path: scormCommitPath(), noAuth: true, body: ok}, 401, ""},
		{"read scope", req{path: scormCommitPath(), key: "reader", body: ok}, 403, "scorm/write"},
		{"no agent", req{path: scormCommitPath("agent", ""), body: ok}, 400, "agent"},
		{"no registration", req{path: scormCommitPath("registration", ""), body: ok}, 400, "registration"},
		{"no activityId", req{path: scormCommitPath("activityId", ""), body: ok}, 400, "activityId"},
		{"bad registration", req{path: scormCommitPath("registration", "attempt-1"), body: ok}, 400, "UUID"},
		{"bad agent", req{path: scormCommitPath("agent", `{"name":"Ann"}`), body: ok}, 400, "agent"},
		{"group", req{path: scormCommitPath("agent", `{"objectType":"Group","mbox":"mailto:team@example.org"}`), body: ok}, 400, "Group"},
		{"SCO not an IRI", req{path: scormCommitPath("activityId", "sco1"), body: ok}, 400, "IRI"},
		{"unknown parameter", req{path: scormCommitPath("learner", "ann"), body: ok}, 400, "learner"},
		{"bad terminate", req{path: scormCommitPath("terminate", "yes"), body: ok}, 400, "terminate"},
		{"form body", req{path: scormCommitPath(), body: "cmi.core.lesson_status=passed", ctype: "application/x-www-form-urlencoded"}, 400, "JSON"},
		{"not JSON", req{path: scormCommitPath(), body: `{"cmi":`}, 400, ""},
		{"no cmi", req{path: scormCommitPath(), body: `{"core":{}}`}, 400, "cmi"},
		{"bad status", req{path: scormCommitPath(), body: `{"cmi":{"core":{"lesson_status":"done"}}}`}, 400, "lesson_status"},
		{"bad score", req{path: scormCommitPath(), body: `{"cmi":{"score":{"scaled":"2"}}}`}, 400, "cmi.score.scaled"},
		{"interaction gap", req{path: scormCommitPath(), body: `{"cmi":{"interactions":{"2":{"id":"q"}}}}`}, 400, "gaps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.method = "POST"
			tc.r.version = "-"
			r := ts.do(tc.r)
			expect(t, r, tc.status)
			r.errorKind(t)
			if !strings.Contains(string(r.body), tc.says) {
				t.Errorf("error %s does not say %q", r.body, tc.says)
			}
		})
	}
	// A 1.2 commit after 2004 ones for the same attempt is a conflict.
	expect(t, ts.do(req{method: "POST", path: scormCommitPath(), version: "-", body: ok}), http.StatusOK)
	r := ts.do(req{method: "POST", path: scormCommitPath(), version: "-", body: `{"cmi":{"core":{}}}`})
	expect(t, r, http.StatusConflict)
}
