package lrs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
)

// The admin API, under /api/v1/admin: a tenant's credentials and audit log
// (scope admin, within the caller's tenant), and the tenants themselves
// (scope tenants/admin, held only by credentials of the default tenant,
// which may also act on any tenant's credentials). Another tenant's
// credentials answer 404, as if they did not exist.

// adminRoutes registers the admin API on g.
func (s *Server) adminRoutes(g *echo.Group) {
	admin := []echo.MiddlewareFunc{s.authenticate, authorize(auth.ScopeAdmin, auth.ScopeTenantsAdmin)}
	tenants := []echo.MiddlewareFunc{s.authenticate, authorize(auth.ScopeTenantsAdmin)}
	g.GET("/tenants", s.listTenants, tenants...)
	g.POST("/tenants", s.createTenant, tenants...)
	g.POST("/tenants/:name/disable", s.setTenantDisabled(true), tenants...)
	g.POST("/tenants/:name/enable", s.setTenantDisabled(false), tenants...)
	g.GET("/credentials", s.listCredentials, admin...)
	g.POST("/credentials", s.createCredential, admin...)
	g.GET("/credentials/:key", s.getCredential, admin...)
	g.POST("/credentials/:key/rotate", s.rotateCredential, admin...)
	g.POST("/credentials/:key/revoke", s.revokeCredential, admin...)
	g.GET("/audit", s.listAudit, admin...)
}

// admin returns the administrative actions on behalf of the request's
// credential: the domain decides what it may do (auth.Admin.Caller).
func (s *Server) admin(c *echo.Context) *auth.Admin {
	return &auth.Admin{Credentials: s.cfg.Credentials, Tenants: s.cfg.Tenants, Audit: s.cfg.Audit, Now: s.now,
		Caller: state(c).cred}
}

type tenantJSON struct {
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	Disabled bool      `json:"disabled"`
}

func toTenantJSON(t *auth.Tenant) tenantJSON {
	return tenantJSON{Name: t.Name, Created: t.Created, Disabled: t.Disabled}
}

type credentialJSON struct {
	Key     string    `json:"key"`
	Name    string    `json:"name"`
	Tenant  string    `json:"tenant"`
	Scopes  []string  `json:"scopes"`
	Created time.Time `json:"created"`
	Revoked bool      `json:"revoked"`
	// PreviousSecretValidUntil is set while the secret before the last
	// rotation still works.
	PreviousSecretValidUntil *time.Time `json:"previousSecretValidUntil,omitempty"`
	// Secret is shown once, in the answer to a create or a rotate.
	Secret string `json:"secret,omitempty"`
}

func (s *Server) toCredentialJSON(c *auth.Credential, secret string) credentialJSON {
	out := credentialJSON{Key: c.Key, Name: c.Name, Tenant: c.Tenant, Scopes: c.Scopes, Created: c.Created,
		Revoked: c.Revoked, Secret: secret}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	if c.PreviousSecretHash != "" && s.now().Before(c.PreviousUntil) {
		u := c.PreviousUntil
		out.PreviousSecretValidUntil = &u
	}
	return out
}

// writeJSON answers with v as JSON.
func writeJSON(c *echo.Context, status int, v any) error {
	b, err := marshalJSON(v)
	if err != nil {
		return errs.Wrap(err, "encoding a response")
	}
	writeBody(c, status, "application/json", b)
	return nil
}

// maxAdminBody bounds admin request bodies.
const maxAdminBody = 64 << 10

// readJSON decodes a small JSON request body strictly into v; an empty body
// leaves v as it is.
func readJSON(c *echo.Context, v any) error {
	r := c.Request()
	body, err := readLimited(c, maxAdminBody, fmt.Sprintf("the request body is larger than %d bytes", maxAdminBody))
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return nil
	}
	if !documents.IsJSON(r.Header.Get("Content-Type")) {
		return errs.E(errs.UnsupportedMedia, "send the body as application/json")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.Invalidf("", "json", "the body is not the expected JSON object: %v", err)
	}
	if dec.More() {
		return errs.Invalidf("", "json", "the body holds more than one JSON value")
	}
	return nil
}

func (s *Server) listTenants(c *echo.Context) error {
	ts, err := s.cfg.Tenants.Tenants(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]tenantJSON, len(ts))
	for i, t := range ts {
		out[i] = toTenantJSON(t)
	}
	return writeJSON(c, http.StatusOK, map[string]any{"tenants": out})
}

func (s *Server) createTenant(c *echo.Context) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := readJSON(c, &req); err != nil {
		return err
	}
	t, err := s.admin(c).CreateTenant(c.Request().Context(), state(c).cred.Key, req.Name)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusCreated, toTenantJSON(t))
}

func (s *Server) setTenantDisabled(disabled bool) echo.HandlerFunc {
	return func(c *echo.Context) error {
		t, err := s.admin(c).SetTenantDisabled(c.Request().Context(), state(c).cred.Key, c.Param("name"), disabled)
		if err != nil {
			return err
		}
		s.creds.forgetTenant(t.Name)
		return writeJSON(c, http.StatusOK, toTenantJSON(t))
	}
}

// tenantParam returns the tenant an admin request acts on: the caller's,
// or for an operator the tenant parameter when given.
func tenantParam(c *echo.Context, given string) (string, error) {
	caller := state(c).cred
	if given == "" || given == caller.Tenant {
		return tenantOf(caller), nil
	}
	if !caller.IsOperator() {
		return "", errs.E(errs.Forbidden, "only an operator credential (scope %s) may act on another tenant", auth.ScopeTenantsAdmin)
	}
	return given, nil
}

func (s *Server) listCredentials(c *echo.Context) error {
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	if err := allowOnly(q, "tenant"); err != nil {
		return err
	}
	tenant, err := tenantParam(c, q.Get("tenant"))
	if err != nil {
		return err
	}
	cs, err := s.cfg.Credentials.Credentials(c.Request().Context(), tenant)
	if err != nil {
		return err
	}
	out := make([]credentialJSON, len(cs))
	for i, cr := range cs {
		out[i] = s.toCredentialJSON(cr, "")
	}
	return writeJSON(c, http.StatusOK, map[string]any{"credentials": out})
}

func (s *Server) createCredential(c *echo.Context) error {
	var req struct {
		Name   string   `json:"name"`
		Scopes []string `json:"scopes"`
		Tenant string   `json:"tenant"`
	}
	if err := readJSON(c, &req); err != nil {
		return err
	}
	tenant, err := tenantParam(c, req.Tenant)
	if err != nil {
		return err
	}
	cr, secret, err := s.admin(c).CreateCredential(c.Request().Context(), state(c).cred.Key,
		auth.NewCredential{Tenant: tenant, Name: req.Name, Scopes: req.Scopes})
	if err != nil {
		return err
	}
	s.creds.forget(cr.Key) // a key tried before it existed works at once
	return writeJSON(c, http.StatusCreated, s.toCredentialJSON(cr, secret))
}

// targetCredential loads the credential named in the path, answering 404
// for one of another tenant unless the caller is an operator.
func (s *Server) targetCredential(c *echo.Context) (*auth.Credential, error) {
	key := c.Param("key")
	notFound := errs.E(errs.NotFound, "no credential with key %q in this tenant", key)
	cr, err := s.cfg.Credentials.Credential(c.Request().Context(), key)
	if errs.Is(err, errs.NotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	caller := state(c).cred
	if cr.Tenant != caller.Tenant && !caller.IsOperator() {
		return nil, notFound
	}
	return cr, nil
}

func (s *Server) getCredential(c *echo.Context) error {
	cr, err := s.targetCredential(c)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, s.toCredentialJSON(cr, ""))
}

func (s *Server) rotateCredential(c *echo.Context) error {
	cr, err := s.targetCredential(c)
	if err != nil {
		return err
	}
	var req struct {
		Grace string `json:"grace"` // a Go duration like "24h"; empty: none
	}
	if err := readJSON(c, &req); err != nil {
		return err
	}
	var grace time.Duration
	if req.Grace != "" {
		if grace, err = time.ParseDuration(req.Grace); err != nil || grace < 0 || grace > 30*24*time.Hour {
			return errs.Invalidf("grace", "grace", "grace is how long the old secret keeps working, like \"24h\", at most 720h; got %q", req.Grace)
		}
	}
	u, secret, err := s.admin(c).RotateCredential(c.Request().Context(), state(c).cred.Key, cr, grace)
	if err != nil {
		return err
	}
	s.creds.forget(u.Key)
	return writeJSON(c, http.StatusOK, s.toCredentialJSON(u, secret))
}

func (s *Server) revokeCredential(c *echo.Context) error {
	cr, err := s.targetCredential(c)
	if err != nil {
		return err
	}
	u, err := s.admin(c).RevokeCredential(c.Request().Context(), state(c).cred.Key, cr)
	if err != nil {
		return err
	}
	s.creds.forget(u.Key)
	return writeJSON(c, http.StatusOK, s.toCredentialJSON(u, ""))
}

type auditJSON struct {
	Time   time.Time `json:"time"`
	Tenant string    `json:"tenant"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail,omitempty"`
}

func (s *Server) listAudit(c *echo.Context) error {
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	if err := allowOnly(q, "tenant", "since", "limit"); err != nil {
		return err
	}
	tenant, err := tenantParam(c, q.Get("tenant"))
	if err != nil {
		return err
	}
	since, err := timeParam(q, "since")
	if err != nil {
		return err
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return errs.Invalidf("limit", "limit", "limit must be a whole number from 1 to 1000, got %q", v)
		}
		limit = n
	}
	es, err := s.cfg.Audit.Audit(c.Request().Context(), tenant, since, limit)
	if err != nil {
		return err
	}
	out := make([]auditJSON, len(es))
	for i, e := range es {
		out[i] = auditJSON{Time: e.Time, Tenant: e.Tenant, Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail}
	}
	return writeJSON(c, http.StatusOK, map[string]any{"entries": out})
}
