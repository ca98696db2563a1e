package mongo

import (
	"fmt"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/internal/lineartest"
	"github.com/xapi-lrs/lrs/statements"
)

// TestFacetsCostIsLinear: building the documents of a statement that names
// 16 times as many people and activities, and passing its facets on to a
// statement of the same batch that refers to it, costs about 16 times as
// much, not 256 times: union and minus go through maps for long lists.
func TestFacetsCostIsLinear(t *testing.T) {
	lineartest.Check(t, "mongo facets", 5000, func(n int) func() {
		now := time.Now().UTC()
		big := &statements.Record{Tenant: "t", ID: "00000000-0000-4000-8000-000000000001", Stored: now,
			Agents: []string{"mbox:mailto:a@example.com"}, RelatedAgents: make([]string, n), RelatedActivities: make([]string, n)}
		for i := range n {
			big.RelatedAgents[i] = fmt.Sprintf("mbox:mailto:m%d@example.com", i)
			big.RelatedActivities[i] = fmt.Sprintf("http://example.com/parent/%d", i)
		}
		ref := &statements.Record{Tenant: "t", ID: "00000000-0000-4000-8000-000000000002", Stored: now,
			Agents: []string{"mbox:mailto:b@example.com"}, RefID: big.ID}
		return func() {
			var docs []*stmtDoc
			for _, r := range []*statements.Record{big, ref} {
				doc, err := newStmtDoc(r, "batch")
				if err != nil {
					t.Fatal(err)
				}
				docs = append(docs, doc)
			}
			linkInBatch(docs)
			if add := docs[0].Facets.minus(docs[1].Facets); add.size() != 0 {
				t.Fatalf("the referring statement lacks %d of the facets of its target", add.size())
			}
			if got := len(docs[1].Facets.QRelActivities); got != n {
				t.Fatalf("the referring statement has %d related activities, want %d", got, n)
			}
		}
	})
}
