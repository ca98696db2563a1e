package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/sqlite"
	"github.com/xapi-lrs/lrs/statements"
)

// The insert benchmarks report statements/s; each statement is about 1.2 KB
// of JSON with 9 index entries, committed durably.

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// reportRate reports statements/s and the process CPU time per statement
// since start (the latter does not depend on what else runs on the machine).
func reportRate(b *testing.B, statements int, start time.Duration) {
	b.ReportMetric(float64(statements)/b.Elapsed().Seconds(), "stmts/s")
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(statements), "cpu-µs/stmt")
}

// cpuTime returns the user and system CPU time of the process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkInsertSingleParallel: 16 goroutines each inserting one statement
// per call, sharing commits through the group-commit writer.
func BenchmarkInsertSingleParallel(b *testing.B) {
	db := MustOpen(b)
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(max(1, 16/runtimeProcs()))
	cpu := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1))
			if err := db.Insert(ctx, []*statements.Record{genRecord("default", i, time.Now().UTC())}, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, b.N, cpu)
}

// BenchmarkInsertBatch100: one caller inserting 100 statements per call.
func BenchmarkInsertBatch100(b *testing.B) {
	db := MustOpen(b)
	ctx := context.Background()
	i := 0
	cpu := cpuTime()
	for b.Loop() {
		b.StopTimer()
		recs := genRecords("default", i, 100)
		i += 100
		b.StartTimer()
		if err := db.Insert(ctx, recs, nil); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, b.N*100, cpu)
}

// BenchmarkInsertBatch100Parallel: 4 callers inserting 100 statements per
// call.
func BenchmarkInsertBatch100Parallel(b *testing.B) {
	db := MustOpen(b)
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(max(1, 4/runtimeProcs()))
	cpu := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1))
			if err := db.Insert(ctx, genRecords("default", i*100, 100), nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, b.N*100, cpu)
}

// BenchmarkRawInsert is the ceiling for the above: the same records and
// SQL, 100 per transaction, without the group-commit queue.
func BenchmarkRawInsert(b *testing.B) {
	db := MustOpen(b)
	ctx := context.Background()
	i := 0
	cpu := cpuTime()
	for b.Loop() {
		b.StopTimer()
		recs := genRecords("default", i, 100)
		i += 100
		b.StartTimer()
		if err := db.RawInsert(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, b.N*100, cpu)
}

// filled is a database of benchFill statements shared by the query
// benchmarks; it lives until the test binary exits.
var filled struct {
	once sync.Once
	db   *sqlite.DB
	err  error
}

const benchFill = 100_000

func filledDB(b *testing.B) *sqlite.DB {
	filled.once.Do(func() {
		dir, err := os.MkdirTemp("", "lrs-bench-")
		if err != nil {
			filled.err = err
			return
		}
		benchDirs = append(benchDirs, dir)
		db, err := sqlite.Open(filepath.Join(dir, "lrs.db"))
		if err != nil {
			filled.err = err
			return
		}
		start := time.Now()
		for i := 0; i < benchFill; i += 1000 {
			if err := db.RawInsert(context.Background(), genRecords("default", i, 1000)); err != nil {
				filled.err = err
				return
			}
		}
		fmt.Fprintf(os.Stderr, "filled %d statements in %v\n", benchFill, time.Since(start).Round(time.Millisecond))
		filled.db = db
	})
	if filled.err != nil {
		b.Fatal(filled.err)
	}
	return filled.db
}

var benchDirs []string

func TestMain(m *testing.M) {
	code := m.Run()
	if filled.db != nil {
		filled.db.Close()
	}
	for _, d := range benchDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

func benchQuery(b *testing.B, q func(i int) statements.Query) {
	db := filledDB(b)
	ctx := context.Background()
	rows := 0
	i := 0
	for b.Loop() {
		p, err := db.Query(ctx, q(i))
		if err != nil {
			b.Fatal(err)
		}
		rows += len(p.Records)
		i++
	}
	if rows == 0 {
		b.Fatal("no results")
	}
	b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
}

// BenchmarkQueryByAgent: one learner's statements, newest first, 10 per page.
func BenchmarkQueryByAgent(b *testing.B) {
	benchQuery(b, func(i int) statements.Query {
		return statements.Query{Tenant: "default", Agent: learnerKey((i * 7919) % genLearners), Limit: 10}
	})
}

// BenchmarkQueryByActivity: a course's statements, newest first, 100 per page.
func BenchmarkQueryByActivity(b *testing.B) {
	benchQuery(b, func(i int) statements.Query {
		return statements.Query{Tenant: "default", Activity: courseID((i * 31) % genCourses), Limit: 100}
	})
}

// BenchmarkQueryByActivityVerb: a course's completions (two filters).
func BenchmarkQueryByActivityVerb(b *testing.B) {
	benchQuery(b, func(i int) statements.Query {
		return statements.Query{Tenant: "default", Activity: courseID((i * 31) % genCourses),
			Verb: "http://adlnet.gov/expapi/verbs/completed", Limit: 100}
	})
}

// BenchmarkQueryAll: the newest statements, 100 per page.
func BenchmarkQueryAll(b *testing.B) {
	benchQuery(b, func(i int) statements.Query { return statements.Query{Tenant: "default", Limit: 100} })
}
