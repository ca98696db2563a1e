package mongo

import (
	"fmt"
	"slices"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// stmtDoc is one statement in the statements collection. Field names are
// short because they are repeated in every document and every index entry.
type stmtDoc struct {
	Key    string `bson:"_id"` // docKey(tenant, id): unique, so a duplicate insert fails
	Tenant string `bson:"t"`
	ID     string `bson:"id"`
	// Order is the sort and paging key: stored (zero-padded Unix nanoseconds)
	// followed by the id, so one indexed string orders by (stored, id) and a
	// page position is a single range bound.
	Order     string `bson:"k"`
	Stored    int64  `bson:"s"`  // Unix nanoseconds
	Timestamp string `bson:"ts"` // RFC 3339, UTC
	Authority string `bson:"au"`

	// The Record's own filter fields, returned as stored.
	Verb              string   `bson:"v"`
	Registration      string   `bson:"r"`
	Agents            []string `bson:"a"`
	RelatedAgents     []string `bson:"ra"`
	Activities        []string `bson:"c"`
	RelatedActivities []string `bson:"rc"`

	// The query fields: own values plus those inherited from the statements
	// this one refers to (transitively). Related sets include the plain ones.
	Facets facets `bson:",inline"`

	RefID  string `bson:"ref"`
	Voids  string `bson:"vd"`
	Voided bool   `bson:"x"`

	Hash             string   `bson:"h"`
	AttachmentHashes []string `bson:"ah"`
	JSON             []byte   `bson:"j"` // the statement verbatim (never a BSON tree: extension keys contain dots)

	// Batch is the id of the batch that wrote this document while that
	// batch is unfinished; "" (absent) afterwards. Such a document is
	// visible only once its batch is committed.
	Batch string `bson:"p,omitempty"`
}

// facets are the values the statement filters match, inherited along
// StatementRefs.
type facets struct {
	QAgents        []string `bson:"qa"`
	QRelAgents     []string `bson:"qra"`
	QActivities    []string `bson:"qc"`
	QRelActivities []string `bson:"qrc"`
	QVerbs         []string `bson:"qv"`
	QRegs          []string `bson:"qr"`
}

// ownFacets returns the facets of r itself.
func ownFacets(r *statements.Record) facets {
	f := facets{
		QAgents:        union(nil, r.Agents),
		QRelAgents:     union(union(nil, r.Agents), r.RelatedAgents),
		QActivities:    union(nil, r.Activities),
		QRelActivities: union(union(nil, r.Activities), r.RelatedActivities),
		QVerbs:         []string{},
		QRegs:          []string{},
	}
	if r.VerbID != "" {
		f.QVerbs = append(f.QVerbs, r.VerbID)
	}
	if r.Registration != "" {
		f.QRegs = append(f.QRegs, r.Registration)
	}
	return f
}

// merge adds o's values to f and reports whether f grew.
func (f *facets) merge(o facets) bool {
	n := f.size()
	f.QAgents = union(f.QAgents, o.QAgents)
	f.QRelAgents = union(f.QRelAgents, o.QRelAgents)
	f.QActivities = union(f.QActivities, o.QActivities)
	f.QRelActivities = union(f.QRelActivities, o.QRelActivities)
	f.QVerbs = union(f.QVerbs, o.QVerbs)
	f.QRegs = union(f.QRegs, o.QRegs)
	return f.size() != n
}

func (f *facets) size() int {
	return len(f.QAgents) + len(f.QRelAgents) + len(f.QActivities) + len(f.QRelActivities) + len(f.QVerbs) + len(f.QRegs)
}

// minus returns the values of f missing from o.
func (f facets) minus(o facets) facets {
	return facets{diff(f.QAgents, o.QAgents), diff(f.QRelAgents, o.QRelAgents),
		diff(f.QActivities, o.QActivities), diff(f.QRelActivities, o.QRelActivities),
		diff(f.QVerbs, o.QVerbs), diff(f.QRegs, o.QRegs)}
}

// diff returns the values of a not in b.
func diff(a, b []string) []string {
	if len(a) == 0 {
		return nil
	}
	in := lookup(b)
	var out []string
	for _, s := range a {
		if !in(s) {
			out = append(out, s)
		}
	}
	return out
}

// addToSet is the update adding f's values to a document's facets.
func (f facets) addToSet() any {
	set := make(map[string]any)
	for k, v := range map[string][]string{"qa": f.QAgents, "qra": f.QRelAgents, "qc": f.QActivities,
		"qrc": f.QRelActivities, "qv": f.QVerbs, "qr": f.QRegs} {
		if len(v) > 0 {
			set[k] = map[string]any{"$each": v}
		}
	}
	return d("$addToSet", set)
}

// union appends to a the values of b it lacks (and drops the repeats
// within b), never returning nil.
func union(a, b []string) []string {
	if a == nil {
		a = []string{}
	}
	if len(a)+len(b) <= shortList {
		for _, s := range b {
			if !slices.Contains(a, s) {
				a = append(a, s)
			}
		}
		return a
	}
	seen := make(map[string]struct{}, len(a)+len(b))
	for _, s := range a {
		seen[s] = struct{}{}
	}
	for _, s := range b {
		if _, dup := seen[s]; !dup {
			seen[s] = struct{}{}
			a = append(a, s)
		}
	}
	return a
}

// shortList is the length up to which a list is searched rather than put in
// a map.
const shortList = 16

// lookup returns a membership test for list: a scan for a short list, a
// map for a long one. Facet lists hold one value per person or activity a
// statement names, thousands at times, and are never compared pairwise.
func lookup(list []string) func(string) bool {
	if len(list) <= shortList {
		return func(s string) bool { return slices.Contains(list, s) }
	}
	set := make(map[string]struct{}, len(list))
	for _, s := range list {
		set[s] = struct{}{}
	}
	return func(s string) bool { _, ok := set[s]; return ok }
}

// docKey is the _id of a statement: the id is fixed-length and last, so the
// key is unambiguous whatever the tenant name holds.
func docKey(tenant, id string) string { return tenant + "/" + id }

// orderKey is the sort key of a statement stored at s (Unix nanoseconds).
func orderKey(s int64, id string) string { return fmt.Sprintf("%019d%s", s, id) }

// afterStored returns a key greater than the key of every statement stored
// at or before s and less than the key of every statement stored after it
// (ids are lowercase hex and '-', all below '~').
func afterStored(s int64) string { return fmt.Sprintf("%019d~", s) }

func newStmtDoc(r *statements.Record, batch string) (*stmtDoc, error) {
	s := r.Stored.UnixNano()
	if r.Stored.IsZero() || s < 0 {
		return nil, errs.E(errs.Internal, "mongo: statement %s has no stored time", r.ID)
	}
	return &stmtDoc{
		Key:               docKey(r.Tenant, r.ID),
		Tenant:            r.Tenant,
		ID:                r.ID,
		Order:             orderKey(s, r.ID),
		Stored:            s,
		Timestamp:         r.Timestamp.UTC().Format(time.RFC3339Nano),
		Authority:         r.Authority,
		Verb:              r.VerbID,
		Registration:      r.Registration,
		Agents:            union(nil, r.Agents),
		RelatedAgents:     union(nil, r.RelatedAgents),
		Activities:        union(nil, r.Activities),
		RelatedActivities: union(nil, r.RelatedActivities),
		Facets:            ownFacets(r),
		RefID:             r.RefID,
		Voids:             r.Voids,
		Voided:            false, // the store decides (linkInBatch, link)
		Hash:              r.Hash,
		AttachmentHashes:  union(nil, r.AttachmentHashes),
		JSON:              r.JSON,
		Batch:             batch,
	}, nil
}

func (doc *stmtDoc) record() *statements.Record {
	ts, err := time.Parse(time.RFC3339Nano, doc.Timestamp)
	if err != nil {
		ts = time.Time{}
	}
	return &statements.Record{
		Tenant:            doc.Tenant,
		ID:                doc.ID,
		Stored:            time.Unix(0, doc.Stored).UTC(),
		Timestamp:         ts.UTC(),
		Authority:         doc.Authority,
		VerbID:            doc.Verb,
		Registration:      doc.Registration,
		Agents:            nilIfEmpty(doc.Agents),
		RelatedAgents:     nilIfEmpty(doc.RelatedAgents),
		Activities:        nilIfEmpty(doc.Activities),
		RelatedActivities: nilIfEmpty(doc.RelatedActivities),
		RefID:             doc.RefID,
		Voids:             doc.Voids,
		Voided:            doc.Voided,
		Hash:              doc.Hash,
		AttachmentHashes:  nilIfEmpty(doc.AttachmentHashes),
		JSON:              doc.JSON,
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// batchDoc registers one Insert call. Its State is the commit point: the
// call's documents are visible exactly when it is "committed".
type batchDoc struct {
	ID        string   `bson:"_id"`
	State     string   `bson:"st"`
	Created   int64    `bson:"c"`  // Unix nanoseconds, writer's clock
	MinStored int64    `bson:"ms"` // the earliest stored time in the batch
	Keys      []string `bson:"ids"`
}

// attDoc is one copy of an attachment. Copies are written per batch (the _id
// holds the batch id) so that a batch never depends on another batch's
// uncommitted copy; readers take any visible copy of a hash.
type attDoc struct {
	Key         string `bson:"_id"`
	Tenant      string `bson:"t"`
	SHA2        string `bson:"sha"`
	ContentType string `bson:"ct"`
	Data        []byte `bson:"d"`
	Batch       string `bson:"p,omitempty"`
}
