package lrs_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/cmd/lrs/wire"
	"github.com/xapi-lrs/lrs/mongo"
	"github.com/xapi-lrs/lrs/mongo/ferrettest"
	"github.com/xapi-lrs/lrs/sqlite"
)

// opener opens a fresh database for a test server (newServerOn).
type opener func(t testing.TB) *wire.Stores

// openSQLite opens a new SQLite database in a temporary directory.
func openSQLite(t testing.TB) *wire.Stores {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "lrs.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return wire.SQLite(db)
}

// openMongo opens a new MongoDB database on the in-process FerretDB.
func openMongo(t testing.TB) *wire.Stores {
	t.Helper()
	return wire.Mongo(openMongoDB(t))
}

// TestMain stops the FerretDB that the MongoDB-backed tests start.
func TestMain(m *testing.M) {
	code := m.Run()
	ferrettest.StopShared()
	os.Exit(code)
}

// openMongoDB opens a new database on the in-process FerretDB, started
// once for the test binary (TestMain stops it).
func openMongoDB(t testing.TB) *mongo.DB {
	t.Helper()
	uri := ferrettest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := mongo.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// onBackends runs test on each backend: SQLite, and MongoDB on the
// in-process FerretDB.
func onBackends(t *testing.T, test func(t *testing.T, open opener)) {
	t.Run("SQLite", func(t *testing.T) { test(t, openSQLite) })
	t.Run("MongoDB", func(t *testing.T) { test(t, openMongo) })
}
