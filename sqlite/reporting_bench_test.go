package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/reporting/storetest"
	"github.com/xapi-lrs/lrs/sqlite"
	"github.com/xapi-lrs/lrs/statements"
)

// The organisation at scale (storetest.FillScale): 55,000 people in 50
// units, the 8 KiNS modules and the four role rules, and the facts of
// 2,000,000 statements. Set LRS_BENCH_REPORTING_DB to a path to keep the
// filled database between runs (it takes a few minutes to fill), and
// LRS_BENCH_FACTS_CACHE=off to read it without the facts cache.
var rbFilled struct {
	once sync.Once
	db   *sqlite.DB
	err  error
}

func reportingDB(b *testing.B) *sqlite.DB {
	rbFilled.once.Do(func() {
		path := os.Getenv("LRS_BENCH_REPORTING_DB")
		if path == "" {
			dir, err := os.MkdirTemp("", "lrs-bench-reporting-")
			if err != nil {
				rbFilled.err = err
				return
			}
			benchDirs = append(benchDirs, dir)
			path = filepath.Join(dir, "lrs.db")
		}
		_, statErr := os.Stat(path)
		var opts sqlite.Options
		if os.Getenv("LRS_BENCH_FACTS_CACHE") == "off" {
			opts.FactsCache = -1
		}
		db, err := sqlite.OpenWith(path, opts)
		if err != nil {
			rbFilled.err = err
			return
		}
		rbFilled.db = db
		if statErr == nil {
			return // filled by an earlier run
		}
		start := time.Now()
		rbFilled.err = storetest.FillScale(context.Background(), db, "default")
		fmt.Fprintf(os.Stderr, "filled the reporting store (%d people, %d facts) in %v\n",
			storetest.ScalePeople, storetest.ScaleStatements, time.Since(start).Round(time.Second))
	})
	if rbFilled.err != nil {
		b.Fatal(rbFilled.err)
	}
	return rbFilled.db
}

func benchReport(b *testing.B, q reporting.Query) {
	db := reportingDB(b)
	ctx := context.Background()
	q.AsOf = time.Date(2025, 10, 15, 12, 0, 0, 0, time.UTC)
	rows := 0
	statuses := map[reporting.Status]int{}
	cpu := cpuTime()
	for b.Loop() {
		rows = 0
		clear(statuses)
		_, err := reporting.Report(ctx, db, "default", q, func(r *reporting.Row) error {
			rows++
			statuses[r.Status]++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if rows == 0 || statuses[reporting.StatusCompleted] == 0 {
		b.Fatalf("rows %d, statuses %v", rows, statuses)
	}
	b.ReportMetric(float64(rows), "rows/op")
	// Process CPU time: steadier than wall time on a shared machine (the
	// report uses both cores, so wall time can be lower).
	b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(db.FactsCacheStats().Bytes)/(1<<20), "cache-MiB")
}

// BenchmarkReportOrganisation: the compliance status of all 55,000 people.
func BenchmarkReportOrganisation(b *testing.B) { benchReport(b, reporting.Query{}) }

// BenchmarkReportOrganisationCold: the same on a database just opened,
// whose roster and other caches are not loaded yet (the first report after
// a restart).
func BenchmarkReportOrganisationCold(b *testing.B) {
	path := reportingDB(b).Path()
	ctx := context.Background()
	q := reporting.Query{Options: reporting.Options{AsOf: time.Date(2025, 10, 15, 12, 0, 0, 0, time.UTC)}}
	cpu := cpuTime()
	for b.Loop() {
		db, err := sqlite.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		rows := 0
		if _, err := reporting.Report(ctx, db, "default", q, func(*reporting.Row) error { rows++; return nil }); err != nil {
			b.Fatal(err)
		}
		if err := db.Close(); err != nil || rows == 0 {
			b.Fatal(err, rows)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// BenchmarkReportUnit: the compliance status of one unit (1,100 people,
// and those with a second membership there).
func BenchmarkReportUnit(b *testing.B) {
	benchReport(b, reporting.Query{Units: []string{storetest.ScaleUnit(17)}})
}

// BenchmarkReportPerson: one person's rows.
func BenchmarkReportPerson(b *testing.B) {
	benchReport(b, reporting.Query{People: []string{"e031337"}})
}

// benchTrend measures the monthly trend of the overview page (12 days,
// reporting.Trend) against the same twelve reports one by one.
func benchTrend(b *testing.B, q reporting.Query) {
	db := reportingDB(b)
	ctx := context.Background()
	days := reporting.MonthEnds(reporting.MustDate("2025-10-15"), 12)
	for _, each := range []bool{false, true} {
		name := "Trend"
		if each {
			name = "Reports"
		}
		b.Run(name, func(b *testing.B) {
			cpu := cpuTime()
			var people int
			for b.Loop() {
				people = 0
				if !each {
					sums, err := reporting.Trend(ctx, db, "default", q, days)
					if err != nil {
						b.Fatal(err)
					}
					for _, s := range sums {
						people += s.People
					}
					continue
				}
				for _, d := range days {
					rq := q
					rq.AsOf = d.AddDays(1).Start(time.UTC).Add(-time.Nanosecond)
					s, err := reporting.Report(ctx, db, "default", rq, func(*reporting.Row) error { return nil })
					if err != nil {
						b.Fatal(err)
					}
					people += s.People
				}
			}
			if people == 0 {
				b.Fatal("nobody in the trend")
			}
			b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkTrendOrganisation: the monthly trend of all 55,000 people.
func BenchmarkTrendOrganisation(b *testing.B) { benchTrend(b, reporting.Query{}) }

// BenchmarkTrendUnit: the monthly trend of one unit.
func BenchmarkTrendUnit(b *testing.B) {
	benchTrend(b, reporting.Query{Units: []string{storetest.ScaleUnit(17)}})
}

// BenchmarkPartialImport55k measures the daily delta an HR system sends: a
// partial roster import of one change against the roster of 55,000 people
// (storetest.ScaleRoster, without facts), each iteration undoing the
// previous one's change:
//
//	unit         one unit listed, its manager changed
//	person       one person listed, moved to another unit
//	unit-people  the 1,100 people of one unit listed, one of them moved
//	person-cold  person, through a second handle on the database that
//	             never reads the roster (as the command line's import):
//	             without the roster in memory
//
// reread-ms/op is the time of the first roster read after the import (what
// the next report pays on top of its own work).
func BenchmarkPartialImport55k(b *testing.B) {
	db := MustOpen(b)
	cold, err := sqlite.Open(db.Path())
	if err != nil {
		b.Fatal(err)
	}
	defer cold.Close()
	ctx := context.Background()
	full := storetest.ScaleRoster()
	start := time.Now()
	if _, err := db.ImportRoster(ctx, "default", full, storetest.ScaleRosterTime); err != nil {
		b.Fatal(err)
	}
	b.Logf("the complete import of %d people took %v", len(full.People), time.Since(start).Round(time.Millisecond))
	if err := db.WarmReporting(ctx, "default"); err != nil { // as lrs serve does at start
		b.Fatal(err)
	}
	now := storetest.ScaleRosterTime
	person := func(i int) reporting.PersonIn { return full.People[i] }
	moved := func(i int) func(k int) *reporting.Import {
		return func(k int) *reporting.Import {
			p := person(i)
			p.Units = []reporting.Assignment{{ID: storetest.ScaleUnit(i + k%2)}}
			return &reporting.Import{Partial: true, People: []reporting.PersonIn{p}}
		}
	}
	for _, tc := range []struct {
		name  string
		db    *sqlite.DB
		delta func(k int) *reporting.Import
	}{
		{"unit", db, func(k int) *reporting.Import {
			u := full.Units[1+17]
			u.Managers = []string{storetest.ScalePerson(17 + 50*(k%2))}
			return &reporting.Import{Partial: true, Units: []reporting.UnitIn{u}}
		}},
		{"person", db, moved(31337)},
		{"unit-people", db, func(k int) *reporting.Import {
			imp := &reporting.Import{Partial: true}
			for i := 17; i < len(full.People); i += storetest.ScaleUnits {
				p := person(i)
				if i == 31317 {
					p.Units = []reporting.Assignment{{ID: storetest.ScaleUnit(i + k%2)}}
				}
				imp.People = append(imp.People, p)
			}
			return imp
		}},
		{"person-cold", cold, moved(31338)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var reread time.Duration
			k := 0 // each odd import makes the change, each even one undoes it
			for b.Loop() {
				k++
				now = now.Add(time.Hour)
				rec, err := tc.db.ImportRoster(ctx, "default", tc.delta(k), now)
				if err != nil {
					b.Fatal(err)
				}
				if len(rec.Changes) == 0 || len(rec.Changes) > 4 {
					b.Fatalf("import %d: %d changes, want 1 to 4: %+v", rec.ID, len(rec.Changes), rec.Changes)
				}
				if tc.db == cold {
					continue
				}
				b.StopTimer()
				t0 := time.Now()
				if _, err := db.RosterRows(ctx, "default", reporting.RosterFilter{People: []string{storetest.ScalePerson(1)}}); err != nil {
					b.Fatal(err)
				}
				reread += time.Since(t0)
				b.StartTimer()
			}
			b.ReportMetric(float64(reread.Microseconds())/1e3/float64(b.N), "reread-ms/op")
		})
	}
}

// The ingest benchmarks compare inserting statements alone with inserting
// them and writing their projection, in the same transaction
// (Commit) or after it (Insert, then AddFacts, as reporting.Ingest
// does): the statements are genRecord's LMS-like ones, 4 of 5 with a
// projected verb. Records and facts are made before the timer starts (the
// service has the parsed tree from validation; reporting.Project on it
// takes about a microsecond), so the figures compare the store's work.

// How the ingest benchmarks write the projection.
const (
	noProjection      = iota
	projectOneCommit  // Commit: statements and facts in one transaction
	projectTwoCommits // Insert, then AddFacts
)

func ingestBench(b *testing.B, size int, mode int) {
	db := MustOpen(b)
	ctx := context.Background()
	type call struct {
		recs  []*statements.Record
		facts []reporting.Fact
	}
	calls := make([]call, b.N)
	for i := range calls {
		calls[i].recs = genRecords("default", i*size, size)
		if mode != noProjection {
			for _, r := range calls[i].recs {
				fs, err := reporting.ProjectRecord(r)
				if err != nil {
					b.Fatal(err)
				}
				calls[i].facts = append(calls[i].facts, fs...)
			}
		}
	}
	var n atomic.Int64
	clients := 4
	if size == 1 {
		clients = 16
	}
	b.SetParallelism(max(1, clients/runtimeProcs()))
	cpu := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c := calls[n.Add(1)-1]
			var err error
			switch {
			case mode == projectTwoCommits:
				if err = db.Insert(ctx, c.recs, nil); err == nil {
					err = db.AddFacts(ctx, "default", c.facts)
				}
			case mode == projectOneCommit:
				err = db.Commit(ctx, &ingest.Unit{Tenant: "default", Records: c.recs, Facts: c.facts})
			default:
				err = db.Insert(ctx, c.recs, nil)
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b, b.N*size, cpu)
}

func BenchmarkIngestBatch100(b *testing.B)          { ingestBench(b, 100, noProjection) }
func BenchmarkIngestBatch100Projected(b *testing.B) { ingestBench(b, 100, projectOneCommit) }
func BenchmarkIngestBatch100ProjectedTwoCommits(b *testing.B) {
	ingestBench(b, 100, projectTwoCommits)
}
func BenchmarkIngestSingle(b *testing.B)          { ingestBench(b, 1, noProjection) }
func BenchmarkIngestSingleProjected(b *testing.B) { ingestBench(b, 1, projectOneCommit) }
