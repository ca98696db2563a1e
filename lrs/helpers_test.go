package lrs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/cmd/lrs/wire"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/sqlite"
)

// Credentials every test server holds: key -> scopes. The secret of each is
// key + "-secret".
var testCreds = map[string][]string{
	"admin":     {auth.ScopeAll},
	"reader":    {auth.ScopeStatementsRead},
	"allreader": {auth.ScopeAllRead},
	"writer":    {auth.ScopeStatementsWrite},
	"mine":      {auth.ScopeStatementsReadMine, auth.ScopeStatementsWrite},
	"nothing":   {auth.ScopeState},
}

// clock is a settable clock for the server under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// testServer is the real service over a real database (SQLite in a
// temporary directory unless the test says otherwise, newServerOn), served
// by httptest.
type testServer struct {
	*httptest.Server
	svc   *lrs.Server
	db    *sqlite.DB   // the SQLite database; nil on MongoDB
	st    *wire.Stores // the stores of either backend
	clock *clock
	t     testing.TB
}

// newServer starts a server as the binary wires it (wire.NewServer: the
// stores wrapped by the storage metrics, compliance reporting on) over a
// new SQLite database; edit may adjust its Config (setting Reporting or
// Packages to nil turns them off; the stores are the database's).
func newServer(t testing.TB, edit ...func(*lrs.Config)) *testServer {
	t.Helper()
	return newServerOn(t, openSQLite, edit...)
}

// newServerOn is newServer over the database open opens.
func newServerOn(t testing.TB, open opener, edit ...func(*lrs.Config)) *testServer {
	t.Helper()
	st := open(t)
	svc, clk := newServiceOn(t, st, edit...)
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	db, _ := st.Statements.(*sqlite.DB)
	return &testServer{Server: srv, svc: svc, db: db, st: st, clock: clk, t: t}
}

// newService returns the service newServer serves, its database and its
// clock.
func newService(t testing.TB, edit ...func(*lrs.Config)) (*lrs.Server, *sqlite.DB, *clock) {
	t.Helper()
	st := openSQLite(t)
	svc, clk := newServiceOn(t, st, edit...)
	return svc, st.Statements.(*sqlite.DB), clk
}

// newServiceOn is the service over the stores st, holding testCreds, after
// edit.
func newServiceOn(t testing.TB, st *wire.Stores, edit ...func(*lrs.Config)) (*lrs.Server, *clock) {
	t.Helper()
	cfg, clk := newConfigOn(t, st, edit...)
	if cfg.Reporting == nil {
		st.Reporting = nil
	}
	if cfg.Packages == nil {
		st.Packages = nil
	}
	return wire.NewServer(st, cfg), clk
}

// newConfig returns the Config of a test server over a new SQLite database
// holding testCreds, after edit.
func newConfig(t testing.TB, edit ...func(*lrs.Config)) (lrs.Config, *sqlite.DB, *clock) {
	t.Helper()
	st := openSQLite(t)
	cfg, clk := newConfigOn(t, st, edit...)
	return cfg, st.Statements.(*sqlite.DB), clk
}

// newConfigOn returns the Config of a test server over the stores st,
// which it gives testCreds, after edit.
func newConfigOn(t testing.TB, st *wire.Stores, edit ...func(*lrs.Config)) (lrs.Config, *clock) {
	t.Helper()
	ctx := context.Background()
	for key, scopes := range testCreds {
		c := &auth.Credential{Key: key, SecretHash: auth.HashSecret(key + "-secret"), Name: key + " app",
			Tenant: auth.DefaultTenant, Scopes: scopes, Created: time.Now().UTC()}
		if err := st.Credentials.CreateCredential(ctx, c); err != nil {
			t.Fatalf("CreateCredential: %v", err)
		}
	}
	if err := st.Credentials.CreateCredential(ctx, &auth.Credential{Key: "revoked", SecretHash: auth.HashSecret("revoked-secret"),
		Tenant: auth.DefaultTenant, Scopes: []string{auth.ScopeAll}, Created: time.Now().UTC(), Revoked: true}); err != nil {
		t.Fatalf("CreateCredential: %v", err)
	}
	clk := &clock{}
	cfg := lrs.Config{
		Store:       st.Statements,
		Documents:   st.Documents,
		Activities:  st.Activities,
		Credentials: st.Credentials,
		Tenants:     st.Tenants,
		Audit:       st.Audit,
		Reporting:   st.Reporting,
		Packages:    st.Packages,
		ContentKey:  testContentKey,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		BaseURL:     "https://lrs.test",
		Now:         clk.Now,
	}
	for _, e := range edit {
		e(&cfg)
	}
	return cfg, clk
}

// response is what a test request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response body is not JSON (%v): %s", err, r.body)
	}
}

// statement decodes the body as one statement.
func (r *response) statement(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.json(t, &m)
	return m
}

// result decodes the body as a StatementResult.
func (r *response) result(t testing.TB) (stmts []map[string]any, more string) {
	t.Helper()
	var sr struct {
		Statements []map[string]any `json:"statements"`
		More       *string          `json:"more"`
	}
	r.json(t, &sr)
	if sr.Statements == nil {
		t.Fatalf("StatementResult without a statements array: %s", r.body)
	}
	if sr.More == nil {
		t.Fatalf("StatementResult without a more property: %s", r.body)
	}
	return sr.Statements, *sr.More
}

// errorKind returns the kind of a JSON error body, failing if the body is
// not one.
func (r *response) errorKind(t testing.TB) string {
	t.Helper()
	var e struct {
		Error struct {
			Kind    string `json:"kind"`
			Message string `json:"message"`
		} `json:"error"`
	}
	r.json(t, &e)
	if e.Error.Kind == "" || e.Error.Message == "" {
		t.Fatalf("error body without kind and message: %s", r.body)
	}
	return e.Error.Kind
}

// req describes a request; zero fields get defaults: key "admin", version
// "2.0.0", Content-Type application/json when there is a body.
type req struct {
	method  string
	path    string
	body    any // string, []byte, or a value marshalled as JSON
	key     string
	noAuth  bool
	version string // "-" for none
	ctype   string
	header  map[string]string
	from    string // the client's address, e.g. "127.0.0.2"; "": 127.0.0.1
	// noFollow answers a redirect itself instead of following it.
	noFollow bool
}

func (s *testServer) do(r req) *response {
	s.t.Helper()
	var body io.Reader
	var raw []byte
	switch b := r.body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			s.t.Fatal(err)
		}
	}
	if raw != nil {
		body = bytes.NewReader(raw)
	}
	hr, err := http.NewRequest(r.method, s.URL+r.path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if !r.noAuth {
		key := r.key
		if key == "" {
			key = "admin"
		}
		hr.SetBasicAuth(key, key+"-secret")
	}
	switch r.version {
	case "":
		hr.Header.Set("X-Experience-API-Version", "2.0.0")
	case "-":
	default:
		hr.Header.Set("X-Experience-API-Version", r.version)
	}
	if raw != nil {
		ct := r.ctype
		if ct == "" {
			ct = "application/json"
		}
		if ct != "-" {
			hr.Header.Set("Content-Type", ct)
		}
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	client := clientFrom(r.from)
	if r.noFollow {
		c := *client
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		client = &c
	}
	res, err := client.Do(hr)
	if err != nil {
		s.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: b}
}

// expect fails the test unless the response has status want.
func expect(t testing.TB, r *response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body: %s", r.status, want, r.body)
	}
}

// post stores statements with POST and returns their ids.
func (s *testServer) post(stmts ...map[string]any) []string {
	s.t.Helper()
	var body any = stmts
	if len(stmts) == 1 {
		body = stmts[0]
	}
	r := s.do(req{method: "POST", path: "/xapi/statements", body: body})
	expect(s.t, r, http.StatusOK)
	var ids []string
	r.json(s.t, &ids)
	if len(ids) != len(stmts) {
		s.t.Fatalf("POST of %d statements returned %d ids: %s", len(stmts), len(ids), r.body)
	}
	return ids
}

// get fetches one statement by id.
func (s *testServer) get(id string) map[string]any {
	s.t.Helper()
	r := s.do(req{method: "GET", path: "/xapi/statements?statementId=" + id})
	expect(s.t, r, http.StatusOK)
	return r.statement(s.t)
}

// stmt returns a valid statement by mbox of the actor and verb; fields in
// extra are set on it.
func stmt(actor, verb string, extra ...any) map[string]any {
	s := map[string]any{
		"actor": map[string]any{"objectType": "Agent", "mbox": "mailto:" + actor + "@example.com", "name": actor},
		"verb":  map[string]any{"id": "http://adlnet.gov/expapi/verbs/" + verb, "display": map[string]any{"en-US": verb}},
		"object": map[string]any{"objectType": "Activity", "id": "http://example.com/courses/safety",
			"definition": map[string]any{"name": map[string]any{"en-US": "Safety", "fr-FR": "Sécurité"}}},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		s[extra[i].(string)] = extra[i+1]
	}
	return s
}

// voiding returns a statement that voids id.
func voiding(id string) map[string]any {
	return map[string]any{
		"actor":  map[string]any{"mbox": "mailto:admin@example.com"},
		"verb":   map[string]any{"id": "http://adlnet.gov/expapi/verbs/voided", "display": map[string]any{"en-US": "voided"}},
		"object": map[string]any{"objectType": "StatementRef", "id": id},
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func ids(stmts []map[string]any) []string {
	out := make([]string, len(stmts))
	for i, s := range stmts {
		out[i], _ = s["id"].(string)
	}
	return out
}

// testClient gives up on a request that hangs, so that a hang fails the test.
var testClient = &http.Client{Timeout: 20 * time.Second}

// clients are test clients by their local address (clientFrom).
var clients sync.Map

// clientFrom returns a test client whose requests come from the loopback
// address addr (any of 127.0.0.0/8 on Linux), so that the server sees
// several clients; "" is testClient.
func clientFrom(addr string) *http.Client {
	if addr == "" {
		return testClient
	}
	if c, ok := clients.Load(addr); ok {
		return c.(*http.Client)
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}}
	c, _ := clients.LoadOrStore(addr, &http.Client{Timeout: testClient.Timeout,
		Transport: &http.Transport{DialContext: d.DialContext}})
	return c.(*http.Client)
}

// hr sends a request with the HR credential (roster/write, reports/read).
func (s *testServer) hr(method, path, ctype, body string) *response {
	s.t.Helper()
	return s.do(req{method: method, path: path, body: body, key: "hr", ctype: ctype})
}

// completeEveryThird posts, as the LMS, a completion of activity on
// 2025-01-15 by every third of the people p00000 to p<n-1> (e-mail
// pNNNNN@kommune.no), in batches of 500.
func (s *testServer) completeEveryThird(n int, activity string) {
	s.t.Helper()
	var batch []map[string]any
	for i := 0; i < n; i += 3 {
		batch = append(batch, map[string]any{
			"actor":     map[string]any{"mbox": fmt.Sprintf("mailto:p%05d@kommune.no", i)},
			"verb":      map[string]any{"id": "http://adlnet.gov/expapi/verbs/completed"},
			"object":    map[string]any{"id": activity},
			"timestamp": "2025-01-15T10:00:00Z",
		})
		if len(batch) == 500 || i+3 >= n {
			expect(s.t, s.do(req{method: "POST", path: "/xapi/statements", key: "writer", body: batch}), http.StatusOK)
			batch = nil
		}
	}
}
