package reporting

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/statements"
)

// Outcome is what a statement says a learner achieved on its activities, as
// a set of bits. Every fact records at least an attempt.
type Outcome uint8

const (
	OutcomeCompleted Outcome = 1 << iota // verb completed, or result.completion true
	OutcomePassed                        // verb passed, or result.success true
	OutcomeFailed                        // verb failed, or result.success false
	OutcomeSatisfied                     // cmi5 satisfied: the LMS judged the block or course done
)

// Has reports whether o holds every bit of x.
func (o Outcome) Has(x Outcome) bool { return o&x == x }

// Achieves reports whether o counts towards completing something: a
// completion, a pass or satisfaction.
func (o Outcome) Achieves() bool { return o&(OutcomeCompleted|OutcomePassed|OutcomeSatisfied) != 0 }

// String lists the bits, e.g. "completed+passed"; "attempted" when none is
// set.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return o.names()
}

// outcomeNames are the names of the outcomes of the four bits, made once:
// every evidence of a report names its outcome.
var outcomeNames = func() (names [16]string) {
	for o := range names {
		names[o] = Outcome(o).names()
	}
	return names
}()

func (o Outcome) names() string {
	var parts []string
	for _, b := range []struct {
		bit  Outcome
		name string
	}{{OutcomeCompleted, "completed"}, {OutcomePassed, "passed"}, {OutcomeFailed, "failed"}, {OutcomeSatisfied, "satisfied"}} {
		if o.Has(b.bit) {
			parts = append(parts, b.name)
		}
	}
	if len(parts) == 0 {
		return "attempted"
	}
	return strings.Join(parts, "+")
}

// Fact is what one statement contributes to the completion projection for
// one learner: derived data, keyed by (tenant, statement, agent) and by
// activity IRI rather than by module, so that catalog edits and roster
// changes never require recomputing it. It holds what status reports need;
// the statement's authority and a SHA-256 of its JSON, which evidence packs
// and transcripts show, are read from the stored statement itself when
// they are assembled (see Evidence), which keeps the projection small
// enough for a whole-organisation report to read it all.
type Fact struct {
	Statement uuid.UUID // the statement id
	Agent     string    // MatchKey of the learner
	Name      string    // the learner's name as the statement gave it ("" if none); stores keep the latest per agent
	// Activities are the activity IRIs the statement counts for: the object
	// first, then the context parent activities of cmi5 and SCORM-profile
	// statements, and the grouping activities of cmi5 statements (see
	// Project). Readers must not modify the slice: stores may share it
	// between facts.
	Activities []string
	Outcome    Outcome
	HasScore   bool
	Score      float64 // result.score.scaled, when HasScore
	// Registration is the statement's context.registration (zero: none):
	// statements of one registration may together meet a completion rule
	// (see CompletionRule).
	Registration uuid.UUID
	Timestamp    time.Time
	Stored       time.Time
	// VoidedAt is set by stores when reading: the time a voiding statement
	// retracting this one was stored (zero: not voided).
	VoidedAt time.Time
}

// Retraction is a voiding statement's effect on the projection: the facts
// of statement Statement no longer count, from the time Stored the voiding
// statement was stored.
type Retraction struct {
	Statement uuid.UUID
	Stored    time.Time
}

// Counts reports whether the fact counts in a report of completions with
// timestamps at or before asOf, as known at knownAt (zero: no limit): not
// voided by then, and stored by then.
func (f *Fact) Counts(asOf, knownAt time.Time) bool {
	if f.Timestamp.After(asOf) {
		return false
	}
	if knownAt.IsZero() {
		return f.VoidedAt.IsZero()
	}
	return !f.Stored.After(knownAt) && (f.VoidedAt.IsZero() || f.VoidedAt.After(knownAt))
}

// Statement and verb IRIs the projection reads.
const (
	verbCompleted   = "http://adlnet.gov/expapi/verbs/completed"
	verbPassed      = "http://adlnet.gov/expapi/verbs/passed"
	verbFailed      = "http://adlnet.gov/expapi/verbs/failed"
	verbSatisfied   = "https://w3id.org/xapi/adl/verbs/satisfied" // cmi5
	verbTerminated  = "http://adlnet.gov/expapi/verbs/terminated"
	verbLaunched    = "http://adlnet.gov/expapi/verbs/launched"
	verbInitialized = "http://adlnet.gov/expapi/verbs/initialized"
	verbAttempted   = "http://adlnet.gov/expapi/verbs/attempted"
	verbResumed     = "http://adlnet.gov/expapi/verbs/resumed"

	cmi5Category       = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
	scormProfilePrefix = "https://w3id.org/xapi/scorm"
)

// Projected reports whether statements with the verb can yield facts; the
// others (answered, experienced, progressed, …) never do, so callers may
// skip them without decoding.
func Projected(verbID string) bool {
	switch verbID {
	case verbCompleted, verbPassed, verbFailed, verbSatisfied, verbTerminated,
		verbLaunched, verbInitialized, verbAttempted, verbResumed:
		return true
	}
	return false
}

// Project returns the facts of statement stmt, stored as rec (its parsed
// tree, as statements.ParseStatement returns it, completed by the LRS). It
// is a pure function of the two.
//
// A statement yields facts when its object is an Activity and its verb is
// one of: completed, passed, failed (ADL, used by cmi5 too), satisfied
// (cmi5); terminated, whose result.completion and result.success count;
// launched, initialized, attempted, resumed (attempts: they show a module
// in progress). On completed, passed and failed the result's completion and
// success count as well. One fact per learner: the actor Agent, or an
// identified Group and each identified member (a group's completion counts
// for its members).
//
// The activities of a fact are the object and:
//
//   - for cmi5 statements (the cmi5 category), the context parent and
//     grouping activities: cmi5 puts the AU's or course's publisher id
//     there, which stays the same on every LMS, and the LMS's satisfied
//     statement of a course has the course's publisher id in its grouping;
//   - for SCORM-profile statements (a category under
//     https://w3id.org/xapi/scorm), the context parent only: the SCO of an
//     interaction. The profile puts the course in the grouping of every
//     SCO's statements, so counting it would make one passed SCO of a
//     multi-SCO package complete the whole course. A SCORM course is
//     completed by a statement about the course itself (the LRS's player
//     sends one when every SCO is done: the SCORM rollup) or by a module's
//     Parts (its SCOs).
//
// Other statements count for their object only, so that, for example, an
// LMS that puts the course in the grouping of every module's statements
// does not make one module's completion complete the course.
//
// A voiding statement yields no fact; Retractions names its target.
func Project(rec *statements.Record, stmt map[string]any) []Fact {
	if !Projected(rec.VerbID) {
		return nil
	}
	obj, _ := stmt["object"].(map[string]any)
	if obj == nil {
		return nil
	}
	if t, ok := obj["objectType"]; ok && t != "Activity" {
		return nil
	}
	objID, _ := obj["id"].(string)
	if objID == "" {
		return nil
	}

	outcome := Outcome(0)
	result, _ := stmt["result"].(map[string]any)
	switch rec.VerbID {
	case verbCompleted:
		outcome = OutcomeCompleted | resultOutcome(result)
	case verbPassed:
		outcome = OutcomePassed | resultOutcome(result)&OutcomeCompleted
	case verbFailed:
		outcome = OutcomeFailed | resultOutcome(result)&OutcomeCompleted
	case verbSatisfied:
		outcome = OutcomeSatisfied
	case verbTerminated:
		outcome = resultOutcome(result)
	}
	var score float64
	hasScore := false
	if sc, ok := result["score"].(map[string]any); ok {
		score, hasScore = number(sc["scaled"])
	}

	// Activities and learners are de-duplicated through maps: a statement
	// may name thousands of them, and the projection runs inside the
	// write transaction.
	activities := []string{objID}
	var registration uuid.UUID
	if ctx, ok := stmt["context"].(map[string]any); ok {
		if r, ok := ctx["registration"].(string); ok {
			registration, _ = uuid.Parse(r)
		}
		if ca, ok := ctx["contextActivities"].(map[string]any); ok {
			seen := map[string]bool{objID: true}
			for _, kind := range profileContext(ca["category"]) {
				for _, id := range activityIDs(ca[kind]) {
					if !seen[id] {
						seen[id] = true
						activities = append(activities, id)
					}
				}
			}
		}
	}

	id, _ := uuid.Parse(rec.ID)
	actor, _ := stmt["actor"].(map[string]any)
	name, _ := actor["name"].(string)
	base := Fact{
		Statement: id, Name: name, Activities: activities, Outcome: outcome,
		HasScore: hasScore, Score: score, Registration: registration, Timestamp: rec.Timestamp, Stored: rec.Stored,
	}
	var facts []Fact
	learners := map[string]bool{}
	add := func(a map[string]any) {
		k := MatchKey(statements.AgentKey(a))
		if k == "" || learners[k] {
			return
		}
		learners[k] = true
		f := base
		f.Agent = k
		if n, ok := a["name"].(string); ok {
			f.Name = n
		}
		facts = append(facts, f)
	}
	if actor != nil {
		add(actor)
		members, _ := actor["member"].([]any)
		for _, m := range members {
			if mm, ok := m.(map[string]any); ok {
				add(mm)
			}
		}
	}
	return facts
}

// resultOutcome reads result.completion and result.success.
func resultOutcome(result map[string]any) Outcome {
	var o Outcome
	if c, ok := result["completion"].(bool); ok && c {
		o |= OutcomeCompleted
	}
	if s, ok := result["success"].(bool); ok {
		if s {
			o |= OutcomePassed
		} else {
			o |= OutcomeFailed
		}
	}
	return o
}

// profileContext returns the kinds of context activities a statement with
// the context categories counts for besides its object (see Project):
// parent and grouping for a cmi5 statement, parent for a SCORM-profile
// statement, none for others.
func profileContext(categories any) []string {
	scorm := false
	for _, id := range activityIDs(categories) {
		if id == cmi5Category {
			return []string{"parent", "grouping"}
		}
		scorm = scorm || strings.HasPrefix(id, scormProfilePrefix)
	}
	if scorm {
		return []string{"parent"}
	}
	return nil
}

// activityIDs returns the ids of a context activities value: one Activity
// object (allowed by xAPI 1.0) or an array of them.
func activityIDs(v any) []string {
	switch v := v.(type) {
	case map[string]any:
		if id, ok := v["id"].(string); ok {
			return []string{id}
		}
	case []any:
		var out []string
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				if id, ok := m["id"].(string); ok {
					out = append(out, id)
				}
			}
		}
		return out
	}
	return nil
}

func appendNew[T comparable](list []T, s T) []T {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// number returns a JSON number of a decoded statement as a float64.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case interface{ Float64() (float64, error) }: // json.Number
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// ProjectRecord is Project for a stored record, decoding its JSON: for
// rebuilding the projection from stored statements.
func ProjectRecord(rec *statements.Record) ([]Fact, error) {
	if !Projected(rec.VerbID) {
		return nil, nil
	}
	v, err := statements.DecodeJSON(rec.JSON)
	if err != nil {
		return nil, err
	}
	stmt, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("reporting: a stored statement is not a JSON object")
	}
	return Project(rec, stmt), nil
}

// MatchKey returns the key the projection and the roster match learners
// by: statements.AgentKey, with an mbox lowercased as a whole (mail
// systems treat the local part case-insensitively, and HR systems and LMSs
// disagree on its case). Other keys are returned unchanged.
func MatchKey(agentKey string) string {
	if strings.HasPrefix(agentKey, "mbox:") {
		return strings.ToLower(agentKey)
	}
	return agentKey
}

// sha1Key returns the mbox_sha1sum key of an mbox key, so that an e-mail
// address in the roster also matches LMSs that send hashed addresses (of
// the lowercased address).
func sha1Key(mboxKey string) string {
	sum := sha1.Sum([]byte(strings.TrimPrefix(mboxKey, "mbox:")))
	return "mbox_sha1sum:" + hex.EncodeToString(sum[:])
}

// FactWriter is the part of Store the ingest path writes to.
type FactWriter interface {
	AddFacts(ctx context.Context, tenant string, facts []Fact) error
	RetractFacts(ctx context.Context, tenant string, rs []Retraction) error
}

// Projection returns what statements contribute to the projection: the
// facts of recs (Project on stmts[i], or on recs[i].JSON decoded when
// stmts[i] is nil or missing) and the retractions of the voiding ones.
func Projection(recs []*statements.Record, stmts []map[string]any) ([]Fact, []Retraction, error) {
	var facts []Fact
	var voids []Retraction
	for i, rec := range recs {
		if rec.Voids != "" {
			if id, err := uuid.Parse(rec.Voids); err == nil {
				voids = append(voids, Retraction{Statement: id, Stored: rec.Stored})
			}
			continue
		}
		if i < len(stmts) && stmts[i] != nil {
			facts = append(facts, Project(rec, stmts[i])...)
			continue
		}
		fs, err := ProjectRecord(rec)
		if err != nil {
			return nil, nil, err
		}
		facts = append(facts, fs...)
	}
	return facts, voids, nil
}

// Ingest projects statements stored already and writes the result (see
// Projection for recs and stmts): what Rebuild does, page by page, and
// what the ingest service does after committing statements alone when
// committing them with their projection failed for the projection's sake.
// Statements already stored (an idempotent retry) are harmless: AddFacts
// is idempotent. The projection is derived data, so a failure here should
// be logged rather than reported to the client, whose statements are
// stored; Rebuild repairs it.
func Ingest(ctx context.Context, w FactWriter, tenant string, recs []*statements.Record, stmts []map[string]any) error {
	facts, voids, err := Projection(recs, stmts)
	if err != nil {
		return err
	}
	return WriteProjection(ctx, w, tenant, facts, voids)
}

// WriteProjection writes facts, then retractions rs, of tenant into w:
// the projection's write on a backend without transactions, and Ingest's.
func WriteProjection(ctx context.Context, w FactWriter, tenant string, facts []Fact, rs []Retraction) error {
	if len(facts) > 0 {
		if err := w.AddFacts(ctx, tenant, facts); err != nil {
			return err
		}
	}
	if len(rs) > 0 {
		return w.RetractFacts(ctx, tenant, rs)
	}
	return nil
}
