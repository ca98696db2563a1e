package storetest

import (
	"encoding/json"
	"reflect"
	"testing"
)

// checkEqual reports a difference between got and want, showing both as
// JSON.
func checkEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	t.Errorf("%s:\ngot  %s\nwant %s", what, g, w)
}
