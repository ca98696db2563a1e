package lrs_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/internal/lineartest"
	"github.com/xapi-lrs/lrs/statements"
)

// errorOf decodes a JSON error body.
func errorOf(t testing.TB, r *response) (e struct{ Kind, Message, Path, Rule string }) {
	t.Helper()
	var body struct {
		Error struct{ Kind, Message, Path, Rule string } `json:"error"`
	}
	r.json(t, &body)
	return body.Error
}

// parents returns n distinct context activities as a JSON array.
func parents(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf(`{"id":"http://example.com/parent/%d"}`, i)
	}
	return "[" + strings.Join(s, ",") + "]"
}

// TestStatementListLimit: a statement with more context activities than
// the LRS accepts in one list is refused with a 400 naming the path and the
// limit, by PUT, by POST and inside a batch; one at the limit is stored.
func TestStatementListLimit(t *testing.T) {
	s := newServer(t)
	body := func(n int) string {
		return `{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/o"},` +
			`"context":{"contextActivities":{"parent":` + parents(n) + `}}}`
	}
	limit := statements.MaxListEntries
	expect(t, s.do(req{method: "POST", path: "/xapi/statements", body: body(limit)}), http.StatusOK)

	for _, tc := range []struct {
		name, method, path, body, wantPath string
	}{
		{"POST", "POST", "/xapi/statements", body(limit + 1), "context.contextActivities.parent"},
		{"PUT", "PUT", "/xapi/statements?statementId=" + newID(), body(limit + 1), "context.contextActivities.parent"},
		{"batch", "POST", "/xapi/statements", "[" + body(1) + "," + body(80000) + "]", "[1].context.contextActivities.parent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(req{method: tc.method, path: tc.path, body: tc.body})
			expect(t, r, http.StatusBadRequest)
			e := errorOf(t, r)
			if e.Kind != "invalid" || e.Rule != "list-too-long" || e.Path != tc.wantPath ||
				!strings.Contains(e.Message, tc.wantPath) || !strings.Contains(e.Message, fmt.Sprint(limit)) {
				t.Errorf("error %+v, want rule list-too-long at %s naming the limit %d", e, tc.wantPath, limit)
			}
		})
	}
}

// groupsStatement returns a statement whose context names n people: the
// members of contextGroups of perGroup members each.
func groupsStatement(n, perGroup int) string {
	var b strings.Builder
	b.WriteString(`{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/o"},"context":{"contextGroups":[`)
	for g := range n / perGroup {
		if g > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"objectType":"contextGroup","group":{"objectType":"Group","member":[`)
		for i := range perGroup {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"mbox":"mailto:m%d@example.com"}`, g*perGroup+i)
		}
		b.WriteString(`]}}`)
	}
	b.WriteString(`]}}`)
	return b.String()
}

// TestRequestIndexLimit: the statements of one request may name at most
// statements.MaxIndexEntries people and activities in all, whether one
// statement or a batch names them; beyond it the request is a 413 naming
// the limit.
func TestRequestIndexLimit(t *testing.T) {
	s := newServer(t)
	const per = statements.MaxGroupMembers
	over := statements.MaxIndexEntries + per
	for name, body := range map[string]string{
		"statement": groupsStatement(over, per),
		"batch":     "[" + groupsStatement(over/2, per) + "," + groupsStatement(over/2, per) + "]",
	} {
		r := s.do(req{method: "POST", path: "/xapi/statements", body: body})
		expect(t, r, http.StatusRequestEntityTooLarge)
		if e := errorOf(t, r); e.Rule != "index-entries" || !strings.Contains(e.Message, fmt.Sprint(statements.MaxIndexEntries)) {
			t.Errorf("%s: error %+v, want rule index-entries naming the limit", name, e)
		}
	}
	expect(t, s.do(req{method: "POST", path: "/xapi/statements", body: groupsStatement(statements.MaxIndexEntries-per, per)}), http.StatusOK)
}

// TestLargeStatementCostIsLinear: storing a statement that names 16 times
// as many people costs about 16 times as much, not 256 times (an 80,000
// activity statement took 53 s when de-duplication was quadratic). The
// people are the members of contextGroups, within the limits.
func TestLargeStatementCostIsLinear(t *testing.T) {
	s := newServer(t)
	lineartest.Check(t, "POST /xapi/statements", 5000, func(n int) func() {
		body := groupsStatement(n, 5000)
		last := fmt.Sprintf(`{"mbox":"mailto:m%d@example.com"}`, n-1)
		return func() {
			expect(t, s.do(req{method: "POST", path: "/xapi/statements", body: body}), http.StatusOK)
			r := s.do(req{method: "GET", path: "/xapi/statements?related_agents=true&limit=1&agent=" + url.QueryEscape(last)})
			if got, _ := r.result(t); len(got) != 1 {
				t.Fatalf("the last member of %d does not find the statement", n)
			}
		}
	})
}
