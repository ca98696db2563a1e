package documents

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzJSONObject checks the parser of POST merge bodies: it never panics,
// accepts exactly the valid JSON texts that are objects, and keeps each
// value's bytes, so that a merged document re-encodes to the same values.
// testdata/fuzz/FuzzJSONObject holds the inputs it found wrongly accepted
// (Unicode spaces around an object).
func FuzzJSONObject(f *testing.F) {
	for _, s := range []string{
		`{}`, ` {"a":1} `, `{"a":{"b":[1,2,{"c":null}]},"d":"e"}`, `{"n":1.000000000000000000001}`,
		`{"a":1,"a":2}`, `{"\u00e9":"x&<y>\u2028"}`, `[]`, `null`, `"{"`, `{`, `{"a":1} {}`, `{"a":1}]`,
		"\xef\xbb\xbf{}", "\x85{}", `{"a":"` + "\xff" + `"}`, "{\"\xff\":1}",
		strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := jsonObject(b)
		isObject := json.Valid(b) && bytes.TrimLeft(b, " \t\r\n")[0] == '{'
		if err != nil {
			if isObject {
				t.Fatalf("jsonObject(%q) rejected a JSON object: %v", b, err)
			}
			return
		}
		if !isObject || m == nil {
			t.Fatalf("jsonObject(%q) accepted what is not a JSON object: %v", b, m)
		}
		enc, err := encodeObject(m)
		if err != nil {
			t.Fatalf("re-encoding jsonObject(%q): %v", b, err)
		}
		again, err := jsonObject(enc)
		if err != nil || len(again) != len(m) {
			t.Fatalf("jsonObject(%q) re-encoded as %q, which parses to %v, %v", b, enc, again, err)
		}
		for k, v := range m {
			var want bytes.Buffer
			if err := json.Compact(&want, v); err != nil {
				t.Fatalf("value %q of %q is not JSON: %v", v, k, err)
			}
			if !bytes.Equal(again[k], want.Bytes()) {
				t.Fatalf("jsonObject(%q): value of %q is %q, re-encoded %q", b, k, v, again[k])
			}
		}
	})
}
