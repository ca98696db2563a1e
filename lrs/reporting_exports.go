package lrs

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/reporting/evidence"
	"github.com/xapi-lrs/lrs/reporting/export"
)

// xlsxType is the media type of an Excel workbook.
const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// statusXLSX answers the status report as an Excel workbook: the rows on
// the first sheet (dates as dates, scores as numbers), the summary per
// unit, role, module and campaign on the second. The workbook streams like
// the other formats: a failure before its first bytes is an ordinary
// error answer, one after cuts the response off.
func (s *Server) statusXLSX(c *echo.Context, tenant string, rq reporting.Query) error {
	names, err := export.UnitNames(c.Request().Context(), s.rp.store, tenant, rq.Options)
	if err != nil {
		return err
	}
	out := &reportStream{c: c, format: "xlsx", filename: "status-" + reportDay(rq.Options) + ".xlsx"}
	w := export.NewXLSX(out, export.Options{Location: rq.Location, UnitNames: names})
	var read privacy.Subjects
	defer func() { s.logAccess(c, privacy.ReadStatusReport+";xlsx", &read, out.rows) }()
	sum, err := reporting.Report(c.Request().Context(), s.rp.store, tenant, rq, func(r *reporting.Row) error {
		read.Person(r.Person)
		out.rows++
		return w.Row(r)
	})
	if err == nil {
		err = w.Close(sum)
	}
	if err != nil {
		w.Abort()
		return s.streamFailed(c, out, err)
	}
	return nil
}

// getEvidencePack serves GET /api/v1/reports/evidence: the auditor's
// evidence pack for unit subtrees (unit, required: a whole organisation's
// pack runs to hundreds of megabytes) and a period (from, to: days) —
// every requirement on the period's last day with its proof (statement
// ids, timestamps, stored times, authority, SHA-256 of each statement) —
// as a JWS signed with the server's token signing key, which
// `lrs evidence verify` checks against /api/v1/jwks.json.
func (s *Server) getEvidencePack(c *echo.Context) error {
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	if err := allowOnly(q, "unit", "from", "to", "knownAt", "tz", "dueWithin", "expiringWithin"); err != nil {
		return err
	}
	if s.cfg.Tokens == nil {
		return errs.E(errs.Unavailable, "evidence packs are signed with the server's token keys, and tokens are off (--tokens=false)")
	}
	units, err := idList(q, "unit")
	if err != nil {
		return err
	}
	if len(units) == 0 {
		return errs.Invalidf("unit", "param-required", "give unit: the pack covers the subtrees of these units (comma-separated ids)")
	}
	opts, err := s.reportOptions(q)
	if err != nil {
		return err
	}
	period, err := evidence.ParsePeriod(q.Get("from"), q.Get("to"))
	if err != nil {
		return err
	}
	req := evidence.Request{Units: units, Period: period, KnownAt: opts.KnownAt, Location: opts.Location,
		DueWithin: opts.DueWithin, ExpiringWithin: opts.ExpiringWithin, Reminders: s.cfg.Reminders}
	tenant := tenantOf(state(c).cred)
	pack, err := evidence.Collect(c.Request().Context(), s.rp.store, s.cfg.Store, tenant, req)
	if err != nil {
		return err
	}
	signed, err := evidence.Sign(pack, s.cfg.Tokens)
	if err != nil {
		return err
	}
	var read privacy.Subjects
	for i := range pack.Rows {
		read.Person(pack.Rows[i].Person)
	}
	defer s.logAccess(c, privacy.ReadEvidence, &read, len(pack.Rows))
	c.Response().Header().Set("Content-Disposition", `attachment; filename="evidence-`+tenant+`-`+req.Period.To.String()+`.jws"`)
	writeBody(c, http.StatusOK, "application/jose", signed)
	return nil
}
