package scorm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/mongo"
	"github.com/xapi-lrs/lrs/mongo/ferrettest"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/scorm"
	"github.com/xapi-lrs/lrs/sqlite"
	"github.com/xapi-lrs/lrs/statements"
)

var writer = ingest.Writer{Tenant: "t1", Key: "bridge", Name: "Other LMS", Home: "https://lrs.example.org"}

// store is what the tests need of a backend.
type store interface {
	documents.Store
	ingest.Store
	statements.ActivityStore
	reporting.Store
}

// TestMain stops the FerretDB the MongoDB runs start.
func TestMain(m *testing.M) {
	code := m.Run()
	ferrettest.StopShared()
	os.Exit(code)
}

// backends open a fresh store of each backend: SQLite in a temporary
// directory, MongoDB on an in-process FerretDB (started once).
var backends = []struct {
	name string
	open func(t *testing.T) store
}{
	{"SQLite", func(t *testing.T) store {
		db, err := sqlite.Open(filepath.Join(t.TempDir(), "lrs.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}},
	{"MongoDB", func(t *testing.T) store {
		uri := ferrettest.NewDatabase(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := mongo.Open(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}},
}

// eachBackend runs test on a commit Service over a fresh store of each
// backend, with reporting on.
func eachBackend(t *testing.T, test func(t *testing.T, svc *scorm.Service, db store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t)
			now := func() time.Time { return time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC) }
			in := ingest.New(ingest.Config{Store: db, Facts: db, Now: now})
			test(t, scorm.NewService(db, in, now), db)
		})
	}
}

func post(t *testing.T, svc *scorm.Service, body string) *scorm.Result {
	t.Helper()
	res, err := svc.Commit(context.Background(), scorm.Request{Writer: writer, Context: attempt, Body: []byte(body)})
	if err != nil {
		t.Fatalf("Commit(%s): %v", body, err)
	}
	return res
}

// count returns the number of statements stored in the writer's tenant.
func count(t *testing.T, db store) int {
	t.Helper()
	page, err := db.Query(context.Background(), statements.Query{Tenant: writer.Tenant, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Records)
}

// TestCommitCountsAsCompletion: a SCORM 1.2 session that passes, committed
// through the service, stores the profile's statements through the ingest
// service, and their projection has a fact that completes and passes the
// SCO (not the course in the grouping: reporting.Project counts that for
// nothing, a course is completed by the rollup or by a module's parts),
// with the score, in the attempt's registration.
func TestCommitCountsAsCompletion(t *testing.T) {
	eachBackend(t, func(t *testing.T, svc *scorm.Service, db store) {
		res := post(t, svc, `{"cmi":{"core":{"student_id":"ann","entry":"ab-initio","lesson_status":"passed","score":{"raw":"90","max":"100"},
		"session_time":"00:12:00"}},"terminate":true}`)
		if len(res.Statements) != 5 {
			t.Fatalf("stored %v, want initialized, completed, passed, scored, terminated", res.Statements)
		}
		var got *reporting.Fact
		err := db.Facts(context.Background(), writer.Tenant, nil, func(agent string, facts []reporting.Fact) error {
			for i, f := range facts {
				if f.Outcome.Has(reporting.OutcomePassed|reporting.OutcomeCompleted) && slices.Contains(f.Activities, attempt.SCO) {
					got = &facts[i]
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got == nil {
			t.Fatal("no completed+passed fact of the SCO")
		}
		if !got.Outcome.Achieves() || slices.Contains(got.Activities, attempt.Course) || !got.HasScore || got.Score != 0.9 ||
			got.Registration.String() != attempt.Registration || got.Agent != reporting.MatchKey(statements.AgentKey(learner)) {
			t.Errorf("fact %+v", got)
		}
	})
}

// TestCommitIdempotent: posting the same commit twice stores nothing the
// second time; a changed commit stores only what changed.
func TestCommitIdempotent(t *testing.T) {
	eachBackend(t, func(t *testing.T, svc *scorm.Service, db store) {
		body := `{"cmi":{"completion_status":"incomplete","suspend_data":"abc","interactions":{"0":{"id":"q1","type":"true-false","learner_response":"true"}}}}`
		if res := post(t, svc, body); len(res.Statements) != 2 {
			t.Fatalf("first commit stored %v, want initialized and responded", res.Statements)
		}
		if res := post(t, svc, body); len(res.Statements) != 0 {
			t.Fatalf("the same commit again stored %v", res.Statements)
		}
		if n := count(t, db); n != 2 {
			t.Fatalf("%d statements stored, want 2", n)
		}
		// Only the suspend data changed: no statement, but the state keeps it.
		res := post(t, svc, `{"cmi":{"completion_status":"incomplete","suspend_data":"abcd","interactions":{"0":{"id":"q1","type":"true-false","learner_response":"true"}}}}`)
		if len(res.Statements) != 0 || res.State.Data.SuspendData != "abcd" {
			t.Fatalf("suspend data commit: %v, state %+v", res.Statements, res.State.Data)
		}
		st, err := svc.State(context.Background(), writer.Tenant, attempt)
		if err != nil || st.Data.SuspendData != "abcd" {
			t.Fatalf("State: %+v, %v", st, err)
		}
	})
}

// TestCommitStoresPending: a commit whose state was written but whose
// statements were not (the process died in between) has them stored by
// the next commit of the attempt, with the ids they were given.
func TestCommitStoresPending(t *testing.T) {
	eachBackend(t, func(t *testing.T, svc *scorm.Service, db store) {
		c, _ := scorm.ParseCommit([]byte(`{"cmi":{"completion_status":"completed"}}`))
		next, stmts, err := scorm.Map(nil, c, attempt)
		if err != nil {
			t.Fatal(err)
		}
		pending := []json.RawMessage{}
		for _, s := range stmts {
			b, _ := json.Marshal(s)
			pending = append(pending, b)
		}
		content, _ := json.Marshal(map[string]any{"state": next, "pending": pending})
		key := scorm.StateKey(writer.Tenant, attempt)
		if err := db.PutDocument(context.Background(), documents.NewDocument(key, "application/json", content, time.Now()), documents.Condition{}); err != nil {
			t.Fatal(err)
		}
		if res := post(t, svc, `{"cmi":{"completion_status":"completed"}}`); len(res.Statements) != 0 {
			t.Fatalf("stored %v as new statements", res.Statements)
		}
		for _, s := range stmts {
			if _, err := db.Get(context.Background(), writer.Tenant, s["id"].(string)); err != nil {
				t.Errorf("pending statement %s: %v", s["id"], err)
			}
		}
		doc, err := db.Document(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		var st struct{ Pending []json.RawMessage }
		if err := json.Unmarshal(doc.Content, &st); err != nil || len(st.Pending) != 0 {
			t.Errorf("state %s still holds pending statements (%v)", doc.Content, err)
		}
	})
}

// TestCommitConcurrent: commits of one attempt arriving at once are
// serialised by the state's ETag: every statement is stored once, and the
// state counts exactly the statements stored.
func TestCommitConcurrent(t *testing.T) {
	eachBackend(t, func(t *testing.T, svc *scorm.Service, db store) {
		const n = 8
		var wg sync.WaitGroup
		errc := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf(`{"cmi":{"interactions":{"0":{"id":"q","type":"fill-in","learner_response":"answer %d"}}}}`, i)
				_, err := svc.Commit(context.Background(), scorm.Request{Writer: writer, Context: attempt, Body: []byte(body)})
				errc <- err
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil && !errs.Is(err, errs.Conflict) {
				t.Fatal(err)
			}
		}
		st, err := svc.State(context.Background(), writer.Tenant, attempt)
		if err != nil {
			t.Fatal(err)
		}
		if got := count(t, db); got != st.Seq || got < 2 {
			t.Errorf("%d statements stored, the state counts %d", got, st.Seq)
		}
	})
}

// TestCommitRejects: a bad commit and a state the service did not write
// are client errors, not internal ones.
func TestCommitRejects(t *testing.T) {
	eachBackend(t, func(t *testing.T, svc *scorm.Service, db store) {
		if _, err := svc.Commit(context.Background(), scorm.Request{Writer: writer, Context: attempt, Body: []byte(`{"cmi":{"exit":"x"}}`)}); !errs.Is(err, errs.Invalid) {
			t.Errorf("bad commit: %v, want Invalid", err)
		}
		key := scorm.StateKey(writer.Tenant, attempt)
		if err := db.PutDocument(context.Background(), documents.NewDocument(key, "text/plain", []byte("hello"), time.Now()), documents.Condition{}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Commit(context.Background(), scorm.Request{Writer: writer, Context: attempt, Body: []byte(`{"cmi":{}}`)}); !errs.Is(err, errs.Conflict) {
			t.Errorf("foreign state: %v, want Conflict", err)
		}
	})
}
