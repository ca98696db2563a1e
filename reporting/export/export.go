// Package export writes compliance report rows (reporting.Row) as files HR
// opens in a spreadsheet: CSV (UTF-8 with a byte order mark, RFC 4180) and
// XLSX (a styled, filterable sheet of rows and a sheet of summary counts).
//
// CSVRecords is the one writer of CSV files: NewCSV, WriteSummaryCSV and
// the HTTP service's CSV reports (StatusRecord) all write through it.
//
// A Writer streams: reporting.Report can emit straight into Row, and Close
// finishes the file with the report's summary:
//
//	w := export.NewXLSX(out, export.Options{Location: loc})
//	sum, err := reporting.Report(ctx, st, tenant, q, w.Row)
//	if err != nil {
//		w.Abort()
//		return err
//	}
//	return w.Close(sum)
package export

import (
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
)

// Formats a Writer can write.
const (
	CSV  = "csv"
	XLSX = "xlsx"
)

// Options are the settings of a Writer.
type Options struct {
	// Location is the time zone of the organisation's calendar days, in
	// which the Completed column shows the day of a completion (use the
	// report's Options.Location). nil: UTC.
	Location *time.Location
	// Comma is the field separator of CSV files; 0 means ','. Spreadsheets
	// set up for Norwegian or Danish (where ',' is the decimal separator)
	// split CSV files on ';' when opened by double-click.
	Comma rune
	// UnitNames maps unit ids to names (the roster's, see reporting.View):
	// the "Unit names" column of the rows and the "Name" of each unit in
	// the summary. Units without a name show none.
	UnitNames map[string]string
}

// Writer writes report rows to a file of one format. It is not safe for
// concurrent use. Errors while setting up the file are returned by the
// first call of Row or Close; after an error, every call returns it.
type Writer struct {
	f       format
	started bool
	closed  bool
	err     error
}

// format is one file format. abort may be called more than once.
type format interface {
	start() error                      // writes the header
	row(r *reporting.Row) error        // writes one row
	finish(s *reporting.Summary) error // completes the file
	abort()                            // releases resources without completing
}

// New returns a Writer of the format named (CSV or XLSX), or an
// errs.Invalid error for another name.
func New(name string, w io.Writer, opts Options) (*Writer, error) {
	switch strings.ToLower(name) {
	case CSV:
		return NewCSV(w, opts), nil
	case XLSX:
		return NewXLSX(w, opts), nil
	}
	return nil, errs.Invalidf("format", "export-format", "unknown export format %q: use %q or %q", name, CSV, XLSX)
}

// ContentType returns the media type of a format ("" for an unknown one).
func ContentType(name string) string {
	switch strings.ToLower(name) {
	case CSV:
		return "text/csv; charset=utf-8"
	case XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return ""
}

// errClosed is returned by a Writer used after Close or Abort.
var errClosed = errors.New("export: the writer is closed")

// Row writes one row. Its signature is that of the emit function of
// reporting.Report.
func (w *Writer) Row(r *reporting.Row) error {
	if err := w.begin(); err != nil {
		return err
	}
	if err := w.f.row(r); err != nil {
		return w.fail(err)
	}
	return nil
}

// Close completes the file: the XLSX format adds a summary sheet from s
// (none when s is nil); CSV files hold rows only (see WriteSummaryCSV). A
// report without rows still gets its header row.
func (w *Writer) Close(s *reporting.Summary) error {
	if err := w.begin(); err != nil {
		return err
	}
	w.closed = true
	if err := w.f.finish(s); err != nil {
		return w.fail(err)
	}
	return nil
}

// Abort releases what the Writer holds (the XLSX format's temporary
// files) without completing the file, e.g. when the report failed.
func (w *Writer) Abort() {
	if !w.closed {
		w.closed = true
		w.f.abort()
	}
}

// begin writes the header the first time; it fails on a closed or failed
// Writer.
func (w *Writer) begin() error {
	switch {
	case w.err != nil:
		return w.err
	case w.closed:
		return errClosed
	case !w.started:
		w.started = true
		if err := w.f.start(); err != nil {
			return w.fail(err)
		}
	}
	return nil
}

// fail records err, which every later call returns, and releases what the
// format holds.
func (w *Writer) fail(err error) error {
	w.err = err
	w.closed = true
	w.f.abort()
	return err
}

// column is one column of the rows sheet.
type column struct {
	title string
	width float64 // in characters, for XLSX
}

// columns are the columns of both formats, in order.
var columns = []column{
	{"Employee ID", 13}, {"Name", 28}, {"E-mail", 32}, {"Units", 18}, {"Unit names", 28}, {"Roles", 16},
	{"Module", 14}, {"Campaign", 14}, {"Rules", 16}, {"Status", 14},
	{"Due", 12}, {"Completed", 12}, {"Expires", 12}, {"Score", 8}, {"Exemption", 28},
}

// Indexes of the columns that are not plain text.
const (
	colDue = 10 + iota
	colCompleted
	colExpires
	colScore
)

// listSep joins the units, roles and rules of a row in one cell, as the
// roster's CSV and the reports' CSV do.
const listSep = "|"

// texts returns the text cells of r (dates and score left empty).
func texts(r *reporting.Row, names map[string]string, out []string) []string {
	out = append(out[:0], r.Person, r.Name, r.Email, strings.Join(r.Units, listSep), unitNames(r.Units, names),
		strings.Join(r.Roles, listSep), r.Module, r.Campaign, strings.Join(r.Rules, listSep), string(r.Status),
		"", "", "", "", r.Exemption)
	return out
}

// unitNames joins the names of units ("" when names is nil).
func unitNames(units []string, names map[string]string) string {
	if names == nil || len(units) == 0 {
		return ""
	}
	if len(units) == 1 {
		return names[units[0]]
	}
	out := make([]string, len(units))
	for i, u := range units {
		out[i] = names[u]
	}
	return strings.Join(out, listSep)
}

// completedDay returns the day of r's completion in loc, or 0.
func completedDay(r *reporting.Row, loc *time.Location) reporting.Date {
	if r.Completed.IsZero() {
		return 0
	}
	return reporting.DateOf(r.Completed, loc)
}

// summaryLine is one line of a summary: the counts of a group of rows.
type summaryLine struct {
	group string // "total", "unit", "role", "module" or "campaign"
	key   string
	name  string // units only, from Options.UnitNames
	c     *reporting.Counts
}

// summaryLines lists the counts of s: the total, then each unit, role,
// module and campaign, by id.
func summaryLines(s *reporting.Summary, names map[string]string) []summaryLine {
	out := []summaryLine{{"total", "", "", &s.Total}}
	for _, g := range []struct {
		name string
		m    map[string]*reporting.Counts
	}{{"unit", s.Units}, {"role", s.Roles}, {"module", s.Modules}, {"campaign", s.Campaigns}} {
		keys := make([]string, 0, len(g.m))
		for k := range g.m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			l := summaryLine{group: g.name, key: k, c: g.m[k]}
			if g.name == "unit" {
				l.name = names[k]
			}
			out = append(out, l)
		}
	}
	return out
}

// summaryHeader is the header of a summary table: the group, its id and
// name, the number of rows, the compliant rows and their share, then each status.
func summaryHeader() []string {
	h := []string{"Group", "ID", "Name", "Rows", "Compliant", "Percent"}
	for _, s := range reporting.Statuses {
		h = append(h, string(s))
	}
	return h
}
