package mongo

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
)

// Retention (package privacy, RetentionStore). A dry run counts what the
// run's filters match.
//
//	retention_rules  _id tenant, j: privacy.RetentionRules as JSON
//	retention_runs   one per run: t, tm, j (privacy.RetentionRun as JSON)
const (
	collRetentionRules = "retention_rules"
	collRetentionRuns  = "retention_runs"
)

var _ privacy.RetentionStore = (*DB)(nil)

// RetentionRules returns the tenant's rules, all off when never set.
func (db *DB) RetentionRules(ctx context.Context, tenant string) (*privacy.RetentionRules, error) {
	var doc struct {
		JSON []byte `bson:"j"`
	}
	r := &privacy.RetentionRules{}
	err := db.db.Collection(collRetentionRules).FindOne(ctx, d("_id", tenant)).Decode(&doc)
	if err == mdb.ErrNoDocuments {
		return r, nil
	}
	if err != nil {
		return nil, wrap(err, "mongo: retention rules")
	}
	if err := json.Unmarshal(doc.JSON, r); err != nil {
		return nil, errs.Wrap(err, "mongo: retention rules")
	}
	return r, nil
}

// PutRetentionRules replaces the tenant's rules.
func (db *DB) PutRetentionRules(ctx context.Context, tenant string, r *privacy.RetentionRules) error {
	b, err := json.Marshal(r)
	if err != nil {
		return errs.Wrap(err, "mongo: encoding retention rules")
	}
	_, err = db.db.Collection(collRetentionRules).ReplaceOne(ctx, d("_id", tenant), bson.D{{Key: "_id", Value: tenant}, {Key: "j", Value: b}},
		options.Replace().SetUpsert(true))
	return wrap(err, "mongo: storing retention rules")
}

type retentionRunDoc struct {
	ID     bson.ObjectID `bson:"_id"`
	Tenant string        `bson:"t"`
	Time   int64         `bson:"tm"`
	JSON   []byte        `bson:"j"`
}

// AddRetentionRun stores a run's record.
func (db *DB) AddRetentionRun(ctx context.Context, run *privacy.RetentionRun) error {
	b, err := json.Marshal(run)
	if err != nil {
		return errs.Wrap(err, "mongo: encoding a retention run")
	}
	_, err = db.db.Collection(collRetentionRuns).InsertOne(ctx, retentionRunDoc{ID: bson.NewObjectID(), Tenant: run.Tenant,
		Time: run.Time.UnixNano(), JSON: b})
	return wrap(err, "mongo: storing a retention run")
}

// RetentionRuns lists the tenant's runs, newest first.
func (db *DB) RetentionRuns(ctx context.Context, tenant string, limit int) ([]*privacy.RetentionRun, error) {
	cur, err := db.db.Collection(collRetentionRuns).Find(ctx, d("t", tenant),
		options.Find().SetSort(bson.D{{Key: "tm", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, wrap(err, "mongo: retention runs")
	}
	var docs []retentionRunDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap(err, "mongo: retention runs")
	}
	out := make([]*privacy.RetentionRun, len(docs))
	for i, x := range docs {
		out[i] = &privacy.RetentionRun{}
		if err := json.Unmarshal(x.JSON, out[i]); err != nil {
			return nil, errs.Wrap(err, "mongo: retention runs")
		}
	}
	return out, nil
}

// StaleDocuments returns the keys of the tenant's documents whose newest
// revision was written before before: tombstones of deleted documents
// too (they keep the key, with the agent), so that purging them leaves
// nothing of the key.
func (db *DB) StaleDocuments(ctx context.Context, tenant string, before time.Time) ([]documents.Key, error) {
	newest, err := db.newestRevisions(ctx, d("t", tenant), "stale documents")
	if err != nil {
		return nil, err
	}
	out := []documents.Key{}
	for _, r := range newest {
		if r.Updated < before.UnixNano() {
			out = append(out, r.key())
		}
	}
	return out, nil
}

// AttachmentUses lists the tenant's attachments (committed copies; a
// hash once) with the statements listing each (index tenant_attachments).
func (db *DB) AttachmentUses(ctx context.Context, tenant string) ([]privacy.AttachmentUse, error) {
	hashes, err := db.attachmentHashes(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]privacy.AttachmentUse, len(hashes))
	for i, h := range hashes {
		out[i].SHA2 = h
		c, err := db.stmts.Find(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "ah", Value: h}},
			options.Find().SetProjection(bson.D{{Key: "id", Value: 1}, {Key: "s", Value: 1}}))
		if err != nil {
			return nil, wrap(err, "mongo: attachments")
		}
		var docs []struct {
			ID     string `bson:"id"`
			Stored int64  `bson:"s"`
		}
		if err := c.All(ctx, &docs); err != nil {
			return nil, wrap(err, "mongo: attachments")
		}
		for _, x := range docs {
			out[i].Statements = append(out[i].Statements, privacy.StatementStamp{ID: x.ID, Stored: time.Unix(0, x.Stored).UTC()})
		}
	}
	return out, nil
}

// attachmentHashes returns the hashes of the tenant's committed
// attachment copies, sorted, each once.
func (db *DB) attachmentHashes(ctx context.Context, tenant string) ([]string, error) {
	c, err := db.atts.Find(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "p", Value: d("$exists", false)}},
		options.Find().SetProjection(d("sha", 1)))
	if err != nil {
		return nil, wrap(err, "mongo: attachments")
	}
	var docs []struct {
		SHA2 string `bson:"sha"`
	}
	if err := c.All(ctx, &docs); err != nil {
		return nil, wrap(err, "mongo: attachments")
	}
	var out []string
	for _, x := range docs {
		out = append(out, x.SHA2)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// DeleteAttachments deletes the committed copies of the attachments with
// the hashes no statement stored at or after listedSince lists; a hash
// counts once.
func (db *DB) DeleteAttachments(ctx context.Context, tenant string, hashes []string, listedSince time.Time) (int, error) {
	n := 0
	for _, h := range hashes {
		k, err := db.stmts.CountDocuments(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "ah", Value: h},
			{Key: "s", Value: d("$gte", listedSince.UnixNano())}})
		if err != nil {
			return n, wrap(err, "mongo: deleting attachments")
		}
		if k > 0 {
			continue
		}
		res, err := db.atts.DeleteMany(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "sha", Value: h}, {Key: "p", Value: d("$exists", false)}})
		if err != nil {
			return n, wrap(err, "mongo: deleting attachments")
		}
		if res.DeletedCount > 0 {
			n++
		}
	}
	return n, nil
}

// PruneAudit deletes the tenant's audit entries older than before.
func (db *DB) PruneAudit(ctx context.Context, tenant string, before time.Time, dryRun bool) (int, error) {
	return db.prune(ctx, collAudit, tenant, before, dryRun)
}

// PruneReminders deletes the tenant's reminders-sent records older than
// before.
func (db *DB) PruneReminders(ctx context.Context, tenant string, before time.Time, dryRun bool) (int, error) {
	return db.prune(ctx, collReminders, tenant, before, dryRun)
}

// prune deletes (or counts) the documents of a tenant in coll whose time
// (tm) is before before.
func (db *DB) prune(ctx context.Context, coll, tenant string, before time.Time, dryRun bool) (int, error) {
	filter := bson.D{{Key: "t", Value: tenant}, {Key: "tm", Value: d("$lt", before.UnixNano())}}
	c := db.db.Collection(coll)
	if dryRun {
		n, err := c.CountDocuments(ctx, filter)
		return int(n), wrap(err, "mongo: counting "+coll)
	}
	res, err := c.DeleteMany(ctx, filter)
	if err != nil {
		return 0, wrap(err, "mongo: pruning "+coll)
	}
	return int(res.DeletedCount), nil
}
