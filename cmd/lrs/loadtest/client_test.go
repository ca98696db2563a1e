package loadtest

import (
	"encoding/json"
	"testing"
)

// splitResult finds the same statements encoding/json does, and rejects
// what is not a StatementResult.
func TestSplitResult(t *testing.T) {
	g := testGen()
	page := func(n int) string {
		s := `{"statements": [`
		for i := range n {
			if i > 0 {
				s += ",\n "
			}
			s += string(g.JSON(uint64(i)))
		}
		return s + `], "more": "/xapi/statements?more=abc"}`
	}
	good := []string{
		page(0),
		page(1),
		page(100),
		`{"more":"","statements":[{"a":"]}\"[{"},{"b":[{"c":"}"}],"d":{}}]}`,
		`{"more":"" , "x":{"statements":5}, "statements":[ {} , {} ] }`,
	}
	for _, body := range good {
		var want struct {
			Statements []json.RawMessage `json:"statements"`
			More       string            `json:"more"`
		}
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatalf("bad test input %s: %v", body, err)
		}
		got, more, err := splitResult([]byte(body))
		if err != nil {
			t.Fatalf("splitResult(%.80s...): %v", body, err)
		}
		if more != want.More {
			t.Errorf("splitResult(%.80s...): more %q, want %q", body, more, want.More)
		}
		if len(got) != len(want.Statements) {
			t.Fatalf("splitResult(%.80s...): %d statements, want %d", body, len(got), len(want.Statements))
		}
		for i := range got {
			if string(got[i]) != string(want.Statements[i]) {
				t.Fatalf("statement %d: got %s, want %s", i, got[i], want.Statements[i])
			}
		}
	}
	bad := []string{
		``,
		`[]`,
		`{"more":""}`,
		`{"statements":[]}`,
		`{"statements":{},"more":""}`,
		`{"statements":[1],"more":""}`,
		`{"statements":["x"],"more":""}`,
		`{"statements":[{}],"more":""`,
		`{"statements":[{"a":"}],"more":""}`,
		`{"statements":[{}]]],"more":""}`,
	}
	for _, body := range bad {
		if got, _, err := splitResult([]byte(body)); err == nil {
			t.Errorf("splitResult(%s) = %d statements, want an error", body, len(got))
		}
	}
}
