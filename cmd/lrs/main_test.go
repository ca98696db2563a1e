package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMain runs the test binary as the lrs command when LRS_TEST_AS_LRS is
// set (see lrsCmd).
func TestMain(m *testing.M) {
	if os.Getenv("LRS_TEST_AS_LRS") == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	if scaleFile.temp != "" {
		os.RemoveAll(scaleFile.temp) // the benchmarks' organisation at scale
	}
	os.Exit(code)
}

// lrsCmd returns a command running lrs with args as a process of its own:
// this test binary, which then runs main (see TestMain). Tests see the real
// exit status and signal handling without building the binary.
func lrsCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "LRS_TEST_AS_LRS=1")
	return cmd
}

// runLRS runs lrsCmd(args...) in dir with the extra environment env and
// returns its stdout, its stderr and its exit status.
func runLRS(t *testing.T, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := lrsCmd(args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("lrs %v: %v", args, err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// TestHelp asks every command, command group and subcommand for help with
// -h and with --help: each prints its usage on stdout and exits 0, and
// touches no database.
func TestHelp(t *testing.T) {
	table := []struct {
		cmd  string
		want []string // in the usage
	}{
		{"", []string{"lrs serve", "lrs tenants create", "lrs tokens keygen", "lrs version"}},
		{"serve", []string{"Usage: lrs serve", "-max-body-bytes", "LRS_MAX_BODY_BYTES", "-token-keys", "-oidc-issuer", "-session-idle", "-pages-time-zone", "-retention-interval", "LRS_RETENTION_INTERVAL", "-facts-cache", "LRS_FACTS_CACHE"}},
		{"tenants", []string{"lrs tenants create", "lrs tenants list", "lrs tenants disable", "lrs tenants enable"}},
		{"tenants create", []string{"Usage: lrs tenants create NAME", "-db"}},
		{"tenants list", []string{"Usage: lrs tenants list", "-db"}},
		{"tenants disable", []string{"Usage: lrs tenants disable NAME", "-db"}},
		{"tenants enable", []string{"Usage: lrs tenants enable NAME", "-db"}},
		{"credentials", []string{"lrs credentials create", "lrs credentials list", "lrs credentials rotate", "lrs credentials revoke"}},
		{"credentials create", []string{"Usage: lrs credentials create", "-name", "-scopes"}},
		{"credentials list", []string{"Usage: lrs credentials list", "-tenant"}},
		{"credentials rotate", []string{"Usage: lrs credentials rotate KEY", "-grace"}},
		{"credentials revoke", []string{"Usage: lrs credentials revoke KEY", "-db"}},
		{"accounts", []string{"lrs accounts create", "lrs accounts list", "lrs accounts grant", "lrs accounts revoke",
			"lrs accounts disable", "lrs accounts enable", "lrs accounts password"}},
		{"accounts create", []string{"Usage: lrs accounts create", "-person", "-grant", "-password-stdin", "-no-password", "hr (the whole"}},
		{"accounts list", []string{"Usage: lrs accounts list", "-tenant"}},
		{"accounts grant", []string{"Usage: lrs accounts grant NAME ROLE", "-db"}},
		{"accounts revoke", []string{"Usage: lrs accounts revoke NAME ROLE", "-db"}},
		{"accounts disable", []string{"Usage: lrs accounts disable NAME", "-db"}},
		{"accounts enable", []string{"Usage: lrs accounts enable NAME", "-db"}},
		{"accounts password", []string{"Usage: lrs accounts password NAME", "-password-stdin"}},
		{"reporting", []string{"lrs reporting rebuild"}},
		{"reporting rebuild", []string{"Usage: lrs reporting rebuild", "-tenant"}},
		{"roster", []string{"lrs roster import"}},
		{"roster import", []string{"Usage: lrs roster import", "-kind", "-partial"}},
		{"privacy", []string{"lrs privacy erase"}},
		{"privacy erase", []string{"Usage: lrs privacy erase", "-person", "-mode", "-dry-run", "pseudonym"}},
		{"retention", []string{"lrs retention run"}},
		{"retention run", []string{"Usage: lrs retention run", "-tenant", "-dry-run", "employment ended"}},
		{"evidence", []string{"lrs evidence verify"}},
		{"evidence verify", []string{"Usage: lrs evidence verify FILE", "-jwks"}},
		{"tokens", []string{"lrs tokens keygen"}},
		{"tokens keygen", []string{"Usage: lrs tokens keygen", "-alg", "-append", "-if-missing", "kubectl create secret"}},
		{"bench", []string{"Usage: lrs bench", "-clients", "-fill"}},
		{"backup", []string{"Usage: lrs backup", "-out"}},
		{"version", []string{"Usage: lrs version"}},
	}
	// The table covers every command there is.
	var listed []string
	for _, tc := range table {
		listed = append(listed, tc.cmd)
	}
	for _, c := range commands() {
		if !slices.Contains(listed, c.name) {
			t.Errorf("command %q is missing from the table", c.name)
		}
		if group, _, ok := strings.Cut(c.name, " "); ok && !slices.Contains(listed, group) {
			t.Errorf("command group %q is missing from the table", group)
		}
	}

	dir := t.TempDir()
	t.Chdir(dir) // where the default database would be made
	for _, tc := range table {
		for _, h := range []string{"-h", "--help"} {
			args := append(strings.Fields(tc.cmd), h)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				if err := run(context.Background(), args, &stdout, &stderr); err != nil {
					t.Fatalf("error %v; stderr %q", err, stderr.String())
				}
				for _, w := range tc.want {
					if !strings.Contains(stdout.String(), w) {
						t.Errorf("the usage lacks %q:\n%s", w, stdout.String())
					}
				}
				if stderr.Len() > 0 {
					t.Errorf("help wrote to stderr: %q", stderr.String())
				}
				// As a process: exit status 0, the same usage.
				out, errOut, code := runLRS(t, dir, nil, args...)
				if code != 0 || out != stdout.String() || errOut != "" {
					t.Errorf("exit status %d, stderr %q, stdout differs: %v", code, errOut, out != stdout.String())
				}
			})
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("asking for help made %v", entries)
	}
	// lrs help COMMAND is COMMAND --help.
	var a, b bytes.Buffer
	if err := run(context.Background(), []string{"help", "tenants", "create"}, &a, io.Discard); err != nil ||
		run(context.Background(), []string{"tenants", "create", "--help"}, &b, io.Discard) != nil || a.String() != b.String() {
		t.Errorf("lrs help tenants create: %v\n%s", err, a.String())
	}
	// Without a command, or with an unknown one, the usage goes to stderr
	// and the exit status is 2.
	for _, args := range [][]string{{}, {"nonsense"}, {"tenants"}, {"tenants", "nonsense"}, {"tenants", "create"}} {
		out, errOut, code := runLRS(t, dir, nil, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "Usage") && !strings.Contains(errOut, "want NAME") {
			t.Errorf("lrs %v: exit status %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// TestServeEndToEnd runs the binary's own commands: it creates a credential,
// lists it, serves on a free port, posts and reads a statement over HTTP, and
// shuts the service down by cancelling its context (as SIGTERM does).
func TestServeEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "data", "lrs.db")
	ctx := context.Background()

	var out bytes.Buffer
	if err := run(ctx, []string{"credentials", "create", "--db", db, "--name", "e2e", "--key", "k1", "--secret", "s1-0123456789abcdef"}, &out, io.Discard); err != nil {
		t.Fatalf("credentials create: %v", err)
	}
	if !strings.Contains(out.String(), "key:    k1") || !strings.Contains(out.String(), "secret: s1-0123456789abcdef") {
		t.Fatalf("credentials create printed %q", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"credentials", "list", "--db", db}, &out, io.Discard); err != nil {
		t.Fatalf("credentials list: %v", err)
	}
	if !strings.Contains(out.String(), "k1") || strings.Contains(out.String(), "s1-0123") {
		t.Fatalf("credentials list must show the key and never the secret: %q", out.String())
	}
	if err := run(ctx, []string{"credentials", "create", "--db", db, "--name", "bad", "--scopes", "root"}, io.Discard, io.Discard); err == nil {
		t.Fatal("an unknown scope was accepted")
	}

	addr, stop := startServe(t, "--db", db)
	base := "http://" + addr + "/xapi/"
	about, err := http.Get(base + "about")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(about.Body)
	about.Body.Close()
	if about.StatusCode != 200 || !strings.Contains(string(body), "2.0.0") {
		t.Fatalf("about: %d %s", about.StatusCode, body)
	}

	do := func(method, url, user, pass, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("X-Experience-API-Version", "1.0.3")
		req.Header.Set("Content-Type", "application/json")
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const id = "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"
	stmt := fmt.Sprintf(`{"id":%q,"actor":{"mbox":"mailto:kari@kommune.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://kins.example/modul/1"}}`, id)
	if code, b := do("POST", base+"statements", "k1", "wrong", stmt); code != 401 {
		t.Fatalf("bad secret: %d %s", code, b)
	}
	if code, b := do("POST", base+"statements", "k1", "s1-0123456789abcdef", stmt); code != 200 || !strings.Contains(b, id) {
		t.Fatalf("POST: %d %s", code, b)
	}
	if code, b := do("GET", base+"statements?statementId="+id, "k1", "s1-0123456789abcdef", ""); code != 200 || !strings.Contains(b, "kari@kommune.no") || !strings.Contains(b, `"stored"`) {
		t.Fatalf("GET: %d %s", code, b)
	}

	if err := stop(); err != nil {
		t.Fatalf("serve returned %v after shutdown", err)
	}

	// The statement is still there after a restart: read it with the store.
	st, err := openStores(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if rec, err := st.Statements.Get(ctx, "default", id); err != nil || !strings.Contains(string(rec.JSON), id) {
		t.Fatalf("after restart: %v", err)
	}
}
