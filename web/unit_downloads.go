package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/reporting/evidence"
	"github.com/xapi-lrs/lrs/reporting/export"
)

// The unit page's filters and its downloads beside the CSV: the Excel
// workbook of the API's XLSX status report and the signed evidence pack
// of the API's /api/v1/reports/evidence, for the unit's subtree.

// statusOpen is the status filter of the rows not done: every status but
// completed, expiring soon and exempt.
const statusOpen = "open"

// openStatuses are the statuses statusOpen keeps.
var openStatuses = []reporting.Status{reporting.StatusExpired, reporting.StatusOverdue, reporting.StatusInProgress,
	reporting.StatusDue, reporting.StatusNotStarted}

// unitFilter is what the unit page and its CSV and XLSX show of the
// unit's rows (GET parameters status and module).
type unitFilter struct {
	Status string // "": all; statusOpen; or one reporting.Status
	Module string // "": all; else a module of the catalog
}

// unitFiltered reads what the unit page and its downloads share: the
// unit and the dates of the request (unitRequest), the catalog and the
// filters.
func (p *Pages) unitFiltered(r *request) (*reporting.Unit, dates, *reporting.Catalog, unitFilter, error) {
	u, d, err := p.unitRequest(r)
	if err != nil {
		return nil, d, nil, unitFilter{}, err
	}
	cat, err := p.catalog(r)
	if err != nil {
		return nil, d, nil, unitFilter{}, err
	}
	f, err := readFilter(r, cat)
	return u, d, cat, f, err
}

// readFilter reads the filters of the query, checking them against the
// statuses and the catalog.
func readFilter(r *request, cat *reporting.Catalog) (unitFilter, error) {
	q := r.c.Request().URL.Query()
	f := unitFilter{Status: q.Get("status"), Module: q.Get("module")}
	if f.Status != "" && f.Status != statusOpen && !slices.Contains(reporting.Statuses, reporting.Status(f.Status)) {
		return f, errs.Invalidf("status", "status", "status must be %s or a status like overdue, got %q", statusOpen, f.Status)
	}
	if f.Module != "" && cat.Module(f.Module) == nil {
		return f, errs.Invalidf("module", "unknown-module", "module %q is not in the catalog", f.Module)
	}
	return f, nil
}

// query returns the report query of unit u on dates d with the filters.
func (f unitFilter) query(u *reporting.Unit, d dates, loc *time.Location) reporting.Query {
	q := reporting.Query{Options: d.options(loc), Units: []string{u.ID}}
	if f.Module != "" {
		q.Modules = []string{f.Module}
	}
	switch f.Status {
	case "":
	case statusOpen:
		q.Statuses = openStatuses
	default:
		q.Statuses = []reporting.Status{reporting.Status(f.Status)}
	}
	return q
}

// Active reports whether a filter is set.
func (f unitFilter) Active() bool { return f.Status != "" || f.Module != "" }

// linkQuery returns the query string of links keeping the dates and the
// filters ("" when there is nothing to keep).
func linkQuery(d dates, f unitFilter) string {
	v := d.values()
	if f.Status != "" {
		v.Set("status", f.Status)
	}
	if f.Module != "" {
		v.Set("module", f.Module)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// statusOptions are the choices of the status filter, f's selected.
func (r *request) statusOptions(f unitFilter) []option {
	out := []option{{"", r.T("filter.all"), f.Status == ""}, {statusOpen, r.T("filter.open"), f.Status == statusOpen}}
	for _, s := range reporting.Statuses {
		out = append(out, option{string(s), r.Status(s), f.Status == string(s)})
	}
	return out
}

// evidenceForm is the period the evidence pack form offers: by default
// the last full month before the page's day.
type evidenceForm struct {
	From, To reporting.Date
	KnownAt  reporting.Date
}

// lastFullMonth returns the first and last day of the month before d's.
func lastFullMonth(d reporting.Date) (from, to reporting.Date) {
	t := d.Start(time.UTC)
	to = reporting.NewDate(t.Year(), t.Month(), 1).AddDays(-1)
	t = to.Start(time.UTC)
	return reporting.NewDate(t.Year(), t.Month(), 1), to
}

// downloadName is the file name of a download of unit u on dates d:
// NAME-UNIT-ASOF[-known-KNOWNAT].EXT.
func downloadName(name string, u *reporting.Unit, d reporting.Date, knownAt reporting.Date, ext string) string {
	s := name + "-" + u.ID + "-" + d.String()
	if knownAt != 0 {
		s += "-known-" + knownAt.String()
	}
	return s + "." + ext
}

// download is the response of a file download, begun at its first byte:
// until then a failure still gets an error page.
type download struct {
	r           *request
	contentType string
	filename    string
	started     bool
}

func (w *download) Write(b []byte) (int, error) {
	if !w.started {
		w.started = true
		h := w.r.c.Response().Header()
		h.Set("Content-Type", w.contentType)
		h.Set("Content-Disposition", `attachment; filename="`+w.filename+`"`)
		w.r.c.Response().WriteHeader(http.StatusOK)
	}
	return w.r.c.Response().Write(b)
}

// xlsxType is the media type of an Excel workbook.
const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// unitXLSX serves GET /units/{id}/status.xlsx?asOf=&knownAt=&status=&module=:
// the unit's rows in the workbook of the API's XLSX status report (the
// same writer, export.Writer, with the units' names of the day and the
// summary of the rows), streamed.
func (p *Pages) unitXLSX(r *request) error {
	u, d, _, f, err := p.unitFiltered(r)
	if err != nil {
		return err
	}
	ctx := r.c.Request().Context()
	q := f.query(u, d, p.cfg.Location)
	names, err := export.UnitNames(ctx, p.cfg.Reporting, r.acc.Tenant, q.Options)
	if err != nil {
		return err
	}
	out := &download{r: r, contentType: xlsxType, filename: downloadName("status", u, d.AsOf, d.KnownAt, "xlsx")}
	w := export.NewXLSX(out, export.Options{Location: p.cfg.Location, UnitNames: names})
	var read privacy.Subjects
	n := 0
	defer func() { p.logAccess(r, privacy.ReadPageUnitXLSX, &read, n) }()
	sum, err := reporting.Report(ctx, p.cfg.Reporting, r.acc.Tenant, q, func(row *reporting.Row) error {
		read.Person(row.Person)
		n++
		return w.Row(row)
	})
	if err == nil {
		err = w.Close(sum)
	}
	if err != nil {
		w.Abort()
	}
	return err
}

// unitEvidence serves GET /units/{id}/evidence?from=&to=&knownAt=: the
// signed evidence pack of the unit's subtree for the period, as the API's
// GET /api/v1/reports/evidence?unit=ID answers it (evidence.Collect and
// evidence.Sign with the server's token key), in the pages' time zone.
func (p *Pages) unitEvidence(r *request) error {
	u, d, err := p.unitRequest(r)
	if err != nil {
		return err
	}
	if p.cfg.Signer == nil || p.cfg.Statements == nil {
		// The page offers no pack then (tokens are off).
		return errs.E(errs.NotFound, "evidence packs are signed with the server's token keys, and tokens are off")
	}
	q := r.c.Request().URL.Query()
	period, err := evidence.ParsePeriod(q.Get("from"), q.Get("to"))
	if err != nil {
		return err
	}
	req := evidence.Request{Units: []string{u.ID}, Period: period, Location: p.cfg.Location, Reminders: p.cfg.Reminders}
	if d.KnownAt != 0 {
		req.KnownAt = endOf(d.KnownAt, p.cfg.Location)
	}
	pack, err := evidence.Collect(r.c.Request().Context(), p.cfg.Reporting, p.cfg.Statements, r.acc.Tenant, req)
	if err != nil {
		return err
	}
	signed, err := evidence.Sign(pack, p.cfg.Signer)
	if err != nil {
		return err
	}
	var read privacy.Subjects
	for i := range pack.Rows {
		read.Person(pack.Rows[i].Person)
	}
	defer p.logAccess(r, privacy.ReadPageUnitEvidence, &read, len(pack.Rows))
	out := &download{r: r, contentType: evidence.MediaType, filename: downloadName("evidence", u, period.To, d.KnownAt, "jws")}
	_, err = out.Write(signed)
	return err
}
