package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"maps"
	"slices"
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

// ImportRoster applies imp in one writer job: the current rows it needs
// are read (planRows), the import planned and applied, and its record
// written, in one transaction. Import errors (reporting.PlanImport's) fail
// the call alone.
func (db *DB) ImportRoster(ctx context.Context, tenant string, imp *reporting.Import, now time.Time) (*reporting.ImportRecord, error) {
	now = now.UTC()
	var plan *reporting.Plan
	var rec *reporting.ImportRecord
	err := db.w.do(ctx, 1+len(imp.People),
		func(tx *wtx) error {
			cur, err := db.planRows(tx.conn, tenant, imp.Scope())
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
				if _, err := tx.conn.ExecContext(bg, `UPDATE rp_roster INDEXED BY rp_roster_key SET superseded = ?
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

// rosterCache is the current roster of a tenant as of an import, in two
// forms, each made from the other on first use: every row in one slice (a
// report of the whole organisation reads that) and the rows by person
// (filtered reads and imports use that). A cache never changes once made:
// an import makes the next one (next) from the rows by person, sharing
// those of everyone it did not touch, so that a small import costs little
// however large the roster. One of the forms is always made.
type rosterCache struct {
	version int64 // the id of the latest import applied
	all     *lazyRows
	idx     *lazyIndex
}

type lazyRows struct {
	once sync.Once
	rows []reporting.RosterRow
}

type lazyIndex struct {
	once sync.Once
	idx  *rosterIndex
}

// newRosterCache makes the cache of rows, the roster as of import version.
func newRosterCache(version int64, rows []reporting.RosterRow) *rosterCache {
	c := &rosterCache{version: version, all: &lazyRows{rows: rows}, idx: &lazyIndex{}}
	c.all.once.Do(func() {})
	return c
}

// rows returns every row of the roster. The slice is shared: callers must
// not modify it.
func (c *rosterCache) rows() []reporting.RosterRow {
	c.all.once.Do(func() { c.all.rows = c.index().flat() })
	return c.all.rows
}

// index returns the rows by person.
func (c *rosterCache) index() *rosterIndex {
	c.idx.once.Do(func() { c.idx.idx = newRosterIndex(c.rows()) })
	return c.idx.idx
}

// next returns the cache as of import id, whose plan applies to this one.
func (c *rosterCache) next(id int64, plan *reporting.Plan) *rosterCache {
	if len(plan.Supersede) == 0 && len(plan.Insert) == 0 {
		return &rosterCache{version: id, all: c.all, idx: c.idx}
	}
	n := &rosterCache{version: id, all: &lazyRows{}, idx: &lazyIndex{idx: c.index().next(id, plan)}}
	n.idx.once.Do(func() {})
	return n
}

// filter returns the rows of the cache f selects (f.KnownAt is zero).
func (c *rosterCache) filter(f reporting.RosterFilter) []reporting.RosterRow {
	if f.People == nil && f.MembersOf == nil && f.Holding == nil && !f.UnitsOnly {
		return c.rows()
	}
	return c.index().filter(f)
}

// scope returns the rows of the cache sc selects (all of them when sc is
// nil): what reporting.PlanImport needs.
func (c *rosterCache) scope(sc *reporting.RowScope) []reporting.RosterRow {
	if sc == nil {
		return c.rows()
	}
	return c.index().scope(sc)
}

// rosterIndex is a roster by person. It never changes once made; its maps
// and lists may be shared with other indexes.
type rosterIndex struct {
	units   []reporting.RosterRow            // unit, parent and manager rows
	people  map[string][]reporting.RosterRow // employee id -> its person, member, role and ident rows
	members map[string][]string              // unit id -> employee ids with a membership row, each once
	holders map[string][]string              // identifier match key -> employee ids with an ident row for it, each once
	size    int                              // rows in all
}

func newRosterIndex(rows []reporting.RosterRow) *rosterIndex {
	x := &rosterIndex{people: map[string][]reporting.RosterRow{}, members: map[string][]string{},
		holders: map[string][]string{}, size: len(rows)}
	for _, r := range rows {
		if !personKind(r.Kind) {
			x.units = append(x.units, r)
			continue
		}
		x.people[r.Key] = append(x.people[r.Key], r)
	}
	for key, rows := range x.people {
		for _, v := range valuesOf(rows, reporting.RowMember) {
			x.members[v] = append(x.members[v], key)
		}
		for _, v := range valuesOf(rows, reporting.RowIdent) {
			x.holders[v] = append(x.holders[v], key)
		}
	}
	return x
}

func personKind(k reporting.RowKind) bool {
	return k == reporting.RowPerson || k == reporting.RowMember || k == reporting.RowRole || k == reporting.RowIdent
}

// valuesOf returns the values of the rows of kind, each once.
func valuesOf(rows []reporting.RosterRow, kind reporting.RowKind) []string {
	var out []string
	for _, r := range rows {
		if r.Kind == kind && !slices.Contains(out, r.Value) {
			out = append(out, r.Value)
		}
	}
	return out
}

// flat returns every row, in one slice.
func (x *rosterIndex) flat() []reporting.RosterRow {
	out := make([]reporting.RosterRow, 0, x.size)
	out = append(out, x.units...)
	for _, rows := range x.people {
		out = append(out, rows...)
	}
	return out
}

// next returns the index as of import id, whose plan applies to this one:
// the timelines in plan.Supersede replaced by the rows of plan.Insert. Only
// the rows of the people the plan touches are copied (and the maps, whose
// lists they share).
func (x *rosterIndex) next(id int64, plan *reporting.Plan) *rosterIndex {
	n := *x
	gone := make(map[reporting.Timeline]bool, len(plan.Supersede))
	touched := map[string][]reporting.RosterRow{} // employee id -> its inserted rows
	unitsTouched := false
	for _, t := range plan.Supersede {
		gone[t] = true
		if !personKind(t.Kind) {
			unitsTouched = true
		} else if _, ok := touched[t.Key]; !ok {
			touched[t.Key] = nil
		}
	}
	var units []reporting.RosterRow // inserted unit, parent and manager rows
	for _, r := range plan.Insert {
		r.Recorded = id
		if personKind(r.Kind) {
			touched[r.Key] = append(touched[r.Key], r)
		} else {
			units = append(units, r)
			unitsTouched = true
		}
	}
	replace := func(old, inserted []reporting.RosterRow) []reporting.RosterRow {
		rows := slices.DeleteFunc(slices.Clone(old), func(r reporting.RosterRow) bool {
			return gone[reporting.Timeline{Kind: r.Kind, Key: r.Key, Value: r.Value}]
		})
		return append(rows, inserted...)
	}
	if unitsTouched {
		n.units = replace(x.units, units)
		n.size += len(n.units) - len(x.units)
	}
	if len(touched) > 0 {
		n.people, n.members, n.holders = maps.Clone(x.people), maps.Clone(x.members), maps.Clone(x.holders)
		for key, inserted := range touched {
			old := x.people[key]
			rows := replace(old, inserted)
			if len(rows) == 0 {
				delete(n.people, key)
			} else {
				n.people[key] = rows
			}
			n.reindex(key, old, rows)
			n.size += len(rows) - len(old)
		}
	}
	return &n
}

// reindex updates members and holders for the rows of one person, which
// were old and are now rows. The lists it changes are copied, never edited:
// older indexes share them.
func (x *rosterIndex) reindex(key string, old, rows []reporting.RosterRow) {
	for _, k := range []struct {
		kind reporting.RowKind
		m    map[string][]string
	}{{reporting.RowMember, x.members}, {reporting.RowIdent, x.holders}} {
		was, is := valuesOf(old, k.kind), valuesOf(rows, k.kind)
		for _, v := range was {
			if !slices.Contains(is, v) {
				k.m[v] = slices.DeleteFunc(slices.Clone(k.m[v]), func(p string) bool { return p == key })
				if len(k.m[v]) == 0 {
					delete(k.m, v)
				}
			}
		}
		for _, v := range is {
			if !slices.Contains(was, v) {
				k.m[v] = append(slices.Clip(k.m[v]), key)
			}
		}
	}
}

// filter returns the rows f selects by people, units or identifiers.
func (x *rosterIndex) filter(f reporting.RosterFilter) []reporting.RosterRow {
	if f.UnitsOnly {
		return x.units
	}
	// The candidates: the members of the units, else the holders of the
	// identifiers, else the people listed; then each filter set.
	var candidates []string
	switch {
	case f.MembersOf != nil:
		for _, unit := range f.MembersOf {
			candidates = append(candidates, x.members[unit]...)
		}
	case f.Holding != nil:
		for _, v := range f.Holding {
			candidates = append(candidates, x.holders[v]...)
		}
	default:
		candidates = f.People
	}
	var people map[string]bool
	if f.People != nil {
		people = make(map[string]bool, len(f.People))
		for _, key := range f.People {
			people[key] = true
		}
	}
	var keys []string
	seen := map[string]bool{}
	for _, key := range candidates {
		if seen[key] || people != nil && !people[key] || f.Holding != nil && !x.holds(key, f.Holding) {
			continue
		}
		seen[key] = true
		keys = append(keys, key)
	}
	n := 0
	for _, key := range keys {
		n += len(x.people[key])
	}
	out := make([]reporting.RosterRow, 0, n)
	for _, key := range keys {
		out = append(out, x.people[key]...)
	}
	return out
}

// holds reports whether person key has an ident row for one of values.
func (x *rosterIndex) holds(key string, values []string) bool {
	return slices.ContainsFunc(x.people[key], func(r reporting.RosterRow) bool {
		return r.Kind == reporting.RowIdent && slices.Contains(values, r.Value)
	})
}

// scope returns the rows sc selects.
func (x *rosterIndex) scope(sc *reporting.RowScope) []reporting.RosterRow {
	out := slices.Clone(x.units)
	for _, key := range sc.People {
		out = append(out, x.people[key]...)
	}
	for _, v := range sc.Idents {
		for _, key := range x.holders[v] {
			if _, listed := slices.BinarySearch(sc.People, key); listed {
				continue // all their rows are in already
			}
			for _, r := range x.people[key] {
				if r.Kind == reporting.RowIdent && r.Value == v {
					out = append(out, r)
				}
			}
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
	s.roster[tenant] = c.next(id, plan)
}

// planRows returns the current rows of tenant that reporting.PlanImport
// needs for an import of scope sc (nil: all), inside the writer's
// transaction on conn: from the cache when it holds the roster as of the
// latest import (which it usually does: each import advances it), else
// from the table.
func (db *DB) planRows(conn *sql.Conn, tenant string, sc *reporting.RowScope) ([]reporting.RosterRow, error) {
	if err := db.rp().checkEpoch(context.Background(), db); err != nil {
		return nil, err
	}
	var latest int64
	if err := conn.QueryRowContext(context.Background(), `SELECT coalesce(max(id), 0) FROM rp_imports WHERE tenant = ?`,
		tenant).Scan(&latest); err != nil {
		return nil, err
	}
	st := db.rp()
	st.rmu.Lock()
	c := st.roster[tenant]
	st.rmu.Unlock()
	if c != nil && c.version == latest {
		return c.scope(sc), nil
	}
	return currentRoster(conn, tenant, sc)
}

// currentRows returns the current roster of a tenant from the cache,
// loading it when the cache is missing or older than the latest import.
// The rows are shared: callers must not modify them.
func (db *DB) currentRows(ctx context.Context, tenant string) (*rosterCache, error) {
	if err := db.rp().checkEpoch(ctx, db); err != nil {
		return nil, err
	}
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
	c := newRosterCache(latest, out)
	st.roster[tenant] = c
	return c, nil
}

// currentRoster reads the current rows of tenant that sc selects (nil:
// all) on the write connection. With a scope, three index lookups: the
// unit rows and the holders of the identifiers named (rp_roster_current),
// and the rows of the people named (rp_roster_key).
func currentRoster(conn *sql.Conn, tenant string, sc *reporting.RowScope) ([]reporting.RosterRow, error) {
	q := `SELECT ` + rosterColumns + ` FROM rp_roster NOT INDEXED WHERE tenant = ? AND superseded = 0`
	args := []any{tenant}
	if sc != nil {
		people, idents := jsonList(sc.People), jsonList(sc.Idents)
		q = `SELECT ` + rosterColumns + ` FROM rp_roster INDEXED BY rp_roster_current
			WHERE tenant = ? AND superseded = 0 AND kind IN ('unit', 'parent', 'manager')
		UNION ALL
		SELECT ` + rosterColumns + ` FROM rp_roster INDEXED BY rp_roster_key
			WHERE tenant = ? AND key IN (SELECT value FROM json_each(?)) AND kind IN ('person', 'member', 'role', 'ident') AND superseded = 0
		UNION ALL
		SELECT ` + rosterColumns + ` FROM rp_roster INDEXED BY rp_roster_current
			WHERE tenant = ? AND superseded = 0 AND kind = 'ident' AND value IN (SELECT value FROM json_each(?))
			AND key NOT IN (SELECT value FROM json_each(?))`
		args = append(args, tenant, people, tenant, idents, people)
	}
	rows, err := conn.QueryContext(context.Background(), q, args...)
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
	case f.People != nil || f.MembersOf != nil || f.Holding != nil:
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
		if f.Holding != nil {
			// Any ident row, as with memberships (only known-at reports
			// come here, through the tenant's rows: the current roster is
			// served from the cache).
			where.WriteString(` AND key IN (SELECT key FROM rp_roster WHERE tenant = ? AND kind = 'ident' AND value IN (SELECT value FROM json_each(?)))`)
			args = append(args, tenant, jsonList(f.Holding))
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
