package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/lrs"
)

func serveCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", env("LRS_LISTEN", "127.0.0.1:8080"), "address to listen on (env LRS_LISTEN)")
	db := dbFlag(fs)
	baseURL := fs.String("base-url", env("LRS_BASE_URL", ""),
		"public URL of the service, used in the authority of stored statements (env LRS_BASE_URL; default: from each request)")
	logLevel := fs.String("log-level", env("LRS_LOG_LEVEL", "info"), "debug, info, warn or error (env LRS_LOG_LEVEL)")
	maxBody := fs.Int64("max-body-bytes", envInt64("LRS_MAX_BODY_BYTES", lrs.DefaultMaxBodyBytes), "largest request body in bytes (env LRS_MAX_BODY_BYTES)")
	maxDoc := fs.Int64("max-document-bytes", envInt64("LRS_MAX_DOCUMENT_BYTES", lrs.DefaultMaxDocumentBytes),
		"largest State or profile document in bytes (env LRS_MAX_DOCUMENT_BYTES)")
	rateLimit := fs.Float64("rate-limit", envFloat("LRS_RATE_LIMIT", lrs.DefaultRateLimit),
		"requests per second each credential may make; 429 above it; negative: no limit (env LRS_RATE_LIMIT)")
	rateBurst := fs.Int("rate-burst", int(envInt64("LRS_RATE_BURST", 0)), "requests a credential may make at once (env LRS_RATE_BURST; default: twice the rate)")
	reqTimeout := fs.Duration("request-timeout", envDuration("LRS_REQUEST_TIMEOUT", lrs.DefaultRequestTimeout),
		"longest time a request may work; negative: none (env LRS_REQUEST_TIMEOUT)")
	cursorKey := fs.String("cursor-key", env("LRS_CURSOR_KEY", ""),
		"hex key signing statement-query 'more' links; replicas must share it (env LRS_CURSOR_KEY; default: random per start)")
	ops := addOpsFlags(fs)   // ops.go
	tok := addTokenFlags(fs) // tokens.go
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log) // the stores log through slog.Default
	tokenService, err := tok.service(*baseURL, log)
	if err != nil {
		return err
	}

	var key []byte
	if *cursorKey != "" {
		k, err := hex.DecodeString(*cursorKey)
		if err != nil || len(k) < 16 {
			return errors.New("--cursor-key: want at least 32 hex digits")
		}
		key = k
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := openStores(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	go warmReporting(ctx, st.Statements, st.Tenants, log) // before instrument wraps the stores
	reg := newRegistry()
	instrument(st, reg)

	srv := lrs.New(lrs.Config{
		Store:            st.Statements,
		Documents:        st.Documents,
		Activities:       st.Activities,
		Credentials:      st.Credentials,
		Logger:           log,
		BaseURL:          *baseURL,
		MaxBodyBytes:     *maxBody,
		MaxDocumentBytes: *maxDoc,
		CursorKey:        key,
		Tenants:          st.Tenants,
		Audit:            st.Audit,
		RateLimit:        *rateLimit,
		RateBurst:        *rateBurst,
		RequestTimeout:   *reqTimeout,
		Metrics:          reg,
		MetricsToken:     *ops.metricsToken,
		Tokens:           tokenService,
		Reporting:        st.Reporting,
	})
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	log.Info("serving", "addr", l.Addr().String(), "xapi", "http://"+l.Addr().String()+"/xapi/",
		"backend", st.Backend, "db", redactURL(*db), "reporting", st.Reporting != nil, "version", version)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown(log, srv, ops)
	return <-errc // the deferred Close flushes and closes the store
}

// redactURL hides the password of a database URL for the log.
func redactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if j := strings.LastIndex(s, "@"); j > i {
			if k := strings.Index(s[i+3:j], ":"); k >= 0 {
				return s[:i+3+k] + ":***" + s[j:]
			}
		}
	}
	return s
}

func envInt64(name string, def int64) int64 {
	var n int64
	if _, err := fmt.Sscan(env(name, ""), &n); err == nil {
		return n
	}
	return def
}

func envFloat(name string, def float64) float64 {
	var f float64
	if _, err := fmt.Sscan(env(name, ""), &f); err == nil {
		return f
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(env(name, "")); err == nil {
		return d
	}
	return def
}

// warmReporting loads, in the background, what the compliance reports of
// each tenant keep in memory, when the backend keeps such caches (SQLite),
// so that the first report after a start is as quick as the next ones.
func warmReporting(ctx context.Context, store any, tenants auth.TenantStore, log *slog.Logger) {
	w, ok := store.(interface {
		WarmReporting(ctx context.Context, tenant string) error
	})
	if !ok || tenants == nil {
		return
	}
	ts, err := tenants.Tenants(ctx)
	if err != nil {
		log.Warn("warming the reporting caches", "err", err)
		return
	}
	start := time.Now()
	for _, t := range ts {
		if err := w.WarmReporting(ctx, t.Name); err != nil {
			if ctx.Err() == nil {
				log.Warn("warming the reporting caches", "tenant", t.Name, "err", err)
			}
			return
		}
	}
	log.Info("reporting caches warm", "tenants", len(ts), "duration_ms", time.Since(start).Milliseconds())
}
