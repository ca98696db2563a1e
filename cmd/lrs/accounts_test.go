package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/accounts"
	"github.com/xapi-lrs/lrs/sqlite"
)

// TestAccountsCLI runs lrs accounts create, list, grant, revoke,
// password, disable and enable against a database, and checks what they
// print, what they store and what they refuse.
func TestAccountsCLI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lrs.db")
	ctx := context.Background()
	lrs := func(stdin string, args ...string) (string, string, error) {
		t.Helper()
		passwordInput = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		err := run(ctx, append(args, "--db", db), &out, &errOut)
		return out.String(), errOut.String(), err
	}

	// A random password, shown once, that signs in.
	out, errOut, err := lrs("", "accounts", "create", "--name", "kari@k.no", "--person", "201", "--grant", "hr,auditor")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^password: (\S+)$`).FindStringSubmatch(out)
	if m == nil || len(m[1]) < 20 || !strings.Contains(out, "grants:  auditor,hr") || !strings.Contains(out, "person:  201") {
		t.Fatalf("accounts create printed:\n%s", out)
	}
	if !strings.Contains(errOut, `no person "201"`) {
		t.Errorf("no warning that 201 is not in the roster: %q", errOut)
	}
	password := m[1]

	// From stdin (in a tenant that must exist), and none at all.
	if _, _, err := lrs("another long passphrase\n", "accounts", "create", "--name", "ola", "--tenant", "oslo", "--password-stdin"); err == nil ||
		!strings.Contains(err.Error(), `no tenant named "oslo"`) {
		t.Errorf("an account in a tenant that does not exist: %v", err)
	}
	if _, _, err := lrs("", "tenants", "create", "oslo"); err != nil {
		t.Fatal(err)
	}
	if out, _, err := lrs("another long passphrase\n", "accounts", "create", "--name", "ola", "--tenant", "oslo", "--password-stdin"); err != nil ||
		strings.Contains(out, "passphrase") || strings.Contains(out, "password:") {
		t.Errorf("--password-stdin: %v\n%s", err, out)
	}
	if out, _, err := lrs("", "accounts", "create", "--name", "revisor@riksrevisjonen.no", "--grant", "auditor", "--no-password"); err != nil ||
		!strings.Contains(out, "only through OpenID Connect") {
		t.Errorf("--no-password: %v\n%s", err, out)
	}
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"accounts", "create", "--name", "kari@k.no"}, "exists"},
		{"", []string{"accounts", "create"}, "--name is required"},
		{"", []string{"accounts", "create", "--name", "x", "--grant", "manager"}, "manager and learner come from the roster"},
		{"short\n", []string{"accounts", "create", "--name", "x", "--password-stdin"}, "at least 12 characters"},
		{"", []string{"accounts", "create", "--name", "x", "--password-stdin", "--no-password"}, "not both"},
		{"", []string{"accounts", "grant", "nobody", "hr"}, "no account"},
		{"", []string{"accounts", "grant", "kari@k.no", "admin"}, "unknown role"},
		{"", []string{"accounts", "grant", "kari@k.no"}, "want NAME ROLE"},
	} {
		if _, _, err := lrs(c.stdin, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error saying %q", c.args, err, c.want)
		}
	}

	if out, _, err := lrs("", "accounts", "revoke", "kari@k.no", "hr"); err != nil || !strings.Contains(out, "grants auditor") {
		t.Errorf("revoke: %v %s", err, out)
	}
	if _, _, err := lrs("", "accounts", "disable", "ola"); err != nil {
		t.Fatal(err)
	}
	out, _, err = lrs("", "accounts", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "kari@k.no") || !strings.Contains(lines[1], "auditor") ||
		!regexp.MustCompile(`ola\s+oslo\s+-\s+-\s+true\s+true`).MatchString(lines[2]) ||
		!regexp.MustCompile(`revisor@riksrevisjonen.no\s+default\s+-\s+auditor\s+false\s+false`).MatchString(lines[3]) ||
		strings.Contains(out, "argon2") || strings.Contains(out, password) {
		t.Errorf("accounts list:\n%s", out)
	}
	if out, _, _ := lrs("", "accounts", "list", "--tenant", "oslo"); strings.Count(out, "\n") != 2 {
		t.Errorf("accounts list --tenant oslo:\n%s", out)
	}

	// What is stored: the hash of the password shown; a new password
	// replaces it.
	check := func(name, pw string, want bool) {
		t.Helper()
		st, err := sqlite.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		svc := accounts.New(accounts.Config{Store: st})
		if _, err := svc.CheckPassword(ctx, name, pw); (err == nil) != want {
			t.Errorf("CheckPassword(%s) = %v", name, err)
		}
	}
	check("kari@k.no", password, true)
	if _, _, err := lrs("a brand new passphrase\n", "accounts", "password", "kari@k.no", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	check("kari@k.no", password, false)
	check("kari@k.no", "a brand new passphrase", true)
	check("ola", "another long passphrase", false) // disabled
	if _, _, err := lrs("", "accounts", "enable", "ola"); err != nil {
		t.Fatal(err)
	}
	check("ola", "another long passphrase", true)
	// Every change is in the audit log, by the person at the command line.
	st, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := st.Audit(ctx, "", time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Action, "account.") {
			continue
		}
		actions = append(actions, e.Action+" "+e.Target)
		if !strings.HasPrefix(e.Actor, "cli:") {
			t.Errorf("actor %q", e.Actor)
		}
	}
	want := "account.create kari@k.no, account.create ola, account.create revisor@riksrevisjonen.no, account.revoke kari@k.no, " +
		"account.disable ola, account.password kari@k.no, account.enable ola"
	if got := strings.Join(actions, ", "); got != want {
		t.Errorf("audit log: %s\nwant %s", got, want)
	}
}
