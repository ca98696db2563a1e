package lrs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xapi-lrs/lrs/errs"
)

// RequestIDHeader carries the id of a request: taken from the request when
// a proxy set a well-formed one, else made up; always echoed in the
// response and logged.
const RequestIDHeader = "X-Request-Id"

// initOps sets up what operating the service needs: metrics and
// readiness. New calls it before building the routes.
func (s *Server) initOps() {
	reg := s.cfg.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
		s.cfg.Metrics = reg
	}
	s.metrics = newMetrics(reg)
	s.ready = &readiness{s: s}
	reg.MustRegister(s.ready.readyGauge())
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "lrs_auth_failures_total",
		Help: "Requests refused for missing, wrong, revoked or expired credentials or tokens, or a disabled tenant, or throttled after failed ones.",
	}, func() float64 { return float64(s.authFailures.Load()) }))
}

// opsRoutes adds /metrics, /healthz and /readyz. They need no xAPI
// credential; /metrics needs Config.MetricsToken when one is set.
func (s *Server) opsRoutes(e *echo.Echo) {
	getHead := []string{http.MethodGet, http.MethodHead}
	e.Match(getHead, "/metrics", s.serveMetrics(s.cfg.Metrics))
	e.Match(getHead, "/healthz", s.healthz)
	e.Match(getHead, "/readyz", s.readyz)
}

// quietRoutes are logged at debug level: probes and scrapes arrive every
// few seconds and say nothing about the traffic.
var quietRoutes = map[string]bool{"/metrics": true, "/healthz": true, "/readyz": true}

// observe is the outermost middleware: it gives the request an id, answers
// any error (through handleError, so that the status is known here),
// recovers a panic as a 500, and then records the request in the metrics and
// in one structured log line. The line holds identifiers only: no query
// string (it may hold e-mail addresses of learners), no credentials, no
// client address, no error message (it may quote the request).
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) (err error) {
		start := time.Now()
		id := requestID(c.Request().Header.Get(RequestIDHeader))
		c.Response().Header().Set(RequestIDHeader, id)
		s.metrics.inFlight.Inc()
		defer s.metrics.inFlight.Dec()

		err = s.callSafely(next, c)
		if err != nil {
			s.handleError(c, err)
		}
		d := time.Since(start)

		status, size := http.StatusOK, int64(0)
		if r, _ := echo.UnwrapResponse(c.Response()); r != nil {
			if r.Status != 0 {
				status = r.Status
			}
			size = r.Size
		}
		route := c.Path()
		if route == "" || status == http.StatusNotFound && !isKnownRoute(c) {
			route = "unmatched" // never the raw path: it would make a label per URL
		}
		req := c.Request() // the alternate request syntax may have changed the method
		s.metrics.observe(route, req.Method, status, err, d)

		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelWarn
		case quietRoutes[route]:
			level = slog.LevelDebug
		}
		if !s.log.Enabled(req.Context(), level) {
			return nil
		}
		attrs := []slog.Attr{
			slog.String("id", id),
			slog.String("method", req.Method),
			slog.String("route", route),
			slog.String("path", loggedPath(route, req.URL.Path)),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			slog.Int64("bytes_in", max(req.ContentLength, 0)),
			slog.Int64("bytes_out", size),
		}
		if cred, ok := CredentialFromContext(req.Context()); ok {
			attrs = append(attrs, slog.String("tenant", tenantOf(cred)), slog.String("credential", cred.Name))
		}
		if err != nil {
			var e *errs.Error
			if errors.As(err, &e) && e.Kind != errs.Internal {
				attrs = append(attrs, slog.String("error_kind", e.Kind.String()))
				if e.Rule != "" {
					attrs = append(attrs, slog.String("rule", e.Rule))
				}
			}
		}
		s.log.LogAttrs(context.Background(), level, "request", attrs...)
		return nil
	}
}

// isKnownRoute reports whether the router matched a route (a handler may
// answer 404 on a known route, e.g. a missing document).
func isKnownRoute(c *echo.Context) bool {
	return c.RouteInfo().Path != ""
}

// callSafely runs next, turning a panic into an internal error so that the
// client gets a 500 with an id and the log gets the stack.
func (s *Server) callSafely(next echo.HandlerFunc, c *echo.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			err = errs.Wrap(fmt.Errorf("panic: %v\n%s", r, debug.Stack()), "handler panicked")
		}
	}()
	return next(c)
}

// requestID returns the id a proxy gave (1 to 64 letters, digits, '-', '_'
// or '.'), or a new random one.
func requestID(given string) string {
	if len(given) > 0 && len(given) <= 64 {
		ok := true
		for _, r := range given {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
				ok = false
				break
			}
		}
		if ok {
			return given
		}
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// loggedPath is the form of a request's path the log may hold: the path,
// but for the token of a content link or a launch (a credential of
// sorts, and a launch's names the learner), which is replaced by "-".
func loggedPath(route, path string) string {
	var i int
	switch route {
	case contentTokenRoute:
		i = 3 // "", "content", "t", token, file
	case launchRoute, launchContentRoute, launchCommitRoute, launchFetchRoute:
		i = 2 // "", "launch", token, …
	default:
		return path
	}
	parts := strings.SplitN(path, "/", i+2)
	if len(parts) > i {
		parts[i] = "-"
	}
	return strings.Join(parts, "/")
}
