package scorm_test

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/scorm"
)

// TestRuntimeEmbedded: the run-time script is in the binary, by the name
// the player page loads, and defines both APIs.
func TestRuntimeEmbedded(t *testing.T) {
	b, err := fs.ReadFile(scorm.Runtime(), scorm.RuntimeScript)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"LMSInitialize", "API_1484_11", "GetDiagnostic", "LRSScorm"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", scorm.RuntimeScript, want)
		}
	}
}
