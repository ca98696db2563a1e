package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// IngestStore is the statements side of a backend, as the service has it:
// units are committed to it, and activity definitions read from it.
type IngestStore interface {
	ingest.Store
	statements.ActivityStore
}

// RunIngest checks Commit (ingest.Store), the write of the service's
// ingest path, against a fresh store pair open returns (both backed by the
// same database, as the service has them): statements, their facts and
// their activity definitions are stored together; a retried call adds
// nothing; a call that fails (a conflicting statement, statements of two
// tenants) stores neither the statements nor the facts nor the
// definitions of any of its records; a voiding statement retracts its
// target's facts.
func RunIngest(t *testing.T, open func(t *testing.T) (reporting.Store, IngestStore)) {
	rep, stm := open(t)
	stored := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	learner := func(name string) (map[string]any, string) {
		return map[string]any{"mbox": "mailto:" + name + "@kommune.no"}, "mbox:mailto:" + name + "@kommune.no"
	}
	ola, olaKey := learner("ola")
	kari, kariKey := learner("kari")
	per, perKey := learner("per")
	ids := map[string]string{}
	id := func(label string) string {
		if ids[label] == "" {
			ids[label] = uuid.NewString()
		}
		return ids[label]
	}
	// write makes the records of the labelled statements of tenant and
	// commits them with their projection and the definition of their
	// object (defs: activity id -> definition JSON).
	var defs map[string]map[string]any
	write := func(tenant string, labelled ...any) error {
		t.Helper()
		var recs []*statements.Record
		var trees []map[string]any
		for i := 0; i < len(labelled); i += 2 {
			rec, tree := record(t, tenant, id(labelled[i].(string)), stored, labelled[i+1].(map[string]any))
			recs = append(recs, rec)
			trees = append(trees, tree)
		}
		facts, voids, err := reporting.Projection(recs, trees)
		must(t, err)
		return stm.Commit(ctx, &ingest.Unit{Tenant: tenant, Records: recs, Facts: facts, Retractions: voids, Definitions: defs})
	}
	// facts returns the facts of the agents by agent, each (statement,
	// agent) once.
	facts := func(tenant string, agents ...string) map[string][]reporting.Fact {
		t.Helper()
		return collect(t, rep, tenant, agents)
	}
	stored1 := func(label string) *statements.Record {
		t.Helper()
		r, err := stm.Get(ctx, tenant, id(label))
		if err != nil {
			t.Fatalf("statement %s: %v", label, err)
		}
		return r
	}
	absent := func(what, tenant, label string) {
		t.Helper()
		if _, err := stm.Get(ctx, tenant, id(label)); !errs.Is(err, errs.NotFound) {
			t.Errorf("%s: statement %s: error %v, want not found", what, label, err)
		}
	}

	definition := func(act, js string) map[string]map[string]any {
		v, err := statements.DecodeJSON([]byte(js))
		must(t, err)
		return map[string]map[string]any{act: v.(map[string]any)}
	}
	wantDefinition := func(what, tenant, act, want string) {
		t.Helper()
		got, err := stm.Activity(ctx, tenant, act)
		if want == "" {
			if !errs.Is(err, errs.NotFound) {
				t.Errorf("%s: activity %s: %v, %v; want none", what, act, got, err)
			}
			return
		}
		must(t, err)
		if js, _ := json.Marshal(got); string(js) != want {
			t.Errorf("%s: activity %s: %s, want %s", what, act, js, want)
		}
	}

	ola1 := moodle(ola, "completed", 1, "2025-03-01T09:00:00Z", nil)
	defs = definition(KSLModule(1), `{"name":{"nb":"Modul 1"}}`)
	kari2 := moodle(kari, "passed", 2, "2025-03-01T09:30:00Z", scored(0.8, true))
	must(t, write(tenant, "ola-1", ola1, "kari-2", kari2))
	stored1("ola-1")
	stored1("kari-2")
	got := facts(tenant, olaKey, kariKey)
	if len(got[olaKey]) != 1 || len(got[kariKey]) != 1 ||
		got[olaKey][0].Statement.String() != id("ola-1") || got[kariKey][0].Statement.String() != id("kari-2") {
		t.Fatalf("after Commit: facts %+v, want one of each statement", got)
	}
	wantDefinition("after Commit", tenant, KSLModule(1), `{"name":{"nb":"Modul 1"}}`)
	wantDefinition("after Commit, in another tenant", "t-other", KSLModule(1), "")

	// A retried request: no error, nothing added.
	must(t, write(tenant, "ola-1", ola1, "kari-2", kari2))
	if got := facts(tenant, olaKey, kariKey); len(got[olaKey]) != 1 || len(got[kariKey]) != 1 {
		t.Errorf("after a retry: %d facts of ola, %d of kari; want 1 and 1", len(got[olaKey]), len(got[kariKey]))
	}

	// A conflict fails the whole call: per's statement, fact and
	// definitions are not stored either.
	defs = definition(KSLModule(1), `{"name":{"en":"Module 1"}}`)
	defs[KSLModule(9)] = definition(KSLModule(9), `{"name":{"en":"Module 9"}}`)[KSLModule(9)]
	err := write(tenant, "per-1", moodle(per, "completed", 1, "2025-03-01T10:00:00Z", nil),
		"ola-1", moodle(ola, "completed", 1, "2025-03-01T09:05:00Z", nil))
	wantKind(t, "Commit of a statement conflicting with a stored one", err, errs.Conflict)
	absent("after a conflict", tenant, "per-1")
	wantDefinition("after a conflict", tenant, KSLModule(1), `{"name":{"nb":"Modul 1"}}`)
	wantDefinition("after a conflict", tenant, KSLModule(9), "")
	if got := facts(tenant, perKey); len(got[perKey]) != 0 {
		t.Errorf("after a conflict: facts of per %+v, want none", got[perKey])
	}

	// Statements of two tenants in one call are refused, and nothing of
	// them is stored.
	var recs []*statements.Record
	for _, tn := range []string{"t-a", "t-b"} {
		rec, _ := record(t, tn, id("mixed-"+tn), stored, moodle(per, "completed", 4, "2025-03-01T11:00:00Z", nil))
		recs = append(recs, rec)
	}
	if err := stm.Commit(ctx, &ingest.Unit{Tenant: "t-a", Records: recs}); err == nil {
		t.Error("Commit of the statements of two tenants succeeded")
	}
	absent("after a call with two tenants", "t-a", "mixed-t-a")
	absent("after a call with two tenants", "t-b", "mixed-t-b")

	// A voiding statement retracts ola's completion and voids the
	// statement; a definition merges into the stored one.
	defs = definition(KSLModule(1), `{"name":{"en":"Module 1"}}`)
	must(t, write(tenant, "void-ola-1", voiding(id("ola-1"))))
	if !stored1("ola-1").Voided {
		t.Error("ola-1 not voided after its voiding statement")
	}
	got = facts(tenant, olaKey, kariKey)
	if len(got[olaKey]) != 1 || got[olaKey][0].VoidedAt.IsZero() {
		t.Errorf("ola's facts after the voiding: %+v, want the one fact, voided", got[olaKey])
	}
	if len(got[kariKey]) != 1 || !got[kariKey][0].VoidedAt.IsZero() {
		t.Errorf("kari's facts after the voiding: %+v, want the one fact, not voided", got[kariKey])
	}
	wantDefinition("after a merge", tenant, KSLModule(1), `{"name":{"en":"Module 1","nb":"Modul 1"}}`)

	// The same definition again changes nothing, and neither does a part
	// of it (the stores skip both, mostly without reading).
	defs = definition(KSLModule(1), `{"name":{"nb":"Modul 1"}}`)
	must(t, write(tenant, "kari-3", moodle(kari, "completed", 3, "2025-03-01T12:00:00Z", nil)))
	wantDefinition("after a repeated definition", tenant, KSLModule(1), `{"name":{"en":"Module 1","nb":"Modul 1"}}`)
}
