package main

import (
	"context"
	"fmt"

	"github.com/xapi-lrs/lrs/cmd/lrs/wire"
)

// stores is an opened backend (see package wire).
type stores = wire.Stores

// openStores opens the backend db names (wire.Open).
func openStores(ctx context.Context, db string) (*stores, error) { return wire.Open(ctx, db) }

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

// defaultDB is the embedded store used when neither --db nor LRS_DB is given.
const defaultDB = "./lrs-data/lrs.db"

// dbFlag registers --db with its environment default.
func dbFlag(f *flags) *string {
	return f.envString("db", "LRS_DB", defaultDB,
		"`database`: a SQLite file path (relative to the current directory), or a mongodb:// or mongodb+srv:// URL")
}
