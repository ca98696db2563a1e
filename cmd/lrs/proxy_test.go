package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"
)

// TestTrustedProxies: behind a reverse proxy named by --trusted-proxies the
// throttle of failed logins counts by the client X-Forwarded-For names, so
// one client's guesses do not lock out the others behind the same proxy;
// without the setting, X-Forwarded-For is ignored (anyone can send it) and
// the peer is the client.
func TestTrustedProxies(t *testing.T) {
	const key, secret = "proxied", "proxied-secret-0123456789"
	for _, tc := range []struct {
		name string
		args []string
		// the answer to the right secret from a second client after the
		// first has used up its guesses
		want int
	}{
		{"trusted", []string{"--trusted-proxies", "192.0.2.0/24, 127.0.0.1"}, http.StatusOK},
		{"not trusted", nil, http.StatusTooManyRequests},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "lrs.db")
			if err := run(context.Background(), []string{"credentials", "create", "--db", db, "--name", "p", "--key", key, "--secret", secret},
				io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			addr, _ := startServe(t, append([]string{"--db", db}, tc.args...)...)
			get := func(forwardedFor, secret string) int {
				t.Helper()
				req, _ := http.NewRequest("GET", "http://"+addr+"/xapi/statements?limit=1", nil)
				req.SetBasicAuth(key, secret)
				req.Header.Set("X-Experience-API-Version", "2.0.0")
				req.Header.Set("X-Forwarded-For", forwardedFor)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			last := 0
			for range 40 {
				if last = get("198.51.100.1", "wrong"); last == http.StatusTooManyRequests {
					break
				}
			}
			if last != http.StatusTooManyRequests {
				t.Fatalf("40 wrong secrets from one client: last answer %d, want 429", last)
			}
			if got := get("198.51.100.2", secret); got != tc.want {
				t.Errorf("the right secret from another client: %d, want %d", got, tc.want)
			}
		})
	}
	if err := run(context.Background(), []string{"serve", "--trusted-proxies", "10.0.0.0/33", "--db", filepath.Join(t.TempDir(), "x.db")},
		io.Discard, io.Discard); err == nil {
		t.Error("serve started with --trusted-proxies 10.0.0.0/33")
	}
}
