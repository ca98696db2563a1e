package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/reporting/storetest"
	"github.com/xapi-lrs/lrs/sqlite"
	"github.com/xapi-lrs/lrs/statements"
)

// The scale of issue #5: 55,000 people in 50 units, the 8 KiNS modules
// and the four role rules, and the facts of 2,000,000 statements (every
// one of them projected, the worst case: real traffic has many statements
// the projection skips). Set LRS_BENCH_REPORTING_DB to a path to keep the
// filled database between runs (it takes a few minutes to fill).
const (
	rbPeople     = 55_000
	rbUnits      = 50
	rbStatements = 2_000_000
)

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
		db, err := sqlite.Open(path)
		if err != nil {
			rbFilled.err = err
			return
		}
		rbFilled.db = db
		if statErr == nil {
			return // filled by an earlier run
		}
		start := time.Now()
		rbFilled.err = fillReporting(db)
		fmt.Fprintf(os.Stderr, "filled the reporting store (%d people, %d facts) in %v\n", rbPeople, rbStatements, time.Since(start).Round(time.Second))
	})
	if rbFilled.err != nil {
		b.Fatal(rbFilled.err)
	}
	return rbFilled.db
}

func rbUnit(i int) string { return fmt.Sprintf("etat-%02d", i%rbUnits) }

var rbRoles = []string{"leder", "mobil", "mobil", "mobil", "adm", "adm", "adm", "adm", "sensitiv", "sensitiv"}

// rbModules are the modules each role's rule requires (see KiNSCatalog).
var rbModules = map[string][]int{
	"mobil": {1, 2, 3, 4, 8}, "adm": {1, 2, 3, 4, 5, 8}, "sensitiv": {1, 2, 3, 4, 5, 6, 8}, "leder": {1, 2, 3, 4, 5, 6, 7, 8},
}

// fillReporting writes the catalog, one roster import and the facts.
func fillReporting(db *sqlite.DB) error {
	ctx := context.Background()
	mods, rules, camp := storetest.KiNSCatalog()
	for _, m := range mods {
		if err := db.PutModule(ctx, "default", m); err != nil {
			return err
		}
	}
	for _, r := range rules {
		if err := db.PutRule(ctx, "default", r); err != nil {
			return err
		}
	}
	if err := db.PutCampaign(ctx, "default", camp); err != nil {
		return err
	}
	imp := &reporting.Import{Effective: reporting.MustDate("2025-01-01")}
	imp.Units = append(imp.Units, reporting.UnitIn{ID: "oslo", Name: "Oslo kommune", Managers: []string{"e000000"}})
	for u := range rbUnits {
		imp.Units = append(imp.Units, reporting.UnitIn{ID: rbUnit(u), Name: fmt.Sprintf("Etat %d", u), Parent: "oslo",
			Managers: []string{fmt.Sprintf("e%06d", u)}})
	}
	r := rand.New(rand.NewPCG(5, 5))
	for i := range rbPeople {
		p := reporting.PersonIn{ID: fmt.Sprintf("e%06d", i), Name: fmt.Sprintf("Ansatt %d Ødegård", i),
			Email:       fmt.Sprintf("ansatt%d@oslo.kommune.no", i),
			Identifiers: []map[string]any{{"account": map[string]any{"homePage": "https://kslaring.no", "name": fmt.Sprintf("ansatt%d", i)}}},
			Start:       reporting.MustDate("2010-01-01").AddDays(r.IntN(15 * 365)),
			Units:       []reporting.Assignment{{ID: rbUnit(i)}}, Roles: []reporting.Assignment{{ID: rbRoles[i%len(rbRoles)]}}}
		if i%20 == 0 {
			p.Units = append(p.Units, reporting.Assignment{ID: rbUnit(i + 7)})
		}
		imp.People = append(imp.People, p)
	}
	if _, err := db.ImportRoster(ctx, "default", imp, time.Date(2025, 1, 2, 6, 0, 0, 0, time.UTC)); err != nil {
		return err
	}

	// Each person gets rbStatements/rbPeople facts: for each required
	// module a launch, a completion, a pass (modules 5 and 6, with a
	// score) and a termination, a year apart per round.
	base := time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)
	var batch []reporting.Fact
	total := 0
	for i := range rbPeople {
		n := rbStatements / rbPeople
		if i < rbStatements%rbPeople {
			n++
		}
		keys := []string{fmt.Sprintf("mbox:mailto:ansatt%d@oslo.kommune.no", i), fmt.Sprintf("account:https://kslaring.no ansatt%d", i)}
		mods := rbModules[rbRoles[i%len(rbRoles)]]
		for k := 0; k < n; k++ {
			step := k % 4
			m := mods[(k/4)%len(mods)]
			round := k / (4 * len(mods))
			ts := base.Add(-time.Duration(round)*365*24*time.Hour - time.Duration(r.IntN(200*24))*time.Hour + time.Duration(step)*10*time.Minute)
			f := reporting.Fact{Statement: uuid.New(), Agent: keys[k%2], Name: fmt.Sprintf("Ansatt %d Ødegård", i),
				Activities: []string{storetest.KSLModule(m)}, Timestamp: ts, Stored: ts.Add(2 * time.Second)}
			switch step {
			case 1:
				f.Outcome = reporting.OutcomeCompleted
			case 2:
				f.Outcome = reporting.OutcomePassed
				f.HasScore, f.Score = true, 0.6+0.4*r.Float64()
			}
			batch = append(batch, f)
		}
		total += n
		if len(batch) >= 20_000 || i == rbPeople-1 {
			if err := db.AddFacts(ctx, "default", batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if total != rbStatements {
		return fmt.Errorf("generated %d facts, want %d", total, rbStatements)
	}
	return nil
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
	benchReport(b, reporting.Query{Units: []string{rbUnit(17)}})
}

// BenchmarkReportPerson: one person's rows.
func BenchmarkReportPerson(b *testing.B) {
	benchReport(b, reporting.Query{People: []string{"e031337"}})
}

// The ingest benchmarks compare inserting statements alone with inserting
// them and writing their projection, in the same transaction
// (InsertProjected) or after it (Insert, then AddFacts, as reporting.Ingest
// does): the statements are genRecord's LMS-like ones, 4 of 5 with a
// projected verb. Records and facts are made before the timer starts (the
// service has the parsed tree from validation; reporting.Project on it
// takes about a microsecond), so the figures compare the store's work.

// How the ingest benchmarks write the projection.
const (
	noProjection      = iota
	projectOneCommit  // InsertProjected: statements and facts in one transaction
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
				err = db.InsertProjected(ctx, c.recs, nil, c.facts, nil)
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
