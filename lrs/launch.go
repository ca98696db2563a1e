package lrs

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/launch"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// Launching packages (package launch does the work), when Config.Packages
// is set:
//
//	POST /api/v1/launches                    a personal launch link for a learner (scope launch/write)
//	GET  /launch/{token}[?sco=ID]            the link (or a session): the SCORM player (player.go), or
//	                                         for Tin Can a redirect to the content with the launch parameters
//	GET  /launch/{token}/content/{path}      the package's files, for a session token
//	POST /launch/{token}/commit?sco=ID       a SCORM commit of the session (scorm.ParseCommit's JSON)
//	POST /launch/{token}/fetch               cmi5's one-time fetch URL: {"auth-token": …} (launch.Service.Fetch)
//	POST /api/v1/waivers                     waive a cmi5 AU for a learner (scope launch/write)
//	GET  /static/{player.js,player.css,scorm.js}  the player's assets
//
// and, for Tin Can content, "Authorization: Bearer <session token>" on the
// xAPI resources, for the learner only (launch.Token.Credential); for cmi5
// content the same token as the key of HTTP Basic credentials (the
// auth-token).
//
// The request log shows "-" for the token of these paths (requestlog.go).

// launchScopes may ask for launch links.
var launchScopes = []string{auth.ScopeLaunchWrite}

// Routes of a launch token; loggedPath hides the token.
const (
	launchRoute        = "/launch/:token"
	launchContentRoute = "/launch/:token/content/*"
	launchCommitRoute  = "/launch/:token/commit"
	launchFetchRoute   = "/launch/:token/fetch"
)

// launchRoutes registers the launch API, the player and the session's
// content and commits; called by packageRoutes.
func (s *Server) launchRoutes(e *echo.Echo) {
	e.POST("/api/v1/launches", s.postLaunch, s.authenticate, authorize(launchScopes...))
	getHead := []string{http.MethodGet, http.MethodHead}
	e.Match(getHead, launchRoute, s.getLaunch)
	e.Match(getHead, launchContentRoute, s.getLaunchContent)
	e.POST(launchCommitRoute, s.postLaunchCommit)
	e.POST(launchFetchRoute, s.postFetch)
	e.POST("/api/v1/waivers", s.postWaiver, s.authenticate, authorize(launchScopes...))
	e.Match(getHead, "/static/:file", s.getStatic)
}

// launchRequest is the body of POST /api/v1/launches.
type launchRequest struct {
	Package    string          `json:"package"`
	Launchable string          `json:"launchable"`
	Person     string          `json:"person"`
	Agent      json.RawMessage `json:"agent"`
	ReturnURL  string          `json:"returnUrl"`
	ExpiresIn  string          `json:"expiresIn"`
	LaunchMode string          `json:"launchMode"` // cmi5: Normal, Browse or Review
}

// launchAnswer is the answer of POST /api/v1/launches.
type launchAnswer struct {
	URL          string    `json:"url"`
	Expires      time.Time `json:"expires"`
	Registration string    `json:"registration"`
	// Resumed is true when the link continues the learner's attempt.
	Resumed    bool   `json:"resumed"`
	Package    string `json:"package"`
	Version    int    `json:"version"`
	Launchable string `json:"launchable"`
}

// maxReturnURL bounds a returnUrl, which rides in every token.
const maxReturnURL = 2000

// postLaunch serves POST /api/v1/launches: a personal launch link of the
// package for the learner, named by a roster person (their identifier
// today) or by an Agent, in the learner's current attempt at the package
// (launch.Service.Launch). 201 with {url, expires, registration, resumed,
// package, version, launchable}.
func (s *Server) postLaunch(c *echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	var req launchRequest
	if err := readJSON(c, &req); err != nil {
		return err
	}
	if req.Package == "" {
		return errs.Invalidf("package", "param-required", "package is required: the id of the package to launch")
	}
	if !packages.ValidID(req.Package) {
		return errs.E(errs.NotFound, "no package %q: a package id is 20 hex digits", req.Package)
	}
	ttl := time.Duration(0)
	if req.ExpiresIn != "" {
		d, err := time.ParseDuration(req.ExpiresIn)
		if err != nil || d <= 0 || d > launch.MaxLinkTTL {
			return errs.Invalidf("expiresIn", "duration", "expiresIn is a duration such as 2h or 168h, at most %s; got %q", launch.MaxLinkTTL, req.ExpiresIn)
		}
		ttl = d
	}
	if req.ReturnURL != "" {
		u, err := url.Parse(req.ReturnURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(req.ReturnURL) > maxReturnURL {
			return errs.Invalidf("returnUrl", "url", "returnUrl must be an absolute http or https URL of at most %d characters", maxReturnURL)
		}
	}
	cred := state(c).cred
	tenant := tenantOf(cred)
	p, err := s.pk.store.Package(c.Request().Context(), tenant, req.Package)
	if err != nil {
		return err
	}
	learner, err := s.launchLearner(c, tenant, req, p.Kind == packages.CMI5)
	if err != nil {
		return err
	}
	l, err := s.launch.Launch(c.Request().Context(), launch.Request{Tenant: tenant, Issuer: cred.Key, Package: req.Package,
		Launchable: req.Launchable, Learner: learner, ReturnURL: req.ReturnURL, TTL: ttl, LaunchMode: req.LaunchMode})
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusCreated, launchAnswer{URL: s.publicBase(c) + "/launch/" + l.Token, Expires: l.Expires,
		Registration: l.Registration, Resumed: l.Resumed, Package: l.Package.ID, Version: l.Package.Version, Launchable: l.Launchable.ID})
}

// launchLearner returns the Agent of the learner a launch request names:
// exactly one of a roster person (their identifier today; with account,
// their account, as cmi5 needs) or an Agent.
func (s *Server) launchLearner(c *echo.Context, tenant string, req launchRequest, account bool) (map[string]any, error) {
	hasAgent := len(req.Agent) > 0 && string(req.Agent) != "null"
	switch {
	case req.Person != "" && hasAgent:
		return nil, errs.Invalidf("person", "launch-learner", "give the learner as person (a roster person's id) or as agent (an xAPI Agent), not both")
	case hasAgent:
		a, err := statements.ParseAgent(req.Agent, statements.V103)
		if err != nil {
			var e *errs.Error
			if errors.As(err, &e) && e.Kind == errs.Invalid {
				e.Path = strings.TrimSuffix("agent."+e.Path, ".")
			}
			return nil, err
		}
		return a, nil
	case req.Person != "":
		if s.rp == nil {
			return nil, errs.Invalidf("person", "reporting-off", "compliance reporting is off on this server: there is no roster to find person %q in; give the learner as agent", req.Person)
		}
		rows, err := s.rp.store.RosterRows(c.Request().Context(), tenant, reporting.RosterFilter{People: []string{req.Person}})
		if err != nil {
			return nil, err
		}
		if account {
			return reporting.PersonAccount(rows, req.Person, reporting.DateOf(s.now(), time.UTC))
		}
		return reporting.PersonAgent(rows, req.Person, reporting.DateOf(s.now(), time.UTC))
	}
	return nil, errs.Invalidf("person", "launch-learner", "name the learner: person (a roster person's id) or agent (an xAPI Agent such as {\"mbox\": \"mailto:kari@example.no\"})")
}

// launchToken opens the path's token, of one of the purposes, and checks
// that its tenant is enabled and that the credential that made the launch
// still holds launch/write: revoking it ends its links and sessions. A
// learner's own launch (launch.SelfIssuer) needs no credential.
func (s *Server) launchToken(c *echo.Context, raw string, purposes ...launch.Purpose) (*launch.Token, error) {
	tok, err := launch.Open(raw, s.now(), s.pk.keys, purposes...)
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	if err := s.creds.tenantEnabled(ctx, tok.Tenant); err != nil {
		return nil, errs.E(errs.Forbidden, "the launch link's tenant is disabled or unknown")
	}
	if launch.SelfIssued(tok.Issuer) {
		return tok, nil
	}
	cred, err := s.creds.lookup(ctx, tok.Issuer)
	if err != nil {
		return nil, err
	}
	if cred == nil || cred.Revoked || tenantOf(cred) != tok.Tenant || !cred.Has(launchScopes...) {
		return nil, errs.E(errs.Forbidden, "the launch link was made by a credential that may no longer make launches: ask for a new link")
	}
	return tok, nil
}

// launchCredential is the principal of a session token used as a bearer
// token (launch.Token.Credential); the request's state keeps the token
// for the limits on what it may write (launch.Token.CheckStatements,
// CheckDocument).
func (s *Server) launchCredential(c *echo.Context, raw string) (*auth.Credential, error) {
	if s.pk == nil {
		return nil, errs.E(errs.Unauthorized, "launch sessions are not served by this server")
	}
	tok, err := s.launchToken(c, raw, launch.Session)
	if err == nil && tok.AU != "" {
		err = s.launch.CheckCMI5Session(c.Request().Context(), tok)
	}
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) && e.Kind == errs.Forbidden {
			return nil, errs.E(errs.Unauthorized, "%s", e.Message)
		}
		return nil, err
	}
	state(c).launch = tok
	return tok.Credential(), nil
}

// launchWritten is what follows the statements a launch session wrote
// (state(c).written): for a cmi5 session, the end of the session at its
// terminated statement and the satisfied statements its completions
// lead to (launch.Service.CMI5Written). The statements stand whatever
// happens here; a failure is logged, and the next write, launch or
// waiver of the registration evaluates the moveOn criteria again.
func (s *Server) launchWritten(c *echo.Context) {
	st := state(c)
	if st.launch == nil || st.launch.AU == "" || len(st.written) == 0 {
		return
	}
	cred := st.launch.Credential()
	w := ingest.Writer{Tenant: st.launch.Tenant, Key: cred.Key, Name: cred.Name, Home: s.publicBase(c)}
	if err := s.launch.CMI5Written(c.Request().Context(), st.launch, s.publicBase(c), w, st.written); err != nil {
		s.log.Error("after the statements of a cmi5 session", "err", err)
	}
}

// getLaunch serves GET /launch/{token}: the launch link (or the URL of a
// session). It opens a session and shows the SCORM player (player.go), or
// for a Tin Can package redirects to the content with the Tin Can launch
// parameters. Errors are pages for the learner.
func (s *Server) getLaunch(c *echo.Context) error {
	if s.pk == nil {
		return errs.E(errs.NotFound, "no resource at %s", c.Request().URL.Path)
	}
	err := func() error {
		tok, err := s.launchToken(c, c.Param("token"), launch.Link, launch.Session)
		if err != nil {
			return err
		}
		q, err := parseParams(c.Request())
		if err != nil {
			return err
		}
		if err := allowOnly(q, "sco"); err != nil {
			return err
		}
		session, sealed, p, err := s.launch.Session(c.Request().Context(), tok, s.publicBase(c))
		if err != nil {
			return err
		}
		if sealed == "" {
			sealed = c.Param("token")
		}
		switch p.Kind {
		case packages.TinCan:
			return s.redirectTinCan(c, session, sealed, p)
		case packages.CMI5:
			if tok.Purpose != launch.Link {
				return errs.E(errs.Forbidden, "a cmi5 AU is launched by its launch link only")
			}
			return s.redirectCMI5(c, session, p)
		default:
			return s.showPlayer(c, session, sealed, p, q.Get("sco"))
		}
	}()
	if err != nil {
		s.showLaunchError(c, err)
	}
	return nil
}

// sessionContent is the URL of the launchable l's file in the session
// sealed: its href under the session's content path (base, the LRS's
// public URL, before it: "" for a path of the page's own origin), or the
// href itself when it is an absolute URL (cmi5 and Tin Can content hosted
// elsewhere).
func sessionContent(base, sealed string, l *packages.Launchable) string {
	if strings.HasPrefix(l.Href, "http://") || strings.HasPrefix(l.Href, "https://") {
		return l.Href
	}
	return base + "/launch/" + sealed + "/content/" + l.Href
}

// redirectTinCan answers a Tin Can launch: 303 to the launchable's URL
// with the Tin Can launch parameters (launch.TinCanURL), whose auth is
// the session token as a bearer token.
func (s *Server) redirectTinCan(c *echo.Context, session *launch.Token, sealed string, p *packages.Package) error {
	var l *packages.Launchable
	for i := range p.Launchables {
		if p.Launchables[i].ID == session.Launchable {
			l = &p.Launchables[i]
		}
	}
	if l == nil {
		return errs.E(errs.NotFound, "the package has no launchable %q any more", session.Launchable)
	}
	to := launch.TinCanURL(sessionContent(s.publicBase(c), sealed, l), s.publicBase(c)+"/xapi/", "Bearer "+sealed,
		session.Learner, session.Registration, l.ActivityID)
	return c.Redirect(http.StatusSeeOther, to)
}

// getLaunchContent serves GET /launch/{token}/content/{path}: a file of
// the session's package version.
//
// Unlike the other content paths (see contentCSP), these files are served
// without a sandbox, in the LRS's own origin: a SCO finds the SCORM API
// as a JavaScript object of the player's window (window.parent.API), which
// only a document of the same origin can reach, and Tin Can content keeps
// its bookmarks in localStorage, which throws in an opaque origin. That is
// what SCORM players (Moodle's, SCORM Cloud's) do. The price is that the
// course's scripts run in the LRS's origin: they can call the LRS with
// whatever the browser holds for it. The learner's session token they get
// anyway; but a browser that also signs an administrator in to pages of
// the same host name would lend them that too. The LRS keeps nothing in
// cookies or storage today, and Basic credentials are sent only to a
// browser that was asked for them; an installation whose people sign in to
// pages of the LRS should give launches a host name of its own (a reverse
// proxy name serving /launch and /static only), as the README says.
func (s *Server) getLaunchContent(c *echo.Context) error {
	if s.pk == nil {
		return errs.E(errs.NotFound, "no resource at %s", c.Request().URL.Path)
	}
	parts := strings.SplitN(c.Request().URL.EscapedPath(), "/", 5) // "", "launch", token, "content", file
	if len(parts) != 5 {
		return errs.E(errs.NotFound, "no such package file: the path is /launch/{token}/content/{file}")
	}
	file, err := url.PathUnescape(parts[4])
	if err != nil || !packages.ValidPath(file) {
		return errs.E(errs.NotFound, "no such package file: the path is /launch/{token}/content/{file}")
	}
	tok, err := s.launchToken(c, parts[2], launch.Session, launch.Content)
	if err != nil {
		return err
	}
	p, err := s.pk.store.Version(c.Request().Context(), tok.Tenant, tok.Package, tok.Version)
	if err != nil {
		return err
	}
	return s.serveContent(c, p, file, launchContentCSP)
}

// launchContentCSP is the Content-Security-Policy of a launch session's
// files: no sandbox (see getLaunchContent), framed by the LRS's player
// only.
const launchContentCSP = "frame-ancestors 'self'"

// postLaunchCommit serves POST /launch/{token}/commit?sco=ID[&terminate=true]:
// a commit of the SCORM runtime of the player, authorised by the session
// token, stored by launch.Service.Commit (the SCO's attempt, then the
// SCORM rollup when the course is done). Answers as the SCORM bridge does
// (scorm.go).
func (s *Server) postLaunchCommit(c *echo.Context) error {
	if s.pk == nil {
		return errs.E(errs.NotFound, "no resource at %s", c.Request().URL.Path)
	}
	tok, err := s.launchToken(c, c.Param("token"), launch.Session)
	if err != nil {
		return err
	}
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	if err := allowOnly(q, "sco", "terminate"); err != nil {
		return err
	}
	if !q.Has("sco") {
		return errs.Invalidf("sco", "param-required", "the sco parameter is required: the id of the SCO the commit is of")
	}
	terminate, err := boolParam(q, "terminate")
	if err != nil {
		return err
	}
	body, err := s.commitBody(c)
	if err != nil {
		return err
	}
	cred := tok.Credential()
	w := ingest.Writer{Tenant: tok.Tenant, Key: cred.Key, Name: cred.Name, Home: s.publicBase(c)}
	res, err := s.launch.Commit(c.Request().Context(), tok, w, q.Get("sco"), body, terminate)
	if err != nil {
		return err
	}
	if len(res.Statements) > 0 {
		s.metrics.countAccepted(len(res.Statements))
	}
	return writeJSON(c, http.StatusOK, scormCommitAnswer{Result: "true", Statements: res.Statements})
}

// HostedModules returns, of the catalog's modules, those a package here
// delivers (launch.Service.Hosted), with the package's ID; none without
// packages.
func (s *Server) HostedModules(ctx context.Context, tenant string, cat *reporting.Catalog) (map[string]string, error) {
	if s.launch == nil {
		return map[string]string{}, nil
	}
	return s.launch.Hosted(ctx, tenant, cat.Modules)
}

// LaunchModule makes a personal launch link of the package delivering
// module m (HostedModules) for roster person (their identifier today), as
// their own launch (launch.SelfIssuer) lasting ttl (0:
// launch.DefaultLinkTTL), and returns its path, /launch/{token}; "" when
// no package here delivers the module. The pages for people's Start
// button and reminder e-mails' links call it.
func (s *Server) LaunchModule(ctx context.Context, tenant, person string, m *reporting.Module, ttl time.Duration) (string, error) {
	if s.launch == nil || s.rp == nil {
		return "", nil
	}
	hosted, err := s.launch.Hosted(ctx, tenant, []*reporting.Module{m})
	if err != nil || hosted[m.ID] == "" {
		return "", err
	}
	rows, err := s.rp.store.RosterRows(ctx, tenant, reporting.RosterFilter{People: []string{person}})
	if err != nil {
		return "", err
	}
	learner, err := reporting.PersonAgent(rows, person, reporting.DateOf(s.now(), time.UTC))
	if err != nil {
		return "", err
	}
	l, err := s.launch.Launch(ctx, launch.Request{Tenant: tenant, Issuer: launch.SelfIssuer(person), Package: hosted[m.ID],
		Learner: learner, TTL: ttl})
	if err != nil {
		return "", err
	}
	return "/launch/" + l.Token, nil
}
