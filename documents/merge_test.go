package documents_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/sqlite"
)

// TestMerge: Merge stores a JSON object as the document when there is
// none, merges the top-level properties of the next into it (concurrent
// merges lose none), and refuses a body or a stored document that is not a
// JSON object, and a precondition that does not hold.
func TestMerge(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "lrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC) }
	k := documents.Key{Tenant: "t1", Kind: documents.ActivityProfile, ActivityID: "http://example.com/a", ID: "p"}

	if err := documents.Merge(ctx, db, k, []byte(`{"a":1,"b":"<&>"}`), documents.Condition{}, now); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := documents.Merge(ctx, db, k, fmt.Appendf(nil, `{"c%d":%d,"a":2}`, i, i), documents.Condition{}, now); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	d, err := db.Document(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":2,"b":"<&>","c0":0,"c1":1,"c2":2,"c3":3}`
	if string(d.Content) != want || d.ContentType != "application/json" || d.ETag != documents.ComputeETag(d.Content) ||
		!d.Updated.Equal(now()) {
		t.Errorf("merged %s (%s, %s, %v), want %s", d.Content, d.ContentType, d.ETag, d.Updated, want)
	}

	text := documents.Key{Tenant: "t1", Kind: documents.ActivityProfile, ActivityID: "http://example.com/a", ID: "text"}
	if err := db.PutDocument(ctx, documents.NewDocument(text, "text/plain", []byte("hi"), now()), documents.Condition{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		k     documents.Key
		patch string
		cond  documents.Condition
		kind  errs.Kind
	}{
		{"body not an object", k, `[1]`, documents.Condition{}, errs.Invalid},
		{"stored not JSON", text, `{"a":1}`, documents.Condition{}, errs.Invalid},
		{"If-Match of another ETag", k, `{"a":1}`, documents.Condition{IfMatch: []string{"0000"}}, errs.PreconditionFailed},
		{"If-None-Match *", k, `{"a":1}`, documents.Condition{IfNoneMatch: []string{"*"}}, errs.PreconditionFailed},
	} {
		if err := documents.Merge(ctx, db, tc.k, []byte(tc.patch), tc.cond, now); errs.KindOf(err) != tc.kind {
			t.Errorf("%s: %v, want kind %v", tc.name, err, tc.kind)
		}
	}
}
