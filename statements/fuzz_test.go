package statements

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/xapi-lrs/lrs/errs"
)

// FuzzParseStatement checks, for any input and both versions, that parsing
// never panics, that every failure is an errs.Invalid error, that
// AppendJSON writes what encoding/json writes for every decoded tree, and
// that
// whatever is accepted is also valid JSON for encoding/json with the same
// value and survives a round trip (re-encoded, it parses again to the same
// tree). The seed corpus is in testdata/fuzz/FuzzParseStatement.
func FuzzParseStatement(f *testing.F) {
	f.Add([]byte(baseStatement))
	f.Add([]byte(substatementBase))
	f.Fuzz(func(t *testing.T, data []byte) {
		if tree, err := DecodeJSON(data); err == nil {
			// The strict decoder accepts a subset of what encoding/json
			// accepts, with the same meaning.
			d := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))))
			d.UseNumber()
			var want, extra any
			if err := d.Decode(&want); err != nil {
				t.Fatalf("DecodeJSON accepted what encoding/json refuses: %v", err)
			}
			if err := d.Decode(&extra); err != io.EOF {
				t.Fatalf("DecodeJSON accepted trailing data: %v", err)
			}
			if !reflect.DeepEqual(tree, want) {
				t.Fatalf("DecodeJSON and encoding/json disagree:\n%#v\n%#v", tree, want)
			}
			checkAppendJSON(t, tree)
		} else {
			checkFuzzErr(t, err)
		}
		for _, v := range []Version{V103, V200} {
			ss, err := ParseStatements(data, v)
			if err != nil {
				checkFuzzErr(t, err)
				continue
			}
			for _, s := range ss {
				out, err := json.Marshal(s)
				if err != nil {
					t.Fatalf("accepted statement does not marshal: %v", err)
				}
				again, err := ParseStatement(out, v)
				if err != nil {
					t.Fatalf("re-encoded statement refused: %v\n%s", err, out)
				}
				if !reflect.DeepEqual(again, s) {
					t.Fatalf("round trip changed the statement:\n%#v\n%#v", s, again)
				}
			}
		}
		if _, err := ParseAgent(data, V200); err != nil {
			checkFuzzErr(t, err)
		}
	})
}

func checkFuzzErr(t *testing.T, err error) {
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Rule == "" || e.Message == "" {
		t.Fatalf("error is not a complete Invalid *errs.Error: %#v", err)
	}
}
