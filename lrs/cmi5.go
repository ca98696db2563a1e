package lrs

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"
	"golang.org/x/text/language"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/launch"
	"github.com/xapi-lrs/lrs/packages"
)

// The LRS as a cmi5 LMS (package launch does the work; routes in
// launch.go): the launch of an AU, its fetch URL, waivers, and the sweep
// that abandons sessions that ended without terminated.

// redirectCMI5 launches the AU of the cmi5 session (launch.Service.
// StartCMI5) and answers 303 to it with the cmi5 launch parameters. The
// AU's files and the fetch URL are under a Content token, which is no
// xAPI credential: the session's credential is what the fetch URL
// answers, once.
func (s *Server) redirectCMI5(c *echo.Context, session *launch.Token, p *packages.Package) error {
	var au *packages.Launchable
	for i := range p.Launchables {
		if p.Launchables[i].ID == session.Launchable {
			au = &p.Launchables[i]
		}
	}
	if au == nil {
		return errs.E(errs.NotFound, "the package has no AU %q any more", session.Launchable)
	}
	content := *session
	content.Purpose = launch.Content
	sealed := s.launch.Seal(content)
	base := s.publicBase(c)
	cred := session.Credential()
	to, err := s.launch.StartCMI5(c.Request().Context(), session, p, launch.CMI5Launch{
		Base:      base,
		Content:   sessionContent(base, sealed, au),
		Fetch:     base + "/launch/" + sealed + "/fetch",
		Languages: languages(c.Request()),
		Writer:    ingest.Writer{Tenant: session.Tenant, Key: cred.Key, Name: cred.Name, Home: base},
	})
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// languages are the languages the browser asks for, most wanted first
// (cmi5LearnerPreferences' languagePreference); the pages' language when
// it names none.
func languages(r *http.Request) []string {
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	var out []string
	for _, t := range tags {
		if t != language.Und && len(out) < 10 {
			out = append(out, t.String())
		}
	}
	if len(out) == 0 {
		out = []string{map[string]string{"nb": "nb-NO", "en": "en"}[pageLang(r)]}
	}
	return out
}

// fetchAnswer is the body of the fetch URL's answers (cmi5 section 8.2):
// the auth-token, or an error code and text.
type fetchAnswer struct {
	AuthToken string `json:"auth-token,omitempty"`
	ErrorCode string `json:"error-code,omitempty"`
	ErrorText string `json:"error-text,omitempty"`
}

// postFetch serves POST /launch/{token}/fetch, the cmi5 fetch URL: 200
// with {"auth-token": …} the first time (launch.Service.Fetch), and 200
// with {"error-code", "error-text"} after (1: used already or the session
// is over), for a token that is not valid (2) or when the LRS fails (3),
// as section 8.2 requires of every answer.
func (s *Server) postFetch(c *echo.Context) error {
	if s.pk == nil {
		return errs.E(errs.NotFound, "no resource at %s", c.Request().URL.Path)
	}
	fail := func(code, text string) error {
		return writeJSON(c, http.StatusOK, fetchAnswer{ErrorCode: code, ErrorText: text})
	}
	tok, err := s.launchToken(c, c.Param("token"), launch.Content)
	if err != nil {
		var e *errs.Error
		switch {
		case errors.As(err, &e) && strings.Contains(e.Message, "expired"):
			return fail("1", "the session has expired: launch the AU again")
		case errs.Is(err, errs.Forbidden):
			return fail("2", e.Message)
		}
		s.log.Error("cmi5 fetch", "err", err)
		return fail("3", "the LRS could not check the fetch URL; try again")
	}
	if tok.AU == "" {
		return fail("2", "this is not the fetch URL of a cmi5 session")
	}
	authToken, err := s.launch.Fetch(c.Request().Context(), tok)
	if err != nil {
		var fe *launch.FetchError
		if errors.As(err, &fe) {
			return fail(strconv.Itoa(fe.Code), fe.Text)
		}
		return fail("3", "the LRS could not answer; try again")
	}
	return writeJSON(c, http.StatusOK, fetchAnswer{AuthToken: authToken})
}

// waiverRequest is the body of POST /api/v1/waivers.
type waiverRequest struct {
	launchRequest
	Reason string `json:"reason"`
}

// postWaiver serves POST /api/v1/waivers: {package, launchable (the AU's
// id in the course structure), person | agent, reason} waives the AU for
// the learner in their current attempt (launch.Service.Waive): 201 with
// the registration, the waived statement's id and the satisfied
// statements it led to. An AU waived before in the attempt is a 409.
func (s *Server) postWaiver(c *echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	var req waiverRequest
	if err := readJSON(c, &req); err != nil {
		return err
	}
	if req.ReturnURL != "" || req.ExpiresIn != "" || req.LaunchMode != "" {
		return errs.Invalidf("", "waive-fields", "a waiver takes package, launchable, person or agent, and reason")
	}
	if !packages.ValidID(req.Package) {
		return errs.Invalidf("package", "param-required", "package is required: the id of the cmi5 package")
	}
	cred := state(c).cred
	tenant := tenantOf(cred)
	learner, err := s.launchLearner(c, tenant, req.launchRequest, true)
	if err != nil {
		return err
	}
	base := s.publicBase(c)
	w, err := s.launch.Waive(c.Request().Context(), launch.WaiveRequest{Tenant: tenant, Package: req.Package, AU: req.Launchable,
		Learner: learner, Reason: req.Reason, Base: base,
		Writer: ingest.Writer{Tenant: tenant, Key: cred.Key, Name: cred.Name, Home: base}})
	if err != nil {
		return err
	}
	s.audit(c, "launch.waive", req.Package, "AU "+req.Launchable+" in registration "+w.Registration)
	return writeJSON(c, http.StatusCreated, map[string]any{"registration": w.Registration, "statement": w.Statement, "satisfied": w.Satisfied})
}

// SweepAbandonedSessions abandons, in every tenant, the cmi5 sessions the
// LRS launched whose token expired without their AU terminating them
// (launch.Service.SweepAbandoned), and returns how many it abandoned.
func (s *Server) SweepAbandonedSessions(ctx context.Context) (int, error) {
	if s.launch == nil {
		return 0, nil
	}
	tenants := []string{auth.DefaultTenant}
	if s.cfg.Tenants != nil {
		ts, err := s.cfg.Tenants.Tenants(ctx)
		if err != nil {
			return 0, err
		}
		tenants = tenants[:0]
		for _, t := range ts {
			tenants = append(tenants, t.Name)
		}
	}
	n := 0
	for _, t := range tenants {
		k, err := s.launch.SweepAbandoned(ctx, t)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// SweepEvery runs SweepAbandonedSessions every period until ctx ends,
// logging what it did; lrs serve runs it.
func (s *Server) SweepEvery(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := s.SweepAbandonedSessions(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("sweeping abandoned cmi5 sessions", "err", err, "abandoned", n)
		case n > 0:
			s.log.Info("abandoned cmi5 sessions that ended without terminated", "abandoned", n)
		}
	}
}
