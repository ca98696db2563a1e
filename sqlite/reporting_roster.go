package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
)

// rosterColumns are the rp_roster columns scanRosterRow reads.
const rosterColumns = `kind, key, value, name, email, valid_from, valid_to, recorded, superseded`

func scanRosterRow(rows *sql.Rows) (reporting.RosterRow, error) {
	var r reporting.RosterRow
	var kind string
	var from, to int64
	err := rows.Scan(&kind, &r.Key, &r.Value, &r.Name, &r.Email, &from, &to, &r.Recorded, &r.Superseded)
	r.Kind, r.From, r.To = reporting.RowKind(kind), reporting.Date(from), reporting.Date(to)
	return r, err
}

// ImportRoster applies imp in one writer job: the current rows are read,
// the import planned and applied, and its record written, in one
// transaction. Import errors (reporting.PlanImport's) fail the call alone.
func (db *DB) ImportRoster(ctx context.Context, tenant string, imp *reporting.Import, now time.Time) (*reporting.ImportRecord, error) {
	now = now.UTC()
	var plan *reporting.Plan
	var rec *reporting.ImportRecord
	err := db.w.do(ctx, 1+len(imp.People),
		func(tx *wtx) error {
			cur, err := currentRoster(tx.conn, tenant)
			if err != nil {
				return err
			}
			plan, err = reporting.PlanImport(cur, imp, reporting.DateOf(now, time.UTC))
			return err
		},
		func(tx *wtx) error {
			bg := context.Background()
			var id int64
			if err := tx.conn.QueryRowContext(bg, `SELECT coalesce(max(id), 0) + 1 FROM rp_imports WHERE tenant = ?`, tenant).Scan(&id); err != nil {
				return err
			}
			eff := imp.Effective
			if eff == 0 {
				eff = reporting.DateOf(now, time.UTC)
			}
			rec = &reporting.ImportRecord{ID: id, Recorded: now, Effective: eff, Partial: imp.Partial, Source: imp.Source,
				People: len(imp.People), Units: len(imp.Units), Changes: plan.Changes}
			for _, t := range plan.Supersede {
				if _, err := tx.conn.ExecContext(bg, `UPDATE rp_roster SET superseded = ?
					WHERE tenant = ? AND key = ? AND kind = ? AND value = ? AND superseded = 0`,
					id, tenant, t.Key, string(t.Kind), t.Value); err != nil {
					return err
				}
			}
			ins, err := tx.conn.PrepareContext(bg, `INSERT INTO rp_roster (tenant, kind, key, value, name, email,
				valid_from, valid_to, recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			if err != nil {
				return err
			}
			defer ins.Close()
			for _, r := range plan.Insert {
				if _, err := ins.Exec(tenant, string(r.Kind), r.Key, r.Value, r.Name, r.Email, int64(r.From), int64(r.To), id); err != nil {
					return err
				}
			}
			head := *rec
			head.Changes = nil
			b, err := json.Marshal(&head)
			if err != nil {
				return err
			}
			if _, err = tx.conn.ExecContext(bg, `INSERT INTO rp_imports (tenant, id, recorded, record) VALUES (?, ?, ?, ?)`,
				tenant, id, now.UnixNano(), b); err != nil {
				return err
			}
			insChange, err := tx.conn.PrepareContext(bg, `INSERT INTO rp_import_changes (tenant, import, n, change) VALUES (?, ?, ?, ?)`)
			if err != nil {
				return err
			}
			defer insChange.Close()
			for i, c := range rec.Changes {
				b, err := json.Marshal(c)
				if err != nil {
					return err
				}
				if _, err := insChange.Exec(tenant, id, i, b); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	db.rp().imported(tenant, rec.ID, plan)
	return rec, nil
}

// rosterCache is the current roster of a tenant as of an import, with
// indexes built on first use.
type rosterCache struct {
	version int64 // the id of the latest import applied
	rows    []reporting.RosterRow

	once    sync.Once
	units   []reporting.RosterRow // unit, parent and manager rows
	byKey   map[string][]int32    // employee id -> its person, member, role and ident rows
	members map[string][]string   // unit id -> employee ids with a membership row
}

func (c *rosterCache) index() {
	c.once.Do(func() {
		c.byKey, c.members = map[string][]int32{}, map[string][]string{}
		for i, r := range c.rows {
			switch r.Kind {
			case reporting.RowUnit, reporting.RowParent, reporting.RowManager:
				c.units = append(c.units, r)
				continue
			case reporting.RowMember:
				c.members[r.Value] = append(c.members[r.Value], r.Key)
			}
			c.byKey[r.Key] = append(c.byKey[r.Key], int32(i))
		}
	})
}

// filter returns the rows of the cache f selects (f.KnownAt is zero).
func (c *rosterCache) filter(f reporting.RosterFilter) []reporting.RosterRow {
	if f.People == nil && f.MembersOf == nil && !f.UnitsOnly {
		return c.rows
	}
	c.index()
	if f.UnitsOnly {
		return c.units
	}
	var keys []string
	seen := map[string]bool{}
	add := func(key string) {
		if !seen[key] {
			seen[key] = true
			keys = append(keys, key)
		}
	}
	if f.MembersOf == nil {
		for _, key := range f.People {
			add(key)
		}
	} else {
		var people map[string]bool
		if f.People != nil {
			people = map[string]bool{}
			for _, key := range f.People {
				people[key] = true
			}
		}
		for _, unit := range f.MembersOf {
			for _, key := range c.members[unit] {
				if people == nil || people[key] {
					add(key)
				}
			}
		}
	}
	n := 0
	for _, key := range keys {
		n += len(c.byKey[key])
	}
	out := make([]reporting.RosterRow, 0, n)
	for _, key := range keys {
		for _, i := range c.byKey[key] {
			out = append(out, c.rows[i])
		}
	}
	return out
}

// imported advances the tenant's cached roster by the plan of import id,
// when the cache holds the roster of the import before; otherwise (imports
// finishing out of order) it drops the cache, which the next read reloads.
func (s *rpState) imported(tenant string, id int64, plan *reporting.Plan) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	c := s.roster[tenant]
	if c == nil {
		return
	}
	if c.version != id-1 {
		delete(s.roster, tenant)
		return
	}
	gone := make(map[reporting.Timeline]bool, len(plan.Supersede))
	for _, t := range plan.Supersede {
		gone[t] = true
	}
	rows := make([]reporting.RosterRow, 0, len(c.rows)+len(plan.Insert))
	for _, r := range c.rows {
		if !gone[reporting.Timeline{Kind: r.Kind, Key: r.Key, Value: r.Value}] {
			rows = append(rows, r)
		}
	}
	for _, r := range plan.Insert {
		r.Recorded = id
		rows = append(rows, r)
	}
	s.roster[tenant] = &rosterCache{version: id, rows: rows}
}

// currentRows returns the current roster of a tenant from the cache,
// loading it when the cache is missing or older than the latest import.
// The rows are shared: callers must not modify them.
func (db *DB) currentRows(ctx context.Context, tenant string) (*rosterCache, error) {
	var latest int64
	s, err := db.stmt(ctx, `SELECT coalesce(max(id), 0) FROM rp_imports WHERE tenant = ?`)
	if err == nil {
		err = s.QueryRowContext(ctx, tenant).Scan(&latest)
	}
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: roster")
	}
	st := db.rp()
	st.rmu.Lock()
	defer st.rmu.Unlock()
	if c := st.roster[tenant]; c != nil && c.version == latest {
		return c, nil
	}
	// Read the rows and the version they belong to in one transaction.
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: roster")
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM rp_imports WHERE tenant = ?`, tenant).Scan(&latest); err != nil {
		return nil, errs.Wrap(err, "sqlite: roster")
	}
	// The text columns come packed in one, separated by a control
	// character (imports refuse them in roster text): reading a column
	// through database/sql costs more than splitting it, and this read is
	// a few hundred thousand rows.
	rows, err := tx.QueryContext(ctx, `SELECT kind || char(31) || key || char(31) || value || char(31) || name || char(31) || email,
		valid_from, valid_to, recorded FROM rp_roster NOT INDEXED WHERE tenant = ? AND superseded = 0`, tenant)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: roster")
	}
	defer rows.Close()
	out := []reporting.RosterRow{}
	intern := map[string]string{} // keys and values repeat: share them
	share := func(b []byte) string {
		if s, ok := intern[string(b)]; ok {
			return s
		}
		s := string(b)
		intern[s] = s
		return s
	}
	var packed sql.RawBytes
	for rows.Next() {
		var r reporting.RosterRow
		var from, to int64
		if err := rows.Scan(&packed, &from, &to, &r.Recorded); err != nil {
			return nil, errs.Wrap(err, "sqlite: roster")
		}
		parts := bytes.Split(packed, []byte{31})
		if len(parts) != 5 {
			return nil, errs.E(errs.Internal, "sqlite: a roster row with a control character in its text: %q", packed)
		}
		r.Kind, r.Key, r.Value = reporting.RowKind(share(parts[0])), share(parts[1]), share(parts[2])
		r.Name, r.Email = string(parts[3]), string(parts[4])
		r.From, r.To = reporting.Date(from), reporting.Date(to)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: roster")
	}
	c := &rosterCache{version: latest, rows: out}
	st.roster[tenant] = c
	return c, nil
}

// currentRoster reads the current rows of a tenant on the write
// connection.
func currentRoster(conn *sql.Conn, tenant string) ([]reporting.RosterRow, error) {
	rows, err := conn.QueryContext(context.Background(), `SELECT `+rosterColumns+` FROM rp_roster
		WHERE tenant = ? AND superseded = 0`, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []reporting.RosterRow
	for rows.Next() {
		r, err := scanRosterRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Imports lists the import records of tenant without their changes.
func (db *DB) Imports(ctx context.Context, tenant string) ([]*reporting.ImportRecord, error) {
	s, err := db.stmt(ctx, `SELECT record FROM rp_imports WHERE tenant = ? ORDER BY id`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: imports")
	}
	rows, err := s.QueryContext(ctx, tenant)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: imports")
	}
	defer rows.Close()
	out := []*reporting.ImportRecord{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, errs.Wrap(err, "sqlite: imports")
		}
		var rec reporting.ImportRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, errs.Wrap(err, "sqlite: import record")
		}
		out = append(out, &rec)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: imports")
	}
	return out, nil
}

// ImportRecord returns one import record with its changes.
func (db *DB) ImportRecord(ctx context.Context, tenant string, id int64) (*reporting.ImportRecord, error) {
	s, err := db.stmt(ctx, `SELECT record FROM rp_imports WHERE tenant = ? AND id = ?`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: import record")
	}
	var b []byte
	err = s.QueryRowContext(ctx, tenant, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "no import %d", id)
	}
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: import record")
	}
	var rec reporting.ImportRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, errs.Wrap(err, "sqlite: import record")
	}
	rec.Changes = []reporting.Change{}
	cs, err := db.stmt(ctx, `SELECT change FROM rp_import_changes WHERE tenant = ? AND import = ? ORDER BY n`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: import record")
	}
	rows, err := cs.QueryContext(ctx, tenant, id)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: import record")
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		var c reporting.Change
		if err := rows.Scan(&b); err != nil {
			return nil, errs.Wrap(err, "sqlite: import record")
		}
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, errs.Wrap(err, "sqlite: import change")
		}
		rec.Changes = append(rec.Changes, c)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: import record")
	}
	return &rec, nil
}

// RosterRows returns the rows f selects. The current roster (and its units)
// comes from a cache kept beside the database: reading 300,000 rows through
// database/sql costs more than a whole report may.
func (db *DB) RosterRows(ctx context.Context, tenant string, f reporting.RosterFilter) ([]reporting.RosterRow, error) {
	if f.KnownAt.IsZero() {
		c, err := db.currentRows(ctx, tenant)
		if err != nil {
			return nil, err
		}
		return c.filter(f), nil
	}
	var where strings.Builder
	args := []any{tenant}
	where.WriteString(`tenant = ?`)
	if f.KnownAt.IsZero() {
		where.WriteString(` AND superseded = 0`)
	} else {
		var known int64
		s, err := db.stmt(ctx, `SELECT coalesce(max(id), 0) FROM rp_imports WHERE tenant = ? AND recorded <= ?`)
		if err == nil {
			err = s.QueryRowContext(ctx, tenant, f.KnownAt.UnixNano()).Scan(&known)
		}
		if err != nil {
			return nil, errs.Wrap(err, "sqlite: roster")
		}
		where.WriteString(` AND recorded <= ? AND (superseded = 0 OR superseded > ?)`)
		args = append(args, known, known)
	}
	switch {
	case f.UnitsOnly:
		where.WriteString(` AND kind IN ('unit', 'parent', 'manager')`)
	case f.People != nil || f.MembersOf != nil:
		where.WriteString(` AND kind IN ('person', 'member', 'role', 'ident')`)
		if f.People != nil {
			where.WriteString(` AND key IN (SELECT value FROM json_each(?))`)
			args = append(args, jsonList(f.People))
		}
		if f.MembersOf != nil {
			// Any membership row, current or superseded, as of any time:
			// the caller picks what holds on its day.
			keys, err := db.membersOf(ctx, tenant, f.MembersOf)
			if err != nil {
				return nil, err
			}
			where.WriteString(` AND key IN (SELECT value FROM json_each(?))`)
			args = append(args, jsonList(keys))
		}
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+rosterColumns+` FROM rp_roster WHERE `+where.String(), args...)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: roster")
	}
	defer rows.Close()
	out := []reporting.RosterRow{}
	for rows.Next() {
		r, err := scanRosterRow(rows)
		if err != nil {
			return nil, errs.Wrap(err, "sqlite: roster")
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: roster")
	}
	return out, nil
}

// membersOf returns the employee ids with a membership row (of any
// version) in one of units.
func (db *DB) membersOf(ctx context.Context, tenant string, units []string) ([]string, error) {
	s, err := db.stmt(ctx, `SELECT DISTINCT key FROM rp_roster INDEXED BY rp_roster_member
		WHERE tenant = ? AND kind = 'member' AND value IN (SELECT value FROM json_each(?))`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: roster")
	}
	rows, err := s.QueryContext(ctx, tenant, jsonList(units))
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: roster")
	}
	defer rows.Close()
	keys := []string{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, errs.Wrap(err, "sqlite: roster")
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// jsonList encodes a list of strings as a JSON array for json_each.
func jsonList(list []string) string {
	if list == nil {
		list = []string{}
	}
	b, _ := json.Marshal(list)
	return string(b)
}
