package lrs_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/lrs"
)

// reportingRoutes is one request to every route of the reporting API.
var reportingRoutes = []struct{ method, path, ctype, body string }{
	{"GET", "/api/v1/modules", "", ""},
	{"GET", "/api/v1/modules/m1", "", ""},
	{"PUT", "/api/v1/modules/m2", "application/json", `{"title":{"en":"M2"},"activities":["https://example.com/m2"],"completion":"completed"}`},
	{"DELETE", "/api/v1/modules/m2", "", ""},
	{"GET", "/api/v1/rules", "", ""},
	{"GET", "/api/v1/rules/r1", "", ""},
	{"PUT", "/api/v1/rules/r1", "application/json", `{"role":"all","modules":["m1"]}`},
	{"DELETE", "/api/v1/rules/r1", "", ""},
	{"GET", "/api/v1/campaigns", "", ""},
	{"GET", "/api/v1/campaigns/c1", "", ""},
	{"PUT", "/api/v1/campaigns/c1", "application/json", `{"modules":["m1"],"start":"2025-10-01","end":"2025-10-31"}`},
	{"DELETE", "/api/v1/campaigns/c1", "", ""},
	{"GET", "/api/v1/exemptions", "", ""},
	{"GET", "/api/v1/exemptions/x1", "", ""},
	{"PUT", "/api/v1/exemptions/x1", "application/json", `{"person":"p1","module":"m1"}`},
	{"DELETE", "/api/v1/exemptions/x1", "", ""},
	{"POST", "/api/v1/roster/imports", "application/json", `{"partial":true,"people":[{"id":"p1","name":"P"}]}`},
	{"GET", "/api/v1/roster/imports", "", ""},
	{"GET", "/api/v1/roster/imports/1", "", ""},
	{"GET", "/api/v1/reports/status", "", ""},
	{"GET", "/api/v1/reports/summary", "", ""},
	{"GET", "/api/v1/reports/reminders", "", ""},
	{"GET", "/api/v1/reports/unmatched", "", ""},
	{"GET", "/api/v1/people/p1/transcript", "", ""},
	{"POST", "/api/v1/projection/rebuild", "", ""},
	{"GET", "/api/v1/projection/rebuild", "", ""},
}

// TestReportingScopes checks who may call each route: catalog and roster
// writes need roster/write, reads of them roster/write or reports/read,
// reports reports/read, the projection admin; all grants none of them.
func TestReportingScopes(t *testing.T) {
	ts := newReportingServer(t)
	// A module and a person for the routes that name them.
	expect(t, ts.do(req{method: "PUT", path: "/api/v1/modules/m1", key: "roster",
		body: `{"title":{"en":"M1"},"activities":["https://example.com/m1"],"completion":"completed"}`}), http.StatusCreated)
	writes := func(method, path string) bool {
		return method != "GET" && !strings.HasPrefix(path, "/api/v1/projection")
	}
	allowed := map[string]func(method, path string) bool{
		"admin":     func(string, string) bool { return false }, // scope all
		"allreader": func(string, string) bool { return false },
		"lms":       func(string, string) bool { return false },
		"roster": func(method, path string) bool {
			return writes(method, path) || method == "GET" && !strings.Contains(path, "/reports") &&
				!strings.Contains(path, "/people") && !strings.HasPrefix(path, "/api/v1/projection")
		},
		"auditor": func(method, path string) bool {
			return method == "GET" && !strings.HasPrefix(path, "/api/v1/projection")
		},
		"hr":  func(method, path string) bool { return !strings.HasPrefix(path, "/api/v1/projection") },
		"ops": func(method, path string) bool { return strings.HasPrefix(path, "/api/v1/projection") },
	}
	for key, ok := range allowed {
		for _, rt := range reportingRoutes {
			r := ts.do(req{method: rt.method, path: rt.path, body: bodyOrNil(rt.body), ctype: rt.ctype, key: key})
			switch {
			case !ok(rt.method, rt.path) && r.status != http.StatusForbidden:
				t.Errorf("%s %s as %s: %d, want 403: %s", rt.method, rt.path, key, r.status, r.body)
			case ok(rt.method, rt.path) && (r.status == http.StatusForbidden || r.status == http.StatusUnauthorized || r.status >= 500):
				t.Errorf("%s %s as %s: %d, want it allowed: %s", rt.method, rt.path, key, r.status, r.body)
			}
		}
	}
	for _, rt := range reportingRoutes {
		if r := ts.do(req{method: rt.method, path: rt.path, noAuth: true}); r.status != http.StatusUnauthorized {
			t.Errorf("%s %s without credentials: %d, want 401", rt.method, rt.path, r.status)
		}
	}
	// Let the rebuild that ops started end before the database closes.
	waitRebuild(t, ts)
}

func bodyOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TestReportingOff: without Config.Reporting the routes do not exist, and
// statements are stored as before.
func TestReportingOff(t *testing.T) {
	ts := newServer(t, func(c *lrs.Config) { c.Reporting = nil })
	for _, rt := range reportingRoutes {
		if r := ts.do(req{method: rt.method, path: rt.path, body: bodyOrNil(rt.body), ctype: rt.ctype}); r.status != http.StatusNotFound &&
			r.status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s with reporting off: %d, want 404", rt.method, rt.path, r.status)
		}
	}
	ts.post(stmt("kari", "completed"))
}

// TestReportingBadInput sends every kind of bad input to the reporting
// API: each must get its 4xx with a message, never a 500.
func TestReportingBadInput(t *testing.T) {
	ts := newReportingServer(t)
	hr := func(method, path, ctype, body string) *response {
		return ts.do(req{method: method, path: path, body: bodyOrNil(body), ctype: ctype, key: "hr"})
	}
	expect(t, hr("PUT", "/api/v1/modules/m1", "", `{"title":{"nb-NO":"Modul 1"},"activities":["https://example.com/m1"],"completion":"completed"}`), http.StatusCreated)
	expect(t, hr("PUT", "/api/v1/rules/r1", "", `{"role":"alle","modules":["m1"]}`), http.StatusCreated)
	expect(t, hr("POST", "/api/v1/roster/imports", "application/json", `{"units":[{"id":"u1","name":"U1"}],"people":[{"id":"p1","name":"P1","units":["u1"],"roles":["alle"]}]}`), http.StatusCreated)

	big := `{"title":{"en":"` + strings.Repeat("x", 70<<10) + `"},"activities":["https://example.com/m"],"completion":"completed"}`
	for _, tt := range []struct {
		name                      string
		method, path, ctype, body string
		status                    int
		message                   string // in the error message
	}{
		{"bad date", "GET", "/api/v1/reports/status?asOf=2025-13-01", "", "", 400, "asOf"},
		{"not a date", "GET", "/api/v1/reports/status?asOf=yesterday", "", "", 400, "2025-10-31"},
		{"bad knownAt", "GET", "/api/v1/reports/status?knownAt=2025-02-30", "", "", 400, "knownAt"},
		{"bad time zone", "GET", "/api/v1/reports/status?tz=Mars/Olympus", "", "", 400, "time zone"},
		{"bad format", "GET", "/api/v1/reports/status?format=pdf", "", "", 400, "json, csv or xlsx"},
		{"bad delimiter", "GET", "/api/v1/reports/status?format=csv&delimiter=pipe", "", "", 400, "semicolon"},
		{"delimiter without CSV", "GET", "/api/v1/reports/status?delimiter=tab", "", "", 400, "CSV only"},
		{"unknown module filter", "GET", "/api/v1/reports/status?module=m9", "", "", 400, `"m9"`},
		{"bad unit id", "GET", "/api/v1/reports/status?unit=a%20b", "", "", 400, "comma-separated"},
		{"empty id in list", "GET", "/api/v1/reports/status?person=p1,,p2", "", "", 400, "comma-separated"},
		{"unknown parameter", "GET", "/api/v1/reports/status?units=u1", "", "", 400, "unknown parameter"},
		{"repeated parameter", "GET", "/api/v1/reports/status?unit=u1&unit=u2", "", "", 400, "given 2 times"},
		{"bad period", "GET", "/api/v1/reports/reminders?within=14%20days", "", "", 400, "P14D"},
		{"bad dueWithin", "GET", "/api/v1/reports/status?dueWithin=PT1H", "", "", 400, "dueWithin"},
		{"summary takes no format", "GET", "/api/v1/reports/summary?format=csv", "", "", 400, "unknown parameter"},
		{"unmatched bad date", "GET", "/api/v1/reports/unmatched?asOf=31.02.2025", "", "", 400, "asOf"},
		{"unknown person", "GET", "/api/v1/people/p9/transcript", "", "", 404, `"p9"`},
		{"bad person id", "GET", "/api/v1/people/p%209/transcript", "", "", 400, "employee id"},
		{"transcript bad date", "GET", "/api/v1/people/p1/transcript?asOf=2025", "", "", 400, "asOf"},

		{"unknown module in a rule", "PUT", "/api/v1/rules/r2", "", `{"role":"alle","modules":["m1","m9"]}`, 400, `"m9"`},
		{"unknown module in an exemption", "PUT", "/api/v1/exemptions/x1", "", `{"person":"p1","module":"m9"}`, 400, `"m9"`},
		{"unknown module in a campaign", "PUT", "/api/v1/campaigns/c1", "", `{"modules":["m9"],"start":"2025-10-01","end":"2025-10-31"}`, 400, `"m9"`},
		{"ids differ", "PUT", "/api/v1/modules/m2", "", `{"id":"m3","title":{"en":"M"},"activities":["https://example.com/m"],"completion":"completed"}`, 400, "differs"},
		{"empty body", "PUT", "/api/v1/modules/m2", "", "", 400, "JSON object"},
		{"malformed JSON", "PUT", "/api/v1/modules/m2", "", `{"title":`, 400, "JSON"},
		{"unknown field", "PUT", "/api/v1/modules/m2", "", `{"title":{"en":"M"},"activities":["https://example.com/m"],"completion":"completed","colour":"red"}`, 400, "colour"},
		{"not JSON", "PUT", "/api/v1/modules/m2", "text/plain", `title=M`, 415, "application/json"},
		{"bad completion rule", "PUT", "/api/v1/modules/m2", "", `{"title":{"en":"M"},"activities":["https://example.com/m"],"completion":"done"}`, 400, "completion rule"},
		{"bad validity", "PUT", "/api/v1/modules/m2", "", `{"title":{"en":"M"},"activities":["https://example.com/m"],"completion":"completed","validity":"1 year"}`, 400, "period"},
		{"relative IRI", "PUT", "/api/v1/modules/m2", "", `{"title":{"en":"M"},"activities":["m2"],"completion":"completed"}`, 400, "IRI"},
		{"bad id", "PUT", "/api/v1/modules/m%20x", "", `{"title":{"en":"M"},"activities":["https://example.com/m"],"completion":"completed"}`, 400, "id"},
		{"score out of range", "PUT", "/api/v1/modules/m2", "", `{"title":{"en":"M"},"activities":["https://example.com/m"],"completion":"passed","minScore":80}`, 400, "minScore"},
		{"campaign ends before it starts", "PUT", "/api/v1/campaigns/c1", "", `{"modules":["m1"],"start":"2025-10-31","end":"2025-10-01"}`, 400, "before"},
		{"campaign bad date", "PUT", "/api/v1/campaigns/c1", "", `{"modules":["m1"],"start":"2025-10-32","end":"2025-10-01"}`, 400, "2025-10-32"},
		{"module body too large", "PUT", "/api/v1/modules/m2", "", big, 413, "larger"},
		{"delete a module in use", "DELETE", "/api/v1/modules/m1", "", "", 409, "r1"},
		{"delete a missing module", "DELETE", "/api/v1/modules/m9", "", "", 404, `"m9"`},
		{"get a missing module", "GET", "/api/v1/modules/m9", "", "", 404, `"m9"`},
		{"catalog takes no parameters", "GET", "/api/v1/modules?limit=1", "", "", 400, "no parameters"},

		{"malformed CSV", "POST", "/api/v1/roster/imports", "text/csv", "id,name\np2,\"Per\np3,Pål\n", 400, "line 3"},
		{"CSV bad date", "POST", "/api/v1/roster/imports?partial=true", "text/csv", "id,name,start\np2,Per,2025-02-30\n", 400, "line 2"},
		{"CSV unknown column", "POST", "/api/v1/roster/imports", "text/csv", "id,name,shoe_size\np2,Per,44\n", 400, "shoe_size"},
		{"CSV without id column", "POST", "/api/v1/roster/imports", "text/csv", "name\nPer\n", 400, "id column"},
		{"CSV unknown unit", "POST", "/api/v1/roster/imports?partial=true", "text/csv", "id,name,units\np2,Per,u9\n", 400, `"u9"`},
		{"CSV bad kind", "POST", "/api/v1/roster/imports?kind=teams", "text/csv", "id\nt1\n", 400, "people or units"},
		{"CSV bad effective date", "POST", "/api/v1/roster/imports?effective=1.13.2025", "text/csv", "id\np1\n", 400, "effective"},
		{"CSV bad partial", "POST", "/api/v1/roster/imports?partial=yes", "text/csv", "id\np1\n", 400, "partial"},
		{"units CSV cycle", "POST", "/api/v1/roster/imports?kind=units&partial=true", "text/csv", "id,name,parent\nu2,U2,u3\nu3,U3,u2\n", 400, "cycle"},
		{"JSON import unknown unit", "POST", "/api/v1/roster/imports", "application/json", `{"partial":true,"people":[{"id":"p2","name":"P","units":["u9"]}]}`, 400, `"u9"`},
		{"JSON import bad unit id", "POST", "/api/v1/roster/imports", "application/json", `{"units":[{"id":"rådhus","name":"Rådhuset"}]}`, 400, "rådhus"},
		{"JSON import unknown field", "POST", "/api/v1/roster/imports", "application/json", `{"staff":[]}`, 400, "staff"},
		{"JSON import with CSV parameters", "POST", "/api/v1/roster/imports?partial=true", "application/json", `{"people":[]}`, 400, "CSV"},
		{"JSON import duplicate person", "POST", "/api/v1/roster/imports", "application/json", `{"people":[{"id":"p2"},{"id":"p2"}]}`, 400, "twice"},
		{"JSON import shared e-mail", "POST", "/api/v1/roster/imports", "application/json",
			`{"partial":true,"people":[{"id":"p2","email":"a@x.no"},{"id":"p3","email":"A@x.no"}]}`, 400, "same identifier"},
		{"import as XML", "POST", "/api/v1/roster/imports", "application/xml", "<people/>", 415, "text/csv"},
		{"import without Content-Type", "POST", "/api/v1/roster/imports", "-", "id\np1\n", 415, "Content-Type"},
		{"import empty body", "POST", "/api/v1/roster/imports", "text/csv", " \n", 400, "empty"},
		{"import id not a number", "GET", "/api/v1/roster/imports/abc", "", "", 400, "whole number"},
		{"missing import", "GET", "/api/v1/roster/imports/99", "", "", 404, "99"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := hr(tt.method, tt.path, tt.ctype, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			r.errorKind(t)
			var e struct {
				Error struct{ Message, Path string }
			}
			r.json(t, &e)
			if !strings.Contains(e.Error.Message+" "+e.Error.Path, tt.message) {
				t.Errorf("the error does not mention %q: %s", tt.message, r.body)
			}
		})
	}
	// The failed writes changed nothing.
	var cat struct{ Modules, Rules, Campaigns, Exemptions []map[string]any }
	for _, kind := range []string{"modules", "rules", "campaigns", "exemptions"} {
		hr("GET", "/api/v1/"+kind, "", "").json(t, &cat)
	}
	if len(cat.Modules) != 1 || len(cat.Rules) != 1 || len(cat.Campaigns) != 0 || len(cat.Exemptions) != 0 {
		t.Errorf("the catalog after the bad requests: %+v", cat)
	}
	var imps struct{ Imports []map[string]any }
	hr("GET", "/api/v1/roster/imports", "", "").json(t, &imps)
	if len(imps.Imports) != 1 {
		t.Errorf("%d imports after the bad ones, want 1", len(imps.Imports))
	}
	// A rebuild while one runs is a conflict or finds it done.
	expect(t, ts.do(req{method: "POST", path: "/api/v1/projection/rebuild", key: "ops"}), http.StatusAccepted)
	if r := ts.do(req{method: "POST", path: "/api/v1/projection/rebuild", key: "ops"}); r.status != http.StatusConflict && r.status != http.StatusAccepted {
		t.Errorf("a second rebuild: %d %s", r.status, r.body)
	}
	if j := waitRebuild(t, ts); j.State != "done" {
		t.Errorf("rebuild: %+v", j)
	}
}

// TestReportingStreamsLargeReport imports 2,500 people in one CSV and
// reads the report of all of them, larger than the stream's buffer and
// than a batch of the report engine, in JSON and in CSV.
func TestReportingStreamsLargeReport(t *testing.T) {
	ts := newReportingServer(t)
	expect(t, ts.do(req{method: "PUT", path: "/api/v1/modules/m1", key: "hr",
		body: `{"title":{"nb":"Modul 1"},"activities":["https://example.com/m1"],"completion":"completed"}`}), http.StatusCreated)
	expect(t, ts.do(req{method: "PUT", path: "/api/v1/rules/r1", key: "hr", body: `{"role":"alle","modules":["m1"],"dueWithin":"P30D"}`}),
		http.StatusCreated)
	const n = 2500
	var csvBody strings.Builder
	csvBody.WriteString("id,name,email,roles,start\n")
	for i := range n {
		fmt.Fprintf(&csvBody, "p%05d,Person %d,p%05d@kommune.no,alle,2025-01-01\n", i, i, i)
	}
	expect(t, ts.do(req{method: "POST", path: "/api/v1/roster/imports", key: "hr", ctype: "text/csv", body: csvBody.String()}), http.StatusCreated)
	// Every third person completes the module.
	ts.completeEveryThird(n, "https://example.com/m1")
	var rep statusReport
	ts.do(req{method: "GET", path: "/api/v1/reports/status?asOf=2025-02-15", key: "auditor"}).json(t, &rep)
	completed := (n + 2) / 3
	if len(rep.Rows) != n || rep.Summary.Total.Rows != n || rep.Summary.Total.Compliant != completed ||
		rep.Summary.Total.Status["overdue"] != n-completed || rep.Rows[0].Person != "p00000" || rep.Rows[n-1].Person != "p02499" {
		t.Fatalf("%d rows, summary %+v", len(rep.Rows), rep.Summary.Total)
	}
	for i, row := range rep.Rows {
		if want := fmt.Sprintf("p%05d", i); row.Person != want || (row.Status == "completed") != (i%3 == 0) {
			t.Fatalf("row %d: %s, want person %s completed %v", i, rowLine(row), want, i%3 == 0)
		}
	}
	r := ts.do(req{method: "GET", path: "/api/v1/reports/status?asOf=2025-02-15&format=csv", key: "auditor"})
	expect(t, r, http.StatusOK)
	recs := readReportCSV(t, r, ',')
	if len(recs) != n+1 || recs[1][0] != "p00000" || recs[1][8] != "completed" || recs[n][0] != "p02499" || recs[n][8] != "completed" || recs[n-1][8] != "overdue" {
		t.Errorf("CSV: %d records, first %q, last %q", len(recs), recs[1], recs[len(recs)-1])
	}
	if r.header.Get("Content-Length") != "" {
		t.Errorf("a streamed report has a Content-Length: %s", r.header.Get("Content-Length"))
	}
}
