package statements

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// defSamples are definitions that overlap in every way DefinitionUnchanged
// must tell apart: subsets, other values, other languages, other
// interaction types, components with and without descriptions.
var defSamples = []string{
	`{}`,
	`{"name":{"en":"a"}}`,
	`{"name":{"en":"a","nb":"b"}}`,
	`{"name":{"en":"A"}}`,
	`{"name":"not a map"}`,
	`{"description":{"en":"d"}}`,
	`{"name":{"en":"a"},"description":{"en":"d"},"type":"http://t/1"}`,
	`{"type":"http://t/1"}`,
	`{"type":"http://t/2"}`,
	`{"moreInfo":"http://m"}`,
	`{"extensions":{"http://e/a":{"x":1}}}`,
	`{"extensions":{"http://e/a":{"x":1},"http://e/b":true}}`,
	`{"extensions":{"http://e/a":{"x":1.0}}}`,
	`{"extensions":{"http://e/a":[1,2]}}`,
	`{"interactionType":"choice","correctResponsesPattern":["a"],"choices":[{"id":"a","description":{"en":"A"}},{"id":"b"}]}`,
	`{"interactionType":"choice","choices":[{"id":"a","description":{"en":"A"}},{"id":"b"}]}`,
	`{"interactionType":"choice","choices":[{"id":"a"},{"id":"b"}]}`,
	`{"interactionType":"choice","choices":[{"id":"b"},{"id":"a"}]}`,
	`{"choices":[{"id":"a","description":{"nb":"A"}}]}`,
	`{"interactionType":"likert","scale":[{"id":"1","description":{"en":"one"}}]}`,
	`{"interactionType":"likert"}`,
	`{"correctResponsesPattern":["a"]}`,
}

// TestDefinitionUnchanged holds DefinitionUnchanged to its definition:
// true exactly when MergeDefinition(old, new) equals old, over every pair
// of samples and of their merges.
func TestDefinitionUnchanged(t *testing.T) {
	var defs []map[string]any
	for _, s := range defSamples {
		defs = append(defs, def(t, s))
	}
	olds := append([]map[string]any{nil}, defs...)
	for _, a := range defs {
		for _, b := range defs {
			olds = append(olds, MergeDefinition(a, b))
		}
	}
	checked, same := 0, 0
	for _, old := range olds {
		for _, nw := range defs {
			want := reflect.DeepEqual(MergeDefinition(old, nw), old)
			if old == nil {
				want = len(nw) == 0
			}
			if got := DefinitionUnchanged(old, nw); got != want {
				t.Errorf("DefinitionUnchanged(%v, %v) = %v, want %v", old, nw, got, want)
			}
			checked++
			if want {
				same++
			}
		}
	}
	if same == 0 || same == checked {
		t.Fatalf("%d of %d pairs unchanged: the samples do not exercise both answers", same, checked)
	}
}

func TestDefinitionCache(t *testing.T) {
	d := def(t, `{"name":{"en":"a","nb":"b"},"type":"http://t/1"}`)
	var c DefinitionCache
	if c.Unchanged("t1", "http://a", d) {
		t.Fatal("an empty cache answered unchanged")
	}
	c.Put("t1", "http://a", d)
	if !c.Unchanged("t1", "http://a", def(t, `{"name":{"nb":"b"}}`)) {
		t.Error("a subset of the cached definition is not unchanged")
	}
	if c.Unchanged("t1", "http://a", def(t, `{"name":{"nb":"B"}}`)) {
		t.Error("another name is unchanged")
	}
	if c.Unchanged("t2", "http://a", d) {
		t.Error("tenant t2 sees t1's definition")
	}
	c.Forget("t1")
	if c.Unchanged("t1", "http://a", d) {
		t.Error("a forgotten entry is trusted")
	}

	ttl := DefinitionCache{TTL: time.Nanosecond}
	ttl.Put("t1", "http://a", d)
	time.Sleep(time.Millisecond)
	if ttl.Unchanged("t1", "http://a", d) {
		t.Error("an entry past its TTL is trusted")
	}

	small := DefinitionCache{Max: 3}
	for i := range 10 {
		small.Put("t", fmt.Sprint(i), d)
	}
	if n := len(small.m); n > 3 {
		t.Errorf("a cache of at most 3 holds %d", n)
	}
	if !small.Unchanged("t", "9", d) {
		t.Error("the newest entry is gone")
	}
}
