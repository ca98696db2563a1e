package mongo

import (
	"cmp"
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reporting"
)

// The access log (package privacy): one document per read in accessLog,
// naming its subjects by the id of a set stored once per tenant and
// distinct set in accessSets (_id: tenant "/" id). Without transactions,
// a set is written before the entries naming it, and a set no entry names
// (after a crash between the two) is removed by the next prune.
const (
	collAccessLog  = "access_log"
	collAccessSets = "access_sets"
)

type accessDoc struct {
	ID        bson.ObjectID `bson:"_id"`
	Tenant    string        `bson:"t"`
	Time      int64         `bson:"tm"`
	Actor     string        `bson:"a"`
	ActorKind string        `bson:"ak"`
	What      string        `bson:"w"`
	Set       string        `bson:"s"`
	Count     int           `bson:"n"`
}

type accessSetDoc struct {
	ID      string `bson:"_id"` // tenant "/" set id
	Tenant  string `bson:"t"`
	Set     string `bson:"s"`
	N       int    `bson:"n"`
	Members []byte `bson:"m"`
}

var _ privacy.AccessLog = (*DB)(nil)

// putAccessSet stores a subject set unless the tenant has it.
func (db *DB) putAccessSet(ctx context.Context, tenant string, subjects []string) (string, error) {
	id, blob, n := privacy.EncodeSubjects(tenant, subjects)
	_, err := db.db.Collection(collAccessSets).UpdateOne(ctx, d("_id", tenant+"/"+id),
		d("$setOnInsert", accessSetDoc{ID: tenant + "/" + id, Tenant: tenant, Set: id, N: n, Members: blob}),
		options.UpdateOne().SetUpsert(true))
	return id, wrap(err, "mongo: storing an access log entry")
}

// AppendAccess stores the entries: their subject sets, then the entries.
func (db *DB) AppendAccess(ctx context.Context, entries []*privacy.Access) error {
	docs := make([]any, len(entries))
	for i, e := range entries {
		id, err := db.putAccessSet(ctx, e.Tenant, e.Subjects)
		if err != nil {
			return err
		}
		docs[i] = accessDoc{ID: bson.NewObjectID(), Tenant: e.Tenant, Time: e.Time.UnixNano(), Actor: e.Actor,
			ActorKind: e.ActorKind, What: e.What, Set: id, Count: e.Count}
	}
	if len(docs) == 0 {
		return nil
	}
	_, err := db.db.Collection(collAccessLog).InsertMany(ctx, docs)
	return wrap(err, "mongo: storing an access log entry")
}

// accessSets calls fn for each subject set of a tenant.
func (db *DB) accessSets(ctx context.Context, tenant string, fn func(*accessSetDoc) error) error {
	c, err := db.db.Collection(collAccessSets).Find(ctx, d("t", tenant))
	if err != nil {
		return wrap(err, "mongo: reading the access log")
	}
	defer c.Close(ctx)
	for c.Next(ctx) {
		var s accessSetDoc
		if err := c.Decode(&s); err != nil {
			return wrap(err, "mongo: reading the access log")
		}
		if err := fn(&s); err != nil {
			return err
		}
	}
	return wrap(c.Err(), "mongo: reading the access log")
}

// AccessesAbout returns the entries of a tenant naming one of subjects:
// its sets are matched in Go, then the entries naming them are read.
func (db *DB) AccessesAbout(ctx context.Context, tenant string, subjects []string, since time.Time, limit int) ([]*privacy.Access, error) {
	type match struct {
		subjects []string
		n        int
	}
	sets := map[string]match{}
	err := db.accessSets(ctx, tenant, func(s *accessSetDoc) error {
		m, err := privacy.MatchSubjects(s.Members, subjects)
		if len(m) > 0 {
			sets[s.Set] = match{m, s.N}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := []*privacy.Access{}
	if len(sets) == 0 {
		return out, nil
	}
	ids := make([]string, 0, len(sets))
	for id := range sets {
		ids = append(ids, id)
	}
	var from int64
	if !since.IsZero() {
		from = since.UnixNano()
	}
	c, err := db.db.Collection(collAccessLog).Find(ctx,
		bson.D{{Key: "t", Value: tenant}, {Key: "s", Value: d("$in", ids)}, {Key: "tm", Value: d("$gte", from)}},
		options.Find().SetSort(bson.D{{Key: "tm", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, wrap(err, "mongo: reading the access log")
	}
	var docs []accessDoc
	if err := c.All(ctx, &docs); err != nil {
		return nil, wrap(err, "mongo: reading the access log")
	}
	for _, x := range docs {
		out = append(out, &privacy.Access{Tenant: tenant, Time: time.Unix(0, x.Time).UTC(), Actor: x.Actor,
			ActorKind: x.ActorKind, What: x.What, Subjects: sets[x.Set].subjects, Total: sets[x.Set].n, Count: x.Count})
	}
	return out, nil
}

// PruneAccess deletes the entries of a tenant older than before, then
// the sets no entry names.
func (db *DB) PruneAccess(ctx context.Context, tenant string, before time.Time, dryRun bool) (int, error) {
	filter := bson.D{{Key: "t", Value: tenant}, {Key: "tm", Value: d("$lt", before.UnixNano())}}
	log := db.db.Collection(collAccessLog)
	if dryRun {
		n, err := log.CountDocuments(ctx, filter)
		return int(n), wrap(err, "mongo: counting access log entries")
	}
	res, err := log.DeleteMany(ctx, filter)
	if err != nil {
		return 0, wrap(err, "mongo: pruning the access log")
	}
	named := map[string]bool{}
	c, err := log.Find(ctx, d("t", tenant), options.Find().SetProjection(d("s", 1)))
	if err != nil {
		return 0, wrap(err, "mongo: pruning the access log")
	}
	var docs []accessDoc
	if err := c.All(ctx, &docs); err != nil {
		return 0, wrap(err, "mongo: pruning the access log")
	}
	for _, x := range docs {
		named[x.Set] = true
	}
	var unnamed []string
	err = db.accessSets(ctx, tenant, func(s *accessSetDoc) error {
		if !named[s.Set] {
			unnamed = append(unnamed, s.ID)
		}
		return nil
	})
	if err == nil && len(unnamed) > 0 {
		_, err = db.db.Collection(collAccessSets).DeleteMany(ctx, d("_id", d("$in", unnamed)))
	}
	return int(res.DeletedCount), wrap(err, "mongo: pruning the access log")
}

// RewriteAccess replaces subjects and actors of a tenant's entries: a
// changed set is stored under its new id, its entries moved to it, and
// then it is deleted, so that a run cut short is finished by running it
// again.
func (db *DB) RewriteAccess(ctx context.Context, tenant string, subjects, actors map[string]string, dryRun bool) (int, error) {
	type change struct{ old, oldID string }
	var changes []struct {
		change
		members []string
	}
	err := db.accessSets(ctx, tenant, func(s *accessSetDoc) error {
		members, err := privacy.DecodeSubjects(s.Members)
		if err != nil {
			return err
		}
		if members, ok := privacy.RewriteSubjects(members, subjects); ok {
			changes = append(changes, struct {
				change
				members []string
			}{change{s.Set, s.ID}, members})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	log := db.db.Collection(collAccessLog)
	n := 0
	if dryRun {
		for _, ch := range changes {
			k, err := log.CountDocuments(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "s", Value: ch.old}})
			if err != nil {
				return 0, wrap(err, "mongo: counting access log entries")
			}
			n += int(k)
		}
		for from := range actors {
			k, err := log.CountDocuments(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "a", Value: from}})
			if err != nil {
				return 0, wrap(err, "mongo: counting access log entries")
			}
			n += int(k)
		}
		return n, nil
	}
	for _, ch := range changes {
		id, err := db.putAccessSet(ctx, tenant, ch.members)
		if err != nil {
			return n, err
		}
		res, err := log.UpdateMany(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "s", Value: ch.old}}, d("$set", d("s", id)))
		if err != nil {
			return n, wrap(err, "mongo: rewriting the access log")
		}
		n += int(res.ModifiedCount)
		if id != ch.old {
			if _, err := db.db.Collection(collAccessSets).DeleteOne(ctx, d("_id", ch.oldID)); err != nil {
				return n, wrap(err, "mongo: rewriting the access log")
			}
		}
	}
	for from, to := range actors {
		res, err := log.UpdateMany(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "a", Value: from}}, d("$set", d("a", to)))
		if err != nil {
			return n, wrap(err, "mongo: rewriting the access log")
		}
		n += int(res.ModifiedCount)
	}
	return n, nil
}

// AgentDocumentKeys returns the keys of the tenant's current documents
// (State and Agent Profile) whose agent is one of agents (match keys, see
// reporting.MatchKey). It reads every revision with an agent in the
// tenant, without content: an erasure or an export is rare.
func (db *DB) AgentDocumentKeys(ctx context.Context, tenant string, agents []string) ([]documents.Key, error) {
	newest, err := db.newestRevisions(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "g", Value: d("$ne", "")}}, "documents of agents")
	if err != nil {
		return nil, err
	}
	out := []documents.Key{}
	for _, r := range newest {
		if !r.Deleted && slices.Contains(agents, reporting.MatchKey(r.Agent)) {
			out = append(out, r.key())
		}
	}
	sortKeys(out)
	return out, nil
}

// newestRevisions reads the document revisions filter selects, without
// content, and returns the newest of each document by its key.
func (db *DB) newestRevisions(ctx context.Context, filter bson.D, what string) (map[string]*docRev, error) {
	c, err := db.db.Collection(collDocuments).Find(ctx, filter, options.Find().SetProjection(d("c", 0)))
	if err != nil {
		return nil, wrap(err, "mongo: "+what)
	}
	var revs []docRev
	if err := c.All(ctx, &revs); err != nil {
		return nil, wrap(err, "mongo: "+what)
	}
	newest := map[string]*docRev{}
	for i := range revs {
		r := &revs[i]
		if cur := newest[r.Rev.K]; cur == nil || r.Rev.V > cur.Rev.V {
			newest[r.Rev.K] = r
		}
	}
	return newest, nil
}

// key is the key of the document r is a revision of.
func (r *docRev) key() documents.Key {
	return documents.Key{Tenant: r.Tenant, Kind: documents.Kind(r.Kind), ActivityID: r.Activity, Agent: r.Agent,
		Registration: r.Registration, ID: r.DocID}
}

// sortKeys sorts document keys by kind, activity, agent, registration and
// id.
func sortKeys(keys []documents.Key) {
	slices.SortFunc(keys, func(a, b documents.Key) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ActivityID, b.ActivityID), cmp.Compare(a.Agent, b.Agent),
			cmp.Compare(a.Registration, b.Registration), cmp.Compare(a.ID, b.ID))
	})
}

// PurgeDocuments deletes the documents with the keys with every revision,
// tombstones included: nothing of their keys is left. (A key written
// again later starts its revisions anew.)
func (db *DB) PurgeDocuments(ctx context.Context, keys []documents.Key) error {
	if len(keys) == 0 {
		return nil
	}
	ks := make([]string, len(keys))
	for i, k := range keys {
		ks[i] = documentKey(k)
	}
	_, err := db.db.Collection(collDocuments).DeleteMany(ctx, d("k", d("$in", ks)))
	return wrap(err, "mongo: purging documents")
}
