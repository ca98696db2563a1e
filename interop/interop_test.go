// Package interop runs published xAPI client libraries, unchanged, against
// the LRS: TinCanJS, xAPI.js (@xapi/xapi) and the cmi5 AU client
// (@xapi/cmi5), the latter also launched by the LRS itself as the cmi5
// LMS. Each library is driven by a Node script in this directory
// that exercises the Statement, State, Activity Profile and Agent Profile
// resources the way the library does it and asserts what it reads back; the
// Go test starts the real server over a real SQLite database, runs each
// script against it, and fails when a script fails, when the server answers
// any request with a 5xx, or when a browser could not make a request the
// library made (the CORS preflight would refuse one of its headers).
//
// The test needs Node.js 18 or later and npm on PATH (it skips without
// them); it installs the pinned packages of package-lock.json with `npm ci`
// when node_modules is missing or older than the lock file.
package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/cmd/lrs/wire"
	"github.com/xapi-lrs/lrs/internal/nodetest"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/packages/packagetest"
	"github.com/xapi-lrs/lrs/sqlite"
)

// The credentials every test server holds. The LMS credential may do
// anything; the AU credential has what a cmi5 AU's launch token needs (it
// writes statements, reads its own, reads the State and agent profile the
// LMS wrote).
const (
	lmsKey    = "interop-lms"
	lmsSecret = "interop-lms-secret"
	auKey     = "interop-au"
	auSecret  = "interop-au-secret"
	// The launcher imports packages and makes launch links.
	launcherKey    = "interop-launcher"
	launcherSecret = "interop-launcher-secret"
)

var auScopes = []string{auth.ScopeStatementsWrite, auth.ScopeStatementsReadMine, auth.ScopeState, auth.ScopeProfile}

// scriptTimeout bounds one script run; together the runs take a few seconds.
const scriptTimeout = 60 * time.Second

// TestClientLibraries runs every library script, in each xAPI version and
// HTTP adapter the library offers, against a server of its own.
func TestClientLibraries(t *testing.T) {
	node := nodetest.Require(t)
	nodetest.Install(t, ".")
	// go test caches a passing result keyed on the files the test itself
	// opened; stat the scripts so that editing one reruns the test.
	scripts, _ := filepath.Glob("*.js")
	for _, f := range scripts {
		if _, err := os.Stat(f); err != nil {
			t.Fatal(err)
		}
	}

	runs := []struct {
		name   string
		script string
		env    []string
		// setup, when set, prepares the server and returns more of the
		// script's environment.
		setup func(t *testing.T, srv *server) []string
	}{
		// TinCanJS 0.50 speaks 1.0.0 to 1.0.2 (and 0.9/0.95, which the LRS does
		// not serve); 1.0.2 is its default.
		{"tincanjs/1.0.2", "tincanjs.js", []string{"XAPI_VERSION=1.0.2"}, nil},
		{"tincanjs/1.0.0", "tincanjs.js", []string{"XAPI_VERSION=1.0.0"}, nil},
		// xAPI.js declares 1.0.0 to 1.0.3 (default 1.0.3) and sends whatever
		// version it is given, so 2.0.0 runs too; it has an axios and a fetch
		// transport.
		{"xapijs/1.0.3/axios", "xapijs.js", []string{"XAPI_VERSION=1.0.3", "XAPI_ADAPTER=axios"}, nil},
		{"xapijs/1.0.3/fetch", "xapijs.js", []string{"XAPI_VERSION=1.0.3", "XAPI_ADAPTER=fetch"}, nil},
		{"xapijs/2.0.0/axios", "xapijs.js", []string{"XAPI_VERSION=2.0.0", "XAPI_ADAPTER=axios"}, nil},
		{"xapijs/2.0.0/fetch", "xapijs.js", []string{"XAPI_VERSION=2.0.0", "XAPI_ADAPTER=fetch"}, nil},
		// The cmi5 client always speaks 1.0.3, as cmi5 requires.
		{"cmi5", "cmi5.js", nil, nil},
		// The cmi5 client launched by the LRS as the LMS.
		{"cmi5-lms", "cmi5lms.js", nil, launchCMI5},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t)
			if r.setup != nil {
				r.env = append(r.env, r.setup(t, srv)...)
			}
			out, err := runScript(t, node, r.script, append([]string{
				"LRS_ENDPOINT=" + srv.endpoint,
				"LRS_KEY=" + lmsKey, "LRS_SECRET=" + lmsSecret,
				"LRS_AU_KEY=" + auKey, "LRS_AU_SECRET=" + auSecret,
			}, r.env...))
			if err != nil {
				t.Fatalf("node %s: %v\n--- script output ---\n%s\n--- requests the server answered ---\n%s",
					r.script, err, out, srv.log())
			}
			// A script whose awaited callback never came exits 0 without
			// its closing line: that is a failure too.
			if !finished.MatchString(out) {
				t.Fatalf("node %s ended without its closing \"N passed, 0 failed\" line\n--- script output ---\n%s", r.script, out)
			}
			if testing.Verbose() {
				t.Logf("script output:\n%s", out)
			}
			srv.check(t)
		})
	}
}

// finished matches the closing line of a script that ran all its steps.
var finished = regexp.MustCompile(`(?m)^[1-9][0-9]* passed, 0 failed$`)

// runScript runs node script with env added to the test's environment and
// returns its combined output.
func runScript(t *testing.T, node, script string, env []string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %v", scriptTimeout)
	}
	return out.String(), err
}

// server is the real service over a real SQLite database, listening on a
// loopback port, with a record of every request it answered.
type server struct {
	base     string // http://127.0.0.1:<port>
	endpoint string // base + /xapi/

	mu       sync.Mutex
	requests []request
}

// request is what the server saw of one request and what it answered.
type request struct {
	method, uri string
	headers     http.Header
	status      int
}

// startServer starts a server with the LMS and AU credentials; it stops
// when the test ends.
func startServer(t *testing.T) *server {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "lrs.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	for _, c := range []*auth.Credential{
		{Key: lmsKey, SecretHash: auth.HashSecret(lmsSecret), Name: "interop LMS", Scopes: []string{auth.ScopeAll}},
		{Key: auKey, SecretHash: auth.HashSecret(auSecret), Name: "interop cmi5 AU", Scopes: auScopes},
		{Key: launcherKey, SecretHash: auth.HashSecret(launcherSecret), Name: "interop launcher",
			Scopes: []string{auth.ScopeContentWrite, auth.ScopeLaunchWrite}},
	} {
		c.Tenant, c.Created = auth.DefaultTenant, time.Now().UTC()
		if err := db.CreateCredential(ctx, c); err != nil {
			t.Fatalf("CreateCredential: %v", err)
		}
	}
	// The service as `lrs serve` wires it: storage metrics, compliance
	// reporting on.
	svc := wire.NewServer(wire.SQLite(db), lrs.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	s := &server{base: base, endpoint: base + "/xapi/"}
	hs := &http.Server{Handler: s.record(svc.Handler()), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(l)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	})
	return s
}

// record wraps h to keep each request's method, URI, headers and status.
func (s *server) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		s.mu.Lock()
		s.requests = append(s.requests, request{method: r.Method, uri: r.URL.RequestURI(), headers: r.Header.Clone(), status: sw.status})
		s.mu.Unlock()
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// log lists the requests answered so far, one a line, for failure reports.
func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, r := range s.requests {
		fmt.Fprintf(&b, "%d %s %s (version %q)\n", r.status, r.method, r.uri, r.headers.Get("X-Experience-API-Version"))
	}
	return b.String()
}

// check fails the test if the server answered any request with a 5xx, or
// if the CORS preflight the server gives would stop a browser from sending
// any request the library sent.
func (s *server) check(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	reqs := append([]request(nil), s.requests...)
	s.mu.Unlock()
	if len(reqs) == 0 {
		t.Fatal("the script sent no request to the LRS")
	}
	seen := map[string]bool{}
	for _, r := range reqs {
		if r.status >= 500 {
			t.Errorf("the server answered %s %s with %d", r.method, r.uri, r.status)
		}
		names := preflightHeaders(r.headers)
		path, _, _ := strings.Cut(r.uri, "?")
		key := r.method + " " + path + " " + strings.Join(names, ",")
		if seen[key] {
			continue
		}
		seen[key] = true
		if err := s.preflight(r.method, r.uri, names); err != nil {
			t.Errorf("a browser could not send %s %s with headers %v: %v", r.method, r.uri, names, err)
		}
	}
}

// preflightHeaders lists, lower-cased and sorted, the request headers a
// browser would name in Access-Control-Request-Headers: those a script may
// set, less the CORS-safelisted ones (Fetch standard, 2.2.2).
func preflightHeaders(h http.Header) []string {
	var names []string
	for name, vals := range h {
		n := strings.ToLower(name)
		switch {
		case forbiddenHeader[n], strings.HasPrefix(n, "sec-"), strings.HasPrefix(n, "proxy-"):
			continue
		case n == "accept" || n == "accept-language" || n == "content-language":
			continue
		case n == "content-type" && len(vals) == 1 && safelistedContentType(vals[0]):
			continue
		case (n == "cache-control" || n == "pragma") && len(vals) == 1 && vals[0] == "no-cache" && conditional(h):
			// A fetch implementation adds these itself to a conditional
			// request, after the preflight (Fetch standard,
			// HTTP-network-or-cache fetch).
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// forbiddenHeader lists headers the browser sets itself, which scripts
// cannot set, and the ones Node's HTTP clients add that a browser's script
// would not (user-agent).
var forbiddenHeader = map[string]bool{
	"accept-charset": true, "accept-encoding": true, "access-control-request-headers": true,
	"access-control-request-method": true, "connection": true, "content-length": true, "cookie": true,
	"cookie2": true, "date": true, "dnt": true, "expect": true, "host": true, "keep-alive": true,
	"origin": true, "referer": true, "te": true, "trailer": true, "transfer-encoding": true,
	"upgrade": true, "via": true, "user-agent": true,
}

// conditional reports whether a request carries a conditional header.
func conditional(h http.Header) bool {
	for _, n := range []string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range"} {
		if h.Get(n) != "" {
			return true
		}
	}
	return false
}

func safelistedContentType(v string) bool {
	mt := strings.ToLower(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]))
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" || mt == "text/plain"
}

// preflight sends the OPTIONS request a browser would send before method
// to uri with the headers, and reports what in the answer would make it
// refuse the request.
func (s *server) preflight(method, uri string, headers []string) error {
	req, err := http.NewRequest(http.MethodOptions, s.base+uri, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Origin", "http://content.example")
	req.Header.Set("Access-Control-Request-Method", method)
	if len(headers) > 0 {
		req.Header.Set("Access-Control-Request-Headers", strings.Join(headers, ","))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("preflight status %d", res.StatusCode)
	}
	if o := res.Header.Get("Access-Control-Allow-Origin"); o != "*" && o != "http://content.example" {
		return fmt.Errorf("Access-Control-Allow-Origin is %q", o)
	}
	if method != http.MethodGet && method != http.MethodHead && method != http.MethodPost &&
		!listHas(res.Header.Get("Access-Control-Allow-Methods"), method) {
		return fmt.Errorf("Access-Control-Allow-Methods %q lacks %s", res.Header.Get("Access-Control-Allow-Methods"), method)
	}
	allowed := res.Header.Get("Access-Control-Allow-Headers")
	for _, h := range headers {
		if !listHas(allowed, h) {
			return fmt.Errorf("Access-Control-Allow-Headers %q lacks %s", allowed, h)
		}
	}
	return nil
}

// listHas reports whether a comma-separated header value names v (case
// insensitive).
func listHas(list, v string) bool {
	for _, x := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(x), v) {
			return true
		}
	}
	return false
}

// launchCMI5 imports the project's cmi5 test course, asks for a launch
// link of its first AU for a learner, opens it as a browser does and
// returns, as CMI5_LAUNCH_URL, the AU's URL the link redirects to.
func launchCMI5(t *testing.T, srv *server) []string {
	t.Helper()
	do := func(method, path, ctype string, body []byte) *http.Response {
		req, err := http.NewRequest(method, srv.base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(launcherKey, launcherSecret)
		req.Header.Set("Content-Type", ctype)
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	decode := func(res *http.Response, want int, v any) {
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != want || json.Unmarshal(b, v) != nil {
			t.Fatalf("%s %s: %d %s", res.Request.Method, res.Request.URL.Path, res.StatusCode, b)
		}
	}
	var pkg struct{ ID string }
	decode(do("POST", "/api/v1/packages", "application/zip", packagetest.CMI5()), http.StatusCreated, &pkg)
	var l struct{ URL string }
	decode(do("POST", "/api/v1/launches", "application/json", []byte(`{"package":"`+pkg.ID+
		`","agent":{"objectType":"Agent","account":{"homePage":"https://portal.example","name":"kari"},"name":"Kari"}}`)), http.StatusCreated, &l)
	res := do("GET", strings.TrimPrefix(l.URL, srv.base), "", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the launch link answered %d", res.StatusCode)
	}
	return []string{"CMI5_LAUNCH_URL=" + res.Header.Get("Location")}
}
