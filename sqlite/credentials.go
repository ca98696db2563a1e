package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
)

// CreateCredential stores c; an existing key is an errs.Conflict error.
func (db *DB) CreateCredential(ctx context.Context, c *auth.Credential) error {
	return db.w.do(ctx, 1,
		func(tx *wtx) error {
			var n int
			if err := tx.credentialExists.QueryRow(c.Key).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return errs.E(errs.Conflict, "a credential with key %q exists", c.Key)
			}
			return nil
		},
		func(tx *wtx) error {
			_, err := tx.credential.Exec(c.Key, c.SecretHash, c.Name, c.Tenant, strings.Join(c.Scopes, ","),
				c.Created.UnixNano(), c.Revoked)
			return err
		})
}

const credentialColumns = `key, secret_hash, name, tenant, scopes, created, revoked, previous_secret_hash, previous_until`

func scanCredential(sc interface{ Scan(...any) error }) (*auth.Credential, error) {
	var c auth.Credential
	var scopes string
	var created, prevUntil int64
	if err := sc.Scan(&c.Key, &c.SecretHash, &c.Name, &c.Tenant, &scopes, &created, &c.Revoked,
		&c.PreviousSecretHash, &prevUntil); err != nil {
		return nil, err
	}
	if scopes != "" {
		c.Scopes = strings.Split(scopes, ",")
	}
	c.Created = time.Unix(0, created).UTC()
	if prevUntil != 0 {
		c.PreviousUntil = time.Unix(0, prevUntil).UTC()
	}
	return &c, nil
}

// UpdateCredential replaces the credential with key c.Key (all but Key,
// Tenant and Created).
func (db *DB) UpdateCredential(ctx context.Context, c *auth.Credential) error {
	var until int64
	if !c.PreviousUntil.IsZero() {
		until = c.PreviousUntil.UnixNano()
	}
	return db.w.do(ctx, 1,
		func(tx *wtx) error {
			var n int
			if err := tx.credentialExists.QueryRow(c.Key).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return errs.E(errs.NotFound, "no credential with key %q", c.Key)
			}
			return nil
		},
		func(tx *wtx) error {
			_, err := tx.conn.ExecContext(context.Background(), `UPDATE credentials SET secret_hash = ?, name = ?,
				scopes = ?, revoked = ?, previous_secret_hash = ?, previous_until = ? WHERE key = ?`,
				c.SecretHash, c.Name, strings.Join(c.Scopes, ","), c.Revoked, c.PreviousSecretHash, until, c.Key)
			return err
		})
}

// Credential returns the credential with the key.
func (db *DB) Credential(ctx context.Context, key string) (*auth.Credential, error) {
	s, err := db.stmt(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE key = ?`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: credential")
	}
	c, err := scanCredential(s.QueryRowContext(ctx, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "no credential with this key")
	}
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: credential")
	}
	return c, nil
}

// Credentials lists the credentials of a tenant ("" = all tenants) by key.
func (db *DB) Credentials(ctx context.Context, tenant string) ([]*auth.Credential, error) {
	s, err := db.stmt(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE ? = '' OR tenant = ? ORDER BY key`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: credentials")
	}
	rows, err := s.QueryContext(ctx, tenant, tenant)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: credentials")
	}
	defer rows.Close()
	var out []*auth.Credential
	for rows.Next() {
		c, err := scanCredential(rows)
		if err != nil {
			return nil, errs.Wrap(err, "sqlite: credentials")
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: credentials")
	}
	return out, nil
}
