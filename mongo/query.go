package mongo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// batchStates answers "is batch B committed?" for the documents a read
// meets that still carry a batch id, with one query per set of new ids.
type batchStates struct {
	db    *DB
	state map[string]batchDoc // batch id -> record; zero when the record is gone
}

func (db *DB) newBatchStates() *batchStates {
	return &batchStates{db: db, state: make(map[string]batchDoc)}
}

// load fetches the states of the given batch ids not yet known.
func (b *batchStates) load(ctx context.Context, ids []string) error {
	var want []string
	for _, id := range ids {
		if _, ok := b.state[id]; !ok && id != "" {
			want = append(want, id)
			b.state[id] = batchDoc{}
		}
	}
	if len(want) == 0 {
		return nil
	}
	cur, err := b.db.bats.Find(ctx, d("_id", d("$in", want)),
		options.Find().SetProjection(bson.D{{Key: "st", Value: 1}, {Key: "c", Value: 1}}))
	if err != nil {
		return wrap(err, "mongo: reading batch states")
	}
	var docs []batchDoc
	if err := cur.All(ctx, &docs); err != nil {
		return wrap(err, "mongo: reading batch states")
	}
	for _, doc := range docs {
		b.state[doc.ID] = doc
	}
	return nil
}

// visible reports whether a document written by batch is visible: it has
// no batch id left, or its batch is committed. A batch id whose record is
// gone belongs to an aborted batch whose clean-up was interrupted.
func (b *batchStates) visible(batch string) bool {
	return batch == "" || b.state[batch].State == stateCommitted
}

// Get returns the statement with the id, voided or not.
func (db *DB) Get(ctx context.Context, tenant, id string) (*statements.Record, error) {
	var doc stmtDoc
	err := db.stmts.FindOne(ctx, d("_id", docKey(tenant, id)), options.FindOne().SetProjection(noFacets)).Decode(&doc)
	if err == mdb.ErrNoDocuments {
		return nil, errs.E(errs.NotFound, "no statement with id %s", id)
	}
	if err != nil {
		return nil, wrap(err, "mongo: reading a statement")
	}
	if doc.Batch != "" {
		bs := db.newBatchStates()
		if err := bs.load(ctx, []string{doc.Batch}); err != nil {
			return nil, err
		}
		if !bs.visible(doc.Batch) {
			return nil, errs.E(errs.NotFound, "no statement with id %s", id)
		}
	}
	return doc.record(), nil
}

// noFacets leaves the query-only arrays out of what reads return.
var noFacets = bson.D{{Key: "qa", Value: 0}, {Key: "qra", Value: 0}, {Key: "qc", Value: 0},
	{Key: "qrc", Value: 0}, {Key: "qv", Value: 0}, {Key: "qr", Value: 0}}

// cursor is the decoded Query.Cursor: the order key of the last statement
// returned and, for ascending queries, the largest order key of the tenant
// when the first page was read, so that statements stored later never
// enter the later pages. (Descending pages move away from new statements.)
type cursor struct {
	After string `json:"a"`
	Bound string `json:"b,omitempty"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, asc bool) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.After == "" || asc && c.Bound == "" {
		return c, errs.Invalidf("cursor", "cursor", "the paging cursor is not one this LRS issued")
	}
	return c, nil
}

// keyRange is a range of order keys: above lo (exclusive; "" = open) and
// up to hi (inclusive when hiIncl; "" = open).
type keyRange struct {
	lo, hi string
	hiIncl bool
}

// below narrows r to keys under k (exclusive).
func (r keyRange) below(k string) keyRange {
	if r.hi == "" || k <= r.hi {
		r.hi, r.hiIncl = k, false
	}
	return r
}

// upTo narrows r to keys up to k (inclusive).
func (r keyRange) upTo(k string) keyRange {
	if r.hi == "" || k < r.hi {
		r.hi, r.hiIncl = k, true
	}
	return r
}

// above narrows r to keys over k (exclusive).
func (r keyRange) above(k string) keyRange {
	if k > r.lo {
		r.lo = k
	}
	return r
}

func (r keyRange) filter() bson.D {
	rng := bson.D{}
	if r.lo != "" {
		rng = append(rng, bson.E{Key: "$gt", Value: r.lo})
	}
	if r.hi != "" {
		rng = append(rng, bson.E{Key: pick(r.hiIncl, "$lte", "$lt"), Value: r.hi})
	}
	if len(rng) == 0 {
		return nil
	}
	return d("k", rng)
}

// scan returns up to n visible statements matching filter within r, in key
// order. Documents of unfinished batches are rare; when it has to drop some
// it reads on from where it stopped.
func (db *DB) scan(ctx context.Context, filter bson.D, r keyRange, asc bool, n int, proj bson.D) ([]stmtDoc, error) {
	var out []stmtDoc
	bs := db.newBatchStates()
	for len(out) < n {
		want := n - len(out)
		f := append(append(bson.D{}, filter...), r.filter()...)
		c, err := db.stmts.Find(ctx, f, options.Find().
			SetSort(d("k", pick(asc, 1, -1))).
			SetLimit(int64(want)).
			SetProjection(proj))
		if err != nil {
			return nil, wrap(err, "mongo: querying statements")
		}
		var docs []stmtDoc
		if err := c.All(ctx, &docs); err != nil {
			return nil, wrap(err, "mongo: querying statements")
		}
		var batches []string
		for _, doc := range docs {
			batches = append(batches, doc.Batch)
		}
		if err := bs.load(ctx, batches); err != nil {
			return nil, err
		}
		for _, doc := range docs {
			if bs.visible(doc.Batch) {
				out = append(out, doc)
			}
		}
		if len(docs) < want {
			break // no more matches
		}
		last := docs[len(docs)-1].Order
		r = pick(asc, r.above(last), r.below(last))
	}
	return out, nil
}

// Query returns one page of statements matching q.
//
// Each filter value is matched against an inherited facet array with its
// own multikey index {t, <facet>, k}; since, until, the page position and
// the bound are one range on the order key k, which is also the sort.
func (db *DB) Query(ctx context.Context, q statements.Query) (statements.Page, error) {
	if q.Limit <= 0 {
		return statements.Page{}, errs.Invalidf("limit", "limit", "limit must be positive")
	}
	filter := bson.D{{Key: "t", Value: q.Tenant}}
	if q.Agent != "" {
		filter = append(filter, bson.E{Key: pick(q.RelatedAgents, "qra", "qa"), Value: q.Agent})
	}
	if q.Verb != "" {
		filter = append(filter, bson.E{Key: "qv", Value: q.Verb})
	}
	if q.Activity != "" {
		filter = append(filter, bson.E{Key: pick(q.RelatedActivities, "qrc", "qc"), Value: q.Activity})
	}
	if q.Registration != "" {
		filter = append(filter, bson.E{Key: "qr", Value: q.Registration})
	}
	if q.Authority != "" {
		filter = append(filter, bson.E{Key: "au", Value: q.Authority})
	}
	if !q.IncludeVoided {
		filter = append(filter, bson.E{Key: "x", Value: false})
	}

	var r keyRange
	epoch := time.Unix(0, 0)
	if !q.Since.IsZero() && !q.Since.Before(epoch) {
		r = r.above(afterStored(q.Since.UnixNano()))
	}
	if !q.Until.IsZero() {
		if q.Until.Before(epoch) {
			return statements.Page{}, nil
		}
		r = r.below(afterStored(q.Until.UnixNano()))
	}
	var cur cursor
	switch {
	case q.Cursor != "":
		c, err := decodeCursor(q.Cursor, q.Ascending)
		if err != nil {
			return statements.Page{}, err
		}
		cur = c
		r = pick(q.Ascending, r.above(cur.After), r.below(cur.After))
	case q.Ascending:
		// Fix the end of the result set before reading its start.
		newest, err := db.scan(ctx, d("t", q.Tenant), keyRange{}, false, 1, bson.D{{Key: "k", Value: 1}, {Key: "p", Value: 1}})
		if err != nil {
			return statements.Page{}, err
		}
		if len(newest) == 0 {
			return statements.Page{}, nil
		}
		cur.Bound = newest[0].Order
	}
	if cur.Bound != "" {
		r = r.upTo(cur.Bound)
	}

	docs, err := db.scan(ctx, filter, r, q.Ascending, q.Limit+1, noFacets)
	if err != nil {
		return statements.Page{}, err
	}
	var page statements.Page
	for i := range docs[:min(len(docs), q.Limit)] {
		page.Records = append(page.Records, docs[i].record())
	}
	if len(docs) > q.Limit {
		page.Cursor = encodeCursor(cursor{After: docs[q.Limit-1].Order, Bound: cur.Bound})
	}
	return page, nil
}

func pick[T any](cond bool, a, b T) T {
	if cond {
		return a
	}
	return b
}

// Attachments returns the visible attachments with the given hashes.
func (db *DB) Attachments(ctx context.Context, tenant string, sha2s []string) ([]statements.Attachment, error) {
	if len(sha2s) == 0 {
		return nil, nil
	}
	c, err := db.atts.Find(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "sha", Value: d("$in", sha2s)}})
	if err != nil {
		return nil, wrap(err, "mongo: reading attachments")
	}
	var docs []attDoc
	if err := c.All(ctx, &docs); err != nil {
		return nil, wrap(err, "mongo: reading attachments")
	}
	bs := db.newBatchStates()
	var batches []string
	for _, doc := range docs {
		batches = append(batches, doc.Batch)
	}
	if err := bs.load(ctx, batches); err != nil {
		return nil, err
	}
	seen := make(map[string]bool)
	var out []statements.Attachment
	for _, doc := range docs {
		if seen[doc.SHA2] || !bs.visible(doc.Batch) {
			continue
		}
		seen[doc.SHA2] = true
		out = append(out, statements.Attachment{SHA2: doc.SHA2, ContentType: doc.ContentType, Data: doc.Data})
	}
	return out, nil
}

// ConsistentThrough returns a time through which every stored statement is
// visible: the clock, but before the earliest stored time of any unfinished
// Insert, of this process (tracked from the moment Insert is called) or of
// any instance (its batch record). What it cannot see is a statement an LRS
// instance has stamped but not yet handed to Insert, and clock skew between
// instances: both are small next to the time a client takes to ask again.
func (db *DB) ConsistentThrough(ctx context.Context) (time.Time, error) {
	t := time.Now().UnixNano()
	db.mu.Lock()
	for _, ms := range db.inflight {
		t = min(t, ms-1)
	}
	db.mu.Unlock()
	var b batchDoc
	err := db.bats.FindOne(ctx, d("st", d("$in", []string{statePending, stateCommitted})),
		options.FindOne().SetSort(d("ms", 1)).SetProjection(d("ms", 1))).Decode(&b)
	switch {
	case err == mdb.ErrNoDocuments:
	case err != nil:
		return time.Time{}, wrap(err, "mongo: reading unfinished batches")
	default:
		t = min(t, b.MinStored-1)
	}
	return time.Unix(0, t).UTC(), nil
}
