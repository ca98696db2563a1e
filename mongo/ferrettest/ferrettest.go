// Package ferrettest starts an in-process FerretDB (SQLite handler): a real
// MongoDB wire-protocol server for the tests of the MongoDB backend and of
// the service on it. Only test code imports it; the lrs binary never does.
package ferrettest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Start runs FerretDB on a loopback port with its data in a temporary
// directory and returns its URI and a function that stops it and removes
// the data. FerretDB's own log is discarded unless LRS_TEST_FERRETDB_LOG is
// set.
func Start() (uri string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "lrs-ferretdb-")
	if err != nil {
		return "", nil, err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("LRS_TEST_FERRETDB_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    logger,
	})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("starting FerretDB: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		f.Run(ctx)
		close(done)
	}()
	return f.MongoDBURI(), func() {
		cancel()
		<-done
		os.RemoveAll(dir)
	}, nil
}

var dbSeq atomic.Int64

// Database returns uri naming a fresh database, unique in this process.
func Database(uri string) (string, error) {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return "", fmt.Errorf("bad URI %q", uri)
	}
	hosts, query := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		hosts = rest[:i]
		if q := strings.IndexByte(rest, '?'); q >= 0 {
			query = rest[q:]
		}
	}
	return fmt.Sprintf("%s://%s/lrstest_%d_%d%s", scheme, hosts, os.Getpid(), dbSeq.Add(1), query), nil
}

// shared is the FerretDB that NewDatabase starts once for a test binary.
var shared struct {
	once sync.Once
	uri  string
	stop func()
	err  error
}

// NewDatabase returns the URI of a fresh database on a FerretDB started
// once for the test binary (its TestMain stops it with StopShared); it
// fails t when FerretDB does not start.
func NewDatabase(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() { shared.uri, shared.stop, shared.err = Start() })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	uri, err := Database(shared.uri)
	if err != nil {
		t.Fatal(err)
	}
	return uri
}

// StopShared stops the FerretDB NewDatabase started, if it did.
func StopShared() {
	if shared.stop != nil {
		shared.stop()
	}
}
