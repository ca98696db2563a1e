package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// The pages for people (package web), tested through `lrs serve` with
// its real stores: an organisation of six people in four units, two
// modules, accounts for each role made with `lrs accounts create`.
//
//	k (Kommunen, managed by 100)
//	├── oppvekst (managed by 200)
//	│   └── skole: 201 Kari Nordmann, 202 Ola Nordmann
//	└── helse (managed by 300): 301 Sykepleier
//
// Everyone holds the role ansatt, which must complete both modules within
// 30 days of starting, 60 days ago: so everyone is overdue but Kari, who
// completed module 1 ten days ago.

// Accounts of the test organisation and their password.
const (
	pagesPassword = "correct horse battery staple"
	acctHR        = "hr@k.no"
	acctAuditor   = "revisor@riksrevisjonen.no"
	acctManager   = "oppvekstsjef@k.no" // person 200
	acctHelse     = "helsesjef@k.no"    // person 300
	acctLearner   = "kari@k.no"         // person 201
	acctNobody    = "ingen@k.no"        // no person, no grants
)

// pagesEnv is a running service with the test organisation.
type pagesEnv struct {
	base        string // http://127.0.0.1:PORT
	db          string
	key, secret string // a credential with the reporting scopes
	today       time.Time
	oslo        *time.Location
}

// day returns the day n days from today in Oslo, as YYYY-MM-DD.
func (e *pagesEnv) day(n int) string { return e.today.AddDate(0, 0, n).Format("2006-01-02") }

// startPages serves the test organisation on a free port with
// --base-url http://127.0.0.1:PORT and args.
func startPages(t *testing.T, args ...string) *pagesEnv {
	t.Helper()
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	e := &pagesEnv{db: filepath.Join(t.TempDir(), "lrs.db"), key: "pages-admin", secret: "pages-admin-secret-0123456789",
		today: time.Now().In(oslo), oslo: oslo}
	ctx := context.Background()
	if err := run(ctx, []string{"credentials", "create", "--db", e.db, "--name", "hr-system", "--key", e.key, "--secret", e.secret,
		"--scopes", "all,reports/read,roster/write,privacy/read,content/write"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		name string
		args []string
	}{
		{acctHR, []string{"--grant", "hr"}}, {acctAuditor, []string{"--grant", "auditor"}},
		{acctManager, []string{"--person", "200"}}, {acctHelse, []string{"--person", "300"}},
		{acctLearner, []string{"--person", "201"}}, {acctNobody, nil},
	} {
		passwordInput = strings.NewReader(pagesPassword + "\n")
		var out bytes.Buffer
		if err := run(ctx, append([]string{"accounts", "create", "--db", e.db, "--name", a.name, "--password-stdin"}, a.args...),
			&out, io.Discard); err != nil {
			t.Fatalf("accounts create %s: %v", a.name, err)
		}
		if strings.Contains(out.String(), pagesPassword) {
			t.Errorf("accounts create printed the password given on stdin: %s", out.String())
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	e.base = "http://" + addr
	startServe(t, append([]string{"--db", e.db, "--listen", addr, "--base-url", e.base, "--rate-limit", "off"}, args...)...)

	e.api(t, "POST", "/api/v1/roster/imports", pagesRoster(e.day(-60), false), http.StatusCreated)
	for _, m := range []struct{ id, nb, en string }{
		{"infosikkerhet-1", "Grunnleggende informasjonssikkerhet", "Information security basics"},
		{"personvern-5", "Grunnleggende personvern", "Privacy basics"},
	} {
		e.api(t, "PUT", "/api/v1/modules/"+m.id, map[string]any{"title": map[string]string{"nb-NO": m.nb, "en": m.en},
			"activities": []string{"https://kurs.k.no/" + m.id}, "completion": "completed"}, http.StatusCreated)
	}
	e.api(t, "PUT", "/api/v1/rules/alle", map[string]any{"role": "ansatt", "modules": []string{"infosikkerhet-1", "personvern-5"},
		"dueWithin": "P30D", "dueFrom": "start"}, http.StatusCreated)
	stmt := `{"actor":{"mbox":"mailto:kari.nordmann@k.no","name":"Kari Nordmann"},` +
		`"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://kurs.k.no/infosikkerhet-1"},` +
		`"result":{"completion":true},"timestamp":"` + e.day(-10) + `T11:00:00Z"}`
	if code, body := postStatement(t, e.base+"/xapi/statements", e.key, e.secret, stmt); code != http.StatusOK {
		t.Fatalf("posting Kari's completion: %d %s", code, body)
	}
	return e
}

// api calls the reporting API with the credential and checks the status.
func (e *pagesEnv) api(t *testing.T, method, path string, body any, want int) []byte {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.base+path, r)
	req.SetBasicAuth(e.key, e.secret)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	return b
}

// browser is an HTTP client with a cookie jar, following no redirects,
// like a browser as far as the pages can tell.
type browser struct {
	t    *testing.T
	e    *pagesEnv
	c    *http.Client
	jar  *cookiejar.Jar
	csrf string // the token of the last page's forms
}

func (e *pagesEnv) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, e: e, jar: jar, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`<input type="hidden" name="csrf" value="([^"]*)">`)

// do sends a request and returns the answer with its body read; it keeps
// the CSRF token of the page.
func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if m := csrfField.FindSubmatch(body); m != nil {
		b.csrf = html.UnescapeString(string(m[1]))
	}
	return res, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.e.base+path, nil)
	return b.do(req)
}

// post posts a form with the page's CSRF token (unless form has one).
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if !form.Has("csrf") {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.e.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// signIn signs in with the password form and checks where it leads.
func (b *browser) signIn(name string) {
	b.t.Helper()
	b.get("/login")
	res, body := b.post("/login", url.Values{"name": {name}, "password": {pagesPassword}})
	if res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("signing in as %s: %d\n%s", name, res.StatusCode, body)
	}
}

// TestPagesRoles signs in as each role and asks for every page and
// download: each is served (200), refused (403), unknown (404) or sent to
// the sign-in page (303), as the role's access says, decided on the
// server.
func TestPagesRoles(t *testing.T) {
	e := startPages(t)
	known := "?knownAt=" + e.day(0)
	pages := []string{"/", "/me", "/units", "/units/k", "/units/oppvekst", "/units/skole", "/units/helse",
		"/units/oppvekst/status.csv", "/units/helse/status.csv", "/units/oppvekst" + known, "/units/nope",
		"/people/201", "/people/301", "/people/200", "/people/100", "/people/nope", "/people/201" + known}
	want := map[string][]int{ // by role, in the order of pages
		"anonymous": {303, 303, 303, 303, 303, 303, 303, 303, 303, 303, 303, 303, 303, 303, 303, 303, 303},
		acctHR:      {303, 403, 200, 200, 200, 200, 200, 200, 200, 200, 404, 200, 200, 200, 200, 404, 200},
		acctAuditor: {303, 403, 200, 200, 200, 200, 200, 200, 200, 200, 404, 200, 200, 200, 200, 404, 200},
		// 200 manages oppvekst (with skole below it), and is a learner too.
		acctManager: {303, 200, 200, 403, 200, 200, 403, 200, 403, 403, 403, 200, 403, 200, 403, 403, 403},
		acctHelse:   {303, 200, 200, 403, 403, 403, 200, 403, 200, 403, 403, 403, 200, 403, 403, 403, 403},
		acctLearner: {303, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403, 403, 403, 403, 403},
		acctNobody:  {403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403},
	}
	home := map[string]string{acctHR: "/overview", acctAuditor: "/overview", acctManager: "/overview", acctHelse: "/overview", acctLearner: "/me"}
	for role, statuses := range want {
		t.Run(role, func(t *testing.T) {
			b := e.browser(t)
			if role != "anonymous" {
				b.signIn(role)
			}
			for i, path := range pages {
				res, body := b.get(path)
				if res.StatusCode != statuses[i] {
					t.Errorf("%s: %d, want %d", path, res.StatusCode, statuses[i])
					continue
				}
				loc := res.Header.Get("Location")
				switch {
				case role == "anonymous" && loc != "/login?next="+url.QueryEscape(path):
					t.Errorf("%s: sent to %q, not to the sign-in page and back", path, loc)
				case path == "/" && res.StatusCode == 303 && role != "anonymous" && loc != home[role]:
					t.Errorf("/: sent to %q, want %s", loc, home[role])
				case res.StatusCode == 403 && !strings.Contains(body, "<main") && strings.HasSuffix(path, ".csv"):
					t.Errorf("%s: the refusal is not a page", path)
				case res.StatusCode == 200 && strings.HasSuffix(path, ".csv") && !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv"):
					t.Errorf("%s: Content-Type %s", path, res.Header.Get("Content-Type"))
				case res.StatusCode == 200 && !strings.HasSuffix(path, ".csv") && !strings.Contains(body, `<html lang="nb">`):
					t.Errorf("%s: not a Norwegian page", path)
				}
			}
			// Sign-out is a POST with the session's token; without a
			// session it is refused.
			res, _ := b.post("/logout", url.Values{})
			if role == "anonymous" && res.StatusCode != 403 || role != "anonymous" && res.StatusCode != 303 {
				t.Errorf("POST /logout: %d", res.StatusCode)
			}
		})
	}
}

// TestPagesSessions: the session cookie's attributes, CSRF on every form,
// sign-out, a disabled account, throttled guessing, and the CSV download
// equal to the API's CSV.
func TestPagesSessions(t *testing.T) {
	e := startPages(t)
	b := e.browser(t)

	// The sign-in form needs its token: none, or another's, is refused.
	res, _ := b.get("/login")
	signinCookie := res.Header.Get("Set-Cookie")
	for _, want := range []string{"lrs_signin=", "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=600"} {
		if !strings.Contains(signinCookie, want) {
			t.Errorf("sign-in cookie %q lacks %s", signinCookie, want)
		}
	}
	if strings.Contains(signinCookie, "Secure") {
		t.Errorf("sign-in cookie %q is Secure over http", signinCookie)
	}
	for _, token := range []string{"", "forged-token"} {
		res, _ := b.post("/login", url.Values{"name": {acctHR}, "password": {pagesPassword}, "csrf": {token}})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("sign-in with token %q: %d, want 403", token, res.StatusCode)
		}
	}
	// A form posted from another site is refused, token or not.
	form := url.Values{"name": {acctHR}, "password": {pagesPassword}, "csrf": {b.csrf}}
	req, _ := http.NewRequest("POST", e.base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if res, _ := b.do(req); res.StatusCode != http.StatusForbidden {
		t.Errorf("a sign-in posted from another origin: %d, want 403", res.StatusCode)
	}
	// A wrong password says so, and keeps the name.
	res, body := b.post("/login", url.Values{"name": {acctHR}, "password": {"wrong password, long enough"}})
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Feil brukernavn eller passord") || !strings.Contains(body, `value="`+acctHR+`"`) {
		t.Errorf("a wrong password: %d\n%s", res.StatusCode, body)
	}

	// Signed in: the session cookie, and back to where sign-in began.
	b.get("/login?next=" + url.QueryEscape("/units/skole"))
	res, _ = b.post("/login", url.Values{"name": {acctHR}, "password": {pagesPassword}, "next": {"/units/skole"}})
	if loc := res.Header.Get("Location"); res.StatusCode != 303 || loc != "/units/skole" {
		t.Fatalf("sign-in: %d to %q", res.StatusCode, loc)
	}
	var session string
	for _, c := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "lrs_session=") {
			session = c
		}
	}
	for _, want := range []string{"Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(session, want) {
			t.Errorf("session cookie %q lacks %s", session, want)
		}
	}
	if strings.Contains(session, "Max-Age") || strings.Contains(session, "Expires") || strings.Contains(session, "Secure") {
		t.Errorf("session cookie %q: the server ends sessions, not the cookie; no Secure over http", session)
	}
	res, body = b.get("/units/skole")
	if res.StatusCode != 200 || !strings.Contains(body, "Kari Nordmann") {
		t.Fatalf("/units/skole: %d", res.StatusCode)
	}
	// The page's CSV is the API's CSV, byte for byte.
	for _, q := range []string{"", "?asOf=" + e.day(-20)} {
		res, page := b.get("/units/oppvekst/status.csv" + q)
		apiQ := "?format=csv&delimiter=semicolon&unit=oppvekst&tz=Europe/Oslo&asOf=" + e.day(0)
		if q != "" {
			apiQ = "?format=csv&delimiter=semicolon&unit=oppvekst&tz=Europe/Oslo&" + q[1:]
		}
		api := e.api(t, "GET", "/api/v1/reports/status"+apiQ, nil, http.StatusOK)
		if res.StatusCode != 200 || page != string(api) || strings.Count(page, "\r\n") != 7 {
			t.Errorf("the page's CSV%s differs from the API's:\n%s\n---\n%s", q, page, api)
		}
		if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, "status-oppvekst-") {
			t.Errorf("Content-Disposition %q", cd)
		}
	}
	// The pages' security headers: no inline anything, no framing, no CORS.
	res, _ = b.get("/units")
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
		!strings.Contains(csp, "frame-ancestors 'none'") || res.Header.Get("Access-Control-Allow-Origin") != "" || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", res.Header)
	}

	// Sign-out needs the session's token; then the session is gone, also
	// for a copy of its cookie.
	u, _ := url.Parse(e.base)
	copied := b.jar.Cookies(u)
	if res, _ := b.post("/logout", url.Values{"csrf": {"not-the-token"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out with a wrong token: %d", res.StatusCode)
	}
	if res, _ := b.post("/logout", url.Values{}); res.StatusCode != 303 || res.Header.Get("Location") != "/login" {
		t.Errorf("sign-out: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	thief := e.browser(t)
	thief.jar.SetCookies(u, copied)
	if res, _ := thief.get("/units"); res.StatusCode != 303 {
		t.Errorf("the cookie of an ended session still opens /units: %d", res.StatusCode)
	}

	// A disabled account's session ends at its next page.
	m := e.browser(t)
	m.signIn(acctManager)
	if res, _ := m.get("/units/oppvekst"); res.StatusCode != 200 {
		t.Fatalf("manager: %d", res.StatusCode)
	}
	if err := run(context.Background(), []string{"accounts", "disable", acctManager, "--db", e.db}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if res, _ := m.get("/units/oppvekst"); res.StatusCode != 303 {
		t.Errorf("a disabled account's session: %d", res.StatusCode)
	}
	m.get("/login")
	if res, _ := m.post("/login", url.Values{"name": {acctManager}, "password": {pagesPassword}}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a disabled account signs in: %d", res.StatusCode)
	}
	// A grant takes effect at the next page of a session.
	l := e.browser(t)
	l.signIn(acctLearner)
	if res, _ := l.get("/units/helse"); res.StatusCode != 403 {
		t.Errorf("learner /units/helse: %d", res.StatusCode)
	}
	if err := run(context.Background(), []string{"accounts", "grant", acctLearner, "auditor", "--db", e.db}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if res, _ := l.get("/units/helse"); res.StatusCode != 200 {
		t.Errorf("learner granted auditor /units/helse: %d", res.StatusCode)
	}

	// HR of another tenant sees nothing of this one; disabling their
	// tenant ends their sessions, as it refuses its credentials.
	for _, args := range [][]string{{"tenants", "create", "oslo"}, {"accounts", "create", "--name", "hr@oslo.no", "--tenant", "oslo",
		"--grant", "hr", "--password-stdin"}} {
		passwordInput = strings.NewReader(pagesPassword + "\n")
		if err := run(context.Background(), append(args, "--db", e.db), io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	o := e.browser(t)
	o.signIn("hr@oslo.no")
	for path, want := range map[string]int{"/units": 200, "/units/oppvekst": 404, "/people/201": 404, "/units/oppvekst/status.csv": 404} {
		if res, body := o.get(path); res.StatusCode != want || strings.Contains(body, "Kari") || strings.Contains(body, "Oppvekst") {
			t.Errorf("hr of tenant oslo, %s: %d", path, res.StatusCode)
		}
	}
	if err := run(context.Background(), []string{"tenants", "disable", "oslo", "--db", e.db}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if res, _ := o.get("/units"); res.StatusCode != 303 {
		t.Errorf("a session of a disabled tenant: %d", res.StatusCode)
	}

	// Guessing is throttled per account: ten failures, then 429 even
	// with the right password.
	g := e.browser(t)
	g.get("/login")
	for range 10 {
		g.post("/login", url.Values{"name": {acctAuditor}, "password": {"guess guess guess"}})
	}
	if res, body := g.post("/login", url.Values{"name": {acctAuditor}, "password": {pagesPassword}}); res.StatusCode != http.StatusTooManyRequests ||
		!strings.Contains(body, "For mange") {
		t.Errorf("the 11th attempt: %d", res.StatusCode)
	}
}

// TestPagesSecureCookies: with an https base URL, the cookies are Secure
// and __Host- prefixed.
func TestPagesSecureCookies(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lrs.db")
	passwordInput = strings.NewReader(pagesPassword + "\n")
	if err := run(context.Background(), []string{"accounts", "create", "--db", db, "--name", acctHR, "--grant", "hr", "--password-stdin"},
		io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	addr, _ := startServe(t, "--db", db, "--base-url", "https://lrs.k.no")
	e := &pagesEnv{base: "http://" + addr}
	b := e.browser(t)
	res, _ := b.get("/login")
	ck := res.Header.Get("Set-Cookie")
	if !strings.HasPrefix(ck, "__Host-lrs_signin=") || !strings.Contains(ck, "Secure") || strings.Contains(ck, "Domain") {
		t.Fatalf("sign-in cookie over https: %q", ck)
	}
	token := b.csrf
	req, _ := http.NewRequest("POST", e.base+"/login", strings.NewReader(url.Values{"name": {acctHR}, "password": {pagesPassword},
		"csrf": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://lrs.k.no")
	req.Header.Set("Cookie", strings.SplitN(ck, ";", 2)[0]) // the jar keeps Secure cookies from http
	res, _ = b.do(req)
	var session string
	for _, c := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "__Host-lrs_session=") {
			session = c
		}
	}
	if res.StatusCode != 303 || !strings.Contains(session, "Secure") || !strings.Contains(session, "HttpOnly") || !strings.Contains(session, "SameSite=Lax") {
		t.Errorf("sign-in over https: %d, session cookie %q", res.StatusCode, session)
	}
}

// oidcUser is a user of the test identity provider with the claims given
// (mockoidc's own user type leaves out email_verified when false).
type oidcUser struct {
	sub    string
	claims map[string]any
}

func (u oidcUser) ID() string                        { return u.sub }
func (u oidcUser) Userinfo([]string) ([]byte, error) { return json.Marshal(u.claims) }
func (u oidcUser) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &oidcClaims{base, u.claims}, nil
}

type oidcClaims struct {
	*mockoidc.IDTokenClaims
	extra map[string]any
}

func (c *oidcClaims) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(c.IDTokenClaims)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	json.Unmarshal(b, &m)
	for k, v := range c.extra {
		m[k] = v
	}
	return json.Marshal(m)
}

// startOIDC starts a real OpenID Connect provider (mockoidc: discovery,
// authorization with PKCE, token endpoint, RS256 ID tokens, JWKS) and
// returns the flags that make lrs serve sign people in with it.
func startOIDC(t *testing.T) (*mockoidc.MockOIDC, []string) {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	cfg := m.Config()
	return m, []string{"--oidc-issuer", cfg.Issuer, "--oidc-client-id", cfg.ClientID, "--oidc-client-secret", cfg.ClientSecret,
		"--oidc-name", "Kommune-ID"}
}

// oidcSignIn follows an OpenID Connect sign-in from /auth/oidc/start to
// its end and returns the last answer and the path it was at.
func (b *browser) oidcSignIn(next string) (*http.Response, string, string) {
	b.t.Helper()
	res, body := b.get("/auth/oidc/start?next=" + url.QueryEscape(next))
	for range 10 {
		if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
			return res, body, res.Request.URL.RequestURI()
		}
		loc, err := res.Request.URL.Parse(res.Header.Get("Location"))
		if err != nil {
			b.t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", loc.String(), nil)
		res, body = b.do(req)
	}
	b.t.Fatal("too many redirects")
	return nil, "", ""
}

// TestPagesOIDC signs in with OpenID Connect against a real provider:
// the authorization request carries PKCE (S256), state and nonce; the
// person is found by the e-mail claim (in any case) or by an employee-id
// claim; an account named by the claim brings its grants; unknown people,
// unverified addresses, a wrong state, a wrong PKCE verifier and a
// replayed code are refused.
func TestPagesOIDC(t *testing.T) {
	m, flags := startOIDC(t)
	e := startPages(t, flags...)
	user := func(sub string, claims map[string]any) { m.QueueUser(oidcUser{sub, claims}) }

	// The sign-in page offers the provider; the request to it is PKCE.
	b := e.browser(t)
	if _, body := b.get("/login"); !strings.Contains(body, "Logg inn med Kommune-ID") {
		t.Errorf("the sign-in page does not offer the provider:\n%s", body)
	}
	res, _ := b.get("/auth/oidc/start?next=%2Fme")
	auth, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(auth.String(), m.AuthorizationEndpoint()) {
		t.Fatalf("start: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	q := auth.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || len(q.Get("state")) < 40 ||
		len(q.Get("nonce")) < 40 || q.Get("redirect_uri") != e.base+"/auth/oidc/callback" || q.Get("response_type") != "code" ||
		!strings.Contains(q.Get("scope"), "openid") {
		t.Errorf("authorization request %v", q)
	}

	// Kari, by her e-mail address in another case.
	kari := e.browser(t)
	user("kari-sub", map[string]any{"email": "Kari.Nordmann@K.no", "email_verified": true})
	res, body, at := kari.oidcSignIn("/me")
	if res.StatusCode != 200 || at != "/me" || !strings.Contains(body, "Kari Nordmann") || !strings.Contains(body, "Dette må du ta") {
		t.Fatalf("Kari's sign-in ended at %s with %d:\n%s", at, res.StatusCode, body)
	}
	if res, _ := kari.get("/units"); res.StatusCode != 403 {
		t.Errorf("Kari (a learner) /units: %d", res.StatusCode)
	}
	// The auditor's account is named by its e-mail address: its grants.
	aud := e.browser(t)
	user("auditor-sub", map[string]any{"email": acctAuditor, "email_verified": true})
	if res, _, at := aud.oidcSignIn("/units/helse"); res.StatusCode != 200 || at != "/units/helse" {
		t.Errorf("the auditor's sign-in: %d at %s", res.StatusCode, at)
	}

	for _, c := range []struct {
		name   string
		claims map[string]any
		want   string
	}{
		{"unknown", map[string]any{"email": "stranger@example.org", "email_verified": true}, "ikke registrert"},
		{"unverified", map[string]any{"email": "kari.nordmann@k.no", "email_verified": false}, "ikke tilgang"},
		{"no claim", map[string]any{"name": "Kari"}, "ikke tilgang"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := e.browser(t)
			user("x", c.claims)
			res, body, _ := b.oidcSignIn("/me")
			if res.StatusCode != http.StatusForbidden || !strings.Contains(body, c.want) {
				t.Errorf("%d:\n%s", res.StatusCode, body)
			}
			if res, _ := b.get("/me"); res.StatusCode != 303 {
				t.Errorf("signed in after all: %d", res.StatusCode)
			}
		})
	}

	// A callback whose state is not the sign-in's is refused; so is one
	// whose PKCE verifier is not the one the challenge was made from (the
	// provider checks it), and a code used twice.
	t.Run("state", func(t *testing.T) {
		b := e.browser(t)
		res, _ := b.get("/auth/oidc/start")
		u, _ := url.Parse(res.Header.Get("Location"))
		if res, body := b.get("/auth/oidc/callback?code=x&state=" + url.QueryEscape(u.Query().Get("state")+"x")); res.StatusCode != http.StatusForbidden ||
			!strings.Contains(body, "Prøv igjen") {
			t.Errorf("a wrong state: %d\n%s", res.StatusCode, body)
		}
	})
	t.Run("verifier", func(t *testing.T) {
		b := e.browser(t)
		res, _ := b.get("/auth/oidc/start")
		base, _ := url.Parse(e.base)
		for _, c := range b.jar.Cookies(base) {
			if c.Name == "lrs_signin" {
				raw, _ := base64.RawURLEncoding.DecodeString(c.Value)
				var s map[string]any
				json.Unmarshal(raw, &s)
				s["v"] = strings.Repeat("A", 43)
				raw, _ = json.Marshal(s)
				c.Value = base64.RawURLEncoding.EncodeToString(raw)
				b.jar.SetCookies(base, []*http.Cookie{c})
			}
		}
		user("kari-sub", map[string]any{"email": "kari.nordmann@k.no", "email_verified": true})
		loc, _ := url.Parse(res.Header.Get("Location"))
		res, _ = b.do(mustRequest(t, loc.String()))
		cb, _ := url.Parse(res.Header.Get("Location"))
		if res, body := b.do(mustRequest(t, cb.String())); res.StatusCode != http.StatusForbidden || !strings.Contains(body, "ikke tilgang") {
			t.Errorf("a wrong PKCE verifier: %d\n%s", res.StatusCode, body)
		}
	})
	t.Run("replay", func(t *testing.T) {
		b := e.browser(t)
		user("kari-sub", map[string]any{"email": "kari.nordmann@k.no", "email_verified": true})
		res, _ := b.get("/auth/oidc/start")
		loc, _ := url.Parse(res.Header.Get("Location"))
		res, _ = b.do(mustRequest(t, loc.String()))
		callback := res.Header.Get("Location")
		if res, _ := b.do(mustRequest(t, callback)); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("the callback: %d", res.StatusCode)
		}
		if res, _ := b.do(mustRequest(t, callback)); res.StatusCode != http.StatusForbidden {
			t.Errorf("the callback again: %d", res.StatusCode)
		}
	})

	// Matching by an employee-id claim.
	e2 := startPages(t, append(flags, "--oidc-person-claim", "preferred_username", "--oidc-person-match", "employee-id")...)
	b2 := e2.browser(t)
	user("sykepleier-sub", map[string]any{"preferred_username": "301"})
	if res, body, at := b2.oidcSignIn("/"); res.StatusCode != 200 || at != "/me" || !strings.Contains(body, "Sykepleier Berg") {
		t.Errorf("sign-in by employee id: %d at %s", res.StatusCode, at)
	}
}

func mustRequest(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// pagesRoster is the organisation of the page tests as a roster import:
// Kommunen with Oppvekst (and Solberg skole under it) and Helse og omsorg,
// their managers, and Kari and Ola in the school and Sykepleier Berg in
// Helse, all employed (role ansatt) since start. With dated, the
// memberships and roles hold from start too and the import takes effect
// on start (a history for trends), else from the day of the import.
func pagesRoster(start string, dated bool) map[string]any {
	person := func(id, name, email, unit string) map[string]any {
		p := map[string]any{"id": id, "name": name, "email": email, "start": start,
			"units": []string{unit}, "roles": []string{"ansatt"}}
		if dated {
			p["units"] = []map[string]any{{"id": unit, "from": start}}
			p["roles"] = []map[string]any{{"id": "ansatt", "from": start}}
		}
		return p
	}
	r := map[string]any{
		"units": []map[string]any{
			{"id": "k", "name": "Kommunen", "managers": []string{"100"}},
			{"id": "oppvekst", "name": "Oppvekst", "parent": "k", "managers": []string{"200"}},
			{"id": "skole", "name": "Solberg skole", "parent": "oppvekst"},
			{"id": "helse", "name": "Helse og omsorg", "parent": "k", "managers": []string{"300"}},
		},
		"people": []map[string]any{
			person("100", "Rådmann Rød", "radmann@k.no", "k"),
			person("200", "Oppvekstsjef Ødegård", "oppvekstsjef@k.no", "oppvekst"),
			person("201", "Kari Nordmann", "kari.nordmann@k.no", "skole"),
			person("202", "Ola Nordmann", "ola.nordmann@k.no", "skole"),
			person("300", "Helsesjef Hansen", "helsesjef@k.no", "helse"),
			person("301", "Sykepleier Berg", "sykepleier@k.no", "helse"),
		},
	}
	if dated {
		r["effective"] = start
	}
	return r
}
