// Package auth holds tenants and credentials: who may call the LRS, for which
// tenant, with which scopes, and the audit log of who changed them. Secrets
// are random and stored only as a SHA-256 hash, which is cheap to check on
// every request and compared in constant time.
//
// Every piece of data belongs to exactly one tenant; a credential is bound to
// one tenant and sees nothing of the others.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/errs"
)

// Scopes of the xAPI specification and of the project.
const (
	ScopeAll                = "all"
	ScopeAllRead            = "all/read"
	ScopeStatementsWrite    = "statements/write"
	ScopeStatementsRead     = "statements/read"
	ScopeStatementsReadMine = "statements/read/mine"
	ScopeState              = "state"
	ScopeDefine             = "define"
	ScopeProfile            = "profile"

	// The project's own scopes.
	ScopeReportsRead = "reports/read" // compliance reports, transcripts, evidence
	ScopeRosterWrite = "roster/write" // roster imports, module catalog, rules
	ScopeAdmin       = "admin"        // the tenant's credentials and audit log
	// ScopeSCORMWrite posts SCORM runtime commits (POST
	// /api/v1/scorm/commits) and nothing else: the LRS makes the
	// statements, so a credential that must live in a browser page (a
	// SCORM player in another LMS) cannot write arbitrary statements.
	ScopeSCORMWrite = "scorm/write"
	// ScopeContentWrite imports, lists, deletes and views e-learning
	// packages (SCORM, cmi5, Tin Can) and their files.
	ScopeContentWrite = "content/write"
	// ScopeLaunchWrite makes personal launch links of packages for
	// learners (POST /api/v1/launches), named by roster person or by
	// Agent: what a portal or LMS that sends learners to the LRS's player
	// holds. A launch lets its holder write the learner's statements of
	// that package, so the scope is for services, not people; it reads no
	// roster data beyond the identifier of the person launched, and
	// changes no package.
	ScopeLaunchWrite = "launch/write"
	// ScopeTenantsAdmin manages tenants themselves (create, list, disable):
	// the operator's scope, for credentials of the default tenant only.
	ScopeTenantsAdmin = "tenants/admin"
	// ScopePrivacyRead reads what the LRS holds about a person for the
	// person's own requests (GDPR art. 15 and 20: the export) and the
	// access log of who read their data; the data protection officer's
	// scope, granted by nothing else.
	ScopePrivacyRead = "privacy/read"
	// ScopePrivacyWrite erases or pseudonymises a person (GDPR art. 17)
	// and runs retention. It does not imply privacy/read.
	ScopePrivacyWrite = "privacy/write"
)

// DefaultTenant owns all data until tenants are configured.
const DefaultTenant = "default"

// Credential is a Basic-auth key and secret bound to one tenant.
type Credential struct {
	Key        string // the Basic-auth user name; unique across tenants
	SecretHash string // hex SHA-256 of the secret
	Name       string // a human label, e.g. "moodle-prod"
	Tenant     string
	Scopes     []string
	Created    time.Time
	Revoked    bool

	// After a rotation the previous secret keeps working until
	// PreviousUntil, so that clients can switch without an outage.
	PreviousSecretHash string
	PreviousUntil      time.Time
}

// CredentialStore keeps credentials. Implementations: package sqlite and
// package mongo; package auth/storetest holds their contract tests.
type CredentialStore interface {
	// CreateCredential stores c; an existing key is an errs.Conflict error.
	CreateCredential(ctx context.Context, c *Credential) error
	// Credential returns the credential with the key, or an errs.NotFound error.
	Credential(ctx context.Context, key string) (*Credential, error)
	// Credentials lists the credentials of a tenant ("" = all tenants), by key.
	Credentials(ctx context.Context, tenant string) ([]*Credential, error)
	// UpdateCredential replaces the stored credential with key c.Key by c
	// (every field but Key, Tenant and Created), or returns an errs.NotFound
	// error.
	UpdateCredential(ctx context.Context, c *Credential) error
}

// Tenant is one organisation served by the installation. The default tenant
// always exists.
type Tenant struct {
	Name     string // see ValidTenantName
	Created  time.Time
	Disabled bool // its credentials and tokens are refused; its data is kept
}

// TenantStore keeps tenants. Implementations: package sqlite and package
// mongo, which create the default tenant when they open a database.
type TenantStore interface {
	// CreateTenant stores t; an existing name is an errs.Conflict error.
	CreateTenant(ctx context.Context, t *Tenant) error
	// Tenant returns the tenant with the name, or an errs.NotFound error.
	Tenant(ctx context.Context, name string) (*Tenant, error)
	// Tenants lists every tenant by name.
	Tenants(ctx context.Context) ([]*Tenant, error)
	// UpdateTenant replaces the stored tenant named t.Name (Disabled; Created
	// is kept), or returns an errs.NotFound error.
	UpdateTenant(ctx context.Context, t *Tenant) error
}

// AuditEntry records one administrative action: who did what to what, when.
type AuditEntry struct {
	Time   time.Time // UTC
	Tenant string    // the tenant the action concerns
	Actor  string    // who: a credential key, or "cli:<user>" for the command line
	Action string    // e.g. "credential.create", "credential.revoke", "tenant.disable"
	Target string    // e.g. the credential key or tenant name
	Detail string    // free text without secrets, e.g. the scopes granted
}

// AuditLog keeps the audit log; entries are never changed or deleted.
type AuditLog interface {
	// AppendAudit stores e.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// Audit lists the entries of a tenant ("" = all) at or after since,
	// oldest first, at most limit (> 0) of them.
	Audit(ctx context.Context, tenant string, since time.Time, limit int) ([]*AuditEntry, error)
}

// ValidTenantName reports whether name can name a tenant: 1 to 63 lowercase
// letters, digits and inner hyphens, like a DNS label.
func ValidTenantName(name string) bool {
	if len(name) == 0 || len(name) > 63 || name[0] == '-' || name[len(name)-1] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// KnownScopes lists every scope a credential may hold.
var KnownScopes = []string{ScopeAll, ScopeAllRead, ScopeStatementsWrite, ScopeStatementsRead,
	ScopeStatementsReadMine, ScopeState, ScopeDefine, ScopeProfile,
	ScopeReportsRead, ScopeRosterWrite, ScopeAdmin, ScopeTenantsAdmin, ScopeSCORMWrite, ScopeContentWrite,
	ScopePrivacyRead, ScopePrivacyWrite, ScopeLaunchWrite}

// ParseScopes parses a comma-separated scope list, rejecting unknown scopes.
func ParseScopes(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !slices.Contains(KnownScopes, f) {
			return nil, errs.E(errs.Invalid, "unknown scope %q (known: %s)", f, strings.Join(KnownScopes, ", "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, errs.E(errs.Invalid, "no scopes given")
	}
	return out, nil
}

// HashSecret returns the stored form of a secret: hex SHA-256. Secrets are
// random and long (>= 128 bits), so a fast hash is safe and keeps each
// request's check in microseconds.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// CheckSecret reports whether secret matches c's stored hash, in constant
// time; at now, the previous secret of a rotation matches too until its
// grace period ends.
func (c *Credential) CheckSecret(secret string, now time.Time) bool {
	h := []byte(HashSecret(secret))
	ok := subtle.ConstantTimeCompare(h, []byte(c.SecretHash)) == 1
	if c.PreviousSecretHash != "" && now.Before(c.PreviousUntil) {
		ok = subtle.ConstantTimeCompare(h, []byte(c.PreviousSecretHash)) == 1 || ok
	}
	return ok
}

// Has reports whether c holds any of the scopes.
func (c *Credential) Has(scopes ...string) bool {
	for _, s := range scopes {
		if slices.Contains(c.Scopes, s) {
			return true
		}
	}
	return false
}

// TenantName is c's tenant; an empty Tenant is the default tenant.
func (c *Credential) TenantName() string {
	if c.Tenant == "" {
		return DefaultTenant
	}
	return c.Tenant
}

// IsOperator reports whether c may act on every tenant: a credential of the
// default tenant holding tenants/admin.
func (c *Credential) IsOperator() bool {
	return c.TenantName() == DefaultTenant && c.Has(ScopeTenantsAdmin)
}

// impliedScopes lists the xAPI scopes that a broader one grants all of. The
// project's own scopes (admin, tenants/admin, reports/read, roster/write,
// content/write, privacy/read, privacy/write, launch/write) imply nothing and are implied by nothing but themselves;
// scorm/write, a narrowing of statements/write, is implied by it and by
// all.
var impliedScopes = map[string][]string{
	ScopeAll: {ScopeAllRead, ScopeStatementsWrite, ScopeStatementsRead,
		ScopeStatementsReadMine, ScopeState, ScopeDefine, ScopeProfile, ScopeSCORMWrite},
	ScopeStatementsWrite: {ScopeSCORMWrite},
	ScopeAllRead:         {ScopeStatementsRead, ScopeStatementsReadMine},
	ScopeStatementsRead:  {ScopeStatementsReadMine},
}

// Implies reports whether holding the scopes held grants scope: each scope
// grants itself, all grants every xAPI scope, all/read and statements/read
// the narrower read scopes.
func Implies(held []string, scope string) bool {
	for _, h := range held {
		if h == scope || slices.Contains(impliedScopes[h], scope) {
			return true
		}
	}
	return false
}

// Lacks returns the scopes of wanted that held does not grant, in order;
// none when held grants them all.
func Lacks(held, wanted []string) []string {
	var out []string
	for _, s := range wanted {
		if !Implies(held, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
