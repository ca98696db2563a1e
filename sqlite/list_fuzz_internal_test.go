package sqlite

import (
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// FuzzList holds the fast reader of index lists to encoding/json: every
// list marshalList writes reads back as itself, and as encoding/json reads
// it. The fuzzer's strings are split at "|" into a list.
func FuzzList(f *testing.F) {
	for _, s := range []string{"", "a", "a|b", "mailto:kari@example.no|https://example.no/a", `qu"ote`, `back\slash`,
		`<html>&`, "\x00\x1f", "\xff", "é|ü", ",|\",\"", `"]`, `["`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list := strings.Split(s, "|")
		v, ok := marshalList(list).(string)
		if !ok {
			t.Fatalf("marshalList(%q) wrote no string", list)
		}
		var got, want []string
		if err := unmarshalList(sql.NullString{String: v, Valid: true}, &got); err != nil {
			t.Fatalf("unmarshalList(%s): %v", v, err)
		}
		if err := json.Unmarshal([]byte(v), &want); err != nil {
			t.Fatalf("encoding/json cannot read %s: %v", v, err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("unmarshalList(%s) = %q, encoding/json reads %q", v, got, want)
		}
	})
}
