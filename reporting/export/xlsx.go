package export

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xapi-lrs/lrs/reporting"
)

// Sheet names of the workbook.
const (
	RowsSheet    = "Report"
	SummarySheet = "Summary"
)

// maxSheetRows is how many rows (the header included) a sheet holds before
// the rows go on in a next sheet, "Report (2)" and so on: Excel's limit.
var maxSheetRows = 1 << 20

// Writer writes report rows as an Excel workbook (Office Open XML,
// .xlsx): a sheet of rows (RowsSheet) with a bold, frozen header row, an
// autofilter and set column widths, text as inline strings (never
// formulas), dates as Excel dates (shown YYYY-MM-DD) and scores as
// percentages; and, from the summary given to Close, a sheet of counts
// (SummarySheet).
//
// It streams: each row is written as SpreadsheetML into the compressed
// sheet as it comes, and the zip file goes out through w as its buffers
// fill, so that the memory a workbook needs does not grow with its rows
// and its first bytes leave before its last row is computed. The parts
// that name every sheet (the workbook, its relationships, the content
// types) and the styles are written by Close, after the sheets: a zip
// file's parts may come in any order.
//
// A Writer is not safe for concurrent use. After an error, every call
// returns it.
type Writer struct {
	out  io.Writer
	opts Options
	zw   *zip.Writer

	sheet   io.Writer // the sheet being written
	name    string    // its name
	rows    int       // rows written on it, the header included
	sheets  []sheetInfo
	buf     []byte // the XML being assembled
	texts   []string
	started bool
	closed  bool
	err     error
}

// sheetInfo is a sheet written: its name and the cells of its autofilter.
type sheetInfo struct {
	name, filter string
}

// NewXLSX returns a Writer of a workbook to w. Nothing is written to w
// before the first row (or Close).
func NewXLSX(w io.Writer, opts Options) *Writer {
	return &Writer{out: w, opts: opts}
}

// errClosed is returned by a Writer used after Close or Abort.
var errClosed = errors.New("export: the writer is closed")

// Style ids (cellXfs of styles.xml).
const (
	styleHeader   = 1
	styleDate     = 2
	stylePercent  = 3 // 0%
	stylePercent1 = 4 // 0.0%
)

// Row writes one row. Its signature is that of the emit function of
// reporting.Report.
func (w *Writer) Row(r *reporting.Row) error {
	if err := w.begin(); err != nil {
		return err
	}
	if w.rows >= maxSheetRows {
		if err := w.endSheet(); err != nil {
			return w.fail(err)
		}
		if err := w.newRowsSheet(); err != nil {
			return w.fail(err)
		}
	}
	w.rows++
	b := w.startRow(w.buf[:0])
	w.texts = texts(r, w.opts.UnitNames, w.texts)
	for i, t := range w.texts {
		b = w.text(b, i, t, 0)
	}
	b = w.date(b, colDue, r.Due)
	b = w.date(b, colCompleted, completedDay(r, w.opts.Location))
	b = w.date(b, colExpires, r.Expires)
	if r.Score != nil {
		b = w.number(b, colScore, *r.Score, stylePercent)
	}
	w.buf = append(b, "</row>"...)
	if _, err := w.sheet.Write(w.buf); err != nil {
		return w.fail(err)
	}
	return nil
}

// Close completes the workbook: the summary sheet from s (none when s is
// nil), then the parts naming the sheets. A report without rows still
// gets its header row.
func (w *Writer) Close(s *reporting.Summary) error {
	if err := w.begin(); err != nil {
		return err
	}
	w.closed = true
	err := w.endSheet()
	if err == nil && s != nil {
		err = w.summary(s)
	}
	if err == nil {
		err = w.finish()
	}
	if err != nil {
		w.err = err
	}
	return err
}

// Abort gives up the workbook without completing it, e.g. when the report
// failed; what was written is not a valid file.
func (w *Writer) Abort() { w.closed = true }

// begin starts the workbook the first time; it fails on a closed or failed
// Writer.
func (w *Writer) begin() error {
	switch {
	case w.err != nil:
		return w.err
	case w.closed:
		return errClosed
	case !w.started:
		w.started = true
		w.zw = zip.NewWriter(w.out)
		// Deflate at its best speed: 440,000 rows take about a third less
		// time than at the default level, for a file about a quarter
		// larger (BenchmarkXLSX440k).
		w.zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(out, flate.BestSpeed)
		})
		if err := w.newRowsSheet(); err != nil {
			return w.fail(err)
		}
	}
	return nil
}

// fail records err, which every later call returns.
func (w *Writer) fail(err error) error {
	w.err = err
	w.closed = true
	return err
}

// worksheetStart opens a worksheet's XML, up to its first row.
const worksheetStart = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
	`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
	`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">`

// openSheet starts the next sheet (a zip entry), with its views and column
// widths, up to its rows.
func (w *Writer) openSheet(name, views string, widths []float64) error {
	f, err := w.zw.Create(fmt.Sprintf("xl/worksheets/sheet%d.xml", len(w.sheets)+1))
	if err != nil {
		return err
	}
	w.sheet, w.name, w.rows = f, name, 0
	b := append(w.buf[:0], worksheetStart...)
	b = append(b, views...)
	b = append(b, `<sheetFormatPr defaultRowHeight="15"/><cols>`...)
	for i, width := range widths {
		b = fmt.Appendf(b, `<col min="%d" max="%d" width="%g" customWidth="1"/>`, i+1, i+1, width)
	}
	w.buf = append(b, "</cols><sheetData>"...)
	_, err = w.sheet.Write(w.buf)
	return err
}

// newRowsSheet starts the next sheet of rows with its header, its first
// row frozen.
func (w *Writer) newRowsSheet() error {
	name := RowsSheet
	if n := len(w.sheets) + 1; n > 1 {
		name = fmt.Sprintf("%s (%d)", RowsSheet, n)
	}
	selected := ""
	if len(w.sheets) == 0 {
		selected = ` tabSelected="1"`
	}
	views := `<sheetViews><sheetView` + selected + ` workbookViewId="0">` +
		`<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>` +
		`<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>`
	widths := make([]float64, len(columns))
	for i, c := range columns {
		widths[i] = c.width
	}
	if err := w.openSheet(name, views, widths); err != nil {
		return err
	}
	w.rows = 1
	b := w.startRow(w.buf[:0])
	for i, c := range columns {
		b = w.text(b, i, c.title, styleHeader)
	}
	w.buf = append(b, "</row>"...)
	_, err := w.sheet.Write(w.buf)
	return err
}

// endSheet ends the sheet's rows and puts the autofilter over them.
func (w *Writer) endSheet() error {
	return w.closeSheet("A1:" + cellName(len(columns)-1, w.rows))
}

// closeSheet ends the open sheet with an autofilter over the cells of
// filter (its header row first).
func (w *Writer) closeSheet(filter string) error {
	w.sheets = append(w.sheets, sheetInfo{name: w.name, filter: filter})
	_, err := io.WriteString(w.sheet, `</sheetData><autoFilter ref="`+filter+`"/></worksheet>`)
	return err
}

// startRow opens row w.rows.
func (w *Writer) startRow(b []byte) []byte {
	b = append(b, `<row r="`...)
	b = strconv.AppendInt(b, int64(w.rows), 10)
	return append(b, `">`...)
}

// cell opens the cell of column col (from 0) on row w.rows.
func (w *Writer) cell(b []byte, col, style int) []byte {
	b = append(b, `<c r="`...)
	b = appendColumn(b, col)
	b = strconv.AppendInt(b, int64(w.rows), 10)
	b = append(b, '"')
	if style != 0 {
		b = append(b, ` s="`...)
		b = strconv.AppendInt(b, int64(style), 10)
		b = append(b, '"')
	}
	return b
}

// text appends a text cell (none for empty text): an inline string.
func (w *Writer) text(b []byte, col int, s string, style int) []byte {
	if s == "" {
		return b
	}
	b = w.cell(b, col, style)
	b = append(b, ` t="inlineStr"><is><t`...)
	if first, last := s[0], s[len(s)-1]; isXMLSpace(first) || isXMLSpace(last) {
		b = append(b, ` xml:space="preserve"`...)
	}
	b = append(b, '>')
	b = appendXMLText(b, s)
	return append(b, "</t></is></c>"...)
}

// number appends a number cell.
func (w *Writer) number(b []byte, col int, v float64, style int) []byte {
	b = w.cell(b, col, style)
	b = append(b, "><v>"...)
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	return append(b, "</v></c>"...)
}

// excelEpoch is day 0 of Excel's (1900) date system: serial numbers count
// days from it (correct from 1900-03-01 on).
var excelEpoch = reporting.NewDate(1899, time.December, 30)

// date appends a date cell (none for no date): its serial number, shown
// YYYY-MM-DD.
func (w *Writer) date(b []byte, col int, d reporting.Date) []byte {
	if d == 0 {
		return b
	}
	return w.number(b, col, float64(d-excelEpoch), styleDate)
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// appendXMLText appends s as XML character data: &, < and > escaped, a
// carriage return as a character reference (XML readers would turn it
// into a line feed), and what XML cannot hold (control characters, invalid
// UTF-8) as U+FFFD.
func appendXMLText(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf {
			switch c {
			case '&':
				b = append(b, "&amp;"...)
			case '<':
				b = append(b, "&lt;"...)
			case '>':
				b = append(b, "&gt;"...)
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\t' || r == '\n':
			b = append(b, c)
		case r == '\r':
			b = append(b, "&#13;"...)
		case r < 0x20 || r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF:
			b = utf8.AppendRune(b, utf8.RuneError)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// appendColumn appends the letters of column col (from 0: A, ..., Z, AA, ...).
func appendColumn(b []byte, col int) []byte {
	if col >= 26 {
		b = appendColumn(b, col/26-1)
	}
	return append(b, byte('A'+col%26))
}

// cellName returns the name of the cell of column col (from 0) and row
// (from 1), e.g. O4.
func cellName(col, row int) string {
	return string(strconv.AppendInt(appendColumn(nil, col), int64(row), 10))
}

// summary writes the summary sheet: the report's day, instant and people,
// then a table of counts (see summaryLines) with percentages as Excel
// percentages.
func (w *Writer) summary(s *reporting.Summary) error {
	widths := []float64{12, 24, 28}
	for range 3 + len(reporting.Statuses) {
		widths = append(widths, 13)
	}
	if err := w.openSheet(SummarySheet, `<sheetViews><sheetView workbookViewId="0"/></sheetViews>`, widths); err != nil {
		return err
	}
	row := func(fill func(b []byte) []byte) error {
		w.rows++
		b := fill(w.startRow(w.buf[:0]))
		w.buf = append(b, "</row>"...)
		_, err := w.sheet.Write(w.buf)
		return err
	}
	known := ""
	if !s.KnownAt.IsZero() {
		known = s.KnownAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	for _, meta := range []func(b []byte) []byte{
		func(b []byte) []byte { return w.date(w.text(b, 0, "Day", styleHeader), 1, s.Day) },
		func(b []byte) []byte {
			return w.text(w.text(b, 0, "As of", styleHeader), 1, s.AsOf.UTC().Format("2006-01-02T15:04:05Z"), 0)
		},
		func(b []byte) []byte { return w.text(w.text(b, 0, "Known at", styleHeader), 1, known, 0) },
		func(b []byte) []byte { return w.number(w.text(b, 0, "People", styleHeader), 1, float64(s.People), 0) },
	} {
		if err := row(meta); err != nil {
			return err
		}
	}
	w.rows++ // a blank line, then the table
	first := w.rows + 1
	header := summaryHeader()
	if err := row(func(b []byte) []byte {
		for i, t := range header {
			b = w.text(b, i, t, styleHeader)
		}
		return b
	}); err != nil {
		return err
	}
	for _, l := range summaryLines(s, w.opts.UnitNames) {
		err := row(func(b []byte) []byte {
			b = w.text(b, 0, l.group, 0)
			b = w.text(b, 1, l.key, 0)
			b = w.text(b, 2, l.name, 0)
			b = w.number(b, 3, float64(l.c.Rows), 0)
			b = w.number(b, 4, float64(l.c.Compliant), 0)
			b = w.number(b, 5, l.c.Percent/100, stylePercent1)
			for i, st := range reporting.Statuses {
				b = w.number(b, 6+i, float64(l.c.Status[st]), 0)
			}
			return b
		})
		if err != nil {
			return err
		}
	}
	return w.closeSheet(fmt.Sprintf("A%d:%s", first, cellName(len(header)-1, w.rows)))
}

// The package parts written by finish.
const (
	xmlHeader = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	nsMain    = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
	nsRels    = "http://schemas.openxmlformats.org/package/2006/relationships"
	relType   = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"

	rootRels = xmlHeader + `<Relationships xmlns="` + nsRels + `">` +
		`<Relationship Id="rId1" Type="` + relType + `officeDocument" Target="xl/workbook.xml"/></Relationships>`

	styles = xmlHeader + `<styleSheet xmlns="` + nsMain + `">` +
		`<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/><numFmt numFmtId="165" formatCode="0.0%"/></numFmts>` +
		`<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>` +
		`<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>` +
		`<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>` +
		`<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill></fills>` +
		`<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>` +
		`<border><left/><right/><top/><bottom style="thin"><color rgb="FF8EA9DB"/></bottom><diagonal/></border></borders>` +
		`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
		`<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
		`<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1"/>` +
		`<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
		`<xf numFmtId="9" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
		`<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>` +
		`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`
)

// finish writes the parts that name the sheets, and the styles, and ends
// the zip file.
func (w *Writer) finish() error {
	var wb, rels, types strings.Builder
	wb.WriteString(xmlHeader + `<workbook xmlns="` + nsMain + `" xmlns:r="` + relType[:len(relType)-1] + `">` +
		`<bookViews><workbookView activeTab="0"/></bookViews><sheets>`)
	rels.WriteString(xmlHeader + `<Relationships xmlns="` + nsRels + `">`)
	types.WriteString(xmlHeader + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>`)
	var names strings.Builder
	for i, sh := range w.sheets {
		n := i + 1
		fmt.Fprintf(&wb, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, appendXMLText(nil, sh.name), n, n)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%sworksheet" Target="worksheets/sheet%d.xml"/>`, n, relType, n)
		fmt.Fprintf(&types, `<Override PartName="/xl/worksheets/sheet%d.xml" `+
			`ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`, n)
		fmt.Fprintf(&names, `<definedName name="_xlnm._FilterDatabase" localSheetId="%d" hidden="1">%s!%s</definedName>`,
			i, appendXMLText(nil, "'"+strings.ReplaceAll(sh.name, "'", "''")+"'"), absolute(sh.filter))
	}
	wb.WriteString(`</sheets><definedNames>` + names.String() + `</definedNames></workbook>`)
	fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%sstyles" Target="styles.xml"/></Relationships>`, len(w.sheets)+1, relType)
	types.WriteString(`</Types>`)
	for _, part := range []struct{ name, content string }{
		{"xl/styles.xml", styles},
		{"xl/workbook.xml", wb.String()},
		{"xl/_rels/workbook.xml.rels", rels.String()},
		{"_rels/.rels", rootRels},
		{"[Content_Types].xml", types.String()},
	} {
		f, err := w.zw.Create(part.name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(f, part.content); err != nil {
			return err
		}
	}
	return w.zw.Close()
}

// absolute returns a range of cells with absolute references: A1:O4 as
// $A$1:$O$4.
func absolute(cells string) string {
	var b strings.Builder
	for i, ref := range strings.Split(cells, ":") {
		if i > 0 {
			b.WriteByte(':')
		}
		digits := strings.IndexAny(ref, "0123456789")
		b.WriteString("$" + ref[:digits] + "$" + ref[digits:])
	}
	return b.String()
}
