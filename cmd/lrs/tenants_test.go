package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTenantsAndCredentialsCLI drives the tenant and credential commands
// against a real database and checks the stores and the audit log.
func TestTenantsAndCredentialsCLI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lrs.db")
	ctx := context.Background()
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(args[:1:1], append(args[1:], "--db", db)...), &out, io.Discard)
		return out.String(), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := cli(args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out
	}
	must("tenants", "create", "oslo")
	if _, err := cli("tenants", "create", "oslo"); err == nil {
		t.Error("creating an existing tenant succeeded")
	}
	if _, err := cli("tenants", "create", "Bad_Name"); err == nil {
		t.Error("a bad tenant name was accepted")
	}
	if out := must("tenants", "list"); !strings.Contains(out, "default") || !strings.Contains(out, "oslo") {
		t.Errorf("tenants list: %q", out)
	}
	out := must("credentials", "create", "--tenant", "oslo", "--name", "ks-laering", "--scopes", "statements/write,state")
	key := regexp.MustCompile(`key:\s+(\S+)`).FindStringSubmatch(out)
	secret := regexp.MustCompile(`secret:\s+(\S+)`).FindStringSubmatch(out)
	if key == nil || secret == nil || len(secret[1]) < 32 {
		t.Fatalf("credentials create printed %q", out)
	}
	if _, err := cli("credentials", "create", "--tenant", "oslo", "--name", "x", "--scopes", "tenants/admin"); err == nil {
		t.Error("a tenant credential got tenants/admin")
	}
	if _, err := cli("credentials", "create", "--tenant", "nowhere", "--name", "x"); err == nil {
		t.Error("a credential for a missing tenant was created")
	}
	if out := must("credentials", "list", "--tenant", "oslo"); !strings.Contains(out, key[1]) || strings.Contains(out, secret[1]) {
		t.Errorf("credentials list: %q", out)
	}

	out = must("credentials", "rotate", key[1], "--grace", "1h")
	newSecret := regexp.MustCompile(`secret:\s+(\S+)`).FindStringSubmatch(out)
	if newSecret == nil || newSecret[1] == secret[1] || !strings.Contains(out, "old secret works until") {
		t.Fatalf("rotate printed %q", out)
	}
	must("tenants", "disable", "oslo")
	if _, err := cli("tenants", "disable", "default"); err == nil {
		t.Error("the default tenant was disabled")
	}
	must("credentials", "revoke", key[1])

	st, err := openStores(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.Credentials.Credential(ctx, key[1])
	if err != nil {
		t.Fatal(err)
	}
	if !c.Revoked || c.Tenant != "oslo" || c.PreviousSecretHash != "" {
		t.Errorf("after revoke: %+v", c)
	}
	tn, err := st.Tenants.Tenant(ctx, "oslo")
	if err != nil || !tn.Disabled {
		t.Errorf("tenant oslo: %+v, %v", tn, err)
	}
	entries, err := st.Audit.Audit(ctx, "oslo", time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if !strings.HasPrefix(e.Actor, "cli:") {
			t.Errorf("audit actor %q", e.Actor)
		}
		if strings.Contains(e.Detail, secret[1]) || strings.Contains(e.Detail, newSecret[1]) {
			t.Error("a secret reached the audit log")
		}
	}
	if got, want := strings.Join(actions, ","), "tenant.create,credential.create,credential.rotate,tenant.disable,credential.revoke"; got != want {
		t.Errorf("audit = %s, want %s", got, want)
	}
}
