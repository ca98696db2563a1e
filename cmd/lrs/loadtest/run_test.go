package loadtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/cmd/lrs/loadtest"
	"github.com/xapi-lrs/lrs/cmd/lrs/wire"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/sqlite"
	"github.com/xapi-lrs/lrs/statements"
)

func openDB(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// inProcess returns the Config.Server of the tests: the service over db
// as lrs serve and lrs bench wire it (wire.NewServer), without a rate
// limit.
func inProcess(db *sqlite.DB) func() *lrs.Server {
	return func() *lrs.Server {
		return wire.NewServer(wire.SQLite(db), lrs.Config{RateLimit: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}
}

// count pages through every statement of the default tenant.
func count(t *testing.T, s statements.Store) int {
	t.Helper()
	ctx := context.Background()
	q := statements.Query{Tenant: auth.DefaultTenant, Limit: 1000}
	n := 0
	for {
		p, err := s.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		n += len(p.Records)
		if p.Cursor == "" {
			return n
		}
		q.Cursor = p.Cursor
	}
}

// Every phase runs briefly against the real server in-process on SQLite:
// each measures something, nothing fails, and the statements counted as
// written are the statements the store holds.
func TestRunEndToEnd(t *testing.T) {
	dir := t.TempDir()
	store := openDB(t, filepath.Join(dir, "lrs.db"))
	raw := openDB(t, filepath.Join(dir, "raw.db"))
	var log bytes.Buffer
	rep, err := loadtest.Run(context.Background(), loadtest.Config{
		Server: inProcess(store), Store: store, Credentials: store, Raw: raw, Backend: "sqlite",
		Clients: 4, Duration: 300 * time.Millisecond, Fill: 3000, Limit: 20, MoreDepth: 3,
		Learners: 300, Activities: 50, Pool: 1000, Log: &log,
	})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	phases := append([]string{loadtest.PhaseRaw, loadtest.PhaseSingle, loadtest.PhaseBatch, loadtest.PhaseFill},
		loadtest.QueryPhases...)
	if len(rep.Results) != len(phases) {
		t.Fatalf("%d results, want %d: %+v", len(rep.Results), len(phases), rep.Results)
	}
	for i, p := range phases {
		r := rep.Results[i]
		if r.Phase != p {
			t.Fatalf("result %d is %q, want %q", i, r.Phase, p)
		}
		if r.Errors != 0 || r.Requests == 0 || r.Statements == 0 || r.StatementsPerSec <= 0 ||
			r.RequestsPerSec <= 0 || r.P50MS <= 0 || r.P50MS > r.P99MS || r.P99MS > r.MaxMS {
			t.Errorf("%s: %+v", p, r)
		}
	}
	if rep.RawMethod != loadtest.MethodCommit {
		t.Errorf("raw phase used %q, want Commit", rep.RawMethod)
	}
	// The raw phase writes what the server writes: the statements and
	// their completion facts, each fact of a statement it stored.
	facts := 0
	err = raw.Facts(context.Background(), auth.DefaultTenant, nil, func(_ string, fs []reporting.Fact) error {
		for _, f := range fs {
			facts++
			if _, err := raw.Get(context.Background(), auth.DefaultTenant, f.Statement.String()); err != nil {
				return fmt.Errorf("fact of statement %s, which the scratch store does not hold: %w", f.Statement, err)
			}
		}
		return nil
	})
	if err != nil || facts == 0 {
		t.Errorf("the scratch store holds %d facts (%v); the raw phase should write the statements' facts", facts, err)
	}
	if rep.Result(loadtest.PhaseFill).Statements != 3000 {
		t.Errorf("fill stored %d statements, want 3000", rep.Result(loadtest.PhaseFill).Statements)
	}
	if rep.Result(loadtest.PhaseBatch).Statements%100 != 0 {
		t.Errorf("batch phase counted %d statements, not whole batches", rep.Result(loadtest.PhaseBatch).Statements)
	}
	// The statements counted are the statements stored: the server's store
	// holds those of single, batch and fill; the scratch store those of raw.
	want := 0
	for _, p := range []string{loadtest.PhaseSingle, loadtest.PhaseBatch, loadtest.PhaseFill} {
		want += rep.Result(p).Statements
	}
	if got := count(t, store); got != want {
		t.Errorf("the server's store holds %d statements; the phases counted %d", got, want)
	}
	if got, want := count(t, raw), rep.Result(loadtest.PhaseRaw).Statements; got != want {
		t.Errorf("the scratch store holds %d statements; the raw phase counted %d", got, want)
	}
	for _, k := range []string{"batch/raw", "single/raw", "single/batch", "batch/raw by cpu"} {
		if rep.Ratios[k] <= 0 {
			t.Errorf("ratio %s = %v", k, rep.Ratios[k])
		}
	}
	if len(rep.Targets) != 10 { // batch/raw, single/raw, batch and single rates, single p99, five queries
		t.Errorf("%d targets checked, want 10", len(rep.Targets))
	}
	if rep.StatementBytes < 1000 || rep.GOMAXPROCS < 1 || rep.NumCPU < 1 || rep.GoVersion == "" || rep.Date == "" {
		t.Errorf("report header: %+v", rep)
	}

	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, p := range append(phases, "batch/raw", "target") {
		if !strings.Contains(text.String(), p) {
			t.Errorf("the text report lacks %q:\n%s", p, text.String())
		}
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back loadtest.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Results) != len(phases) || back.Results[2].StatementsPerSec != rep.Results[2].StatementsPerSec ||
		back.Backend != "sqlite" || back.GOMAXPROCS != rep.GOMAXPROCS {
		t.Errorf("the JSON report does not round-trip: %s", js.String())
	}

	// A second run reuses the filled store: no fill, and the queries still
	// find the statements they ask for.
	rep2, err := loadtest.Run(context.Background(), loadtest.Config{
		Server: inProcess(store), Store: store, Credentials: store, Phases: []string{loadtest.PhaseQuery}, Reuse: true,
		Clients: 2, Duration: 100 * time.Millisecond, Fill: 3000, Learners: 300, Activities: 50,
	})
	if err != nil {
		t.Fatalf("reusing the store: %v %+v", err, rep2)
	}
	if len(rep2.Results) != len(loadtest.QueryPhases) || rep2.Result(loadtest.PhaseFill) != nil || !rep2.FillReused ||
		rep2.Result(loadtest.PhaseQueryAgent).Statements == 0 {
		t.Errorf("reusing the store: %+v", rep2.Results)
	}

	// A third run adds statements 3000..3999 to the filled store and
	// queries all 4,000.
	before := count(t, store)
	rep3, err := loadtest.Run(context.Background(), loadtest.Config{
		Server: inProcess(store), Store: store, Credentials: store, Phases: []string{loadtest.PhaseQuery}, FillFrom: 3000,
		Clients: 2, Duration: 100 * time.Millisecond, Fill: 4000, Learners: 300, Activities: 50,
	})
	if err != nil {
		t.Fatalf("filling from 3000: %v", err)
	}
	if f := rep3.Result(loadtest.PhaseFill); f == nil || f.Statements != 1000 || count(t, store) != before+1000 {
		t.Errorf("filling from 3000 to 4000: fill %+v, store grew by %d", f, count(t, store)-before)
	}
	for _, p := range loadtest.QueryPhases {
		if r := rep3.Result(p); r == nil || r.Errors != 0 || r.Statements == 0 {
			t.Errorf("after filling from 3000: %s: %+v", p, r)
		}
	}

	// The scratch store now holds statements: a second raw run refuses it.
	_, err = loadtest.Run(context.Background(), loadtest.Config{
		Server: inProcess(store), Store: store, Credentials: store, Raw: raw, Phases: []string{loadtest.PhaseRaw},
		Duration: 50 * time.Millisecond, Pool: 100,
	})
	if err == nil || !strings.Contains(err.Error(), "already holds statements") {
		t.Errorf("a raw phase into a non-empty store: err = %v", err)
	}
}

// Requests the server refuses are counted as errors and fail the run.
func TestRunCountsErrors(t *testing.T) {
	store := openDB(t, filepath.Join(t.TempDir(), "lrs.db"))
	srv := httptest.NewServer(wire.NewServer(wire.SQLite(store), lrs.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler())
	defer srv.Close()
	rep, err := loadtest.Run(context.Background(), loadtest.Config{
		URL: srv.URL + "/xapi/", Key: "nobody", Secret: "wrong",
		Phases: []string{loadtest.PhaseSingle}, Clients: 2, Duration: 100 * time.Millisecond, Pool: 100,
	})
	if err == nil || !strings.Contains(err.Error(), "requests failed") {
		t.Fatalf("err = %v, want a failed run; report %+v", err, rep)
	}
	r := rep.Result(loadtest.PhaseSingle)
	if r == nil || r.Errors == 0 || r.Errors != r.Requests || r.Statements != 0 {
		t.Fatalf("single: %+v", r)
	}
	if !slices.ContainsFunc(r.ErrorSamples, func(s string) bool { return strings.Contains(s, "HTTP 401") }) {
		t.Fatalf("error samples %q, want the 401", r.ErrorSamples)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []loadtest.Config{
		{}, // neither URL nor store
		{URL: "ftp://x/", Phases: []string{"single"}}, // not http
		{URL: "http://127.0.0.1:1/xapi/", Phases: []string{"nonsense"}},
	} {
		if _, err := loadtest.Run(context.Background(), c); err == nil {
			t.Errorf("Run(%+v) succeeded", c)
		}
	}
}
