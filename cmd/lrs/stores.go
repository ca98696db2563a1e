package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/xapi-lrs/lrs/accounts"
	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/mongo"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/sqlite"
	"github.com/xapi-lrs/lrs/statements"
)

// stores is an opened backend: every store interface the service needs.
type stores struct {
	Backend string // "sqlite" or "mongodb"
	// Location names the database for people: the absolute path of the
	// SQLite file, or the MongoDB URL without its password.
	Location string
	// Created is true when opening made a new SQLite file: a command run
	// from another directory than the service, or with another --db,
	// works on a database of its own.
	Created bool

	Statements  ingest.Store
	Documents   documents.Store
	Activities  statements.ActivityStore
	Credentials auth.CredentialStore
	Tenants     auth.TenantStore
	Audit       auth.AuditLog
	Accounts    accounts.Store // the accounts and sessions of the pages
	// Reporting is the compliance reporting store, in the same database
	// as Statements (both backends have one; nil would turn compliance
	// reporting off).
	Reporting reporting.Store
	close     func() error
}

func (s *stores) Close() error { return s.close() }

// admin returns the administrative actions on these stores.
func (s *stores) admin() *auth.Admin {
	return &auth.Admin{Credentials: s.Credentials, Tenants: s.Tenants, Audit: s.Audit}
}

// openStores opens the backend db names: a mongodb:// or mongodb+srv:// URL
// selects MongoDB, anything else is the path of a SQLite database file
// (relative to the current directory).
func openStores(ctx context.Context, db string) (*stores, error) {
	if isMongoURL(db) {
		m, err := mongo.Open(ctx, db)
		if err != nil {
			return nil, fmt.Errorf("open MongoDB %s: %w", redactURL(db), err)
		}
		return &stores{Backend: "mongodb", Location: redactURL(db), Statements: m, Documents: m, Activities: m, Credentials: m,
			Tenants: m, Audit: m, Accounts: m, Reporting: m, close: m.Close}, nil
	}
	path, err := filepath.Abs(db)
	if err != nil {
		return nil, err
	}
	_, statErr := os.Stat(path)
	s, err := sqlite.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	return &stores{Backend: "sqlite", Location: path, Created: errors.Is(statErr, fs.ErrNotExist),
		Statements: s, Documents: s, Activities: s, Credentials: s,
		Tenants: s, Audit: s, Accounts: s, Reporting: s, close: s.Close}, nil
}

// openCLIStores opens the stores for an admin command and says on stderr
// which database it works on, with a warning when it has just made a new
// one: `lrs credentials create` run from another directory than the
// service would otherwise put the credential where the service never looks.
func openCLIStores(ctx context.Context, s streams, db string) (*stores, error) {
	st, err := openStores(ctx, db)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(s.stderr, "database: %s\n", st.Location)
	if st.Created {
		fmt.Fprintf(s.stderr, "lrs: warning: %s did not exist: this command created a new, empty database. "+
			"If the service uses another one, give its path with --db or LRS_DB.\n", st.Location)
	}
	return st, nil
}

// redactURL hides the password of a database URL.
func redactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if j := strings.LastIndex(s, "@"); j > i {
			if k := strings.Index(s[i+3:j], ":"); k >= 0 {
				return s[:i+3+k] + ":***" + s[j:]
			}
		}
	}
	return s
}

// defaultDB is the embedded store used when neither --db nor LRS_DB is given.
const defaultDB = "./lrs-data/lrs.db"

// dbFlag registers --db with its environment default.
func dbFlag(f *flags) *string {
	return f.envString("db", "LRS_DB", defaultDB,
		"`database`: a SQLite file path (relative to the current directory), or a mongodb:// or mongodb+srv:// URL")
}
