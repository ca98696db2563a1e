package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/statements"
	"github.com/xapi-lrs/lrs/statements/storetest"
)

// TestErasedNewestKeepsItsSeq: a query that began before the newest
// statement was erased (deleted) and another was stored must not page into
// the new one: SQLite would give it the erased statement's seq, within the
// query's cursor. The row that holds the place is no tenant's.
func TestErasedNewestKeepsItsSeq(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	const tenant = "t1"
	base := time.Date(2026, 12, 8, 4, 0, 0, 0, time.UTC)
	rec := func(i int) *statements.Record {
		return &statements.Record{Tenant: tenant, ID: storetest.NewID(), Stored: base.Add(time.Duration(i) * time.Second),
			Timestamp: base, Authority: "lms", VerbID: "http://example.com/verbs/did", Hash: "h",
			Agents: []string{"mbox:mailto:a@example.com"}, JSON: []byte(`{}`)}
	}
	a, b, c := rec(1), rec(2), rec(3)
	for _, r := range []*statements.Record{a, b, c} {
		if err := db.Insert(ctx, []*statements.Record{r}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 2 { // the second erasure replaces the first one's row
		q := statements.Query{Tenant: tenant, Ascending: true, Limit: 1}
		p, err := db.Query(ctx, q)
		if err != nil || len(p.Records) != 1 || p.Cursor == "" {
			t.Fatalf("first page: %v, %v", p, err)
		}
		first := p.Records[0].ID
		if _, _, err := db.EditStatements(ctx, tenant, []privacy.StatementEdit{{ID: c.ID}}, nil); err != nil {
			t.Fatal(err)
		}
		d := rec(4 + round)
		if err := db.Insert(ctx, []*statements.Record{d}, nil); err != nil {
			t.Fatal(err)
		}
		got := []string{first}
		for q.Cursor = p.Cursor; q.Cursor != ""; q.Cursor = p.Cursor {
			if p, err = db.Query(ctx, q); err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Records {
				got = append(got, r.ID)
			}
		}
		want := []string{a.ID, b.ID}
		if len(got) != len(want) {
			t.Fatalf("round %d: a query begun before the erasure and the new statement gives %v, want %v", round, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("round %d: a query begun before the erasure and the new statement gives %v, want %v", round, got, want)
			}
		}
		c = d // the next round erases the newest again
	}
	// The place-holding row is no tenant's.
	p, err := db.Query(ctx, statements.Query{Tenant: tenant, Limit: 100})
	if err != nil || len(p.Records) != 3 {
		t.Errorf("the tenant has %d statements (%v), want 3", len(p.Records), err)
	}
}
