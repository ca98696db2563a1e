package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"time"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
)

// Documents (State, Activity Profile, Agent Profile) live in table
// documents, one row per key (see schema.go). Writes go through the writer
// like statements: a write's Condition is checked in the job's check step,
// on the write connection inside the group's transaction, so it sees every
// earlier write and no later one can slip in before the write commits.

var _ documents.Store = (*DB)(nil)

// keyWhere matches the row of one document; the arguments are keyArgs(k).
const keyWhere = `tenant = ? AND kind = ? AND activity = ? AND agent = ? AND registration = ? AND id = ?`

func keyArgs(k documents.Key) []any {
	return []any{k.Tenant, string(k.Kind), k.ActivityID, k.Agent, k.Registration, k.ID}
}

// setWhere returns the condition and arguments matching the documents of a
// list or delete-all: tenant, kind, activity and agent, and the
// registration when k has one (without, the states of every registration
// and those without one).
func setWhere(k documents.Key) (string, []any) {
	where := `tenant = ? AND kind = ? AND activity = ? AND agent = ?`
	args := []any{k.Tenant, string(k.Kind), k.ActivityID, k.Agent}
	if k.Registration != "" {
		where += ` AND registration = ?`
		args = append(args, k.Registration)
	}
	return where, args
}

// Document returns the document with key k, or an errs.NotFound error.
func (db *DB) Document(ctx context.Context, k documents.Key) (*documents.Document, error) {
	s, err := db.stmt(ctx, `SELECT etag, updated, content_type, content FROM documents WHERE `+keyWhere)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: document")
	}
	d := &documents.Document{Key: k}
	var updated int64
	err = s.QueryRowContext(ctx, keyArgs(k)...).Scan(&d.ETag, &updated, &d.ContentType, &d.Content)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "no such document")
	}
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: document")
	}
	if d.Content == nil {
		d.Content = []byte{}
	}
	d.Updated = time.Unix(0, updated).UTC()
	return d, nil
}

// checkCondition returns an errs.PreconditionFailed error unless cond holds
// for the current document with key k, read on the write connection.
func (tx *wtx) checkCondition(k documents.Key, cond documents.Condition) error {
	if len(cond.IfMatch) == 0 && len(cond.IfNoneMatch) == 0 {
		return nil
	}
	var cur *documents.Document
	var etag string
	err := tx.conn.QueryRowContext(context.Background(), `SELECT etag FROM documents WHERE `+keyWhere, keyArgs(k)...).Scan(&etag)
	switch {
	case err == nil:
		cur = &documents.Document{Key: k, ETag: etag}
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	if !cond.Holds(cur) {
		return errs.E(errs.PreconditionFailed, "the document does not match the If-Match / If-None-Match precondition")
	}
	return nil
}

// PutDocument creates or replaces d if cond holds.
func (db *DB) PutDocument(ctx context.Context, d *documents.Document, cond documents.Condition) error {
	content := d.Content
	if content == nil {
		content = []byte{}
	}
	args := append(keyArgs(d.Key), d.ETag, d.Updated.UnixNano(), d.ContentType, content)
	return db.w.do(ctx, 1,
		func(tx *wtx) error { return tx.checkCondition(d.Key, cond) },
		func(tx *wtx) error {
			_, err := tx.conn.ExecContext(context.Background(), `INSERT INTO documents
				(tenant, kind, activity, agent, registration, id, etag, updated, content_type, content)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (tenant, kind, activity, agent, registration, id) DO UPDATE SET
				etag = excluded.etag, updated = excluded.updated,
				content_type = excluded.content_type, content = excluded.content`, args...)
			return err
		})
}

// DeleteDocument deletes the document with key k if cond holds.
func (db *DB) DeleteDocument(ctx context.Context, k documents.Key, cond documents.Condition) error {
	return db.w.do(ctx, 1,
		func(tx *wtx) error { return tx.checkCondition(k, cond) },
		func(tx *wtx) error {
			_, err := tx.conn.ExecContext(context.Background(), `DELETE FROM documents WHERE `+keyWhere, keyArgs(k)...)
			return err
		})
}

// DocumentIDs lists the ids of the documents matching k (k.ID ignored)
// updated strictly after since (zero: all), sorted, each once.
func (db *DB) DocumentIDs(ctx context.Context, k documents.Key, since time.Time) ([]string, error) {
	where, args := setWhere(k)
	after := int64(math.MinInt64)
	if !since.IsZero() {
		after = since.UnixNano()
	}
	s, err := db.stmt(ctx, `SELECT DISTINCT id FROM documents WHERE `+where+` AND updated > ? ORDER BY id`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: document ids")
	}
	rows, err := s.QueryContext(ctx, append(args, after)...)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: document ids")
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, errs.Wrap(err, "sqlite: document ids")
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: document ids")
	}
	return ids, nil
}

// DeleteDocuments deletes every document matching k (k.ID ignored).
func (db *DB) DeleteDocuments(ctx context.Context, k documents.Key) error {
	where, args := setWhere(k)
	return db.w.do(ctx, 1, nil, func(tx *wtx) error {
		_, err := tx.conn.ExecContext(context.Background(), `DELETE FROM documents WHERE `+where, args...)
		return err
	})
}
