package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/statements"
)

// TestQueryPlans checks with EXPLAIN QUERY PLAN that every filter, alone,
// combined, with a time range, a cursor and either order, is served by an
// index in the order of the result: no table scan, no sort.
func TestQueryPlans(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "lrs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Some rows, so that the planner sees real tables.
	ctx := context.Background()
	base := time.Now().UTC()
	var recs []*statements.Record
	for i := range 200 {
		recs = append(recs, &statements.Record{Tenant: "default", ID: fmt.Sprintf("id-%d", i),
			Stored: base.Add(time.Duration(i)), Timestamp: base, Authority: fmt.Sprintf("lms%d", i%3),
			VerbID: fmt.Sprintf("verb%d", i%5), Registration: fmt.Sprintf("reg%d", i%50),
			Agents: []string{fmt.Sprintf("agent%d", i%40)}, RelatedAgents: []string{"instructor"},
			Activities: []string{fmt.Sprintf("act%d", i%20)}, RelatedActivities: []string{"program"},
			Hash: "h", JSON: []byte("{}")})
	}
	if err := db.Insert(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}

	until := base.Add(time.Hour)
	var queries []statements.Query
	for _, f := range []statements.Query{
		{}, {Agent: "agent1"}, {Agent: "agent1", RelatedAgents: true}, {Verb: "verb1"}, {Activity: "act1"},
		{Activity: "program", RelatedActivities: true}, {Registration: "reg1"}, {Authority: "lms1"},
		{Agent: "agent1", Verb: "verb1"}, {Activity: "act1", Authority: "lms1"},
		{Agent: "agent1", Verb: "verb1", Activity: "act1", Registration: "reg1", Authority: "lms1"},
		{Verb: "verb1", Activity: "act1", RelatedActivities: true},
	} {
		for _, asc := range []bool{false, true} {
			for _, timed := range []bool{false, true} {
				q := f
				q.Tenant, q.Ascending, q.Limit = "default", asc, 10
				if timed {
					q.Since, q.Until = base, until
				}
				queries = append(queries, q)
			}
		}
	}
	for _, q := range queries {
		conds := conditions(q)
		drive := []int64{0}
		if len(conds) > 0 {
			drive = conds[0].keys(q.Tenant)
		}
		for _, cur := range []cursor{{maxSeq: 100}, {maxSeq: 100, stored: base.UnixNano(), seq: 50}} {
			name := fmt.Sprintf("%+v cursor=%v", q, cur.seq != 0)
			if len(drive) == 1 {
				query, args := buildQuery(q, conds, drive[0], cur, 11)
				checkPlan(t, db, name, query, args...)
				continue
			}
			// Several driving keys (see merged): the places of each from
			// the index, then the rows by seq.
			for _, key := range drive {
				query, args := buildPlaces(q, key, cur, 11)
				checkPlan(t, db, name+" places", query, args...)
			}
			query, args := buildRows(q, conds, []int64{3, 1, 2})
			if plan := checkPlan(t, db, name+" rows", query, args...); !strings.Contains(plan, "SEARCH s USING INTEGER PRIMARY KEY") {
				t.Errorf("%s: the rows are not read by seq:\n%s", name, plan)
			}
		}
	}

	// The point lookups of reads and writes.
	for _, c := range []struct {
		query string
		args  []any
	}{
		{`SELECT ` + recordColumns + ` FROM statements WHERE tenant = ? AND id = ?`, []any{"default", "id-1"}},
		{`SELECT hash FROM statements WHERE tenant = ? AND id = ?`, []any{"default", "id-1"}},
		{`SELECT seq, id, stored, voids, verb, registration, authority, agents, related_agents,
			activities, related_activities, inherited FROM statements WHERE tenant = ? AND ref_id = ? AND ref_id <> ''`, []any{"default", "id-1"}},
		{`SELECT content_type, data FROM attachments WHERE tenant = ? AND sha2 = ?`, []any{"default", "00"}},
		{`SELECT key FROM credentials WHERE key = ?`, []any{"k"}},
	} {
		plan := checkPlan(t, db, c.query, c.query, c.args...)
		if strings.Contains(c.query, "ref_id = ?") && !strings.Contains(plan, "statements_ref") {
			t.Errorf("referrers lookup does not use statements_ref:\n%s", plan)
		}
	}
}

// checkPlan fails t if the plan of query scans a table or sorts; it returns
// the plan.
func checkPlan(t *testing.T, db *DB, name, query string, args ...any) string {
	t.Helper()
	rows, err := db.read.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	plan := strings.Join(lines, "\n")
	for _, l := range lines {
		// The list of seqs of a query with several driving keys is
		// json_each, read whole.
		if strings.HasPrefix(l, "SCAN") && !strings.HasPrefix(l, "SCAN j VIRTUAL TABLE") || strings.Contains(l, "TEMP B-TREE") {
			t.Errorf("%s: plan has %q:\n%s\n%s", name, l, plan, query)
		}
	}
	return plan
}
