package storetest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/accounts"
	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// Backend is a whole database as the service has it: every store that
// may hold a person's data.
type Backend interface {
	ingest.Store
	documents.Store
	reporting.Store
	reminders.Store
	accounts.Store
	auth.AuditLog
	privacy.Store
}

// Scanner calls fn with every value of every table (SQLite) or every
// document of every collection (MongoDB) of the database, where naming
// the table or collection. Backends list the tables and collections
// themselves, so that one added later is scanned too.
type Scanner func(fn func(where string, value []byte)) error

// Expand returns b and, when b (or b without its first byte, a format
// tag) is DEFLATE-compressed, its decompressed bytes: values stored
// compressed (access log subject sets) are scanned as their text.
func Expand(b []byte) [][]byte {
	out := [][]byte{b}
	for _, off := range []int{0, 1} {
		if len(b) > off+1 {
			if plain, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(b[off:])), 1<<24)); err == nil && len(plain) > 0 {
				out = append(out, plain)
			}
		}
	}
	return out
}

const (
	tenant   = "oslo"
	lmsHome  = "https://lms.oslo.example"
	kariID   = "E-KARI-77"
	kariName = "Kari Nordmann"
	kariMail = "Kari.Nordmann@oslo.kommune.no"
	kariUser = "kari.nordmann.lms"
	olaID    = "E-OLA-12"
	perID    = "E-PER-31"
	perMail  = "per.persen@oslo.kommune.no"
	course   = "https://kurs.oslo.example/infosec"
)

// kariIdentifiers are what the scan must not find after Kari's erasure
// (case-insensitively): her employee id, name, addresses (and the
// SHA-1 of her mailto IRI), LMS user name and account of the pages.
func kariIdentifiers() []string {
	sum := sha1.Sum([]byte("mailto:" + strings.ToLower(kariMail)))
	return []string{kariID, kariName, "Nordmann", strings.ToLower(kariMail), hex.EncodeToString(sum[:]), kariUser}
}

// RunErasure checks privacy.Erase against a fresh backend open returns,
// with the scan of its whole database: after Kari's pseudonymisation no
// identifier of hers is left anywhere (statements as actor, instructor,
// team member, in a SubStatement and in free text, a voided statement,
// a statement referring to hers, an attachment, documents, facts, roster
// rows and changes, an exemption, reminders, the access and audit logs,
// her account and session), the dry run predicted the counts, the
// summary report of a past date is unchanged, Ola's export is unchanged
// but for the statement naming Kari, and a second erasure changes
// nothing; Per's deletion removes his statements and keeps the totals.
func RunErasure(t *testing.T, open func(t *testing.T) (Backend, Scanner)) {
	db, scan := open(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	src := privacy.Sources{Reporting: db, Statements: db, Documents: db, Privacy: db, Reminders: db}

	must(t, db.PutModule(ctx, tenant, &reporting.Module{ID: "infosec", Title: map[string]string{"nb": "Infosikkerhet"},
		Activities: []string{course}, Completion: reporting.Completed}))
	must(t, db.PutRule(ctx, tenant, &reporting.Rule{ID: "all", Role: "ansatt", Modules: []string{"infosec"},
		DueWithin: reporting.MustPeriod("P90D")}))
	person := func(id, name, mail string, extra ...map[string]any) reporting.PersonIn {
		return reporting.PersonIn{ID: id, Name: name, Email: mail, Identifiers: extra, Start: reporting.MustDate("2024-01-01"),
			Units: []reporting.Assignment{{ID: "it"}}, Roles: []reporting.Assignment{{ID: "ansatt"}}}
	}
	imp := &reporting.Import{Effective: reporting.MustDate("2024-01-01"),
		Units: []reporting.UnitIn{{ID: "it", Name: "IT-avdelingen", Managers: []string{kariID}}},
		People: []reporting.PersonIn{
			person(kariID, kariName, kariMail, map[string]any{"account": map[string]any{"homePage": lmsHome, "name": kariUser}}),
			person(olaID, "Ola Hansen", "ola.hansen@oslo.kommune.no"),
			person(perID, "Per Persen", perMail),
		}}
	_, err := db.ImportRoster(ctx, tenant, imp, time.Date(2024, 1, 2, 7, 0, 0, 0, time.UTC))
	must(t, err)
	// Kari's address changes: a second import (a change naming her).
	imp.People[0].Email = "kari.n@oslo.kommune.no"
	_, err = db.ImportRoster(ctx, tenant, imp, time.Date(2024, 6, 2, 7, 0, 0, 0, time.UTC))
	must(t, err)
	must(t, db.PutExemption(ctx, tenant, &reporting.Exemption{ID: "x1", Person: kariID, Module: "infosec",
		Reason: "Kari Nordmann took it elsewhere", Effective: reporting.Interval{From: reporting.MustDate("2025-06-01")}}))

	kariMbox := map[string]any{"mbox": "mailto:" + kariMail, "name": kariName}
	kariAcct := map[string]any{"account": map[string]any{"homePage": lmsHome, "name": kariUser}, "name": kariName}
	ola := map[string]any{"mbox": "mailto:ola.hansen@oslo.kommune.no", "name": "Ola Hansen"}
	per := map[string]any{"mbox": "mailto:" + perMail, "name": "Per Persen"}
	completed := func(actor map[string]any, ts string) map[string]any {
		return map[string]any{"actor": actor, "verb": map[string]any{"id": "http://adlnet.gov/expapi/verbs/completed"},
			"object": map[string]any{"id": course}, "timestamp": ts}
	}
	ids := map[string]string{}
	post := func(stored time.Time, labelled ...any) { t.Helper(); commit(t, db, ids, stored, labelled...) }
	jan := time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC)
	signed := completed(kariAcct, "2025-01-09T09:00:00Z")
	signed["attachments"] = []any{map[string]any{"usageType": "http://adlnet.gov/expapi/attachments/signature",
		"display": map[string]any{"en": "signature"}, "contentType": "application/octet-stream", "length": 20,
		"sha2": strings.Repeat("ab", 32)}}
	taught := completed(ola, "2025-01-09T10:00:00Z")
	taught["verb"] = map[string]any{"id": "http://adlnet.gov/expapi/verbs/attended"}
	taught["context"] = map[string]any{"instructor": kariMbox, "team": map[string]any{"objectType": "Group", "member": []any{kariAcct, ola}}}
	taught["result"] = map[string]any{"response": "Thanks to Kari Nordmann (" + kariMail + ")"}
	sub := completed(ola, "2025-01-09T11:00:00Z")
	sub["object"] = map[string]any{"objectType": "SubStatement", "actor": kariMbox,
		"verb": map[string]any{"id": "http://adlnet.gov/expapi/verbs/experienced"}, "object": map[string]any{"id": course}}
	perTaught := completed(ola, "2025-01-09T15:00:00Z") // Ola's, Per the instructor
	perTaught["verb"] = map[string]any{"id": "http://adlnet.gov/expapi/verbs/attended"}
	perTaught["context"] = map[string]any{"instructor": per}
	post(jan, "kari-done", completed(kariMbox, "2025-01-09T08:00:00Z"), "kari-signed", signed, "taught", taught, "sub", sub,
		"kari-oops", completed(kariMbox, "2025-01-09T12:00:00Z"), "ola-done", completed(ola, "2025-01-09T13:00:00Z"),
		"per-done", completed(per, "2025-01-09T14:00:00Z"), "per-taught", perTaught)
	post(jan.Add(time.Hour), "void", map[string]any{"actor": ola, "verb": map[string]any{"id": "http://adlnet.gov/expapi/verbs/voided"},
		"object": map[string]any{"objectType": "StatementRef", "id": ids["kari-oops"]}},
		"ref", map[string]any{"actor": ola, "verb": map[string]any{"id": "http://adlnet.gov/expapi/verbs/experienced"},
			"object": map[string]any{"objectType": "StatementRef", "id": ids["kari-done"]}})

	for _, agent := range []map[string]any{kariMbox, kariAcct, per} {
		content := []byte(`{"learner":"` + agent["name"].(string) + `"}`)
		must(t, db.PutDocument(ctx, &documents.Document{Key: documents.Key{Tenant: tenant, Kind: documents.State, ActivityID: course,
			Agent: statements.AgentKey(agent), ID: "bookmark"}, ContentType: "application/json", Content: content,
			ETag: documents.ComputeETag(content), Updated: jan}, documents.Condition{}))
	}
	must(t, db.RecordReminders(ctx, []*reminders.Sent{
		{Tenant: tenant, Person: kariID, Module: "infosec", Template: "learner/nb", Time: jan, Outcome: reminders.OutcomeFailed,
			Error: "550 no mailbox " + strings.ToLower(kariMail), Attempts: 3},
		{Tenant: tenant, Person: olaID, Module: "infosec", Template: "learner/nb", Time: jan, Outcome: reminders.OutcomeSent, Attempts: 1},
	}))
	kariLogin := strings.ToLower(kariMail)
	must(t, db.CreateAccount(ctx, &accounts.Account{Name: kariLogin, Tenant: tenant, Person: kariID, Created: jan}))
	must(t, db.CreateSession(ctx, &accounts.Session{ID: strings.Repeat("5", 64), Tenant: tenant, Account: kariLogin, Person: kariID,
		Method: accounts.MethodPassword, Label: kariName, CSRF: "c", Created: jan, LastSeen: jan, Expires: jan.Add(time.Hour)}))
	must(t, db.AppendAudit(ctx, &auth.AuditEntry{Time: jan, Tenant: tenant, Actor: "cli:admin", Action: "account.create",
		Target: kariLogin, Detail: "person " + kariID}))
	must(t, db.AppendAccess(ctx, []*privacy.Access{
		{Tenant: tenant, Time: jan, Actor: "hr", ActorKind: privacy.ActorCredential, What: privacy.ReadStatusReport,
			Subjects: []string{privacy.PersonSubject(kariID), privacy.PersonSubject(olaID)}, Count: 2},
		{Tenant: tenant, Time: jan, Actor: "lms", ActorKind: privacy.ActorCredential, What: privacy.ReadStatements,
			Subjects: []string{privacy.AgentSubject(statements.AgentKey(kariMbox))}, Count: 3},
		{Tenant: tenant, Time: jan, Actor: kariLogin, ActorKind: privacy.ActorAccount, What: privacy.ReadPageUnit,
			Subjects: []string{privacy.PersonSubject(olaID)}, Count: 1},
	}))

	summary := func() string { t.Helper(); return pastSummary(t, db, tenant, now) }
	before := summary()
	if !strings.Contains(before, `"completed":3`) {
		t.Fatalf("the summary before: %s; want 3 completed (Kari, Ola, Per)", before)
	}
	export := func(id string) (map[string][]byte, privacy.ExportCounts) {
		t.Helper()
		p, err := privacy.FindPerson(ctx, db, tenant, id)
		must(t, err)
		var b bytes.Buffer
		n, err := privacy.Export(ctx, src, tenant, p, now, &b)
		must(t, err)
		return unzip(t, b.Bytes()), n
	}
	olaBefore, olaN := export(olaID)
	kariExport, kariN := export(kariID)
	if kariN.Statements != 7 || kariN.Voided != 1 || !bytes.Contains(kariExport["voided.json"], []byte(ids["kari-oops"])) {
		t.Errorf("Kari's export: %+v, voided.json %s; want 7 statements (5 naming her, 2 referring to hers; one voided, in voided.json)", kariN, kariExport["voided.json"])
	}
	found := func() map[string][]string {
		t.Helper()
		out := map[string][]string{}
		must(t, scan(func(where string, v []byte) {
			for _, b := range Expand(v) {
				low := bytes.ToLower(b)
				for _, id := range kariIdentifiers() {
					if bytes.Contains(low, []byte(strings.ToLower(id))) {
						out[id] = append(out[id], where)
					}
				}
			}
		}))
		return out
	}
	if f := found(); len(f[kariID]) == 0 || len(f[kariUser]) == 0 || len(f["Nordmann"]) == 0 {
		t.Fatalf("the scan before the erasure finds %v: it does not see the data", f)
	}

	req := privacy.ErasureRequest{Tenant: tenant, Person: kariID, Mode: privacy.Pseudonymise, Actor: "dpo", DryRun: true}
	dry, err := privacy.Erase(ctx, src, db, req, now)
	must(t, err)
	if len(found()[kariID]) == 0 {
		t.Fatal("the dry run erased")
	}
	req.DryRun = false
	done, err := privacy.Erase(ctx, src, db, req, now)
	must(t, err)
	want := privacy.ErasureCounts{Statements: 5, Attachments: 1, Referrers: 2, Documents: 2, Facts: 3, RosterRows: 9,
		RosterChanges: 9, Exemptions: 1, Reminders: 1, AccessLog: 3, Accounts: 1, Audit: 1}
	if done.Counts != want {
		t.Errorf("erasure counts %+v\nwant %+v", done.Counts, want)
	}
	dry.Counts.Attachments, dry.Counts.Referrers = done.Counts.Attachments, done.Counts.Referrers // known after the writes only
	if dry.Counts != done.Counts {
		t.Errorf("the dry run predicted %+v, the erasure did %+v", dry.Counts, done.Counts)
	}
	if f := found(); len(f) > 0 {
		t.Errorf("after the erasure, the scan finds Kari's identifiers: %v", f)
	}
	if after := summary(); after != before {
		t.Errorf("the summary of a past date changed:\n%s\nwas\n%s", after, before)
	}
	olaAfter, olaN2 := export(olaID)
	if olaN2 != olaN {
		t.Errorf("Ola's export counts %+v, were %+v", olaN2, olaN)
	}
	for name, b := range olaBefore {
		// His statements naming Kari name her pseudonym; his access log
		// names her account's pseudonym where she read his data.
		if name != "statements.json" && name != "access-log.json" && !bytes.Equal(olaAfter[name], b) {
			t.Errorf("Ola's %s changed:\n%s\nwas\n%s", name, olaAfter[name], b)
		}
	}
	// The records: this one, without any identifier of Kari's.
	recs, err := db.Erasures(ctx, tenant)
	must(t, err)
	if len(recs) != 1 || recs[0].Pseudonym != done.Pseudonym || recs[0].Counts != want || recs[0].Actor != "dpo" {
		t.Errorf("erasure records %s", jsonOf(recs))
	}
	p, err := privacy.FindPerson(ctx, db, tenant, done.Pseudonym)
	must(t, err)
	if len(p.MatchKeys) != 3 {
		t.Errorf("the pseudonym's identifiers: %v; want Kari's three", p.MatchKeys)
	}
	for _, k := range p.MatchKeys {
		if !strings.HasPrefix(k, "account:"+privacy.PseudonymHome+" ") {
			t.Errorf("the pseudonym's identifier %s", k)
		}
	}
	// Once more: nothing left.
	again, err := privacy.Erase(ctx, src, db, req, now)
	must(t, err)
	if again.Counts != (privacy.ErasureCounts{}) || again.Pseudonym != done.Pseudonym {
		t.Errorf("a second erasure: %+v", again)
	}
	if after := summary(); after != before {
		t.Errorf("the summary changed after the second erasure:\n%s", after)
	}

	// Per is deleted outright: his statement is gone; Ola's, which names
	// him as instructor, stays with his pseudonym; the totals stay.
	del, err := privacy.Erase(ctx, src, db, privacy.ErasureRequest{Tenant: tenant, Person: perID, Mode: privacy.Delete, Actor: "dpo"}, now)
	must(t, err)
	if del.Counts.Statements != 2 || del.Counts.Documents != 1 || del.Counts.Facts != 1 {
		t.Errorf("Per's deletion: %+v", del.Counts)
	}
	if _, err := db.Get(ctx, tenant, ids["per-done"]); err == nil {
		t.Error("Per's statement is still stored")
	}
	if r, err := db.Get(ctx, tenant, ids["per-taught"]); err != nil {
		t.Errorf("Ola's statement naming Per as instructor was deleted with Per's: %v", err)
	} else if !bytes.Contains(r.JSON, []byte(privacy.PseudonymHome)) || !bytes.Contains(r.JSON, []byte(`"actor":{"mbox":"mailto:`)) {
		t.Errorf("Ola's statement naming Per after his deletion: %s", r.JSON)
	}
	must(t, scan(func(where string, v []byte) {
		for _, b := range Expand(v) {
			if bytes.Contains(bytes.ToLower(b), []byte("per persen")) || bytes.Contains(b, []byte(perID)) {
				t.Errorf("after Per's deletion, %s holds his name or id", where)
			}
		}
	}))
	if after := summary(); after != before {
		t.Errorf("the summary of a past date changed after a deletion:\n%s\nwas\n%s", after, before)
	}
}

// commit stores statements as the ingest does, with their facts and
// attachments (a signature holding "signed by" and Kari's name, other
// files their hash): labelled
// holds pairs of a label and a statement; ids receives each statement's
// id under its label.
func commit(t *testing.T, db Backend, ids map[string]string, stored time.Time, labelled ...any) {
	t.Helper()
	var recs []*statements.Record
	var trees []map[string]any
	var atts []statements.Attachment
	for i := 0; i < len(labelled); i += 2 {
		label, s := labelled[i].(string), labelled[i+1].(map[string]any)
		ids[label] = uuid.NewString()
		rec, tree := record(t, ids[label], stored, s)
		if l, ok := s["attachments"].([]any); ok {
			for _, a := range l {
				sha := a.(map[string]any)["sha2"].(string)
				data := "file " + sha
				if a.(map[string]any)["usageType"] == "http://adlnet.gov/expapi/attachments/signature" {
					data = "signed by " + kariName
				}
				rec.AttachmentHashes = append(rec.AttachmentHashes, sha)
				atts = append(atts, statements.Attachment{SHA2: sha, ContentType: "application/octet-stream", Data: []byte(data)})
			}
		}
		recs = append(recs, rec)
		trees = append(trees, tree)
	}
	facts, voids, err := reporting.Projection(recs, trees)
	must(t, err)
	must(t, db.Commit(ctx, &ingest.Unit{Tenant: tenant, Records: recs, Facts: facts, Retractions: voids, Attachments: atts}))
}

// record returns the stored record of statement s, as the ingest makes
// it.
func record(t *testing.T, id string, stored time.Time, s map[string]any) (*statements.Record, map[string]any) {
	t.Helper()
	raw, err := json.Marshal(s)
	must(t, err)
	tree, err := statements.ParseStatement(raw, statements.V103)
	if err != nil {
		t.Fatalf("statement %s: %v\n%s", id, err, raw)
	}
	hash := statements.ContentHash(tree)
	tree["id"] = id
	tree["stored"] = stored.UTC().Format("2006-01-02T15:04:05.000Z")
	tree["authority"] = map[string]any{"objectType": "Agent", "account": map[string]any{"homePage": "https://lrs.oslo.example", "name": "lms"}}
	tree["version"] = "1.0.0"
	statements.Normalize(tree)
	js, err := statements.AppendJSON(nil, tree)
	must(t, err)
	rec := &statements.Record{Tenant: tenant, ID: id, Stored: stored.UTC(), Authority: "lms", Hash: hash, JSON: js}
	statements.Index(tree, rec)
	return rec, tree
}

func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	must(t, err)
	out := map[string][]byte{}
	for _, f := range z.File {
		r, err := f.Open()
		must(t, err)
		out[f.Name], err = io.ReadAll(r)
		r.Close()
		must(t, err)
	}
	return out
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
