// Package sqlite is the embedded storage backend: one SQLite file (through
// the pure-Go driver modernc.org/sqlite) holding statements, attachments and
// credentials. *DB implements statements.Store and auth.CredentialStore.
//
// Writes go through one connection owned by a writer goroutine that commits
// concurrent Insert calls together (group commit): each call is checked
// (e.g. for an id conflict) before it writes, so one call's conflict fails
// only that call, and one durable commit (WAL, synchronous=FULL)
// acknowledges them all. Reads use a separate pool of query-only
// connections, which WAL lets run beside the writer; a checkpointer
// goroutine copies the log into the database file on a connection of its
// own.
//
// Every filter of the Statements resource is an index range scan of the
// facets table (see schema.go), in stored order; the StatementRef filter rule
// is served by copying a target's facets to the statements referring to it,
// at insert or when the target arrives later.
//
// Results are ordered by (stored, seq), seq being the commit order: the LRS
// stamps stored before an insert reaches the writer, so concurrent inserts
// can commit out of stored order, and ordering by stored keeps "newest
// stored first" exact. A cursor holds the newest seq visible when the first
// page was read, so statements committed later never join a paged query.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the driver "sqlite"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// DB is an open SQLite store. Its methods are safe for concurrent use.
type DB struct {
	path string
	opts Options
	read *sql.DB // query_only connections
	// queryGate admits statement queries first come, first served, as
	// many at once as read has connections (see Query).
	queryGate chan struct{}
	writeDB   *sql.DB // the one write connection, owned by w
	w         *writer
	cp        *checkpointer
	pending   pending
	defs      statements.DefinitionCache // canonical activity definitions (activities.go)

	mu      sync.Mutex
	queries map[string]*sql.Stmt // prepared read statements by SQL text

	closeOnce sync.Once
	closeErr  error
}

var (
	_ statements.Store     = (*DB)(nil)
	_ auth.CredentialStore = (*DB)(nil)
	_ auth.TenantStore     = (*DB)(nil)
	_ auth.AuditLog        = (*DB)(nil)
)

// dsn returns the driver's data source name for the file at path with the
// given pragmas.
func dsn(path string, pragmas ...string) string {
	v := url.Values{}
	for _, p := range pragmas {
		v.Add("_pragma", p)
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + v.Encode()
}

// Options are the settings of a store that OpenWith takes; the zero
// value is Open's.
type Options struct {
	// FactsCache is the byte budget of the cache of the facts that
	// reports read (see reporting_cache.go): 0 is DefaultFactsCache, a
	// negative number turns the cache off.
	FactsCache int64
}

// Open opens the database file at path, creating it and its directory when
// missing, and brings its schema up to date.
func Open(path string) (*DB, error) { return OpenWith(path, Options{}) }

// OpenWith is Open with options.
func OpenWith(path string, o Options) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create the data directory: %w", err)
	}
	db := &DB{path: abs, opts: o, queries: map[string]*sql.Stmt{}}
	if err := db.open(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	return db, nil
}

// pageSize is the page size of new databases.
const pageSize = 4096

func (db *DB) open() error {
	var err error
	// synchronous=FULL: with WAL, every commit syncs the log, so an
	// acknowledged statement survives a crash or power loss. cache_size:
	// 32 MiB; SQLite scans the writer's page-cache hash table at every
	// commit (pcache1TruncateUnsafe), so a larger cache costs each small
	// commit more than its hits save (lrs bench, single POSTs: 128 MiB
	// cost 10-15 % more CPU a statement).
	db.writeDB, err = sql.Open("sqlite", dsn(db.path, "busy_timeout(10000)", "synchronous(FULL)",
		"foreign_keys(1)", "cache_size(-32768)", "temp_store(MEMORY)", "journal_size_limit(67108864)",
		"wal_autocheckpoint("+strconv.Itoa(walBackstop)+")"))
	if err != nil {
		return err
	}
	db.writeDB.SetMaxOpenConns(1)
	db.writeDB.SetConnMaxLifetime(0)
	db.writeDB.SetConnMaxIdleTime(0)
	ctx := context.Background()
	conn, err := db.writeDB.Conn(ctx)
	if err != nil {
		return err
	}
	// The page size applies to a new database only, before WAL mode.
	if _, err := conn.ExecContext(ctx, "PRAGMA page_size = "+strconv.Itoa(pageSize)); err != nil {
		conn.Close()
		return err
	}
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil || mode != "wal" {
		conn.Close()
		return errors.Join(err, fmt.Errorf("journal mode %q, want wal", mode))
	}
	if err := migrate(ctx, conn); err != nil {
		conn.Close()
		return err
	}
	if db.w, err = newWriter(conn); err != nil {
		conn.Close()
		return err
	}

	// The readers map the first 2 GiB of the file (mmap_size: address
	// space, not memory; SQLite allows no more): a report of a whole
	// organisation reads the facts of every person, more than a
	// connection's cache holds, and pages read through the map cost no
	// system call and no copy (a fifth less CPU for a report of 55,000
	// people; pread was a fifth of the CPU of statement queries at 1 M).
	db.read, err = sql.Open("sqlite", dsn(db.path, "busy_timeout(10000)", "foreign_keys(1)",
		"cache_size(-32768)", "temp_store(MEMORY)", "query_only(1)", "mmap_size(2147418112)"))
	if err != nil {
		return err
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	db.queryGate = make(chan struct{}, n)
	db.read.SetMaxOpenConns(n)
	db.read.SetMaxIdleConns(n)
	db.read.SetConnMaxLifetime(0)
	db.read.SetConnMaxIdleTime(0)

	if db.cp, err = newCheckpointer(db.path); err != nil {
		return err
	}
	db.w.committed = db.cp.kick
	return nil
}

// Path returns the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// Close (idempotent) waits for queued writes, checkpoints the log into the database file
// and closes every connection.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { db.closeErr = db.close() })
	return db.closeErr
}

func (db *DB) close() error {
	var err error
	if db.cp != nil {
		err = db.cp.close()
	}
	if db.w != nil {
		err = errors.Join(err, db.w.close())
	}
	db.mu.Lock()
	for _, s := range db.queries {
		s.Close()
	}
	db.queries = nil
	db.mu.Unlock()
	for _, d := range []*sql.DB{db.read, db.writeDB} {
		if d != nil {
			err = errors.Join(err, d.Close())
		}
	}
	return err
}

// Ping checks that the database can be read and that a durable write
// commits.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return errs.Wrap(err, "sqlite: ping")
	}
	return db.w.do(ctx, 1, nil, func(tx *wtx) error {
		_, err := tx.ping.Exec(time.Now().UTC().Format(time.RFC3339Nano))
		return err
	})
}

// Backup writes a consistent copy of the database to path (which must not
// exist) with VACUUM INTO, without blocking writers.
func (db *DB) Backup(ctx context.Context, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return err
	}
	// A connection of its own: query_only connections cannot VACUUM, and
	// the write connection must not wait for a long copy.
	b, err := sql.Open("sqlite", dsn(db.path, "busy_timeout(10000)"))
	if err != nil {
		return err
	}
	defer b.Close()
	if _, err := b.ExecContext(ctx, `VACUUM INTO ?`, abs); err != nil {
		return errs.Wrap(err, "sqlite: backup")
	}
	return nil
}

// stmt returns the prepared read statement for query, preparing it once.
func (db *DB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.queries == nil {
		return nil, errClosed
	}
	if s, ok := db.queries[query]; ok {
		return s, nil
	}
	s, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	db.queries[query] = s
	return s, nil
}

var errClosed = errs.E(errs.Unavailable, "the database is closed")

// pending tracks the stored times of inserts not yet committed, for
// ConsistentThrough.
type pending struct {
	mu   sync.Mutex
	next uint64
	m    map[uint64]int64 // token -> earliest stored (Unix nanoseconds)
}

func (p *pending) add(recs []*statements.Record) uint64 {
	if len(recs) == 0 {
		return 0
	}
	earliest := recs[0].Stored.UnixNano()
	for _, r := range recs[1:] {
		earliest = min(earliest, r.Stored.UnixNano())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[uint64]int64{}
	}
	p.next++
	p.m[p.next] = earliest
	return p.next
}

func (p *pending) done(token uint64) {
	if token == 0 {
		return
	}
	p.mu.Lock()
	delete(p.m, token)
	p.mu.Unlock()
}

// earliest returns the earliest stored time of the pending inserts.
func (p *pending) earliest() (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	first, ok := int64(0), false
	for _, t := range p.m {
		if !ok || t < first {
			first, ok = t, true
		}
	}
	return first, ok
}

// ConsistentThrough returns the time before the earliest stored time of the
// inserts still in progress, or now when none is. A statement is visible to
// queries once its Insert call has returned; the store cannot know of a
// statement the service has stamped but not yet passed to Insert, so the
// service must call Insert right after stamping.
func (db *DB) ConsistentThrough(ctx context.Context) (time.Time, error) {
	now := time.Now().UTC()
	if t, ok := db.pending.earliest(); ok {
		if c := time.Unix(0, t-1).UTC(); c.Before(now) {
			return c, nil
		}
	}
	return now, nil
}
