package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", addr}, args...), io.Discard, io.Discard)
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
			return addr, stop
		}
		if i == 100 {
			t.Fatalf("the service did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
