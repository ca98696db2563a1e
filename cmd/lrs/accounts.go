package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/xapi-lrs/lrs/accounts"
	"github.com/xapi-lrs/lrs/auth"
)

// passwordInput is where --password-stdin reads from (tests replace it).
var passwordInput io.Reader = os.Stdin

const accountsHelp = `
Accounts sign in to the pages for people (/login). Roles: hr (the whole
tenant) and auditor (the whole tenant, read-only, on any date) are granted
here; manager and learner come from the roster: an account with --person
sees that person's own training, and the units the roster names them a
manager of, with the units below. An account without a password signs in
only through OpenID Connect (--oidc-issuer of lrs serve), when the
provider's person claim equals its name.`

// openAccounts opens the stores and the account service of an accounts
// command.
func openAccounts(ctx context.Context, s streams, db string) (*stores, *accounts.Service, error) {
	st, err := openCLIStores(ctx, s, db)
	if err != nil {
		return nil, nil, err
	}
	return st, accounts.New(accounts.Config{Store: st.Accounts, Audit: st.Audit, Tenants: st.Tenants}), nil
}

// readPassword returns the password: the first line of passwordInput with
// --password-stdin, else a random one (shown once by the caller).
func readPassword(fromStdin bool) (pw string, random bool, err error) {
	if !fromStdin {
		b := make([]byte, 18)
		rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b), true, nil
	}
	line, err := bufio.NewReader(io.LimitReader(passwordInput, accounts.MaxPasswordBytes+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, err
	}
	return strings.TrimRight(line, "\r\n"), false, nil
}

func accountsCreateCmd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("accounts create")
	db := dbFlag(fs)
	name := fs.String("name", "", "the name to sign in with, e.g. an e-mail address (required)")
	tenant := fs.String("tenant", auth.DefaultTenant, "the tenant of the account")
	person := fs.String("person", "", "the employee id in the roster of the person the account is (their own training, the units they manage)")
	grants := fs.String("grant", "", "comma-separated roles to grant: hr, auditor")
	stdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (default: a random password, shown once)")
	none := fs.Bool("no-password", false, "no password: the account signs in only through OpenID Connect")
	if _, err := fs.parse(s, args); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("accounts create: --name is required")
	}
	if *stdin && *none {
		return errors.New("accounts create: give --password-stdin or --no-password, not both")
	}
	var roles []accounts.Role
	for _, g := range strings.Split(*grants, ",") {
		if strings.TrimSpace(g) == "" {
			continue
		}
		r, err := accounts.ParseRole(g)
		if err != nil {
			return err
		}
		roles = append(roles, r)
	}
	var pw string
	var random bool
	if !*none {
		var err error
		if pw, random, err = readPassword(*stdin); err != nil {
			return err
		}
	}
	st, svc, err := openAccounts(ctx, s, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := svc.CreateAccount(ctx, cliActor(), accounts.NewAccount{Name: *name, Tenant: *tenant, Person: *person, Password: pw, Grants: roles})
	if err != nil {
		return err
	}
	if a.Person != "" {
		if ok, err := accounts.PersonExists(ctx, st.Reporting, a.Tenant, a.Person); err == nil && !ok {
			fmt.Fprintf(s.stderr, "lrs: warning: no person %q in tenant %s's roster yet: the account sees their training once a roster import lists them\n",
				a.Person, a.Tenant)
		}
	}
	fmt.Fprintf(s.stdout, "account: %s\ntenant:  %s\nperson:  %s\ngrants:  %s\n", a.Name, a.Tenant, orNone(a.Person), orNone(roleList(a.Grants)))
	switch {
	case random:
		fmt.Fprintf(s.stdout, "password: %s\nThe password is stored only as a hash: keep it now, it cannot be shown again.\n", pw)
	case *none:
		fmt.Fprintln(s.stdout, "No password: the account signs in only through OpenID Connect.")
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func roleList(rs []accounts.Role) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return strings.Join(out, ",")
}

func accountsListCmd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("accounts list")
	db := dbFlag(fs)
	tenant := fs.String("tenant", "", "list only this tenant's accounts (default: all)")
	if _, err := fs.parse(s, args); err != nil {
		return err
	}
	st, svc, err := openAccounts(ctx, s, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	as, err := svc.Accounts(ctx, *tenant)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(s.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tTENANT\tPERSON\tGRANTS\tPASSWORD\tDISABLED\tCREATED")
	for _, a := range as {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\t%v\t%s\n", a.Name, a.Tenant, orNone(a.Person), orNone(roleList(a.Grants)),
			a.PasswordHash != "", a.Disabled, a.Created.Format(time.RFC3339))
	}
	return w.Flush()
}

// accountsChange runs a command changing one account: NAME and, when role
// is true, ROLE.
func accountsChange(ctx context.Context, s streams, args []string, cmd string, withRole bool,
	change func(svc *accounts.Service, name string, r accounts.Role) (*accounts.Account, string, error)) error {
	fs := newFlags("accounts " + cmd)
	db := dbFlag(fs)
	names := []string{"NAME"}
	if withRole {
		names = append(names, "ROLE")
	}
	pos, err := fs.parse(s, args, names...)
	if err != nil {
		return err
	}
	var role accounts.Role
	if withRole {
		if role, err = accounts.ParseRole(pos[1]); err != nil {
			return err
		}
	}
	st, svc, err := openAccounts(ctx, s, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	a, msg, err := change(svc, pos[0], role)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "%s: %s (tenant %s, grants %s)\n", a.Name, msg, a.Tenant, orNone(roleList(a.Grants)))
	return nil
}

func accountsGrantCmd(ctx context.Context, s streams, args []string) error {
	return accountsChange(ctx, s, args, "grant", true, func(svc *accounts.Service, name string, r accounts.Role) (*accounts.Account, string, error) {
		a, err := svc.Grant(ctx, cliActor(), name, r)
		return a, "granted " + string(r) + "; signed-in sessions see it at their next page", err
	})
}

func accountsRevokeCmd(ctx context.Context, s streams, args []string) error {
	return accountsChange(ctx, s, args, "revoke", true, func(svc *accounts.Service, name string, r accounts.Role) (*accounts.Account, string, error) {
		a, err := svc.Revoke(ctx, cliActor(), name, r)
		return a, "revoked " + string(r) + "; signed-in sessions lose it at their next page", err
	})
}

func accountsDisableCmd(ctx context.Context, s streams, args []string) error {
	return accountsChange(ctx, s, args, "disable", false, func(svc *accounts.Service, name string, _ accounts.Role) (*accounts.Account, string, error) {
		a, err := svc.SetDisabled(ctx, cliActor(), name, true)
		return a, "disabled; its sessions have ended", err
	})
}

func accountsEnableCmd(ctx context.Context, s streams, args []string) error {
	return accountsChange(ctx, s, args, "enable", false, func(svc *accounts.Service, name string, _ accounts.Role) (*accounts.Account, string, error) {
		a, err := svc.SetDisabled(ctx, cliActor(), name, false)
		return a, "enabled", err
	})
}

func accountsPasswordCmd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("accounts password")
	db := dbFlag(fs)
	stdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (default: a random password, shown once)")
	pos, err := fs.parse(s, args, "NAME")
	if err != nil {
		return err
	}
	pw, random, err := readPassword(*stdin)
	if err != nil {
		return err
	}
	st, svc, err := openAccounts(ctx, s, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := svc.SetPassword(ctx, cliActor(), pos[0], pw)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "%s: new password set; its sessions have ended\n", a.Name)
	if random {
		fmt.Fprintf(s.stdout, "password: %s\nThe password is stored only as a hash: keep it now, it cannot be shown again.\n", pw)
	}
	return nil
}
