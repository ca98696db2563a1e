package statements

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// checkAppendJSON fails t unless AppendJSON(v) gives the bytes of
// encoding/json with HTML escaping off.
func checkAppendJSON(t *testing.T, v any) {
	t.Helper()
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	wantErr := enc.Encode(v)
	got, err := AppendJSON(nil, v)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("AppendJSON error %v, encoding/json error %v", err, wantErr)
	}
	if err == nil && !bytes.Equal(got, bytes.TrimSuffix(want.Bytes(), []byte{'\n'})) {
		t.Fatalf("AppendJSON and encoding/json differ:\n%s\n%s", got, want.Bytes())
	}
}

func TestAppendJSON(t *testing.T) {
	for _, v := range []any{
		nil, true, false, "", json.Number("0"), json.Number("-1.5e+10"), json.Number("12345678901234567890"),
		"plain", `quote " backslash \ slash /`, "<html> & ampersand", "\x00\x01\b\f\n\r\t\x1f\x7f",
		"line\u2028separator\u2029paragraph", "invalid \xff\xfe utf-8 \xc3", "æøå ÆØÅ 日本 😀",
		[]any{}, map[string]any{}, []any{nil, []any{map[string]any{}}},
		[]string{}, []string{"a", "<b>", "\u2028"}, []string(nil),
		map[string]any{"b": 1.5, "a": []string{"x"}, "ä": map[string]any{"z": "<", "y": json.Number("2")}},
		map[string]any{strings.Repeat("k", 40): "long key", "k2": int64(7), "k3": uint8(3)},
	} {
		checkAppendJSON(t, v)
	}
	many := map[string]any{}
	for i := range 40 {
		many[string(rune('a'+i%26))+strings.Repeat("x", i)] = i
	}
	checkAppendJSON(t, many) // more keys than the stack array
	for _, bad := range []json.Number{"01", "1.", "abc", "--1", "1e", "+1"} {
		if _, err := AppendJSON(nil, bad); err == nil {
			t.Errorf("AppendJSON(json.Number(%q)) accepted an invalid number", bad)
		}
	}
}

// BenchmarkEncodeStatement compares AppendJSON with encoding/json on a
// statement tree as the ingest has it.
func BenchmarkEncodeStatement(b *testing.B) {
	tree, err := DecodeJSON([]byte(baseStatement))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = AppendJSON(buf[:0], tree)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for b.Loop() {
			buf.Reset()
			enc.Encode(tree)
		}
	})
}
