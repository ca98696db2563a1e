package accounts_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/accounts"
	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/sqlite"
)

var ctx = context.Background()

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "lrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// clock is a settable time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestPasswordHash(t *testing.T) {
	h, err := accounts.HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not argon2id with the OWASP parameters", h)
	}
	if strings.Contains(h, "horse") {
		t.Error("the hash holds the password")
	}
	h2, _ := accounts.HashPassword("correct horse battery staple")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	if !accounts.CheckPassword(h, "correct horse battery staple") {
		t.Error("the password does not check")
	}
	for _, bad := range []string{"", "correct horse battery stapl", "Correct horse battery staple", strings.Repeat("x", 2000)} {
		if accounts.CheckPassword(h, bad) {
			t.Errorf("%q checks", bad)
		}
	}
	// Malformed hashes and hostile parameters match nothing.
	for _, hash := range []string{"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		strings.Replace(h, "m=19456", "m=99999999", 1), strings.Replace(h, "t=2", "t=100", 1), h + "$x"} {
		if accounts.CheckPassword(hash, "correct horse battery staple") {
			t.Errorf("hash %q checks", hash)
		}
	}
	// A stronger hash made later still checks: the parameters come from it.
	for _, rule := range []string{"short", "\xff\xfe invalid utf-8 passphrase", strings.Repeat("ø", 600)} {
		if err := accounts.CheckPasswordRules(rule); !errs.Is(err, errs.Invalid) {
			t.Errorf("CheckPasswordRules(%.20q) = %v", rule, err)
		}
	}
	if err := accounts.CheckPasswordRules("tolv tegn æøå"); err != nil {
		t.Errorf("a 13-character password: %v", err)
	}
}

func TestAccountLifecycle(t *testing.T) {
	db := openDB(t)
	clk := &clock{time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)}
	svc := accounts.New(accounts.Config{Store: db, Audit: db, Now: clk.now})

	if _, err := svc.CreateAccount(ctx, "cli:test", accounts.NewAccount{Name: "kari", Password: "short"}); !errs.Is(err, errs.Invalid) {
		t.Errorf("a short password: %v", err)
	}
	for _, n := range []accounts.NewAccount{{Name: ""}, {Name: "kari nordmann"}, {Name: "kari", Tenant: "Oslo"}, {Name: "kari", Person: "a b"}} {
		if _, err := svc.CreateAccount(ctx, "cli:test", n); !errs.Is(err, errs.Invalid) {
			t.Errorf("CreateAccount(%+v) = %v, want Invalid", n, err)
		}
	}
	a, err := svc.CreateAccount(ctx, "cli:test", accounts.NewAccount{Name: "kari@oslo.kommune.no", Tenant: "oslo", Person: "1001",
		Password: "correct horse battery staple", Grants: []accounts.Role{accounts.RoleHR}})
	if err != nil {
		t.Fatal(err)
	}
	if a.PasswordHash == "" || a.Tenant != "oslo" || !a.Has(accounts.RoleHR) {
		t.Errorf("account %+v", a)
	}
	if _, err := svc.CreateAccount(ctx, "cli:test", accounts.NewAccount{Name: "kari@oslo.kommune.no"}); !errs.Is(err, errs.Conflict) {
		t.Errorf("the same name again: %v", err)
	}

	// Sign-in: one answer for every failure.
	for _, c := range []struct{ name, pw string }{{"kari@oslo.kommune.no", "wrong password here"}, {"nobody", "correct horse battery staple"}} {
		if _, err := svc.CheckPassword(ctx, c.name, c.pw); !errs.Is(err, errs.Unauthorized) || err.Error() != "wrong account name or password" {
			t.Errorf("CheckPassword(%s) = %v", c.name, err)
		}
	}
	got, err := svc.CheckPassword(ctx, "kari@oslo.kommune.no", "correct horse battery staple")
	if err != nil || got.Person != "1001" {
		t.Fatalf("CheckPassword = %+v, %v", got, err)
	}

	// Grants.
	if a, err = svc.Grant(ctx, "cli:test", "kari@oslo.kommune.no", accounts.RoleAuditor); err != nil || !slices.Equal(a.Grants, []accounts.Role{"auditor", "hr"}) {
		t.Errorf("Grant = %+v, %v", a, err)
	}
	if a, err = svc.Revoke(ctx, "cli:test", "kari@oslo.kommune.no", accounts.RoleHR); err != nil || !slices.Equal(a.Grants, []accounts.Role{"auditor"}) {
		t.Errorf("Revoke = %+v, %v", a, err)
	}
	if _, err := svc.Grant(ctx, "cli:test", "nobody", accounts.RoleHR); !errs.Is(err, errs.NotFound) {
		t.Errorf("Grant(nobody) = %v", err)
	}
	if _, err := accounts.ParseRole("manager"); !errs.Is(err, errs.Invalid) {
		t.Errorf("ParseRole(manager) = %v: managers come from the roster", err)
	}

	// A session, its idle timeout and its absolute end.
	secret, sess, err := svc.StartSession(ctx, accounts.SignIn{Tenant: "oslo", Account: a.Name, Person: a.Person, Method: accounts.MethodPassword})
	if err != nil {
		t.Fatal(err)
	}
	if sess.ID == secret || sess.ID != accounts.SessionID(secret) || len(secret) < 40 || len(sess.CSRF) < 40 {
		t.Errorf("session %+v, secret %q", sess, secret)
	}
	stored, err := db.Session(ctx, sess.ID)
	if err != nil || strings.Contains(stored.ID, secret) {
		t.Errorf("the store holds %+v, %v", stored, err)
	}
	ended := false
	for !ended { // every 29 min: never idle, but past the 10 h maximum at last
		clk.t = clk.t.Add(29 * time.Minute)
		_, _, err := svc.Session(ctx, secret)
		ended = err != nil
		if age := clk.t.Sub(sess.Created); ended != (age >= accounts.DefaultMaxAge) {
			t.Fatalf("at %v: %v", age, err)
		}
	}
	if _, err := db.Session(ctx, sess.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("the expired session was kept: %v", err)
	}

	secret, _, _ = svc.StartSession(ctx, accounts.SignIn{Tenant: "oslo", Account: a.Name, Method: accounts.MethodPassword})
	clk.t = clk.t.Add(accounts.DefaultIdleTimeout)
	if _, _, err := svc.Session(ctx, secret); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("a session idle for 30 minutes: %v", err)
	}

	// Disabling ends the sessions; a changed password too.
	secret, _, _ = svc.StartSession(ctx, accounts.SignIn{Tenant: "oslo", Account: a.Name, Method: accounts.MethodPassword})
	if _, gotA, err := svc.Session(ctx, secret); err != nil || gotA.Name != a.Name {
		t.Fatalf("Session = %v, %v", gotA, err)
	}
	if _, err := svc.SetDisabled(ctx, "cli:test", a.Name, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Session(ctx, secret); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("a disabled account's session: %v", err)
	}
	if _, err := svc.CheckPassword(ctx, a.Name, "correct horse battery staple"); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("a disabled account signs in: %v", err)
	}
	svc.SetDisabled(ctx, "cli:test", a.Name, false)
	secret, _, _ = svc.StartSession(ctx, accounts.SignIn{Tenant: "oslo", Account: a.Name, Method: accounts.MethodPassword})
	if _, err := svc.SetPassword(ctx, "cli:test", a.Name, "a new long passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Session(ctx, secret); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("a session after a password change: %v", err)
	}
	if _, err := svc.CheckPassword(ctx, a.Name, "a new long passphrase"); err != nil {
		t.Errorf("the new password: %v", err)
	}

	// Sign-out.
	secret, _, _ = svc.StartSession(ctx, accounts.SignIn{Tenant: "oslo", Account: a.Name, Method: accounts.MethodPassword})
	if err := svc.EndSession(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Session(ctx, secret); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("a session after sign-out: %v", err)
	}

	// Every change is in the audit log, without the password.
	entries, err := db.Audit(ctx, "oslo", time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if strings.Contains(e.Detail, "horse") || strings.Contains(e.Detail, "argon2") {
			t.Errorf("audit entry %+v holds the password", e)
		}
	}
	want := []string{"account.create", "account.grant", "account.revoke", "account.disable", "account.enable", "account.password"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit actions = %v, want %v", actions, want)
	}
}

func TestTouchOncePerMinute(t *testing.T) {
	db := openDB(t)
	clk := &clock{time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)}
	svc := accounts.New(accounts.Config{Store: db, Now: clk.now})
	secret, sess, err := svc.StartSession(ctx, accounts.SignIn{Tenant: "default", Person: "1001", Method: accounts.MethodOIDC, Label: "kari"})
	if err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(30 * time.Second)
	if _, a, err := svc.Session(ctx, secret); err != nil || a != nil {
		t.Fatalf("Session = %v, %v", a, err)
	}
	if s, _ := db.Session(ctx, sess.ID); !s.LastSeen.Equal(sess.Created) {
		t.Errorf("a request within the minute wrote LastSeen %v", s.LastSeen)
	}
	clk.t = clk.t.Add(45 * time.Second)
	svc.Session(ctx, secret)
	if s, _ := db.Session(ctx, sess.ID); !s.LastSeen.Equal(clk.t) {
		t.Errorf("LastSeen = %v, want %v", s.LastSeen, clk.t)
	}
	n, err := svc.DeleteExpiredSessions(ctx)
	if err != nil || n != 0 {
		t.Errorf("DeleteExpiredSessions = %d, %v", n, err)
	}
	clk.t = clk.t.Add(31 * time.Minute)
	if n, err := svc.DeleteExpiredSessions(ctx); err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions after 31 idle minutes = %d, %v", n, err)
	}
}

// TestAccess resolves the access of sign-ins against a roster: managers
// see their units' subtrees, learners themselves, hr and auditors all.
func TestAccess(t *testing.T) {
	db := openDB(t)
	imp := &reporting.Import{
		Units: []reporting.UnitIn{
			{ID: "k", Name: "Kommunen", Managers: []string{"100"}},
			{ID: "oppvekst", Name: "Oppvekst", Parent: "k", Managers: []string{"200"}},
			{ID: "skole", Name: "Skole", Parent: "oppvekst"},
			{ID: "helse", Name: "Helse", Parent: "k", Managers: []string{"300"}},
		},
		People: []reporting.PersonIn{
			{ID: "100", Name: "Rådmann", Email: "radmann@k.no", Units: []reporting.Assignment{{ID: "k"}}},
			{ID: "200", Name: "Oppvekstsjef", Email: "oppvekst@k.no", Units: []reporting.Assignment{{ID: "oppvekst"}}},
			{ID: "201", Name: "Lærer", Email: "laerer@k.no", Units: []reporting.Assignment{{ID: "skole"}},
				Identifiers: []map[string]any{{"account": map[string]any{"homePage": "https://idp.k.no", "name": "laerer"}}}},
			{ID: "300", Name: "Helsesjef", Email: "helse@k.no", Units: []reporting.Assignment{{ID: "helse"}}},
			{ID: "301", Name: "Sykepleier", Email: "sykepleier@k.no", Units: []reporting.Assignment{{ID: "helse"}}},
		},
	}
	now := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	if _, err := db.ImportRoster(ctx, "default", imp, now); err != nil {
		t.Fatal(err)
	}
	resolve := func(person string, grants ...accounts.Role) *accounts.Access {
		t.Helper()
		var a *accounts.Account
		if grants != nil {
			a = &accounts.Account{Name: "x", Tenant: "default", Person: person, Grants: grants}
		}
		acc, err := accounts.Resolve(ctx, db, &accounts.Session{Tenant: "default", Person: person, Label: "label"}, a, now, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		return acc
	}
	mgr := resolve("200")
	if !slices.Equal(mgr.Manages, []string{"oppvekst"}) || !mgr.Manager() || mgr.Tenantwide() || mgr.Label != "Oppvekstsjef" {
		t.Errorf("the manager's access: %+v", mgr)
	}
	if got := mgr.VisibleUnits(); !slices.Equal(got, []string{"oppvekst", "skole"}) {
		t.Errorf("the manager sees units %v", got)
	}
	for unit, want := range map[string]bool{"oppvekst": true, "skole": true, "helse": false, "k": false, "nope": false} {
		if mgr.SeesUnit(unit) != want {
			t.Errorf("manager SeesUnit(%s) = %v", unit, !want)
		}
	}
	for _, c := range []struct {
		person string
		units  []string
		want   bool
	}{{"201", []string{"skole"}, true}, {"200", []string{"oppvekst"}, true}, {"301", []string{"helse"}, false}, {"100", []string{"k"}, false}} {
		if got := mgr.SeesPerson(c.person, c.units); got != c.want {
			t.Errorf("manager SeesPerson(%s) = %v", c.person, got)
		}
	}
	learner := resolve("301")
	if learner.Manager() || learner.Tenantwide() || len(learner.VisibleUnits()) != 0 || !learner.SeesPerson("301", []string{"helse"}) ||
		learner.SeesPerson("300", []string{"helse"}) || learner.SeesUnit("helse") {
		t.Errorf("the learner's access: %+v", learner)
	}
	auditor := resolve("", accounts.RoleAuditor)
	if !auditor.Tenantwide() || auditor.Learner() || len(auditor.VisibleUnits()) != 4 || !auditor.SeesPerson("301", nil) || auditor.Label != "label" {
		t.Errorf("the auditor's access: %+v", auditor)
	}
	top := resolve("100")
	if got := top.VisibleUnits(); len(got) != 4 {
		t.Errorf("the top manager sees %v", got)
	}

	// An OpenID Connect claim names a person by e-mail or LMS account.
	day := reporting.DateOf(now, time.UTC)
	for key, want := range map[string]string{
		reporting.MatchKey("mbox:mailto:Laerer@K.no"):              "201",
		reporting.MatchKey("account:https://idp.k.no laerer"):      "201",
		reporting.MatchKey("mbox:mailto:sykepleier@k.no"):          "301",
		reporting.MatchKey("mbox:mailto:sykepleier@annen.kommune"): "",
		reporting.MatchKey("account:https://idp.k.no sykepleier"):  "",
	} {
		got, err := accounts.FindPerson(ctx, db, "default", []string{key}, day)
		if got != want || (want == "") != errs.Is(err, errs.NotFound) {
			t.Errorf("FindPerson(%s) = %q, %v; want %q", key, got, err, want)
		}
	}
	if _, err := accounts.FindPerson(ctx, db, "default", []string{reporting.MatchKey("mbox:mailto:laerer@k.no"), reporting.MatchKey("mbox:mailto:helse@k.no")}, day); !errs.Is(err, errs.Conflict) {
		t.Errorf("two people: %v", err)
	}
	if ok, err := accounts.PersonExists(ctx, db, "default", "301"); !ok || err != nil {
		t.Errorf("PersonExists(301) = %v, %v", ok, err)
	}
	if ok, _ := accounts.PersonExists(ctx, db, "default", "999"); ok {
		t.Error("PersonExists(999)")
	}
	if ok, _ := accounts.PersonExists(ctx, db, auth.DefaultTenant+"x", "301"); ok {
		t.Error("another tenant's person exists")
	}
}

// TestTenantChecks: with a TenantStore, accounts are made only in tenants
// that exist, and nobody of a disabled tenant signs in or keeps a session.
func TestTenantChecks(t *testing.T) {
	db := openDB(t)
	svc := accounts.New(accounts.Config{Store: db, Tenants: db})
	if _, err := svc.CreateAccount(ctx, "cli:test", accounts.NewAccount{Name: "kari", Tenant: "oslo"}); !errs.Is(err, errs.NotFound) {
		t.Errorf("an account in a tenant that does not exist: %v", err)
	}
	if err := db.CreateTenant(ctx, &auth.Tenant{Name: "oslo", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateAccount(ctx, "cli:test", accounts.NewAccount{Name: "kari", Tenant: "oslo", Password: "correct horse battery staple"}); err != nil {
		t.Fatal(err)
	}
	secret, _, err := svc.StartSession(ctx, accounts.SignIn{Tenant: "oslo", Account: "kari", Method: accounts.MethodPassword})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateTenant(ctx, &auth.Tenant{Name: "oslo", Disabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Session(ctx, secret); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("a session of a disabled tenant: %v", err)
	}
	if _, err := svc.CheckPassword(ctx, "kari", "correct horse battery staple"); !errs.Is(err, errs.Unauthorized) {
		t.Errorf("a sign-in to a disabled tenant: %v", err)
	}
	if _, _, err := svc.StartSession(ctx, accounts.SignIn{Tenant: "oslo", Person: "1", Method: accounts.MethodOIDC}); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a session started in a disabled tenant: %v", err)
	}
}
