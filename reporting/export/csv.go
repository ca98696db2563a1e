package export

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/reporting"
)

// bom is the UTF-8 byte order mark: spreadsheets read a CSV file as UTF-8
// only when it starts with one (else æøå come out garbled).
const bom = "\uFEFF"

// NewCSV returns a Writer of CSV to w: UTF-8 with a byte order mark, a
// header row, fields quoted as RFC 4180 says, lines ending in CRLF, dates
// as YYYY-MM-DD and scores as decimals with a point (0.85). Text that a
// spreadsheet would run as a formula (starting with =, +, -, @, a tab or a
// carriage return) is prefixed with an apostrophe.
func NewCSV(w io.Writer, opts Options) *Writer {
	return &Writer{f: &csvFormat{out: w, opts: opts}}
}

// csvFormat is the CSV format.
type csvFormat struct {
	out    io.Writer
	opts   Options
	w      *CSVRecords
	fields []string
}

// CSVRecords writes a CSV file record by record: every CSV file of the
// reports, here and in the HTTP service, is written by one. The file is
// UTF-8 with a byte order mark, fields are quoted as RFC 4180 says, lines
// end in CRLF, and records go out through a buffer as it fills, so that a
// long report streams; Flush ends the file. Callers pass free text
// through Defuse.
type CSVRecords struct {
	buf *bufio.Writer
	w   *csv.Writer
}

// NewCSVRecords starts a CSV file on out with the byte order mark; comma
// is the field separator (0: ',').
func NewCSVRecords(out io.Writer, comma rune) *CSVRecords {
	buf := bufio.NewWriterSize(out, 64<<10)
	buf.WriteString(bom) // an error stays in buf: Write and Flush return it
	w := csv.NewWriter(buf)
	w.UseCRLF = true
	if comma != 0 {
		w.Comma = comma
	}
	return &CSVRecords{buf: buf, w: w}
}

// Write writes one record; it returns the first error of the file.
func (c *CSVRecords) Write(rec []string) error {
	if err := c.w.Write(rec); err != nil {
		return err
	}
	return c.Err()
}

// Err returns the first error writing the file.
func (c *CSVRecords) Err() error {
	if err := c.w.Error(); err != nil {
		return err
	}
	_, err := c.buf.Write(nil) // bufio.Writer keeps its first error
	return err
}

// Flush writes what is buffered: the end of the file.
func (c *CSVRecords) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.buf.Flush()
}

func (c *csvFormat) start() error {
	c.w = NewCSVRecords(c.out, c.opts.Comma)
	h := make([]string, len(columns))
	for i, col := range columns {
		h[i] = col.title
	}
	return c.w.Write(h)
}

func (c *csvFormat) row(r *reporting.Row) error {
	c.fields = texts(r, c.opts.UnitNames, c.fields)
	for i, f := range c.fields {
		c.fields[i] = Defuse(f)
	}
	c.fields[colDue] = r.Due.String()
	c.fields[colCompleted] = completedDay(r, c.opts.Location).String()
	c.fields[colExpires] = r.Expires.String()
	if r.Score != nil {
		c.fields[colScore] = strconv.FormatFloat(*r.Score, 'f', -1, 64)
	}
	return c.w.Write(c.fields)
}

func (c *csvFormat) finish(*reporting.Summary) error {
	return c.w.Flush()
}

func (c *csvFormat) abort() {}

// Defuse prefixes text a spreadsheet would take for a formula (starting
// with =, +, -, @, a tab or a carriage return) with an apostrophe, so that
// a name or unit from HR data can never run as one (CSV injection).
func Defuse(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// WriteSummaryCSV writes the counts of a report summary as CSV, in the
// format of NewCSV: one line for the total, then one per unit, role,
// module and campaign, with the number of rows, the compliant rows, their
// percentage of the rows not exempt, and the rows of each status.
func WriteSummaryCSV(out io.Writer, s *reporting.Summary, opts Options) error {
	w := NewCSVRecords(out, opts.Comma)
	if err := w.Write(summaryHeader()); err != nil {
		return err
	}
	for _, l := range summaryLines(s, opts.UnitNames) {
		rec := []string{l.group, Defuse(l.key), Defuse(l.name), strconv.Itoa(l.c.Rows), strconv.Itoa(l.c.Compliant),
			strconv.FormatFloat(l.c.Percent, 'f', 1, 64)}
		for _, st := range reporting.Statuses {
			rec = append(rec, strconv.Itoa(l.c.Status[st]))
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	return w.Flush()
}

// StatusHeader names the columns of a row in the CSV of the HTTP service's
// status and reminder reports (StatusRecord); the service's reminders put
// the manager's columns before them.
var StatusHeader = []string{"person", "name", "email", "units", "roles", "module", "campaign", "rules", "status",
	"due", "completed", "expires", "score", "exemption", "evidence"}

// StatusRecord returns the fields of r under StatusHeader, appended to
// prefix: ids as they are, lists joined by "|" (as the roster CSV has
// them), the completion as an instant in loc, evidence as statement ids,
// free text defused.
func StatusRecord(prefix []string, r *reporting.Row, loc *time.Location) []string {
	var completed, score string
	if !r.Completed.IsZero() {
		completed = r.Completed.In(loc).Format(time.RFC3339)
	}
	if r.Score != nil {
		score = strconv.FormatFloat(*r.Score, 'f', -1, 64)
	}
	evidence := make([]string, len(r.Evidence))
	for i, e := range r.Evidence {
		evidence[i] = e.Statement
	}
	return append(prefix, r.Person, Defuse(r.Name), Defuse(r.Email), strings.Join(r.Units, listSep), strings.Join(r.Roles, listSep),
		r.Module, r.Campaign, strings.Join(r.Rules, listSep), string(r.Status), r.Due.String(), completed,
		r.Expires.String(), score, Defuse(r.Exemption), strings.Join(evidence, listSep))
}
