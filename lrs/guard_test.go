package lrs_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/tokens"
)

// TestFailedLoginsThrottled checks the throttle of failed logins through
// the server, with clients on several loopback addresses: a burst of wrong
// secrets from one address gets 429 with Retry-After, for every key and
// the token endpoint too, while the right secret from another address gets
// in; a guessing spread over several addresses throttles the key for new
// addresses, briefly, but not for the address its client already uses; and
// every refusal is counted in lrs_auth_failures_total.
func TestFailedLoginsThrottled(t *testing.T) {
	s, _ := tokenServer(t, tokens.Config{})
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	s.clock.Set(start)
	get := func(from, key, secret string) *response {
		return s.do(req{method: "GET", path: "/xapi/statements?limit=1", noAuth: true, from: from,
			header: basic(key, secret)})
	}
	throttled := func(what string, r *response) {
		t.Helper()
		expect(t, r, http.StatusTooManyRequests)
		if r.header.Get("Retry-After") != "1" {
			t.Errorf("%s: Retry-After %q, want 1", what, r.header.Get("Retry-After"))
		}
	}
	tokenFrom := func(from, key, secret string) *response {
		hr, _ := http.NewRequest("POST", s.URL+"/api/v1/token",
			strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		hr.SetBasicAuth(key, secret)
		res, err := clientFrom(from).Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return &response{status: res.StatusCode, header: res.Header}
	}

	// The LMS behind key writer works from 127.0.0.3.
	expect(t, s.do(req{method: "POST", path: "/xapi/statements", key: "writer", from: "127.0.0.3", body: stmt("kari", "completed")}),
		http.StatusOK)

	// Requests without credentials guess nothing: never throttled (clients
	// that wait for the challenge before sending credentials send many).
	for range 30 {
		expect(t, s.do(req{method: "GET", path: "/xapi/statements", noAuth: true, from: "127.0.0.2"}), http.StatusUnauthorized)
	}
	// A burst of wrong secrets from 127.0.0.2: 20 are answered 401, then
	// 429, whichever key, secret or endpoint.
	for i := range 20 {
		if r := get("127.0.0.2", "admin", "guess-"+string(rune('a'+i))); r.status != http.StatusUnauthorized {
			t.Fatalf("wrong secret %d: status %d, want 401", i+1, r.status)
		}
	}
	r := get("127.0.0.2", "admin", "one-more-guess")
	throttled("the 21st wrong secret", r)
	if r.errorKind(t) != "too_many_requests" {
		t.Errorf("kind %s", r.errorKind(t))
	}
	throttled("the right secret from the guessing address", get("127.0.0.2", "admin", "admin-secret"))
	throttled("another key from the guessing address", get("127.0.0.2", "reader", "reader-secret"))
	throttled("the token endpoint from the guessing address", tokenFrom("127.0.0.2", "admin", "admin-secret"))
	// The right secret from another address gets in at once, to the
	// resources and to the token endpoint.
	expect(t, get("127.0.0.4", "admin", "admin-secret"), http.StatusOK)
	expect(t, tokenFrom("127.0.0.4", "admin", "admin-secret"), http.StatusOK)
	expect(t, tokenFrom("127.0.0.4", "admin", "wrong"), http.StatusUnauthorized)
	// A second later the guessing address has one more guess.
	s.clock.Set(start.Add(time.Second))
	expect(t, get("127.0.0.2", "admin", "later-guess"), http.StatusUnauthorized)
	throttled("the guess after that", get("127.0.0.2", "admin", "later-guess-2"))

	// Guessing the writer's secret from three addresses empties the key's
	// bucket (50): a new address waits, the LMS's own does not.
	for _, from := range []string{"127.0.0.10", "127.0.0.11", "127.0.0.12"} {
		for range 20 {
			get(from, "writer", "guess")
		}
	}
	throttled("the right secret from a new address while the key is guessed", get("127.0.0.20", "writer", "writer-secret"))
	expect(t, s.do(req{method: "POST", path: "/xapi/statements", key: "writer", from: "127.0.0.3", body: stmt("ola", "completed")}),
		http.StatusOK)
	s.clock.Set(start.Add(2 * time.Second))
	expect(t, s.do(req{method: "POST", path: "/xapi/statements", key: "writer", from: "127.0.0.20", body: stmt("per", "completed")}),
		http.StatusOK)

	// Only wrong secrets for the writer from its own address lock it out,
	// as nothing tells them apart from it.
	for range 20 {
		expect(t, get("127.0.0.3", "writer", "guess"), http.StatusUnauthorized)
	}
	throttled("the LMS after 20 wrong secrets from its own address", get("127.0.0.3", "writer", "writer-secret"))

	// Every refusal counted: 30 without credentials; 20+1 wrong secrets
	// from 127.0.0.2 and 1 at the token endpoint, 4+1 throttled; the 60
	// guesses of the writer's secret (50 answered 401, 10 throttled) and
	// the new address throttled once; 20 wrong and 1 throttled from the LMS.
	fams := scrape(t, s.URL, "")
	wantValue(t, fams, 30+(21+1+5)+(60+1)+(20+1), "lrs_auth_failures_total")
}
