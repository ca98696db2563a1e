package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// startBinary runs `lrs serve` with args on a free port, as a process of
// its own (see lrsCmd), and returns the process, its base URL and its log
// (JSON lines on stderr).
func startBinary(t *testing.T, args ...string) (*exec.Cmd, string, *lockedBuffer) {
	t.Helper()
	cmd := lrsCmd(append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(cmd.Env, "LRS_RATE_LIMIT=-1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	logs := &lockedBuffer{}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			logs.Write(append(sc.Bytes(), '\n'))
			var l struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "serving" {
				addr <- l.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, "http://" + a, logs
	case <-time.After(30 * time.Second):
		t.Fatalf("lrs serve did not start; log:\n%s", logs.String())
	}
	return nil, "", nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSIGTERMLosesNoAcknowledgedStatement runs lrs serve under a
// sustained load of statement batches, sends it SIGTERM, and counts every
// statement whose POST was answered 200 back from the database after the
// process has exited.
func TestSIGTERMLosesNoAcknowledgedStatement(t *testing.T) {
	if testing.Short() {
		t.Skip("runs lrs serve under load for seconds")
	}
	db := filepath.Join(t.TempDir(), "lrs.db")
	ctx := context.Background()
	if err := run(ctx, []string{"credentials", "create", "--db", db, "--name", "load", "--key", "load", "--secret", "load-secret-0123456789"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("credentials create: %v", err)
	}
	cmd, base, logs := startBinary(t, "--db", db, "--drain-delay", "300ms", "--shutdown-timeout", "20s")

	const workers, batch = 8, 5
	var (
		mu         sync.Mutex
		acked      []string
		afterTerm  atomic.Int64 // batches answered 200 after SIGTERM was sent
		termSent   atomic.Bool
		failures   atomic.Int64
		wg         sync.WaitGroup
		stopAt     = time.Now().Add(20 * time.Second) // bound, should SIGTERM not stop the server
		client     = &http.Client{Timeout: 30 * time.Second}
		firstBatch = make(chan struct{})
		once       sync.Once
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for n := 0; time.Now().Before(stopAt); n++ {
				ids := make([]string, batch)
				var body bytes.Buffer
				body.WriteByte('[')
				for i := range ids {
					ids[i] = uuid.NewString()
					if i > 0 {
						body.WriteByte(',')
					}
					fmt.Fprintf(&body, `{"id":%q,"actor":{"account":{"homePage":"https://hr.kommune.no","name":"emp-%d-%d"}},`+
						`"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://kins.example/modul/%d"}}`, ids[i], w, n, i+1)
				}
				body.WriteByte(']')
				req, _ := http.NewRequest("POST", base+"/xapi/statements", &body)
				req.SetBasicAuth("load", "load-secret-0123456789")
				req.Header.Set("X-Experience-API-Version", "2.0.0")
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					if termSent.Load() {
						return // the server has closed its listener
					}
					failures.Add(1)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					if res.StatusCode != http.StatusServiceUnavailable {
						failures.Add(1)
					}
					continue
				}
				mu.Lock()
				acked = append(acked, ids...)
				mu.Unlock()
				if termSent.Load() {
					afterTerm.Add(1)
				}
				once.Do(func() { close(firstBatch) })
			}
		}(w)
	}
	select {
	case <-firstBatch:
	case <-time.After(20 * time.Second):
		t.Fatalf("no batch was acknowledged; log:\n%s", logs.String())
	}
	time.Sleep(time.Second) // sustained load
	termSent.Store(true)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("lrs serve exited with %v after SIGTERM; log:\n%s", err, logs.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("lrs serve did not exit after SIGTERM; log:\n%s", logs.String())
	}
	wg.Wait()
	if f := failures.Load(); f > 0 {
		t.Errorf("%d requests failed before SIGTERM", f)
	}
	if afterTerm.Load() == 0 {
		t.Errorf("no batch was answered after SIGTERM: the drain did not serve requests")
	}
	if !strings.Contains(logs.String(), "shutting down: finishing requests in flight") {
		t.Errorf("no shutdown in the log:\n%s", logs.String())
	}

	st, err := openStores(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	missing := 0
	for _, id := range acked {
		if _, err := st.Statements.Get(ctx, "default", id); err != nil {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged statement %s: %v", id, err)
			}
		}
	}
	t.Logf("%d statements acknowledged (%d batches after SIGTERM), %d missing after exit", len(acked), afterTerm.Load(), missing)
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged statements were lost", missing, len(acked))
	}
}
