// Package auth holds credentials: who may call the LRS, for which tenant, with
// which scopes. Secrets are random and stored only as a SHA-256 hash, which is
// cheap to check on every request and compared in constant time.
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
)

// DefaultTenant owns all data until tenants are configured.
const DefaultTenant = "default"

// Credential is a Basic-auth key and secret bound to one tenant.
type Credential struct {
	Key        string // the Basic-auth user name; unique
	SecretHash string // hex SHA-256 of the secret
	Name       string // a human label, e.g. "moodle-prod"
	Tenant     string
	Scopes     []string
	Created    time.Time
	Revoked    bool
}

// CredentialStore keeps credentials. Implementations: package sqlite and
// package mongo.
type CredentialStore interface {
	// CreateCredential stores c; an existing key is an errs.Conflict error.
	CreateCredential(ctx context.Context, c *Credential) error
	// Credential returns the credential with the key, or an errs.NotFound error.
	Credential(ctx context.Context, key string) (*Credential, error)
	// Credentials lists the credentials of a tenant ("" = all tenants).
	Credentials(ctx context.Context, tenant string) ([]*Credential, error)
}

// KnownScopes lists every scope a credential may hold.
var KnownScopes = []string{ScopeAll, ScopeAllRead, ScopeStatementsWrite, ScopeStatementsRead,
	ScopeStatementsReadMine, ScopeState, ScopeDefine, ScopeProfile}

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

// CheckSecret reports whether secret matches c's stored hash, in constant time.
func (c *Credential) CheckSecret(secret string) bool {
	h := HashSecret(secret)
	return subtle.ConstantTimeCompare([]byte(h), []byte(c.SecretHash)) == 1
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
