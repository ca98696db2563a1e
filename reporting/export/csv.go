package export

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
	"strings"

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
	buf    *bufio.Writer
	w      *csv.Writer
	fields []string
}

// newCSVWriter starts a CSV file on out: the byte order mark, then the
// writer of records.
func newCSVWriter(out io.Writer, opts Options) (*bufio.Writer, *csv.Writer, error) {
	buf := bufio.NewWriterSize(out, 64<<10)
	if _, err := buf.WriteString(bom); err != nil {
		return nil, nil, err
	}
	w := csv.NewWriter(buf)
	w.UseCRLF = true
	if opts.Comma != 0 {
		w.Comma = opts.Comma
	}
	return buf, w, nil
}

func (c *csvFormat) start() error {
	var err error
	if c.buf, c.w, err = newCSVWriter(c.out, c.opts); err != nil {
		return err
	}
	h := make([]string, len(columns))
	for i, col := range columns {
		h[i] = col.title
	}
	return c.w.Write(h)
}

func (c *csvFormat) row(r *reporting.Row) error {
	c.fields = texts(r, c.opts.UnitNames, c.fields)
	for i, f := range c.fields {
		c.fields[i] = defuse(f)
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
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.buf.Flush()
}

func (c *csvFormat) abort() {}

// defuse prefixes text a spreadsheet would take for a formula with an
// apostrophe, so that a name or unit from HR data can never run as one
// (CSV injection).
func defuse(s string) string {
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
	buf, w, err := newCSVWriter(out, opts)
	if err != nil {
		return err
	}
	if err := w.Write(summaryHeader()); err != nil {
		return err
	}
	for _, l := range summaryLines(s, opts.UnitNames) {
		rec := []string{l.group, defuse(l.key), defuse(l.name), strconv.Itoa(l.c.Rows), strconv.Itoa(l.c.Compliant),
			strconv.FormatFloat(l.c.Percent, 'f', 1, 64)}
		for _, st := range reporting.Statuses {
			rec = append(rec, strconv.Itoa(l.c.Status[st]))
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return buf.Flush()
}
