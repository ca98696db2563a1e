package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
)

// Defaults of the session timeouts.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxAge      = 10 * time.Hour
)

// touchEvery is how stale LastSeen may get before a request writes it:
// a page view costs a write at most once a minute.
const touchEvery = time.Minute

// Config holds what a Service needs.
type Config struct {
	Store Store
	// Audit, when set, records every change to accounts.
	Audit auth.AuditLog
	// Tenants, when set, is checked: an account is made only in a tenant
	// that exists, and nobody of a disabled tenant signs in or keeps a
	// session (as its credentials are refused).
	Tenants auth.TenantStore
	// IdleTimeout ends a session after so long without a request;
	// 0: DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxAge ends a session so long after sign-in; 0: DefaultMaxAge.
	MaxAge time.Duration
	Now    func() time.Time // nil: time.Now
	Logger *slog.Logger     // nil: slog.Default()
}

// Service is the account and session use cases: creating accounts and
// granting roles (the CLI), signing in and out, and finding the session
// of a request.
type Service struct {
	cfg     Config
	hashing chan struct{} // at most two argon2 computations at once
	// dummy is a hash checked for unknown accounts, so that they cost as
	// much time as known ones.
	dummy string
}

// New returns a Service for cfg.
func New(cfg Config) *Service {
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	dummy, _ := HashPassword("not the password of any account")
	return &Service{cfg: cfg, hashing: make(chan struct{}, 2), dummy: dummy}
}

// Timeouts returns the idle timeout and the maximum age of sessions.
func (s *Service) Timeouts() (idle, maxAge time.Duration) { return s.cfg.IdleTimeout, s.cfg.MaxAge }

// NewAccount is what CreateAccount takes.
type NewAccount struct {
	Name     string
	Tenant   string // "": the default tenant
	Person   string // employee id, or ""
	Password string // "": signs in only through OpenID Connect
	Grants   []Role
}

// ValidName reports whether name can name an account: 1 to 254 printable
// characters without spaces (an e-mail address, a user name).
func ValidName(name string) bool {
	if name == "" || len(name) > 254 {
		return false
	}
	for _, r := range name {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// validPerson reports whether id can be an employee id (as the reports
// take them: letters, digits and . _ - :).
func validPerson(id string) bool {
	if len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-:", c)) {
			return false
		}
	}
	return true
}

// CreateAccount creates an account; actor names who did it in the audit
// log ("cli:<user>").
func (s *Service) CreateAccount(ctx context.Context, actor string, n NewAccount) (*Account, error) {
	if n.Tenant == "" {
		n.Tenant = auth.DefaultTenant
	}
	switch {
	case !ValidName(n.Name):
		return nil, errs.Invalidf("name", "account-name", "an account name has 1 to 254 printable characters without spaces, got %q", n.Name)
	case !auth.ValidTenantName(n.Tenant):
		return nil, errs.Invalidf("tenant", "tenant-name", "%q is not a tenant name", n.Tenant)
	case !validPerson(n.Person):
		return nil, errs.Invalidf("person", "person-id", "an employee id holds letters, digits and . _ - :, got %q", n.Person)
	}
	if s.cfg.Tenants != nil {
		if _, err := s.cfg.Tenants.Tenant(ctx, n.Tenant); err != nil {
			return nil, err
		}
	}
	a := &Account{Name: n.Name, Tenant: n.Tenant, Person: n.Person, Created: s.cfg.Now().UTC()}
	for _, r := range n.Grants {
		if !slices.Contains(Roles, r) {
			return nil, errs.Invalidf("grants", "role", "unknown role %q", r)
		}
		if !a.Has(r) {
			a.Grants = append(a.Grants, r)
		}
	}
	slices.Sort(a.Grants)
	if n.Password != "" {
		if err := CheckPasswordRules(n.Password); err != nil {
			return nil, err
		}
		h, err := s.hash(ctx, n.Password)
		if err != nil {
			return nil, err
		}
		a.PasswordHash = h
	}
	if err := s.cfg.Store.CreateAccount(ctx, a); err != nil {
		return nil, err
	}
	detail := "person " + orDash(a.Person) + ", grants " + orDash(joinRoles(a.Grants))
	if a.PasswordHash == "" {
		detail += ", no password"
	}
	s.audit(ctx, actor, a.Tenant, "account.create", a.Name, detail)
	return a, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func joinRoles(rs []Role) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return strings.Join(out, ",")
}

// Account returns the account with the name, or an errs.NotFound error.
func (s *Service) Account(ctx context.Context, name string) (*Account, error) {
	return s.cfg.Store.Account(ctx, name)
}

// Accounts lists the accounts of a tenant ("" = all tenants), by name.
func (s *Service) Accounts(ctx context.Context, tenant string) ([]*Account, error) {
	return s.cfg.Store.Accounts(ctx, tenant)
}

// update reads the account name, changes it with change (which returns the
// audit action and detail, or "" for no change) and stores it.
func (s *Service) update(ctx context.Context, actor, name string, change func(a *Account) (string, string, error)) (*Account, error) {
	a, err := s.cfg.Store.Account(ctx, name)
	if err != nil {
		return nil, err
	}
	action, detail, err := change(a)
	if err != nil || action == "" {
		return a, err
	}
	if err := s.cfg.Store.UpdateAccount(ctx, a); err != nil {
		return nil, err
	}
	s.audit(ctx, actor, a.Tenant, action, a.Name, detail)
	return a, nil
}

// Grant gives an account a role (a no-op when it has it).
func (s *Service) Grant(ctx context.Context, actor, name string, r Role) (*Account, error) {
	return s.update(ctx, actor, name, func(a *Account) (string, string, error) {
		if !slices.Contains(Roles, r) {
			return "", "", errs.Invalidf("role", "role", "unknown role %q", r)
		}
		if a.Has(r) {
			return "", "", nil
		}
		a.Grants = append(a.Grants, r)
		slices.Sort(a.Grants)
		return "account.grant", string(r), nil
	})
}

// Revoke takes a role from an account (a no-op when it lacks it). Its
// sessions see the change at their next request.
func (s *Service) Revoke(ctx context.Context, actor, name string, r Role) (*Account, error) {
	return s.update(ctx, actor, name, func(a *Account) (string, string, error) {
		if !a.Has(r) {
			return "", "", nil
		}
		a.Grants = slices.DeleteFunc(a.Grants, func(g Role) bool { return g == r })
		return "account.revoke", string(r), nil
	})
}

// SetPassword replaces the password of an account; its sessions end.
func (s *Service) SetPassword(ctx context.Context, actor, name, password string) (*Account, error) {
	if err := CheckPasswordRules(password); err != nil {
		return nil, err
	}
	h, err := s.hash(ctx, password)
	if err != nil {
		return nil, err
	}
	a, err := s.update(ctx, actor, name, func(a *Account) (string, string, error) {
		a.PasswordHash = h
		return "account.password", "", nil
	})
	if err != nil {
		return nil, err
	}
	_, err = s.cfg.Store.DeleteAccountSessions(ctx, name)
	return a, err
}

// SetDisabled disables an account, ending its sessions, or enables it
// again.
func (s *Service) SetDisabled(ctx context.Context, actor, name string, disabled bool) (*Account, error) {
	a, err := s.update(ctx, actor, name, func(a *Account) (string, string, error) {
		if a.Disabled == disabled {
			return "", "", nil
		}
		a.Disabled = disabled
		if disabled {
			return "account.disable", "", nil
		}
		return "account.enable", "", nil
	})
	if err != nil || !disabled {
		return a, err
	}
	_, err = s.cfg.Store.DeleteAccountSessions(ctx, name)
	return a, err
}

func (s *Service) audit(ctx context.Context, actor, tenant, action, target, detail string) {
	if s.cfg.Audit == nil {
		return
	}
	e := &auth.AuditEntry{Time: s.cfg.Now().UTC(), Tenant: tenant, Actor: actor, Action: action, Target: target, Detail: detail}
	if err := s.cfg.Audit.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.cfg.Logger.Error("recording an audit entry", "action", action, "target", target, "err", err)
	}
}

// hash hashes a password, waiting for one of the two hashing slots.
func (s *Service) hash(ctx context.Context, pw string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	return HashPassword(pw)
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return errs.E(errs.Unavailable, "too many sign-ins at once; try again")
	}
}

func (s *Service) release() { <-s.hashing }

// errSignIn is the one answer to a failed sign-in, whatever failed, so
// that it does not tell which accounts exist.
var errSignIn = errs.E(errs.Unauthorized, "wrong account name or password")

// CheckPassword returns the account name signs in to with password, or
// an errs.Unauthorized error when there is no such account, it is
// disabled, it has no password or the password is wrong (the same error,
// after the same work, in every case).
func (s *Service) CheckPassword(ctx context.Context, name, password string) (*Account, error) {
	a, err := s.cfg.Store.Account(ctx, name)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	hash := s.dummy
	if a != nil && a.PasswordHash != "" {
		hash = a.PasswordHash
	}
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	ok := CheckPassword(hash, password)
	s.release()
	if !ok || a == nil || a.PasswordHash == "" || a.Disabled {
		return nil, errSignIn
	}
	if err := s.tenantOK(ctx, a.Tenant); err != nil {
		return nil, errSignIn
	}
	return a, nil
}

// tenantOK returns an errs.Forbidden error when tenant is disabled or
// gone (nil without a TenantStore).
func (s *Service) tenantOK(ctx context.Context, tenant string) error {
	if s.cfg.Tenants == nil {
		return nil
	}
	t, err := s.cfg.Tenants.Tenant(ctx, tenant)
	switch {
	case errs.Is(err, errs.NotFound):
		return errs.E(errs.Forbidden, "tenant %q does not exist", tenant)
	case err != nil:
		return err
	case t.Disabled:
		return errs.E(errs.Forbidden, "tenant %q is disabled", tenant)
	}
	return nil
}

// SessionID returns the id under which the session with the secret is
// stored: its hex SHA-256.
func SessionID(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// randomToken returns 256 random bits, base64url-encoded.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SignIn is a sign-in to start a session for.
type SignIn struct {
	Tenant  string
	Account string // "" for none
	Person  string
	Method  string
	Label   string
}

// StartSession starts a session and returns the secret the browser keeps
// (in a cookie) with the session.
func (s *Service) StartSession(ctx context.Context, in SignIn) (string, *Session, error) {
	if err := s.tenantOK(ctx, in.Tenant); err != nil {
		return "", nil, err
	}
	now := s.cfg.Now().UTC()
	secret := randomToken()
	sess := &Session{ID: SessionID(secret), Tenant: in.Tenant, Account: in.Account, Person: in.Person, Method: in.Method,
		Label: in.Label, CSRF: randomToken(), Created: now, LastSeen: now, Expires: now.Add(s.cfg.MaxAge)}
	if err := s.cfg.Store.CreateSession(ctx, sess); err != nil {
		return "", nil, err
	}
	return secret, sess, nil
}

// errNoSession is the answer for a secret that names no live session.
var errNoSession = errs.E(errs.Unauthorized, "not signed in, or the session has ended")

// Session returns the live session of secret and its account (nil for an
// OpenID Connect sign-in without one), or an errs.Unauthorized error when
// the session is unknown, idle for longer than IdleTimeout, older than
// MaxAge, or its account or tenant is gone or disabled (such sessions
// are deleted).
// It records the request in the session's LastSeen at most once a minute.
func (s *Service) Session(ctx context.Context, secret string) (*Session, *Account, error) {
	if secret == "" {
		return nil, nil, errNoSession
	}
	sess, err := s.cfg.Store.Session(ctx, SessionID(secret))
	if errs.Is(err, errs.NotFound) {
		return nil, nil, errNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	now := s.cfg.Now()
	if !now.Before(sess.Expires) || now.Sub(sess.LastSeen) >= s.cfg.IdleTimeout {
		return nil, nil, s.end(ctx, sess)
	}
	var a *Account
	if sess.Account != "" {
		a, err = s.cfg.Store.Account(ctx, sess.Account)
		if errs.Is(err, errs.NotFound) || err == nil && (a.Disabled || a.Tenant != sess.Tenant) {
			return nil, nil, s.end(ctx, sess)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if err := s.tenantOK(ctx, sess.Tenant); errs.Is(err, errs.Forbidden) {
		return nil, nil, s.end(ctx, sess)
	} else if err != nil {
		return nil, nil, err
	}
	if now.Sub(sess.LastSeen) >= touchEvery {
		if err := s.cfg.Store.TouchSession(ctx, sess.ID, now.UTC()); err != nil && !errs.Is(err, errs.NotFound) {
			return nil, nil, err
		}
		sess.LastSeen = now.UTC()
	}
	return sess, a, nil
}

// end deletes a session that is over and returns errNoSession.
func (s *Service) end(ctx context.Context, sess *Session) error {
	if err := s.cfg.Store.DeleteSession(ctx, sess.ID); err != nil {
		return err
	}
	return errNoSession
}

// EndSession ends the session of secret (sign-out); an unknown one is no
// error.
func (s *Service) EndSession(ctx context.Context, secret string) error {
	if secret == "" {
		return nil
	}
	return s.cfg.Store.DeleteSession(ctx, SessionID(secret))
}

// DeleteExpiredSessions deletes the sessions that are over, returning how
// many; the server calls it now and then.
func (s *Service) DeleteExpiredSessions(ctx context.Context) (int, error) {
	now := s.cfg.Now()
	return s.cfg.Store.DeleteExpiredSessions(ctx, now.Add(-s.cfg.IdleTimeout), now)
}
