package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/cmd/lrs/loadtest"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/mongo"
	"github.com/xapi-lrs/lrs/statements"
)

const benchHelp = `Measures the LRS: statements/s and p50/p99 latency of single-statement POSTs,
batched POSTs and GET queries by agent and by activity over a filled store,
next to the raw insert rate of the same backend (the same statements written
straight through the storage layer: the ceiling), with the ratios between them.

Without --url it is self-contained: it opens fresh stores (SQLite in a new
temporary directory unless --db says otherwise), starts the real server
in-process on a loopback port and drives it over HTTP. With --url it drives a
running LRS; the raw phase then needs --db naming an empty scratch database of
the server's backend (never the server's own data).

It exits non-zero when any request failed: such figures measure nothing.`

func benchCmd(_ context.Context, s streams, args []string) error {
	fs := newFlags("bench")
	target := fs.String("url", "", "xAPI endpoint of a running LRS, e.g. http://127.0.0.1:8080/xapi/ (empty: run the server in-process)")
	key := fs.envString("key", "LRS_BENCH_KEY", "", "with --url: credential `key`")
	secret := fs.envString("secret", "LRS_BENCH_SECRET", "", "with --url: credential `secret`")
	db := fs.String("db", "", "in-process: the server's store, a new SQLite file or a mongodb:// URL whose database is empty (the raw phase uses FILE-raw.db or DATABASE_raw beside it);\n"+
		"with --url: an empty scratch store of the server's backend for the raw phase.\nEmpty: SQLite files in a new temporary directory")
	keep := fs.Bool("keep", false, "keep the temporary directory of the SQLite stores")
	reuse := fs.Bool("reuse", false, "the store given by --db (or the server at --url) already holds the --fill statements of an earlier run\n"+
		"with the same --seed, --learners and --activities: query them without filling again")
	clients := fs.Int("clients", 16, "concurrent HTTP clients")
	duration := fs.Duration("duration", 10*time.Second, "duration of each timed phase")
	fill := fs.Int("fill", 1_000_000, "statements stored before the query phase")
	fillFrom := fs.Int("fill-from", 0, "the store given by --db (or the server at --url) already holds the first `N` --fill statements of an earlier run\n"+
		"with the same --seed, --learners and --activities: fill only the rest (e.g. query at 1 M, then --fill-from 1000000 --fill 10000000)")
	moreDepth := fs.Int("more-depth", 20, "pages the query-more phase follows \"more\" links into a result")
	batch := fs.Int("batch", 100, "statements per POST in the batch phase and per store call in the raw phase")
	rawWorkers := fs.Int("raw-workers", 0, "goroutines writing in the raw phase (default: --clients, the batch phase's concurrency)")
	rawMethod := fs.String("raw-method", loadtest.MethodCommit, "store call of the raw phase: "+loadtest.MethodCommit+
		" (the server's: the statements and their completion facts, through group commit), "+loadtest.MethodInsert+
		" (the statements alone) or "+loadtest.MethodRawInsert+" (SQLite only: the statements alone, one transaction per call)")
	limit := fs.Int("limit", 100, "limit parameter of the queries")
	phases := fs.String("phases", strings.Join(loadtest.AllPhases, ","), "phases to run, of "+strings.Join(loadtest.AllPhases, ","))
	seed := fs.Uint64("seed", 1, "seed of the generated statements")
	learners := fs.Int("learners", loadtest.DefaultLearners, "learners in the generated population")
	activities := fs.Int("activities", loadtest.DefaultActivities, "activities (modules and pages) in the generated population")
	xapiVersion := fs.String("xapi-version", string(statements.V103), "X-Experience-API-Version the clients send (1.0.3 or 2.0.0)")
	out := fs.String("out", "", "also write every figure as JSON to this file")
	serverLog := fs.String("server-log", os.DevNull, "in-process: the `file` the server's log goes to, JSON at info level with a line per request, as lrs serve writes it by default")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (client and in-process server) to this file")
	if _, err := fs.parse(s, args); err != nil {
		return err
	}
	v := statements.Version(*xapiVersion)
	if v != statements.V103 && v != statements.V200 {
		return fmt.Errorf("bench: --xapi-version must be 1.0.3 or 2.0.0")
	}
	if *target != "" && (*key == "" || *secret == "") {
		return errors.New("bench: --url needs --key and --secret (a credential with statements/write and statements/read)")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg := loadtest.Config{
		URL: *target, Key: *key, Secret: *secret,
		Clients: *clients, Duration: *duration, Fill: *fill, Batch: *batch, RawWorkers: *rawWorkers, RawMethod: *rawMethod, Limit: *limit,
		Reuse: *reuse, FillFrom: *fillFrom, MoreDepth: *moreDepth, Phases: strings.Split(*phases, ","), Seed: *seed, Learners: *learners, Activities: *activities,
		Version: v, Log: os.Stderr,
	}
	logFile, err := os.OpenFile(*serverLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("bench: --server-log: %w", err)
	}
	defer logFile.Close()
	closeStores, err := benchStores(ctx, &cfg, *db, *keep, logFile)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer closeStores()

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	rep, runErr := loadtest.Run(ctx, cfg)
	if rep != nil {
		fmt.Fprintln(os.Stdout)
		if err := rep.WriteText(os.Stdout); err != nil {
			return err
		}
		if *out != "" {
			if err := writeReport(*out, rep); err != nil {
				return fmt.Errorf("bench: %w", err)
			}
		}
	}
	if runErr != nil {
		return fmt.Errorf("bench: %w", runErr)
	}
	return nil
}

func writeReport(path string, rep *loadtest.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// benchStores opens the stores the run needs into cfg (see the --db flag)
// and returns a function that closes them and removes temporary files.
// Only with cfg.Reuse or cfg.FillFrom may the server's store hold
// statements; the raw
// phase's scratch store must always be empty, and is opened only when the
// raw phase runs.
func benchStores(ctx context.Context, cfg *loadtest.Config, db string, keep bool, serverLog io.Writer) (func(), error) {
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	open := func(loc string, empty bool) (*stores, error) {
		s, err := openStores(ctx, loc)
		if err != nil {
			return nil, err
		}
		closers = append(closers, func() { s.Close() })
		if empty {
			if err := mustBeEmpty(ctx, s.Statements, loc); err != nil {
				return nil, err
			}
		}
		return s, nil
	}
	fail := func(err error) (func(), error) { closeAll(); return nil, err }
	wantRaw := slices.Contains(cfg.Phases, loadtest.PhaseRaw)

	cfg.Backend = "sqlite"
	if isMongoURL(db) {
		cfg.Backend = "mongodb"
	}
	if cfg.URL != "" {
		if db == "" {
			cfg.Backend = "unknown (external server)"
			if wantRaw {
				fmt.Fprintln(os.Stderr, "bench: no --db: the raw phase is skipped and no ratio to it is reported")
			}
			return closeAll, nil
		}
		if wantRaw {
			raw, err := open(db, true)
			if err != nil {
				return fail(err)
			}
			cfg.Raw = raw.Statements
		}
		return closeAll, nil
	}

	var main, rawLoc string
	switch {
	case db == "":
		if cfg.Reuse || cfg.FillFrom > 0 {
			return fail(errors.New("--reuse and --fill-from need --db naming the store of an earlier run"))
		}
		dir, err := os.MkdirTemp("", "lrs-bench-")
		if err != nil {
			return fail(err)
		}
		if keep {
			fmt.Fprintf(os.Stderr, "bench: stores kept in %s; rerun the query phase on them with --db %s --reuse\n",
				dir, filepath.Join(dir, "lrs.db"))
		} else {
			closers = append(closers, func() { os.RemoveAll(dir) })
		}
		main, rawLoc = filepath.Join(dir, "lrs.db"), filepath.Join(dir, "lrs-raw.db")
	case isMongoURL(db):
		u, err := url.Parse(db)
		if err != nil {
			return fail(fmt.Errorf("bad --db URL: %w", err))
		}
		name := strings.TrimPrefix(u.Path, "/")
		if name == "" {
			name = mongo.DefaultDatabase
		}
		u.Path = "/" + name + "_raw"
		main, rawLoc = db, u.String()
	default:
		main, rawLoc = db, strings.TrimSuffix(db, ".db")+"-raw.db"
	}
	s, err := open(main, !cfg.Reuse && cfg.FillFrom == 0)
	if err != nil {
		return fail(err)
	}
	cfg.Store, cfg.Credentials = s.Statements, s.Credentials
	cfg.Server = func() *lrs.Server { return benchServer(s, serverLog) }
	if wantRaw {
		raw, err := open(rawLoc, true)
		if err != nil {
			return fail(err)
		}
		cfg.Raw = raw.Statements
	}
	return closeAll, nil
}

// benchServer is the in-process server of the bench: the service wired as
// `lrs serve` wires it (newServer), without a rate limit (the bench
// measures the service, not the limiter), logging as serve does by
// default (JSON, info level: a line per request) to log.
func benchServer(st *stores, log io.Writer) *lrs.Server {
	srv, err := newServer(st, lrs.Config{
		RateLimit: -1,
		Logger:    slog.New(slog.NewJSONHandler(log, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}, nil)
	if err != nil { // cannot happen: without pages nothing can fail
		panic(err)
	}
	return srv
}

// mustBeEmpty refuses a store that already holds statements: the bench
// writes millions of statements and must never do so into real data.
func mustBeEmpty(ctx context.Context, s statements.Store, loc string) error {
	p, err := s.Query(ctx, statements.Query{Tenant: auth.DefaultTenant, Limit: 1})
	if err != nil {
		return fmt.Errorf("checking that %s is empty: %w", loc, err)
	}
	if len(p.Records) > 0 {
		return fmt.Errorf("%s already holds statements; the bench needs an empty store", loc)
	}
	return nil
}
