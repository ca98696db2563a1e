package lrs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/packages/packagetest"
)

// testContentKey signs the content links of the test servers.
var testContentKey = []byte("test content key, 32 bytes long!")

// packageCreds are the credentials of the package tests: key -> scopes.
var packageCreds = map[string][]string{
	"content":    {auth.ScopeContentWrite},
	"content-hr": {auth.ScopeContentWrite, auth.ScopeRosterWrite, auth.ScopeReportsRead},
	// launcher makes launch links (launch_test.go); launch-admin may
	// revoke it.
	"launcher":     {auth.ScopeLaunchWrite},
	"launch-admin": {auth.ScopeAdmin, auth.ScopeLaunchWrite},
}

// newPackageServer is newReportingServer (packages are on: the same
// SQLite database, files beside it) with the package credentials; edit may
// adjust the Config.
func newPackageServer(t *testing.T, edit ...func(*lrs.Config)) *testServer {
	t.Helper()
	return newPackageServerOn(t, openSQLite, edit...)
}

// newPackageServerOn is newPackageServer over the database open opens.
func newPackageServerOn(t *testing.T, open opener, edit ...func(*lrs.Config)) *testServer {
	t.Helper()
	ts := newReportingServerOn(t, open, func(cfg *lrs.Config) {
		for _, e := range edit {
			e(cfg)
		}
	})
	ts.addPackageCreds()
	return ts
}

// addPackageCreds gives the server the credentials of packageCreds.
func (ts *testServer) addPackageCreds() {
	ts.t.Helper()
	for key, scopes := range packageCreds {
		c := &auth.Credential{Key: key, SecretHash: auth.HashSecret(key + "-secret"), Name: key + " app",
			Tenant: auth.DefaultTenant, Scopes: scopes, Created: time.Now().UTC()}
		if err := ts.st.Credentials.CreateCredential(context.Background(), c); err != nil {
			ts.t.Fatal(err)
		}
	}
}

// importedJSON is the answer to an import.
type importedJSON struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Title       string `json:"title"`
	Version     int    `json:"version"`
	ActivityID  string `json:"activityId"`
	Content     string `json:"content"`
	Previous    int    `json:"previousVersion"`
	Launchables []struct {
		ID, Title, ActivityID, Href string
	} `json:"launchables"`
	Versions []struct {
		Version int    `json:"version"`
		Title   string `json:"title"`
	} `json:"versions"`
	Catalog struct {
		Module struct {
			ID         string   `json:"id"`
			Activities []string `json:"activities"`
			Parts      []string `json:"parts"`
			Completion string   `json:"completion"`
		} `json:"module"`
		Linked bool   `json:"linked"`
		Error  string `json:"error"`
	} `json:"catalog"`
}

// importPackage imports z as key (query: the request's query string),
// expecting 201.
func (s *testServer) importPackage(key, query string, z []byte) importedJSON {
	s.t.Helper()
	r := s.do(req{method: "POST", path: "/api/v1/packages" + query, key: key, body: z, ctype: "application/zip"})
	expect(s.t, r, http.StatusCreated)
	var out importedJSON
	r.json(s.t, &out)
	if loc := r.header.Get("Location"); loc != "/api/v1/packages/"+out.ID {
		s.t.Errorf("Location %q, want /api/v1/packages/%s", loc, out.ID)
	}
	return out
}

// TestPackageImport imports the four test packages through the server and
// reads them back: the answer's shape, the list, one package, and each
// launchable's file served under the package's content path.
func TestPackageImport(t *testing.T) {
	s := newPackageServer(t)
	for _, tt := range []struct {
		zip                 []byte
		files               map[string]string
		kind, title, launch string
		activity            string
		launchables         int
		rule                string
	}{
		{packagetest.SCORM12(), packagetest.SCORM12Files(), "scorm12", "Grunnleggende informasjonssikkerhet", "index.html?lang=nb",
			"https://lrs.test/activities/scorm/default/no.lrs.test.infosikkerhet", 1, "passed"},
		{packagetest.SCORM2004(), packagetest.SCORM2004Files(), "scorm2004", "Personvern i praksis", "intro/index.html",
			"https://lrs.test/activities/scorm/default/no.lrs.test.personvern", 2, "completed-and-passed"},
		{packagetest.CMI5(), packagetest.CMI5Files(), "cmi5", "Beredskap", "au1/index.html?del=1",
			"https://lrs.example/kurs/beredskap", 2, "completed-and-passed"},
		{packagetest.TinCan(), packagetest.TinCanFiles(), "tincan", "Varsling", "story.html",
			"https://lrs.example/tincan/varsling", 1, "completed-or-passed"},
	} {
		t.Run(tt.kind, func(t *testing.T) {
			p := s.importPackage("content", "", tt.zip)
			if p.Kind != tt.kind || p.Title != tt.title || p.Version != 1 || p.ActivityID != tt.activity ||
				len(p.Launchables) != tt.launchables || p.Launchables[0].Href != tt.launch || p.Content != "/content/"+p.ID+"/1/" {
				t.Fatalf("imported %+v", p)
			}
			for _, l := range p.Launchables {
				if l.ID == "" || l.Title == "" || !strings.HasPrefix(l.ActivityID, tt.activity) {
					t.Errorf("launchable %+v", l)
				}
			}
			if p.Catalog.Linked || p.Catalog.Module.Completion != tt.rule || p.Catalog.Module.Activities[0] != tt.activity {
				t.Errorf("catalog suggestion %+v", p.Catalog)
			}
			r := s.do(req{method: "GET", path: "/api/v1/packages/" + p.ID, key: "content"})
			expect(t, r, http.StatusOK)
			var got importedJSON
			r.json(t, &got)
			if got.ID != p.ID || got.Version != 1 || len(got.Versions) != 1 || got.Versions[0].Title != tt.title {
				t.Errorf("GET the package: %s", r.body)
			}
			for path, want := range tt.files {
				r := s.do(req{method: "GET", path: p.Content + path, key: "content"})
				expect(t, r, http.StatusOK)
				if string(r.body) != want {
					t.Errorf("%s: %q, want %q", path, r.body, want)
				}
			}
			launch := p.Content + strings.SplitN(p.Launchables[0].Href, "?", 2)[0]
			r = s.do(req{method: "GET", path: launch, key: "content"})
			expect(t, r, http.StatusOK)
			if ct := r.header.Get("Content-Type"); ct != "text/html" {
				t.Errorf("launch page Content-Type %q", ct)
			}
		})
	}
	r := s.do(req{method: "GET", path: "/api/v1/packages", key: "content"})
	expect(t, r, http.StatusOK)
	var list struct{ Packages []importedJSON }
	r.json(t, &list)
	if len(list.Packages) != 4 {
		t.Errorf("GET /api/v1/packages lists %d packages, want 4: %s", len(list.Packages), r.body)
	}
}

// TestContentServing: a package file's headers (type, ETag, caching,
// sandbox), conditional and range requests, HEAD, and the paths that name
// no file.
func TestContentServing(t *testing.T) {
	s := newPackageServer(t)
	p := s.importPackage("content", "", packagetest.CMI5())
	film := packagetest.CMI5Files()["assets/film.mp4"]
	path := p.Content + "assets/film.mp4"
	r := s.do(req{method: "GET", path: path, key: "content"})
	expect(t, r, http.StatusOK)
	h := r.header
	etag := h.Get("ETag")
	for name, want := range map[string]string{
		"Content-Type":            "video/mp4",
		"Cache-Control":           "private, max-age=31536000, immutable",
		"Accept-Ranges":           "bytes",
		"X-Frame-Options":         "SAMEORIGIN",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Content-Security-Policy": "sandbox allow-scripts",
	} {
		if !strings.HasPrefix(h.Get(name), want) {
			t.Errorf("%s: %q, want %q", name, h.Get(name), want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); strings.Contains(csp, "allow-same-origin") || !strings.Contains(csp, "frame-ancestors 'self'") {
		t.Errorf("Content-Security-Policy %q: want a sandbox without allow-same-origin, framed by the LRS only", csp)
	}
	if len(etag) < 10 || h.Get("Last-Modified") == "" || h.Get("Set-Cookie") != "" {
		t.Errorf("ETag %q, Last-Modified %q, Set-Cookie %q", etag, h.Get("Last-Modified"), h.Get("Set-Cookie"))
	}
	r = s.do(req{method: "GET", path: path, key: "content", header: map[string]string{"Range": "bytes=10-19"}})
	expect(t, r, http.StatusPartialContent)
	if string(r.body) != film[10:20] || r.header.Get("Content-Range") != fmt.Sprintf("bytes 10-19/%d", len(film)) {
		t.Errorf("range 10-19: %q, Content-Range %q", r.body, r.header.Get("Content-Range"))
	}
	r = s.do(req{method: "GET", path: path, key: "content", header: map[string]string{"Range": "bytes=-5"}})
	expect(t, r, http.StatusPartialContent)
	if string(r.body) != film[len(film)-5:] {
		t.Errorf("the last 5 bytes: %q", r.body)
	}
	r = s.do(req{method: "GET", path: path, key: "content", header: map[string]string{"If-None-Match": etag}})
	expect(t, r, http.StatusNotModified)
	r = s.do(req{method: "GET", path: path, key: "content", header: map[string]string{"Range": "bytes=5-6", "If-Range": `"other"`}})
	expect(t, r, http.StatusOK) // a changed If-Range gets the whole file
	r = s.do(req{method: "HEAD", path: path, key: "content"})
	expect(t, r, http.StatusOK)
	if len(r.body) != 0 || r.header.Get("Content-Length") != fmt.Sprint(len(film)) {
		t.Errorf("HEAD: body %d bytes, Content-Length %q", len(r.body), r.header.Get("Content-Length"))
	}
	if e := s.do(req{method: "GET", path: p.Content + "au2/style.css", key: "content"}).header.Get("ETag"); e == etag || e == "" {
		t.Errorf("two files share the ETag %q", e)
	}
	for _, bad := range []string{
		p.Content + "missing.html",
		p.Content + "au1",
		p.Content,
		p.Content + "au1/../cmi5.xml",
		p.Content + "au1/%2e%2e/cmi5.xml",
		p.Content + "au1%2F..%2Fcmi5.xml",
		"/content/" + p.ID + "/2/au1/index.html",
		"/content/" + p.ID + "/0/au1/index.html",
		"/content/" + p.ID + "/x/au1/index.html",
		"/content/not-an-id/1/au1/index.html",
	} {
		r := s.do(req{method: "GET", path: bad, key: "content"})
		if r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404; %s", bad, r.status, r.body)
		}
		r.errorKind(t)
	}
}

// TestPackageReimport: a new version of a package keeps its id and
// activity IRIs and bumps its version; the old version's files are still
// served as they were; a completion recorded against version 1 still
// counts for the module version 2 is linked to.
func TestPackageReimport(t *testing.T) {
	s := newPackageServer(t)
	v1 := s.importPackage("content-hr", "?module=infosikkerhet", packagetest.SCORM12())
	if !v1.Catalog.Linked || v1.Catalog.Module.ID != "infosikkerhet" || v1.Catalog.Module.Completion != "passed" {
		t.Fatalf("linking version 1: %+v", v1.Catalog)
	}
	expect(t, s.hr("PUT", "/api/v1/rules/alle", "application/json", `{"role":"ansatt","modules":["infosikkerhet"]}`), http.StatusCreated)
	expect(t, s.hr("POST", "/api/v1/roster/imports", "application/json", `{"people":[
		{"id":"1001","name":"Kari Nordmann","email":"kari@example.com","roles":[{"id":"ansatt"}]}]}`), http.StatusCreated)
	sco := v1.Launchables[0].ActivityID
	s.post(map[string]any{
		"actor":  map[string]any{"mbox": "mailto:kari@example.com"},
		"verb":   map[string]any{"id": "http://adlnet.gov/expapi/verbs/passed"},
		"object": map[string]any{"id": sco},
		"result": map[string]any{"success": true, "completion": true, "score": map[string]any{"scaled": 0.9}},
		"context": map[string]any{"contextActivities": map[string]any{
			"grouping": []any{map[string]any{"id": v1.ActivityID}},
			"category": []any{map[string]any{"id": "https://w3id.org/xapi/scorm"}}}},
	})
	status := func() string {
		r := s.hr("GET", "/api/v1/reports/status?person=1001", "", "")
		expect(t, r, http.StatusOK)
		var rep struct {
			Rows []struct{ Status string } `json:"rows"`
		}
		r.json(t, &rep)
		if len(rep.Rows) != 1 {
			t.Fatalf("status report: %s", r.body)
		}
		return rep.Rows[0].Status
	}
	if st := status(); st != "completed" {
		t.Fatalf("Kari's status after passing version 1: %s", st)
	}

	files := packagetest.With(packagetest.SCORM12Files(), map[string]string{
		"index.html":      "<p>versjon 2</p>",
		"imsmanifest.xml": strings.Replace(packagetest.SCORM12Manifest, "Grunnleggende informasjonssikkerhet", "Informasjonssikkerhet 2026", 1),
	})
	v2 := s.importPackage("content-hr", "?module=infosikkerhet", packagetest.Files(files))
	if v2.ID != v1.ID || v2.Version != 2 || v2.Previous != 1 || v2.ActivityID != v1.ActivityID ||
		v2.Launchables[0].ActivityID != sco || v2.Title != "Informasjonssikkerhet 2026" {
		t.Fatalf("version 2 %+v, after version 1 %+v", v2, v1)
	}
	if !v2.Catalog.Linked || len(v2.Catalog.Module.Activities) != 1 || v2.Catalog.Module.Activities[0] != v1.ActivityID {
		t.Errorf("linking version 2: %+v", v2.Catalog)
	}
	if st := status(); st != "completed" {
		t.Errorf("Kari's status after version 2: %s, want her completion of version 1 to count", st)
	}
	for v, want := range map[int]string{1: packagetest.SCORM12Files()["index.html"], 2: "<p>versjon 2</p>"} {
		r := s.do(req{method: "GET", path: fmt.Sprintf("/content/%s/%d/index.html", v1.ID, v), key: "content"})
		expect(t, r, http.StatusOK)
		if string(r.body) != want {
			t.Errorf("version %d's index.html: %q", v, r.body)
		}
	}
	r := s.do(req{method: "GET", path: "/api/v1/packages/" + v1.ID, key: "content"})
	var got importedJSON
	r.json(t, &got)
	if got.Version != 2 || len(got.Versions) != 2 || got.Versions[0].Version != 1 {
		t.Errorf("GET the package after version 2: %s", r.body)
	}
}

// TestBadPackageUploads: every bad package and every bad request is a 4xx
// naming the fault, never a 500.
func TestBadPackageUploads(t *testing.T) {
	s := newPackageServer(t)
	for _, b := range packagetest.BadPackages() {
		r := s.do(req{method: "POST", path: "/api/v1/packages", key: "content", body: b.Zip, ctype: "application/zip"})
		if r.status != http.StatusBadRequest || r.errorKind(t) != "invalid" || !strings.Contains(string(r.body), jsonText(b.Want)) {
			t.Errorf("%s: %d %s; want 400 saying %q", b.Name, r.status, r.body, b.Want)
		}
	}
	zip := packagetest.SCORM12()
	for _, tt := range []struct {
		name, path, key, ctype string
		body                   []byte
		status                 int
		want                   string
	}{
		{"no Content-Type", "/api/v1/packages", "content", "-", zip, 415, "application/zip"},
		{"JSON", "/api/v1/packages", "content", "application/json", []byte(`{}`), 415, "not accepted"},
		{"empty body", "/api/v1/packages", "content", "application/zip", []byte{}, 400, "the body is empty"},
		{"unknown parameter", "/api/v1/packages?versjon=2", "content", "application/zip", zip, 400, "unknown parameter"},
		{"unknown kind", "/api/v1/packages?kind=aicc", "content", "application/zip", zip, 400, "parameter kind"},
		{"kind not in the zip", "/api/v1/packages?kind=cmi5", "content", "application/zip", zip, 400, "no cmi5.xml"},
		{"bad module id", "/api/v1/packages?module=ikke%20lov", "content-hr", "application/zip", zip, 400, "an id may hold"},
		{"module without roster/write", "/api/v1/packages?module=m1", "content", "application/zip", zip, 403, "roster/write"},
		{"multipart without a file", "/api/v1/packages", "content", "multipart/form-data; boundary=XYZ",
			[]byte("--XYZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nx\r\n--XYZ--\r\n"), 400, "no file part"},
		{"multipart cut short", "/api/v1/packages", "content", "multipart/form-data; boundary=XYZ",
			[]byte("--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.zip\"\r\n\r\nPK"), 400, ""},
		{"a package id that is none", "/api/v1/packages/../admin", "content", "", nil, 404, ""},
	} {
		method := "POST"
		if tt.body == nil {
			method = "GET"
		}
		r := s.do(req{method: method, path: tt.path, key: tt.key, body: tt.body, ctype: tt.ctype})
		if r.status != tt.status || !strings.Contains(string(r.body), tt.want) {
			t.Errorf("%s: %d %s; want %d saying %q", tt.name, r.status, r.body, tt.status, tt.want)
		}
		r.errorKind(t)
	}

	small := newPackageServer(t, func(cfg *lrs.Config) { cfg.PackageLimits.MaxZipBytes = 1000 })
	r := small.do(req{method: "POST", path: "/api/v1/packages", key: "content", body: zip, ctype: "application/zip"})
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(string(r.body), "at most 1000 bytes") {
		t.Errorf("a package over the limit: %d %s", r.status, r.body)
	}
	off := newServer(t, func(cfg *lrs.Config) { cfg.Reporting = nil })
	ctx := context.Background()
	if err := off.db.CreateCredential(ctx, &auth.Credential{Key: "ch", SecretHash: auth.HashSecret("ch-secret"), Tenant: auth.DefaultTenant,
		Scopes: []string{auth.ScopeContentWrite, auth.ScopeRosterWrite}, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	r = off.do(req{method: "POST", path: "/api/v1/packages?module=m1", key: "ch", body: zip, ctype: "application/zip"})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "compliance reporting is off") {
		t.Errorf("?module= with reporting off: %d %s", r.status, r.body)
	}
}

// jsonText is s as it appears inside a JSON string.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// TestPackageMultipart imports a package sent as a browser form sends it.
func TestPackageMultipart(t *testing.T) {
	s := newPackageServer(t)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("note", "from a form")
	fw, _ := w.CreateFormFile("file", "kurs.zip")
	fw.Write(packagetest.TinCan())
	w.Close()
	r := s.do(req{method: "POST", path: "/api/v1/packages", key: "content", body: body.Bytes(), ctype: w.FormDataContentType()})
	expect(t, r, http.StatusCreated)
	if !strings.Contains(string(r.body), `"kind":"tincan"`) {
		t.Errorf("multipart import: %s", r.body)
	}
}

// TestPackageDelete: a deleted package and its files are gone, its
// statements stay, and a new import numbers on.
func TestPackageDelete(t *testing.T) {
	s := newPackageServer(t)
	p := s.importPackage("content", "", packagetest.CMI5())
	link := s.contentLink(p.ID, "")
	id := s.post(map[string]any{"actor": map[string]any{"mbox": "mailto:kari@example.com"},
		"verb": map[string]any{"id": "http://adlnet.gov/expapi/verbs/completed"}, "object": map[string]any{"id": p.Launchables[0].ActivityID}})[0]
	expect(t, s.do(req{method: "DELETE", path: "/api/v1/packages/" + p.ID, key: "content"}), http.StatusNoContent)
	for _, path := range []string{"/api/v1/packages/" + p.ID} {
		expect(t, s.do(req{method: "GET", path: path, key: "content"}), http.StatusNotFound)
	}
	expect(t, s.do(req{method: "GET", path: p.Content + "au1/index.html", key: "content"}), http.StatusNotFound)
	expect(t, s.do(req{method: "GET", path: link.Launchables[0].URL[len("https://lrs.test"):], noAuth: true}), http.StatusNotFound)
	expect(t, s.do(req{method: "DELETE", path: "/api/v1/packages/" + p.ID, key: "content"}), http.StatusNotFound)
	s.get(id) // the statement stays
	again := s.importPackage("content", "", packagetest.CMI5())
	if again.ID != p.ID || again.Version != 2 {
		t.Errorf("imported again after the delete: %s version %d, want %s version 2", again.ID, again.Version, p.ID)
	}
}

// contentLinkJSON is the answer to POST .../links.
type contentLinkJSON struct {
	Token       string    `json:"token"`
	Expires     time.Time `json:"expires"`
	Version     int       `json:"version"`
	Content     string    `json:"content"`
	Launchables []struct {
		ID, URL string
	} `json:"launchables"`
}

func (s *testServer) contentLink(id, body string) contentLinkJSON {
	s.t.Helper()
	var b any
	if body != "" {
		b = body
	}
	r := s.do(req{method: "POST", path: "/api/v1/packages/" + id + "/links", key: "content", body: b})
	expect(s.t, r, http.StatusCreated)
	var out contentLinkJSON
	r.json(s.t, &out)
	return out
}

// TestContentLinks: a content link serves the files of its version to
// anyone holding it, relative links included, until it expires; a forged
// or altered one is refused; the request log never shows its token.
func TestContentLinks(t *testing.T) {
	var logs bytes.Buffer
	s := newPackageServer(t, func(cfg *lrs.Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.clock.Set(now)
	v1 := s.importPackage("content", "", packagetest.SCORM2004())
	s.importPackage("content", "", packagetest.Files(packagetest.With(packagetest.SCORM2004Files(),
		map[string]string{"intro/index.html": "<p>ny</p>"})))
	link := s.contentLink(v1.ID, `{"version":1,"expiresIn":"2h"}`)
	if link.Version != 1 || !link.Expires.Equal(now.Add(2*time.Hour)) || !strings.HasPrefix(link.Content, "https://lrs.test/content/t/") ||
		len(link.Launchables) != 2 || link.Launchables[1].URL != link.Content+"test/test.html#start" {
		t.Fatalf("link %+v", link)
	}
	local := func(u string) string { return strings.SplitN(strings.TrimPrefix(u, "https://lrs.test"), "#", 2)[0] }
	r := s.do(req{method: "GET", path: local(link.Launchables[0].URL), noAuth: true})
	expect(t, r, http.StatusOK)
	if string(r.body) != packagetest.SCORM2004Files()["intro/index.html"] || !strings.HasPrefix(r.header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("version 1's launch page by link: %q, CSP %q", r.body, r.header.Get("Content-Security-Policy"))
	}
	// A relative link of the page (../shared/style.css) resolves under the
	// token too.
	expect(t, s.do(req{method: "GET", path: local(link.Content) + "shared/style.css", noAuth: true}), http.StatusOK)
	latest := s.contentLink(v1.ID, "")
	if latest.Version != 2 || !latest.Expires.Equal(now.Add(lrs.DefaultContentLinkTTL)) {
		t.Errorf("a link to the latest version: %+v", latest)
	}
	if r := s.do(req{method: "GET", path: local(latest.Launchables[0].URL), noAuth: true}); string(r.body) != "<p>ny</p>" {
		t.Errorf("version 2's launch page by link: %d %q", r.status, r.body)
	}

	tokenPath := func(tok string) string { return "/content/t/" + tok + "/intro/index.html" }
	forged := packages.ContentToken{Tenant: "default", Package: v1.ID, Version: 1, Expires: now.Add(time.Hour)}.
		Sign([]byte("another key, also 32 bytes long!"))
	other := packages.ContentToken{Tenant: "oslo", Package: v1.ID, Version: 1, Expires: now.Add(time.Hour)}.Sign(testContentKey)
	for name, tt := range map[string]struct {
		path   string
		status int
	}{
		"forged":               {tokenPath(forged), 403},
		"altered version":      {tokenPath(strings.Replace(link.Token, ".1.", ".2.", 1)), 403},
		"garbage":              {tokenPath("x"), 403},
		"another tenant's":     {tokenPath(other), 403},
		"missing file":         {"/content/t/" + link.Token + "/nope.html", 404},
		"leading out":          {"/content/t/" + link.Token + "/..%2Fimsmanifest.xml", 404},
		"credentialed, no key": {v1.Content + "intro/index.html", 401},
	} {
		r := s.do(req{method: "GET", path: tt.path, noAuth: true})
		if r.status != tt.status {
			t.Errorf("%s: %d %s, want %d", name, r.status, r.body, tt.status)
		}
		r.errorKind(t)
	}
	s.clock.Set(now.Add(2*time.Hour + time.Second))
	r = s.do(req{method: "GET", path: local(link.Launchables[0].URL), noAuth: true})
	if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "expired") {
		t.Errorf("an expired link: %d %s", r.status, r.body)
	}
	for _, bad := range []string{`{"expiresIn":"48h"}`, `{"expiresIn":"soon"}`, `{"version":7}`, `{"nope":1}`} {
		r := s.do(req{method: "POST", path: "/api/v1/packages/" + v1.ID + "/links", key: "content", body: bad})
		if r.status != http.StatusBadRequest && r.status != http.StatusNotFound {
			t.Errorf("link request %s: %d %s", bad, r.status, r.body)
		}
	}
	if strings.Contains(logs.String(), link.Token) || !strings.Contains(logs.String(), `"path":"/content/t/-/intro/index.html"`) {
		t.Errorf("the request log shows the token, or not the redacted path:\n%s", logs.String())
	}
}
