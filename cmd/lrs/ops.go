package main

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

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

// newRegistry returns the registry /metrics serves, holding the Go runtime
// and process collectors and lrs_build_info; the service and the storage
// wrappers add theirs.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	revision := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "lrs_build_info",
		Help:        "Always 1; the labels tell the version of the lrs binary, its Go version and source revision.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version(), "revision": revision},
	})
	build.Set(1)
	reg.MustRegister(build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

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
