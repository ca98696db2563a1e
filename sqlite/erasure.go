package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reporting"
)

// The erasure of a person (package privacy, ErasureStore). Each method is
// one write transaction; a dry run runs the same writes inside a
// savepoint that is rolled back (change), so that it counts exactly what
// the real run changes.

var _ privacy.ErasureStore = (*DB)(nil)

// errDryRun ends a dry run's job: a client error, so that it fails the
// job alone, after its savepoint is rolled back.
var errDryRun = &errs.Error{Kind: errs.Conflict, Message: "dry run"}

// change runs fn in the writer's transaction, or with dryRun inside a
// savepoint rolled back afterwards.
func (db *DB) change(ctx context.Context, dryRun bool, fn func(tx *wtx, ctx context.Context) error) error {
	bg := context.Background()
	if !dryRun {
		return db.w.do(ctx, 1, nil, func(tx *wtx) error { return fn(tx, bg) })
	}
	err := db.w.do(ctx, 1, func(tx *wtx) error {
		if _, err := tx.conn.ExecContext(bg, `SAVEPOINT dry_run`); err != nil {
			return err
		}
		err := fn(tx, bg)
		_, rb := tx.conn.ExecContext(bg, `ROLLBACK TO dry_run`)
		_, rel := tx.conn.ExecContext(bg, `RELEASE dry_run`)
		if err := errors.Join(err, rb, rel); err != nil {
			return err
		}
		return errDryRun
	}, func(*wtx) error { return nil })
	if err == errDryRun {
		return nil
	}
	return err
}

// PseudonymKey returns the tenant's pseudonym key, made on first use.
func (db *DB) PseudonymKey(ctx context.Context, tenant string) ([]byte, error) {
	var key []byte
	err := db.read.QueryRowContext(ctx, `SELECT key FROM privacy_keys WHERE tenant = ?`, tenant).Scan(&key)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, errs.Wrap(err, "sqlite: pseudonym key")
	}
	fresh := make([]byte, 32)
	rand.Read(fresh)
	err = db.w.do(ctx, 1, nil, func(tx *wtx) error {
		bg := context.Background()
		if _, err := tx.conn.ExecContext(bg, `INSERT OR IGNORE INTO privacy_keys (tenant, key) VALUES (?, ?)`, tenant, fresh); err != nil {
			return err
		}
		return tx.conn.QueryRowContext(bg, `SELECT key FROM privacy_keys WHERE tenant = ?`, tenant).Scan(&key)
	})
	return key, wrapErr(err, "sqlite: pseudonym key")
}

// keepSeq keeps the highest seq in use at maxSeq after statements were
// deleted: SQLite gives a new row the highest seq plus one, so that
// deleting the newest statement would give its seq to the next one, and a
// query's cursor, which pages through the statements up to the highest
// seq when the query began (cursor.maxSeq), would then take in a statement
// stored after it began. The place is held by a row of no tenant (every
// read of statements names its tenant), which replaces the one an earlier
// deletion left.
func keepSeq(tx *wtx, ctx context.Context, maxSeq int64) error {
	var now int64
	if err := tx.conn.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM statements`).Scan(&now); err != nil {
		return err
	}
	if now >= maxSeq {
		return nil
	}
	if _, err := tx.conn.ExecContext(ctx, `DELETE FROM statements WHERE tenant = ''`); err != nil {
		return err
	}
	_, err := tx.conn.ExecContext(ctx, `INSERT INTO statements (seq, tenant, id, stored, timestamp, authority, verb,
		registration, ref_id, voids, hash, json) VALUES (?, '', 'highest-seq', 0, '', '', '', '', '', '', '', x'')`, maxSeq)
	return err
}

// stmtRowQuery reads a statement's row as scanStmtRow(…, true) wants it.
const stmtRowQuery = `SELECT seq, id, stored, voids, verb, registration, authority, agents, related_agents,
	activities, related_activities, inherited FROM statements`

// EditStatements applies the edits and replaces the agent keys in the
// index fields of every statement naming one (found by their facets,
// inherited ones included), each statement's facet rows rewritten.
func (db *DB) EditStatements(ctx context.Context, tenant string, edits []privacy.StatementEdit, agents map[string]string) (int, int, error) {
	var natts, nrefs int
	err := db.change(ctx, false, func(tx *wtx, ctx context.Context) error {
		natts, nrefs = 0, 0
		edited := map[string]bool{}
		var hashes []string
		var maxSeq int64
		if err := tx.conn.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM statements`).Scan(&maxSeq); err != nil {
			return err
		}
		for _, ed := range edits {
			edited[ed.ID] = true
			hashes = append(hashes, ed.Attachments...)
			row, err := scanStmtRow(tx.conn.QueryRowContext(ctx, stmtRowQuery+` WHERE tenant = ? AND id = ?`, tenant, ed.ID), true)
			if errors.Is(err, sql.ErrNoRows) {
				continue // deleted by an earlier run
			}
			if err != nil {
				return err
			}
			drop := row.own
			if ed.Record == nil {
				drop = append(slices.Clone(row.own), row.inherited...)
			}
			if err := deleteFacetRows(tx, ctx, tenant, row, drop); err != nil {
				return err
			}
			if ed.Record == nil {
				if _, err := tx.conn.ExecContext(ctx, `DELETE FROM statements WHERE seq = ?`, row.seq); err != nil {
					return err
				}
				continue
			}
			r := ed.Record
			if _, err := tx.conn.ExecContext(ctx, `UPDATE statements SET json = ?, hash = ?, verb = ?, registration = ?,
				agents = ?, related_agents = ?, activities = ?, related_activities = ?, attachment_hashes = ? WHERE seq = ?`,
				r.JSON, r.Hash, r.VerbID, r.Registration, marshalList(r.Agents), marshalList(r.RelatedAgents),
				marshalList(r.Activities), marshalList(r.RelatedActivities), marshalList(r.AttachmentHashes), row.seq); err != nil {
				return err
			}
			tx.addFacets(tenant, row.stored, row.seq,
				ownFacets(r.Agents, r.RelatedAgents, r.Activities, r.RelatedActivities, r.VerbID, r.Registration, r.Authority))
		}
		if err := tx.flushFacets(); err != nil {
			return err
		}
		if err := keepSeq(tx, ctx, maxSeq); err != nil {
			return err
		}
		var err error
		if natts, err = deleteUnusedAttachments(tx, ctx, tenant, hashes); err != nil {
			return err
		}
		// The statements whose own or inherited index names an old key.
		for old := range agents {
			for _, kind := range []int{kindAgent, kindAgentRelated} {
				seqs, err := facetSeqs(tx, ctx, tenant, facet{kind, old})
				if err != nil {
					return err
				}
				for _, seq := range seqs {
					ok, id, err := remapStatement(tx, ctx, tenant, seq, agents)
					if err != nil {
						return err
					}
					if ok && !edited[id] {
						nrefs++
					}
				}
			}
		}
		return tx.flushFacets()
	})
	return natts, nrefs, wrapErr(err, "sqlite: erasing statements")
}

// facetSeqs returns the statements of the tenant with the facet.
func facetSeqs(tx *wtx, ctx context.Context, tenant string, f facet) ([]int64, error) {
	rows, err := tx.conn.QueryContext(ctx, `SELECT seq FROM facets WHERE key = ?`, facetKey(tenant, f))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var s int64
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// deleteFacetRows deletes the facet rows of a statement for fs.
func deleteFacetRows(tx *wtx, ctx context.Context, tenant string, row *stmtRow, fs facets) error {
	for _, f := range fs {
		if _, err := tx.conn.ExecContext(ctx, `DELETE FROM facets WHERE key = ? AND stored = ? AND seq = ?`,
			facetKey(tenant, f), row.stored, row.seq); err != nil {
			return err
		}
	}
	return nil
}

// remapStatement replaces the agent keys of m in the agent lists and
// inherited facets of statement seq (of the tenant: facet keys of
// another tenant may collide) and its facet rows, and reports whether it
// changed.
func remapStatement(tx *wtx, ctx context.Context, tenant string, seq int64, m map[string]string) (bool, string, error) {
	var agents, related, inherited sql.NullString
	var id string
	var stored int64
	var verb, reg, authority string
	var acts, relActs sql.NullString
	err := tx.conn.QueryRowContext(ctx, `SELECT id, stored, verb, registration, authority, agents, related_agents, activities,
		related_activities, inherited FROM statements WHERE seq = ? AND tenant = ?`, seq, tenant).Scan(&id, &stored, &verb, &reg,
		&authority, &agents, &related, &acts, &relActs, &inherited)
	if errors.Is(err, sql.ErrNoRows) {
		return false, "", nil
	}
	if err != nil {
		return false, "", err
	}
	var la, lr, lc, lrc []string
	for _, x := range []struct {
		s   sql.NullString
		dst *[]string
	}{{agents, &la}, {related, &lr}, {acts, &lc}, {relActs, &lrc}} {
		if err := unmarshalList(x.s, x.dst); err != nil {
			return false, "", err
		}
	}
	in, err := unmarshalFacets(inherited)
	if err != nil {
		return false, "", err
	}
	na, ca := remapList(la, m)
	nr, cr := remapList(lr, m)
	nr = slices.DeleteFunc(nr, func(s string) bool { return slices.Contains(na, s) })
	var nin facets
	ci := false
	for _, f := range in {
		if v, ok := m[f.value]; ok && (f.kind == kindAgent || f.kind == kindAgentRelated) {
			f.value, ci = v, true
		}
		if !nin.has(f) {
			nin = append(nin, f)
		}
	}
	if !ca && !cr && !ci {
		return false, id, nil
	}
	row := &stmtRow{seq: seq, stored: stored}
	oldOwn := ownFacets(la, lr, lc, lrc, verb, reg, authority)
	if err := deleteFacetRows(tx, ctx, tenant, row, append(oldOwn, in...)); err != nil {
		return false, "", err
	}
	if _, err := tx.conn.ExecContext(ctx, `UPDATE statements SET agents = ?, related_agents = ?, inherited = ? WHERE seq = ?`,
		marshalList(na), marshalList(nr), nin.marshal(), seq); err != nil {
		return false, "", err
	}
	tx.addFacets(tenant, stored, seq, append(ownFacets(na, nr, lc, lrc, verb, reg, authority), nin...))
	return true, id, nil
}

// remapList replaces the elements of l that are keys of m, keeping each
// once.
func remapList(l []string, m map[string]string) ([]string, bool) {
	changed := false
	var out []string
	for _, s := range l {
		if v, ok := m[s]; ok {
			s, changed = v, true
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, changed
}

// deleteUnusedAttachments deletes the tenant's attachments with the
// hashes that no statement lists any more, and returns how many.
func deleteUnusedAttachments(tx *wtx, ctx context.Context, tenant string, hashes []string) (int, error) {
	if len(hashes) == 0 {
		return 0, nil
	}
	used := map[string]bool{}
	rows, err := tx.conn.QueryContext(ctx, `SELECT attachment_hashes FROM statements WHERE tenant = ? AND attachment_hashes IS NOT NULL`, tenant)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var s sql.NullString
		var l []string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return 0, err
		}
		if err := unmarshalList(s, &l); err != nil {
			rows.Close()
			return 0, err
		}
		for _, h := range l {
			used[h] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, h := range hashes {
		if used[h] {
			continue
		}
		res, err := tx.conn.ExecContext(ctx, `DELETE FROM attachments WHERE tenant = ? AND sha2 = ?`, tenant, h)
		if err != nil {
			return 0, err
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	return n, nil
}

// DeleteFactAgents deletes the facts of the agents.
func (db *DB) DeleteFactAgents(ctx context.Context, tenant string, agents []string) error {
	err := db.change(ctx, false, func(tx *wtx, ctx context.Context) error {
		for _, a := range agents {
			if _, err := tx.conn.ExecContext(ctx, `DELETE FROM rp_fact_chunks WHERE tenant = ? AND agent = ?`, tenant, a); err != nil {
				return err
			}
		}
		return newEpoch(ctx, tx)
	})
	st := db.rp()
	st.facts.invalidate(tenant, agents)
	st.forget(tenant)
	return wrapErr(err, "sqlite: deleting facts")
}

// RewriteRoster rewrites the person's roster rows and import changes.
func (db *DB) RewriteRoster(ctx context.Context, tenant, person string, rowFn func(*reporting.RosterRow) bool,
	changeFn func(*reporting.Change) bool, dryRun bool) (int, int, error) {
	var nrows, nchanges int
	err := db.change(ctx, dryRun, func(tx *wtx, ctx context.Context) error {
		nrows, nchanges = 0, 0
		type row struct {
			seq int64
			r   reporting.RosterRow
		}
		var rows []row
		err := queryEach(tx, ctx, func(s interface{ Scan(...any) error }) error {
			var x row
			if err := s.Scan(&x.seq, &x.r.Kind, &x.r.Key, &x.r.Value, &x.r.Name, &x.r.Email); err != nil {
				return err
			}
			rows = append(rows, x)
			return nil
		}, `SELECT seq, kind, key, value, name, email FROM rp_roster WHERE tenant = ? AND
			(key = ? AND kind IN ('person', 'member', 'role', 'ident') OR kind = 'manager' AND value = ?)`, tenant, person, person)
		if err != nil {
			return err
		}
		for _, x := range rows {
			if !rowFn(&x.r) {
				continue
			}
			nrows++
			if _, err := tx.conn.ExecContext(ctx, `UPDATE rp_roster SET key = ?, value = ?, name = ?, email = ? WHERE seq = ?`,
				x.r.Key, x.r.Value, x.r.Name, x.r.Email, x.seq); err != nil {
				return err
			}
		}
		type change struct {
			imp, n int64
			c      []byte
		}
		var changes []change
		err = queryEach(tx, ctx, func(s interface{ Scan(...any) error }) error {
			var x change
			if err := s.Scan(&x.imp, &x.n, &x.c); err != nil {
				return err
			}
			// Most changes are about someone else: decode only those that
			// can be about the person.
			if strings.Contains(string(x.c), person) {
				changes = append(changes, x)
			}
			return nil
		}, `SELECT import, n, change FROM rp_import_changes WHERE tenant = ?`, tenant)
		if err != nil {
			return err
		}
		for _, x := range changes {
			var c reporting.Change
			if err := json.Unmarshal(x.c, &c); err != nil {
				return err
			}
			if !changeFn(&c) {
				continue
			}
			nchanges++
			b, err := json.Marshal(c)
			if err != nil {
				return err
			}
			if _, err := tx.conn.ExecContext(ctx, `UPDATE rp_import_changes SET change = ? WHERE tenant = ? AND import = ? AND n = ?`,
				b, tenant, x.imp, x.n); err != nil {
				return err
			}
		}
		return newEpoch(ctx, tx)
	})
	if !dryRun {
		st := db.rp()
		st.rmu.Lock()
		delete(st.roster, tenant)
		st.rmu.Unlock()
	}
	return nrows, nchanges, wrapErr(err, "sqlite: erasing roster rows")
}

// queryEach calls fn for each row of the query in the write transaction.
func queryEach(tx *wtx, ctx context.Context, fn func(interface{ Scan(...any) error }) error, query string, args ...any) error {
	rows, err := tx.conn.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// exec runs a statement and returns the rows it changed.
func exec(tx *wtx, ctx context.Context, query string, args ...any) (int, error) {
	res, err := tx.conn.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// RewriteReminders gives the person's reminder records the pseudonym.
func (db *DB) RewriteReminders(ctx context.Context, tenant, person, pseudonym string, dryRun bool) (int, error) {
	var n int
	err := db.change(ctx, dryRun, func(tx *wtx, ctx context.Context) (err error) {
		n, err = exec(tx, ctx, `UPDATE reminders_sent SET person = ?, error = '' WHERE tenant = ? AND person = ?`, pseudonym, tenant, person)
		return err
	})
	return n, wrapErr(err, "sqlite: erasing reminder records")
}

// RewriteAudit applies replace to the tenant's audit entries.
func (db *DB) RewriteAudit(ctx context.Context, tenant string, replace func(string) string, dryRun bool) (int, error) {
	var n int
	err := db.change(ctx, dryRun, func(tx *wtx, ctx context.Context) error {
		n = 0
		type entry struct {
			seq                   int64
			actor, target, detail string
		}
		var changed []entry
		err := queryEach(tx, ctx, func(s interface{ Scan(...any) error }) error {
			var e entry
			if err := s.Scan(&e.seq, &e.actor, &e.target, &e.detail); err != nil {
				return err
			}
			a, t, d := replace(e.actor), replace(e.target), replace(e.detail)
			if a != e.actor || t != e.target || d != e.detail {
				changed = append(changed, entry{e.seq, a, t, d})
			}
			return nil
		}, `SELECT seq, actor, target, detail FROM audit WHERE tenant = ?`, tenant)
		if err != nil {
			return err
		}
		for _, e := range changed {
			if _, err := tx.conn.ExecContext(ctx, `UPDATE audit SET actor = ?, target = ?, detail = ? WHERE seq = ?`,
				e.actor, e.target, e.detail, e.seq); err != nil {
				return err
			}
		}
		n = len(changed)
		return nil
	})
	return n, wrapErr(err, "sqlite: erasing audit entries")
}

// DeletePersonAccounts deletes the person's accounts and their sessions.
func (db *DB) DeletePersonAccounts(ctx context.Context, tenant, person string, dryRun bool) ([]string, error) {
	var names []string
	err := db.change(ctx, dryRun, func(tx *wtx, ctx context.Context) error {
		names = nil
		err := queryEach(tx, ctx, func(s interface{ Scan(...any) error }) error {
			var name string
			err := s.Scan(&name)
			names = append(names, name)
			return err
		}, `SELECT name FROM accounts WHERE tenant = ? AND person = ? ORDER BY name`, tenant, person)
		if err != nil {
			return err
		}
		for _, name := range names {
			if _, err := exec(tx, ctx, `DELETE FROM sessions WHERE account = ?`, name); err != nil {
				return err
			}
		}
		if _, err := exec(tx, ctx, `DELETE FROM sessions WHERE tenant = ? AND person = ?`, tenant, person); err != nil {
			return err
		}
		_, err = exec(tx, ctx, `DELETE FROM accounts WHERE tenant = ? AND person = ?`, tenant, person)
		return err
	})
	return names, wrapErr(err, "sqlite: deleting accounts")
}

// AddErasure stores an erasure record.
func (db *DB) AddErasure(ctx context.Context, e *privacy.Erasure) error {
	b, err := json.Marshal(e)
	if err != nil {
		return errs.Wrap(err, "sqlite: encoding an erasure record")
	}
	return db.change(ctx, false, func(tx *wtx, ctx context.Context) error {
		_, err := exec(tx, ctx, `INSERT INTO erasures (tenant, time, record) VALUES (?, ?, ?)`, e.Tenant, e.Time.UnixNano(), b)
		return err
	})
}

// Erasures lists a tenant's erasure records, oldest first.
func (db *DB) Erasures(ctx context.Context, tenant string) ([]*privacy.Erasure, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT record FROM erasures WHERE tenant = ? ORDER BY time, seq`, tenant)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: erasure records")
	}
	defer rows.Close()
	out := []*privacy.Erasure{}
	for rows.Next() {
		var b []byte
		e := &privacy.Erasure{}
		if err := rows.Scan(&b); err != nil {
			return nil, errs.Wrap(err, "sqlite: erasure records")
		}
		if err := json.Unmarshal(b, e); err != nil {
			return nil, errs.Wrap(err, "sqlite: erasure records")
		}
		out = append(out, e)
	}
	return out, wrapErr(rows.Err(), "sqlite: erasure records")
}
