package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// TestReportingCLI imports a roster with "lrs roster import" (units CSV,
// people CSV in Windows-1252 as a Norwegian Excel saves it, and JSON),
// serves the store with compliance reporting on and reads a report over
// HTTP after a completion arrives, then stores a completion behind the
// service's back (as a restore would) and has "lrs reporting rebuild"
// bring the projection up to date.
func TestReportingCLI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "lrs.db")
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, args, &out, io.Discard)
		return out.String(), err
	}
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	units := file("enheter.csv", "enhet;enhetsnavn;overordnet;leder\nkommune;Eksempel kommune;;\nhelse;Helse og omsorg;kommune;\n")
	// "Kari Ødegård" and "Pål" in Windows-1252.
	people := file("ansatte.csv", "ansattnr;navn;epost;enhet;rolle;startdato\r\n"+
		"e1;Kari \xd8deg\xe5rd;kari@kommune.no;helse;adm;01.01.2025\r\n"+
		"e2;P\xe5l Hansen;pal@kommune.no;kommune;adm;01.01.2025\r\n")
	if _, err := cli("roster", "import", "--db", db, units); err == nil || !strings.Contains(err.Error(), "--tenant") {
		t.Errorf("an import without --tenant: %v", err)
	}
	if _, err := cli("roster", "import", "--db", db, "--tenant", "oslo", "--kind", "units", units); err == nil {
		t.Error("an import into a missing tenant succeeded")
	}
	out, err := cli("roster", "import", "--db", db, "--tenant", "default", "--kind", "units", units)
	if err != nil || !strings.Contains(out, "import 1 of tenant default (complete, effective ") || !strings.Contains(out, "unit added") {
		t.Fatalf("units import: %v\n%s", err, out)
	}
	out, err = cli("roster", "import", "--db", db, "--tenant", "default", people, "--effective", "2025-01-01")
	if err != nil || !strings.Contains(out, "import 2 ") || !strings.Contains(out, "2 people, 0 units listed") || !strings.Contains(out, "person added     2") {
		t.Fatalf("people import: %v\n%s", err, out)
	}
	bad := file("feil.csv", "ansattnr;navn;startdato\ne3;Per;2025-01-01\ne4;Pia;32.01.2025\n")
	if _, err := cli("roster", "import", "--db", db, "--tenant", "default", "--partial", bad); err == nil || !strings.Contains(err.Error(), "line 3, start") {
		t.Errorf("a CSV with a bad date on line 3: %v", err)
	}
	if _, err := cli("roster", "import", "--db", db, "--tenant", "default", file("roster.xlsx", "PK")); err == nil || !strings.Contains(err.Error(), ".csv or .json") {
		t.Errorf("an .xlsx file: %v", err)
	}
	js := file("roster.json", `{"partial":true,"effective":"2025-01-01","people":[{"id":"e3","name":"Åse Lærer","email":"ase@kommune.no","units":["helse"],"roles":["adm"]}]}`)
	if _, err := cli("roster", "import", "--db", db, "--tenant", "default", "--partial", js); err == nil {
		t.Error("--partial with a JSON import was accepted")
	}
	if out, err := cli("roster", "import", "--db", db, "--tenant", "default", js); err != nil || !strings.Contains(out, "import 3 ") || !strings.Contains(out, "(partial,") {
		t.Fatalf("JSON import: %v\n%s", err, out)
	}

	// The catalog, stored directly; the service serves it.
	st, err := openStores(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	mod := &reporting.Module{ID: "kins-1", Title: map[string]string{"nb-NO": "Grunnleggende informasjonssikkerhet"},
		Activities: []string{"https://kslaring.no/mod/scorm/view.php?id=1001"}, Completion: reporting.Completed}
	rule := &reporting.Rule{ID: "adm", Role: "adm", Modules: []string{"kins-1"}}
	if err := st.Reporting.PutModule(ctx, auth.DefaultTenant, mod); err != nil {
		t.Fatal(err)
	}
	if err := st.Reporting.PutRule(ctx, auth.DefaultTenant, rule); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := cli("credentials", "create", "--db", db, "--name", "hr", "--key", "hr", "--secret", "hr-0123456789abcdef",
		"--scopes", "statements/write,reports/read"); err != nil {
		t.Fatal(err)
	}

	// Serve: a completion posted over HTTP counts in the report at once.
	addr, stop := startServe(t, "--db", db)
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("X-Experience-API-Version", "1.0.3")
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth("hr", "hr-0123456789abcdef")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	if code, body := do("POST", "/xapi/statements", completion("kari@kommune.no", "2025-01-10T10:00:00Z")); code != 200 {
		t.Fatalf("POST statement: %d %s", code, body)
	}
	code, body := do("GET", "/api/v1/reports/status?person=e1,e2&asOf=2025-02-01&format=csv", "")
	want := "\ufeffperson,name,email,units,roles,module,campaign,rules,status,due,completed,expires,score,exemption,evidence\r\n" +
		"e1,Kari Ødegård,kari@kommune.no,helse,adm,kins-1,,adm,completed,2025-01-01,2025-01-10T10:00:00Z,,,,"
	if code != 200 || !strings.HasPrefix(body, want) || !strings.Contains(body, "\r\ne2,Pål Hansen,pal@kommune.no,kommune,adm,kins-1,,adm,overdue,2025-01-01,") {
		t.Fatalf("status report over HTTP: %d\n%q", code, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}

	// Pål's completion stored without the ingest hook: the report misses
	// it until the rebuild.
	st, err = openStores(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Statements.Insert(ctx, []*statements.Record{record(t, completion("pal@kommune.no", "2025-01-12T10:00:00Z"))}, nil); err != nil {
		t.Fatal(err)
	}
	status := func() string {
		t.Helper()
		var got []string
		_, err := reporting.Report(ctx, st.Reporting, auth.DefaultTenant,
			reporting.Query{Options: reporting.Options{AsOf: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}},
			func(r *reporting.Row) error { got = append(got, r.Person+" "+string(r.Status)); return nil })
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(got, ", ")
	}
	if got := status(); got != "e1 completed, e2 overdue, e3 overdue" {
		t.Fatalf("before the rebuild: %s", got)
	}
	st.Close()
	if _, err := cli("reporting", "rebuild", "--db", db, "--tenant", "nowhere"); err == nil {
		t.Error("a rebuild of a missing tenant succeeded")
	}
	out, err = cli("reporting", "rebuild", "--db", db)
	if err != nil || !strings.Contains(out, "tenant default: 2 statements read, 2 learners with facts") {
		t.Fatalf("reporting rebuild: %v\n%s", err, out)
	}
	st, err = openStores(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := status(); got != "e1 completed, e2 completed, e3 overdue" {
		t.Errorf("after the rebuild: %s", got)
	}
	entries, err := st.Audit.Audit(ctx, auth.DefaultTenant, time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+" "+e.Target)
	}
	if got := strings.Join(actions, ", "); !strings.Contains(got, "roster.import 3") || !strings.Contains(got, "projection.rebuild default") {
		t.Errorf("audit log: %s", got)
	}
}

// completion is a Moodle completion of KiNS module 1 by e-mail.
func completion(mbox, ts string) string {
	return `{"actor":{"mbox":"mailto:` + mbox + `"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},` +
		`"object":{"id":"https://kslaring.no/mod/scorm/view.php?id=1001"},"timestamp":"` + ts + `"}`
}

// record makes the stored record of a statement, completed as the service
// does.
func record(t *testing.T, raw string) *statements.Record {
	t.Helper()
	st, err := statements.ParseStatement([]byte(raw), statements.V103)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	hash := statements.ContentHash(st)
	st["id"] = uuid.NewString()
	st["stored"] = now.Format("2006-01-02T15:04:05.000Z")
	st["authority"] = map[string]any{"objectType": "Agent", "account": map[string]any{"homePage": "https://lrs.test", "name": "restore"}}
	st["version"] = "1.0.3"
	statements.Normalize(st)
	js, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	rec := &statements.Record{Tenant: auth.DefaultTenant, ID: st["id"].(string), Stored: now, Authority: "restore", Hash: hash, JSON: js}
	statements.Index(st, rec)
	return rec
}
