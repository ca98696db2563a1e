package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// RunRetention checks privacy.RunRetention against a fresh backend open
// returns. As of 2031-03-01, with statements kept 5 years after
// employment, documents and attachments 12 months, the audit and access
// logs 3 years and reminder records 2 years: Kari (last day 2025-12-31)
// and Eva (last day 2026-02-28: exactly 5 years) are erased, Per (last day
// 2026-03-01, one day short) and Ola (employed) are not; stale documents
// and attachment files go, those written or listed lately stay, an
// attachment shared by Kari's statement and Per's old one goes, one
// shared with a recent statement stays. The dry run changes nothing and
// predicts the counts of the real run, which match what is gone from the
// store; the summary of a past date is unchanged; no identifier of Kari's
// is left; a second run deletes nothing; every run is recorded; a tenant
// without rules keeps everything.
func RunRetention(t *testing.T, open func(t *testing.T) (Backend, Scanner)) {
	db, scan := open(t)
	now := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	src := privacy.Sources{Reporting: db, Statements: db, Documents: db, Privacy: db, Reminders: db}
	const evaID, evaMail = "E-EVA-44", "eva.evensen@oslo.kommune.no"

	// Nothing is set: every rule is off.
	rules, err := db.RetentionRules(ctx, tenant)
	must(t, err)
	if !rules.Off() {
		t.Fatalf("the rules before any were set: %+v", rules)
	}

	must(t, db.PutModule(ctx, tenant, &reporting.Module{ID: "infosec", Title: map[string]string{"nb": "Infosikkerhet"},
		Activities: []string{course}, Completion: reporting.Completed}))
	must(t, db.PutRule(ctx, tenant, &reporting.Rule{ID: "all", Role: "ansatt", Modules: []string{"infosec"},
		DueWithin: reporting.MustPeriod("P90D")}))
	person := func(id, name, mail, end string) reporting.PersonIn {
		p := reporting.PersonIn{ID: id, Name: name, Email: mail, Start: reporting.MustDate("2018-01-01"),
			Units: []reporting.Assignment{{ID: "it"}}, Roles: []reporting.Assignment{{ID: "ansatt"}}}
		if end != "" {
			p.End = reporting.MustDate(end)
		}
		return p
	}
	kari := person(kariID, kariName, kariMail, "2025-12-31")
	kari.Identifiers = []map[string]any{{"account": map[string]any{"homePage": lmsHome, "name": kariUser}}}
	_, err = db.ImportRoster(ctx, tenant, &reporting.Import{Effective: reporting.MustDate("2018-01-01"),
		Units: []reporting.UnitIn{{ID: "it", Name: "IT-avdelingen"}},
		People: []reporting.PersonIn{kari, person(evaID, "Eva Evensen", evaMail, "2026-02-28"),
			person(perID, "Per Persen", perMail, "2026-03-01"), person(olaID, "Ola Hansen", "ola.hansen@oslo.kommune.no", "")},
	}, time.Date(2024, 1, 2, 7, 0, 0, 0, time.UTC))
	must(t, err)
	expired, err := privacy.ExpiredPeople(ctx, db, tenant, 5, now)
	must(t, err)
	if !slices.Equal(expired, []string{evaID, kariID}) {
		t.Errorf("ExpiredPeople = %v, want Eva and Kari", expired)
	}

	agent := func(mail, name string) map[string]any { return map[string]any{"mbox": "mailto:" + mail, "name": name} }
	kariA, evaA := agent(kariMail, kariName), agent(evaMail, "Eva Evensen")
	perA, olaA := agent(perMail, "Per Persen"), agent("ola.hansen@oslo.kommune.no", "Ola Hansen")
	sha := func(c string) string { return strings.Repeat(c, 64) }
	completed := func(actor map[string]any, ts string, atts ...string) map[string]any {
		s := map[string]any{"actor": actor, "verb": map[string]any{"id": "http://adlnet.gov/expapi/verbs/completed"},
			"object": map[string]any{"id": course}, "timestamp": ts}
		var l []any
		for _, h := range atts {
			l = append(l, map[string]any{"usageType": "https://oslo.example/certificate", "display": map[string]any{"nb": "bevis"},
				"contentType": "application/octet-stream", "length": 30, "sha2": h})
		}
		if l != nil {
			s["attachments"] = l
		}
		return s
	}
	ids := map[string]string{}
	old := time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC)
	// a: only Kari's; b: Kari's and a recent one; c: an old one only;
	// d: Kari's and Per's old one; e: a recent one only.
	commit(t, db, ids, old, "kari", completed(kariA, "2025-01-09T08:00:00Z", sha("a"), sha("b"), sha("d")),
		"eva", completed(evaA, "2025-01-09T09:00:00Z"), "per", completed(perA, "2025-01-09T10:00:00Z", sha("d")),
		"ola", completed(olaA, "2025-01-09T11:00:00Z", sha("c")))
	commit(t, db, ids, now.AddDate(0, -2, 0), "ola-recent", completed(olaA, "2030-12-30T11:00:00Z", sha("b"), sha("e")))

	doc := func(kind documents.Kind, agent map[string]any, id string, updated time.Time) documents.Key {
		k := documents.Key{Tenant: tenant, Kind: kind, ID: id}
		if kind != documents.AgentProfile {
			k.ActivityID = course
		}
		if agent != nil {
			k.Agent = statements.AgentKey(agent)
		}
		content := []byte(`{"bookmark":3}`)
		must(t, db.PutDocument(ctx, &documents.Document{Key: k, ContentType: "application/json", Content: content,
			ETag: documents.ComputeETag(content), Updated: updated}, documents.Condition{}))
		return k
	}
	docKari := doc(documents.State, kariA, "bookmark", old)                                          // Kari's and stale
	docKariNew := doc(documents.AgentProfile, kariA, "prefs", now.AddDate(0, -1, 0))                 // Kari's
	docOlaOld := doc(documents.State, olaA, "bookmark", time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC)) // stale
	docOlaNew := doc(documents.State, olaA, "suspend", now.AddDate(0, -3, 0))
	docActivity := doc(documents.ActivityProfile, nil, "layout", old) // stale
	docPer := doc(documents.AgentProfile, perA, "prefs", old)         // stale

	for _, y := range []int{2027, 2029, 2030} {
		tm := time.Date(y, 5, 1, 0, 0, 0, 0, time.UTC)
		must(t, db.AppendAudit(ctx, &auth.AuditEntry{Time: tm, Tenant: tenant, Actor: "cli:admin", Action: "roster.import",
			Target: "import", Detail: "person " + kariID}))
		must(t, db.AppendAccess(ctx, []*privacy.Access{{Tenant: tenant, Time: tm, Actor: "hr", ActorKind: privacy.ActorCredential,
			What: privacy.ReadTranscript, Subjects: []string{privacy.PersonSubject(olaID), privacy.PersonSubject(kariID)}, Count: 1}}))
		must(t, db.RecordReminders(ctx, []*reminders.Sent{{Tenant: tenant, Person: olaID, Module: "infosec", Template: "learner/nb",
			Time: tm, Outcome: reminders.OutcomeSent, Attempts: 1}}))
	}

	// Another tenant, without rules, with old data of its own.
	must(t, db.AppendAudit(ctx, &auth.AuditEntry{Time: old, Tenant: "bergen", Actor: "cli:admin", Action: "tenant.create", Target: "bergen"}))

	summary := func() string { t.Helper(); return pastSummary(t, db, tenant, now) }
	before := summary()
	if !strings.Contains(before, `"completed":4`) {
		t.Fatalf("the summary before: %s; want 4 completed", before)
	}

	// The census of what the store holds, read through the stores.
	type census struct {
		statements, documents, attachments []string
		audit, access, reminders           int
	}
	allShas := []string{sha("a"), sha("b"), sha("c"), sha("d"), sha("e")}
	allDocs := map[string]documents.Key{"kari": docKari, "kari-new": docKariNew, "ola-old": docOlaOld, "ola-new": docOlaNew,
		"activity": docActivity, "per": docPer}
	count := func() census {
		t.Helper()
		var c census
		for _, label := range []string{"kari", "eva", "per", "ola", "ola-recent"} {
			if _, err := db.Get(ctx, tenant, ids[label]); err == nil {
				c.statements = append(c.statements, label)
			} else if !errs.Is(err, errs.NotFound) {
				t.Fatal(err)
			}
		}
		for label, k := range allDocs {
			if _, err := db.Document(ctx, k); err == nil {
				c.documents = append(c.documents, label)
			} else if !errs.Is(err, errs.NotFound) {
				t.Fatal(err)
			}
		}
		slices.Sort(c.documents)
		atts, err := db.Attachments(ctx, tenant, allShas)
		must(t, err)
		for _, a := range atts {
			c.attachments = append(c.attachments, a.SHA2[:1])
		}
		slices.Sort(c.attachments)
		c.attachments = slices.Compact(c.attachments)
		audit, err := db.Audit(ctx, tenant, time.Time{}, 100)
		must(t, err)
		acc, err := db.AccessesAbout(ctx, tenant, []string{privacy.PersonSubject(olaID)}, time.Time{}, 100)
		must(t, err)
		rem, err := db.RemindersTo(ctx, tenant, olaID, 100)
		must(t, err)
		c.audit, c.access, c.reminders = len(audit), len(acc), len(rem)
		return c
	}
	full := count()
	if len(full.statements) != 5 || len(full.documents) != 6 || len(full.attachments) != 5 || full.audit != 3 ||
		full.access != 3 || full.reminders != 3 {
		t.Fatalf("the store before: %+v", full)
	}

	// Rules off: a run deletes nothing, and is recorded.
	run := func(dry bool, tenant string) *privacy.RetentionRun {
		t.Helper()
		r, err := privacy.RunRetention(ctx, src, db, privacy.RetentionRequest{Tenant: tenant, Actor: "dpo", DryRun: dry}, now)
		must(t, err)
		return r
	}
	if r := run(false, tenant); r.Counts != (privacy.RetentionCounts{}) || r.Error != "" {
		t.Errorf("a run without rules: %+v", r)
	}
	must(t, db.PutRetentionRules(ctx, tenant, &privacy.RetentionRules{StatementsYears: 5, DocumentsMonths: 12, AttachmentsMonths: 12,
		AuditYears: 3, AccessLogYears: 3, RemindersYears: 2, Updated: now, UpdatedBy: "dpo"}))

	dry := run(true, tenant)
	if c := count(); !equalCensus(c, full) {
		t.Fatalf("the dry run changed the store: %+v, was %+v", c, full)
	}
	done := run(false, tenant)
	want := privacy.RetentionCounts{People: 2, Statements: 2, Facts: 2, Documents: 5, Attachments: 3, Audit: 1, AccessLog: 1, Reminders: 1}
	if done.Counts != want {
		t.Errorf("the run's counts %+v\nwant %+v", done.Counts, want)
	}
	if dry.Counts != done.Counts || !dry.DryRun || done.DryRun {
		t.Errorf("the dry run predicted %+v, the run did %+v", dry.Counts, done.Counts)
	}
	after := count()
	wantAfter := census{statements: []string{"per", "ola", "ola-recent"}, documents: []string{"ola-new"},
		attachments: []string{"b", "e"}, audit: 2, access: 2, reminders: 2}
	if !equalCensus(after, wantAfter) {
		t.Errorf("the store after the run: %+v\nwant %+v", after, wantAfter)
	}
	// What the counts say is what is gone.
	if n := len(full.statements) - len(after.statements); n != done.Counts.Statements {
		t.Errorf("%d statements are gone, the run counts %d", n, done.Counts.Statements)
	}
	if n := len(full.documents) - len(after.documents); n != done.Counts.Documents {
		t.Errorf("%d documents are gone, the run counts %d", n, done.Counts.Documents)
	}
	if n := len(full.attachments) - len(after.attachments); n != done.Counts.Attachments {
		t.Errorf("%d attachments are gone, the run counts %d", n, done.Counts.Attachments)
	}
	if got := summary(); got != before {
		t.Errorf("the summary of a past date changed:\n%s\nwas\n%s", got, before)
	}
	must(t, scan(func(where string, v []byte) {
		for _, b := range Expand(v) {
			low := bytes.ToLower(b)
			for _, id := range append(kariIdentifiers(), evaID, "eva evensen", evaMail) {
				if bytes.Contains(low, []byte(strings.ToLower(id))) {
					t.Errorf("after the run, %s holds %q", where, id)
				}
			}
		}
	}))
	es, err := db.Erasures(ctx, tenant)
	must(t, err)
	if len(es) != 2 || es[0].Actor != "retention:dpo" || es[0].Mode != privacy.Delete {
		t.Errorf("the erasure records: %s", jsonOf(es))
	}

	// Once more: nothing left.
	again := run(false, tenant)
	if again.Counts != (privacy.RetentionCounts{}) {
		t.Errorf("a second run: %+v", again.Counts)
	}
	if c := count(); !equalCensus(c, wantAfter) {
		t.Errorf("the second run changed the store: %+v", c)
	}
	if got := summary(); got != before {
		t.Errorf("the summary changed after the second run:\n%s", got)
	}

	// The other tenant has no rules: its run deletes nothing.
	if r := run(false, "bergen"); r.Counts != (privacy.RetentionCounts{}) {
		t.Errorf("bergen's run: %+v", r.Counts)
	}
	if a, err := db.Audit(ctx, "bergen", time.Time{}, 10); err != nil || len(a) != 1 {
		t.Errorf("bergen's audit log: %v, %v", a, err)
	}

	// The records, newest first: this tenant's four runs.
	runs, err := db.RetentionRuns(ctx, tenant, 10)
	must(t, err)
	if len(runs) != 4 || !runs[2].DryRun || runs[1].Counts != want || runs[0].Counts != (privacy.RetentionCounts{}) ||
		runs[1].Rules.StatementsYears != 5 || runs[1].Actor != "dpo" {
		t.Errorf("the runs: %s", jsonOf(runs))
	}
	if runs, err := db.RetentionRuns(ctx, tenant, 1); err != nil || len(runs) != 1 || runs[0].Time != again.Time {
		t.Errorf("the newest run: %v, %v", runs, err)
	}
	if rules, err := db.RetentionRules(ctx, tenant); err != nil || rules.StatementsYears != 5 || rules.UpdatedBy != "dpo" ||
		!rules.Updated.Equal(now) {
		t.Errorf("the rules: %+v, %v", rules, err)
	}
}

func equalCensus[C any](a, b C) bool { return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b) }
