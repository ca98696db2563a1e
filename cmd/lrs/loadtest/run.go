package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// The phases, in the order they run.
const (
	PhaseRaw    = "raw"    // records straight into a scratch store: the ceiling
	PhaseSingle = "single" // one statement per POST
	PhaseBatch  = "batch"  // Config.Batch statements per POST
	PhaseQuery  = "query"  // fill, then GET by agent, activity, related activity, verb and since; pages deep
)

// AllPhases lists every phase in run order.
var AllPhases = []string{PhaseRaw, PhaseSingle, PhaseBatch, PhaseQuery}

// Config is what to measure and against what.
type Config struct {
	// URL is the xAPI endpoint of a running LRS, e.g.
	// "http://127.0.0.1:8080/xapi/", called with Key and Secret (a credential
	// with statements/write and statements/read). Empty: Run starts the
	// real server (Server) in-process on a loopback port, with a credential
	// it creates in Credentials, and drives it over HTTP.
	URL, Key, Secret string

	// Server returns the in-process server, over Store and Credentials.
	// cmd/lrs passes its composition root, which wires the service as
	// `lrs serve` does, so that the figures are those of the service as
	// it runs. Required without URL.
	Server func() *lrs.Server
	// Store and Credentials are the stores of the in-process server; the
	// query phase fills Store directly. They should start empty. Unused
	// with URL.
	Store       statements.Store
	Credentials auth.CredentialStore

	// Raw is a scratch store of the same backend as the server's, for the
	// raw phase; it must hold no statements (it is never the server's own
	// data). Nil: the raw phase is skipped.
	Raw ingest.Store
	// Backend names the backend in the report, e.g. "sqlite".
	Backend string

	Phases   []string      // nil: AllPhases
	Clients  int           // concurrent HTTP clients; 0: 16
	Duration time.Duration // of each timed phase; 0: 10 s
	// Fill is how many statements the query phase stores before querying
	// (directly through Store in-process, by batched POSTs with URL).
	// 0: 1,000,000.
	Fill int
	// Reuse says that Store (or the server at URL) already holds the
	// statements 0..Fill-1 of an earlier run with the same Seed, Learners
	// and Activities: the query phase queries them without filling.
	Reuse bool
	// FillFrom says that Store (or the server at URL) already holds the
	// statements 0..FillFrom-1 of an earlier run (as with Reuse): the fill
	// adds FillFrom..Fill-1, so that one store is queried at 1 M and then
	// at 10 M.
	FillFrom int
	// MoreDepth is how many pages the query-more phase follows "more"
	// links into a result; 0: 20.
	MoreDepth int
	Batch     int // statements per POST in the batch phase and the raw phase's store calls; 0: 100
	// RawWorkers is how many goroutines write in the raw phase; 0: Clients,
	// the concurrency of the batch phase.
	RawWorkers int
	// RawMethod is the store call of the raw phase: MethodCommit (the
	// default: the call the server makes, with the statements' completion
	// facts, so that the raw phase writes the rows the batch phase makes
	// the server write and differs from it only by HTTP, validation and
	// derivation), MethodInsert (the statements alone, without their
	// facts) or MethodRawInsert (the store's RawInserter, when it has one;
	// the statements alone).
	RawMethod string
	// Pool is how many distinct generated statements the timed write phases
	// cycle through, each sent under a fresh id; 0: 10,000.
	Pool  int
	Limit int // the limit parameter of queries; 0: 100

	Seed       uint64 // selects the generated content
	Learners   int    // 0: DefaultLearners
	Activities int    // 0: DefaultActivities
	// Version is the xAPI version the clients speak; "": 1.0.3.
	Version statements.Version

	Log io.Writer // progress lines; nil: none
}

func (c *Config) defaults() error {
	if c.Phases == nil {
		c.Phases = AllPhases
	}
	for _, p := range c.Phases {
		if !slices.Contains(AllPhases, p) {
			return fmt.Errorf("unknown phase %q (known: %s)", p, strings.Join(AllPhases, ", "))
		}
	}
	if c.Clients <= 0 {
		c.Clients = 16
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Fill <= 0 {
		c.Fill = 1_000_000
	}
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.RawWorkers <= 0 {
		c.RawWorkers = c.Clients
	}
	switch c.RawMethod {
	case "":
		c.RawMethod = MethodCommit
	case MethodCommit, MethodInsert, MethodRawInsert:
	default:
		return fmt.Errorf("unknown raw method %q (want %s, %s or %s)", c.RawMethod, MethodCommit, MethodInsert, MethodRawInsert)
	}
	if c.Pool <= 0 {
		c.Pool = 10_000
	}
	if c.Limit <= 0 {
		c.Limit = 100
	}
	if c.MoreDepth <= 0 {
		c.MoreDepth = 20
	}
	if c.Reuse {
		c.FillFrom = c.Fill
	}
	if c.FillFrom < 0 || c.FillFrom > c.Fill {
		return fmt.Errorf("fill-from %d is not between 0 and the fill, %d", c.FillFrom, c.Fill)
	}
	if c.Learners <= 0 {
		c.Learners = DefaultLearners
	}
	if c.Activities <= 0 {
		c.Activities = DefaultActivities
	}
	if c.Activities < 10 {
		return fmt.Errorf("want at least 10 activities, got %d", c.Activities)
	}
	if c.Version == "" {
		c.Version = statements.V103
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.URL == "" && (c.Server == nil || c.Store == nil || c.Credentials == nil) {
		return errors.New("without a URL, the in-process Server, its Store and its Credentials are required")
	}
	return nil
}

func (c *Config) has(phase string) bool { return slices.Contains(c.Phases, phase) }

// bench is one run in progress.
type bench struct {
	cfg    Config
	gen    Generator
	client *Client
	writer *writer
	runID  uint64
	report *Report
	// facts are the completion facts of the pool's records, by index: what
	// the server derives from them (reporting.Project), for the raw phase.
	facts [][]reporting.Fact
}

// Run runs the phases of cfg and returns their figures. It returns an error
// (with the report so far) when a phase could not run or when any request
// failed: a benchmark that gets errors measures nothing.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, runID: randomUint64()}
	b.gen = Generator{Seed: cfg.Seed, Learners: cfg.Learners, Activities: cfg.Activities, IDSpace: b.runID}
	b.report = newReport(cfg)

	cred := &auth.Credential{Key: cfg.Key, Name: "lrs bench", Tenant: auth.DefaultTenant}
	target := cfg.URL
	if target == "" {
		var stop func()
		var secret string
		var err error
		target, cred, secret, stop, err = startServer(ctx, cfg.Server(), cfg.Credentials)
		if err != nil {
			return nil, err
		}
		defer stop()
		b.cfg.Key, b.cfg.Secret = cred.Key, secret
		b.report.Target = "in-process " + target
		b.report.InProcess = true
	} else {
		b.report.Target = target
	}
	client, err := NewClient(target, b.cfg.Key, b.cfg.Secret, string(cfg.Version), cfg.Clients)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	b.client = client
	b.writer = newWriter(cred, strings.TrimSuffix(strings.TrimSuffix(target, "/"), "/xapi"), cfg.Version)

	// One pool of statements for the timed write phases: bodies for HTTP,
	// completed records for raw. Built before timing, so that generating
	// and encoding statements costs none of the measured time.
	var bodies [][]byte
	var recs []*statements.Record
	if cfg.has(PhaseRaw) || cfg.has(PhaseSingle) || cfg.has(PhaseBatch) {
		t0 := time.Now()
		bodies, recs = b.pool()
		fmt.Fprintf(b.cfg.Log, "generated %d statements for the write phases in %.1fs\n", len(bodies), time.Since(t0).Seconds())
	}
	b.report.StatementBytes = b.meanSize()

	steps := []struct {
		phase string
		run   func(context.Context, [][]byte, []*statements.Record) error
	}{
		{PhaseRaw, b.raw},
		{PhaseSingle, b.single},
		{PhaseBatch, b.batch},
		{PhaseQuery, b.query},
	}
	defer b.report.finish()
	for _, s := range steps {
		if !cfg.has(s.phase) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return b.report, err
		}
		if err := s.run(ctx, bodies, recs); err != nil {
			return b.report, fmt.Errorf("%s phase: %w", s.phase, err)
		}
	}
	if n := b.report.errors(); n > 0 {
		return b.report, fmt.Errorf("%d requests failed; the figures are not valid", n)
	}
	return b.report, nil
}

// startServer creates a credential in creds, starts srv on a loopback
// port and returns its xAPI URL and a function that stops it.
func startServer(ctx context.Context, srv *lrs.Server, creds auth.CredentialStore) (
	target string, cred *auth.Credential, secret string, stop func(), err error) {
	secret = randomHex(24)
	cred = &auth.Credential{
		Key:        "bench-" + randomHex(8),
		SecretHash: auth.HashSecret(secret),
		Name:       "lrs bench",
		Tenant:     auth.DefaultTenant,
		Scopes:     []string{auth.ScopeAll},
		Created:    time.Now().UTC(),
	}
	if err := creds.CreateCredential(ctx, cred); err != nil {
		return "", nil, "", nil, fmt.Errorf("creating the bench credential: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, "", nil, err
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	stop = func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	}
	return "http://" + l.Addr().String() + "/xapi/", cred, secret, stop, nil
}

// pool generates Config.Pool statements (from a range of indexes the fill does
// not use) as JSON bodies and as completed records, on every CPU.
func (b *bench) pool() ([][]byte, []*statements.Record) {
	const first = 1 << 40
	bodies := make([][]byte, b.cfg.Pool)
	recs := make([]*statements.Record, b.cfg.Pool)
	b.facts = make([][]reporting.Fact, b.cfg.Pool)
	now := time.Now()
	parallel(b.cfg.Pool, func(i int) {
		n := uint64(first + i)
		bodies[i] = b.gen.JSON(n)
		st := b.gen.Statement(n)
		recs[i] = b.writer.record(st, now)
		b.facts[i] = reporting.Project(recs[i], st)
	})
	return bodies, recs
}

// parallel calls f(0..n-1) on GOMAXPROCS goroutines.
func parallel(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
}

// ids hands out fresh statement ids for one phase.
type ids struct {
	space uint64
	n     atomic.Uint64
}

func (b *bench) ids(phase string) *ids {
	h := uint64(0)
	for _, c := range phase {
		h = h*31 + uint64(c)
	}
	return &ids{space: mix64(b.runID ^ h)}
}

func (s *ids) next() string { return UUID(s.space, s.n.Add(1)) }

// runFor runs op on workers goroutines until d has passed, ctx ends or op
// returns false, and returns the phase's wall time and the workers'
// recorders. Each op call does one request, number i of the phase, and
// records it in r.
func runFor(ctx context.Context, workers int, d time.Duration, op func(ctx context.Context, i int, r *recorder) bool) (elapsed, cpu time.Duration, _ []*recorder) {
	recs := make([]*recorder, workers)
	cpu0 := cpuTime()
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		recs[w] = &recorder{lat: make([]time.Duration, 0, 4096)}
		wg.Go(func() {
			for i := w; time.Now().Before(deadline) && ctx.Err() == nil; i += workers {
				if !op(ctx, i, recs[w]) {
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), cpuTime() - cpu0, recs
}

func (b *bench) add(r Result) {
	b.report.Results = append(b.report.Results, r)
	fmt.Fprintf(b.cfg.Log, "%-14s %9.0f statements/s  p50 %7.2f ms  p99 %7.2f ms  errors %d\n",
		r.Phase, r.StatementsPerSec, r.P50MS, r.P99MS, r.Errors)
	for _, s := range r.ErrorSamples {
		fmt.Fprintf(b.cfg.Log, "  error: %s\n", s)
	}
}

// Store methods the raw phase can use (Config.RawMethod).
const (
	MethodCommit    = "Commit"
	MethodInsert    = "Insert"
	MethodRawInsert = "RawInsert"
)

// RawInserter is a store's direct write path beside Insert: package sqlite's
// RawInsert writes the same rows with the same SQL in one transaction per
// call, bypassing the group-commit queue.
type RawInserter interface {
	RawInsert(ctx context.Context, recs []*statements.Record) error
}

// raw writes the pool's records, under fresh ids, straight into the scratch
// store in calls of Batch records from RawWorkers goroutines: the same rows
// the batch phase makes the server write, without HTTP, parsing and
// validation.
func (b *bench) raw(ctx context.Context, _ [][]byte, pool []*statements.Record) error {
	if b.cfg.Raw == nil {
		fmt.Fprintln(b.cfg.Log, "raw: skipped (no scratch store of the server's backend given)")
		return nil
	}
	if p, err := b.cfg.Raw.Query(ctx, statements.Query{Tenant: auth.DefaultTenant, Limit: 1}); err != nil {
		return err
	} else if len(p.Records) > 0 {
		return errors.New("the scratch store for the raw phase already holds statements; give an empty one")
	}
	var insert func(ctx context.Context, u *ingest.Unit) error
	switch b.cfg.RawMethod {
	case MethodCommit:
		insert = b.cfg.Raw.Commit
	case MethodInsert:
		insert = func(ctx context.Context, u *ingest.Unit) error { return b.cfg.Raw.Insert(ctx, u.Records, nil) }
	case MethodRawInsert:
		ri, ok := b.cfg.Raw.(RawInserter)
		if !ok {
			return fmt.Errorf("the %s store has no %s method", b.cfg.Backend, MethodRawInsert)
		}
		insert = func(ctx context.Context, u *ingest.Unit) error { return ri.RawInsert(ctx, u.Records) }
	}
	b.report.RawMethod = b.cfg.RawMethod
	ids := b.ids(PhaseRaw)
	bs := b.cfg.Batch
	elapsed, cpu, recs := runFor(ctx, b.cfg.RawWorkers, b.cfg.Duration, func(ctx context.Context, i int, r *recorder) bool {
		u := &ingest.Unit{Tenant: auth.DefaultTenant, Records: make([]*statements.Record, bs)}
		now := time.Now()
		for j := range u.Records {
			k := (i*bs + j) % len(pool)
			rec := withID(pool[k], ids.next(), now)
			u.Records[j] = rec
			u.Facts = appendFacts(u.Facts, b.facts[k], rec)
		}
		t0 := time.Now()
		err := insert(ctx, u)
		if err != nil {
			r.fail(time.Since(t0), err)
			return true
		}
		r.ok(time.Since(t0), bs)
		return true
	})
	b.add(summarize(PhaseRaw, b.cfg.RawWorkers, elapsed, cpu, recs))
	return nil
}

// appendFacts appends the facts fs of a pool record to dst as the facts of
// rec, its copy under a new id stored at another time.
func appendFacts(dst, fs []reporting.Fact, rec *statements.Record) []reporting.Fact {
	id := uuid.MustParse(rec.ID)
	for _, f := range fs {
		f.Statement, f.Stored = id, rec.Stored
		dst = append(dst, f)
	}
	return dst
}

// single posts one statement per request.
func (b *bench) single(ctx context.Context, pool [][]byte, _ []*statements.Record) error {
	ids := b.ids(PhaseSingle)
	elapsed, cpu, recs := runFor(ctx, b.cfg.Clients, b.cfg.Duration, func(ctx context.Context, i int, r *recorder) bool {
		tmpl := pool[i%len(pool)]
		body := replaceID(tmpl, b.gen.ID(1<<40+uint64(i%len(pool))), ids.next())
		t0 := time.Now()
		if err := b.client.Post(ctx, body, 1); err != nil {
			r.fail(time.Since(t0), err)
			return true
		}
		r.ok(time.Since(t0), 1)
		return true
	})
	b.add(summarize(PhaseSingle, b.cfg.Clients, elapsed, cpu, recs))
	return nil
}

// batch posts arrays of Batch statements.
func (b *bench) batch(ctx context.Context, pool [][]byte, _ []*statements.Record) error {
	ids := b.ids(PhaseBatch)
	bs := b.cfg.Batch
	elapsed, cpu, recs := runFor(ctx, b.cfg.Clients, b.cfg.Duration, func(ctx context.Context, i int, r *recorder) bool {
		body := b.batchBody(pool, i*bs, ids)
		t0 := time.Now()
		if err := b.client.Post(ctx, body, bs); err != nil {
			r.fail(time.Since(t0), err)
			return true
		}
		r.ok(time.Since(t0), bs)
		return true
	})
	b.add(summarize(PhaseBatch, b.cfg.Clients, elapsed, cpu, recs))
	return nil
}

// batchBody returns a JSON array of Batch pool statements from index from on,
// under fresh ids.
func (b *bench) batchBody(pool [][]byte, from int, ids *ids) []byte {
	var buf bytes.Buffer
	buf.Grow(b.cfg.Batch * (len(pool[0]) + 64))
	buf.WriteByte('[')
	for j := range b.cfg.Batch {
		k := (from + j) % len(pool)
		if j > 0 {
			buf.WriteByte(',')
		}
		buf.Write(replaceID(pool[k], b.gen.ID(1<<40+uint64(k)), ids.next()))
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

// meanSize returns the mean size of the generated statements, as sent.
func (b *bench) meanSize() int {
	const sample = 1000
	n := 0
	for i := range uint64(sample) {
		n += len(b.gen.JSON(i))
	}
	return n / sample
}

func randomUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
