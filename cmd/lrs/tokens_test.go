package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/tokens"
)

// writeKeyFile makes a token key file with lrs tokens keygen and returns
// its path.
func writeKeyFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token-keys.pem")
	if err := run(context.Background(), []string{"tokens", "keygen", "--out", p}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTokensKeygen makes key files with lrs tokens keygen: on stdout, in a
// new file, kept when it exists (--if-missing), added to (--append).
func TestTokensKeygen(t *testing.T) {
	ctx := context.Background()
	keygen := func(args ...string) (string, string, error) {
		var stdout, stderr bytes.Buffer
		err := run(ctx, append([]string{"tokens", "keygen"}, args...), &stdout, &stderr)
		return stdout.String(), stderr.String(), err
	}
	kidsOf := func(b []byte) []string {
		t.Helper()
		kids, err := tokens.KeyIDs(b)
		if err != nil {
			t.Fatalf("not a key file: %v\n%s", err, b)
		}
		return kids
	}
	out, msg, err := keygen()
	if err != nil || len(kidsOf([]byte(out))) != 1 || !strings.Contains(msg, kidsOf([]byte(out))[0]) {
		t.Fatalf("keygen to stdout: %v, %q, %q", err, out, msg)
	}

	p := filepath.Join(t.TempDir(), "keys.pem")
	if _, msg, err := keygen("--out", p); err != nil || !strings.Contains(msg, "LRS_TOKEN_KEYS") {
		t.Fatalf("keygen --out: %v %q", err, msg)
	}
	first, _ := os.ReadFile(p)
	if info, _ := os.Stat(p); info.Mode().Perm() != 0o600 || len(kidsOf(first)) != 1 {
		t.Errorf("the new key file: mode %v, %d keys", info.Mode().Perm(), len(kidsOf(first)))
	}
	if _, _, err := keygen("--out", p); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("keygen --out over an existing file: %v", err)
	}
	if _, msg, err := keygen("--out", p, "--if-missing"); err != nil || !strings.Contains(msg, "left as it is") {
		t.Errorf("keygen --if-missing: %v %q", err, msg)
	}
	if now, _ := os.ReadFile(p); !bytes.Equal(now, first) {
		t.Error("--if-missing changed the key file")
	}
	// Appending to a file whose last line lacks its line break.
	os.WriteFile(p, bytes.TrimRight(first, "\n"), 0o600)
	_, msg, err = keygen("--out", p, "--append", "--alg", "ES256")
	now, _ := os.ReadFile(p)
	kids := kidsOf(now)
	if err != nil || len(kids) != 2 || kids[0] != kidsOf(first)[0] || !strings.Contains(msg, kids[1]) {
		t.Errorf("keygen --append: %v %q, kids %v", err, msg, kids)
	}
	svc, err := tokens.New(tokens.Config{Issuer: "lrs", KeyFile: p, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := svc.Issue(&auth.Credential{Key: "k", Scopes: []string{"all"}}, []string{"all"}); err != nil || !strings.HasPrefix(tok.AccessToken, "eyJ") {
		t.Errorf("the appended key does not sign: %v", err)
	}
	for _, args := range [][]string{{"--alg", "RS256"}, {"--append"}, {"--if-missing"}, {"--out", p, "--append", "--if-missing"}} {
		if _, _, err := keygen(args...); err == nil {
			t.Errorf("keygen %v succeeded", args)
		}
	}
}

// TestSharedTokenKeys starts two replicas of lrs serve on one database: with
// one key file (as deploy/ configures them), each accepts the other's
// tokens and no warning is logged; without one, each warns at start, naming
// LRS_TOKEN_KEYS and what an ephemeral key costs, and refuses the other's
// tokens.
func TestSharedTokenKeys(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lrs.db")
	const key, secret = "app", "app-secret-0123456789"
	if err := run(context.Background(), []string{"credentials", "create", "--db", db, "--name", "app", "--key", key, "--secret", secret},
		io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	token := func(addr string) string { t.Helper(); return bearerToken(t, addr, key, secret) }
	use := func(addr, tok string) int { t.Helper(); return withBearer(t, addr, tok) }
	warning := func(logs *lockedBuffer) string {
		for line := range strings.Lines(logs.String()) {
			var l struct{ Level, Msg, Setting string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Level == "WARN" && l.Setting == "LRS_TOKEN_KEYS" {
				return l.Msg
			}
		}
		return ""
	}

	keys := writeKeyFile(t)
	a, _, logsA := startServeLogged(t, "--db", db, "--token-keys", keys, "--token-issuer", "https://lrs.example.org")
	b, _, logsB := startServeLogged(t, "--db", db, "--token-keys", keys, "--token-issuer", "https://lrs.example.org")
	if code := use(b, token(a)); code != 200 {
		t.Errorf("replica B refused a token of replica A with the shared key file: %d", code)
	}
	if code := use(a, token(b)); code != 200 {
		t.Errorf("replica A refused a token of replica B with the shared key file: %d", code)
	}
	for _, l := range []*lockedBuffer{logsA, logsB} {
		if w := warning(l); w != "" {
			t.Errorf("a replica with a key file warned: %s", w)
		}
	}

	c, _, logsC := startServeLogged(t, "--db", db, "--token-keys", "ephemeral", "--token-issuer", "https://lrs.example.org")
	d, _, _ := startServeLogged(t, "--db", db, "--token-keys", "ephemeral", "--token-issuer", "https://lrs.example.org")
	if code := use(d, token(c)); code != 401 {
		t.Errorf("replica D took a token of replica C's ephemeral key: %d", code)
	}
	w := warning(logsC)
	for _, want := range []string{"LRS_TOKEN_KEYS", "ephemeral", "replicas", "restart", "evidence packs", "lrs tokens keygen"} {
		if !strings.Contains(w, want) {
			t.Errorf("the warning %q does not mention %q", w, want)
		}
	}
}

// TestEmbeddedTokenKeyFile: on the embedded store without --token-keys, the
// server makes token-keys.pem beside the database (mode 0600) on its first
// start and signs with it from then on, so a token outlives a restart, no
// ephemeral-key warning is logged, and the file is kept as it is.
func TestEmbeddedTokenKeyFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "lrs.db")
	const key, secret = "app", "app-secret-0123456789"
	if err := run(context.Background(), []string{"credentials", "create", "--db", db, "--name", "app", "--key", key, "--secret", secret},
		io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	first, stop, logs := startServeLogged(t, "--db", db)
	pem := filepath.Join(dir, "token-keys.pem")
	info, err := os.Stat(pem)
	if err != nil {
		t.Fatalf("no key file beside the database: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}
	if strings.Contains(logs.String(), "ephemeral") {
		t.Errorf("the embedded store warned of an ephemeral key:\n%s", logs)
	}
	before, _ := os.ReadFile(pem)
	tok := bearerToken(t, first, key, secret)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	second, _ := startServe(t, "--db", db)
	if code := withBearer(t, second, tok); code != http.StatusOK {
		t.Errorf("a token from before the restart: %d, want 200", code)
	}
	if after, _ := os.ReadFile(pem); string(after) != string(before) {
		t.Error("the second start changed the key file")
	}
}

// bearerToken buys a token at the server at addr with the credential key
// and secret.
func bearerToken(t *testing.T, addr, key, secret string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(key, secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("POST /api/v1/token: %d %v", res.StatusCode, err)
	}
	return tok.AccessToken
}

// withBearer asks the server at addr for a statement with the token tok and
// returns the status of the answer.
func withBearer(t *testing.T, addr, tok string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/xapi/statements?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Experience-API-Version", "2.0.0")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
