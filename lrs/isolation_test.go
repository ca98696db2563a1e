package lrs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/cmd/lrs/wire"
	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/packages/packagetest"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/sqlite"
	"github.com/xapi-lrs/lrs/statements"
	"github.com/xapi-lrs/lrs/tokens"
)

// backend is every store interface the service needs, as both backends
// implement them on one value.
type backend interface {
	ingest.Store
	statements.ActivityStore
	documents.Store
	auth.CredentialStore
	auth.TenantStore
	auth.AuditLog
	packages.Store
}

// storesOf returns the stores of a backend's database, as the binary wires
// them.
func storesOf(db backend) *wire.Stores {
	rp, _ := db.(reporting.Store) // compliance reporting, where the backend has it
	return &wire.Stores{Backend: "test", Statements: db, Documents: db, Activities: db, Credentials: db,
		Tenants: db, Audit: db, Reporting: rp, Packages: db}
}

// backends opens a fresh store of each backend: SQLite in a temporary
// directory, and MongoDB on an in-process FerretDB (started once).
func backends(t *testing.T) map[string]func(t *testing.T) backend {
	return map[string]func(t *testing.T) backend{
		"SQLite": func(t *testing.T) backend {
			db, err := sqlite.Open(filepath.Join(t.TempDir(), "lrs.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
		"MongoDB": func(t *testing.T) backend { return openMongoDB(t) },
	}
}

// tenantClient makes requests as one credential, with Basic
// authentication or, when token is set, with that bearer token.
type tenantClient struct {
	t           *testing.T
	base        string
	key, secret string
	token       string
}

func (c *tenantClient) do(method, path, ctype, body string, header ...string) *response {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	hr, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	} else {
		hr.SetBasicAuth(c.key, c.secret)
	}
	hr.Header.Set("X-Experience-API-Version", "1.0.3")
	if ctype != "" {
		hr.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(header); i += 2 {
		hr.Header.Set(header[i], header[i+1])
	}
	res, err := testClient.Do(hr)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &response{status: res.StatusCode, header: res.Header, body: b}
}

// TestTenantIsolation stores data as tenant oslo and tries every route of
// the service with the credential of tenant bergen and with a bearer token
// issued to it, on both backends: nothing of oslo may be read, changed or
// even shown to exist.
func TestTenantIsolation(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) { testTenantIsolation(t, open(t)) })
	}
}

func testTenantIsolation(t *testing.T, db backend) {
	ctx := context.Background()
	admin := &auth.Admin{Credentials: db, Tenants: db, Audit: db}
	clients := map[string]*tenantClient{}
	tok, err := tokens.New(tokens.Config{Issuer: "https://lrs.test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	st := storesOf(db)
	srv := httptest.NewServer(wire.NewServer(st, lrs.Config{Tokens: tok, ContentKey: testContentKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler())
	t.Cleanup(srv.Close)
	for _, tn := range []string{"oslo", "bergen"} {
		if _, err := admin.CreateTenant(ctx, "test", tn); err != nil {
			t.Fatal(err)
		}
		c, secret, err := admin.CreateCredential(ctx, "test", auth.NewCredential{Tenant: tn, Name: tn + " lms",
			Scopes: []string{auth.ScopeAll, auth.ScopeAdmin, auth.ScopeReportsRead, auth.ScopeRosterWrite, auth.ScopeContentWrite, auth.ScopeLaunchWrite},
			Key:    tn + "-key"})
		if err != nil {
			t.Fatal(err)
		}
		clients[tn] = &tenantClient{t: t, base: srv.URL, key: c.Key, secret: secret}
	}
	oslo, bergen := clients["oslo"], clients["bergen"]
	tr := bergen.do("POST", "/api/v1/token", "application/x-www-form-urlencoded", "grant_type=client_credentials")
	mustStatus(t, tr, 200)
	var token struct {
		AccessToken string `json:"access_token"`
	}
	tr.json(t, &token)
	bergenToken := &tenantClient{t: t, base: srv.URL, token: token.AccessToken}

	// Oslo's data.
	const id = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"
	const agent = `{"mbox":"mailto:kari@oslo.kommune.no"}`
	const act = "https://kins.example/modul/1"
	osloStmt := fmt.Sprintf(`{"id":%q,"actor":{"mbox":"mailto:kari@oslo.kommune.no","name":"Kari Oslo"},
		"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},
		"object":{"id":%q,"definition":{"name":{"nb-NO":"Grunnleggende informasjonssikkerhet"}}}}`, id, act)
	mustStatus(t, oslo.do("PUT", "/xapi/statements?statementId="+id, "application/json", osloStmt), 204)
	docQS := func(extra string) string {
		return "?activityId=" + url.QueryEscape(act) + "&agent=" + url.QueryEscape(agent) + extra
	}
	stateURL := "/xapi/activities/state" + docQS("&stateId=bookmark")
	apURL := "/xapi/activities/profile?activityId=" + url.QueryEscape(act) + "&profileId=p1"
	agpURL := "/xapi/agents/profile?agent=" + url.QueryEscape(agent) + "&profileId=p1"
	mustStatus(t, oslo.do("POST", "/xapi/statements", "application/json", strings.Replace(
		strings.Replace(osloStmt, id, "aaaaaaaa-2222-4111-8111-aaaaaaaaaaaa", 1), "completed", "passed", 1)), 200)
	mustStatus(t, oslo.do("PUT", stateURL, "application/json", `{"page":7}`), 204)
	mustStatus(t, oslo.do("PUT", apURL, "application/json", `{"secret":"oslo"}`, "If-None-Match", "*"), 204)
	mustStatus(t, oslo.do("PUT", agpURL, "application/json", `{"secret":"oslo"}`, "If-None-Match", "*"), 204)
	osloETag := oslo.do("GET", apURL, "", "").header.Get("ETag")
	if st.Reporting != nil {
		// Oslo's compliance catalog and roster, in which Kari's statements
		// count, and a projection rebuilt once.
		mustStatus(t, oslo.do("PUT", "/api/v1/modules/kins-1", "application/json",
			`{"title":{"nb-NO":"Grunnleggende informasjonssikkerhet"},"activities":["`+act+`"],"completion":"completed"}`), 201)
		mustStatus(t, oslo.do("PUT", "/api/v1/rules/leder", "application/json", `{"role":"leder","modules":["kins-1"]}`), 201)
		mustStatus(t, oslo.do("PUT", "/api/v1/campaigns/okt", "application/json", `{"modules":["kins-1"],"start":"2025-10-01","end":"2025-10-31"}`), 201)
		mustStatus(t, oslo.do("PUT", "/api/v1/exemptions/x1", "application/json", `{"person":"o1","module":"kins-1","reason":"Kari's leave"}`), 201)
		mustStatus(t, oslo.do("POST", "/api/v1/roster/imports", "application/json", `{"source":"oslo.json",
			"units":[{"id":"radhus","name":"Oslo rådhus","managers":["o1"]}],
			"people":[{"id":"o1","name":"Kari Oslo","email":"kari@oslo.kommune.no","units":["radhus"],"roles":["leder"]},
			          {"id":"o2","name":"Ola Oslo","email":"ola@oslo.kommune.no","units":["radhus"],"roles":["leder"]}]}`), 201)
		mustStatus(t, oslo.do("POST", "/xapi/statements", "application/json",
			`{"actor":{"mbox":"mailto:knut@oslo.kommune.no","name":"Knut Ukjent"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"`+act+`"}}`), 200)
		mustStatus(t, oslo.do("POST", "/api/v1/projection/rebuild", "", ""), 202)
		for deadline := time.Now().Add(20 * time.Second); ; {
			r := oslo.do("GET", "/api/v1/projection/rebuild", "", "")
			if !strings.Contains(string(r.body), `"running"`) {
				mustStatus(t, r, 200)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("oslo's rebuild: %s", r.body)
			}
			time.Sleep(10 * time.Millisecond)
		}
		r := oslo.do("GET", "/api/v1/reports/status?person=o1", "", "")
		if !strings.Contains(string(r.body), `"status":"exempt"`) || !strings.Contains(string(r.body), "Kari Oslo") {
			t.Fatalf("oslo's own report: %s", r.body)
		}
	}
	q := oslo.do("GET", "/xapi/statements?limit=1&agent="+url.QueryEscape(agent), "", "")
	mustStatus(t, q, 200)
	// Oslo's package, with a content link.
	mustStatus(t, oslo.do("POST", "/api/v1/packages", "application/zip", string(packagetest.CMI5())), 201)
	pkg := packages.PackageID("https://lrs.example/kurs/beredskap")
	osloLink := oslo.do("POST", "/api/v1/packages/"+pkg+"/links", "", "")
	mustStatus(t, osloLink, 201)
	var link struct{ Token string }
	osloLink.json(t, &link)
	bergenLink := packages.ContentToken{Tenant: "bergen", Package: pkg, Version: 1, Expires: time.Now().Add(time.Hour)}.Sign(testContentKey)

	// What bergen must not see or touch.
	routes := []struct {
		method, path, ctype, body string
		header                    []string
		want                      int
		mustNotContain            string
	}{
		{"GET", "/xapi/statements?statementId=" + id, "", "", nil, 404, ""},
		{"HEAD", "/xapi/statements?statementId=" + id, "", "", nil, 404, ""},
		{"GET", "/xapi/statements?voidedStatementId=" + id, "", "", nil, 404, ""},
		{"GET", "/xapi/statements?statementId=" + id + "&attachments=true", "", "", nil, 404, ""},
		{"GET", "/xapi/statements", "", "", nil, 200, "kari"},
		{"GET", "/xapi/statements?agent=" + url.QueryEscape(agent), "", "", nil, 200, "kari"},
		{"GET", "/xapi/statements?activity=" + url.QueryEscape(act), "", "", nil, 200, "kari"},
		{"GET", "/xapi/activities?activityId=" + url.QueryEscape(act), "", "", nil, 200, "Grunnleggende"},
		{"GET", "/xapi/agents?agent=" + url.QueryEscape(agent), "", "", nil, 200, "Kari Oslo"},
		{"GET", stateURL, "", "", nil, 404, ""},
		{"GET", "/xapi/activities/state" + docQS(""), "", "", nil, 200, "bookmark"},
		{"GET", apURL, "", "", nil, 404, ""},
		{"GET", "/xapi/activities/profile?activityId=" + url.QueryEscape(act), "", "", nil, 200, "p1"},
		{"GET", agpURL, "", "", nil, 404, ""},
		{"GET", "/xapi/agents/profile?agent=" + url.QueryEscape(agent), "", "", nil, 200, "p1"},
		// Writes aimed at oslo's documents act on bergen's own (empty) space.
		{"PUT", apURL, "application/json", `{"x":1}`, []string{"If-Match", osloETag}, 412, ""},
		{"DELETE", apURL, "", "", []string{"If-Match", osloETag}, 412, ""},
		{"DELETE", "/xapi/activities/state" + docQS(""), "", "", nil, 204, ""},
		{"DELETE", agpURL, "", "", nil, 204, ""},
		// Admin API: oslo's credentials and audit log are not bergen's.
		{"GET", "/api/v1/admin/credentials/oslo-key", "", "", nil, 404, ""},
		{"POST", "/api/v1/admin/credentials/oslo-key/rotate", "", "", nil, 404, ""},
		{"POST", "/api/v1/admin/credentials/oslo-key/revoke", "", "", nil, 404, ""},
		{"GET", "/api/v1/admin/credentials", "", "", nil, 200, "oslo"},
		{"GET", "/api/v1/admin/credentials?tenant=oslo", "", "", nil, 403, "oslo-key"},
		{"GET", "/api/v1/admin/audit", "", "", nil, 200, "oslo"},
		{"GET", "/api/v1/admin/audit?tenant=oslo", "", "", nil, 403, "oslo-key"},
		{"POST", "/api/v1/admin/credentials", "application/json", `{"name":"x","scopes":["all"],"tenant":"oslo"}`, nil, 403, ""},
		{"GET", "/api/v1/admin/tenants", "", "", nil, 403, "oslo"},
		{"POST", "/api/v1/admin/tenants/oslo/disable", "", "", nil, 403, ""},
		// Packages: oslo's is not bergen's, by id, list, content or link.
		{"GET", "/api/v1/packages", "", "", nil, 200, "Beredskap"},
		{"GET", "/api/v1/packages/" + pkg, "", "", nil, 404, "Beredskap"},
		{"DELETE", "/api/v1/packages/" + pkg, "", "", nil, 404, ""},
		{"POST", "/api/v1/packages/" + pkg + "/links", "", "", nil, 404, ""},
		{"GET", "/content/" + pkg + "/1/au1/index.html", "", "", nil, 404, "Del 1"},
		{"GET", "/content/t/" + bergenLink + "/au1/index.html", "", "", nil, 404, "Del 1"},
		{"POST", "/api/v1/launches", "application/json", `{"package":"` + pkg + `","agent":{"mbox":"mailto:kari@oslo.kommune.no"}}`, nil, 404, "Beredskap"},
	}
	if st.Reporting != nil {
		// Compliance reporting: bergen's catalog, roster, projection and
		// reports are its own, empty ones.
		routes = append(routes, []struct {
			method, path, ctype, body string
			header                    []string
			want                      int
			mustNotContain            string
		}{
			{"GET", "/api/v1/modules", "", "", nil, 200, "kins-1"},
			{"GET", "/api/v1/modules/kins-1", "", "", nil, 404, "Grunnleggende"},
			{"DELETE", "/api/v1/modules/kins-1", "", "", nil, 404, ""},
			{"GET", "/api/v1/rules", "", "", nil, 200, "leder"},
			{"GET", "/api/v1/rules/leder", "", "", nil, 404, "kins-1"},
			{"DELETE", "/api/v1/rules/leder", "", "", nil, 404, ""},
			{"PUT", "/api/v1/rules/leder", "application/json", `{"role":"leder","modules":["kins-1"]}`, nil, 400, ""},
			{"GET", "/api/v1/campaigns", "", "", nil, 200, "okt"},
			{"GET", "/api/v1/campaigns/okt", "", "", nil, 404, "kins-1"},
			{"DELETE", "/api/v1/campaigns/okt", "", "", nil, 404, ""},
			{"GET", "/api/v1/exemptions", "", "", nil, 200, "Kari"},
			{"GET", "/api/v1/exemptions/x1", "", "", nil, 404, "Kari"},
			{"DELETE", "/api/v1/exemptions/x1", "", "", nil, 404, ""},
			{"GET", "/api/v1/roster/imports", "", "", nil, 200, "oslo"},
			{"GET", "/api/v1/roster/imports/1", "", "", nil, 404, "Kari"},
			{"GET", "/api/v1/reports/status", "", "", nil, 200, "Kari"},
			{"GET", "/api/v1/reports/status?format=csv", "", "", nil, 200, "Kari"},
			{"GET", "/api/v1/reports/status?person=o1", "", "", nil, 200, "Kari"},
			{"GET", "/api/v1/reports/status?module=kins-1", "", "", nil, 400, "Kari"},
			{"GET", "/api/v1/reports/summary", "", "", nil, 200, "kins-1"},
			{"GET", "/api/v1/reports/reminders", "", "", nil, 200, "Kari"},
			{"GET", "/api/v1/reports/unmatched", "", "", nil, 200, "knut"},
			{"GET", "/api/v1/reports/status?format=xlsx&unit=radhus", "", "", nil, 200, ""}, // an empty workbook
			{"GET", "/api/v1/reports/evidence?unit=radhus&to=2030-01-01", "", "", nil, 404, "Kari"},
			{"GET", "/api/v1/people/o1/transcript", "", "", nil, 404, "Kari"},
			{"GET", "/api/v1/projection/rebuild", "", "", nil, 404, "oslo"},
			// A completion export naming oslo's employee: unknown to bergen
			// (a person oslo's roster resolved would fail on the module).
			{"POST", "/api/v1/imports/completions?dryRun=true", "text/csv", "Ansattnummer;Kurs;Status;Dato\no1;kins-1;Fullført;01.02.2025\n",
				nil, 200, "unknown module"},
			// Oslo's people are not bergen's to launch.
			{"POST", "/api/v1/launches", "application/json", `{"package":"` + pkg + `","person":"o1"}`, nil, 404, "Kari"},
		}...)
	}
	// Last, as they change what bergen's later reads find: a statement
	// with oslo's id is bergen's own (no conflict, no leak), and voiding
	// it touches only bergen's.
	writes := []struct {
		method, path, ctype, body string
		want                      int
	}{
		{"PUT", "/xapi/statements?statementId=" + id, "application/json",
			`{"actor":{"mbox":"mailto:x@bergen.kommune.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/attempted"},"object":{"id":"https://bergen.example/a"}}`,
			204},
		{"POST", "/xapi/statements", "application/json",
			`{"actor":{"mbox":"mailto:x@bergen.kommune.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"},"object":{"objectType":"StatementRef","id":"` + id + `"}}`,
			200},
	}
	if st.Reporting != nil {
		// Bergen's own roster (with oslo's employee id) and rebuild.
		writes = append(writes, []struct {
			method, path, ctype, body string
			want                      int
		}{
			{"POST", "/api/v1/roster/imports", "text/csv", "id,name,email\no1,Bergen-Kari,kari@bergen.kommune.no\n", 201},
			{"POST", "/api/v1/projection/rebuild", "", "", 202},
		}...)
	}
	for who, client := range map[string]*tenantClient{"bergen (Basic)": bergen, "bergen (token)": bergenToken} {
		for _, tt := range routes {
			r := client.do(tt.method, tt.path, tt.ctype, tt.body, tt.header...)
			if r.status != tt.want {
				t.Errorf("%s %s %s: status %d, want %d; body %s", who, tt.method, tt.path, r.status, tt.want, r.body)
			}
			if tt.mustNotContain != "" && strings.Contains(string(r.body), tt.mustNotContain) {
				t.Errorf("%s %s %s: the answer shows oslo's %q: %s", who, tt.method, tt.path, tt.mustNotContain, r.body)
			}
		}
	}
	for _, tt := range writes {
		if r := bergenToken.do(tt.method, tt.path, tt.ctype, tt.body); r.status != tt.want {
			t.Errorf("bergen %s %s: status %d, want %d; body %s", tt.method, tt.path, r.status, tt.want, r.body)
		}
	}
	// Oslo's "more" link followed by bergen shows nothing of oslo.
	var sr struct{ More string }
	q.json(t, &sr)
	if sr.More == "" {
		t.Error("oslo's query of one of two statements has no more link")
	} else {
		if r := bergen.do("GET", sr.More, "", ""); strings.Contains(string(r.body), "kari") {
			t.Errorf("bergen following oslo's more link saw oslo's data: %s", r.body)
		}
	}

	if st.Reporting != nil {
		// Oslo's report is intact: Kari exempt, her completion in her
		// transcript, one import, Knut unmatched.
		for deadline := time.Now().Add(20 * time.Second); ; {
			r := bergen.do("GET", "/api/v1/projection/rebuild", "", "")
			if !strings.Contains(string(r.body), `"running"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("bergen's rebuild: %s", r.body)
			}
			time.Sleep(10 * time.Millisecond)
		}
		r := oslo.do("GET", "/api/v1/reports/status?person=o1", "", "")
		if !strings.Contains(string(r.body), `"status":"exempt"`) || !strings.Contains(string(r.body), "Kari Oslo") {
			t.Errorf("oslo's report after bergen's requests: %s", r.body)
		}
		r = oslo.do("GET", "/api/v1/people/o1/transcript", "", "")
		if !strings.Contains(string(r.body), `"module":"kins-1"`) || !strings.Contains(string(r.body), id) {
			t.Errorf("oslo's transcript after bergen's requests: %s", r.body)
		}
		r = oslo.do("GET", "/api/v1/roster/imports", "", "")
		if strings.Count(string(r.body), `"id":`) != 1 {
			t.Errorf("oslo's imports after bergen's: %s", r.body)
		}
		r = oslo.do("GET", "/api/v1/reports/unmatched", "", "")
		if !strings.Contains(string(r.body), "knut@oslo") {
			t.Errorf("oslo's unmatched learners after bergen's requests: %s", r.body)
		}
	}

	// Oslo's data is intact.
	r := oslo.do("GET", "/xapi/statements?statementId="+id, "", "")
	mustStatus(t, r, 200)
	if !strings.Contains(string(r.body), "kari@oslo") {
		t.Errorf("oslo's statement changed: %s", r.body)
	}
	if r := oslo.do("GET", "/xapi/statements?voidedStatementId="+id, "", ""); r.status != 404 {
		t.Errorf("bergen's voiding statement voided oslo's statement: %d %s", r.status, r.body)
	}
	for _, u := range []string{stateURL, apURL, agpURL} {
		if r := oslo.do("GET", u, "", ""); r.status != 200 {
			t.Errorf("oslo's document %s is gone after bergen's requests: %d", u, r.status)
		}
	}
	if r := oslo.do("GET", "/xapi/activities?activityId="+url.QueryEscape(act), "", ""); !strings.Contains(string(r.body), "Grunnleggende") {
		t.Errorf("oslo's activity definition: %s", r.body)
	}
	if r := oslo.do("GET", "/content/t/"+link.Token+"/au1/index.html", "", ""); r.status != 200 || !strings.Contains(string(r.body), "Del 1") {
		t.Errorf("oslo's content link after bergen's requests: %d %s", r.status, r.body)
	}
	if r := oslo.do("GET", "/api/v1/packages/"+pkg, "", ""); r.status != 200 || !strings.Contains(string(r.body), `"version":1`) {
		t.Errorf("oslo's package after bergen's requests: %d %s", r.status, r.body)
	}
	if r := oslo.do("GET", "/api/v1/admin/credentials/oslo-key", "", ""); r.status != 200 || strings.Contains(string(r.body), `"revoked":true`) {
		t.Errorf("oslo's credential after bergen's attempts: %d %s", r.status, r.body)
	}

	// A disabled tenant is locked out; its data stays.
	if _, err := admin.SetTenantDisabled(ctx, "test", "oslo", true); err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(wire.NewServer(st, lrs.Config{ContentKey: testContentKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler())
	t.Cleanup(srv2.Close)
	oslo2 := &tenantClient{t: t, base: srv2.URL, key: oslo.key, secret: oslo.secret}
	if r := oslo2.do("GET", "/xapi/statements?statementId="+id, "", ""); r.status != 401 {
		t.Errorf("a disabled tenant's credential: %d, want 401", r.status)
	}
	if r := oslo2.do("GET", "/content/t/"+link.Token+"/au1/index.html", "", ""); r.status != 403 {
		t.Errorf("a disabled tenant's content link: %d, want 403", r.status)
	}
	if _, err := db.Get(ctx, "oslo", id); err != nil {
		t.Errorf("a disabled tenant's statement: %v", err)
	}
}

func mustStatus(t *testing.T, r *response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
}
