// Package storetest holds the contract tests of the auth stores
// (credentials, tenants, the audit log) that package sqlite and package
// mongo pass.
package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
)

// RunCredentials runs the contract tests of an auth.CredentialStore against
// the stores open returns. open returns a fresh, empty store and registers
// its cleanup with t.
func RunCredentials(t *testing.T, open func(t *testing.T) auth.CredentialStore) {
	ctx := context.Background()
	created := time.Date(2025, 3, 4, 5, 6, 7, 891000000, time.UTC)
	newCred := func(key, tenant string, scopes ...string) *auth.Credential {
		return &auth.Credential{Key: key, SecretHash: auth.HashSecret("secret-of-" + key), Name: "client " + key,
			Tenant: tenant, Scopes: scopes, Created: created}
	}
	checkCred := func(t *testing.T, got, want *auth.Credential) {
		t.Helper()
		if got == nil {
			t.Fatalf("credential %q: got nil", want.Key)
		}
		if got.Key != want.Key || got.SecretHash != want.SecretHash || got.Name != want.Name ||
			got.Tenant != want.Tenant || got.Revoked != want.Revoked || !slices.Equal(got.Scopes, want.Scopes) {
			t.Errorf("credential = %+v, want %+v", got, want)
		}
		if d := got.Created.Sub(want.Created); d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("credential %q: Created = %v, want %v", want.Key, got.Created, want.Created)
		}
		if !got.CheckSecret("secret-of-"+want.Key, time.Now()) {
			t.Errorf("credential %q: the secret does not check", want.Key)
		}
	}

	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		c := newCred("k1", auth.DefaultTenant, auth.ScopeStatementsWrite, auth.ScopeStatementsReadMine, auth.ScopeState)
		if err := s.CreateCredential(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := s.Credential(ctx, "k1")
		if err != nil {
			t.Fatal(err)
		}
		checkCred(t, got, c)

		r := newCred("revoked", "t2", auth.ScopeAll)
		r.Revoked = true
		if err := s.CreateCredential(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err = s.Credential(ctx, "revoked")
		if err != nil {
			t.Fatal(err)
		}
		checkCred(t, got, r)
	})

	t.Run("NotFound", func(t *testing.T) {
		s := open(t)
		if err := s.CreateCredential(ctx, newCred("abc", auth.DefaultTenant, auth.ScopeAll)); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"nope", "ABC", "abc ", ""} {
			if c, err := s.Credential(ctx, key); !errs.Is(err, errs.NotFound) {
				t.Errorf("Credential(%q) = %v, %v; want a NotFound error", key, c, err)
			}
		}
	})

	t.Run("DuplicateKey", func(t *testing.T) {
		s := open(t)
		first := newCred("dup", auth.DefaultTenant, auth.ScopeAll)
		if err := s.CreateCredential(ctx, first); err != nil {
			t.Fatal(err)
		}
		second := newCred("dup", "t2", auth.ScopeStatementsRead)
		second.SecretHash = auth.HashSecret("another")
		if err := s.CreateCredential(ctx, second); !errs.Is(err, errs.Conflict) {
			t.Fatalf("CreateCredential of an existing key = %v, want a Conflict error", err)
		}
		got, err := s.Credential(ctx, "dup")
		if err != nil {
			t.Fatal(err)
		}
		checkCred(t, got, first)
		// Keys are case-sensitive.
		if err := s.CreateCredential(ctx, newCred("DUP", auth.DefaultTenant, auth.ScopeAll)); err != nil {
			t.Errorf("CreateCredential(DUP): %v", err)
		}
	})

	t.Run("List", func(t *testing.T) {
		s := open(t)
		if list, err := s.Credentials(ctx, ""); err != nil || len(list) != 0 {
			t.Fatalf("Credentials of an empty store = %d, %v", len(list), err)
		}
		var all []*auth.Credential
		for _, k := range []struct{ key, tenant string }{{"b", "t1"}, {"a", "t1"}, {"c", "t2"}, {"d", auth.DefaultTenant}} {
			c := newCred(k.key, k.tenant, auth.ScopeAllRead)
			if err := s.CreateCredential(ctx, c); err != nil {
				t.Fatal(err)
			}
			all = append(all, c)
		}
		keys := func(cs []*auth.Credential) string {
			var out []string
			for _, c := range cs {
				out = append(out, c.Key)
			}
			slices.Sort(out)
			return strings.Join(out, ",")
		}
		for _, tt := range []struct{ tenant, want string }{{"t1", "a,b"}, {"t2", "c"}, {"", "a,b,c,d"}, {"t3", ""}} {
			list, err := s.Credentials(ctx, tt.tenant)
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(list); got != tt.want {
				t.Errorf("Credentials(%q) = %s, want %s", tt.tenant, got, tt.want)
			}
			for _, got := range list {
				for _, want := range all {
					if want.Key == got.Key {
						checkCred(t, got, want)
					}
				}
			}
		}
	})
}

// RunCredentialUpdates runs the contract tests of UpdateCredential.
func RunCredentialUpdates(t *testing.T, open func(t *testing.T) auth.CredentialStore) {
	ctx := context.Background()
	s := open(t)
	c := &auth.Credential{Key: "rot", SecretHash: auth.HashSecret("old"), Name: "lms", Tenant: "t1",
		Scopes: []string{auth.ScopeStatementsWrite}, Created: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := s.CreateCredential(ctx, c); err != nil {
		t.Fatal(err)
	}
	until := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	upd := *c
	upd.SecretHash, upd.PreviousSecretHash, upd.PreviousUntil = auth.HashSecret("new"), c.SecretHash, until
	upd.Name, upd.Scopes, upd.Revoked = "lms renamed", []string{auth.ScopeAll, auth.ScopeAdmin}, true
	upd.Tenant, upd.Created = "other", time.Now() // ignored by UpdateCredential
	if err := s.UpdateCredential(ctx, &upd); err != nil {
		t.Fatal(err)
	}
	got, err := s.Credential(ctx, "rot")
	if err != nil {
		t.Fatal(err)
	}
	if got.SecretHash != upd.SecretHash || got.PreviousSecretHash != c.SecretHash || !got.PreviousUntil.Equal(until) ||
		got.Name != "lms renamed" || !slices.Equal(got.Scopes, upd.Scopes) || !got.Revoked {
		t.Errorf("after update: %+v", got)
	}
	if got.Tenant != "t1" || !got.Created.Equal(c.Created) {
		t.Errorf("UpdateCredential changed Tenant or Created: %q %v", got.Tenant, got.Created)
	}
	now := time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)
	if !got.CheckSecret("new", now) || !got.CheckSecret("old", now) || got.CheckSecret("old", until) {
		t.Error("CheckSecret: want the new secret, and the old one until PreviousUntil")
	}
	if err := s.UpdateCredential(ctx, &auth.Credential{Key: "missing", SecretHash: "x"}); !errs.Is(err, errs.NotFound) {
		t.Errorf("UpdateCredential of a missing key = %v, want NotFound", err)
	}
	if _, err := s.Credential(ctx, "missing"); !errs.Is(err, errs.NotFound) {
		t.Errorf("UpdateCredential of a missing key created it: %v", err)
	}
}

// RunTenants runs the contract tests of an auth.TenantStore; open returns a
// freshly opened, otherwise empty store.
func RunTenants(t *testing.T, open func(t *testing.T) auth.TenantStore) {
	ctx := context.Background()
	s := open(t)
	def, err := s.Tenant(ctx, auth.DefaultTenant)
	if err != nil || def.Disabled {
		t.Fatalf("the default tenant: %+v, %v; want it to exist, enabled", def, err)
	}
	created := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, name := range []string{"oslo", "bergen"} {
		if err := s.CreateTenant(ctx, &auth.Tenant{Name: name, Created: created}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateTenant(ctx, &auth.Tenant{Name: "oslo", Created: created, Disabled: true}); !errs.Is(err, errs.Conflict) {
		t.Errorf("CreateTenant of an existing name = %v, want Conflict", err)
	}
	got, err := s.Tenant(ctx, "oslo")
	if err != nil || got.Name != "oslo" || got.Disabled || !got.Created.Equal(created) {
		t.Errorf("Tenant(oslo) = %+v, %v", got, err)
	}
	if _, err := s.Tenant(ctx, "trondheim"); !errs.Is(err, errs.NotFound) {
		t.Errorf("Tenant(trondheim) = %v, want NotFound", err)
	}
	if err := s.UpdateTenant(ctx, &auth.Tenant{Name: "oslo", Disabled: true}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Tenant(ctx, "oslo"); err != nil || !got.Disabled || !got.Created.Equal(created) {
		t.Errorf("after disabling: %+v, %v", got, err)
	}
	if err := s.UpdateTenant(ctx, &auth.Tenant{Name: "nowhere", Disabled: true}); !errs.Is(err, errs.NotFound) {
		t.Errorf("UpdateTenant of a missing tenant = %v, want NotFound", err)
	}
	list, err := s.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range list {
		names = append(names, x.Name)
	}
	if want := "bergen,default,oslo"; strings.Join(names, ",") != want {
		t.Errorf("Tenants = %v, want %s", names, want)
	}
}

// RunAudit runs the contract tests of an auth.AuditLog.
func RunAudit(t *testing.T, open func(t *testing.T) auth.AuditLog) {
	ctx := context.Background()
	s := open(t)
	base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i, e := range []auth.AuditEntry{
		{Tenant: "a", Actor: "cli:root", Action: "tenant.create", Target: "a"},
		{Tenant: "a", Actor: "k1", Action: "credential.create", Target: "k2", Detail: "scopes=all"},
		{Tenant: "b", Actor: "k9", Action: "credential.revoke", Target: "k8"},
		{Tenant: "a", Actor: "k1", Action: "credential.rotate", Target: "k2"},
	} {
		e.Time = base.Add(time.Duration(i) * time.Minute)
		if err := s.AppendAudit(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	actions := func(es []*auth.AuditEntry) string {
		var out []string
		for _, e := range es {
			out = append(out, e.Action)
		}
		return strings.Join(out, ",")
	}
	for _, tt := range []struct {
		tenant string
		since  time.Time
		limit  int
		want   string
	}{
		{"a", time.Time{}, 10, "tenant.create,credential.create,credential.rotate"},
		{"b", time.Time{}, 10, "credential.revoke"},
		{"", time.Time{}, 10, "tenant.create,credential.create,credential.revoke,credential.rotate"},
		{"", base.Add(time.Minute), 2, "credential.create,credential.revoke"},
		{"a", base.Add(2 * time.Minute), 10, "credential.rotate"},
		{"c", time.Time{}, 10, ""},
	} {
		got, err := s.Audit(ctx, tt.tenant, tt.since, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if actions(got) != tt.want {
			t.Errorf("Audit(%q, %v, %d) = %s, want %s", tt.tenant, tt.since, tt.limit, actions(got), tt.want)
		}
	}
	got, _ := s.Audit(ctx, "a", base.Add(time.Minute), 1)
	if len(got) != 1 || got[0].Actor != "k1" || got[0].Target != "k2" || got[0].Detail != "scopes=all" ||
		!got[0].Time.Equal(base.Add(time.Minute)) {
		t.Errorf("entry = %+v", got)
	}
}
