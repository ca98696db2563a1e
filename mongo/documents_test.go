package mongo

import (
	"context"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/xapi-lrs/lrs/documents"
	dstoretest "github.com/xapi-lrs/lrs/documents/storetest"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

func TestDocuments(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			dstoretest.Run(t, func(t *testing.T) documents.Store { return openDB(t, uri) })
		})
	}
}

// TestDocumentsLarge stores a 10 MB document on a real MongoDB (when
// LRS_TEST_MONGODB_URI is set) and a small one on FerretDB, which is slow
// with large values.
func TestDocumentsLarge(t *testing.T) {
	dstoretest.RunLarge(t, func(t *testing.T) documents.Store { return openDB(t, ferretURI) }, 256<<10)
	if uri := os.Getenv("LRS_TEST_MONGODB_URI"); uri != "" {
		dstoretest.RunLarge(t, func(t *testing.T) documents.Store { return openDB(t, uri) }, 10<<20)
	}
}

func TestActivities(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			dstoretest.RunActivities(t, func(t *testing.T) statements.ActivityStore { return openDB(t, uri) })
		})
	}
}

// overtaken holds the first document write on db between its read and its
// insert, and runs overtake meanwhile; it returns that write's error.
func overtaken(t *testing.T, db *DB, write func() error, overtake func()) error {
	t.Helper()
	paused, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	db.beforeInsert = func() {
		if first.CompareAndSwap(false, true) {
			close(paused)
			<-release
		}
	}
	done := make(chan error, 1)
	go func() { done <- write() }()
	<-paused
	overtake()
	close(release)
	return <-done
}

func putDoc(t *testing.T, db *DB, k documents.Key, content string, cond documents.Condition) *documents.Document {
	t.Helper()
	d := &documents.Document{Key: k, ContentType: "text/plain", Content: []byte(content),
		ETag: documents.ComputeETag([]byte(content)), Updated: time.Now().UTC()}
	if err := db.PutDocument(context.Background(), d, cond); err != nil {
		t.Fatalf("PutDocument(%s): %v", content, err)
	}
	return d
}

func wantContent(t *testing.T, db *DB, k documents.Key, want string) {
	t.Helper()
	got, err := db.Document(context.Background(), k)
	if err != nil || string(got.Content) != want {
		t.Fatalf("Document = %v, %v; want content %q", got, err, want)
	}
}

// TestStaleWriter is the lost write of a writer that read revision 1 and
// inserts revision 2 after writers B and C made revisions 2 and 3: a
// collected revision 2 would let that insert succeed unseen. A's If-Match
// on the ETag it read must fail instead, and old revisions go once no
// write is under way.
func TestStaleWriter(t *testing.T) {
	db := openDB(t, ferretURI)
	k := documents.Key{Tenant: "t1", Kind: documents.State, ActivityID: "https://example.com/a", Agent: "mbox:mailto:a@example.com", ID: "s"}
	v0 := putDoc(t, db, k, "v0", documents.Condition{})
	var c *documents.Document
	err := overtaken(t, db, func() error {
		d := &documents.Document{Key: k, ContentType: "text/plain", Content: []byte("A"), ETag: documents.ComputeETag([]byte("A")), Updated: time.Now()}
		return db.PutDocument(context.Background(), d, documents.Condition{IfMatch: []string{v0.ETag}})
	}, func() {
		b := putDoc(t, db, k, "B", documents.Condition{IfMatch: []string{v0.ETag}})
		c = putDoc(t, db, k, "C", documents.Condition{IfMatch: []string{b.ETag}})
	})
	if !errs.Is(err, errs.PreconditionFailed) {
		t.Fatalf("the overtaken If-Match write returned %v, want PreconditionFailed", err)
	}
	wantContent(t, db, k, "C")
	// Nothing was collected while A was under way; the next write collects.
	key := bson.D{{Key: "k", Value: documentKey(k)}}
	if n := count(t, db, collDocuments, key); n != 3 {
		t.Errorf("%d revisions after the race, want 3 (none collected while A was under way)", n)
	}
	putDoc(t, db, k, "D", documents.Condition{IfMatch: []string{c.ETag}})
	if n := count(t, db, collDocuments, key); n != 1 {
		t.Errorf("%d revisions after a write alone, want 1", n)
	}
	if n := count(t, db, collWriters, bson.D{}); n != 0 {
		t.Errorf("%d registrations left, want 0", n)
	}

	// Unconditional, the overtaken write retries and ends current.
	err = overtaken(t, db, func() error {
		d := &documents.Document{Key: k, ContentType: "text/plain", Content: []byte("A2"), ETag: documents.ComputeETag([]byte("A2")), Updated: time.Now()}
		return db.PutDocument(context.Background(), d, documents.Condition{})
	}, func() {
		putDoc(t, db, k, "E", documents.Condition{})
		putDoc(t, db, k, "F", documents.Condition{})
	})
	if err != nil {
		t.Fatal(err)
	}
	wantContent(t, db, k, "A2")
}

// TestExpiredRegistration: the registration of a write slower than the
// TTL stops protecting it; the write then fails with Unavailable rather
// than report success for an insert that may be lost.
func TestExpiredRegistration(t *testing.T) {
	db := openDB(t, ferretURI)
	db.registrationTTL = 50 * time.Millisecond
	k := documents.Key{Tenant: "t1", Kind: documents.AgentProfile, Agent: "mbox:mailto:a@example.com", ID: "p"}
	v0 := putDoc(t, db, k, "v0", documents.Condition{})
	err := overtaken(t, db, func() error {
		d := &documents.Document{Key: k, ContentType: "text/plain", Content: []byte("A"), ETag: documents.ComputeETag([]byte("A")), Updated: time.Now()}
		return db.PutDocument(context.Background(), d, documents.Condition{IfMatch: []string{v0.ETag}})
	}, func() {
		time.Sleep(100 * time.Millisecond)
		b := putDoc(t, db, k, "B", documents.Condition{IfMatch: []string{v0.ETag}})
		putDoc(t, db, k, "C", documents.Condition{IfMatch: []string{b.ETag}})
	})
	if !errs.Is(err, errs.Unavailable) {
		t.Fatalf("the write slower than the TTL returned %v, want Unavailable", err)
	}
	wantContent(t, db, k, "C")
	if n := count(t, db, collWriters, bson.D{}); n != 0 {
		t.Errorf("%d registrations left, want 0", n)
	}
}
