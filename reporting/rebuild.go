package reporting

import (
	"context"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// ProjectionStore is the part of Store a rebuild writes.
type ProjectionStore interface {
	FactWriter
	ResetFacts(ctx context.Context, tenant string) error
}

// Rebuild recomputes the projection of tenant from its stored statements:
// it deletes the projection, then projects every statement in stored
// order, a page at a time, with the statements each voiding statement
// voids (which queries leave out) and the retractions, so that the result
// equals what ingestion built. It returns the number of statements read.
// Reports made while it runs see a partial projection.
func Rebuild(ctx context.Context, stmts statements.Store, proj ProjectionStore, tenant string) (int, error) {
	if err := proj.ResetFacts(ctx, tenant); err != nil {
		return 0, err
	}
	q := statements.Query{Tenant: tenant, Limit: 1000, Ascending: true}
	n := 0
	for {
		page, err := stmts.Query(ctx, q)
		if err != nil {
			return n, err
		}
		recs := page.Records
		for _, rec := range page.Records {
			if rec.Voids == "" {
				continue
			}
			// The voided target is not in query results; its facts are
			// projected too (and retracted), so that a report as known
			// before the voiding still counts them.
			target, err := stmts.Get(ctx, tenant, rec.Voids)
			switch {
			case errs.Is(err, errs.NotFound):
			case err != nil:
				return n, err
			case target.Voids == "":
				recs = append(recs, target)
			}
		}
		if err := Ingest(ctx, proj, tenant, recs, nil); err != nil {
			return n, err
		}
		n += len(page.Records)
		if page.Cursor == "" {
			return n, nil
		}
		q.Cursor = page.Cursor
	}
}
