// Package wire is the composition root of the lrs binary: it opens a
// storage backend (Open, or SQLite over an open database) and returns the
// service over it as `lrs serve` runs it (NewServer): every store wrapped
// by the storage metrics, compliance reporting on when the backend has it.
// The binary's commands, `lrs bench`, the HTTP tests of package lrs and the
// client-library tests of interop all start the service through NewServer,
// so that what is tested and measured is what runs.
package wire

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/xapi-lrs/lrs/accounts"
	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/cmd/lrs/storemetrics"
	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/mongo"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/sqlite"
	"github.com/xapi-lrs/lrs/statements"
	"github.com/xapi-lrs/lrs/web"
)

// Stores is an opened backend: every store interface the service needs.
type Stores struct {
	Backend string // "sqlite" or "mongodb"
	// Location names the database for people: the absolute path of the
	// SQLite file, or the MongoDB URL without its password.
	Location string
	// Created is true when opening made a new SQLite file: a command run
	// from another directory than the service, or with another --db,
	// works on a database of its own.
	Created bool

	Statements  ingest.Store
	Documents   documents.Store
	Activities  statements.ActivityStore
	Credentials auth.CredentialStore
	Tenants     auth.TenantStore
	Audit       auth.AuditLog
	Accounts    accounts.Store // the accounts and sessions of the pages for people
	// Reporting is the compliance reporting store, in the same database
	// as Statements (both backends have one; nil turns compliance
	// reporting off, which only tests do).
	Reporting reporting.Store
	// Packages keeps e-learning packages: their records in the database,
	// their files beside the SQLite file or in MongoDB's GridFS (nil: the
	// package API and /content are not served).
	Packages packages.Store
	// Privacy keeps the access log (and what erasure and retention
	// need), in the same database.
	Privacy privacy.Store
	// Reminders keeps the record of reminder e-mails sent, in the same
	// database.
	Reminders reminders.Store
	close     func() error
}

// Close closes the backend.
func (s *Stores) Close() error { return s.close() }

// Admin returns the administrative actions on these stores.
func (s *Stores) Admin() *auth.Admin {
	return &auth.Admin{Credentials: s.Credentials, Tenants: s.Tenants, Audit: s.Audit}
}

// IsMongoURL reports whether db names a MongoDB deployment rather than a
// SQLite file.
func IsMongoURL(db string) bool {
	return strings.HasPrefix(db, "mongodb://") || strings.HasPrefix(db, "mongodb+srv://")
}

// Open opens the backend db names: a mongodb:// or mongodb+srv:// URL
// selects MongoDB, anything else is the path of a SQLite database file
// (relative to the current directory).
func Open(ctx context.Context, db string) (*Stores, error) {
	return OpenWith(ctx, db, sqlite.Options{})
}

// OpenWith is Open with the options of a SQLite store (MongoDB has none).
func OpenWith(ctx context.Context, db string, opts sqlite.Options) (*Stores, error) {
	if IsMongoURL(db) {
		m, err := mongo.Open(ctx, db)
		if err != nil {
			return nil, fmt.Errorf("open MongoDB %s: %w", RedactURL(db), err)
		}
		return &Stores{Backend: "mongodb", Location: RedactURL(db), Statements: m, Documents: m, Activities: m, Credentials: m,
			Tenants: m, Audit: m, Accounts: m, Reporting: m, Packages: m, Privacy: m, Reminders: m, close: m.Close}, nil
	}
	path, err := filepath.Abs(db)
	if err != nil {
		return nil, err
	}
	_, statErr := os.Stat(path)
	s, err := sqlite.OpenWith(path, opts)
	if err != nil {
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	st := SQLite(s)
	st.Created = errors.Is(statErr, fs.ErrNotExist)
	return st, nil
}

// SQLite returns the stores of an open SQLite database (the embedded
// backend); closing them closes it.
func SQLite(s *sqlite.DB) *Stores {
	return &Stores{Backend: "sqlite", Location: s.Path(),
		Statements: s, Documents: s, Activities: s, Credentials: s,
		Tenants: s, Audit: s, Accounts: s, Reporting: s, Packages: s, Privacy: s, Reminders: s, close: s.Close}
}

// Mongo returns the stores of an open MongoDB database; closing them
// closes it.
func Mongo(m *mongo.DB) *Stores {
	return &Stores{Backend: "mongodb", Statements: m, Documents: m, Activities: m, Credentials: m,
		Tenants: m, Audit: m, Accounts: m, Reporting: m, Packages: m, Privacy: m, Reminders: m, close: m.Close}
}

// RedactURL hides the password of a database URL.
func RedactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if j := strings.LastIndex(s, "@"); j > i {
			if k := strings.Index(s[i+3:j], ":"); k >= 0 {
				return s[:i+3+k] + ":***" + s[j:]
			}
		}
	}
	return s
}

// Pages are the settings of the pages for people (package web).
type Pages struct {
	Location     *time.Location // of the calendar days the pages show
	Idle, MaxAge time.Duration  // of a session (accounts.Config)
	OIDC         *web.OIDCConfig
}

// NewServerWithPages is NewServer with the pages for people mounted on the
// same router over the same metered stores, when pages is not nil and st
// has compliance reporting.
func NewServerWithPages(st *Stores, cfg lrs.Config, pages *Pages) (*lrs.Server, error) {
	cfg = metered(st, cfg)
	if pages != nil && cfg.Reporting != nil {
		svc := accounts.New(accounts.Config{Store: st.Accounts, Audit: st.Audit, Tenants: st.Tenants,
			IdleTimeout: pages.Idle, MaxAge: pages.MaxAge, Logger: cfg.Logger, Now: cfg.Now})
		wc := web.Config{Accounts: svc, Reporting: cfg.Reporting, Statements: cfg.Store, BaseURL: cfg.BaseURL,
			Location: pages.Location, OIDC: pages.OIDC, Access: st.Privacy, Audit: st.Audit, Reminders: st.Reminders,
			Logger: cfg.Logger, Now: cfg.Now, Erasure: erasureSources(st)}
		if cfg.Tokens != nil { // the key that signs the API's evidence packs signs the pages'
			wc.Signer = cfg.Tokens
		}
		p, err := web.New(wc)
		if err != nil {
			return nil, err
		}
		cfg.Routes = p.Register
		srv := lrs.New(cfg)
		p.UseLauncher(srv)
		if svc := srv.Reminders(); svc != nil {
			p.UseReminders(svc) // one service: the API's and the pages' runs take turns
		}
		return srv, nil
	}
	return lrs.New(cfg), nil
}

// NewServer returns the service over the stores of st, with the settings
// of cfg. Each store is wrapped by the storage metrics of st's backend,
// registered on cfg.Metrics (NewRegistry("") when nil), which /metrics
// serves; compliance reporting is on when st has it. The stores are passed
// as they are, never discovered behind a wrapper: the statements, their
// projection and their definitions are written by the statement store's
// Commit (ingest.Store). The stores of cfg are replaced.
func NewServer(st *Stores, cfg lrs.Config) *lrs.Server {
	return lrs.New(metered(st, cfg))
}

// metered returns cfg with the stores of st, wrapped by the storage metrics
// (see NewServer).
func metered(st *Stores, cfg lrs.Config) lrs.Config {
	if cfg.Metrics == nil {
		cfg.Metrics = NewRegistry("")
	}
	m := storemetrics.New(cfg.Metrics, st.Backend)
	if db, ok := st.Reporting.(*sqlite.DB); ok {
		registerFactsCache(cfg.Metrics, db)
	}
	cfg.Store = m.Statements(st.Statements)
	cfg.Documents = m.Documents(st.Documents)
	cfg.Activities = m.Activities(st.Activities)
	cfg.Credentials = m.Credentials(st.Credentials)
	cfg.Tenants, cfg.Audit = st.Tenants, st.Audit
	cfg.Reporting = nil
	if st.Reporting != nil {
		cfg.Reporting = m.Reporting(st.Reporting)
	}
	cfg.Privacy = st.Privacy
	cfg.Reminders = st.Reminders
	cfg.Packages = nil
	if st.Packages != nil {
		cfg.Packages = m.Packages(st.Packages)
	}
	return cfg
}

// registerFactsCache registers the metrics of the facts cache of a SQLite
// store on reg, read from it at each scrape.
func registerFactsCache(reg prometheus.Registerer, db *sqlite.DB) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "lrs_facts_cache_hits_total",
			Help: "Learners whose completion facts reports took from the SQLite store's facts cache.",
		}, func() float64 { return float64(db.FactsCacheStats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "lrs_facts_cache_misses_total",
			Help: "Learners whose completion facts reports read from the SQLite database, not finding them in the facts cache.",
		}, func() float64 { return float64(db.FactsCacheStats().Misses) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lrs_facts_cache_bytes",
			Help: "Memory the SQLite store's facts cache holds, as counted against its budget (--facts-cache).",
		}, func() float64 { return float64(db.FactsCacheStats().Bytes) }),
	)
}

// NewRegistry returns the registry /metrics serves, holding the Go runtime
// and process collectors and lrs_build_info (for the binary's version;
// "" when it has none); the service and the storage wrappers add theirs.
func NewRegistry(version string) *prometheus.Registry {
	if version == "" {
		version = "dev"
	}
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

// erasureSources are the stores an erasure on the pages changes; nil
// without the privacy store.
func erasureSources(st *Stores) *privacy.Sources {
	if st.Privacy == nil {
		return nil
	}
	return &privacy.Sources{Reporting: st.Reporting, Statements: st.Statements, Documents: st.Documents,
		Privacy: st.Privacy, Reminders: st.Reminders}
}
