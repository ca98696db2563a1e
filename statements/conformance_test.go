package statements

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"testing"

	"github.com/xapi-lrs/lrs/errs"
)

// conformanceCase is one statement the ADL LRS conformance suite posts from
// its template-driven tests, with the status it expects (200 or 400). See
// testdata/conformance/README.md for how the files were generated.
type conformanceCase struct {
	File   string `json:"file"`
	Name   string `json:"name"`
	Expect int    `json:"expect"`
	Body   string `json:"body"`
}

func loadConformance(t *testing.T, name string) []conformanceCase {
	t.Helper()
	f, err := os.Open("testdata/conformance/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var cases []conformanceCase
	if err := json.NewDecoder(zr).Decode(&cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 500 {
		t.Fatalf("only %d cases in %s", len(cases), name)
	}
	return cases
}

// TestConformanceSuiteStatements runs every statement of the suite's
// template-driven validation tests through ParseStatements: those the suite
// expects to be stored must parse, those it expects to be refused with 400
// must fail with an errs.Invalid error.
func TestConformanceSuiteStatements(t *testing.T) {
	for _, tc := range []struct {
		file string
		v    Version
	}{{"v1_0_3.json.gz", V103}, {"v2_0_0.json.gz", V200}} {
		cases := loadConformance(t, tc.file)
		var good, bad int
		for _, c := range cases {
			_, err := ParseStatements([]byte(c.Body), tc.v)
			switch c.Expect {
			case 200:
				good++
				if err != nil {
					t.Errorf("%s %s %q: want accepted, got %v\n%s", tc.v, c.File, c.Name, err, c.Body)
				}
			case 400:
				bad++
				if err == nil {
					t.Errorf("%s %s %q: want rejected, got accepted\n%s", tc.v, c.File, c.Name, c.Body)
				} else if !errs.Is(err, errs.Invalid) {
					t.Errorf("%s %s %q: want an Invalid error, got %v", tc.v, c.File, c.Name, err)
				}
			default:
				t.Fatalf("unexpected expectation %d", c.Expect)
			}
		}
		t.Logf("%s: %d accepted and %d rejected cases checked", tc.v, good, bad)
	}
}
