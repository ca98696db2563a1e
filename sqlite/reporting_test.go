package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/internal/sqlitefault"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/reporting/storetest"
	"github.com/xapi-lrs/lrs/statements"
)

func TestReporting(t *testing.T) {
	storetest.Run(t, func(t *testing.T) reporting.Store { return MustOpen(t) })
}

func TestKiNS(t *testing.T) {
	storetest.RunKiNS(t, func(t *testing.T) (reporting.Store, storetest.IngestStore) {
		db := MustOpen(t)
		return db, db
	})
}

func TestIngest(t *testing.T) {
	storetest.RunIngest(t, func(t *testing.T) (reporting.Store, storetest.IngestStore) {
		db := MustOpen(t)
		return db, db
	})
}

// TestCommitRollsBack: when the write of the facts fails inside
// Commit's transaction (a trigger on the facts table, as a full
// disk would), the statements of the call are not stored either; the
// statements alone still go in by Insert, which the service falls back
// to; once the fault is gone, the same call stores both.
func TestCommitRollsBack(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	project := func(recs []*statements.Record) []reporting.Fact {
		var facts []reporting.Fact
		for _, r := range recs {
			fs, err := reporting.ProjectRecord(r)
			if err != nil {
				t.Fatal(err)
			}
			facts = append(facts, fs...)
		}
		if len(facts) == 0 {
			t.Fatal("the generated statements project to no facts")
		}
		return facts
	}
	count := func(recs []*statements.Record) (stored, facts int) {
		t.Helper()
		var agents []string
		for _, r := range recs {
			switch _, err := db.Get(ctx, "default", r.ID); {
			case err == nil:
				stored++
			case !errs.Is(err, errs.NotFound):
				t.Fatal(err)
			}
			agents = append(agents, r.Agents...)
		}
		err := db.Facts(ctx, "default", agents, func(_ string, fs []reporting.Fact) error {
			for _, f := range fs {
				for _, r := range recs {
					if f.Statement.String() == r.ID {
						facts++
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return stored, facts
	}

	failing, alone := genRecords("default", 0, 3), genRecords("default", 3, 2)
	restore := sqlitefault.FailWrites(t, db.Path(), "rp_fact_chunks")
	defs := map[string]map[string]any{"http://example.com/course": {"name": map[string]any{"en": "Course"}}}
	err := db.Commit(ctx, &ingest.Unit{Tenant: "default", Records: failing, Facts: project(failing), Definitions: defs})
	if err == nil || !strings.Contains(err.Error(), sqlitefault.Message) {
		t.Fatalf("Commit with the facts table failing: %v, want the injected failure", err)
	}
	if stored, facts := count(failing); stored != 0 || facts != 0 {
		t.Errorf("after a failed Commit: %d statements and %d facts stored, want none", stored, facts)
	}
	if def, err := db.Activity(ctx, "default", "http://example.com/course"); !errs.Is(err, errs.NotFound) {
		t.Errorf("after a failed Commit: definition %v, %v; want none", def, err)
	}
	if err := db.Insert(ctx, alone, nil); err != nil {
		t.Fatalf("Insert with the facts table failing: %v", err)
	}
	if stored, _ := count(alone); stored != len(alone) {
		t.Errorf("Insert with the facts table failing stored %d statements of %d", stored, len(alone))
	}

	restore()
	want := project(failing)
	if err := db.Commit(ctx, &ingest.Unit{Tenant: "default", Records: failing, Facts: want, Definitions: defs}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Activity(ctx, "default", "http://example.com/course"); err != nil {
		t.Errorf("after the fault: definition: %v", err) // not skipped as cached by the failed call
	}
	if stored, facts := count(failing); stored != len(failing) || facts != len(want) {
		t.Errorf("after the fault: %d statements and %d facts stored, want %d and %d", stored, facts, len(failing), len(want))
	}
}

// TestReportBatches runs reports of more people than one batch, so that
// several goroutines read facts while rows are evaluated, and checks every
// row against how the data was made.
func TestReportBatches(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	mods, rules, _ := storetest.KiNSCatalog()
	for _, m := range mods {
		if err := db.PutModule(ctx, "t", m); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range rules {
		if err := db.PutRule(ctx, "t", r); err != nil {
			t.Fatal(err)
		}
	}
	const people = 2500
	imp := &reporting.Import{Effective: reporting.MustDate("2025-01-01"),
		Units: []reporting.UnitIn{{ID: "root", Name: "Root"}, {ID: "a", Name: "A", Parent: "root"}, {ID: "b", Name: "B", Parent: "root"}}}
	var facts []reporting.Fact
	base := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
	for i := range people {
		unit := []string{"a", "b"}[i%2]
		imp.People = append(imp.People, reporting.PersonIn{ID: fmt.Sprintf("p%04d", i), Name: fmt.Sprintf("Person %d", i),
			Email: fmt.Sprintf("p%d@kommune.no", i), Start: reporting.MustDate("2024-01-01"),
			Units: []reporting.Assignment{{ID: unit}}, Roles: []reporting.Assignment{{ID: "mobil"}}})
		// Person i completed module 1 if i%3 == 0 and module 2 if i%5 == 0.
		for _, m := range []int{1, 2} {
			if (m == 1 && i%3 == 0) || (m == 2 && i%5 == 0) {
				facts = append(facts, reporting.Fact{Statement: uuid.New(), Agent: fmt.Sprintf("mbox:mailto:p%d@kommune.no", i),
					Activities: []string{storetest.KSLModule(m)}, Outcome: reporting.OutcomeCompleted,
					Timestamp: base.Add(time.Duration(i) * time.Minute), Stored: base.Add(time.Duration(i) * time.Minute)})
			}
		}
	}
	if _, err := db.ImportRoster(ctx, "t", imp, time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if err := db.AddFacts(ctx, "t", facts); err != nil {
		t.Fatal(err)
	}
	// A consumer that stops early (a client gone) ends the report with its
	// error, and the next report is whole.
	stop := errors.New("stop")
	n := 0
	_, err := reporting.Report(ctx, db, "t", reporting.Query{}, func(*reporting.Row) error {
		if n++; n == 100 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("report stopped by its consumer: %v", err)
	}
	for _, q := range []reporting.Query{{}, {Units: []string{"a"}}} {
		q.AsOf = time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
		n, last := 0, ""
		sum, err := reporting.Report(ctx, db, "t", q, func(r *reporting.Row) error {
			var i int
			fmt.Sscanf(r.Person, "p%d", &i)
			want := reporting.StatusOverdue
			if (r.Module == "kins-1" && i%3 == 0) || (r.Module == "kins-2" && i%5 == 0) {
				want = reporting.StatusCompleted
			}
			if r.Status != want {
				t.Errorf("%s %s: %s, want %s", r.Person, r.Module, r.Status, want)
			}
			if r.Person < last {
				t.Errorf("row of %s after %s", r.Person, last)
			}
			last = r.Person
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		wantPeople := people
		if len(q.Units) > 0 {
			wantPeople = people / 2
		}
		if n != 5*wantPeople || sum.People != wantPeople {
			t.Errorf("units %v: %d rows of %d people, want %d of %d", q.Units, n, sum.People, 5*wantPeople, wantPeople)
		}
	}
}
