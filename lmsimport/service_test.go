package lmsimport_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/lmsimport"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/sqlite"
	"github.com/xapi-lrs/lrs/statements"
)

// lateLookups is the statements of a store as an import that races
// another sees them: the first lookup of each id finds nothing, as if
// the other import stored it just after.
type lateLookups struct {
	db   *sqlite.DB
	mu   sync.Mutex
	seen map[string]bool
}

func (l *lateLookups) Get(ctx context.Context, tenant, id string) (*statements.Record, error) {
	l.mu.Lock()
	first := !l.seen[id]
	l.seen[id] = true
	l.mu.Unlock()
	if first {
		return nil, errs.E(errs.NotFound, "no statement %s", id)
	}
	return l.db.Get(ctx, tenant, id)
}

// TestServiceStores imports through a real ingest service into SQLite:
// in batches of the ingest's size, all rows stored with their completion
// facts; a second import of an overlapping file stores only what is new;
// and one that loses a race to another import (its statements stored
// between its lookup and its write, with other provenance) counts them as
// already recorded instead of failing with a conflict.
func TestServiceStores(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "lrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	var people []string
	for i := range 5 {
		people = append(people, fmt.Sprintf(`{"id":"p%d","name":"P %d","email":"p%d@kommune.no"}`, i, i, i))
	}
	imp, err := reporting.ParseImportJSON([]byte(`{"people":[` + strings.Join(people, ",") + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ImportRoster(ctx, "default", imp, now); err != nil {
		t.Fatal(err)
	}
	if err := db.PutModule(ctx, "default", &reporting.Module{ID: "m1", Title: map[string]string{"nb": "Modul"},
		Activities: []string{"https://lms.example/m1"}, Completion: reporting.Completed}); err != nil {
		t.Fatal(err)
	}
	in := ingest.New(ingest.Config{Store: db, Facts: db, MaxBatch: 2})
	svc := func(stmts reporting.StatementGetter) *lmsimport.Service {
		return lmsimport.NewService(lmsimport.Config{Ingest: in, Statements: stmts, Source: db, Batch: 2,
			Now: func() time.Time { return now }})
	}
	w := ingest.Writer{Tenant: "default", Key: "hr", Home: "https://lrs.example"}
	file := func(from, to int, extra string) []byte {
		var b strings.Builder
		b.WriteString("E-post;Kurs;Status;Dato" + extra + "\n")
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, "p%d@kommune.no;m1;Fullført;0%d.05.2025%s\n", i, i+1, strings.Repeat(";", strings.Count(extra, ";")))
		}
		return []byte(b.String())
	}

	res, err := svc(db).Import(ctx, lmsimport.Request{Writer: w, Data: file(0, 3, "")})
	if err != nil || res.Recorded != 3 || res.AlreadyRecorded != 0 {
		t.Fatalf("the first file: %+v, %v", res, err)
	}
	n := 0
	if err := db.Facts(ctx, "default", nil, func(agent string, facts []reporting.Fact) error {
		n += len(facts)
		return nil
	}); err != nil || n != 3 {
		t.Errorf("%d facts (%v), want 3", n, err)
	}

	// An overlapping export (another file: an extra column), rows 1 to 4.
	res, err = svc(db).Import(ctx, lmsimport.Request{Writer: w, Data: file(1, 5, ";Enhet")})
	if err != nil || res.Recorded != 2 || res.AlreadyRecorded != 2 || len(res.Statements) != 4 {
		t.Fatalf("the overlapping file: %+v, %v", res, err)
	}

	// A third export, racing: its lookups come too early.
	res, err = svc(&lateLookups{db: db, seen: map[string]bool{}}).Import(ctx, lmsimport.Request{Writer: w, Data: file(0, 5, ";Enhet;Rolle")})
	if err != nil || res.Recorded != 0 || res.AlreadyRecorded != 5 {
		t.Fatalf("the racing import: %+v, %v", res, err)
	}
	for _, id := range res.Statements {
		rec, err := db.Get(ctx, "default", id)
		if err != nil || strings.Contains(string(rec.JSON), res.SHA256) {
			t.Errorf("statement %s (%v) has the losing import's provenance: %s", id, err, rec.JSON)
		}
	}
}
