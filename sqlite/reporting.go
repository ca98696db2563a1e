package sqlite

// Compliance reporting (package reporting) on SQLite: *DB implements
// reporting.Store.
//
//   - The catalog (modules, rules, campaigns, exemptions) is JSON in
//     rp_catalog, one row per entry; reference checks run inside the
//     writer's transaction, so they are atomic with the write.
//   - The roster is rp_roster, rows that are never edited except to mark
//     them superseded: an import is one writer job that reads the current
//     rows it needs (a partial import: only those of what it lists, from
//     the cache below or through the indexes), plans with
//     reporting.PlanImport and applies the plan, all in one transaction
//     (reporting_roster.go).
//   - The projection is packed per agent (reporting_facts.go): reports read
//     a few chunk rows per person instead of one row per statement, which
//     is what lets the whole-organisation report read millions of facts in
//     seconds through database/sql. Commit (ingest.Store) writes statements,
//     their projection and their activity definitions in one transaction.
//
// Beside the database, each DB keeps in memory what every report needs and
// only this process changes (SQLite has one writer process): the current
// roster of each tenant (checked against the latest import id on each
// read, advanced by each import's plan, copying only what the import
// touched), the agents with facts, the
// retractions, the activity sets and, within a byte budget, the encoded
// facts of the agents reports read (reporting_cache.go). They load on
// first use (WarmReporting loads all but the facts ahead). The roster
// cache notices imports by other processes (the CLI's) by the import id;
// the rebuilds and erasures of other processes change the facts epoch,
// which drops all of them (see checkEpoch). Facts appended by another
// process are not noticed: statements reach the projection only through
// the serving process.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"runtime"
	"sync"
	"weak"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/reporting"
)

var (
	_ reporting.Store = (*DB)(nil)
	_ ingest.Store    = (*DB)(nil)
)

// rpState is the reporting state of one open DB: statements prepared on
// the write connection (used only by writer jobs, which run one at a time)
// and the activity sets read so far (immutable once committed). It lives
// beside the DB, keyed weakly, so that the DB type needs no field for it.
type rpState struct {
	db weak.Pointer[DB]

	writeOnce sync.Once
	writeErr  error
	ws        *rpWriteStmts

	mu   sync.RWMutex
	sets map[int64][]string

	vmu   sync.Mutex
	voids map[string]map[uuid.UUID]int64 // tenant -> retractions; see retractions

	rmu    sync.Mutex
	roster map[string]*rosterCache // tenant -> current roster; see currentRows

	amu    sync.Mutex
	agents map[string]map[string]bool // tenant -> agents with facts; see withFacts

	facts *factCache // the agents' encoded facts; see reporting_cache.go

	emu       sync.Mutex
	epoch     string // the facts epoch last seen (see checkEpoch)
	epochSeen bool

	factBufs sync.Pool // of *factBufs
}

var rpStates sync.Map // weak.Pointer[DB] -> *rpState

func (db *DB) rp() *rpState {
	key := weak.Make(db)
	if s, ok := rpStates.Load(key); ok {
		return s.(*rpState)
	}
	st := &rpState{db: key, sets: map[int64][]string{}, voids: map[string]map[uuid.UUID]int64{},
		roster: map[string]*rosterCache{}, agents: map[string]map[string]bool{}}
	budget := db.opts.FactsCache
	if budget == 0 {
		budget = DefaultFactsCache
	}
	st.facts = newFactCache(budget) // off when negative
	st.factBufs.New = func() any { return &factBufs{need: map[int64]bool{}} }
	s, loaded := rpStates.LoadOrStore(key, st)
	if !loaded {
		runtime.AddCleanup(db, func(k weak.Pointer[DB]) { rpStates.Delete(k) }, key)
	}
	return s.(*rpState)
}

// catalog kinds in rp_catalog.
const (
	kindModule    = "module"
	kindRule      = "rule"
	kindCampaign  = "campaign"
	kindExemption = "exemption"
)

// putCatalog writes one catalog entry after check (run in the
// transaction) succeeds.
func (db *DB) putCatalog(ctx context.Context, tenant, kind, id string, v any, check func(tx *wtx) error) error {
	b, err := json.Marshal(v)
	if err != nil {
		return errs.Wrap(err, "sqlite: encoding a catalog entry")
	}
	return db.w.do(ctx, 1, check, func(tx *wtx) error {
		_, err := tx.conn.ExecContext(context.Background(), `INSERT INTO rp_catalog (tenant, kind, id, json)
			VALUES (?, ?, ?, ?) ON CONFLICT (tenant, kind, id) DO UPDATE SET json = excluded.json`, tenant, kind, id, b)
		return err
	})
}

// deleteCatalog deletes one catalog entry after check succeeds; a missing
// entry is an errs.NotFound error.
func (db *DB) deleteCatalog(ctx context.Context, tenant, kind, id string, check func(tx *wtx) error) error {
	return db.w.do(ctx, 1, func(tx *wtx) error {
		var n int
		err := tx.conn.QueryRowContext(context.Background(), `SELECT count(*) FROM rp_catalog
			WHERE tenant = ? AND kind = ? AND id = ?`, tenant, kind, id).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			return errs.E(errs.NotFound, "no %s %q", kind, id)
		}
		if check != nil {
			return check(tx)
		}
		return nil
	}, func(tx *wtx) error {
		_, err := tx.conn.ExecContext(context.Background(), `DELETE FROM rp_catalog WHERE tenant = ? AND kind = ? AND id = ?`, tenant, kind, id)
		return err
	})
}

// modulesExist returns an errs.Invalid error naming the first of ids not
// in the catalog, read inside the writer's transaction.
func (tx *wtx) modulesExist(tenant string, ids []string) error {
	for _, id := range ids {
		var n int
		err := tx.conn.QueryRowContext(context.Background(), `SELECT count(*) FROM rp_catalog
			WHERE tenant = ? AND kind = 'module' AND id = ?`, tenant, id).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			return errs.Invalidf("modules", "unknown-module", "module %q is not in the catalog", id)
		}
	}
	return nil
}

// PutModule creates or replaces a module.
func (db *DB) PutModule(ctx context.Context, tenant string, m *reporting.Module) error {
	return db.putCatalog(ctx, tenant, kindModule, m.ID, m, nil)
}

// DeleteModule deletes a module no rule, campaign or exemption names.
func (db *DB) DeleteModule(ctx context.Context, tenant, id string) error {
	return db.deleteCatalog(ctx, tenant, kindModule, id, func(tx *wtx) error {
		cat, err := db.catalog(ctx, tx.conn, tenant)
		if err != nil {
			return err
		}
		if refs := cat.References(id); len(refs) > 0 {
			return errs.E(errs.Conflict, "module %q is required by %v; change those first", id, refs)
		}
		return nil
	})
}

// PutRule creates or replaces a rule whose modules are in the catalog.
func (db *DB) PutRule(ctx context.Context, tenant string, r *reporting.Rule) error {
	return db.putCatalog(ctx, tenant, kindRule, r.ID, r, func(tx *wtx) error { return tx.modulesExist(tenant, r.Modules) })
}

// DeleteRule deletes a rule.
func (db *DB) DeleteRule(ctx context.Context, tenant, id string) error {
	return db.deleteCatalog(ctx, tenant, kindRule, id, nil)
}

// PutCampaign creates or replaces a campaign whose modules are in the
// catalog.
func (db *DB) PutCampaign(ctx context.Context, tenant string, c *reporting.Campaign) error {
	return db.putCatalog(ctx, tenant, kindCampaign, c.ID, c, func(tx *wtx) error { return tx.modulesExist(tenant, c.Modules) })
}

// DeleteCampaign deletes a campaign.
func (db *DB) DeleteCampaign(ctx context.Context, tenant, id string) error {
	return db.deleteCatalog(ctx, tenant, kindCampaign, id, nil)
}

// PutExemption creates or replaces an exemption whose module is in the
// catalog.
func (db *DB) PutExemption(ctx context.Context, tenant string, e *reporting.Exemption) error {
	return db.putCatalog(ctx, tenant, kindExemption, e.ID, e, func(tx *wtx) error {
		if err := tx.modulesExist(tenant, []string{e.Module}); err != nil {
			return errs.Invalidf("module", "unknown-module", "module %q is not in the catalog", e.Module)
		}
		return nil
	})
}

// DeleteExemption deletes an exemption.
func (db *DB) DeleteExemption(ctx context.Context, tenant, id string) error {
	return db.deleteCatalog(ctx, tenant, kindExemption, id, nil)
}

// Catalog returns the catalog of tenant.
func (db *DB) Catalog(ctx context.Context, tenant string) (*reporting.Catalog, error) {
	return db.catalog(ctx, nil, tenant)
}

// catalog reads the catalog through the read pool, or on conn (the write
// connection, inside a job) when not nil.
func (db *DB) catalog(ctx context.Context, conn *sql.Conn, tenant string) (*reporting.Catalog, error) {
	const q = `SELECT kind, json FROM rp_catalog WHERE tenant = ? ORDER BY kind, id`
	var (
		rows *sql.Rows
		err  error
	)
	if conn != nil {
		rows, err = conn.QueryContext(context.Background(), q, tenant)
	} else {
		var s *sql.Stmt
		if s, err = db.stmt(ctx, q); err == nil {
			rows, err = s.QueryContext(ctx, tenant)
		}
	}
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: catalog")
	}
	defer rows.Close()
	cat := &reporting.Catalog{Modules: []*reporting.Module{}, Rules: []*reporting.Rule{},
		Campaigns: []*reporting.Campaign{}, Exemptions: []*reporting.Exemption{}}
	for rows.Next() {
		var kind string
		var b []byte
		if err := rows.Scan(&kind, &b); err != nil {
			return nil, errs.Wrap(err, "sqlite: catalog")
		}
		switch kind {
		case kindModule:
			err = decodeInto(b, &cat.Modules)
		case kindRule:
			err = decodeInto(b, &cat.Rules)
		case kindCampaign:
			err = decodeInto(b, &cat.Campaigns)
		case kindExemption:
			err = decodeInto(b, &cat.Exemptions)
		default:
			err = errors.New("unknown kind " + kind)
		}
		if err != nil {
			return nil, errs.Wrap(err, "sqlite: catalog entry")
		}
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: catalog")
	}
	return cat, nil
}

// decodeInto decodes a JSON object and appends it to *list.
func decodeInto[T any](b []byte, list *[]*T) error {
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

// WarmReporting loads what the reports of tenant keep in memory (the
// current roster, also by person, the agents with facts, the
// retractions), so that the first report after the database is opened is
// as quick as the next ones, and so is the first partial roster import:
// for 55,000 people this takes a second or two, which the service can
// spend in the background at start.
func (db *DB) WarmReporting(ctx context.Context, tenant string) error {
	c, err := db.currentRows(ctx, tenant)
	if err != nil {
		return err
	}
	c.index() // for the first filtered report and the first partial import
	st := db.rp()
	if _, err := st.withFacts(ctx, tenant); err != nil {
		return err
	}
	_, err = st.retractions(ctx, tenant)
	return err
}
