package statements

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/internal/lineartest"
)

// manyStatement returns a statement whose actor is an anonymous Group of
// members distinct Agents and whose context has parents distinct parent
// activities (and as many in a SubStatement's context when sub is set).
func manyStatement(members, parents int) string {
	var b strings.Builder
	b.WriteString(`{"actor":{"objectType":"Group","member":[`)
	for i := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"mbox":"mailto:m%d@example.com"}`, i)
	}
	b.WriteString(`]},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/o"},"context":{"contextActivities":{"parent":[`)
	for i := range parents {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"http://example.com/parent/%d"}`, i)
	}
	b.WriteString(`]}}}`)
	return b.String()
}

// TestIndexCostIsLinear: indexing a statement that names 8 times as many
// people and activities takes about 16 times as long, not 256.
func TestIndexCostIsLinear(t *testing.T) {
	lineartest.Check(t, "Index", 5000, func(n int) func() {
		s := decodeStmt(t, manyStatement(n, n))
		return func() {
			var rec Record
			Index(s, &rec)
			if len(rec.Agents) != n || len(rec.RelatedActivities) != n {
				t.Fatalf("indexed %d agents and %d related activities, want %d", len(rec.Agents), len(rec.RelatedActivities), n)
			}
		}
	})
}

// TestListLimits: each list of a statement is accepted up to its limit and
// refused beyond it with an error naming the path and the limit.
func TestListLimits(t *testing.T) {
	activities := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprintf(`{"id":"http://example.com/a/%d"}`, i)
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	agents := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprintf(`{"mbox":"mailto:m%d@example.com"}`, i)
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	repeat := func(n int, e string) string {
		return "[" + strings.TrimSuffix(strings.Repeat(e+",", n), ",") + "]"
	}
	components := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprintf(`{"id":"c%d"}`, i)
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	const head = `"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"}`
	const obj = `"object":{"id":"http://example.com/o"}`
	attachment := `{"usageType":"http://example.com/u","display":{"en":"a"},"contentType":"text/plain","length":1,` +
		`"sha2":"` + strings.Repeat("a", 64) + `","fileUrl":"http://example.com/f"}`
	for _, tc := range []struct {
		name, path string
		limit      int
		v          Version
		stmt       func(n int) string
	}{
		{"group members", "actor.member", MaxGroupMembers, V103, func(n int) string {
			return `{"actor":{"objectType":"Group","member":` + agents(n) + `},"verb":{"id":"http://example.com/v"},` + obj + `}`
		}},
		{"context parent", "context.contextActivities.parent", MaxListEntries, V103, func(n int) string {
			return `{` + head + `,` + obj + `,"context":{"contextActivities":{"parent":` + activities(n) + `}}}`
		}},
		{"substatement context other", "object.context.contextActivities.other", MaxListEntries, V103, func(n int) string {
			return `{` + head + `,"object":{"objectType":"SubStatement",` + head + `,` + obj +
				`,"context":{"contextActivities":{"other":` + activities(n) + `}}}}`
		}},
		{"context agents", "context.contextAgents", MaxListEntries, V200, func(n int) string {
			return `{` + head + `,` + obj + `,"context":{"contextAgents":` +
				repeat(n, `{"objectType":"contextAgent","agent":{"mbox":"mailto:b@example.com"}}`) + `}}`
		}},
		{"relevant types", "context.contextAgents[0].relevantTypes", MaxListEntries, V200, func(n int) string {
			return `{` + head + `,` + obj + `,"context":{"contextAgents":[{"objectType":"contextAgent",` +
				`"agent":{"mbox":"mailto:b@example.com"},"relevantTypes":` + repeat(n, `"http://example.com/t"`) + `}]}}`
		}},
		{"attachments", "attachments", MaxListEntries, V103, func(n int) string {
			return `{` + head + `,` + obj + `,"attachments":` + repeat(n, attachment) + `}`
		}},
		{"choices", "object.definition.choices", MaxListEntries, V103, func(n int) string {
			return `{` + head + `,"object":{"id":"http://example.com/q","definition":{"interactionType":"choice","choices":` +
				components(n) + `}}}`
		}},
		{"correct responses", "object.definition.correctResponsesPattern", MaxListEntries, V103, func(n int) string {
			return `{` + head + `,"object":{"id":"http://example.com/q","definition":{"interactionType":"fill-in",` +
				`"correctResponsesPattern":` + repeat(n, `"x"`) + `}}}`
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseStatement([]byte(tc.stmt(tc.limit)), tc.v); err != nil {
				t.Fatalf("%d entries (the limit): %v", tc.limit, err)
			}
			_, err := ParseStatement([]byte(tc.stmt(tc.limit+1)), tc.v)
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Rule != "list-too-long" || e.Path != tc.path {
				t.Fatalf("%d entries: got %v, want an Invalid list-too-long error at %s", tc.limit+1, err, tc.path)
			}
			for _, want := range []string{tc.path, fmt.Sprint(tc.limit + 1), fmt.Sprint(tc.limit)} {
				if !strings.Contains(e.Message, want) {
					t.Errorf("message %q does not name %s", e.Message, want)
				}
			}
		})
	}
}
