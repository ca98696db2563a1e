package lrs_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/lrs"
	"github.com/xapi-lrs/lrs/tokens"
)

// testIssuer is the issuer (and audience) of the test servers' tokens.
const testIssuer = "https://lrs.test"

// tokenServer starts a test server with bearer tokens: tc completed with
// the test issuer, the server's clock and logger.
func tokenServer(t *testing.T, tc tokens.Config) (*testServer, *tokens.Service) {
	t.Helper()
	var svc *tokens.Service
	s := newServer(t, func(c *lrs.Config) {
		if tc.Issuer == "" {
			tc.Issuer = testIssuer
		}
		tc.Now = c.Now
		tc.Logger = c.Logger
		var err error
		if svc, err = tokens.New(tc); err != nil {
			t.Fatalf("tokens.New: %v", err)
		}
		c.Tokens = svc
	})
	s.clock.Set(time.Now().Truncate(time.Second))
	return s, svc
}

// tokenRequest posts form to the token endpoint, with Basic credentials
// when user is not empty.
func (s *testServer) tokenRequest(user, pass string, form url.Values) *response {
	s.t.Helper()
	r, err := http.NewRequest("POST", s.URL+"/api/v1/token", strings.NewReader(form.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		r.SetBasicAuth(user, pass)
	}
	return s.send(r)
}

func (s *testServer) send(r *http.Request) *response {
	s.t.Helper()
	res, err := testClient.Do(r)
	if err != nil {
		s.t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: b}
}

// token returns an access token for the test credential key (secret
// key + "-secret"), asking for scope ("" for all of its scopes).
func (s *testServer) token(key, scope string) string {
	s.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	r := s.tokenRequest(key, key+"-secret", form)
	expect(s.t, r, http.StatusOK)
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	r.json(s.t, &tr)
	return tr.AccessToken
}

// bearer sends r with the token instead of Basic credentials.
func (s *testServer) bearer(token string, r req) *response {
	s.t.Helper()
	r.noAuth = true
	if r.header == nil {
		r.header = map[string]string{}
	}
	r.header["Authorization"] = "Bearer " + token
	return s.do(r)
}

// oauthErr returns the RFC 6749 error code of a token endpoint answer.
func oauthErr(t *testing.T, r *response) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
		Desc  string `json:"error_description"`
	}
	r.json(t, &e)
	if e.Error == "" || e.Desc == "" {
		t.Fatalf("not an OAuth error body: %s", r.body)
	}
	return e.Error
}

// errorMessage returns the message of the server's JSON error body.
func errorMessage(t *testing.T, r *response) string {
	t.Helper()
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	r.json(t, &e)
	return e.Error.Message
}

// header returns the decoded JOSE header of a token.
func header(t *testing.T, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// claims returns the decoded payload of a token.
func claims(t *testing.T, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// mint signs claims with key under method, with the header fields in hdr.
func mint(t *testing.T, method jwt.SigningMethod, key any, hdr map[string]any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	for k, v := range hdr {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	return s
}

// writeKeys replaces the key file at path with the PEM blocks.
func writeKeys(t *testing.T, path string, blocks ...[]byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, bytes.Join(blocks, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil { // atomic, as the README advises
		t.Fatal(err)
	}
}

func newKeyPEM(t *testing.T, alg string) []byte {
	t.Helper()
	b, err := tokens.GenerateKeyPEM(alg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// privateKey parses a PEM key block made by newKeyPEM.
func privateKey(t *testing.T, p []byte) any {
	t.Helper()
	b, _ := pem.Decode(p)
	if b.Type == "HMAC KEY" {
		return b.Bytes
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestTokenEndpoint(t *testing.T) {
	s, _ := tokenServer(t, tokens.Config{})
	cc := url.Values{"grant_type": {"client_credentials"}}

	r := s.tokenRequest("admin", "admin-secret", cc)
	expect(t, r, http.StatusOK)
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	r.json(t, &tr)
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 900 || tr.Scope != "all" || tr.AccessToken == "" {
		t.Errorf("token response %s", r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		t.Errorf("token response may be cached: %v", r.header)
	}
	h, c := header(t, tr.AccessToken), claims(t, tr.AccessToken)
	if h["alg"] != "EdDSA" || h["typ"] != "at+jwt" || h["kid"] == "" {
		t.Errorf("token header %v", h)
	}
	for _, name := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "tenant", "scope", "client_id"} {
		if _, ok := c[name]; !ok {
			t.Errorf("token lacks claim %s: %v", name, c)
		}
	}
	if c["iss"] != testIssuer || c["sub"] != "admin" || c["tenant"] != auth.DefaultTenant ||
		c["exp"].(float64)-c["iat"].(float64) != 900 {
		t.Errorf("token claims %v", c)
	}

	// The form fields authenticate too.
	r = s.tokenRequest("", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {"reader"},
		"client_secret": {"reader-secret"}, "scope": {"statements/read"}})
	expect(t, r, http.StatusOK)

	for _, tc := range []struct {
		name       string
		user, pass string
		form       url.Values
		status     int
		code       string
	}{
		{"wrong secret", "admin", "nope", cc, 401, "invalid_client"},
		{"unknown key", "ghost", "ghost-secret", cc, 401, "invalid_client"},
		{"no client authentication", "", "", cc, 401, "invalid_client"},
		{"client_id without secret", "", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {"admin"}}, 401, "invalid_client"},
		{"revoked credential", "revoked", "revoked-secret", cc, 401, "invalid_client"},
		{"Basic and client_secret", "admin", "admin-secret",
			url.Values{"grant_type": {"client_credentials"}, "client_secret": {"admin-secret"}}, 400, "invalid_request"},
		{"client_id differs from Basic key", "admin", "admin-secret",
			url.Values{"grant_type": {"client_credentials"}, "client_id": {"reader"}}, 400, "invalid_request"},
		{"no grant_type", "admin", "admin-secret", url.Values{}, 400, "invalid_request"},
		{"password grant", "admin", "admin-secret", url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type"},
		{"authorization_code grant", "admin", "admin-secret", url.Values{"grant_type": {"authorization_code"}}, 400, "unsupported_grant_type"},
		{"scope not held", "reader", "reader-secret",
			url.Values{"grant_type": {"client_credentials"}, "scope": {"statements/write"}}, 400, "invalid_scope"},
		{"scope broader than held", "reader", "reader-secret",
			url.Values{"grant_type": {"client_credentials"}, "scope": {"all"}}, 400, "invalid_scope"},
		{"unknown scope", "admin", "admin-secret",
			url.Values{"grant_type": {"client_credentials"}, "scope": {"statements/read everything"}}, 400, "invalid_scope"},
		{"parameter twice", "admin", "admin-secret",
			url.Values{"grant_type": {"client_credentials", "client_credentials"}}, 400, "invalid_request"},
	} {
		r := s.tokenRequest(tc.user, tc.pass, tc.form)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, r.status, tc.status, r.body)
			continue
		}
		if got := oauthErr(t, r); got != tc.code {
			t.Errorf("%s: error %q, want %q: %s", tc.name, got, tc.code, r.body)
		}
		if tc.status == 401 && r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", tc.name)
		}
	}

	// Bad requests of other shapes.
	hr, _ := http.NewRequest("POST", s.URL+"/api/v1/token", strings.NewReader(`{"grant_type":"client_credentials"}`))
	hr.Header.Set("Content-Type", "application/json")
	hr.SetBasicAuth("admin", "admin-secret")
	if r := s.send(hr); r.status != 400 || oauthErr(t, r) != "invalid_request" {
		t.Errorf("JSON body: %d %s", r.status, r.body)
	}
	hr, _ = http.NewRequest("POST", s.URL+"/api/v1/token?client_secret=admin-secret", strings.NewReader(cc.Encode()))
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.SetBasicAuth("admin", "admin-secret")
	if r := s.send(hr); r.status != 400 || oauthErr(t, r) != "invalid_request" {
		t.Errorf("parameters in the URL: %d %s", r.status, r.body)
	}
	hr, _ = http.NewRequest("POST", s.URL+"/api/v1/token", strings.NewReader(cc.Encode()))
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	if r := s.send(hr); r.status != 401 || oauthErr(t, r) != "invalid_client" {
		t.Errorf("a token buying a token: %d %s", r.status, r.body)
	}
	hr, _ = http.NewRequest("POST", s.URL+"/api/v1/token", strings.NewReader("grant_type="+strings.Repeat("x", 20<<10)))
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.SetBasicAuth("admin", "admin-secret")
	if r := s.send(hr); r.status/100 != 4 {
		t.Errorf("20 KiB form: status %d, want 4xx: %s", r.status, r.body)
	}
	hr, _ = http.NewRequest("GET", s.URL+"/api/v1/token", nil)
	if r := s.send(hr); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET /api/v1/token: status %d", r.status)
	}
}

func TestTokensOff(t *testing.T) {
	s := newServer(t)
	r := s.tokenRequest("admin", "admin-secret", url.Values{"grant_type": {"client_credentials"}})
	expect(t, r, http.StatusNotFound)
	hr, _ := http.NewRequest("GET", s.URL+"/api/v1/jwks.json", nil)
	expect(t, s.send(hr), http.StatusNotFound)
	r = s.do(req{method: "GET", path: "/xapi/statements", noAuth: true, header: map[string]string{"Authorization": "Bearer x.y.z"}})
	expect(t, r, http.StatusUnauthorized)
	if !strings.Contains(errorMessage(t, r), "not enabled") {
		t.Errorf("message %q", errorMessage(t, r))
	}
}

func TestBearerUse(t *testing.T) {
	for _, alg := range []string{tokens.AlgEdDSA, tokens.AlgES256, tokens.AlgHS256} {
		t.Run(alg, func(t *testing.T) {
			s, _ := tokenServer(t, tokens.Config{Algorithm: alg})
			tok := s.token("admin", "")
			if h := header(t, tok); h["alg"] != alg {
				t.Fatalf("alg %v, want %s", h["alg"], alg)
			}
			r := s.bearer(tok, req{method: "POST", path: "/xapi/statements", body: stmt("ann", "completed")})
			expect(t, r, http.StatusOK)
			var ids []string
			r.json(t, &ids)
			// The authority is the credential's, as with Basic.
			viaBasic := s.post(stmt("bob", "completed"))
			a1 := s.get(ids[0])["authority"]
			a2 := s.get(viaBasic[0])["authority"]
			if fmt.Sprint(a1) != fmt.Sprint(a2) {
				t.Errorf("authority with a token %v, with Basic %v", a1, a2)
			}
			r = s.bearer(tok, req{method: "GET", path: "/xapi/statements?statementId=" + ids[0]})
			expect(t, r, http.StatusOK)
			// The scheme name is case-insensitive (RFC 7235).
			r = s.do(req{method: "GET", path: "/xapi/statements?statementId=" + ids[0], noAuth: true,
				header: map[string]string{"Authorization": "bearer " + tok}})
			expect(t, r, http.StatusOK)

			// A token for a credential with fewer scopes is held to them.
			rt := s.token("reader", "")
			expect(t, s.bearer(rt, req{method: "GET", path: "/xapi/statements"}), http.StatusOK)
			r = s.bearer(rt, req{method: "POST", path: "/xapi/statements", body: stmt("ann", "completed")})
			expect(t, r, http.StatusForbidden)
		})
	}
}

func TestBearerScopeNarrowing(t *testing.T) {
	s, _ := tokenServer(t, tokens.Config{})
	read := s.token("admin", "statements/read")
	if c := claims(t, read); c["scope"] != "statements/read" {
		t.Fatalf("scope claim %v", c["scope"])
	}
	expect(t, s.bearer(read, req{method: "GET", path: "/xapi/statements"}), http.StatusOK)
	expect(t, s.bearer(read, req{method: "POST", path: "/xapi/statements", body: stmt("ann", "completed")}), http.StatusForbidden)
	expect(t, s.bearer(read, req{method: "GET", path: "/xapi/activities/state?activityId=http://example.com/a&agent=" +
		url.QueryEscape(`{"mbox":"mailto:ann@example.com"}`) + "&stateId=s"}), http.StatusForbidden)

	write := s.token("admin", "statements/write state")
	expect(t, s.bearer(write, req{method: "POST", path: "/xapi/statements", body: stmt("ann", "completed")}), http.StatusOK)
	expect(t, s.bearer(write, req{method: "GET", path: "/xapi/statements"}), http.StatusForbidden)

	// statements/read/mine: only what this credential wrote.
	mine := s.token("admin", "statements/read/mine")
	other := s.do(req{method: "POST", path: "/xapi/statements", key: "writer", body: stmt("cy", "completed")})
	expect(t, other, http.StatusOK)
	r := s.bearer(mine, req{method: "GET", path: "/xapi/statements"})
	expect(t, r, http.StatusOK)
	stmts, _ := r.result(t)
	if len(stmts) != 1 {
		t.Errorf("statements/read/mine token sees %d statements, want 1 (its own)", len(stmts))
	}
}

func TestBearerRejected(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "keys.pem")
	block := newKeyPEM(t, tokens.AlgEdDSA)
	writeKeys(t, keyPath, block)
	s, _ := tokenServer(t, tokens.Config{KeyFile: keyPath})
	priv := privateKey(t, block).(ed25519.PrivateKey)
	pub := priv.Public().(ed25519.PublicKey)
	good := s.token("admin", "statements/read")
	kid := header(t, good)["kid"].(string)
	now := s.clock.Now()

	hdr := map[string]any{"kid": kid, "typ": "at+jwt"}
	valid := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": testIssuer, "sub": "admin", "aud": testIssuer, "exp": now.Add(5 * time.Minute).Unix(),
			"nbf": now.Unix(), "iat": now.Unix(), "jti": "x", "tenant": "default", "scope": "statements/read"}
		if edit != nil {
			edit(c)
		}
		return c
	}
	ed := func(edit func(jwt.MapClaims)) string { return mint(t, jwt.SigningMethodEdDSA, priv, hdr, valid(edit)) }

	// Controls: tokens made here with the server's key are accepted, also
	// within the leeway.
	for name, tok := range map[string]string{
		"issued":          good,
		"minted":          ed(nil),
		"expired 10s ago": ed(func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Second).Unix() }),
		"nbf in 10s":      ed(func(c jwt.MapClaims) { c["nbf"] = now.Add(10 * time.Second).Unix() }),
	} {
		if r := s.bearer(tok, req{method: "GET", path: "/xapi/statements"}); r.status != http.StatusOK {
			t.Errorf("%s: status %d: %s", name, r.status, r.body)
		}
	}

	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	tamper := func(tok string, edit func(map[string]any)) string {
		parts := strings.Split(tok, ".")
		c := claims(t, tok)
		edit(c)
		b, _ := json.Marshal(c)
		parts[1] = base64.RawURLEncoding.EncodeToString(b)
		return strings.Join(parts, ".")
	}
	jwksX := func() []byte { // the public key as the JWKS publishes it
		hr, _ := http.NewRequest("GET", s.URL+"/api/v1/jwks.json", nil)
		r := s.send(hr)
		var set struct {
			Keys []struct {
				X string `json:"x"`
			} `json:"keys"`
		}
		r.json(t, &set)
		return []byte(set.Keys[0].X)
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	pubDER, _ := x509.MarshalPKIXPublicKey(pub)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	for _, tc := range []struct {
		name, token, want string
	}{
		{"expired", ed(func(c jwt.MapClaims) { c["exp"] = now.Add(-2 * time.Minute).Unix() }), "expired"},
		{"no exp", ed(func(c jwt.MapClaims) { delete(c, "exp") }), "exp"},
		{"not yet valid", ed(func(c jwt.MapClaims) { c["nbf"] = now.Add(5 * time.Minute).Unix() }), "not valid yet"},
		{"issued in the future", ed(func(c jwt.MapClaims) { c["iat"] = now.Add(5 * time.Minute).Unix() }), "future"},
		{"wrong issuer", ed(func(c jwt.MapClaims) { c["iss"] = "https://evil.test" }), "not trusted"},
		{"no issuer", ed(func(c jwt.MapClaims) { delete(c, "iss") }), "iss"},
		{"wrong audience", ed(func(c jwt.MapClaims) { c["aud"] = "https://other.test" }), "audience"},
		{"no audience", ed(func(c jwt.MapClaims) { delete(c, "aud") }), "aud"},
		{"alg none", mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, hdr, valid(nil)), "algorithm"},
		{"HS256 with the raw public key", mint(t, jwt.SigningMethodHS256, []byte(pub), hdr, valid(nil)), "algorithm"},
		{"HS256 with the JWKS x", mint(t, jwt.SigningMethodHS256, jwksX(), hdr, valid(nil)), "algorithm"},
		{"HS256 with the public key PEM", mint(t, jwt.SigningMethodHS256, pubPEM, hdr, valid(nil)), "algorithm"},
		{"unknown kid", mint(t, jwt.SigningMethodEdDSA, priv, map[string]any{"kid": "nope", "typ": "at+jwt"}, valid(nil)), "kid"},
		{"no kid", mint(t, jwt.SigningMethodEdDSA, priv, map[string]any{"typ": "at+jwt"}, valid(nil)), "kid"},
		{"no typ", mint(t, jwt.SigningMethodEdDSA, priv, map[string]any{"kid": kid}, valid(nil)), "typ"},
		{"another key under the kid", mint(t, jwt.SigningMethodEdDSA, otherKey, hdr, valid(nil)), "signature"},
		{"tampered scope", tamper(good, func(c map[string]any) { c["scope"] = "all" }), "signature"},
		{"tampered subject", tamper(good, func(c map[string]any) { c["sub"] = "reader" }), "signature"},
		{"tampered expiry", tamper(ed(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() }),
			func(c map[string]any) { c["exp"] = float64(now.Add(time.Hour).Unix()) }), "signature"},
		{"signature cut off", good[:strings.LastIndex(good, ".")+1], "signature"},
		{"unknown credential", ed(func(c jwt.MapClaims) { c["sub"] = "ghost" }), "no longer exists"},
		{"revoked credential", ed(func(c jwt.MapClaims) { c["sub"] = "revoked" }), "revoked"},
		{"other tenant", ed(func(c jwt.MapClaims) { c["tenant"] = "oslo" }), "tenant"},
		{"unknown alg", enc(`{"alg":"XYZ","kid":"k","typ":"at+jwt"}`) + "." + strings.Split(good, ".")[1] + ".c2ln", "alg"},
		{"payload not JSON", strings.Split(good, ".")[0] + "." + enc("not json") + ".c2ln", "well-formed"},
		{"exp not a number", ed(func(c jwt.MapClaims) { c["exp"] = "soon" }), "well-formed"},
		{"not a JWT", "abc", "well-formed"},
		{"empty", "", "well-formed"},
		{"too long", strings.Repeat("a", tokens.MaxTokenBytes+1), "longer"},
	} {
		r := s.bearer(tc.token, req{method: "GET", path: "/xapi/statements"})
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401: %s", tc.name, r.status, r.body)
			continue
		}
		if kind := r.errorKind(t); kind != "unauthorized" {
			t.Errorf("%s: kind %q", tc.name, kind)
		}
		if msg := errorMessage(t, r); !strings.Contains(msg, tc.want) {
			t.Errorf("%s: message %q does not mention %q", tc.name, msg, tc.want)
		}
		if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") {
			t.Errorf("%s: 401 with WWW-Authenticate %q, want a Bearer challenge (RFC 6750)", tc.name, got)
		}
	}
}

// TestBearerRevocation: a token of a revoked credential stops working
// within the credential cache TTL (lrs.Config.CredentialTTL), as a Basic
// credential does; and a credential's narrowed scopes narrow its tokens.
func TestBearerRevocation(t *testing.T) {
	s, _ := tokenServer(t, tokens.Config{})
	ctx := context.Background()
	cred := &auth.Credential{Key: "temp", SecretHash: auth.HashSecret("temp-secret"), Name: "temp app",
		Tenant: auth.DefaultTenant, Scopes: []string{auth.ScopeAll}, Created: time.Now().UTC()}
	if err := s.db.CreateCredential(ctx, cred); err != nil {
		t.Fatal(err)
	}
	tok := s.token("temp", "")
	get := func() int { return s.bearer(tok, req{method: "GET", path: "/xapi/statements"}).status }
	post := func() int {
		return s.bearer(tok, req{method: "POST", path: "/xapi/statements", body: stmt("ann", "completed")}).status
	}
	if get() != 200 || post() != 200 {
		t.Fatal("a fresh token does not work")
	}

	// Narrow the credential to statements/read: after the TTL the token
	// (scope all) reads but no longer writes.
	cred.Scopes = []string{auth.ScopeStatementsRead}
	if err := s.db.UpdateCredential(ctx, cred); err != nil {
		t.Fatal(err)
	}
	base := s.clock.Now()
	s.clock.Set(base.Add(lrs.DefaultCredentialTTL + time.Second))
	if g, p := get(), post(); g != 200 || p != 403 {
		t.Errorf("after narrowing the credential: GET %d, POST %d; want 200, 403", g, p)
	}

	cred.Revoked = true
	if err := s.db.UpdateCredential(ctx, cred); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != 200 {
		t.Errorf("within the credential TTL after revocation: status %d, want 200 (still cached)", got)
	}
	s.clock.Set(base.Add(2*lrs.DefaultCredentialTTL + 2*time.Second))
	r := s.bearer(tok, req{method: "GET", path: "/xapi/statements"})
	expect(t, r, http.StatusUnauthorized)
	if !strings.Contains(errorMessage(t, r), "revoked") {
		t.Errorf("message %q", errorMessage(t, r))
	}
	r = s.tokenRequest("temp", "temp-secret", url.Values{"grant_type": {"client_credentials"}})
	if r.status != 401 || oauthErr(t, r) != "invalid_client" {
		t.Errorf("revoked credential buys a token: %d %s", r.status, r.body)
	}
}

func TestJWKS(t *testing.T) {
	s, _ := tokenServer(t, tokens.Config{})
	hr, _ := http.NewRequest("GET", s.URL+"/api/v1/jwks.json", nil)
	r := s.send(hr)
	expect(t, r, http.StatusOK)
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	r.json(t, &set)
	tok := s.token("admin", "")
	if len(set.Keys) != 1 || set.Keys[0]["kty"] != "OKP" || set.Keys[0]["crv"] != "Ed25519" ||
		set.Keys[0]["kid"] != header(t, tok)["kid"] || set.Keys[0]["alg"] != "EdDSA" || set.Keys[0]["d"] != "" {
		t.Fatalf("JWKS %s", r.body)
	}
	// A third party verifies the server's token with the published key.
	x, _ := base64.RawURLEncoding.DecodeString(set.Keys[0]["x"])
	parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return ed25519.PublicKey(x), nil },
		jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer(testIssuer), jwt.WithAudience(testIssuer))
	if err != nil || !parsed.Valid {
		t.Errorf("the published key does not verify the token: %v", err)
	}

	// An HMAC key is secret: the set is empty.
	hs, _ := tokenServer(t, tokens.Config{Algorithm: tokens.AlgHS256})
	hr, _ = http.NewRequest("GET", hs.URL+"/api/v1/jwks.json", nil)
	r = hs.send(hr)
	expect(t, r, http.StatusOK)
	if string(r.body) != `{"keys":[]}` {
		t.Errorf("HS256 JWKS %s", r.body)
	}
}

// TestKeyRotation rotates the key file under running servers: the newest
// key signs, an old key verifies until it leaves the file, and a replica
// that has not looked at the file yet accepts a token of a key just added.
func TestKeyRotation(t *testing.T) {
	keyPath := filepath.Join(t.TempDir(), "keys.pem")
	k1, k2, k3 := newKeyPEM(t, tokens.AlgEdDSA), newKeyPEM(t, tokens.AlgES256), newKeyPEM(t, tokens.AlgEdDSA)
	writeKeys(t, keyPath, k1)
	cfg := tokens.Config{KeyFile: keyPath, ReloadInterval: time.Second}
	s, _ := tokenServer(t, cfg)
	replica, _ := tokenServer(t, cfg)
	base := s.clock.Now()
	use := func(srv *testServer, tok string) int {
		return srv.bearer(tok, req{method: "GET", path: "/xapi/statements"}).status
	}
	jwksKids := func() []string {
		hr, _ := http.NewRequest("GET", s.URL+"/api/v1/jwks.json", nil)
		var set struct {
			Keys []struct {
				Kid string `json:"kid"`
			} `json:"keys"`
		}
		s.send(hr).json(t, &set)
		var kids []string
		for _, k := range set.Keys {
			kids = append(kids, k.Kid)
		}
		return kids
	}

	old := s.token("admin", "")
	kid1 := header(t, old)["kid"]
	if use(s, old) != 200 || use(replica, old) != 200 {
		t.Fatal("token of the first key refused")
	}

	// Add a second key: after the reload interval it signs; the first
	// still verifies.
	writeKeys(t, keyPath, k1, k2)
	s.clock.Set(base.Add(2 * time.Second))
	tok2 := s.token("admin", "")
	if h := header(t, tok2); h["kid"] == kid1 || h["alg"] != "ES256" {
		t.Fatalf("after adding a key, the token header is %v", h)
	}
	if len(jwksKids()) != 2 {
		t.Errorf("JWKS kids %v, want 2", jwksKids())
	}
	if use(s, old) != 200 || use(s, tok2) != 200 {
		t.Error("after adding a key: a token refused")
	}
	// The replica's clock has not moved: it re-reads the file because of
	// the unknown kid.
	if got := use(replica, tok2); got != 200 {
		t.Errorf("replica refuses the token of the new key: %d", got)
	}

	// A half-written file is ignored: the keys stay.
	if err := os.WriteFile(keyPath, k2[:len(k2)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	s.clock.Set(base.Add(4 * time.Second))
	if use(s, old) != 200 || use(s, tok2) != 200 {
		t.Error("a broken key file changed the keys")
	}

	// Retire the first key: its tokens are refused, also those verified
	// (and cached) before.
	writeKeys(t, keyPath, k2, k3)
	s.clock.Set(base.Add(6 * time.Second))
	r := s.bearer(old, req{method: "GET", path: "/xapi/statements"})
	expect(t, r, http.StatusUnauthorized)
	if !strings.Contains(errorMessage(t, r), "kid") {
		t.Errorf("message %q", errorMessage(t, r))
	}
	if use(s, tok2) != 200 {
		t.Error("the second key's token refused after the first key left")
	}
	if kids := jwksKids(); len(kids) != 2 || kids[0] == kid1 || kids[1] == kid1 {
		t.Errorf("JWKS kids after retiring the first key: %v", kids)
	}
	if h := header(t, s.token("admin", "")); h["alg"] != "EdDSA" || h["kid"] == kid1 {
		t.Errorf("the newest key (k3) does not sign: %v", h)
	}
}

// idp is an identity provider for tests: it publishes a JWK Set and counts
// the fetches.
type idp struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []map[string]string
	fetches atomic.Int32
}

func newIdP(t *testing.T) *idp {
	p := &idp{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		p.mu.Lock()
		b, _ := json.Marshal(map[string]any{"keys": p.keys})
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *idp) publish(keys ...map[string]string) {
	p.mu.Lock()
	p.keys = keys
	p.mu.Unlock()
}

func rsaJWK(kid string, k *rsa.PublicKey) map[string]string {
	return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PublicKey) map[string]string {
	raw, _ := k.Bytes()
	return map[string]string{"kty": "EC", "kid": kid, "crv": "P-256",
		"x": base64.RawURLEncoding.EncodeToString(raw[1:33]), "y": base64.RawURLEncoding.EncodeToString(raw[33:])}
}

const idpIssuer = "https://idp.test/tenant-1/v2.0"

func idpConfig(jwksURI string) tokens.ExternalIssuer {
	return tokens.ExternalIssuer{
		Issuer:      idpIssuer,
		JWKSURI:     jwksURI,
		Audience:    []string{"api://lrs"},
		Algorithms:  []string{"RS256", "ES256"},
		TenantClaim: "tid",
		Tenants:     map[string]string{"tid-1": auth.DefaultTenant},
		ScopeClaims: []string{"scp", "roles"},
		Scopes: map[string][]string{
			"Statements.Write": {auth.ScopeStatementsWrite},
			"Statements.Read":  {auth.ScopeStatementsRead},
		},
		ClientClaim:     "azp",
		NameClaim:       "app_name",
		RefreshInterval: tokens.Duration(time.Minute),
	}
}

func TestExternalIssuer(t *testing.T) {
	p := newIdP(t)
	rsa1, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa2, _ := rsa.GenerateKey(rand.Reader, 2048)
	ec1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p.publish(rsaJWK("k1", &rsa1.PublicKey), ecJWK("e1", &ec1.PublicKey))
	s, _ := tokenServer(t, tokens.Config{External: []tokens.ExternalIssuer{idpConfig(p.URL + "/keys")}})
	base := s.clock.Now()

	claimsOf := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": idpIssuer, "sub": "subject-1", "azp": "client-1", "app_name": "LMS app",
			"aud": "api://lrs", "tid": "tid-1", "roles": []string{"Statements.Write"}, "scp": "Statements.Read",
			"exp": base.Add(time.Hour).Unix(), "nbf": base.Unix(), "iat": base.Unix()}
		if edit != nil {
			edit(c)
		}
		return c
	}
	rs := func(kid string, key *rsa.PrivateKey, edit func(jwt.MapClaims)) string {
		return mint(t, jwt.SigningMethodRS256, key, map[string]any{"kid": kid}, claimsOf(edit))
	}
	status := func(tok string) int {
		return s.bearer(tok, req{method: "GET", path: "/xapi/statements"}).status
	}

	t1 := rs("k1", rsa1, nil)
	r := s.bearer(t1, req{method: "POST", path: "/xapi/statements", body: stmt("ann", "completed")})
	expect(t, r, http.StatusOK)
	var ids []string
	r.json(t, &ids)
	authority := s.get(ids[0])["authority"].(map[string]any)
	acct := authority["account"].(map[string]any)
	if acct["name"] != "idp.test/client-1" || authority["name"] != "LMS app" {
		t.Errorf("authority of an IdP token: %v", authority)
	}
	if n := p.fetches.Load(); n != 1 {
		t.Errorf("%d JWKS fetches, want 1", n)
	}
	es := mint(t, jwt.SigningMethodES256, ec1, map[string]any{"kid": "e1"}, claimsOf(nil))
	if got := status(es); got != 200 {
		t.Errorf("ES256 token: %d", got)
	}

	rsaPubDER, _ := x509.MarshalPKIXPublicKey(&rsa1.PublicKey)
	rsaPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPubDER})
	for _, tc := range []struct {
		name   string
		token  string
		status int
		want   string
	}{
		{"expired", rs("k1", rsa1, func(c jwt.MapClaims) { c["exp"] = base.Add(-time.Minute).Unix() }), 401, "expired"},
		{"not yet valid", rs("k1", rsa1, func(c jwt.MapClaims) { c["nbf"] = base.Add(time.Minute).Unix() }), 401, "not valid yet"},
		{"wrong issuer", rs("k1", rsa1, func(c jwt.MapClaims) { c["iss"] = "https://idp.test/tenant-2/v2.0" }), 401, "not trusted"},
		{"our issuer, IdP key", rs("k1", rsa1, func(c jwt.MapClaims) { c["iss"] = testIssuer; c["aud"] = testIssuer }), 401, "algorithm \"RS256\""},
		{"wrong audience", rs("k1", rsa1, func(c jwt.MapClaims) { c["aud"] = "api://other" }), 401, "audience"},
		{"alg none", mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"kid": "k1"}, claimsOf(nil)), 401, "algorithm \"none\""},
		{"HS256 with the RSA public key PEM", mint(t, jwt.SigningMethodHS256, rsaPubPEM, map[string]any{"kid": "k1"}, claimsOf(nil)), 401, "algorithm \"HS256\""},
		{"HS256 with the RSA public key DER", mint(t, jwt.SigningMethodHS256, rsaPubDER, map[string]any{"kid": "k1"}, claimsOf(nil)), 401, "algorithm \"HS256\""},
		{"RS512 not allowed", mint(t, jwt.SigningMethodRS512, rsa1, map[string]any{"kid": "k1"}, claimsOf(nil)), 401, "algorithm \"RS512\""},
		{"ES256 under the RSA kid", mint(t, jwt.SigningMethodES256, ec1, map[string]any{"kid": "k1"}, claimsOf(nil)), 401, "does not fit"},
		{"RS256 under the EC kid", rs("e1", rsa1, nil), 401, "does not fit"},
		{"signed by another key", rs("k1", rsa2, nil), 401, "signature"},
		{"tampered payload", func() string {
			parts := strings.Split(t1, ".")
			c := claims(t, t1)
			c["tid"] = "tid-2"
			b, _ := json.Marshal(c)
			parts[1] = base64.RawURLEncoding.EncodeToString(b)
			return strings.Join(parts, ".")
		}(), 401, "signature"},
		{"no client claim", rs("k1", rsa1, func(c jwt.MapClaims) { delete(c, "azp") }), 401, "azp"},
		{"no kid", mint(t, jwt.SigningMethodRS256, rsa1, nil, claimsOf(nil)), 401, "kid"},
		{"unknown tenant", rs("k1", rsa1, func(c jwt.MapClaims) { c["tid"] = "tid-2" }), 403, "tenant"},
		{"no mapped scope", rs("k1", rsa1, func(c jwt.MapClaims) { c["roles"] = []string{"Other"}; delete(c, "scp") }), 403, "scope"},
	} {
		r := s.bearer(tc.token, req{method: "GET", path: "/xapi/statements"})
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, r.status, tc.status, r.body)
		} else if r.errorKind(t); !strings.Contains(errorMessage(t, r), tc.want) {
			t.Errorf("%s: message %q does not mention %q", tc.name, errorMessage(t, r), tc.want)
		}
	}
	// Scopes come through the mapping: a read-only token cannot write.
	ro := rs("k1", rsa1, func(c jwt.MapClaims) { delete(c, "roles") })
	expect(t, s.bearer(ro, req{method: "GET", path: "/xapi/statements"}), http.StatusOK)
	expect(t, s.bearer(ro, req{method: "POST", path: "/xapi/statements", body: stmt("ann", "completed")}), http.StatusForbidden)

	// An unknown kid right after a fetch does not fetch again.
	if got := status(rs("k9", rsa2, nil)); got != 401 {
		t.Errorf("unknown kid: %d", got)
	}
	if n := p.fetches.Load(); n != 1 {
		t.Errorf("%d JWKS fetches after an unknown kid within the minimum interval, want 1", n)
	}

	// The IdP rotates: it adds k2 and signs with it. Past the minimum
	// interval, the unknown kid makes the server fetch the keys again.
	p.publish(rsaJWK("k1", &rsa1.PublicKey), rsaJWK("k2", &rsa2.PublicKey))
	s.clock.Set(base.Add(tokens.DefaultMinRefresh + time.Second))
	t2 := rs("k2", rsa2, nil)
	if got := status(t2); got != 200 {
		t.Errorf("token of the IdP's new key: %d", got)
	}
	if n := p.fetches.Load(); n != 2 {
		t.Errorf("%d JWKS fetches after the rotation, want 2", n)
	}
	// Made-up kids do not make it fetch again.
	for i := range 5 {
		status(rs(fmt.Sprintf("made-up-%d", i), rsa2, nil))
	}
	if n := p.fetches.Load(); n != 2 {
		t.Errorf("%d JWKS fetches after made-up kids, want 2", n)
	}

	// The IdP retires k1. At the next periodic refresh its tokens are
	// refused, even one verified (and cached) before.
	p.publish(rsaJWK("k2", &rsa2.PublicKey))
	if got := status(t1); got != 200 {
		t.Errorf("k1 token before the refresh: %d", got)
	}
	s.clock.Set(base.Add(tokens.DefaultMinRefresh + 2*time.Minute))
	if got := status(t1); got != 401 {
		t.Errorf("k1 token after the IdP retired k1 and the keys were refreshed: %d, want 401", got)
	}
	if got := status(t2); got != 200 {
		t.Errorf("k2 token after the refresh: %d", got)
	}
	if n := p.fetches.Load(); n != 3 {
		t.Errorf("%d JWKS fetches after the periodic refresh, want 3", n)
	}
}

// An identity provider whose keys cannot be fetched makes its tokens
// answer 503 (try again), not 401 (the token is bad) and not 500.
func TestExternalIssuerUnreachable(t *testing.T) {
	p := newIdP(t)
	uri := p.URL + "/keys"
	p.Close()
	s, _ := tokenServer(t, tokens.Config{External: []tokens.ExternalIssuer{idpConfig(uri)}})
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	now := s.clock.Now()
	tok := mint(t, jwt.SigningMethodRS256, key, map[string]any{"kid": "k1"}, jwt.MapClaims{"iss": idpIssuer,
		"azp": "c", "aud": "api://lrs", "tid": "tid-1", "scp": "Statements.Read", "exp": now.Add(time.Hour).Unix()})
	r := s.bearer(tok, req{method: "GET", path: "/xapi/statements"})
	expect(t, r, http.StatusServiceUnavailable)
	if r.errorKind(t) != "unavailable" {
		t.Errorf("body %s", r.body)
	}
}
