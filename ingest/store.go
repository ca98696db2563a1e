package ingest

import (
	"context"

	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// Unit is one unit of work of the ingest: statements completed and
// indexed, with everything derived from them, written together. The
// records are all of one tenant.
type Unit struct {
	Tenant      string
	Records     []*statements.Record
	Attachments []statements.Attachment
	// Facts and Retractions are the statements' completion projection
	// (reporting.Projection; none with reporting off).
	Facts       []reporting.Fact
	Retractions []reporting.Retraction
	// Definitions are the activity definitions the statements carry, by
	// activity id, merged in statement order: each is merged into the
	// canonical definition of its activity (statements.MergeDefinition).
	Definitions map[string]map[string]any
}

// Store is where the Service writes: a statements.Store whose Commit writes
// a whole unit. Every backend has it (package sqlite and package mongo;
// package reporting/storetest holds the contract), and every decorator of
// a Store forwards it, so the service takes the same path on each.
//
// Commit stores u.Records and u.Attachments exactly as Insert does, the
// facts of the records it stores and the retractions, and the
// definitions:
//
//   - with transactions (SQLite) all of it is committed together, with one
//     durable commit: when it fails, none of it is stored, and no moment
//     exists when a statement is stored without its projection or the
//     definitions it brought; the facts of statements stored before (a
//     retried request) are left out;
//   - without (MongoDB), the statements are committed first, then the
//     projection (reporting.WriteProjection: immutable, keyed records, so
//     writing them again changes nothing) and the definitions. When that
//     fails the statements may be stored without them; calling again with
//     the same unit completes it, and a projection rebuild repairs it.
//
// Definitions that change nothing cost no write (and, once the store has
// seen the activity, no read: see statements.DefinitionCache).
type Store interface {
	statements.Store
	Commit(ctx context.Context, u *Unit) error
}
