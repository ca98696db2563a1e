package lrs

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/tokens"
)

// Bearer tokens (package tokens does the JWT work):
//
//	POST /api/v1/token      OAuth 2.0 client credentials grant (RFC 6749
//	                        section 4.4): a credential's key and secret buy a
//	                        short-lived access token, optionally for fewer scopes
//	GET  /api/v1/jwks.json  the public keys that verify the server's tokens
//
// and "Authorization: Bearer <token>" on every resource that takes Basic
// credentials, with a token of this server or of a trusted identity
// provider.

// maxTokenRequestBytes bounds the form body of a token request.
const maxTokenRequestBytes = 16 << 10

// tokenRoutes registers the token endpoint and the key set; only when
// Config.Tokens is set.
func (s *Server) tokenRoutes(e *echo.Echo) {
	e.POST("/api/v1/token", s.postToken)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/api/v1/jwks.json", s.getJWKS)
}

// bearerToken returns the token of an "Authorization: Bearer" header; ok is
// false when the request does not use that scheme.
func bearerToken(r *http.Request) (token string, ok bool) {
	h := r.Header.Get("Authorization")
	if len(h) < len("Bearer") || !strings.EqualFold(h[:len("Bearer")], "Bearer") ||
		len(h) > len("Bearer") && h[len("Bearer")] != ' ' {
		return "", false
	}
	return strings.TrimSpace(h[len("Bearer"):]), true
}

// bearerCredential returns the credential a bearer token speaks for.
//
// A token of this server names its credential, which must still exist, not
// be revoked and belong to the same tenant; it grants what both the token
// and the credential's current scopes grant. The credential is read through
// the credential cache, so a revocation made on another replica or directly
// in the store takes effect within Config.CredentialTTL, and one made
// through this server's admin API at once. A token of an identity provider
// is trusted as it is until it expires.
func (s *Server) bearerCredential(c *echo.Context, raw string) (*auth.Credential, error) {
	if s.cfg.Tokens == nil {
		return nil, errs.E(errs.Unauthorized, "bearer tokens are not enabled on this server; use HTTP Basic authentication")
	}
	ctx := c.Request().Context()
	p, err := s.cfg.Tokens.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	if !p.Internal {
		return p.Credential(), nil
	}
	cred, err := s.creds.lookup(ctx, p.Key)
	switch {
	case err != nil:
		return nil, err
	case cred == nil:
		return nil, errs.E(errs.Unauthorized, "the token's credential no longer exists")
	case cred.Revoked:
		return nil, errs.E(errs.Unauthorized, "the token's credential has been revoked")
	case tenantOf(cred) != p.Tenant:
		return nil, errs.E(errs.Unauthorized, "the token's credential has moved to another tenant; request a new token")
	}
	return &auth.Credential{Key: cred.Key, Name: cred.Name, Tenant: p.Tenant, Created: cred.Created,
		Scopes: tokens.CommonScopes(p.Scopes, cred.Scopes)}, nil
}

// tokenResponse is the successful answer of the token endpoint (RFC 6749
// section 5.1).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// oauthError is an error answer of the token endpoint (RFC 6749 section
// 5.2), whose body has the form OAuth 2.0 clients expect rather than the
// server's usual error body.
type oauthError struct {
	status int
	Code   string `json:"error"`
	Desc   string `json:"error_description"`
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Desc }

func invalidRequest(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, Code: "invalid_request", Desc: desc}
}

// postToken serves POST /api/v1/token: the client credentials grant. The
// client authenticates with HTTP Basic (its key and secret) or with the form
// fields client_id and client_secret; grant_type must be
// client_credentials; scope, optional, lists (space-separated) the scopes
// wanted, each held by the credential or implied by one it holds.
func (s *Server) postToken(c *echo.Context) error {
	tok, err := s.issueToken(c)
	if oe, ok := err.(*oauthError); ok {
		h := c.Response().Header()
		if oe.status == http.StatusUnauthorized {
			h.Set("WWW-Authenticate", `Basic realm="LRS"`)
		}
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		body, _ := json.Marshal(oe)
		writeBody(c, oe.status, "application/json", body)
		return nil
	}
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	body, _ := json.Marshal(tok)
	writeBody(c, http.StatusOK, "application/json", body)
	return nil
}

// issueToken checks a token request and issues the token. Errors that the
// client must act on are *oauthError; others (a failing store, a rate limit)
// go to the server's error handler.
func (s *Server) issueToken(c *echo.Context) (*tokenResponse, error) {
	r := c.Request()
	if r.URL.RawQuery != "" {
		return nil, invalidRequest("the token endpoint takes its parameters in the form body, not in the URL")
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ct); mt != "application/x-www-form-urlencoded" {
		return nil, invalidRequest("the body must be a form (Content-Type application/x-www-form-urlencoded), got " + quote(ct))
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, maxTokenRequestBytes))
	if err != nil {
		return nil, invalidRequest("the form body could not be read (at most 16 KiB): " + err.Error())
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, invalidRequest("the form body is not valid URL encoding: " + err.Error())
	}
	for name, vals := range form {
		if len(vals) > 1 {
			return nil, invalidRequest("the parameter " + quote(name) + " is given more than once")
		}
	}

	// Client authentication: HTTP Basic, or client_id and client_secret.
	key, secret, basic := r.BasicAuth()
	switch {
	case basic && form.Has("client_secret"):
		return nil, invalidRequest("authenticate with HTTP Basic or with client_id and client_secret, not both")
	case basic && form.Has("client_id") && form.Get("client_id") != key:
		return nil, invalidRequest("client_id differs from the key of the HTTP Basic credentials")
	case !basic && r.Header.Get("Authorization") != "":
		return nil, &oauthError{status: http.StatusUnauthorized, Code: "invalid_client",
			Desc: "the token endpoint takes HTTP Basic credentials (key and secret) or client_id and client_secret"}
	case !basic:
		key, secret = form.Get("client_id"), form.Get("client_secret")
		if key == "" || secret == "" {
			return nil, &oauthError{status: http.StatusUnauthorized, Code: "invalid_client",
				Desc: "client authentication is required: HTTP Basic with a credential's key and secret, or client_id and client_secret"}
		}
	}
	cred, err := s.login(c, key, func() (*auth.Credential, error) { return s.creds.check(r.Context(), key, secret) })
	if err != nil {
		if errs.Is(err, errs.Unauthorized) {
			return nil, &oauthError{status: http.StatusUnauthorized, Code: "invalid_client", Desc: message(err)}
		}
		return nil, err
	}

	switch gt := form.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		return nil, invalidRequest("grant_type is required; this endpoint serves grant_type=client_credentials")
	default:
		return nil, &oauthError{status: http.StatusBadRequest, Code: "unsupported_grant_type",
			Desc: "grant_type " + quote(gt) + " is not supported; this endpoint serves client_credentials"}
	}
	scopes, err := tokens.NarrowScopes(cred.Scopes, form.Get("scope"))
	if err != nil {
		return nil, &oauthError{status: http.StatusBadRequest, Code: "invalid_scope", Desc: message(err)}
	}
	t, err := s.cfg.Tokens.Issue(cred, scopes)
	if err != nil {
		return nil, err
	}
	return &tokenResponse{AccessToken: t.AccessToken, TokenType: "Bearer",
		ExpiresIn: int64(s.cfg.Tokens.TTL().Seconds()), Scope: strings.Join(t.Scopes, " ")}, nil
}

// getJWKS serves GET /api/v1/jwks.json: the public keys of the server's
// tokens, for any party that verifies them. It needs no credentials. A
// verifier that meets an unknown kid should fetch it again: a key added to
// the key file signs at once.
func (s *Server) getJWKS(c *echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	writeBody(c, http.StatusOK, "application/json", s.cfg.Tokens.JWKS())
	return nil
}

// message returns the client-facing message of an *errs.Error.
func message(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// quote quotes a value from the request for a message, shortened.
func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}
