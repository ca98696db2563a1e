// Package storetest holds the contract tests every documents.Store backend
// passes (package sqlite, package mongo): Run checks round trips of any
// content, every Condition case, conditional writes racing each other,
// read-merge-write chains that must lose no acknowledged write, lists with
// since, delete-all, and isolation between tenants, kinds and keys; RunLarge checks a large binary document; RunActivities checks a
// statements.ActivityStore (canonical activity definitions).
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
)

// Run runs the contract tests against the stores open returns. open returns
// a fresh, empty store and registers its cleanup with t.
func Run(t *testing.T, open func(t *testing.T) documents.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s documents.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"NotFound", testNotFound},
		{"PutConditions", testPutConditions},
		{"DeleteConditions", testDeleteConditions},
		{"ConcurrentConditional", testConcurrentConditional},
		{"ConcurrentUnconditional", testConcurrentUnconditional},
		{"ConcurrentMerges", testConcurrentMerges},
		{"List", testList},
		{"ListRegistrations", testListRegistrations},
		{"DeleteAll", testDeleteAll},
		{"Isolation", testIsolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// RunLarge checks that a binary document of size bytes is stored and
// returned exactly, replaced under a condition and deleted.
func RunLarge(t *testing.T, open func(t *testing.T) documents.Store, size int) {
	s := open(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(uint64(size), 7))
	content := make([]byte, size)
	for i := range content {
		content[i] = byte(r.Uint32())
	}
	k := stateKey("t1", course1, alice, reg1, "big")
	d := doc(k, "application/octet-stream", content, at(1))
	put(t, s, d, documents.Condition{IfNoneMatch: []string{"*"}})
	checkDoc(t, s, d)

	content2 := bytes.Clone(content)
	content2[size/2] ^= 0xff
	d2 := doc(k, "application/x-big", content2, at(2))
	put(t, s, d2, documents.Condition{IfMatch: []string{d.ETag}})
	checkDoc(t, s, d2)
	if err := s.PutDocument(ctx, doc(k, "text/plain", []byte("x"), at(3)), documents.Condition{IfMatch: []string{d.ETag}}); !errs.Is(err, errs.PreconditionFailed) {
		t.Errorf("PutDocument with a stale If-Match = %v, want PreconditionFailed", err)
	}
	checkDoc(t, s, d2)
	if err := s.DeleteDocument(ctx, k, documents.Condition{IfMatch: []string{d2.ETag}}); err != nil {
		t.Fatalf("DeleteDocument: %v", err)
	}
	wantNotFound(t, s, k)
}

const (
	alice = "mbox:mailto:alice@example.com"
	bob   = "account:https://idp.example.com bob"

	course1 = "https://example.com/courses/1"
	course2 = "https://example.com/courses/2"

	reg1 = "0f2a3b4c-5d6e-4f70-8192-a3b4c5d6e7f8"
	reg2 = "1e2d3c4b-5a69-4788-9a6b-5c4d3e2f1a0b"
)

// base is the time documents are stamped from: at(i) is i seconds and a
// few nanoseconds after it, so that stores must keep nanoseconds.
var base = time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)

func at(i int) time.Time {
	return base.Add(time.Duration(i)*time.Second + time.Duration(i)*7*time.Nanosecond)
}

func stateKey(tenant, activity, agent, reg, id string) documents.Key {
	return documents.Key{Tenant: tenant, Kind: documents.State, ActivityID: activity, Agent: agent, Registration: reg, ID: id}
}

func activityProfileKey(tenant, activity, id string) documents.Key {
	return documents.Key{Tenant: tenant, Kind: documents.ActivityProfile, ActivityID: activity, ID: id}
}

func agentProfileKey(tenant, agent, id string) documents.Key {
	return documents.Key{Tenant: tenant, Kind: documents.AgentProfile, Agent: agent, ID: id}
}

// doc builds a document as the service does: ETag from the content.
func doc(k documents.Key, contentType string, content []byte, updated time.Time) *documents.Document {
	return &documents.Document{Key: k, ContentType: contentType, Content: content,
		ETag: documents.ComputeETag(content), Updated: updated}
}

func put(t testing.TB, s documents.Store, d *documents.Document, cond documents.Condition) {
	t.Helper()
	if err := s.PutDocument(context.Background(), d, cond); err != nil {
		t.Fatalf("PutDocument(%+v, %+v): %v", d.Key, cond, err)
	}
}

// checkDoc fails t unless the store holds exactly want under want.Key.
func checkDoc(t testing.TB, s documents.Store, want *documents.Document) {
	t.Helper()
	got, err := s.Document(context.Background(), want.Key)
	if err != nil {
		t.Fatalf("Document(%+v): %v", want.Key, err)
	}
	if got.Key != want.Key {
		t.Errorf("Document(%+v): Key = %+v", want.Key, got.Key)
	}
	if got.ContentType != want.ContentType || got.ETag != want.ETag || !got.Updated.Equal(want.Updated) {
		t.Errorf("Document(%+v) = {%q %s %v}, want {%q %s %v}", want.Key, got.ContentType, got.ETag, got.Updated,
			want.ContentType, want.ETag, want.Updated)
	}
	if got.Updated.Location() != time.UTC {
		t.Errorf("Document(%+v): Updated in %v, want UTC", want.Key, got.Updated.Location())
	}
	if !bytes.Equal(got.Content, want.Content) {
		t.Errorf("Document(%+v): content of %d bytes differs from the %d bytes stored", want.Key, len(got.Content), len(want.Content))
	}
	if got.Content == nil {
		t.Errorf("Document(%+v): nil content", want.Key)
	}
}

func wantNotFound(t testing.TB, s documents.Store, k documents.Key) {
	t.Helper()
	d, err := s.Document(context.Background(), k)
	if !errs.Is(err, errs.NotFound) {
		t.Errorf("Document(%+v) = %v, %v; want a NotFound error", k, d, err)
	}
}

// checkIDs fails t unless DocumentIDs(k, since) is want.
func checkIDs(t testing.TB, s documents.Store, k documents.Key, since time.Time, want ...string) {
	t.Helper()
	got, err := s.DocumentIDs(context.Background(), k, since)
	if err != nil {
		t.Fatalf("DocumentIDs(%+v, %v): %v", k, since, err)
	}
	if got == nil {
		t.Errorf("DocumentIDs(%+v, %v) = nil, want a non-nil list", k, since)
	}
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("DocumentIDs(%+v, %v) = %q, want %q", k, since, got, want)
	}
}

// binary is every byte value, invalid UTF-8 and NULs included.
func binary() []byte {
	b := make([]byte, 0, 512)
	for i := range 256 {
		b = append(b, byte(i))
	}
	return append(b, 0, 0, 0xff, 0xfe, '\r', '\n', 0xc3, 0x28)
}

func testRoundTrip(t *testing.T, s documents.Store) {
	docs := []*documents.Document{
		doc(stateKey("t1", course1, alice, "", "bookmark"), "application/json", []byte(`{"page": 3, "x": [1.50, "é"]}`), at(1)),
		doc(stateKey("t1", course1, alice, reg1, "bookmark"), "application/octet-stream", binary(), at(2)),
		doc(activityProfileKey("t1", course1, "http://example.com/profiles/a.b?c=d#e"), "text/plain; charset=utf-8", []byte("héllo\x00wörld"), at(3)),
		doc(agentProfileKey("t1", alice, "prefs"), "application/x-custom+xml", []byte("<a b='c'/>"), at(4)),
		doc(agentProfileKey("t1", bob, "empty"), "application/octet-stream", []byte{}, at(5)),
	}
	for _, d := range docs {
		put(t, s, d, documents.Condition{})
	}
	for _, d := range docs {
		checkDoc(t, s, d)
	}
	// Replacing changes content, content type, ETag and Updated.
	d := doc(docs[0].Key, "text/plain", []byte("plain now"), at(10))
	put(t, s, d, documents.Condition{})
	checkDoc(t, s, d)
	// Putting the same content again is fine and moves Updated.
	d = doc(docs[1].Key, "application/octet-stream", binary(), at(11))
	put(t, s, d, documents.Condition{})
	checkDoc(t, s, d)
	// The store keeps its own copy of the content.
	c := []byte("mine")
	d = doc(docs[3].Key, "text/plain", c, at(12))
	put(t, s, d, documents.Condition{})
	c[0] = 'X'
	d.Content = []byte("mine")
	checkDoc(t, s, d)
	// Deleting without a condition; again is not an error.
	for range 2 {
		if err := s.DeleteDocument(context.Background(), docs[2].Key, documents.Condition{}); err != nil {
			t.Fatalf("DeleteDocument: %v", err)
		}
		wantNotFound(t, s, docs[2].Key)
	}
	checkDoc(t, s, docs[4])
}

func testNotFound(t *testing.T, s documents.Store) {
	k := stateKey("t1", course1, alice, "", "s")
	wantNotFound(t, s, k)
	put(t, s, doc(k, "text/plain", []byte("x"), at(1)), documents.Condition{})
	wantNotFound(t, s, stateKey("t1", course1, alice, "", "S"))
	wantNotFound(t, s, stateKey("t1", course1, alice, reg1, "s"))
	wantNotFound(t, s, stateKey("t2", course1, alice, "", "s"))
	wantNotFound(t, s, stateKey("", course1, alice, "", "s"))
}

var (
	none = documents.Condition{}
	star = []string{"*"}
)

func ifMatch(tags ...string) documents.Condition     { return documents.Condition{IfMatch: tags} }
func ifNoneMatch(tags ...string) documents.Condition { return documents.Condition{IfNoneMatch: tags} }

func testPutConditions(t *testing.T, s documents.Store) {
	ctx := context.Background()
	cur := doc(stateKey("t1", course1, alice, "", "cond"), "text/plain", []byte("v0"), at(1))
	put(t, s, cur, none)
	other := documents.ComputeETag([]byte("something else"))
	for i, tt := range []struct {
		name    string
		missing bool // the document does not exist before the write
		cond    func(etag string) documents.Condition
		ok      bool
	}{
		{"If-Match current", false, func(e string) documents.Condition { return ifMatch(e) }, true},
		{"If-Match another", false, func(e string) documents.Condition { return ifMatch(other) }, false},
		{"If-Match list with current", false, func(e string) documents.Condition { return ifMatch(other, e) }, true},
		{"If-Match *", false, func(e string) documents.Condition { return ifMatch("*") }, true},
		{"If-Match * on missing", true, func(e string) documents.Condition { return ifMatch("*") }, false},
		{"If-Match etag on missing", true, func(e string) documents.Condition { return ifMatch(other) }, false},
		{"If-None-Match * on existing", false, func(e string) documents.Condition { return ifNoneMatch("*") }, false},
		{"If-None-Match * on missing", true, func(e string) documents.Condition { return ifNoneMatch("*") }, true},
		{"If-None-Match current", false, func(e string) documents.Condition { return ifNoneMatch(e) }, false},
		{"If-None-Match another", false, func(e string) documents.Condition { return ifNoneMatch(other) }, true},
		{"If-None-Match etag on missing", true, func(e string) documents.Condition { return ifNoneMatch(other) }, true},
		{"both hold", false, func(e string) documents.Condition {
			return documents.Condition{IfMatch: []string{e}, IfNoneMatch: []string{other}}
		}, true},
		{"If-Match holds, If-None-Match * fails", false, func(e string) documents.Condition {
			return documents.Condition{IfMatch: []string{e}, IfNoneMatch: star}
		}, false},
		{"If-Match fails, If-None-Match holds", false, func(e string) documents.Condition {
			return documents.Condition{IfMatch: []string{other}, IfNoneMatch: []string{other}}
		}, false},
		{"both on missing", true, func(e string) documents.Condition {
			return documents.Condition{IfMatch: star, IfNoneMatch: star}
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.missing {
				if err := s.DeleteDocument(ctx, cur.Key, none); err != nil {
					t.Fatal(err)
				}
			}
			next := doc(cur.Key, "application/json", []byte(fmt.Sprintf(`{"v":%d}`, i+1)), at(i+2))
			err := s.PutDocument(ctx, next, tt.cond(cur.ETag))
			switch {
			case tt.ok && err != nil:
				t.Fatalf("PutDocument: %v, want success", err)
			case !tt.ok && !errs.Is(err, errs.PreconditionFailed):
				t.Fatalf("PutDocument = %v, want a PreconditionFailed error", err)
			}
			switch {
			case tt.ok:
				checkDoc(t, s, next)
				cur = next
			case tt.missing:
				wantNotFound(t, s, cur.Key)
			default:
				checkDoc(t, s, cur)
			}
			if tt.missing && !tt.ok {
				put(t, s, cur, none) // back for the next case
			}
		})
	}
}

func testDeleteConditions(t *testing.T, s documents.Store) {
	ctx := context.Background()
	k := agentProfileKey("t1", alice, "del")
	other := documents.ComputeETag([]byte("something else"))
	for _, tt := range []struct {
		name    string
		missing bool
		cond    func(etag string) documents.Condition
		ok      bool
	}{
		{"If-Match another", false, func(e string) documents.Condition { return ifMatch(other) }, false},
		{"If-None-Match *", false, func(e string) documents.Condition { return ifNoneMatch("*") }, false},
		{"If-None-Match current", false, func(e string) documents.Condition { return ifNoneMatch(e) }, false},
		{"If-Match current", false, func(e string) documents.Condition { return ifMatch(e) }, true},
		{"If-Match *", false, func(e string) documents.Condition { return ifMatch("*") }, true},
		{"If-None-Match another", false, func(e string) documents.Condition { return ifNoneMatch(other) }, true},
		{"no condition on missing", true, func(e string) documents.Condition { return none }, true},
		{"If-Match * on missing", true, func(e string) documents.Condition { return ifMatch("*") }, false},
		{"If-None-Match * on missing", true, func(e string) documents.Condition { return ifNoneMatch("*") }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := doc(k, "text/plain", []byte(tt.name), at(1))
			if tt.missing {
				if err := s.DeleteDocument(ctx, k, none); err != nil {
					t.Fatal(err)
				}
			} else {
				put(t, s, d, none)
			}
			err := s.DeleteDocument(ctx, k, tt.cond(d.ETag))
			switch {
			case tt.ok && err != nil:
				t.Fatalf("DeleteDocument: %v, want success", err)
			case !tt.ok && !errs.Is(err, errs.PreconditionFailed):
				t.Fatalf("DeleteDocument = %v, want a PreconditionFailed error", err)
			}
			if tt.ok || tt.missing {
				wantNotFound(t, s, k)
			} else {
				checkDoc(t, s, d)
			}
		})
	}
}

// race runs fn(i) for i in [0, n) at once and returns their errors.
func race(n int, fn func(i int) error) []error {
	errors := make([]error, n)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			errors[i] = fn(i)
		}()
	}
	start.Done()
	wg.Wait()
	return errors
}

// oneWinner fails t unless exactly one of errors is nil and the others
// are PreconditionFailed errors; it returns the winner.
func oneWinner(t *testing.T, what string, errors []error) int {
	t.Helper()
	winner := -1
	for i, err := range errors {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("%s: writers %d and %d both succeeded", what, winner, i)
		case err == nil:
			winner = i
		case !errs.Is(err, errs.PreconditionFailed):
			t.Errorf("%s: writer %d: %v, want success or PreconditionFailed", what, i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: no writer succeeded", what)
	}
	return winner
}

func testConcurrentConditional(t *testing.T, s documents.Store) {
	ctx := context.Background()
	const n = 8
	for round := range 3 {
		k := stateKey("t1", course1, alice, reg1, fmt.Sprintf("race-%d", round))
		content := func(i int) []byte { return []byte(fmt.Sprintf("writer %d of round %d", i, round)) }

		// Create: If-None-Match * lets exactly one writer create it.
		errors := race(n, func(i int) error {
			return s.PutDocument(ctx, doc(k, "text/plain", content(i), at(i)), ifNoneMatch("*"))
		})
		w := oneWinner(t, "If-None-Match * create", errors)
		cur := doc(k, "text/plain", content(w), at(w))
		checkDoc(t, s, cur)

		// Update: each writer read the same ETag; exactly one replaces it.
		errors = race(n, func(i int) error {
			return s.PutDocument(ctx, doc(k, "application/json", content(n+i), at(n+i)), ifMatch(cur.ETag))
		})
		w = oneWinner(t, "If-Match update", errors)
		cur = doc(k, "application/json", content(n+w), at(n+w))
		checkDoc(t, s, cur)

		// Mixed: updates and deletes against the same ETag; one wins.
		errors = race(n, func(i int) error {
			if i%2 == 0 {
				return s.DeleteDocument(ctx, k, ifMatch(cur.ETag))
			}
			return s.PutDocument(ctx, doc(k, "text/plain", content(2*n+i), at(2*n+i)), ifMatch(cur.ETag))
		})
		w = oneWinner(t, "If-Match update or delete", errors)
		if w%2 == 0 {
			wantNotFound(t, s, k)
		} else {
			checkDoc(t, s, doc(k, "text/plain", content(2*n+w), at(2*n+w)))
		}
	}
}

func testConcurrentUnconditional(t *testing.T, s documents.Store) {
	ctx := context.Background()
	const n = 8
	k := activityProfileKey("t1", course2, "shared")
	content := func(i int) []byte { return []byte(fmt.Sprintf("writer %d", i)) }
	for i, err := range race(n, func(i int) error {
		return s.PutDocument(ctx, doc(k, "text/plain", content(i), at(i)), none)
	}) {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	got, err := s.Document(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	var w = -1
	for i := range n {
		if bytes.Equal(got.Content, content(i)) {
			w = i
		}
	}
	if w < 0 {
		t.Fatalf("the document holds %q, written by nobody", got.Content)
	}
	checkDoc(t, s, doc(k, "text/plain", content(w), at(w)))
}

// testConcurrentMerges runs what a POST of a JSON document does, from many
// writers at once on one document: read it, add a property, write it back
// with If-Match on the ETag read (If-None-Match * when there is none), and
// start again when that precondition fails. Every write the store
// acknowledges must stay visible: the document ends with every writer's
// every property, and the acknowledged writes form one chain of ETags, each
// write replacing the one before it (two acknowledged writes from the same
// ETag mean one of them was lost).
func testConcurrentMerges(t *testing.T, s documents.Store) {
	ctx := context.Background()
	const writers, rounds = 8, 6
	k := stateKey("t1", course1, alice, reg1, "merged")
	var mu sync.Mutex
	next := map[string]string{} // ETag written on -> ETag written ("" for none)
	for i, err := range race(writers, func(i int) error {
		for r := range rounds {
			for attempt := 0; ; attempt++ {
				if attempt == 1000 {
					return fmt.Errorf("round %d: still failing after %d attempts", r, attempt)
				}
				props := map[string]any{}
				var base string
				cond := ifNoneMatch("*")
				cur, err := s.Document(ctx, k)
				switch {
				case err == nil:
					if err := json.Unmarshal(cur.Content, &props); err != nil {
						return fmt.Errorf("the document holds %q: %v", cur.Content, err)
					}
					base, cond = cur.ETag, ifMatch(cur.ETag)
				case !errs.Is(err, errs.NotFound):
					return err
				}
				props[fmt.Sprintf("w%d.%d", i, r)] = r
				content, _ := json.Marshal(props)
				d := doc(k, "application/json", content, at(i*rounds+r))
				err = s.PutDocument(ctx, d, cond)
				if errs.Is(err, errs.PreconditionFailed) {
					continue
				}
				if err != nil {
					return err
				}
				mu.Lock()
				prev, dup := next[base]
				next[base] = d.ETag
				mu.Unlock()
				if dup {
					return fmt.Errorf("round %d: acknowledged writes %s and %s both replaced %q", r, prev, d.ETag, base)
				}
				break
			}
		}
		return nil
	}) {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	got, err := s.Document(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	props := map[string]any{}
	if err := json.Unmarshal(got.Content, &props); err != nil {
		t.Fatalf("the document holds %q: %v", got.Content, err)
	}
	for i := range writers {
		for r := range rounds {
			if _, ok := props[fmt.Sprintf("w%d.%d", i, r)]; !ok {
				t.Errorf("the write of writer %d, round %d was acknowledged but is lost", i, r)
			}
		}
	}
	// The chain from no document through every acknowledged write ends at
	// the current ETag.
	etag, n := "", 0
	for ; n <= len(next); n++ {
		e, ok := next[etag]
		if !ok {
			break
		}
		etag = e
	}
	if n != writers*rounds || len(next) != writers*rounds || etag != got.ETag {
		t.Errorf("%d acknowledged writes; the chain of ETags from none covers %d and ends at %s, the document's ETag is %s",
			len(next), n, etag, got.ETag)
	}
}

func testList(t *testing.T, s documents.Store) {
	zero := time.Time{}
	// Activity profiles, put out of id order.
	for i, id := range []string{"c", "a", "b", "B", "a.b/c"} {
		put(t, s, doc(activityProfileKey("t1", course1, id), "text/plain", []byte(id), at(10*(i+1))), none)
	}
	ap := activityProfileKey("t1", course1, "")
	checkIDs(t, s, ap, zero, "B", "a", "a.b/c", "b", "c")
	checkIDs(t, s, ap, at(10), "B", "a", "a.b/c", "b") // strictly after: c (at 10) is out
	checkIDs(t, s, ap, at(10).Add(-time.Nanosecond), "B", "a", "a.b/c", "b", "c")
	checkIDs(t, s, ap, at(30), "B", "a.b/c")
	checkIDs(t, s, ap, at(50))
	checkIDs(t, s, ap, at(50).Add(-time.Nanosecond), "a.b/c")
	checkIDs(t, s, activityProfileKey("t1", course2, ""), zero)
	// The ID of the key is ignored.
	checkIDs(t, s, activityProfileKey("t1", course1, "c"), at(30), "B", "a.b/c")

	// An update moves a document into a later window.
	put(t, s, doc(activityProfileKey("t1", course1, "c"), "text/plain", []byte("c2"), at(60)), none)
	checkIDs(t, s, ap, at(50), "c")
	// A deleted document leaves the list.
	if err := s.DeleteDocument(context.Background(), activityProfileKey("t1", course1, "a"), none); err != nil {
		t.Fatal(err)
	}
	checkIDs(t, s, ap, zero, "B", "a.b/c", "b", "c")

	// Agent profiles.
	for i, id := range []string{"z", "y"} {
		put(t, s, doc(agentProfileKey("t1", alice, id), "text/plain", []byte(id), at(i)), none)
	}
	checkIDs(t, s, agentProfileKey("t1", alice, ""), zero, "y", "z")
	checkIDs(t, s, agentProfileKey("t1", alice, ""), at(0), "y")
	checkIDs(t, s, agentProfileKey("t1", bob, ""), zero)
}

// testListRegistrations checks the registration rule of the State
// resource: a list or delete without a registration covers the states of
// every registration and those without one ("Activity + Agent
// [+ registration if specified]"); with one, only that registration's.
func testListRegistrations(t *testing.T, s documents.Store) {
	zero := time.Time{}
	for _, d := range []*documents.Document{
		doc(stateKey("t1", course1, alice, "", "s0"), "text/plain", []byte("0"), at(1)),
		doc(stateKey("t1", course1, alice, reg1, "s1"), "text/plain", []byte("1"), at(2)),
		doc(stateKey("t1", course1, alice, reg2, "s2"), "text/plain", []byte("2"), at(3)),
		doc(stateKey("t1", course1, alice, "", "dup"), "text/plain", []byte("d0"), at(4)),
		doc(stateKey("t1", course1, alice, reg1, "dup"), "text/plain", []byte("d1"), at(5)),
		doc(stateKey("t1", course1, alice, reg2, "dup"), "text/plain", []byte("d2"), at(1)),
	} {
		put(t, s, d, none)
	}
	all := stateKey("t1", course1, alice, "", "")
	checkIDs(t, s, all, zero, "dup", "s0", "s1", "s2") // each id once
	checkIDs(t, s, all, at(2), "dup", "s2")
	checkIDs(t, s, all, at(4), "dup")
	checkIDs(t, s, stateKey("t1", course1, alice, reg1, ""), zero, "dup", "s1")
	checkIDs(t, s, stateKey("t1", course1, alice, reg1, ""), at(2), "dup")
	checkIDs(t, s, stateKey("t1", course1, alice, reg2, ""), zero, "dup", "s2")
	checkIDs(t, s, stateKey("t1", course1, alice, reg2, ""), at(1), "s2")
	checkIDs(t, s, stateKey("t1", course1, alice, "9a1b2c3d-0000-4000-8000-000000000000", ""), zero)
	// A single document without a registration is the one without.
	checkDoc(t, s, doc(stateKey("t1", course1, alice, "", "dup"), "text/plain", []byte("d0"), at(4)))
	wantNotFound(t, s, stateKey("t1", course1, alice, "", "s1"))
}

func testDeleteAll(t *testing.T, s documents.Store) {
	ctx := context.Background()
	zero := time.Time{}
	var kept []*documents.Document
	add := func(d *documents.Document, keep bool) {
		put(t, s, d, none)
		if keep {
			kept = append(kept, d)
		}
	}
	add(doc(stateKey("t1", course1, alice, "", "s0"), "text/plain", []byte("0"), at(1)), true)
	add(doc(stateKey("t1", course1, alice, reg1, "s1"), "text/plain", []byte("1"), at(2)), false)
	add(doc(stateKey("t1", course1, alice, reg1, "s1b"), "text/plain", []byte("1b"), at(2)), false)
	add(doc(stateKey("t1", course1, alice, reg2, "s2"), "text/plain", []byte("2"), at(3)), true)
	// Neighbours that no delete below touches.
	add(doc(stateKey("t1", course1, bob, reg1, "s1"), "text/plain", []byte("bob"), at(4)), true)
	add(doc(stateKey("t1", course2, alice, reg1, "s1"), "text/plain", []byte("course2"), at(5)), true)
	add(doc(stateKey("t2", course1, alice, reg1, "s1"), "text/plain", []byte("t2"), at(6)), true)
	add(doc(activityProfileKey("t1", course1, "s1"), "text/plain", []byte("ap"), at(7)), true)
	add(doc(agentProfileKey("t1", alice, "s1"), "text/plain", []byte("ag"), at(8)), true)

	// With a registration: only that registration's states.
	if err := s.DeleteDocuments(ctx, stateKey("t1", course1, alice, reg1, "")); err != nil {
		t.Fatalf("DeleteDocuments(reg1): %v", err)
	}
	checkIDs(t, s, stateKey("t1", course1, alice, "", ""), zero, "s0", "s2")
	checkIDs(t, s, stateKey("t1", course1, alice, reg1, ""), zero)
	wantNotFound(t, s, stateKey("t1", course1, alice, reg1, "s1"))
	for _, d := range kept {
		checkDoc(t, s, d)
	}

	// Without: every registration's and those without one.
	if err := s.DeleteDocuments(ctx, stateKey("t1", course1, alice, "", "")); err != nil {
		t.Fatalf("DeleteDocuments: %v", err)
	}
	checkIDs(t, s, stateKey("t1", course1, alice, "", ""), zero)
	wantNotFound(t, s, stateKey("t1", course1, alice, "", "s0"))
	wantNotFound(t, s, stateKey("t1", course1, alice, reg2, "s2"))
	for _, d := range kept[2:] {
		checkDoc(t, s, d)
	}
	// Deleting nothing is fine.
	if err := s.DeleteDocuments(ctx, stateKey("t1", course1, alice, "", "")); err != nil {
		t.Fatalf("DeleteDocuments of nothing: %v", err)
	}
}

func testIsolation(t *testing.T, s documents.Store) {
	ctx := context.Background()
	zero := time.Time{}
	// The same id under keys that differ in one field each: all distinct.
	keys := []documents.Key{
		stateKey("t1", course1, alice, "", "x"),
		stateKey("t2", course1, alice, "", "x"),
		stateKey("", course1, alice, "", "x"),
		stateKey("t1", course2, alice, "", "x"),
		stateKey("t1", course1, bob, "", "x"),
		stateKey("t1", course1, alice, reg1, "x"),
		activityProfileKey("t1", course1, "x"),
		activityProfileKey("t2", course1, "x"),
		agentProfileKey("t1", alice, "x"),
		agentProfileKey("t2", alice, "x"),
		// Fields that could run into each other if a store joined them
		// without care.
		stateKey("t1", course1+"|", alice, "", "x"),
		stateKey("t1", course1, "|"+alice, "", "x"),
		activityProfileKey("t1", alice, "x"),
		agentProfileKey("t1", course1, "x"),
	}
	var docs []*documents.Document
	for i, k := range keys {
		d := doc(k, "text/plain", []byte(fmt.Sprintf("doc %d", i)), at(i))
		put(t, s, d, ifNoneMatch("*")) // each is new
		docs = append(docs, d)
	}
	for _, d := range docs {
		checkDoc(t, s, d)
	}
	// Each list sees its own document only.
	for _, k := range keys {
		k.ID = ""
		checkIDs(t, s, k, zero, "x")
	}
	checkIDs(t, s, stateKey("t3", course1, alice, "", ""), zero)
	checkIDs(t, s, activityProfileKey("t3", course1, ""), zero)
	checkIDs(t, s, agentProfileKey("t3", alice, ""), zero)

	// A condition is checked against the document of its own key.
	if err := s.PutDocument(ctx, doc(keys[1], "text/plain", []byte("new"), at(50)), ifMatch(docs[0].ETag)); !errs.Is(err, errs.PreconditionFailed) {
		t.Errorf("If-Match with another key's ETag = %v, want PreconditionFailed", err)
	}
	// Deletes stay in their key.
	if err := s.DeleteDocument(ctx, keys[0], none); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDocuments(ctx, stateKey("t2", course1, alice, "", "")); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, keys[0])
	wantNotFound(t, s, keys[1])
	for _, d := range docs[2:] {
		checkDoc(t, s, d)
	}
}
