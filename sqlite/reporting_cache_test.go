package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/sqlite"
)

// The facts cache (reporting_cache.go) against the database: what Facts
// gives through a store with the cache must be what a handle without it
// reads from the file.

// openCache opens a store at a new path with the facts cache of budget
// bytes.
func openCache(t *testing.T, budget int64) *sqlite.DB {
	t.Helper()
	db, err := sqlite.OpenWith(filepath.Join(t.TempDir(), "lrs.db"), sqlite.Options{FactsCache: budget})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// agentFacts is one call of Facts's fn.
type agentFacts struct {
	Agent string
	Facts []reporting.Fact
}

// readFacts returns the calls of Facts (agents nil: every agent), in order.
func readFacts(t *testing.T, db *sqlite.DB, tenant string, agents []string) []agentFacts {
	t.Helper()
	var out []agentFacts
	err := db.Facts(context.Background(), tenant, agents, func(agent string, fs []reporting.Fact) error {
		out = append(out, agentFacts{agent, append([]reporting.Fact(nil), fs...)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// uncached reads the facts through a new handle on db's file without a
// cache (new, so that its other caches are not stale either).
func uncached(t *testing.T, db *sqlite.DB, tenant string, agents []string) []agentFacts {
	t.Helper()
	plain, err := sqlite.OpenWith(db.Path(), sqlite.Options{FactsCache: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if s := plain.FactsCacheStats(); s.Budget != 0 {
		t.Fatalf("a store opened with the cache off has a budget of %d", s.Budget)
	}
	out := readFacts(t, plain, tenant, agents)
	if s := plain.FactsCacheStats(); s.Entries != 0 || s.Hits != 0 {
		t.Fatalf("a store with the cache off cached: %+v", s)
	}
	return out
}

// sameFacts checks that db gives through its cache what the file holds,
// for every agent and for a list of some, and returns the number of facts.
func sameFacts(t *testing.T, db *sqlite.DB, tenant, step string, some []string) int {
	t.Helper()
	n := 0
	for _, agents := range [][]string{nil, some} {
		want := uncached(t, db, tenant, agents)
		for range 2 { // the first read may fill the cache, the second reads it
			if got := readFacts(t, db, tenant, agents); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: agents %v: through the cache\n%v\nin the file\n%v", step, agents, got, want)
			}
		}
		if agents == nil {
			for _, a := range want {
				n += len(a.Facts)
			}
		}
	}
	return n
}

var cacheBase = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// makeFacts returns n facts of agent, varied in what they encode.
func makeFacts(agent, name string, n, seed int) []reporting.Fact {
	out := make([]reporting.Fact, n)
	for i := range out {
		k := seed*1000 + i
		at := cacheBase.Add(time.Duration(k) * time.Minute)
		f := reporting.Fact{Statement: uuid.New(), Agent: agent, Name: name,
			Activities: []string{fmt.Sprintf("http://example.com/module/%d", k%5)},
			Outcome:    []reporting.Outcome{reporting.OutcomeCompleted, reporting.OutcomePassed, reporting.OutcomeFailed}[k%3],
			Timestamp:  at, Stored: at.Add(time.Duration(k%7) * time.Second)}
		if k%2 == 0 {
			f.HasScore, f.Score = true, float64(k%100)/100
		}
		if k%3 == 0 {
			f.Registration = uuid.New()
		}
		if k%4 == 0 {
			f.Activities = append(f.Activities, "http://example.com/course")
		}
		out[i] = f
	}
	return out
}

func cacheAgent(i int) string { return fmt.Sprintf("mbox:mailto:p%02d@example.com", i) }

// TestFactsCacheExact interleaves every write of the facts (AddFacts,
// Commit, retractions, the erasure of a person, a reset and rebuild) with
// reads, and checks after each that reads through the cache give what the
// file holds.
func TestFactsCacheExact(t *testing.T) {
	db := openCache(t, 0)
	ctx := context.Background()
	const tenant = "t"
	some := []string{cacheAgent(3), cacheAgent(1), "mbox:mailto:nobody@example.com", cacheAgent(3), cacheAgent(7)}
	add := func(facts []reporting.Fact) {
		t.Helper()
		if err := db.AddFacts(ctx, tenant, facts); err != nil {
			t.Fatal(err)
		}
	}
	var all []reporting.Fact
	for i := range 10 {
		// Up to 90 facts: several chunks for some agents.
		fs := makeFacts(cacheAgent(i), fmt.Sprintf("Person %d", i), 1+i*10, i)
		all = append(all, fs...)
		add(fs)
	}
	if n := sameFacts(t, db, tenant, "first facts", some); n != len(all) {
		t.Fatalf("%d facts read, want %d", n, len(all))
	}
	if s := db.FactsCacheStats(); s.Entries != 10 || s.Hits == 0 || s.Budget != sqlite.DefaultFactsCache {
		t.Fatalf("cache after reads: %+v, want 10 entries, hits, the default budget", s)
	}

	// More facts for cached agents: a new name, a repeated statement (a
	// retried request), enough facts to seal the open chunk.
	more := makeFacts(cacheAgent(1), "Person One", 40, 100)
	more = append(more, all[0], makeFacts(cacheAgent(3), "", 1, 101)[0])
	add(more)
	sameFacts(t, db, tenant, "facts added", some)

	// Commit: statements with their facts and a retraction.
	recs := genRecords(tenant, 0, 30)
	var unit []reporting.Fact
	for _, r := range recs {
		fs, err := reporting.ProjectRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		unit = append(unit, fs...)
	}
	if len(unit) == 0 {
		t.Fatal("the generated statements project to no facts")
	}
	some = append(some, unit[0].Agent)
	sameFacts(t, db, tenant, "before Commit", some) // cache the agents of the statements
	err := db.Commit(ctx, &ingest.Unit{Tenant: tenant, Records: recs, Facts: unit,
		Retractions: []reporting.Retraction{{Statement: all[5].Statement, Stored: cacheBase.Add(time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	sameFacts(t, db, tenant, "Commit", some)
	// Again: the statements are stored, their facts are not added twice.
	if err := db.Commit(ctx, &ingest.Unit{Tenant: tenant, Records: recs, Facts: unit}); err != nil {
		t.Fatal(err)
	}
	sameFacts(t, db, tenant, "Commit again", some)
	if err := db.RetractFacts(ctx, tenant, []reporting.Retraction{{Statement: more[3].Statement, Stored: cacheBase}}); err != nil {
		t.Fatal(err)
	}
	sameFacts(t, db, tenant, "RetractFacts", some)

	// The erasure of person 3, as privacy.Erase does it: their facts
	// under a pseudonym, then theirs deleted.
	var moved []reporting.Fact
	for _, a := range readFacts(t, db, tenant, []string{cacheAgent(3)}) {
		for _, f := range a.Facts {
			f.Agent, f.Name = "pseudonym:abc", ""
			moved = append(moved, f)
		}
	}
	add(moved)
	// Reads skip agents without facts, so that a stale entry of the
	// person would not be read; it must not stay in memory either.
	before := db.FactsCacheStats().Entries
	if err := db.DeleteFactAgents(ctx, tenant, []string{cacheAgent(3)}); err != nil {
		t.Fatal(err)
	}
	if s := db.FactsCacheStats(); s.Entries != before-1 {
		t.Fatalf("the erased person's facts are still cached: %d entries, %d before", s.Entries, before)
	}
	some = append(some, "pseudonym:abc")
	sameFacts(t, db, tenant, "erasure", some)
	if got := readFacts(t, db, tenant, []string{cacheAgent(3)}); len(got) != 0 {
		t.Fatalf("the erased person's facts are still read: %v", got)
	}

	// Another tenant's facts, cached, survive the reset of this one.
	add2 := makeFacts(cacheAgent(1), "Other", 5, 200)
	if err := db.AddFacts(ctx, "other", add2); err != nil {
		t.Fatal(err)
	}
	sameFacts(t, db, "other", "other tenant", some)
	if err := db.ResetFacts(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	if s := db.FactsCacheStats(); s.Entries != 1 {
		t.Fatalf("after the reset, %d entries are cached, want the other tenant's 1", s.Entries)
	}
	if n := sameFacts(t, db, tenant, "reset", some); n != 0 {
		t.Fatalf("%d facts after a reset", n)
	}
	add(all[:50]) // a rebuild, of part of them
	sameFacts(t, db, tenant, "rebuild", some)
	if n := sameFacts(t, db, "other", "other tenant after the reset", some); n != len(add2) {
		t.Fatalf("other tenant: %d facts, want %d", n, len(add2))
	}
}

// TestFactsCacheConcurrent runs writers appending facts for a few agents
// (through AddFacts and Commit), a writer erasing and adding back another,
// and readers; every fact acknowledged before a read starts must be in it,
// and at the end the cache must give what the file holds. Run with -race.
func TestFactsCacheConcurrent(t *testing.T) {
	db := openCache(t, 0)
	ctx := context.Background()
	const tenant = "t"
	agents := []string{cacheAgent(0), cacheAgent(1), cacheAgent(2), cacheAgent(3)}
	const victim = "mbox:mailto:victim@example.com"
	var (
		mu    sync.Mutex
		acked []uuid.UUID // statements whose write returned
	)
	const writers, rounds = 3, 40
	var writing, wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		writing.Go(func() {
			for r := range rounds {
				a := agents[(w+r)%len(agents)]
				fs := makeFacts(a, fmt.Sprintf("W%d", w), 1+r%3, w*rounds+r)
				var err error
				if r%2 == 0 {
					err = db.AddFacts(ctx, tenant, fs)
				} else {
					// Commit writes the facts of statements it stores: one
					// record per fact, the fact under its id.
					recs := genRecords(tenant, 100000*(w+1)+r*10, len(fs))
					for i := range fs {
						fs[i].Statement = uuid.MustParse(recs[i].ID)
					}
					err = db.Commit(ctx, &ingest.Unit{Tenant: tenant, Records: recs, Facts: fs})
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, f := range fs {
					acked = append(acked, f.Statement)
				}
				mu.Unlock()
			}
		})
	}
	wg.Go(func() { // erases and adds back the victim's facts
		for r := 0; ; r++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := db.AddFacts(ctx, tenant, makeFacts(victim, "V", 2, 900+r)); err != nil {
				t.Error(err)
				return
			}
			if r%3 == 2 {
				if err := db.DeleteFactAgents(ctx, tenant, []string{victim}); err != nil {
					t.Error(err)
					return
				}
			}
		}
	})
	var readers sync.WaitGroup
	for range 3 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				want := append([]uuid.UUID(nil), acked...)
				mu.Unlock()
				seen := map[uuid.UUID]bool{}
				err := db.Facts(ctx, tenant, append(agents, victim), func(_ string, fs []reporting.Fact) error {
					for _, f := range fs {
						seen[f.Statement] = true
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				for _, id := range want {
					if !seen[id] {
						t.Errorf("acknowledged fact %s not read", id)
						return
					}
				}
			}
		})
	}
	// The writers end, then the eraser and the readers.
	writing.Wait()
	close(stop)
	wg.Wait()
	readers.Wait()
	sameFacts(t, db, tenant, "after the writers", append(agents, victim))
	if s := db.FactsCacheStats(); s.Hits == 0 {
		t.Errorf("the readers never read the cache: %+v", s)
	}
}

// TestFactsCacheBudget: with a budget smaller than the facts, the cache
// stays under it and reads stay exact.
func TestFactsCacheBudget(t *testing.T) {
	const budget = 8 << 10
	db := openCache(t, budget)
	ctx := context.Background()
	var agents []string
	for i := range 40 {
		agents = append(agents, cacheAgent(i))
		if err := db.AddFacts(ctx, "t", makeFacts(cacheAgent(i), "P", 10+i, i)); err != nil { // 0.3 to 1.7 KB each
			t.Fatal(err)
		}
	}
	for range 3 {
		sameFacts(t, db, "t", "budget", agents[5:20])
		s := db.FactsCacheStats()
		if s.Bytes > budget || s.Entries == 0 || s.Entries >= len(agents) {
			t.Fatalf("cache %+v, want some entries within %d bytes", s, budget)
		}
	}
	// An agent whose facts are larger than the budget is never cached.
	big := "mbox:mailto:big@example.com"
	if err := db.AddFacts(ctx, "t", makeFacts(big, "Big", 400, 99)); err != nil {
		t.Fatal(err)
	}
	sameFacts(t, db, "t", "larger than the budget", []string{big})
	if s := db.FactsCacheStats(); s.Bytes > budget {
		t.Fatalf("cache %+v over its budget", s)
	}
}

// TestCachesSeeOtherProcesses opens two handles on one file, as `lrs
// serve` and a command run beside it (`lrs privacy erase`, `lrs retention
// run`, `lrs reporting rebuild`) do: what the second removes or rewrites,
// the first's caches (facts, agents with facts, roster) must not keep.
func TestCachesSeeOtherProcesses(t *testing.T) {
	ctx := context.Background()
	const tenant = "t1"
	server := openCache(t, sqlite.DefaultFactsCache)
	agents := []string{cacheAgent(0), cacheAgent(1), cacheAgent(2)}
	for i, a := range agents {
		if err := server.AddFacts(ctx, tenant, makeFacts(a, "", 5, i)); err != nil {
			t.Fatal(err)
		}
	}
	imp := &reporting.Import{People: []reporting.PersonIn{{ID: "1001", Name: "Kari Nordmann", Email: "p00@example.com"}}}
	if _, err := server.ImportRoster(ctx, tenant, imp, cacheBase); err != nil {
		t.Fatal(err)
	}
	names := func() []string {
		rows, err := server.RosterRows(ctx, tenant, reporting.RosterFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rows {
			if r.Kind == reporting.RowPerson {
				out = append(out, r.Name)
			}
		}
		return out
	}
	sameFacts(t, server, tenant, "before", agents[:1]) // fills the caches
	if got := names(); !slices.Equal(got, []string{"Kari Nordmann"}) {
		t.Fatalf("roster names %v", got)
	}
	if s := server.FactsCacheStats(); s.Entries != len(agents) {
		t.Fatalf("the server cached %d agents, want %d", s.Entries, len(agents))
	}

	other, err := sqlite.Open(server.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	// The erasure of a person by the other process: the facts of agent 0
	// go, and the roster row is pseudonymised.
	if err := other.DeleteFactAgents(ctx, tenant, agents[:1]); err != nil {
		t.Fatal(err)
	}
	_, _, err = other.RewriteRoster(ctx, tenant, "1001", func(r *reporting.RosterRow) bool {
		if r.Kind != reporting.RowPerson {
			return false
		}
		r.Name = "pseudonym"
		return true
	}, func(*reporting.Change) bool { return false }, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := sameFacts(t, server, tenant, "after another process erased agent 0", agents[:2]); n != 10 {
		t.Errorf("the server reads %d facts after the erasure, want 10", n)
	}
	for _, af := range readFacts(t, server, tenant, agents) {
		if af.Agent == agents[0] {
			t.Errorf("the server still gives the erased agent's %d facts", len(af.Facts))
		}
	}
	if got := names(); !slices.Equal(got, []string{"pseudonym"}) {
		t.Errorf("after another process pseudonymised the person, the server's roster names %v", got)
	}

	// A rebuild by the other process: reset, then facts under new ids.
	if err := other.ResetFacts(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	if err := other.AddFacts(ctx, tenant, makeFacts(agents[2], "", 3, 7)); err != nil {
		t.Fatal(err)
	}
	if n := sameFacts(t, server, tenant, "after another process rebuilt", agents[1:]); n != 3 {
		t.Errorf("the server reads %d facts after the rebuild, want 3", n)
	}
}
