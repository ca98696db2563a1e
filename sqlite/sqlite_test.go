package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/accounts"
	accountstest "github.com/xapi-lrs/lrs/accounts/storetest"
	"github.com/xapi-lrs/lrs/auth"
	authtest "github.com/xapi-lrs/lrs/auth/storetest"
	"github.com/xapi-lrs/lrs/sqlite"
	"github.com/xapi-lrs/lrs/statements"
	"github.com/xapi-lrs/lrs/statements/storetest"
)

// MustOpen opens a fresh database in a temporary directory, closed at the
// end of the test.
func MustOpen(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(filepath.Join(tb.TempDir(), "data", "lrs.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) statements.Store { return MustOpen(t) })
}

func TestCredentials(t *testing.T) {
	authtest.RunCredentials(t, func(t *testing.T) auth.CredentialStore { return MustOpen(t) })
	authtest.RunCredentialUpdates(t, func(t *testing.T) auth.CredentialStore { return MustOpen(t) })
}

func TestTenants(t *testing.T) {
	authtest.RunTenants(t, func(t *testing.T) auth.TenantStore { return MustOpen(t) })
	authtest.RunAudit(t, func(t *testing.T) auth.AuditLog { return MustOpen(t) })
}

func TestReopen(t *testing.T) {
	// Data survives a close, and opening again does not migrate again.
	path := filepath.Join(t.TempDir(), "lrs.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	recs := genRecords("default", 0, 10)
	ctx := context.Background()
	if err := db.Insert(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCredential(ctx, &auth.Credential{Key: "k", Tenant: "default", Scopes: []string{"all"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := db.Query(ctx, statements.Query{Tenant: "default", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 10 {
		t.Errorf("after reopening: %d statements, want 10", len(p.Records))
	}
	if _, err := db.Credential(ctx, "k"); err != nil {
		t.Errorf("after reopening: %v", err)
	}
	if err := db.Insert(ctx, genRecords("default", 10, 1), nil); err != nil {
		t.Errorf("insert after reopening: %v", err)
	}
}

func TestBackup(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	if err := db.Insert(ctx, genRecords("default", 0, 25), nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "backup", "copy.db")
	if err := db.Backup(ctx, path); err != nil {
		t.Fatal(err)
	}
	cp, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	p, err := cp.Query(ctx, statements.Query{Tenant: "default", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 25 {
		t.Errorf("backup holds %d statements, want 25", len(p.Records))
	}
	if err := db.Backup(ctx, path); err == nil {
		t.Error("Backup over an existing file succeeded")
	}
}

func TestBadCursor(t *testing.T) {
	db := MustOpen(t)
	for _, c := range []string{"x", "AAAA", "!!", "AQ"} {
		_, err := db.Query(context.Background(), statements.Query{Tenant: "default", Limit: 1, Cursor: c})
		if err == nil {
			t.Errorf("Query(cursor=%q) succeeded", c)
		}
	}
}

func TestClosed(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "lrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Insert(context.Background(), genRecords("default", 0, 1), nil); err == nil {
		t.Error("Insert after Close succeeded")
	}
}

func TestAccounts(t *testing.T) {
	accountstest.Run(t, func(t *testing.T) accounts.Store { return MustOpen(t) })
}

// TestOpenBesideBusyWriter: a database in use opens (for lrs backup and the
// other commands) while another connection holds the write lock, as a busy
// service's writer nearly always does: opening a current schema takes no
// write lock, so it neither waits for the writer nor fails with
// SQLITE_BUSY after the busy timeout.
func TestOpenBesideBusyWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lrs.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conn, err := raw.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	start := time.Now()
	again, err := sqlite.Open(path)
	if err != nil {
		t.Fatalf("opening beside a writer: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("opening beside a writer took %v: it waited for the write lock", d)
	}
	if _, err := again.Query(context.Background(), statements.Query{Tenant: "default", Limit: 1}); err != nil {
		t.Errorf("reading through the second handle: %v", err)
	}
	// Closing a handle that wrote nothing does not checkpoint, so it does
	// not wait for the writer either.
	start = time.Now()
	if err := again.Close(); err != nil {
		t.Errorf("closing beside a writer: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("closing beside a writer took %v", d)
	}
}
