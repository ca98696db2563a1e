package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/cmd/lrs/wire"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/sqlite"
)

func serveCmd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("serve")
	listen := fs.envString("listen", "LRS_LISTEN", "127.0.0.1:8080", "`address` to listen on")
	db := dbFlag(fs)
	baseURL := fs.envString("base-url", "LRS_BASE_URL", "",
		"public `URL` of the service, used in the authority of stored statements (default: from each request)")
	logLevel := fs.envString("log-level", "LRS_LOG_LEVEL", "info", "`level`: debug, info, warn or error")
	maxBody := fs.envSize("max-body-bytes", "LRS_MAX_BODY_BYTES", lrs.DefaultMaxBodyBytes,
		"largest request body: bytes, or a `size` with a unit (20MiB, 20MB)")
	maxDoc := fs.envSize("max-document-bytes", "LRS_MAX_DOCUMENT_BYTES", lrs.DefaultMaxDocumentBytes,
		"largest State or profile document: bytes, or a `size` with a unit (12MiB)")
	rateLimit := rateValue(lrs.DefaultRateLimit)
	fs.envVar(&rateLimit, "rate-limit", "LRS_RATE_LIMIT", "`requests` per second each credential may make, 429 above it; off: no limit")
	var rateBurst countValue
	fs.envVar(&rateBurst, "rate-burst", "LRS_RATE_BURST", "`requests` a credential may make at once (default: twice the rate)")
	reqTimeout := fs.envDuration("request-timeout", "LRS_REQUEST_TIMEOUT", lrs.DefaultRequestTimeout, time.Millisecond, ptr(time.Duration(-1)),
		"the longest `time` a request may work; off: none")
	readTimeout := fs.envDuration("read-timeout", "LRS_READ_TIMEOUT", lrs.DefaultReadTimeout, time.Second, nil,
		"the longest `time` a client may take to send a whole request; a body that stops arriving is answered 408")
	var trusted prefixesValue
	fs.envVar(&trusted, "trusted-proxies", "LRS_TRUSTED_PROXIES",
		"`ranges` of the reverse proxies in front of the service, whose X-Forwarded-For names the client (CIDR or addresses, comma-separated; default: none, the peer is the client)")
	cursorKey := fs.envString("cursor-key", "LRS_CURSOR_KEY", "",
		"`hex` key signing statement-query 'more' links; replicas must share it (default: random per start)")
	maxPackage := fs.envSize("max-package-bytes", "LRS_MAX_PACKAGE_BYTES", packages.DefaultLimits.MaxZipBytes,
		"largest package zip to import: bytes, or a `size` with a unit (512MiB)")
	contentKey := fs.envString("content-key", "LRS_CONTENT_KEY", "",
		"`hex` key signing content links (at least 64 hex digits); replicas must share it (default: random per start)")
	smtpURL := fs.envString("smtp-url", "LRS_SMTP_URL", "",
		"SMTP server the reminder e-mails go through: smtp://[user:password@]host[:port] (STARTTLS when offered, port 587) or smtps://… (TLS, port 465); default: none, reminder runs are dry only")
	smtpFrom := fs.envString("smtp-from", "LRS_SMTP_FROM", "",
		"the From `address` of reminder e-mails, e.g. \"Kurs <kurs@kommune.no>\" (needed with --smtp-url)")
	smtpGap := fs.envDuration("smtp-interval", "LRS_SMTP_INTERVAL", 100*time.Millisecond, 0, nil,
		"the least `time` between two reminder e-mails of a run (a rate for the SMTP server; 0: none)")
	retention := fs.envDuration("retention-interval", "LRS_RETENTION_INTERVAL", 24*time.Hour, time.Second, ptr(time.Duration(-1)),
		"how often the retention rules of every tenant are applied (the first time a minute after the start); off: never (run lrs retention run instead)")
	factsCache := fs.envSizeOff("facts-cache", "LRS_FACTS_CACHE", sqlite.DefaultFactsCache,
		"memory the embedded store may keep of the completion facts reports read, so that the next reports need not read them again: a `size` (256MiB); off: none")
	ops := addOpsFlags(fs)   // ops.go
	tok := addTokenFlags(fs) // tokens.go
	pg := addPageFlags(fs)   // pages.go
	if _, err := fs.parse(s, args); err != nil {
		return err
	}
	pages, err := pg.config(*baseURL)
	if err != nil {
		return err
	}
	mailer, err := smtpSender(*smtpURL, *smtpFrom)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("serve: --log-level (LRS_LOG_LEVEL) %q: want debug, info, warn or error", *logLevel)
	}
	var key []byte
	if *cursorKey != "" {
		k, err := hex.DecodeString(*cursorKey)
		if err != nil || len(k) < 16 {
			return errors.New("serve: --cursor-key (LRS_CURSOR_KEY): want at least 32 hex digits, e.g. from: openssl rand -hex 32")
		}
		key = k
	}
	var ckey []byte
	if *contentKey != "" {
		k, err := hex.DecodeString(*contentKey)
		if err != nil || len(k) < packages.MinContentKeyBytes {
			return errors.New("serve: --content-key (LRS_CONTENT_KEY): want at least 64 hex digits, e.g. from: openssl rand -hex 32")
		}
		ckey = k
	}
	log := slog.New(slog.NewJSONHandler(s.stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log) // the stores log through slog.Default
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := wire.OpenWith(ctx, *db, sqlite.Options{FactsCache: *factsCache})
	if err != nil {
		return err
	}
	defer st.Close()
	if st.Created {
		log.Warn("the database did not exist: serving a new, empty one; if you meant another, give its path with --db or LRS_DB",
			"db", st.Location)
	}
	tokenService, err := tok.service(*baseURL, st, log)
	if err != nil {
		return err
	}
	go warmReporting(ctx, st.Statements, st.Tenants, log)
	if ckey == nil && st.Backend == "mongodb" {
		log.Warn("no LRS_CONTENT_KEY: content links signed here work on this replica only, until it restarts")
	}

	srv, err := newServer(st, lrs.Config{
		Logger:           log,
		BaseURL:          *baseURL,
		MaxBodyBytes:     *maxBody,
		MaxDocumentBytes: *maxDoc,
		CursorKey:        key,
		RateLimit:        float64(rateLimit),
		RateBurst:        int(rateBurst),
		RequestTimeout:   *reqTimeout,
		ReadTimeout:      *readTimeout,
		TrustedProxies:   trusted,
		MetricsToken:     *ops.metricsToken,
		Tokens:           tokenService,
		PackageLimits:    packages.Limits{MaxZipBytes: *maxPackage},
		ContentKey:       ckey,
		Mail:             mailer,
		MailFrom:         *smtpFrom,
		MailRate:         mailRate(*smtpGap),
	}, pages)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	attrs := []any{"addr", l.Addr().String(), "xapi", "http://" + l.Addr().String() + "/xapi/"}
	if pages != nil {
		attrs = append(attrs, "pages", "http://"+l.Addr().String()+"/")
	}
	log.Info("serving", append(attrs, "backend", st.Backend, "db", st.Location, "reporting", st.Reporting != nil,
		"version", version)...)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	go srv.SweepEvery(ctx, time.Minute) // cmi5 sessions that ended without terminated
	// Jobs stop with ctx and are waited for before the store closes.
	var jobs sync.WaitGroup
	defer jobs.Wait()
	defer stop()
	if *retention > 0 {
		jobs.Go(func() { retentionEvery(ctx, st, *retention, log) }) // privacy.go
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown(log, srv, ops)
	return <-errc // the deferred Close flushes and closes the store
}

// newServer returns the service over st as every command that serves runs
// it (serve; bench in-process; the tests start serve):
// wire.NewServerWithPages, with this binary's version in its metrics; the
// pages for people are mounted when pages is not nil.
func newServer(st *stores, cfg lrs.Config, pages *wire.Pages) (*lrs.Server, error) {
	if cfg.Metrics == nil {
		cfg.Metrics = newRegistry()
	}
	return wire.NewServerWithPages(st, cfg, pages)
}

func ptr[T any](v T) *T { return &v }

// mailRate is the rate of messages a second of an interval between them
// (0: none).
func mailRate(gap time.Duration) float64 {
	if gap <= 0 {
		return 0
	}
	return float64(time.Second) / float64(gap)
}

// smtpSender returns the sender of reminder e-mails of --smtp-url, nil
// when it is not set.
func smtpSender(u, from string) (reminders.Sender, error) {
	if u == "" {
		return nil, nil
	}
	snd, err := reminders.ParseSMTPURL(u)
	if err != nil {
		return nil, fmt.Errorf("serve: --smtp-url (LRS_SMTP_URL) %s: %w", wire.RedactURL(u), err)
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("serve: --smtp-from (LRS_SMTP_FROM) %q: want the From address of reminder e-mails, e.g. \"Kurs <kurs@kommune.no>\"", from)
	}
	return snd, nil
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
