package lrs_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/xapi-lrs/lrs/cmd/lrs/wire"
	"github.com/xapi-lrs/lrs/internal/metricstest"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/sqlite"
)

// syncBuffer is a log sink tests can read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// observed starts a test server whose metrics go to a registry of the test
// (newServer wraps the stores with the binary's storage metrics) and whose
// JSON log goes to a buffer.
func observed(t *testing.T, edit ...func(*lrs.Config)) (*testServer, *syncBuffer) {
	logs := &syncBuffer{}
	all := append([]func(*lrs.Config){func(c *lrs.Config) {
		c.Metrics = prometheus.NewRegistry()
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}}, edit...)
	return newServer(t, all...), logs
}

// scrape reads /metrics and parses the text format.
func scrape(t testing.TB, base, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("/metrics: %d %s", res.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("/metrics is not the text format: %v", err)
	}
	return fams
}

// sample finds the series of family name with the labels given as
// name=value pairs (other labels may be present), failing if there is none.
func sample(t testing.TB, fams map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric %s in /metrics", name)
	}
	if m := metricstest.Series(f, labels...); m != nil {
		return m
	}
	t.Fatalf("no series %s%v in /metrics", name, labels)
	return nil
}

func wantValue(t testing.TB, fams map[string]*dto.MetricFamily, want float64, name string, labels ...string) {
	t.Helper()
	if got := metricstest.Value(sample(t, fams, name, labels...)); got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

// TestMetricsAfterTraffic sends real requests of every kind and reads them
// back from /metrics.
func TestMetricsAfterTraffic(t *testing.T) {
	s, logs := observed(t)

	s.post(stmt("kari", "completed"), stmt("ola", "attempted"), stmt("per", "passed"))
	id := "f1f3c2a4-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
	expect(t, s.do(req{method: "PUT", path: "/xapi/statements?statementId=" + id, body: stmt("kari", "passed")}), http.StatusNoContent)
	expect(t, s.do(req{method: "PUT", path: "/xapi/statements?statementId=" + id, body: stmt("kari", "failed")}), http.StatusConflict)
	bad := stmt("kari", "completed")
	bad["actor"] = map[string]any{"mbox": "kari@example.com"}
	r := s.do(req{method: "POST", path: "/xapi/statements", body: bad})
	expect(t, r, http.StatusBadRequest)
	var e struct{ Error struct{ Rule string } }
	r.json(t, &e)
	if e.Error.Rule == "" {
		t.Fatalf("the 400 names no rule: %s", r.body)
	}
	expect(t, s.do(req{method: "POST", path: "/xapi/statements", body: stmt("kari", "completed"), noAuth: true}), http.StatusUnauthorized)
	agent := url.QueryEscape(`{"mbox":"mailto:kari@example.com"}`)
	expect(t, s.do(req{method: "GET", path: "/xapi/statements?agent=" + agent}), http.StatusOK)
	state := "/xapi/activities/state?activityId=" + url.QueryEscape("http://example.com/courses/safety") +
		"&agent=" + agent + "&stateId=bookmark"
	expect(t, s.do(req{method: "PUT", path: state, body: `{"page":3}`}), http.StatusNoContent)
	expect(t, s.do(req{method: "GET", path: state}), http.StatusOK)
	expect(t, s.do(req{method: "GET", path: "/xapi/no/such/resource/" + id}), http.StatusNotFound)
	r = s.do(req{method: "GET", path: "/readyz", noAuth: true, version: "-"})
	expect(t, r, http.StatusOK)

	fams := scrape(t, s.URL, "")
	post := []string{"route", "/xapi/statements", "method", "POST", "status", "200"}
	wantValue(t, fams, 1, "lrs_http_requests_total", post...)
	h := sample(t, fams, "lrs_http_request_duration_seconds", post...).Histogram
	if h.GetSampleCount() != 1 || h.GetSampleSum() <= 0 || h.GetSampleSum() > 10 {
		t.Errorf("latency of the POST: count %d, sum %v s", h.GetSampleCount(), h.GetSampleSum())
	}
	wantValue(t, fams, 1, "lrs_http_requests_total", "route", "/xapi/statements", "method", "PUT", "status", "409")
	wantValue(t, fams, 1, "lrs_http_requests_total", "route", "unmatched", "method", "GET", "status", "404")
	for _, f := range fams["lrs_http_requests_total"].Metric {
		for _, l := range f.Label {
			if l.GetName() == "route" && strings.Contains(l.GetValue(), id) {
				t.Errorf("a raw path became a route label: %v", l.GetValue())
			}
		}
	}
	wantValue(t, fams, 4, "lrs_statements_accepted_total")
	bs := sample(t, fams, "lrs_statement_batch_size").Histogram
	if bs.GetSampleCount() != 2 || bs.GetSampleSum() != 4 {
		t.Errorf("batch sizes: %d batches of %v statements, want 2 of 4", bs.GetSampleCount(), bs.GetSampleSum())
	}
	wantValue(t, fams, 1, "lrs_statements_rejected_total", "reason", "invalid", "rule", e.Error.Rule)
	wantValue(t, fams, 1, "lrs_statements_rejected_total", "reason", "conflict")
	wantValue(t, fams, 1, "lrs_statements_rejected_total", "reason", "unauthorized")
	wantValue(t, fams, 1, "lrs_auth_failures_total")
	wantValue(t, fams, 1, "lrs_document_request_duration_seconds", "resource", "state", "method", "PUT")
	wantValue(t, fams, 1, "lrs_document_request_duration_seconds", "resource", "state", "method", "GET")
	wantValue(t, fams, 0, "lrs_document_request_duration_seconds", "resource", "agent_profile", "method", "PUT")
	wantValue(t, fams, 0, "lrs_report_request_duration_seconds")
	// Three commits reached the store (the conflict too); a conflict is
	// an answer, not a storage error.
	wantValue(t, fams, 3, "lrs_storage_operation_duration_seconds", "backend", "sqlite", "operation", "commit")
	wantValue(t, fams, 0, "lrs_storage_errors_total", "backend", "sqlite", "operation", "commit", "kind", "internal")
	if n := metricstest.Value(sample(t, fams, "lrs_storage_operation_duration_seconds", "operation", "put_document")); n != 1 {
		t.Errorf("put_document timed %v times, want 1", n)
	}
	if n := metricstest.Value(sample(t, fams, "lrs_storage_operation_duration_seconds", "operation", "ping")); n < 1 {
		t.Errorf("the readiness check did not ping the store")
	}
	wantValue(t, fams, 1, "lrs_ready")
	wantValue(t, fams, 1, "lrs_http_requests_in_flight") // the scrape itself

	// The log: one JSON line per request, with identifiers and no query
	// string, e-mail address or secret.
	var sawPost bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if l["msg"] != "request" {
			continue
		}
		for _, k := range []string{"id", "method", "route", "path", "status", "duration_ms"} {
			if _, ok := l[k]; !ok {
				t.Errorf("request log line without %s: %s", k, line)
			}
		}
		if l["route"] == "/xapi/statements" && l["method"] == "POST" && l["status"] == 200.0 {
			sawPost = true
			if l["tenant"] != "default" || l["credential"] != "admin app" {
				t.Errorf("request log line without tenant and credential name: %s", line)
			}
		}
	}
	if !sawPost {
		t.Errorf("no log line for the POST: %s", logs.String())
	}
	for _, secret := range []string{"kari@example.com", "admin-secret", "agent=", "mailto"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

// TestRequestID checks that each response carries a request id, that a
// proxy's well-formed id is kept and a malformed one replaced, and that the
// log line carries the same id.
func TestRequestID(t *testing.T) {
	s, logs := observed(t)
	r := s.do(req{method: "GET", path: "/xapi/about"})
	got := r.header.Get(lrs.RequestIDHeader)
	if len(got) != 16 {
		t.Fatalf("request id %q", got)
	}
	r = s.do(req{method: "GET", path: "/xapi/about", header: map[string]string{lrs.RequestIDHeader: "lb-7f3a.42"}})
	if got := r.header.Get(lrs.RequestIDHeader); got != "lb-7f3a.42" {
		t.Errorf("proxy id not kept: %q", got)
	}
	r = s.do(req{method: "GET", path: "/xapi/about", header: map[string]string{lrs.RequestIDHeader: "bad id\" injected"}})
	if got := r.header.Get(lrs.RequestIDHeader); len(got) != 16 || strings.Contains(got, " ") {
		t.Errorf("malformed proxy id kept: %q", got)
	}
	if !strings.Contains(logs.String(), `"id":"lb-7f3a.42"`) {
		t.Errorf("the log line lacks the request id: %s", logs.String())
	}
	// Errors carry it too.
	r = s.do(req{method: "POST", path: "/xapi/statements", body: "{", header: map[string]string{lrs.RequestIDHeader: "err-1"}})
	if r.status != http.StatusBadRequest || r.header.Get(lrs.RequestIDHeader) != "err-1" {
		t.Errorf("error response: %d, id %q", r.status, r.header.Get(lrs.RequestIDHeader))
	}
}

// TestMetricsToken checks that /metrics can be closed with its own token.
func TestMetricsToken(t *testing.T) {
	s, _ := observed(t, func(c *lrs.Config) { c.MetricsToken = "scrape-me" })
	for _, h := range []map[string]string{nil, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic YWRtaW46YWRtaW4tc2VjcmV0"}} {
		r := s.do(req{method: "GET", path: "/metrics", noAuth: true, version: "-", header: h})
		if r.status != http.StatusUnauthorized || r.errorKind(t) != "unauthorized" {
			t.Errorf("/metrics with %v: %d %s", h, r.status, r.body)
		}
	}
	fams := scrape(t, s.URL, "scrape-me")
	if _, ok := fams["lrs_http_requests_total"]; !ok {
		t.Error("no lrs_http_requests_total with the token")
	}
}

// TestReadiness makes the store unavailable for real — another connection
// holds SQLite's write lock, as a stuck backup or a stray shell would — and
// checks that /readyz and lrs_ready say so within their wait, that /healthz
// stays up, and that readiness comes back once the lock is released.
func TestReadiness(t *testing.T) {
	s, logs := observed(t)
	expect(t, s.do(req{method: "GET", path: "/readyz", noAuth: true, version: "-"}), http.StatusOK)

	lock, err := sql.Open("sqlite", "file:"+(&url.URL{Path: s.db.Path()}).EscapedPath())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	conn, err := lock.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // let the last good result expire

	start := time.Now()
	r := s.do(req{method: "GET", path: "/readyz", noAuth: true, version: "-"})
	if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "unavailable") {
		t.Fatalf("/readyz while the store is locked: %d %s", r.status, r.body)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("/readyz took %v to answer", d)
	}
	expect(t, s.do(req{method: "GET", path: "/healthz", noAuth: true, version: "-"}), http.StatusOK)
	wantValue(t, scrape(t, s.URL, ""), 0, "lrs_ready")

	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		r = s.do(req{method: "GET", path: "/readyz", noAuth: true, version: "-"})
		if r.status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not recover: %d %s", r.status, r.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	wantValue(t, scrape(t, s.URL, ""), 1, "lrs_ready")
	if !strings.Contains(logs.String(), "not ready") || !strings.Contains(logs.String(), "ready again") {
		t.Errorf("readiness changes were not logged: %s", logs.String())
	}
}

// TestDrain checks that a draining server answers /readyz with 503 while it
// still serves requests.
func TestDrain(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "lrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv := wire.NewServer(wire.SQLite(db), lrs.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	get := func(path string) (int, string) {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != 200 {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	srv.Drain()
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "draining") {
		t.Errorf("/readyz while draining: %d %s", code, body)
	}
	if code, body := get("/xapi/about"); code != 200 {
		t.Errorf("about while draining: %d %s", code, body)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz while draining: %d", code)
	}
}
