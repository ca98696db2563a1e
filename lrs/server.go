// Package lrs is the HTTP service of the Learning Record Store: the xAPI
// resources under /xapi/ (Statements, State, Activity Profile, Agent
// Profile, Agents, Activities, About), CORS, the alternate request syntax
// of xAPI 1.0.3, HTTP Basic
// authentication against an auth.CredentialStore, scopes, the
// X-Experience-API-Version header, and the one mapping from errs.Kind to HTTP
// status (errors.go).
//
// Every bad request is answered with a 4xx and a JSON body
//
//	{"error": {"kind": "invalid", "message": "...", "path": "actor.mbox", "rule": "..."}}
//
// naming what was wrong (the one exception: URL and headers over
// MaxHeaderBytes); a 500 means a bug or a failing dependency, and its body
// carries only an id that ties it to the server log.
package lrs

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/launch"
	"github.com/xapi-lrs/lrs/lmsimport"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/scorm"
	"github.com/xapi-lrs/lrs/statements"
	"github.com/xapi-lrs/lrs/tokens"
)

// Defaults of Config's limits.
const (
	DefaultMaxBodyBytes  = 20 << 20
	DefaultMaxBatch      = 1000
	DefaultMaxLimit      = 100
	DefaultCredentialTTL = 30 * time.Second
	DefaultReadTimeout   = 2 * time.Minute
)

// MaxHeaderBytes is the most bytes of request line (URL included) and
// headers the server reads; net/http reads 4 KiB more before it refuses.
// No xAPI request needs more: a long statement query goes in a POST body
// (the alternate request syntax), and a bearer token of several KiB fits
// many times. A lower bound than net/http's default of 1 MiB also bounds
// the memory a slow client can pin per connection.
//
// A request over the limit gets the plain-text "431 Request Header Fields
// Too Large" that net/http writes on the connection itself while parsing
// the request, before any handler runs: http.Server has no hook to change
// that answer (nor to log or count it), so it is the one error response
// that is not the JSON error body. Making it JSON would take a second,
// hand-written HTTP parser in front of net/http's, or rewriting the bytes
// net/http writes; neither is worth it for a request no client sends by
// mistake.
const MaxHeaderBytes = 64 << 10

// Config holds what the service needs. The stores are required.
type Config struct {
	Store       ingest.Store             // statements, written a unit at a time
	Documents   documents.Store          // State, Activity Profile, Agent Profile
	Activities  statements.ActivityStore // canonical activity definitions
	Credentials auth.CredentialStore
	Tenants     auth.TenantStore // nil: no tenant checks and no admin API for tenants
	Audit       auth.AuditLog
	Logger      *slog.Logger // nil: slog.Default()

	// BaseURL is the public URL of the service, e.g. "https://lrs.example.org";
	// it is the homePage of the authority account the LRS puts on every
	// statement. Empty: the scheme and Host of each request.
	BaseURL string

	MaxBodyBytes     int64         // largest request body; 0: DefaultMaxBodyBytes
	MaxDocumentBytes int64         // largest document body; 0: DefaultMaxDocumentBytes
	MaxBatch         int           // most statements in one POST; 0: DefaultMaxBatch
	MaxLimit         int           // largest page of a statement query; 0: DefaultMaxLimit
	CredentialTTL    time.Duration // how long a credential lookup is cached; 0: DefaultCredentialTTL

	// CursorKey signs the "more" links of statement queries. Replicas behind
	// one address must share it. Empty: a random key, so links do not
	// survive a restart.
	CursorKey []byte

	// RateLimit is the requests per second each credential may make (a
	// token bucket holding RateBurst); 0: DefaultRateLimit; < 0: no limit.
	RateLimit float64
	RateBurst int // 0: twice RateLimit
	// RequestTimeout bounds each request's work; 0: DefaultRequestTimeout;
	// < 0: none.
	RequestTimeout time.Duration
	// ReadTimeout bounds the reading of a whole request, headers and body
	// (a body that stops arriving is answered 408); 0: DefaultReadTimeout.
	ReadTimeout time.Duration
	// TrustedProxies are the address ranges of the reverse proxies in front
	// of the service: a request from one of them names its client in
	// X-Forwarded-For, which the throttle of failed logins (guard.go) then
	// counts by. None: the peer is the client, and X-Forwarded-For is
	// ignored, as anyone can send it.
	TrustedProxies []*net.IPNet

	// Metrics is the registry the service registers its metrics on and
	// serves at /metrics, with whatever else the caller registered there;
	// nil: a registry of its own. MetricsToken, when set, is the bearer
	// token /metrics requires. (metrics.go, health.go, requestlog.go)
	Metrics      *prometheus.Registry
	MetricsToken string

	// Tokens issues and verifies bearer tokens (token.go); nil: bearer
	// tokens are off and /api/v1/token is not served.
	Tokens *tokens.Service

	// Reporting keeps the compliance catalog, roster and completion
	// projection (reporting.go); nil: compliance reporting is off, its
	// routes are not served and statements are not projected. It must be
	// the same database as Store: with reporting on, statements are
	// committed with their projection by Store's Commit (alone only when
	// that fails for the projection's sake, the projection then written
	// to Reporting).
	Reporting reporting.Store

	// Privacy keeps the access log (privacy.go); nil: reads of people's
	// data are not recorded and the privacy API is not served. It must
	// be the same database as Store and Reporting.
	Privacy privacy.Store

	// Reminders keeps the record of the reminder e-mails sent
	// (reminders.go); nil, or without Reporting: the reminders API is not
	// served. Mail sends them (nil: only dry runs), from the address
	// MailFrom; a message that fails is tried again after MailBackoff
	// (default 2s), then twice that, three attempts in all.
	Reminders   reminders.Store
	Mail        reminders.Sender
	MailFrom    string
	MailBackoff time.Duration
	// MailRate is the most reminder e-mails a run sends a second (0: no
	// limit).
	MailRate float64
	// ReminderLink returns the link that starts a module for a person in
	// reminder e-mails; nil: a personal launch link for a module a
	// package here delivers, else the module's web address in the
	// catalog (reminderLink). Server.Reminders returns the service.
	ReminderLink reminders.LinkFunc

	// Packages keeps imported e-learning packages and their files
	// (packages.go); nil: the package API and /content are not served.
	Packages packages.Store
	// PackageLimits bound a package import; zero fields:
	// packages.DefaultLimits.
	PackageLimits packages.Limits
	// ContentKey signs content links (packages.ContentToken), at least
	// packages.MinContentKeyBytes long; replicas behind one address must
	// share it. Empty: a random key, so links do not survive a restart.
	ContentKey []byte
	// Routes, when set, registers more routes on the service's router
	// after its own: the pages for people (package web) mount themselves
	// so. They run behind the same outer middleware as the API (request
	// id, request log, metrics, security headers, the request timeout)
	// and answer their own errors.
	Routes func(e *echo.Echo)

	// Now is the clock (for tests); nil: time.Now.
	Now func() time.Time
}

// Server is the HTTP service.
type Server struct {
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	creds *credCache

	limiter      *rateLimiter
	failures     *failureThrottle // guard.go
	authFailures atomic.Uint64
	echo         *echo.Echo

	anonymousForms atomic.Int64 // bytes of forms read before their sender is known (protocol.go)

	defaultVersion statements.Version

	metrics *metrics   // metrics.go
	ready   *readiness // health.go

	srv *http.Server // for Serve and Shutdown

	rp *reportingState // reporting.go; nil when Config.Reporting is nil
	pk *packageState   // packages.go; nil when Config.Packages is nil

	ingest  *ingest.Service    // the statement writes (statements_write.go)
	scorm   *scorm.Service     // the SCORM commits (scorm.go)
	imports *lmsimport.Service // completion exports (imports.go); nil when Config.Reporting is nil
	launch  *launch.Service    // launches and the player (launch.go); nil without packages

	reminders *reminders.Service // reminder e-mails (reminders.go); nil when they are off
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxDocumentBytes <= 0 {
		cfg.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.MaxLimit <= 0 {
		cfg.MaxLimit = DefaultMaxLimit
	}
	if cfg.CredentialTTL <= 0 {
		cfg.CredentialTTL = DefaultCredentialTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if len(cfg.CursorKey) == 0 {
		cfg.CursorKey = make([]byte, 32)
		_, _ = rand.Read(cfg.CursorKey)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	s := &Server{
		cfg:            cfg,
		log:            cfg.Logger,
		now:            cfg.Now,
		creds:          newCredCache(cfg.Credentials, cfg.Tenants, cfg.CredentialTTL, cfg.Now),
		limiter:        newRateLimiter(cfg.RateLimit, cfg.RateBurst, cfg.Now),
		failures:       newFailureThrottle(cfg.Now),
		defaultVersion: statements.V200,
	}
	s.initOps()
	s.echo = s.routes()
	var facts reporting.FactWriter // nil: reporting off
	if cfg.Reporting != nil {
		facts = cfg.Reporting
	}
	s.ingest = ingest.New(ingest.Config{
		Store:    cfg.Store,
		Facts:    facts,
		MaxBatch: cfg.MaxBatch,
		Logger:   s.log,
		Now:      cfg.Now,
		ProjectionFailed: func() {
			s.rp.ingestFailures.Inc()
		},
	})
	s.scorm = scorm.NewService(cfg.Documents, s.ingest, cfg.Now)
	s.imports = s.newImports()
	if s.pk != nil {
		s.launch = &launch.Service{Packages: s.pk.store, Documents: cfg.Documents, Statements: cfg.Store,
			SCORM: s.scorm, Ingest: s.ingest, Keys: s.pk.keys, Now: cfg.Now}
	}
	s.srv = &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: min(10*time.Second, cfg.ReadTimeout),
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return s
}

// routes builds the Echo instance: the xAPI resources and their middleware.
func (s *Server) routes() *echo.Echo {
	e := echo.NewWithConfig(echo.Config{
		Logger:           s.log,
		HTTPErrorHandler: s.handleError,
		IPExtractor:      clientIP(s.cfg.TrustedProxies),
	})
	e.Pre(s.observe) // outermost: request id, errors answered, metrics, log
	e.Pre(s.secure, s.cors, s.negotiateVersion, s.alternateSyntax)
	s.opsRoutes(e) // /metrics, /healthz, /readyz

	x := e.Group("/xapi")
	getHead := []string{http.MethodGet, http.MethodHead}

	x.Match(getHead, "/about", s.getAbout)

	// guard is the middleware of every resource but About: authentication,
	// then the version header, then the scope.
	guard := func(scopes ...string) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{s.authenticate, s.requireVersion, authorize(scopes...)}
	}
	read := append([]echo.MiddlewareFunc{s.consistentThrough}, guard(statementsReadScopes...)...)
	x.Match(getHead, "/statements", s.getStatements, read...)
	x.PUT("/statements", s.putStatement, guard(statementsWriteScopes...)...)
	x.POST("/statements", s.postStatements, guard(statementsWriteScopes...)...)

	for _, r := range []struct {
		path        string
		res         *docResource
		read, write []string
	}{
		{"/activities/state", stateResource, stateReadScopes, stateScopes},
		{"/activities/profile", activityProfileResource, profileReadScopes, profileScopes},
		{"/agents/profile", agentProfileResource, profileReadScopes, profileScopes},
	} {
		x.Match(getHead, r.path, s.getDocument(r.res), guard(r.read...)...)
		x.PUT(r.path, s.putDocument(r.res), guard(r.write...)...)
		x.POST(r.path, s.postDocument(r.res), guard(r.write...)...)
		x.DELETE(r.path, s.deleteDocument(r.res), guard(r.write...)...)
	}
	x.Match(getHead, "/agents", s.getAgents, guard(definitionsScopes...)...)
	x.Match(getHead, "/activities", s.getActivities, guard(definitionsScopes...)...)

	if s.cfg.Tenants != nil && s.cfg.Audit != nil {
		s.adminRoutes(e.Group("/api/v1/admin"))
	}
	if s.cfg.Tokens != nil {
		s.tokenRoutes(e) // token.go
	}
	s.rp = s.reportingRoutes(e) // reporting.go
	s.scormRoutes(e)            // scorm.go
	s.pk = s.packageRoutes(e)   // packages.go
	s.privacyRoutes(e)          // privacy.go
	s.reminderRoutes(e)         // reminders.go
	if s.cfg.Routes != nil {
		s.cfg.Routes(e)
	}
	return e
}

// publicBase is the LRS's public URL: Config.BaseURL, or the scheme and
// host of the request.
func (s *Server) publicBase(c *echo.Context) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL
	}
	return c.Scheme() + "://" + c.Request().Host
}

// Handler returns the service as an http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// ListenAndServe serves on addr (e.g. ":8080") until Shutdown.
func (s *Server) ListenAndServe(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Serve serves on l until Shutdown. It returns nil after a Shutdown, also
// when Shutdown came first.
func (s *Server) Serve(l net.Listener) error {
	err := s.srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and waits for requests in flight to
// finish, or for ctx to end.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
