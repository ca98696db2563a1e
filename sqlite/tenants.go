package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
)

// CreateTenant stores t; an existing name is an errs.Conflict error.
func (db *DB) CreateTenant(ctx context.Context, t *auth.Tenant) error {
	return db.w.do(ctx, 1,
		func(tx *wtx) error {
			var n int
			if err := tx.conn.QueryRowContext(context.Background(), `SELECT count(*) FROM tenants WHERE name = ?`, t.Name).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return errs.E(errs.Conflict, "a tenant named %q exists", t.Name)
			}
			return nil
		},
		func(tx *wtx) error {
			_, err := tx.conn.ExecContext(context.Background(), `INSERT INTO tenants (name, created, disabled) VALUES (?, ?, ?)`,
				t.Name, t.Created.UnixNano(), t.Disabled)
			return err
		})
}

func scanTenant(sc interface{ Scan(...any) error }) (*auth.Tenant, error) {
	var t auth.Tenant
	var created int64
	if err := sc.Scan(&t.Name, &created, &t.Disabled); err != nil {
		return nil, err
	}
	t.Created = time.Unix(0, created).UTC()
	return &t, nil
}

// Tenant returns the tenant with the name, or an errs.NotFound error.
func (db *DB) Tenant(ctx context.Context, name string) (*auth.Tenant, error) {
	s, err := db.stmt(ctx, `SELECT name, created, disabled FROM tenants WHERE name = ?`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: tenant")
	}
	t, err := scanTenant(s.QueryRowContext(ctx, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "no tenant named %q", name)
	}
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: tenant")
	}
	return t, nil
}

// Tenants lists every tenant by name.
func (db *DB) Tenants(ctx context.Context) ([]*auth.Tenant, error) {
	s, err := db.stmt(ctx, `SELECT name, created, disabled FROM tenants ORDER BY name`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: tenants")
	}
	rows, err := s.QueryContext(ctx)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: tenants")
	}
	defer rows.Close()
	var out []*auth.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, errs.Wrap(err, "sqlite: tenants")
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: tenants")
	}
	return out, nil
}

// UpdateTenant replaces the tenant named t.Name (Disabled).
func (db *DB) UpdateTenant(ctx context.Context, t *auth.Tenant) error {
	return db.w.do(ctx, 1,
		func(tx *wtx) error {
			var n int
			if err := tx.conn.QueryRowContext(context.Background(), `SELECT count(*) FROM tenants WHERE name = ?`, t.Name).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return errs.E(errs.NotFound, "no tenant named %q", t.Name)
			}
			return nil
		},
		func(tx *wtx) error {
			_, err := tx.conn.ExecContext(context.Background(), `UPDATE tenants SET disabled = ? WHERE name = ?`, t.Disabled, t.Name)
			return err
		})
}

// AppendAudit stores e.
func (db *DB) AppendAudit(ctx context.Context, e *auth.AuditEntry) error {
	return db.w.do(ctx, 1, nil, func(tx *wtx) error {
		_, err := tx.conn.ExecContext(context.Background(), `INSERT INTO audit (time, tenant, actor, action, target, detail)
			VALUES (?, ?, ?, ?, ?, ?)`, e.Time.UnixNano(), e.Tenant, e.Actor, e.Action, e.Target, e.Detail)
		return err
	})
}

// Audit lists the entries of a tenant ("" = all) at or after since, oldest
// first, at most limit.
func (db *DB) Audit(ctx context.Context, tenant string, since time.Time, limit int) ([]*auth.AuditEntry, error) {
	var from int64
	if !since.IsZero() {
		from = since.UnixNano()
	}
	s, err := db.stmt(ctx, `SELECT time, tenant, actor, action, target, detail FROM audit
		WHERE (? = '' OR tenant = ?) AND time >= ? ORDER BY time, seq LIMIT ?`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: audit")
	}
	rows, err := s.QueryContext(ctx, tenant, tenant, from, limit)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: audit")
	}
	defer rows.Close()
	var out []*auth.AuditEntry
	for rows.Next() {
		var e auth.AuditEntry
		var t int64
		if err := rows.Scan(&t, &e.Tenant, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, errs.Wrap(err, "sqlite: audit")
		}
		e.Time = time.Unix(0, t).UTC()
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: audit")
	}
	return out, nil
}
