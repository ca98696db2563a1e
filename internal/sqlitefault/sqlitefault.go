// Package sqlitefault injects real failures into a SQLite database for
// tests: triggers that make every write of a table fail, as a full disk or
// a corrupt page would fail it, inside whatever transaction writes it.
// Test code only.
package sqlitefault

import (
	"context"
	"database/sql"
	"net/url"
	"testing"

	_ "modernc.org/sqlite" // the driver the sqlite package uses
)

// Message is the error message of an injected failure.
const Message = "sqlitefault: injected write failure"

// FailWrites makes every INSERT and UPDATE of table in the SQLite database
// file at path fail with Message, through another connection, while the
// database is in use, until the returned function (also called when the
// test ends) removes the triggers.
func FailWrites(tb testing.TB, path, table string) (restore func()) {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	for _, op := range []string{"INSERT", "UPDATE"} {
		_, err := db.ExecContext(ctx, `CREATE TRIGGER sqlitefault_`+op+`_`+table+` BEFORE `+op+` ON `+table+
			` BEGIN SELECT RAISE(ABORT, '`+Message+`'); END`)
		if err != nil {
			db.Close()
			tb.Fatal(err)
		}
	}
	done := false
	restore = func() {
		if done {
			return
		}
		done = true
		defer db.Close()
		for _, op := range []string{"INSERT", "UPDATE"} {
			if _, err := db.ExecContext(ctx, `DROP TRIGGER IF EXISTS sqlitefault_`+op+`_`+table); err != nil {
				tb.Error(err)
			}
		}
	}
	tb.Cleanup(restore)
	return restore
}
