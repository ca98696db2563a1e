package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// Insert stores recs and atts durably and atomically; see
// statements.Store. Concurrent calls share commits.
func (db *DB) Insert(ctx context.Context, recs []*statements.Record, atts []statements.Attachment) error {
	if len(recs) == 0 {
		return nil
	}
	if slices.Contains(recs, nil) {
		return errs.E(errs.Internal, "sqlite: insert of a nil record")
	}
	token := db.pending.add(recs)
	defer db.pending.done(token)
	all := prepare(recs)
	var fresh []*prepared
	return db.w.do(ctx, len(recs),
		func(tx *wtx) (err error) {
			fresh, err = tx.checkInsert(all)
			return err
		},
		func(tx *wtx) error { return tx.insertAll(fresh, atts) })
}

// RawInsert stores recs like Insert, in one transaction of its own on the
// write connection, bypassing the group-commit queue. It is the ceiling the
// load tool compares Insert with (the same schema and SQL, one durable
// commit per call); the service uses Insert.
func (db *DB) RawInsert(ctx context.Context, recs []*statements.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	token := db.pending.add(recs)
	defer db.pending.done(token)
	all := prepare(recs)
	w := db.w
	w.txMu.Lock()
	defer w.txMu.Unlock()
	w.closeMu.RLock()
	closed := w.closed
	w.closeMu.RUnlock()
	if closed {
		return errClosed
	}
	if _, err := w.tx.begin.Exec(); err != nil {
		return errs.Wrap(err, "sqlite: write")
	}
	w.tx.rows = w.tx.rows[:0]
	fresh, err := w.tx.checkInsert(all)
	if err == nil {
		err = w.tx.insertAll(fresh, nil)
	}
	if err != nil {
		w.tx.rollback.Exec()
		if isClientError(err) {
			return err
		}
		return errs.Wrap(err, "sqlite: write")
	}
	if _, err := w.tx.commit.Exec(); err != nil {
		w.tx.rollback.Exec()
		return errs.Wrap(err, "sqlite: write")
	}
	w.wrote = true
	if w.committed != nil {
		w.committed()
	}
	return nil
}

// columns are the statements columns scanRecord reads, in order.
var columns = []string{"seq", "tenant", "id", "stored", "timestamp", "authority", "verb", "registration",
	"ref_id", "voids", "voided", "hash", "agents", "related_agents", "activities", "related_activities",
	"attachment_hashes", "json"}

var (
	recordColumns  = strings.Join(columns, ", ")
	sRecordColumns = "s." + strings.Join(columns, ", s.")
)

// scanRecord reads a row of columns, followed by the extra columns into
// extra.
func scanRecord(sc interface{ Scan(...any) error }, extra ...any) (*statements.Record, int64, error) {
	var (
		r                                        statements.Record
		seq, stored                              int64
		ts                                       string
		agents, related, acts, relActs, attaches sql.NullString
	)
	err := sc.Scan(append([]any{&seq, &r.Tenant, &r.ID, &stored, &ts, &r.Authority, &r.VerbID, &r.Registration,
		&r.RefID, &r.Voids, &r.Voided, &r.Hash, &agents, &related, &acts, &relActs, &attaches, &r.JSON}, extra...)...)
	if err != nil {
		return nil, 0, err
	}
	r.Stored = time.Unix(0, stored).UTC()
	if r.Timestamp, err = time.Parse(time.RFC3339Nano, ts); err != nil {
		return nil, 0, err
	}
	for _, x := range []struct {
		s   sql.NullString
		dst *[]string
	}{{agents, &r.Agents}, {related, &r.RelatedAgents}, {acts, &r.Activities}, {relActs, &r.RelatedActivities},
		{attaches, &r.AttachmentHashes}} {
		if err := unmarshalList(x.s, x.dst); err != nil {
			return nil, 0, err
		}
	}
	return &r, seq, nil
}

// Get returns the statement with the id, voided or not.
func (db *DB) Get(ctx context.Context, tenant, id string) (*statements.Record, error) {
	s, err := db.stmt(ctx, `SELECT `+recordColumns+` FROM statements WHERE tenant = ? AND id = ?`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: get statement")
	}
	r, _, err := scanRecord(s.QueryRowContext(ctx, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "no statement with id %s", id)
	}
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: get statement")
	}
	return r, nil
}

// cursor is the position of a paged query: the newest seq visible when its
// first page was read (later statements never join), and the (stored, seq)
// of the last statement returned.
type cursor struct {
	maxSeq, stored, seq int64
}

const cursorVersion = 1

func (c cursor) String() string {
	b := []byte{cursorVersion}
	b = binary.AppendVarint(b, c.maxSeq)
	b = binary.AppendVarint(b, c.stored)
	b = binary.AppendVarint(b, c.seq)
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseCursor(s string) (cursor, error) {
	bad := errs.Invalidf("cursor", "cursor", "the more link's cursor is not valid")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 1 || b[0] != cursorVersion {
		return cursor{}, bad
	}
	b = b[1:]
	var v [3]int64
	for i := range v {
		x, n := binary.Varint(b)
		if n <= 0 {
			return cursor{}, bad
		}
		v[i], b = x, b[n:]
	}
	if len(b) != 0 {
		return cursor{}, bad
	}
	return cursor{maxSeq: v[0], stored: v[1], seq: v[2]}, nil
}

// A cond is one filter of a query: the statements indexed with value under
// any of kinds.
type cond struct {
	kinds []int
	value string
}

func (c cond) keys(tenant string) []int64 {
	keys := make([]int64, len(c.kinds))
	for i, k := range c.kinds {
		keys[i] = facetKey(tenant, facet{k, c.value})
	}
	return keys
}

// conditions returns the facet filters of q, the most selective first: it
// drives the query. The authority is a facet filter only when alone (it
// selects little: one client often writes most statements).
func conditions(q statements.Query) []cond {
	var conds []cond
	if q.Registration != "" {
		conds = append(conds, cond{[]int{kindReg}, q.Registration})
	}
	if q.Agent != "" {
		c := cond{[]int{kindAgent}, q.Agent}
		if q.RelatedAgents {
			c.kinds = append(c.kinds, kindAgentRelated)
		}
		conds = append(conds, c)
	}
	if q.Activity != "" {
		c := cond{[]int{kindActivity}, q.Activity}
		if q.RelatedActivities {
			c.kinds = append(c.kinds, kindActivityRelated)
		}
		conds = append(conds, c)
	}
	if q.Verb != "" {
		conds = append(conds, cond{[]int{kindVerb}, q.Verb})
	}
	if len(conds) == 0 && q.Authority != "" {
		conds = append(conds, cond{[]int{kindAuthority}, q.Authority})
	}
	return conds
}

// buildQuery returns the SQL and arguments reading, after cur, the first
// limit candidates of q whose facet key is drive (0: any statement).
//
// With a drive key, the query is an index range scan of facets in (stored,
// seq) order, joined to statements by seq; the other conditions (conds[1:])
// are exact lookups of the same statement's facets. Without one, the scan is
// of statements (tenant, stored, seq). The rows are candidates: facet keys
// are hashes, so matches checks them.
func buildQuery(q statements.Query, conds []cond, drive int64, cur cursor, limit int) (string, []any) {
	var b strings.Builder
	var args []any
	o := "s" // the table whose (stored, seq) orders the scan
	b.WriteString("SELECT " + sRecordColumns + ", s.inherited")
	if drive != 0 {
		o = "f"
		b.WriteString(` FROM facets f CROSS JOIN statements s
			WHERE f.key = ? AND s.seq = f.seq AND f.seq <= ? AND s.tenant = ?`)
		args = append(args, drive, cur.maxSeq, q.Tenant)
	} else {
		// The unary + keeps the planner from scanning by seq.
		b.WriteString(` FROM statements s WHERE s.tenant = ? AND +s.seq <= ?`)
		args = append(args, q.Tenant, cur.maxSeq)
	}
	args = rowFilters(&b, args, q)
	args = placeRange(&b, args, q, cur, o+".")
	if drive != 0 {
		args = condFilters(&b, args, q, conds[1:])
	}
	return orderLimit(&b, args, q, o+".", limit)
}

// rowFilters appends the conditions of q on a row of statements s: not
// voided (unless q includes voided ones), by q's authority.
func rowFilters(b *strings.Builder, args []any, q statements.Query) []any {
	if !q.IncludeVoided {
		b.WriteString(` AND s.voided = 0`)
	}
	if q.Authority != "" {
		b.WriteString(" AND s.authority = ?")
		args = append(args, q.Authority)
	}
	return args
}

// condFilters appends conds, the conditions besides the driving one, each
// met by a facet of the row of statements s.
func condFilters(b *strings.Builder, args []any, q statements.Query, conds []cond) []any {
	for _, c := range conds {
		keys := c.keys(q.Tenant)
		b.WriteString(" AND EXISTS (SELECT 1 FROM facets g WHERE g.key IN (?" + strings.Repeat(", ?", len(keys)-1) +
			") AND g.stored = s.stored AND g.seq = s.seq)")
		for _, k := range keys {
			args = append(args, k)
		}
	}
	return args
}

// placeRange appends the conditions on the place (stored, seq) of a row
// of the table with prefix t ("f.", "s." or ""): within q's time range and
// after cur.
func placeRange(b *strings.Builder, args []any, q statements.Query, cur cursor, t string) []any {
	if !q.Since.IsZero() {
		b.WriteString(" AND " + t + "stored > ?")
		args = append(args, q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		b.WriteString(" AND " + t + "stored <= ?")
		args = append(args, q.Until.UnixNano())
	}
	if cur.seq != 0 {
		cmp := "<"
		if q.Ascending {
			cmp = ">"
		}
		b.WriteString(" AND (" + t + "stored, " + t + "seq) " + cmp + " (?, ?)")
		args = append(args, cur.stored, cur.seq)
	}
	return args
}

// orderLimit appends the order of q by the place of the table with prefix
// t, and the limit, and returns the query.
func orderLimit(b *strings.Builder, args []any, q statements.Query, t string, limit int) (string, []any) {
	dir := "DESC"
	if q.Ascending {
		dir = "ASC"
	}
	b.WriteString(" ORDER BY " + t + "stored " + dir + ", " + t + "seq " + dir + " LIMIT ?")
	return b.String(), append(args, limit)
}

// candidate is a row read by a query built by buildQuery, or a place in
// the index (stored, seq) whose row a query with several driving keys did
// not read (rec nil: it failed the row's filters).
type candidate struct {
	rec       *statements.Record
	stored    int64 // Unix nanoseconds
	seq       int64
	inherited facets
}

// matches reports whether c meets the tenant, authority and every condition
// of q (the index found it by hashed keys).
func (c *candidate) matches(q statements.Query, conds []cond) bool {
	r := c.rec
	if r.Tenant != q.Tenant || q.Authority != "" && r.Authority != q.Authority {
		return false
	}
	var own facets
	for _, cd := range conds {
		if own == nil {
			own = ownFacets(r.Agents, r.RelatedAgents, r.Activities, r.RelatedActivities, r.VerbID, r.Registration, r.Authority)
		}
		if !slices.ContainsFunc(cd.kinds, func(k int) bool {
			return own.has(facet{k, cd.value}) || c.inherited.has(facet{k, cd.value})
		}) {
			return false
		}
	}
	return true
}

// defaultLimit applies when a query gives no limit.
const defaultLimit = 100

// Query returns one page of the statements matching q; see statements.Store.
func (db *DB) Query(ctx context.Context, q statements.Query) (statements.Page, error) {
	// In order of arrival: database/sql gives a freed connection to a
	// waiter chosen at random, so that under load some queries waited
	// many turns (p99 two to three times the mean); a channel's waiting
	// senders are served first come, first served.
	select {
	case db.queryGate <- struct{}{}:
		defer func() { <-db.queryGate }()
	case <-ctx.Done():
		return statements.Page{}, errs.Wrap(ctx.Err(), "sqlite: query statements")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	var cur cursor
	if q.Cursor != "" {
		var err error
		if cur, err = parseCursor(q.Cursor); err != nil {
			return statements.Page{}, err
		}
	} else {
		s, err := db.stmt(ctx, `SELECT coalesce(max(seq), 0) FROM statements`)
		if err == nil {
			err = s.QueryRowContext(ctx).Scan(&cur.maxSeq)
		}
		if err != nil {
			return statements.Page{}, errs.Wrap(err, "sqlite: query statements")
		}
	}
	page, err := db.query(ctx, q, cur, limit)
	if err != nil {
		return statements.Page{}, errs.Wrap(err, "sqlite: query statements")
	}
	return page, nil
}

// query reads the page of q after cur. It reads limit+1 matches (the one
// more tells whether there is a next page): the candidates of each key of
// the driving condition (two with related_agents or related_activities),
// merged in order, reading on after the last candidate if some do not match.
func (db *DB) query(ctx context.Context, q statements.Query, cur cursor, limit int) (statements.Page, error) {
	conds := conditions(q)
	drive := []int64{0}
	if len(conds) > 0 {
		drive = conds[0].keys(q.Tenant)
	}
	// before reports whether position (s1, q1) comes before (s2, q2).
	before := func(s1, q1, s2, q2 int64) bool {
		if q.Ascending {
			return s1 < s2 || s1 == s2 && q1 < q2
		}
		return s1 > s2 || s1 == s2 && q1 > q2
	}
	var page statements.Page
	var seqs []int64 // of page.Records
	for {
		want := limit + 1 - len(page.Records)
		var cands []*candidate
		// Candidates after the boundary may miss some of a key that has
		// more than want: they are read next time.
		var boundary *candidate
		if len(drive) > 1 {
			var err error
			if cands, boundary, err = db.merged(ctx, q, conds, drive, cur, want, before); err != nil {
				return page, err
			}
		} else {
			query, args := buildQuery(q, conds, drive[0], cur, want)
			s, err := db.stmt(ctx, query)
			if err != nil {
				return page, err
			}
			if err = scanRows(ctx, s, args, func(c *candidate) { cands = append(cands, c) }); err != nil {
				return page, err
			}
			if len(cands) == want {
				boundary = cands[len(cands)-1]
			}
		}
		for _, c := range cands {
			if boundary != nil && before(boundary.stored, boundary.seq, c.stored, c.seq) {
				break
			}
			cur.stored, cur.seq = c.stored, c.seq
			if c.rec != nil && c.matches(q, conds) {
				page.Records = append(page.Records, c.rec)
				seqs = append(seqs, c.seq)
				if len(page.Records) > limit {
					break
				}
			}
		}
		if len(page.Records) > limit || boundary == nil {
			break
		}
	}
	if len(page.Records) > limit {
		page.Records = page.Records[:limit]
		last := page.Records[limit-1]
		page.Cursor = cursor{maxSeq: cur.maxSeq, stored: last.Stored.UnixNano(), seq: seqs[limit-1]}.String()
	}
	return page, nil
}

// merged returns the candidates of a query with several driving keys
// (related_agents, related_activities: a key per kind), in order, and the
// boundary past which some may be missing. The places of each key's
// statements are read from the facets index alone and merged; then the
// rows of the first want of them only: reading want rows of every key, as
// a query of one key does, read about twice the rows a page needs, and
// reading rows is most of a query's cost. A place whose row fails the
// row's filters (voided, authority, the other conditions) is a candidate
// without a record, so that the caller's cursor moves past it.
func (db *DB) merged(ctx context.Context, q statements.Query, conds []cond, drive []int64, cur cursor, want int,
	before func(s1, q1, s2, q2 int64) bool) ([]*candidate, *candidate, error) {
	var places []*candidate
	var boundary *candidate
	for _, key := range drive {
		query, args := buildPlaces(q, key, cur, want)
		s, err := db.stmt(ctx, query)
		if err != nil {
			return nil, nil, err
		}
		n, err := scanPlaces(ctx, s, args, func(c *candidate) { places = append(places, c) })
		if err != nil {
			return nil, nil, err
		}
		if n == want {
			last := places[len(places)-1]
			if boundary == nil || before(last.stored, last.seq, boundary.stored, boundary.seq) {
				boundary = last
			}
		}
	}
	slices.SortFunc(places, func(a, b *candidate) int {
		if a.seq == b.seq {
			return 0
		}
		if before(a.stored, a.seq, b.stored, b.seq) {
			return -1
		}
		return 1
	})
	places = slices.CompactFunc(places, func(a, b *candidate) bool { return a.seq == b.seq })
	// The first want places end at or before the last place of every key
	// that gave want (that key alone has want up to there), so none is
	// missing among them.
	if len(places) > want {
		places = places[:want]
		boundary = places[want-1]
	}
	if len(places) == 0 {
		return nil, boundary, nil
	}
	seqs := make([]int64, len(places))
	for i, c := range places {
		seqs[i] = c.seq
	}
	query, args := buildRows(q, conds, seqs)
	s, err := db.stmt(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	rows := make(map[int64]*candidate, len(places))
	if err := scanRows(ctx, s, args, func(c *candidate) { rows[c.seq] = c }); err != nil {
		return nil, nil, err
	}
	for i, c := range places {
		if r, ok := rows[c.seq]; ok {
			places[i] = r
		}
	}
	return places, boundary, nil
}

// buildPlaces returns the query of the first limit places (stored, seq)
// of a driving key after cur, in the order of q, from the facets index
// alone (see merged).
func buildPlaces(q statements.Query, key int64, cur cursor, limit int) (string, []any) {
	var b strings.Builder
	b.WriteString(`SELECT stored, seq FROM facets WHERE key = ? AND seq <= ?`)
	args := placeRange(&b, []any{key, cur.maxSeq}, q, cur, "")
	return orderLimit(&b, args, q, "", limit)
}

// buildRows returns the query of the rows of the statements seqs (found
// by merged) that pass the filters of q that buildQuery applies to a row.
func buildRows(q statements.Query, conds []cond, seqs []int64) (string, []any) {
	var b strings.Builder
	// CROSS JOIN: each row by its seq (the planner would rather scan the
	// tenant's statements by the stored index).
	b.WriteString("SELECT " + sRecordColumns + ", s.inherited FROM json_each(?) j CROSS JOIN statements s WHERE s.seq = j.value AND s.tenant = ?")
	list := make([]byte, 0, 12*len(seqs))
	for i, seq := range seqs {
		if i > 0 {
			list = append(list, ',')
		}
		list = strconv.AppendInt(list, seq, 10)
	}
	args := rowFilters(&b, []any{"[" + string(list) + "]", q.Tenant}, q)
	return b.String(), condFilters(&b, args, q, conds[1:])
}

// scanPlaces runs the query s of places and calls fn with each; it
// returns how many.
func scanPlaces(ctx context.Context, s *sql.Stmt, args []any, fn func(*candidate)) (int, error) {
	rows, err := s.QueryContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		c := &candidate{}
		if err := rows.Scan(&c.stored, &c.seq); err != nil {
			return n, err
		}
		fn(c)
		n++
	}
	return n, rows.Err()
}

// scanRows runs the query s and calls fn with each row of columns followed
// by inherited.
func scanRows(ctx context.Context, s *sql.Stmt, args []any, fn func(*candidate)) error {
	rows, err := s.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var in sql.NullString
		r, seq, err := scanRecord(rows, &in)
		if err != nil {
			return err
		}
		inherited, err := unmarshalFacets(in)
		if err != nil {
			return err
		}
		fn(&candidate{r, r.Stored.UnixNano(), seq, inherited})
	}
	return rows.Err()
}

// Attachments returns the stored attachments of the tenant with the given
// hashes.
func (db *DB) Attachments(ctx context.Context, tenant string, sha2s []string) ([]statements.Attachment, error) {
	var out []statements.Attachment
	seen := map[string]bool{}
	for _, h := range sha2s {
		if seen[h] {
			continue
		}
		seen[h] = true
		s, err := db.stmt(ctx, `SELECT content_type, data FROM attachments WHERE tenant = ? AND sha2 = ?`)
		if err != nil {
			return nil, errs.Wrap(err, "sqlite: attachments")
		}
		a := statements.Attachment{SHA2: h}
		err = s.QueryRowContext(ctx, tenant, h).Scan(&a.ContentType, &a.Data)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, errs.Wrap(err, "sqlite: attachments")
		}
		out = append(out, a)
	}
	return out, nil
}
