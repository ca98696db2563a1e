package main

import (
	"context"
	"errors"
	"io"
	"net"
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
func startServeLogged(t *testing.T, args ...string) (addr string, stop func() error, logs *lockedBuffer) {
	t.Helper()
	logs = &lockedBuffer{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", addr}, args...), io.Discard, logs)
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
	for i := 0; ; i++ {
		res, err := http.Get("http://" + addr + "/xapi/about")
		if err == nil {
			res.Body.Close()
			return addr, stop, logs
		}
		if i == 100 {
			t.Fatalf("the service did not come up: %v; log:\n%s", err, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
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
