package lrs

import (
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
