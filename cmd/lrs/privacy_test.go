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
	"time"

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

// retentionDB makes a SQLite database whose default tenant has Kari
// (e1), who left six years ago, and Ola (e2), employed, and keeps
// statements 5 years after employment; the tenant bergen has no rules.
func retentionDB(t *testing.T) (db string, cli func(args ...string) (string, error)) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db = filepath.Join(dir, "lrs.db")
	cli = func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(args, "--db", db), &out, io.Discard)
		return out.String(), err
	}
	left := time.Now().AddDate(-6, 0, 0).Format("2006-01-02")
	people := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(people, []byte("id,name,email,start,end\ne1,Kari Nordmann,kari.nordmann@kommune.no,2015-01-01,"+left+"\n"+
		"e2,Ola Hansen,ola@kommune.no,2015-01-01,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"roster", "import", "--tenant", "default", "--effective", "2015-01-01", people},
		{"tenants", "create", "bergen"},
	} {
		if out, err := cli(args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	st, err := openCLIStores(ctx, streams{stdout: io.Discard, stderr: io.Discard}, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Privacy.PutRetentionRules(ctx, "default", &privacy.RetentionRules{StatementsYears: 5}); err != nil {
		t.Fatal(err)
	}
	return db, cli
}

// TestRetentionCLI runs "lrs retention run": the dry run counts what the
// run then does (Kari erased, not Ola), a second run finds nothing, only
// tenants with a rule on are run unless named, every run is recorded,
// and an unknown tenant is an error.
func TestRetentionCLI(t *testing.T) {
	ctx := context.Background()
	db, cli := retentionDB(t)
	retention := func(args ...string) []*privacy.RetentionRun {
		t.Helper()
		out, err := cli(append([]string{"retention", "run"}, args...)...)
		if err != nil {
			t.Fatalf("retention run %v: %v\n%s", args, err, out)
		}
		var a struct{ Runs []*privacy.RetentionRun }
		if err := json.Unmarshal([]byte(out), &a); err != nil {
			t.Fatalf("retention run: %v\n%s", err, out)
		}
		return a.Runs
	}
	dry := retention("--dry-run")
	if len(dry) != 1 || dry[0].Tenant != "default" || !dry[0].DryRun || dry[0].Counts.People != 1 || !strings.HasPrefix(dry[0].Actor, "cli:") {
		t.Fatalf("the dry run: %s", jsonString(dry))
	}
	done := retention("--tenant", "default")
	if len(done) != 1 || done[0].DryRun || done[0].Counts != dry[0].Counts {
		t.Errorf("the run did %s; the dry run said %s", jsonString(done), jsonString(dry))
	}
	if again := retention(); len(again) != 1 || again[0].Counts != (privacy.RetentionCounts{}) {
		t.Errorf("a second run: %s", jsonString(again))
	}
	if bergen := retention("--tenant", "bergen"); len(bergen) != 1 || bergen[0].Counts != (privacy.RetentionCounts{}) {
		t.Errorf("bergen's run: %s", jsonString(bergen))
	}
	st, err := openCLIStores(ctx, streams{stdout: io.Discard, stderr: io.Discard}, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Privacy.RetentionRuns(ctx, "default", 10)
	if err != nil || len(runs) != 3 {
		t.Errorf("the default tenant's runs: %s, %v", jsonString(runs), err)
	}
	if _, err := privacy.FindPerson(ctx, st.Reporting, "default", "e1"); err == nil {
		t.Error("Kari is still in the roster")
	}
	if _, err := privacy.FindPerson(ctx, st.Reporting, "default", "e2"); err != nil {
		t.Errorf("Ola: %v", err)
	}
	if _, err := cli("retention", "run", "--tenant", "nowhere"); err == nil {
		t.Error("a run of an unknown tenant succeeded")
	}
}

// TestRetentionJob: `lrs serve` applies the rules on its own, every
// --retention-interval, and its runs are listed by the API.
func TestRetentionJob(t *testing.T) {
	db, cli := retentionDB(t)
	if out, err := cli("credentials", "create", "--name", "personvernombud", "--key", "dpo", "--secret", "dpo-secret-0123456789abcdef",
		"--scopes", "privacy/read"); err != nil {
		t.Fatalf("credentials create: %v\n%s", err, out)
	}
	addr, _ := startServe(t, "--db", db, "--retention-interval", "1s")
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/retention/runs", nil)
		req.SetBasicAuth("dpo", "dpo-secret-0123456789abcdef")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var a struct{ Runs []*privacy.RetentionRun }
		err = json.NewDecoder(res.Body).Decode(&a)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("retention runs: %d %v", res.StatusCode, err)
		}
		if n := len(a.Runs); n > 0 {
			first := a.Runs[n-1]
			if first.Actor != privacy.RetentionJob || first.DryRun || first.Counts.People != 1 || first.Tenant != "default" {
				t.Errorf("the job's first run: %s", jsonString(first))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the job did not run within 20 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
