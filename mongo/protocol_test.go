package mongo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
	"github.com/xapi-lrs/lrs/statements/storetest"
)

// Tests of what is particular to this backend: the batch protocol seen from
// readers and after a crash, the wire commands it sends, the stored format.
// The Store contract itself is checked by storetest (mongo_test.go).

var clockMu sync.Mutex
var clockT = time.Now().UTC().Add(-time.Hour)

// stamp returns strictly increasing stored times.
func stamp() time.Time {
	clockMu.Lock()
	defer clockMu.Unlock()
	clockT = clockT.Add(time.Millisecond + 3*time.Nanosecond)
	return clockT
}

// rec builds a record; json holds the statement bytes (the hash is theirs).
func rec(tenant string, f func(r *statements.Record)) *statements.Record {
	r := &statements.Record{Tenant: tenant, ID: storetest.NewID(), Stored: stamp(),
		VerbID: "http://adlnet.gov/expapi/verbs/experienced", Agents: []string{"mbox:mailto:a@example.com"},
		Activities: []string{"https://example.com/act/1"}, Authority: "account:https://lrs.example.com k"}
	r.Timestamp = r.Stored
	if f != nil {
		f(r)
	}
	if r.JSON == nil {
		r.JSON = []byte(fmt.Sprintf(`{"id":%q,"verb":{"id":%q},"agents":%q,"ref":%q}`, r.ID, r.VerbID, r.Agents, r.RefID))
	}
	h := sha256.Sum256(r.JSON)
	r.Hash = hex.EncodeToString(h[:])
	return r
}

func ids(recs []*statements.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func query(t *testing.T, db *DB, q statements.Query) []string {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	p, err := db.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	return ids(p.Records)
}

func mustInsert(t *testing.T, db *DB, recs ...*statements.Record) {
	t.Helper()
	if err := db.Insert(context.Background(), recs, nil); err != nil {
		t.Fatalf("Insert: %v", err)
	}
}

// leaveBatch writes recs the way an Insert does up to the given state and
// then stops, as if the process died: the batch record and the documents
// marked with the batch id stay behind.
func leaveBatch(t *testing.T, db *DB, state string, age time.Duration, recs []*statements.Record, atts ...statements.Attachment) string {
	t.Helper()
	ctx := context.Background()
	batch := newID()
	var docs []*stmtDoc
	var keys []string
	for _, r := range recs {
		doc, err := newStmtDoc(r, batch)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc)
		keys = append(keys, doc.Key)
	}
	linkInBatch(docs)
	if _, err := db.bats.InsertOne(ctx, batchDoc{ID: batch, State: state, Created: time.Now().Add(-age).UnixNano(),
		MinStored: recs[0].Stored.UnixNano(), Keys: keys}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.stmts.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	for _, a := range atts {
		if _, err := db.atts.InsertOne(ctx, attDoc{Key: recs[0].Tenant + "/" + a.SHA2 + "/" + batch, Tenant: recs[0].Tenant,
			SHA2: a.SHA2, ContentType: a.ContentType, Data: a.Data, Batch: batch}); err != nil {
			t.Fatal(err)
		}
	}
	return batch
}

func count(t *testing.T, db *DB, coll string, filter bson.D) int64 {
	t.Helper()
	n, err := db.db.Collection(coll).CountDocuments(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAbandonedPendingBatch(t *testing.T) {
	db := openDB(t, ferretURI)
	ctx := context.Background()
	target := rec("default", nil)
	mustInsert(t, db, target)

	att := storetest.Attachment([]byte("pending attachment"))
	r := rec("default", func(r *statements.Record) { r.AttachmentHashes = []string{att.SHA2} })
	void := rec("default", func(r *statements.Record) {
		r.VerbID, r.RefID, r.Voids = "http://adlnet.gov/expapi/verbs/voided", target.ID, target.ID
	})
	batch := leaveBatch(t, db, statePending, 10*time.Minute, []*statements.Record{r, void}, att)

	// Readers see nothing of an uncommitted batch.
	if _, err := db.Get(ctx, "default", r.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("Get of a pending statement = %v, want NotFound", err)
	}
	if got := query(t, db, statements.Query{Tenant: "default"}); !slices.Equal(got, []string{target.ID}) {
		t.Errorf("Query = %v, want only the target", got)
	}
	if got, err := db.Attachments(ctx, "default", []string{att.SHA2}); err != nil || len(got) != 0 {
		t.Errorf("Attachments of a pending batch = %d, %v", len(got), err)
	}
	if got, _ := db.Get(ctx, "default", target.ID); got == nil || got.Voided {
		t.Errorf("target voided by an uncommitted voiding statement")
	}
	// ConsistentThrough stays before the batch while it is unfinished.
	ct, err := db.ConsistentThrough(ctx)
	if err != nil || !ct.Before(r.Stored) {
		t.Errorf("ConsistentThrough = %v, %v; want before %v", ct, err, r.Stored)
	}

	// Recovery removes the abandoned batch.
	if err := db.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, collStatements, d("p", batch)) + count(t, db, collAttachments, d("p", batch)) +
		count(t, db, collBatches, d("_id", batch)); n != 0 {
		t.Errorf("%d documents of the abandoned batch remain", n)
	}
	ct, _ = db.ConsistentThrough(ctx)
	if ct.Before(target.Stored) || ct.After(time.Now()) {
		t.Errorf("ConsistentThrough = %v after recovery", ct)
	}
	// The ids are free again.
	if err := db.Insert(ctx, []*statements.Record{r, void}, []statements.Attachment{att}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Get(ctx, "default", target.ID); err != nil || !got.Voided {
		t.Errorf("target after the real voiding = %+v, %v; want voided", got, err)
	}
	if got, err := db.Attachments(ctx, "default", []string{att.SHA2}); err != nil || len(got) != 1 {
		t.Errorf("Attachments = %d, %v; want 1", len(got), err)
	}
}

func TestLeftoverDocumentsAreReplaced(t *testing.T) {
	// Documents whose batch record is gone (an abort interrupted between
	// deleting the record's documents) are invisible and do not block the id.
	db := openDB(t, ferretURI)
	ctx := context.Background()
	r := rec("default", nil)
	batch := leaveBatch(t, db, statePending, 0, []*statements.Record{r})
	if _, err := db.bats.DeleteOne(ctx, d("_id", batch)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Get(ctx, "default", r.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("Get of a leftover = %v, want NotFound", err)
	}
	other := rec("default", func(x *statements.Record) { x.ID = r.ID; x.Agents = []string{"mbox:mailto:b@example.com"} })
	mustInsert(t, db, other)
	got, err := db.Get(ctx, "default", r.ID)
	if err != nil || got.Hash != other.Hash {
		t.Errorf("Get = %+v, %v; want the newly inserted statement", got, err)
	}
}

func TestInsertWaitsForAnotherWriter(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		same    bool   // the other writer holds the same statement
		outcome string // what the other writer does: commit or abort
		want    errs.Kind
	}{
		{"same statement committed", true, "commit", -1},
		{"other statement committed", false, "commit", errs.Conflict},
		{"other statement aborted", false, "abort", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t, ferretURI)
			r := rec("default", nil)
			held := r
			if !tc.same {
				held = rec("default", func(x *statements.Record) { x.ID = r.ID; x.VerbID = "http://example.com/other" })
			}
			batch := leaveBatch(t, db, statePending, 0, []*statements.Record{held})
			go func() {
				time.Sleep(150 * time.Millisecond)
				if tc.outcome == "commit" {
					db.bats.UpdateOne(ctx, d("_id", batch), d("$set", d("st", stateCommitted)))
				} else {
					db.abort(ctx, batch)
				}
			}()
			start := time.Now()
			err := db.Insert(ctx, []*statements.Record{r}, nil)
			if waited := time.Since(start); waited < 100*time.Millisecond {
				t.Errorf("Insert returned after %v, before the other writer finished", waited)
			}
			if tc.want == -1 && err != nil || tc.want != -1 && !errs.Is(err, tc.want) {
				t.Fatalf("Insert = %v, want kind %v", err, tc.want)
			}
			got, err := db.Get(ctx, "default", r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want := pick(tc.outcome == "commit", held.Hash, r.Hash); got.Hash != want {
				t.Errorf("stored hash %s, want %s", got.Hash, want)
			}
		})
	}
}

func TestCommittedBatchFinishedByRecovery(t *testing.T) {
	// A writer died after its commit: its statements are visible at once
	// (the committed batch record makes them so); recovery does the rest.
	db := openDB(t, ferretURI)
	ctx := context.Background()
	target := rec("default", nil)
	xID := storetest.NewID()
	early := rec("default", func(r *statements.Record) { r.RefID = xID; r.Activities = nil })
	mustInsert(t, db, target, early)

	void := rec("default", func(r *statements.Record) {
		r.VerbID, r.RefID, r.Voids, r.Activities = "http://adlnet.gov/expapi/verbs/voided", target.ID, target.ID, nil
	})
	x := rec("default", func(r *statements.Record) { r.ID = xID; r.Activities = []string{"https://example.com/act/x"} })
	batch := leaveBatch(t, db, stateCommitted, 2*time.Minute, []*statements.Record{void, x})

	if _, err := db.Get(ctx, "default", x.ID); err != nil {
		t.Errorf("Get of a committed statement: %v", err)
	}
	if got := query(t, db, statements.Query{Tenant: "default", Activity: "https://example.com/act/x"}); !slices.Equal(got, []string{x.ID}) {
		t.Errorf("before recovery: %v, want only x (the referrer is linked by the follow-up work)", got)
	}

	if err := db.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Get(ctx, "default", target.ID); err != nil || !got.Voided {
		t.Errorf("target = %+v, %v; want voided", got, err)
	}
	if got := query(t, db, statements.Query{Tenant: "default", Activity: "https://example.com/act/x"}); !slices.Equal(got, []string{x.ID, early.ID}) {
		t.Errorf("after recovery: %v, want x and its earlier referrer", got)
	}
	if n := count(t, db, collStatements, d("p", batch)) + count(t, db, collBatches, bson.D{}); n != 0 {
		t.Errorf("%d marks or batch records remain", n)
	}
}

func TestStoredFormat(t *testing.T) {
	db := openDB(t, ferretURI)
	ctx := context.Background()
	// Extension keys are IRIs with dots; a "$" key is legal JSON too. The
	// statement is stored as bytes, so neither reaches BSON field names.
	r := rec("tenant/with/slashes", func(r *statements.Record) {
		r.JSON = []byte(`{"context":{"extensions":{"http://example.com/ext.v1":{"$x":1,"a.b":[1.50,"é"]}}}}`)
	})
	mustInsert(t, db, r)
	var raw bson.M
	if err := db.stmts.FindOne(ctx, d("_id", "tenant/with/slashes/"+r.ID)).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	bin, ok := raw["j"].(bson.Binary)
	if !ok || string(bin.Data) != string(r.JSON) {
		t.Errorf("stored j = %T %v, want the JSON bytes as binary", raw["j"], raw["j"])
	}
	if _, ok := raw["p"]; ok {
		t.Error("a finished batch left its mark")
	}
	got, err := db.Get(ctx, "tenant/with/slashes", r.ID)
	if err != nil || string(got.JSON) != string(r.JSON) {
		t.Errorf("Get = %v, %v", got, err)
	}
	if _, err := db.Query(ctx, statements.Query{Tenant: "x", Limit: 5, Cursor: "bm90IGEgY3Vyc29y"}); !errs.Is(err, errs.Invalid) {
		t.Errorf("Query with a forged cursor = %v, want Invalid", err)
	}
}

func TestOpenConcurrently(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) { testOpenConcurrently(t, uri, name == "MongoDB") })
	}
}

// testOpenConcurrently starts three instances at once on one database: they
// create the indexes, and serve the same data. FerretDB v1.24 panics when
// two createIndexes race on a new collection (its SQLite metadata registry),
// so there the database is first initialised by one instance, which is the
// case of several instances restarting together.
func testOpenConcurrently(t *testing.T, uri string, fresh bool) {
	uri = withDatabase(t, uri)
	if !fresh {
		db, err := Open(context.Background(), uri)
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	var wg sync.WaitGroup
	dbs := make([]*DB, 3)
	errc := make([]error, 3)
	for i := range dbs {
		wg.Go(func() { dbs[i], errc[i] = Open(context.Background(), uri) })
	}
	wg.Wait()
	for i, err := range errc {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	defer dbs[0].db.Drop(context.Background())
	c, err := dbs[0].stmts.Indexes().List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var idx []struct {
		Name string `bson:"name"`
	}
	if err := c.All(context.Background(), &idx); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range idx {
		names = append(names, i.Name)
	}
	for _, want := range []string{"_id_", "tenant_key", "tenant_agent_key", "tenant_relagent_key", "tenant_verb_key",
		"tenant_activity_key", "tenant_relactivity_key", "tenant_registration_key", "tenant_authority_key",
		"tenant_ref", "tenant_voids", "tenant_attachments", "pending_batch"} {
		if !slices.Contains(names, want) {
			t.Errorf("index %s missing (have %v)", want, names)
		}
	}
	if len(names) != 13 {
		t.Errorf("%d indexes, want 13: %v", len(names), names)
	}
	// And they serve statements.
	r := rec("default", nil)
	mustInsert(t, dbs[1], r)
	if got, err := dbs[2].Get(context.Background(), "default", r.ID); err != nil || got.ID != r.ID {
		t.Errorf("Get through another instance = %v, %v", got, err)
	}
}

// commandLog records the commands a client sends, and counts the
// documents the server returns from queries (find and getMore batches).
type commandLog struct {
	mu   sync.Mutex
	cmds []bson.Raw
	docs int
}

func (l *commandLog) monitor(o *options.ClientOptions) {
	o.SetMonitor(&event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		l.mu.Lock()
		l.cmds = append(l.cmds, slices.Clone(e.Command))
		l.mu.Unlock()
	}, Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
		n := 0
		for _, batch := range []string{"firstBatch", "nextBatch"} {
			if docs, ok := e.Reply.Lookup("cursor", batch).ArrayOK(); ok {
				vals, _ := docs.Values()
				n += len(vals)
			}
		}
		l.mu.Lock()
		l.docs += n
		l.mu.Unlock()
	}})
}

func (l *commandLog) take() []bson.Raw {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.cmds
	l.cmds, l.docs = nil, 0
	return out
}

// takeDocs returns the documents returned since the last take or takeDocs.
func (l *commandLog) takeDocs() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.docs
	l.docs = 0
	return n
}

func cmdName(c bson.Raw) string {
	els, _ := c.Elements()
	if len(els) == 0 {
		return ""
	}
	v := els[0].Value()
	s, _ := v.StringValueOK()
	return els[0].Key() + " " + s
}

func openLogged(t testing.TB) (*DB, *commandLog) {
	log := &commandLog{}
	ctx := context.Background()
	db, err := open(ctx, withDatabase(t, ferretURI), log.monitor)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.db.Drop(ctx)
		db.Close()
	})
	log.take()
	return db, log
}

func TestWireCommands(t *testing.T) {
	db, log := openLogged(t)
	ctx := context.Background()
	var batch []*statements.Record
	for i := range 100 {
		batch = append(batch, rec("default", func(r *statements.Record) {
			r.Agents = []string{fmt.Sprintf("mbox:mailto:u%d@example.com", i)}
		}))
	}
	if err := db.Insert(ctx, batch, nil); err != nil {
		t.Fatal(err)
	}
	cmds := log.take()
	var names []string
	inserts := 0
	for _, c := range cmds {
		names = append(names, cmdName(c))
		name := cmdName(c)
		if strings.HasPrefix(name, "aggregate") || strings.HasPrefix(name, "distinct") ||
			c.Lookup("startTransaction").Type != 0 || c.Lookup("autocommit").Type != 0 {
			t.Errorf("command outside find/insert/update/delete: %s", c)
		}
		if !strings.HasPrefix(name, "find ") {
			wc := c.Lookup("writeConcern")
			if w, _ := wc.Document().Lookup("w").StringValueOK(); w != "majority" || !wc.Document().Lookup("j").Boolean() {
				t.Errorf("%s: writeConcern %v, want majority with journal", name, wc)
			}
		} else if lvl, _ := c.Lookup("readConcern", "level").StringValueOK(); lvl != "majority" {
			t.Errorf("%s: readConcern %v, want majority", name, c.Lookup("readConcern"))
		}
		if name == "insert statements" {
			inserts++
			if docs, _ := c.Lookup("documents").Array().Values(); len(docs) != 100 {
				t.Errorf("insert of %d documents, want all 100 in one command", len(docs))
			}
			if ordered, ok := c.Lookup("ordered").BooleanOK(); !ok || ordered {
				t.Errorf("insert ordered=%v, want false", ordered)
			}
		}
	}
	if inserts != 1 {
		t.Errorf("%d insert commands, want 1", inserts)
	}
	// register, insert, link query, commit, publish x2, propagate query, drop record.
	if len(cmds) > 8 {
		t.Errorf("Insert of 100 statements took %d commands, want at most 8: %v", len(cmds), names)
	}
	t.Logf("Insert(100): %d commands: %v", len(cmds), names)

	if _, err := db.Query(ctx, statements.Query{Tenant: "default", Agent: "mbox:mailto:u7@example.com", Limit: 10}); err != nil {
		t.Fatal(err)
	}
	if cmds := log.take(); len(cmds) != 1 {
		t.Errorf("Query took %d commands, want 1", len(cmds))
	}
}

// BenchmarkInsertBatch100 inserts batches of 100 new statements. Against
// FerretDB the time means nothing; the commands per batch are the point.
func BenchmarkInsertBatch100(b *testing.B) {
	db, log := openLogged(b)
	ctx := context.Background()
	n := 0
	for b.Loop() {
		b.StopTimer()
		batch := make([]*statements.Record, 100)
		for i := range batch {
			batch[i] = rec("default", func(r *statements.Record) { r.RelatedAgents = []string{"mbox:mailto:x@example.com"} })
		}
		b.StartTimer()
		if err := db.Insert(ctx, batch, nil); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(len(log.take()))/float64(n), "commands/op")
}

// BenchmarkQueryAgentPage reads pages of 20 of one agent's statements.
func BenchmarkQueryAgentPage(b *testing.B) {
	db, log := openLogged(b)
	ctx := context.Background()
	var batch []*statements.Record
	for i := range 200 {
		batch = append(batch, rec("default", func(r *statements.Record) {
			r.Agents = []string{fmt.Sprintf("mbox:mailto:u%d@example.com", i%4)}
		}))
	}
	if err := db.Insert(ctx, batch, nil); err != nil {
		b.Fatal(err)
	}
	log.take()
	q := statements.Query{Tenant: "default", Agent: "mbox:mailto:u1@example.com", Limit: 20}
	n := 0
	for b.Loop() {
		p, err := db.Query(ctx, q)
		if err != nil || len(p.Records) != 20 {
			b.Fatalf("Query = %d records, %v", len(p.Records), err)
		}
		n++
	}
	b.ReportMetric(float64(len(log.take()))/float64(n), "commands/op")
}
