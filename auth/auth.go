// Package auth holds credentials: who may call the LRS, for which tenant, with
// which scopes. Secrets are random and stored only as a SHA-256 hash, which is
// cheap to check on every request and compared in constant time.
package auth

import (
	"context"
	"time"
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
