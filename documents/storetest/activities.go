package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// RunActivities runs the contract tests of a statements.ActivityStore
// against the stores open returns. open returns a fresh, empty store and
// registers its cleanup with t.
func RunActivities(t *testing.T, open func(t *testing.T) statements.ActivityStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s statements.ActivityStore)
	}{
		{"Merge", testActivityMerge},
		{"Isolation", testActivityIsolation},
		{"Concurrent", testActivityConcurrent},
		{"ConcurrentRounds", testActivityConcurrentRounds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// jsonObject decodes a JSON object as statements are decoded.
func jsonObject(t testing.TB, s string) map[string]any {
	t.Helper()
	v, err := statements.DecodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("DecodeJSON(%s): %v", s, err)
	}
	return v.(map[string]any)
}

func merge(t testing.TB, s statements.ActivityStore, tenant string, defs map[string]map[string]any) {
	t.Helper()
	if err := s.MergeActivities(context.Background(), tenant, defs); err != nil {
		t.Fatalf("MergeActivities: %v", err)
	}
}

// checkActivity fails t unless the canonical definition of id is want.
func checkActivity(t testing.TB, s statements.ActivityStore, tenant, id string, want map[string]any) {
	t.Helper()
	got, err := s.Activity(context.Background(), tenant, id)
	if err != nil {
		t.Fatalf("Activity(%q, %s): %v", tenant, id, err)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("Activity(%q, %s) =\n%s\nwant\n%s", tenant, id, g, w)
	}
}

func wantNoActivity(t testing.TB, s statements.ActivityStore, tenant, id string) {
	t.Helper()
	got, err := s.Activity(context.Background(), tenant, id)
	if !errs.Is(err, errs.NotFound) {
		t.Errorf("Activity(%q, %s) = %v, %v; want a NotFound error", tenant, id, got, err)
	}
}

func testActivityMerge(t *testing.T, s statements.ActivityStore) {
	wantNoActivity(t, s, "t1", course1)
	// Merging nothing is fine.
	merge(t, s, "t1", nil)

	// Extension keys are IRIs with dots, may start with $, and numbers keep
	// their form.
	d1 := jsonObject(t, `{"name":{"en-US":"example meeting"},"type":"http://adlnet.gov/expapi/activities/meeting",
		"extensions":{"http://example.com/ext.v1":{"$x":1,"a.b":[1.50,"é",null,true]}}}`)
	d1Copy := jsonObject(t, `{"name":{"en-US":"example meeting"},"type":"http://adlnet.gov/expapi/activities/meeting",
		"extensions":{"http://example.com/ext.v1":{"$x":1,"a.b":[1.50,"é",null,true]}}}`)
	q1 := jsonObject(t, `{"interactionType":"choice","correctResponsesPattern":["a"],"choices":[{"id":"a","description":{"en-US":"A"}}]}`)
	merge(t, s, "t1", map[string]map[string]any{course1: d1, course2: q1})
	if !reflect.DeepEqual(d1, d1Copy) {
		t.Errorf("MergeActivities changed its input: %v", d1)
	}
	checkActivity(t, s, "t1", course1, d1Copy)
	checkActivity(t, s, "t1", course2, q1)

	// A second statement with another language: both kept (the
	// conformance suite's XAPI-00254); the rest follows MergeDefinition.
	d2 := jsonObject(t, `{"name":{"fr-FR":"réunion"},"description":{"en-US":"a meeting"},
		"extensions":{"http://example.com/other":"o"}}`)
	merge(t, s, "t1", map[string]map[string]any{course1: d2})
	want := statements.MergeDefinition(d1Copy, d2)
	checkActivity(t, s, "t1", course1, want)
	if n := want["name"].(map[string]any); n["en-US"] != "example meeting" || n["fr-FR"] != "réunion" {
		t.Fatalf("MergeDefinition lost a language: %v", n)
	}
	// The same definition again changes nothing.
	merge(t, s, "t1", map[string]map[string]any{course1: d2})
	checkActivity(t, s, "t1", course1, want)

	q2 := jsonObject(t, `{"choices":[{"id":"a","description":{"fr-FR":"Af"}},{"id":"b","description":{"en-US":"B"}}]}`)
	merge(t, s, "t1", map[string]map[string]any{course2: q2})
	checkActivity(t, s, "t1", course2, statements.MergeDefinition(q1, q2))

	// The caller's copy of a result is its own.
	got, err := s.Activity(context.Background(), "t1", course1)
	if err != nil {
		t.Fatal(err)
	}
	got["name"].(map[string]any)["en-US"] = "changed"
	checkActivity(t, s, "t1", course1, want)

	// An empty or missing definition defines nothing.
	merge(t, s, "t1", map[string]map[string]any{"https://example.com/empty": {}, "https://example.com/nil": nil})
	wantNoActivity(t, s, "t1", "https://example.com/empty")
	wantNoActivity(t, s, "t1", "https://example.com/nil")
	wantNoActivity(t, s, "t1", "https://example.com/unknown")
}

func testActivityIsolation(t *testing.T, s statements.ActivityStore) {
	a := jsonObject(t, `{"name":{"en":"tenant one"}}`)
	b := jsonObject(t, `{"name":{"de":"tenant two"},"type":"http://example.com/t"}`)
	merge(t, s, "t1", map[string]map[string]any{course1: a})
	merge(t, s, "t2", map[string]map[string]any{course1: b})
	checkActivity(t, s, "t1", course1, a)
	checkActivity(t, s, "t2", course1, b)
	wantNoActivity(t, s, "t3", course1)
	wantNoActivity(t, s, "", course1)
	wantNoActivity(t, s, "t1", course1+"/")
	wantNoActivity(t, s, "t1", "https://example.com/COURSES/1")
}

func testActivityConcurrent(t *testing.T, s statements.ActivityStore) {
	// Concurrent merges into the same activities lose nothing: each writer
	// adds its own language and extension key to two shared activities.
	const n = 8
	ctx := context.Background()
	errors := race(n, func(i int) error {
		def := func() map[string]any {
			return map[string]any{
				"name":       map[string]any{fmt.Sprintf("x-w%d", i): fmt.Sprintf("writer %d", i)},
				"extensions": map[string]any{fmt.Sprintf("http://example.com/w.%d", i): json.Number(fmt.Sprint(i))},
			}
		}
		for round := range 3 {
			err := s.MergeActivities(ctx, "t1", map[string]map[string]any{
				course1: def(),
				course2: def(),
				fmt.Sprintf("https://example.com/own/%d/%d", i, round): def(),
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errors {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	want := map[string]any{"name": map[string]any{}, "extensions": map[string]any{}}
	for i := range n {
		want["name"].(map[string]any)[fmt.Sprintf("x-w%d", i)] = fmt.Sprintf("writer %d", i)
		want["extensions"].(map[string]any)[fmt.Sprintf("http://example.com/w.%d", i)] = json.Number(fmt.Sprint(i))
	}
	checkActivity(t, s, "t1", course1, want)
	checkActivity(t, s, "t1", course2, want)
	for i := range n {
		if _, err := s.Activity(ctx, "t1", fmt.Sprintf("https://example.com/own/%d/2", i)); err != nil {
			t.Errorf("activity of writer %d: %v", i, err)
		}
	}
}

// testActivityConcurrentRounds has many writers merge into one activity
// round after round, each merge adding a language and an extension of its
// own: every merge the store acknowledged must be in the final definition.
func testActivityConcurrentRounds(t *testing.T, s statements.ActivityStore) {
	const writers, rounds = 8, 8
	ctx := context.Background()
	want := map[string]any{"name": map[string]any{}, "extensions": map[string]any{}}
	var mu sync.Mutex
	for i, err := range race(writers, func(i int) error {
		for r := range rounds {
			lang, ext := fmt.Sprintf("x-w%d-r%d", i, r), fmt.Sprintf("http://example.com/ext/w%d.r%d", i, r)
			err := s.MergeActivities(ctx, "t1", map[string]map[string]any{course1: {
				"name":       map[string]any{lang: "name"},
				"extensions": map[string]any{ext: json.Number(fmt.Sprint(r))},
			}})
			if err != nil {
				return fmt.Errorf("round %d: %v", r, err)
			}
			mu.Lock()
			want["name"].(map[string]any)[lang] = "name"
			want["extensions"].(map[string]any)[ext] = json.Number(fmt.Sprint(r))
			mu.Unlock()
		}
		return nil
	}) {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	checkActivity(t, s, "t1", course1, want)
}
