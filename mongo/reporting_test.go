package mongo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
	rptest "github.com/xapi-lrs/lrs/reporting/storetest"
)

func TestReporting(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			rptest.Run(t, func(t *testing.T) reporting.Store { return openDB(t, uri) })
		})
	}
}

func TestKiNS(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			rptest.RunKiNS(t, func(t *testing.T) (reporting.Store, rptest.IngestStore) {
				db := openDB(t, uri)
				return db, db
			})
		})
	}
}

func TestIngest(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			rptest.RunIngest(t, func(t *testing.T) (reporting.Store, rptest.IngestStore) {
				db := openDB(t, uri)
				return db, db
			})
		})
	}
}

// Tests of what is particular to this backend: imports without
// transactions (serialised, invisible until committed, recovered after a
// writer dies), catalog checks under races, and the commands sent. The
// Store contract itself is checked by reporting/storetest (above).

var rpCtx = context.Background()

// rosterImport lists units u1, u2 and people p1..pn in u1, as a complete
// import effective on 1 January 2025.
func rosterImport(n int) *reporting.Import {
	imp := &reporting.Import{Effective: reporting.MustDate("2025-01-01"), Units: []reporting.UnitIn{
		{ID: "u1", Name: "Enhet 1"}, {ID: "u2", Name: "Enhet 2", Parent: "u1"}}}
	for i := 1; i <= n; i++ {
		imp.People = append(imp.People, reporting.PersonIn{ID: fmt.Sprintf("p%d", i), Name: fmt.Sprintf("Person %d", i),
			Units: []reporting.Assignment{{ID: "u1"}}, Roles: []reporting.Assignment{{ID: "adm"}}})
	}
	return imp
}

func mustImport(t *testing.T, db *DB, tenant string, imp *reporting.Import, now time.Time) *reporting.ImportRecord {
	t.Helper()
	rec, err := db.ImportRoster(rpCtx, tenant, imp, now)
	if err != nil {
		t.Fatalf("ImportRoster: %v", err)
	}
	return rec
}

// rowStrings renders rows sorted, for comparison.
func rowStrings(t *testing.T, db *DB, tenant string, f reporting.RosterFilter) []string {
	t.Helper()
	rows, err := db.RosterRows(rpCtx, tenant, f)
	if err != nil {
		t.Fatalf("RosterRows: %v", err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s %s %s %q %s rec=%d sup=%d", r.Kind, r.Key, r.Value, r.Name, r.Interval, r.Recorded, r.Superseded))
	}
	slices.Sort(out)
	return out
}

// currentTimelines fails the test when a timeline has more than one
// current row covering the same day (two imports applied against the same
// roster would leave such duplicates).
func checkTimelines(t *testing.T, db *DB, tenant string) {
	t.Helper()
	rows, err := db.RosterRows(rpCtx, tenant, reporting.RosterFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byTimeline := map[reporting.Timeline][]reporting.Interval{}
	for _, r := range rows {
		tl := reporting.Timeline{Kind: r.Kind, Key: r.Key, Value: r.Value}
		for _, iv := range byTimeline[tl] {
			if (iv.To == 0 || r.From < iv.To) && (r.To == 0 || iv.From < r.To) {
				t.Errorf("timeline %v has overlapping current rows %s and %s", tl, iv, r.Interval)
			}
		}
		byTimeline[tl] = append(byTimeline[tl], r.Interval)
	}
}

// leaveImport writes import id of tenant up to its commit and stops, as if
// its writer died heartbeat ago: a pending record, a new person's row and
// a superseded mark on person p1's row.
func leaveImport(t *testing.T, db *DB, tenant string, id int64, heartbeat time.Duration) {
	t.Helper()
	now := time.Now()
	if _, err := db.db.Collection(collImports).InsertOne(rpCtx, importDoc{ID: importKey(tenant, id), Tenant: tenant, Import: id,
		State: importPending, Heartbeat: now.Add(-heartbeat).UnixNano(), Recorded: now.UnixNano(), Record: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Collection(collRoster).InsertOne(rpCtx, rowDoc{ID: fmt.Sprintf("%s/%d/0", tenant, id), Tenant: tenant,
		Kind: "person", Key: "ghost", Name: "Ghost", Recorded: id}); err != nil {
		t.Fatal(err)
	}
	res, err := db.db.Collection(collRoster).UpdateMany(rpCtx, bson.D{{Key: "t", Value: tenant}, {Key: "kd", Value: "person"}, {Key: "k", Value: "p1"}},
		d("$set", d("x", id)))
	if err != nil || res.ModifiedCount != 1 {
		t.Fatalf("marking p1: %v, %+v", err, res)
	}
}

func TestImportAbandoned(t *testing.T) {
	db := openDB(t, ferretURI)
	t0 := time.Date(2025, 1, 2, 8, 0, 0, 0, time.UTC)
	mustImport(t, db, "t1", rosterImport(3), t0)
	before := rowStrings(t, db, "t1", reporting.RosterFilter{})
	p1 := rowStrings(t, db, "t1", reporting.RosterFilter{People: []string{"p1", "ghost"}})

	// Import 2 died before its commit: readers see none of it.
	leaveImport(t, db, "t1", 2, 2*importStale)
	if got := rowStrings(t, db, "t1", reporting.RosterFilter{}); !slices.Equal(got, before) {
		t.Errorf("rows with an abandoned import:\n%v\nwant\n%v", got, before)
	}
	if got := rowStrings(t, db, "t1", reporting.RosterFilter{KnownAt: time.Now()}); !slices.Equal(got, before) {
		t.Errorf("rows known now with an abandoned import:\n%v\nwant\n%v", got, before)
	}
	if got := rowStrings(t, db, "t1", reporting.RosterFilter{People: []string{"p1", "ghost"}}); !slices.Equal(got, p1) {
		t.Errorf("p1's rows with an abandoned import: %v, want %v", got, p1)
	}
	if list, err := db.Imports(rpCtx, "t1"); err != nil || len(list) != 1 {
		t.Errorf("Imports = %d records, %v; want 1", len(list), err)
	}
	if _, err := db.ImportRecord(rpCtx, "t1", 2); !errs.Is(err, errs.NotFound) {
		t.Errorf("ImportRecord(2) = %v, want not found", err)
	}

	// The next import aborts it, and goes on as if it never was.
	imp := rosterImport(3)
	imp.People[0].Name = "Person 1, renamed"
	rec := mustImport(t, db, "t1", imp, t0.Add(time.Hour))
	if rec.ID != 3 || len(rec.Changes) != 1 || rec.Changes[0].Key != "p1" || rec.Changes[0].Before[0].Name != "Person 1" {
		t.Errorf("import after the abandoned one: %+v", rec)
	}
	var doc importDoc
	if err := db.db.Collection(collImports).FindOne(rpCtx, d("_id", importKey("t1", 2))).Decode(&doc); err != nil || doc.State != importAborted {
		t.Errorf("abandoned record: %+v, %v; want aborted", doc, err)
	}
	if n := count(t, db, collRoster, d("r", int64(2))); n != 0 {
		t.Errorf("%d rows of the aborted import remain", n)
	}
	if n := count(t, db, collRoster, d("x", int64(2))); n != 0 {
		t.Errorf("%d marks of the aborted import remain", n)
	}
	checkTimelines(t, db, "t1")
	if got := rowStrings(t, db, "t1", reporting.RosterFilter{People: []string{"p1"}}); len(got) != 3 ||
		!slices.Contains(got, `person p1  "Person 1, renamed" [2025-01-01, …) rec=3 sup=0`) {
		t.Errorf("p1 after the next import: %v", got)
	}
}

func TestImportWaitsForAnother(t *testing.T) {
	db := openDB(t, ferretURI)
	t0 := time.Date(2025, 1, 2, 8, 0, 0, 0, time.UTC)
	mustImport(t, db, "t1", rosterImport(2), t0)
	// Import 2 is in flight (its heartbeat is fresh): the next one waits
	// for it to finish, here by failing.
	leaveImport(t, db, "t1", 2, 0)
	done := make(chan *reporting.ImportRecord, 1)
	go func() {
		rec, err := db.ImportRoster(rpCtx, "t1", rosterImport(3), t0.Add(time.Hour))
		if err != nil {
			t.Error(err)
		}
		done <- rec
	}()
	select {
	case rec := <-done:
		t.Fatalf("import did not wait for the one in flight: %+v", rec)
	case <-time.After(300 * time.Millisecond):
	}
	if err := db.abortImport(rpCtx, "t1", 2); err != nil {
		t.Fatal(err)
	}
	select {
	case rec := <-done:
		if rec == nil || rec.ID != 3 || len(rec.Changes) != 3 { // p3's person, member and role rows
			t.Errorf("import after the one in flight failed: %+v", rec)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("import still waiting after the other one was aborted")
	}
	checkTimelines(t, db, "t1")
}

func TestImportLateCommit(t *testing.T) {
	db := openDB(t, ferretURI)
	// An import presumed dead and aborted by another cannot commit later.
	if _, err := db.db.Collection(collImports).InsertOne(rpCtx, importDoc{ID: importKey("t1", 1), Tenant: "t1", Import: 1,
		State: importPending, Heartbeat: time.Now().UnixNano(), Record: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := db.abortImport(rpCtx, "t1", 1); err != nil {
		t.Fatal(err)
	}
	plan, err := reporting.PlanImport(nil, rosterImport(2), reporting.MustDate("2025-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.applyImport(rpCtx, "t1", 1, plan, nil); !errs.Is(err, errs.Unavailable) {
		t.Errorf("late commit: %v, want unavailable", err)
	}
	if got := rowStrings(t, db, "t1", reporting.RosterFilter{}); len(got) != 0 {
		t.Errorf("rows of an aborted import: %v", got)
	}
	if n := count(t, db, collRoster, d("t", "t1")) + count(t, db, collImportChanges, d("t", "t1")); n != 0 {
		t.Errorf("%d documents of the aborted import remain", n)
	}
	// The id stays used.
	if rec := mustImport(t, db, "t1", rosterImport(1), time.Now()); rec.ID != 2 {
		t.Errorf("next import has id %d, want 2", rec.ID)
	}
}

func TestImportsConcurrent(t *testing.T) {
	db := openDB(t, ferretURI)
	t0 := time.Date(2025, 1, 2, 8, 0, 0, 0, time.UTC)
	mustImport(t, db, "t1", rosterImport(2), t0)
	// Each import renames p1 (and adds a person): applied one after the
	// other, each sees the name the one before gave.
	const n = 6
	var wg sync.WaitGroup
	recs := make([]*reporting.ImportRecord, n)
	for i := range n {
		wg.Go(func() {
			imp := &reporting.Import{Partial: true, Effective: reporting.MustDate("2025-02-01"), People: []reporting.PersonIn{
				{ID: "p1", Name: fmt.Sprintf("Name %d", i), Units: []reporting.Assignment{{ID: "u1"}}, Roles: []reporting.Assignment{{ID: "adm"}}},
				{ID: fmt.Sprintf("new%d", i), Name: "New", Units: []reporting.Assignment{{ID: "u2"}}},
			}}
			rec, err := db.ImportRoster(rpCtx, "t1", imp, t0.Add(time.Duration(i+1)*time.Minute))
			if err != nil {
				t.Error(err)
				return
			}
			recs[i] = rec
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	names := map[int64][2]string{} // import -> p1's name before and after
	for _, rec := range recs {
		for _, c := range rec.Changes {
			if c.Kind == reporting.RowPerson && c.Key == "p1" {
				names[rec.ID] = [2]string{c.Before[0].Name, c.After[0].Name}
			}
		}
	}
	prev := "Person 1"
	for id := int64(2); id <= n+1; id++ {
		if names[id][0] != prev {
			t.Errorf("import %d renamed p1 from %q, want from %q (the name import %d gave)", id, names[id][0], prev, id-1)
		}
		prev = names[id][1]
	}
	checkTimelines(t, db, "t1")
	rows := rowStrings(t, db, "t1", reporting.RosterFilter{People: []string{"p1"}})
	if !slices.Contains(rows, fmt.Sprintf(`person p1  %q [2025-01-01, …) rec=%d sup=0`, prev, n+1)) {
		t.Errorf("p1 after %d concurrent imports: %v; want named %q by import %d", n, rows, prev, n+1)
	}
	if got := rowStrings(t, db, "t1", reporting.RosterFilter{MembersOf: []string{"u2"}}); len(got) != 2*n {
		t.Errorf("members of u2: %d rows, want %d (a person and a member row each)", len(got), 2*n)
	}
}

func TestCatalogRaces(t *testing.T) {
	db := openDB(t, ferretURI)
	m := &reporting.Module{ID: "m", Title: map[string]string{"en": "M"}, Activities: []string{"https://lms.example/m"},
		Completion: reporting.Completed}
	for round := range 10 {
		if err := db.PutModule(rpCtx, "t1", m); err != nil {
			t.Fatal(err)
		}
		// A rule naming the module races its deletion: exactly one wins.
		var del, put error
		var wg sync.WaitGroup
		wg.Go(func() { del = db.DeleteModule(rpCtx, "t1", "m") })
		wg.Go(func() { put = db.PutRule(rpCtx, "t1", &reporting.Rule{ID: "r", Role: "x", Modules: []string{"m"}}) })
		wg.Wait()
		switch {
		case del == nil && errs.Is(put, errs.Invalid):
		case put == nil && errs.Is(del, errs.Conflict):
			if err := db.DeleteRule(rpCtx, "t1", "r"); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("round %d: delete %v, put rule %v; want exactly one to succeed", round, del, put)
		}
		cat, err := db.Catalog(rpCtx, "t1")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range cat.Rules {
			for _, id := range r.Modules {
				if cat.Module(id) == nil {
					t.Fatalf("round %d: rule %s names module %s, not in the catalog", round, r.ID, id)
				}
			}
		}
	}
}

func TestReportingWireCommands(t *testing.T) {
	db, log := openLogged(t)
	check := func(what string, max int) []string {
		t.Helper()
		var names []string
		for _, c := range log.take() {
			name := cmdName(c)
			verb, _, _ := strings.Cut(name, " ")
			if verb == "getMore" { // the next batch of a find's results
				continue
			}
			names = append(names, name)
			if !slices.Contains([]string{"find", "insert", "update", "delete"}, verb) ||
				c.Lookup("startTransaction").Type != 0 || c.Lookup("autocommit").Type != 0 {
				t.Errorf("%s: command outside find/insert/update/delete: %s", what, c)
			}
		}
		if len(names) > max {
			t.Errorf("%s took %d commands, want at most %d: %v", what, len(names), max, names)
		}
		t.Logf("%s: %d commands: %v", what, len(names), names)
		return names
	}

	// Catalog: a put registers its write, reads the current revision,
	// inserts the next and unregisters (from the second revision on it
	// then lists the key's writers and deletes the revisions before).
	if err := db.PutModule(rpCtx, "t1", &reporting.Module{ID: "m", Title: map[string]string{"en": "M"},
		Activities: []string{"https://lms.example/m"}, Completion: reporting.Completed}); err != nil {
		t.Fatal(err)
	}
	check("PutModule", 4)
	if _, err := db.Catalog(rpCtx, "t1"); err != nil {
		t.Fatal(err)
	}
	check("Catalog", 1)

	// An import: records, current rows, claim, changes, marks, rows,
	// commit.
	mustImport(t, db, "t1", rosterImport(100), time.Now())
	check("ImportRoster of 100 people", 7)
	if _, err := db.RosterRows(rpCtx, "t1", reporting.RosterFilter{}); err != nil {
		t.Fatal(err)
	}
	check("RosterRows", 2)
	if _, err := db.RosterRows(rpCtx, "t1", reporting.RosterFilter{MembersOf: []string{"u1"}}); err != nil {
		t.Fatal(err)
	}
	check("RosterRows of the members of a unit", 3)

	// Facts: the agents' upsert and one unordered insert per call; a read
	// is three finds per batch of agents.
	var facts []reporting.Fact
	var agents []string
	for i := range 100 {
		a := fmt.Sprintf("mbox:mailto:p%d@kommune.no", i%10)
		agents = append(agents, a)
		facts = append(facts, reporting.Fact{Statement: uuid.New(), Agent: a, Name: "P", Activities: []string{"https://lms.example/m"},
			Outcome: reporting.OutcomeCompleted, Timestamp: time.Now(), Stored: time.Now()})
	}
	if err := db.AddFacts(rpCtx, "t1", facts); err != nil {
		t.Fatal(err)
	}
	if got := check("AddFacts of 100 facts of new agents", 3); !slices.Equal(got, []string{"find rp_agents", "insert rp_agents", "insert rp_facts"}) {
		t.Errorf("AddFacts sent %v", got)
	}
	// Known agents under the same names: one read and the insert; a new
	// name: an update too.
	if err := db.AddFacts(rpCtx, "t1", facts[:50]); err != nil {
		t.Fatal(err)
	}
	check("AddFacts again", 2)
	facts[0].Name = "Renamed"
	if err := db.AddFacts(rpCtx, "t1", facts[:1]); err != nil {
		t.Fatal(err)
	}
	if got := check("AddFacts with a new name", 3); !slices.Contains(got, "update rp_agents") {
		t.Errorf("AddFacts with a new name sent %v", got)
	}
	if err := db.RetractFacts(rpCtx, "t1", []reporting.Retraction{{Statement: facts[0].Statement, Stored: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	check("RetractFacts", 1)
	got := 0
	if err := db.Facts(rpCtx, "t1", agents, func(agent string, fs []reporting.Fact) error {
		got += len(fs)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got != 100 {
		t.Errorf("Facts gave %d facts, want 100", got)
	}
	check("Facts of 10 agents", 3)
}

// TestReportCostIsLinear: the status report of an organisation four times
// as large costs the backend about four times the commands and the
// documents read, not sixteen times: it reads batches of people, each
// with three finds on indexed fields (facts by {t, g}, retractions by
// {t, s}, agents by _id), and the roster once. (FerretDB, which pushes
// down only _id equality, scans a collection for each such find, so its
// time grows with batches × documents; MongoDB uses the indexes. See
// BENCHMARKS.md, "Reports at 55,000 people".)
func TestReportCostIsLinear(t *testing.T) {
	cost := func(people int) (commands, docs int) {
		db, log := openLogged(t)
		scale := rptest.Scale{People: people, Statements: 4 * people}
		if err := scale.Fill(rpCtx, db, "t1"); err != nil {
			t.Fatal(err)
		}
		log.take()
		rows := 0
		q := reporting.Query{Options: reporting.Options{AsOf: time.Date(2025, 10, 15, 12, 0, 0, 0, time.UTC)}}
		if _, err := reporting.Report(rpCtx, db, "t1", q, func(*reporting.Row) error { rows++; return nil }); err != nil {
			t.Fatal(err)
		}
		if rows < 5*people {
			t.Fatalf("%d people: %d rows", people, rows)
		}
		docs = log.takeDocs()
		return len(log.take()), docs
	}
	c1, d1 := cost(50)
	c4, d4 := cost(200)
	t.Logf("50 people: %d commands, %d documents; 200 people: %d commands, %d documents", c1, d1, c4, d4)
	if c4 > 4*c1 || d4 > 5*d1 {
		t.Errorf("four times the people cost %.1f times the commands and %.1f times the documents, want about 4 at most",
			float64(c4)/float64(c1), float64(d4)/float64(d1))
	}
}

// TestReportingBulk writes more than 100 changes of existing documents at
// once: FerretDB v1.24 hangs on an update command of 100 statements or
// more, so the store must not send one (and MongoDB must get few
// commands).
func TestReportingBulk(t *testing.T) {
	db := openDB(t, ferretURI)
	ctx, cancel := context.WithTimeout(rpCtx, 2*time.Minute)
	defer cancel()
	const n = 120
	var facts []reporting.Fact
	for i := range n {
		facts = append(facts, reporting.Fact{Statement: uuid.New(), Agent: fmt.Sprintf("mbox:mailto:p%d@kommune.no", i), Name: "Old",
			Activities: []string{"https://lms.example/m"}, Timestamp: time.Now(), Stored: time.Now()})
	}
	if err := db.AddFacts(ctx, "t1", facts); err != nil {
		t.Fatal(err)
	}
	for i := range facts {
		facts[i].Name = "New"
	}
	if err := db.AddFacts(ctx, "t1", facts); err != nil {
		t.Fatal(err)
	}
	agents, err := db.FactAgents(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range agents {
		if a.Name != "New" {
			t.Errorf("agent %s named %q, want New", a.Agent, a.Name)
		}
	}
	if len(agents) != n {
		t.Errorf("%d agents, want %d", len(agents), n)
	}

	// An import superseding n rows.
	if _, err := db.ImportRoster(ctx, "t1", rosterImport(n), time.Now()); err != nil {
		t.Fatal(err)
	}
	imp := rosterImport(n)
	for i := range imp.People {
		imp.People[i].Name += ", renamed"
	}
	rec, err := db.ImportRoster(ctx, "t1", imp, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Changes) != n {
		t.Errorf("%d changes, want %d", len(rec.Changes), n)
	}
	checkTimelines(t, db, "t1")
}
