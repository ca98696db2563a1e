package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/xapi-lrs/lrs/sqlite"
)

// backupCmd is `lrs backup`: an online, consistent copy of the embedded
// SQLite store into a new file, taken while the service keeps serving
// (VACUUM INTO reads one snapshot and does not block writers), then checked
// with SQLite's quick_check. MongoDB deployments are backed up with
// mongodump (deploy/README.md).
func backupCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	db := dbFlag(fs)
	out := fs.String("out", "", "file to write the copy to; must not exist (default: lrs-backup-<UTC time>.db next to the database)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("backup: unexpected argument %q", fs.Arg(0))
	}
	if isMongoURL(*db) {
		return errors.New("backup: lrs backup copies the embedded SQLite store; back up MongoDB with mongodump --uri=... --oplog (see deploy/README.md)")
	}
	if _, err := os.Stat(*db); err != nil {
		return fmt.Errorf("backup: no database at %s: %w", *db, err)
	}
	path := *out
	if path == "" {
		path = *db + ".backup-" + time.Now().UTC().Format("20060102T150405Z") + ".db"
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s exists; choose a new file", path)
	}

	st, err := sqlite.Open(*db)
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
	fmt.Fprintf(stdout, "backup: %s (%d bytes, %s, integrity ok)\n", path, info.Size(), time.Since(start).Round(time.Millisecond))
	return nil
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
