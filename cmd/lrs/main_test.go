package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

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

	addr, stop := startServe(t, "--db", db, "--log-level", "warn")
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
