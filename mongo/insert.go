package mongo

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// errCommitted is returned by abort when the batch turned out committed.
var errCommitted = errors.New("batch already committed")

// Insert stores recs and atts as one batch (see the package documentation
// for the protocol): register the batch, write its documents marked with
// the batch id, link them to stored statements, commit by flipping the
// batch record's state, then do the follow-up work (clear the marks, void
// targets, pass facets on to referring statements) and drop the record.
func (db *DB) Insert(ctx context.Context, recs []*statements.Record, atts []statements.Attachment) error {
	batch := newID()
	var docs []*stmtDoc
	byKey := make(map[string]*stmtDoc)
	var tenants []string
	minStored := int64(-1)
	for _, r := range recs {
		k := docKey(r.Tenant, r.ID)
		if prev, ok := byKey[k]; ok {
			if prev.Hash != r.Hash {
				return conflict(r.ID)
			}
			continue
		}
		doc, err := newStmtDoc(r, batch)
		if err != nil {
			return err
		}
		docs = append(docs, doc)
		byKey[k] = doc
		if !slices.Contains(tenants, r.Tenant) {
			tenants = append(tenants, r.Tenant)
		}
		if minStored < 0 || doc.Stored < minStored {
			minStored = doc.Stored
		}
	}
	if len(docs) == 0 {
		return nil // attachments belong to statements; none here
	}
	db.mu.Lock()
	db.inflight[batch] = minStored
	db.mu.Unlock()
	defer func() {
		db.mu.Lock()
		delete(db.inflight, batch)
		db.mu.Unlock()
	}()
	linkInBatch(docs)

	keys := make([]string, len(docs))
	for i, doc := range docs {
		keys[i] = doc.Key
	}
	rec := batchDoc{ID: batch, State: statePending, Created: time.Now().UnixNano(), MinStored: minStored, Keys: keys}
	if _, err := db.bats.InsertOne(ctx, rec); err != nil {
		return wrap(err, "mongo: registering a batch")
	}
	fail := func(err error) error {
		actx, cancel := detached(ctx)
		defer cancel()
		if aerr := db.abort(actx, batch); aerr != nil && !errors.Is(aerr, errCommitted) {
			db.log.Warn("aborting a batch; recovery will retry", "batch", batch, "err", aerr)
		}
		return err
	}

	if err := db.insertAttachments(ctx, batch, tenants, atts); err != nil {
		return fail(err)
	}
	written, err := db.insertDocs(ctx, batch, docs)
	if err != nil {
		return fail(err)
	}
	if err := db.link(ctx, batch, written); err != nil {
		return fail(err)
	}

	// The commit point: one conditional update of one document.
	res, err := db.bats.UpdateOne(ctx, bson.D{{Key: "_id", Value: batch}, {Key: "st", Value: statePending}},
		d("$set", d("st", stateCommitted)))
	if err != nil {
		// The outcome is unknown: settle it by trying to abort.
		actx, cancel := detached(ctx)
		aerr := db.abort(actx, batch)
		cancel()
		if !errors.Is(aerr, errCommitted) {
			if aerr != nil {
				db.log.Warn("aborting a batch; recovery will retry", "batch", batch, "err", aerr)
			}
			return wrap(err, "mongo: committing a batch")
		}
	} else if res.MatchedCount == 0 {
		return fail(&errs.Error{Kind: errs.Unavailable, Message: "the statement store took too long to write the statements; retry"})
	}

	// Committed: the statements are durable and visible. What remains is
	// idempotent and redone by recovery if this process dies.
	fctx, cancel := detached(ctx)
	defer cancel()
	if err := db.finish(fctx, batch, written); err != nil {
		db.log.Warn("finishing a committed batch; recovery will retry", "batch", batch, "err", err)
	}
	return nil
}

func conflict(id string) error {
	return &errs.Error{Kind: errs.Conflict, Path: "id", Rule: "statement-id-unique",
		Message: "a different statement with id " + id + " is already stored"}
}

// detached returns a context that outlives the caller's cancellation, for
// work that must not be left half done.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// linkInBatch applies, in memory, the relations between statements of the
// same batch: voiding and facet inheritance along StatementRefs.
func linkInBatch(docs []*stmtDoc) {
	byKey := make(map[string]*stmtDoc, len(docs))
	own := make(map[string]facets, len(docs))
	for _, doc := range docs {
		byKey[doc.Key] = doc
		own[doc.Key] = doc.Facets
	}
	for _, doc := range docs {
		if doc.Voids != "" {
			if t := byKey[docKey(doc.Tenant, doc.Voids)]; t != nil && t.Voids == "" {
				t.Voided = true
			}
		}
		seen := map[string]bool{doc.Key: true}
		for ref := doc.RefID; ref != ""; {
			k := docKey(doc.Tenant, ref)
			t := byKey[k]
			if t == nil || seen[k] {
				break
			}
			seen[k] = true
			doc.Facets.merge(own[k])
			ref = t.RefID
		}
	}
}

// insertDocs writes docs with one unordered insert and settles duplicate
// ids: a visible statement with the same hash is skipped, with another hash
// it is a conflict; a leftover of an aborted batch is removed and the insert
// retried; another writer's batch in flight is waited for. It returns the
// documents this batch wrote.
func (db *DB) insertDocs(ctx context.Context, batch string, docs []*stmtDoc) ([]*stmtDoc, error) {
	var written []*stmtDoc
	todo := docs
	deadline := time.Now().Add(db.waitPending)
	for len(todo) > 0 {
		dup := make(map[int]bool)
		_, err := db.stmts.InsertMany(ctx, todo, options.InsertMany().SetOrdered(false))
		if err != nil {
			var bwe mdb.BulkWriteException
			if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
				return nil, wrap(err, "mongo: inserting statements")
			}
			for _, we := range bwe.WriteErrors {
				if we.Code != 11000 {
					return nil, wrap(err, "mongo: inserting statements")
				}
				dup[we.Index] = true
			}
		}
		var dups []*stmtDoc
		var dupKeys []string
		for i, doc := range todo {
			if dup[i] {
				dups = append(dups, doc)
				dupKeys = append(dupKeys, doc.Key)
			} else {
				written = append(written, doc)
			}
		}
		if len(dups) == 0 {
			break
		}
		c, err := db.stmts.Find(ctx, d("_id", d("$in", dupKeys)),
			options.Find().SetProjection(bson.D{{Key: "h", Value: 1}, {Key: "p", Value: 1}}))
		if err != nil {
			return nil, wrap(err, "mongo: reading stored statements")
		}
		var found []stmtDoc
		if err := c.All(ctx, &found); err != nil {
			return nil, wrap(err, "mongo: reading stored statements")
		}
		existing := make(map[string]stmtDoc, len(found))
		var batches []string
		for _, f := range found {
			existing[f.Key] = f
			batches = append(batches, f.Batch)
		}
		bs := db.newBatchStates()
		if err := bs.load(ctx, batches); err != nil {
			return nil, err
		}
		todo = nil
		wait := false
		for _, doc := range dups {
			ex, ok := existing[doc.Key]
			switch {
			case !ok: // removed meanwhile
				todo = append(todo, doc)
			case bs.visible(ex.Batch):
				if ex.Hash != doc.Hash {
					return nil, conflict(doc.ID)
				}
				// the same statement is stored: skip it
			default:
				other := bs.state[ex.Batch]
				switch {
				case other.State == "" || other.State == stateAborting:
					// a leftover of an aborted batch
					if _, err := db.stmts.DeleteOne(ctx, bson.D{{Key: "_id", Value: ex.Key}, {Key: "p", Value: ex.Batch}}); err != nil {
						return nil, wrap(err, "mongo: removing an aborted statement")
					}
				case time.Since(time.Unix(0, other.Created)) > db.staleAfter:
					if err := db.abort(ctx, ex.Batch); err != nil && !errors.Is(err, errCommitted) {
						return nil, err
					}
				default:
					wait = true
				}
				todo = append(todo, doc)
			}
		}
		if wait {
			if time.Now().After(deadline) {
				return nil, &errs.Error{Kind: errs.Unavailable,
					Message: "another request is still storing a statement with the same id; retry"}
			}
			select {
			case <-ctx.Done():
				return nil, wrap(ctx.Err(), "mongo: waiting for another batch")
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return written, nil
}

// insertAttachments writes a copy of each attachment, per tenant of the
// batch, unless a visible copy is already stored.
func (db *DB) insertAttachments(ctx context.Context, batch string, tenants []string, atts []statements.Attachment) error {
	if len(atts) == 0 {
		return nil
	}
	var hashes []string
	for _, a := range atts {
		hashes = append(hashes, a.SHA2)
	}
	c, err := db.atts.Find(ctx, bson.D{{Key: "t", Value: d("$in", tenants)}, {Key: "sha", Value: d("$in", hashes)}},
		options.Find().SetProjection(bson.D{{Key: "t", Value: 1}, {Key: "sha", Value: 1}, {Key: "p", Value: 1}}))
	if err != nil {
		return wrap(err, "mongo: reading attachments")
	}
	var found []attDoc
	if err := c.All(ctx, &found); err != nil {
		return wrap(err, "mongo: reading attachments")
	}
	bs := db.newBatchStates()
	var batches []string
	for _, f := range found {
		batches = append(batches, f.Batch)
	}
	if err := bs.load(ctx, batches); err != nil {
		return err
	}
	have := make(map[string]bool)
	for _, f := range found {
		if bs.visible(f.Batch) {
			have[f.Tenant+"/"+f.SHA2] = true
		}
	}
	var docs []attDoc
	for _, t := range tenants {
		for _, a := range atts {
			k := t + "/" + a.SHA2
			if have[k] {
				continue
			}
			have[k] = true
			docs = append(docs, attDoc{Key: k + "/" + batch, Tenant: t, SHA2: a.SHA2,
				ContentType: a.ContentType, Data: a.Data, Batch: batch})
		}
	}
	if len(docs) == 0 {
		return nil
	}
	_, err = db.atts.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err != nil && !mdb.IsDuplicateKeyError(err) {
		return wrap(err, "mongo: inserting attachments")
	}
	return nil
}

// tid is a statement id within a tenant.
type tid struct{ t, id string }

// refQuery builds a filter matching field against ids, grouped by tenant.
func refQuery(field string, ids []tid) bson.D {
	byTenant := make(map[string][]string)
	var order []string
	for _, x := range ids {
		if _, ok := byTenant[x.t]; !ok {
			order = append(order, x.t)
		}
		byTenant[x.t] = append(byTenant[x.t], x.id)
	}
	var or bson.A
	for _, t := range order {
		or = append(or, bson.D{{Key: "t", Value: t}, {Key: field, Value: d("$in", byTenant[t])}})
	}
	if len(or) == 1 {
		return or[0].(bson.D)
	}
	return d("$or", or)
}

// linkFields is the projection of what linking needs of a statement.
var linkFields = bson.D{{Key: "t", Value: 1}, {Key: "id", Value: 1}, {Key: "ref", Value: 1}, {Key: "vd", Value: 1},
	{Key: "p", Value: 1}, {Key: "qa", Value: 1}, {Key: "qra", Value: 1}, {Key: "qc", Value: 1},
	{Key: "qrc", Value: 1}, {Key: "qv", Value: 1}, {Key: "qr", Value: 1}}

// link relates the batch's written (still invisible) documents to committed
// statements outside the batch, before the commit: a statement that a
// committed voiding statement targets is marked voided, and a statement
// referring (directly or through batch members) to a committed statement
// inherits its facets. Statements committed later do the reverse in
// finish, so every interleaving of two writers is covered: whichever
// commits second sees the other.
func (db *DB) link(ctx context.Context, batch string, docs []*stmtDoc) error {
	if len(docs) == 0 {
		return nil
	}
	byKey := make(map[string]*stmtDoc, len(docs))
	var ids []tid
	for _, doc := range docs {
		byKey[doc.Key] = doc
		ids = append(ids, tid{doc.Tenant, doc.ID})
	}
	// end follows doc's references through the batch to the first
	// statement outside it.
	end := func(doc *stmtDoc) string {
		seen := map[string]bool{doc.Key: true}
		for ref := doc.RefID; ref != ""; {
			k := docKey(doc.Tenant, ref)
			t := byKey[k]
			if t == nil {
				return k
			}
			if seen[k] {
				return ""
			}
			seen[k] = true
			ref = t.RefID
		}
		return ""
	}
	var externals []string
	seenExt := make(map[string]bool)
	for _, doc := range docs {
		if k := end(doc); k != "" && !seenExt[k] {
			seenExt[k] = true
			externals = append(externals, k)
		}
	}
	or := bson.A{refQuery("vd", ids)}
	if len(externals) > 0 {
		or = append(or, d("_id", d("$in", externals)))
	}
	c, err := db.stmts.Find(ctx, d("$or", or), options.Find().SetProjection(linkFields))
	if err != nil {
		return wrap(err, "mongo: reading related statements")
	}
	var found []stmtDoc
	if err := c.All(ctx, &found); err != nil {
		return wrap(err, "mongo: reading related statements")
	}
	bs := db.newBatchStates()
	var batches []string
	for _, f := range found {
		if f.Batch != batch {
			batches = append(batches, f.Batch)
		}
	}
	if err := bs.load(ctx, batches); err != nil {
		return err
	}
	var models []mdb.WriteModel
	ext := make(map[string]facets)
	for _, f := range found {
		if f.Batch == batch || !bs.visible(f.Batch) {
			continue // our own, or not committed: it will link itself after its commit
		}
		ext[f.Key] = f.Facets
		if f.Voids != "" {
			if t := byKey[docKey(f.Tenant, f.Voids)]; t != nil && t.Voids == "" && !t.Voided {
				t.Voided = true
				models = append(models, mdb.NewUpdateOneModel().SetFilter(d("_id", t.Key)).
					SetUpdate(d("$set", d("x", true))))
			}
		}
	}
	for _, doc := range docs {
		f, ok := ext[end(doc)]
		if !ok {
			continue
		}
		add := f.minus(doc.Facets)
		if add.size() == 0 {
			continue
		}
		doc.Facets.merge(add)
		models = append(models, mdb.NewUpdateOneModel().SetFilter(d("_id", doc.Key)).SetUpdate(add.addToSet()))
	}
	if len(models) == 0 {
		return nil
	}
	_, err = db.stmts.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	return wrap(err, "mongo: linking statements")
}

// finish does a committed batch's follow-up work, all of it idempotent:
// clear the batch marks, void the targets of its voiding statements (when
// they are not voiding statements themselves), pass its statements' facets
// on to statements that refer to them (transitively), and drop the batch
// record. docs are the documents the batch wrote.
func (db *DB) finish(ctx context.Context, batch string, docs []*stmtDoc) error {
	if _, err := db.stmts.UpdateMany(ctx, d("p", batch), d("$unset", d("p", ""))); err != nil {
		return wrap(err, "mongo: publishing a batch")
	}
	if _, err := db.atts.UpdateMany(ctx, d("p", batch), d("$unset", d("p", ""))); err != nil {
		return wrap(err, "mongo: publishing a batch")
	}
	inBatch := make(map[string]bool, len(docs))
	for _, doc := range docs {
		inBatch[doc.Key] = true
	}
	var targets []string
	for _, doc := range docs {
		if k := docKey(doc.Tenant, doc.Voids); doc.Voids != "" && !inBatch[k] {
			targets = append(targets, k)
		}
	}
	if len(targets) > 0 {
		_, err := db.stmts.UpdateMany(ctx, bson.D{{Key: "_id", Value: d("$in", targets)}, {Key: "vd", Value: ""}},
			d("$set", d("x", true)))
		if err != nil {
			return wrap(err, "mongo: voiding statements")
		}
	}
	if err := db.propagate(ctx, docs); err != nil {
		return err
	}
	_, err := db.bats.DeleteOne(ctx, d("_id", batch))
	return wrap(err, "mongo: dropping a finished batch")
}

// propagate adds the facets of docs to the statements that refer to them,
// directly or through other statements, one query per level of references.
// A statement that already holds what would be added stops the walk there:
// whoever added it also passes it on.
func (db *DB) propagate(ctx context.Context, docs []*stmtDoc) error {
	carry := make(map[string]facets) // what each reached statement passes on
	var frontier []tid
	for _, doc := range docs {
		carry[doc.Key] = doc.Facets
		frontier = append(frontier, tid{doc.Tenant, doc.ID})
	}
	adds := make(map[string]*facets)
	var order []string
	for len(frontier) > 0 {
		c, err := db.stmts.Find(ctx, refQuery("ref", frontier), options.Find().SetProjection(linkFields))
		if err != nil {
			return wrap(err, "mongo: reading referring statements")
		}
		var found []stmtDoc
		if err := c.All(ctx, &found); err != nil {
			return wrap(err, "mongo: reading referring statements")
		}
		frontier = nil
		for _, r := range found {
			add := carry[docKey(r.Tenant, r.RefID)].minus(r.Facets)
			acc := adds[r.Key]
			if acc == nil {
				acc = &facets{}
				adds[r.Key] = acc
				order = append(order, r.Key)
			}
			add = add.minus(*acc)
			if add.size() == 0 {
				continue
			}
			acc.merge(add)
			cr := carry[r.Key]
			cr.merge(add)
			carry[r.Key] = cr
			frontier = append(frontier, tid{r.Tenant, r.ID})
		}
	}
	var models []mdb.WriteModel
	for _, k := range order {
		if adds[k].size() > 0 {
			models = append(models, mdb.NewUpdateOneModel().SetFilter(d("_id", k)).SetUpdate(adds[k].addToSet()))
		}
	}
	if len(models) == 0 {
		return nil
	}
	_, err := db.stmts.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	return wrap(err, "mongo: passing facets on to referring statements")
}

// abort removes an uncommitted batch: it claims the record (pending ->
// aborting, so that a late commit fails), deletes the batch's documents,
// then the record. It returns errCommitted when the batch is committed.
func (db *DB) abort(ctx context.Context, batch string) error {
	res, err := db.bats.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: batch}, {Key: "st", Value: d("$in", []string{statePending, stateAborting})}},
		d("$set", d("st", stateAborting)))
	if err != nil {
		return wrap(err, "mongo: aborting a batch")
	}
	if res.MatchedCount == 0 {
		err := db.bats.FindOne(ctx, d("_id", batch), options.FindOne().SetProjection(d("_id", 1))).Err()
		if err == nil {
			return errCommitted
		}
		if err != mdb.ErrNoDocuments {
			return wrap(err, "mongo: aborting a batch")
		}
		// no record: only leftovers may remain
	}
	if _, err := db.stmts.DeleteMany(ctx, d("p", batch)); err != nil {
		return wrap(err, "mongo: aborting a batch")
	}
	if _, err := db.atts.DeleteMany(ctx, d("p", batch)); err != nil {
		return wrap(err, "mongo: aborting a batch")
	}
	_, err = db.bats.DeleteOne(ctx, bson.D{{Key: "_id", Value: batch}, {Key: "st", Value: stateAborting}})
	return wrap(err, "mongo: aborting a batch")
}

// Recover finishes the batches whose writer stopped after committing and
// removes those it stopped before committing (pending for longer than the
// stale limit). Open runs it, then a background sweep every minute; it is
// safe to run from several instances at once.
func (db *DB) Recover(ctx context.Context) error {
	now := time.Now()
	c, err := db.bats.Find(ctx, d("c", d("$lt", now.Add(-min(db.finishAfter, db.staleAfter)).UnixNano())))
	if err != nil {
		return wrap(err, "mongo: reading unfinished batches")
	}
	var recs []batchDoc
	if err := c.All(ctx, &recs); err != nil {
		return wrap(err, "mongo: reading unfinished batches")
	}
	for _, b := range recs {
		age := now.Sub(time.Unix(0, b.Created))
		switch {
		case b.State == stateCommitted && age > db.finishAfter:
			c, err := db.stmts.Find(ctx, d("_id", d("$in", b.Keys)), options.Find().SetProjection(linkFields))
			if err != nil {
				return wrap(err, "mongo: reading a batch")
			}
			var docs []*stmtDoc
			if err := c.All(ctx, &docs); err != nil {
				return wrap(err, "mongo: reading a batch")
			}
			if err := db.finish(ctx, b.ID, docs); err != nil {
				return err
			}
			db.log.Info("finished a batch left committed", "batch", b.ID, "statements", len(docs))
		case b.State == stateAborting && age > db.finishAfter,
			b.State == statePending && age > db.staleAfter:
			if err := db.abort(ctx, b.ID); err != nil && !errors.Is(err, errCommitted) {
				return err
			}
			db.log.Info("removed an abandoned batch", "batch", b.ID)
		}
	}
	return nil
}
