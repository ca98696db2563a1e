package tokens

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
)

// ExternalIssuer is an identity provider (any OpenID Connect provider, e.g.
// Microsoft Entra ID or Maskinporten) whose access tokens the LRS accepts,
// and how their claims map to a tenant, scopes and a client.
type ExternalIssuer struct {
	// Issuer is the exact "iss" of its tokens, e.g.
	// "https://login.microsoftonline.com/<tenant-id>/v2.0".
	Issuer string `json:"issuer"`
	// JWKSURI is where its public keys are published (the jwks_uri of its
	// OpenID configuration). https, or http on a loopback address only.
	JWKSURI string `json:"jwks_uri"`
	// Audience lists the "aud" values that name this LRS; a token must carry
	// one of them.
	Audience []string `json:"audience"`
	// Algorithms lists the signature algorithms accepted from this issuer:
	// RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA.
	Algorithms []string `json:"algorithms"`

	// Tenant is the tenant of every token of this issuer; or else
	// TenantClaim names the claim holding the tenant, and Tenants, when
	// given, maps that claim's values to tenants (other values are refused).
	Tenant      string            `json:"tenant,omitempty"`
	TenantClaim string            `json:"tenant_claim,omitempty"`
	Tenants     map[string]string `json:"tenants,omitempty"`

	// ScopeClaims names the claims holding the granted scopes or roles,
	// each a space-separated string or an array of strings. Default:
	// "scope" and "scp".
	ScopeClaims []string `json:"scope_claims,omitempty"`
	// Scopes maps a value of those claims to LRS scopes; values not in it
	// grant nothing. Without it, values that are LRS scope names are taken
	// as they are.
	Scopes map[string][]string `json:"scopes,omitempty"`

	// ClientClaim names the claim identifying the calling client, which
	// becomes the statements' authority. Default: "sub".
	ClientClaim string `json:"client_claim,omitempty"`
	// NameClaim optionally names a claim with a human label of the client.
	NameClaim string `json:"name_claim,omitempty"`
	// KeyPrefix namespaces the client: its key is KeyPrefix + "/" + client,
	// so it cannot be mistaken for a credential key or a client of another
	// issuer. Default: the host of Issuer.
	KeyPrefix string `json:"key_prefix,omitempty"`
	// RefreshInterval is how often the keys are fetched again even when no
	// token names an unknown key. Default: one hour.
	RefreshInterval Duration `json:"refresh_interval,omitempty"`
}

// Claim names may be dotted paths into nested objects, e.g. "consumer.ID"
// for the organisation number of a Maskinporten token; a claim whose own
// name contains the dots is found first.

// Duration is a time.Duration written in JSON as a string like "1h".
type Duration time.Duration

// UnmarshalJSON reads a duration string such as "90s" or "1h".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`a duration is a string such as "1h" or "90s"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Defaults of ExternalIssuer.
const (
	DefaultRefreshInterval = time.Hour
	minRefreshInterval     = time.Minute
)

// externalAlgs are the algorithms an external issuer may be configured with:
// public-key signatures only. HMAC would need a shared secret, and "none"
// is no signature at all.
var externalAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// LoadIssuers reads a file of trusted identity providers:
//
//	{"issuers": [{"issuer": "...", "jwks_uri": "...", "audience": ["..."], ...}]}
//
// Unknown fields are errors, so that a misspelt setting is noticed.
func LoadIssuers(path string) ([]ExternalIssuer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f struct {
		Issuers []ExternalIssuer `json:"issuers"`
	}
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range f.Issuers {
		if err := f.Issuers[i].check(); err != nil {
			return nil, fmt.Errorf("%s: issuer %d: %w", path, i+1, err)
		}
	}
	return f.Issuers, nil
}

// check validates the settings and fills in the defaults.
func (x *ExternalIssuer) check() error {
	if x.Issuer == "" {
		return errors.New("issuer is required")
	}
	u, err := url.Parse(x.JWKSURI)
	if err != nil || u.Host == "" {
		return fmt.Errorf("jwks_uri %q is not an absolute URL", x.JWKSURI)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return fmt.Errorf("jwks_uri %q must use https (http only on a loopback address)", x.JWKSURI)
	}
	if len(x.Audience) == 0 || slices.Contains(x.Audience, "") {
		return errors.New("audience must list the aud values that name this LRS")
	}
	if len(x.Algorithms) == 0 {
		return fmt.Errorf("algorithms is required (some of %s)", strings.Join(externalAlgs, ", "))
	}
	for _, a := range x.Algorithms {
		if !slices.Contains(externalAlgs, a) {
			return fmt.Errorf("algorithm %q is not accepted from an identity provider (want some of %s)",
				a, strings.Join(externalAlgs, ", "))
		}
	}
	switch {
	case (x.Tenant == "") == (x.TenantClaim == ""):
		return errors.New("give exactly one of tenant and tenant_claim")
	case len(x.Tenants) > 0 && x.TenantClaim == "":
		return errors.New("tenants maps values of tenant_claim; it needs tenant_claim")
	}
	if len(x.ScopeClaims) == 0 {
		x.ScopeClaims = []string{"scope", "scp"}
	}
	for value, scopes := range x.Scopes {
		for _, sc := range scopes {
			if !slices.Contains(auth.KnownScopes, sc) {
				return fmt.Errorf("scopes[%q]: unknown LRS scope %q (known: %s)", value, sc, strings.Join(auth.KnownScopes, ", "))
			}
		}
	}
	if x.ClientClaim == "" {
		x.ClientClaim = "sub"
	}
	if x.KeyPrefix == "" {
		x.KeyPrefix = x.Issuer
		if iu, err := url.Parse(x.Issuer); err == nil && iu.Host != "" {
			x.KeyPrefix = iu.Host
		}
	}
	if x.RefreshInterval == 0 {
		x.RefreshInterval = Duration(DefaultRefreshInterval)
	}
	if time.Duration(x.RefreshInterval) < minRefreshInterval {
		return fmt.Errorf("refresh_interval must be at least %s", minRefreshInterval)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Limits of fetching a JWKS.
const (
	fetchTimeout  = 10 * time.Second
	maxJWKSBytes  = 1 << 20
	jwksUserAgent = "lrs-jwks-fetcher"
)

// remoteKey is a verification key of an identity provider.
type remoteKey struct {
	key any    // ed25519.PublicKey, *ecdsa.PublicKey or *rsa.PublicKey
	alg string // the JWK's "alg"; "" when it names none
}

// remoteIssuer verifies the tokens of one identity provider, with its keys
// fetched from its JWKS URI and cached: fetched again every
// RefreshInterval, and when a token names an unknown kid (the provider may
// have rotated), at most once per minRefresh.
type remoteIssuer struct {
	cfg        ExternalIssuer
	parser     *jwt.Parser
	client     *http.Client
	log        *slog.Logger
	minRefresh time.Duration
	onChange   func() // called when a fetch brought different keys

	keys      atomic.Pointer[map[string]remoteKey] // nil until the first fetch succeeds
	fetchedAt atomic.Int64                         // unix nanoseconds of the last successful fetch

	mu        sync.Mutex // one fetch at a time; guards the fields below
	attempted time.Time  // the last fetch, successful or not
	raw       []byte     // the body the current keys came from
	lastErr   error      // why the last fetch failed
}

// verify checks raw, a token whose iss names this issuer, and maps its
// claims to a principal.
func (r *remoteIssuer) verify(ctx context.Context, raw string, now time.Time) (*Principal, error) {
	claims := jwt.MapClaims{}
	tok, err := r.parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, unauthorized("the token has no kid header naming its signing key")
		}
		k, err := r.keyFor(ctx, kid, now)
		if err != nil {
			return nil, err
		}
		alg := t.Method.Alg()
		if !keyFitsAlg(k.key, alg) || k.alg != "" && k.alg != alg {
			return nil, unauthorized("the token's algorithm %s does not fit its key %q", alg, kid)
		}
		return k.key, nil
	})
	if err != nil {
		return nil, tokenError(tok, r.cfg.Algorithms, err)
	}
	return r.principal(claims)
}

// principal maps the claims of a verified token to a principal.
func (r *remoteIssuer) principal(claims jwt.MapClaims) (*Principal, error) {
	client := claimString(claims, r.cfg.ClientClaim)
	if client == "" {
		return nil, unauthorized("the token has no %q claim naming the client", r.cfg.ClientClaim)
	}
	p := &Principal{Key: r.cfg.KeyPrefix + "/" + client, Tenant: r.cfg.Tenant, Issuer: r.cfg.Issuer}
	if r.cfg.NameClaim != "" {
		p.Name = claimString(claims, r.cfg.NameClaim)
	}
	if r.cfg.TenantClaim != "" {
		v := claimString(claims, r.cfg.TenantClaim)
		p.Tenant = v
		if len(r.cfg.Tenants) > 0 {
			p.Tenant = r.cfg.Tenants[v]
		}
		if p.Tenant == "" {
			return nil, errs.E(errs.Forbidden, "the token's %q claim (%q) names no tenant of this LRS", r.cfg.TenantClaim, clip(v))
		}
	}
	for _, name := range r.cfg.ScopeClaims {
		for _, v := range claimStrings(claims, name) {
			granted := r.cfg.Scopes[v]
			if r.cfg.Scopes == nil && slices.Contains(auth.KnownScopes, v) {
				granted = []string{v}
			}
			for _, sc := range granted {
				if !slices.Contains(p.Scopes, sc) {
					p.Scopes = append(p.Scopes, sc)
				}
			}
		}
	}
	if len(p.Scopes) == 0 {
		return nil, errs.E(errs.Forbidden, "the token's %s claims grant no scope of this LRS", strings.Join(r.cfg.ScopeClaims, "/"))
	}
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		p.Expires = exp.Time
	}
	return p, nil
}

// keyFor returns the issuer's key with kid, fetching the key set first when
// there is none yet, when it is older than the refresh interval, or when it
// lacks kid.
func (r *remoteIssuer) keyFor(ctx context.Context, kid string, now time.Time) (remoteKey, error) {
	keys := r.keys.Load()
	switch {
	case keys == nil:
		r.mu.Lock()
		r.refresh(ctx, now, "")
		r.mu.Unlock()
	case r.stale(now) && r.mu.TryLock(): // the others go on with the keys they have
		r.refresh(ctx, now, "")
		r.mu.Unlock()
	}
	if keys = r.keys.Load(); keys != nil {
		if k, ok := (*keys)[kid]; ok {
			return k, nil
		}
	}
	r.mu.Lock()
	r.refresh(ctx, now, kid)
	lastErr := r.lastErr
	r.mu.Unlock()
	keys = r.keys.Load()
	if keys == nil {
		return remoteKey{}, &errs.Error{Kind: errs.Unavailable, Err: lastErr,
			Message: "the signing keys of the token's issuer could not be fetched; try again later"}
	}
	if k, ok := (*keys)[kid]; ok {
		return k, nil
	}
	return remoteKey{}, unauthorized("the token's kid %q is not among the signing keys of its issuer", clip(kid))
}

// stale reports whether the keys are due to be fetched again.
func (r *remoteIssuer) stale(now time.Time) bool {
	return now.Sub(time.Unix(0, r.fetchedAt.Load())) >= time.Duration(r.cfg.RefreshInterval)
}

// refresh fetches the key set, unless a fetch was attempted less than
// minRefresh ago, or, when kid is given, the current keys already hold kid
// (a concurrent caller fetched them). r.mu is held.
func (r *remoteIssuer) refresh(ctx context.Context, now time.Time, kid string) {
	if keys := r.keys.Load(); kid != "" && keys != nil {
		if _, ok := (*keys)[kid]; ok {
			return
		}
	}
	if !r.attempted.IsZero() && now.Sub(r.attempted) < r.minRefresh {
		return
	}
	r.attempted = now
	keys, raw, err := r.fetch(ctx)
	if err != nil {
		r.lastErr = err
		r.log.Warn("fetching the keys of an identity provider failed", "issuer", r.cfg.Issuer, "jwks_uri", r.cfg.JWKSURI, "err", err)
		return
	}
	r.lastErr = nil
	r.fetchedAt.Store(now.UnixNano())
	if bytes.Equal(raw, r.raw) {
		return
	}
	first := r.raw == nil
	r.raw = raw
	r.keys.Store(&keys)
	r.log.Info("identity provider keys fetched", "issuer", r.cfg.Issuer, "keys", len(keys))
	if !first {
		r.onChange()
	}
}

// fetch gets and parses the JWK Set. Keys that are not public signature
// keys of a supported type, or have no kid, are skipped.
func (r *remoteIssuer) fetch(ctx context.Context) (map[string]remoteKey, []byte, error) {
	// A client that hangs up must not spoil the fetch for the others.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.JWKSURI, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", jwksUserAgent)
	res, err := r.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s: status %d", r.cfg.JWKSURI, res.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, nil, err
	}
	if len(raw) > maxJWKSBytes {
		return nil, nil, fmt.Errorf("GET %s: the JWK Set is larger than %d bytes", r.cfg.JWKSURI, maxJWKSBytes)
	}
	var set jwkSet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, nil, fmt.Errorf("GET %s: not a JWK Set: %w", r.cfg.JWKSURI, err)
	}
	keys := make(map[string]remoteKey)
	for i, rk := range set.Keys {
		j, err := parseRemoteJWK(rk)
		if err != nil {
			r.log.Debug("skipping a key of an identity provider", "issuer", r.cfg.Issuer, "index", i, "kid", j.KeyID, "err", err)
			continue
		}
		if j.KeyID == "" || j.Use != "" && j.Use != "sig" {
			continue
		}
		if _, dup := keys[j.KeyID]; dup {
			r.log.Warn("identity provider publishes two keys with one kid; keeping the first", "issuer", r.cfg.Issuer, "kid", j.KeyID)
			continue
		}
		keys[j.KeyID] = remoteKey{key: j.Key, alg: j.Algorithm}
	}
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("GET %s: the JWK Set holds no usable signature key", r.cfg.JWKSURI)
	}
	return keys, raw, nil
}

// claimValue returns the claim with name, or, when there is none, the value
// at name read as a dotted path into nested objects.
func claimValue(claims map[string]any, name string) any {
	if v, ok := claims[name]; ok {
		return v
	}
	var cur any = claims
	for part := range strings.SplitSeq(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// claimString returns a string claim, or "" when it is absent or not a
// string.
func claimString(claims map[string]any, name string) string {
	s, _ := claimValue(claims, name).(string)
	return s
}

// claimStrings returns a claim holding a space-separated string or an
// array of strings, as a list.
func claimStrings(claims map[string]any, name string) []string {
	switch v := claimValue(claims, name).(type) {
	case string:
		return strings.Fields(v)
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
