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
// "documents"), canonical activity definitions ("activities") and the
// reporting catalog ("rp_catalog") change by read-check-write: a
// document's Condition is checked against the current document, a
// definition is merged into the stored one. Without transactions, the
// write must fail when another writer changed the value after the read. A
// filtered update (updateOne {_id, v: <read>}) does that on MongoDB, but
// FerretDB runs an update as a query followed by a write by _id, so two
// writers can both pass the filter (a probe of 200 rounds of 8 racing
// updates: more than one succeeded in 199). What both keep is that an _id
// is inserted once, and that of racing deletes of an _id one reports it.
// So each value is a history of revisions, each its own document:
//
//	_id   k + "/" + v
//	k     hashID of the value's key (fixed length, unambiguous)
//	v     the revision number: 1, 2, ...
//
// The current value is the revision with the highest v (index {k, v}). A
// write reads it (revision n, or none: n = 0), checks or merges, and
// inserts revision n+1; when another writer inserted n+1 first, the insert
// fails on the duplicate _id and the write starts again from the read.
//
// Old revisions are deleted, which frees their _ids. That is safe only
// while no writer can still insert one: a writer that read revision n and
// paused while others wrote n+1 and n+2 and deleted n+1 would insert n+1
// without a duplicate-key error, and its acknowledged write would lie
// unseen below n+2. So old revisions are deleted only when no write of the
// key is under way. Each write registers in collection "writers" ({_id:
// random, k: collection + "/" + key, at: Unix nanoseconds}; index {k})
// before its first read and unregisters after its last insert. A writer
// that inserted revision m unregisters, lists the key's registrations (on
// the primary, read concern local) and, when there is none, deletes the
// revisions below m. That is sound because a writer that could insert a
// freed _id (below m) read the key before m existed, so it registered
// before the list was read, and it stays registered until after its
// insert: it is in the list. Under constant contention old revisions wait
// for a write that finds no other; the current revision is never deleted,
// so revision numbers only grow.
//
// A writer that died leaves its registration; one older than 15 minutes
// (DB.registrationTTL) no longer counts and is deleted by the writer that
// lists it. A writer whose own registration was deleted so (its
// unregistering delete finds nothing) cannot tell whether its insert is
// the current value or was lost, and fails with errs.Unavailable. The ages
// come from the instances' clocks: clocks more than the TTL apart make
// writes fail that way, never lose them. The registration of a dead
// writer on a key never written again stays (a few dozen bytes).
//
// A deleted document is a tombstone revision (x: true, no content), kept
// so that revision numbers never restart. Tombstones of keys never written
// again stay (a few hundred bytes each). On a sharded cluster, shard the
// revision collections on {k: "hashed"}: the revisions of a key then share
// a shard, where _id is unique.
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
	collWriters    = "writers"
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
// with read concern local, so that they see the newest revision and every
// registration (a read that is behind only costs a failed insert and a
// retry).
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

// registration is a writer's entry in collection "writers".
type registration struct {
	ID string `bson:"_id"`
	K  string `bson:"k"`
	At int64  `bson:"at"`
}

// revise writes the next revision of key k in collection name: it reads the
// current revision cur (nil when none) and inserts next(cur), numbered
// after cur (next returns nil when there is nothing to write, or an
// error). It starts again when another writer inserted that revision
// first. The write is registered while it runs (see above); after it, the
// revisions below the new one are deleted if no other write of k is under
// way.
func revise[T any, P interface {
	*T
	revision() *rev
}](ctx context.Context, db *DB, name, k string, opts []options.Lister[options.FindOneOptions], next func(cur P) (P, error)) error {
	writers := db.latest(collWriters)
	reg := registration{ID: newID(), K: name + "/" + k, At: time.Now().UnixNano()}
	if _, err := writers.InsertOne(ctx, reg); err != nil {
		return wrap(err, "mongo: registering a write of "+name)
	}
	v, err := insertNext(ctx, db, name, k, opts, next)
	// Unregister even when ctx ended: a registration left behind holds back
	// the key's clean-up for registrationTTL.
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	res, uerr := writers.DeleteOne(uctx, d("_id", reg.ID))
	switch {
	case err != nil || v == 0:
		return err
	case uerr != nil:
		return wrap(uerr, "mongo: writing "+name+": unregistering")
	case res.DeletedCount == 0:
		return errs.E(errs.Unavailable, "the write of %s took longer than %v, so it is unknown whether it was kept; read the value and retry if needed", name, db.registrationTTL)
	}
	// The write is done; a failure below leaves the old revisions for the
	// key's next write.
	if v == 1 {
		return nil // nothing below
	}
	if err := db.collect(uctx, name, reg.K, k, v); err != nil {
		db.log.Warn("removing old revisions", "collection", name, "err", err)
	}
	return nil
}

// insertNext is the loop of revise: it returns the revision number it
// inserted, 0 when next had nothing to write.
func insertNext[T any, P interface {
	*T
	revision() *rev
}](ctx context.Context, db *DB, name, k string, opts []options.Lister[options.FindOneOptions], next func(cur P) (P, error)) (int64, error) {
	coll := db.latest(name)
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if attempt > 1 {
			// Racing writers spread out, more as attempts fail.
			select {
			case <-ctx.Done():
				return 0, wrap(ctx.Err(), "mongo: writing "+name)
			case <-time.After(rand.N(time.Duration(min(attempt, 20))*time.Millisecond) + 100*time.Microsecond):
			}
		}
		cur, err := current[T, P](ctx, coll, k, opts...)
		if err != nil {
			return 0, err
		}
		doc, err := next(cur)
		if err != nil || doc == nil {
			return 0, err
		}
		r := doc.revision()
		r.K, r.V = k, 1
		if cur != nil {
			r.V = cur.revision().V + 1
		}
		r.ID = k + "/" + strconv.FormatInt(r.V, 10)
		if db.beforeInsert != nil {
			db.beforeInsert()
		}
		_, err = coll.InsertOne(ctx, doc)
		if mdb.IsDuplicateKeyError(err) {
			continue
		}
		if err != nil {
			return 0, wrap(err, "mongo: writing "+name)
		}
		return r.V, nil
	}
	return 0, errs.E(errs.Unavailable, "the %s value keeps changing under concurrent writes; try again", name)
}

// collect deletes the revisions of key k (registered as regKey) below v,
// the one just inserted, unless another write of k is registered;
// registrations older than registrationTTL are deleted instead of
// counted.
func (db *DB) collect(ctx context.Context, name, regKey, k string, v int64) error {
	writers := db.latest(collWriters)
	cur, err := writers.Find(ctx, d("k", regKey))
	if err != nil {
		return err
	}
	var regs []registration
	if err := cur.All(ctx, &regs); err != nil {
		return err
	}
	expired := time.Now().Add(-db.registrationTTL).UnixNano()
	for _, r := range regs {
		if r.At >= expired {
			return nil // a write under way: the next write collects
		}
		db.log.Warn("removing the registration of a write that never finished", "collection", name, "age", time.Duration(time.Now().UnixNano()-r.At))
		if _, err := writers.DeleteOne(ctx, d("_id", r.ID)); err != nil {
			return err
		}
	}
	_, err = db.latest(name).DeleteMany(ctx, bson.D{{Key: "k", Value: k}, {Key: "v", Value: d("$lt", v)}})
	return err
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
	return revise(ctx, db, collDocuments, documentKey(d.Key), withoutContent, func(cur *docRev) (*docRev, error) {
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
	return revise(ctx, db, collDocuments, documentKey(k), withoutContent, func(cur *docRev) (*docRev, error) {
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
	for _, r := range set {
		if r.Deleted {
			continue
		}
		dk := documents.Key{Tenant: r.Tenant, Kind: documents.Kind(r.Kind), ActivityID: r.Activity,
			Agent: r.Agent, Registration: r.Registration, ID: r.DocID}
		err := revise(ctx, db, collDocuments, r.Rev.K, withoutContent, func(cur *docRev) (*docRev, error) {
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
