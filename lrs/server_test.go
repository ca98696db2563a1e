package lrs_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/cmd/lrs/wire"
	"github.com/xapi-lrs/lrs/lrs"
)

func TestAbout(t *testing.T) {
	s := newServer(t)
	for _, version := range []string{"-", "1.0.3", "2.0.0", "9.9"} {
		r := s.do(req{method: "GET", path: "/xapi/about", noAuth: true, version: version})
		expect(t, r, http.StatusOK)
		var about struct {
			Version    []string       `json:"version"`
			Extensions map[string]any `json:"extensions"`
		}
		r.json(t, &about)
		if strings.Join(about.Version, ",") != "1.0.3,2.0.0" {
			t.Errorf("about version = %v", about.Version)
		}
		if about.Extensions == nil {
			t.Errorf("about has no extensions object: %s", r.body)
		}
		if got := r.header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
			t.Errorf("Content-Type %q", got)
		}
		want := "2.0.0"
		if version == "1.0.3" {
			want = "1.0.3"
		}
		if got := r.header.Get("X-Experience-API-Version"); got != want {
			t.Errorf("version %s: response version header %q, want %q", version, got, want)
		}
	}

	get := s.do(req{method: "GET", path: "/xapi/about", noAuth: true})
	head := s.do(req{method: "HEAD", path: "/xapi/about", noAuth: true})
	expect(t, head, http.StatusOK)
	if len(head.body) != 0 {
		t.Errorf("HEAD about has a body: %q", head.body)
	}
	if head.header.Get("Content-Length") != get.header.Get("Content-Length") || head.header.Get("Content-Length") == "" {
		t.Errorf("HEAD Content-Length %q, GET %q", head.header.Get("Content-Length"), get.header.Get("Content-Length"))
	}

	r := s.do(req{method: "POST", path: "/xapi/about", body: "{}"})
	expect(t, r, http.StatusMethodNotAllowed)
	if r.errorKind(t) != "method_not_allowed" || !strings.Contains(r.header.Get("Allow"), "GET") {
		t.Errorf("405 body %s, Allow %q", r.body, r.header.Get("Allow"))
	}
	r = s.do(req{method: "GET", path: "/xapi/about?x=1", noAuth: true})
	expect(t, r, http.StatusBadRequest)
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	s := newServer(t)
	for _, path := range []string{"/", "/xapi", "/xapi/nope", "/xapi/statements/x", "/statements"} {
		r := s.do(req{method: "GET", path: path})
		expect(t, r, http.StatusNotFound)
		if r.errorKind(t) != "not_found" {
			t.Errorf("%s: kind %s", path, r.errorKind(t))
		}
		if r.header.Get("X-Experience-API-Version") == "" {
			t.Errorf("%s: 404 without X-Experience-API-Version", path)
		}
	}
	for _, method := range []string{"DELETE", "PATCH"} {
		r := s.do(req{method: method, path: "/xapi/statements"})
		expect(t, r, http.StatusMethodNotAllowed)
		if r.errorKind(t) != "method_not_allowed" {
			t.Errorf("%s: kind %s", method, r.errorKind(t))
		}
		for _, m := range []string{"GET", "HEAD", "POST", "PUT"} {
			if !strings.Contains(r.header.Get("Allow"), m) {
				t.Errorf("Allow %q lacks %s", r.header.Get("Allow"), m)
			}
		}
	}
}

func TestVersionHeader(t *testing.T) {
	s := newServer(t)
	accepted := map[string]string{
		"1.0": "1.0.3", "1.0.0": "1.0.3", "1.0.1": "1.0.3", "1.0.3": "1.0.3", "1.0.9": "1.0.3", "1.0.12": "1.0.3",
		"2.0": "2.0.0", "2.0.0": "2.0.0", "2.0.1": "2.0.0",
	}
	for v, reply := range accepted {
		r := s.do(req{method: "GET", path: "/xapi/statements", version: v})
		expect(t, r, http.StatusOK)
		if got := r.header.Get("X-Experience-API-Version"); got != reply {
			t.Errorf("request %s: response version %q, want %q", v, got, reply)
		}
	}
	for _, v := range []string{"0.9", "0.95", "1.1.0", "1.0.", "1.0.x", "2.1.0", "3.0.0", "BAD", "1", "2.0.0-rc1", " 1.0.3x"} {
		for _, rq := range []req{
			{method: "GET", path: "/xapi/statements"},
			{method: "POST", path: "/xapi/statements", body: stmt("ann", "attended")},
			{method: "PUT", path: "/xapi/statements?statementId=" + newID(), body: stmt("ann", "attended")},
		} {
			rq.version = v
			method := rq.method
			r := s.do(rq)
			expect(t, r, http.StatusBadRequest)
			if r.errorKind(t) != "invalid" {
				t.Errorf("%s with version %q: kind %s", method, v, r.errorKind(t))
			}
			if got := r.header.Get("X-Experience-API-Version"); got != "1.0.3" && got != "2.0.0" {
				t.Errorf("%s with version %q: response version %q", method, v, got)
			}
		}
	}

	// A client that omits the header is answered in the version it used last.
	for _, last := range []string{"1.0.3", "2.0.0"} {
		expect(t, s.do(req{method: "GET", path: "/xapi/statements", key: "reader", version: last}), http.StatusOK)
		r := s.do(req{method: "GET", path: "/xapi/statements", key: "reader", version: "-"})
		expect(t, r, http.StatusBadRequest)
		if got := r.header.Get("X-Experience-API-Version"); got != last {
			t.Errorf("after a %s request: missing header answered with %q", last, got)
		}
	}
}

func TestAuthentication(t *testing.T) {
	s := newServer(t)
	cases := []struct {
		name   string
		header string
	}{
		{"none", ""},
		{"unknown key", "Basic " + b64("stranger:secret")},
		{"wrong secret", "Basic " + b64("admin:wrong")},
		{"no colon", "Basic " + b64("admin")},
		{"malformed scheme", "Basic:" + b64("admin:admin-secret")},
		{"bad base64", "Basic !!!"},
		{"bearer", "Bearer abc"},
		{"revoked", "Basic " + b64("revoked:revoked-secret")},
	}
	for _, c := range cases {
		for _, method := range []string{"GET", "POST", "PUT", "HEAD"} {
			h := map[string]string{}
			if c.header != "" {
				h["Authorization"] = c.header
			}
			r := s.do(req{method: method, path: "/xapi/statements?statementId=" + newID(), noAuth: true, header: h, body: stmt("a", "b")})
			if method == "POST" {
				r = s.do(req{method: method, path: "/xapi/statements", noAuth: true, header: h, body: stmt("a", "b")})
			}
			expect(t, r, http.StatusUnauthorized)
			if got := r.header.Get("WWW-Authenticate"); got != `Basic realm="LRS"` {
				t.Errorf("%s %s: WWW-Authenticate %q", c.name, method, got)
			}
			if method != "HEAD" && r.errorKind(t) != "unauthorized" {
				t.Errorf("%s %s: kind %s", c.name, method, r.errorKind(t))
			}
		}
	}
	// About needs no credentials.
	expect(t, s.do(req{method: "GET", path: "/xapi/about", noAuth: true}), http.StatusOK)
}

func TestScopes(t *testing.T) {
	s := newServer(t)
	st := stmt("ann", "attended")
	id := s.post(st)[0]
	write := map[string]int{"admin": 200, "writer": 200, "mine": 200, "reader": 403, "allreader": 403, "nothing": 403}
	read := map[string]int{"admin": 200, "writer": 403, "mine": 200, "reader": 200, "allreader": 200, "nothing": 403}
	for key, want := range write {
		r := s.do(req{method: "POST", path: "/xapi/statements", key: key, body: stmt(key, "attended")})
		expect(t, r, want)
		r = s.do(req{method: "PUT", path: "/xapi/statements?statementId=" + newID(), key: key, body: stmt(key, "attended")})
		if want == 200 {
			want = 204
		}
		expect(t, r, want)
		if want == 403 && r.errorKind(t) != "forbidden" {
			t.Errorf("%s: kind %s", key, r.errorKind(t))
		}
	}
	for key, want := range read {
		r := s.do(req{method: "GET", path: "/xapi/statements", key: key})
		expect(t, r, want)
		if key == "mine" {
			continue
		}
		expect(t, s.do(req{method: "GET", path: "/xapi/statements?statementId=" + id, key: key}), want)
	}
}

func TestReadMine(t *testing.T) {
	s := newServer(t)
	adminID := s.post(stmt("ann", "attended"))[0]
	r := s.do(req{method: "POST", path: "/xapi/statements", key: "mine", body: stmt("bob", "attended")})
	expect(t, r, http.StatusOK)
	var mineIDs []string
	r.json(t, &mineIDs)

	r = s.do(req{method: "GET", path: "/xapi/statements", key: "mine"})
	expect(t, r, http.StatusOK)
	got, _ := r.result(t)
	if len(got) != 1 || got[0]["id"] != mineIDs[0] {
		t.Errorf("statements/read/mine query returned %v, want only %s", ids(got), mineIDs[0])
	}
	expect(t, s.do(req{method: "GET", path: "/xapi/statements?statementId=" + mineIDs[0], key: "mine"}), http.StatusOK)
	r = s.do(req{method: "GET", path: "/xapi/statements?statementId=" + adminID, key: "mine"})
	expect(t, r, http.StatusNotFound)

	// The authority the LRS set names the credential that wrote it.
	a := s.get(mineIDs[0])["authority"].(map[string]any)
	acct := a["account"].(map[string]any)
	if a["objectType"] != "Agent" || acct["name"] != "mine" || acct["homePage"] != "https://lrs.test" || a["name"] != "mine app" {
		t.Errorf("authority = %v", a)
	}
}

// TestCredentialCache checks how long the server takes up changes made
// elsewhere (with the CLI, through another replica): a key tried before it
// existed works within a second of its creation; a revocation takes effect
// within the TTL.
func TestCredentialCache(t *testing.T) {
	s := newServer(t, func(c *lrs.Config) { c.CredentialTTL = time.Minute })
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	s.clock.Set(start)
	newcomer := req{method: "GET", path: "/xapi/statements", noAuth: true, header: basic("newcomer", "newcomer's-secret")}
	expect(t, s.do(newcomer), http.StatusUnauthorized) // cached as unknown, briefly

	// Created as the CLI does.
	cli := &auth.Admin{Credentials: s.db, Tenants: s.db, Audit: s.db, Now: s.clock.Now}
	if _, _, err := cli.CreateCredential(t.Context(), "cli:test", auth.NewCredential{Key: "newcomer",
		Secret: "newcomer's-secret", Name: "newcomer app", Scopes: []string{auth.ScopeAll}}); err != nil {
		t.Fatal(err)
	}
	expect(t, s.do(newcomer), http.StatusUnauthorized) // still cached as unknown
	s.clock.Set(start.Add(time.Second))
	expect(t, s.do(newcomer), http.StatusOK) // looked up again
	// A wrong secret is refused even when the key is cached.
	r := s.do(req{method: "GET", path: "/xapi/statements", noAuth: true, header: map[string]string{"Authorization": "Basic " + b64("newcomer:nope")}})
	expect(t, r, http.StatusUnauthorized)

	// A known credential is cached for the TTL.
	c, err := s.db.Credential(t.Context(), "newcomer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.RevokeCredential(t.Context(), "cli:test", c); err != nil {
		t.Fatal(err)
	}
	expect(t, s.do(newcomer), http.StatusOK) // still cached
	s.clock.Set(start.Add(time.Second + time.Minute))
	expect(t, s.do(newcomer), http.StatusUnauthorized)
}

func TestServeAndShutdown(t *testing.T) {
	ts := newServer(t) // for its database
	srv := wire.NewServer(wire.SQLite(ts.db), lrs.Config{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	res, err := http.Get("http://" + l.Addr().String() + "/xapi/about")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("about: %d", res.StatusCode)
	}
	if err := srv.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve after Shutdown: %v", err)
	}

	// Shutdown before Serve: Serve returns at once.
	srv = wire.NewServer(wire.SQLite(ts.db), lrs.Config{})
	if err := srv.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	l, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := srv.Serve(l); err != nil {
		t.Errorf("Serve after an early Shutdown: %v", err)
	}
}

func TestStoreUnavailable(t *testing.T) {
	s := newServer(t)
	expect(t, s.do(req{method: "GET", path: "/xapi/statements"}), http.StatusOK) // caches the credential
	s.db.Close()                                                                 // the store fails from now on
	got := s.do(req{method: "POST", path: "/xapi/statements", body: stmt("a", "b")})
	expect(t, got, http.StatusServiceUnavailable)
	if got.errorKind(t) != "unavailable" {
		t.Errorf("kind %s", got.errorKind(t))
	}
	// sqlite's ConsistentThrough does not (yet) report a closed database as
	// errs.Unavailable, so a GET may still be a 500.
	got = s.do(req{method: "GET", path: "/xapi/statements"})
	if got.status != http.StatusServiceUnavailable && got.status != http.StatusInternalServerError {
		t.Errorf("GET on a closed store: %d %s", got.status, got.body)
	}
}
