// Package accounts is who may sign in to the pages for people (package
// web) and what each may see there: local accounts with passwords, the
// roles granted to accounts, sign-in sessions, and the access a signed-in
// person has, decided from the grants and from the roster.
//
// # Roles
//
// Two roles are granted to an account, from the command line (`lrs
// accounts grant`): hr, the compliance lead, who sees the whole tenant;
// and auditor, who sees the whole tenant read-only, on any past date. The
// other two come from the roster and are never granted: a manager (a
// person named a manager of units, in the roster's manager rows) sees those
// units and the units under them; a learner (any person) sees their own
// training. A sign-in is a person of the roster when its account names an
// employee id (Account.Person) or, with OpenID Connect, when a claim of the
// identity provider names one (see FindPerson): its manager and learner
// access follows the roster as it is on the day of each request.
//
// # Passwords
//
// Passwords are stored only as argon2id hashes (RFC 9106) in the PHC string
// format, with the parameters OWASP's password storage cheat sheet gives as
// its first choice (19 MiB, two passes, one lane); CheckPassword reads the
// parameters from the hash, so they can be raised later without breaking
// stored hashes. Hashing takes about 40 ms of CPU (2-core CI machine) and
// 19 MiB of memory, so the Service runs at most two at once, and a sign-in
// to an unknown account costs the same as one to a known account.
//
// # Sessions
//
// A session is kept in the store (Store), keyed by the SHA-256 of a random
// 256-bit secret that only the browser holds (in a cookie): whoever reads
// the database cannot take over a session, sign-out and disabling an
// account end sessions at once on every replica, and replicas share
// nothing but the database. A session ends after IdleTimeout without a
// request and at MaxAge after sign-in, whatever happens, and when its
// account or its tenant is disabled. Each session has
// its own random token against cross-site request forgery (CSRF), which
// every form posted in the session must carry.
package accounts

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/errs"
)

// Role is a role granted to an account.
type Role string

const (
	// RoleHR is the compliance lead: every page of the tenant.
	RoleHR Role = "hr"
	// RoleAuditor sees every page of the tenant, read-only, on any date.
	RoleAuditor Role = "auditor"
)

// Roles lists the roles that can be granted.
var Roles = []Role{RoleHR, RoleAuditor}

// ParseRole returns the role named s, or an errs.Invalid error.
func ParseRole(s string) (Role, error) {
	r := Role(strings.TrimSpace(s))
	if !slices.Contains(Roles, r) {
		return "", errs.Invalidf("role", "role", "unknown role %q: want hr or auditor (manager and learner come from the roster)", s)
	}
	return r, nil
}

// Account is a local account of the pages.
type Account struct {
	// Name is what the person types to sign in, e.g. an e-mail address;
	// unique across tenants. An OpenID Connect sign-in whose person claim
	// equals an account's name gets that account's grants.
	Name   string
	Tenant string
	// Person is the employee id in the tenant's roster of the person the
	// account is; "" for an account that is nobody in the roster (an
	// external auditor).
	Person string
	// PasswordHash is the argon2id hash of the password (see HashPassword);
	// "" for an account that signs in only through OpenID Connect.
	PasswordHash string
	Grants       []Role // sorted
	Disabled     bool   // it cannot sign in, and its sessions end
	Created      time.Time
}

// Has reports whether a holds role r.
func (a *Account) Has(r Role) bool { return slices.Contains(a.Grants, r) }

// Session is a sign-in: a browser holding the session's secret.
type Session struct {
	// ID is the hex SHA-256 of the secret the browser holds (SessionID).
	ID     string
	Tenant string
	// Account is the name of the account signed in to; "" for an OpenID
	// Connect sign-in that no account is named by.
	Account string
	// Person is the employee id the sign-in is (see Account.Person and
	// FindPerson); "" when nobody in the roster.
	Person string
	// Method is how the person signed in: "password" or "oidc".
	Method string
	// Label names the person signed in on the pages when the roster does
	// not: the account name, or the OpenID Connect claim.
	Label string
	// CSRF is the token every form posted in the session carries.
	CSRF     string
	Created  time.Time
	LastSeen time.Time // when a request last came in it (within a minute: see Service.Session)
	Expires  time.Time // the absolute end: Created + MaxAge
}

// Sign-in methods.
const (
	MethodPassword = "password"
	MethodOIDC     = "oidc"
)

// Store keeps accounts and sessions. Implementations: package sqlite and
// package mongo; package accounts/storetest holds their contract tests.
type Store interface {
	// CreateAccount stores a; an existing name is an errs.Conflict error.
	CreateAccount(ctx context.Context, a *Account) error
	// Account returns the account with the name, or an errs.NotFound error.
	Account(ctx context.Context, name string) (*Account, error)
	// Accounts lists the accounts of a tenant ("" = all tenants), by name.
	Accounts(ctx context.Context, tenant string) ([]*Account, error)
	// UpdateAccount replaces the stored account named a.Name (every field
	// but Name, Tenant and Created), or returns an errs.NotFound error.
	UpdateAccount(ctx context.Context, a *Account) error

	// CreateSession stores s; an existing ID is an errs.Conflict error.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session with the id, or an errs.NotFound error.
	Session(ctx context.Context, id string) (*Session, error)
	// TouchSession sets the LastSeen of a session, or returns an
	// errs.NotFound error.
	TouchSession(ctx context.Context, id string, seen time.Time) error
	// DeleteSession deletes a session; a missing one is no error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteAccountSessions deletes the sessions of an account and returns
	// how many there were.
	DeleteAccountSessions(ctx context.Context, account string) (int, error)
	// DeleteExpiredSessions deletes the sessions last seen before
	// idleBefore or expiring at or before now, and returns how many there
	// were.
	DeleteExpiredSessions(ctx context.Context, idleBefore, now time.Time) (int, error)
}
