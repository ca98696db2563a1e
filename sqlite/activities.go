package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"slices"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// Canonical activity definitions live in table activities as JSON (see
// schema.go), one row per (tenant, activity id).

var _ statements.ActivityStore = (*DB)(nil)

// MergeActivities merges each definition into the stored canonical
// definition of its activity (statements.MergeDefinition). Definitions that
// change nothing are found on a read connection and cost no write; the
// others are merged again and written in one job of the writer, whose
// transaction makes each read-merge-write atomic. An empty definition
// defines nothing and is skipped.
func (db *DB) MergeActivities(ctx context.Context, tenant string, defs map[string]map[string]any) error {
	var changed []string
	for _, id := range slices.Sorted(maps.Keys(defs)) {
		if len(defs[id]) == 0 {
			continue
		}
		old, oldJSON, err := db.activity(ctx, nil, tenant, id)
		if err != nil {
			return err
		}
		merged, err := json.Marshal(statements.MergeDefinition(old, defs[id]))
		if err != nil {
			return errs.Wrap(err, "sqlite: encoding an activity definition")
		}
		if !bytes.Equal(merged, oldJSON) {
			changed = append(changed, id)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	return db.w.do(ctx, 1, nil, func(tx *wtx) error {
		for _, id := range changed {
			old, oldJSON, err := db.activity(ctx, tx, tenant, id)
			if err != nil {
				return err
			}
			merged, err := json.Marshal(statements.MergeDefinition(old, defs[id]))
			if err != nil {
				return err
			}
			if bytes.Equal(merged, oldJSON) {
				continue
			}
			if _, err := tx.conn.ExecContext(context.Background(), `INSERT INTO activities (tenant, id, definition)
				VALUES (?, ?, ?) ON CONFLICT (tenant, id) DO UPDATE SET definition = excluded.definition`,
				tenant, id, merged); err != nil {
				return err
			}
		}
		return nil
	})
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
