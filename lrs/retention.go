package lrs

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
)

// Retention over HTTP (see privacyRoutes): the tenant's rules, the
// records of its runs, and a run on demand. The service's scheduled job
// and `lrs retention run` run privacy.RunRetention too.

// retentionBody is the body of PUT /api/v1/retention: every rule, 0 (or
// left out) for off.
type retentionBody struct {
	StatementsYears   int `json:"statementsYearsAfterEmployment"`
	DocumentsMonths   int `json:"documentsMonths"`
	AttachmentsMonths int `json:"attachmentsMonths"`
	AuditYears        int `json:"auditLogYears"`
	AccessLogYears    int `json:"accessLogYears"`
	RemindersYears    int `json:"remindersSentYears"`
}

// getRetention serves GET /api/v1/retention: the tenant's rules (all 0,
// off, until set).
func (s *Server) getRetention(c *echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	r, err := s.cfg.Privacy.RetentionRules(c.Request().Context(), tenantOf(state(c).cred))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, r)
}

// putRetention serves PUT /api/v1/retention: it replaces the tenant's
// rules with the body's (a rule left out is off), records the change in
// the audit log, and answers the rules stored.
func (s *Server) putRetention(c *echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	var body *retentionBody
	if err := readJSON(c, &body); err != nil {
		return err
	}
	if body == nil {
		return errs.Invalidf("", "body-required", "send the rules as a JSON object, e.g. {\"statementsYearsAfterEmployment\": 5}")
	}
	cred := state(c).cred
	r := privacy.RetentionRules{StatementsYears: body.StatementsYears, DocumentsMonths: body.DocumentsMonths,
		AttachmentsMonths: body.AttachmentsMonths, AuditYears: body.AuditYears, AccessLogYears: body.AccessLogYears,
		RemindersYears: body.RemindersYears, Updated: s.now().UTC(), UpdatedBy: cred.Key}
	if err := r.Check(); err != nil {
		return err
	}
	if err := s.cfg.Privacy.PutRetentionRules(c.Request().Context(), tenantOf(cred), &r); err != nil {
		return err
	}
	s.audit(c, "retention.set", "retention", fmt.Sprintf("statementsYearsAfterEmployment=%d documentsMonths=%d attachmentsMonths=%d "+
		"auditLogYears=%d accessLogYears=%d remindersSentYears=%d", r.StatementsYears, r.DocumentsMonths, r.AttachmentsMonths,
		r.AuditYears, r.AccessLogYears, r.RemindersYears))
	return writeJSON(c, http.StatusOK, &r)
}

// getRetentionRuns serves GET /api/v1/retention/runs?limit=N: the
// records of the tenant's runs (the job's, the CLI's, the API's; dry ones
// too), newest first, 100 unless limit says (at most 1000).
func (s *Server) getRetentionRuns(c *echo.Context) error {
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	if err := allowOnly(q, "limit"); err != nil {
		return err
	}
	limit, err := countParam(q, "limit", 100, 1000)
	if err != nil {
		return err
	}
	runs, err := s.cfg.Privacy.RetentionRuns(c.Request().Context(), tenantOf(state(c).cred), limit)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{"runs": runs})
}

// postRetentionRun serves POST /api/v1/retention/runs with an optional
// body {"dryRun": true}: it runs the tenant's retention now and answers
// the run's record.
func (s *Server) postRetentionRun(c *echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	var body struct {
		DryRun bool `json:"dryRun"`
	}
	if err := readJSON(c, &body); err != nil {
		return err
	}
	cred := state(c).cred
	run, err := privacy.RunRetention(c.Request().Context(), s.privacySources(), s.cfg.Privacy,
		privacy.RetentionRequest{Tenant: tenantOf(cred), Actor: cred.Key, DryRun: body.DryRun}, s.now())
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, run)
}
