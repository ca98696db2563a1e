// Package mongo is the MongoDB backend of the LRS: *DB implements
// statements.Store and auth.CredentialStore on a replica set or sharded
// cluster through the official driver (go.mongodb.org/mongo-driver/v2).
//
// Its tests run against an in-process FerretDB v1.24 (a MongoDB wire-protocol
// server on SQLite) and, when LRS_TEST_MONGODB_URI is set, a real MongoDB.
// FerretDB gets transactions, $lookup, $facet, $expr, partial and TTL
// indexes, $elemMatch on sub-documents, multi-accumulator $group and
// Decimal128 wrong or not at all, so the package uses none of them: only
// find, insert, update and delete (bulk or not) on indexed fields, with
// joins and aggregation done in Go.
//
// # Documents
//
// Collection "statements" holds one document per statement:
//
//	_id   tenant + "/" + id: unique, so a second insert of an id fails
//	j     the statement JSON, verbatim, as binary (never a BSON tree:
//	      extension keys are IRIs full of dots, and keys may start with $)
//	k     order key: stored time as 19 zero-padded digits of Unix
//	      nanoseconds, then the id; it sorts by (stored, id) and a page
//	      position, since and until are ranges on it
//	t, id, s, ts, au, v, r, a, ra, c, rc, ref, vd, h, ah
//	      the Record's fields as given (tenant, id, stored, timestamp,
//	      authority, verb, registration, agents, related agents,
//	      activities, related activities, StatementRef target, voided
//	      target, hash, attachment hashes)
//	qa, qra, qc, qrc, qv, qr
//	      the facets the filters match: agents, agents+related agents,
//	      activities, activities+related activities, verbs, registrations
//	      of the statement and of every statement it refers to,
//	      transitively (xAPI "Filter Conditions for StatementRefs")
//	x     voided
//	p     the id of the batch that wrote it, until that batch is finished
//
// Each filter has a compound index {t, <facet>, k} (multikey on the facet
// array), plus {t, k} and {t, au, k}, so a query is one index range scan in
// k order with no in-memory sort. Voided statements are filtered out after
// the index (x is not indexed: voiding then rewrites one field, no index).
//
// # Batches: all or nothing without transactions
//
// An Insert call is a batch. It registers a record {_id, st: "pending",
// ms: earliest stored, ids} in "batches", inserts its statements marked
// p=<batch> in one unordered insertMany, links them to stored statements
// (below), and commits by one conditional update of the record, pending ->
// committed. That update is the commit point, atomic because it touches one
// document: a reader that meets a marked document keeps it only if the
// record says committed, so readers see all of a batch or none of it, and
// a crash before the commit leaves nothing visible. After the commit the
// writer clears the marks, voids the targets of its voiding statements,
// passes its facets on to statements that refer to its statements, and
// deletes the record. All of that is idempotent; if the writer dies, the
// sweep (at Open and every minute, from any instance) redoes it for records
// committed more than a minute ago, and aborts records pending for more than
// five minutes (pending -> aborting, so a late commit fails; then the
// documents and the record are deleted). A normal batch of any size costs
// about eight commands: register, insert, link query, commit, two clears,
// referrer query, delete record.
//
// One case stays ambiguous, as with any remote database: when the
// deployment becomes unreachable exactly during the commit, and the writer
// cannot tell whether the commit was applied, Insert reports errs.Unavailable
// although the batch may be stored; retrying the same statements settles it
// (same ids, same hashes: a no-op).
//
// A duplicate _id is settled per statement: a committed statement with the
// same hash is skipped (idempotent retry), with another hash the whole call
// fails with errs.Conflict after its own documents are removed; a leftover
// of an aborted batch is deleted and the insert retried; a statement of
// another writer's batch still in flight is waited for (up to 30 s). This
// relies on _id uniqueness only, which FerretDB enforces (it misses some
// duplicates of secondary unique indexes, and none is used here). On a
// sharded cluster, shard "statements" on {_id: "hashed"} so that _id stays
// unique across shards.
//
// Attachments ("attachments") are copies keyed tenant/sha2/batch, marked
// like statements, and written only when no visible copy of the hash is
// stored; a read takes any visible copy. A batch thus never depends on
// another batch's uncommitted copy.
//
// # Voiding and StatementRefs across batches
//
// Relations inside a batch are resolved in memory. Across batches each side
// checks for the other: before its commit a batch reads the committed
// voiding statements that target its statements (they are stored voided)
// and the committed statements its StatementRefs lead to (their facets are
// copied); after its commit it voids its targets and walks the referrers of
// its statements ({t, ref} index, one query per level, transitively) adding
// its facets. Of two concurrent batches the one committing second sees the
// other in one of these steps, so no interleaving loses a link. The price
// is a short window (the follow-up work after a commit, milliseconds) in
// which another reader can see a voiding statement while its target is not
// yet marked voided, or miss a match that an older referrer inherits from a
// new target. Insert returns only after that work, so a client's own
// follow-up reads never see the window.
//
// # Consistency
//
// Writes use write concern majority with journaling unless the URL says
// otherwise: an acknowledged statement survives a crash and a fail-over.
// Reads use read concern majority on the primary: they never return data
// that a fail-over could roll back, and since acknowledged writes are
// majority-committed, a client reads its own writes. (Reading from
// secondaries would lose read-your-writes; the URL can still choose it.)
//
// ConsistentThrough is the clock, held back before the earliest stored time
// of any unfinished batch, of this process (from the call of Insert) or of
// any instance (from the batch records); a batch abandoned by a crashed
// instance holds it back until the sweep removes it (about five minutes).
// Paging: a cursor holds the order
// key of the last statement returned; ascending queries also fix, before
// their first page, the newest order key of the tenant as the end of the
// result set, so statements stored later never enter later pages (a
// descending query moves away from them by itself).
//
// # State and profile documents, activity definitions
//
// Values that change by read-check-write (xAPI documents and their
// conditions, canonical activity definitions, the reporting catalog) are
// histories of revisions, each inserted once under a new _id, with old
// revisions deleted only while no write of the key is registered: see
// documents.go.
//
// # Credentials
//
// Collection "credentials", one document per credential with the key as
// _id (so a duplicate key fails).
package mongo
