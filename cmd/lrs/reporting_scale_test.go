package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/internal/peakheap"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/mongo"
	"github.com/xapi-lrs/lrs/mongo/ferrettest"
	"github.com/xapi-lrs/lrs/reporting/storetest"
	"github.com/xapi-lrs/lrs/sqlite"
)

// The compliance reports of an organisation at scale, through HTTP, served
// as `lrs serve` serves them: the stores opened by openStores, wired by
// newServer, the reporting caches warmed, on a loopback port. Time is
// measured by benchmarks only (the machines are shared and noisy); what a
// test can hold is the memory.

// reportKey and reportSecret are the credential (scope reports/read) the
// report benchmarks and tests ask with.
const (
	reportKey    = "report-reader"
	reportSecret = "report-reader-secret-0123456789"
)

// reportService serves the database db (a SQLite path or a mongodb:// URL)
// with the production wiring and returns its base URL. It adds the report
// reader's credential to the database when missing.
func reportService(tb testing.TB, db string) string {
	tb.Helper()
	ctx := context.Background()
	st, err := openStores(ctx, db)
	if err != nil {
		tb.Fatal(err)
	}
	err = st.Credentials.CreateCredential(ctx, &auth.Credential{Key: reportKey, SecretHash: auth.HashSecret(reportSecret),
		Name: "report reader", Tenant: auth.DefaultTenant, Scopes: []string{auth.ScopeReportsRead}, Created: time.Now().UTC()})
	if err != nil && errs.KindOf(err) != errs.Conflict {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	warmReporting(ctx, st.Statements, st.Tenants, log) // as serve does (in the background there)
	srv, err := newServer(st, lrs.Config{Logger: log}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
		st.Close()
	})
	return "http://" + l.Addr().String()
}

// scaleSQLite returns the path of a SQLite database holding the
// organisation at storetest.FullScale (55,000 people, the facts of
// 2,000,000 statements), filling it the first time (some seconds). Set
// LRS_BENCH_REPORTING_DB to a path to keep it between runs (the lrs and
// sqlite packages' reporting benchmarks use the same variable and data).
func scaleSQLite(tb testing.TB) string {
	scaleFile.once.Do(func() {
		path := os.Getenv("LRS_BENCH_REPORTING_DB")
		if path == "" {
			dir, err := os.MkdirTemp("", "lrs-bench-reports-")
			if err != nil {
				scaleFile.err = err
				return
			}
			scaleFile.temp = dir // TestMain removes it
			path = filepath.Join(dir, "lrs.db")
		}
		scaleFile.path = path
		if _, err := os.Stat(path); err == nil {
			return // filled by an earlier run
		}
		scaleFile.err = fillSQLite(path, storetest.FullScale)
	})
	if scaleFile.err != nil {
		tb.Fatal(scaleFile.err)
	}
	return scaleFile.path
}

var scaleFile struct {
	once sync.Once
	path string
	temp string // the temporary directory of path, if it is one
	err  error
}

// fillSQLite writes an organisation of the given scale into a new SQLite
// database at path.
func fillSQLite(path string, s storetest.Scale) error {
	db, err := sqlite.Open(path)
	if err != nil {
		return err
	}
	return errors.Join(s.Fill(context.Background(), db, auth.DefaultTenant), db.Close())
}

// processCPU returns the user and system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fetched is what fetch measured of one response.
type fetched struct {
	firstByte, complete time.Duration // from sending the request
	cpu                 time.Duration // of the process (client and server), from sending the request to the end
	size                int64
	heap                peakheap.Peak // client and server: one process
}

// fetch GETs url with the report reader's credential, reads the whole
// body and returns what it measured; any status but 200 fails tb.
func fetch(tb testing.TB, url string) fetched {
	tb.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.SetBasicAuth(reportKey, reportSecret)
	stop := peakheap.Start()
	cpu0 := processCPU()
	t0 := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var f fetched
	var first [1]byte
	n, err := io.ReadFull(res.Body, first[:])
	f.firstByte = time.Since(t0)
	if err == nil {
		var rest int64
		rest, err = io.Copy(io.Discard, res.Body)
		n += int(rest)
	}
	f.complete = time.Since(t0)
	f.cpu = processCPU() - cpu0
	f.heap = stop()
	f.size = int64(n)
	if err != nil || res.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: status %d after %d bytes: %v", url, res.StatusCode, n, err)
	}
	return f
}

// reportCases are the reports the benchmarks ask for: the status of the
// whole organisation and of one unit (storetest.ScaleUnit(17): 1,650
// people with a membership there), in each format, as of a day when most
// completions are recent.
var reportCases = []struct{ name, query string }{
	{"organisation/json", "format=json"},
	{"organisation/csv", "format=csv"},
	{"organisation/xlsx", "format=xlsx"},
	{"unit/json", "format=json&unit=" + storetest.ScaleUnit(17)},
	{"unit/csv", "format=csv&unit=" + storetest.ScaleUnit(17)},
	{"unit/xlsx", "format=xlsx&unit=" + storetest.ScaleUnit(17)},
}

// BenchmarkReports55k measures GET /api/v1/reports/status through HTTP,
// served as `lrs serve` serves it from SQLite, for the organisation at
// storetest.FullScale: the time to the first byte of the body and to its
// end, the CPU time, the size of the body and the peaks of the heap in use
// and of the live heap (see peakheap; client and server: one process)
// while it runs. Take the medians of three runs:
//
//	LRS_BENCH_REPORTING_DB=/tmp/lrs-bench.db go test -run '^$' -bench Reports55k -benchtime 3x -count 3 ./cmd/lrs/
func BenchmarkReports55k(b *testing.B) {
	benchReports(b, reportService(b, scaleSQLite(b)))
}

// BenchmarkReportsFerretDB measures the same reports served from the
// MongoDB backend on the in-process FerretDB, at sizes it can be filled at
// in minutes: organisations of 300 and 1,000 people with the facts per
// person of the full scale. FerretDB scans a collection for every find
// that is not by _id, so its time grows with the batches of a report
// times the documents; the backend's own work (commands and documents
// read) grows linearly, which mongo.TestReportCostIsLinear holds.
//
//	go test -run '^$' -bench ReportsFerretDB -benchtime 3x -timeout 60m ./cmd/lrs/
func BenchmarkReportsFerretDB(b *testing.B) {
	uri, stop, err := ferrettest.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stop)
	for _, people := range []int{300, 1000} {
		b.Run(fmt.Sprintf("people=%d", people), func(b *testing.B) {
			db, err := ferrettest.Database(uri)
			if err != nil {
				b.Fatal(err)
			}
			st, err := mongo.Open(context.Background(), db)
			if err != nil {
				b.Fatal(err)
			}
			scale := storetest.Scale{People: people, Statements: people * storetest.ScaleStatements / storetest.ScalePeople}
			start := time.Now()
			err = errors.Join(scale.Fill(context.Background(), st, auth.DefaultTenant), st.Close())
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("filled %d people, %d facts in %v", scale.People, scale.Statements, time.Since(start).Round(time.Second))
			benchReports(b, reportService(b, db))
		})
	}
}

func benchReports(b *testing.B, base string) {
	for _, tc := range reportCases {
		b.Run(tc.name, func(b *testing.B) {
			url := base + "/api/v1/reports/status?asOf=2025-10-15&" + tc.query
			fetch(b, url) // the first report of a day builds the roster's view of the day
			var sum fetched
			for b.Loop() {
				f := fetch(b, url)
				sum.firstByte += f.firstByte
				sum.complete += f.complete
				sum.cpu += f.cpu
				sum.size = f.size
				sum.heap.InUse = max(sum.heap.InUse, f.heap.InUse)
				sum.heap.Live = max(sum.heap.Live, f.heap.Live)
				sum.heap.GCs += f.heap.GCs
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(ms(sum.firstByte), "first-byte-ms")
			b.ReportMetric(ms(sum.complete), "complete-ms")
			// CPU time of the process (client and server): steadier than
			// wall time on a shared machine.
			b.ReportMetric(ms(sum.cpu), "cpu-ms")
			b.ReportMetric(float64(sum.size)/1e6, "MB")
			b.ReportMetric(float64(sum.heap.InUse)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(sum.heap.Live)/(1<<20), "peak-live-MiB")
			b.ReportMetric(float64(sum.heap.GCs)/float64(b.N), "gcs") // the samples of peak-live
		})
	}
}

// tooMuch tells whether a report of size bytes held more than a streaming
// export does: a workbook built in memory holds at least excelize's 16 MiB
// of rows and the file; a JSON or CSV file held whole, its size.
func tooMuch(format string, liveMiB float64, size int64) bool {
	return liveMiB > 12 || format != "xlsx" && liveMiB > float64(size)/2/(1<<20)
}

// TestReportExportsStream holds the memory of the status report of a
// whole organisation (20,000 people) in each format: the export streams,
// so the heap it holds stays a few megabytes, far less than the file it
// sends. The collector runs often meanwhile (GOGC 5), so that the peak of
// the live heap is sampled many times (see peakheap). Each person has few
// facts, so that the working set of a batch of people is small next to
// the output.
func TestReportExportsStream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lrs.db")
	if err := fillSQLite(path, storetest.Scale{People: 20_000, Statements: 80_000}); err != nil {
		t.Fatal(err)
	}
	base := reportService(t, path)
	for _, format := range []string{"json", "csv", "xlsx"} {
		url := base + "/api/v1/reports/status?asOf=2025-10-15&format=" + format
		fetch(t, url) // builds the roster's view of the day, which later reports share
		// Whatever else the process does meanwhile (a collection that
		// catches a connection's buffers, the runtime's own work) can only
		// add to the peak, while a report that holds its file holds it on
		// every try: the smallest peak of up to three tries is what the
		// report holds.
		var f fetched
		var live float64
		for try := 1; try <= 3; try++ {
			old := debug.SetGCPercent(5)
			f = fetch(t, url)
			debug.SetGCPercent(old)
			live = float64(f.heap.Live) / (1 << 20)
			t.Logf("%s (try %d): %.1f MB, peak live heap %.1f MiB over %d collections (in use %.1f MiB)",
				format, try, float64(f.size)/1e6, live, f.heap.GCs, float64(f.heap.InUse)/(1<<20))
			if !tooMuch(format, live, f.size) {
				break
			}
		}
		if f.heap.GCs < 3 {
			t.Errorf("%s: %d collections during the report: too few samples of the live heap", format, f.heap.GCs)
		}
		if tooMuch(format, live, f.size) {
			t.Errorf("%s: the live heap peaked at %.1f MiB for a file of %.1f MB: the report should hold a few batches of people, "+
				"not its file or the roster", format, live, float64(f.size)/1e6)
		}
	}
}
