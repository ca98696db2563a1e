package mongo

// Compliance reporting (package reporting) on MongoDB: *DB implements
// reporting.Store with finds, inserts and updates on indexed fields only;
// no transaction, no aggregation. Joins (facts with retractions, rows with
// import states) happen in Go.
//
//   - The catalog of a tenant (modules, rules, campaigns, exemptions) is
//     one JSON value kept as revisions in "rp_catalog" (see documents.go):
//     a write reads the current revision, checks the references against
//     it, and inserts the next one, which fails on the duplicate _id when
//     another writer got there first. A reference check and its write are
//     thus atomic, as in a transaction. The price: a write rewrites the
//     whole catalog, which must stay under maxCatalog (12 MiB of JSON,
//     some 50,000 exemptions).
//   - The roster is rows in "rp_roster" tagged with the import that
//     recorded them (r) and the import that superseded them (x), applied
//     without transactions by import records with a commit point
//     (reporting_roster.go).
//   - The projection is immutable facts in "rp_facts", one per (tenant,
//     statement, agent) with that as its _id, retractions in
//     "rp_retractions", joined with the facts when they are read, and the
//     latest name of each agent in "rp_agents" (reporting_facts.go).
//     Commit (ingest.Store) commits the statements (Insert), then writes
//     their projection and definitions: a crash in between leaves the
//     statements stored without them until a retry of the request or a
//     rebuild.
//
// Correctness rests on unique _ids. On a sharded cluster, where _id is
// unique per shard only, shard rp_catalog on {k: "hashed"} (a key's
// revisions share a shard), rp_imports and rp_agents on {_id: "hashed"},
// rp_facts on {t, g} and rp_retractions on {t, s} (their _ids hold those
// fields, so a document added twice meets itself on one shard). The _ids of rp_roster rows are unique by
// construction (an import id is claimed once): shard it on {t, k}.

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/reporting"
)

var (
	_ reporting.Store = (*DB)(nil)
	_ ingest.Store    = (*DB)(nil)
)

// Collections of compliance reporting.
const (
	collCatalog       = "rp_catalog"
	collRoster        = "rp_roster"
	collImports       = "rp_imports"
	collImportChanges = "rp_import_changes"
	collFacts         = "rp_facts"
	collRetractions   = "rp_retractions"
	collAgents        = "rp_agents"
)

// catalogRev is one revision of a tenant's catalog.
type catalogRev struct {
	Rev    rev    `bson:",inline"`
	Tenant string `bson:"t"`
	JSON   []byte `bson:"j"` // reporting.Catalog as JSON
}

func (r *catalogRev) revision() *rev { return &r.Rev }

func catalogKey(tenant string) string { return hashID("catalog", tenant) }

// maxCatalog bounds the JSON of a catalog, below MongoDB's 16 MiB limit of
// a document (some 50,000 exemptions).
const maxCatalog = 12 << 20

// decodeCatalog returns the catalog of revision r (an empty one when r is
// nil), with non-nil lists.
func decodeCatalog(r *catalogRev) (*reporting.Catalog, error) {
	cat := &reporting.Catalog{}
	if r != nil {
		if err := json.Unmarshal(r.JSON, cat); err != nil {
			return nil, errs.Wrap(err, "mongo: decoding the catalog")
		}
	}
	if cat.Modules == nil {
		cat.Modules = []*reporting.Module{}
	}
	if cat.Rules == nil {
		cat.Rules = []*reporting.Rule{}
	}
	if cat.Campaigns == nil {
		cat.Campaigns = []*reporting.Campaign{}
	}
	if cat.Exemptions == nil {
		cat.Exemptions = []*reporting.Exemption{}
	}
	return cat, nil
}

// editCatalog applies edit to the current catalog of tenant and writes
// the result as the next revision, unless it is unchanged. An error from
// edit fails the call and writes nothing.
func (db *DB) editCatalog(ctx context.Context, tenant string, edit func(cat *reporting.Catalog) error) error {
	return revise(ctx, db, collCatalog, catalogKey(tenant), nil, func(cur *catalogRev) (*catalogRev, error) {
		cat, err := decodeCatalog(cur)
		if err != nil {
			return nil, err
		}
		if err := edit(cat); err != nil {
			return nil, err
		}
		b, err := json.Marshal(cat)
		if err != nil {
			return nil, errs.Wrap(err, "mongo: encoding the catalog")
		}
		if cur != nil && bytes.Equal(b, cur.JSON) {
			return nil, nil
		}
		if len(b) > maxCatalog {
			return nil, errs.E(errs.TooLarge, "the catalog would exceed %d MiB; remove entries no longer needed (e.g. ended exemptions)", maxCatalog>>20)
		}
		return &catalogRev{Tenant: tenant, JSON: b}, nil
	})
}

// putEntry replaces the entry of list with e's id, or inserts e in id
// order.
func putEntry[T any](list []*T, id func(*T) string, e *T) []*T {
	i, found := slices.BinarySearchFunc(list, id(e), func(x *T, k string) int { return strings.Compare(id(x), k) })
	if found {
		list[i] = e
		return list
	}
	return slices.Insert(list, i, e)
}

// deleteEntry removes the entry with id key from list; a missing one is
// an errs.NotFound error.
func deleteEntry[T any](list []*T, id func(*T) string, what, key string) ([]*T, error) {
	i, found := slices.BinarySearchFunc(list, key, func(x *T, k string) int { return strings.Compare(id(x), k) })
	if !found {
		return nil, errs.E(errs.NotFound, "no %s %q", what, key)
	}
	return slices.Delete(list, i, i+1), nil
}

func moduleID(m *reporting.Module) string       { return m.ID }
func ruleID(r *reporting.Rule) string           { return r.ID }
func campaignID(c *reporting.Campaign) string   { return c.ID }
func exemptionID(e *reporting.Exemption) string { return e.ID }

// modulesExist returns an errs.Invalid error naming the first of ids not in
// cat.
func modulesExist(cat *reporting.Catalog, path string, ids []string) error {
	for _, id := range ids {
		if cat.Module(id) == nil {
			return errs.Invalidf(path, "unknown-module", "module %q is not in the catalog", id)
		}
	}
	return nil
}

// PutModule creates or replaces a module.
func (db *DB) PutModule(ctx context.Context, tenant string, m *reporting.Module) error {
	return db.editCatalog(ctx, tenant, func(cat *reporting.Catalog) error {
		cat.Modules = putEntry(cat.Modules, moduleID, m)
		return nil
	})
}

// DeleteModule deletes a module no rule, campaign or exemption names.
func (db *DB) DeleteModule(ctx context.Context, tenant, id string) error {
	return db.editCatalog(ctx, tenant, func(cat *reporting.Catalog) error {
		if cat.Module(id) == nil {
			return errs.E(errs.NotFound, "no module %q", id)
		}
		if refs := cat.References(id); len(refs) > 0 {
			return errs.E(errs.Conflict, "module %q is required by %v; change those first", id, refs)
		}
		var err error
		cat.Modules, err = deleteEntry(cat.Modules, moduleID, "module", id)
		return err
	})
}

// PutRule creates or replaces a rule whose modules are in the catalog.
func (db *DB) PutRule(ctx context.Context, tenant string, r *reporting.Rule) error {
	return db.editCatalog(ctx, tenant, func(cat *reporting.Catalog) error {
		if err := modulesExist(cat, "modules", r.Modules); err != nil {
			return err
		}
		cat.Rules = putEntry(cat.Rules, ruleID, r)
		return nil
	})
}

// DeleteRule deletes a rule.
func (db *DB) DeleteRule(ctx context.Context, tenant, id string) error {
	return db.editCatalog(ctx, tenant, func(cat *reporting.Catalog) error {
		var err error
		cat.Rules, err = deleteEntry(cat.Rules, ruleID, "rule", id)
		return err
	})
}

// PutCampaign creates or replaces a campaign whose modules are in the
// catalog.
func (db *DB) PutCampaign(ctx context.Context, tenant string, c *reporting.Campaign) error {
	return db.editCatalog(ctx, tenant, func(cat *reporting.Catalog) error {
		if err := modulesExist(cat, "modules", c.Modules); err != nil {
			return err
		}
		cat.Campaigns = putEntry(cat.Campaigns, campaignID, c)
		return nil
	})
}

// DeleteCampaign deletes a campaign.
func (db *DB) DeleteCampaign(ctx context.Context, tenant, id string) error {
	return db.editCatalog(ctx, tenant, func(cat *reporting.Catalog) error {
		var err error
		cat.Campaigns, err = deleteEntry(cat.Campaigns, campaignID, "campaign", id)
		return err
	})
}

// PutExemption creates or replaces an exemption whose module is in the
// catalog.
func (db *DB) PutExemption(ctx context.Context, tenant string, e *reporting.Exemption) error {
	return db.editCatalog(ctx, tenant, func(cat *reporting.Catalog) error {
		if err := modulesExist(cat, "module", []string{e.Module}); err != nil {
			return err
		}
		cat.Exemptions = putEntry(cat.Exemptions, exemptionID, e)
		return nil
	})
}

// DeleteExemption deletes an exemption.
func (db *DB) DeleteExemption(ctx context.Context, tenant, id string) error {
	return db.editCatalog(ctx, tenant, func(cat *reporting.Catalog) error {
		var err error
		cat.Exemptions, err = deleteEntry(cat.Exemptions, exemptionID, "exemption", id)
		return err
	})
}

// Catalog returns the catalog of tenant: one read of its current revision.
func (db *DB) Catalog(ctx context.Context, tenant string) (*reporting.Catalog, error) {
	r, err := current[catalogRev](ctx, db.db.Collection(collCatalog), catalogKey(tenant))
	if err != nil {
		return nil, err
	}
	return decodeCatalog(r)
}
