package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/sqlite"
	"github.com/xapi-lrs/lrs/statements"
)

const childEnv = "LRS_SQLITE_DURABILITY_DB"

// TestDurability runs a child process that inserts from many goroutines
// and prints the id of every acknowledged statement, kills it with SIGKILL
// in the middle of its writes, reopens the database and finds every
// acknowledged statement. (A killed process loses what it had not handed
// to the kernel; surviving power loss also rests on synchronous=FULL, which
// a test cannot pull the plug on.)
func TestDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "lrs.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurabilityChild$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	killed := false
	timeout := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer timeout.Stop()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		id, ok := strings.CutPrefix(sc.Text(), "ack ")
		if !ok {
			continue
		}
		acked = append(acked, id)
		if len(acked) == 500 && !killed {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatalf("the child stopped after %d acknowledged statements", len(acked))
	}

	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, id := range acked {
		if _, err := db.Get(ctx, "default", id); err != nil {
			t.Errorf("acknowledged statement %s: %v", id, err)
		}
	}
	// The database is consistent and writable after the crash.
	if err := db.Insert(ctx, genRecords("default", 1_000_000, 3), nil); err != nil {
		t.Errorf("insert after the crash: %v", err)
	}
	p, err := db.Query(ctx, statements.Query{Tenant: "default", Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) < len(acked)+3 {
		t.Errorf("query after the crash: %d statements, want at least %d", len(p.Records), len(acked)+3)
	}
	t.Logf("%d acknowledged statements survived SIGKILL", len(acked))
}

// TestDurabilityChild is the child process of TestDurability.
func TestDurabilityChild(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("run by TestDurability")
	}
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var n int
	for g := range 16 {
		go func() {
			for i := 0; ; i++ {
				size := 1
				if g%4 == 0 {
					size = 10
				}
				mu.Lock()
				start := n
				n += size
				mu.Unlock()
				recs := genRecords("default", start, size)
				if err := db.Insert(context.Background(), recs, nil); err != nil {
					fmt.Fprintln(os.Stderr, "insert:", err)
					os.Exit(1)
				}
				mu.Lock()
				for _, r := range recs {
					fmt.Fprintln(os.Stdout, "ack", r.ID)
				}
				mu.Unlock()
			}
		}()
	}
	select {}
}
