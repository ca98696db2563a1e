package lrs_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/lrs"
)

// adminServer is a test server with an operator credential "op" (scopes
// tenants/admin and admin in the default tenant).
func adminServer(t *testing.T, edit ...func(*lrs.Config)) *testServer {
	s := newServer(t, edit...)
	if err := s.db.CreateCredential(context.Background(), &auth.Credential{Key: "op", SecretHash: auth.HashSecret("op-secret"),
		Tenant: auth.DefaultTenant, Scopes: []string{auth.ScopeTenantsAdmin, auth.ScopeAdmin}, Created: time.Now().UTC()}); err != nil {
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

	// The operator creates oslo's admin credential; oslo's admin creates an LMS credential.
	var osloAdmin, lms struct {
		Key, Secret, Tenant string
		Scopes              []string
	}
	r = s.do(req{method: "POST", path: "/api/v1/admin/credentials", key: "op",
		body: `{"name":"oslo it","scopes":["admin"],"tenant":"oslo"}`})
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
