package lrs

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/xapi-lrs/lrs/errs"
)

// metrics are the Prometheus metrics of the HTTP service. They are
// registered on Config.Metrics (injected; never the global registry) and
// served at /metrics together with whatever else the caller registered there
// (storage, Go runtime, build info).
type metrics struct {
	requests  *prometheus.CounterVec   // by route, method, status
	duration  *prometheus.HistogramVec // by route, method, status
	inFlight  prometheus.Gauge
	accepted  prometheus.Counter
	rejected  *prometheus.CounterVec // by reason (error kind) and rule
	batchSize prometheus.Histogram
	documents *prometheus.HistogramVec // by resource, method
	reports   prometheus.Histogram
}

// Latency buckets in seconds, from a cached credential check to a large
// batch on a slow disk.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lrs_http_requests_total",
			Help: "HTTP requests answered, by route template, method and status code.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lrs_http_request_duration_seconds",
			Help:    "Time from receiving an HTTP request to the end of its response, by route template, method and status code.",
			Buckets: latencyBuckets,
		}, []string{"route", "method", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lrs_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lrs_statements_accepted_total",
			Help: "Statements stored durably (a statement sent again with the same content counts again).",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lrs_statements_rejected_total",
			Help: "Statement write requests (PUT, or POST of one statement or a batch, refused as a whole) rejected, by reason (error kind) and validation rule.",
		}, []string{"reason", "rule"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "lrs_statement_batch_size",
			Help:    "Statements per accepted statement write request.",
			Buckets: []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000},
		}),
		documents: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lrs_document_request_duration_seconds",
			Help:    "Duration of State, Activity Profile and Agent Profile requests, by resource and method.",
			Buckets: latencyBuckets,
		}, []string{"resource", "method"}),
		reports: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "lrs_report_request_duration_seconds",
			Help:    "Duration of report requests (routes under /reports).",
			Buckets: latencyBuckets,
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.accepted, m.rejected, m.batchSize,
		m.documents, m.reports)
	// Series that alerts and dashboards rate() exist from the start.
	for _, r := range documentRoutes {
		for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete} {
			m.documents.WithLabelValues(r, method)
		}
	}
	return m
}

// countAccepted counts one accepted statement write request of n statements.
func (m *metrics) countAccepted(n int) {
	m.accepted.Add(float64(n))
	m.batchSize.Observe(float64(n))
}

// documentRoutes maps the route templates of the document resources to the
// resource label of lrs_document_request_duration_seconds.
var documentRoutes = map[string]string{
	"/xapi/activities/state":   "state",
	"/xapi/activities/profile": "activity_profile",
	"/xapi/agents/profile":     "agent_profile",
}

// isReportRoute reports whether a route template is a report (issue #5: the
// compliance reports live under a /reports path).
func isReportRoute(route string) bool {
	return strings.Contains(route, "/reports")
}

// observe records one finished request: count and latency by route, and the
// per-resource figures.
func (m *metrics) observe(route, method string, status int, err error, d time.Duration) {
	code := strconv.Itoa(status)
	secs := d.Seconds()
	m.requests.WithLabelValues(route, method, code).Inc()
	m.duration.WithLabelValues(route, method, code).Observe(secs)
	switch {
	case route == "/xapi/statements" && (method == http.MethodPut || method == http.MethodPost) && status >= 400:
		reason, rule := rejection(status, err)
		m.rejected.WithLabelValues(reason, rule).Inc()
	case documentRoutes[route] != "":
		m.documents.WithLabelValues(documentRoutes[route], method).Observe(secs)
	case isReportRoute(route):
		m.reports.Observe(secs)
	}
}

// rejection names why a statement write failed: the kind of its error,
// and the validation rule when the error names one (rules are constants of
// the validator, so the label stays small). Errors that are not an
// *errs.Error (the router's, the body limit's) are named by their status.
func rejection(status int, err error) (reason, rule string) {
	if status == http.StatusServiceUnavailable { // also a cancelled or timed-out request
		return errs.Unavailable.String(), ""
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Kind.String(), e.Rule
	}
	for k, s := range kindStatus {
		if s == status && k != errs.Internal {
			return k.String(), ""
		}
	}
	if status >= 500 {
		return errs.Internal.String(), ""
	}
	return "status_" + strconv.Itoa(status), ""
}

// serveMetrics serves /metrics in the Prometheus text format (or
// OpenMetrics when asked), behind Config.MetricsToken when set.
func (s *Server) serveMetrics(gatherer prometheus.Gatherer) echo.HandlerFunc {
	h := promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{
		ErrorLog:          slogPrinter{s},
		EnableOpenMetrics: true,
	})
	return func(c *echo.Context) error {
		if tok := s.cfg.MetricsToken; tok != "" {
			got, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
				return errs.E(errs.Unauthorized, "/metrics needs the metrics token: Authorization: Bearer <token>")
			}
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// slogPrinter lets promhttp report gathering errors through the service log.
type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) { p.s.log.Error("serving /metrics", "err", v) }
