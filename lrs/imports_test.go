package lrs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/xapi-lrs/lrs/lmsimport"
	"github.com/xapi-lrs/lrs/reporting"
)

const (
	importPath = "/api/v1/imports/completions"
	xlsxMedia  = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// newImportServer is a reporting server holding the KiNS catalog, rules
// and roster (imported on 2025-01-06), its clock on 2 June 2025.
func newImportServer(t *testing.T) *testServer {
	t.Helper()
	ts := newReportingServer(t)
	ts.clock.Set(at("2025-01-05T08:00:00Z"))
	for id, body := range kinsModules() {
		expect(t, ts.hr("PUT", "/api/v1/modules/"+id, "", body), http.StatusCreated)
	}
	for id, body := range kinsRules {
		expect(t, ts.hr("PUT", "/api/v1/rules/"+id, "", body), http.StatusCreated)
	}
	ts.clock.Set(at("2025-01-06T07:00:00Z"))
	expect(t, ts.hr("POST", "/api/v1/roster/imports", "application/json", kinsRoster), http.StatusCreated)
	ts.clock.Set(at("2025-06-02T08:00:00Z"))
	return ts
}

// importFile posts a completion export as HR and returns the answer.
func (s *testServer) importFile(query, ctype string, file []byte) lmsimport.Result {
	s.t.Helper()
	r := s.do(req{method: "POST", path: importPath + query, body: file, key: "hr", ctype: ctype})
	expect(s.t, r, http.StatusOK)
	var res lmsimport.Result
	r.json(s.t, &res)
	return res
}

// ksExport is an export in KS Læring's "Status alle medarbeidere" style,
// saved from a Norwegian Excel: a title line, semicolons, Norwegian headers,
// statuses and dates, with a byte-order mark.
const ksExport = "\ufeffStatus alle medarbeidere;;;;;;;\n" +
	"Ansattnummer;Navn;E-post;Brukernavn;Kurs;Status;Poeng;Fullført dato\n" +
	";Ola Nordmann;ola.nordmann@kommune.no;;Grunnleggende informasjonssikkerhet;Fullført;;20.01.2025\n" + // row 3: kins-1
	";Helge Helsesjef;;helge;Grunnleggende personvern;Bestått;90;04.03.2025\n" + // row 4: kins-5
	"e212;Kari Ødegård;;;Sikkerhet på mobile enheter;Ikke bestått;40;10.02.2025\n" + // row 5: kins-2
	"e212;Kari Ødegård;;;Sikkerhet på mobile enheter;Påbegynt;;\n" + // row 6
	";Nils Ny;nils.ny@kommune.no;;kins-1;Fullført;;05.02.2025\n" + // row 7
	"e211;Ola Nordmann;;;Ukjent kurs;Fullført;;05.02.2025\n" + // row 8
	"e211;Ola Nordmann;;;kins-8;Fullført;;22.01.2023\n" // row 9: two years ago

// sameResult compares two answers but for dryRun.
func sameResult(t *testing.T, what string, got, want lmsimport.Result) {
	t.Helper()
	got.DryRun, want.DryRun = false, false
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("%s:\n got  %s\n want %s", what, g, w)
	}
}

// TestCompletionsImport imports a KS Læring style CSV export over HTTP: a
// dry run stores nothing and answers what the real run then does; the
// statements have the shape and provenance documented; importing the file
// again stores nothing new; unknown people and modules are skipped with
// reasons; and the status report and the transcript show the imported
// completions with the statements as evidence.
func TestCompletionsImport(t *testing.T) {
	ts := newImportServer(t)
	file := []byte(ksExport)
	sum := sha256.Sum256(file)

	dry := ts.importFile("?dryRun=true", "text/csv; charset=utf-8", file)
	if !dry.DryRun || dry.Rows != 7 || dry.Recorded != 4 || dry.AlreadyRecorded != 0 || len(dry.Statements) != 4 ||
		dry.SHA256 != hex.EncodeToString(sum[:]) || dry.Format != "csv" || dry.ScoreScale != lmsimport.Percent {
		t.Fatalf("dry run: %+v", dry)
	}
	var skipped []string
	for _, s := range dry.Skipped {
		skipped = append(skipped, strconv.Itoa(s.Row)+" "+s.Reason)
	}
	sameLines(t, "skipped rows", skipped, []string{
		`6 status "Påbegynt" is not a completion: nothing to record`,
		`7 unknown person: no one in the roster has E-post "nils.ny@kommune.no"`,
		`8 unknown module "Ukjent kurs": no module in the catalog has this id, title or activity IRI`,
	})
	ola1 := dry.Statements[0]
	if want := lmsimport.StatementID("default", "e211", "kins-1", "2025-01-20", lmsimport.Completed); ola1 != want {
		t.Errorf("the id of row 3 is %s, want %s", ola1, want)
	}
	expect(t, ts.do(req{method: "GET", path: "/xapi/statements?statementId=" + ola1}), http.StatusNotFound)
	sameLines(t, "Ola's module 1 after the dry run", rowLines(ts.status("person=e211&module=kins-1").Rows),
		[]string{"e211 kins-1 overdue due 2025-01-31"})

	real := ts.importFile("", "text/csv", file)
	if real.DryRun {
		t.Error("the real run says dryRun")
	}
	sameResult(t, "the real run", real, dry)

	// The statement of row 3, as stored.
	st := ts.get(ola1)
	ext := st["context"].(map[string]any)["extensions"].(map[string]any)[lmsimport.ExtensionIRI].(map[string]any)
	actor, _ := json.Marshal(st["actor"])
	result, _ := json.Marshal(st["result"])
	authority, _ := json.Marshal(st["authority"])
	cells, _ := json.Marshal(ext["cells"])
	if string(actor) != `{"mbox":"mailto:ola.nordmann@kommune.no","name":"Ola Nordmann","objectType":"Agent"}` ||
		st["verb"].(map[string]any)["id"] != "http://adlnet.gov/expapi/verbs/completed" ||
		st["object"].(map[string]any)["id"] != kslModule(1) || string(result) != `{"completion":true}` ||
		st["timestamp"] != "2025-01-20T11:00:00.000Z" || // noon in Oslo
		string(authority) != `{"account":{"homePage":"https://lrs.test","name":"hr"},"name":"hr app","objectType":"Agent"}` ||
		ext["fileSha256"] != real.SHA256 || ext["row"] != 3.0 || ext["credential"] != "hr" ||
		string(cells) != `{"Ansattnummer":"","Brukernavn":"","E-post":"ola.nordmann@kommune.no","Fullført dato":"20.01.2025","Kurs":"Grunnleggende informasjonssikkerhet","Poeng":"","Status":"Fullført"}` {
		t.Errorf("row 3's statement: %v", st)
	}
	helge := ts.get(real.Statements[1])
	if score, _ := json.Marshal(helge["result"]); string(score) != `{"completion":true,"score":{"max":100,"min":0,"raw":90,"scaled":0.9},"success":true}` {
		t.Errorf("row 4's result: %s", score)
	}
	before, err := ts.db.Get(context.Background(), "default", ola1)
	if err != nil {
		t.Fatal(err)
	}

	// Again, a day later: nothing new.
	ts.clock.Set(at("2025-06-03T08:00:00Z"))
	again := ts.importFile("", "text/csv", file)
	if again.Recorded != 0 || again.AlreadyRecorded != 4 || !slices.Equal(again.Statements, real.Statements) || len(again.Skipped) != 3 {
		t.Errorf("the same file again: %+v", again)
	}
	if after, err := ts.db.Get(context.Background(), "default", ola1); err != nil || !bytes.Equal(after.JSON, before.JSON) {
		t.Errorf("the statement changed on the second import (%v):\n%s\n%s", err, before.JSON, after.JSON)
	}
	sameResult(t, "a dry run after the import", ts.importFile("?dryRun=true", "text/csv", file), again)

	// The reports count the completions, with the statements as evidence.
	status := ts.status("person=e211,e200,e212&module=kins-1,kins-2,kins-5,kins-8&asOf=2025-06-03")
	sameLines(t, "status", rowLines(status.Rows), []string{
		"e200 kins-1 overdue due 2020-03-02",
		"e200 kins-2 overdue due 2020-03-02",
		"e200 kins-5 completed due 2020-03-02 done 2025-03-04 exp 2026-03-04",
		"e200 kins-8 overdue due 2020-03-02",
		"e211 kins-1 completed due 2025-01-31 done 2025-01-20 exp 2026-01-20",
		"e211 kins-2 overdue due 2025-01-31",
		"e211 kins-8 expired due 2025-01-31 done 2023-01-22 exp 2025-01-22",
		"e212 kins-1 overdue due 2025-01-31",
		"e212 kins-2 overdue due 2025-01-31", // failed: no completion
		"e212 kins-8 overdue due 2025-01-31",
	})
	for _, r := range status.Rows {
		if r.Person == "e211" && r.Module == "kins-1" && (len(r.Evidence) != 1 || r.Evidence[0].Statement != ola1) {
			t.Errorf("Ola's module 1 evidence: %+v", r.Evidence)
		}
		if r.Person == "e200" && r.Module == "kins-5" && (r.Score == nil || *r.Score != 0.9) {
			t.Errorf("Helge's module 5 score: %v", r.Score)
		}
	}
	var tr reporting.Transcript
	r := ts.do(req{method: "GET", path: "/api/v1/people/e211/transcript?asOf=2025-06-03", key: "auditor"})
	expect(t, r, http.StatusOK)
	r.json(t, &tr)
	stored := sha256.Sum256(before.JSON)
	i := slices.IndexFunc(tr.Entries, func(e reporting.TranscriptEntry) bool { return e.Statement == ola1 })
	if i < 0 || tr.Entries[i].Authority != "hr" || tr.Entries[i].SHA256 != hex.EncodeToString(stored[:]) ||
		!slices.Contains(tr.Entries[i].Modules, "kins-1") || len(tr.Entries) != 2 {
		t.Errorf("Ola's transcript: %s", r.body)
	}

	// The audit log has both imports (not the dry runs).
	r = ts.do(req{method: "GET", path: "/api/v1/admin/audit", key: "ops"})
	expect(t, r, http.StatusOK)
	var audit struct {
		Entries []struct{ Actor, Action, Target, Detail string }
	}
	r.json(t, &audit)
	var imports []string
	for _, e := range audit.Entries {
		if e.Action == "completions.import" {
			imports = append(imports, e.Actor+" "+e.Target+" "+e.Detail)
		}
	}
	sameLines(t, "audit", imports, []string{
		"hr " + real.SHA256 + " rows 7, recorded 4, already recorded 0, skipped 3",
		"hr " + real.SHA256 + " rows 7, recorded 0, already recorded 4, skipped 3",
	})
}

// TestCompletionsImportXLSX imports a workbook with English headers, Excel
// dates and fractional scores that overlaps a CSV export imported before:
// the completion both hold is recorded once (the first import's
// statement stays), the new ones are added.
func TestCompletionsImportXLSX(t *testing.T) {
	ts := newImportServer(t)
	first := ts.importFile("", "text/csv", []byte(ksExport))
	book := xlsxBook(t, [][]any{
		{"Completion report"},
		{"Username", "Email", "Course", "Status", "Score", "Completed on"},
		{"", "ola.nordmann@kommune.no", kslModule(1), "Completed", nil, time.Date(2025, 1, 20, 9, 15, 0, 0, time.UTC)},
		{"trine", "", "Threats from IT criminals", "Passed", 0.75, time.Date(2025, 2, 3, 0, 0, 0, 0, time.UTC)},
		{"trine", "", "kins-3", "In progress", nil, nil},
	})
	dry := ts.importFile("?dryRun=true&scoreScale=fraction", xlsxMedia, book)
	res := ts.importFile("?scoreScale=fraction", xlsxMedia, book)
	sameResult(t, "the real run", res, dry)
	if res.Rows != 3 || res.Recorded != 0 || res.AlreadyRecorded != 1 || len(res.Skipped) != 2 || res.Format != "xlsx" ||
		res.Statements[0] != first.Statements[0] || res.ScoreScale != lmsimport.Fraction {
		t.Errorf("the workbook: %+v", res)
	}
	// "Threats from IT criminals" is no title of the catalog (its modules
	// have Norwegian titles): skipped; with the module's id it counts.
	if len(res.Skipped) != 2 || !strings.Contains(res.Skipped[0].Reason, `unknown module "Threats from IT criminals"`) {
		t.Errorf("skipped: %+v", res.Skipped)
	}
	book = xlsxBook(t, [][]any{
		{"Username", "Email", "Course", "Status", "Score", "Completed on"},
		{"", "ola.nordmann@kommune.no", kslModule(1), "Completed", nil, time.Date(2025, 1, 20, 9, 15, 0, 0, time.UTC)},
		{"trine", "", "kins-3", "Passed", 0.75, time.Date(2025, 2, 3, 0, 0, 0, 0, time.UTC)},
	})
	res = ts.importFile("", "application/octet-stream", book)
	if res.Rows != 2 || res.Recorded != 1 || res.AlreadyRecorded != 1 || res.ScoreScale != lmsimport.Fraction {
		t.Fatalf("the second workbook: %+v", res)
	}
	ola := ts.get(first.Statements[0])
	if ola["context"].(map[string]any)["extensions"].(map[string]any)[lmsimport.ExtensionIRI].(map[string]any)["fileSha256"] != first.SHA256 {
		t.Errorf("Ola's completion lost the first import's provenance: %v", ola)
	}
	trine := ts.get(res.Statements[1])
	actor, _ := json.Marshal(trine["actor"])
	result, _ := json.Marshal(trine["result"])
	if string(actor) != `{"mbox":"mailto:trine@kommune.no","name":"Trine Tekniker","objectType":"Agent"}` ||
		string(result) != `{"completion":true,"score":{"scaled":0.75},"success":true}` || trine["timestamp"] != "2025-02-03T11:00:00.000Z" ||
		trine["object"].(map[string]any)["id"] != kslModule(3) ||
		trine["context"].(map[string]any)["extensions"].(map[string]any)[lmsimport.ExtensionIRI].(map[string]any)["cells"].(map[string]any)["Completed on"] != "2025-02-03" {
		t.Errorf("Trine's statement: %v", trine)
	}
	sameLines(t, "Trine's module 3", rowLines(ts.status("person=e301&module=kins-3&asOf=2025-06-03").Rows),
		[]string{"e301 kins-3 completed due 2023-01-31 done 2025-02-03"})
}

// xlsxBook returns a workbook whose first sheet holds rows; times are
// date cells, nil cells are left empty.
func xlsxBook(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	dates, err := f.NewStyle(&excelize.Style{NumFmt: 22})
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		for j, v := range row {
			if v == nil {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := f.SetCellValue("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
			if _, ok := v.(time.Time); ok {
				if err := f.SetCellStyle("Sheet1", cell, cell, dates); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCompletionsImportRefusals: files and requests the import refuses,
// each with a 4xx naming the fault, storing nothing.
func TestCompletionsImportRefusals(t *testing.T) {
	ts := newImportServer(t)
	head := "E-post;Kurs;Status;Poeng;Fullført dato\n"
	var many strings.Builder
	many.WriteString(head)
	for range lmsimport.DefaultMaxRows + 1 {
		many.WriteString("a@k.no;kins-1;Fullført;;01.02.2025\n")
	}
	for _, tc := range []struct {
		name, query, ctype string
		body               string
		status             int
		path, in           string
	}{
		{"a bad date", "", "text/csv", head + "ola.nordmann@kommune.no;kins-1;Fullført;;01.02.2025\nhelge@kommune.no;kins-1;Fullført;;2025-13-01\n",
			http.StatusBadRequest, "row 3, column E (Fullført dato)", `"2025-13-01" is not a date`},
		{"a bad status", "", "text/csv", head + "helge@kommune.no;kins-1;Kanskje;;01.02.2025\n",
			http.StatusBadRequest, "row 2, column C (Status)", `unknown status "Kanskje"`},
		{"a bad score", "", "text/csv", head + "helge@kommune.no;kins-1;Bestått;150 %;01.02.2025\n",
			http.StatusBadRequest, "row 2, column D (Poeng)", "not a percentage from 0 to 100"},
		{"no header", "", "text/csv", "Navn;Kurs\nOla;kins-1\n", http.StatusBadRequest, "", "no header row"},
		{"an .xls workbook", "", "application/vnd.ms-excel", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", http.StatusBadRequest, "", "Excel 97–2003"},
		{"a broken XLSX", "", xlsxMedia, "PK\x03\x04broken", http.StatusBadRequest, "", "not a readable XLSX workbook"},
		{"a sheet of a CSV", "?sheet=Ark1", "text/csv", head, http.StatusBadRequest, "sheet", "a CSV file has no sheets"},
		{"empty", "", "text/csv", " \n", http.StatusBadRequest, "", "the body is empty"},
		{"too many rows", "", "text/csv", many.String(), http.StatusRequestEntityTooLarge, "", "more than 100000 rows"},
		{"no Content-Type", "", "-", head, http.StatusUnsupportedMediaType, "", "give the Content-Type"},
		{"JSON", "", "application/json", `{}`, http.StatusUnsupportedMediaType, "", "not accepted"},
		{"a bad scale", "?scoreScale=tenths", "text/csv", head, http.StatusBadRequest, "scoreScale", "percent"},
		{"a bad time zone", "?tz=Mars/Olympus", "text/csv", head, http.StatusBadRequest, "tz", "IANA time zone"},
		{"a bad dryRun", "?dryRun=yes", "text/csv", head, http.StatusBadRequest, "dryRun", "true or false"},
		{"an unknown parameter", "?kind=people", "text/csv", head, http.StatusBadRequest, "kind", "unknown parameter"},
	} {
		r := ts.do(req{method: "POST", path: importPath + tc.query, body: tc.body, key: "hr", ctype: tc.ctype})
		var e struct {
			Error struct{ Kind, Message, Path string }
		}
		_ = json.Unmarshal(r.body, &e)
		if r.status != tc.status || e.Error.Path != tc.path || !strings.Contains(e.Error.Message, tc.in) {
			t.Errorf("%s: %d %s; want %d at %q saying %q", tc.name, r.status, r.body, tc.status, tc.path, tc.in)
		}
	}
	// Only HR may import: not the auditor, not an LMS.
	for _, key := range []string{"auditor", "lms", "admin"} {
		expect(t, ts.do(req{method: "POST", path: importPath, body: head, key: key, ctype: "text/csv"}), http.StatusForbidden)
	}
	r := ts.do(req{method: "GET", path: "/xapi/statements?activity=" + lmsimport.CategoryIRI + "&related_activities=true"})
	expect(t, r, http.StatusOK)
	if stmts, _ := r.result(t); len(stmts) != 0 {
		t.Errorf("refused imports stored %d statements", len(stmts))
	}
}
