package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/xapi-lrs/lrs/auth"
)

// cliActor names the person at the command line in the audit log.
func cliActor() string {
	u := os.Getenv("USER")
	if u == "" {
		u = "unknown"
	}
	return "cli:" + u
}

func credentialsCreateCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("credentials create", flag.ContinueOnError)
	db := dbFlag(fs)
	name := fs.String("name", "", "a label for the credential, e.g. moodle-prod (required)")
	tenant := fs.String("tenant", auth.DefaultTenant, "the tenant the credential belongs to")
	scopes := fs.String("scopes", "all", "comma-separated scopes: "+strings.Join(auth.KnownScopes, ", "))
	key := fs.String("key", "", "the key (Basic-auth user name); random when empty")
	secret := fs.String("secret", "", "the secret; random when empty (prefer random: a given secret may sit in shell history)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		return fmt.Errorf("credentials create: --name is required")
	}
	sc, err := auth.ParseScopes(*scopes)
	if err != nil {
		return err
	}
	st, err := openStores(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	c, sec, err := st.admin().CreateCredential(ctx, cliActor(), auth.NewCredential{
		Tenant: *tenant, Name: *name, Scopes: sc, Key: *key, Secret: *secret})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "key:    %s\nsecret: %s\ntenant: %s\nscopes: %s\n", c.Key, sec, c.Tenant, strings.Join(c.Scopes, ","))
	fmt.Fprintln(stdout, "The secret is stored only as a hash: keep it now, it cannot be shown again.")
	return nil
}

func credentialsListCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("credentials list", flag.ContinueOnError)
	db := dbFlag(fs)
	tenant := fs.String("tenant", "", "list only this tenant's credentials (default: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := openStores(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	cs, err := st.Credentials.Credentials(ctx, *tenant)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KEY\tNAME\tTENANT\tSCOPES\tCREATED\tREVOKED\tOLD SECRET VALID UNTIL")
	for _, c := range cs {
		until := "-"
		if c.PreviousSecretHash != "" && time.Now().Before(c.PreviousUntil) {
			until = c.PreviousUntil.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%v\t%s\n", c.Key, c.Name, c.Tenant, strings.Join(c.Scopes, ","),
			c.Created.Format(time.RFC3339), c.Revoked, until)
	}
	return w.Flush()
}

// keyCmd parses the flags and the one KEY argument of rotate and revoke.
func keyCmd(name string, args []string, extra func(*flag.FlagSet)) (db, key string, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	dbp := dbFlag(fs)
	if extra != nil {
		extra(fs)
	}
	// Accept the key before or after the flags.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		key, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", "", err
	}
	if key == "" && fs.NArg() == 1 {
		key = fs.Arg(0)
	} else if fs.NArg() > 0 || key == "" {
		return "", "", fmt.Errorf("%s: want exactly one KEY", name)
	}
	return *dbp, key, nil
}

func credentialsRotateCmd(ctx context.Context, args []string, stdout io.Writer) error {
	var grace *time.Duration
	db, key, err := keyCmd("credentials rotate", args, func(fs *flag.FlagSet) {
		grace = fs.Duration("grace", 0, "how long the old secret keeps working, e.g. 24h (default: not at all)")
	})
	if err != nil {
		return err
	}
	if *grace < 0 {
		return errors.New("credentials rotate: --grace must not be negative")
	}
	st, err := openStores(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := st.Credentials.Credential(ctx, key)
	if err != nil {
		return err
	}
	c, secret, err := st.admin().RotateCredential(ctx, cliActor(), c, *grace)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "key:    %s\nsecret: %s\n", c.Key, secret)
	if *grace > 0 {
		fmt.Fprintf(stdout, "The old secret works until %s.\n", c.PreviousUntil.Format(time.RFC3339))
	}
	fmt.Fprintln(stdout, "The secret is stored only as a hash: keep it now, it cannot be shown again.")
	fmt.Fprintln(stdout, "Running servers take up the change within their credential cache time (30 s).")
	return nil
}

func credentialsRevokeCmd(ctx context.Context, args []string, stdout io.Writer) error {
	db, key, err := keyCmd("credentials revoke", args, nil)
	if err != nil {
		return err
	}
	st, err := openStores(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := st.Credentials.Credential(ctx, key)
	if err != nil {
		return err
	}
	if _, err := st.admin().RevokeCredential(ctx, cliActor(), c); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "revoked %s (%s, tenant %s); running servers refuse it within their credential cache time (30 s)\n",
		c.Key, c.Name, c.Tenant)
	return nil
}

func tenantsCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("tenants: want create, list, disable or enable")
	}
	sub := args[0]
	fs := flag.NewFlagSet("tenants "+sub, flag.ContinueOnError)
	db := dbFlag(fs)
	rest := args[1:]
	var name string
	if sub != "list" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if sub != "list" && name == "" {
		if fs.NArg() != 1 {
			return fmt.Errorf("tenants %s: want exactly one NAME", sub)
		}
		name = fs.Arg(0)
	}
	st, err := openStores(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "create":
		t, err := st.admin().CreateTenant(ctx, cliActor(), name)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created tenant %s; give it credentials with: lrs credentials create --tenant %s --name NAME --scopes ...\n", t.Name, t.Name)
		return nil
	case "disable", "enable":
		t, err := st.admin().SetTenantDisabled(ctx, cliActor(), name, sub == "disable")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s %sd; running servers take this up within their credential cache time (30 s)\n", t.Name, sub)
		return nil
	case "list":
		ts, err := st.Tenants.Tenants(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tCREATED\tDISABLED")
		for _, t := range ts {
			fmt.Fprintf(w, "%s\t%s\t%v\n", t.Name, t.Created.Format(time.RFC3339), t.Disabled)
		}
		return w.Flush()
	}
	return fmt.Errorf("tenants: unknown command %q (want create, list, disable or enable)", sub)
}
