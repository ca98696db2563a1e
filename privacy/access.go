// Package privacy holds the data-protection use cases of the LRS (GDPR
// articles 5, 15, 17, 20 and 25): the access log of who read which
// person's data, the export of everything the LRS holds about one person,
// erasure and pseudonymisation of a person, and retention. Like the other
// domain packages it imports neither the HTTP framework nor a database
// driver; package sqlite and package mongo implement its Store, and
// package storetest holds the contract tests both pass.
package privacy

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
)

// Kinds of actor in the access log.
const (
	ActorCredential = "credential" // Actor is the key of an API credential (or a token's client)
	ActorAccount    = "account"    // Actor is the name of a signed-in account of the pages
)

// What was read: the route or page of an access.
const (
	ReadStatusReport = "reports/status"    // JSON, CSV or XLSX (format in the entry)
	ReadReminders    = "reports/reminders" // the rows of people to remind
	ReadUnmatched    = "reports/unmatched" // learners not in the roster
	ReadTranscript   = "people/transcript"
	ReadEvidence     = "reports/evidence"
	ReadExport       = "people/export"
	ReadAccessLog    = "access-log"
	ReadStatements   = "xapi/statements" // a statement query filtered by agent
	ReadReminderRun  = "reminders/run"   // the people a reminder run would remind or reminded
	ReadReminderSent = "reminders/sent"  // the reminders sent to a person
	ReadPagePerson   = "page/person"
	ReadPageMe       = "page/me"
	ReadPageUnit     = "page/unit"
	ReadPageUnitCSV  = "page/unit.csv"
	// The unit page's workbook and signed evidence pack.
	ReadPageUnitXLSX     = "page/unit.xlsx"
	ReadPageUnitEvidence = "page/unit.evidence"
)

// What the administration pages read (package web's admin pages).
const (
	ReadPageRosterPreview = "page/roster-preview" // the people a roster upload would change
	ReadPageExemptions    = "page/exemptions"     // the people exempted from modules
	ReadPageReminders     = "page/reminders"      // the people a reminder run would remind or reminded, and the record of reminders sent
)

// Access is one read of people's data: one record per request. It holds
// who read (Actor), what (What: a route or page, with its format), when,
// and the subjects read, by their identifiers only: never a name, an
// e-mail address as data, a status or a score.
type Access struct {
	Tenant    string
	Time      time.Time // UTC
	Actor     string    // a credential key or an account name
	ActorKind string    // ActorCredential or ActorAccount
	What      string    // one of the Read constants, e.g. "reports/status", with ";csv" etc.
	// Subjects are the people (PersonSubject) and agents (AgentSubject)
	// read, each once. A whole organisation's report holds tens of
	// thousands; stores keep each distinct set once (see EncodeSubjects).
	// Read back by AccessesAbout, it holds only the subjects asked for.
	Subjects []string
	// Total is the number of subjects the request read (set by stores
	// when reading; len(Subjects) when writing).
	Total int
	Count int // rows, statements or entries answered
}

// PersonSubject is the subject of a person of the roster (employee id).
func PersonSubject(id string) string { return "p:" + id }

// AgentSubject is the subject of an xAPI agent by its identifier key
// (statements.AgentKey), as the projection matches it (reporting.MatchKey).
func AgentSubject(agentKey string) string { return "a:" + reporting.MatchKey(agentKey) }

// AccessLog keeps the access log: append-only records of reads, removed
// only by retention (PruneAccess) and rewritten only by erasure
// (RewriteAccess).
type AccessLog interface {
	// AppendAccess stores the entries (one durable write for all).
	AppendAccess(ctx context.Context, entries []*Access) error
	// AccessesAbout returns the entries of a tenant whose subjects include
	// one of subjects, at or after since, oldest first, at most limit
	// (> 0). Each entry's Subjects holds only the subjects of the
	// question it includes; Total how many it read in all.
	AccessesAbout(ctx context.Context, tenant string, subjects []string, since time.Time, limit int) ([]*Access, error)
	// PruneAccess deletes the entries of a tenant older than before (and
	// the subject sets no entry names any more) and returns how many;
	// with dryRun it only counts them.
	PruneAccess(ctx context.Context, tenant string, before time.Time, dryRun bool) (int, error)
	// RewriteAccess replaces, in every entry of a tenant, the subjects
	// and actors that are keys of subjects and actors by their values
	// (erasure), and returns how many entries changed (an entry whose
	// subjects and actor both change counts twice); with dryRun it only
	// counts them.
	RewriteAccess(ctx context.Context, tenant string, subjects, actors map[string]string, dryRun bool) (int, error)
}

// Subject sets are stored once per tenant and distinct set: a report of
// the same unit asked for every morning names the same people, so its
// entries share one set. A set is encoded sorted and newline-separated,
// compressed with DEFLATE when longer than compressAbove bytes (first
// byte: 'p' plain, 'z' compressed); its id is the SHA-256 of the tenant
// and the encoding (hex, 32 digits).
const compressAbove = 256

// EncodeSubjects returns the stored form of a set of subjects and its id.
func EncodeSubjects(tenant string, subjects []string) (id string, blob []byte, n int) {
	s := slices.Clone(subjects)
	slices.Sort(s)
	s = slices.Compact(s)
	plain := strings.Join(s, "\n")
	if len(plain) <= compressAbove {
		blob = append([]byte{'p'}, plain...)
	} else {
		var b bytes.Buffer
		b.WriteByte('z')
		w, _ := flate.NewWriter(&b, flate.BestSpeed)
		w.Write([]byte(plain))
		w.Close()
		blob = b.Bytes()
	}
	h := sha256.New()
	h.Write([]byte(tenant))
	h.Write([]byte{0})
	h.Write([]byte(plain))
	return hex.EncodeToString(h.Sum(nil)[:16]), blob, len(s)
}

// DecodeSubjects returns the subjects of a stored set, sorted.
func DecodeSubjects(blob []byte) ([]string, error) {
	if len(blob) == 0 {
		return nil, errs.E(errs.Internal, "privacy: an empty subject set")
	}
	var plain []byte
	switch blob[0] {
	case 'p':
		plain = blob[1:]
	case 'z':
		var err error
		if plain, err = io.ReadAll(flate.NewReader(bytes.NewReader(blob[1:]))); err != nil {
			return nil, errs.Wrap(err, "privacy: a broken subject set")
		}
	default:
		return nil, errs.E(errs.Internal, "privacy: a subject set of unknown encoding %q", blob[0])
	}
	if len(plain) == 0 {
		return []string{}, nil
	}
	return strings.Split(string(plain), "\n"), nil
}

// MatchSubjects returns the subjects of want that the stored set holds.
func MatchSubjects(blob []byte, want []string) ([]string, error) {
	if len(blob) > 0 && blob[0] == 'p' {
		// Cheap test first: most sets are small and hold none of them.
		found := false
		for _, w := range want {
			if bytes.Contains(blob, []byte(w)) {
				found = true
				break
			}
		}
		if !found {
			return nil, nil
		}
	}
	all, err := DecodeSubjects(blob)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, w := range want {
		if _, ok := slices.BinarySearch(all, w); ok {
			out = append(out, w)
		}
	}
	return out, nil
}

// RewriteSubjects returns the set with each subject that is a key of m
// replaced by its value, and whether anything changed.
func RewriteSubjects(subjects []string, m map[string]string) ([]string, bool) {
	changed := false
	out := make([]string, len(subjects))
	for i, s := range subjects {
		if r, ok := m[s]; ok {
			s, changed = r, true
		}
		out[i] = s
	}
	return out, changed
}

// Subjects collects the subjects of one read, each once; the zero value
// is empty and ready.
type Subjects struct{ seen map[string]struct{} }

// Person adds a person of the roster (employee id).
func (s *Subjects) Person(id string) { s.add(PersonSubject(id)) }

// Agent adds an agent by its identifier key.
func (s *Subjects) Agent(key string) { s.add(AgentSubject(key)) }

func (s *Subjects) add(subject string) {
	if s.seen == nil {
		s.seen = map[string]struct{}{}
	}
	s.seen[subject] = struct{}{}
}

// List returns the subjects, in no particular order.
func (s *Subjects) List() []string {
	out := make([]string, 0, len(s.seen))
	for k := range s.seen {
		out = append(out, k)
	}
	return out
}

// Len is the number of subjects.
func (s *Subjects) Len() int { return len(s.seen) }

// Store is what the privacy use cases keep in a backend, beside the
// statements, documents and reporting stores of the same database.
type Store interface {
	AccessLog
	// AgentDocumentKeys returns the keys of the tenant's State and Agent
	// Profile documents whose agent is one of agents (match keys, see
	// reporting.MatchKey), sorted.
	AgentDocumentKeys(ctx context.Context, tenant string, agents []string) ([]documents.Key, error)
	// PurgeDocuments deletes the documents with the keys and every trace
	// of them (earlier revisions, tombstones).
	PurgeDocuments(ctx context.Context, keys []documents.Key) error
	ErasureStore
	RetentionStore
}
