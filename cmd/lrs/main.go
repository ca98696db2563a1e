// Command lrs is the xAPI Learning Record Store: the service and its admin
// tasks.
//
//	lrs serve                      run the service
//	lrs tenants create|list|disable|enable   manage tenants
//	lrs credentials create|list|rotate|revoke   manage Basic-auth credentials
//	lrs accounts create|list|grant|revoke|disable|enable|password   manage the accounts of the pages
//	lrs reporting rebuild          recompute the compliance projection
//	lrs roster import              import a roster (CSV or JSON)
//	lrs evidence verify            check a signed evidence pack
//	lrs tokens keygen              make a key for the token key file
//	lrs bench                      measure ingest and query speed
//	lrs backup                     copy the embedded SQLite store, online
//
// Every flag has an environment variable (LRS_LISTEN, LRS_DB, ...); a flag
// given on the command line wins. Every command answers -h and --help
// with its usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/xapi-lrs/lrs/cmd/lrs/wire"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// streams are where a command writes: what it was asked for on stdout;
// notes and warnings (such as the database it opened) on stderr.
type streams struct{ stdout, stderr io.Writer }

// command is one command or subcommand of lrs.
type command struct {
	name     string // "serve", "tenants create"
	synopsis string // what follows "lrs " in its usage line
	summary  string // what it does, in a line
	help     string // more about it, for its -h; may be empty
	run      func(ctx context.Context, s streams, args []string) error
}

// commands lists every command; run dispatches through it, and the usage
// and every -h are made from it.
func commands() []command {
	return []command{
		{name: "serve", synopsis: "serve [flags]", summary: "run the service", run: serveCmd},
		{name: "tenants create", synopsis: "tenants create NAME [flags]", summary: "create a tenant", run: tenantsCreateCmd},
		{name: "tenants list", synopsis: "tenants list [flags]", summary: "list tenants", run: tenantsListCmd},
		{name: "tenants disable", synopsis: "tenants disable NAME [flags]", summary: "refuse a tenant's credentials",
			run: tenantsDisableCmd},
		{name: "tenants enable", synopsis: "tenants enable NAME [flags]", summary: "allow a disabled tenant's credentials again",
			run: tenantsEnableCmd},
		{name: "credentials create", synopsis: "credentials create --name NAME [flags]", summary: "create a Basic-auth credential and print it",
			run: credentialsCreateCmd},
		{name: "credentials list", synopsis: "credentials list [flags]", summary: "list credentials (never their secrets)", run: credentialsListCmd},
		{name: "credentials rotate", synopsis: "credentials rotate KEY [flags]",
			summary: "give a credential a new secret (--grace keeps the old one working)", run: credentialsRotateCmd},
		{name: "credentials revoke", synopsis: "credentials revoke KEY [flags]", summary: "revoke a credential for good", run: credentialsRevokeCmd},
		{name: "accounts create", synopsis: "accounts create --name NAME [--person ID] [--grant hr,auditor] [flags]",
			summary: "create an account for the pages (a random password is shown once)", help: accountsHelp, run: accountsCreateCmd},
		{name: "accounts list", synopsis: "accounts list [flags]", summary: "list the accounts of the pages (never their passwords)",
			help: accountsHelp, run: accountsListCmd},
		{name: "accounts grant", synopsis: "accounts grant NAME ROLE [flags]", summary: "grant an account a role: hr or auditor",
			help: accountsHelp, run: accountsGrantCmd},
		{name: "accounts revoke", synopsis: "accounts revoke NAME ROLE [flags]", summary: "take a role from an account",
			help: accountsHelp, run: accountsRevokeCmd},
		{name: "accounts disable", synopsis: "accounts disable NAME [flags]", summary: "refuse an account's sign-ins and end its sessions",
			help: accountsHelp, run: accountsDisableCmd},
		{name: "accounts enable", synopsis: "accounts enable NAME [flags]", summary: "allow a disabled account to sign in again",
			help: accountsHelp, run: accountsEnableCmd},
		{name: "accounts password", synopsis: "accounts password NAME [--password-stdin] [flags]",
			summary: "give an account a new password and end its sessions", help: accountsHelp, run: accountsPasswordCmd},
		{name: "reporting rebuild", synopsis: "reporting rebuild [--tenant T] [flags]",
			summary: "recompute the compliance projection from the stored statements", run: reportingCmd},
		{name: "roster import", synopsis: "roster import --tenant T [flags] FILE.csv|FILE.json",
			summary: "import a roster: people or units CSV (--kind), or JSON", run: rosterCmd},
		{name: "privacy erase", synopsis: "privacy erase --tenant T --person ID --mode pseudonymise|delete [--dry-run]",
			summary: "erase a person: pseudonymise or delete everything naming them", help: privacyEraseHelp, run: privacyEraseCmd},
		{name: "retention run", synopsis: "retention run [--tenant T] [--dry-run]",
			summary: "apply the retention rules: erase leavers, delete stale documents and attachments, prune logs",
			help:    retentionRunHelp, run: retentionRunCmd},
		{name: "evidence verify", synopsis: "evidence verify FILE --jwks URL|FILE",
			summary: "check that an evidence pack is the one the LRS signed", help: evidenceHelp, run: evidenceCmd},
		{name: "tokens keygen", synopsis: "tokens keygen [--alg EdDSA|ES256|HS256] [--out FILE [--append|--if-missing]]",
			summary: "make a key for the token key file (--token-keys)", help: keygenHelp, run: keygenCmd},
		{name: "bench", synopsis: "bench [flags]", summary: "measure ingest and query speed", help: benchHelp,
			run: benchCmd},
		{name: "backup", synopsis: "backup [--out FILE] [flags]", summary: "copy the embedded SQLite store, online and consistent", run: backupCmd},
		{name: "version", synopsis: "version", summary: "print the version", run: versionCmd},
	}
}

// findCommand returns the command called name, or nil.
func findCommand(name string) *command {
	cs := commands()
	if i := slices.IndexFunc(cs, func(c command) bool { return c.name == name }); i >= 0 {
		return &cs[i]
	}
	return nil
}

// subcommands returns the commands of the group name ("tenants"): those
// called "name SUB".
func subcommands(name string) []command {
	var out []command
	for _, c := range commands() {
		if strings.HasPrefix(c.name, name+" ") {
			out = append(out, c)
		}
	}
	return out
}

// printUsage writes the usage lines of cs under a heading.
func printUsage(w io.Writer, heading string, cs []command) {
	fmt.Fprintf(w, "%s\n\nUsage:\n", heading)
	width := 0
	for _, c := range cs {
		width = max(width, len(c.synopsis))
	}
	width = min(width, 40)
	for _, c := range cs {
		if len(c.synopsis) > width {
			fmt.Fprintf(w, "  lrs %s\n  %*s     %s\n", c.synopsis, width, "", c.summary)
		} else {
			fmt.Fprintf(w, "  lrs %-*s %s\n", width, c.synopsis, c.summary)
		}
	}
	fmt.Fprintln(w, "\nRun \"lrs COMMAND -h\" for the flags of a command.")
}

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "lrs:", err)
		}
		os.Exit(2)
	}
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

// run runs the command args names. Asked for help, it prints the usage on
// stdout and returns nil; a command line it cannot make sense of gets the
// usage on stderr and an error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s := streams{stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		printUsage(stderr, "lrs — an xAPI Learning Record Store", commands())
		return flag.ErrHelp
	}
	if isHelp(args[0]) {
		if len(args) > 1 { // lrs help COMMAND: the command's own help
			return run(ctx, append(slices.Clone(args[1:]), "--help"), stdout, stderr)
		}
		printUsage(stdout, "lrs — an xAPI Learning Record Store", commands())
		return nil
	}
	var c *command
	var rest []string
	if len(args) > 1 {
		c, rest = findCommand(args[0]+" "+args[1]), args[2:]
	}
	if c == nil {
		c, rest = findCommand(args[0]), args[1:]
	}
	if c != nil {
		err := c.run(ctx, s, rest)
		if errors.Is(err, errHelpShown) {
			return nil
		}
		return err
	}
	group := subcommands(args[0])
	if len(group) == 0 {
		printUsage(stderr, "lrs — an xAPI Learning Record Store", commands())
		return fmt.Errorf("unknown command %q", args[0])
	}
	heading := "lrs " + args[0]
	var names []string
	for _, g := range group {
		names = append(names, strings.TrimPrefix(g.name, args[0]+" "))
	}
	want := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	if len(names) == 1 {
		want = names[0]
	}
	switch {
	case len(args) > 1 && isHelp(args[1]):
		printUsage(stdout, heading, group)
		return nil
	case len(args) == 1:
		printUsage(stderr, heading, group)
		return fmt.Errorf("%s: want %s", args[0], want)
	}
	printUsage(stderr, heading, group)
	return fmt.Errorf("%s: unknown command %q (want %s)", args[0], args[1], want)
}

func versionCmd(_ context.Context, s streams, args []string) error {
	fs := newFlags("version")
	if _, err := fs.parse(s, args); err != nil {
		return err
	}
	fmt.Fprintln(s.stdout, "lrs", version)
	return nil
}

func isMongoURL(s string) bool { return wire.IsMongoURL(s) }
