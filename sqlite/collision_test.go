package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/statements"
)

// TestKeyCollisions plants facet rows that point the key of an agent at
// statements without that agent, as a collision of the 64-bit keys would:
// queries must still return exactly the matching statements, in order,
// through every page.
func TestKeyCollisions(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "lrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	const x = "mbox:mailto:x@example.com"
	base := time.Now().UTC().Add(-time.Hour)
	var recs []*statements.Record
	var want []string // statements with x as actor or related agent, newest first
	for i := range 30 {
		r := &statements.Record{Tenant: "default", ID: fmt.Sprintf("s%02d", i), Stored: base.Add(time.Duration(i) * time.Second),
			Timestamp: base, VerbID: "v", Agents: []string{fmt.Sprintf("mbox:mailto:a%d@example.com", i)}, Hash: "h", JSON: []byte("{}")}
		switch i % 5 {
		case 0:
			r.Agents = []string{x}
		case 1:
			r.RelatedAgents = []string{x}
		}
		if i%5 <= 1 {
			want = append(want, r.ID)
		}
		recs = append(recs, r)
	}
	slices.Reverse(want)
	if err := db.Insert(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}
	// Colliding rows: the agent key and the related-agent key of x on
	// statements that have neither, many in a row.
	err = db.w.do(ctx, 1, nil, func(tx *wtx) error {
		for i, r := range recs {
			if i%5 <= 1 {
				continue
			}
			kind := kindAgent
			if i%2 == 0 {
				kind = kindAgentRelated
			}
			tx.addFacets("default", r.Stored.UnixNano(), int64(i+1), facets{{kind, x}})
		}
		return tx.flushFacets()
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{1, 2, 3, 5, 100} {
		for _, asc := range []bool{false, true} {
			q := statements.Query{Tenant: "default", Agent: x, RelatedAgents: true, Limit: limit, Ascending: asc}
			var got []string
			for {
				p, err := db.Query(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range p.Records {
					got = append(got, r.ID)
				}
				if p.Cursor == "" {
					break
				}
				q.Cursor = p.Cursor
			}
			w := slices.Clone(want)
			if asc {
				slices.Reverse(w)
			}
			if !slices.Equal(got, w) {
				t.Errorf("limit %d ascending %v:\n got  %v\n want %v", limit, asc, got, w)
			}
		}
	}
}
