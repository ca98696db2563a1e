package mongo

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/accounts"
	accountstest "github.com/xapi-lrs/lrs/accounts/storetest"
	"github.com/xapi-lrs/lrs/auth"
	authtest "github.com/xapi-lrs/lrs/auth/storetest"
	"github.com/xapi-lrs/lrs/mongo/ferrettest"
	"github.com/xapi-lrs/lrs/statements"
	"github.com/xapi-lrs/lrs/statements/storetest"
)

// ferretURI is the URI of the in-process FerretDB (SQLite handler) that
// TestMain starts: a real MongoDB wire-protocol server.
var ferretURI string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	uri, stop, err := ferrettest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	ferretURI = uri
	// The store logs recoveries at level Info; tests cause many.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	return m.Run()
}

// withDatabase returns uri naming a fresh database.
func withDatabase(t testing.TB, uri string) string {
	u, err := ferrettest.Database(uri)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// openDB opens a fresh database on the server at uri and drops it when t
// ends.
func openDB(t testing.TB, uri string) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := Open(ctx, withDatabase(t, uri))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.db.Drop(ctx); err != nil {
			t.Errorf("dropping the test database: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// servers lists the servers the contract tests run against: the in-process
// FerretDB, and a real MongoDB when LRS_TEST_MONGODB_URI is set.
func servers() map[string]string {
	s := map[string]string{"FerretDB": ferretURI}
	if uri := os.Getenv("LRS_TEST_MONGODB_URI"); uri != "" {
		s["MongoDB"] = uri
	}
	return s
}

func TestStore(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) statements.Store { return openDB(t, uri) })
		})
	}
}

func TestCredentials(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			authtest.RunCredentials(t, func(t *testing.T) auth.CredentialStore { return openDB(t, uri) })
			authtest.RunCredentialUpdates(t, func(t *testing.T) auth.CredentialStore { return openDB(t, uri) })
		})
	}
}

func TestTenants(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			authtest.RunTenants(t, func(t *testing.T) auth.TenantStore { return openDB(t, uri) })
			authtest.RunAudit(t, func(t *testing.T) auth.AuditLog { return openDB(t, uri) })
		})
	}
}

func TestAccounts(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			accountstest.Run(t, func(t *testing.T) accounts.Store { return openDB(t, uri) })
		})
	}
}

func TestDatabaseName(t *testing.T) {
	for _, tt := range []struct{ uri, want string }{
		{"mongodb://localhost", "lrs"},
		{"mongodb://localhost/", "lrs"},
		{"mongodb://localhost/xapi", "xapi"},
		{"mongodb://u:p@h1:27017,h2:27017/xapi?replicaSet=rs0&w=majority", "xapi"},
		{"mongodb://h1,h2/?replicaSet=rs0", "lrs"},
		{"mongodb+srv://cluster0.example.net/prod_lrs?retryWrites=true", "prod_lrs"},
		{"mongodb://localhost?directConnection=true", "lrs"},
	} {
		got, err := databaseName(tt.uri)
		if err != nil || got != tt.want {
			t.Errorf("databaseName(%q) = %q, %v; want %q", tt.uri, got, err, tt.want)
		}
	}
	if _, err := databaseName("mongodb://localhost/a.b"); err == nil {
		t.Error(`databaseName accepted "a.b"`)
	}
	if got := withDatabase(t, "mongodb://u:p@h1:1,h2:2/?replicaSet=rs"); !strings.HasPrefix(got, "mongodb://u:p@h1:1,h2:2/lrstest_") || !strings.HasSuffix(got, "?replicaSet=rs") {
		t.Errorf("withDatabase = %q", got)
	}
	if _, err := Open(context.Background(), "postgres://localhost/x"); err == nil || !strings.Contains(err.Error(), "mongodb://") {
		t.Errorf("Open(postgres://) = %v, want an error naming the scheme", err)
	}
}
