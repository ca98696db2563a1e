package sqlite_test

import (
	"database/sql"
	"testing"

	"github.com/xapi-lrs/lrs/privacy"
	privacytest "github.com/xapi-lrs/lrs/privacy/storetest"
)

func TestAccessLog(t *testing.T) {
	privacytest.RunAccessLog(t, func(t *testing.T) privacy.AccessLog { return MustOpen(t) })
}

func TestAgentDocuments(t *testing.T) {
	privacytest.RunAgentDocuments(t, func(t *testing.T) privacytest.DocumentStore { return MustOpen(t) })
}

func TestErasure(t *testing.T) {
	privacytest.RunErasure(t, func(t *testing.T) (privacytest.Backend, privacytest.Scanner) {
		db := MustOpen(t)
		return db, scanner(t, db.Path())
	})
}

// scanner reads every value of every table of the database at path.
func scanner(t *testing.T, path string) privacytest.Scanner {
	return func(fn func(where string, value []byte)) error {
		conn, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			return err
		}
		defer conn.Close()
		var tables []string
		rows, err := conn.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var name string
			rows.Scan(&name)
			tables = append(tables, name)
		}
		rows.Close()
		if len(tables) < 20 {
			t.Errorf("the scan lists only the tables %v", tables)
		}
		for _, table := range tables {
			rows, err := conn.Query(`SELECT * FROM "` + table + `"`)
			if err != nil {
				return err
			}
			cols, _ := rows.Columns()
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			for rows.Next() {
				if err := rows.Scan(ptrs...); err != nil {
					rows.Close()
					return err
				}
				for i, v := range vals {
					where := table + "." + cols[i]
					switch v := v.(type) {
					case []byte:
						fn(where, v)
					case string:
						fn(where, []byte(v))
					}
				}
			}
			if err := rows.Close(); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestRetention(t *testing.T) {
	privacytest.RunRetention(t, func(t *testing.T) (privacytest.Backend, privacytest.Scanner) {
		db := MustOpen(t)
		return db, scanner(t, db.Path())
	})
}
