package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
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
