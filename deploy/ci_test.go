package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCIRunsTheREADMECommand checks that .ci/run runs the README's test
// command ("Test it") as written, with an explicit -timeout and
// CGO_ENABLED=0 (see deploy/build.sh), so that what a developer runs and
// what CI runs cannot drift apart.
func TestCIRunsTheREADMECommand(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Test it\n")
	if !ok {
		t.Fatal(`README.md has no "## Test it" section`)
	}
	var command string
	for line := range strings.Lines(section) {
		if c, ok := strings.CutPrefix(line, "    "); ok {
			command = strings.TrimSpace(c)
			break
		}
	}
	script, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for line := range strings.Lines(string(script)) {
		lines = append(lines, strings.TrimSpace(line))
	}
	if command == "" || !slices.Contains(lines, command) {
		t.Errorf(".ci/run does not run the README's test command %q", command)
	}
	for _, want := range []string{"go test", "-timeout", "CGO_ENABLED=0", "./..."} {
		if !strings.Contains(command, want) {
			t.Errorf("the test command %q lacks %s", command, want)
		}
	}
}
