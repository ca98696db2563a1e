package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// startServe runs `lrs serve` in-process on a free loopback port with args
// after --listen, waits until it answers, and returns its address and a
// function that stops it and returns what serve returned (also called when
// the test ends).
func startServe(t *testing.T, args ...string) (addr string, stop func() error) {
	t.Helper()
	addr, stop, _ = startServeLogged(t, args...)
	return addr, stop
}

// startServeLogged is startServe that also returns the log of the service.
// The service listens on port 0 and the address is read from its "serving"
// log line (at level info, so args must not raise the log level), so that
// no other process can take the port in between.
func startServeLogged(t *testing.T, args ...string) (addr string, stop func() error, logs *lockedBuffer) {
	t.Helper()
	logs = &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), io.Discard, logs)
	}()
	var once sync.Once
	var serveErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case serveErr = <-done:
			case <-time.After(30 * time.Second):
				serveErr = errors.New("serve did not stop within 30 s")
			}
		})
		return serveErr
	}
	t.Cleanup(func() { stop() })
	deadline := time.Now().Add(30 * time.Second)
	for addr == "" {
		for line := range strings.Lines(logs.String()) {
			var l struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "serving" {
				addr = l.Addr
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended before serving: %v; log:\n%s", err, logs)
		default:
		}
		if addr == "" {
			if time.Now().After(deadline) {
				t.Fatalf("the service did not come up; log:\n%s", logs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return addr, stop, logs
}

// postStatement POSTs body to url as xAPI 2.0.0 with Basic credentials and
// returns the status and body of the answer.
func postStatement(t *testing.T, url, key, secret, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(key, secret)
	req.Header.Set("X-Experience-API-Version", "2.0.0")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
