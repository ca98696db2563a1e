package auth

import (
	"slices"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/errs"
)

func TestParseScopes(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		invalid bool
	}{
		{in: "all", want: []string{"all"}},
		{in: "statements/write, statements/read", want: []string{"statements/write", "statements/read"}},
		{in: "state,state", want: []string{"state"}},
		{in: "statements/read/mine", want: []string{"statements/read/mine"}},
		{in: "", invalid: true},
		{in: " , ", invalid: true},
		{in: "root", invalid: true},
		{in: "ALL", invalid: true},
	}
	for _, tt := range tests {
		got, err := ParseScopes(tt.in)
		if tt.invalid {
			if !errs.Is(err, errs.Invalid) {
				t.Errorf("ParseScopes(%q) error = %v, want Invalid", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseScopes(%q): %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("ParseScopes(%q) = %v, want %v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ParseScopes(%q) = %v, want %v", tt.in, got, tt.want)
			}
		}
	}
}

func TestCheckSecret(t *testing.T) {
	c := &Credential{SecretHash: HashSecret("s3cret-value")}
	if !c.CheckSecret("s3cret-value", time.Now()) {
		t.Error("right secret rejected")
	}
	for _, bad := range []string{"", "s3cret-valu", "s3cret-value ", "S3cret-value"} {
		if c.CheckSecret(bad, time.Now()) {
			t.Errorf("wrong secret %q accepted", bad)
		}
	}
	if HashSecret("x") == "x" || len(HashSecret("x")) != 64 {
		t.Errorf("HashSecret must return hex SHA-256, got %q", HashSecret("x"))
	}
}

func TestHas(t *testing.T) {
	c := &Credential{Scopes: []string{ScopeStatementsWrite}}
	if !c.Has(ScopeAll, ScopeStatementsWrite) {
		t.Error("Has should find statements/write")
	}
	if c.Has(ScopeStatementsRead) {
		t.Error("Has found a scope the credential lacks")
	}
}

func BenchmarkCheckSecret(b *testing.B) {
	c := &Credential{SecretHash: HashSecret("0123456789abcdef0123456789abcdef0123456789abcdef")}
	for b.Loop() {
		if !c.CheckSecret("0123456789abcdef0123456789abcdef0123456789abcdef", time.Time{}) {
			b.Fatal("rejected")
		}
	}
}

func TestImpliesAndLacks(t *testing.T) {
	tests := []struct {
		held, wanted, lacks []string
	}{
		{held: []string{ScopeAll}, wanted: []string{ScopeStatementsWrite, ScopeState, ScopeStatementsReadMine}},
		{held: []string{ScopeAllRead}, wanted: []string{ScopeStatementsRead}},
		{held: []string{ScopeAllRead}, wanted: []string{ScopeAll, ScopeStatementsWrite}, lacks: []string{ScopeAll, ScopeStatementsWrite}},
		{held: []string{ScopeAdmin}, wanted: []string{ScopeAdmin}},
		{held: []string{ScopeAdmin}, wanted: []string{ScopeTenantsAdmin, ScopeAdmin}, lacks: []string{ScopeTenantsAdmin}},
		// The project's scopes are implied by nothing else, not even all.
		{held: []string{ScopeAll}, wanted: []string{ScopeAdmin, ScopeReportsRead, ScopeRosterWrite},
			lacks: []string{ScopeAdmin, ScopeReportsRead, ScopeRosterWrite}},
		{held: []string{ScopeTenantsAdmin}, wanted: []string{ScopeAdmin, ScopeAll}, lacks: []string{ScopeAdmin, ScopeAll}},
	}
	for _, tt := range tests {
		if got := Lacks(tt.held, tt.wanted); !slices.Equal(got, tt.lacks) {
			t.Errorf("Lacks(%v, %v) = %v, want %v", tt.held, tt.wanted, got, tt.lacks)
		}
	}
}
