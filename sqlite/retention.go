package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
)

// Retention (package privacy, RetentionStore): the tenants' rules and
// run records (migration 11), and the deletions retention makes beside
// the erasure's. Dry runs count in a rolled-back savepoint (change), so
// that they count what the real run deletes.

var _ privacy.RetentionStore = (*DB)(nil)

// RetentionRules returns the tenant's rules, all off when never set.
func (db *DB) RetentionRules(ctx context.Context, tenant string) (*privacy.RetentionRules, error) {
	var b []byte
	r := &privacy.RetentionRules{}
	err := db.read.QueryRowContext(ctx, `SELECT rules FROM retention_rules WHERE tenant = ?`, tenant).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	}
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: retention rules")
	}
	return r, wrapErr(json.Unmarshal(b, r), "sqlite: retention rules")
}

// PutRetentionRules replaces the tenant's rules.
func (db *DB) PutRetentionRules(ctx context.Context, tenant string, r *privacy.RetentionRules) error {
	b, err := json.Marshal(r)
	if err != nil {
		return errs.Wrap(err, "sqlite: encoding retention rules")
	}
	err = db.change(ctx, false, func(tx *wtx, ctx context.Context) error {
		_, err := exec(tx, ctx, `INSERT INTO retention_rules (tenant, rules) VALUES (?, ?)
			ON CONFLICT (tenant) DO UPDATE SET rules = excluded.rules`, tenant, b)
		return err
	})
	return wrapErr(err, "sqlite: storing retention rules")
}

// AddRetentionRun stores a run's record.
func (db *DB) AddRetentionRun(ctx context.Context, run *privacy.RetentionRun) error {
	b, err := json.Marshal(run)
	if err != nil {
		return errs.Wrap(err, "sqlite: encoding a retention run")
	}
	err = db.change(ctx, false, func(tx *wtx, ctx context.Context) error {
		_, err := exec(tx, ctx, `INSERT INTO retention_runs (tenant, time, record) VALUES (?, ?, ?)`, run.Tenant, run.Time.UnixNano(), b)
		return err
	})
	return wrapErr(err, "sqlite: storing a retention run")
}

// RetentionRuns lists the tenant's runs, newest first.
func (db *DB) RetentionRuns(ctx context.Context, tenant string, limit int) ([]*privacy.RetentionRun, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT record FROM retention_runs WHERE tenant = ? ORDER BY time DESC, seq DESC LIMIT ?`,
		tenant, limit)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: retention runs")
	}
	defer rows.Close()
	out := []*privacy.RetentionRun{}
	for rows.Next() {
		var b []byte
		run := &privacy.RetentionRun{}
		if err := rows.Scan(&b); err != nil {
			return nil, errs.Wrap(err, "sqlite: retention runs")
		}
		if err := json.Unmarshal(b, run); err != nil {
			return nil, errs.Wrap(err, "sqlite: retention runs")
		}
		out = append(out, run)
	}
	return out, wrapErr(rows.Err(), "sqlite: retention runs")
}

// StaleDocuments returns the keys of the tenant's documents last written
// before before (index documents_updated).
func (db *DB) StaleDocuments(ctx context.Context, tenant string, before time.Time) ([]documents.Key, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT kind, activity, agent, registration, id FROM documents
		WHERE tenant = ? AND updated < ? ORDER BY kind, activity, agent, registration, id`, tenant, before.UnixNano())
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: stale documents")
	}
	defer rows.Close()
	out := []documents.Key{}
	for rows.Next() {
		k := documents.Key{Tenant: tenant}
		if err := rows.Scan(&k.Kind, &k.ActivityID, &k.Agent, &k.Registration, &k.ID); err != nil {
			return nil, errs.Wrap(err, "sqlite: stale documents")
		}
		out = append(out, k)
	}
	return out, wrapErr(rows.Err(), "sqlite: stale documents")
}

// AttachmentUses lists the tenant's attachments with the statements
// listing each (index statements_attachments holds only those with
// attachments).
func (db *DB) AttachmentUses(ctx context.Context, tenant string) ([]privacy.AttachmentUse, error) {
	var out []privacy.AttachmentUse
	at := map[string]int{}
	rows, err := db.read.QueryContext(ctx, `SELECT sha2 FROM attachments WHERE tenant = ? ORDER BY sha2`, tenant)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: attachments")
	}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return nil, errs.Wrap(err, "sqlite: attachments")
		}
		at[h] = len(out)
		out = append(out, privacy.AttachmentUse{SHA2: h})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: attachments")
	}
	rows, err = db.read.QueryContext(ctx, `SELECT id, stored, attachment_hashes FROM statements
		WHERE tenant = ? AND attachment_hashes IS NOT NULL`, tenant)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: attachments")
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var stored int64
		var hs sql.NullString
		var l []string
		if err := rows.Scan(&id, &stored, &hs); err != nil {
			return nil, errs.Wrap(err, "sqlite: attachments")
		}
		if err := unmarshalList(hs, &l); err != nil {
			return nil, errs.Wrap(err, "sqlite: attachments")
		}
		for _, h := range l {
			if i, ok := at[h]; ok {
				out[i].Statements = append(out[i].Statements, privacy.StatementStamp{ID: id, Stored: time.Unix(0, stored).UTC()})
			}
		}
	}
	return out, wrapErr(rows.Err(), "sqlite: attachments")
}

// DeleteAttachments deletes the attachments with the hashes no statement
// stored at or after listedSince lists.
func (db *DB) DeleteAttachments(ctx context.Context, tenant string, hashes []string, listedSince time.Time) (int, error) {
	if len(hashes) == 0 {
		return 0, nil
	}
	n := 0
	err := db.change(ctx, false, func(tx *wtx, ctx context.Context) error {
		n = 0
		used := map[string]bool{}
		err := queryEach(tx, ctx, func(s interface{ Scan(...any) error }) error {
			var hs sql.NullString
			var l []string
			if err := s.Scan(&hs); err != nil {
				return err
			}
			if err := unmarshalList(hs, &l); err != nil {
				return err
			}
			for _, h := range l {
				used[h] = true
			}
			return nil
		}, `SELECT attachment_hashes FROM statements WHERE tenant = ? AND attachment_hashes IS NOT NULL AND stored >= ?`,
			tenant, listedSince.UnixNano())
		if err != nil {
			return err
		}
		for _, h := range hashes {
			if used[h] {
				continue
			}
			k, err := exec(tx, ctx, `DELETE FROM attachments WHERE tenant = ? AND sha2 = ?`, tenant, h)
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	return n, wrapErr(err, "sqlite: deleting attachments")
}

// PruneAudit deletes the tenant's audit entries older than before.
func (db *DB) PruneAudit(ctx context.Context, tenant string, before time.Time, dryRun bool) (int, error) {
	return db.prune(ctx, `DELETE FROM audit WHERE tenant = ? AND time < ?`, tenant, before, dryRun, "sqlite: pruning the audit log")
}

// PruneReminders deletes the tenant's reminders-sent records older than
// before.
func (db *DB) PruneReminders(ctx context.Context, tenant string, before time.Time, dryRun bool) (int, error) {
	return db.prune(ctx, `DELETE FROM reminders_sent WHERE tenant = ? AND time < ?`, tenant, before, dryRun,
		"sqlite: pruning the reminders sent")
}

// prune runs a delete of a tenant's rows older than before.
func (db *DB) prune(ctx context.Context, query, tenant string, before time.Time, dryRun bool, what string) (int, error) {
	var n int
	err := db.change(ctx, dryRun, func(tx *wtx, ctx context.Context) (err error) {
		n, err = exec(tx, ctx, query, tenant, before.UnixNano())
		return err
	})
	return n, wrapErr(err, what)
}
