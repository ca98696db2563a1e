package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/errs"
)

// Admin carries out the administrative actions on tenants and credentials,
// for the command line and the admin API alike, and records each in the
// audit log.
//
// Caller is the credential the admin API acts for; nil means the command
// line, which is the operator's own tool and may do anything. A caller may:
//
//   - create, rotate or revoke only credentials whose every scope it holds
//     itself or implies (see Implies): no one hands out, takes over (a
//     rotation shows the new secret) or locks out a credential that can do
//     more than they can; so a credential holding only admin cannot touch
//     one holding tenants/admin, or all;
//   - act only on credentials of its own tenant, unless it is an operator
//     (IsOperator);
//   - create, disable and enable tenants only with tenants/admin.
type Admin struct {
	Credentials CredentialStore
	Tenants     TenantStore
	Audit       AuditLog
	Now         func() time.Time // nil: time.Now
	Caller      *Credential      // nil: the command line
}

// mayManage returns an errs.Forbidden error unless the caller may create,
// rotate or revoke (verb) a credential of tenant with scopes.
func (a *Admin) mayManage(verb, tenant string, scopes []string) error {
	if a.Caller == nil {
		return nil
	}
	if tenant != a.Caller.TenantName() && !a.Caller.IsOperator() {
		return errs.E(errs.Forbidden, "only an operator credential (scope %s of the default tenant) may act on another tenant",
			ScopeTenantsAdmin)
	}
	if lacks := Lacks(a.Caller.Scopes, scopes); len(lacks) > 0 {
		return errs.E(errs.Forbidden,
			"a credential may %s only credentials whose scopes it holds itself; this one does not hold %s",
			verb, strings.Join(lacks, ", "))
	}
	return nil
}

// mayManageTenants returns an errs.Forbidden error unless the caller may
// create, disable or enable tenants.
func (a *Admin) mayManageTenants() error {
	if a.Caller != nil && !a.Caller.IsOperator() {
		return errs.E(errs.Forbidden, "only an operator credential (scope %s of the default tenant) manages tenants", ScopeTenantsAdmin)
	}
	return nil
}

func (a *Admin) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

func (a *Admin) record(ctx context.Context, tenant, actor, action, target, detail string) error {
	return a.Audit.AppendAudit(ctx, &AuditEntry{Time: a.now(), Tenant: tenant, Actor: actor,
		Action: action, Target: target, Detail: detail})
}

// CreateTenant creates a tenant.
func (a *Admin) CreateTenant(ctx context.Context, actor, name string) (*Tenant, error) {
	if err := a.mayManageTenants(); err != nil {
		return nil, err
	}
	if !ValidTenantName(name) {
		return nil, errs.Invalidf("name", "tenant-name",
			"a tenant name is 1 to 63 lowercase letters, digits and inner hyphens, like oslo or bergen-kommune; got %q", name)
	}
	t := &Tenant{Name: name, Created: a.now()}
	if err := a.Tenants.CreateTenant(ctx, t); err != nil {
		return nil, err
	}
	return t, a.record(ctx, name, actor, "tenant.create", name, "")
}

// SetTenantDisabled disables or enables a tenant. A disabled tenant's
// credentials and tokens are refused; its data stays. The default tenant
// cannot be disabled (it holds the operators' credentials).
func (a *Admin) SetTenantDisabled(ctx context.Context, actor, name string, disabled bool) (*Tenant, error) {
	if err := a.mayManageTenants(); err != nil {
		return nil, err
	}
	if name == DefaultTenant && disabled {
		return nil, errs.Invalidf("name", "tenant-default", "the default tenant cannot be disabled")
	}
	t, err := a.Tenants.Tenant(ctx, name)
	if err != nil {
		return nil, err
	}
	t.Disabled = disabled
	if err := a.Tenants.UpdateTenant(ctx, t); err != nil {
		return nil, err
	}
	action := "tenant.enable"
	if disabled {
		action = "tenant.disable"
	}
	return t, a.record(ctx, name, actor, action, name, "")
}

// NewCredential describes a credential to create. Key and Secret are
// random when empty.
type NewCredential struct {
	Tenant, Name string
	Scopes       []string
	Key, Secret  string
}

// CreateCredential creates a credential and returns it with its secret,
// which is stored only as a hash.
func (a *Admin) CreateCredential(ctx context.Context, actor string, n NewCredential) (*Credential, string, error) {
	if n.Tenant == "" {
		n.Tenant = DefaultTenant
	}
	if strings.TrimSpace(n.Name) == "" {
		return nil, "", errs.Invalidf("name", "credential-name", "a credential needs a name saying who uses it, e.g. moodle-prod")
	}
	if len(n.Scopes) == 0 {
		return nil, "", errs.Invalidf("scopes", "scopes-required", "a credential needs at least one scope (known: %s)",
			strings.Join(KnownScopes, ", "))
	}
	for _, s := range n.Scopes {
		if _, err := ParseScopes(s); err != nil {
			return nil, "", errs.Invalidf("scopes", "scope-unknown", "unknown scope %q (known: %s)", s, strings.Join(KnownScopes, ", "))
		}
	}
	if err := a.mayManage("create", n.Tenant, n.Scopes); err != nil {
		return nil, "", err
	}
	if n.Tenant != DefaultTenant && slices.Contains(n.Scopes, ScopeTenantsAdmin) {
		return nil, "", errs.Invalidf("scopes", "scope-tenants-admin",
			"the %s scope manages every tenant; only credentials of the default tenant may hold it", ScopeTenantsAdmin)
	}
	t, err := a.Tenants.Tenant(ctx, n.Tenant)
	if err != nil {
		return nil, "", err
	}
	if t.Disabled {
		return nil, "", errs.Invalidf("tenant", "tenant-disabled", "tenant %q is disabled", n.Tenant)
	}
	if n.Key == "" {
		n.Key = RandomHex(12)
	} else if !validKey(n.Key) {
		return nil, "", errs.Invalidf("key", "credential-key",
			"a key is 1 to 128 letters, digits, '.', '_', '~' and '-' (no '/' or ':'); leave it out to get a random one")
	}
	if n.Secret == "" {
		n.Secret = RandomHex(24)
	} else if len(n.Secret) < 16 {
		return nil, "", errs.Invalidf("secret", "secret-short", "a secret must have at least 16 characters; leave it out to get a random one")
	}
	c := &Credential{Key: n.Key, SecretHash: HashSecret(n.Secret), Name: n.Name, Tenant: n.Tenant,
		Scopes: dedupe(n.Scopes), Created: a.now()}
	if err := a.Credentials.CreateCredential(ctx, c); err != nil {
		return nil, "", err
	}
	return c, n.Secret, a.record(ctx, c.Tenant, actor, "credential.create", c.Key,
		"name="+c.Name+" scopes="+strings.Join(c.Scopes, ","))
}

// RotateCredential gives a credential a new random secret; the old one
// keeps working for grace (0: not at all).
func (a *Admin) RotateCredential(ctx context.Context, actor string, c *Credential, grace time.Duration) (*Credential, string, error) {
	if err := a.mayManage("rotate", c.Tenant, c.Scopes); err != nil {
		return nil, "", err
	}
	if c.Revoked {
		return nil, "", errs.Invalidf("key", "credential-revoked", "credential %q is revoked; create a new one", c.Key)
	}
	secret := RandomHex(24)
	u := *c
	u.PreviousSecretHash, u.PreviousUntil = "", time.Time{}
	if grace > 0 {
		u.PreviousSecretHash, u.PreviousUntil = c.SecretHash, a.now().Add(grace)
	}
	u.SecretHash = HashSecret(secret)
	if err := a.Credentials.UpdateCredential(ctx, &u); err != nil {
		return nil, "", err
	}
	return &u, secret, a.record(ctx, c.Tenant, actor, "credential.rotate", c.Key, "grace="+grace.String())
}

// RevokeCredential revokes a credential for good.
func (a *Admin) RevokeCredential(ctx context.Context, actor string, c *Credential) (*Credential, error) {
	if err := a.mayManage("revoke", c.Tenant, c.Scopes); err != nil {
		return nil, err
	}
	u := *c
	u.Revoked = true
	u.PreviousSecretHash, u.PreviousUntil = "", time.Time{}
	if err := a.Credentials.UpdateCredential(ctx, &u); err != nil {
		return nil, err
	}
	return &u, a.record(ctx, c.Tenant, actor, "credential.revoke", c.Key, "")
}

// RandomHex returns n random bytes, hex-encoded: keys and secrets.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

func dedupe(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// validKey reports whether a Basic-auth key has only characters that need
// no escaping and cannot collide with the keys of token clients, which
// contain a '/'.
func validKey(k string) bool {
	if len(k) == 0 || len(k) > 128 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '~' || c == '-') {
			return false
		}
	}
	return true
}
