package statements

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/errs"
)

// stdDecode decodes with encoding/json as the reference for valid input.
func stdDecode(t testing.TB, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("reference decoder refuses %q: %v", s, err)
	}
	return v
}

func TestDecodeJSONMatchesEncodingJSON(t *testing.T) {
	docs := []string{
		`{}`, `[]`, `""`, `0`, `-0`, `-1.5e+10`, `1E-3`, `123456789012345678901234567890`, `true`, `false`, `null`,
		` { "a" : [ 1 , 2 , { "b" : null } ] , "c" : "d" } `,
		`"\u00e9\u20ac\ud83d\ude00 \" \\ \/ \b \f \n \r \t"`,
		`"\ud83d\ude00\uD83D\uDE00"`, `"\uffff\ud7ff\ue000"`,
		`"héllo wörld ✓ 𝄞"`,
		`{"":1,"a":{"":2}}`,
		`[[[[[[[[[[]]]]]]]]]]`,
		`{"x":"` + strings.Repeat("a", 1000) + `"}`,
		baseStatement,
	}
	for _, s := range docs {
		got, err := DecodeJSON([]byte(s))
		if err != nil {
			t.Errorf("DecodeJSON(%q): %v", s, err)
			continue
		}
		if want := stdDecode(t, s); !reflect.DeepEqual(got, want) {
			t.Errorf("DecodeJSON(%q) = %#v, want %#v", s, got, want)
		}
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	cases := []struct{ doc, rule, path string }{
		{``, "json-syntax", ""},
		{`   `, "json-syntax", ""},
		{`{`, "json-syntax", ""},
		{`{"a"}`, "json-syntax", ""},
		{`{"a":}`, "json-syntax", "a"},
		{`{"a":1,}`, "json-syntax", ""},
		{`[1,]`, "json-syntax", "[1]"},
		{`[1 2]`, "json-syntax", ""},
		{`{a:1}`, "json-syntax", ""},
		{`{'a':1}`, "json-syntax", ""},
		{`{"a":1}}`, "json-syntax", ""},
		{`{"a":1} x`, "json-syntax", ""},
		{`1 2`, "json-syntax", ""},
		{`01`, "json-syntax", ""},
		{`1.`, "json-syntax", ""},
		{`.5`, "json-syntax", ""},
		{`1e`, "json-syntax", ""},
		{`-`, "json-syntax", ""},
		{`+1`, "json-syntax", ""},
		{`NaN`, "json-syntax", ""},
		{`Infinity`, "json-syntax", ""},
		{`tru`, "json-syntax", ""},
		{`nul`, "json-syntax", ""},
		{`"abc`, "json-syntax", ""},
		{`"a\"`, "json-syntax", ""},
		{`"\x"`, "json-syntax", ""},
		{`"\u12"`, "json-syntax", ""},
		{`"\u12G4"`, "json-syntax", ""},
		{"\"a\nb\"", "json-syntax", ""},
		{"\"a\x00b\"", "json-syntax", ""},
		{"\"a\\n\x01\"", "json-syntax", ""},
		{"\"\xff\"", "json-utf8", ""},
		{"\"\\n\xff\"", "json-utf8", ""},
		{"\"\xc3\"", "json-utf8", ""},
		{"\"\xed\xa0\x80\"", "json-utf8", ""}, // UTF-8 encoded surrogate
		// Lone UTF-16 surrogates, which encoding/json turns into U+FFFD.
		{`"\ud800"`, "json-surrogate", ""},
		{`"\udc00x"`, "json-surrogate", ""},
		{`"\ud800\u0041"`, "json-surrogate", ""},
		{`"\ud83d\ud83d\ude00"`, "json-surrogate", ""},
		{`"\ude00\ud83d"`, "json-surrogate", ""},
		{`"\ud800\n"`, "json-surrogate", ""},
		{`{"a":["x\uDBFF"]}`, "json-surrogate", "a[0]"},
		{`{"\ud800":1}`, "json-surrogate", ""},
		{"\xff", "json-syntax", ""},
		{"[1]\xff", "json-syntax", ""},
		{`{"a":1,"a":2}`, "duplicate-key", "a"},
		{`{"a":{"b":[{"c":1,"c":1}]}}`, "duplicate-key", "a.b[0].c"},
		{`{"x.y":{"k":1,"k":2}}`, "duplicate-key", `["x.y"].k`},
		{`{"a":[1,{"b":tru}]}`, "json-syntax", "a[1].b"},
		{strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), "json-depth", strings.Repeat("[0]", MaxDepth)},
		{strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1), "json-depth", strings.TrimSuffix(strings.Repeat("a.", MaxDepth), ".")},
	}
	for _, tc := range cases {
		_, err := DecodeJSON([]byte(tc.doc))
		var e *errs.Error
		if !errors.As(err, &e) {
			t.Errorf("DecodeJSON(%q) = %v, want an *errs.Error", tc.doc, err)
			continue
		}
		if e.Kind != errs.Invalid || e.Rule != tc.rule || e.Path != tc.path {
			t.Errorf("DecodeJSON(%q): kind %v rule %q path %q (%v); want rule %q path %q", tc.doc, e.Kind, e.Rule, e.Path, err, tc.rule, tc.path)
		}
	}
}

func TestDecodeJSONDepthLimit(t *testing.T) {
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := DecodeJSON([]byte(ok)); err != nil {
		t.Errorf("depth %d refused: %v", MaxDepth, err)
	}
	// A very deep document fails fast instead of exhausting the stack.
	huge := bytes.Repeat([]byte("["), 1<<20)
	if _, err := DecodeJSON(huge); !errs.Is(err, errs.Invalid) {
		t.Errorf("deep document: %v", err)
	}
}

func TestDecodeJSONCopiesStrings(t *testing.T) {
	buf := []byte(`{"k":"value"}`)
	v, err := DecodeJSON(buf)
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, bytes.Repeat([]byte("x"), len(buf)))
	if v.(map[string]any)["k"] != "value" {
		t.Error("decoded strings share memory with the input")
	}
}

func TestDecodeJSONByteOrderMark(t *testing.T) {
	v, err := DecodeJSON([]byte("\xEF\xBB\xBF{\"a\":1}"))
	if err != nil || v.(map[string]any)["a"] != json.Number("1") {
		t.Errorf("BOM: %v %v", v, err)
	}
	if _, err := DecodeJSON([]byte("{\"a\":1}\xEF\xBB\xBF")); err == nil {
		t.Error("BOM after the value accepted")
	}
}
