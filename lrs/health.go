package lrs

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// Readiness timings.
const (
	// readyWait is how long /readyz (and a scrape of lrs_ready) waits for
	// the store before answering "not ready".
	readyWait = 2 * time.Second
	// readyReuse is how long a check's result is reused, so that probes of
	// several kubelets and scrapes do not each write to the store.
	readyReuse = time.Second
	// pingTimeout bounds one check of the store.
	pingTimeout = 15 * time.Second
)

var (
	errDraining = errors.New("shutting down")
	errSlow     = errors.New("the store did not answer in time")
)

// readiness answers whether the service can do its work: the store is
// reachable and accepts a durable write (Store.Ping), and the service is not
// shutting down. Migrations ran before the service was built (sqlite.Open and
// mongo.Open apply them), so a Server that exists has them done.
//
// One check runs at a time; callers arriving meanwhile wait for it, so a
// hung store costs one goroutine, not one per probe.
type readiness struct {
	s        *Server
	draining atomic.Bool

	mu      sync.Mutex
	running chan struct{} // closed when the check in progress ends; nil if none
	last    error
	lastAt  time.Time
	known   bool // a result was recorded (for logging changes only)
}

// check returns nil when the service is ready, waiting at most until ctx
// ends.
func (r *readiness) check(ctx context.Context) error {
	if r.draining.Load() {
		return errDraining
	}
	r.mu.Lock()
	if !r.lastAt.IsZero() && time.Since(r.lastAt) < readyReuse {
		err := r.last
		r.mu.Unlock()
		return err
	}
	if r.running == nil {
		r.running = make(chan struct{})
		go r.run(r.running)
	}
	done := r.running
	r.mu.Unlock()
	select {
	case <-done:
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.last
	case <-ctx.Done():
		r.record(errSlow)
		return errSlow
	}
}

// run pings the store and records the result.
func (r *readiness) run(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	err := r.s.cfg.Store.Ping(ctx)
	cancel()
	r.record(err)
	r.mu.Lock()
	r.running = nil
	r.mu.Unlock()
	close(done)
}

// record stores a result and logs when readiness changes.
func (r *readiness) record(err error) {
	r.mu.Lock()
	wasOK, known := r.last == nil, r.known
	r.last, r.lastAt, r.known = err, time.Now(), true
	r.mu.Unlock()
	switch {
	case err != nil && (wasOK || !known):
		r.s.log.Warn("not ready: the store is unreachable or not writable", "err", err)
	case err == nil && !wasOK && known:
		r.s.log.Info("ready again: the store answers")
	}
}

// healthBody is the JSON body of /healthz and /readyz.
type healthBody struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// healthz serves /healthz: the process is alive and serving HTTP. It checks
// nothing else, so that a liveness probe does not restart the service
// because a dependency is down.
func (s *Server) healthz(c *echo.Context) error {
	return c.JSON(http.StatusOK, healthBody{Status: "ok"})
}

// readyz serves /readyz: 200 when the store is reachable and writable and
// the service is not shutting down, else 503 with the reason.
func (s *Server) readyz(c *echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), readyWait)
	defer cancel()
	switch err := s.ready.check(ctx); {
	case err == nil:
		return c.JSON(http.StatusOK, healthBody{Status: "ready"})
	case errors.Is(err, errDraining):
		return c.JSON(http.StatusServiceUnavailable, healthBody{Status: "draining", Reason: "the service is shutting down"})
	case errors.Is(err, errSlow):
		return c.JSON(http.StatusServiceUnavailable, healthBody{Status: "unavailable", Reason: "the store did not answer within " + readyWait.String()})
	default:
		// The error itself is in the log; it may name hosts.
		return c.JSON(http.StatusServiceUnavailable, healthBody{Status: "unavailable", Reason: "the store is unreachable or not writable"})
	}
}

// Drain marks the service as shutting down: /readyz answers 503 from now
// on, so that load balancers stop sending requests, while requests keep
// being served until Shutdown.
func (s *Server) Drain() { s.ready.draining.Store(true) }

// readyGauge is lrs_ready: the readiness check run at scrape time (its
// result is reused for a second, and it waits at most readyWait).
func (r *readiness) readyGauge() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "lrs_ready",
		Help: "1 when the service is ready (the store is reachable and writable, not shutting down), else 0.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), readyWait)
		defer cancel()
		if r.check(ctx) != nil {
			return 0
		}
		return 1
	})
}
