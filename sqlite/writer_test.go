package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "lrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func record(id string, stored time.Time) *statements.Record {
	return &statements.Record{Tenant: "default", ID: id, Stored: stored, Timestamp: stored, VerbID: "v",
		Hash: "h-" + id, JSON: []byte(`{"id":"` + id + `"}`)}
}

// TestConsistentThroughPending holds the writer while an insert waits:
// ConsistentThrough must stay before the waiting statement's stored time,
// and move past it once the insert is acknowledged.
func TestConsistentThroughPending(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	stored := time.Now().UTC().Add(-time.Minute)
	db.w.txMu.Lock()
	done := make(chan error)
	go func() { done <- db.Insert(ctx, []*statements.Record{record("a", stored)}, nil) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := db.pending.earliest(); ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ct, err := db.ConsistentThrough(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !ct.Before(stored) {
		t.Errorf("ConsistentThrough = %v while a statement stored at %v is not committed", ct, stored)
	}
	db.w.txMu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ct, err = db.ConsistentThrough(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ct.Before(stored) {
		t.Errorf("ConsistentThrough = %v after the statement stored at %v was acknowledged", ct, stored)
	}
}

// TestCanceled: a call whose context is done before its group runs writes
// nothing and says so; the other calls of the group commit.
func TestCanceled(t *testing.T) {
	db := openTest(t)
	now := time.Now().UTC()
	db.w.txMu.Lock() // hold the writer so that the calls queue up
	canceled, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 2)
	go func() { errc <- db.Insert(canceled, []*statements.Record{record("gone", now)}, nil) }()
	go func() { errc <- db.Insert(context.Background(), []*statements.Record{record("kept", now)}, nil) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	db.w.txMu.Unlock()
	var nErr int
	for range 2 {
		if err := <-errc; err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Insert: %v", err)
			}
			nErr++
		}
	}
	ctx := context.Background()
	if _, err := db.Get(ctx, "default", "kept"); err != nil {
		t.Errorf("the other call's statement: %v", err)
	}
	_, err := db.Get(ctx, "default", "gone")
	switch {
	case nErr == 1 && !errs.Is(err, errs.NotFound):
		t.Errorf("the canceled call failed but its statement is stored (%v)", err)
	case nErr == 0 && err != nil:
		t.Errorf("the canceled call succeeded but its statement is missing: %v", err)
	}
}

// TestGroupCommit checks that concurrent calls share commits.
func TestGroupCommit(t *testing.T) {
	db := openTest(t)
	now := time.Now().UTC()
	var commits int
	db.w.committed = func() { commits++ } // called by the writer goroutine only
	db.w.txMu.Lock()
	errc := make(chan error, 20)
	for i := range 20 {
		go func() {
			errc <- db.Insert(context.Background(), []*statements.Record{record(string(rune('a'+i)), now)}, nil)
		}()
	}
	// Wait for the 20 calls to queue (the writer may hold some, waiting for
	// the lock).
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		db.pending.mu.Lock()
		n := len(db.pending.m)
		db.pending.mu.Unlock()
		if n == 20 {
			break
		}
	}
	time.Sleep(20 * time.Millisecond) // from pending.add to the queue
	db.w.txMu.Unlock()
	for range 20 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if commits > 2 {
		t.Errorf("20 queued calls took %d commits, want at most 2", commits)
	}
}
