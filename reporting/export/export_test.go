package export

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"github.com/xapi-lrs/lrs/internal/peakheap"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/sqlite"
)

func score(f float64) *float64 { return &f }

var oslo = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return loc
}()

// testRows are rows as reporting.Report emits them, with Norwegian and
// Danish letters in names, units and reasons, a name a spreadsheet would
// take for a formula, and a completion late in the evening in Oslo (the
// next day in UTC is not the day shown).
func testRows() []reporting.Row {
	return []reporting.Row{
		{Person: "00123", Name: "Kari Ødegård", Email: "kari@kommune.no", Units: []string{"sykehjem", "helse"},
			Roles: []string{"mobil", "sensitiv"}, Module: "kins-1", Rules: []string{"mobil", "sensitiv"},
			Status: reporting.StatusCompleted, Due: reporting.MustDate("2025-03-01"),
			Completed: time.Date(2025, 2, 1, 23, 30, 0, 0, time.UTC), Expires: reporting.MustDate("2026-02-02"), Score: score(0.85)},
		{Person: "e200", Name: "ÆRØ Åsmund Ørsted", Units: []string{"økonomi"}, Roles: []string{"adm"}, Module: "kins-5",
			Campaign: "okt-2025", Status: reporting.StatusOverdue, Due: reporting.MustDate("2025-10-31")},
		{Person: "e300", Name: "=HYPERLINK(\"http://x\")", Units: []string{"it"}, Roles: []string{"leder"}, Module: "kins-7",
			Rules: []string{"leder"}, Status: reporting.StatusExempt, Exemption: "Fritatt: permisjon, \"langvarig\"\nse sak 12/345"},
	}
}

var testNames = map[string]string{"sykehjem": "Solbakken sykehjem", "helse": "Helse og omsorg", "økonomi": "Økonomi og støtte",
	"it": "IT-tjenesten"}

func testSummary() *reporting.Summary {
	c := func(rows, compliant int, pct float64, st map[reporting.Status]int) *reporting.Counts {
		return &reporting.Counts{Rows: rows, Compliant: compliant, Percent: pct, Status: st}
	}
	return &reporting.Summary{
		AsOf: time.Date(2025, 11, 1, 22, 59, 59, 0, time.UTC), Day: reporting.MustDate("2025-11-01"), People: 3,
		Total: *c(3, 1, 50, map[reporting.Status]int{reporting.StatusCompleted: 1, reporting.StatusOverdue: 1, reporting.StatusExempt: 1}),
		Units: map[string]*reporting.Counts{
			"helse":    c(1, 1, 100, map[reporting.Status]int{reporting.StatusCompleted: 1}),
			"sykehjem": c(1, 1, 100, map[reporting.Status]int{reporting.StatusCompleted: 1}),
			"økonomi":  c(1, 0, 0, map[reporting.Status]int{reporting.StatusOverdue: 1}),
			"it":       c(1, 0, 100, map[reporting.Status]int{reporting.StatusExempt: 1}),
		},
		Roles:     map[string]*reporting.Counts{"adm": c(1, 0, 0, map[reporting.Status]int{reporting.StatusOverdue: 1})},
		Modules:   map[string]*reporting.Counts{"kins-1": c(1, 1, 100, map[reporting.Status]int{reporting.StatusCompleted: 1})},
		Campaigns: map[string]*reporting.Counts{"okt-2025": c(1, 0, 0, map[reporting.Status]int{reporting.StatusOverdue: 1})},
	}
}

func writeAll(t testing.TB, w *Writer, rows []reporting.Row, sum *reporting.Summary) {
	t.Helper()
	for i := range rows {
		if err := w.Row(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(sum); err != nil {
		t.Fatal(err)
	}
}

func header() []string {
	var h []string
	for _, c := range columns {
		h = append(h, c.title)
	}
	return h
}

// sheetXML returns the XML of a worksheet part of an XLSX file.
func sheetXML(t *testing.T, file []byte, part string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open(part)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestXLSX(t *testing.T) {
	var buf bytes.Buffer
	writeAll(t, NewXLSX(&buf, Options{Location: oslo, UnitNames: testNames}), testRows(), testSummary())
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{RowsSheet, SummarySheet}) {
		t.Fatalf("sheets %q", got)
	}
	rows, err := f.GetRows(RowsSheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !slices.Equal(rows[0], header()) {
		t.Fatalf("rows %q", rows)
	}
	// Text survives as text: Norwegian and Danish letters, a leading zero,
	// a formula-like name (an inline string, never a formula), line breaks.
	wantText := map[string]string{"A2": "00123", "B2": "Kari Ødegård", "D2": "sykehjem|helse", "E2": "Solbakken sykehjem|Helse og omsorg",
		"B3": "ÆRØ Åsmund Ørsted", "D3": "økonomi", "E3": "Økonomi og støtte", "H3": "okt-2025", "J3": "overdue",
		"B4": `=HYPERLINK("http://x")`, "O4": "Fritatt: permisjon, \"langvarig\"\nse sak 12/345"}
	for cell, want := range wantText {
		got, err := f.GetCellValue(RowsSheet, cell)
		if err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", cell, got, err, want)
		}
		if typ, _ := f.GetCellType(RowsSheet, cell); typ != excelize.CellTypeInlineString {
			t.Errorf("%s has type %v, want an inline string", cell, typ)
		}
	}
	if fl, err := f.GetCellFormula(RowsSheet, "B4"); err != nil || fl != "" {
		t.Errorf("B4 has a formula %q", fl)
	}

	// Dates are numbers (days since 1899-12-30) shown as YYYY-MM-DD; the
	// completion's day is Oslo's.
	dates := map[string]string{"K2": "2025-03-01", "L2": "2025-02-02", "M2": "2026-02-02", "K3": "2025-10-31"}
	for cell, want := range dates {
		checkNumber(t, f, cell, float64(reporting.MustDate(want)-reporting.NewDate(1899, 12, 30)), "yyyy-mm-dd", want)
	}
	if got := reporting.MustDate("2025-01-01") - excelEpoch; got != 45658 { // as Excel numbers the day
		t.Errorf("the serial number of 2025-01-01 is %d, Excel's is 45658", got)
	}
	checkNumber(t, f, "N2", 0.85, "0%", "85%")
	for _, cell := range []string{"L3", "N3", "K4", "N4"} {
		if v, _ := f.GetCellValue(RowsSheet, cell); v != "" {
			t.Errorf("%s = %q, want empty", cell, v)
		}
	}

	panes, err := f.GetPanes(RowsSheet)
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 || panes.TopLeftCell != "A2" {
		t.Errorf("panes %+v: want the header row frozen", panes)
	}
	style, err := f.GetCellStyle(RowsSheet, "C1")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := f.GetStyle(style); err != nil || s.Font == nil || !s.Font.Bold {
		t.Errorf("the header is not bold: %+v %v", s, err)
	}
	if w, err := f.GetColWidth(RowsSheet, "B"); err != nil || w != 28 {
		t.Errorf("column B width %v %v", w, err)
	}
	xml := sheetXML(t, buf.Bytes(), "xl/worksheets/sheet1.xml")
	if !strings.Contains(xml, `<autoFilter ref="A1:O4"`) {
		i := strings.Index(xml, "</sheetData>")
		t.Errorf("no autofilter over A1:O4 in the sheet:\n%s", xml[i:])
	}
	found := false
	for _, d := range f.GetDefinedName() {
		if d.Name == "_xlnm._FilterDatabase" && d.RefersTo == "'Report'!$A$1:$O$4" && d.Scope == RowsSheet {
			found = true
		}
	}
	if !found {
		t.Errorf("no filter database defined over the rows: %+v", f.GetDefinedName())
	}

	sum, err := f.GetRows(SummarySheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum) != 14 || sum[0][0] != "Day" || sum[3][1] != "3" {
		t.Fatalf("summary %q", sum)
	}
	checkSheetNumber(t, f, SummarySheet, "B1", float64(reporting.MustDate("2025-11-01")-reporting.NewDate(1899, 12, 30)), "yyyy-mm-dd", "2025-11-01")
	if got := strings.Join(sum[5], ","); got != "Group,ID,Name,Rows,Compliant,Percent,completed,expiring-soon,expired,overdue,due,in-progress,not-started,exempt" {
		t.Errorf("summary header %s", got)
	}
	if got := strings.Join(sum[10], ","); got != "unit,økonomi,Økonomi og støtte,1,0,0.0%,0,0,0,1,0,0,0,0" {
		t.Errorf("summary line of økonomi: %s", got)
	}
	checkSheetNumber(t, f, SummarySheet, "F7", 0.5, "0.0%", "50.0%")
	checkSheetNumber(t, f, SummarySheet, "D7", 3, "", "3")
}

// checkNumber checks that a cell of the rows sheet holds a number with a
// number format, shown as shown.
func checkNumber(t *testing.T, f *excelize.File, cell string, want float64, format, shown string) {
	t.Helper()
	checkSheetNumber(t, f, RowsSheet, cell, want, format, shown)
}

func checkSheetNumber(t *testing.T, f *excelize.File, sheet, cell string, want float64, format, shown string) {
	t.Helper()
	typ, err := f.GetCellType(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber { // no t attribute means a number
		t.Errorf("%s!%s has type %v, want a number", sheet, cell, typ)
	}
	raw, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := strconv.ParseFloat(raw, 64); err != nil || math.Abs(v-want) > 1e-9 {
		t.Errorf("%s!%s holds %q, want the number %v", sheet, cell, raw, want)
	}
	if format != "" {
		id, err := f.GetCellStyle(sheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if s.CustomNumFmt != nil {
			got = *s.CustomNumFmt
		} else if s.NumFmt == 9 {
			got = "0%"
		}
		if got != format {
			t.Errorf("%s!%s has number format %q (id %d), want %q", sheet, cell, got, s.NumFmt, format)
		}
	}
	if v, err := f.GetCellValue(sheet, cell); err != nil || v != shown {
		t.Errorf("%s!%s shows %q, want %q", sheet, cell, v, shown)
	}
}

// TestXLSXText: text that XML would alter or cannot hold reads back as
// it was (line breaks, carriage returns, spaces at either end, markup
// characters), or with U+FFFD for what XML cannot hold (control
// characters, invalid UTF-8).
func TestXLSXText(t *testing.T) {
	texts := map[string]string{
		"  spaces at both ends ":      "  spaces at both ends ",
		"line\r\nbreaks\rand\nmore":   "line\r\nbreaks\rand\nmore",
		"<b>&amp; \"quotes\" 'x'</b>": "<b>&amp; \"quotes\" 'x'</b>",
		"bell\x07 nul\x00 \xff end":   "bell\ufffd nul\ufffd \ufffd end",
		"\ttab first":                 "\ttab first",
	}
	var rows []reporting.Row
	var want []string
	for in, out := range texts {
		rows = append(rows, reporting.Row{Person: "p", Name: in, Module: "m", Status: reporting.StatusDue})
		want = append(want, out)
	}
	var buf bytes.Buffer
	writeAll(t, NewXLSX(&buf, Options{}), rows, nil)
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i, w := range want {
		if got, err := f.GetCellValue(RowsSheet, fmt.Sprintf("B%d", i+2)); err != nil || got != w {
			t.Errorf("%q read back as %q (%v), want %q", rows[i].Name, got, err, w)
		}
	}
}

// TestXLSXEmpty: a report without rows is a header row, and no summary
// sheet without a summary.
func TestXLSXEmpty(t *testing.T) {
	var buf bytes.Buffer
	writeAll(t, NewXLSX(&buf, Options{}), nil, nil)
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(RowsSheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || !slices.Equal(rows[0], header()) || len(f.GetSheetList()) != 1 {
		t.Errorf("sheets %q, rows %q", f.GetSheetList(), rows)
	}
}

// TestXLSXMoreSheets: rows beyond a sheet's limit go on in further sheets,
// each with its header.
func TestXLSXMoreSheets(t *testing.T) {
	defer func(n int) { maxSheetRows = n }(maxSheetRows)
	maxSheetRows = 3
	var rows []reporting.Row
	for i := range 5 {
		rows = append(rows, reporting.Row{Person: fmt.Sprintf("p%d", i), Module: "m", Status: reporting.StatusDue})
	}
	var buf bytes.Buffer
	writeAll(t, NewXLSX(&buf, Options{}), rows, testSummary())
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string][]string{"Report": {"p0", "p1"}, "Report (2)": {"p2", "p3"}, "Report (3)": {"p4"}}
	if got := f.GetSheetList(); !slices.Equal(got, []string{"Report", "Report (2)", "Report (3)", "Summary"}) {
		t.Fatalf("sheets %q", got)
	}
	for sheet, people := range want {
		got, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(people)+1 || got[0][0] != "Employee ID" {
			t.Errorf("%s: %q", sheet, got)
			continue
		}
		for i, p := range people {
			if got[i+1][0] != p {
				t.Errorf("%s row %d: %q, want %s", sheet, i+2, got[i+1], p)
			}
		}
		if p, _ := f.GetPanes(sheet); !p.Freeze {
			t.Errorf("%s: header not frozen", sheet)
		}
	}
}

func TestWriterState(t *testing.T) {
	w := NewXLSX(io.Discard, Options{})
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Row(&reporting.Row{}); err == nil {
		t.Error("a row after Close was accepted")
	}
	if err := w.Close(nil); err == nil {
		t.Error("Close twice was accepted")
	}
	// A failing destination fails the workbook, and the writer stays
	// failed.
	w = NewXLSX(failWriter{}, Options{})
	err := w.Row(&testRows()[0])
	if err == nil {
		err = w.Close(nil)
	}
	if err == nil {
		t.Error("writing to a failing destination succeeded")
	}
	if err := w.Row(&testRows()[0]); err == nil {
		t.Error("a row after a failure was accepted")
	}
	// Abort gives up an unfinished workbook.
	w = NewXLSX(io.Discard, Options{})
	if err := w.Row(&testRows()[0]); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if err := w.Row(&testRows()[0]); err == nil {
		t.Error("a row after Abort was accepted")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// benchRow fills r with row i of a report shaped like a large
// municipality's: 55,000 people with 8 modules each. Rows are made as they
// are written, as reporting.Report makes them, so that the memory measured
// is the writer's.
func benchRow(r *reporting.Row, i int) {
	units := [...]string{"helse", "sykehjem-øst", "skole", "økonomi", "bydel-grünerløkka", "it"}
	p, m := i/8, i%8+1
	if m == 1 || r.Person == "" {
		r.Person = fmt.Sprintf("e%06d", p)
		r.Name = fmt.Sprintf("Åse Ødegård Kjærsgaard %d", p)
		r.Email = fmt.Sprintf("person%d@kommune.no", p)
		r.Units = []string{units[p%len(units)]}
		r.Roles = []string{"adm"}
		r.Rules = r.Roles
	}
	r.Module = fmt.Sprintf("kins-%d", m)
	r.Status = reporting.Statuses[(p+m)%len(reporting.Statuses)]
	r.Due = reporting.MustDate("2025-03-01").AddDays(p % 90)
	r.Completed, r.Expires, r.Score = time.Time{}, 0, nil
	if r.Status == reporting.StatusCompleted || r.Status == reporting.StatusExpiringSoon {
		r.Completed = time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(p%300) * 24 * time.Hour)
		r.Expires = reporting.DateOf(r.Completed, nil).Add(reporting.Period{Years: 1})
		r.Score = score(0.8 + float64(p%20)/100)
	}
}

// countingWriter counts the bytes written.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// benchExport writes a report of 440,000 rows (55,000 people × 8 modules)
// through the writer start returns and reports the file size and the
// peak heap while writing (see peakheap).
func benchExport(b *testing.B, start func(io.Writer) (row func(*reporting.Row) error, end func() error)) {
	const rows = 55000 * 8
	b.ReportAllocs()
	for b.Loop() {
		var out countingWriter
		stop := peakheap.Start()
		row, end := start(&out)
		var r reporting.Row
		for i := range rows {
			benchRow(&r, i)
			if err := row(&r); err != nil {
				b.Fatal(err)
			}
		}
		if err := end(); err != nil {
			b.Fatal(err)
		}
		peak := stop()
		b.ReportMetric(float64(out.n)/(1<<20), "file-MiB")
		b.ReportMetric(float64(peak.InUse)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(peak.Live)/(1<<20), "peak-live-MiB")
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkCSV440k: the CSV of the HTTP service's status report.
func BenchmarkCSV440k(b *testing.B) {
	benchExport(b, func(w io.Writer) (func(*reporting.Row) error, func() error) {
		c := NewCSVRecords(w, 0)
		c.Write(StatusHeader)
		return func(r *reporting.Row) error { return c.WriteStatus(nil, r, oslo) }, c.Flush
	})
}

func BenchmarkXLSX440k(b *testing.B) {
	sum := testSummary()
	benchExport(b, func(w io.Writer) (func(*reporting.Row) error, func() error) {
		x := NewXLSX(w, Options{Location: oslo})
		return x.Row, func() error { return x.Close(sum) }
	})
}

// TestReportToXLSX streams a report computed from a real SQLite store into
// both formats, with the unit names of the roster, and reads them back.
func TestReportToXLSX(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "lrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const tenant = "kommune"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.PutModule(ctx, tenant, &reporting.Module{ID: "kins-1", Title: map[string]string{"nb-NO": "Grunnleggende informasjonssikkerhet"},
		Activities: []string{"https://kslaring.no/mod/scorm/view.php?id=1001"}, Completion: reporting.Completed}))
	must(db.PutRule(ctx, tenant, &reporting.Rule{ID: "alle", Role: "ansatt", Modules: []string{"kins-1"}, DueWithin: reporting.MustPeriod("P30D")}))
	one := func(id string) []reporting.Assignment { return []reporting.Assignment{{ID: id}} }
	_, err = db.ImportRoster(ctx, tenant, &reporting.Import{
		Effective: reporting.MustDate("2025-01-01"),
		Units: []reporting.UnitIn{{ID: "kommune", Name: "Ærø Kommune"}, {ID: "okonomi", Name: "Økonomi og løn", Parent: "kommune"},
			{ID: "sundhed", Name: "Sundhed og Ældre", Parent: "kommune"}},
		People: []reporting.PersonIn{
			{ID: "d100", Name: "Søren Ærbødig", Email: "soren@aeroe.dk", Start: reporting.MustDate("2025-01-01"), Units: one("okonomi"), Roles: one("ansatt")},
			{ID: "d200", Name: "Åse Øberg", Email: "ase@aeroe.dk", Start: reporting.MustDate("2025-01-01"), Units: one("sundhed"), Roles: one("ansatt")},
		},
	}, time.Date(2025, 1, 1, 7, 0, 0, 0, time.UTC))
	must(err)
	done := time.Date(2025, 2, 3, 9, 0, 0, 0, time.UTC)
	sid := uuid.New()
	must(db.AddFacts(ctx, tenant, []reporting.Fact{{Statement: sid, Agent: "mbox:mailto:soren@aeroe.dk",
		Activities: []string{"https://kslaring.no/mod/scorm/view.php?id=1001"}, Outcome: reporting.OutcomeCompleted,
		Timestamp: done, Stored: done}}))

	q := reporting.Query{Options: reporting.Options{AsOf: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Location: oslo}}
	units, err := db.RosterRows(ctx, tenant, reporting.RosterFilter{UnitsOnly: true})
	must(err)
	names := map[string]string{}
	for id, u := range reporting.NewView(units, reporting.DateOf(q.AsOf, oslo)).Units {
		names[id] = u.Name
	}

	var xbuf, cbuf bytes.Buffer
	x := NewXLSX(&xbuf, Options{Location: oslo, UnitNames: names})
	c := NewCSVRecords(&cbuf, 0)
	must(c.Write(StatusHeader))
	sum, err := reporting.Report(ctx, db, tenant, q, func(r *reporting.Row) error {
		if err := c.WriteStatus(nil, r, oslo); err != nil {
			return err
		}
		return x.Row(r)
	})
	must(err)
	must(x.Close(sum))
	must(c.Flush())

	f, err := excelize.OpenReader(&xbuf)
	must(err)
	defer f.Close()
	rows, err := f.GetRows(RowsSheet)
	must(err)
	got := make([]string, len(rows))
	for i, r := range rows {
		got[i] = strings.Join(r, ",")
	}
	want := []string{strings.Join(header(), ","),
		"d100,Søren Ærbødig,soren@aeroe.dk,okonomi,Økonomi og løn,ansatt,kins-1,,alle,completed,2025-01-31,2025-02-03",
		"d200,Åse Øberg,ase@aeroe.dk,sundhed,Sundhed og Ældre,ansatt,kins-1,,alle,overdue,2025-01-31"}
	if !slices.Equal(got, want) {
		t.Errorf("XLSX rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(cbuf.Bytes(), []byte(bom)))).ReadAll()
	must(err)
	wantCSV := []string{strings.Join(StatusHeader, ","),
		"d100,Søren Ærbødig,soren@aeroe.dk,okonomi,ansatt,kins-1,,alle,completed,2025-01-31,2025-02-03T10:00:00+01:00,,,," + sid.String(),
		"d200,Åse Øberg,ase@aeroe.dk,sundhed,ansatt,kins-1,,alle,overdue,2025-01-31,,,,,"}
	for i, r := range recs {
		if g := strings.Join(r, ","); i >= len(wantCSV) || g != wantCSV[i] {
			t.Errorf("CSV line %d: %s, want %s", i+1, g, wantCSV[min(i, len(wantCSV)-1)])
		}
	}
	sumRows, err := f.GetRows(SummarySheet)
	must(err)
	var units2 []string
	for _, r := range sumRows[6:] {
		if r[0] == "unit" {
			units2 = append(units2, r[1]+"="+r[2]+" "+r[5])
		}
	}
	if want := []string{"kommune=Ærø Kommune 50.0%", "okonomi=Økonomi og løn 100.0%", "sundhed=Sundhed og Ældre 0.0%"}; !slices.Equal(units2, want) {
		t.Errorf("summary units %q, want %q", units2, want)
	}
}

// TestStatusCSVRecords pins the CSV of the HTTP service's status and
// reminder reports, written by CSVRecords: the byte order mark, the
// delimiter asked for, CRLF, instants in the report's zone, evidence as
// statement ids, formulas defused, text with the delimiter or a line break
// quoted.
func TestStatusCSVRecords(t *testing.T) {
	rows := testRows()
	rows[0].Evidence = []reporting.Evidence{{Statement: "s-1"}, {Statement: "s-2"}}
	var buf bytes.Buffer
	w := NewCSVRecords(&buf, ';')
	if err := w.Write(append([]string{"manager"}, StatusHeader...)); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*reporting.Row{&rows[0], &rows[2]} {
		if err := w.WriteStatus([]string{"m1"}, r, oslo); err != nil {
			t.Fatal(err)
		}
	}
	// People without a manager: the first field is empty.
	if err := w.WriteStatus([]string{""}, &rows[1], oslo); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := bom + "manager;person;name;email;units;roles;module;campaign;rules;status;due;completed;expires;score;exemption;evidence\r\n" +
		"m1;00123;Kari Ødegård;kari@kommune.no;sykehjem|helse;mobil|sensitiv;kins-1;;mobil|sensitiv;completed;2025-03-01;2025-02-02T00:30:00+01:00;2026-02-02;0.85;;s-1|s-2\r\n" +
		"m1;e300;\"'=HYPERLINK(\"\"http://x\"\")\";;it;leder;kins-7;;leder;exempt;;;;;\"Fritatt: permisjon, \"\"langvarig\"\"\r\nse sak 12/345\";\r\n" +
		";e200;ÆRØ Åsmund Ørsted;;økonomi;adm;kins-5;okt-2025;;overdue;2025-10-31;;;;;\r\n"
	if got := buf.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}

	// A failing destination fails the file.
	w = NewCSVRecords(failWriter{}, 0)
	w.Write(StatusHeader)
	if err := w.Flush(); err == nil {
		t.Error("writing to a failing destination succeeded")
	}
}

// FuzzCSVRecords holds CSVRecords to encoding/csv (with CRLF line ends):
// the same bytes for any fields and delimiter.
func FuzzCSVRecords(f *testing.F) {
	f.Add("plain", "Ødegård, Kari", "say \"hi\"\r\nthere", rune(','))
	f.Add(" leading", "\\.", "tab\tin", rune(';'))
	f.Add("\u00a0nbsp", "", "a;b", rune('\t'))
	f.Add("x", "y", "z€w", rune('€'))
	f.Fuzz(func(t *testing.T, a, b, c string, comma rune) {
		var want bytes.Buffer
		cw := csv.NewWriter(&want)
		cw.Comma, cw.UseCRLF = comma, true
		rec := []string{a, b, c}
		if err := cw.Write(rec); err != nil {
			return // a delimiter encoding/csv refuses
		}
		cw.Flush()
		var got bytes.Buffer
		w := NewCSVRecords(&got, comma)
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if g := strings.TrimPrefix(got.String(), bom); g != want.String() {
			t.Errorf("%q with %q:\nCSVRecords   %q\nencoding/csv %q", rec, comma, g, want.String())
		}
	})
}
