// Package storetest holds the contract tests of accounts.Store that
// package sqlite and package mongo pass.
package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/accounts"
	"github.com/xapi-lrs/lrs/errs"
)

var ctx = context.Background()

// Run runs the contract tests against the stores open returns: a fresh,
// empty store each time, closed when t ends.
func Run(t *testing.T, open func(t *testing.T) accounts.Store) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, accounts.Store)
	}{
		{"Accounts", testAccounts},
		{"AccountUpdates", testAccountUpdates},
		{"Sessions", testSessions},
		{"SessionCleanup", testSessionCleanup},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var created = time.Date(2026, 10, 1, 8, 30, 0, 123456000, time.UTC)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d > -time.Millisecond && d < time.Millisecond
}

func checkAccount(t *testing.T, got, want *accounts.Account) {
	t.Helper()
	if got.Name != want.Name || got.Tenant != want.Tenant || got.Person != want.Person || got.PasswordHash != want.PasswordHash ||
		!slices.Equal(got.Grants, want.Grants) || got.Disabled != want.Disabled || !sameTime(got.Created, want.Created) {
		t.Errorf("account = %+v, want %+v", got, want)
	}
}

func testAccounts(t *testing.T, s accounts.Store) {
	hash, err := accounts.HashPassword("correct horse battery staple")
	must(t, err)
	kari := &accounts.Account{Name: "kari@oslo.kommune.no", Tenant: "oslo", Person: "1001", PasswordHash: hash,
		Grants: []accounts.Role{accounts.RoleAuditor, accounts.RoleHR}, Created: created}
	ola := &accounts.Account{Name: "ola", Tenant: "default", Created: created}
	revisor := &accounts.Account{Name: "revisor", Tenant: "oslo", Grants: []accounts.Role{accounts.RoleAuditor}, Disabled: true, Created: created}
	for _, a := range []*accounts.Account{kari, ola, revisor} {
		must(t, s.CreateAccount(ctx, a))
	}
	got, err := s.Account(ctx, "kari@oslo.kommune.no")
	must(t, err)
	checkAccount(t, got, kari)
	if !accounts.CheckPassword(got.PasswordHash, "correct horse battery staple") {
		t.Error("the stored hash does not check")
	}
	got, err = s.Account(ctx, "ola")
	must(t, err)
	checkAccount(t, got, ola)
	if len(got.Grants) != 0 {
		t.Errorf("ola's grants = %v", got.Grants)
	}
	for _, name := range []string{"nobody", "OLA", "ola ", ""} {
		if a, err := s.Account(ctx, name); !errs.Is(err, errs.NotFound) {
			t.Errorf("Account(%q) = %v, %v; want NotFound", name, a, err)
		}
	}
	dup := &accounts.Account{Name: "ola", Tenant: "oslo", Created: created}
	if err := s.CreateAccount(ctx, dup); !errs.Is(err, errs.Conflict) {
		t.Errorf("a second account named ola: %v, want Conflict", err)
	}
	names := func(as []*accounts.Account) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Name)
		}
		return out
	}
	all, err := s.Accounts(ctx, "")
	must(t, err)
	if got, want := names(all), []string{"kari@oslo.kommune.no", "ola", "revisor"}; !slices.Equal(got, want) {
		t.Errorf("Accounts() = %v, want %v", got, want)
	}
	oslo, err := s.Accounts(ctx, "oslo")
	must(t, err)
	if got, want := names(oslo), []string{"kari@oslo.kommune.no", "revisor"}; !slices.Equal(got, want) {
		t.Errorf("Accounts(oslo) = %v, want %v", got, want)
	}
	checkAccount(t, oslo[1], revisor)
	none, err := s.Accounts(ctx, "bergen")
	must(t, err)
	if len(none) != 0 {
		t.Errorf("Accounts(bergen) = %v", names(none))
	}
}

func testAccountUpdates(t *testing.T, s accounts.Store) {
	a := &accounts.Account{Name: "per", Tenant: "oslo", Person: "1002", Created: created}
	must(t, s.CreateAccount(ctx, a))
	hash, err := accounts.HashPassword("another long passphrase")
	must(t, err)
	changed := &accounts.Account{Name: "per", Tenant: "bergen", Person: "2002", PasswordHash: hash,
		Grants: []accounts.Role{accounts.RoleHR}, Disabled: true, Created: created.Add(time.Hour)}
	must(t, s.UpdateAccount(ctx, changed))
	got, err := s.Account(ctx, "per")
	must(t, err)
	// Name, Tenant and Created are kept.
	checkAccount(t, got, &accounts.Account{Name: "per", Tenant: "oslo", Person: "2002", PasswordHash: hash,
		Grants: []accounts.Role{accounts.RoleHR}, Disabled: true, Created: created})
	changed.Grants, changed.Disabled, changed.Person = nil, false, ""
	must(t, s.UpdateAccount(ctx, changed))
	got, err = s.Account(ctx, "per")
	must(t, err)
	if len(got.Grants) != 0 || got.Disabled || got.Person != "" {
		t.Errorf("after clearing: %+v", got)
	}
	if err := s.UpdateAccount(ctx, &accounts.Account{Name: "nobody"}); !errs.Is(err, errs.NotFound) {
		t.Errorf("UpdateAccount(nobody) = %v, want NotFound", err)
	}
}

func session(id, account string, at time.Time) *accounts.Session {
	return &accounts.Session{ID: id, Tenant: "oslo", Account: account, Person: "1001", Method: accounts.MethodPassword,
		Label: "Kari Nordmann", CSRF: "csrf-" + id, Created: at, LastSeen: at, Expires: at.Add(10 * time.Hour)}
}

func checkSession(t *testing.T, got, want *accounts.Session) {
	t.Helper()
	if got.ID != want.ID || got.Tenant != want.Tenant || got.Account != want.Account || got.Person != want.Person ||
		got.Method != want.Method || got.Label != want.Label || got.CSRF != want.CSRF ||
		!sameTime(got.Created, want.Created) || !sameTime(got.LastSeen, want.LastSeen) || !sameTime(got.Expires, want.Expires) {
		t.Errorf("session = %+v, want %+v", got, want)
	}
}

func testSessions(t *testing.T, s accounts.Store) {
	a := session(accounts.SessionID("secret-a"), "kari", created)
	oidc := session(accounts.SessionID("secret-b"), "", created)
	oidc.Method, oidc.Label = accounts.MethodOIDC, "kari@oslo.kommune.no"
	must(t, s.CreateSession(ctx, a))
	must(t, s.CreateSession(ctx, oidc))
	if err := s.CreateSession(ctx, session(a.ID, "ola", created)); !errs.Is(err, errs.Conflict) {
		t.Errorf("a second session with one id: %v, want Conflict", err)
	}
	got, err := s.Session(ctx, a.ID)
	must(t, err)
	checkSession(t, got, a)
	got, err = s.Session(ctx, oidc.ID)
	must(t, err)
	checkSession(t, got, oidc)
	if _, err := s.Session(ctx, accounts.SessionID("secret-c")); !errs.Is(err, errs.NotFound) {
		t.Errorf("an unknown session: %v, want NotFound", err)
	}

	seen := created.Add(25 * time.Minute)
	must(t, s.TouchSession(ctx, a.ID, seen))
	got, err = s.Session(ctx, a.ID)
	must(t, err)
	a.LastSeen = seen
	checkSession(t, got, a)
	if err := s.TouchSession(ctx, "nope", seen); !errs.Is(err, errs.NotFound) {
		t.Errorf("TouchSession(nope) = %v, want NotFound", err)
	}

	must(t, s.DeleteSession(ctx, a.ID))
	must(t, s.DeleteSession(ctx, a.ID)) // twice: no error
	if _, err := s.Session(ctx, a.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("a deleted session: %v, want NotFound", err)
	}
	if _, err := s.Session(ctx, oidc.ID); err != nil {
		t.Errorf("deleting one session deleted another: %v", err)
	}
}

func testSessionCleanup(t *testing.T, s accounts.Store) {
	for _, sess := range []*accounts.Session{
		session("k1", "kari", created), session("k2", "kari", created), session("o1", "ola", created),
	} {
		must(t, s.CreateSession(ctx, sess))
	}
	n, err := s.DeleteAccountSessions(ctx, "kari")
	must(t, err)
	if n != 2 {
		t.Errorf("DeleteAccountSessions(kari) = %d, want 2", n)
	}
	for id, want := range map[string]bool{"k1": false, "k2": false, "o1": true} {
		if _, err := s.Session(ctx, id); (err == nil) != want {
			t.Errorf("session %s after deleting kari's: %v", id, err)
		}
	}
	if n, err := s.DeleteAccountSessions(ctx, "nobody"); err != nil || n != 0 {
		t.Errorf("DeleteAccountSessions(nobody) = %d, %v", n, err)
	}

	// idle: last seen before the idle limit; old: past its absolute end;
	// live: neither.
	idle := session("idle", "a", created)
	old := session("old", "b", created.Add(-9*time.Hour))
	old.LastSeen, old.Expires = created.Add(time.Hour), created.Add(time.Hour)
	live := session("live", "c", created)
	live.LastSeen = created.Add(50 * time.Minute)
	for _, sess := range []*accounts.Session{idle, old, live} {
		must(t, s.CreateSession(ctx, sess))
	}
	now := created.Add(time.Hour)
	n, err = s.DeleteExpiredSessions(ctx, now.Add(-30*time.Minute), now)
	must(t, err)
	if n != 3 { // idle, old, and o1 (last seen at created)
		t.Errorf("DeleteExpiredSessions = %d, want 3", n)
	}
	if _, err := s.Session(ctx, "live"); err != nil {
		t.Errorf("the live session was deleted: %v", err)
	}
	for _, id := range []string{"idle", "old", "o1"} {
		if _, err := s.Session(ctx, id); !errs.Is(err, errs.NotFound) {
			t.Errorf("session %s was kept: %v", id, err)
		}
	}
}
