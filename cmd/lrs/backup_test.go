package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/packages/packagetest"
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

// TestBackupCopiesContent: `lrs backup` copies the files of the e-learning
// packages the database copy names into FILE-content beside it; a restore
// (the copy as the database, FILE-content as its content directory) serves
// them. A deleted package's files are not copied.
func TestBackupCopiesContent(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "lrs.db")
	ctx := context.Background()
	const key, secret = "kurs", "kurs-secret-0123456789"
	if err := run(ctx, []string{"credentials", "create", "--db", db, "--name", "kurs",
		"--scopes", "content/write", "--key", key, "--secret", secret}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	do := func(addr, method, path string, body []byte) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/zip")
		req.SetBasicAuth(key, secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	addr, stop := startServe(t, "--db", db)
	var kept, gone struct{ ID, Content string }
	for _, x := range []struct {
		zip []byte
		dst *struct{ ID, Content string }
	}{{packagetest.SCORM12(), &kept}, {packagetest.CMI5(), &gone}} {
		code, b := do(addr, "POST", "/api/v1/packages", x.zip)
		if code != 201 {
			t.Fatalf("import: %d %s", code, b)
		}
		if err := json.Unmarshal(b, x.dst); err != nil {
			t.Fatal(err)
		}
	}
	if code, b := do(addr, "DELETE", "/api/v1/packages/"+gone.ID, nil); code != 204 {
		t.Fatalf("delete: %d %s", code, b)
	}

	out := filepath.Join(t.TempDir(), "copy.db")
	var stdout bytes.Buffer
	if err := run(ctx, []string{"backup", "--db", db, "--out", out}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "copy-content") {
		t.Errorf("backup did not tell of the package files:\n%s", stdout.String())
	}
	n := 0
	filepath.WalkDir(filepath.Join(filepath.Dir(out), "copy-content"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	if want := len(packagetest.SCORM12Files()); n != want {
		t.Errorf("copy-content holds %d files, want the %d of the package kept", n, want)
	}

	// Restore into a new directory and serve.
	restored := t.TempDir()
	if err := os.Rename(out, filepath.Join(restored, "lrs.db")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(filepath.Dir(out), "copy-content"), filepath.Join(restored, "content")); err != nil {
		t.Fatal(err)
	}
	addr2, stop2 := startServe(t, "--db", filepath.Join(restored, "lrs.db"))
	defer stop2()
	for path, want := range packagetest.SCORM12Files() {
		if code, b := do(addr2, "GET", kept.Content+path, nil); code != 200 || string(b) != want {
			t.Errorf("restored %s: %d %.80s", path, code, b)
		}
	}
	// A backup whose content directory exists already is refused.
	if err := os.Mkdir(filepath.Join(restored, "again-content"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"backup", "--db", filepath.Join(restored, "lrs.db"), "--out", filepath.Join(restored, "again.db")},
		io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "again-content exists") {
		t.Errorf("a backup whose content directory exists: %v", err)
	}
}
