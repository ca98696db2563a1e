package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/sqlite"
)

// backupCmd is `lrs backup`: an online, consistent copy of the embedded
// SQLite store into a new file, taken while the service keeps serving
// (VACUUM INTO reads one snapshot and does not block writers), then checked
// with SQLite's quick_check. MongoDB deployments are backed up with
// mongodump (deploy/README.md).
func backupCmd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("backup")
	dbArg := dbFlag(fs)
	out := fs.String("out", "", "file to write the copy to; must not exist (default: lrs-backup-<UTC time>.db next to the database);\n"+
		"the e-learning package files go beside it, in FILE-content (FILE without .db)")
	if _, err := fs.parse(s, args); err != nil {
		return err
	}
	if isMongoURL(*dbArg) {
		return errors.New("backup: lrs backup copies the embedded SQLite store; back up MongoDB with mongodump --uri=... --oplog (see deploy/README.md)")
	}
	db, err := filepath.Abs(*dbArg)
	if err != nil {
		return err
	}
	if _, err := os.Stat(db); err != nil {
		return fmt.Errorf("backup: no database at %s: %w", db, err)
	}
	fmt.Fprintf(s.stderr, "database: %s\n", db)
	path := *out
	if path == "" {
		path = db + ".backup-" + time.Now().UTC().Format("20060102T150405Z") + ".db"
	}
	for _, p := range []string{path, contentBackupDir(path)} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("backup: %s exists; choose a new file", p)
		}
	}

	st, err := sqlite.Open(db)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	if err := st.Backup(ctx, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup: %w", err)
	}
	if err := checkCopy(ctx, path); err != nil {
		return fmt.Errorf("backup: the copy %s is damaged: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "backup: %s (%d bytes, %s, integrity ok)\n", path, info.Size(), time.Since(start).Round(time.Millisecond))
	// The e-learning package files the copy names, beside it.
	content := contentBackupDir(path)
	n, err := st.BackupContent(ctx, path, content)
	if err != nil {
		return fmt.Errorf("backup: copying the package files into %s: %w", content, err)
	}
	if n > 0 {
		fmt.Fprintf(s.stdout, "backup: %s (%d package files; restore it as the content directory beside the database)\n", content, n)
	}
	return nil
}

// contentBackupDir is where lrs backup puts the package files of the copy
// at path: path without ".db", then "-content".
func contentBackupDir(path string) string {
	return strings.TrimSuffix(path, ".db") + "-content"
}

// checkCopy runs SQLite's quick_check on the copy, read-only.
func checkCopy(ctx context.Context, path string) error {
	d, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return err
	}
	defer d.Close()
	var res string
	if err := d.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return errors.New(res)
	}
	return nil
}
