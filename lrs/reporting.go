package lrs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
)

// Compliance reporting over HTTP (issue #5), under /api/v1, for the
// caller's tenant only, when Config.Reporting is set:
//
//   - the module catalog, rules, campaigns and exemptions (PUT and DELETE
//     with scope roster/write; GET with roster/write or reports/read);
//   - roster imports (POST with roster/write, as JSON or CSV; the import
//     records with reports/read too), and imports of an LMS's completion
//     export (imports.go; roster/write);
//   - the reports (scope reports/read): status (JSON or CSV, streamed; or
//     an Excel workbook), summary, reminders, unmatched learners, a
//     person's transcript (reporting_reports.go) and a unit's signed
//     evidence pack (reporting_exports.go);
//   - a rebuild of the completion projection from the stored statements
//     (scope admin).
//
// The scope all does not grant any of these: a credential of an LMS that
// writes statements does not read HR data.
//
// The ingest service (package ingest, called by the statement handlers in
// statements_write.go) keeps the projection up to date as statements
// arrive; ingestFailures counts its failures.

// reportingState is what the reporting API keeps beside the Server.
type reportingState struct {
	store reporting.Store
	// ingestFailures counts failed projections of stored statements: each
	// one leaves the projection behind until a rebuild.
	ingestFailures prometheus.Counter

	mu       sync.Mutex
	rebuilds map[string]*rebuildJob // by tenant: the latest rebuild
}

// Scopes of the reporting API.
var (
	reportsReadScopes = []string{auth.ScopeReportsRead}
	rosterWriteScopes = []string{auth.ScopeRosterWrite}
	catalogReadScopes = []string{auth.ScopeReportsRead, auth.ScopeRosterWrite}
	projectionScopes  = []string{auth.ScopeAdmin}
)

// maxRosterBodyBytes bounds a roster import: some 150,000 people in JSON.
const maxRosterBodyBytes = 64 << 20

// reportingRoutes registers the reporting API on e and returns its state;
// nil when Config.Reporting is nil (reporting off).
func (s *Server) reportingRoutes(e *echo.Echo) *reportingState {
	if s.cfg.Reporting == nil {
		return nil
	}
	rp := &reportingState{
		store: s.cfg.Reporting,
		ingestFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lrs_projection_ingest_failures_total",
			Help: "Statement writes whose projection into compliance facts failed (the statements are stored; run a projection rebuild).",
		}),
		rebuilds: map[string]*rebuildJob{},
	}
	s.cfg.Metrics.MustRegister(rp.ingestFailures)

	guard := func(scopes []string) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{s.authenticate, authorize(scopes...)}
	}
	read, write := guard(catalogReadScopes), guard(rosterWriteScopes)
	g := e.Group("/api/v1")
	catalogRoutes(s, g, catalogKind[reporting.Module]{name: "module", plural: "modules",
		id:   func(m *reporting.Module) *string { return &m.ID },
		list: func(c *reporting.Catalog) []*reporting.Module { return c.Modules },
		put:  rp.store.PutModule, del: rp.store.DeleteModule}, read, write)
	catalogRoutes(s, g, catalogKind[reporting.Rule]{name: "rule", plural: "rules",
		id:   func(r *reporting.Rule) *string { return &r.ID },
		list: func(c *reporting.Catalog) []*reporting.Rule { return c.Rules },
		put:  rp.store.PutRule, del: rp.store.DeleteRule}, read, write)
	catalogRoutes(s, g, catalogKind[reporting.Campaign]{name: "campaign", plural: "campaigns",
		id:   func(k *reporting.Campaign) *string { return &k.ID },
		list: func(c *reporting.Catalog) []*reporting.Campaign { return c.Campaigns },
		put:  rp.store.PutCampaign, del: rp.store.DeleteCampaign}, read, write)
	catalogRoutes(s, g, catalogKind[reporting.Exemption]{name: "exemption", plural: "exemptions",
		id:   func(x *reporting.Exemption) *string { return &x.ID },
		list: func(c *reporting.Catalog) []*reporting.Exemption { return c.Exemptions },
		put:  rp.store.PutExemption, del: rp.store.DeleteExemption}, read, write)

	g.POST("/roster/imports", s.postRosterImport, write...)
	g.GET("/roster/imports", s.listRosterImports, read...)
	g.GET("/roster/imports/:id", s.getRosterImport, read...)
	g.POST("/imports/completions", s.postCompletionsImport, write...) // imports.go

	reports := guard(reportsReadScopes)
	g.GET("/reports/status", s.getStatusReport, reports...)
	g.GET("/reports/summary", s.getSummaryReport, reports...)
	g.GET("/reports/reminders", s.getReminders, reports...)
	g.GET("/reports/unmatched", s.getUnmatched, reports...)
	g.GET("/reports/evidence", s.getEvidencePack, reports...)
	g.GET("/people/:id/transcript", s.getTranscript, reports...)

	admin := guard(projectionScopes)
	g.POST("/projection/rebuild", s.postRebuild, admin...)
	g.GET("/projection/rebuild", s.getRebuild, admin...)
	return rp
}

// audit records a change to the catalog or the roster in the audit log,
// when there is one. The change is made: a failure is logged.
func (s *Server) audit(c *echo.Context, action, target, detail string) {
	if s.cfg.Audit == nil {
		return
	}
	cred := state(c).cred
	e := &auth.AuditEntry{Time: s.now().UTC(), Tenant: tenantOf(cred), Actor: cred.Key, Action: action,
		Target: target, Detail: detail}
	if err := s.cfg.Audit.AppendAudit(context.WithoutCancel(c.Request().Context()), e); err != nil {
		s.log.Error("recording an audit entry", "action", action, "target", target, "err", err)
	}
}

// catalogKind describes one kind of catalog entry for catalogRoutes.
type catalogKind[T any] struct {
	name, plural string
	id           func(*T) *string
	list         func(*reporting.Catalog) []*T
	put          func(ctx context.Context, tenant string, v *T) error
	del          func(ctx context.Context, tenant, id string) error
}

// catalogRoutes registers, for one kind of catalog entry:
//
//	GET    /api/v1/{plural}       {"{plural}": [...]}, sorted by id
//	GET    /api/v1/{plural}/{id}  the entry, or 404
//	PUT    /api/v1/{plural}/{id}  create (201) or replace (200) the entry;
//	                              the body's id, if given, must be the path's
//	DELETE /api/v1/{plural}/{id}  204; 404 if missing; 409 for a module
//	                              that a rule, campaign or exemption names
func catalogRoutes[T any, P interface {
	*T
	Validate() error
}](s *Server, g *echo.Group, k catalogKind[T], read, write []echo.MiddlewareFunc) {
	find := func(c *echo.Context) (*T, []*T, error) {
		cat, err := s.rp.store.Catalog(c.Request().Context(), tenantOf(state(c).cred))
		if err != nil {
			return nil, nil, err
		}
		list := k.list(cat)
		id := c.Param("id")
		i := slices.IndexFunc(list, func(v *T) bool { return *k.id(v) == id })
		if i < 0 {
			return nil, list, nil
		}
		return list[i], list, nil
	}
	g.GET("/"+k.plural, func(c *echo.Context) error {
		if err := noParams(c); err != nil {
			return err
		}
		_, list, err := find(c)
		if err != nil {
			return err
		}
		return writeJSON(c, http.StatusOK, map[string]any{k.plural: list})
	}, read...)
	g.GET("/"+k.plural+"/:id", func(c *echo.Context) error {
		if err := noParams(c); err != nil {
			return err
		}
		v, _, err := find(c)
		if err != nil {
			return err
		}
		if v == nil {
			return errs.E(errs.NotFound, "no %s %q", k.name, c.Param("id"))
		}
		return writeJSON(c, http.StatusOK, v)
	}, read...)
	g.PUT("/"+k.plural+"/:id", func(c *echo.Context) error {
		if err := noParams(c); err != nil {
			return err
		}
		id := c.Param("id")
		v := new(T)
		body := &countingBody{ReadCloser: c.Request().Body}
		c.Request().Body = body
		if err := readJSON(c, v); err != nil {
			return err
		}
		if body.n == 0 {
			return errs.Invalidf("", "body-required", "send the %s as a JSON object in the body", k.name)
		}
		switch got := k.id(v); {
		case *got == "":
			*got = id
		case *got != id:
			return errs.Invalidf("id", "id-match", "the id %q in the body differs from the id %q in the path", *got, id)
		}
		if err := P(v).Validate(); err != nil {
			return err
		}
		old, _, err := find(c)
		if err != nil {
			return err
		}
		if err := k.put(c.Request().Context(), tenantOf(state(c).cred), v); err != nil {
			return err
		}
		s.audit(c, k.name+".put", id, "")
		status := http.StatusOK
		if old == nil {
			status = http.StatusCreated
		}
		return writeJSON(c, status, v)
	}, write...)
	g.DELETE("/"+k.plural+"/:id", func(c *echo.Context) error {
		if err := noParams(c); err != nil {
			return err
		}
		id := c.Param("id")
		if err := k.del(c.Request().Context(), tenantOf(state(c).cred), id); err != nil {
			return err
		}
		s.audit(c, k.name+".delete", id, "")
		return c.NoContent(http.StatusNoContent)
	}, write...)
}

// countingBody counts the bytes read from a request body.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// noParams refuses any query parameter.
func noParams(c *echo.Context) error {
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	return allowOnly(q)
}

// CSV media types a roster import is accepted in: what HR systems,
// spreadsheets and browsers (Windows names .csv files as Excel's) send.
var csvMediaTypes = []string{"text/csv", "application/csv", "text/comma-separated-values", "application/vnd.ms-excel"}

// postRosterImport serves POST /api/v1/roster/imports: a roster import as
// JSON (reporting.Import: units and people together), or as CSV, one file
// of people (kind=people, the default) or of units (kind=units), with the
// parameters partial=true, effective=YYYY-MM-DD and source=NAME. Every end
// date an import gives is a last day: a person's end (JSON "end"; CSV end,
// sluttdato, ansatt_til), a unit's and an assignment's "to" (CSV to, til);
// the import record shows the intervals as stored, half-open, whose "to"
// is the day after. The answer (201) is the
// import record with its changes.
func (s *Server) postRosterImport(c *echo.Context) error {
	r := c.Request()
	q, err := parseParams(r)
	if err != nil {
		return err
	}
	if err := allowOnly(q, "kind", "partial", "effective", "source"); err != nil {
		return err
	}
	ct := r.Header.Get("Content-Type")
	mt, _, perr := mime.ParseMediaType(ct)
	switch {
	case ct == "":
		return errs.E(errs.UnsupportedMedia, "give the Content-Type: application/json for a roster import in JSON, or text/csv for a CSV file")
	case perr != nil:
		return errs.Invalidf("", "content-type", "malformed Content-Type %q: %v", ct, perr)
	case mt != "application/json" && !slices.Contains(csvMediaTypes, mt):
		return errs.E(errs.UnsupportedMedia, "Content-Type %s is not accepted: send application/json or text/csv", mt)
	}
	body, err := readLimited(c, maxRosterBodyBytes,
		fmt.Sprintf("a roster import may be at most %d bytes; split it into partial imports", maxRosterBodyBytes))
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errs.Invalidf("", "body-required", "the body is empty: send the roster")
	}

	var imp *reporting.Import
	if mt == "application/json" {
		for _, p := range []string{"kind", "partial", "effective", "source"} {
			if q.Has(p) {
				return errs.Invalidf(p, "param-json", "parameter %s is for CSV imports; a JSON import carries it in its body", p)
			}
		}
		if imp, err = reporting.ParseImportJSON(body); err != nil {
			return err
		}
	} else {
		imp = &reporting.Import{Source: q.Get("source")}
		if len(imp.Source) > 256 {
			return errs.Invalidf("source", "source", "parameter source names the file in at most 256 bytes")
		}
		if imp.Partial, err = boolParam(q, "partial"); err != nil {
			return err
		}
		if v := q.Get("effective"); v != "" {
			if imp.Effective, err = reporting.ParseDate(v); err != nil {
				return errs.Invalidf("effective", "date", "parameter effective must be a date like 2025-09-01, got %q", v)
			}
		}
		switch kind := q.Get("kind"); kind {
		case "", "people":
			imp.People, err = reporting.ParsePeopleCSV(bytes.NewReader(body))
		case "units":
			imp.Units, err = reporting.ParseUnitsCSV(bytes.NewReader(body))
		default:
			return errs.Invalidf("kind", "csv-kind", "parameter kind must be people or units, got %q", kind)
		}
		if err != nil {
			return err
		}
	}
	rec, err := s.rp.store.ImportRoster(r.Context(), tenantOf(state(c).cred), imp, s.now())
	if err != nil {
		return err
	}
	s.audit(c, "roster.import", strconv.FormatInt(rec.ID, 10),
		"people "+strconv.Itoa(rec.People)+", units "+strconv.Itoa(rec.Units)+", changes "+strconv.Itoa(len(rec.Changes)))
	c.Response().Header().Set("Location", "/api/v1/roster/imports/"+strconv.FormatInt(rec.ID, 10))
	return writeJSON(c, http.StatusCreated, rec)
}

// listRosterImports serves GET /api/v1/roster/imports: the import records,
// oldest first, without their changes.
func (s *Server) listRosterImports(c *echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	recs, err := s.rp.store.Imports(c.Request().Context(), tenantOf(state(c).cred))
	if err != nil {
		return err
	}
	if recs == nil {
		recs = []*reporting.ImportRecord{}
	}
	for _, r := range recs {
		if r.Changes == nil {
			r.Changes = []reporting.Change{}
		}
	}
	return writeJSON(c, http.StatusOK, map[string]any{"imports": recs})
}

// getRosterImport serves GET /api/v1/roster/imports/{id}: one import
// record with its changes.
func (s *Server) getRosterImport(c *echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	v := c.Param("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return errs.Invalidf("id", "import-id", "an import id is a whole number from 1, got %q", v)
	}
	rec, err := s.rp.store.ImportRecord(c.Request().Context(), tenantOf(state(c).cred), id)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, rec)
}

// rebuildJob is a rebuild of one tenant's projection, run in the
// background: it reads every stored statement, which takes a while on a
// large tenant.
type rebuildJob struct {
	Tenant     string    `json:"tenant"`
	State      string    `json:"state"` // running, done, failed
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished,omitzero"`
	Statements int       `json:"statements"` // read; set when done
	Error      string    `json:"error,omitempty"`
}

// postRebuild serves POST /api/v1/projection/rebuild: it starts a rebuild
// of the caller's tenant's projection from its stored statements (202 with
// the job), or answers 409 while one runs. Reports made meanwhile see a
// partial projection. GET on the same path shows the job.
func (s *Server) postRebuild(c *echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	tenant := tenantOf(state(c).cred)
	rp := s.rp
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if j := rp.rebuilds[tenant]; j != nil && j.State == "running" {
		return errs.E(errs.Conflict, "a rebuild of this tenant's projection is running since %s", j.Started.Format(time.RFC3339))
	}
	j := &rebuildJob{Tenant: tenant, State: "running", Started: s.now().UTC()}
	rp.rebuilds[tenant] = j
	// The job outlives the request; a shutdown of the server stops it.
	ctx, cancel := context.WithCancel(context.Background())
	s.srv.RegisterOnShutdown(cancel)
	actor := state(c).cred.Key
	go func() {
		defer cancel()
		start := time.Now()
		n, err := reporting.Rebuild(ctx, s.cfg.Store, rp.store, tenant)
		rp.mu.Lock()
		defer rp.mu.Unlock()
		j.Finished, j.Statements, j.State = s.now().UTC(), n, "done"
		if err != nil {
			id := errorID()
			j.State, j.Error = "failed", "the rebuild failed (id "+id+"); the server log has the details; start it again"
			s.log.Error("rebuilding the projection", "id", id, "tenant", tenant, "statements", n, "err", err)
			return
		}
		s.log.Info("rebuilt the projection", "tenant", tenant, "statements", n, "actor", actor,
			"duration_ms", time.Since(start).Milliseconds())
	}()
	s.audit(c, "projection.rebuild", tenant, "")
	return writeJSON(c, http.StatusAccepted, *j)
}

// getRebuild serves GET /api/v1/projection/rebuild: the latest rebuild of
// the caller's tenant since the server started, or 404.
func (s *Server) getRebuild(c *echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	s.rp.mu.Lock()
	j := s.rp.rebuilds[tenantOf(state(c).cred)]
	var out rebuildJob
	if j != nil {
		out = *j
	}
	s.rp.mu.Unlock()
	if j == nil {
		return errs.E(errs.NotFound, "no rebuild of this tenant's projection since the server started")
	}
	return writeJSON(c, http.StatusOK, out)
}
