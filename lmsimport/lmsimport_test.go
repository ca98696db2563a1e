package lmsimport_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/lmsimport"
	"github.com/xapi-lrs/lrs/reporting"
)

var oslo = lmsimport.DefaultLocation

// now is the time of the imports of these tests.
var now = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

// ksExport is a completion export as KS Læring's "Status alle
// medarbeidere" gives it, saved from Excel as CSV: a title and the date
// of the export above the header, semicolons, Norwegian headers and
// dates, columns the import does not read.
const ksExport = "Status alle medarbeidere;;;;;;;;\n" +
	"Eksportert 01.06.2025;;;;;;;;\n" +
	";;;;;;;;\n" +
	"Ansattnummer;Navn;E-post;Brukernavn;Enhet;Kurs;Status;Poeng (%);Fullført dato\n" +
	";Ola Nordmann;ola.nordmann@kommune.no;;Sykehjem;Grunnleggende informasjonssikkerhet;Fullført;;20.01.2025\n" + // row 5
	";Helge Helsesjef;;helge;Helse;kins-5;Bestått;90;4.3.2025 14:30\n" + // row 6
	"e212;Kari Ødegård;;;Sykehjem;Sikkerhet på mobile enheter;Ikke bestått;40,5;2025-02-10\n" + // row 7
	"e212;Kari Ødegård;;;Sykehjem;Fysisk sikkerhet;Påbegynt;;\n" + // row 8
	";Nils Ny;nils.ny@kommune.no;;Sykehjem;Grunnleggende informasjonssikkerhet;Fullført;;05.02.2025\n" + // row 9
	"e211;Ola Nordmann;;;Sykehjem;Ukjent kurs;Fullført;;05.02.2025\n" + // row 10
	";Ola Nordmann;OLA.NORDMANN@kommune.no;;Sykehjem;kins-1;fullført;;20.01.2025\n" + // row 11: row 5 again
	"e211;Ola Nordmann;helge@kommune.no;;Sykehjem;kins-2;Fullført;;21.01.2025\n" + // row 12
	";Ola Nordmann;ola.nordmann@kommune.no;;Sykehjem;kins-2;;;\n" + // row 13
	";Ola Nordmann;ola.nordmann@kommune.no;;Sykehjem;kins-2;Fullført;;21.01.2026\n" + // row 14
	";Trine Tekniker;;trine;IT;Information security basics;Completed;;2025-01-15T08:00:00Z\n" // row 15

// roster returns the rows of a roster with the people of the KiNS
// scenario, as an import on 2025-01-01 records them, and the catalog.
func roster(t testing.TB) ([]reporting.RosterRow, *reporting.Catalog) {
	t.Helper()
	imp, err := reporting.ParseImportJSON([]byte(`{"people": [
	  {"id": "e200", "name": "Helge Helsesjef", "email": "helge@kommune.no",
	   "identifiers": [{"account": {"homePage": "https://kslaring.no", "name": "helge"}}]},
	  {"id": "e211", "name": "Ola Nordmann", "email": "ola.nordmann@kommune.no"},
	  {"id": "e212", "name": "Kari Ødegård", "email": "Kari.Odegard@kommune.no"},
	  {"id": "e301", "name": "Trine Tekniker",
	   "identifiers": [{"account": {"homePage": "https://lms.kommune.no", "name": "trine"}},
	                   {"account": {"homePage": "https://kslaring.no", "name": "trine"}}]},
	  {"id": "e302", "name": "Trine Tvilling", "email": "tvilling@kommune.no",
	   "identifiers": [{"account": {"homePage": "https://annet.example", "name": "tvilling"}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := reporting.PlanImport(nil, imp, reporting.MustDate("2025-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	cat := &reporting.Catalog{}
	for i, title := range []string{"Grunnleggende informasjonssikkerhet", "Sikkerhet på mobile enheter", "Trusler", "Fysisk sikkerhet", "Grunnleggende personvern"} {
		n := string(rune('1' + i))
		m := &reporting.Module{ID: "kins-" + n, Title: map[string]string{"nb-NO": title},
			Activities: []string{"https://kslaring.no/mod/scorm/view.php?id=100" + n}, Completion: reporting.Completed}
		if i == 0 {
			m.Title["en"] = "Information security basics"
		}
		cat.Modules = append(cat.Modules, m)
	}
	return plan.Insert, cat
}

func parse(t testing.TB, data []byte, scale lmsimport.ScoreScale) *lmsimport.Parsed {
	t.Helper()
	tab, err := lmsimport.ReadTable(data, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := lmsimport.Parse(tab, lmsimport.Options{Now: now, ScoreScale: scale})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var prov = lmsimport.Provenance{Tenant: "default", Credential: "hr", FileSHA256: strings.Repeat("ab", 32)}

func build(t testing.TB, p *lmsimport.Parsed) *lmsimport.Plan {
	t.Helper()
	rows, cat := roster(t)
	return lmsimport.Build(p, lmsimport.NewDirectory(rows, cat, reporting.DateOf(now, oslo)), prov)
}

// TestParseKSExport reads a KS Læring style export: the header below
// title lines, Norwegian headers, statuses, dates (with and without a
// time; noon in Oslo without) and percentages.
func TestParseKSExport(t *testing.T) {
	p := parse(t, []byte(ksExport), lmsimport.ScaleAuto)
	if p.Rows != 11 || p.ScoreScale != lmsimport.Percent {
		t.Fatalf("%d rows, scale %q; want 11 rows, percent", p.Rows, p.ScoreScale)
	}
	l := p.Lines
	if l[0].Row != 5 || l[0].Verb != lmsimport.Completed || l[0].Time != time.Date(2025, 1, 20, 12, 0, 0, 0, oslo) ||
		l[0].Day != reporting.MustDate("2025-01-20") || l[0].Score != nil || l[0].Module != "Grunnleggende informasjonssikkerhet" ||
		len(l[0].People) != 1 || l[0].People[0].Header != "E-post" || l[0].Cells["Fullført dato"] != "20.01.2025" || l[0].Cells["Navn"] != "" {
		t.Errorf("row 5: %+v", l[0])
	}
	if l[1].Verb != lmsimport.Passed || l[1].Time != time.Date(2025, 3, 4, 14, 30, 0, 0, oslo) ||
		l[1].Score == nil || *l[1].Score != (lmsimport.Score{Value: 90, Percent: true, Scaled: 0.9}) {
		t.Errorf("row 6: %+v, score %+v", l[1], l[1].Score)
	}
	if l[2].Verb != lmsimport.Failed || l[2].Score.Scaled != 0.405 || l[2].Day != reporting.MustDate("2025-02-10") {
		t.Errorf("row 7: %+v, score %+v", l[2], l[2].Score)
	}
	if l[3].Verb != lmsimport.NoCompletion || !strings.Contains(l[3].Skip, "Påbegynt") {
		t.Errorf("row 8: %+v", l[3])
	}
	if l[9].Skip != "the date 21.01.2026 is in the future" {
		t.Errorf("row 14: %+v", l[9])
	}
	if !l[10].Time.Equal(time.Date(2025, 1, 15, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("row 15: %+v", l[10])
	}

	// The same export saved by a Norwegian Excel in Windows-1252 reads the
	// same.
	var latin1 []byte
	for _, r := range ksExport {
		latin1 = append(latin1, byte(r))
	}
	if q := parse(t, latin1, lmsimport.ScaleAuto); !reflect.DeepEqual(q, p) {
		t.Errorf("the Windows-1252 file reads\n%+v\nnot\n%+v", q.Lines, p.Lines)
	}

	// Midnight is a date without a time, in any zone.
	for _, v := range []string{"2025-01-20 00:00", "20.01.2025 00:00:00", "2025-01-20T00:00:00Z", "2025-01-20T00:00:00+01:00"} {
		q := parse(t, []byte("E-post;Kurs;Status;Dato\na@k.no;m;Fullført;"+v+"\n"), "")
		if l := q.Lines[0]; l.Time != time.Date(2025, 1, 20, 12, 0, 0, 0, oslo) || l.Day != reporting.MustDate("2025-01-20") {
			t.Errorf("%s: %v, day %s", v, l.Time, l.Day)
		}
	}
}

// TestParseRefusesBadCells: a cell that cannot be read refuses the file,
// naming its row and column; so do a missing header and a column given
// twice.
func TestParseRefusesBadCells(t *testing.T) {
	const head = "E-post;Kurs;Status;Poeng;Dato\n"
	for _, tc := range []struct {
		name, file string
		scale      lmsimport.ScoreScale
		path, in   string
	}{
		{"date", head + "a@k.no;m;Fullført;;31.02.2025\n", "", "row 2, column E (Dato)", `"31.02.2025" is not a date`},
		{"status", head + "a@k.no;m;Fullført;;01.02.2025\na@k.no;m;Halvveis;;01.02.2025\n", "", "row 3, column C (Status)", `unknown status "Halvveis"`},
		{"score", head + "a@k.no;m;Bestått;mye;01.02.2025\n", "", "row 2, column D (Poeng)", `"mye" is not a score`},
		{"negative score", head + "a@k.no;m;Bestått;-3;01.02.2025\n", "", "row 2, column D (Poeng)", "negative"},
		{"score over 100", head + "a@k.no;m;Bestått;80;01.02.2025\nb@k.no;m;Bestått;120;01.02.2025\n", "", "row 3, column D (Poeng)", "not a percentage"},
		{"fraction over 1", head + "a@k.no;m;Bestått;80;01.02.2025\n", lmsimport.Fraction, "row 2, column D (Poeng)", "not a fraction"},
		{"two status columns", "E-post;Kurs;Status;Kursstatus;Dato\n", "", "row 1, column D (Kursstatus)", "two status columns"},
		{"no header", "Navn;Kurs;Status\nOla;m;Fullført\n", "", "", "no header row"},
	} {
		tab, err := lmsimport.ReadTable([]byte(tc.file), "", 0)
		if err == nil {
			_, err = lmsimport.Parse(tab, lmsimport.Options{Now: now, ScoreScale: tc.scale})
		}
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Path != tc.path || !strings.Contains(e.Message, tc.in) {
			t.Errorf("%s: %v; want an invalid error at %q saying %q", tc.name, err, tc.path, tc.in)
		}
	}
}

// TestBuildResolves resolves rows through the roster (employee number,
// e-mail address in any case, LMS username, a generic identifier) and the
// catalog (title in any language, id), and skips the rows it cannot
// record with their reasons.
func TestBuildResolves(t *testing.T) {
	plan := build(t, parse(t, []byte(ksExport), lmsimport.ScaleAuto))
	var got []string
	for _, st := range plan.Statements {
		var s struct {
			ID    string
			Actor struct {
				Name, Mbox string
				Account    struct{ HomePage, Name string }
			}
			Verb   struct{ ID string }
			Object struct{ ID string }
		}
		if err := json.Unmarshal(st.JSON, &s); err != nil || s.ID != st.ID {
			t.Fatalf("row %d: %s (%v)", st.Row, st.JSON, err)
		}
		who := s.Actor.Mbox
		if who == "" {
			who = s.Actor.Account.HomePage + "|" + s.Actor.Account.Name
		}
		got = append(got, strings.Join([]string{strconv.Itoa(st.Row), s.Actor.Name, who, s.Verb.ID[strings.LastIndex(s.Verb.ID, "/")+1:], s.Object.ID[len(s.Object.ID)-1:]}, " "))
	}
	sameLines(t, "statements", got, []string{
		"5 Ola Nordmann mailto:ola.nordmann@kommune.no completed 1",
		"6 Helge Helsesjef mailto:helge@kommune.no passed 5",
		"7 Kari Ødegård mailto:Kari.Odegard@kommune.no failed 2",
		// Trine's accounts: the roster gives no e-mail address.
		"15 Trine Tekniker https://kslaring.no|trine completed 1",
	})
	var skipped []string
	for _, s := range plan.Skipped {
		skipped = append(skipped, strconv.Itoa(s.Row)+" "+s.Reason)
	}
	sameLines(t, "skipped", skipped, []string{
		`8 status "Påbegynt" is not a completion: nothing to record`,
		`9 unknown person: no one in the roster has E-post "nils.ny@kommune.no"`,
		`10 unknown module "Ukjent kurs": no module in the catalog has this id, title or activity IRI`,
		"11 the same completion as row 5",
		`12 Ansattnummer "e211" is person e211, but E-post "helge@kommune.no" is person e200`,
		"13 no status: nothing to record",
		"14 the date 21.01.2026 is in the future",
	})
	if plan.Rows != 11 {
		t.Errorf("%d rows, want 11", plan.Rows)
	}
	if want := lmsimport.StatementID("default", "e211", "kins-1", "2025-01-20", lmsimport.Completed); plan.Statements[0].ID != want {
		t.Errorf("row 5's id %s, want %s", plan.Statements[0].ID, want)
	}
	// The same file gives the same statements, byte for byte.
	again := build(t, parse(t, []byte(ksExport), lmsimport.ScaleAuto))
	for i := range again.Statements {
		if !bytes.Equal(again.Statements[i].JSON, plan.Statements[i].JSON) {
			t.Errorf("row %d differs on a second run:\n%s\n%s", again.Statements[i].Row, plan.Statements[i].JSON, again.Statements[i].JSON)
		}
	}
}

// TestStatementShape checks one statement whole: actor, verb, object,
// result with a percentage, timestamp, the provenance extension and the
// category.
func TestStatementShape(t *testing.T) {
	plan := build(t, parse(t, []byte(ksExport), lmsimport.ScaleAuto))
	helge := plan.Statements[1]
	want := `{"id":"` + helge.ID + `",` +
		`"actor":{"mbox":"mailto:helge@kommune.no","name":"Helge Helsesjef","objectType":"Agent"},` +
		`"verb":{"id":"http://adlnet.gov/expapi/verbs/passed","display":{"en-US":"passed"}},` +
		`"object":{"objectType":"Activity","id":"https://kslaring.no/mod/scorm/view.php?id=1005"},` +
		`"result":{"score":{"scaled":0.9,"raw":90,"min":0,"max":100},"success":true,"completion":true},` +
		`"context":{"contextActivities":{"category":[{"objectType":"Activity","id":"https://w3id.org/xapi/lrs/activities/completions-import"}]},` +
		`"extensions":{"https://w3id.org/xapi/lrs/extensions/import":{"fileSha256":"` + prov.FileSHA256 + `","row":6,"credential":"hr",` +
		`"cells":{"Ansattnummer":"","Brukernavn":"helge","E-post":"","Fullført dato":"4.3.2025 14:30","Kurs":"kins-5","Poeng (%)":"90","Status":"Bestått"}}}},` +
		`"timestamp":"2025-03-04T13:30:00.000Z"}`
	if string(helge.JSON) != want {
		t.Errorf("statement:\n%s\nwant\n%s", helge.JSON, want)
	}
	// A failure has no completion; a fraction has no raw score.
	p := parse(t, []byte("Brukernavn,Kurs,Status,Score,Date\nhelge,kins-2,Failed,\"0,4\",2025-02-01\n"), lmsimport.ScaleAuto)
	plan = build(t, p)
	if p.ScoreScale != lmsimport.Fraction || len(plan.Statements) != 1 ||
		!strings.Contains(string(plan.Statements[0].JSON), `"result":{"score":{"scaled":0.4},"success":false},`) {
		t.Errorf("scale %q, plan %+v", p.ScoreScale, plan)
	}
}

// TestAgentHeldOnTheDay: the statement names the person by an identifier
// they held on the completion's day, so that the reports count it for
// them: an address taken over from someone else counts from the takeover
// only, so an earlier completion goes under the person's account; a
// completion before the person held any identifier is skipped.
func TestAgentHeldOnTheDay(t *testing.T) {
	rows, cat := roster(t)
	// Ola took over post@kommune.no from Kari on 2025-03-01 (from then on
	// it is his address in the roster); his account is his from the start.
	rows = slices.DeleteFunc(rows, func(r reporting.RosterRow) bool { return r.Key == "e211" })
	rows = append(rows,
		reporting.RosterRow{Kind: reporting.RowPerson, Key: "e211", Name: "Ola Nordmann", Email: "post@kommune.no"},
		reporting.RosterRow{Kind: reporting.RowIdent, Key: "e212", Value: "mbox:mailto:post@kommune.no",
			Interval: reporting.Interval{To: reporting.MustDate("2025-03-01")}},
		reporting.RosterRow{Kind: reporting.RowIdent, Key: "e211", Value: "mbox:mailto:post@kommune.no",
			Interval: reporting.Interval{From: reporting.MustDate("2025-03-01")}},
		reporting.RosterRow{Kind: reporting.RowIdent, Key: "e211", Value: "account:https://kslaring.no ola",
			Interval: reporting.Interval{From: reporting.MustDate("2024-01-01")}},
		reporting.RosterRow{Kind: reporting.RowIdent, Key: "e302", Value: "account:https://annet.example Trine"})
	dir := lmsimport.NewDirectory(rows, cat, reporting.DateOf(now, oslo))
	p := parse(t, []byte("E-post;Kurs;Status;Dato\n"+
		"post@kommune.no;kins-1;Fullført;10.04.2025\n"+
		"post@kommune.no;kins-2;Fullført;10.02.2025\n"+
		"post@kommune.no;kins-3;Fullført;10.02.2023\n"), "")
	plan := lmsimport.Build(p, dir, prov)
	if len(plan.Statements) != 2 ||
		!strings.Contains(string(plan.Statements[0].JSON), `"actor":{"mbox":"mailto:post@kommune.no","name":"Ola Nordmann"`) ||
		!strings.Contains(string(plan.Statements[1].JSON), `"actor":{"account":{"homePage":"https://kslaring.no","name":"ola"},"name":"Ola Nordmann"`) {
		t.Fatalf("statements %+v", plan.Statements)
	}
	if len(plan.Skipped) != 1 || plan.Skipped[0].Row != 4 || !strings.Contains(plan.Skipped[0].Reason, "held none of their identifiers") {
		t.Errorf("skipped %+v", plan.Skipped)
	}
	// An ambiguous username: "trine" (in any case) on sites of two people.
	plan = lmsimport.Build(parse(t, []byte("Brukernavn;Kurs;Status;Dato\ntrine;kins-1;Fullført;10.04.2025\n"), ""), dir, prov)
	if len(plan.Skipped) != 1 || plan.Skipped[0].Reason != `Brukernavn "trine" is ambiguous: the roster has it for e301, e302` {
		t.Errorf("skipped %+v", plan.Skipped)
	}
}

// TestReadXLSX reads a workbook as Excel saves it: dates as date cells
// (Excel serial numbers), scores as numbers, a title row, English headers,
// a sheet picked by name.
func TestReadXLSX(t *testing.T) {
	data := xlsxFile(t, "Completions", [][]any{
		{"Course completions"},
		{},
		{"Email", "Course", "Status", "Score", "Completed"},
		{"ola.nordmann@kommune.no", "kins-1", "completed", 0.85, time.Date(2025, 1, 20, 0, 0, 0, 0, time.UTC)},
		{"helge@kommune.no", "kins-5", "passed", 1, time.Date(2025, 3, 4, 14, 30, 0, 0, time.UTC)},
		{"helge@kommune.no", "kins-2", "in progress"},
	})
	if _, err := lmsimport.ReadTable(data, "Sheet9", 0); errs.KindOf(err) != errs.Invalid {
		t.Errorf("a missing sheet: %v", err)
	}
	tab, err := lmsimport.ReadTable(data, "Completions", 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := lmsimport.Parse(tab, lmsimport.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if tab.Format != "xlsx" || p.Rows != 3 || p.ScoreScale != lmsimport.Fraction {
		t.Fatalf("format %s, %d rows, scale %q", tab.Format, p.Rows, p.ScoreScale)
	}
	l := p.Lines
	if l[0].Row != 4 || l[0].Time != time.Date(2025, 1, 20, 12, 0, 0, 0, oslo) || l[0].Score.Scaled != 0.85 ||
		l[1].Time != time.Date(2025, 3, 4, 14, 30, 0, 0, oslo) || l[1].Score.Scaled != 1 || l[2].Verb != lmsimport.NoCompletion {
		t.Errorf("lines %+v", l)
	}
	if _, err := lmsimport.Parse(tab, lmsimport.Options{Now: now, MaxRows: 2}); errs.KindOf(err) != errs.TooLarge {
		t.Errorf("3 rows with a limit of 2: %v, want too large", err)
	}
	if _, err := lmsimport.Parse(tab, lmsimport.Options{Now: now, MaxRows: 3}); err != nil {
		t.Errorf("3 rows with a limit of 3: %v", err)
	}
}

// xlsxFile returns a workbook with one sheet of rows.
func xlsxFile(t testing.TB, sheet string, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		t.Fatal(err)
	}
	dates, err := f.NewStyle(&excelize.Style{NumFmt: 22}) // m/d/yy h:mm
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := f.SetCellValue(sheet, cell, v); err != nil {
				t.Fatal(err)
			}
			if _, ok := v.(time.Time); ok {
				if err := f.SetCellStyle(sheet, cell, cell, dates); err != nil {
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

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got:\n  %s\n want:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
