package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/reporting/evidence"
	"github.com/xapi-lrs/lrs/tokens"
)

// testPack is an evidence pack from fixed rows.
func testPack() *evidence.Pack {
	ts := time.Date(2025, 3, 10, 22, 30, 0, 0, time.UTC)
	return &evidence.Pack{Type: evidence.Type, Version: evidence.Version, Tenant: "kommune", Generated: time.Date(2025, 7, 1, 6, 0, 0, 0, time.UTC),
		Units:  []string{"helse"},
		Period: evidence.Period{From: reporting.MustDate("2025-01-01"), To: reporting.MustDate("2025-06-30")}, TimeZone: "Europe/Oslo",
		AsOf: time.Date(2025, 6, 30, 21, 59, 59, 0, time.UTC),
		Summary: &reporting.Summary{People: 2, Total: reporting.Counts{Rows: 2, Compliant: 1, Percent: 50,
			Status: map[reporting.Status]int{reporting.StatusCompleted: 1, reporting.StatusOverdue: 1}}},
		Rows: []evidence.Row{
			{Row: reporting.Row{Person: "e211", Name: "Kari Ødegård", Module: "kins-2", Status: reporting.StatusCompleted, Completed: ts,
				Evidence: []reporting.Evidence{{Statement: "4f1c1f0e-8a55-5b8e-9d2e-0b6a1f7f0c11", Outcome: "completed",
					Timestamp: ts, Stored: ts, Authority: "lms-key", SHA256: strings.Repeat("0f", 32)}}}, InPeriod: true},
			{Row: reporting.Row{Person: "e212", Name: "Åse Ærlig", Module: "kins-1", Status: reporting.StatusOverdue}},
		}}
}

// keyFile writes a new Ed25519 key file, as an operator makes one for
// --token-keys.
func keyFile(t *testing.T) string {
	t.Helper()
	pem, err := tokens.GenerateKeyPEM(tokens.AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "token-keys.pem")
	if err := os.WriteFile(file, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// signedPack signs testPack with the keys of file and writes it.
func signedPack(t *testing.T, keys string) (pack string, svc *tokens.Service) {
	t.Helper()
	svc, err := tokens.New(tokens.Config{Issuer: "https://lrs.kommune.no", KeyFile: keys})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := evidence.Sign(testPack(), svc)
	if err != nil {
		t.Fatal(err)
	}
	pack = filepath.Join(t.TempDir(), "evidence-helse-2025-06-30.jws")
	if err := os.WriteFile(pack, signed, 0o644); err != nil {
		t.Fatal(err)
	}
	return pack, svc
}

// TestEvidenceVerify verifies a pack with a saved copy of the JWKS, then
// a tampered copy, then with another server's keys.
func TestEvidenceVerify(t *testing.T) {
	ctx := context.Background()
	pack, svc := signedPack(t, keyFile(t))
	jwks := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwks, svc.JWKS(), 0o644); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"evidence", "verify", pack, "--jwks", jwks}, &out, &out); err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	for _, want := range []string{"issuer:     https://lrs.kommune.no", "tenant:     kommune", "units:      helse (with sub-units)",
		"period:     2025-01-01 to 2025-06-30 (Europe/Oslo); state as of 2025-06-30T21:59:59Z", "people:     2",
		"rows:       2, 1 compliant (50.0 %), 1 completed within the period", "statuses:   completed 1, overdue 1",
		"evidence:   1 statements", "\nOK: signed by key "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output lacks %q:\n%s", want, out.String())
		}
	}
	// Flags before the file work too.
	out.Reset()
	if err := run(ctx, []string{"evidence", "verify", "--jwks", jwks, pack}, &out, &out); err != nil {
		t.Fatalf("verify, flag first: %v\n%s", err, out.String())
	}

	// One byte of the payload changed: FAILED, and an error (exit status 2).
	b, err := os.ReadFile(pack)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.IndexByte(b, '.') + 40 // in the payload
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	tampered := filepath.Join(t.TempDir(), "tampered.jws")
	if err := os.WriteFile(tampered, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = run(ctx, []string{"evidence", "verify", tampered, "--jwks", jwks}, &out, &out)
	if !errors.Is(err, errVerifyFailed) || !strings.Contains(out.String(), "FAILED:") || strings.Contains(out.String(), "OK:") {
		t.Errorf("tampered pack: %v\n%s", err, out.String())
	}

	// Another server's keys.
	_, other := signedPack(t, keyFile(t))
	otherJWKS := filepath.Join(t.TempDir(), "other.json")
	if err := os.WriteFile(otherJWKS, other.JWKS(), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = run(ctx, []string{"evidence", "verify", pack, "--jwks", otherJWKS}, &out, &out)
	if !errors.Is(err, errVerifyFailed) || !strings.Contains(out.String(), "FAILED: the pack was signed by key") {
		t.Errorf("another server's keys: %v\n%s", err, out.String())
	}

	// Usage errors.
	for _, args := range [][]string{
		{"evidence"}, {"evidence", "sign"}, {"evidence", "verify", pack}, {"evidence", "verify", "--jwks", jwks},
		{"evidence", "verify", pack, pack, "--jwks", jwks}, {"evidence", "verify", "missing.jws", "--jwks", jwks},
		{"evidence", "verify", pack, "--jwks", "missing.json"}, {"evidence", "verify", pack, "--jwks", pack},
	} {
		if err := run(ctx, args, &out, &out); err == nil || errors.Is(err, errVerifyFailed) {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

// TestEvidenceVerifyURL verifies a pack against the JWKS a running server
// publishes, the server signing with the same key file.
func TestEvidenceVerifyURL(t *testing.T) {
	ctx := context.Background()
	keys := keyFile(t)
	pack, _ := signedPack(t, keys)

	addr, stop := startServe(t, "--db", filepath.Join(t.TempDir(), "lrs.db"),
		"--token-keys", keys, "--token-issuer", "https://lrs.kommune.no")
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	url := "http://" + addr + "/api/v1/jwks.json"
	for i := 0; ; i++ {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			break
		}
		if i == 100 {
			t.Fatalf("the server did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"evidence", "verify", pack, "--jwks", url}, &out, &out); err != nil {
		t.Fatalf("verify against %s: %v\n%s", url, err, out.String())
	}
	if !strings.Contains(out.String(), "OK: signed by key") {
		t.Errorf("output:\n%s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"evidence", "verify", pack, "--jwks", "http://" + addr + "/api/v1/nothing"}, &out, &out); err == nil ||
		!strings.Contains(err.Error(), "404") {
		t.Errorf("a URL without keys: %v", err)
	}
}
