// Package web is the pages for people: HR, managers, auditors and
// learners sign in and see compliance status in the browser. It is an HTTP
// adapter beside package lrs (the API): it renders server-side HTML from
// the same domain functions the API answers from (reporting.Report,
// reporting.PersonTranscript, the CSV of reporting/export), so a page and
// the API never disagree, and it decides nothing about access itself:
// package accounts resolves who may see what from the grants and the
// roster, on every request.
//
// # Routes
//
//	GET  /                         the start page of the signed-in person (redirect)
//	GET  /login, POST /login       sign-in with a local account
//	GET  /auth/oidc/start          sign-in with OpenID Connect (authorization code with PKCE)
//	GET  /auth/oidc/callback       where the identity provider sends the browser back
//	POST /logout                   sign-out
//	GET  /me                       "Min opplæring": what I must take, by when, what I have done
//	POST /me/start                 start a module hosted here: a personal launch, and on to it
//	GET  /overview                 completion per unit, module and campaign, and its trend (asOf, knownAt)
//	GET  /units                    the units the person may see
//	GET  /units/{id}               people × required modules of a unit's subtree (asOf, knownAt)
//	GET  /units/{id}/status.csv    the same rows as the API's CSV status report (the page's filters: status, module)
//	GET  /units/{id}/status.xlsx   the same rows as the API's XLSX status report (unit_downloads.go)
//	GET  /units/{id}/evidence      the signed evidence pack of the API for the unit and a period (from, to)
//	GET  /people/{id}              a person's requirements and transcript with evidence
//	GET  /lang/{nb|en}             switch the language (cookie), back to ?next
//	GET  /static/pages/{file}      the style sheet (/static/{file} is the SCORM player's)
//	GET, POST /admin/...           administration for hr: roster upload, catalog, rules, campaigns, exemptions, erasure, reminder e-mails (admin.go)
//
// # Sessions and forgery
//
// Sessions are kept server-side by package accounts (see its doc for why):
// the cookie (lrs_session; __Host-lrs_session when the base URL is https)
// holds only a random 256-bit secret, HttpOnly, SameSite=Lax, Secure over
// https, without an expiry of its own (the server ends sessions: idle
// timeout, maximum age, sign-out, a disabled account). Every form that
// POSTs carries a synchronizer token: the session's own CSRF token for
// forms of a signed-in person, and for the sign-in form (before there is a
// session) a random token that is also in the short-lived sign-in cookie,
// compared in constant time (double submit; the cookie is HttpOnly and, on
// https, __Host- prefixed, so no other site or subdomain can set it). A
// POST whose Origin or Sec-Fetch-Site names another site is refused too.
// The sign-in cookie also carries the state, nonce and PKCE verifier of an
// OpenID Connect sign-in for its ten minutes; nothing needs signing, so
// replicas share nothing but the database.
//
// Pages need no JavaScript, load nothing from other sites and are served
// with a Content-Security-Policy that allows only the style sheet of this
// origin (no inline styles or scripts). They come in Norwegian bokmål and
// English, chosen by Accept-Language or by the switch in the header, with
// Norwegian dates (31.10.2026) and numbers (87,5 %).
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/accounts"
	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/reporting/evidence"
)

//go:embed templates/*.html static/*
var files embed.FS

// Config holds what the pages need. Accounts and Reporting are required.
type Config struct {
	Accounts  *accounts.Service
	Reporting reporting.Store
	// Statements reads stored statements for the hashes of evidence.
	Statements reporting.StatementGetter
	// BaseURL is the public URL of the service. When it is https, cookies
	// are Secure and __Host- prefixed. OpenID Connect needs it (the
	// redirect URI is BaseURL + /auth/oidc/callback).
	BaseURL string
	// Location is the time zone of the organisation's calendar days (due
	// dates, the as-of picker, times shown); nil: UTC.
	Location *time.Location
	// Access, when set, records every page that shows people's data
	// (person, me, unit and its downloads) in the access log, with the
	// signed-in account as the actor.
	Access privacy.AccessLog
	// Audit, when set, records every change made on the administration
	// pages (roster imports, catalog entries), as the API does.
	Audit auth.AuditLog
	// Erasure, when set, lets hr erase a person on the administration
	// pages (privacy.Erase over these stores).
	Erasure *privacy.Sources
	// Reminders, when set, is the record of reminder e-mails the person
	// page lists.
	Reminders reminders.Store
	// OIDC, when set, offers sign-in with an OpenID Connect provider.
	OIDC *OIDCConfig
	// Signer, when set, signs the evidence packs of the unit pages (the
	// server's token keys, as the API's packs).
	Signer evidence.Signer
	// Launcher, when set, starts the modules hosted here as packages
	// (the learner's Start button); see also Pages.UseLauncher.
	Launcher Launcher
	Logger   *slog.Logger     // nil: slog.Default()
	Now      func() time.Time // nil: time.Now
}

// Launcher starts modules hosted here as packages: lrs.Server, over
// package launch.
type Launcher interface {
	// HostedModules returns the ids of the catalog's modules a package
	// here delivers, with the package's ID.
	HostedModules(ctx context.Context, tenant string, cat *reporting.Catalog) (map[string]string, error)
	// LaunchModule returns the path of a personal launch link of module m
	// for person, "" when no package here delivers it.
	LaunchModule(ctx context.Context, tenant, person string, m *reporting.Module, ttl time.Duration) (string, error)
}

// Pages serves the pages; Register mounts them on the service's router.
type Pages struct {
	cfg     Config
	runner  ReminderRunner // the reminder pages' (UseReminders)
	log     *slog.Logger
	now     func() time.Time
	secure  bool
	pages   map[string]*template.Template
	css     []byte
	cssPath string
	oidc    *oidcClient
	// Failed sign-ins: ten per account name, then one a minute (guessing
	// one account's password); a hundred per client address, then one a
	// second (guessing many accounts' from one place, while an office
	// behind one address can still sign in).
	nameFailures, addrFailures *throttle
	cleaned                    atomic.Int64 // Unix ns of the last cleanup of ended sessions
	trends                     trendCache   // the overviews' figures (overview.go)
	hasAccounts                atomic.Bool  // an account exists (signin.go)
}

// New returns the pages for cfg.
func New(cfg Config) (*Pages, error) {
	if cfg.Accounts == nil || cfg.Reporting == nil {
		return nil, errors.New("web: the pages need the accounts and the reporting store")
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	p := &Pages{cfg: cfg, log: cfg.Logger, now: cfg.Now, secure: strings.HasPrefix(cfg.BaseURL, "https://"),
		pages:        map[string]*template.Template{},
		nameFailures: newThrottle(cfg.Now, 10, time.Minute), addrFailures: newThrottle(cfg.Now, 100, time.Second)}
	for _, name := range []string{"login", "me", "units", "unit", "person", "error", "overview"} {
		t, err := template.New("layout.html").ParseFS(files, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		p.pages[name] = t
	}
	if err := p.parseAdmin(); err != nil {
		return nil, err
	}
	css, err := files.ReadFile("static/style.css")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(css)
	p.css, p.cssPath = css, "/static/pages/style-"+hex.EncodeToString(sum[:6])+".css"
	if cfg.OIDC != nil {
		if p.oidc, err = newOIDC(*cfg.OIDC, cfg.BaseURL); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// UseLauncher sets the Launcher (for a service built after the pages, as
// lrs.New is: its routes include the pages').
func (p *Pages) UseLauncher(l Launcher) { p.cfg.Launcher = l }

// Register mounts the pages on e (lrs.Config.Routes).
func (p *Pages) Register(e *echo.Echo) {
	e.GET("/", p.private(p.home))
	e.GET("/login", p.public(p.loginPage))
	e.POST("/login", p.public(p.login))
	e.POST("/logout", p.private(p.logout))
	e.GET("/auth/oidc/start", p.public(p.oidcStart))
	e.GET("/auth/oidc/callback", p.public(p.oidcCallback))
	e.GET("/me", p.private(p.me))
	e.POST("/me/start", p.private(p.start))
	e.GET("/overview", p.private(p.overview))
	e.GET("/units", p.private(p.units))
	e.GET("/units/:id", p.private(p.unit))
	e.GET("/units/:id/status.csv", p.private(p.unitCSV))
	e.GET("/units/:id/status.xlsx", p.private(p.unitXLSX))
	e.GET("/units/:id/evidence", p.private(p.unitEvidence))
	e.GET("/people/:id", p.private(p.person))
	e.GET("/lang/:lang", p.public(p.setLang))
	e.GET("/static/pages/:file", p.static)
	p.registerAdmin(e)
}

// request is what a page handler knows of its request.
type request struct {
	locale
	c    *echo.Context
	acc  *accounts.Access // nil on public pages
	sess *accounts.Session
}

type handler func(r *request) error

// securityHeaders replaces the API's headers with the pages': a
// Content-Security-Policy that allows the style sheet of this origin and
// forms posting here, and nothing else; a Referrer-Policy that sends the
// origin to this site only; no CORS headers.
func securityHeaders(c *echo.Context) {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "+
		"frame-ancestors 'none'; base-uri 'none'")
	// The API's no-referrer would make browsers send "Origin: null" with
	// the pages' own forms; same-origin still tells other sites nothing.
	h.Set("Referrer-Policy", "same-origin")
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "X-Experience-API-Version"} {
		h.Del(k)
	}
}

// newRequest makes the request of c, in the language it asks for.
func (p *Pages) newRequest(c *echo.Context) *request {
	securityHeaders(c)
	lang := ""
	if ck, err := c.Cookie(cookieLang); err == nil {
		lang = ck.Value
	}
	return &request{c: c, locale: locale{lang: pickLang(lang, c.Request().Header.Get("Accept-Language")), loc: p.cfg.Location}}
}

// public serves a page that needs no sign-in.
func (p *Pages) public(h handler) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := p.newRequest(c)
		return p.answer(r, h(r))
	}
}

// private serves a page for signed-in people: without a live session, a
// GET is sent to the sign-in page (and back after it), anything else is
// refused. A POST must carry the session's CSRF token.
func (p *Pages) private(h handler) echo.HandlerFunc { return p.privateForm(maxFormBytes, h) }

// privateForm is private for a page whose POST may be up to limit bytes
// (a file upload).
func (p *Pages) privateForm(limit int64, h handler) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := p.newRequest(c)
		ctx := c.Request().Context()
		secret := ""
		if ck, err := c.Cookie(p.cookieName(cookieSession)); err == nil {
			secret = ck.Value
		}
		sess, acct, err := p.cfg.Accounts.Session(ctx, secret)
		if errs.Is(err, errs.Unauthorized) {
			if secret != "" {
				p.clearCookie(c, p.cookieName(cookieSession))
			}
			if c.Request().Method != http.MethodGet {
				return p.answer(r, errs.E(errs.Forbidden, "not signed in"))
			}
			return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
		}
		if err != nil {
			return p.answer(r, err)
		}
		r.sess = sess
		if c.Request().Method == http.MethodPost {
			if err := p.checkForm(c, sess.CSRF, limit); err != nil {
				return p.answer(r, err)
			}
		}
		if r.acc, err = accounts.Resolve(ctx, p.cfg.Reporting, sess, acct, p.now(), p.cfg.Location); err != nil {
			return p.answer(r, err)
		}
		return p.answer(r, h(r))
	}
}

// page is what every template gets.
type page struct {
	locale
	Title  string
	Access *accounts.Access
	CSRF   string // the token of the forms on the page
	Path   string // the page's path and query, for the language switch
	CSS    string
	Data   any
}

// render answers with the page name.
func (p *Pages) render(r *request, status int, name, title string, data any) error {
	pg := page{locale: r.locale, Title: title, Access: r.acc, Path: r.c.Request().URL.RequestURI(), CSS: p.cssPath, Data: data}
	if r.sess != nil {
		pg.CSRF = r.sess.CSRF
	}
	if f, ok := data.(interface{ csrf() string }); ok {
		pg.CSRF = f.csrf()
	}
	if m := r.c.Request().Method; m != http.MethodGet && m != http.MethodHead {
		// The language switch leads back with a GET, which cannot repeat
		// a POST: to the page of the form instead.
		pg.Path = formPage(r.c.Request().URL.Path)
	}
	if f, ok := data.(interface{ path() string }); ok {
		pg.Path = f.path() // a page answering a POST names the page to switch language on
	}
	var buf bytes.Buffer
	if err := p.pages[name].Execute(&buf, &pg); err != nil {
		return errs.Wrap(err, "rendering the page "+name)
	}
	h := r.c.Response().Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", r.lang)
	r.c.Response().WriteHeader(status)
	_, err := r.c.Response().Write(buf.Bytes())
	return err
}

// formPage returns the page whose form posts to path: /admin/SECTION for
// the administration's forms (/admin/roster/preview → /admin/roster),
// else the first segment (/me/start → /me).
func formPage(path string) string {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if parts[0] == "admin" && len(parts) > 1 {
		return "/admin/" + parts[1]
	}
	return "/" + parts[0]
}

// errorPage is the data of the error page.
type errorPage struct{ Message string }

// answer ends a request whose handler returned err: nothing more when it
// is nil, else an error page with the status of err's kind. A 500 is
// logged with an id, which alone the page shows.
func (p *Pages) answer(r *request, err error) error {
	if err == nil {
		return nil
	}
	if res, _ := echo.UnwrapResponse(r.c.Response()); res != nil && res.Committed {
		p.log.Error("page failed after its answer began", "path", r.c.Request().URL.Path, "err", err)
		return nil
	}
	kind := errs.KindOf(err)
	status := lrs.HTTPStatus(kind)
	var msg string
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		status, msg = http.StatusServiceUnavailable, r.T("error.503")
	case status == http.StatusServiceUnavailable:
		p.log.Warn("page unavailable", "path", r.c.Request().URL.Path, "err", err)
		msg = r.T("error.503")
	case status == http.StatusInternalServerError:
		id := errorID()
		p.log.Error("page failed", "id", id, "method", r.c.Request().Method, "path", r.c.Request().URL.Path, "err", err)
		msg = r.T("error.500", id)
	case errors.Is(err, errCSRF):
		msg = r.T("error.csrf")
	case kind == errs.Invalid:
		var e *errs.Error
		errors.As(err, &e)
		msg = r.T("error.400", e.Message)
	case slices.Contains([]int{403, 404, 413, 429, 503}, status):
		msg = r.T("error." + itoa(status))
	default:
		msg = err.Error()
	}
	return p.render(r, status, "error", r.T("error.title"), errorPage{msg})
}

// static serves the style sheet under its content-hashed name, cached for
// a year.
func (p *Pages) static(c *echo.Context) error {
	securityHeaders(c)
	if "/static/pages/"+c.Param("file") != p.cssPath {
		return p.answer(p.newRequest(c), errs.E(errs.NotFound, "no such file"))
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", p.css)
}

// setLang serves /lang/{nb|en}?next=PATH: the language cookie, and back.
func (p *Pages) setLang(r *request) error {
	lang := r.c.Param("lang")
	if lang != langNB && lang != langEN {
		return errs.E(errs.NotFound, "no language %q", lang)
	}
	r.c.SetCookie(&http.Cookie{Name: cookieLang, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true,
		Secure: p.secure, SameSite: http.SameSiteLaxMode})
	return r.c.Redirect(http.StatusSeeOther, localPath(r.c.QueryParam("next")))
}

// localPath returns next if it is a path on this site (never another
// site: no scheme, no host, no "//" or "/\"), else "/".
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

func itoa(n int) string { return strconv.Itoa(n) }

// errorID returns a random id tying an error page to its log line.
func errorID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// logAccess records a page showing people's data in the access log: the
// actor is the signed-in account's name, or "person:ID" for an OpenID
// Connect sign-in no account names. The page is rendered already: a
// failure to record is logged.
func (p *Pages) logAccess(r *request, what string, subjects *privacy.Subjects, count int) {
	if p.cfg.Access == nil || subjects.Len() == 0 {
		return
	}
	e := &privacy.Access{Tenant: r.acc.Tenant, Time: p.now().UTC(), Actor: r.actor(), ActorKind: privacy.ActorAccount,
		What: what, Subjects: subjects.List(), Count: count}
	if err := p.cfg.Access.AppendAccess(context.WithoutCancel(r.c.Request().Context()), []*privacy.Access{e}); err != nil {
		p.log.Error("recording an access log entry", "what", what, "err", err)
	}
}
