// Package tokens issues and verifies the bearer tokens of the LRS (JWTs,
// RFC 7519):
//
//   - access tokens the LRS issues itself for a credential, OAuth 2.0 client
//     credentials style (RFC 6749 section 4.4), short-lived, in the JWT
//     profile of RFC 9068, signed with a key of a key set the server manages
//     (a PEM file re-read when it changes, or one ephemeral key);
//   - access tokens of external identity providers (any OpenID Connect
//     provider), verified against the provider's published keys (JWKS),
//     with their claims mapped to a tenant, scopes and a client.
//
// A verified token becomes a Principal: the key, name, tenant and scopes the
// rest of the server checks exactly as it checks a Basic credential.
//
// The rules every token is held to: its issuer must be known; the algorithm
// must be one allowed for that issuer (never "none", and a key is only ever
// used with its own algorithm, so a public key can never act as an HMAC
// secret); its kid must name a known key; the signature must verify; exp
// must be present and in the future, nbf and iat not in the future, and aud
// must name this LRS, each within a small leeway.
//
// The package knows nothing of HTTP serving; package lrs holds the token
// endpoint and the Authorization: Bearer middleware.
package tokens

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
)

// Defaults of Config.
const (
	DefaultTTL            = 15 * time.Minute
	DefaultLeeway         = 30 * time.Second
	DefaultReloadInterval = 10 * time.Second
	DefaultMinRefresh     = 30 * time.Second
	DefaultCacheSize      = 10000
)

// MaxTokenBytes bounds the length of a bearer token, so that a huge header
// costs no decoding.
const MaxTokenBytes = 16 << 10

// tokenType is the "typ" header of the tokens the server issues (RFC 9068):
// a token of this issuer without it is not an access token.
const tokenType = "at+jwt"

// Config holds the settings of a Service.
type Config struct {
	// Issuer is the "iss" of the tokens the server issues, e.g. its public
	// URL. Required. Replicas behind one address must share it (and the
	// key file).
	Issuer string
	// Audience is the "aud" of the tokens the server issues. Default: Issuer.
	Audience string
	// TTL is the lifetime of an issued token. Default: DefaultTTL.
	TTL time.Duration

	// KeyFile is a file of PEM blocks, oldest first: PKCS #8 "PRIVATE KEY"
	// (Ed25519 or ECDSA P-256), SEC 1 "EC PRIVATE KEY" (P-256) or "HMAC KEY"
	// (at least 32 random bytes). The last key signs; every key verifies
	// until it is removed from the file. The file is re-read when it
	// changes, at most every ReloadInterval. Empty: one ephemeral key of
	// Algorithm, made at start, so tokens do not survive a restart and are
	// not accepted by other replicas.
	KeyFile        string
	ReloadInterval time.Duration // default DefaultReloadInterval
	// Algorithm is the algorithm of the ephemeral key: AlgEdDSA (default),
	// AlgES256 or AlgHS256.
	Algorithm string

	// External lists the identity providers whose tokens are accepted.
	External []ExternalIssuer
	// MinRefresh is the shortest time between two fetches of a provider's
	// keys (when tokens name unknown kids). Default: DefaultMinRefresh.
	MinRefresh time.Duration
	// HTTPClient fetches the providers' keys. Default: http.DefaultClient
	// (each fetch has its own timeout).
	HTTPClient *http.Client

	// Leeway is the clock skew allowed when checking exp, nbf and iat.
	// Default: DefaultLeeway.
	Leeway time.Duration
	// CacheSize bounds the cache of verified tokens, which spares the
	// signature check when a token is used again. Default: DefaultCacheSize;
	// negative: no cache.
	CacheSize int

	Logger *slog.Logger     // nil: slog.Default()
	Now    func() time.Time // the clock (for tests); nil: time.Now
}

// Service issues and verifies tokens. It is safe for concurrent use.
type Service struct {
	cfg      Config
	keys     *keySource
	internal *jwt.Parser
	external map[string]*remoteIssuer // by issuer
	cache    *tokenCache
}

// Principal is who a verified token speaks for.
type Principal struct {
	// Key identifies the client. Tokens of this server: the credential's
	// key. External tokens: KeyPrefix + "/" + the client claim.
	Key    string
	Name   string // a label of the client, possibly empty
	Tenant string
	Scopes []string
	// Internal is true for tokens this server issued: Key names a
	// credential, whose revocation the caller must check.
	Internal bool
	Issuer   string
	Expires  time.Time
}

// Credential returns the principal as the credential the rest of the server
// works with. It has no secret.
func (p *Principal) Credential() *auth.Credential {
	return &auth.Credential{Key: p.Key, Name: p.Name, Tenant: p.Tenant, Scopes: slices.Clone(p.Scopes)}
}

// New returns a Service for cfg: it loads the key file (or makes an
// ephemeral key) and checks the external issuers.
func New(cfg Config) (*Service, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("tokens: an issuer is required")
	}
	if cfg.Audience == "" {
		cfg.Audience = cfg.Issuer
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.ReloadInterval <= 0 {
		cfg.ReloadInterval = DefaultReloadInterval
	}
	if cfg.MinRefresh <= 0 {
		cfg.MinRefresh = DefaultMinRefresh
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{cfg: cfg, cache: newTokenCache(cfg.CacheSize), external: make(map[string]*remoteIssuer)}
	var err error
	s.keys, err = newKeySource(cfg.KeyFile, cfg.Algorithm, cfg.ReloadInterval, cfg.Logger, s.cache.clear, cfg.Now())
	if err != nil {
		return nil, err
	}
	common := []jwt.ParserOption{jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway), jwt.WithTimeFunc(cfg.Now)}
	s.internal = jwt.NewParser(slices.Concat(common, []jwt.ParserOption{jwt.WithValidMethods(internalAlgs),
		jwt.WithIssuer(cfg.Issuer), jwt.WithAudience(cfg.Audience), jwt.WithNotBeforeRequired()})...)

	prefixes := map[string]string{}
	for _, x := range cfg.External {
		if err := x.check(); err != nil {
			return nil, fmt.Errorf("tokens: issuer %q: %w", x.Issuer, err)
		}
		if x.Issuer == cfg.Issuer {
			return nil, fmt.Errorf("tokens: external issuer %q is the server's own issuer", x.Issuer)
		}
		if s.external[x.Issuer] != nil {
			return nil, fmt.Errorf("tokens: issuer %q is listed twice", x.Issuer)
		}
		if other, ok := prefixes[x.KeyPrefix]; ok {
			return nil, fmt.Errorf("tokens: issuers %q and %q share the key_prefix %q; give them distinct ones", other, x.Issuer, x.KeyPrefix)
		}
		prefixes[x.KeyPrefix] = x.Issuer
		s.external[x.Issuer] = &remoteIssuer{
			cfg: x,
			parser: jwt.NewParser(slices.Concat(common, []jwt.ParserOption{jwt.WithValidMethods(x.Algorithms),
				jwt.WithIssuer(x.Issuer), jwt.WithAudience(x.Audience...)})...),
			client:     cfg.HTTPClient,
			log:        cfg.Logger,
			minRefresh: cfg.MinRefresh,
			onChange:   s.cache.clear,
		}
	}
	return s, nil
}

// Issuer returns the "iss" of the tokens the server issues.
func (s *Service) Issuer() string { return s.cfg.Issuer }

// TTL returns the lifetime of the tokens the server issues.
func (s *Service) TTL() time.Duration { return s.cfg.TTL }

// Ephemeral reports whether the server signs with a key made at start
// rather than keys from a file.
func (s *Service) Ephemeral() bool { return s.cfg.KeyFile == "" }

// JWKS returns the public keys of the server's key set as a JWK Set
// (RFC 7517), for anyone who wants to verify its tokens. HMAC keys are
// secret and not in it.
func (s *Service) JWKS() []byte { return s.keys.get(s.cfg.Now()).jwks }

// Token is an access token the server issued.
type Token struct {
	AccessToken string
	Expires     time.Time
	Scopes      []string
}

// accessClaims are the claims of the tokens the server issues (RFC 9068
// plus the tenant).
type accessClaims struct {
	jwt.RegisteredClaims
	ClientID string `json:"client_id"`
	Tenant   string `json:"tenant"`
	Scope    string `json:"scope"`
}

// Issue signs a token for cred granting scopes, which the caller has
// checked (see NarrowScopes), with the newest key.
func (s *Service) Issue(cred *auth.Credential, scopes []string) (*Token, error) {
	now := s.cfg.Now().Truncate(time.Second)
	k := s.keys.get(now).signer
	exp := now.Add(s.cfg.TTL)
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.cfg.Issuer,
			Subject:   cred.Key,
			Audience:  jwt.ClaimStrings{s.cfg.Audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        uuid.NewString(),
		},
		ClientID: cred.Key,
		Tenant:   tenantOf(cred),
		Scope:    strings.Join(scopes, " "),
	}
	t := jwt.NewWithClaims(k.method, claims)
	t.Header["kid"] = k.kid
	t.Header["typ"] = tokenType
	signed, err := t.SignedString(k.sign)
	if err != nil {
		return nil, errs.Wrap(err, "signing a token")
	}
	return &Token{AccessToken: signed, Expires: exp, Scopes: scopes}, nil
}

func tenantOf(c *auth.Credential) string {
	if c.Tenant == "" {
		return auth.DefaultTenant
	}
	return c.Tenant
}

// Verify checks a bearer token and returns whom it speaks for. The
// principal is shared (from the cache of verified tokens): do not change
// it. Errors are *errs.Error: Unauthorized for a token that is not valid,
// Forbidden for a valid external token that grants nothing here,
// Unavailable when an identity provider's keys cannot be fetched.
//
// For tokens of this server, the caller must still check that the
// credential named by Key exists and is not revoked.
func (s *Service) Verify(ctx context.Context, raw string) (*Principal, error) {
	if len(raw) > MaxTokenBytes {
		return nil, unauthorized("the bearer token is longer than %d bytes", MaxTokenBytes)
	}
	now := s.cfg.Now()
	s.keys.get(now) // a changed key file empties the cache
	sum := sha256.Sum256([]byte(raw))
	if p := s.cache.get(sum, now); p != nil {
		return p, nil
	}
	iss, err := peekIssuer(raw)
	if err != nil {
		return nil, err
	}
	var p *Principal
	var x *remoteIssuer
	if iss == s.cfg.Issuer {
		p, err = s.verifyInternal(raw, now)
	} else if x = s.external[iss]; x != nil {
		p, err = x.verify(ctx, raw, now)
	} else {
		return nil, unauthorized("the token's issuer %q is not trusted here", clip(iss))
	}
	if err != nil {
		return nil, err
	}
	s.cache.put(sum, p, x)
	return p, nil
}

// verifyInternal checks a token that claims to be the server's own.
func (s *Service) verifyInternal(raw string, now time.Time) (*Principal, error) {
	var c accessClaims
	tok, err := s.internal.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); !strings.EqualFold(typ, tokenType) {
			return nil, unauthorized("the token is not an access token of this server (typ %q, want %q)", clip(typ), tokenType)
		}
		kid, _ := t.Header["kid"].(string)
		k := s.keys.get(now).byKid[kid]
		if k == nil {
			k = s.keys.forceReload(now).byKid[kid]
		}
		if k == nil {
			return nil, unauthorized("the token's kid %q names no key of this server (it may have been retired)", clip(kid))
		}
		// The key decides the algorithm, never the token: a token cannot
		// make an Ed25519 or P-256 public key act as an HMAC secret.
		if alg := t.Method.Alg(); alg != k.method.Alg() || !keyFitsAlg(k.verify, alg) {
			return nil, unauthorized("the token's algorithm %s is not that of its key (%s)", alg, k.method.Alg())
		}
		return k.verify, nil
	})
	if err != nil {
		return nil, tokenError(tok, internalAlgs, err)
	}
	if c.Subject == "" {
		return nil, unauthorized("the token has no sub claim")
	}
	p := &Principal{Key: c.Subject, Tenant: c.Tenant, Scopes: strings.Fields(c.Scope), Internal: true, Issuer: s.cfg.Issuer}
	if c.ExpiresAt != nil {
		p.Expires = c.ExpiresAt.Time
	}
	return p, nil
}

// peekIssuer reads the iss claim of a token before it is verified, to pick
// the keys and rules to verify it with. It also refuses a token whose exp,
// nbf or iat is not a NumericDate: RFC 7519 makes them JSON numbers, and
// the JWT library would take a string of digits for one.
func peekIssuer(raw string) (string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", errMalformed
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", errMalformed
	}
	var c struct {
		Iss any             `json:"iss"`
		Exp json.RawMessage `json:"exp"`
		Nbf json.RawMessage `json:"nbf"`
		Iat json.RawMessage `json:"iat"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", errMalformed
	}
	for _, d := range []struct {
		name  string
		value json.RawMessage
	}{{"exp", c.Exp}, {"nbf", c.Nbf}, {"iat", c.Iat}} {
		if d.value != nil && !isJSONNumber(d.value) {
			return "", unauthorized("the bearer token is not a well-formed JWT: its %s claim is %s, not a NumericDate "+
				"(a JSON number of seconds since 1970-01-01T00:00:00Z, RFC 7519)", d.name, clip(string(d.value)))
		}
	}
	iss, ok := c.Iss.(string)
	if !ok || iss == "" {
		return "", unauthorized("the token has no iss claim")
	}
	return iss, nil
}

// isJSONNumber reports whether v, a valid JSON value, is a number.
func isJSONNumber(v json.RawMessage) bool {
	var n any
	if json.Unmarshal(v, &n) != nil {
		return false
	}
	_, ok := n.(float64)
	return ok
}

var errMalformed = unauthorized("the bearer token is not a well-formed JWT (three base64url parts, header.payload.signature)")

// internalAlgs are the algorithms of the server's own tokens.
var internalAlgs = []string{AlgEdDSA, AlgES256, AlgHS256}

// tokenError turns an error of the JWT parser about tok into an *errs.Error
// with a message a client developer can act on; algs are the algorithms its
// issuer is allowed.
func tokenError(tok *jwt.Token, algs []string, err error) error {
	var e *errs.Error
	switch {
	case errors.As(err, &e): // from a key function
		return e
	case tok != nil && tok.Method != nil && !slices.Contains(algs, tok.Method.Alg()):
		return unauthorized("the token's algorithm %q is not accepted from its issuer (accepted: %s)",
			clip(tok.Method.Alg()), strings.Join(algs, ", "))
	case errors.Is(err, jwt.ErrTokenMalformed):
		return errMalformed
	case errors.Is(err, jwt.ErrTokenUnverifiable): // what the key function did not cause
		return unauthorized("the token's alg header is missing or names no known algorithm")
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauthorized("the token has expired; request a new one")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return unauthorized("the token is not valid yet (nbf is in the future)")
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return unauthorized("the token was issued in the future (iat); check the issuer's clock")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return unauthorized("the token's audience (aud) does not name this LRS")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return unauthorized("the token's issuer (iss) is wrong")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return &errs.Error{Kind: errs.Unauthorized, Err: err, Message: "the token's signature does not verify"}
	}
	return &errs.Error{Kind: errs.Unauthorized, Message: "the token is not valid: " + err.Error(), Err: err}
}

func unauthorized(format string, args ...any) *errs.Error {
	return errs.E(errs.Unauthorized, format, args...)
}

// clip shortens a value taken from a token for an error message.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

// NarrowScopes returns the scopes a token for a credential holding held
// may carry when requested is asked for (space-separated, as the OAuth 2.0
// scope parameter): every requested scope must be held, or implied by a
// held one. An empty request gets all the held scopes.
func NarrowScopes(held []string, requested string) ([]string, error) {
	want := strings.Fields(requested)
	if len(want) == 0 {
		return slices.Clone(held), nil
	}
	var out []string
	for _, sc := range want {
		if !slices.Contains(auth.KnownScopes, sc) {
			return nil, errs.E(errs.Invalid, "unknown scope %q (known: %s)", clip(sc), strings.Join(auth.KnownScopes, " "))
		}
		if !auth.Implies(held, sc) {
			return nil, errs.E(errs.Forbidden, "the credential does not hold the scope %q", sc)
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// tokenCache remembers verified tokens by the SHA-256 of their text until
// they expire, so that a token used for many requests has its signature
// checked once. It is emptied whenever a key set changes, so that a retired
// key's tokens are refused at once; and a token of an identity provider
// whose keys are due for a refresh is verified afresh, which fetches them.
type tokenCache struct {
	max     int
	mu      sync.RWMutex
	entries map[[32]byte]cached
}

type cached struct {
	p   *Principal
	ext *remoteIssuer // the token's identity provider; nil for the server's own tokens
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, entries: make(map[[32]byte]cached)}
}

func (tc *tokenCache) get(sum [32]byte, now time.Time) *Principal {
	if tc.max < 0 {
		return nil
	}
	tc.mu.RLock()
	e, ok := tc.entries[sum]
	tc.mu.RUnlock()
	if !ok || !now.Before(e.p.Expires) || e.ext != nil && e.ext.stale(now) {
		return nil
	}
	return e.p
}

func (tc *tokenCache) put(sum [32]byte, p *Principal, ext *remoteIssuer) {
	if tc.max < 0 || p.Expires.IsZero() {
		return
	}
	tc.mu.Lock()
	if len(tc.entries) >= tc.max {
		tc.entries = make(map[[32]byte]cached) // start afresh rather than track ages
	}
	tc.entries[sum] = cached{p: p, ext: ext}
	tc.mu.Unlock()
}

func (tc *tokenCache) clear() {
	tc.mu.Lock()
	tc.entries = make(map[[32]byte]cached)
	tc.mu.Unlock()
}

// CommonScopes returns what both scope lists grant: each scope of one that
// the other holds or implies. A token's scopes meet its credential's current
// scopes this way, so that narrowing a credential narrows its live tokens.
func CommonScopes(a, b []string) []string {
	var out []string
	for _, list := range [2][2][]string{{a, b}, {b, a}} {
		for _, sc := range list[0] {
			if auth.Implies(list[1], sc) && !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	return out
}
