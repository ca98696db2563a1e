// Package storetest holds the contract tests of the privacy stores
// (privacy.AccessLog) that package sqlite and package mongo pass.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reporting"
)

var ctx = context.Background()

// RunAccessLog runs the contract tests of privacy.AccessLog against the
// stores open returns: a fresh, empty store each time.
func RunAccessLog(t *testing.T, open func(t *testing.T) privacy.AccessLog) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, privacy.AccessLog)
	}{
		{"AccessAbout", testAccessAbout},
		{"AccessLargeSet", testAccessLargeSet},
		{"AccessPrune", testAccessPrune},
		{"AccessRewrite", testAccessRewrite},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var t0 = time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)

func entry(tenant string, min int, actor, what string, count int, subjects ...string) *privacy.Access {
	return &privacy.Access{Tenant: tenant, Time: t0.Add(time.Duration(min) * time.Minute), Actor: actor,
		ActorKind: privacy.ActorCredential, What: what, Subjects: subjects, Count: count}
}

// summary renders entries for comparison.
func summary(es []*privacy.Access) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s %s/%s %s %v of %d, %d", e.Time.Format("15:04"), e.ActorKind, e.Actor, e.What,
			e.Subjects, e.Total, e.Count))
	}
	return out
}

func check(t *testing.T, log privacy.AccessLog, tenant string, subjects []string, since time.Time, limit int, want ...string) {
	t.Helper()
	got, err := log.AccessesAbout(ctx, tenant, subjects, since, limit)
	must(t, err)
	if want == nil {
		want = []string{}
	}
	if g := summary(got); !slices.Equal(g, want) {
		t.Errorf("AccessesAbout(%s, %v, %v, %d) =\n%q\nwant\n%q", tenant, subjects, since, limit, g, want)
	}
}

func testAccessAbout(t *testing.T, log privacy.AccessLog) {
	kari, ola := privacy.PersonSubject("1001"), privacy.PersonSubject("1002")
	kariMail := privacy.AgentSubject("mbox:mailto:Kari@Oslo.kommune.no")
	must(t, log.AppendAccess(ctx, []*privacy.Access{
		entry("oslo", 0, "hr-key", privacy.ReadStatusReport, 16, kari, ola),
		entry("oslo", 1, "hr-key", privacy.ReadTranscript, 3, kari),
	}))
	must(t, log.AppendAccess(ctx, []*privacy.Access{
		entry("oslo", 2, "lms", privacy.ReadStatements, 7, kariMail),
		{Tenant: "oslo", Time: t0.Add(3 * time.Minute), Actor: "leder@oslo.kommune.no", ActorKind: privacy.ActorAccount,
			What: privacy.ReadPageUnit, Subjects: []string{ola, kari, ola}, Count: 2},
		entry("bergen", 4, "hr-key", privacy.ReadTranscript, 1, kari), // another tenant's 1001
		entry("oslo", 5, "hr-key", privacy.ReadTranscript, 1, privacy.PersonSubject("100")),
	}))
	check(t, log, "oslo", []string{kari, kariMail}, time.Time{}, 100,
		"08:00 credential/hr-key reports/status [p:1001] of 2, 16",
		"08:01 credential/hr-key people/transcript [p:1001] of 1, 3",
		"08:02 credential/lms xapi/statements [a:mbox:mailto:kari@oslo.kommune.no] of 1, 7",
		"08:03 account/leder@oslo.kommune.no page/unit [p:1001] of 2, 2")
	check(t, log, "oslo", []string{ola}, t0.Add(time.Minute), 100,
		"08:03 account/leder@oslo.kommune.no page/unit [p:1002] of 2, 2")
	check(t, log, "oslo", []string{kari, ola}, time.Time{}, 1,
		"08:00 credential/hr-key reports/status [p:1001 p:1002] of 2, 16")
	check(t, log, "bergen", []string{kari}, time.Time{}, 100, "08:04 credential/hr-key people/transcript [p:1001] of 1, 1")
	check(t, log, "oslo", []string{privacy.PersonSubject("10")}, time.Time{}, 100)
	check(t, log, "trondheim", []string{kari}, time.Time{}, 100)
}

// testAccessLargeSet: a whole organisation's report is one entry whose
// set is stored once, however often it is read.
func testAccessLargeSet(t *testing.T, log privacy.AccessLog) {
	var all []string
	for i := range 5000 {
		all = append(all, privacy.PersonSubject(fmt.Sprintf("%05d", i)))
	}
	for i := range 3 {
		must(t, log.AppendAccess(ctx, []*privacy.Access{entry("oslo", i, "hr", privacy.ReadStatusReport, 40000, all...)}))
	}
	check(t, log, "oslo", []string{privacy.PersonSubject("04711"), privacy.PersonSubject("99999")}, time.Time{}, 10,
		"08:00 credential/hr reports/status [p:04711] of 5000, 40000",
		"08:01 credential/hr reports/status [p:04711] of 5000, 40000",
		"08:02 credential/hr reports/status [p:04711] of 5000, 40000")
}

func testAccessPrune(t *testing.T, log privacy.AccessLog) {
	kari := privacy.PersonSubject("1001")
	must(t, log.AppendAccess(ctx, []*privacy.Access{
		entry("oslo", 0, "a", privacy.ReadTranscript, 1, kari),
		entry("oslo", 10, "b", privacy.ReadTranscript, 1, kari),
		entry("oslo", 20, "c", privacy.ReadTranscript, 1, privacy.PersonSubject("1002")),
		entry("bergen", 0, "d", privacy.ReadTranscript, 1, kari),
	}))
	cut := t0.Add(15 * time.Minute)
	n, err := log.PruneAccess(ctx, "oslo", cut, true)
	must(t, err)
	if n != 2 {
		t.Errorf("dry run: %d entries, want 2", n)
	}
	check(t, log, "oslo", []string{kari}, time.Time{}, 10, "08:00 credential/a people/transcript [p:1001] of 1, 1",
		"08:10 credential/b people/transcript [p:1001] of 1, 1")
	n, err = log.PruneAccess(ctx, "oslo", cut, false)
	must(t, err)
	if n != 2 {
		t.Errorf("prune: %d entries, want 2", n)
	}
	check(t, log, "oslo", []string{kari}, time.Time{}, 10)
	check(t, log, "oslo", []string{privacy.PersonSubject("1002")}, time.Time{}, 10, "08:20 credential/c people/transcript [p:1002] of 1, 1")
	check(t, log, "bergen", []string{kari}, time.Time{}, 10, "08:00 credential/d people/transcript [p:1001] of 1, 1")
	if n, err = log.PruneAccess(ctx, "oslo", cut, false); err != nil || n != 0 {
		t.Errorf("second prune: %d, %v; want 0", n, err)
	}
	// A set pruned away is stored again when read again.
	must(t, log.AppendAccess(ctx, []*privacy.Access{entry("oslo", 30, "e", privacy.ReadTranscript, 1, kari)}))
	check(t, log, "oslo", []string{kari}, time.Time{}, 10, "08:30 credential/e people/transcript [p:1001] of 1, 1")
}

func testAccessRewrite(t *testing.T, log privacy.AccessLog) {
	kari, ola := privacy.PersonSubject("1001"), privacy.PersonSubject("1002")
	mail := privacy.AgentSubject("mbox:mailto:kari@oslo.kommune.no")
	must(t, log.AppendAccess(ctx, []*privacy.Access{
		entry("oslo", 0, "hr", privacy.ReadStatusReport, 2, kari, ola),
		entry("oslo", 1, "hr", privacy.ReadTranscript, 1, kari),
		entry("oslo", 2, "lms", privacy.ReadStatements, 1, mail),
		{Tenant: "oslo", Time: t0.Add(3 * time.Minute), Actor: "kari@oslo.kommune.no", ActorKind: privacy.ActorAccount,
			What: privacy.ReadPageUnit, Subjects: []string{ola}, Count: 1},
		entry("bergen", 4, "hr", privacy.ReadTranscript, 1, kari),
	}))
	pk, pm := privacy.PersonSubject("x-1"), privacy.AgentSubject("account:https://p.example x-2")
	n, err := log.RewriteAccess(ctx, "oslo", map[string]string{kari: pk, mail: pm},
		map[string]string{"kari@oslo.kommune.no": "pseudonym:x-1"}, true)
	must(t, err)
	if n != 4 {
		t.Errorf("RewriteAccess, dry run: %d entries, want 4", n)
	}
	check(t, log, "oslo", []string{mail}, time.Time{}, 10, "08:02 credential/lms xapi/statements [a:mbox:mailto:kari@oslo.kommune.no] of 1, 1")
	n, err = log.RewriteAccess(ctx, "oslo", map[string]string{kari: pk, mail: pm},
		map[string]string{"kari@oslo.kommune.no": "pseudonym:x-1"}, false)
	must(t, err)
	if n != 4 {
		t.Errorf("RewriteAccess changed %d entries, want 4", n)
	}
	check(t, log, "oslo", []string{kari, mail}, time.Time{}, 10)
	check(t, log, "oslo", []string{pk, pm}, time.Time{}, 10,
		"08:00 credential/hr reports/status [p:x-1] of 2, 2",
		"08:01 credential/hr people/transcript [p:x-1] of 1, 1",
		"08:02 credential/lms xapi/statements [a:account:https://p.example x-2] of 1, 1")
	check(t, log, "oslo", []string{ola}, time.Time{}, 10,
		"08:00 credential/hr reports/status [p:1002] of 2, 2",
		"08:03 account/pseudonym:x-1 page/unit [p:1002] of 1, 1")
	check(t, log, "bergen", []string{kari}, time.Time{}, 10, "08:04 credential/hr people/transcript [p:1001] of 1, 1")
	// Once more: nothing left to change.
	if n, err := log.RewriteAccess(ctx, "oslo", map[string]string{kari: pk}, nil, false); err != nil || n != 0 {
		t.Errorf("second rewrite: %d, %v; want 0", n, err)
	}
}

// DocumentStore is a store of documents with what privacy needs of it.
type DocumentStore interface {
	documents.Store
	privacy.Store
}

// RunAgentDocuments runs the contract tests of AgentDocumentKeys and
// PurgeDocuments against the stores open returns.
func RunAgentDocuments(t *testing.T, open func(t *testing.T) DocumentStore) {
	s := open(t)
	const act = "https://kurs.example/1"
	put := func(tenant string, kind documents.Kind, agent, activity, reg, id string) documents.Key {
		k := documents.Key{Tenant: tenant, Kind: kind, ActivityID: activity, Agent: agent, Registration: reg, ID: id}
		content := []byte(`{"n":1}`)
		must(t, s.PutDocument(ctx, &documents.Document{Key: k, ContentType: "application/json", Content: content,
			ETag: documents.ComputeETag(content), Updated: t0}, documents.Condition{}))
		return k
	}
	kariMail, kariAcct := "mbox:mailto:Kari@Oslo.kommune.no", "account:https://lms.example kari"
	k1 := put("oslo", documents.State, kariMail, act, "", "bookmark")
	k2 := put("oslo", documents.State, kariAcct, act, "6f1f8a4e-4bbd-4d6c-9a3c-0d4c1e7b2a10", "suspend")
	k3 := put("oslo", documents.AgentProfile, kariAcct, "", "", "prefs")
	put("oslo", documents.State, "mbox:mailto:ola@oslo.kommune.no", act, "", "bookmark")
	put("bergen", documents.AgentProfile, kariAcct, "", "", "prefs")
	put("oslo", documents.ActivityProfile, "", act, "", "p")
	gone := put("oslo", documents.AgentProfile, kariAcct, "", "", "deleted")
	must(t, s.DeleteDocument(ctx, gone, documents.Condition{}))
	// Written twice: one key, the current revision.
	put("oslo", documents.State, kariMail, act, "", "bookmark")

	want := []documents.Key{k3, k2, k1}
	keys, err := s.AgentDocumentKeys(ctx, "oslo", []string{"mbox:mailto:kari@oslo.kommune.no", kariAcct})
	must(t, err)
	slices.SortFunc(keys, compareKeys)
	slices.SortFunc(want, compareKeys)
	if !slices.Equal(keys, want) {
		t.Errorf("AgentDocumentKeys = %v, want %v", keys, want)
	}
	must(t, s.PurgeDocuments(ctx, keys))
	if keys, err = s.AgentDocumentKeys(ctx, "oslo", []string{"mbox:mailto:kari@oslo.kommune.no", kariAcct}); err != nil || len(keys) != 0 {
		t.Errorf("after the purge: %v, %v", keys, err)
	}
	for _, k := range want {
		if _, err := s.Document(ctx, k); !errs.Is(err, errs.NotFound) {
			t.Errorf("Document(%v) after the purge: %v", k, err)
		}
	}
	if keys, err = s.AgentDocumentKeys(ctx, "bergen", []string{kariAcct}); err != nil || len(keys) != 1 {
		t.Errorf("another tenant's document: %v, %v", keys, err)
	}
	if ids, err := s.DocumentIDs(ctx, documents.Key{Tenant: "oslo", Kind: documents.State, ActivityID: act,
		Agent: "mbox:mailto:ola@oslo.kommune.no"}, time.Time{}); err != nil || len(ids) != 1 {
		t.Errorf("Ola's state after Kari's purge: %v, %v", ids, err)
	}
}

func compareKeys(a, b documents.Key) int {
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// pastSummary is the summary of the tenant's status report as of 1
// February 2025, known at now, as JSON: what an erasure or a retention run
// must leave unchanged.
func pastSummary(t *testing.T, db Backend, tenant string, now time.Time) string {
	t.Helper()
	past := reporting.Options{AsOf: time.Date(2025, 2, 1, 12, 0, 0, 0, time.UTC), KnownAt: now}
	sum, err := reporting.Report(context.Background(), db, tenant, reporting.Query{Options: past}, func(*reporting.Row) error { return nil })
	must(t, err)
	b, _ := json.Marshal(sum)
	return string(b)
}
