package mongo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mdb "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
)

// The roster without transactions.
//
// Collection "rp_roster" holds the rows, never edited except for their
// superseded mark:
//
//	_id   tenant/import/n: the n-th row the import recorded
//	t, kd, k, v, n, e, f, to
//	      tenant, kind, key, value, name, e-mail, valid from and to
//	      (reporting.Date day numbers; absent: 0, unbounded)
//	r     the import that recorded the row
//	x     the import that superseded it; 0 while current
//
// with indexes {t, x, kd} (the current rows: x among a few values),
// {t, k, kd} (the rows of some people) and {t, kd, v} (the members of
// units). Collection "rp_imports" holds one record per import, _id
// tenant/id (19 digits, so that a tenant's records are an _id range in id
// order): its state, a heartbeat, its time, and the reporting.ImportRecord
// as JSON; "rp_import_changes" holds its changes, 1,000 a document, _id
// tenant/id/chunk.
//
// An import claims the next id by inserting its record, state "pending":
// the _id is unique, so of two racing imports one wins and the other
// starts again. It plans against the current rows only when no other
// import of the tenant is pending, so imports are serialised. It then
// writes its changes, marks the superseded rows x=id, inserts its rows
// r=id, and commits by one conditional update of its record, pending ->
// committed: the commit point, atomic because it touches one document.
// Readers read the records first (a few hundred small documents), then
// the rows, and count a row when its r is committed and its x is not
// (0, or an import still pending or aborted, is no supersession): they see
// each import entirely or not at all. Records are never deleted, so every
// x a row may carry names a record.
//
// A failed import removes what it wrote (state aborting, then aborted; its
// id stays used). A writer that dies leaves its record pending: it beats
// a heartbeat into the record while it works, and the next import of the
// tenant aborts a record whose heartbeat is older than importStale (hosts
// need clocks in step to within that). Should the presumed-dead writer
// still write afterwards, its rows and marks carry an aborted id, which
// readers ignore; its commit finds the record aborted and fails. (FerretDB
// runs a conditional update as a query then a write, so there a commit and
// an abort racing on one record could both pass; that takes a writer
// stalled for importStale right at its commit.)

// Import record states (importDoc.State).
const (
	importPending   = "pending"
	importCommitted = "committed"
	importAborting  = "aborting"
	importAborted   = "aborted"
)

// importStale is how old a pending import's heartbeat may be before the
// next import of the tenant presumes its writer dead and aborts it;
// importBeat is how often a writer beats.
const (
	importStale = time.Minute
	importBeat  = 5 * time.Second
)

// changeChunk is how many changes one rp_import_changes document holds.
const changeChunk = 1000

// importDoc is the record of one import.
type importDoc struct {
	ID        string `bson:"_id"` // importKey(tenant, id)
	Tenant    string `bson:"t"`
	Import    int64  `bson:"i"`
	State     string `bson:"st"`
	Heartbeat int64  `bson:"hb"`          // Unix ns, renewed by the writer while pending
	Recorded  int64  `bson:"rc"`          // Unix ns: the time of the import
	Record    []byte `bson:"j,omitempty"` // reporting.ImportRecord as JSON, without its changes
}

func importKey(tenant string, id int64) string { return fmt.Sprintf("%s/%019d", tenant, id) }

// changesDoc holds changes of an import.
type changesDoc struct {
	ID     string `bson:"_id"` // importKey/chunk (10 digits)
	Tenant string `bson:"t"`
	JSON   []byte `bson:"j"` // []reporting.Change as JSON
}

// rowDoc is one roster row.
type rowDoc struct {
	ID         string `bson:"_id"`
	Tenant     string `bson:"t"`
	Kind       string `bson:"kd"`
	Key        string `bson:"k"`
	Value      string `bson:"v,omitempty"`
	Name       string `bson:"n,omitempty"`
	Email      string `bson:"e,omitempty"`
	From       int32  `bson:"f,omitempty"`
	To         int32  `bson:"to,omitempty"`
	Recorded   int64  `bson:"r"`
	Superseded int64  `bson:"x"`
}

func (doc *rowDoc) row() reporting.RosterRow {
	return reporting.RosterRow{Kind: reporting.RowKind(doc.Kind), Key: doc.Key, Value: doc.Value, Name: doc.Name, Email: doc.Email,
		Interval: reporting.Interval{From: reporting.Date(doc.From), To: reporting.Date(doc.To)},
		Recorded: doc.Recorded, Superseded: doc.Superseded}
}

// prefixRange returns the filter of the _ids starting with prefix (which
// ends with "/").
func prefixRange(prefix string) bson.D {
	return d("_id", bson.D{{Key: "$gte", Value: prefix}, {Key: "$lt", Value: prefix[:len(prefix)-1] + "0"}})
}

// imports is what readers and writers know of a tenant's import records.
type imports struct {
	docs []importDoc // every record, by id, without Record
}

// readImports reads the import records of tenant.
func (db *DB) readImports(ctx context.Context, tenant string) (*imports, error) {
	cur, err := db.db.Collection(collImports).Find(ctx, tenantRange(tenant),
		options.Find().SetSort(d("_id", 1)).SetProjection(d("j", 0)))
	if err != nil {
		return nil, wrap(err, "mongo: reading import records")
	}
	st := &imports{}
	if err := cur.All(ctx, &st.docs); err != nil {
		return nil, wrap(err, "mongo: reading import records")
	}
	return st, nil
}

// next returns the id after every record's.
func (st *imports) next() int64 {
	if n := len(st.docs); n > 0 {
		return st.docs[n-1].Import + 1
	}
	return 1
}

// unfinished returns the first record still pending or aborting, or nil.
func (st *imports) unfinished() *importDoc {
	for i := range st.docs {
		if s := st.docs[i].State; s == importPending || s == importAborting {
			return &st.docs[i]
		}
	}
	return nil
}

// visibility says which rows belong to the roster as known at some time.
type visibility struct {
	known     map[int64]bool // the committed imports it includes
	committed map[int64]bool // every committed import
	last      int64          // the highest id in known; 0 when none
	notMarks  []int64        // the values of x that supersede nothing there: 0 and the ids not in known
}

// visibility returns the visibility of the roster as known at knownAt
// (zero: now): the committed imports up to the last one recorded by then.
func (st *imports) visibility(knownAt time.Time) *visibility {
	v := &visibility{known: map[int64]bool{}, committed: map[int64]bool{}}
	for _, doc := range st.docs {
		if doc.State == importCommitted {
			v.committed[doc.Import] = true
			if knownAt.IsZero() || doc.Recorded <= knownAt.UnixNano() {
				v.last = doc.Import
			}
		}
	}
	v.notMarks = []int64{0}
	for _, doc := range st.docs {
		if v.committed[doc.Import] && doc.Import <= v.last {
			v.known[doc.Import] = true
		} else {
			v.notMarks = append(v.notMarks, doc.Import)
		}
	}
	return v
}

// keep reports whether the row belongs to the roster, fixing its mark: a
// mark of an import not committed reads as 0.
func (v *visibility) keep(doc *rowDoc) bool {
	if !v.known[doc.Recorded] || v.known[doc.Superseded] {
		return false
	}
	if !v.committed[doc.Superseded] {
		doc.Superseded = 0
	}
	return true
}

var (
	personKinds = []string{string(reporting.RowPerson), string(reporting.RowMember), string(reporting.RowRole), string(reporting.RowIdent)}
	unitKinds   = []string{string(reporting.RowUnit), string(reporting.RowParent), string(reporting.RowManager)}
)

// rosterDocs returns the rows of tenant visible under v, of kinds (all when
// nil): one indexed query on {t, x, kd}.
func (db *DB) rosterDocs(ctx context.Context, tenant string, v *visibility, kinds []string) ([]rowDoc, error) {
	var filter bson.D
	if kinds != nil {
		filter = bson.D{{Key: "kd", Value: d("$in", kinds)}}
	}
	return db.visibleDocs(ctx, tenant, v, filter)
}

// visibleDocs returns the rows of tenant visible under v that filter
// selects.
func (db *DB) visibleDocs(ctx context.Context, tenant string, v *visibility, filter bson.D) ([]rowDoc, error) {
	if v.last == 0 {
		return nil, nil
	}
	filter = append(bson.D{{Key: "t", Value: tenant}, {Key: "x", Value: d("$in", v.notMarks)}}, filter...)
	filter = append(filter, bson.E{Key: "r", Value: d("$lte", v.last)})
	cur, err := db.db.Collection(collRoster).Find(ctx, filter)
	if err != nil {
		return nil, wrap(err, "mongo: reading the roster")
	}
	var docs []rowDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap(err, "mongo: reading the roster")
	}
	out := docs[:0]
	for i := range docs {
		if v.keep(&docs[i]) {
			out = append(out, docs[i])
		}
	}
	return out, nil
}

// planDocs returns the current rows of tenant (visible under v) that
// reporting.PlanImport needs for an import of scope sc: all of them when sc
// is nil; else the unit rows, the rows of the people named (through {t, k,
// kd}) and the ident rows of the identifiers named (through {t, kd, v}),
// each once.
func (db *DB) planDocs(ctx context.Context, tenant string, v *visibility, sc *reporting.RowScope) ([]rowDoc, error) {
	if sc == nil {
		return db.rosterDocs(ctx, tenant, v, nil)
	}
	out, err := db.rosterDocs(ctx, tenant, v, unitKinds)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, q := range []struct {
		kinds  bson.E
		field  string
		values []string
	}{
		{bson.E{Key: "kd", Value: d("$in", personKinds)}, "k", sc.People},
		{bson.E{Key: "kd", Value: string(reporting.RowIdent)}, "v", sc.Idents},
	} {
		for start := 0; start < len(q.values); start += idBatch {
			docs, err := db.visibleDocs(ctx, tenant, v, bson.D{q.kinds,
				{Key: q.field, Value: d("$in", q.values[start:min(start+idBatch, len(q.values))])}})
			if err != nil {
				return nil, err
			}
			for _, doc := range docs {
				if !seen[doc.ID] {
					seen[doc.ID] = true
					out = append(out, doc)
				}
			}
		}
	}
	return out, nil
}

// ImportRoster applies imp: it waits until no other import of the tenant
// is in flight, plans against the current rows (those the plan needs:
// planDocs), claims the next id, and applies the plan (see above). Import errors (reporting.PlanImport's) fail
// the call before anything is written.
func (db *DB) ImportRoster(ctx context.Context, tenant string, imp *reporting.Import, now time.Time) (*reporting.ImportRecord, error) {
	now = now.UTC()
	for claims, waits := 0, 0; ; {
		st, err := db.readImports(ctx, tenant)
		if err != nil {
			return nil, err
		}
		if busy := st.unfinished(); busy != nil {
			waits++
			if err := db.settleImport(ctx, busy, waits); err != nil {
				return nil, err
			}
			continue
		}
		docs, err := db.planDocs(ctx, tenant, st.visibility(time.Time{}), imp.Scope())
		if err != nil {
			return nil, err
		}
		cur := make([]reporting.RosterRow, len(docs))
		for i := range docs {
			cur[i] = docs[i].row()
		}
		plan, err := reporting.PlanImport(cur, imp, reporting.DateOf(now, time.UTC))
		if err != nil {
			return nil, err
		}
		id := st.next()
		eff := imp.Effective
		if eff == 0 {
			eff = reporting.DateOf(now, time.UTC)
		}
		rec := &reporting.ImportRecord{ID: id, Recorded: now, Effective: eff, Partial: imp.Partial, Source: imp.Source,
			People: len(imp.People), Units: len(imp.Units), Changes: plan.Changes}
		head := *rec
		head.Changes = nil
		b, err := json.Marshal(&head)
		if err != nil {
			return nil, errs.Wrap(err, "mongo: encoding an import record")
		}
		// The claim: no other import can have started since the records
		// were read, or it would hold this id.
		_, err = db.db.Collection(collImports).InsertOne(ctx, importDoc{ID: importKey(tenant, id), Tenant: tenant, Import: id,
			State: importPending, Heartbeat: time.Now().UnixNano(), Recorded: now.UnixNano(), Record: b})
		if mdb.IsDuplicateKeyError(err) {
			if claims++; claims == maxAttempts {
				return nil, errs.E(errs.Unavailable, "other roster imports keep starting; try again")
			}
			continue // and wait for the import that claimed the id
		}
		if err != nil {
			return nil, wrap(err, "mongo: registering an import")
		}
		if err := db.applyImport(ctx, tenant, id, plan, docs); err != nil {
			return nil, err
		}
		return rec, nil
	}
}

// settleImport waits for another import in flight to finish, aborting it
// when its writer seems dead (or it is half aborted already). The wait
// grows with waits, the number of times the caller has waited, from 10 ms
// to about half a second: a large import takes seconds.
func (db *DB) settleImport(ctx context.Context, doc *importDoc, waits int) error {
	if doc.State == importAborting || time.Since(time.Unix(0, doc.Heartbeat)) > importStale {
		err := db.abortImport(ctx, doc.Tenant, doc.Import)
		if err == nil && doc.State == importPending {
			db.log.Warn("aborted a roster import whose writer stopped", "tenant", doc.Tenant, "import", doc.Import)
		}
		if err != nil && !errors.Is(err, errCommitted) {
			return err
		}
		return nil
	}
	wait := time.Duration(min(waits, 50)) * 10 * time.Millisecond
	select {
	case <-ctx.Done():
		return wrap(ctx.Err(), "mongo: waiting for another import")
	case <-time.After(wait/2 + rand.N(wait/2+1)):
		return nil
	}
}

// applyImport writes the plan of claimed import id, docs being the current
// rows it was planned against, and commits. On failure it aborts the
// import.
func (db *DB) applyImport(ctx context.Context, tenant string, id int64, plan *reporting.Plan, docs []rowDoc) error {
	key := importKey(tenant, id)
	beat, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	go db.heartbeat(beat, key)

	err := db.writeImport(ctx, tenant, id, plan, docs)
	if err == nil {
		// The commit point.
		var res *mdb.UpdateResult
		res, err = db.db.Collection(collImports).UpdateOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "st", Value: importPending}},
			d("$set", d("st", importCommitted)))
		if err == nil && res.MatchedCount == 0 {
			// Presumed dead and aborted by another import.
			err = &errs.Error{Kind: errs.Unavailable, Message: "the roster import took too long and was given up; retry"}
		}
	}
	if err == nil {
		return nil
	}
	actx, cancel := detached(ctx)
	defer cancel()
	aerr := db.abortImport(actx, tenant, id)
	if errors.Is(aerr, errCommitted) { // the commit was applied after all
		return nil
	}
	if aerr != nil {
		db.log.Warn("aborting a roster import; the next import will", "tenant", tenant, "import", id, "err", aerr)
	}
	return wrap(err, "mongo: writing a roster import")
}

// heartbeat renews the heartbeat of a pending import until ctx ends.
func (db *DB) heartbeat(ctx context.Context, key string) {
	t := time.NewTicker(importBeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, err := db.db.Collection(collImports).UpdateOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "st", Value: importPending}},
				d("$set", d("hb", time.Now().UnixNano())))
			if err != nil && ctx.Err() == nil {
				db.log.Warn("renewing the heartbeat of a roster import", "import", key, "err", err)
			}
		}
	}
}

// writeImport writes the changes, the supersession marks and the rows of
// import id, all invisible until the commit.
func (db *DB) writeImport(ctx context.Context, tenant string, id int64, plan *reporting.Plan, docs []rowDoc) error {
	key := importKey(tenant, id)
	var chunks []any
	for n, start := 0, 0; start < len(plan.Changes); n, start = n+1, start+changeChunk {
		b, err := json.Marshal(plan.Changes[start:min(start+changeChunk, len(plan.Changes))])
		if err != nil {
			return err
		}
		chunks = append(chunks, &changesDoc{ID: fmt.Sprintf("%s/%010d", key, n), Tenant: tenant, JSON: b})
	}
	if len(chunks) > 0 {
		if _, err := db.db.Collection(collImportChanges).InsertMany(ctx, chunks); err != nil {
			return err
		}
	}

	gone := make(map[reporting.Timeline]bool, len(plan.Supersede))
	for _, t := range plan.Supersede {
		gone[t] = true
	}
	var ids []string
	for i := range docs {
		if gone[reporting.Timeline{Kind: reporting.RowKind(docs[i].Kind), Key: docs[i].Key, Value: docs[i].Value}] {
			ids = append(ids, docs[i].ID)
		}
	}
	roster := db.db.Collection(collRoster)
	for start := 0; start < len(ids); start += idBatch {
		if _, err := roster.UpdateMany(ctx, d("_id", d("$in", ids[start:min(start+idBatch, len(ids))])),
			d("$set", d("x", id))); err != nil {
			return err
		}
	}

	if len(plan.Insert) == 0 {
		return nil
	}
	rows := make([]any, len(plan.Insert))
	for i, r := range plan.Insert {
		rows[i] = &rowDoc{ID: fmt.Sprintf("%s/%d/%d", tenant, id, i), Tenant: tenant, Kind: string(r.Kind), Key: r.Key, Value: r.Value,
			Name: r.Name, Email: r.Email, From: int32(r.From), To: int32(r.To), Recorded: id}
	}
	_, err := roster.InsertMany(ctx, rows, options.InsertMany().SetOrdered(false))
	return err
}

// abortImport removes an import not committed: it claims the record
// (pending -> aborting, so that a late commit fails), removes the import's
// rows, marks and changes, and sets the record aborted. It returns
// errCommitted when the import is committed. It is idempotent, and cleans
// up after an import aborted already too (whose writer, presumed dead,
// may have gone on writing).
func (db *DB) abortImport(ctx context.Context, tenant string, id int64) error {
	key := importKey(tenant, id)
	imports := db.db.Collection(collImports)
	res, err := imports.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "st", Value: d("$in", []string{importPending, importAborting})}},
		d("$set", d("st", importAborting)))
	if err != nil {
		return wrap(err, "mongo: aborting an import")
	}
	if res.MatchedCount == 0 {
		var doc importDoc
		err := imports.FindOne(ctx, d("_id", key), options.FindOne().SetProjection(d("j", 0))).Decode(&doc)
		switch {
		case err == mdb.ErrNoDocuments:
			return nil
		case err != nil:
			return wrap(err, "mongo: aborting an import")
		case doc.State == importCommitted:
			return errCommitted
		}
	}
	roster := db.db.Collection(collRoster)
	if _, err := roster.DeleteMany(ctx, prefixRange(fmt.Sprintf("%s/%d/", tenant, id))); err != nil {
		return wrap(err, "mongo: aborting an import")
	}
	if _, err := roster.UpdateMany(ctx, bson.D{{Key: "t", Value: tenant}, {Key: "x", Value: id}}, d("$set", d("x", int64(0)))); err != nil {
		return wrap(err, "mongo: aborting an import")
	}
	if _, err := db.db.Collection(collImportChanges).DeleteMany(ctx, prefixRange(key+"/")); err != nil {
		return wrap(err, "mongo: aborting an import")
	}
	_, err = imports.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "st", Value: importAborting}}, d("$set", d("st", importAborted)))
	return wrap(err, "mongo: aborting an import")
}

// Imports lists the committed import records of tenant without their
// changes.
func (db *DB) Imports(ctx context.Context, tenant string) ([]*reporting.ImportRecord, error) {
	cur, err := db.db.Collection(collImports).Find(ctx, append(tenantRange(tenant), bson.E{Key: "st", Value: importCommitted}),
		options.Find().SetSort(d("_id", 1)))
	if err != nil {
		return nil, wrap(err, "mongo: reading import records")
	}
	var docs []importDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap(err, "mongo: reading import records")
	}
	out := make([]*reporting.ImportRecord, 0, len(docs))
	for _, doc := range docs {
		var rec reporting.ImportRecord
		if err := json.Unmarshal(doc.Record, &rec); err != nil {
			return nil, errs.Wrap(err, "mongo: decoding an import record")
		}
		out = append(out, &rec)
	}
	return out, nil
}

// ImportRecord returns one committed import record with its changes.
func (db *DB) ImportRecord(ctx context.Context, tenant string, id int64) (*reporting.ImportRecord, error) {
	key := importKey(tenant, id)
	var doc importDoc
	err := db.db.Collection(collImports).FindOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "st", Value: importCommitted}}).Decode(&doc)
	if err == mdb.ErrNoDocuments {
		return nil, errs.E(errs.NotFound, "no import %d", id)
	}
	if err != nil {
		return nil, wrap(err, "mongo: reading an import record")
	}
	var rec reporting.ImportRecord
	if err := json.Unmarshal(doc.Record, &rec); err != nil {
		return nil, errs.Wrap(err, "mongo: decoding an import record")
	}
	cur, err := db.db.Collection(collImportChanges).Find(ctx, prefixRange(key+"/"), options.Find().SetSort(d("_id", 1)))
	if err != nil {
		return nil, wrap(err, "mongo: reading import changes")
	}
	var chunks []changesDoc
	if err := cur.All(ctx, &chunks); err != nil {
		return nil, wrap(err, "mongo: reading import changes")
	}
	rec.Changes = []reporting.Change{}
	for _, c := range chunks {
		var part []reporting.Change
		if err := json.Unmarshal(c.JSON, &part); err != nil {
			return nil, errs.Wrap(err, "mongo: decoding import changes")
		}
		rec.Changes = append(rec.Changes, part...)
	}
	return &rec, nil
}

// RosterRows returns the rows f selects: the import records first, then
// one indexed query (two with MembersOf), filtered in Go by the records.
func (db *DB) RosterRows(ctx context.Context, tenant string, f reporting.RosterFilter) ([]reporting.RosterRow, error) {
	st, err := db.readImports(ctx, tenant)
	if err != nil {
		return nil, err
	}
	v := st.visibility(f.KnownAt)
	var docs []rowDoc
	switch {
	case f.People == nil && f.MembersOf == nil && f.Holding == nil:
		var kinds []string
		if f.UnitsOnly {
			kinds = unitKinds
		}
		docs, err = db.rosterDocs(ctx, tenant, v, kinds)
	case f.MembersOf == nil && f.Holding == nil:
		docs, err = db.peopleDocs(ctx, tenant, v, f.People)
	default:
		keys := f.People
		for _, sel := range []struct {
			kind   reporting.RowKind
			values []string
		}{{reporting.RowMember, f.MembersOf}, {reporting.RowIdent, f.Holding}} {
			if sel.values == nil || err != nil {
				continue
			}
			var with []string
			with, err = db.keysWith(ctx, tenant, v, sel.kind, sel.values)
			if keys != nil {
				only := make(map[string]bool, len(keys))
				for _, k := range keys {
					only[k] = true
				}
				with = slices.DeleteFunc(with, func(k string) bool { return !only[k] })
			}
			keys = with
		}
		if err == nil {
			docs, err = db.peopleDocs(ctx, tenant, v, keys)
		}
	}
	if err != nil {
		return nil, err
	}
	out := make([]reporting.RosterRow, len(docs))
	for i := range docs {
		out[i] = docs[i].row()
	}
	return out, nil
}

// peopleDocs returns the person, member, role and ident rows of people
// visible under v: their rows of every version through {t, k, kd}, the
// others left out in Go.
func (db *DB) peopleDocs(ctx context.Context, tenant string, v *visibility, people []string) ([]rowDoc, error) {
	keys := slices.Clone(people)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var out []rowDoc
	for start := 0; start < len(keys) && v.last != 0; start += idBatch {
		filter := bson.D{{Key: "t", Value: tenant}, {Key: "k", Value: d("$in", keys[start:min(start+idBatch, len(keys))])},
			{Key: "kd", Value: d("$in", personKinds)}, {Key: "r", Value: d("$lte", v.last)}}
		cur, err := db.db.Collection(collRoster).Find(ctx, filter)
		if err != nil {
			return nil, wrap(err, "mongo: reading the roster")
		}
		var docs []rowDoc
		if err := cur.All(ctx, &docs); err != nil {
			return nil, wrap(err, "mongo: reading the roster")
		}
		for i := range docs {
			if v.keep(&docs[i]) {
				out = append(out, docs[i])
			}
		}
	}
	return out, nil
}

// keysWith returns the employee ids with a row of kind (of any version)
// whose value is one of values, as known under v, sorted: the members of
// units (member rows), the holders of identifiers (ident rows).
func (db *DB) keysWith(ctx context.Context, tenant string, v *visibility, kind reporting.RowKind, values []string) ([]string, error) {
	if len(values) == 0 || v.last == 0 {
		return []string{}, nil
	}
	filter := bson.D{{Key: "t", Value: tenant}, {Key: "kd", Value: string(kind)}, {Key: "v", Value: d("$in", values)}}
	cur, err := db.db.Collection(collRoster).Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "k", Value: 1}, {Key: "r", Value: 1}}))
	if err != nil {
		return nil, wrap(err, "mongo: reading the roster")
	}
	var docs []rowDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap(err, "mongo: reading the roster")
	}
	var keys []string
	for _, doc := range docs {
		if v.known[doc.Recorded] {
			keys = append(keys, doc.Key)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}
