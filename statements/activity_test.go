package statements

import (
	"encoding/json"
	"reflect"
	"testing"
)

// def decodes a JSON object the way statements are decoded.
func def(t *testing.T, s string) map[string]any {
	t.Helper()
	if s == "" {
		return nil
	}
	v, err := DecodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("DecodeJSON(%s): %v", s, err)
	}
	return v.(map[string]any)
}

func TestMergeDefinition(t *testing.T) {
	for _, tt := range []struct {
		name          string
		old, new, out string
	}{
		{"first definition", ``,
			`{"name":{"en-US":"a"},"type":"http://t/1"}`,
			`{"name":{"en-US":"a"},"type":"http://t/1"}`},
		{"empty new keeps old", `{"name":{"en-US":"a"},"type":"http://t/1"}`, `{}`,
			`{"name":{"en-US":"a"},"type":"http://t/1"}`},
		{"nil new keeps old", `{"moreInfo":"http://m"}`, ``, `{"moreInfo":"http://m"}`},
		{"both nil", ``, ``, `{}`},
		{"languages merge, newer wins", `{"name":{"en-US":"a","de-DE":"b"},"description":{"en-US":"d"}}`,
			`{"name":{"fr-FR":"c","en-US":"A"},"description":{"es":"e"}}`,
			`{"name":{"en-US":"A","de-DE":"b","fr-FR":"c"},"description":{"en-US":"d","es":"e"}}`},
		{"scalars replaced, missing kept", `{"type":"http://t/1","moreInfo":"http://m/1","name":{"en":"x"}}`,
			`{"type":"http://t/2"}`,
			`{"type":"http://t/2","moreInfo":"http://m/1","name":{"en":"x"}}`},
		{"extensions merge by key, values replaced whole",
			`{"extensions":{"http://e.com/a.b":{"x":1,"y":2},"http://e.com/c":true}}`,
			`{"extensions":{"http://e.com/a.b":{"z":3},"http://e.com/d":[1,2]}}`,
			`{"extensions":{"http://e.com/a.b":{"z":3},"http://e.com/c":true,"http://e.com/d":[1,2]}}`},
		{"components: new list, descriptions merged by id",
			`{"interactionType":"choice","correctResponsesPattern":["a"],
			  "choices":[{"id":"a","description":{"en-US":"A"}},{"id":"b","description":{"en-US":"B"}},{"id":"old","description":{"en-US":"O"}}]}`,
			`{"interactionType":"choice","correctResponsesPattern":["b"],
			  "choices":[{"id":"b","description":{"fr-FR":"Bf"}},{"id":"a","description":{"en-US":"A2"}},{"id":"c","description":{"en-US":"C"}},{"id":"d"}]}`,
			`{"interactionType":"choice","correctResponsesPattern":["b"],
			  "choices":[{"id":"b","description":{"en-US":"B","fr-FR":"Bf"}},{"id":"a","description":{"en-US":"A2"}},{"id":"c","description":{"en-US":"C"}},{"id":"d"}]}`},
		{"component without description keeps the old one",
			`{"interactionType":"matching","source":[{"id":"s","description":{"en":"S"}}],"target":[{"id":"t"}]}`,
			`{"source":[{"id":"s"}]}`,
			`{"interactionType":"matching","source":[{"id":"s","description":{"en":"S"}}],"target":[{"id":"t"}]}`},
		{"another interaction type drops the old interaction properties",
			`{"name":{"en":"q"},"interactionType":"choice","correctResponsesPattern":["a"],"choices":[{"id":"a"}]}`,
			`{"interactionType":"likert","scale":[{"id":"1","description":{"en":"one"}}]}`,
			`{"name":{"en":"q"},"interactionType":"likert","scale":[{"id":"1","description":{"en":"one"}}]}`},
		{"numbers kept exactly", `{"extensions":{"http://e/n":1.50}}`, `{"extensions":{"http://e/m":12345678901234567890}}`,
			`{"extensions":{"http://e/n":1.50,"http://e/m":12345678901234567890}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			old, new := def(t, tt.old), def(t, tt.new)
			oldJSON, _ := json.Marshal(old)
			newJSON, _ := json.Marshal(new)
			got := MergeDefinition(old, new)
			if want := def(t, tt.out); !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Errorf("MergeDefinition =\n%s\nwant\n%s", g, w)
			}
			// The inputs are untouched, and the result shares nothing with
			// them: changing it leaves them as they were.
			scribble(got)
			if j, _ := json.Marshal(old); string(j) != string(oldJSON) {
				t.Errorf("old changed: %s, was %s", j, oldJSON)
			}
			if j, _ := json.Marshal(new); string(j) != string(newJSON) {
				t.Errorf("new changed: %s, was %s", j, newJSON)
			}
		})
	}
}

// scribble changes every map and slice of a JSON tree.
func scribble(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			scribble(x)
			if _, ok := x.(string); ok {
				v[k] = "scribbled"
			}
		}
		v["scribbled"] = true
	case []any:
		for i, x := range v {
			scribble(x)
			if _, ok := x.(string); ok {
				v[i] = "scribbled"
			}
		}
	}
}

func TestMergeDefinitionSequence(t *testing.T) {
	// Definitions arriving one after another accumulate languages, as the
	// conformance suite checks (two statements, each with one language).
	var canon map[string]any
	for _, s := range []string{
		`{"name":{"en-US":"example meeting"},"type":"http://adlnet.gov/expapi/activities/meeting"}`,
		`{"name":{"fr-FR":"réunion"},"type":"http://adlnet.gov/expapi/activities/meeting"}`,
		`{"description":{"en-US":"a meeting"}}`,
	} {
		canon = MergeDefinition(canon, def(t, s))
	}
	want := def(t, `{"name":{"en-US":"example meeting","fr-FR":"réunion"},"description":{"en-US":"a meeting"},
		"type":"http://adlnet.gov/expapi/activities/meeting"}`)
	if !reflect.DeepEqual(canon, want) {
		t.Errorf("canonical definition = %v, want %v", canon, want)
	}
}
