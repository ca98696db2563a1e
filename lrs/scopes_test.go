package lrs_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/packages/packagetest"
)

// TestScopeMatrix tries every route with a credential of each single scope:
// each scope can do exactly what it allows (403 otherwise).
func TestScopeMatrix(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	for _, sc := range auth.KnownScopes {
		c := &auth.Credential{Key: "scope-" + sc, SecretHash: auth.HashSecret("scope-" + sc + "-secret"),
			Tenant: auth.DefaultTenant, Scopes: []string{sc}, Created: time.Now().UTC()}
		if err := s.db.CreateCredential(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	const act = "http://example.com/courses/safety"
	agent := url.QueryEscape(`{"mbox":"mailto:kari@example.com"}`)
	stateQS := "?activityId=" + url.QueryEscape(act) + "&agent=" + agent + "&stateId=s1"
	id := s.post(stmt("kari", "completed"))[0]

	writeStmt := []string{auth.ScopeAll, auth.ScopeStatementsWrite}
	readStmt := []string{auth.ScopeAll, auth.ScopeAllRead, auth.ScopeStatementsRead, auth.ScopeStatementsReadMine}
	state := []string{auth.ScopeAll, auth.ScopeState}
	stateRead := []string{auth.ScopeAll, auth.ScopeAllRead, auth.ScopeState}
	profile := []string{auth.ScopeAll, auth.ScopeProfile}
	profileRead := []string{auth.ScopeAll, auth.ScopeAllRead, auth.ScopeProfile}
	defs := []string{auth.ScopeAll, auth.ScopeAllRead, auth.ScopeStatementsRead, auth.ScopeDefine}
	admin := []string{auth.ScopeAdmin, auth.ScopeTenantsAdmin}
	tenants := []string{auth.ScopeTenantsAdmin}
	content := []string{auth.ScopeContentWrite}
	privacyRead := []string{auth.ScopePrivacyRead}
	pkg := "/api/v1/packages/" + packages.PackageID("https://lrs.example/tincan/varsling")
	zip := map[string]string{"Content-Type": "application/zip"}

	for _, rt := range []struct {
		method, path string
		body         any
		header       map[string]string
		allowed      []string
	}{
		{"GET", "/xapi/statements?statementId=" + id, nil, nil, readStmt},
		{"GET", "/xapi/statements", nil, nil, readStmt},
		{"POST", "/xapi/statements", stmt("ola", "attempted"), nil, writeStmt},
		{"PUT", "/xapi/statements?statementId=" + id, stmt("kari", "completed"), nil, writeStmt},
		{"GET", "/xapi/activities/state" + stateQS, nil, nil, stateRead},
		{"PUT", "/xapi/activities/state" + stateQS, `{"a":1}`, nil, state},
		{"POST", "/xapi/activities/state" + stateQS, `{"b":2}`, nil, state},
		{"DELETE", "/xapi/activities/state" + stateQS, nil, nil, state},
		{"GET", "/xapi/activities/profile?activityId=" + url.QueryEscape(act), nil, nil, profileRead},
		{"PUT", "/xapi/activities/profile?activityId=" + url.QueryEscape(act) + "&profileId=p", `{"a":1}`,
			map[string]string{"If-None-Match": "*"}, profile},
		{"GET", "/xapi/agents/profile?agent=" + agent, nil, nil, profileRead},
		{"DELETE", "/xapi/agents/profile?agent=" + agent + "&profileId=p", nil, nil, profile},
		{"GET", "/xapi/agents?agent=" + agent, nil, nil, defs},
		{"GET", "/xapi/activities?activityId=" + url.QueryEscape(act), nil, nil, defs},
		{"GET", "/api/v1/admin/credentials", nil, nil, admin},
		{"GET", "/api/v1/admin/audit", nil, nil, admin},
		{"GET", "/api/v1/admin/tenants", nil, nil, tenants},
		{"POST", scormCommitPath(), `{"cmi":{}}`, nil, []string{auth.ScopeAll, auth.ScopeStatementsWrite, auth.ScopeSCORMWrite}},
		{"POST", "/api/v1/packages", packagetest.TinCan(), zip, content},
		{"GET", "/api/v1/packages", nil, nil, content},
		{"GET", pkg, nil, nil, content},
		{"POST", pkg + "/links", nil, nil, content},
		{"GET", "/content/" + packages.PackageID("https://lrs.example/tincan/varsling") + "/1/story.html", nil, nil, content},
		{"DELETE", "/api/v1/packages/" + packages.PackageID("none"), nil, nil, content},
		{"POST", "/api/v1/imports/completions?dryRun=true", "E-post;Kurs;Status;Dato\nkari@example.com;m;Fullført;01.02.2025\n",
			map[string]string{"Content-Type": "text/csv"}, []string{auth.ScopeRosterWrite}},
		{"GET", "/api/v1/access-log?person=e1", nil, nil, privacyRead},
		{"GET", "/api/v1/people/e1/export", nil, nil, privacyRead},
		{"POST", "/api/v1/launches", `{"package":"` + packages.PackageID("https://lrs.example/tincan/varsling") + `","agent":{"mbox":"mailto:kari@example.com"}}`,
			nil, []string{auth.ScopeLaunchWrite}},
		{"POST", "/api/v1/waivers", `{"package":"` + packages.PackageID("https://lrs.example/tincan/varsling") + `","launchable":"x","agent":{"mbox":"mailto:kari@example.com"},"reason":"Administrative"}`,
			nil, []string{auth.ScopeLaunchWrite}},
		{"POST", "/api/v1/reminders/run?dryRun=true", nil, nil, []string{auth.ScopeRosterWrite}},
		{"GET", "/api/v1/reminders/sent?person=e1", nil, nil, []string{auth.ScopeReportsRead, auth.ScopeRosterWrite}},
	} {
		for _, sc := range auth.KnownScopes {
			r := s.do(req{method: rt.method, path: rt.path, body: rt.body, key: "scope-" + sc, header: rt.header})
			allowed := contains(rt.allowed, sc)
			switch {
			case allowed && (r.status == http.StatusForbidden || r.status == http.StatusUnauthorized || r.status >= 500):
				t.Errorf("scope %s, %s %s: status %d, want it allowed; body %s", sc, rt.method, rt.path, r.status, r.body)
			case !allowed && r.status != http.StatusForbidden:
				t.Errorf("scope %s, %s %s: status %d, want 403; body %s", sc, rt.method, rt.path, r.status, r.body)
			}
		}
	}
}
