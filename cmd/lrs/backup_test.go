package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestBackupWhileServing copies the store with `lrs backup` while the
// service keeps taking statements, then opens the copy: every statement
// acknowledged before the backup started is in it, and writes went on
// during the backup.
func TestBackupWhileServing(t *testing.T) {
	t.Setenv("LRS_RATE_LIMIT", "-1") // the writers below go faster than one credential may
	dir := t.TempDir()
	db := filepath.Join(dir, "lrs.db")
	ctx := context.Background()
	const secret = "backup-secret-0123456789"
	if err := run(ctx, []string{"credentials", "create", "--db", db, "--name", "b", "--key", "b", "--secret", secret}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	addr, _ := startServe(t, "--db", db)

	post := func() (string, error) {
		id := uuid.NewString()
		body := fmt.Sprintf(`{"id":%q,"actor":{"mbox":"mailto:kari@kommune.no"},"verb":{"id":"http://adlnet.gov/expapi/verbs/completed"},"object":{"id":"https://kins.example/modul/5"}}`, id)
		req, _ := http.NewRequest("POST", "http://"+addr+"/xapi/statements", strings.NewReader(body))
		req.SetBasicAuth("b", secret)
		req.Header.Set("X-Experience-API-Version", "2.0.0")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			return "", fmt.Errorf("status %d", res.StatusCode)
		}
		return id, nil
	}
	var before []string
	for i := 0; len(before) < 200; i++ {
		id, err := post()
		if err != nil {
			if i > 200 {
				t.Fatalf("the service does not take statements: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		before = append(before, id)
	}

	// Writers keep going while the backup runs.
	var during atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := post(); err != nil {
					t.Errorf("POST during the backup: %v", err)
					return
				}
				during.Add(1)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	copyPath := filepath.Join(dir, "backups", "copy.db")
	var out bytes.Buffer
	err := run(ctx, []string{"backup", "--db", db, "--out", copyPath}, &out, io.Discard)
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if !strings.Contains(out.String(), "integrity ok") {
		t.Errorf("backup printed %q", out.String())
	}
	if during.Load() == 0 {
		t.Error("no statement was written while the backup ran")
	}

	st, err := openStores(ctx, copyPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, id := range before {
		if _, err := st.Statements.Get(ctx, "default", id); err != nil {
			t.Fatalf("statement %s, acknowledged before the backup, is not in it: %v", id, err)
		}
	}
	t.Logf("%d statements before the backup, %d written while it ran", len(before), during.Load())

	// Refusals: an existing target, a missing database, MongoDB.
	if err := run(ctx, []string{"backup", "--db", db, "--out", copyPath}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("backup over an existing file: %v", err)
	}
	if err := run(ctx, []string{"backup", "--db", filepath.Join(dir, "none.db"), "--out", filepath.Join(dir, "x.db")}, io.Discard, io.Discard); err == nil {
		t.Error("backup of a missing database succeeded")
	} else if _, statErr := os.Stat(filepath.Join(dir, "none.db")); statErr == nil {
		t.Error("backup of a missing database created it")
	}
	if err := run(ctx, []string{"backup", "--db", "mongodb://127.0.0.1:1/lrs"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "mongodump") {
		t.Errorf("backup of MongoDB: %v", err)
	}
}
