package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/reporting"
)

// The projection is three collections of documents that are only ever
// inserted (agents also renamed) and deleted by a reset:
//
//	rp_facts        one per fact: _id tenant/statement/agent, so adding a
//	                fact again fails on the duplicate _id and changes
//	                nothing (an unordered insert writes the others);
//	                index {t, g}: a report reads the facts of a batch of
//	                agents with one $in on it
//	rp_retractions  one per (tenant, voided statement, voiding time):
//	                _id tenant/statement/stored, so they too are idempotent
//	                inserts, and retracting a statement twice keeps both
//	                (readers take the earliest); index {t, s}
//	rp_agents       one per agent with facts: _id tenant/agent, holding
//	                the latest non-empty name statements gave; the tenant's
//	                agents, in order, are an _id range
//
// Ingesting a batch of statements usually costs two commands (a read of
// its agents, the insert of its facts), a third and fourth when it brings
// new agents or new names; no write depends on an update being atomic.
// Facts reads the facts of up to factBatch agents per query, then the
// retractions of their statements and the agents' names by $in, and joins
// them in Go.

// factDoc is one fact. Field names are short: they repeat in every
// document.
type factDoc struct {
	ID         string   `bson:"_id,omitempty"`
	Tenant     string   `bson:"t,omitempty"`
	Agent      string   `bson:"g"`
	Statement  string   `bson:"s"`
	Activities []string `bson:"a"`
	Outcome    int32    `bson:"o"`
	Score      *float64 `bson:"sc,omitempty"` // result.score.scaled, when given
	// Registration is context.registration, when given.
	Registration string `bson:"r,omitempty"`
	Timestamp    int64  `bson:"ts"` // Unix nanoseconds
	Stored       int64  `bson:"st"` // Unix nanoseconds
}

// retractionDoc is one retraction.
type retractionDoc struct {
	ID        string `bson:"_id,omitempty"`
	Tenant    string `bson:"t,omitempty"`
	Statement string `bson:"s"`
	Stored    int64  `bson:"v"` // Unix nanoseconds
}

// agentDoc is an agent with facts.
type agentDoc struct {
	ID   string `bson:"_id"` // tenant/agent
	Name string `bson:"n"`
}

// factBatch is how many agents one query of Facts reads.
const factBatch = 1000

// idBatch bounds the values of one $in on statement ids.
const idBatch = 10000

// agentID returns the _id of an agent of tenant in rp_agents. Tenant names
// hold no "/", so the _ids of a tenant's agents are the range
// [tenant+"/", tenant+"0") and sort by agent.
func agentID(tenant, agent string) string { return tenant + "/" + agent }

// tenantRange returns the filter of the _ids starting with tenant+"/".
func tenantRange(tenant string) bson.D {
	return d("_id", bson.D{{Key: "$gte", Value: tenant + "/"}, {Key: "$lt", Value: tenant + "0"}})
}

// AddFacts stores facts: first the agents' latest names, then the facts,
// those stored already being skipped by their _id. A crash in between
// leaves an agent listed without facts, which readers skip; a retry
// completes the write.
func (db *DB) AddFacts(ctx context.Context, tenant string, facts []reporting.Fact) error {
	if len(facts) == 0 {
		return nil
	}
	names := map[string]string{} // agent -> latest non-empty name in facts
	var agents []string
	docs := make([]any, 0, len(facts))
	seen := make(map[string]bool, len(facts))
	for i := range facts {
		f := &facts[i]
		if _, ok := names[f.Agent]; !ok {
			names[f.Agent] = ""
			agents = append(agents, f.Agent)
		}
		if f.Name != "" {
			names[f.Agent] = f.Name
		}
		id := tenant + "/" + f.Statement.String() + "/" + f.Agent
		if seen[id] {
			continue
		}
		seen[id] = true
		doc := &factDoc{ID: id, Tenant: tenant, Agent: f.Agent, Statement: f.Statement.String(),
			Activities: f.Activities, Outcome: int32(f.Outcome), Timestamp: f.Timestamp.UnixNano(), Stored: f.Stored.UnixNano()}
		if doc.Activities == nil {
			doc.Activities = []string{}
		}
		if f.HasScore {
			s := f.Score
			doc.Score = &s
		}
		if f.Registration != uuid.Nil {
			doc.Registration = f.Registration.String()
		}
		docs = append(docs, doc)
	}
	if err := db.noteAgents(ctx, tenant, agents, names); err != nil {
		return err
	}
	_, err := db.db.Collection(collFacts).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err != nil && !onlyDuplicates(err) {
		return wrap(err, "mongo: storing facts")
	}
	return nil
}

// Commit writes a unit of the ingest (ingest.Store) without a
// transaction: it stores the records and attachments (Insert), then, once
// they are committed, the facts and retractions (reporting.WriteProjection)
// and the activity definitions (MergeActivities). Facts and retractions
// are keyed and immutable and definitions merge idempotently, so those of
// statements stored before are written again harmlessly, and a unit that
// failed after the commit completes when committed again. What follows
// the commit is written even when ctx is cancelled after it.
func (db *DB) Commit(ctx context.Context, u *ingest.Unit) error {
	if len(u.Records) == 0 {
		return nil
	}
	for _, r := range u.Records {
		if r == nil || r.Tenant != u.Tenant {
			return errs.E(errs.Internal, "mongo: Commit of nil records or of the statements of another tenant")
		}
	}
	if err := db.Insert(ctx, u.Records, u.Attachments); err != nil {
		return err
	}
	// The statements are committed: what they bring is written even when
	// the caller has gone.
	pctx, cancel := detached(ctx)
	defer cancel()
	if len(u.Facts) > 0 || len(u.Retractions) > 0 {
		if err := reporting.WriteProjection(pctx, db, u.Tenant, u.Facts, u.Retractions); err != nil {
			return err
		}
	}
	return db.MergeActivities(pctx, u.Tenant, u.Definitions)
}

// maxUpdates bounds the statements of one update command. FerretDB v1.24
// keeps each statement's query open until the whole command ends, and
// hangs at the 100th of its pool of 100 SQLite connections.
const maxUpdates = 50

// noteAgents records agents as having facts, with their latest non-empty
// names: it reads their documents, inserts those missing, and updates the
// names that changed. Usually that is one read: the agents of a batch of
// statements are known already, under the same name.
func (db *DB) noteAgents(ctx context.Context, tenant string, agents []string, names map[string]string) error {
	have, err := db.agentNames(ctx, tenant, agents)
	if err != nil {
		return err
	}
	var added []any
	var renamed []string
	for _, a := range agents {
		n, ok := have[a]
		switch {
		case !ok:
			added = append(added, &agentDoc{ID: agentID(tenant, a), Name: names[a]})
		case names[a] != "" && names[a] != n:
			renamed = append(renamed, a)
		}
	}
	if len(added) > 0 {
		_, err := db.db.Collection(collAgents).InsertMany(ctx, added, options.InsertMany().SetOrdered(false))
		var bwe mdb.BulkWriteException
		if errors.As(err, &bwe) && onlyDuplicates(err) {
			// Inserted meanwhile by another call, maybe under another
			// name: set ours.
			for _, we := range bwe.WriteErrors {
				if doc := added[we.Index].(*agentDoc); doc.Name != "" {
					renamed = append(renamed, doc.ID[len(tenant)+1:])
				}
			}
		} else if err != nil {
			return wrap(err, "mongo: storing fact agents")
		}
	}
	for start := 0; start < len(renamed); start += maxUpdates {
		var models []mdb.WriteModel
		for _, a := range renamed[start:min(start+maxUpdates, len(renamed))] {
			models = append(models, mdb.NewUpdateOneModel().SetFilter(d("_id", agentID(tenant, a))).SetUpdate(d("$set", d("n", names[a]))))
		}
		if _, err := db.db.Collection(collAgents).BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
			return wrap(err, "mongo: storing fact agents")
		}
	}
	return nil
}

// onlyDuplicates reports whether err is a bulk write error whose every
// write error is a duplicate _id.
func onlyDuplicates(err error) bool {
	var bwe mdb.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != 11000 && we.Code != 11001 {
			return false
		}
	}
	return true
}

// RetractFacts records retractions: idempotent inserts.
func (db *DB) RetractFacts(ctx context.Context, tenant string, rs []reporting.Retraction) error {
	if len(rs) == 0 {
		return nil
	}
	docs := make([]any, 0, len(rs))
	seen := make(map[string]bool, len(rs))
	for _, r := range rs {
		s := r.Statement.String()
		v := r.Stored.UnixNano()
		id := fmt.Sprintf("%s/%s/%019d", tenant, s, v)
		if seen[id] {
			continue
		}
		seen[id] = true
		docs = append(docs, &retractionDoc{ID: id, Tenant: tenant, Statement: s, Stored: v})
	}
	_, err := db.db.Collection(collRetractions).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err != nil && !onlyDuplicates(err) {
		return wrap(err, "mongo: storing retractions")
	}
	return nil
}

// Facts calls fn with the facts of each of agents that has some (every
// agent of the tenant when agents is nil), reading factBatch agents at a
// time.
func (db *DB) Facts(ctx context.Context, tenant string, agents []string, fn func(agent string, facts []reporting.Fact) error) error {
	if agents == nil {
		return db.eachAgentBatch(ctx, tenant, func(batch []agentDoc) error {
			keys := make([]string, len(batch))
			names := make(map[string]string, len(batch))
			for i, a := range batch {
				keys[i] = a.ID[len(tenant)+1:]
				names[keys[i]] = a.Name
			}
			return db.factsOf(ctx, tenant, keys, names, fn)
		})
	}
	keys := slices.Clone(agents)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	for start := 0; start < len(keys); start += factBatch {
		batch := keys[start:min(start+factBatch, len(keys))]
		names, err := db.agentNames(ctx, tenant, batch)
		if err != nil {
			return err
		}
		if err := db.factsOf(ctx, tenant, batch, names, fn); err != nil {
			return err
		}
	}
	return nil
}

// eachAgentBatch calls fn with the tenant's agents in order, factBatch at
// a time.
func (db *DB) eachAgentBatch(ctx context.Context, tenant string, fn func([]agentDoc) error) error {
	cur, err := db.db.Collection(collAgents).Find(ctx, tenantRange(tenant), options.Find().SetSort(d("_id", 1)))
	if err != nil {
		return wrap(err, "mongo: reading fact agents")
	}
	defer cur.Close(ctx)
	batch := make([]agentDoc, 0, factBatch)
	for cur.Next(ctx) {
		var a agentDoc
		if err := cur.Decode(&a); err != nil {
			return wrap(err, "mongo: reading fact agents")
		}
		batch = append(batch, a)
		if len(batch) == factBatch {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := cur.Err(); err != nil {
		return wrap(err, "mongo: reading fact agents")
	}
	if len(batch) > 0 {
		return fn(batch)
	}
	return nil
}

// agentNames returns the latest names of those of agents that have facts.
func (db *DB) agentNames(ctx context.Context, tenant string, agents []string) (map[string]string, error) {
	names := make(map[string]string, len(agents))
	for start := 0; start < len(agents); start += idBatch {
		part := agents[start:min(start+idBatch, len(agents))]
		ids := make([]string, len(part))
		for i, a := range part {
			ids[i] = agentID(tenant, a)
		}
		cur, err := db.db.Collection(collAgents).Find(ctx, d("_id", d("$in", ids)))
		if err != nil {
			return nil, wrap(err, "mongo: reading fact agents")
		}
		var docs []agentDoc
		if err := cur.All(ctx, &docs); err != nil {
			return nil, wrap(err, "mongo: reading fact agents")
		}
		for _, a := range docs {
			names[a.ID[len(tenant)+1:]] = a.Name
		}
	}
	return names, nil
}

// factsOf reads the facts of agents (sorted, at most factBatch) and their
// retractions, and calls fn for each agent with facts.
func (db *DB) factsOf(ctx context.Context, tenant string, agents []string, names map[string]string, fn func(string, []reporting.Fact) error) error {
	cur, err := db.db.Collection(collFacts).Find(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "g", Value: d("$in", agents)}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "t", Value: 0}}))
	if err != nil {
		return wrap(err, "mongo: reading facts")
	}
	var docs []factDoc
	if err := cur.All(ctx, &docs); err != nil {
		return wrap(err, "mongo: reading facts")
	}
	if len(docs) == 0 {
		return nil
	}
	ids := make([]string, 0, len(docs))
	for i := range docs {
		ids = append(ids, docs[i].Statement)
	}
	voided, err := db.retractions(ctx, tenant, ids)
	if err != nil {
		return err
	}
	byAgent := make(map[string][]reporting.Fact, len(agents))
	for i := range docs {
		doc := &docs[i]
		id, err := uuid.Parse(doc.Statement)
		if err != nil {
			return errs.Wrap(err, "mongo: a stored fact has a bad statement id")
		}
		f := reporting.Fact{Statement: id, Agent: doc.Agent, Name: names[doc.Agent], Activities: doc.Activities,
			Outcome: reporting.Outcome(doc.Outcome), Timestamp: time.Unix(0, doc.Timestamp).UTC(), Stored: time.Unix(0, doc.Stored).UTC()}
		if doc.Score != nil {
			f.HasScore, f.Score = true, *doc.Score
		}
		if doc.Registration != "" {
			if f.Registration, err = uuid.Parse(doc.Registration); err != nil {
				return errs.Wrap(err, "mongo: a stored fact has a bad registration")
			}
		}
		if v, ok := voided[doc.Statement]; ok {
			f.VoidedAt = time.Unix(0, v).UTC()
		}
		byAgent[doc.Agent] = append(byAgent[doc.Agent], f)
	}
	for _, a := range agents {
		if facts := byAgent[a]; len(facts) > 0 {
			if err := fn(a, facts); err != nil {
				return err
			}
		}
	}
	return nil
}

// retractions returns, of the statements ids, those retracted, with the
// earliest time (Unix nanoseconds) each was.
func (db *DB) retractions(ctx context.Context, tenant string, ids []string) (map[string]int64, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := map[string]int64{}
	for start := 0; start < len(ids); start += idBatch {
		part := ids[start:min(start+idBatch, len(ids))]
		cur, err := db.db.Collection(collRetractions).Find(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "s", Value: d("$in", part)}},
			options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "s", Value: 1}, {Key: "v", Value: 1}}))
		if err != nil {
			return nil, wrap(err, "mongo: reading retractions")
		}
		var docs []retractionDoc
		if err := cur.All(ctx, &docs); err != nil {
			return nil, wrap(err, "mongo: reading retractions")
		}
		for _, r := range docs {
			if v, ok := out[r.Statement]; !ok || r.Stored < v {
				out[r.Statement] = r.Stored
			}
		}
	}
	return out, nil
}

// FactAgents lists every agent of tenant with facts, with its latest name,
// sorted by agent: one range of _ids.
func (db *DB) FactAgents(ctx context.Context, tenant string) ([]reporting.AgentFacts, error) {
	out := []reporting.AgentFacts{}
	err := db.eachAgentBatch(ctx, tenant, func(batch []agentDoc) error {
		for _, a := range batch {
			out = append(out, reporting.AgentFacts{Agent: a.ID[len(tenant)+1:], Name: a.Name})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ResetFacts deletes the projection of tenant: its facts, retractions and
// agents.
func (db *DB) ResetFacts(ctx context.Context, tenant string) error {
	if _, err := db.db.Collection(collFacts).DeleteMany(ctx, d("t", tenant)); err != nil {
		return wrap(err, "mongo: deleting facts")
	}
	if _, err := db.db.Collection(collRetractions).DeleteMany(ctx, d("t", tenant)); err != nil {
		return wrap(err, "mongo: deleting retractions")
	}
	_, err := db.db.Collection(collAgents).DeleteMany(ctx, tenantRange(tenant))
	return wrap(err, "mongo: deleting fact agents")
}
