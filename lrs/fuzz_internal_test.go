package lrs

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseETags checks the If-Match / If-None-Match parser: it never
// panics, and what it accepts is a non-empty list of non-empty lower-case
// tags without quotes or blanks, which parse again to themselves when sent
// quoted. Its seeds (and testdata/fuzz/FuzzParseETags) run with the other
// tests.
func FuzzParseETags(f *testing.F) {
	for _, s := range []string{
		`"0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33"`,
		`W/"0BEEC7B5EA3F0FDBC95D0DD47F3C5BC275DA8A33"`,
		`*`, `"*"`, `"a", "b",W/"c"`, `abc`, ``, `""`, `,,`, ` , "" ,`, `"`, `"a"b"`, `W/`, `W/W/"x"`,
		`"a b"`, "\"a\tb\"", `"abc`, `abc"`, "\u00a0\"x\"\u00a0", "\"\xff\xfe\"", `"İ"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tags, err := parseETags(h)
		if err != nil {
			if tags != nil {
				t.Fatalf("parseETags(%q) returned tags %q with error %v", h, tags, err)
			}
			return
		}
		if len(tags) == 0 {
			t.Fatalf("parseETags(%q) accepted no tags", h)
		}
		quoted := make([]string, len(tags))
		for i, tag := range tags {
			if tag == "" || strings.ContainsAny(tag, "\" \t") || tag != strings.ToLower(tag) {
				t.Fatalf("parseETags(%q) returned tag %q", h, tag)
			}
			quoted[i] = `"` + tag + `"`
		}
		again, err := parseETags(strings.Join(quoted, ", "))
		if err != nil || strings.Join(again, "\x00") != strings.Join(tags, "\x00") {
			t.Fatalf("parseETags(%q) = %q, but its quoted form parses to %q, %v", h, tags, again, err)
		}
	})
}

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
		enc, err := marshalJSON(m)
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
