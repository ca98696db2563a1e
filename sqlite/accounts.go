package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/accounts"
	"github.com/xapi-lrs/lrs/errs"
)

// The accounts and sessions of the pages for people (accounts.Store).

// CreateAccount stores a; an existing name is an errs.Conflict error.
func (db *DB) CreateAccount(ctx context.Context, a *accounts.Account) error {
	return db.w.do(ctx, 1,
		func(tx *wtx) error {
			if n, err := count(tx, `SELECT count(*) FROM accounts WHERE name = ?`, a.Name); err != nil || n > 0 {
				return cmpErr(err, errs.E(errs.Conflict, "an account named %q exists", a.Name))
			}
			return nil
		},
		func(tx *wtx) error {
			_, err := tx.conn.ExecContext(context.Background(), `INSERT INTO accounts (name, tenant, person, password_hash, grants, disabled, created)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, a.Name, a.Tenant, a.Person, a.PasswordHash, joinGrants(a.Grants), a.Disabled, a.Created.UnixNano())
			return err
		})
}

// count runs a count query in the writer's transaction.
func count(tx *wtx, query string, args ...any) (int, error) {
	var n int
	err := tx.conn.QueryRowContext(context.Background(), query, args...).Scan(&n)
	return n, err
}

// cmpErr returns err if it is set, else answer.
func cmpErr(err, answer error) error {
	if err != nil {
		return err
	}
	return answer
}

func joinGrants(rs []accounts.Role) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return strings.Join(out, ",")
}

const accountColumns = `name, tenant, person, password_hash, grants, disabled, created`

func scanAccount(sc interface{ Scan(...any) error }) (*accounts.Account, error) {
	var a accounts.Account
	var grants string
	var created int64
	if err := sc.Scan(&a.Name, &a.Tenant, &a.Person, &a.PasswordHash, &grants, &a.Disabled, &created); err != nil {
		return nil, err
	}
	for _, g := range strings.Split(grants, ",") {
		if g != "" {
			a.Grants = append(a.Grants, accounts.Role(g))
		}
	}
	a.Created = time.Unix(0, created).UTC()
	return &a, nil
}

// Account returns the account with the name, or an errs.NotFound error.
func (db *DB) Account(ctx context.Context, name string) (*accounts.Account, error) {
	s, err := db.stmt(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = ?`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: account")
	}
	a, err := scanAccount(s.QueryRowContext(ctx, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "no account named %q", name)
	}
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: account")
	}
	return a, nil
}

// Accounts lists the accounts of a tenant ("" = all tenants), by name.
func (db *DB) Accounts(ctx context.Context, tenant string) ([]*accounts.Account, error) {
	s, err := db.stmt(ctx, `SELECT `+accountColumns+` FROM accounts WHERE ? = '' OR tenant = ? ORDER BY name`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: accounts")
	}
	rows, err := s.QueryContext(ctx, tenant, tenant)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: accounts")
	}
	defer rows.Close()
	var out []*accounts.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, errs.Wrap(err, "sqlite: accounts")
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: accounts")
	}
	return out, nil
}

// UpdateAccount replaces the account named a.Name (all but Name, Tenant and
// Created).
func (db *DB) UpdateAccount(ctx context.Context, a *accounts.Account) error {
	return db.w.do(ctx, 1,
		func(tx *wtx) error {
			if n, err := count(tx, `SELECT count(*) FROM accounts WHERE name = ?`, a.Name); err != nil || n == 0 {
				return cmpErr(err, errs.E(errs.NotFound, "no account named %q", a.Name))
			}
			return nil
		},
		func(tx *wtx) error {
			_, err := tx.conn.ExecContext(context.Background(), `UPDATE accounts SET person = ?, password_hash = ?, grants = ?, disabled = ?
				WHERE name = ?`, a.Person, a.PasswordHash, joinGrants(a.Grants), a.Disabled, a.Name)
			return err
		})
}

// CreateSession stores s; an existing id is an errs.Conflict error.
func (db *DB) CreateSession(ctx context.Context, s *accounts.Session) error {
	return db.w.do(ctx, 1,
		func(tx *wtx) error {
			if n, err := count(tx, `SELECT count(*) FROM sessions WHERE id = ?`, s.ID); err != nil || n > 0 {
				return cmpErr(err, errs.E(errs.Conflict, "a session with this id exists"))
			}
			return nil
		},
		func(tx *wtx) error {
			_, err := tx.conn.ExecContext(context.Background(), `INSERT INTO sessions (id, tenant, account, person, method, label, csrf,
				created, last_seen, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, s.Tenant, s.Account, s.Person, s.Method, s.Label,
				s.CSRF, s.Created.UnixNano(), s.LastSeen.UnixNano(), s.Expires.UnixNano())
			return err
		})
}

// Session returns the session with the id, or an errs.NotFound error.
func (db *DB) Session(ctx context.Context, id string) (*accounts.Session, error) {
	st, err := db.stmt(ctx, `SELECT id, tenant, account, person, method, label, csrf, created, last_seen, expires FROM sessions WHERE id = ?`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: session")
	}
	var s accounts.Session
	var created, seen, expires int64
	err = st.QueryRowContext(ctx, id).Scan(&s.ID, &s.Tenant, &s.Account, &s.Person, &s.Method, &s.Label, &s.CSRF, &created, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "no such session")
	}
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: session")
	}
	s.Created, s.LastSeen, s.Expires = time.Unix(0, created).UTC(), time.Unix(0, seen).UTC(), time.Unix(0, expires).UTC()
	return &s, nil
}

// TouchSession sets the LastSeen of a session.
func (db *DB) TouchSession(ctx context.Context, id string, seen time.Time) error {
	return db.w.do(ctx, 1,
		func(tx *wtx) error {
			if n, err := count(tx, `SELECT count(*) FROM sessions WHERE id = ?`, id); err != nil || n == 0 {
				return cmpErr(err, errs.E(errs.NotFound, "no such session"))
			}
			return nil
		},
		func(tx *wtx) error {
			_, err := tx.conn.ExecContext(context.Background(), `UPDATE sessions SET last_seen = ? WHERE id = ?`, seen.UnixNano(), id)
			return err
		})
}

// deleteSessions deletes the sessions where holds and returns how many.
func (db *DB) deleteSessions(ctx context.Context, where string, args ...any) (int, error) {
	var n int64
	err := db.w.do(ctx, 1, nil, func(tx *wtx) error {
		res, err := tx.conn.ExecContext(context.Background(), `DELETE FROM sessions WHERE `+where, args...)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	return int(n), err
}

// DeleteSession deletes a session; a missing one is no error.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	_, err := db.deleteSessions(ctx, `id = ?`, id)
	return err
}

// DeleteAccountSessions deletes the sessions of an account.
func (db *DB) DeleteAccountSessions(ctx context.Context, account string) (int, error) {
	return db.deleteSessions(ctx, `account = ?`, account)
}

// DeleteExpiredSessions deletes the sessions last seen before idleBefore
// or expiring at or before now.
func (db *DB) DeleteExpiredSessions(ctx context.Context, idleBefore, now time.Time) (int, error) {
	return db.deleteSessions(ctx, `last_seen < ? OR expires <= ?`, idleBefore.UnixNano(), now.UnixNano())
}
