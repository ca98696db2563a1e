package statements

import (
	"context"
	"time"
)

// Version is an xAPI version the LRS serves.
type Version string

const (
	V103 Version = "1.0.3"
	V200 Version = "2.0.0"
)

// Record is one statement as stored: the statement's JSON exactly as the LRS
// returns it (with id, stored, authority and version set) and the fields
// extracted from it for filtering. Every filter of the Statements resource is
// served from these fields.
type Record struct {
	Tenant string // the tenant the statement belongs to ("default" until tenants exist)
	ID     string // lowercase canonical UUID

	Stored    time.Time // set by the LRS when accepted (UTC)
	Timestamp time.Time // the statement's timestamp (UTC); equal to Stored when the client gave none
	Authority string    // key of the credential that wrote it (for statements/read/mine)

	VerbID       string
	Registration string // context.registration, lowercase; "" when none

	// Agents are the identifier keys (see AgentKey) matched by the agent
	// filter: the actor and, when the object is an Agent or Group, the object.
	Agents []string
	// RelatedAgents are the further keys matched only with
	// related_agents=true: authority, context instructor and team, context
	// agents and groups (2.0), group members, and the same inside a
	// SubStatement.
	RelatedAgents []string
	// Activities are the activity ids matched by the activity filter: the
	// object when it is an Activity.
	Activities []string
	// RelatedActivities are the further ids matched only with
	// related_activities=true: context activities (parent, grouping,
	// category, other) and the same inside a SubStatement.
	RelatedActivities []string

	// RefID is the id of the statement the object refers to when the object is
	// a StatementRef (voiding statements included); "" otherwise. A statement
	// that refers to another one also matches the filters its target matches
	// (xAPI "Filter Conditions for StatementRefs"); stores implement that.
	RefID string
	// Voids is RefID again when the verb is http://adlnet.gov/expapi/verbs/voided.
	Voids string
	// Voided is set by the store: true when a stored voiding statement targets
	// this one.
	Voided bool

	// Hash identifies the statement's content for the idempotency rule: a
	// statement posted again with the same id and the same Hash is a no-op, a
	// different Hash is a conflict. See ContentHash.
	Hash string
	// AttachmentHashes are the sha2 of attachments whose raw data the LRS holds
	// for this statement (those without fileUrl-only delivery).
	AttachmentHashes []string

	JSON []byte // the full statement as returned to clients
}

// Attachment is the raw content of one statement attachment, addressed by the
// SHA-256 of its bytes.
type Attachment struct {
	SHA2        string // lowercase hex
	ContentType string
	Data        []byte
}

// Query selects statements. The zero value of a filter field means "any".
type Query struct {
	Tenant            string
	Agent             string // an AgentKey
	Verb              string
	Activity          string
	Registration      string
	RelatedActivities bool
	RelatedAgents     bool
	Since             time.Time // stored strictly after Since
	Until             time.Time // stored at or before Until
	Limit             int       // > 0; the caller caps it
	Ascending         bool
	Authority         string // only statements with this Authority (statements/read/mine)
	// IncludeVoided returns voided statements too (Record.Voided set):
	// the access export and erasure of a person need them; the
	// Statements resource never sets it.
	IncludeVoided bool
	// Cursor continues an earlier query: the opaque value of Page.Cursor. The
	// caller passes the same filters again with it.
	Cursor string
}

// Page is one page of query results, voided statements excluded unless
// Query.IncludeVoided.
type Page struct {
	Records []*Record
	// Cursor is "" when there is nothing more, else an opaque value for
	// Query.Cursor. Paging stays correct while statements keep arriving:
	// statements stored after the first page was read never appear in later
	// pages of the same query and never shift it.
	Cursor string
}

// Store keeps statements and their attachments. Every method is safe for
// concurrent use. Implementations: package sqlite and package mongo; package
// storetest holds the contract tests both pass.
type Store interface {
	// Insert stores recs and atts durably and atomically: when it returns
	// nil, all of them survive a crash; when it fails, none is visible.
	// A record whose (Tenant, ID) is already stored with the same Hash is
	// skipped (idempotent retry); with a different Hash the whole call fails
	// with an errs.Conflict error. A record with Voids set marks its target
	// voided if the target is stored and is not itself a voiding statement;
	// a target stored later is marked voided when it arrives.
	// Concurrent callers should share commits (group commit) so that many
	// small inserts do not each pay for a durable commit.
	Insert(ctx context.Context, recs []*Record, atts []Attachment) error

	// Get returns the statement with the id, voided or not, or an
	// errs.NotFound error.
	Get(ctx context.Context, tenant, id string) (*Record, error)

	// Query returns one page of statements matching q, newest stored first
	// unless q.Ascending, voided statements excluded unless q.IncludeVoided.
	Query(ctx context.Context, q Query) (Page, error)

	// Attachments returns the stored attachments with the given hashes
	// (those it has; missing ones are left out).
	Attachments(ctx context.Context, tenant string, sha2s []string) ([]Attachment, error)

	// ConsistentThrough returns a time such that every statement stored at
	// or before it is visible to queries.
	ConsistentThrough(ctx context.Context) (time.Time, error)

	// Ping checks that the store is reachable and writable.
	Ping(ctx context.Context) error

	Close() error
}

// ActivityStore keeps the canonical definition of each activity the LRS has
// learned from statements (derived data: rebuildable from statements), served
// by the Activities resource.
type ActivityStore interface {
	// MergeActivities merges each definition into the stored canonical
	// definition of its activity id (see MergeDefinition), creating it when
	// new. defs maps activity id to the definition object of a statement.
	MergeActivities(ctx context.Context, tenant string, defs map[string]map[string]any) error
	// Activity returns the canonical definition of the activity (a JSON
	// object), or an errs.NotFound error when no statement defined it.
	Activity(ctx context.Context, tenant, id string) (map[string]any, error)
}
