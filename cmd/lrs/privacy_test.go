package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reporting"
)

// TestPagesAccessLog: the pages showing people's data are recorded in the
// access log with the signed-in account as the actor, and the data
// protection officer reads them through the API.
func TestPagesAccessLog(t *testing.T) {
	e := startPages(t)
	if err := run(context.Background(), []string{"credentials", "create", "--db", e.db, "--name", "personvernombud", "--key", "dpo",
		"--secret", "dpo-secret-0123456789abcdef", "--scopes", "privacy/read"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.signIn(acctManager)
	for _, path := range []string{"/people/201", "/units/skole", "/units/skole/status.csv", "/me"} {
		if res, body := b.get(path); res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
	}
	entries := func(person string) []string {
		req, _ := http.NewRequest("GET", e.base+"/api/v1/access-log?person="+person, nil)
		req.SetBasicAuth("dpo", "dpo-secret-0123456789abcdef")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var a struct {
			Entries []struct{ Actor, ActorKind, What string } `json:"entries"`
		}
		if err := json.NewDecoder(res.Body).Decode(&a); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("access log of %s: %d %v", person, res.StatusCode, err)
		}
		var out []string
		for _, x := range a.Entries {
			out = append(out, x.ActorKind+" "+x.Actor+" "+x.What)
		}
		return out
	}
	if got, want := entries("201"), []string{"account " + acctManager + " page/person", "account " + acctManager + " page/unit",
		"account " + acctManager + " page/unit.csv"}; !slices.Equal(got, want) {
		t.Errorf("Kari's access log: %q, want %q", got, want)
	}
	if got, want := entries("200"), []string{"account " + acctManager + " page/me"}; !slices.Equal(got, want) {
		t.Errorf("the manager's own access log: %q, want %q", got, want)
	}
}

// TestPrivacyEraseCLI erases a person with "lrs privacy erase": the dry
// run changes nothing and counts as the erasure then does, the roster
// holds the pseudonym afterwards, a second run finds nothing left, and
// missing flags, a bad mode and an unknown person are errors.
func TestPrivacyEraseCLI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "lrs.db")
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(args, "--db", db), &out, io.Discard)
		return out.String(), err
	}
	people := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(people, []byte("id,name,email,start\ne1,Kari Nordmann,kari.nordmann@kommune.no,2025-01-01\n"+
		"e2,Ola Hansen,ola@kommune.no,2025-01-01\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := cli("roster", "import", "--tenant", "default", "--effective", "2025-01-01", people); err != nil {
		t.Fatalf("roster import: %v\n%s", err, out)
	}
	erase := func(args ...string) privacy.Erasure {
		t.Helper()
		out, err := cli(append([]string{"privacy", "erase", "--tenant", "default", "--person", "e1"}, args...)...)
		if err != nil {
			t.Fatalf("privacy erase %v: %v", args, err)
		}
		var e privacy.Erasure
		if err := json.Unmarshal([]byte(out), &e); err != nil {
			t.Fatalf("privacy erase: %v\n%s", err, out)
		}
		if strings.Contains(out, "Kari") || strings.Contains(out, "kari") || strings.Contains(out, `"e1"`) {
			t.Errorf("the record names Kari: %s", out)
		}
		return e
	}
	dry := erase("--mode", "pseudonymise", "--dry-run")
	if !dry.DryRun || dry.Counts.RosterRows == 0 {
		t.Errorf("dry run: %+v", dry)
	}
	done := erase("--mode", "pseudonymise")
	if done.Counts != dry.Counts || !strings.HasPrefix(done.Pseudonym, "erased-") || !strings.HasPrefix(done.Actor, "cli:") {
		t.Errorf("erasure %+v, dry run %+v", done, dry)
	}
	st, err := openCLIStores(ctx, streams{stdout: io.Discard, stderr: io.Discard}, db)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := st.Reporting.RosterRows(ctx, "default", reporting.RosterFilter{People: []string{"e1", done.Pseudonym, "e2"}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Key == "e1" || strings.Contains(r.Name+r.Email+r.Value, "kari") {
			t.Errorf("a roster row still names Kari: %+v", r)
		}
	}
	if again := erase("--mode", "pseudonymise"); again.Counts != (privacy.ErasureCounts{}) {
		t.Errorf("a second erasure: %+v", again.Counts)
	}
	for _, args := range [][]string{
		{"privacy", "erase", "--tenant", "default", "--person", "e2"},
		{"privacy", "erase", "--tenant", "default", "--person", "e2", "--mode", "shred"},
		{"privacy", "erase", "--tenant", "default", "--person", "nobody", "--mode", "delete"},
		{"privacy", "erase", "--tenant", "nowhere", "--person", "e2", "--mode", "delete"},
	} {
		if _, err := cli(args...); err == nil {
			t.Errorf("%v succeeded", args)
		}
	}
}
