package storetest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/statements"
)

// VerbVoided is the verb of a voiding statement.
const VerbVoided = "http://adlnet.gov/expapi/verbs/voided"

// NewID returns a random lowercase UUID (version 4).
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// clock hands out strictly increasing stored times with nanosecond parts,
// ending at about now, the way an LRS stamps statements it accepts.
type clock struct{ t time.Time }

func newClock() *clock {
	return &clock{t: time.Now().UTC().Add(-time.Hour).Truncate(time.Second).Add(123456789)}
}

func (c *clock) next() time.Time {
	c.t = c.t.Add(time.Millisecond + 7*time.Nanosecond)
	return c.t
}

// option changes a record before its JSON is built.
type option func(*statements.Record)

func actor(key string) option       { return func(r *statements.Record) { r.Agents = []string{key} } }
func agents(keys ...string) option  { return func(r *statements.Record) { r.Agents = keys } }
func related(keys ...string) option { return func(r *statements.Record) { r.RelatedAgents = keys } }
func verb(id string) option         { return func(r *statements.Record) { r.VerbID = id } }
func activity(ids ...string) option { return func(r *statements.Record) { r.Activities = ids } }
func relatedActs(ids ...string) option {
	return func(r *statements.Record) { r.RelatedActivities = ids }
}
func registration(id string) option { return func(r *statements.Record) { r.Registration = id } }
func authority(key string) option   { return func(r *statements.Record) { r.Authority = key } }
func withID(id string) option       { return func(r *statements.Record) { r.ID = id } }

// ref makes the record's object a StatementRef to id.
func ref(id string) option {
	return func(r *statements.Record) {
		r.RefID = id
		r.Activities = nil
	}
}

// voids makes the record a voiding statement targeting id.
func voids(id string) option {
	return func(r *statements.Record) {
		r.VerbID = VerbVoided
		r.RefID = id
		r.Voids = id
		r.Activities = nil
	}
}

// newRecord builds a record of tenant stored at stored, with defaults that
// any option overrides, and JSON and Hash derived from its fields.
func newRecord(tenant string, stored time.Time, opts ...option) *statements.Record {
	r := &statements.Record{
		Tenant:     tenant,
		ID:         NewID(),
		Stored:     stored,
		Timestamp:  stored.Add(-1500 * time.Millisecond),
		Authority:  "account:https://lrs.example.com test-client",
		VerbID:     "http://adlnet.gov/expapi/verbs/experienced",
		Agents:     []string{"mbox:mailto:learner@example.com"},
		Activities: []string{"https://example.com/activities/intro"},
	}
	for _, o := range opts {
		o(r)
	}
	r.JSON = statementJSON(r)
	h := sha256.Sum256(r.JSON)
	r.Hash = hex.EncodeToString(h[:])
	return r
}

// statementJSON renders a plausible statement for r. The store treats it as
// opaque bytes; it is only checked to come back byte for byte.
func statementJSON(r *statements.Record) []byte {
	agent := func(key string) map[string]any { return map[string]any{"objectType": "Agent", "name": key} }
	s := map[string]any{
		"id":        r.ID,
		"verb":      map[string]any{"id": r.VerbID},
		"stored":    r.Stored.Format(time.RFC3339Nano),
		"timestamp": r.Timestamp.Format(time.RFC3339Nano),
		"authority": agent(r.Authority),
		"version":   "1.0.3",
	}
	if len(r.Agents) > 0 {
		s["actor"] = agent(r.Agents[0])
	}
	switch {
	case r.RefID != "":
		s["object"] = map[string]any{"objectType": "StatementRef", "id": r.RefID}
	case len(r.Activities) > 0:
		s["object"] = map[string]any{"objectType": "Activity", "id": r.Activities[0]}
	}
	ctx := map[string]any{}
	if r.Registration != "" {
		ctx["registration"] = r.Registration
	}
	if len(r.RelatedActivities) > 0 {
		var acts []any
		for _, a := range r.RelatedActivities {
			acts = append(acts, map[string]any{"id": a})
		}
		ctx["contextActivities"] = map[string]any{"other": acts}
	}
	if len(ctx) > 0 {
		s["context"] = ctx
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return b
}

// checkRecord fails t unless got equals want in every field, with Voided
// expected to be voided. Nil and empty slices are equal.
func checkRecord(t testing.TB, got, want *statements.Record, voided bool) {
	t.Helper()
	if got == nil {
		t.Errorf("record %s: got nil", want.ID)
		return
	}
	eqs := func(name string, g, w []string) {
		if len(g) != 0 || len(w) != 0 {
			if !slices.Equal(sorted(g), sorted(w)) {
				t.Errorf("record %s: %s = %q, want %q", want.ID, name, g, w)
			}
		}
	}
	eq := func(name, g, w string) {
		if g != w {
			t.Errorf("record %s: %s = %q, want %q", want.ID, name, g, w)
		}
	}
	eq("Tenant", got.Tenant, want.Tenant)
	eq("ID", got.ID, want.ID)
	if !got.Stored.Equal(want.Stored) {
		t.Errorf("record %s: Stored = %v, want %v (nanosecond precision)", want.ID, got.Stored, want.Stored)
	}
	if !got.Timestamp.Equal(want.Timestamp) {
		t.Errorf("record %s: Timestamp = %v, want %v", want.ID, got.Timestamp, want.Timestamp)
	}
	if got.Stored.Location() != time.UTC {
		t.Errorf("record %s: Stored location = %v, want UTC", want.ID, got.Stored.Location())
	}
	eq("Authority", got.Authority, want.Authority)
	eq("VerbID", got.VerbID, want.VerbID)
	eq("Registration", got.Registration, want.Registration)
	eqs("Agents", got.Agents, want.Agents)
	eqs("RelatedAgents", got.RelatedAgents, want.RelatedAgents)
	eqs("Activities", got.Activities, want.Activities)
	eqs("RelatedActivities", got.RelatedActivities, want.RelatedActivities)
	eq("RefID", got.RefID, want.RefID)
	eq("Voids", got.Voids, want.Voids)
	eq("Hash", got.Hash, want.Hash)
	eqs("AttachmentHashes", got.AttachmentHashes, want.AttachmentHashes)
	if got.Voided != voided {
		t.Errorf("record %s: Voided = %v, want %v", want.ID, got.Voided, voided)
	}
	if string(got.JSON) != string(want.JSON) {
		t.Errorf("record %s: JSON = %s, want exactly %s", want.ID, got.JSON, want.JSON)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func ids(recs []*statements.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// describe names the filters of q for failure messages.
func describe(q statements.Query) string {
	s := fmt.Sprintf("tenant=%q", q.Tenant)
	add := func(name, v string) {
		if v != "" {
			s += fmt.Sprintf(" %s=%q", name, v)
		}
	}
	add("agent", q.Agent)
	add("verb", q.Verb)
	add("activity", q.Activity)
	add("registration", q.Registration)
	add("authority", q.Authority)
	if q.RelatedAgents {
		s += " related_agents"
	}
	if q.RelatedActivities {
		s += " related_activities"
	}
	if !q.Since.IsZero() {
		s += " since=" + q.Since.Format(time.RFC3339Nano)
	}
	if !q.Until.IsZero() {
		s += " until=" + q.Until.Format(time.RFC3339Nano)
	}
	if q.Ascending {
		s += " ascending"
	}
	return s + fmt.Sprintf(" limit=%d", q.Limit)
}
