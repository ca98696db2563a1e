package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64 // 0: refused
	}{
		{"20971520", 20 << 20},
		{"20MiB", 20 << 20},
		{"20 MiB", 20 << 20},
		{"20mib", 20 << 20},
		{"20Mi", 20 << 20},
		{"20MB", 20_000_000},
		{"20M", 20_000_000},
		{"512KiB", 512 << 10},
		{"64kB", 64_000},
		{"1GiB", 1 << 30},
		{"1.5GiB", 3 << 29},
		{"100B", 100},
		{" 1024 ", 1024},
		{"20MiBs", 0},
		{"MiB", 0},
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"-5MiB", 0},
		{"0.1B", 0},
		{"1e3", 0},
		{"20 megabytes", 0},
		{"9999999999GiB", 0},
	} {
		got, err := parseSize(tc.in)
		if tc.want == 0 {
			if err == nil || !strings.Contains(err.Error(), "20MiB") {
				t.Errorf("parseSize(%q) = %d, %v; want an error naming the accepted forms", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for in, want := range map[string]int64{"256MiB": 256 << 20, "off": -1, " None ": -1, "1GB": 1e9} {
		var v sizeOffValue
		if err := v.Set(in); err != nil || int64(v) != want {
			t.Errorf("sizeOffValue.Set(%q) = %d, %v; want %d", in, v, err, want)
		}
	}
	for _, in := range []string{"", "0", "of", "-1", "lots"} {
		var v sizeOffValue
		if err := v.Set(in); err == nil || !strings.Contains(err.Error(), "20MiB") || !strings.Contains(err.Error(), "or off") {
			t.Errorf("sizeOffValue.Set(%q) = %v; want an error naming the accepted forms", in, err)
		}
	}
	if v := sizeOffValue(-1); v.String() != "off" {
		t.Errorf("off is written %q", v.String())
	}
	for n, want := range map[int64]string{20 << 20: "20MiB", 12 << 20: "12MiB", 1 << 30: "1GiB", 1000: "1000", 3 << 10: "3KiB"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	off := time.Duration(-1)
	for _, tc := range []struct {
		in      string
		min     time.Duration
		off     *time.Duration
		want    time.Duration
		wantErr string
	}{
		{in: "5s", want: 5 * time.Second},
		{in: "2m", want: 2 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "500ms", want: 500 * time.Millisecond},
		{in: " 5s ", want: 5 * time.Second},
		{in: "0", want: 0},
		{in: "0s", want: 0},
		{in: "5", wantErr: "5 has no unit"},
		{in: "2.5", wantErr: "2.5s for seconds"},
		{in: "5 seconds", wantErr: "such as 500ms, 5s, 2m"},
		{in: "soon", wantErr: "such as 500ms, 5s, 2m"},
		{in: "-5s", wantErr: "less than"},
		{in: "0s", min: time.Millisecond, wantErr: "less than 1ms"},
		{in: "off", wantErr: "such as"},
		{in: "off", off: &off, want: -1},
		{in: "None", off: &off, want: -1},
		{in: "-1s", off: &off, want: -1},
		{in: "5", off: &off, wantErr: "or off"},
	} {
		got, err := parseDuration(tc.in, tc.min, tc.off)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseDuration(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestRateAndCountValues(t *testing.T) {
	for in, want := range map[string]float64{"1000": 1000, "2.5": 2.5, "off": -1, "OFF": -1, "none": -1, "unlimited": -1, "-1": -1, "-7": -1} {
		var v rateValue
		if err := v.Set(in); err != nil || float64(v) != want {
			t.Errorf("rate %q = %v, %v; want %v", in, v, err, want)
		}
	}
	for _, in := range []string{"0", "fast", "", "NaN", "Inf", "100/s"} {
		var v rateValue
		if err := v.Set(in); err == nil || !strings.Contains(err.Error(), "or off") {
			t.Errorf("rate %q accepted as %v (%v)", in, v, err)
		}
	}
	for _, in := range []string{"-1", "many", "2.5"} {
		var v countValue
		if err := v.Set(in); err == nil {
			t.Errorf("count %q accepted as %v", in, v)
		}
	}
	for in, want := range map[string]bool{"true": true, "on": true, "Yes": true, "1": true, "false": false, "off": false, "0": false} {
		var v boolValue
		if err := v.Set(in); err != nil || bool(v) != want {
			t.Errorf("bool %q = %v, %v", in, v, err)
		}
	}
	if v := boolValue(true); v.Set("maybe") == nil {
		t.Error("bool maybe accepted")
	}
}

// TestServeSettings starts lrs serve with human forms of the settings in
// the environment and on the command line, and checks what the server does
// with them: LRS_MAX_BODY_BYTES=20MiB lets a 1 MiB statement through,
// --max-body-bytes 2KiB refuses a 3 kB one, and a flag wins over the
// environment.
func TestServeSettings(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lrs.db")
	const key, secret = "k", "secret-0123456789abcdef"
	if err := run(context.Background(), []string{"credentials", "create", "--db", db, "--name", "s", "--key", key, "--secret", secret},
		io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	post := func(addr string, size int) int {
		t.Helper()
		stmt := `{"actor":{"mbox":"mailto:a@example.org"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},` +
			`"object":{"id":"https://example.org/a"},"result":{"response":"` + strings.Repeat("x", size) + `"}}`
		code, _ := postStatement(t, "http://"+addr+"/xapi/statements", key, secret, stmt)
		return code
	}
	t.Setenv("LRS_MAX_BODY_BYTES", "20MiB")
	t.Setenv("LRS_RATE_LIMIT", "off")
	t.Setenv("LRS_DRAIN_DELAY", "5s")
	t.Setenv("LRS_REQUEST_TIMEOUT", "none")
	t.Setenv("LRS_FACTS_CACHE", "off")
	addr, stop := startServe(t, "--db", db, "--drain-delay", "0s", "--max-document-bytes", "1MB")
	if code := post(addr, 1<<20); code != 200 {
		t.Errorf("a 1 MiB statement under LRS_MAX_BODY_BYTES=20MiB: status %d", code)
	}
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("--drain-delay 0s on the command line did not win over LRS_DRAIN_DELAY=5s: shutdown took %v", d)
	}

	addr, _ = startServe(t, "--db", db, "--drain-delay", "0s", "--max-body-bytes", "2KiB", "--facts-cache", "64MiB")
	if code := post(addr, 500); code != 200 {
		t.Errorf("a 0.7 kB statement under --max-body-bytes 2KiB: status %d", code)
	}
	if code := post(addr, 3000); code != 413 {
		t.Errorf("a 3 kB statement under --max-body-bytes 2KiB: status %d, want 413", code)
	}
}

// TestServeRefusesBadSettings: lrs serve with a setting it cannot read
// exits non-zero before it opens anything, with a message naming the
// variable or flag and the accepted forms.
func TestServeRefusesBadSettings(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		env  string
		args []string
		want []string
	}{
		{env: "LRS_MAX_BODY_BYTES=20MiBs", want: []string{`LRS_MAX_BODY_BYTES="20MiBs"`, "20MiB", "20MB", "20971520"}},
		{env: "LRS_MAX_DOCUMENT_BYTES=twelve", want: []string{"LRS_MAX_DOCUMENT_BYTES", "20MiB"}},
		{env: "LRS_DRAIN_DELAY=5", want: []string{`LRS_DRAIN_DELAY="5"`, "no unit", "5s"}},
		{env: "LRS_SHUTDOWN_TIMEOUT=30", want: []string{"LRS_SHUTDOWN_TIMEOUT", "30s for seconds"}},
		{env: "LRS_REQUEST_TIMEOUT=2 minutes", want: []string{"LRS_REQUEST_TIMEOUT", "2m", "or off"}},
		{env: "LRS_RATE_LIMIT=of", want: []string{`LRS_RATE_LIMIT="of"`, "or off for no limit"}},
		{env: "LRS_RATE_LIMIT=0", want: []string{"LRS_RATE_LIMIT", "positive number"}},
		{env: "LRS_RATE_BURST=lots", want: []string{"LRS_RATE_BURST", "whole number"}},
		{env: "LRS_TOKENS=maybe", want: []string{"LRS_TOKENS", "true or false"}},
		{env: "LRS_TOKEN_TTL=900", want: []string{"LRS_TOKEN_TTL", "900s"}},
		{env: "LRS_TOKEN_KEYS_RELOAD=10", want: []string{"LRS_TOKEN_KEYS_RELOAD"}},
		{env: "LRS_READ_TIMEOUT=30", want: []string{"LRS_READ_TIMEOUT", "30s for seconds"}},
		{env: "LRS_TRUSTED_PROXIES=10.0.0.0/8,proxy.local", want: []string{"LRS_TRUSTED_PROXIES", `"proxy.local"`, "CIDR"}},
		{env: "LRS_LOG_LEVEL=loud", want: []string{"LRS_LOG_LEVEL", "debug, info, warn or error"}},
		{env: "LRS_CURSOR_KEY=CHANGE-ME", want: []string{"LRS_CURSOR_KEY", "32 hex digits"}},
		{env: "LRS_CONTENT_KEY=abcd", want: []string{"LRS_CONTENT_KEY", "64 hex digits"}},
		{env: "LRS_MAX_PACKAGE_BYTES=huge", want: []string{"LRS_MAX_PACKAGE_BYTES", "20MiB"}},
		{env: "LRS_FACTS_CACHE=lots", want: []string{"LRS_FACTS_CACHE", "20MiB", "or off"}},
		{env: "LRS_PAGES_TIME_ZONE=Oslo", want: []string{"LRS_PAGES_TIME_ZONE", "Europe/Oslo"}},
		{env: "LRS_SESSION_IDLE=30", want: []string{"LRS_SESSION_IDLE", "30s for seconds"}},
		{env: "LRS_PAGES=sometimes", want: []string{"LRS_PAGES", "true or false"}},
		{args: []string{"--session-idle", "2h", "--session-max-age", "1h"}, want: []string{"-session-max-age", "-session-idle"}},
		{args: []string{"--oidc-issuer", "https://idp.k.no"}, want: []string{"-oidc-issuer", "--base-url", "/auth/oidc/callback"}},
		{args: []string{"--max-body-bytes", "20 megs"}, want: []string{"-max-body-bytes", "20MiB"}},
		{args: []string{"--drain-delay", "5"}, want: []string{"-drain-delay", "5s for seconds"}},
		{args: []string{"--rate-limit", "of"}, want: []string{"-rate-limit", "or off"}},
	} {
		name := tc.env
		if name == "" {
			name = strings.Join(tc.args, " ")
		}
		t.Run(name, func(t *testing.T) {
			db := filepath.Join(dir, "lrs.db")
			var env []string
			if tc.env != "" {
				env = []string{tc.env}
			}
			out, errOut, code := runLRS(t, dir, env, append([]string{"serve", "--listen", "127.0.0.1:0", "--db", db}, tc.args...)...)
			if code == 0 {
				t.Fatalf("lrs serve started (exit status 0); stdout %q", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("the message lacks %q: %s", w, errOut)
				}
			}
			if _, err := os.Stat(db); err == nil {
				t.Error("lrs serve opened the database before refusing its settings")
			}
		})
	}
	// A bad value in the environment does not matter when the flag is
	// given: the flag wins.
	t.Setenv("LRS_DRAIN_DELAY", "5")
	var stderr bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "ok.db"), "--drain-delay", "1ms"}, io.Discard, &stderr)
	if err != nil {
		t.Errorf("with --drain-delay given, LRS_DRAIN_DELAY=5 still refused: %v", err)
	}
}
