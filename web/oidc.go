package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/xapi-lrs/lrs/accounts"
	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// OIDCConfig configures sign-in with an OpenID Connect provider (ID-porten,
// Microsoft Entra ID, Keycloak, any provider with discovery): the
// authorization code flow with PKCE (S256), a state and a nonce.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL; its discovery document is read
	// at the first sign-in (and again after a failure, at most every 30 s).
	Issuer       string
	ClientID     string
	ClientSecret string
	// Scopes asked for; default openid, email, profile.
	Scopes []string
	// Name is the provider's name on the sign-in button; default: the
	// issuer's host.
	Name string
	// Tenant is the tenant whose people sign in with this provider;
	// default: the default tenant.
	Tenant string
	// PersonClaim is the claim of the ID token that names the person;
	// default: email. An email claim with email_verified false is refused.
	PersonClaim string
	// PersonMatch says how its value is matched against the roster:
	// "email" (the default: one of the person's e-mail addresses),
	// "employee-id" (the employee id itself), or "account:HOMEPAGE" (the
	// person's xAPI account identifier {homePage: HOMEPAGE, name: value},
	// as an LMS signing in with the same provider sends). The account
	// named by the value, if there is one in the tenant, gives its grants
	// (a provider's user who is nobody in the roster, an external auditor,
	// signs in so).
	PersonMatch string
	// HTTPClient talks to the provider; nil: a client with a 15 s timeout.
	HTTPClient *http.Client
}

// Person matching modes of OIDCConfig.PersonMatch.
const (
	MatchEmail      = "email"
	MatchEmployeeID = "employee-id"
	MatchAccount    = "account:"
)

// check fills in the defaults and checks the settings.
func (c *OIDCConfig) check(baseURL string) error {
	if c.Scopes == nil {
		c.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	if c.Tenant == "" {
		c.Tenant = auth.DefaultTenant
	}
	if c.PersonClaim == "" {
		c.PersonClaim = "email"
	}
	if c.PersonMatch == "" {
		c.PersonMatch = MatchEmail
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	u, err := url.Parse(c.Issuer)
	switch {
	case err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "":
		return fmt.Errorf("web: the OpenID Connect issuer %q is not an http(s) URL", c.Issuer)
	case c.ClientID == "":
		return errors.New("web: OpenID Connect needs a client id")
	case baseURL == "":
		return errors.New("web: OpenID Connect needs the base URL of the service (--base-url): the redirect URI is made from it")
	case !auth.ValidTenantName(c.Tenant):
		return fmt.Errorf("web: %q is not a tenant name", c.Tenant)
	case c.PersonMatch != MatchEmail && c.PersonMatch != MatchEmployeeID && !strings.HasPrefix(c.PersonMatch, MatchAccount):
		return fmt.Errorf("web: the person match %q is not email, employee-id or account:HOMEPAGE", c.PersonMatch)
	case c.PersonMatch == MatchAccount:
		return errors.New("web: the person match account: needs the LMS's home page, e.g. account:https://lms.example.no")
	}
	if c.Name == "" {
		c.Name = u.Host
	}
	return nil
}

// oidcClient is the relying party: the provider is discovered lazily, so
// that a provider that is down does not keep the service from starting.
type oidcClient struct {
	cfg      OIDCConfig
	redirect string

	mu       sync.Mutex
	provider *oidc.Provider
	failed   time.Time // of the last failed discovery
	lastErr  error
}

func newOIDC(cfg OIDCConfig, baseURL string) (*oidcClient, error) {
	if err := cfg.check(baseURL); err != nil {
		return nil, err
	}
	return &oidcClient{cfg: cfg, redirect: baseURL + "/auth/oidc/callback"}, nil
}

// load returns the OAuth 2 settings and the ID token verifier, discovering
// the provider when needed.
func (o *oidcClient) load(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider == nil {
		if time.Since(o.failed) < 30*time.Second {
			return nil, nil, &errs.Error{Kind: errs.Unavailable, Message: "the OpenID Connect provider could not be reached", Err: o.lastErr}
		}
		p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.cfg.HTTPClient), o.cfg.Issuer)
		if err != nil {
			o.failed, o.lastErr = time.Now(), err
			return nil, nil, &errs.Error{Kind: errs.Unavailable, Message: "the OpenID Connect provider could not be reached", Err: err}
		}
		o.provider = p
	}
	oc := &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: o.provider.Endpoint(),
		RedirectURL: o.redirect, Scopes: o.cfg.Scopes}
	return oc, o.provider.Verifier(&oidc.Config{ClientID: o.cfg.ClientID}), nil
}

// authURL returns the provider's authorization URL for a sign-in.
func (o *oidcClient) authURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	oc, _, err := o.load(ctx)
	if err != nil {
		return "", err
	}
	return oc.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// exchange redeems code with the PKCE verifier, verifies the ID token
// (signature, issuer, audience, expiry, and that it carries nonce) and
// returns the value of the person claim.
func (o *oidcClient) exchange(ctx context.Context, code, verifier, nonce string) (string, error) {
	oc, v, err := o.load(ctx)
	if err != nil {
		return "", err
	}
	if code == "" {
		return "", errs.Invalidf("code", "oidc", "the identity provider sent no code")
	}
	tok, err := oc.Exchange(oidc.ClientContext(ctx, o.cfg.HTTPClient), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return "", errs.E(errs.Forbidden, "the identity provider refused the code: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", errs.E(errs.Forbidden, "the identity provider sent no ID token")
	}
	idt, err := v.Verify(oidc.ClientContext(ctx, o.cfg.HTTPClient), raw)
	if err != nil {
		return "", errs.E(errs.Forbidden, "the ID token does not verify: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return "", errs.E(errs.Forbidden, "the ID token's nonce is not the sign-in's")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return "", errs.E(errs.Forbidden, "the ID token's claims cannot be read: %v", err)
	}
	value, _ := claims[o.cfg.PersonClaim].(string)
	if value == "" {
		return "", errs.E(errs.Forbidden, "the ID token has no %s claim", o.cfg.PersonClaim)
	}
	if o.cfg.PersonClaim == "email" {
		if verified, ok := claims["email_verified"].(bool); ok && !verified {
			return "", errs.E(errs.Forbidden, "the e-mail address is not verified by the identity provider")
		}
	}
	return value, nil
}

// signIn works out who signs in with the claim value: the person of the
// roster it names (see OIDCConfig.PersonMatch), and the account named by
// it. It is an errs.NotFound error when it names neither, an
// errs.Forbidden error when its account is disabled.
func (o *oidcClient) signIn(ctx context.Context, svc *accounts.Service, roster reporting.RosterStore, value string, now time.Time, loc *time.Location) (accounts.SignIn, error) {
	in := accounts.SignIn{Tenant: o.cfg.Tenant, Method: accounts.MethodOIDC, Label: value}
	var err error
	switch m := o.cfg.PersonMatch; {
	case m == MatchEmployeeID:
		var ok bool
		if ok, err = accounts.PersonExists(ctx, roster, in.Tenant, value); ok {
			in.Person = value
		}
	default:
		key := reporting.MatchKey("mbox:mailto:" + value)
		if m != MatchEmail {
			key = reporting.MatchKey(statements.AgentKey(map[string]any{
				"account": map[string]any{"homePage": strings.TrimPrefix(m, MatchAccount), "name": value}}))
		}
		in.Person, err = accounts.FindPerson(ctx, roster, in.Tenant, []string{key}, reporting.DateOf(now, loc))
	}
	if err != nil && !errs.Is(err, errs.NotFound) {
		return in, err
	}
	a, err := svc.Account(ctx, value)
	switch {
	case errs.Is(err, errs.NotFound) || err == nil && a.Tenant != in.Tenant:
	case err != nil:
		return in, err
	case a.Disabled:
		return in, errs.E(errs.Forbidden, "the account %q is disabled", value)
	default:
		in.Account = a.Name
		if a.Person != "" {
			in.Person = a.Person
		}
	}
	if in.Person == "" && in.Account == "" {
		return in, errs.E(errs.NotFound, "nobody in the roster or the accounts is %q", value)
	}
	return in, nil
}
