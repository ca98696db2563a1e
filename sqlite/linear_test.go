package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/internal/lineartest"
	"github.com/xapi-lrs/lrs/statements"
)

// TestInsertCostIsLinear: storing a statement that names 16 times as many
// people and activities, and a statement referring to it (which inherits
// them all), costs about 16 times as much, not 256 times: the facets are
// de-duplicated and compared through sets, inside the write transaction.
func TestInsertCostIsLinear(t *testing.T) {
	ctx := context.Background()
	lineartest.Check(t, "sqlite Insert", 5000, func(n int) func() {
		db := MustOpen(t)
		now := time.Now().UTC()
		big := genRecord("default", 1, now)
		big.RelatedAgents = make([]string, n)
		big.RelatedActivities = make([]string, n)
		for i := range n {
			big.RelatedAgents[i] = fmt.Sprintf("mbox:mailto:m%d@example.com", i)
			big.RelatedActivities[i] = fmt.Sprintf("http://example.com/parent/%d", i)
		}
		ref := genRecord("default", 2, now)
		ref.RefID = big.ID
		return func() {
			if err := db.Insert(ctx, []*statements.Record{big}, nil); err != nil {
				t.Fatal(err)
			}
			if err := db.Insert(ctx, []*statements.Record{ref}, nil); err != nil {
				t.Fatal(err)
			}
			// The referring statement matches the big one's activities.
			p, err := db.Query(ctx, statements.Query{Tenant: "default", Activity: big.RelatedActivities[n-1], RelatedActivities: true})
			if err != nil || len(p.Records) != 2 {
				t.Fatalf("query by an inherited activity: %d records, %v", len(p.Records), err)
			}
		}
	})
}
