// Package storetest holds the contract tests every statements.Store backend
// passes (package sqlite, package mongo): Run checks storage, idempotency,
// voiding, every filter, StatementRef filter inheritance, paging, attachments
// and concurrency; RunCredentials checks an auth.CredentialStore.
//
// The tests compare the store with a small reference model (model.go) that
// states the Query semantics of the xAPI specification directly, on fixed
// scenarios and on a random data set.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// Run runs the contract tests against the stores open returns. open returns
// a fresh, empty store and registers its cleanup with t.
func Run(t *testing.T, open func(t *testing.T) statements.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s statements.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"NotFound", testNotFound},
		{"Idempotent", testIdempotent},
		{"Conflict", testConflict},
		{"BatchAtomic", testBatchAtomic},
		{"TenantIsolation", testTenantIsolation},
		{"Voiding", testVoiding},
		{"Filters", testFilters},
		{"StatementRefs", testStatementRefs},
		{"StatementRefsLate", testStatementRefsLate},
		{"Paging", testPaging},
		{"PagingWhileInserting", testPagingWhileInserting},
		{"PagingEqualStored", testPagingEqualStored},
		{"Attachments", testAttachments},
		{"ConsistentThrough", testConsistentThrough},
		{"Concurrent", testConcurrent},
		{"Ping", testPing},
		{"Model", testModel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

const (
	alice = "mbox:mailto:alice@example.com"
	bob   = "mbox:mailto:bob@example.com"
	carol = "account:https://idp.example.com carol"
	dave  = "openid:https://openid.example.com/dave"
	eve   = "mbox_sha1sum:ebd31e95054c018b10727ccffd2ef2ec3a016ee9"

	completed = "http://adlnet.gov/expapi/verbs/completed"
	attempted = "http://adlnet.gov/expapi/verbs/attempted"

	course1  = "https://example.com/courses/1"
	course2  = "https://example.com/courses/2"
	course3  = "https://example.com/courses/3"
	program1 = "https://example.com/programs/1"

	reg1 = "0f2a3b4c-5d6e-4f70-8192-a3b4c5d6e7f8"
	reg2 = "1e2d3c4b-5a69-4788-9a6b-5c4d3e2f1a0b"

	lms1 = "account:https://lrs.example.com lms1"
	lms2 = "account:https://lrs.example.com lms2"
)

func insert(t testing.TB, s statements.Store, recs ...*statements.Record) {
	t.Helper()
	if err := s.Insert(context.Background(), recs, nil); err != nil {
		t.Fatalf("Insert(%d records): %v", len(recs), err)
	}
}

func get(t testing.TB, s statements.Store, tenant, id string) *statements.Record {
	t.Helper()
	r, err := s.Get(context.Background(), tenant, id)
	if err != nil {
		t.Fatalf("Get(%q, %s): %v", tenant, id, err)
	}
	return r
}

func wantNotFound(t testing.TB, s statements.Store, tenant, id string) {
	t.Helper()
	r, err := s.Get(context.Background(), tenant, id)
	if !errs.Is(err, errs.NotFound) {
		t.Errorf("Get(%q, %s) = %v, %v; want a NotFound error", tenant, id, r, err)
	}
}

// queryAll pages through every result of q (q.Limit per page), failing on a
// repeated statement or a page over the limit.
func queryAll(t testing.TB, s statements.Store, q statements.Query) []*statements.Record {
	t.Helper()
	var out []*statements.Record
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("Query(%s): paging does not end", describe(q))
		}
		p, err := s.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("Query(%s): %v", describe(q), err)
		}
		if len(p.Records) > q.Limit {
			t.Fatalf("Query(%s): %d records, over the limit", describe(q), len(p.Records))
		}
		if p.Cursor != "" && len(p.Records) == 0 {
			t.Fatalf("Query(%s): an empty page with a cursor", describe(q))
		}
		for _, r := range p.Records {
			if seen[r.ID] {
				t.Fatalf("Query(%s): statement %s returned twice", describe(q), r.ID)
			}
			seen[r.ID] = true
			out = append(out, r)
		}
		if p.Cursor == "" {
			return out
		}
		q.Cursor = p.Cursor
	}
}

// check fails t unless q returns exactly want, in that order, in one page
// when want fits in q.Limit.
func check(t testing.TB, s statements.Store, q statements.Query, want ...*statements.Record) {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	got := queryAll(t, s, q)
	if !slices.Equal(ids(got), ids(want)) {
		t.Errorf("Query(%s):\n got  %v\n want %v", describe(q), ids(got), ids(want))
	}
}

func testRoundTrip(t *testing.T, s statements.Store) {
	c := newClock()
	r := newRecord("default", c.next(),
		agents(alice, bob), related(carol, lms1), activity(course1), relatedActs(program1, course2),
		registration(reg1), verb(completed), authority(lms1))
	r.Timestamp = time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC)
	r.AttachmentHashes = []string{"6c2ee4d1e4b6f1ba6e4e4f5c5e1cb6b6bc2f1d4f3e4b1a2c3d4e5f60718293a4"}
	// The bytes come back exactly: key order, spacing, escapes and numbers
	// are the client's.
	r.JSON = []byte(`{"id":"` + r.ID + `",  "verb":{"id":"` + completed + `"},"result":{"score":{"scaled":1.0E-1}},` +
		`"object":{"id":"` + course1 + `","definition":{"name":{"fr-FR":"\u00e9t\u00e9 été \ud83d\ude00 \\ \" \/"}}},"actor":{"mbox":"mailto:alice@example.com"}}` + "\n")
	insert(t, s, r)
	checkRecord(t, get(t, s, "default", r.ID), r, false)

	// A StatementRef and a voiding statement keep their reference fields.
	sr := newRecord("default", c.next(), ref(r.ID))
	insert(t, s, sr)
	checkRecord(t, get(t, s, "default", sr.ID), sr, false)

	// Query returns the same fields.
	p, err := s.Query(context.Background(), statements.Query{Tenant: "default", Limit: 10, Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 2 {
		t.Fatalf("Query: %d records, want 2", len(p.Records))
	}
	checkRecord(t, p.Records[0], r, false)
	checkRecord(t, p.Records[1], sr, false)

	// Inserting nothing is fine.
	if err := s.Insert(context.Background(), nil, nil); err != nil {
		t.Errorf("Insert(nil): %v", err)
	}
}

func testNotFound(t *testing.T, s statements.Store) {
	r := newRecord("t1", newClock().next())
	insert(t, s, r)
	wantNotFound(t, s, "t1", NewID())
	wantNotFound(t, s, "t2", r.ID)
	wantNotFound(t, s, "", r.ID)
}

func testIdempotent(t *testing.T, s statements.Store) {
	c := newClock()
	a := newRecord("default", c.next(), actor(alice))
	b := newRecord("default", c.next(), actor(bob))
	insert(t, s, a, b)

	// The same statements again (a retry): no error, nothing changes, even
	// when the retry's bytes differ (the Hash decides, e.g. a new stored).
	a2 := *a
	a2.Stored = c.next()
	a2.JSON = []byte(`{"retry":true}`)
	nb := newRecord("default", c.next(), actor(carol))
	insert(t, s, &a2, b, nb)
	insert(t, s, b)

	checkRecord(t, get(t, s, "default", a.ID), a, false)
	check(t, s, statements.Query{Tenant: "default"}, nb, b, a)

	// The same id twice in one batch with the same hash.
	d := newRecord("default", c.next(), actor(dave))
	insert(t, s, d, d)
	check(t, s, statements.Query{Tenant: "default", Agent: dave}, d)
}

func testConflict(t *testing.T, s statements.Store) {
	c := newClock()
	a := newRecord("default", c.next(), actor(alice))
	insert(t, s, a)

	other := newRecord("default", c.next(), withID(a.ID), actor(bob))
	err := s.Insert(context.Background(), []*statements.Record{other}, nil)
	if !errs.Is(err, errs.Conflict) {
		t.Fatalf("Insert of a stored id with another hash = %v, want a Conflict error", err)
	}
	checkRecord(t, get(t, s, "default", a.ID), a, false)

	// The same id twice in one batch with different hashes.
	x := newRecord("default", c.next(), actor(carol))
	y := newRecord("default", c.next(), withID(x.ID), actor(dave))
	err = s.Insert(context.Background(), []*statements.Record{x, y}, nil)
	if !errs.Is(err, errs.Conflict) {
		t.Fatalf("Insert of one id twice with different hashes = %v, want a Conflict error", err)
	}
	wantNotFound(t, s, "default", x.ID)

	// The same id in another tenant is another statement.
	insert(t, s, newRecord("t2", c.next(), withID(a.ID), actor(bob)))
}

func testBatchAtomic(t *testing.T, s statements.Store) {
	c := newClock()
	target := newRecord("default", c.next(), actor(alice))
	insert(t, s, target)

	att := Attachment([]byte("not stored"))
	n1 := newRecord("default", c.next(), actor(bob))
	n1.AttachmentHashes = []string{att.SHA2}
	void := newRecord("default", c.next(), voids(target.ID))
	clash := newRecord("default", c.next(), withID(target.ID), actor(carol))
	n2 := newRecord("default", c.next(), actor(dave))
	err := s.Insert(context.Background(), []*statements.Record{n1, void, clash, n2}, []statements.Attachment{att})
	if !errs.Is(err, errs.Conflict) {
		t.Fatalf("Insert = %v, want a Conflict error", err)
	}
	wantNotFound(t, s, "default", n1.ID)
	wantNotFound(t, s, "default", void.ID)
	wantNotFound(t, s, "default", n2.ID)
	checkRecord(t, get(t, s, "default", target.ID), target, false) // not voided
	check(t, s, statements.Query{Tenant: "default"}, target)
	got, err := s.Attachments(context.Background(), "default", []string{att.SHA2})
	if err != nil || len(got) != 0 {
		t.Errorf("Attachments of a failed insert = %d, %v; want none", len(got), err)
	}

	// The batch without the clash goes in whole.
	insert(t, s, n1, void, n2)
	checkRecord(t, get(t, s, "default", target.ID), target, true)
	check(t, s, statements.Query{Tenant: "default"}, n2, void, n1)
}

func testTenantIsolation(t *testing.T, s statements.Store) {
	c := newClock()
	a1 := newRecord("t1", c.next(), actor(alice), activity(course1), registration(reg1), verb(completed), authority(lms1), related(bob), relatedActs(program1))
	a2 := newRecord("t2", c.next(), withID(a1.ID), actor(alice), activity(course1), registration(reg1), verb(completed), authority(lms1), related(bob), relatedActs(program1))
	b2 := newRecord("t2", c.next(), actor(alice), activity(course1), registration(reg1), verb(completed), authority(lms1), related(bob), relatedActs(program1))
	insert(t, s, a1)
	insert(t, s, a2, b2)
	checkRecord(t, get(t, s, "t1", a1.ID), a1, false)
	checkRecord(t, get(t, s, "t2", a1.ID), a2, false)

	for _, q := range []statements.Query{
		{}, {Agent: alice}, {Agent: bob, RelatedAgents: true}, {Verb: completed}, {Activity: course1},
		{Activity: program1, RelatedActivities: true}, {Registration: reg1}, {Authority: lms1},
		{Agent: alice, Verb: completed, Activity: course1, Registration: reg1},
	} {
		q.Tenant = "t1"
		check(t, s, q, a1)
		q.Tenant = "t2"
		check(t, s, q, b2, a2)
		q.Tenant = "t3"
		check(t, s, q)
	}

	// A voiding statement voids only in its own tenant; a StatementRef
	// refers only to its own tenant.
	v := newRecord("t2", c.next(), voids(a1.ID))
	r := newRecord("t2", c.next(), actor(dave), ref(b2.ID))
	insert(t, s, v, r)
	checkRecord(t, get(t, s, "t1", a1.ID), a1, false)
	checkRecord(t, get(t, s, "t2", a1.ID), a2, true)
	check(t, s, statements.Query{Tenant: "t1", Agent: alice}, a1)
	check(t, s, statements.Query{Tenant: "t2", Agent: alice}, r, v, b2)
	r1 := newRecord("t1", c.next(), actor(dave), ref(b2.ID))
	insert(t, s, r1)
	check(t, s, statements.Query{Tenant: "t1", Agent: alice}, a1)
}

func testVoiding(t *testing.T, s statements.Store) {
	c := newClock()
	const tn = "default"
	admin := "mbox:mailto:admin@example.com"

	t1 := newRecord(tn, c.next(), actor(alice), activity(course1))
	insert(t, s, t1)
	v1 := newRecord(tn, c.next(), actor(admin), voids(t1.ID))
	insert(t, s, v1)
	checkRecord(t, get(t, s, tn, t1.ID), t1, true)
	checkRecord(t, get(t, s, tn, v1.ID), v1, false)
	check(t, s, statements.Query{Tenant: tn}, v1)
	// The voiding statement matches its target's filters (StatementRef rule).
	check(t, s, statements.Query{Tenant: tn, Agent: alice}, v1)
	check(t, s, statements.Query{Tenant: tn, Activity: course1}, v1)
	check(t, s, statements.Query{Tenant: tn, Verb: VerbVoided}, v1)

	// The voiding statement arrives before its target.
	t2 := newRecord(tn, c.next(), actor(bob))
	v2 := newRecord(tn, c.next(), actor(admin), voids(t2.ID))
	insert(t, s, v2)
	insert(t, s, t2)
	checkRecord(t, get(t, s, tn, t2.ID), t2, true)
	check(t, s, statements.Query{Tenant: tn, Agent: bob}, v2)

	// A voiding statement cannot be voided.
	v3 := newRecord(tn, c.next(), actor(admin), voids(v1.ID))
	insert(t, s, v3)
	checkRecord(t, get(t, s, tn, v1.ID), v1, false)
	checkRecord(t, get(t, s, tn, t1.ID), t1, true)
	// ... not even when the voiding statement arrives first.
	v4 := newRecord(tn, c.next(), actor(admin), voids(t2.ID))
	v5 := newRecord(tn, c.next(), actor(admin), voids(v4.ID))
	insert(t, s, v5)
	insert(t, s, v4)
	checkRecord(t, get(t, s, tn, v4.ID), v4, false)

	// Target and voiding statement in one batch, in either order.
	t3 := newRecord(tn, c.next(), actor(carol))
	v6 := newRecord(tn, c.next(), actor(admin), voids(t3.ID))
	t4 := newRecord(tn, c.next(), actor(dave))
	v7 := newRecord(tn, c.next(), actor(admin), voids(t4.ID))
	insert(t, s, t3, v6)
	insert(t, s, v7, t4)
	checkRecord(t, get(t, s, tn, t3.ID), t3, true)
	checkRecord(t, get(t, s, tn, t4.ID), t4, true)

	// Voiding a statement twice is harmless.
	v8 := newRecord(tn, c.next(), actor(admin), voids(t1.ID))
	insert(t, s, v8)
	checkRecord(t, get(t, s, tn, t1.ID), t1, true)

	check(t, s, statements.Query{Tenant: tn}, v8, v7, v6, v5, v4, v3, v2, v1)
	check(t, s, statements.Query{Tenant: tn, Ascending: true}, v1, v2, v3, v4, v5, v6, v7, v8)
	check(t, s, statements.Query{Tenant: tn, Agent: admin}, v8, v7, v6, v5, v4, v3, v2, v1)
}

func testFilters(t *testing.T, s statements.Store) {
	c := newClock()
	const tn = "t1"
	a1 := newRecord(tn, c.next(), actor(alice), verb(completed), activity(course1), registration(reg1), related(bob), relatedActs(program1), authority(lms1))
	a2 := newRecord(tn, c.next(), actor(bob), verb(attempted), activity(course1), authority(lms2))
	a3 := newRecord(tn, c.next(), actor(alice), verb(attempted), activity(course2), registration(reg2), relatedActs(course1), authority(lms1))
	a4 := newRecord(tn, c.next(), agents(carol, alice), verb("http://example.com/verbs/mentored"), activity(), authority(lms2))
	a5 := newRecord(tn, c.next(), actor(dave), related(alice), verb(completed), activity(course3), registration(reg1), authority(lms2))
	other := newRecord("t2", c.next(), actor(alice), verb(completed), activity(course1), registration(reg1), authority(lms1))
	insert(t, s, a1, a2)
	insert(t, s, a3)
	insert(t, s, a4, a5, other)

	q := func(f func(*statements.Query)) statements.Query {
		q := statements.Query{Tenant: tn, Limit: 100}
		f(&q)
		return q
	}
	tests := []struct {
		q    statements.Query
		want []*statements.Record
	}{
		{q(func(q *statements.Query) {}), []*statements.Record{a5, a4, a3, a2, a1}},
		{q(func(q *statements.Query) { q.Ascending = true }), []*statements.Record{a1, a2, a3, a4, a5}},
		{q(func(q *statements.Query) { q.Agent = alice }), []*statements.Record{a4, a3, a1}},
		{q(func(q *statements.Query) { q.Agent = alice; q.RelatedAgents = true }), []*statements.Record{a5, a4, a3, a1}},
		{q(func(q *statements.Query) { q.Agent = bob }), []*statements.Record{a2}},
		{q(func(q *statements.Query) { q.Agent = bob; q.RelatedAgents = true }), []*statements.Record{a2, a1}},
		{q(func(q *statements.Query) { q.Agent = carol }), []*statements.Record{a4}},
		{q(func(q *statements.Query) { q.Agent = lms1; q.RelatedAgents = true }), nil}, // these records do not list their authority as a related agent
		{q(func(q *statements.Query) { q.Agent = eve }), nil},
		{q(func(q *statements.Query) { q.Verb = completed }), []*statements.Record{a5, a1}},
		{q(func(q *statements.Query) { q.Verb = attempted }), []*statements.Record{a3, a2}},
		{q(func(q *statements.Query) { q.Activity = course1 }), []*statements.Record{a2, a1}},
		{q(func(q *statements.Query) { q.Activity = course1; q.RelatedActivities = true }), []*statements.Record{a3, a2, a1}},
		{q(func(q *statements.Query) { q.Activity = program1 }), nil},
		{q(func(q *statements.Query) { q.Activity = program1; q.RelatedActivities = true }), []*statements.Record{a1}},
		{q(func(q *statements.Query) { q.Registration = reg1 }), []*statements.Record{a5, a1}},
		{q(func(q *statements.Query) { q.Registration = reg2 }), []*statements.Record{a3}},
		{q(func(q *statements.Query) { q.Authority = lms1 }), []*statements.Record{a3, a1}},
		{q(func(q *statements.Query) { q.Authority = lms2 }), []*statements.Record{a5, a4, a2}},
		{q(func(q *statements.Query) { q.Since = a2.Stored }), []*statements.Record{a5, a4, a3}},
		{q(func(q *statements.Query) { q.Since = a2.Stored.Add(-time.Nanosecond) }), []*statements.Record{a5, a4, a3, a2}},
		{q(func(q *statements.Query) { q.Until = a4.Stored }), []*statements.Record{a4, a3, a2, a1}},
		{q(func(q *statements.Query) { q.Until = a4.Stored.Add(-time.Nanosecond) }), []*statements.Record{a3, a2, a1}},
		{q(func(q *statements.Query) { q.Since = a1.Stored; q.Until = a4.Stored }), []*statements.Record{a4, a3, a2}},
		{q(func(q *statements.Query) { q.Since = a4.Stored; q.Until = a4.Stored }), nil},
		{q(func(q *statements.Query) { q.Since = a5.Stored }), nil},
		{q(func(q *statements.Query) { q.Until = a1.Stored.Add(-time.Nanosecond) }), nil},
		// Combined filters.
		{q(func(q *statements.Query) { q.Agent = alice; q.Verb = attempted }), []*statements.Record{a3}},
		{q(func(q *statements.Query) { q.Agent = alice; q.RelatedAgents = true; q.Verb = completed }), []*statements.Record{a5, a1}},
		{q(func(q *statements.Query) { q.Activity = course1; q.RelatedActivities = true; q.Registration = reg2 }), []*statements.Record{a3}},
		{q(func(q *statements.Query) { q.Verb = completed; q.Authority = lms1 }), []*statements.Record{a1}},
		{q(func(q *statements.Query) {
			q.Agent = alice
			q.Since = a1.Stored
			q.Until = a3.Stored
			q.Ascending = true
		}), []*statements.Record{a3}},
		{q(func(q *statements.Query) {
			q.Agent = alice
			q.RelatedAgents = true
			q.Activity = course1
			q.RelatedActivities = true
			q.Verb = completed
			q.Registration = reg1
			q.Authority = lms1
			q.Until = a1.Stored
		}), []*statements.Record{a1}},
		{q(func(q *statements.Query) { q.Agent = bob; q.Activity = course2 }), nil},
		{q(func(q *statements.Query) {
			q.Ascending = true
			q.Verb = completed
			q.RelatedAgents = true
			q.Agent = alice
		}), []*statements.Record{a1, a5}},
	}
	for _, tt := range tests {
		check(t, s, tt.q, tt.want...)
	}

	// Limit: the newest first, and a cursor to the rest.
	p, err := s.Query(context.Background(), statements.Query{Tenant: tn, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(p.Records), ids([]*statements.Record{a5, a4})) || p.Cursor == "" {
		t.Errorf("Query(limit=2) = %v, cursor %q; want [a5 a4] and a cursor", ids(p.Records), p.Cursor)
	}
	p, err = s.Query(context.Background(), statements.Query{Tenant: tn, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 5 || p.Cursor != "" {
		t.Errorf("Query(limit=5) = %d records, cursor %q; want 5 and no cursor", len(p.Records), p.Cursor)
	}
}

func testStatementRefs(t *testing.T, s statements.Store) {
	c := newClock()
	const tn = "default"
	liked := "http://example.com/verbs/liked"
	commented := "http://example.com/verbs/commented"
	target := newRecord(tn, c.next(), actor(alice), verb(completed), activity(course1), registration(reg1), related(bob), relatedActs(program1), authority(lms1))
	sr := newRecord(tn, c.next(), actor(eve), ref(target.ID), verb(commented), authority(lms2))
	sr2 := newRecord(tn, c.next(), actor(dave), ref(sr.ID), verb(liked), authority(lms2))
	unrelated := newRecord(tn, c.next(), actor(carol), activity(course2))
	insert(t, s, target)
	insert(t, s, sr)
	insert(t, s, sr2, unrelated)

	all := []*statements.Record{sr2, sr, target}
	for _, q := range []statements.Query{
		{Agent: alice}, {Verb: completed}, {Activity: course1}, {Registration: reg1},
		{Agent: bob, RelatedAgents: true}, {Activity: program1, RelatedActivities: true},
		{Agent: alice, Verb: completed, Activity: course1, Registration: reg1},
	} {
		q.Tenant = tn
		check(t, s, q, all...)
	}
	check(t, s, statements.Query{Tenant: tn, Agent: eve}, sr2, sr)
	check(t, s, statements.Query{Tenant: tn, Verb: commented}, sr2, sr)
	check(t, s, statements.Query{Tenant: tn, Verb: liked}, sr2)
	check(t, s, statements.Query{Tenant: tn, Agent: dave, Verb: completed}, sr2)
	check(t, s, statements.Query{Tenant: tn, Agent: eve, Activity: course1}, sr2, sr)
	// Time and limit apply to the referring statement itself.
	check(t, s, statements.Query{Tenant: tn, Agent: alice, Since: target.Stored}, sr2, sr)
	check(t, s, statements.Query{Tenant: tn, Agent: alice, Until: sr.Stored, Ascending: true}, target, sr)
	// The authority restriction (statements/read/mine) is not inherited.
	check(t, s, statements.Query{Tenant: tn, Authority: lms1}, target)
	check(t, s, statements.Query{Tenant: tn, Authority: lms2, Agent: alice}, sr2, sr)
	// No reference to an unrelated statement.
	check(t, s, statements.Query{Tenant: tn, Activity: course2}, unrelated)
}

func testStatementRefsLate(t *testing.T, s statements.Store) {
	c := newClock()
	const tn = "default"
	gina := "mbox:mailto:gina@example.com"
	course9 := "https://example.com/courses/9"
	// w refers to m, which refers to n; they arrive w, m, n.
	nID, mID := NewID(), NewID()
	w := newRecord(tn, c.next(), actor(alice), ref(mID))
	insert(t, s, w)
	m := newRecord(tn, c.next(), withID(mID), actor(bob), ref(nID))
	insert(t, s, m)
	check(t, s, statements.Query{Tenant: tn, Agent: bob}, m, w)
	check(t, s, statements.Query{Tenant: tn, Agent: gina})
	n := newRecord(tn, c.next(), withID(nID), actor(gina), activity(course9), related(carol), registration(reg2))
	insert(t, s, n)
	check(t, s, statements.Query{Tenant: tn, Agent: gina}, n, m, w)
	check(t, s, statements.Query{Tenant: tn, Activity: course9}, n, m, w)
	check(t, s, statements.Query{Tenant: tn, Registration: reg2}, n, m, w)
	check(t, s, statements.Query{Tenant: tn, Agent: carol, RelatedAgents: true}, n, m, w)
	check(t, s, statements.Query{Tenant: tn, Agent: alice}, w)

	// Referrer and target in one batch, referrer first.
	tg := newRecord(tn, c.next(), actor(dave), activity(course3))
	rf := newRecord(tn, c.next(), actor(eve), ref(tg.ID))
	rf2 := newRecord(tn, c.next(), actor(eve), ref(rf.ID))
	insert(t, s, rf2, rf, tg)
	check(t, s, statements.Query{Tenant: tn, Activity: course3}, rf2, rf, tg)

	// A cycle of references ends.
	xID := NewID()
	y := newRecord(tn, c.next(), actor(carol), ref(xID), activity(course2))
	x := newRecord(tn, c.next(), withID(xID), actor(dave), ref(y.ID), verb(attempted))
	insert(t, s, y)
	insert(t, s, x)
	check(t, s, statements.Query{Tenant: tn, Agent: carol}, x, y)
	check(t, s, statements.Query{Tenant: tn, Verb: attempted}, x, y)

	// A referrer waiting for a target that arrives in another tenant stays
	// unmatched.
	pID := NewID()
	waiting := newRecord(tn, c.next(), actor(eve), ref(pID))
	insert(t, s, waiting)
	insert(t, s, newRecord("t2", c.next(), withID(pID), actor("mbox:mailto:harry@example.com")))
	check(t, s, statements.Query{Tenant: tn, Agent: "mbox:mailto:harry@example.com"})
}

func testPaging(t *testing.T, s statements.Store) {
	c := newClock()
	const tn = "default"
	var all []*statements.Record
	for i := range 20 {
		a := alice
		if i%3 == 0 {
			a = bob
		}
		r := newRecord(tn, c.next(), actor(a))
		all = append(all, r)
	}
	insert(t, s, all[:7]...)
	insert(t, s, all[7:]...)
	desc := slices.Clone(all)
	slices.Reverse(desc)
	m := newModel()
	m.add(all...)
	for _, limit := range []int{1, 3, 4, 7, 20, 21} {
		for _, q := range []statements.Query{
			{Tenant: tn, Limit: limit},
			{Tenant: tn, Limit: limit, Ascending: true},
			{Tenant: tn, Limit: limit, Agent: alice},
			{Tenant: tn, Limit: limit, Agent: bob, Ascending: true},
			{Tenant: tn, Limit: limit, Since: all[2].Stored, Until: all[15].Stored},
		} {
			got := queryAll(t, s, q)
			if want := m.query(q); !slices.Equal(ids(got), ids(want)) {
				t.Errorf("paging Query(%s):\n got  %v\n want %v", describe(q), ids(got), ids(want))
			}
		}
	}
	// Exactly two full pages: no cursor after the second.
	p1, err := s.Query(context.Background(), statements.Query{Tenant: tn, Limit: 10})
	if err != nil || p1.Cursor == "" {
		t.Fatalf("page 1: %v, cursor %q", err, p1.Cursor)
	}
	p2, err := s.Query(context.Background(), statements.Query{Tenant: tn, Limit: 10, Cursor: p1.Cursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Records) != 10 || p2.Cursor != "" {
		t.Errorf("page 2: %d records, cursor %q; want 10 and no cursor", len(p2.Records), p2.Cursor)
	}
	if got := append(ids(p1.Records), ids(p2.Records)...); !slices.Equal(got, ids(desc)) {
		t.Errorf("pages = %v, want %v", got, ids(desc))
	}
}

func testPagingWhileInserting(t *testing.T, s statements.Store) {
	c := newClock()
	const tn = "default"
	var first []*statements.Record
	for range 10 {
		first = append(first, newRecord(tn, c.next(), actor(alice)))
	}
	insert(t, s, first...)
	for _, asc := range []bool{false, true} {
		want := slices.Clone(first)
		if !asc {
			slices.Reverse(want)
		}
		q := statements.Query{Tenant: tn, Limit: 3, Agent: alice, Ascending: asc}
		var got []*statements.Record
		for {
			p, err := s.Query(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p.Records...)
			if p.Cursor == "" {
				break
			}
			q.Cursor = p.Cursor
			// New statements, some matching, arrive between pages.
			insert(t, s, newRecord(tn, c.next(), actor(alice)), newRecord(tn, c.next(), actor(bob)))
			insert(t, s, newRecord(tn, c.next(), actor(alice)))
		}
		if !slices.Equal(ids(got), ids(want)) {
			t.Errorf("pages (ascending=%v) while inserting:\n got  %v\n want %v", asc, ids(got), ids(want))
		}
		first = queryAll(t, s, statements.Query{Tenant: tn, Limit: 100, Agent: alice, Ascending: true})
	}
}

func testPagingEqualStored(t *testing.T, s statements.Store) {
	// A batch stamped with one stored time still pages without loss or
	// repetition.
	c := newClock()
	const tn = "default"
	before := newRecord(tn, c.next())
	at := c.next()
	var batch []*statements.Record
	for range 12 {
		batch = append(batch, newRecord(tn, at))
	}
	after := newRecord(tn, c.next())
	insert(t, s, before)
	insert(t, s, batch...)
	insert(t, s, after)
	for _, asc := range []bool{false, true} {
		for _, limit := range []int{1, 5, 12} {
			got := queryAll(t, s, statements.Query{Tenant: tn, Limit: limit, Ascending: asc})
			if len(got) != 14 {
				t.Fatalf("ascending=%v limit=%d: %d records, want 14", asc, limit, len(got))
			}
			first, last := before, after
			if !asc {
				first, last = after, before
			}
			if got[0].ID != first.ID || got[13].ID != last.ID {
				t.Errorf("ascending=%v limit=%d: order %v", asc, limit, ids(got))
			}
			if !slices.Equal(sorted(ids(got[1:13])), sorted(ids(batch))) {
				t.Errorf("ascending=%v limit=%d: middle %v, want the batch", asc, limit, ids(got[1:13]))
			}
		}
	}
	check(t, s, statements.Query{Tenant: tn, Since: at}, after)
	check(t, s, statements.Query{Tenant: tn, Until: at.Add(-time.Nanosecond)}, before)
}

// Attachment returns an attachment holding data.
func Attachment(data []byte) statements.Attachment {
	h := sha256.Sum256(data)
	return statements.Attachment{SHA2: hex.EncodeToString(h[:]), ContentType: "application/octet-stream", Data: data}
}

func testAttachments(t *testing.T, s statements.Store) {
	c := newClock()
	ctx := context.Background()
	bin := make([]byte, 256*3)
	for i := range bin {
		bin[i] = byte(i)
	}
	a := Attachment(bin)
	b := Attachment([]byte("hello"))
	b.ContentType = "text/plain; charset=utf-8"
	r1 := newRecord("t1", c.next())
	r1.AttachmentHashes = []string{a.SHA2, b.SHA2}
	r2 := newRecord("t1", c.next())
	r2.AttachmentHashes = []string{a.SHA2}
	if err := s.Insert(ctx, []*statements.Record{r1}, []statements.Attachment{a, b}); err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(ctx, []*statements.Record{r2}, []statements.Attachment{a}); err != nil {
		t.Fatal(err)
	}
	// The same attachment twice in one call.
	r3 := newRecord("t1", c.next())
	r3.AttachmentHashes = []string{b.SHA2}
	if err := s.Insert(ctx, []*statements.Record{r3}, []statements.Attachment{b, b}); err != nil {
		t.Fatal(err)
	}
	checkRecord(t, get(t, s, "t1", r1.ID), r1, false)

	got, err := s.Attachments(ctx, "t1", []string{b.SHA2, a.SHA2, "0000000000000000000000000000000000000000000000000000000000000000"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("Attachments: %d, want 2 (deduplicated, missing left out)", len(got))
	}
	slices.SortFunc(got, func(x, y statements.Attachment) int {
		return slices.Index([]string{a.SHA2, b.SHA2}, x.SHA2) - slices.Index([]string{a.SHA2, b.SHA2}, y.SHA2)
	})
	for i, want := range []statements.Attachment{a, b} {
		g := got[i]
		if g.SHA2 != want.SHA2 || g.ContentType != want.ContentType || string(g.Data) != string(want.Data) {
			t.Errorf("attachment %d = {%s %q %d bytes}, want {%s %q %d bytes}", i, g.SHA2, g.ContentType, len(g.Data), want.SHA2, want.ContentType, len(want.Data))
		}
	}
	got, err = s.Attachments(ctx, "t1", nil)
	if err != nil || len(got) != 0 {
		t.Errorf("Attachments(nil) = %d, %v", len(got), err)
	}
	// Attachments belong to their tenant.
	got, err = s.Attachments(ctx, "t2", []string{a.SHA2})
	if err != nil || len(got) != 0 {
		t.Errorf("Attachments of another tenant = %d, %v; want none", len(got), err)
	}
}

func testConsistentThrough(t *testing.T, s statements.Store) {
	ctx := context.Background()
	r := newRecord("default", time.Now().UTC())
	insert(t, s, r)
	ct, err := s.ConsistentThrough(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ct.Before(r.Stored) {
		t.Errorf("ConsistentThrough = %v, before the stored time %v of an acknowledged statement", ct, r.Stored)
	}
	if now := time.Now(); ct.After(now.Add(2 * time.Second)) {
		t.Errorf("ConsistentThrough = %v, in the future (now %v)", ct, now)
	}
	// Everything stored at or before it is visible.
	got := queryAll(t, s, statements.Query{Tenant: "default", Until: ct, Limit: 10})
	if len(got) != 1 || got[0].ID != r.ID {
		t.Errorf("Query(until=ConsistentThrough) = %v, want [%s]", ids(got), r.ID)
	}
}

func testConcurrent(t *testing.T, s statements.Store) {
	const tn = "default"
	const writers, each = 16, 6
	ctx := context.Background()
	existing := newRecord(tn, time.Now().UTC())
	insert(t, s, existing)

	var mu sync.Mutex
	var stored []*statements.Record
	var wg sync.WaitGroup
	errc := make(chan error, writers*each*2)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r := newRecord(tn, time.Now().UTC(), actor(fmt.Sprintf("mbox:mailto:w%d@example.com", w)))
				if err := s.Insert(ctx, []*statements.Record{r}, nil); err != nil {
					errc <- fmt.Errorf("writer %d insert %d: %w", w, i, err)
					continue
				}
				mu.Lock()
				stored = append(stored, r)
				mu.Unlock()
				// Conflicting and idempotent inserts among them fail or pass
				// alone, without disturbing the others.
				if i%3 == 0 {
					bad := newRecord(tn, time.Now().UTC(), withID(existing.ID))
					if err := s.Insert(ctx, []*statements.Record{bad}, nil); !errs.Is(err, errs.Conflict) {
						errc <- fmt.Errorf("writer %d: conflicting insert = %v, want Conflict", w, err)
					}
				}
				if i%3 == 1 {
					if err := s.Insert(ctx, []*statements.Record{existing, r}, nil); err != nil {
						errc <- fmt.Errorf("writer %d: idempotent insert = %v", w, err)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if len(stored) != writers*each {
		t.Fatalf("%d inserts acknowledged, want %d", len(stored), writers*each)
	}
	for _, r := range stored {
		checkRecord(t, get(t, s, tn, r.ID), r, false)
	}
	got := queryAll(t, s, statements.Query{Tenant: tn, Limit: 25})
	if len(got) != writers*each+1 {
		t.Errorf("Query: %d statements, want %d", len(got), writers*each+1)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Stored.After(got[i-1].Stored) {
			t.Errorf("Query order: %s stored %v after %s stored %v", got[i].ID, got[i].Stored, got[i-1].ID, got[i-1].Stored)
		}
	}
	checkRecord(t, get(t, s, tn, existing.ID), existing, false)
}

func testPing(t *testing.T, s statements.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// testModel inserts a random data set (references forward and backward,
// voiding, several tenants) and compares many random queries, whole and
// paged, with the reference model.
func testModel(t *testing.T, s statements.Store) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("LRS_STORETEST_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set LRS_STORETEST_SEED to repeat)", seed)
	rnd := rand.New(rand.NewPCG(seed, 42))
	pick := func(pool []string) string { return pool[rnd.IntN(len(pool))] }
	some := func(pool []string, max int) []string {
		var out []string
		for range rnd.IntN(max + 1) {
			if v := pick(pool); !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return out
	}
	tenants := []string{"t1", "t1", "t1", "t2"}
	agentPool := []string{alice, bob, carol, dave, eve}
	verbPool := []string{completed, attempted, "http://example.com/verbs/x"}
	actPool := []string{course1, course2, course3, program1}
	regPool := []string{"", "", reg1, reg2}
	authPool := []string{lms1, lms2}

	const n = 80
	idPool := make([]string, n)
	for i := range idPool {
		idPool[i] = NewID()
	}
	c := newClock()
	m := newModel()
	var batch []*statements.Record
	flush := func() {
		insert(t, s, batch...)
		m.add(batch...)
		batch = nil
	}
	for i := range n {
		opts := []option{withID(idPool[i]), agents(some(agentPool, 2)...), related(some(agentPool, 2)...),
			verb(pick(verbPool)), activity(some(actPool, 1)...), relatedActs(some(actPool, 2)...),
			registration(pick(regPool)), authority(pick(authPool))}
		switch x := rnd.IntN(10); {
		case x < 2:
			opts = append(opts, ref(pick(idPool)))
		case x < 3:
			opts = append(opts, voids(pick(idPool)))
		}
		if len(batch) > 0 && rnd.IntN(3) == 0 {
			flush()
		}
		batch = append(batch, newRecord(pick(tenants), c.next(), opts...))
	}
	flush()

	stored := m.all
	randomQuery := func() statements.Query {
		q := statements.Query{Tenant: pick([]string{"t1", "t1", "t2"}), Limit: 1000, Ascending: rnd.IntN(2) == 0}
		for range 1 + rnd.IntN(3) {
			switch rnd.IntN(9) {
			case 0:
				q.Agent = pick(agentPool)
			case 1:
				q.Agent = pick(agentPool)
				q.RelatedAgents = true
			case 2:
				q.Verb = pick(verbPool)
			case 3:
				q.Activity = pick(actPool)
			case 4:
				q.Activity = pick(actPool)
				q.RelatedActivities = true
			case 5:
				q.Registration = pick(regPool[2:])
			case 6:
				q.Authority = pick(authPool)
			case 7:
				q.Since = stored[rnd.IntN(len(stored))].Stored
			case 8:
				q.Until = stored[rnd.IntN(len(stored))].Stored
			}
		}
		return q
	}
	nonEmpty := 0
	for range 120 {
		q := randomQuery()
		want := m.query(q)
		if len(want) > 0 {
			nonEmpty++
		}
		p, err := s.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("Query(%s): %v", describe(q), err)
		}
		if !slices.Equal(ids(p.Records), ids(want)) || p.Cursor != "" {
			t.Errorf("Query(%s):\n got  %v (cursor %q)\n want %v", describe(q), ids(p.Records), p.Cursor, ids(want))
		}
	}
	if nonEmpty < 30 {
		t.Errorf("only %d of 120 random queries had results; the data set is too sparse to test", nonEmpty)
	}
	for range 20 {
		q := randomQuery()
		q.Limit = 1 + rnd.IntN(4)
		want := m.query(q)
		if got := queryAll(t, s, q); !slices.Equal(ids(got), ids(want)) {
			t.Errorf("paged Query(%s):\n got  %v\n want %v", describe(q), ids(got), ids(want))
		}
	}
	for _, r := range stored {
		checkRecord(t, get(t, s, r.Tenant, r.ID), r, m.voided(r))
	}
}
