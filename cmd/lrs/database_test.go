package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDatabaseNamed: every command that opens the database names it on
// stderr by its absolute path, and the one that creates it warns; lrs
// serve logs the absolute path and warns the same way. A credential made
// from another directory than the service's no longer lands unnoticed in
// a database of its own.
func TestDatabaseNamed(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	wd, _ := os.Getwd()
	abs := filepath.Join(wd, "lrs-data", "lrs.db") // the default ./lrs-data/lrs.db
	ctx := context.Background()
	cli := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(ctx, args, &stdout, &stderr); err != nil {
			t.Fatalf("lrs %v: %v; stderr %s", args, err, stderr.String())
		}
		return stderr.String()
	}
	// The first command makes the default database, and says so.
	out := cli("credentials", "create", "--name", "first", "--key", "k1")
	if !strings.Contains(out, "database: "+abs+"\n") || !strings.Contains(out, "warning: "+abs+" did not exist") ||
		!strings.Contains(out, "--db") {
		t.Errorf("the command that created the database printed %q", out)
	}
	roster := filepath.Join(dir, "units.csv")
	if err := os.WriteFile(roster, []byte("enhet;enhetsnavn;overordnet;leder\nkommune;Eksempel kommune;;\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"credentials", "list"},
		{"credentials", "create", "--name", "second", "--key", "k2"},
		{"credentials", "rotate", "k2"},
		{"credentials", "revoke", "k2"},
		{"tenants", "create", "oslo"},
		{"tenants", "list"},
		{"tenants", "disable", "oslo"},
		{"tenants", "enable", "oslo"},
		{"reporting", "rebuild"},
		{"roster", "import", "--tenant", "oslo", "--kind", "units", roster},
		{"backup", "--out", filepath.Join(dir, "copy.db")},
	} {
		out := cli(args...)
		if !strings.Contains(out, "database: "+abs+"\n") || strings.Contains(out, "warning") {
			t.Errorf("lrs %s printed %q on stderr, want the database and no warning", strings.Join(args, " "), out)
		}
	}

	// Another directory, the same relative --db: another database, named
	// and warned about.
	other := filepath.Join(wd, "elsewhere")
	os.Mkdir(other, 0o700)
	t.Chdir(other)
	out = cli("credentials", "list", "--db", "lrs-data/lrs.db")
	if want := filepath.Join(other, "lrs-data", "lrs.db"); !strings.Contains(out, "database: "+want) || !strings.Contains(out, "warning: "+want) {
		t.Errorf("a command run elsewhere printed %q", out)
	}

	// lrs serve logs the absolute path; it warns only on a new database.
	t.Chdir(wd)
	for _, tc := range []struct {
		db      string
		created bool
	}{{"lrs-data/lrs.db", false}, {"new/lrs.db", true}} {
		_, stop, logs := startServeLogged(t, "--db", tc.db, "--token-keys", writeKeyFile(t))
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(wd, tc.db)
		var served, warned bool
		for line := range strings.Lines(logs.String()) {
			var l struct{ Level, Msg, DB string }
			if json.Unmarshal([]byte(line), &l) != nil {
				t.Fatalf("not a JSON log line: %q", line)
			}
			served = served || l.Msg == "serving" && l.DB == want
			warned = warned || l.Level == "WARN" && l.DB == want && strings.Contains(l.Msg, "did not exist")
		}
		if !served || warned != tc.created {
			t.Errorf("--db %s: served %v, warned %v (want %v); log:\n%s", tc.db, served, warned, tc.created, logs)
		}
	}
}
