package lrs_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/tokens"
)

// adminServer is a test server with an operator credential "op" (scopes
// tenants/admin, admin and all in the default tenant).
func adminServer(t *testing.T, edit ...func(*lrs.Config)) *testServer {
	s := newServer(t, edit...)
	if err := s.db.CreateCredential(context.Background(), &auth.Credential{Key: "op", SecretHash: auth.HashSecret("op-secret"),
		Tenant: auth.DefaultTenant, Scopes: []string{auth.ScopeTenantsAdmin, auth.ScopeAdmin, auth.ScopeAll}, Created: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	return s
}

// basic returns an Authorization header for key and secret.
func basic(key, secret string) map[string]string {
	return map[string]string{"Authorization": "Basic " + b64(key+":"+secret)}
}

func TestAdminAPI(t *testing.T) {
	s := adminServer(t)
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	s.clock.Set(start)

	// Tenants.
	expect(t, s.do(req{method: "POST", path: "/api/v1/admin/tenants", key: "op", body: `{"name":"oslo"}`}), http.StatusCreated)
	r := s.do(req{method: "POST", path: "/api/v1/admin/tenants", key: "op", body: `{"name":"oslo"}`})
	expect(t, r, http.StatusConflict)
	r = s.do(req{method: "POST", path: "/api/v1/admin/tenants", key: "op", body: `{"name":"Oslo Kommune"}`})
	expect(t, r, http.StatusBadRequest)
	expect(t, s.do(req{method: "POST", path: "/api/v1/admin/tenants", key: "op", body: `{"name":"x","extra":1}`}), http.StatusBadRequest)
	expect(t, s.do(req{method: "POST", path: "/api/v1/admin/tenants", key: "op", body: `{"name":`}), http.StatusBadRequest)
	expect(t, s.do(req{method: "POST", path: "/api/v1/admin/tenants", key: "op", body: `{"name":"y"}`, ctype: "text/plain"}),
		http.StatusUnsupportedMediaType)
	r = s.do(req{method: "GET", path: "/api/v1/admin/tenants", key: "op"})
	expect(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"name":"oslo"`) || !strings.Contains(string(r.body), `"name":"default"`) {
		t.Errorf("tenants: %s", r.body)
	}

	// The operator creates oslo's admin credential; oslo's admin creates an
	// LMS credential (with scopes it holds itself, through all).
	var osloAdmin, lms struct {
		Key, Secret, Tenant string
		Scopes              []string
	}
	r = s.do(req{method: "POST", path: "/api/v1/admin/credentials", key: "op",
		body: `{"name":"oslo it","scopes":["admin","all"],"tenant":"oslo"}`})
	expect(t, r, http.StatusCreated)
	r.json(t, &osloAdmin)
	if osloAdmin.Tenant != "oslo" || len(osloAdmin.Secret) < 32 {
		t.Fatalf("created credential: %s", r.body)
	}
	asOsloAdmin := basic(osloAdmin.Key, osloAdmin.Secret)
	r = s.do(req{method: "POST", path: "/api/v1/admin/credentials", noAuth: true, header: asOsloAdmin,
		body: `{"name":"escalate","scopes":["tenants/admin"]}`})
	expect(t, r, http.StatusForbidden)
	r = s.do(req{method: "POST", path: "/api/v1/admin/credentials", noAuth: true, header: asOsloAdmin,
		body: `{"name":"bad","scopes":["root"]}`})
	expect(t, r, http.StatusBadRequest)
	r = s.do(req{method: "POST", path: "/api/v1/admin/credentials", noAuth: true, header: asOsloAdmin,
		body: `{"name":"ks-laering","scopes":["statements/write","statements/read"]}`})
	expect(t, r, http.StatusCreated)
	r.json(t, &lms)
	if lms.Tenant != "oslo" {
		t.Fatalf("an admin's credential went to tenant %q", lms.Tenant)
	}
	asLMS := basic(lms.Key, lms.Secret)
	postAs := func(h map[string]string) *response {
		return s.do(req{method: "POST", path: "/xapi/statements", noAuth: true, header: h, body: stmt("kari", "completed")})
	}
	expect(t, postAs(asLMS), http.StatusOK)
	// The LMS credential is not an admin.
	expect(t, s.do(req{method: "GET", path: "/api/v1/admin/credentials", noAuth: true, header: asLMS}), http.StatusForbidden)

	// Rotation with a grace period: both secrets work, then only the new one.
	r = s.do(req{method: "POST", path: "/api/v1/admin/credentials/" + lms.Key + "/rotate", noAuth: true, header: asOsloAdmin,
		body: `{"grace":"1h"}`})
	expect(t, r, http.StatusOK)
	var rotated struct {
		Secret                   string
		PreviousSecretValidUntil *time.Time
	}
	r.json(t, &rotated)
	if rotated.Secret == "" || rotated.Secret == lms.Secret || rotated.PreviousSecretValidUntil == nil ||
		!rotated.PreviousSecretValidUntil.Equal(start.Add(time.Hour)) {
		t.Fatalf("rotate: %s", r.body)
	}
	asRotated := basic(lms.Key, rotated.Secret)
	expect(t, postAs(asRotated), http.StatusOK)
	expect(t, postAs(asLMS), http.StatusOK)
	s.clock.Set(start.Add(2 * time.Hour))
	expect(t, postAs(asLMS), http.StatusUnauthorized)
	expect(t, postAs(asRotated), http.StatusOK)
	expect(t, s.do(req{method: "POST", path: "/api/v1/admin/credentials/" + lms.Key + "/rotate", noAuth: true,
		header: asOsloAdmin, body: `{"grace":"forever"}`}), http.StatusBadRequest)

	// Revocation takes effect at once on this server.
	expect(t, s.do(req{method: "POST", path: "/api/v1/admin/credentials/" + lms.Key + "/revoke", noAuth: true, header: asOsloAdmin}), http.StatusOK)
	expect(t, postAs(asRotated), http.StatusUnauthorized)
	r = s.do(req{method: "GET", path: "/api/v1/admin/credentials/" + lms.Key, noAuth: true, header: asOsloAdmin})
	expect(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"revoked":true`) || strings.Contains(string(r.body), "secret\"") {
		t.Errorf("revoked credential: %s", r.body)
	}

	// Disabling the tenant locks its credentials out at once.
	expect(t, s.do(req{method: "POST", path: "/api/v1/admin/tenants/oslo/disable", key: "op"}), http.StatusOK)
	expect(t, s.do(req{method: "GET", path: "/api/v1/admin/credentials", noAuth: true, header: asOsloAdmin}), http.StatusUnauthorized)
	expect(t, s.do(req{method: "POST", path: "/api/v1/admin/tenants/default/disable", key: "op"}), http.StatusBadRequest)
	expect(t, s.do(req{method: "POST", path: "/api/v1/admin/tenants/nowhere/disable", key: "op"}), http.StatusNotFound)
	expect(t, s.do(req{method: "POST", path: "/api/v1/admin/tenants/oslo/enable", key: "op"}), http.StatusOK)
	expect(t, s.do(req{method: "GET", path: "/api/v1/admin/credentials", noAuth: true, header: asOsloAdmin}), http.StatusOK)

	// The audit log tells who did what, without secrets.
	r = s.do(req{method: "GET", path: "/api/v1/admin/audit?tenant=oslo", key: "op"})
	expect(t, r, http.StatusOK)
	var audit struct {
		Entries []struct{ Actor, Action, Target, Detail string }
	}
	r.json(t, &audit)
	var got []string
	for _, e := range audit.Entries {
		got = append(got, e.Actor+" "+e.Action)
	}
	want := []string{"op tenant.create", "op credential.create", osloAdmin.Key + " credential.create",
		osloAdmin.Key + " credential.rotate", osloAdmin.Key + " credential.revoke", "op tenant.disable", "op tenant.enable"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("audit = %q, want %q", got, want)
	}
	for _, secret := range []string{osloAdmin.Secret, lms.Secret, rotated.Secret} {
		if strings.Contains(string(r.body), secret) {
			t.Error("a secret reached the audit log")
		}
	}
	expect(t, s.do(req{method: "GET", path: "/api/v1/admin/audit?limit=0", key: "op"}), http.StatusBadRequest)
}

func TestRateLimit(t *testing.T) {
	s := newServer(t, func(c *lrs.Config) { c.RateLimit = 1; c.RateBurst = 2 })
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	s.clock.Set(start)
	get := req{method: "GET", path: "/xapi/statements?limit=1"}
	expect(t, s.do(get), http.StatusOK)
	expect(t, s.do(get), http.StatusOK)
	r := s.do(get)
	expect(t, r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "1" || r.errorKind(t) != "too_many_requests" {
		t.Errorf("429: Retry-After %q, body %s", r.header.Get("Retry-After"), r.body)
	}
	// Another credential has its own bucket.
	expect(t, s.do(req{method: "GET", path: "/xapi/statements?limit=1", key: "reader"}), http.StatusOK)
	s.clock.Set(start.Add(time.Second))
	expect(t, s.do(get), http.StatusOK)
	// A clock stepping back does not lock the credential out.
	s.clock.Set(start.Add(-time.Hour))
	expect(t, s.do(get), http.StatusTooManyRequests) // the bucket is empty, not refilled
	s.clock.Set(start.Add(3 * time.Second))
	expect(t, s.do(get), http.StatusOK)
}

func TestSecurityHeaders(t *testing.T) {
	s := newServer(t)
	for _, r := range []*response{
		s.do(req{method: "GET", path: "/xapi/about", noAuth: true}),
		s.do(req{method: "GET", path: "/xapi/statements", noAuth: true}),
		s.do(req{method: "GET", path: "/xapi/statements?limit=1"}),
	} {
		for h, want := range map[string]string{
			"X-Content-Type-Options":    "nosniff",
			"Cache-Control":             "no-store",
			"X-Frame-Options":           "DENY",
			"Strict-Transport-Security": "max-age=31536000", // BaseURL is https
		} {
			if got := r.header.Get(h); got != want {
				t.Errorf("status %d: %s = %q, want %q", r.status, h, got, want)
			}
		}
	}
}

// TestAdminCannotExceedItsScopes checks that a credential cannot create,
// rotate (and so take over) or revoke a credential that can do more than it
// can: an admin of the default tenant holding only admin cannot touch the
// operator's credential or one holding all, and a token narrowed to admin
// is no broader than its scope.
func TestAdminCannotExceedItsScopes(t *testing.T) {
	s, _ := tokenServer(t, tokens.Config{})
	ctx := context.Background()
	for key, scopes := range map[string][]string{
		"op":         {auth.ScopeTenantsAdmin, auth.ScopeAdmin, auth.ScopeAll},
		"adminonly":  {auth.ScopeAdmin},
		"adminall":   {auth.ScopeAdmin, auth.ScopeAll},
		"peer-admin": {auth.ScopeAdmin},
	} {
		if err := s.db.CreateCredential(ctx, &auth.Credential{Key: key, SecretHash: auth.HashSecret(key + "-secret"),
			Name: key + " app", Tenant: auth.DefaultTenant, Scopes: scopes, Created: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
	}
	admin := func(as, method, path, body string) *response {
		return s.do(req{method: method, path: "/api/v1/admin/" + path, key: as, body: body})
	}
	refused := func(what string, r *response, lacking string) {
		t.Helper()
		expect(t, r, http.StatusForbidden)
		if msg := errorMessage(t, r); !strings.Contains(msg, "holds itself") || !strings.Contains(msg, lacking) {
			t.Errorf("%s: message %q does not say that the caller lacks %s", what, msg, lacking)
		}
	}
	// stillWorks checks that a credential the refused calls aimed at still
	// authenticates with its old secret: it is neither rotated nor revoked.
	stillWorks := func(key string) {
		t.Helper()
		if r := s.do(req{method: "GET", path: "/xapi/statements", key: key}); r.status == http.StatusUnauthorized {
			t.Errorf("%s no longer works with its old secret: %d %s", key, r.status, r.body)
		}
	}

	// A credential holding only admin.
	refused("rotate the operator", admin("adminonly", "POST", "credentials/op/rotate", ""), auth.ScopeTenantsAdmin)
	refused("revoke the operator", admin("adminonly", "POST", "credentials/op/revoke", ""), auth.ScopeTenantsAdmin)
	refused("rotate all", admin("adminonly", "POST", "credentials/admin/rotate", `{"grace":"1h"}`), auth.ScopeAll)
	refused("revoke all", admin("adminonly", "POST", "credentials/admin/revoke", ""), auth.ScopeAll)
	refused("rotate admin+all", admin("adminonly", "POST", "credentials/adminall/rotate", ""), auth.ScopeAll)
	refused("revoke a writer", admin("adminonly", "POST", "credentials/writer/revoke", ""), auth.ScopeStatementsWrite)
	refused("create tenants/admin", admin("adminonly", "POST", "credentials", `{"name":"x","scopes":["tenants/admin"]}`),
		auth.ScopeTenantsAdmin)
	refused("create all", admin("adminonly", "POST", "credentials", `{"name":"x","scopes":["admin","all"]}`), auth.ScopeAll)
	refused("create a reader", admin("adminonly", "POST", "credentials", `{"name":"x","scopes":["statements/read"]}`),
		auth.ScopeStatementsRead)
	for _, key := range []string{"op", "admin", "adminall", "writer"} {
		stillWorks(key)
	}
	// ... and it may still manage its peers and what it creates.
	r := admin("adminonly", "POST", "credentials", `{"name":"helpdesk","scopes":["admin"]}`)
	expect(t, r, http.StatusCreated)
	var created struct{ Key, Secret string }
	r.json(t, &created)
	expect(t, admin("adminonly", "POST", "credentials/"+created.Key+"/rotate", ""), http.StatusOK)
	expect(t, admin("adminonly", "POST", "credentials/peer-admin/revoke", ""), http.StatusOK)

	// A credential holding admin and all manages the xAPI scopes, not the
	// operator.
	expect(t, admin("adminall", "POST", "credentials", `{"name":"lms","scopes":["statements/write","state","all/read"]}`),
		http.StatusCreated)
	expect(t, admin("adminall", "POST", "credentials/reader/rotate", ""), http.StatusOK)
	refused("rotate the operator", admin("adminall", "POST", "credentials/op/rotate", ""), auth.ScopeTenantsAdmin)
	stillWorks("op")

	// A token narrowed to admin acts with that scope only.
	tok := s.token("adminall", "admin")
	r = s.bearer(tok, req{method: "POST", path: "/api/v1/admin/credentials/writer/rotate"})
	refused("token narrowed to admin rotates a writer", r, auth.ScopeStatementsWrite)
	stillWorks("writer")

	// The operator may do it all.
	expect(t, admin("op", "POST", "credentials/adminall/rotate", ""), http.StatusOK)
	expect(t, admin("op", "POST", "credentials", `{"name":"op2","scopes":["tenants/admin","admin"]}`), http.StatusCreated)

	// The refusals are not in the audit log; the allowed actions are.
	r = admin("op", "GET", "audit", "")
	expect(t, r, http.StatusOK)
	var audit struct {
		Entries []struct{ Actor, Action, Target string }
	}
	r.json(t, &audit)
	var got []string
	for _, e := range audit.Entries {
		got = append(got, e.Actor+" "+e.Action+" "+e.Target)
		if e.Target == "op" || e.Target == "admin" || e.Target == "writer" {
			t.Errorf("a refused action reached the audit log: %s %s %s", e.Actor, e.Action, e.Target)
		}
	}
	if len(got) != 7 { // helpdesk created and rotated, peer-admin revoked, lms created, reader, adminall rotated, op2 created
		t.Errorf("audit log: %q, want 7 entries", got)
	}
}
