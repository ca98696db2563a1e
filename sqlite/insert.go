package sqlite

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// Facet kinds: what a statement is indexed by (stored in the database, in
// keys and in the inherited column: never renumber). The agent filter matches
// kindAgent, or kindAgent and kindAgentRelated with related_agents=true;
// likewise for activities. A value is indexed once per statement: an agent
// both in Agents and RelatedAgents only as kindAgent.
const (
	kindAgent           = 1 // Record.Agents
	kindAgentRelated    = 2 // Record.RelatedAgents
	kindActivity        = 3 // Record.Activities
	kindActivityRelated = 4 // Record.RelatedActivities
	kindVerb            = 5
	kindReg             = 6 // registration
	kindAuthority       = 7 // statements/read/mine; not inherited through StatementRefs
)

type facet struct {
	kind  int
	value string
}

// facetKey is the index key of a facet of a tenant: the first 64 bits of
// SHA-256(tenant NUL kind NUL value), never 0.
func facetKey(tenant string, f facet) int64 {
	buf := make([]byte, 0, len(tenant)+len(f.value)+4)
	buf = append(buf, tenant...)
	buf = append(buf, 0, byte(f.kind), 0)
	buf = append(buf, f.value...)
	h := sha256.Sum256(buf)
	if k := int64(binary.BigEndian.Uint64(h[:8])); k != 0 {
		return k
	}
	return 1 // 0 means "no key" to buildQuery
}

type facets []facet

func (fs facets) has(f facet) bool { return slices.Contains(fs, f) }

// facetSet holds facets for O(1) membership tests: the facet lists of a
// statement can be long (one per person and activity it names), so they are
// never compared pairwise.
type facetSet map[facet]struct{}

// setOf returns the set of the facets in lists.
func setOf(lists ...facets) facetSet {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	set := make(facetSet, n)
	for _, l := range lists {
		for _, f := range l {
			set[f] = struct{}{}
		}
	}
	return set
}

// minus returns the facets of fs not in others.
func (fs facets) minus(others ...facets) facets {
	if len(fs) == 0 {
		return nil
	}
	drop := setOf(others...)
	var out facets
	for _, f := range fs {
		if _, ok := drop[f]; !ok {
			out = append(out, f)
		}
	}
	return out
}

// marshal encodes fs as a JSON array of "kind value" strings (NULL when empty).
func (fs facets) marshal() any {
	if len(fs) == 0 {
		return nil
	}
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = strconv.Itoa(f.kind) + " " + f.value
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func unmarshalFacets(s sql.NullString) (facets, error) {
	var list []string
	if err := unmarshalList(s, &list); err != nil {
		return nil, err
	}
	fs := make(facets, 0, len(list))
	for _, e := range list {
		k, v, ok := strings.Cut(e, " ")
		n, err := strconv.Atoi(k)
		if !ok || err != nil {
			return nil, errors.New("sqlite: bad inherited facet " + strconv.Quote(e))
		}
		fs = append(fs, facet{n, v})
	}
	return fs, nil
}

// ownFacets returns the facets of a statement's own fields, each once: an
// agent (activity) both in the plain and the related list only as
// kindAgent (kindActivity). Queries call it for every candidate row, so a
// short list is searched and only a long one gets a set.
func ownFacets(agents, related, acts, relActs []string, verb, reg, authority string) facets {
	fs := make(facets, 0, len(agents)+len(related)+len(acts)+len(relActs)+3)
	var seen facetSet // once fs is long
	has := func(f facet) bool {
		if seen != nil {
			_, ok := seen[f]
			return ok
		}
		return fs.has(f)
	}
	add := func(kind int, value string) {
		f := facet{kind, value}
		if value == "" || has(f) {
			return
		}
		fs = append(fs, f)
		switch {
		case seen != nil:
			seen[f] = struct{}{}
		case len(fs) == shortFacets:
			seen = setOf(fs)
		}
	}
	for _, a := range agents {
		add(kindAgent, a)
	}
	for _, a := range related {
		if !has(facet{kindAgent, a}) {
			add(kindAgentRelated, a)
		}
	}
	for _, a := range acts {
		add(kindActivity, a)
	}
	for _, a := range relActs {
		if !has(facet{kindActivity, a}) {
			add(kindActivityRelated, a)
		}
	}
	add(kindVerb, verb)
	add(kindReg, reg)
	add(kindAuthority, authority)
	return fs
}

// shortFacets is the length up to which a facet list is searched rather
// than put in a set.
const shortFacets = 16

// heritable returns the facets a statement passes to the statements
// referring to it: all but the authority.
func heritable(own, inherited facets) facets {
	out := make(facets, 0, len(own)+len(inherited))
	for _, f := range own {
		if f.kind != kindAuthority {
			out = append(out, f)
		}
	}
	return append(out, inherited...)
}

// marshalList encodes a string list as a JSON array (NULL when empty).
func marshalList(s []string) any {
	if len(s) == 0 {
		return nil
	}
	b, _ := statements.AppendJSON(make([]byte, 0, 64), s)
	return string(b)
}

// unmarshalList reads a list that marshalList wrote. Queries read five
// lists for every candidate row, so the common list, whose strings have no
// escapes, is split where its strings meet ("," cannot occur inside a
// string without a backslash); any other goes through encoding/json.
func unmarshalList(s sql.NullString, dst *[]string) error {
	if !s.Valid || s.String == "" {
		*dst = nil
		return nil
	}
	v := s.String
	if inner, ok := strings.CutPrefix(v, `["`); ok && strings.HasSuffix(inner, `"]`) && !strings.Contains(v, `\`) {
		inner = inner[:len(inner)-2]
		list := make([]string, 0, strings.Count(inner, `","`)+1)
		for e := range strings.SplitSeq(inner, `","`) {
			list = append(list, e)
		}
		*dst = list
		return nil
	}
	return json.Unmarshal([]byte(v), dst)
}

// wtx holds the write connection and its prepared statements.
type wtx struct {
	conn *sql.Conn

	begin, commit, rollback *sql.Stmt

	insert, target, referrers, void, inherit, attachment, credential, credentialExists, ping *sql.Stmt

	facetInserts map[int]*sql.Stmt    // INSERT of n facet rows, by n
	inQueries    map[string]*sql.Stmt // queryIn's statements, by SQL text
	rows         []facetRow           // facet rows waiting for flushFacets
}

// facetRow is one row of the facets table.
type facetRow struct{ key, stored, seq int64 }

func prepareWrites(conn *sql.Conn) (*wtx, error) {
	tx := &wtx{conn: conn, facetInserts: map[int]*sql.Stmt{}, inQueries: map[string]*sql.Stmt{}}
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&tx.begin, `BEGIN IMMEDIATE`},
		{&tx.commit, `COMMIT`},
		{&tx.rollback, `ROLLBACK`},
		{&tx.insert, `INSERT INTO statements (tenant, id, stored, timestamp, authority, verb, registration,
			ref_id, voids, hash, agents, related_agents, activities, related_activities, attachment_hashes, json)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&tx.target, `SELECT seq, voids, verb, registration, authority, agents, related_agents, activities,
			related_activities, inherited FROM statements WHERE tenant = ? AND id = ?`},
		{&tx.referrers, `SELECT seq, id, stored, voids, verb, registration, authority, agents, related_agents,
			activities, related_activities, inherited FROM statements WHERE tenant = ? AND ref_id = ? AND ref_id <> ''`},
		{&tx.void, `UPDATE statements SET voided = 1 WHERE seq = ?`},
		{&tx.inherit, `UPDATE statements SET inherited = ? WHERE seq = ?`},
		{&tx.attachment, `INSERT INTO attachments (tenant, sha2, content_type, data) VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant, sha2) DO NOTHING`},
		{&tx.credential, `INSERT INTO credentials (key, secret_hash, name, tenant, scopes, created, revoked)
			VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&tx.credentialExists, `SELECT count(*) FROM credentials WHERE key = ?`},
		{&tx.ping, `INSERT INTO meta (key, value) VALUES ('ping', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`},
	} {
		s, err := conn.PrepareContext(context.Background(), p.query)
		if err != nil {
			tx.close()
			return nil, err
		}
		*p.dst = s
	}
	return tx, nil
}

func (tx *wtx) close() error {
	for _, s := range []*sql.Stmt{tx.begin, tx.commit, tx.rollback, tx.insert, tx.target,
		tx.referrers, tx.void, tx.inherit, tx.attachment, tx.credential, tx.credentialExists, tx.ping} {
		if s != nil {
			s.Close()
		}
	}
	for _, s := range tx.facetInserts {
		s.Close()
	}
	for _, s := range tx.inQueries {
		s.Close()
	}
	return tx.conn.Close()
}

// stmtRow is the part of a stored statement the insert logic reads back.
type stmtRow struct {
	seq       int64
	id        string
	stored    int64
	voids     string
	own       facets
	inherited facets
}

func scanStmtRow(sc interface{ Scan(...any) error }, withIDStored bool) (*stmtRow, error) {
	var (
		r                                  stmtRow
		verb, reg, authority               string
		agents, related, acts, relActs, in sql.NullString
	)
	dst := []any{&r.seq}
	if withIDStored {
		dst = append(dst, &r.id, &r.stored)
	}
	dst = append(dst, &r.voids, &verb, &reg, &authority, &agents, &related, &acts, &relActs, &in)
	if err := sc.Scan(dst...); err != nil {
		return nil, err
	}
	var la, lr, lc, lrc []string
	for _, x := range []struct {
		s   sql.NullString
		dst *[]string
	}{{agents, &la}, {related, &lr}, {acts, &lc}, {relActs, &lrc}} {
		if err := unmarshalList(x.s, x.dst); err != nil {
			return nil, err
		}
	}
	r.own = ownFacets(la, lr, lc, lrc, verb, reg, authority)
	var err error
	r.inherited, err = unmarshalFacets(in)
	return &r, err
}

// addFacets queues the facet rows of statement seq; flushFacets writes them.
func (tx *wtx) addFacets(tenant string, stored, seq int64, fs facets) {
	for _, f := range fs {
		tx.rows = append(tx.rows, facetRow{facetKey(tenant, f), stored, seq})
	}
}

// maxFacetRows is the most facet rows one INSERT writes.
const maxFacetRows = 64

// flushFacets writes the queued facet rows, in key order (neighbours in the
// index are written together), a few INSERTs of many rows.
func (tx *wtx) flushFacets() error {
	rows := tx.rows
	tx.rows = tx.rows[:0]
	slices.SortFunc(rows, func(a, b facetRow) int { return cmp.Compare(a.key, b.key) })
	args := make([]any, 0, 3*maxFacetRows)
	for len(rows) > 0 {
		n := min(len(rows), maxFacetRows)
		st, ok := tx.facetInserts[n]
		if !ok {
			q := "INSERT OR IGNORE INTO facets (key, stored, seq) VALUES " +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", n), ", ")
			var err error
			if st, err = tx.conn.PrepareContext(context.Background(), q); err != nil {
				return err
			}
			tx.facetInserts[n] = st
		}
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r.key, r.stored, r.seq)
		}
		if _, err := st.Exec(args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// conflict is the error of a statement id stored with other content.
func conflict(i, n int, id string) error {
	e := &errs.Error{Kind: errs.Conflict, Rule: "statement-id-conflict",
		Message: "statement " + id + " is already stored with different content"}
	if n > 1 {
		e.Path = fmt.Sprintf("[%d]", i)
	}
	return e
}

// prepared is a record with what its row and facet rows need, worked out
// before the writer runs (prepare), so that the one writer goroutine only
// writes.
type prepared struct {
	*statements.Record
	own   facets  // ownFacets of the record
	keys  []int64 // facetKey of each of own
	lists [5]any  // marshalList of Agents, RelatedAgents, Activities, RelatedActivities, AttachmentHashes
}

// prepare works out the rows of recs (see prepared).
func prepare(recs []*statements.Record) []*prepared {
	out := make([]*prepared, len(recs))
	for i, r := range recs {
		p := &prepared{Record: r}
		p.own = ownFacets(r.Agents, r.RelatedAgents, r.Activities, r.RelatedActivities, r.VerbID, r.Registration, r.Authority)
		p.keys = make([]int64, len(p.own))
		for k, f := range p.own {
			p.keys[k] = facetKey(r.Tenant, f)
		}
		for k, l := range [][]string{r.Agents, r.RelatedAgents, r.Activities, r.RelatedActivities, r.AttachmentHashes} {
			p.lists[k] = marshalList(l)
		}
		out[i] = p
	}
	return out
}

// maxInArgs bounds the ids of one "IN (...)" query.
const maxInArgs = 500

// queryIn runs query, whose one "IN (?)" placeholder is widened to the ids,
// for the ids of a tenant, maxInArgs at a time, calling fn for each row.
func (tx *wtx) queryIn(query, tenant string, ids []string, fn func(*sql.Rows) error) error {
	for len(ids) > 0 {
		n := min(len(ids), maxInArgs)
		args := make([]any, 0, n+1)
		args = append(args, tenant)
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		q := strings.Replace(query, "IN (?)", "IN ("+strings.TrimSuffix(strings.Repeat("?,", n), ",")+")", 1)
		st, ok := tx.inQueries[q]
		if !ok {
			var err error
			if st, err = tx.conn.PrepareContext(context.Background(), q); err != nil {
				return err
			}
			if len(tx.inQueries) > 64 { // one per batch size: keep the common ones
				for k, old := range tx.inQueries {
					old.Close()
					delete(tx.inQueries, k)
				}
			}
			tx.inQueries[q] = st
		}
		rows, err := st.Query(args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := fn(rows); err != nil {
				rows.Close()
				return err
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// byTenant returns the ids of recs by tenant, in order of first
// appearance.
func byTenant(recs []*prepared) (tenants []string, ids map[string][]string) {
	ids = map[string][]string{}
	for _, r := range recs {
		if _, ok := ids[r.Tenant]; !ok {
			tenants = append(tenants, r.Tenant)
		}
		ids[r.Tenant] = append(ids[r.Tenant], r.ID)
	}
	return tenants, ids
}

// tenantID is a statement's key in the maps of a call.
type tenantID struct{ tenant, id string }

// checkInsert returns the records of recs not stored yet, without writing:
// a record stored with the same Hash (or repeated in recs) is skipped, one
// with another Hash is an errs.Conflict error. One query per tenant reads
// the hashes of the ids stored already.
func (tx *wtx) checkInsert(recs []*prepared) ([]*prepared, error) {
	tenants, ids := byTenant(recs)
	stored := map[tenantID]string{}
	for _, t := range tenants {
		err := tx.queryIn(`SELECT id, hash FROM statements WHERE tenant = ? AND id IN (?)`, t, ids[t],
			func(rows *sql.Rows) error {
				var id, h string
				if err := rows.Scan(&id, &h); err != nil {
					return err
				}
				stored[tenantID{t, id}] = h
				return nil
			})
		if err != nil {
			return nil, err
		}
	}
	fresh := make([]*prepared, 0, len(recs))
	var seen map[tenantID]string
	if len(recs) > 1 {
		seen = make(map[tenantID]string, len(recs))
	}
	for i, r := range recs {
		k := tenantID{r.Tenant, r.ID}
		if h, ok := stored[k]; ok {
			if h != r.Hash {
				return nil, conflict(i, len(recs), r.ID)
			}
			continue
		}
		if seen != nil {
			if h, ok := seen[k]; ok {
				if h != r.Hash {
					return nil, conflict(i, len(recs), r.ID)
				}
				continue
			}
			seen[k] = r.Hash
		}
		fresh = append(fresh, r)
	}
	return fresh, nil
}

// insertAll stores fresh records (checked by checkInsert) and atts in the
// current transaction. One query finds which of them stored statements
// refer to (propagate then runs for those alone).
func (tx *wtx) insertAll(fresh []*prepared, atts []statements.Attachment) error {
	referred := map[tenantID]bool{}
	tenants, ids := byTenant(fresh)
	for _, t := range tenants {
		err := tx.queryIn(`SELECT DISTINCT ref_id FROM statements WHERE tenant = ? AND ref_id IN (?) AND ref_id <> ''`,
			t, ids[t], func(rows *sql.Rows) error {
				var id string
				if err := rows.Scan(&id); err != nil {
					return err
				}
				referred[tenantID{t, id}] = true
				return nil
			})
		if err != nil {
			return err
		}
	}
	for _, r := range fresh {
		if err := tx.insertOne(r, referred); err != nil {
			return err
		}
	}
	if err := tx.flushFacets(); err != nil {
		return err
	}
	// Attachments belong to the tenant of the statements carrying them.
	for _, a := range atts {
		for _, t := range tenants {
			if _, err := tx.attachment.Exec(t, a.SHA2, a.ContentType, a.Data); err != nil {
				return err
			}
		}
	}
	return nil
}

// insertOne stores r. referred holds the ids of the records of its call
// that statements stored before the call refer to.
func (tx *wtx) insertOne(r *prepared, referred map[tenantID]bool) error {
	stored := r.Stored.UnixNano()
	res, err := tx.insert.Exec(r.Tenant, r.ID, stored, r.Timestamp.UTC().Format(time.RFC3339Nano), r.Authority,
		r.VerbID, r.Registration, r.RefID, r.Voids, r.Hash, r.lists[0], r.lists[1], r.lists[2], r.lists[3], r.lists[4], r.JSON)
	if err != nil {
		return err
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return err
	}
	own := r.own
	for _, k := range r.keys {
		tx.rows = append(tx.rows, facetRow{k, stored, seq})
	}
	if r.RefID != "" {
		// Records of the same call stored after r refer to it: propagate
		// must look for them.
		referred[tenantID{r.Tenant, r.RefID}] = true
	}

	// The StatementRef target, if stored: voided by r, and its facets
	// inherited by r.
	var inherited facets
	if r.RefID != "" {
		t, err := scanStmtRow(tx.target.QueryRow(r.Tenant, r.RefID), false)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			if r.Voids != "" && t.voids == "" {
				if _, err := tx.void.Exec(t.seq); err != nil {
					return err
				}
			}
			inherited = heritable(t.own, t.inherited).minus(own)
			if len(inherited) > 0 {
				tx.addFacets(r.Tenant, stored, seq, inherited)
				if _, err := tx.inherit.Exec(inherited.marshal(), seq); err != nil {
					return err
				}
			}
		}
	}

	// Statements stored earlier that refer to r: r is voided if one of them
	// voids it, and they (transitively) inherit r's facets.
	if !referred[tenantID{r.Tenant, r.ID}] {
		return nil
	}
	return tx.propagate(r.Record, seq, heritable(own, inherited))
}

// propagate gives the statements referring to r, and those referring to
// them, the facets of r they lack, and voids r if one of them voids it.
func (tx *wtx) propagate(r *statements.Record, seq int64, give facets) error {
	type item struct {
		id   string
		give facets
	}
	queue := []item{{r.ID, give}}
	for first := true; len(queue) > 0; first = false {
		it := queue[0]
		queue = queue[1:]
		rows, err := tx.referrers.Query(r.Tenant, it.id)
		if err != nil {
			return err
		}
		var refs []*stmtRow
		for rows.Next() {
			ref, err := scanStmtRow(rows, true)
			if err != nil {
				rows.Close()
				return err
			}
			refs = append(refs, ref)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, ref := range refs {
			if first && ref.voids == r.ID && r.Voids == "" {
				if _, err := tx.void.Exec(seq); err != nil {
					return err
				}
			}
			add := it.give.minus(ref.own, ref.inherited)
			if len(add) == 0 {
				continue
			}
			tx.addFacets(r.Tenant, ref.stored, ref.seq, add)
			if _, err := tx.inherit.Exec(append(ref.inherited, add...).marshal(), ref.seq); err != nil {
				return err
			}
			queue = append(queue, item{ref.id, add})
		}
	}
	return nil
}
