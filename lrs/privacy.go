package lrs

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reporting"
)

// Privacy by design over HTTP, under /api/v1, when Config.Privacy and
// Config.Reporting are set:
//
//	GET  /api/v1/access-log?person=ID   who read the person's data (privacy/read)
//	GET  /api/v1/people/ID/export       everything held about the person, a zip (privacy/read)
//	POST /api/v1/people/ID/erasure      erase the person: pseudonymise or delete (privacy/write)
//	GET  /api/v1/erasures               the erasure records of the tenant (privacy/read)
//	GET  /api/v1/retention              the tenant's retention rules (privacy/read)
//	PUT  /api/v1/retention              set them (privacy/write)
//	GET  /api/v1/retention/runs         the records of retention runs, newest first (privacy/read)
//	POST /api/v1/retention/runs         run retention now, or dry (privacy/write)
//
// Every read of people's data through the API is recorded in the access
// log (logAccess): the reports naming people (status in JSON, CSV and
// XLSX, reminders, unmatched learners), transcripts, evidence packs,
// exports, the access log itself, and statement queries filtered by agent.

// Scopes of the privacy API: granted by nothing but themselves.
var (
	privacyReadScopes  = []string{auth.ScopePrivacyRead}
	privacyWriteScopes = []string{auth.ScopePrivacyWrite}
)

// privacyRoutes registers the privacy API on e.
func (s *Server) privacyRoutes(e *echo.Echo) {
	if s.cfg.Privacy == nil || s.cfg.Reporting == nil {
		return
	}
	guard := func(scopes []string) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{s.authenticate, authorize(scopes...)}
	}
	g := e.Group("/api/v1")
	g.GET("/access-log", s.getAccessLog, guard(privacyReadScopes)...)
	g.GET("/people/:id/export", s.getPersonExport, guard(privacyReadScopes)...)
	g.POST("/people/:id/erasure", s.postErasure, guard(privacyWriteScopes)...)
	g.GET("/erasures", s.getErasures, guard(privacyReadScopes)...)
	g.GET("/retention", s.getRetention, guard(privacyReadScopes)...) // retention.go
	g.PUT("/retention", s.putRetention, guard(privacyWriteScopes)...)
	g.GET("/retention/runs", s.getRetentionRuns, guard(privacyReadScopes)...)
	g.POST("/retention/runs", s.postRetentionRun, guard(privacyWriteScopes)...)
}

// erasureBody is the body of POST /api/v1/people/ID/erasure.
type erasureBody struct {
	Mode   string `json:"mode"`   // privacy.Pseudonymise or privacy.Delete
	DryRun bool   `json:"dryRun"` // only count what would change
}

// postErasure serves POST /api/v1/people/{id}/erasure with a body
// {"mode": "pseudonymise" | "delete", "dryRun": true | false}: the
// erasure record (privacy.Erase), 200; with dryRun what it would change,
// nothing changed or recorded. A person erased already answers the counts
// of what was left (none); one the roster never held is a 404.
func (s *Server) postErasure(c *echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	id, err := personParam(c)
	if err != nil {
		return err
	}
	var body erasureBody
	if err := readJSON(c, &body); err != nil {
		return err
	}
	if body.Mode == "" {
		return errs.Invalidf("mode", "param-required", "give mode: %q or %q", privacy.Pseudonymise, privacy.Delete)
	}
	cred := state(c).cred
	tenant := tenantOf(cred)
	e, err := privacy.Erase(c.Request().Context(), s.privacySources(), s.cfg.Privacy,
		privacy.ErasureRequest{Tenant: tenant, Person: id, Mode: body.Mode, Actor: cred.Key, DryRun: body.DryRun}, s.now())
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, e)
}

// getErasures serves GET /api/v1/erasures: the tenant's erasure records,
// oldest first.
func (s *Server) getErasures(c *echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	es, err := s.cfg.Privacy.Erasures(c.Request().Context(), tenantOf(state(c).cred))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"erasures": es})
}

// privacySources are the stores holding people's data.
func (s *Server) privacySources() privacy.Sources {
	return privacy.Sources{Reporting: s.rp.store, Statements: s.cfg.Store, Documents: s.cfg.Documents,
		Privacy: s.cfg.Privacy, Reminders: s.cfg.Reminders}
}

// logAccess records one read of people's data by the request's credential
// in the access log: what was read (a privacy.Read constant, with the
// format where there are several), the subjects, and how many rows or
// statements were answered. A read of nobody (no subjects) is not
// recorded. The answer is given (or under way) already: a failure to
// record is logged, not answered.
func (s *Server) logAccess(c *echo.Context, what string, subjects *privacy.Subjects, count int) {
	if s.cfg.Privacy == nil || subjects.Len() == 0 {
		return
	}
	cred := state(c).cred
	e := &privacy.Access{Tenant: tenantOf(cred), Time: s.now().UTC(), Actor: cred.Key, ActorKind: privacy.ActorCredential,
		What: what, Subjects: subjects.List(), Count: count}
	if err := s.cfg.Privacy.AppendAccess(context.WithoutCancel(c.Request().Context()), []*privacy.Access{e}); err != nil {
		s.log.Error("recording an access log entry", "what", what, "subjects", subjects.Len(), "err", err)
	}
}

// personParam reads the employee id in the path.
func personParam(c *echo.Context) (string, error) {
	id := c.Param("id")
	if !validReportID(id) {
		return "", errs.Invalidf("id", "person-id", "an employee id holds 1 to 128 letters, digits and . _ - :, got %q", id)
	}
	return id, nil
}

// Bounds of an access log answer.
const (
	defaultAccessLimit = 1000
	maxAccessLimit     = 10000
)

// accessEntry is an access log entry as the API answers it.
type accessEntry struct {
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor"`
	ActorKind string    `json:"actorKind"`
	What      string    `json:"what"`
	Subjects  []string  `json:"subjects"` // the person's identifiers the read included
	Total     int       `json:"total"`    // the people and agents it read in all
	Count     int       `json:"count"`
}

// getAccessLog serves GET /api/v1/access-log?person=ID[&since=&limit=]:
// the entries of the access log naming the person (by employee id or by
// any identifier the roster gave them), oldest first, at most limit (1000;
// at most 10000); since a day or instant. The answer is itself recorded.
func (s *Server) getAccessLog(c *echo.Context) error {
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	if err := allowOnly(q, "person", "since", "limit"); err != nil {
		return err
	}
	person := q.Get("person")
	if person == "" {
		return errs.Invalidf("person", "param-required", "give person: the employee id whose access log to show")
	}
	if !validReportID(person) {
		return errs.Invalidf("person", "person-id", "an employee id holds 1 to 128 letters, digits and . _ - :, got %q", person)
	}
	since, err := dayOrInstantParam(q, "since", time.UTC)
	if err != nil {
		return err
	}
	if q.Has("since") {
		if d, derr := reporting.ParseDate(q.Get("since")); derr == nil {
			since = d.Start(time.UTC) // a day: from its start
		}
	}
	limit := defaultAccessLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAccessLimit || v[0] == '+' {
			return errs.Invalidf("limit", "limit", "parameter limit must be a whole number from 1 to %d, got %q", maxAccessLimit, v)
		}
		limit = n
	}
	ctx := c.Request().Context()
	tenant := tenantOf(state(c).cred)
	// Someone no longer in the roster (erased) is still found by the
	// employee id the log names.
	subjects := []string{privacy.PersonSubject(person)}
	if p, err := privacy.FindPerson(ctx, s.rp.store, tenant, person); err == nil {
		subjects = p.Subjects()
	} else if !errs.Is(err, errs.NotFound) {
		return err
	}
	entries, err := s.cfg.Privacy.AccessesAbout(ctx, tenant, subjects, since, limit)
	if err != nil {
		return err
	}
	out := make([]accessEntry, len(entries))
	for i, e := range entries {
		out[i] = accessEntry{Time: e.Time, Actor: e.Actor, ActorKind: e.ActorKind, What: e.What, Subjects: e.Subjects,
			Total: e.Total, Count: e.Count}
	}
	var read privacy.Subjects
	read.Person(person)
	s.logAccess(c, privacy.ReadAccessLog, &read, len(out))
	return writeJSON(c, http.StatusOK, map[string]any{"person": person, "entries": out})
}

// getPersonExport serves GET /api/v1/people/{id}/export: everything the
// LRS holds about the person, as a zip of JSON files with a summary in
// Norwegian and English (privacy.Export), streamed. An unknown person is
// a 404; a failure once the archive has started cuts the connection, so
// that a client never takes a short archive for a whole one.
func (s *Server) getPersonExport(c *echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	id, err := personParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	tenant := tenantOf(state(c).cred)
	p, err := privacy.FindPerson(ctx, s.rp.store, tenant, id)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="export-`+tenant+`-`+id+`.zip"`)
	c.Response().WriteHeader(http.StatusOK)
	w := &errWriter{w: c.Response()}
	n, err := privacy.Export(ctx, s.privacySources(), tenant, p, s.now(), w)
	var read privacy.Subjects
	read.Person(id)
	s.logAccess(c, privacy.ReadExport, &read, n.Statements+n.Documents+n.Facts+n.StatusRows)
	if err != nil {
		if w.err == nil {
			s.log.Error("an export failed after it started; the response is cut off", "err", err)
		}
		panic(http.ErrAbortHandler)
	}
	return nil
}

// errWriter keeps the first error writing to w.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
