package lrs

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/launch"
	"github.com/xapi-lrs/lrs/statements"
)

// reqState is what the middleware learns about a request: its xAPI version
// and, once authenticated, its credential. It lives in the request context.
type reqState struct {
	version   statements.Version
	versionOK bool
	cred      *auth.Credential
	// launch is the launch session a bearer token of a launch stands for
	// (launch.go): what it may write is limited to its learner; written
	// are the statements it wrote in this request (launchWritten).
	launch  *launch.Token
	written []map[string]any
}

type stateKey struct{}

// state returns the request's state, creating it on first use.
func state(c *echo.Context) *reqState {
	r := c.Request()
	if st, ok := r.Context().Value(stateKey{}).(*reqState); ok {
		return st
	}
	st := &reqState{}
	c.SetRequest(r.WithContext(context.WithValue(r.Context(), stateKey{}, st)))
	return st
}

// CredentialFromContext returns the credential that authenticated the request
// whose context is ctx.
func CredentialFromContext(ctx context.Context) (*auth.Credential, bool) {
	st, ok := ctx.Value(stateKey{}).(*reqState)
	if !ok || st.cred == nil {
		return nil, false
	}
	return st.cred, true
}

// Scopes a resource needs: any one of the listed scopes grants access.
var (
	statementsWriteScopes = []string{auth.ScopeAll, auth.ScopeStatementsWrite}
	statementsReadScopes  = []string{auth.ScopeAll, auth.ScopeAllRead, auth.ScopeStatementsRead, auth.ScopeStatementsReadMine}
)

// readsOnlyOwn reports whether c may read only the statements it wrote
// (scope statements/read/mine without a broader read scope).
func readsOnlyOwn(c *auth.Credential) bool {
	return !c.Has(auth.ScopeAll, auth.ScopeAllRead, auth.ScopeStatementsRead)
}

// authenticate checks the request's credentials: HTTP Basic against the
// credential store (through a short-lived cache), or a bearer token
// (token.go). It refuses credentials of a disabled tenant, throttles failed
// attempts, applies the credential's rate limit, and records the credential
// in the request state. Failures are 401 with a WWW-Authenticate challenge,
// logged (with the key, never the secret) and counted. A request the
// alternate request syntax already authenticated (protocol.go) goes
// through.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if state(c).cred != nil {
			return next(c)
		}
		cred, err := s.login(c, attemptedKey(c), func() (*auth.Credential, error) { return s.principal(c) })
		if err != nil {
			return err
		}
		state(c).cred = cred
		return next(c)
	}
}

// login authenticates a request, or the client of the token endpoint: key
// is the key presented ("" for none, or a bearer token) and check checks
// the credentials. Unless the key or the client's address is throttled for
// failed attempts (guard.go), login runs check, refuses a disabled tenant,
// logs and counts failures, feeds the failure throttle, and applies the
// credential's rate limit.
func (s *Server) login(c *echo.Context, key string, check func() (*auth.Credential, error)) (*auth.Credential, error) {
	ctx := c.Request().Context()
	addr := clientAddr(c)
	if key != "" {
		if err := s.failures.check(c, key, addr); err != nil {
			s.authFailures.Add(1)
			return nil, err
		}
	}
	cred, err := check()
	if err == nil {
		err = s.creds.tenantEnabled(ctx, cred.Tenant)
	}
	if err != nil {
		if errs.Is(err, errs.Unauthorized) {
			s.authFailures.Add(1)
			if err == errBadCredentials && key != "" {
				s.failures.failed(key, addr)
			}
			s.log.Warn("authentication failed", "path", c.Request().URL.Path, "key", s.loggedKey(ctx, key),
				"err", err.Error())
		}
		return nil, err
	}
	if key != "" {
		s.failures.succeeded(key, addr)
	}
	if err := s.limiter.allow(c, cred.Key); err != nil {
		return nil, err
	}
	return cred, nil
}

// principal returns the credential the request authenticates with.
func (s *Server) principal(c *echo.Context) (*auth.Credential, error) {
	if token, ok := bearerToken(c.Request()); ok { // token.go
		if launch.IsToken(token) {
			return s.launchCredential(c, token) // launch.go
		}
		return s.bearerCredential(c, token)
	}
	key, secret, ok := c.Request().BasicAuth()
	if !ok {
		return nil, errs.E(errs.Unauthorized, "HTTP Basic authentication is required (Authorization: Basic base64(key:secret))")
	}
	if launch.IsToken(key) && secret == "" { // a cmi5 auth-token
		return s.launchCredential(c, key)
	}
	return s.creds.check(c.Request().Context(), key, secret)
}

// attemptedKey is the key of a Basic authentication, for the log and the
// throttle of failed logins; "" for a launch token (a cmi5 auth-token),
// which is no key a person types.
func attemptedKey(c *echo.Context) string {
	key, _, _ := c.Request().BasicAuth()
	if launch.IsToken(key) {
		return ""
	}
	return key
}

// loggedKey is the form of a key tried that the log may hold: the key
// itself when a credential has it (a wrong secret, a revoked credential);
// else, as it may be a secret typed into the user field or anything else a
// person typed, "fp:" and a fingerprint (an HMAC under a key of this
// process): it tells whether failures sent the same value, and reveals
// nothing of it.
func (s *Server) loggedKey(ctx context.Context, key string) string {
	if key == "" {
		return ""
	}
	if cred, err := s.creds.lookup(ctx, key); err == nil && cred != nil {
		return key
	}
	m := hmac.New(sha256.New, logFingerprintKey)
	m.Write([]byte(key))
	return "fp:" + hex.EncodeToString(m.Sum(nil)[:6])
}

// logFingerprintKey keys the fingerprints of loggedKey.
var logFingerprintKey = func() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}()

// AuthFailures is the number of failed authentications since the start.
func (s *Server) AuthFailures() uint64 { return s.authFailures.Load() }

// authorize lets the request through when its credential holds one of scopes.
func authorize(scopes ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if !state(c).cred.Has(scopes...) {
				return errs.E(errs.Forbidden, "the credential lacks the scope for this request; it needs one of: %s",
					strings.Join(scopes, ", "))
			}
			return next(c)
		}
	}
}

// credCache keeps credentials looked up recently, so that authenticating a
// request costs a map lookup and a SHA-256, not a database query. A revoked
// or changed credential takes effect within the TTL. Unknown keys are
// remembered for unknownKeyTTL only, so that a client sending a wrong key
// does not query the store on every request, yet a key created meanwhile
// (with the CLI, or through another replica) works within a second.
// (Without it, an unknown key costs a store lookup: about 14 µs on SQLite,
// a round trip on MongoDB; the failure throttle bounds how often.)
type credCache struct {
	store   auth.CredentialStore
	tenants auth.TenantStore
	ttl     time.Duration
	now     func() time.Time

	mu      sync.RWMutex
	entries map[string]credEntry
	tenantE map[string]tenantEntry

	versions sync.Map // credential key -> statements.Version last used
}

type credEntry struct {
	cred    *auth.Credential // nil: no such key
	expires time.Time
}

type tenantEntry struct {
	enabled bool
	expires time.Time
}

// maxCachedCredentials bounds the cache; when full it starts afresh.
const maxCachedCredentials = 10000

// unknownKeyTTL is how long the cache remembers that a key does not exist,
// at most the TTL.
const unknownKeyTTL = time.Second

func newCredCache(store auth.CredentialStore, tenants auth.TenantStore, ttl time.Duration, now func() time.Time) *credCache {
	return &credCache{store: store, tenants: tenants, ttl: ttl, now: now,
		entries: make(map[string]credEntry), tenantE: make(map[string]tenantEntry)}
}

// forget drops a credential from the cache, after a change through this
// server; changes made elsewhere take effect within the TTL.
func (cc *credCache) forget(key string) {
	cc.mu.Lock()
	delete(cc.entries, key)
	cc.mu.Unlock()
}

// forgetTenant drops a tenant's state from the cache.
func (cc *credCache) forgetTenant(name string) {
	cc.mu.Lock()
	delete(cc.tenantE, name)
	cc.mu.Unlock()
}

// tenantEnabled returns an errs.Unauthorized error when the tenant is
// disabled or unknown.
func (cc *credCache) tenantEnabled(ctx context.Context, name string) error {
	if name == "" || cc.tenants == nil {
		return nil
	}
	now := cc.now()
	cc.mu.RLock()
	e, ok := cc.tenantE[name]
	cc.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		t, err := cc.tenants.Tenant(ctx, name)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
		e = tenantEntry{enabled: err == nil && !t.Disabled, expires: now.Add(cc.ttl)}
		cc.mu.Lock()
		if len(cc.tenantE) >= maxCachedCredentials {
			cc.tenantE = make(map[string]tenantEntry)
		}
		cc.tenantE[name] = e
		cc.mu.Unlock()
	}
	if !e.enabled {
		return errs.E(errs.Unauthorized, "the tenant of this credential is disabled")
	}
	return nil
}

// errBadCredentials is the one answer to a wrong key or secret, so that the
// response does not tell which of the two was wrong.
var errBadCredentials = errs.E(errs.Unauthorized, "unknown key or wrong secret")

// check returns the credential for key if secret matches it and it is not
// revoked.
func (cc *credCache) check(ctx context.Context, key, secret string) (*auth.Credential, error) {
	cred, err := cc.lookup(ctx, key)
	if err != nil {
		return nil, err
	}
	if cred == nil {
		auth.HashSecret(secret) // spend the same time as for a known key
		return nil, errBadCredentials
	}
	if !cred.CheckSecret(secret, cc.now()) {
		return nil, errBadCredentials
	}
	if cred.Revoked {
		return nil, errs.E(errs.Unauthorized, "this credential has been revoked")
	}
	return cred, nil
}

func (cc *credCache) lookup(ctx context.Context, key string) (*auth.Credential, error) {
	now := cc.now()
	cc.mu.RLock()
	e, ok := cc.entries[key]
	cc.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.cred, nil
	}
	cred, err := cc.store.Credential(ctx, key)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	if err != nil {
		cred = nil
	}
	cc.mu.Lock()
	if len(cc.entries) >= maxCachedCredentials {
		cc.entries = make(map[string]credEntry)
	}
	ttl := cc.ttl
	if cred == nil {
		ttl = min(ttl, unknownKeyTTL)
	}
	cc.entries[key] = credEntry{cred: cred, expires: now.Add(ttl)}
	cc.mu.Unlock()
	return cred, nil
}

func (cc *credCache) lastVersion(key string) (statements.Version, bool) {
	v, ok := cc.versions.Load(key)
	if !ok {
		return "", false
	}
	return v.(statements.Version), true
}

func (cc *credCache) setLastVersion(key string, v statements.Version) {
	if old, ok := cc.versions.Load(key); ok && old.(statements.Version) == v {
		return
	}
	cc.versions.Store(key, v)
}
