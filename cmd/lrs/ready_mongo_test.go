package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// ferret is an in-process FerretDB (a MongoDB wire-protocol server, test
// code only) on a fixed address and data directory, so that it can be
// stopped and started again like a database server going down and coming
// back.
type ferret struct {
	addr, dir string
	stop      context.CancelFunc
	done      chan struct{}
}

func (f *ferret) start(t *testing.T) {
	t.Helper()
	db, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: f.addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + f.dir + "/",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("starting FerretDB: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.stop, f.done = cancel, make(chan struct{})
	go func() { db.Run(ctx); close(f.done) }()
	for i := 0; ; i++ { // wait until it accepts connections
		c, err := net.Dial("tcp", f.addr)
		if err == nil {
			c.Close()
			return
		}
		if i == 100 {
			t.Fatalf("FerretDB does not listen on %s: %v", f.addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *ferret) halt() {
	f.stop()
	<-f.done
}

// TestReadyzFollowsMongoDB serves on the MongoDB backend, takes the
// database server down and brings it back: /readyz must turn 503 while it is
// down and 200 once it is back, without restarting the LRS, which must then
// store statements again.
func TestReadyzFollowsMongoDB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops a database server")
	}
	free := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	f := &ferret{addr: free(), dir: t.TempDir()}
	f.start(t)
	defer func() {
		select {
		case <-f.done:
		default:
			f.halt()
		}
	}()

	addr := free()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- run(ctx, []string{"serve", "--db", "mongodb://" + f.addr + "/lrs_ready_test", "--listen", addr,
			"--log-level", "error"}, io.Discard, io.Discard)
	}()
	defer func() {
		cancel()
		select {
		case <-served:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	base := "http://" + addr
	client := &http.Client{Timeout: 10 * time.Second}
	status := func(path string) int {
		res, err := client.Get(base + path)
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	waitFor := func(what string, want int, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			got := status("/readyz")
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: /readyz is %d after %v, want %d", what, got, within, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("start", 200, 30*time.Second)

	start := time.Now()
	f.halt()
	waitFor("database down", 503, 10*time.Second)
	t.Logf("not ready %v after the database went down", time.Since(start).Round(time.Millisecond))
	if got := status("/healthz"); got != 200 {
		t.Errorf("/healthz while the database is down: %d", got)
	}

	start = time.Now()
	f.start(t)
	waitFor("database back", 200, 30*time.Second)
	t.Logf("ready %v after the database came back", time.Since(start).Round(time.Millisecond))

	// A credential made while the LRS runs (through the database), then a
	// statement written through the recovered connection.
	if err := run(context.Background(), []string{"credentials", "create", "--db", "mongodb://" + f.addr + "/lrs_ready_test",
		"--name", "ready", "--key", "ready", "--secret", "ready-secret-0123456789"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("credentials create: %v", err)
	}
	req, _ := http.NewRequest("POST", base+"/xapi/statements", strings.NewReader(
		`{"actor":{"mbox":"mailto:kari@kommune.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://kins.example/modul/1"}}`))
	req.SetBasicAuth("ready", "ready-secret-0123456789")
	req.Header.Set("X-Experience-API-Version", "2.0.0")
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("POST after the database came back: %d", res.StatusCode)
	}
}
