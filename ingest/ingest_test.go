package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/sqlite"
	"github.com/xapi-lrs/lrs/statements"
)

// newService returns a Service over a fresh SQLite database, with
// reporting on, and the database; the clock stands at now.
func newService(t *testing.T, now time.Time) (*ingest.Service, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "lrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return ingest.New(ingest.Config{Store: db, Facts: db, MaxBatch: 2,
		Now: func() time.Time { return now }}), db
}

var writer = ingest.Writer{Tenant: "t1", Key: "key1", Name: "LMS", Home: "https://lrs.example.org"}

const completed = `{"actor":{"mbox":"mailto:ann@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},` +
	`"object":{"id":"http://example.com/course","definition":{"name":{"en":"Course"}}},"result":{"completion":true}}`

// TestPostCompletesAndDerives: Post completes a statement (id, stored,
// timestamp, authority, version of the request's family), stores it with
// its completion fact in the writer's tenant, and merges its activity
// definition.
func TestPostCompletesAndDerives(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 123456789, time.UTC)
	svc, db := newService(t, now)
	ctx := context.Background()
	for _, tc := range []struct {
		version statements.Version
		want    string
	}{{statements.V103, "1.0.0"}, {statements.V200, "2.0.0"}} {
		ids, err := svc.Post(ctx, ingest.Request{Writer: writer, Version: tc.version, Body: []byte(completed)})
		if err != nil || len(ids) != 1 {
			t.Fatalf("Post: %v, %v", ids, err)
		}
		rec, err := db.Get(ctx, writer.Tenant, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			ID, Stored, Timestamp, Version string
			Authority                      struct {
				ObjectType, Name string
				Account          struct{ HomePage, Name string }
			}
		}
		if err := json.Unmarshal(rec.JSON, &st); err != nil {
			t.Fatal(err)
		}
		a := st.Authority
		if st.ID != ids[0] || st.Stored != "2026-12-07T10:00:00.123Z" || st.Timestamp != st.Stored || st.Version != tc.want ||
			a.ObjectType != "Agent" || a.Name != "LMS" || a.Account.HomePage != writer.Home || a.Account.Name != writer.Key ||
			rec.Authority != writer.Key {
			t.Errorf("stored %s (authority %q), want it completed with version %s", rec.JSON, rec.Authority, tc.want)
		}
	}
	def, err := db.Activity(ctx, writer.Tenant, "http://example.com/course")
	if err != nil || def["name"] == nil {
		t.Errorf("activity definition %v, %v; want the statement's", def, err)
	}
	n := 0
	err = db.Facts(ctx, writer.Tenant, nil, func(agent string, facts []reporting.Fact) error {
		n += len(facts)
		return nil
	})
	if err != nil || n != 2 {
		t.Errorf("%d facts (%v), want one of each statement", n, err)
	}
}

// TestPutRules: Put stores a statement under its id, again as a no-op,
// and refuses an array, an id that differs from the parameter, different
// content under a stored id, and a Post over MaxBatch.
func TestPutRules(t *testing.T) {
	svc, _ := newService(t, time.Now())
	ctx := context.Background()
	id := "9e6c4cba-6f0e-4f4f-9f8a-6a1b7c3c2d10"
	put := func(body string) error {
		return svc.Put(ctx, id, ingest.Request{Writer: writer, Version: statements.V200, Body: []byte(body)})
	}
	if err := put(completed); err != nil {
		t.Fatal(err)
	}
	if err := put(completed); err != nil {
		t.Errorf("the same statement again: %v, want a no-op", err)
	}
	other := `{"actor":{"mbox":"mailto:bob@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/o"}}`
	for _, tc := range []struct {
		name string
		err  error
		kind errs.Kind
	}{
		{"array", put("[" + completed + "]"), errs.Invalid},
		{"id mismatch", put(`{"id":"00000000-0000-4000-8000-000000000000",` + completed[1:]), errs.Invalid},
		{"different content", put(other), errs.Conflict},
		{"batch too large", func() error {
			_, err := svc.Post(ctx, ingest.Request{Writer: writer, Version: statements.V200,
				Body: []byte("[" + other + "," + other + "," + other + "]")})
			return err
		}(), errs.TooLarge},
	} {
		if got := errs.KindOf(tc.err); got != tc.kind {
			t.Errorf("%s: %v, want kind %v", tc.name, tc.err, tc.kind)
		}
	}
}

// TestCPUBound: requests parse, validate and derive at most one fewer at
// once than the processors (at least one), small and large ones apart, so
// that the store's writer finds a processor free; a request waiting for
// its turn gives up with its context, having done nothing, and the one
// working goes on; a large request does not wait for a small one.
func TestCPUBound(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // one request at a time
	svc, db := newService(t, time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC))
	inside, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := svc.Post(context.Background(), ingest.Request{Writer: writer, Version: statements.V103, Body: []byte(completed),
			Restrict: func([]map[string]any) error { close(inside); <-release; return nil }})
		first <- err
	}()
	<-inside
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	restricted := false
	_, err := svc.Post(ctx, ingest.Request{Writer: writer, Version: statements.V103, Body: []byte(completed),
		Restrict: func([]map[string]any) error { restricted = true; return nil }})
	if err == nil || restricted || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a second request while the one place is taken: %v (its statements looked at: %v)", err, restricted)
	}
	// A large body (a back end's batch) has places of its own.
	large := strings.Replace(completed, `"result":`, `"context":{"extensions":{"http://example.com/x":"`+strings.Repeat("x", 70<<10)+`"}},"result":`, 1)
	lctx, lcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer lcancel()
	if _, err := svc.Post(lctx, ingest.Request{Writer: writer, Version: statements.V103, Body: []byte(large)}); err != nil {
		t.Errorf("a large request while the small requests' place is taken: %v", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("the first request: %v", err)
	}
	p, err := db.Query(context.Background(), statements.Query{Tenant: writer.Tenant})
	if err != nil || len(p.Records) != 2 {
		t.Errorf("stored %d statements (%v), want the first and the large request's", len(p.Records), err)
	}
}
