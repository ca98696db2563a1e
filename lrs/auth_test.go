package lrs_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/auth"
)

// TestFailedAuthLog checks what the log says of failed authentications: the
// key when a credential has it, a fingerprint of anything else (a secret
// typed into the user field by mistake must not reach the log), and no
// line holds the client's address.
func TestFailedAuthLog(t *testing.T) {
	s, logs := observed(t)
	secret := auth.RandomHex(24) // shaped like a secret, and like a key
	for range 2 {
		expect(t, s.do(req{method: "GET", path: "/xapi/statements", noAuth: true, header: basic(secret, "")}),
			http.StatusUnauthorized)
	}
	expect(t, s.do(req{method: "GET", path: "/xapi/statements", noAuth: true, header: basic("Kari Nordmann", "pw")}),
		http.StatusUnauthorized)
	expect(t, s.do(req{method: "GET", path: "/xapi/statements", noAuth: true, header: basic("admin", "not-the-admin-secret")}),
		http.StatusUnauthorized)
	expect(t, s.do(req{method: "GET", path: "/xapi/statements", noAuth: true, header: basic("revoked", "revoked-secret")}),
		http.StatusUnauthorized)
	expect(t, s.do(req{method: "GET", path: "/xapi/statements"}), http.StatusOK)

	out := logs.String()
	for _, leak := range []string{secret, "Kari Nordmann", "not-the-admin-secret", "127.0.0.1", `"remote"`} {
		if strings.Contains(out, leak) {
			t.Errorf("the log holds %q:\n%s", leak, out)
		}
	}
	var keys []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var l struct{ Msg, Key string }
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if l.Msg == "authentication failed" {
			keys = append(keys, l.Key)
		}
	}
	fp := regexp.MustCompile(`^fp:[0-9a-f]{12}$`)
	if len(keys) != 5 || !fp.MatchString(keys[0]) || keys[1] != keys[0] || !fp.MatchString(keys[2]) || keys[2] == keys[0] ||
		keys[3] != "admin" || keys[4] != "revoked" {
		t.Errorf("keys logged: %q; want the same fingerprint twice, another, then admin and revoked", keys)
	}
}
