package sqlite

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/reporting"
)

// The projection is stored per agent in rp_fact_chunks: each row holds up
// to maxChunk bytes of facts, appended as they arrive. A report reads the
// chunks of the people it covers (a few rows per person), not one row per
// statement. A fact is encoded as:
//
//	statement    16 bytes
//	activity set uvarint: id in rp_activity_sets
//	outcome      1 byte: reporting.Outcome, bit 7 set when a score follows,
//	             bit 6 when a registration does
//	score        8 bytes, IEEE 754 little-endian (when bit 7 is set)
//	registration 16 bytes (when bit 6 is set)
//	timestamp    varint, Unix nanoseconds
//	stored       varint, nanoseconds after the timestamp
//
// (about 35 bytes without a registration: 2,000,000 facts are some 70 MB).
// Facts stored before registrations were recorded have none; a rebuild
// adds them.
//
// Facts are encoded before the writer runs; the writer then appends each
// agent's new facts to its open chunk (number 0) with one UPSERT, sealing
// the chunk under the next number when it is full. Facts are not checked
// against those stored already (that would cost the writer a read per
// agent): a fact added twice, by a retried request, is stored twice and
// read once. A rebuild compacts. Activity sets are numbered by a hash of
// their content, so the writer needs no lookup to number them.
//
// Retractions are rows of rp_retractions, never written into chunks:
// readers join them from a per-tenant map kept in memory (SQLite is one
// process; RetractFacts updates the map after its commit).

// maxChunk is the size of a chunk's data past which facts go to a new
// chunk: rows of a WITHOUT ROWID table with 4 KB pages stay on their leaf
// page up to about 1,000 bytes, so that reading an agent's facts reads one
// page per chunk (about 28 facts).
const maxChunk = 950

// Flags of the outcome byte: a score follows, a registration follows.
const (
	hasScore        = 0x80
	hasRegistration = 0x40
)

// rpWriteStmts are the statements writer jobs use to write facts, prepared
// once on the write connection.
type rpWriteStmts struct {
	appendChunk, sealChunk, insertSet, findSet, insertRetraction *sql.Stmt
}

func (s *rpState) writeStmts(tx *wtx) (*rpWriteStmts, error) {
	s.writeOnce.Do(func() {
		ws := &rpWriteStmts{}
		for _, p := range []struct {
			dst **sql.Stmt
			q   string
		}{
			// Appends to the open chunk, creating it; does nothing (no row
			// changed) when the facts do not fit.
			{&ws.appendChunk, `INSERT INTO rp_fact_chunks (tenant, agent, chunk, n, name, data) VALUES (?1, ?2, 0, ?3, ?4, ?5)
				ON CONFLICT (tenant, agent, chunk) DO UPDATE SET data = CAST(data || excluded.data AS BLOB),
				n = n + excluded.n, name = iif(excluded.name = '', name, excluded.name)
				WHERE length(data) + length(excluded.data) <= ?6`},
			{&ws.sealChunk, `UPDATE rp_fact_chunks SET chunk = (SELECT max(chunk) + 1 FROM rp_fact_chunks WHERE tenant = ?1 AND agent = ?2)
				WHERE tenant = ?1 AND agent = ?2 AND chunk = 0`},
			{&ws.insertSet, `INSERT INTO rp_activity_sets (id, tenant, acts) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`},
			{&ws.findSet, `SELECT tenant, acts FROM rp_activity_sets WHERE id = ?`},
			{&ws.insertRetraction, `INSERT INTO rp_retractions (tenant, statement, stored) VALUES (?, ?, ?)
				ON CONFLICT (tenant, statement) DO UPDATE SET stored = min(stored, excluded.stored)`},
		} {
			if *p.dst, s.writeErr = tx.conn.PrepareContext(context.Background(), p.q); s.writeErr != nil {
				return
			}
		}
		s.ws = ws
	})
	return s.ws, s.writeErr
}

// setID returns the number of activity set acts (its JSON) of a tenant:
// 63 bits of SHA-256(tenant NUL acts), never 0.
func setID(tenant, acts string) int64 {
	h := sha256.New()
	h.Write([]byte(tenant))
	h.Write([]byte{0})
	h.Write([]byte(acts))
	var sum [32]byte
	id := int64(binary.BigEndian.Uint64(h.Sum(sum[:0])[:8]) &^ (1 << 63))
	if id == 0 {
		id = 1
	}
	return id
}

// encodeFact appends the encoding of f (with activity set id set) to b.
func encodeFact(b []byte, f *reporting.Fact, set int64) []byte {
	b = append(b, f.Statement[:]...)
	b = binary.AppendUvarint(b, uint64(set))
	o := byte(f.Outcome)
	if f.HasScore {
		o |= hasScore
	}
	if f.Registration != uuid.Nil {
		o |= hasRegistration
	}
	b = append(b, o)
	if f.HasScore {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f.Score))
	}
	if f.Registration != uuid.Nil {
		b = append(b, f.Registration[:]...)
	}
	ts := f.Timestamp.UnixNano()
	b = binary.AppendVarint(b, ts)
	return binary.AppendVarint(b, f.Stored.UnixNano()-ts)
}

// rawFact is a decoded fact before its activity set is resolved: compact
// and free of pointers, so that batches of them cost the garbage
// collector nothing.
type rawFact struct {
	statement uuid.UUID
	set       int64
	outcome   reporting.Outcome
	hasScore  bool
	score     float64
	reg       uuid.UUID
	ts, delay int64 // timestamp (Unix ns) and stored - timestamp
}

var errBadChunk = errors.New("sqlite: malformed fact chunk")

// decodeFact decodes the fact at the start of b, returning the rest.
func decodeFact(b []byte) (rawFact, []byte, error) {
	var r rawFact
	if len(b) < 16 {
		return r, nil, errBadChunk
	}
	copy(r.statement[:], b)
	b = b[16:]
	set, n := binary.Uvarint(b)
	if n <= 0 || len(b) < n+1 {
		return r, nil, errBadChunk
	}
	r.set = int64(set)
	o := b[n]
	b = b[n+1:]
	r.outcome = reporting.Outcome(o &^ (hasScore | hasRegistration))
	if o&hasScore != 0 {
		if len(b) < 8 {
			return r, nil, errBadChunk
		}
		r.hasScore, r.score = true, math.Float64frombits(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	if o&hasRegistration != 0 {
		if len(b) < 16 {
			return r, nil, errBadChunk
		}
		copy(r.reg[:], b)
		b = b[16:]
	}
	if r.ts, n = binary.Varint(b); n <= 0 {
		return r, nil, errBadChunk
	}
	b = b[n:]
	if r.delay, n = binary.Varint(b); n <= 0 {
		return r, nil, errBadChunk
	}
	return r, b[n:], nil
}

// fact returns r as a reporting.Fact (without Agent, Name, Activities).
func (r *rawFact) fact() reporting.Fact {
	return reporting.Fact{Statement: r.statement, Outcome: r.outcome, HasScore: r.hasScore, Score: r.score, Registration: r.reg,
		Timestamp: time.Unix(0, r.ts).UTC(), Stored: time.Unix(0, r.ts+r.delay).UTC()}
}

// AddFacts stores facts in one writer job.
func (db *DB) AddFacts(ctx context.Context, tenant string, facts []reporting.Fact) error {
	if len(facts) == 0 {
		return nil
	}
	st := db.rp()
	fw, err := st.prepareFacts(tenant, facts)
	if err != nil {
		return err
	}
	var agents []string
	err = db.w.do(ctx, len(facts), nil, func(tx *wtx) error {
		ws, err := st.writeStmts(tx)
		if err != nil {
			return err
		}
		agents, err = ws.write(fw, nil)
		return err
	})
	if err != nil {
		st.facts.invalidate(tenant, fw.agents()) // a failed write committed nothing; this only costs a reread
		return err
	}
	st.factsCommitted(fw, agents)
	return nil
}

// Commit writes a unit of the ingest (ingest.Store): its records and
// attachments as Insert does and, in the same transaction, the projection
// of the records it stores (the facts of statements stored before are left
// out: a retried request adds nothing), the retractions and the activity
// definitions, with one durable commit.
func (db *DB) Commit(ctx context.Context, u *ingest.Unit) error {
	recs := u.Records
	if len(recs) == 0 {
		return nil
	}
	if slices.Contains(recs, nil) {
		return errs.E(errs.Internal, "sqlite: insert of a nil record")
	}
	tenant := u.Tenant
	for _, r := range recs {
		if r.Tenant != tenant {
			return errs.E(errs.Internal, "sqlite: Commit of a unit with the statements of another tenant")
		}
	}
	projected := len(u.Facts) > 0 || len(u.Retractions) > 0
	st := db.rp()
	var fw *factWrite
	if projected {
		var err error
		if fw, err = st.prepareFacts(tenant, u.Facts); err != nil {
			return err
		}
	}
	defs := db.changedDefinitions(tenant, u.Definitions)
	token := db.pending.add(recs)
	defer db.pending.done(token)
	var (
		all    = prepare(recs)
		fresh  []*prepared
		agents []string
	)
	err := db.w.do(ctx, len(recs)+len(u.Facts),
		func(tx *wtx) (err error) {
			fresh, err = tx.checkInsert(all)
			return err
		},
		func(tx *wtx) error {
			if err := tx.insertAll(fresh, u.Attachments); err != nil {
				return err
			}
			if defs != nil {
				if err := defs.apply(tx); err != nil {
					return err
				}
			}
			if !projected {
				return nil
			}
			ws, err := st.writeStmts(tx)
			if err != nil {
				return err
			}
			isFresh := make(map[uuid.UUID]bool, len(fresh))
			for _, r := range fresh {
				if id, err := uuid.Parse(r.ID); err == nil {
					isFresh[id] = true
				}
			}
			if agents, err = ws.write(fw, isFresh); err != nil {
				return err
			}
			return ws.retract(tenant, u.Retractions)
		})
	if err != nil {
		if projected {
			st.facts.invalidate(tenant, fw.agents()) // a failed write committed nothing; this only costs a reread
		}
		return err
	}
	if defs != nil {
		defs.committed()
	}
	if projected {
		st.factsCommitted(fw, agents)
		st.retracted(tenant, u.Retractions)
	}
	return nil
}

// factWrite is the projection of one call, prepared outside the writer,
// which every write waits for: activity sets numbered, facts encoded.
type factWrite struct {
	tenant string
	sets   map[int64]newSet // activity sets not known to be stored
	facts  []encodedFact
}

type newSet struct {
	acts string // JSON
	list []string
}

type encodedFact struct {
	agent, name string
	statement   uuid.UUID
	data        []byte
}

func (st *rpState) prepareFacts(tenant string, facts []reporting.Fact) (*factWrite, error) {
	fw := &factWrite{tenant: tenant, sets: map[int64]newSet{}, facts: make([]encodedFact, 0, len(facts))}
	setOf := map[*string]int64{} // facts of one statement share their activities
	for i := range facts {
		f := &facts[i]
		if len(f.Activities) == 0 {
			return nil, errs.E(errs.Internal, "sqlite: a fact without activities")
		}
		set, ok := setOf[&f.Activities[0]]
		if !ok {
			b, err := json.Marshal(f.Activities)
			if err != nil {
				return nil, errs.Wrap(err, "sqlite: encoding activities")
			}
			set = setID(tenant, string(b))
			if _, ok := fw.sets[set]; !ok && !st.knownSet(set) {
				fw.sets[set] = newSet{string(b), slices.Clone(f.Activities)}
			}
			setOf[&f.Activities[0]] = set
		}
		fw.facts = append(fw.facts, encodedFact{agent: f.Agent, name: f.Name, statement: f.Statement, data: encodeFact(nil, f, set)})
	}
	return fw, nil
}

// agentFacts are the new facts of one agent in a write, encoded.
type agentFacts struct {
	agent, name string
	seen        map[uuid.UUID]bool
	data        []byte
	ends        []int // where each fact ends in data
}

// write stores the activity sets and the facts of fw (only those of the
// statements in keep, when keep is not nil), inside a writer job. It
// returns the agents written to.
func (ws *rpWriteStmts) write(fw *factWrite, keep map[uuid.UUID]bool) ([]string, error) {
	for id, s := range fw.sets {
		if _, err := ws.insertSet.Exec(id, fw.tenant, s.acts); err != nil {
			return nil, err
		}
		var t, acts string
		if err := ws.findSet.QueryRow(id).Scan(&t, &acts); err != nil {
			return nil, err
		}
		if t != fw.tenant || acts != s.acts {
			return nil, fmt.Errorf("sqlite: activity sets %q and %q have the same number %d", acts, s.acts, id)
		}
	}
	byAgent := map[string]*agentFacts{}
	var order []*agentFacts
	for i := range fw.facts {
		f := &fw.facts[i]
		if keep != nil && !keep[f.statement] {
			continue
		}
		a := byAgent[f.agent]
		if a == nil {
			a = &agentFacts{agent: f.agent, seen: map[uuid.UUID]bool{}}
			byAgent[f.agent] = a
			order = append(order, a)
		}
		if a.seen[f.statement] {
			continue
		}
		a.seen[f.statement] = true
		a.data = append(a.data, f.data...)
		a.ends = append(a.ends, len(a.data))
		if f.name != "" {
			a.name = f.name
		}
	}
	// Neighbouring agents share pages: write in key order.
	slices.SortFunc(order, func(a, b *agentFacts) int { return cmp.Compare(a.agent, b.agent) })
	agents := make([]string, len(order))
	for i, a := range order {
		if err := ws.append(fw.tenant, a); err != nil {
			return nil, err
		}
		agents[i] = a.agent
	}
	return agents, nil
}

// factsCommitted records in the caches what a committed write added,
// after its commit: the facts cache drops the entries of the agents
// written.
func (st *rpState) factsCommitted(fw *factWrite, agents []string) {
	st.mu.Lock()
	for id, s := range fw.sets {
		st.sets[id] = s.list
	}
	st.mu.Unlock()
	st.facts.invalidate(fw.tenant, agents)
	st.added(fw.tenant, agents)
}

// agents lists the agents of the facts of fw (with repeats).
func (fw *factWrite) agents() []string {
	out := make([]string, len(fw.facts))
	for i := range fw.facts {
		out[i] = fw.facts[i].agent
	}
	return out
}

// withFacts returns the set of the tenant's agents that have facts,
// loading it on first use. Facts skips the others without a lookup (every
// person has an mbox_sha1sum key, for instance, that few LMSs send).
// Callers must not modify it.
func (s *rpState) withFacts(ctx context.Context, tenant string) (map[string]bool, error) {
	s.amu.Lock()
	defer s.amu.Unlock()
	if m, ok := s.agents[tenant]; ok {
		return m, nil
	}
	db := s.db.Value()
	if db == nil {
		return nil, errClosed
	}
	keys, err := db.factAgentKeys(ctx, tenant)
	if err != nil {
		return nil, err
	}
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	s.agents[tenant] = m
	return m, nil
}

// added records agents that have facts now, if the tenant's set is
// loaded. Sets are replaced, not modified, when they grow.
func (s *rpState) added(tenant string, agents []string) {
	s.amu.Lock()
	defer s.amu.Unlock()
	old, ok := s.agents[tenant]
	if !ok {
		return
	}
	var m map[string]bool
	for _, a := range agents {
		if old[a] {
			continue
		}
		if m == nil {
			m = make(map[string]bool, len(old)+len(agents))
			for k := range old {
				m[k] = true
			}
		}
		m[a] = true
	}
	if m != nil {
		s.agents[tenant] = m
	}
}

// knownSet reports whether activity set id is committed (and cached).
func (s *rpState) knownSet(id int64) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.sets[id]
	return ok
}

// append appends an agent's facts to its open chunk, sealing it and
// starting another whenever the next facts do not fit.
func (ws *rpWriteStmts) append(tenant string, a *agentFacts) error {
	start, i := 0, 0
	for start < len(a.data) {
		// The facts from start that fit in an empty chunk (one at least).
		end, k := start, 0
		for i+k < len(a.ends) && (k == 0 || a.ends[i+k]-start <= maxChunk) {
			end = a.ends[i+k]
			k++
		}
		for attempt := 0; ; attempt++ {
			res, err := ws.appendChunk.Exec(tenant, a.agent, k, a.name, a.data[start:end], maxChunk)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n > 0 {
				break
			}
			if attempt > 0 {
				return errors.New("sqlite: a fact does not fit an empty chunk")
			}
			if _, err := ws.sealChunk.Exec(tenant, a.agent); err != nil {
				return err
			}
		}
		start, i = end, i+k
	}
	return nil
}

// RetractFacts records retractions in one writer job, then in the
// tenant's map of retractions, if it is loaded.
func (db *DB) RetractFacts(ctx context.Context, tenant string, rs []reporting.Retraction) error {
	if len(rs) == 0 {
		return nil
	}
	st := db.rp()
	err := db.w.do(ctx, len(rs), nil, func(tx *wtx) error {
		ws, err := st.writeStmts(tx)
		if err != nil {
			return err
		}
		return ws.retract(tenant, rs)
	})
	if err != nil {
		return err
	}
	st.retracted(tenant, rs)
	return nil
}

// retract records retractions, inside a writer job.
func (ws *rpWriteStmts) retract(tenant string, rs []reporting.Retraction) error {
	for _, r := range rs {
		if _, err := ws.insertRetraction.Exec(tenant, r.Statement[:], r.Stored.UnixNano()); err != nil {
			return err
		}
	}
	return nil
}

// retractions returns the map of the tenant's retractions (statement id
// to the Unix nanoseconds it was voided at), loading it on first use.
// Callers must not modify it.
func (s *rpState) retractions(ctx context.Context, tenant string) (map[uuid.UUID]int64, error) {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	if m, ok := s.voids[tenant]; ok {
		return m, nil
	}
	db := s.db.Value()
	if db == nil {
		return nil, errClosed
	}
	st, err := db.stmt(ctx, `SELECT statement, stored FROM rp_retractions WHERE tenant = ?`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: retractions")
	}
	rows, err := st.QueryContext(ctx, tenant)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: retractions")
	}
	defer rows.Close()
	m := map[uuid.UUID]int64{}
	for rows.Next() {
		var id []byte
		var stored int64
		if err := rows.Scan(&id, &stored); err != nil {
			return nil, errs.Wrap(err, "sqlite: retractions")
		}
		m[uuid.UUID(id)] = stored
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: retractions")
	}
	s.voids[tenant] = m
	return m, nil
}

// retracted adds committed retractions to the tenant's map, if loaded.
// Maps are replaced, not modified, so that readers holding one are safe.
func (s *rpState) retracted(tenant string, rs []reporting.Retraction) {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	old, ok := s.voids[tenant]
	if !ok {
		return
	}
	m := make(map[uuid.UUID]int64, len(old)+len(rs))
	for k, v := range old {
		m[k] = v
	}
	for _, r := range rs {
		t := r.Stored.UnixNano()
		if cur, ok := m[r.Statement]; !ok || t < cur {
			m[r.Statement] = t
		}
	}
	s.voids[tenant] = m
}

// The facts epoch is a value in meta that every write removing facts or
// rewriting roster rows in place (ResetFacts, DeleteFactAgents,
// RewriteRoster) changes in its transaction. The caches of the projection
// (the facts cache, the agents with facts, the retractions, the current
// roster) follow the writes of their own process exactly; a process that
// finds the epoch changed by another (`lrs privacy erase`, `lrs retention
// run` or `lrs reporting rebuild` run beside `lrs serve`) drops them all.
// Facts and the roster's readers look at the epoch before reading, so a
// report started after the other process's commit never sees what it
// removed; an entry that a read begun before that commit stores later is
// dropped with the rest (the generations advance) or not stored at all.
const epochKey = "facts_epoch"

// newEpoch changes the facts epoch in tx.
func newEpoch(ctx context.Context, tx *wtx) error {
	var b [16]byte
	rand.Read(b[:])
	_, err := tx.conn.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		epochKey, hex.EncodeToString(b[:]))
	return err
}

// checkEpoch drops the projection's caches when the facts epoch has
// changed since the last look.
func (s *rpState) checkEpoch(ctx context.Context, db *DB) error {
	q, err := db.stmt(ctx, `SELECT value FROM meta WHERE key = ?`)
	if err != nil {
		return errs.Wrap(err, "sqlite: facts epoch")
	}
	var v string
	if err := q.QueryRowContext(ctx, epochKey).Scan(&v); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return errs.Wrap(err, "sqlite: facts epoch")
	}
	s.emu.Lock()
	defer s.emu.Unlock()
	if !s.epochSeen {
		s.epochSeen, s.epoch = true, v
		return nil
	}
	if v == s.epoch {
		return nil
	}
	s.epoch = v
	s.facts.invalidateAll()
	s.vmu.Lock()
	clear(s.voids)
	s.vmu.Unlock()
	s.amu.Lock()
	clear(s.agents)
	s.amu.Unlock()
	s.rmu.Lock()
	clear(s.roster)
	s.rmu.Unlock()
	return nil
}

// forget drops the tenant's retractions and agents (after a reset).
func (s *rpState) forget(tenant string) {
	s.vmu.Lock()
	delete(s.voids, tenant)
	s.vmu.Unlock()
	s.amu.Lock()
	delete(s.agents, tenant)
	s.amu.Unlock()
}

// factBatch is how many agents one query of Facts reads.
const factBatch = 2000

// factBufs are the buffers of a Facts call, kept in a pool: a report
// makes one call per batch of people.
type factBufs struct {
	raws     []rawFact
	spans    []span
	facts    []reporting.Fact
	need     map[int64]bool
	prefixes []uint64

	// The facts cache: the entry of each agent of a batch (nil when not
	// cached), the agents read from the database instead, what was read
	// of each (in data), and their new entries.
	hits    []*cachedFacts
	missing []string
	read    []readAgent
	data    []byte
	entries []*cachedFacts
	gens    [cacheShards]uint64
}

// readAgent is what the chunks read of an agent hold: its name and the
// place of their data in factBufs.data (found: it has chunks).
type readAgent struct {
	name       string
	start, end int
	found      bool
}

// readChunks reads the chunks of agents (sorted) into b.read and b.data
// with query q.
func (b *factBufs) readChunks(ctx context.Context, q *sql.Stmt, tenant string, agents []string) error {
	b.read = slices.Grow(b.read[:0], len(agents))[:len(agents)]
	clear(b.read)
	b.data = b.data[:0]
	if len(agents) == 0 {
		return nil
	}
	rows, err := q.QueryContext(ctx, tenant, jsonList(agents))
	if err != nil {
		return err
	}
	defer rows.Close()
	key, last := 0, -1
	var name, data sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&key, &name, &data); err != nil {
			return err
		}
		if key < last || key >= len(agents) {
			return fmt.Errorf("agent number %d after %d, of %d", key, last, len(agents))
		}
		last = key
		r := &b.read[key]
		if !r.found {
			r.found, r.start = true, len(b.data)
		}
		if len(name) > 0 && string(name) != r.name {
			r.name = string(name)
		}
		b.data = append(b.data, data...)
		r.end = len(b.data)
	}
	return rows.Err()
}

// mayRepeat reports whether a statement may occur twice in seg: whether
// two of them share the first 8 bytes of their id (comparing 8-byte
// numbers is much cheaper than sorting facts), found through a small hash
// table for the few facts an agent usually has, else by sorting.
func (b *factBufs) mayRepeat(seg []rawFact) bool {
	if len(seg) < 2 {
		return false
	}
	if len(seg) <= 64 {
		var table [128]uint64 // prefixes | 1, so that 0 is free
		for i := range seg {
			p := binary.BigEndian.Uint64(seg[i].statement[:8]) | 1
			for h := p >> 57; ; h = (h + 1) % 128 {
				if table[h] == 0 {
					table[h] = p
					break
				}
				if table[h] == p {
					return true // or two prefixes that differ in their last bit only
				}
			}
		}
		return false
	}
	b.prefixes = b.prefixes[:0]
	for i := range seg {
		b.prefixes = append(b.prefixes, binary.BigEndian.Uint64(seg[i].statement[:8]))
	}
	slices.Sort(b.prefixes)
	for i := 1; i < len(b.prefixes); i++ {
		if b.prefixes[i] == b.prefixes[i-1] {
			return true
		}
	}
	return false
}

// span is where an agent's facts are in factBufs.raws.
type span struct {
	agent, name string
	start, end  int
}

// Facts calls fn with the facts of each of agents (every agent when nil).
// Each batch of agents takes the encoded facts of those in the facts cache
// from there (reporting_cache.go) and reads the others' chunks with one
// query, caching them; the facts are then decoded and their activity sets
// resolved.
func (db *DB) Facts(ctx context.Context, tenant string, agents []string, fn func(agent string, facts []reporting.Fact) error) error {
	if agents == nil {
		all, err := db.factAgentKeys(ctx, tenant)
		if err != nil {
			return err
		}
		agents = all
	}
	st := db.rp()
	if err := st.checkEpoch(ctx, db); err != nil {
		return err
	}
	voids, err := st.retractions(ctx, tenant)
	if err != nil {
		return err
	}
	have, err := st.withFacts(ctx, tenant)
	if err != nil {
		return err
	}
	agents = slices.DeleteFunc(slices.Clone(agents), func(a string) bool { return !have[a] })
	// In order, each once: the query looks the agents up in the order of
	// the list (CROSS JOIN keeps json_each the outer loop), so that each
	// agent's chunks come together, and neighbours in the index are read
	// one after the other. The key of a row is the agent's place in the
	// list.
	slices.Sort(agents)
	agents = slices.Compact(agents)
	q, err := db.stmt(ctx, `SELECT j.key, c.name, c.data FROM json_each(?2) AS j CROSS JOIN rp_fact_chunks AS c
		WHERE c.tenant = ?1 AND c.agent = j.value`)
	if err != nil {
		return errs.Wrap(err, "sqlite: facts")
	}
	cache := st.facts
	b := st.factBufs.Get().(*factBufs)
	defer func() {
		// Entries the cache may drop are not kept alive by the pool.
		clear(b.hits)
		clear(b.entries)
		st.factBufs.Put(b)
	}()
	// The activity sets of the facts read, to resolve: most facts of a
	// batch share a few sets, found again in a small table rather than by
	// a map operation per fact.
	var seen [64]int64
	for start := 0; start < len(agents); start += factBatch {
		batch := agents[start:min(start+factBatch, len(agents))]
		b.raws, b.spans = b.raws[:0], b.spans[:0]
		missing := batch
		if cache.on() {
			// The generations are taken before the query (see
			// reporting_cache.go).
			cache.generations(&b.gens)
			b.hits = slices.Grow(b.hits[:0], len(batch))[:len(batch)]
			if cache.lookup(tenant, batch, b.hits) > 0 {
				b.missing = b.missing[:0]
				for i, e := range b.hits {
					if e == nil {
						b.missing = append(b.missing, batch[i])
					}
				}
				missing = b.missing
			}
		}
		if err := b.readChunks(ctx, q, tenant, missing); err != nil {
			return errs.Wrap(err, "sqlite: facts")
		}
		m := 0 // the next agent of missing
		for i, agent := range batch {
			var name string
			var data []byte
			if len(missing) < len(batch) && b.hits[i] != nil {
				name, data = b.hits[i].name, b.hits[i].data
			} else {
				r := &b.read[m]
				m++
				if !r.found {
					continue
				}
				name, data = r.name, b.data[r.start:r.end]
			}
			sp := span{agent: agent, name: name, start: len(b.raws)}
			for rest := data; len(rest) > 0; {
				r, next, err := decodeFact(rest)
				if err != nil {
					return errs.Wrap(fmt.Errorf("facts of %s: %w", agent, err), "sqlite: facts")
				}
				if k := uint64(r.set) % uint64(len(seen)); seen[k] != r.set {
					seen[k] = r.set
					b.need[r.set] = true
				}
				b.raws = append(b.raws, r)
				rest = next
			}
			sp.end = len(b.raws)
			b.spans = append(b.spans, sp)
		}
		if cache.on() && len(missing) > 0 {
			b.entries = slices.Grow(b.entries[:0], len(missing))[:len(missing)]
			for i := range missing {
				if r := &b.read[i]; r.found {
					b.entries[i] = &cachedFacts{name: r.name, data: bytes.Clone(b.data[r.start:r.end])}
				} else {
					b.entries[i] = nil
				}
			}
			cache.store(tenant, missing, b.entries, &b.gens)
		}
		sets, err := st.activitySets(ctx, b.need)
		if err != nil {
			return err
		}
		clear(b.need)
		seen = [len(seen)]int64{}
		for _, sp := range b.spans {
			// A fact stored twice (a retried request) is given once.
			seg := b.raws[sp.start:sp.end]
			dups := b.mayRepeat(seg)
			if dups {
				slices.SortFunc(seg, func(x, y rawFact) int { return bytes.Compare(x.statement[:], y.statement[:]) })
			}
			b.facts = b.facts[:0]
			lastSet, acts := int64(0), []string(nil)
			for i := range seg {
				r := &seg[i]
				if dups && i > 0 && r.statement == seg[i-1].statement {
					continue
				}
				if r.set != lastSet {
					lastSet, acts = r.set, sets[r.set]
				}
				f := r.fact()
				f.Agent, f.Name, f.Activities = sp.agent, sp.name, acts
				if len(voids) > 0 {
					if v, ok := voids[f.Statement]; ok {
						f.VoidedAt = time.Unix(0, v).UTC()
					}
				}
				b.facts = append(b.facts, f)
			}
			if err := fn(sp.agent, b.facts); err != nil {
				return err
			}
		}
	}
	return nil
}

// activitySets returns the activity sets with the ids in need, from the
// cache or the database. The slices are shared: callers must not modify
// them.
func (s *rpState) activitySets(ctx context.Context, need map[int64]bool) (map[int64][]string, error) {
	out := make(map[int64][]string, len(need))
	var missing []int64
	s.mu.RLock()
	for id := range need {
		if list, ok := s.sets[id]; ok {
			out[id] = list
		} else {
			missing = append(missing, id)
		}
	}
	s.mu.RUnlock()
	if len(missing) == 0 {
		return out, nil
	}
	// Sets are immutable once committed; whoever loads one first caches it.
	if err := s.loadSets(ctx, missing); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, id := range missing {
		list, ok := s.sets[id]
		if !ok {
			return nil, errs.E(errs.Internal, "sqlite: activity set %d is missing", id)
		}
		out[id] = list
	}
	return out, nil
}

// loadSets reads activity sets into the cache.
func (s *rpState) loadSets(ctx context.Context, ids []int64) error {
	db := s.db.Value()
	if db == nil {
		return errClosed
	}
	b, _ := json.Marshal(ids)
	st, err := db.stmt(ctx, `SELECT id, acts FROM rp_activity_sets WHERE id IN (SELECT value FROM json_each(?))`)
	if err != nil {
		return errs.Wrap(err, "sqlite: activity sets")
	}
	rows, err := st.QueryContext(ctx, string(b))
	if err != nil {
		return errs.Wrap(err, "sqlite: activity sets")
	}
	defer rows.Close()
	loaded := map[int64][]string{}
	for rows.Next() {
		var id int64
		var acts string
		if err := rows.Scan(&id, &acts); err != nil {
			return errs.Wrap(err, "sqlite: activity sets")
		}
		var list []string
		if err := json.Unmarshal([]byte(acts), &list); err != nil {
			return errs.Wrap(err, fmt.Sprintf("sqlite: activity set %d", id))
		}
		loaded[id] = list
	}
	if err := rows.Err(); err != nil {
		return errs.Wrap(err, "sqlite: activity sets")
	}
	s.mu.Lock()
	for id, list := range loaded {
		if _, ok := s.sets[id]; !ok {
			s.sets[id] = list
		}
	}
	s.mu.Unlock()
	return nil
}

// factAgentKeys lists the agents of a tenant with facts, sorted.
func (db *DB) factAgentKeys(ctx context.Context, tenant string) ([]string, error) {
	s, err := db.stmt(ctx, `SELECT DISTINCT agent FROM rp_fact_chunks WHERE tenant = ? ORDER BY agent`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: fact agents")
	}
	rows, err := s.QueryContext(ctx, tenant)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: fact agents")
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, errs.Wrap(err, "sqlite: fact agents")
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// FactAgents lists every agent of tenant with facts, with the latest
// name.
func (db *DB) FactAgents(ctx context.Context, tenant string) ([]reporting.AgentFacts, error) {
	s, err := db.stmt(ctx, `SELECT agent, name FROM rp_fact_chunks WHERE tenant = ? ORDER BY agent, chunk`)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: fact agents")
	}
	rows, err := s.QueryContext(ctx, tenant)
	if err != nil {
		return nil, errs.Wrap(err, "sqlite: fact agents")
	}
	defer rows.Close()
	out := []reporting.AgentFacts{}
	for rows.Next() {
		var a reporting.AgentFacts
		if err := rows.Scan(&a.Agent, &a.Name); err != nil {
			return nil, errs.Wrap(err, "sqlite: fact agents")
		}
		if n := len(out); n > 0 && out[n-1].Agent == a.Agent {
			if a.Name != "" {
				out[n-1].Name = a.Name
			}
			continue
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(err, "sqlite: fact agents")
	}
	return out, nil
}

// ResetFacts deletes the projection of tenant. The activity sets stay:
// they are a dictionary, shared by the facts added again.
func (db *DB) ResetFacts(ctx context.Context, tenant string) error {
	err := db.w.do(ctx, 1, nil, func(tx *wtx) error {
		for _, table := range []string{"rp_fact_chunks", "rp_retractions"} {
			if _, err := tx.conn.ExecContext(context.Background(), `DELETE FROM `+table+` WHERE tenant = ?`, tenant); err != nil {
				return err
			}
		}
		return newEpoch(context.Background(), tx)
	})
	st := db.rp()
	st.facts.invalidateTenant(tenant)
	st.forget(tenant)
	return err
}
