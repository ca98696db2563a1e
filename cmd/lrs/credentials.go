package main

import (
	"context"
	"errors"
	"fmt"
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

func credentialsCreateCmd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("credentials create")
	db := dbFlag(fs)
	name := fs.String("name", "", "a label for the credential, e.g. moodle-prod (required)")
	tenant := fs.String("tenant", auth.DefaultTenant, "the tenant the credential belongs to")
	scopes := fs.String("scopes", "all", "comma-separated scopes: "+strings.Join(auth.KnownScopes, ", "))
	key := fs.String("key", "", "the key (Basic-auth user name); random when empty")
	secret := fs.String("secret", "", "the secret; random when empty (prefer random: a given secret may sit in shell history)")
	if _, err := fs.parse(s, args); err != nil {
		return err
	}
	if *name == "" {
		return fmt.Errorf("credentials create: --name is required")
	}
	sc, err := auth.ParseScopes(*scopes)
	if err != nil {
		return err
	}
	st, err := openCLIStores(ctx, s, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	c, sec, err := st.Admin().CreateCredential(ctx, cliActor(), auth.NewCredential{
		Tenant: *tenant, Name: *name, Scopes: sc, Key: *key, Secret: *secret})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "key:    %s\nsecret: %s\ntenant: %s\nscopes: %s\n", c.Key, sec, c.Tenant, strings.Join(c.Scopes, ","))
	fmt.Fprintln(s.stdout, "The secret is stored only as a hash: keep it now, it cannot be shown again.")
	return nil
}

func credentialsListCmd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("credentials list")
	db := dbFlag(fs)
	tenant := fs.String("tenant", "", "list only this tenant's credentials (default: all)")
	if _, err := fs.parse(s, args); err != nil {
		return err
	}
	st, err := openCLIStores(ctx, s, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	cs, err := st.Credentials.Credentials(ctx, *tenant)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(s.stdout, 2, 4, 2, ' ', 0)
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

// openCredential opens the stores and reads the credential key.
func openCredential(ctx context.Context, s streams, db, key string) (*stores, *auth.Credential, error) {
	st, err := openCLIStores(ctx, s, db)
	if err != nil {
		return nil, nil, err
	}
	c, err := st.Credentials.Credential(ctx, key)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, c, nil
}

func credentialsRotateCmd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("credentials rotate")
	db := dbFlag(fs)
	grace := fs.Duration("grace", 0, "how long the old secret keeps working, e.g. 24h (default: not at all)")
	pos, err := fs.parse(s, args, "KEY")
	if err != nil {
		return err
	}
	if *grace < 0 {
		return errors.New("credentials rotate: --grace must not be negative")
	}
	st, c, err := openCredential(ctx, s, *db, pos[0])
	if err != nil {
		return err
	}
	defer st.Close()
	c, secret, err := st.Admin().RotateCredential(ctx, cliActor(), c, *grace)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "key:    %s\nsecret: %s\n", c.Key, secret)
	if *grace > 0 {
		fmt.Fprintf(s.stdout, "The old secret works until %s.\n", c.PreviousUntil.Format(time.RFC3339))
	}
	fmt.Fprintln(s.stdout, "The secret is stored only as a hash: keep it now, it cannot be shown again.")
	fmt.Fprintln(s.stdout, "Running servers take up the change within their credential cache time (30 s).")
	return nil
}

func credentialsRevokeCmd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("credentials revoke")
	db := dbFlag(fs)
	pos, err := fs.parse(s, args, "KEY")
	if err != nil {
		return err
	}
	st, c, err := openCredential(ctx, s, *db, pos[0])
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Admin().RevokeCredential(ctx, cliActor(), c); err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "revoked %s (%s, tenant %s); running servers refuse it within their credential cache time (30 s)\n",
		c.Key, c.Name, c.Tenant)
	return nil
}

func tenantsCreateCmd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("tenants create")
	db := dbFlag(fs)
	pos, err := fs.parse(s, args, "NAME")
	if err != nil {
		return err
	}
	st, err := openCLIStores(ctx, s, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	t, err := st.Admin().CreateTenant(ctx, cliActor(), pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "created tenant %s; give it credentials with: lrs credentials create --tenant %s --name NAME --scopes ...\n", t.Name, t.Name)
	return nil
}

func tenantsDisableCmd(ctx context.Context, s streams, args []string) error {
	return tenantsSetDisabled(ctx, s, args, true)
}

func tenantsEnableCmd(ctx context.Context, s streams, args []string) error {
	return tenantsSetDisabled(ctx, s, args, false)
}

// tenantsSetDisabled is `lrs tenants disable` and `lrs tenants enable`.
func tenantsSetDisabled(ctx context.Context, s streams, args []string, disable bool) error {
	verb := map[bool]string{true: "disable", false: "enable"}[disable]
	fs := newFlags("tenants " + verb)
	db := dbFlag(fs)
	pos, err := fs.parse(s, args, "NAME")
	if err != nil {
		return err
	}
	st, err := openCLIStores(ctx, s, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	t, err := st.Admin().SetTenantDisabled(ctx, cliActor(), pos[0], disable)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "tenant %s %sd; running servers take this up within their credential cache time (30 s)\n", t.Name, verb)
	return nil
}

func tenantsListCmd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("tenants list")
	db := dbFlag(fs)
	if _, err := fs.parse(s, args); err != nil {
		return err
	}
	st, err := openCLIStores(ctx, s, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	ts, err := st.Tenants.Tenants(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(s.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tCREATED\tDISABLED")
	for _, t := range ts {
		fmt.Fprintf(w, "%s\t%s\t%v\n", t.Name, t.Created.Format(time.RFC3339), t.Disabled)
	}
	return w.Flush()
}
