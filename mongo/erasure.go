package mongo

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reporting"
)

// The erasure of a person (package privacy, ErasureStore). Without
// transactions, each method is a sequence of idempotent updates: a run
// cut short is finished by running the erasure again. A dry run reads
// and counts what the run would update.
//
//	privacy_keys  _id tenant, k: the tenant's pseudonym key
//	erasures      one per erasure: t, tm, j (privacy.Erasure as JSON)
const (
	collPrivacyKeys = "privacy_keys"
	collErasures    = "erasures"
)

var _ privacy.ErasureStore = (*DB)(nil)

// PseudonymKey returns the tenant's pseudonym key, made on first use (an
// upsert: of instances racing, the first key stays).
func (db *DB) PseudonymKey(ctx context.Context, tenant string) ([]byte, error) {
	fresh := make([]byte, 32)
	rand.Read(fresh)
	c := db.db.Collection(collPrivacyKeys)
	if _, err := c.UpdateOne(ctx, d("_id", tenant), d("$setOnInsert", d("k", fresh)), options.UpdateOne().SetUpsert(true)); err != nil {
		return nil, wrap(err, "mongo: pseudonym key")
	}
	var doc struct {
		Key []byte `bson:"k"`
	}
	err := c.FindOne(ctx, d("_id", tenant)).Decode(&doc)
	return doc.Key, wrap(err, "mongo: pseudonym key")
}

// EditStatements applies the edits, then replaces the agent keys in the
// index fields of every statement naming one (own or inherited: qra
// holds both).
func (db *DB) EditStatements(ctx context.Context, tenant string, edits []privacy.StatementEdit, agents map[string]string) (int, int, error) {
	stmts := db.db.Collection(collStatements)
	edited := map[string]bool{}
	var hashes []string
	for _, ed := range edits {
		edited[ed.ID] = true
		hashes = append(hashes, ed.Attachments...)
		key := docKey(tenant, ed.ID)
		if ed.Record == nil {
			if _, err := stmts.DeleteOne(ctx, d("_id", key)); err != nil {
				return 0, 0, wrap(err, "mongo: erasing statements")
			}
			continue
		}
		var old stmtDoc
		if err := stmts.FindOne(ctx, d("_id", key)).Decode(&old); err == mdb.ErrNoDocuments {
			continue
		} else if err != nil {
			return 0, 0, wrap(err, "mongo: erasing statements")
		}
		r := ed.Record
		f := old.Facets
		f.QAgents, _ = remapList(f.QAgents, agents)
		f.QRelAgents, _ = remapList(f.QRelAgents, agents)
		f.merge(ownFacets(r))
		set := bson.D{{Key: "j", Value: r.JSON}, {Key: "h", Value: r.Hash}, {Key: "v", Value: r.VerbID},
			{Key: "r", Value: r.Registration}, {Key: "a", Value: nonNil(r.Agents)}, {Key: "ra", Value: nonNil(r.RelatedAgents)},
			{Key: "c", Value: nonNil(r.Activities)}, {Key: "rc", Value: nonNil(r.RelatedActivities)},
			{Key: "ah", Value: nonNil(r.AttachmentHashes)},
			{Key: "qa", Value: f.QAgents}, {Key: "qra", Value: f.QRelAgents}, {Key: "qc", Value: f.QActivities},
			{Key: "qrc", Value: f.QRelActivities}, {Key: "qv", Value: f.QVerbs}, {Key: "qr", Value: f.QRegs}}
		if _, err := stmts.UpdateOne(ctx, d("_id", key), d("$set", set)); err != nil {
			return 0, 0, wrap(err, "mongo: erasing statements")
		}
	}
	natts := 0
	for _, h := range slices.Compact(slices.Sorted(slices.Values(hashes))) {
		n, err := stmts.CountDocuments(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "ah", Value: h}})
		if err != nil {
			return 0, 0, wrap(err, "mongo: erasing attachments")
		}
		if n > 0 {
			continue
		}
		res, err := db.db.Collection(collAttachments).DeleteMany(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "sha", Value: h}})
		if err != nil {
			return 0, 0, wrap(err, "mongo: erasing attachments")
		}
		if res.DeletedCount > 0 {
			natts++
		}
	}
	if len(agents) == 0 {
		return natts, 0, nil
	}
	olds := make([]string, 0, len(agents))
	for k := range agents {
		olds = append(olds, k)
	}
	c, err := stmts.Find(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "qra", Value: d("$in", olds)}},
		options.Find().SetProjection(bson.D{{Key: "j", Value: 0}}))
	if err != nil {
		return 0, 0, wrap(err, "mongo: erasing statements")
	}
	var docs []stmtDoc
	if err := c.All(ctx, &docs); err != nil {
		return 0, 0, wrap(err, "mongo: erasing statements")
	}
	nrefs := 0
	for _, doc := range docs {
		a, _ := remapList(doc.Agents, agents)
		ra, _ := remapList(doc.RelatedAgents, agents)
		ra = slices.DeleteFunc(ra, func(s string) bool { return slices.Contains(a, s) })
		qa, _ := remapList(doc.Facets.QAgents, agents)
		qra, _ := remapList(doc.Facets.QRelAgents, agents)
		set := bson.D{{Key: "a", Value: nonNil(a)}, {Key: "ra", Value: nonNil(ra)}, {Key: "qa", Value: nonNil(qa)}, {Key: "qra", Value: nonNil(qra)}}
		if _, err := stmts.UpdateOne(ctx, d("_id", doc.Key), d("$set", set)); err != nil {
			return 0, 0, wrap(err, "mongo: erasing statements")
		}
		if !edited[doc.ID] {
			nrefs++
		}
	}
	return natts, nrefs, nil
}

// nonNil returns l, or an empty list for nil (stored as an array).
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// remapList replaces the elements of l that are keys of m, keeping each
// once.
func remapList(l []string, m map[string]string) ([]string, bool) {
	changed := false
	var out []string
	for _, s := range l {
		if v, ok := m[s]; ok {
			s, changed = v, true
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, changed
}

// DeleteFactAgents deletes the facts and names of the agents.
func (db *DB) DeleteFactAgents(ctx context.Context, tenant string, agents []string) error {
	if len(agents) == 0 {
		return nil
	}
	if _, err := db.db.Collection(collFacts).DeleteMany(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "g", Value: d("$in", agents)}}); err != nil {
		return wrap(err, "mongo: deleting facts")
	}
	ids := make([]string, len(agents))
	for i, a := range agents {
		ids[i] = agentID(tenant, a)
	}
	_, err := db.db.Collection(collAgents).DeleteMany(ctx, d("_id", d("$in", ids)))
	return wrap(err, "mongo: deleting facts")
}

// RewriteRoster rewrites the person's roster rows and import changes.
func (db *DB) RewriteRoster(ctx context.Context, tenant, person string, rowFn func(*reporting.RosterRow) bool,
	changeFn func(*reporting.Change) bool, dryRun bool) (int, int, error) {
	roster := db.db.Collection(collRoster)
	c, err := roster.Find(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "k", Value: person}, {Key: "kd", Value: d("$in", bson.A{"person", "member", "role", "ident"})}},
		bson.D{{Key: "kd", Value: "manager"}, {Key: "v", Value: person}},
	}}})
	if err != nil {
		return 0, 0, wrap(err, "mongo: erasing roster rows")
	}
	var rows []rowDoc
	if err := c.All(ctx, &rows); err != nil {
		return 0, 0, wrap(err, "mongo: erasing roster rows")
	}
	nrows := 0
	for _, doc := range rows {
		r := reporting.RosterRow{Kind: reporting.RowKind(doc.Kind), Key: doc.Key, Value: doc.Value, Name: doc.Name, Email: doc.Email}
		if !rowFn(&r) {
			continue
		}
		nrows++
		if dryRun {
			continue
		}
		if _, err := roster.UpdateOne(ctx, d("_id", doc.ID), d("$set", bson.D{{Key: "k", Value: r.Key}, {Key: "v", Value: r.Value},
			{Key: "n", Value: r.Name}, {Key: "e", Value: r.Email}})); err != nil {
			return 0, 0, wrap(err, "mongo: erasing roster rows")
		}
	}
	changes := db.db.Collection(collImportChanges)
	c, err = changes.Find(ctx, d("t", tenant))
	if err != nil {
		return 0, 0, wrap(err, "mongo: erasing roster changes")
	}
	var chunks []changesDoc
	if err := c.All(ctx, &chunks); err != nil {
		return 0, 0, wrap(err, "mongo: erasing roster changes")
	}
	nchanges := 0
	for _, ch := range chunks {
		if !strings.Contains(string(ch.JSON), person) {
			continue
		}
		var cs []reporting.Change
		if err := json.Unmarshal(ch.JSON, &cs); err != nil {
			return 0, 0, errs.Wrap(err, "mongo: erasing roster changes")
		}
		n := 0
		for i := range cs {
			if changeFn(&cs[i]) {
				n++
			}
		}
		nchanges += n
		if n == 0 || dryRun {
			continue
		}
		b, err := json.Marshal(cs)
		if err != nil {
			return 0, 0, errs.Wrap(err, "mongo: erasing roster changes")
		}
		if _, err := changes.UpdateOne(ctx, d("_id", ch.ID), d("$set", d("j", b))); err != nil {
			return 0, 0, wrap(err, "mongo: erasing roster changes")
		}
	}
	return nrows, nchanges, nil
}

// RewriteReminders gives the person's reminder records the pseudonym.
func (db *DB) RewriteReminders(ctx context.Context, tenant, person, pseudonym string, dryRun bool) (int, error) {
	filter := bson.D{{Key: "t", Value: tenant}, {Key: "p", Value: person}}
	c := db.db.Collection(collReminders)
	if dryRun {
		n, err := c.CountDocuments(ctx, filter)
		return int(n), wrap(err, "mongo: erasing reminder records")
	}
	res, err := c.UpdateMany(ctx, filter, d("$set", bson.D{{Key: "p", Value: pseudonym}, {Key: "e", Value: ""}}))
	if err != nil {
		return 0, wrap(err, "mongo: erasing reminder records")
	}
	return int(res.MatchedCount), nil
}

// RewriteAudit applies replace to the tenant's audit entries.
func (db *DB) RewriteAudit(ctx context.Context, tenant string, replace func(string) string, dryRun bool) (int, error) {
	c := db.db.Collection(collAudit)
	cur, err := c.Find(ctx, d("t", tenant))
	if err != nil {
		return 0, wrap(err, "mongo: erasing audit entries")
	}
	var docs []auditDoc
	if err := cur.All(ctx, &docs); err != nil {
		return 0, wrap(err, "mongo: erasing audit entries")
	}
	n := 0
	for _, e := range docs {
		a, t, dt := replace(e.Actor), replace(e.Target), replace(e.Detail)
		if a == e.Actor && t == e.Target && dt == e.Detail {
			continue
		}
		n++
		if dryRun {
			continue
		}
		if _, err := c.UpdateOne(ctx, d("_id", e.ID), d("$set", bson.D{{Key: "a", Value: a}, {Key: "tg", Value: t}, {Key: "dt", Value: dt}})); err != nil {
			return 0, wrap(err, "mongo: erasing audit entries")
		}
	}
	return n, nil
}

// DeletePersonAccounts deletes the person's accounts and their sessions.
func (db *DB) DeletePersonAccounts(ctx context.Context, tenant, person string, dryRun bool) ([]string, error) {
	filter := bson.D{{Key: "t", Value: tenant}, {Key: "p", Value: person}}
	cur, err := db.db.Collection(collAccounts).Find(ctx, filter, options.Find().SetSort(d("_id", 1)))
	if err != nil {
		return nil, wrap(err, "mongo: deleting accounts")
	}
	var docs []accountDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap(err, "mongo: deleting accounts")
	}
	names := make([]string, len(docs))
	for i, a := range docs {
		names[i] = a.Name
	}
	if dryRun {
		return names, nil
	}
	sessions := db.db.Collection(collSessions)
	if len(names) > 0 {
		if _, err := sessions.DeleteMany(ctx, d("a", d("$in", names))); err != nil {
			return nil, wrap(err, "mongo: deleting sessions")
		}
	}
	if _, err := sessions.DeleteMany(ctx, filter); err != nil {
		return nil, wrap(err, "mongo: deleting sessions")
	}
	_, err = db.db.Collection(collAccounts).DeleteMany(ctx, filter)
	return names, wrap(err, "mongo: deleting accounts")
}

type erasureDoc struct {
	ID     bson.ObjectID `bson:"_id"`
	Tenant string        `bson:"t"`
	Time   int64         `bson:"tm"`
	JSON   []byte        `bson:"j"`
}

// AddErasure stores an erasure record.
func (db *DB) AddErasure(ctx context.Context, e *privacy.Erasure) error {
	b, err := json.Marshal(e)
	if err != nil {
		return errs.Wrap(err, "mongo: encoding an erasure record")
	}
	_, err = db.db.Collection(collErasures).InsertOne(ctx, erasureDoc{ID: bson.NewObjectID(), Tenant: e.Tenant, Time: e.Time.UnixNano(), JSON: b})
	return wrap(err, "mongo: storing an erasure record")
}

// Erasures lists a tenant's erasure records, oldest first.
func (db *DB) Erasures(ctx context.Context, tenant string) ([]*privacy.Erasure, error) {
	cur, err := db.db.Collection(collErasures).Find(ctx, d("t", tenant), options.Find().SetSort(bson.D{{Key: "tm", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, wrap(err, "mongo: erasure records")
	}
	var docs []erasureDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap(err, "mongo: erasure records")
	}
	out := make([]*privacy.Erasure, len(docs))
	for i, x := range docs {
		out[i] = &privacy.Erasure{}
		if err := json.Unmarshal(x.JSON, out[i]); err != nil {
			return nil, errs.Wrap(err, "mongo: erasure records")
		}
	}
	return out, nil
}
