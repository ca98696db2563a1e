// Package documents is the xAPI document domain: the State, Activity Profile
// and Agent Profile resources keep documents — any content type, stored and
// returned byte for byte — under a key made of an activity id, an agent, a
// registration and a document id. This package holds the types, the ETag and
// merge rules, the merge of a POST (Merge: read, merge, write if unchanged),
// and the Store interface that package sqlite and package mongo implement
// and that package documents/storetest checks.
//
// It imports neither the HTTP framework nor a database driver.
package documents

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"time"
)

// Kind says which resource a document belongs to.
type Kind string

const (
	State           Kind = "state"            // activityId + agent + registration + stateId
	ActivityProfile Kind = "activity-profile" // activityId + profileId
	AgentProfile    Kind = "agent-profile"    // agent + profileId
)

// Key names a document, or, with ID empty, the set of documents a list or a
// delete-all applies to. Fields a Kind does not use are empty.
type Key struct {
	Tenant       string
	Kind         Kind
	ActivityID   string // State, ActivityProfile
	Agent        string // statements.AgentKey of the agent; State, AgentProfile
	Registration string // State only; "" when the request gave none
	ID           string // stateId or profileId
}

// Document is one stored document.
type Document struct {
	Key         Key
	ContentType string // as the client sent it
	Content     []byte
	ETag        string    // ComputeETag(Content), unquoted
	Updated     time.Time // UTC
}

// ComputeETag returns the ETag of content: its SHA-1 in hex, as the xAPI
// specification suggests.
func ComputeETag(content []byte) string {
	h := sha1.Sum(content)
	return hex.EncodeToString(h[:])
}

// Condition is a write's precondition, from If-Match / If-None-Match. The
// zero value is no precondition.
type Condition struct {
	IfMatch     []string // unquoted ETags, or "*" for "any existing document"
	IfNoneMatch []string // unquoted ETags, or "*" for "no existing document"
}

// Store keeps documents. Every method is safe for concurrent use, and every
// write checks its Condition against the current document atomically with
// the write (an errs.PreconditionFailed error when it does not hold).
type Store interface {
	// Document returns the document with key k, or an errs.NotFound error.
	Document(ctx context.Context, k Key) (*Document, error)
	// PutDocument creates or replaces d (d.ETag and d.Updated set by the
	// caller) if cond holds.
	PutDocument(ctx context.Context, d *Document, cond Condition) error
	// DeleteDocument deletes the document with key k if cond holds; deleting
	// a missing document is not an error.
	DeleteDocument(ctx context.Context, k Key, cond Condition) error
	// DocumentIDs lists the ids of the documents matching k (k.ID is
	// ignored) updated strictly after since (zero: all), sorted, each id
	// once; never nil. Matching means the same Tenant, Kind, ActivityID and
	// Agent, and the same Registration when k.Registration is not empty:
	// without one, the states of every registration and those without one
	// match (xAPI State resource: "Activity + Agent [+ registration if
	// specified]"), so an id stored under two registrations is listed once.
	DocumentIDs(ctx context.Context, k Key, since time.Time) ([]string, error)
	// DeleteDocuments deletes every document matching k, as DocumentIDs
	// matches (without a registration: the states of every registration).
	DeleteDocuments(ctx context.Context, k Key) error
}

// Holds reports whether cond holds for the current document cur (nil when
// there is none). Stores call it inside their write.
func (cond Condition) Holds(cur *Document) bool {
	if len(cond.IfMatch) > 0 {
		if cur == nil || !matches(cond.IfMatch, cur.ETag) {
			return false
		}
	}
	if len(cond.IfNoneMatch) > 0 && cur != nil && matches(cond.IfNoneMatch, cur.ETag) {
		return false
	}
	return true
}

func matches(tags []string, etag string) bool {
	for _, t := range tags {
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
