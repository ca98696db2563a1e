package deploy

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	// The packages cmd/lrs imports, so that go test compiles them, and all
	// they import, before it runs this package's tests: the build stage
	// that TestDockerfile runs (deploy/build.sh) then finds every package
	// in the build cache and only compiles package main and links, rather
	// than compiling the whole binary a second time next to go test on a
	// machine with a cold cache. That holds when go test builds as the
	// image does: CGO_ENABLED=0, as .ci/run and the README's test command
	// set it. TestImageDeps keeps this list equal to cmd/lrs's imports.
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/xapi-lrs/lrs/accounts"
	_ "github.com/xapi-lrs/lrs/auth"
	_ "github.com/xapi-lrs/lrs/cmd/lrs/loadtest"
	_ "github.com/xapi-lrs/lrs/cmd/lrs/wire"
	_ "github.com/xapi-lrs/lrs/errs"
	_ "github.com/xapi-lrs/lrs/lrs"
	_ "github.com/xapi-lrs/lrs/mongo"
	_ "github.com/xapi-lrs/lrs/packages"
	_ "github.com/xapi-lrs/lrs/privacy"
	_ "github.com/xapi-lrs/lrs/reminders"
	_ "github.com/xapi-lrs/lrs/reporting"
	_ "github.com/xapi-lrs/lrs/reporting/evidence"
	_ "github.com/xapi-lrs/lrs/sqlite"
	_ "github.com/xapi-lrs/lrs/statements"
	_ "github.com/xapi-lrs/lrs/tokens"
	_ "github.com/xapi-lrs/lrs/web"
)

// TestImageDeps checks that this file imports every package outside the
// standard library that cmd/lrs imports (see the imports above).
func TestImageDeps(t *testing.T) {
	imports := func(pattern string, keep func(string) bool) []string {
		t.Helper()
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v", pattern, err)
		}
		var out []string
		for _, f := range files {
			if !keep(f) {
				continue
			}
			ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, im := range ast.Imports {
				p, _ := strconv.Unquote(im.Path.Value)
				if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") && !slices.Contains(out, p) {
					out = append(out, p)
				}
			}
		}
		slices.Sort(out)
		return out
	}
	want := imports(filepath.Join(root, "cmd", "lrs", "*.go"), func(f string) bool { return !strings.HasSuffix(f, "_test.go") })
	got := imports("imagedeps_test.go", func(string) bool { return true })
	if !slices.Equal(got, want) {
		t.Errorf("imagedeps_test.go imports %v; cmd/lrs imports %v", got, want)
	}
}
