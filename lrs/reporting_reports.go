package lrs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/reporting/export"
	"github.com/xapi-lrs/lrs/statements"
)

// The reports, under /api/v1 with scope reports/read. Their parameters:
//
//	unit, role, module, person  filters, each a comma-separated list of ids:
//	                            people in one of the unit subtrees, holding
//	                            one of the roles, among the people given;
//	                            rows of the modules given (status, summary,
//	                            reminders)
//	asOf     the day (YYYY-MM-DD: its end) or instant (ISO 8601) the report
//	         describes; default: now
//	knownAt  a day or instant: only what the LRS had recorded by then
//	         (statements, voidings, roster imports); default: everything
//	tz       the IANA time zone of the organisation's calendar days, e.g.
//	         Europe/Oslo; default UTC
//	dueWithin, expiringWithin  ISO 8601 periods (P14D, P30D) that make a
//	         row "due" or "expiring-soon"
//	format   json or csv (status and reminders); default: the Accept
//	         header's choice, else JSON
//	delimiter  comma (default), semicolon or tab, for CSV
//	within   (reminders) how far ahead due dates and expiries count; P14D
//	form     (reminders) list (every row, the default) or summary (counts
//	         per manager and module)

// reportFilters are the query parameters of the filters.
var reportFilters = []string{"unit", "role", "module", "person"}

// optionParams are the query parameters of reporting.Options.
var optionParams = []string{"asOf", "knownAt", "tz", "dueWithin", "expiringWithin"}

// reportOptions reads the options of a report from the query string; the
// report is as of now unless asOf says otherwise.
func (s *Server) reportOptions(q url.Values) (reporting.Options, error) {
	var o reporting.Options
	o.Location = time.UTC
	if v := q.Get("tz"); v != "" {
		loc, err := time.LoadLocation(v)
		if err != nil || v == "Local" {
			return o, errs.Invalidf("tz", "time-zone", "parameter tz must be an IANA time zone like Europe/Oslo, got %q", v)
		}
		o.Location = loc
	}
	var err error
	if o.AsOf, err = dayOrInstantParam(q, "asOf", o.Location); err != nil {
		return o, err
	}
	if o.AsOf.IsZero() {
		o.AsOf = s.now()
	}
	if o.KnownAt, err = dayOrInstantParam(q, "knownAt", o.Location); err != nil {
		return o, err
	}
	if o.DueWithin, err = periodParam(q, "dueWithin"); err != nil {
		return o, err
	}
	if o.ExpiringWithin, err = periodParam(q, "expiringWithin"); err != nil {
		return o, err
	}
	return o, nil
}

// dayOrInstantParam parses a parameter that is a day (YYYY-MM-DD or
// DD.MM.YYYY: its last instant in loc) or an ISO 8601 timestamp. Absent:
// the zero time.
func dayOrInstantParam(q url.Values, name string, loc *time.Location) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := reporting.ParseDate(v); err == nil {
		return d.AddDays(1).Start(loc).Add(-time.Nanosecond), nil
	}
	t, err := statements.ParseTimestamp(strings.ReplaceAll(v, " ", "+"))
	if err != nil {
		return time.Time{}, errs.Invalidf(name, "date",
			"parameter %s must be a date like 2025-10-31 or a timestamp like 2025-10-31T12:00:00Z, got %q", name, v)
	}
	return t, nil
}

// periodParam parses an ISO 8601 period parameter (P14D, P2W, P6M, P1Y).
func periodParam(q url.Values, name string) (reporting.Period, error) {
	v := q.Get(name)
	p, err := reporting.ParsePeriod(v)
	if err != nil {
		return p, errs.Invalidf(name, "period", "parameter %s must be a period like P14D, P2W, P6M or P1Y, got %q", name, v)
	}
	return p, nil
}

// idList parses a comma-separated list of ids (employee, unit, role or
// module ids: letters, digits and . _ - :).
func idList(q url.Values, name string) ([]string, error) {
	v := q.Get(name)
	if v == "" {
		return nil, nil
	}
	var out []string
	for _, id := range strings.Split(v, ",") {
		id = strings.TrimSpace(id)
		if !validReportID(id) {
			return nil, errs.Invalidf(name, "id-list",
				"parameter %s is a comma-separated list of ids (letters, digits and . _ - :), got %q", name, v)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

func validReportID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == ':') {
			return false
		}
	}
	return true
}

// reportQuery reads the filters and options of a report, checking that
// the modules named are in the catalog.
func (s *Server) reportQuery(ctx context.Context, tenant string, q url.Values) (reporting.Query, error) {
	var rq reporting.Query
	var err error
	if rq.Options, err = s.reportOptions(q); err != nil {
		return rq, err
	}
	for _, f := range []struct {
		name string
		dst  *[]string
	}{{"unit", &rq.Units}, {"role", &rq.Roles}, {"module", &rq.Modules}, {"person", &rq.People}} {
		if *f.dst, err = idList(q, f.name); err != nil {
			return rq, err
		}
	}
	if len(rq.Modules) > 0 {
		cat, err := s.rp.store.Catalog(ctx, tenant)
		if err != nil {
			return rq, err
		}
		for _, m := range rq.Modules {
			if cat.Module(m) == nil {
				return rq, errs.Invalidf("module", "unknown-module", "module %q is not in the catalog", m)
			}
		}
	}
	return rq, nil
}

// reportRequest parses the parameters of a report over the status rows:
// the filters and options, and the extra parameters the report takes. It
// returns them with the caller's tenant and the query.
func (s *Server) reportRequest(c *echo.Context, extra ...string) (url.Values, string, reporting.Query, error) {
	q, err := parseParams(c.Request())
	if err != nil {
		return nil, "", reporting.Query{}, err
	}
	if err := allowOnly(q, slices.Concat(reportFilters, optionParams, extra)...); err != nil {
		return nil, "", reporting.Query{}, err
	}
	tenant := tenantOf(state(c).cred)
	rq, err := s.reportQuery(c.Request().Context(), tenant, q)
	return q, tenant, rq, err
}

// reportFormat returns how to answer: "json", "csv" or "xlsx" (an Excel
// workbook; status report only), by the format parameter or else the
// Accept header; and the CSV delimiter.
func reportFormat(c *echo.Context, q url.Values) (format string, comma rune, err error) {
	switch v := q.Get("format"); v {
	case "json", "csv", "xlsx":
		format = v
	case "":
		format = "json"
		if accept := c.Request().Header.Get("Accept"); strings.Contains(accept, "text/csv") && !strings.Contains(accept, "application/json") {
			format = "csv"
		} else if accept == xlsxType {
			format = "xlsx"
		}
	default:
		return "", 0, errs.Invalidf("format", "format", "parameter format must be json, csv or xlsx, got %q", v)
	}
	switch v := q.Get("delimiter"); v {
	case "", "comma":
		comma = ','
	case "semicolon":
		comma = ';'
	case "tab":
		comma = '\t'
	default:
		return "", 0, errs.Invalidf("delimiter", "delimiter", "parameter delimiter must be comma, semicolon or tab, got %q", v)
	}
	if q.Has("delimiter") && format != "csv" {
		return "", 0, errs.Invalidf("delimiter", "delimiter", "parameter delimiter applies to CSV only (format=csv)")
	}
	return format, comma, nil
}

// getStatusReport serves GET /api/v1/reports/status: one row per person
// and required module, streamed as it is computed. JSON:
// {"rows": [Row...], "summary": Summary}; CSV: a header line and one line
// per row, in UTF-8 with a byte-order mark (so that Excel reads æøå).
func (s *Server) getStatusReport(c *echo.Context) error {
	q, tenant, rq, err := s.reportRequest(c, "format", "delimiter")
	if err != nil {
		return err
	}
	format, comma, err := reportFormat(c, q)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if format == "xlsx" {
		return s.statusXLSX(c, tenant, rq)
	}
	out := &reportStream{c: c, format: format, comma: comma, loc: rq.Location, header: export.StatusHeader}
	if format == "csv" {
		out.filename = "status-" + reportDay(rq.Options) + ".csv"
	}
	var read privacy.Subjects
	defer func() { s.logAccess(c, privacy.ReadStatusReport+";"+format, &read, out.rows) }()
	sum, err := reporting.Report(ctx, s.rp.store, tenant, rq, func(row *reporting.Row) error {
		read.Person(row.Person)
		return out.row(row, nil)
	})
	if err != nil {
		return s.streamFailed(c, out, err)
	}
	if err := out.finish(sum); err != nil {
		return s.streamFailed(c, out, err)
	}
	return nil
}

// getSummaryReport serves GET /api/v1/reports/summary: the summary of the
// status report (totals per unit, role, module and campaign), without its
// rows.
func (s *Server) getSummaryReport(c *echo.Context) error {
	_, tenant, rq, err := s.reportRequest(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	sum, err := reporting.Report(ctx, s.rp.store, tenant, rq, func(*reporting.Row) error { return nil })
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, sum)
}

// getReminders serves GET /api/v1/reports/reminders?within=P14D: who is
// overdue or expired, or due or expiring within the period, grouped by the
// manager who should remind them, streamed as it is computed. JSON:
// {"asOf", "day", "within", "managers": [{"manager", "name", "email",
// "rows": [Row...]}...]}; CSV: the manager's id, name and e-mail before
// each status row. With form=summary, each manager's reminders counted
// instead of listed (reporting.ReminderSummary: people, and overdue and
// due soon in all and per module), a few hundred bytes a manager; in CSV
// one line per manager, with two columns per module.
func (s *Server) getReminders(c *echo.Context) error {
	q, tenant, rq, err := s.reportRequest(c, "within", "format", "delimiter", "form")
	if err != nil {
		return err
	}
	format, comma, err := reportFormat(c, q)
	if err != nil {
		return err
	}
	if format == "xlsx" {
		return errs.Invalidf("format", "format", "reminders come as json or csv; the workbook is for the status report")
	}
	within, err := periodParam(q, "within")
	if err != nil {
		return err
	}
	if within.IsZero() {
		within = reporting.Period{Days: 14}
	}
	head := map[string]any{"asOf": rq.AsOf.UTC(), "day": reporting.DateOf(rq.AsOf, rq.Location), "within": within}
	filename := "reminders-" + reportDay(rq.Options) + ".csv"
	ctx := c.Request().Context()
	switch form := q.Get("form"); form {
	case "summary":
		sums, err := reporting.SummariseReminders(ctx, s.rp.store, tenant, rq, within)
		if err != nil {
			return err
		}
		var read privacy.Subjects // the managers, named with their contact details
		for _, sum := range sums {
			read.Person(sum.Manager)
		}
		s.logAccess(c, privacy.ReadReminders+";summary;"+format, &read, len(sums))
		if format == "json" {
			head["managers"] = sums
			return writeJSON(c, http.StatusOK, head)
		}
		return s.writeReminderSummaryCSV(c, filename, comma, sums)
	case "", "list":
	default:
		return errs.Invalidf("form", "form", "parameter form must be list (every row, the default) or summary (counts per manager), got %q", form)
	}
	out := &reportStream{c: c, format: format, comma: comma, loc: rq.Location,
		header: slices.Concat(reminderHeader, export.StatusHeader)}
	if format == "csv" {
		out.filename = filename
	} else {
		b, err := json.Marshal(head)
		if err != nil {
			return err
		}
		out.open = string(b[:len(b)-1]) + `,"managers":[`
	}
	var group *reporting.ReminderGroup
	var prefix []string // the manager's CSV fields
	var read privacy.Subjects
	defer func() { s.logAccess(c, privacy.ReadReminders+";"+format, &read, out.rows) }()
	err = reporting.StreamReminders(ctx, s.rp.store, tenant, rq, within, func(g *reporting.ReminderGroup, row *reporting.Row) error {
		read.Person(g.Manager)
		read.Person(row.Person)
		if format == "csv" {
			if g != group {
				prefix = []string{g.Manager, export.Defuse(g.Name), export.Defuse(g.Email)}
				group = g
			}
			return out.row(row, prefix)
		}
		if g != group {
			b, err := json.Marshal(g) // {"manager", "name", "email", "rows": null}
			if err != nil {
				return err
			}
			open := strings.TrimSuffix(string(b), `null}`) + "["
			if group != nil {
				open = "]}," + open
			}
			out.text(open)
			group = g
		}
		return out.row(row, nil)
	})
	if err == nil && group != nil && format == "json" {
		out.text("]}")
	}
	if err == nil {
		err = out.finish(nil)
	}
	if err != nil {
		return s.streamFailed(c, out, err)
	}
	return nil
}

// writeReminderSummaryCSV answers the reminder summaries in CSV: per
// manager, the counts in all and per module (the modules with any, in
// order of id).
func (s *Server) writeReminderSummaryCSV(c *echo.Context, filename string, comma rune, sums []reporting.ReminderSummary) error {
	var modules []string
	for _, sum := range sums {
		for m := range sum.Modules {
			if !slices.Contains(modules, m) {
				modules = append(modules, m)
			}
		}
	}
	slices.Sort(modules)
	header := []string{"manager", "manager_name", "manager_email", "people", "overdue", "due_soon"}
	for _, m := range modules {
		header = append(header, m+" overdue", m+" due_soon")
	}
	out := &reportStream{c: c, format: "csv", comma: comma, filename: filename, header: header}
	for _, sum := range sums {
		rec := []string{sum.Manager, export.Defuse(sum.Name), export.Defuse(sum.Email), strconv.Itoa(sum.People),
			strconv.Itoa(sum.Total.Overdue), strconv.Itoa(sum.Total.DueSoon)}
		for _, m := range modules {
			var n reporting.ReminderCounts
			if mc := sum.Modules[m]; mc != nil {
				n = *mc
			}
			rec = append(rec, strconv.Itoa(n.Overdue), strconv.Itoa(n.DueSoon))
		}
		if err := out.record(rec); err != nil {
			return s.streamFailed(c, out, err)
		}
	}
	if err := out.finish(nil); err != nil {
		return s.streamFailed(c, out, err)
	}
	return nil
}

// getUnmatched serves GET /api/v1/reports/unmatched: the learners with
// statements whom the roster does not know, {"agents": [...]}. Their
// statements count as soon as a roster import gives someone their
// identifier.
func (s *Server) getUnmatched(c *echo.Context) error {
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	if err := allowOnly(q, "asOf", "knownAt", "tz"); err != nil {
		return err
	}
	opts, err := s.reportOptions(q)
	if err != nil {
		return err
	}
	agents, err := reporting.Unmatched(c.Request().Context(), s.rp.store, tenantOf(state(c).cred), opts)
	if err != nil {
		return err
	}
	var read privacy.Subjects
	for _, a := range agents {
		read.Agent(a.Agent)
	}
	s.logAccess(c, privacy.ReadUnmatched, &read, len(agents))
	return writeJSON(c, http.StatusOK, map[string]any{"agents": agents})
}

// getTranscript serves GET /api/v1/people/{id}/transcript: everything a
// person (employee id) completed, with the evidence of each completion
// (statement id, authority, SHA-256 of the statement as stored). Unknown
// people are 404.
func (s *Server) getTranscript(c *echo.Context) error {
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	if err := allowOnly(q, "asOf", "knownAt", "tz"); err != nil {
		return err
	}
	id := c.Param("id")
	if !validReportID(id) {
		return errs.Invalidf("id", "person-id", "an employee id holds 1 to 128 letters, digits and . _ - :, got %q", id)
	}
	opts, err := s.reportOptions(q)
	if err != nil {
		return err
	}
	t, err := reporting.PersonTranscript(c.Request().Context(), s.rp.store, s.cfg.Store, tenantOf(state(c).cred), id, opts)
	if err != nil {
		return err
	}
	var read privacy.Subjects
	read.Person(id)
	s.logAccess(c, privacy.ReadTranscript, &read, len(t.Entries))
	return writeJSON(c, http.StatusOK, t)
}

// reportDay names the day of a report in file names.
func reportDay(o reporting.Options) string { return reporting.DateOf(o.AsOf, o.Location).String() }

// reminderHeader names the CSV columns reminders put before a row's
// (export.StatusHeader).
var reminderHeader = []string{"manager", "manager_name", "manager_email"}

// reportStream writes a report as it is computed, in JSON, CSV or XLSX
// (written by an export.Writer through Write). The response starts with
// the first bytes of the report, so that an error before them gets an
// ordinary error response.
type reportStream struct {
	c        *echo.Context
	format   string // "json", "csv" or "xlsx"
	comma    rune
	loc      *time.Location
	filename string   // CSV and XLSX
	header   []string // CSV
	open     string   // JSON before the first row; default {"rows":[

	started bool
	rows    int
	inArray int // rows written to the current JSON array
	w       *bufio.Writer
	buf     []byte             // a JSON row
	cw      *export.CSVRecords // CSV
	werr    error              // the first error writing the response
}

// errWrite marks a failure to write the response (the client went away).
type errWrite struct{ err error }

func (e *errWrite) Error() string { return "writing the response: " + e.err.Error() }
func (e *errWrite) Unwrap() error { return e.err }

func (o *reportStream) start() {
	if o.started {
		return
	}
	o.started = true
	h := o.c.Response().Header()
	switch o.format {
	case "csv":
		h.Set("Content-Type", "text/csv; charset=utf-8")
	case "xlsx":
		h.Set("Content-Type", xlsxType)
	default:
		h.Set("Content-Type", "application/json")
	}
	if o.filename != "" {
		h.Set("Content-Disposition", `attachment; filename="`+o.filename+`"`)
	}
	o.c.Response().WriteHeader(http.StatusOK)
	switch o.format {
	case "csv":
		o.cw = export.NewCSVRecords(o.c.Response(), o.comma)
		o.cw.Write(o.header)
	case "json":
		o.w = bufio.NewWriterSize(o.c.Response(), 32<<10)
		if o.open == "" {
			o.open = `{"rows":[`
		}
		o.w.WriteString(o.open)
	}
}

// Write writes bytes of an XLSX workbook.
func (o *reportStream) Write(p []byte) (int, error) {
	o.start()
	n, err := o.c.Response().Write(p)
	if err != nil && o.werr == nil {
		o.werr = &errWrite{err}
	}
	return n, o.werr
}

// text writes JSON text between rows (where a group of rows ends and the
// next begins); the next row starts a new array.
func (o *reportStream) text(s string) {
	o.start()
	o.w.WriteString(s)
	o.inArray = 0
}

// record writes one CSV record.
func (o *reportStream) record(fields []string) error {
	o.start()
	o.cw.Write(fields)
	o.rows++
	return o.err()
}

// row writes one row, after the prefix fields (CSV only).
func (o *reportStream) row(r *reporting.Row, prefix []string) error {
	o.start()
	o.rows++
	if o.format == "csv" {
		o.cw.WriteStatus(prefix, r, o.loc)
	} else {
		if o.inArray > 0 {
			o.w.WriteByte(',')
		}
		o.buf = append(r.AppendJSON(o.buf[:0]), '\n') // as json.Encoder.Encode writes it
		o.w.Write(o.buf)
		o.inArray++
	}
	if o.rows == 1 {
		o.flush() // the first row goes out at once, the next ones as the buffers fill
	}
	return o.err()
}

// flush sends what is buffered.
func (o *reportStream) flush() {
	if o.cw != nil {
		o.cw.Flush()
	} else {
		o.w.Flush()
	}
	http.NewResponseController(o.c.Response()).Flush() // the error is the next write's
}

// finish writes the end of the report: in JSON, the summary (when not
// nil) after the rows.
func (o *reportStream) finish(summary any) error {
	o.start()
	if o.format == "csv" {
		o.cw.Flush()
		return o.err()
	}
	o.w.WriteString("]")
	if summary != nil {
		o.w.WriteString(`,"summary":`)
		enc := json.NewEncoder(o.w)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(summary); err != nil {
			return err
		}
	}
	o.w.WriteString("}")
	o.w.Flush()
	return o.err()
}

// err returns the first error writing the response.
func (o *reportStream) err() error {
	if o.werr != nil {
		return o.werr
	}
	var err error
	switch {
	case o.cw != nil:
		err = o.cw.Err()
	case o.w != nil:
		_, err = o.w.Write(nil) // bufio.Writer keeps its first error
	}
	if err != nil {
		o.werr = &errWrite{err}
	}
	return o.werr
}

// streamFailed handles an error of a streamed report: before the response
// started, it is answered as usual; after, the connection is cut so that
// the client sees an incomplete response rather than a short report that
// looks whole.
func (s *Server) streamFailed(c *echo.Context, o *reportStream, err error) error {
	if !o.started {
		return err
	}
	var we *errWrite
	if !errors.As(err, &we) {
		s.log.Error("report failed after its first rows were sent; the response is cut off",
			"path", c.Request().URL.Path, "rows", o.rows, "err", err)
	}
	panic(http.ErrAbortHandler)
}
