package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xapi-lrs/lrs/cmd/lrs/wire"
	"github.com/xapi-lrs/lrs/lrs"
)

// opsSettings are the settings of `lrs serve` for running it in production:
// the /metrics credential and the shutdown timings.
type opsSettings struct {
	metricsToken    *string
	drainDelay      *time.Duration
	shutdownTimeout *time.Duration
}

func addOpsFlags(fs *flags) *opsSettings {
	return &opsSettings{
		metricsToken: fs.envString("metrics-token", "LRS_METRICS_TOKEN", "",
			"bearer `token` that /metrics requires (default: /metrics is open)"),
		drainDelay: fs.envDuration("drain-delay", "LRS_DRAIN_DELAY", 0, 0, nil,
			"on SIGTERM, the `time` /readyz answers 503 while requests are still served, before the listener closes"),
		shutdownTimeout: fs.envDuration("shutdown-timeout", "LRS_SHUTDOWN_TIMEOUT", 30*time.Second, time.Millisecond, nil,
			"on SIGTERM, the longest `time` to wait for requests in flight to finish"),
	}
}

// newRegistry returns the registry /metrics serves (wire.NewRegistry), for
// this binary's version.
func newRegistry() *prometheus.Registry { return wire.NewRegistry(version) }

// shutdown stops srv after SIGTERM: /readyz turns 503 at once, requests keep
// being served for the drain delay (so that load balancers notice), then
// the listener closes and requests in flight get up to the shutdown timeout
// to finish. The caller closes the store afterwards, which flushes it: a
// statement whose request was answered is durable before that.
func shutdown(log *slog.Logger, srv *lrs.Server, ops *opsSettings) {
	srv.Drain()
	log.Info("shutting down: draining", "drain_delay", ops.drainDelay.String())
	time.Sleep(*ops.drainDelay)
	log.Info("shutting down: finishing requests in flight", "timeout", ops.shutdownTimeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), *ops.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("shutdown: requests still in flight were cut off", "err", err)
	}
}
