package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/internal/metricstest"
	"github.com/xapi-lrs/lrs/internal/sqlitefault"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// TestServeIngestOneTransaction starts `lrs serve` on SQLite and posts
// statements: the storage metrics at /metrics show that each request wrote
// its statements and their completion facts in one Commit of the
// statement store (one transaction), and no separate insert or
// fact write. With the fact write failing inside the transaction (a
// trigger on the facts table), the request is still answered 200: the
// statements are committed alone, the failure is counted, and a rebuild
// brings the facts; once the fault is gone, requests take the one
// transaction again.
func TestServeIngestOneTransaction(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "lrs.db")
	if err := run(ctx, []string{"credentials", "create", "--db", db, "--name", "lms", "--key", "lms",
		"--secret", "lms-0123456789abcdef", "--scopes", "all,reports/read"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	addr, stop, logs := startServeLogged(t, "--db", db)
	url := "http://" + addr + "/xapi/statements"
	post := func(body string) {
		t.Helper()
		if code, resp := postStatement(t, url, "lms", "lms-0123456789abcdef", body); code != http.StatusOK {
			t.Fatalf("POST %s: %d %s", body, code, resp)
		}
	}
	// calls returns the storage calls of each operation of the ingest
	// path, and their failures, from /metrics.
	calls := func() map[string]float64 {
		t.Helper()
		m := scrapeMetrics(t, "http://"+addr+"/metrics")
		got := map[string]float64{}
		for _, op := range []string{"commit", "insert", "add_facts", "retract_facts"} {
			got[op] = m("lrs_storage_operation_duration_seconds", "operation", op)
			got[op+" failed"] = m("lrs_storage_errors_total", "operation", op, "kind", "internal")
		}
		got["projection failures"] = m("lrs_projection_ingest_failures_total")
		return got
	}
	check := func(what string, want map[string]float64) {
		t.Helper()
		got := calls()
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v (all: %v)", what, k, got[k], v, got)
			}
		}
	}

	post(completion("ola@kommune.no", "2025-01-10T10:00:00Z"))
	post(`[` + completion("kari@kommune.no", "2025-01-10T11:00:00Z") + `,` + completion("per@kommune.no", "2025-01-10T11:05:00Z") + `]`)
	check("after two POSTs", map[string]float64{"commit": 2, "insert": 0, "add_facts": 0, "retract_facts": 0,
		"commit failed": 0, "projection failures": 0})

	restore := sqlitefault.FailWrites(t, db, "rp_fact_chunks")
	post(completion("nils@kommune.no", "2025-01-11T09:00:00Z"))
	// The failed commit, then the statements' commit alone, then the
	// facts on their own (failing too).
	check("with the fact write failing", map[string]float64{"commit": 4, "commit failed": 1,
		"insert": 0, "add_facts": 1, "add_facts failed": 1, "projection failures": 1})
	if !strings.Contains(logs.String(), sqlitefault.Message) || !strings.Contains(logs.String(), "run a projection rebuild") {
		t.Errorf("the log does not tell of the failed projection:\n%s", logs)
	}
	restore()
	post(completion("ase@kommune.no", "2025-01-12T09:00:00Z"))
	check("after the fault", map[string]float64{"commit": 5, "commit failed": 1, "insert": 0, "add_facts": 1})
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}

	// Every statement is stored; the facts of all but the one written in
	// the fault are, until a rebuild.
	agents := func() []string {
		t.Helper()
		st, err := openStores(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		p, err := st.Statements.Query(ctx, statements.Query{Tenant: auth.DefaultTenant, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Records) != 5 {
			t.Errorf("%d statements stored, want 5", len(p.Records))
		}
		fa, err := st.Reporting.FactAgents(ctx, auth.DefaultTenant)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range fa {
			out = append(out, strings.TrimPrefix(a.Agent, "mbox:mailto:"))
		}
		return out
	}
	if got, want := agents(), []string{"ase@kommune.no", "kari@kommune.no", "ola@kommune.no", "per@kommune.no"}; !slices.Equal(got, want) {
		t.Errorf("learners with facts: %v, want %v", got, want)
	}
	if err := run(ctx, []string{"reporting", "rebuild", "--db", db, "--tenant", auth.DefaultTenant}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := agents(); !slices.Contains(got, "nils@kommune.no") || len(got) != 5 {
		t.Errorf("learners with facts after the rebuild: %v, want all 5", got)
	}
}

// TestBenchServesAsServe: the in-process server of `lrs bench` is wired as
// serve's (newServer): its statements and facts go in by commit,
// measured by the storage metrics, as in production.
func TestBenchServesAsServe(t *testing.T) {
	ctx := context.Background()
	st, err := openStores(ctx, filepath.Join(t.TempDir(), "lrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cred := &auth.Credential{Key: "lms", SecretHash: auth.HashSecret("lms-0123456789abcdef"), Name: "lms",
		Tenant: auth.DefaultTenant, Scopes: []string{auth.ScopeAll}}
	if err := st.Credentials.CreateCredential(ctx, cred); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(benchServer(st, io.Discard).Handler())
	defer srv.Close()
	if code, resp := postStatement(t, srv.URL+"/xapi/statements", "lms", "lms-0123456789abcdef",
		completion("ola@kommune.no", "2025-01-10T10:00:00Z")); code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, resp)
	}
	m := scrapeMetrics(t, srv.URL+"/metrics")
	if n, ins := m("lrs_storage_operation_duration_seconds", "operation", "commit"),
		m("lrs_storage_operation_duration_seconds", "operation", "insert"); n != 1 || ins != 0 {
		t.Errorf("the bench server made %v commit and %v insert calls, want 1 and 0", n, ins)
	}
}

// scrapeMetrics reads the text format at url and returns a lookup of the
// value of a series (a counter's, or a histogram's count) by metric name
// and label pairs; 0 when there is no such series.
func scrapeMetrics(t *testing.T, url string) func(name string, labels ...string) float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", url, res.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is not the text format: %v", url, err)
	}
	return func(name string, labels ...string) float64 {
		if m := metricstest.Series(fams[name], labels...); m != nil {
			return metricstest.Value(m)
		}
		return 0
	}
}

// TestFactsCacheMetrics: /metrics tells how reports use the SQLite store's
// facts cache: learners found there and read from the database, and the
// memory it holds.
func TestFactsCacheMetrics(t *testing.T) {
	ctx := context.Background()
	st, err := openStores(ctx, filepath.Join(t.TempDir(), "lrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(benchServer(st, io.Discard).Handler())
	defer srv.Close()
	at := time.Date(2025, 1, 10, 10, 0, 0, 0, time.UTC)
	facts := []reporting.Fact{{Statement: uuid.New(), Agent: "mbox:mailto:ola@kommune.no", Name: "Ola",
		Activities: []string{"https://example.org/course"}, Outcome: reporting.OutcomeCompleted, Timestamp: at, Stored: at}}
	if err := st.Reporting.AddFacts(ctx, auth.DefaultTenant, facts); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the first read fills the cache, the second finds the learner there
		n := 0
		if err := st.Reporting.Facts(ctx, auth.DefaultTenant, nil, func(_ string, fs []reporting.Fact) error { n += len(fs); return nil }); err != nil || n != 1 {
			t.Fatalf("Facts: %d facts, %v", n, err)
		}
	}
	m := scrapeMetrics(t, srv.URL+"/metrics")
	if hits, misses, bytes := m("lrs_facts_cache_hits_total"), m("lrs_facts_cache_misses_total"), m("lrs_facts_cache_bytes"); hits != 1 || misses != 1 || bytes <= 0 {
		t.Errorf("facts cache: %v hits, %v misses, %v bytes; want 1, 1 and some", hits, misses, bytes)
	}
}
