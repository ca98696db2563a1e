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
		if !got.CheckSecret("secret-of-" + want.Key) {
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
