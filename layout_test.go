// Package layout holds the test that keeps the repository's layout (see the
// README's Layout section): the domain packages import neither the HTTP
// framework, nor a database driver, nor net/http.
package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/xapi-lrs/lrs"

// domain are the packages (with their sub-packages) that hold the xAPI and
// compliance rules and the store interfaces, and the contract tests of the
// stores. The HTTP service (lrs), the storage backends (sqlite, mongo) and
// the binary (cmd/lrs) depend on them, never the other way round.
var domain = []string{"./statements/...", "./documents/...", "./ingest/...", "./lmsimport/...", "./scorm/...", "./auth/...", "./accounts/...", "./reporting/...", "./errs/...", "./tokens/...", "./packages/...", "./privacy/...", "./launch/...", "./reminders/..."}

// forbidden are the imports no package of the domain may have, directly or
// through any package it imports: the HTTP framework and the database
// drivers.
var forbidden = []string{"github.com/labstack/echo", "modernc.org/sqlite", "go.mongodb.org/mongo-driver"}

// httpAllowed are the domain packages that may import net/http themselves:
// tokens fetches the signing keys (JWKS) and discovery documents of external
// identity providers over HTTPS. It is listed with the domain so that it
// still stays free of Echo and of the drivers. Every other package of this
// module in a domain package's imports must not import net/http; a library
// from elsewhere may (excelize, under reporting/export, does).
var httpAllowed = []string{module + "/tokens"}

type listed struct {
	ImportPath string
	Imports    []string
	Deps       []string
	DepOnly    bool
}

// TestDomainImports fails if a domain package, or a package of this module
// it depends on, imports Echo, a database driver or net/http.
func TestDomainImports(t *testing.T) {
	cmd := exec.Command("go", append([]string{"list", "-deps", "-json"}, domain...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	pkgs := map[string]listed{}
	var roots []string
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = p
		if !p.DepOnly {
			roots = append(roots, p.ImportPath)
		}
	}
	if len(roots) < len(domain) {
		t.Fatalf("go list found only %v", roots)
	}
	for _, root := range roots {
		for _, dep := range append([]string{root}, pkgs[root].Deps...) {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s imports %s", root, dep)
				}
			}
			if dep != module && !strings.HasPrefix(dep, module+"/") || slices.Contains(httpAllowed, root) {
				continue
			}
			for _, im := range pkgs[dep].Imports {
				if im == "net/http" || strings.HasPrefix(im, "net/http/") {
					t.Errorf("%s imports %s (through %s)", root, im, dep)
				}
			}
		}
	}
}
