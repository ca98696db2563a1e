package mongo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
)

// Documents and activity definitions are stored as revisions.
//
// Documents (State, Activity Profile, Agent Profile; collection
// "documents") and canonical activity definitions ("activities") change
// by read-check-write: a document's Condition is checked against the
// current document, a definition is merged into the stored one. Without
// transactions, the write must fail when another writer changed the value
// after the read. A filtered update (replaceOne {_id, etag: <read>}) does
// that on MongoDB, but FerretDB runs an update as a query followed by a
// write by _id, so two writers can both pass the filter. The one guarantee
// both keep is that an _id is inserted once. So each value is a history of
// revisions, each its own document:
//
//	_id   k + "/" + v
//	k     hashID of the value's key (fixed length, unambiguous)
//	v     the revision number: 1, 2, ...
//
// The current value is the revision with the highest v (index {k, v}). A
// write reads it (revision n, or none: n = 0), checks or merges, and
// inserts revision n+1; when another writer inserted n+1 first, the insert
// fails on the duplicate _id and the write starts again from the read.
// After a successful insert the writer deletes the revisions below its
// own; a leftover (the writer died in between) is never read and goes at
// the key's next write. A deleted document is a tombstone revision (x:
// true, no content), kept so that revision numbers never restart: a writer
// that read a revision before the delete must fail, not succeed on a
// recreated history. Tombstones of keys never written again stay (a few
// hundred bytes each). On a sharded cluster, shard both collections on
// {k: "hashed"}: the revisions of a key then share a shard, where _id is
// unique.
//
// A document revision also holds:
//
//	t, kd, a, g, r, id
//	      the key's fields, "" where the kind does not use one
//	e     the ETag
//	u     updated, Unix nanoseconds
//	ct    the content type
//	c     the content, binary
//	x     true for a tombstone
//
// Lists and delete-alls read the revisions of a (tenant, kind, activity,
// agent [, registration]) set through the index {t, kd, a, g, r} and keep
// the highest revision of each key in Go.

const (
	collDocuments  = "documents"
	collActivities = "activities"
)

// rev is the part every revision has.
type rev struct {
	ID string `bson:"_id"`
	K  string `bson:"k"`
	V  int64  `bson:"v"`
}

// hashID returns a key made of parts: the hex SHA-256 of the parts as a
// JSON array (unambiguous whatever the parts hold, and of fixed length
// however long the IRIs and ids are).
func hashID(parts ...string) string {
	b, _ := json.Marshal(parts)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// latest returns collection name for the reads of a write: on the primary
// with read concern local, so that they see the newest revision (a read
// that is behind only costs a failed insert and a retry).
func (db *DB) latest(name string) *mdb.Collection {
	return db.db.Collection(name, options.Collection().SetReadConcern(readconcern.Local()).SetReadPreference(readpref.Primary()))
}

// newest is the sort that puts the current revision first.
var newest = options.FindOne().SetSort(d("v", -1))

// current reads the current revision of key k into a new T, or returns
// nil when there is none.
func current[T any, P interface {
	*T
	revision() *rev
}](ctx context.Context, coll *mdb.Collection, k string, opts ...options.Lister[options.FindOneOptions]) (P, error) {
	p := P(new(T))
	err := coll.FindOne(ctx, d("k", k), append([]options.Lister[options.FindOneOptions]{newest}, opts...)...).Decode(p)
	if err == mdb.ErrNoDocuments {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err, "mongo: reading "+coll.Name())
	}
	return p, nil
}

// maxAttempts bounds the attempts of a write; each failed attempt means
// another writer changed the same value in between.
const maxAttempts = 100

// revise writes the next revision of key k in collection name: it reads the
// current revision cur (nil when none; first is used instead on the first
// attempt when not nil), and inserts next(cur), numbered after cur (next
// returns nil when there is nothing to write, or an error). It starts
// again when another writer inserted that revision first.
func revise[T any, P interface {
	*T
	revision() *rev
}](ctx context.Context, db *DB, name, k string, first P, opts []options.Lister[options.FindOneOptions], next func(cur P) (P, error)) error {
	coll := db.latest(name)
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		cur := first
		if attempt > 1 || cur == nil {
			if attempt > 1 {
				// Racing writers spread out, more as attempts fail.
				select {
				case <-ctx.Done():
					return wrap(ctx.Err(), "mongo: writing "+name)
				case <-time.After(rand.N(time.Duration(min(attempt, 20))*time.Millisecond) + 100*time.Microsecond):
				}
			}
			var err error
			if cur, err = current[T, P](ctx, coll, k, opts...); err != nil {
				return err
			}
		}
		doc, err := next(cur)
		if err != nil || doc == nil {
			return err
		}
		r := doc.revision()
		r.K, r.V = k, 1
		if cur != nil {
			r.V = cur.revision().V + 1
		}
		r.ID = k + "/" + strconv.FormatInt(r.V, 10)
		_, err = coll.InsertOne(ctx, doc)
		if mdb.IsDuplicateKeyError(err) {
			continue
		}
		if err != nil {
			return wrap(err, "mongo: writing "+name)
		}
		// The older revisions are never read again. A failure here leaves
		// them for the key's next write; the write itself is done.
		if _, err := coll.DeleteMany(ctx, bson.D{{Key: "k", Value: k}, {Key: "v", Value: d("$lt", r.V)}}); err != nil {
			db.log.Warn("removing old revisions", "collection", name, "err", err)
		}
		return nil
	}
	return errs.E(errs.Unavailable, "the %s value keeps changing under concurrent writes; try again", name)
}

var _ documents.Store = (*DB)(nil)

// docRev is one revision of a document.
type docRev struct {
	Rev          rev    `bson:",inline"`
	Tenant       string `bson:"t"`
	Kind         string `bson:"kd"`
	Activity     string `bson:"a"`
	Agent        string `bson:"g"`
	Registration string `bson:"r"`
	DocID        string `bson:"id"`
	ETag         string `bson:"e"`
	Updated      int64  `bson:"u"`
	ContentType  string `bson:"ct"`
	Content      []byte `bson:"c,omitempty"`
	Deleted      bool   `bson:"x,omitempty"`
}

func (r *docRev) revision() *rev { return &r.Rev }

func documentKey(k documents.Key) string {
	return hashID("document", k.Tenant, string(k.Kind), k.ActivityID, k.Agent, k.Registration, k.ID)
}

// docRevision returns a revision of the document with key k.
func docRevision(k documents.Key) *docRev {
	return &docRev{Tenant: k.Tenant, Kind: string(k.Kind), Activity: k.ActivityID, Agent: k.Agent,
		Registration: k.Registration, DocID: k.ID}
}

// withoutContent leaves the content out of a read that only checks a
// condition.
var withoutContent = []options.Lister[options.FindOneOptions]{options.FindOne().SetProjection(d("c", 0))}

// existing returns the document r is a revision of, or nil when r is nil or
// a tombstone.
func existing(r *docRev) *documents.Document {
	if r == nil || r.Deleted {
		return nil
	}
	return &documents.Document{ETag: r.ETag}
}

var errPrecondition = errs.E(errs.PreconditionFailed, "the document does not match the If-Match / If-None-Match precondition")

// Document returns the document with key k, or an errs.NotFound error.
func (db *DB) Document(ctx context.Context, k documents.Key) (*documents.Document, error) {
	r, err := current[docRev](ctx, db.db.Collection(collDocuments), documentKey(k))
	if err != nil {
		return nil, err
	}
	if r == nil || r.Deleted {
		return nil, errs.E(errs.NotFound, "no such document")
	}
	content := r.Content
	if content == nil {
		content = []byte{}
	}
	return &documents.Document{Key: k, ContentType: r.ContentType, Content: content, ETag: r.ETag,
		Updated: time.Unix(0, r.Updated).UTC()}, nil
}

// PutDocument creates or replaces d if cond holds.
func (db *DB) PutDocument(ctx context.Context, d *documents.Document, cond documents.Condition) error {
	return revise(ctx, db, collDocuments, documentKey(d.Key), nil, withoutContent, func(cur *docRev) (*docRev, error) {
		if !cond.Holds(existing(cur)) {
			return nil, errPrecondition
		}
		r := docRevision(d.Key)
		r.ETag, r.Updated, r.ContentType, r.Content = d.ETag, d.Updated.UnixNano(), d.ContentType, d.Content
		if r.Content == nil {
			r.Content = []byte{}
		}
		return r, nil
	})
}

// tombstone returns the revision that deletes the document with key k.
func tombstone(k documents.Key) *docRev {
	r := docRevision(k)
	r.Deleted, r.Updated = true, time.Now().UnixNano()
	return r
}

// DeleteDocument deletes the document with key k if cond holds.
func (db *DB) DeleteDocument(ctx context.Context, k documents.Key, cond documents.Condition) error {
	return revise(ctx, db, collDocuments, documentKey(k), nil, withoutContent, func(cur *docRev) (*docRev, error) {
		doc := existing(cur)
		if !cond.Holds(doc) {
			return nil, errPrecondition
		}
		if doc == nil {
			return nil, nil // nothing to delete
		}
		return tombstone(k), nil
	})
}

// setFilter matches the documents of a list or delete-all: tenant, kind,
// activity and agent, and the registration when k has one (without, the
// states of every registration and those without one).
func setFilter(k documents.Key) bson.D {
	f := bson.D{{Key: "t", Value: k.Tenant}, {Key: "kd", Value: string(k.Kind)},
		{Key: "a", Value: k.ActivityID}, {Key: "g", Value: k.Agent}}
	if k.Registration != "" {
		f = append(f, bson.E{Key: "r", Value: k.Registration})
	}
	return f
}

// currentSet returns the current revision (content left out) of each
// document matching k, tombstones included.
func (db *DB) currentSet(ctx context.Context, coll *mdb.Collection, k documents.Key) (map[string]*docRev, error) {
	cur, err := coll.Find(ctx, setFilter(k), options.Find().SetProjection(d("c", 0)))
	if err != nil {
		return nil, wrap(err, "mongo: listing documents")
	}
	var revs []*docRev
	if err := cur.All(ctx, &revs); err != nil {
		return nil, wrap(err, "mongo: listing documents")
	}
	set := map[string]*docRev{}
	for _, r := range revs {
		if c, ok := set[r.Rev.K]; !ok || r.Rev.V > c.Rev.V {
			set[r.Rev.K] = r
		}
	}
	return set, nil
}

// DocumentIDs lists the ids of the documents matching k (k.ID ignored)
// updated strictly after since (zero: all), sorted, each once.
func (db *DB) DocumentIDs(ctx context.Context, k documents.Key, since time.Time) ([]string, error) {
	set, err := db.currentSet(ctx, db.db.Collection(collDocuments), k)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, r := range set {
		if !r.Deleted && (since.IsZero() || r.Updated > since.UnixNano()) {
			ids = append(ids, r.DocID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// DeleteDocuments deletes every document matching k (k.ID ignored): a
// tombstone for each, each document on its own.
func (db *DB) DeleteDocuments(ctx context.Context, k documents.Key) error {
	set, err := db.currentSet(ctx, db.latest(collDocuments), k)
	if err != nil {
		return err
	}
	for _, first := range set {
		if first.Deleted {
			continue
		}
		dk := documents.Key{Tenant: first.Tenant, Kind: documents.Kind(first.Kind), ActivityID: first.Activity,
			Agent: first.Agent, Registration: first.Registration, ID: first.DocID}
		err := revise(ctx, db, collDocuments, first.Rev.K, first, withoutContent, func(cur *docRev) (*docRev, error) {
			if existing(cur) == nil {
				return nil, nil
			}
			return tombstone(dk), nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
