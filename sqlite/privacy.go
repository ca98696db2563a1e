package sqlite

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reporting"
)

var _ privacy.AccessLog = (*DB)(nil)

// AppendAccess stores the entries in one write: each entry's row, and its
// subject set unless the tenant has it already.
func (db *DB) AppendAccess(ctx context.Context, entries []*privacy.Access) error {
	type row struct {
		e        *privacy.Access
		id       string
		blob     []byte
		n        int
		subjects string
	}
	rows := make([]row, len(entries))
	for i, e := range entries {
		id, blob, n := privacy.EncodeSubjects(e.Tenant, e.Subjects)
		rows[i] = row{e: e, id: id, blob: blob, n: n}
	}
	return db.w.do(ctx, len(entries), nil, func(tx *wtx) error {
		ctx := context.Background()
		for _, r := range rows {
			if _, err := tx.conn.ExecContext(ctx, `INSERT OR IGNORE INTO access_sets (tenant, id, n, members) VALUES (?, ?, ?, ?)`,
				r.e.Tenant, r.id, r.n, r.blob); err != nil {
				return err
			}
			if _, err := tx.conn.ExecContext(ctx, `INSERT INTO access_log (tenant, time, actor, actor_kind, what, subjects, count)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, r.e.Tenant, r.e.Time.UnixNano(), r.e.Actor, r.e.ActorKind, r.e.What, r.id, r.e.Count); err != nil {
				return err
			}
		}
		return nil
	})
}

// AccessesAbout returns the entries of a tenant naming one of subjects:
// the tenant's subject sets are read and matched in Go (most are small and
// rejected by a substring test), then the entries naming the matching
// sets are read by the index on (tenant, subjects).
func (db *DB) AccessesAbout(ctx context.Context, tenant string, subjects []string, since time.Time, limit int) ([]*privacy.Access, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, n, members FROM access_sets WHERE tenant = ?`, tenant)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: access log")
	}
	type match struct {
		subjects []string
		n        int
	}
	sets := map[string]match{}
	for rows.Next() {
		var id string
		var n int
		var blob []byte
		if err := rows.Scan(&id, &n, &blob); err != nil {
			rows.Close()
			return nil, errs.Wrap(err, "sqlite: access log")
		}
		m, err := privacy.MatchSubjects(blob, subjects)
		if err != nil {
			rows.Close()
			return nil, err
		}
		if len(m) > 0 {
			sets[id] = match{m, n}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: access log")
	}
	if len(sets) == 0 {
		return []*privacy.Access{}, nil
	}
	ids := make([]any, 0, len(sets)+3)
	ids = append(ids, tenant, nullTime(since))
	for id := range sets {
		ids = append(ids, id)
	}
	ids = append(ids, limit)
	q := `SELECT time, actor, actor_kind, what, subjects, count FROM access_log
		WHERE tenant = ? AND time >= ? AND subjects IN (?` + strings.Repeat(", ?", len(sets)-1) + `)
		ORDER BY time, seq LIMIT ?`
	rows, err = db.read.QueryContext(ctx, q, ids...)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: access log")
	}
	defer rows.Close()
	out := []*privacy.Access{}
	for rows.Next() {
		e := &privacy.Access{Tenant: tenant}
		var t int64
		var set string
		if err := rows.Scan(&t, &e.Actor, &e.ActorKind, &e.What, &set, &e.Count); err != nil {
			return nil, errs.Wrap(err, "sqlite: access log")
		}
		e.Time = time.Unix(0, t).UTC()
		e.Subjects, e.Total = sets[set].subjects, sets[set].n
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: access log")
	}
	return out, nil
}

// PruneAccess deletes the entries of a tenant older than before, and the
// sets no entry names any more.
func (db *DB) PruneAccess(ctx context.Context, tenant string, before time.Time, dryRun bool) (int, error) {
	if dryRun {
		var n int
		err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM access_log WHERE tenant = ? AND time < ?`,
			tenant, before.UnixNano()).Scan(&n)
		return n, wrapErr(err, "sqlite: access log")
	}
	var n int64
	err := db.w.do(ctx, 1, nil, func(tx *wtx) error {
		ctx := context.Background()
		res, err := tx.conn.ExecContext(ctx, `DELETE FROM access_log WHERE tenant = ? AND time < ?`, tenant, before.UnixNano())
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = tx.conn.ExecContext(ctx, `DELETE FROM access_sets WHERE tenant = ? AND NOT EXISTS
			(SELECT 1 FROM access_log l WHERE l.tenant = access_sets.tenant AND l.subjects = access_sets.id)`, tenant)
		return err
	})
	return int(n), wrapErr(err, "sqlite: pruning the access log")
}

// RewriteAccess replaces subjects and actors of a tenant's entries (see
// privacy.AccessLog): a changed set is stored under its new id and its
// entries moved to it.
func (db *DB) RewriteAccess(ctx context.Context, tenant string, subjects, actors map[string]string, dryRun bool) (int, error) {
	var changed int64
	err := db.change(ctx, dryRun, func(tx *wtx, ctx context.Context) error {
		changed = 0
		type set struct {
			id   string
			blob []byte
		}
		var sets []set
		err := func() error {
			rows, err := tx.conn.QueryContext(ctx, `SELECT id, members FROM access_sets WHERE tenant = ?`, tenant)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var s set
				if err := rows.Scan(&s.id, &s.blob); err != nil {
					return err
				}
				sets = append(sets, s)
			}
			return rows.Err()
		}()
		if err != nil {
			return err
		}
		for _, s := range sets {
			members, err := privacy.DecodeSubjects(s.blob)
			if err != nil {
				return err
			}
			members, ok := privacy.RewriteSubjects(members, subjects)
			if !ok {
				continue
			}
			id, blob, n := privacy.EncodeSubjects(tenant, members)
			if _, err := tx.conn.ExecContext(ctx, `DELETE FROM access_sets WHERE tenant = ? AND id = ?`, tenant, s.id); err != nil {
				return err
			}
			if _, err := tx.conn.ExecContext(ctx, `INSERT OR IGNORE INTO access_sets (tenant, id, n, members) VALUES (?, ?, ?, ?)`,
				tenant, id, n, blob); err != nil {
				return err
			}
			res, err := tx.conn.ExecContext(ctx, `UPDATE access_log SET subjects = ? WHERE tenant = ? AND subjects = ?`, id, tenant, s.id)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			changed += k
		}
		for from, to := range actors {
			res, err := tx.conn.ExecContext(ctx, `UPDATE access_log SET actor = ? WHERE tenant = ? AND actor = ?`, to, tenant, from)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			changed += k
		}
		return nil
	})
	return int(changed), wrapErr(err, "sqlite: rewriting the access log")
}

// nullTime is the Unix nanoseconds of t, 0 for the zero time.
func nullTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// wrapErr is errs.Wrap for an error that may be nil.
func wrapErr(err error, msg string) error {
	if err == nil {
		return nil
	}
	return errs.Wrap(err, msg)
}

// AgentDocumentKeys returns the keys of the tenant's documents (State and
// Agent Profile) whose agent is one of agents (match keys, see
// reporting.MatchKey). It reads the keys of every document with an agent
// in the tenant: an erasure or an export is rare.
func (db *DB) AgentDocumentKeys(ctx context.Context, tenant string, agents []string) ([]documents.Key, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT kind, activity, agent, registration, id FROM documents
		WHERE tenant = ? AND agent <> '' ORDER BY kind, activity, agent, registration, id`, tenant)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: documents of agents")
	}
	defer rows.Close()
	out := []documents.Key{}
	for rows.Next() {
		k := documents.Key{Tenant: tenant}
		if err := rows.Scan(&k.Kind, &k.ActivityID, &k.Agent, &k.Registration, &k.ID); err != nil {
			return nil, errs.Wrap(err, "sqlite: documents of agents")
		}
		if slices.Contains(agents, reporting.MatchKey(k.Agent)) {
			out = append(out, k)
		}
	}
	return out, wrapErr(rows.Err(), "sqlite: documents of agents")
}

// PurgeDocuments deletes the documents with the keys.
func (db *DB) PurgeDocuments(ctx context.Context, keys []documents.Key) error {
	return db.w.do(ctx, len(keys), nil, func(tx *wtx) error {
		for _, k := range keys {
			if _, err := tx.conn.ExecContext(context.Background(), `DELETE FROM documents
				WHERE tenant = ? AND kind = ? AND activity = ? AND agent = ? AND registration = ? AND id = ?`,
				k.Tenant, k.Kind, k.ActivityID, k.Agent, k.Registration, k.ID); err != nil {
				return err
			}
		}
		return nil
	})
}
