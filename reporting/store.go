package reporting

import (
	"context"
	"time"
)

// CatalogStore keeps the module catalog, the rules, the campaigns and the
// exemptions of each tenant. Put creates or replaces the entry with the
// same id (validated by the caller with Validate); Delete of a missing
// entry is an errs.NotFound error.
type CatalogStore interface {
	PutModule(ctx context.Context, tenant string, m *Module) error
	// DeleteModule fails with errs.Conflict while a rule, campaign or
	// exemption names the module.
	DeleteModule(ctx context.Context, tenant, id string) error
	// PutRule, PutCampaign and PutExemption fail with errs.Invalid when
	// they name a module not in the catalog.
	PutRule(ctx context.Context, tenant string, r *Rule) error
	DeleteRule(ctx context.Context, tenant, id string) error
	PutCampaign(ctx context.Context, tenant string, c *Campaign) error
	DeleteCampaign(ctx context.Context, tenant, id string) error
	PutExemption(ctx context.Context, tenant string, e *Exemption) error
	DeleteExemption(ctx context.Context, tenant, id string) error
	// Catalog returns everything, each list sorted by id (never nil
	// lists).
	Catalog(ctx context.Context, tenant string) (*Catalog, error)
}

// RosterFilter selects roster rows.
type RosterFilter struct {
	// KnownAt, when not zero, gives the roster as the LRS knew it then:
	// rows recorded by imports at or before KnownAt and not superseded by
	// then. Zero: the current rows.
	KnownAt time.Time
	// People, when not nil, keeps only the rows of these people (person,
	// member, role and ident rows with these keys).
	People []string
	// MembersOf, when not nil, keeps only the rows of people who have a
	// membership row (of any time) in one of these units.
	MembersOf []string
	// Holding, when not nil, keeps only the rows of people who have held
	// one of these identifiers (match keys, see MatchKey) at any time: an
	// ident row with the value. It finds the person a sign-in names.
	//
	// People, MembersOf and Holding select people: a person must pass
	// each one set, and unit rows are left out when any is set.
	Holding []string
	// UnitsOnly keeps only unit, parent and manager rows.
	UnitsOnly bool
}

// RosterStore keeps the roster of each tenant: rows over time, changed only
// by imports.
type RosterStore interface {
	// ImportRoster applies imp atomically: it plans it with PlanImport
	// against the current rows (today being the day of now in UTC; for a
	// partial import, only the rows imp.Scope() selects need be read) and
	// records the plan and an ImportRecord, whose ID (increasing per
	// tenant) the new rows carry. Concurrent imports of a tenant are
	// serialised. An import that changes nothing is recorded too.
	ImportRoster(ctx context.Context, tenant string, imp *Import, now time.Time) (*ImportRecord, error)
	// Imports lists the import records of a tenant, oldest first, without
	// their changes.
	Imports(ctx context.Context, tenant string) ([]*ImportRecord, error)
	// ImportRecord returns one import record with its changes, or an
	// errs.NotFound error.
	ImportRecord(ctx context.Context, tenant string, id int64) (*ImportRecord, error)
	// RosterRows returns the rows f selects, in no particular order. The
	// rows may be shared with other callers (stores may cache the current
	// roster): callers must not modify them.
	RosterRows(ctx context.Context, tenant string, f RosterFilter) ([]RosterRow, error)
}

// AgentFacts names an agent with facts.
type AgentFacts struct {
	Agent string
	Name  string // the latest name statements gave
}

// FactStore keeps the completion projection of each tenant.
type FactStore interface {
	// AddFacts stores facts (VoidedAt ignored). It is idempotent: adding
	// a fact whose (statement, agent) is stored already changes nothing
	// that Facts returns.
	AddFacts(ctx context.Context, tenant string, facts []Fact) error
	// RetractFacts records retractions: the facts of those statements,
	// stored already or added later (a voided statement may arrive after
	// the statement voiding it), read as voided at the retraction's Stored
	// (the earliest, if one is retracted twice).
	RetractFacts(ctx context.Context, tenant string, rs []Retraction) error
	// Facts calls fn once for each of the agents (MatchKeys) that has
	// facts, with all its facts, each (statement, agent) once, voided ones
	// included (VoidedAt set), in no particular order. The slice is valid
	// only during the call; fn must not keep it. A nil agents means every
	// agent of the tenant.
	Facts(ctx context.Context, tenant string, agents []string, fn func(agent string, facts []Fact) error) error
	// FactAgents lists every agent with facts, sorted by agent.
	FactAgents(ctx context.Context, tenant string) ([]AgentFacts, error)
	// ResetFacts deletes the projection of a tenant (facts and retractions)
	// before a rebuild.
	ResetFacts(ctx context.Context, tenant string) error
}

// Store is everything compliance reporting keeps: the configuration, the
// roster and the projection. A Store shares its database with the
// statements.Store whose statements it projects: the ingest writes
// statements and their projection together (ingest.Store's Commit). Every
// method is safe for concurrent use and isolates tenants.
// Implementations: package sqlite and package mongo; package storetest
// holds the contract tests.
//
// The interface asks nothing of a backend beyond finding, inserting and
// updating records by indexed fields: joins and aggregation happen in this
// package, in Go. A backend without transactions can apply an import by
// writing its new rows tagged with the import id, marking the superseded
// rows with it, and then committing the import record, readers ignoring
// rows and marks of uncommitted imports; facts are immutable records keyed
// by (statement, agent), and retractions are separate records, joined with
// the facts when they are read.
type Store interface {
	CatalogStore
	RosterStore
	FactStore
}
