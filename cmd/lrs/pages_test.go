package main

import (
	"bytes"
	"context"
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
		"--scopes", "all,reports/read,roster/write"}, io.Discard, io.Discard); err != nil {
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

	start := e.day(-60)
	person := func(id, name, email, unit string) map[string]any {
		return map[string]any{"id": id, "name": name, "email": email, "start": start,
			"units": []string{unit}, "roles": []string{"ansatt"}}
	}
	e.api(t, "POST", "/api/v1/roster/imports", map[string]any{
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
	}, http.StatusCreated)
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
	home := map[string]string{acctHR: "/units", acctAuditor: "/units", acctManager: "/units", acctHelse: "/units", acctLearner: "/me"}
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
