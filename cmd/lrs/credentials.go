package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/xapi-lrs/lrs/auth"
)

func credentialsCreateCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("credentials create", flag.ContinueOnError)
	db := dbFlag(fs)
	name := fs.String("name", "", "a label for the credential, e.g. moodle-prod (required)")
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
	if *key == "" {
		*key = randomHex(12)
	}
	if *secret == "" {
		*secret = randomHex(24)
	}
	st, err := openStores(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	c := &auth.Credential{
		Key:        *key,
		SecretHash: auth.HashSecret(*secret),
		Name:       *name,
		Tenant:     auth.DefaultTenant,
		Scopes:     sc,
		Created:    time.Now().UTC(),
	}
	if err := st.Credentials.CreateCredential(ctx, c); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "key:    %s\nsecret: %s\nscopes: %s\n", c.Key, *secret, strings.Join(c.Scopes, ","))
	fmt.Fprintln(stdout, "The secret is stored only as a hash: keep it now, it cannot be shown again.")
	return nil
}

func credentialsListCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("credentials list", flag.ContinueOnError)
	db := dbFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := openStores(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	cs, err := st.Credentials.Credentials(ctx, "")
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KEY\tNAME\tTENANT\tSCOPES\tCREATED\tREVOKED")
	for _, c := range cs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%v\n", c.Key, c.Name, c.Tenant, strings.Join(c.Scopes, ","),
			c.Created.Format(time.RFC3339), c.Revoked)
	}
	return w.Flush()
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}
