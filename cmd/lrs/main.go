// Command lrs is the xAPI Learning Record Store: the service and its admin
// tasks.
//
//	lrs serve                      run the service
//	lrs tenants create|list|disable|enable   manage tenants
//	lrs credentials create|list|rotate|revoke   manage Basic-auth credentials
//	lrs reporting rebuild          recompute the compliance projection
//	lrs roster import              import a roster (CSV or JSON)
//	lrs bench                      measure ingest and query speed
//	lrs backup                     copy the embedded SQLite store, online
//
// Every flag has an environment variable (LRS_LISTEN, LRS_DB, ...); a flag
// given on the command line wins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `lrs — an xAPI Learning Record Store

Usage:
  lrs serve [flags]                  run the service
  lrs tenants create NAME            create a tenant
  lrs tenants list                   list tenants
  lrs tenants disable|enable NAME    refuse or allow again a tenant's credentials
  lrs credentials create [flags]     create a Basic-auth credential and print it
  lrs credentials list [flags]       list credentials (never their secrets)
  lrs credentials rotate KEY         give a credential a new secret (--grace keeps the old one working)
  lrs credentials revoke KEY         revoke a credential for good
  lrs reporting rebuild [--tenant T] recompute the compliance projection from the stored statements
  lrs roster import --tenant T FILE  import a roster: people or units CSV (--kind), or JSON
  lrs evidence verify FILE [--jwks URL|FILE]  check that an evidence pack is the one the LRS signed
  lrs bench [flags]                  measure ingest and query speed
  lrs backup [flags]                 copy the embedded SQLite store, online and consistent
  lrs version                        print the version

Run "lrs COMMAND -h" for the flags of a command.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "lrs:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return serveCmd(ctx, args[1:], stderr)
	case "credentials":
		if len(args) < 2 {
			return errors.New("credentials: want create, list, rotate or revoke")
		}
		switch args[1] {
		case "create":
			return credentialsCreateCmd(ctx, args[2:], stdout)
		case "list":
			return credentialsListCmd(ctx, args[2:], stdout)
		case "rotate":
			return credentialsRotateCmd(ctx, args[2:], stdout)
		case "revoke":
			return credentialsRevokeCmd(ctx, args[2:], stdout)
		}
		return fmt.Errorf("credentials: unknown command %q (want create, list, rotate or revoke)", args[1])
	case "tenants":
		return tenantsCmd(ctx, args[1:], stdout)
	case "backup":
		return backupCmd(ctx, args[1:], stdout)
	case "reporting":
		return reportingCmd(ctx, args[1:], stdout)
	case "roster":
		return rosterCmd(ctx, args[1:], stdout)
	case "evidence":
		return evidenceCmd(ctx, args[1:], stdout)
	case "bench":
		return benchCmd(args[1:])
	case "version":
		fmt.Fprintln(stdout, "lrs", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// env returns the environment variable name, or def when unset.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// defaultDB is the embedded store used when neither --db nor LRS_DB is given.
const defaultDB = "./lrs-data/lrs.db"

// dbFlag registers --db with its environment default.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", env("LRS_DB", defaultDB),
		"database: a SQLite file path, or a mongodb:// or mongodb+srv:// URL (env LRS_DB)")
}

func isMongoURL(s string) bool {
	return strings.HasPrefix(s, "mongodb://") || strings.HasPrefix(s, "mongodb+srv://")
}
