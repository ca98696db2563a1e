package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// Canonical activity definitions live in table activities as JSON (see
// schema.go), one row per (tenant, activity id).

var _ statements.ActivityStore = (*DB)(nil)

// MergeActivities merges each definition into the stored canonical
// definition of its activity (statements.MergeDefinition), in one job of
// the writer, whose transaction makes each read-merge-write atomic.
// Definitions that change nothing cost no write, and, once the activity's
// definition is in the DB's cache, no read (changedDefinitions). An empty
// definition defines nothing and is skipped.
func (db *DB) MergeActivities(ctx context.Context, tenant string, defs map[string]map[string]any) error {
	m := db.changedDefinitions(tenant, defs)
	if m == nil {
		return nil
	}
	if err := db.w.do(ctx, 1, nil, m.apply); err != nil {
		return err
	}
	m.committed()
	return nil
}

// defMerge is the merge of a call's changed definitions into the stored
// ones, run by a writer job (apply) and then recorded in the cache
// (committed).
type defMerge struct {
	db     *DB
	tenant string
	ids    []string // sorted
	defs   map[string]map[string]any
	merged []map[string]any // by ids' index, set by apply
}

// changedDefinitions returns the merge of the definitions of defs that the
// cache does not know to be unchanged, nil if none is left. The cache is
// exact: only this process writes the activities table while it serves
// (SQLite has one writer), and it records every definition it reads or
// commits.
func (db *DB) changedDefinitions(tenant string, defs map[string]map[string]any) *defMerge {
	var m *defMerge
	for id, def := range defs {
		if len(def) == 0 || db.defs.Unchanged(tenant, id, def) {
			continue
		}
		if m == nil {
			m = &defMerge{db: db, tenant: tenant, defs: defs}
		}
		m.ids = append(m.ids, id)
	}
	if m != nil {
		slices.Sort(m.ids)
	}
	return m
}

// apply merges the definitions in the writer's transaction tx. A group
// that is run again runs it again, from the start.
func (m *defMerge) apply(tx *wtx) error {
	m.merged = make([]map[string]any, len(m.ids))
	for i, id := range m.ids {
		old, oldJSON, err := m.db.activity(context.Background(), tx, m.tenant, id)
		if err != nil {
			return err
		}
		merged := statements.MergeDefinition(old, m.defs[id])
		js, err := json.Marshal(merged)
		if err != nil {
			return errs.Wrap(err, "sqlite: encoding an activity definition")
		}
		m.merged[i] = merged
		if bytes.Equal(js, oldJSON) {
			continue
		}
		if _, err := tx.conn.ExecContext(context.Background(), `INSERT INTO activities (tenant, id, definition)
			VALUES (?, ?, ?) ON CONFLICT (tenant, id) DO UPDATE SET definition = excluded.definition`,
			m.tenant, id, js); err != nil {
			return err
		}
	}
	return nil
}

// committed records the definitions of a committed apply in the cache.
func (m *defMerge) committed() {
	for i, id := range m.ids {
		m.db.defs.Put(m.tenant, id, m.merged[i])
	}
}

// Activity returns the canonical definition of the activity, or an
// errs.NotFound error.
func (db *DB) Activity(ctx context.Context, tenant, id string) (map[string]any, error) {
	def, _, err := db.activity(ctx, nil, tenant, id)
	if err != nil {
		return nil, err
	}
	if def == nil {
		return nil, errs.E(errs.NotFound, "no statement has defined activity %s", id)
	}
	return def, nil
}

// activitySQL reads the stored definition of an activity.
const activitySQL = `SELECT definition FROM activities WHERE tenant = ? AND id = ?`

// activity reads the stored definition of an activity through the read
// pool, or through the write connection when tx is not nil: the decoded
// object and its JSON, both nil when there is none.
func (db *DB) activity(ctx context.Context, tx *wtx, tenant, id string) (map[string]any, []byte, error) {
	var row *sql.Row
	if tx != nil {
		// A job must not fail because its caller's context ended while
		// its group runs.
		row = tx.conn.QueryRowContext(context.Background(), activitySQL, tenant, id)
	} else {
		s, err := db.stmt(ctx, activitySQL)
		if err != nil {
			return nil, nil, errs.Wrap(err, "sqlite: activity")
		}
		row = s.QueryRowContext(ctx, tenant, id)
	}
	var raw []byte
	err := row.Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, errs.Wrap(err, "sqlite: activity")
	}
	v, err := statements.DecodeJSON(raw)
	def, ok := v.(map[string]any)
	if err == nil && !ok {
		err = errors.New("not a JSON object")
	}
	if err != nil {
		return nil, nil, errs.Wrap(err, "sqlite: stored definition of activity "+id)
	}
	return def, raw, nil
}
