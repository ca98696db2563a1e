package tokens_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/tokens"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func writeFile(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keys.pem")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func genPEM(t testing.TB, alg string) []byte {
	t.Helper()
	b, err := tokens.GenerateKeyPEM(alg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

var admin = &auth.Credential{Key: "admin", Tenant: auth.DefaultTenant, Scopes: []string{auth.ScopeAll}}

// TestKeyFile reads key files of every accepted kind and refuses the
// others with a message naming the problem.
func TestKeyFile(t *testing.T) {
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	sec1 := pemOf("EC PRIVATE KEY", must(x509.MarshalECPrivateKey(ec256)))
	ed, es, hs := genPEM(t, tokens.AlgEdDSA), genPEM(t, tokens.AlgES256), genPEM(t, tokens.AlgHS256)

	for _, tc := range []struct {
		name    string
		file    []byte
		wantErr string
		signAlg string
		public  int // keys in the JWKS
	}{
		{name: "Ed25519", file: ed, signAlg: "EdDSA", public: 1},
		{name: "P-256 PKCS#8", file: es, signAlg: "ES256", public: 1},
		{name: "P-256 SEC 1", file: sec1, signAlg: "ES256", public: 1},
		{name: "HMAC", file: hs, signAlg: "HS256", public: 0},
		{name: "three keys, the last signs", file: slices.Concat(es, hs, ed), signAlg: "EdDSA", public: 2},
		{name: "comments between blocks", file: slices.Concat([]byte("# old\n"), es, []byte("# new\n"), ed), signAlg: "EdDSA", public: 2},
		{name: "empty", file: nil, wantErr: "no PEM blocks"},
		{name: "not PEM", file: []byte("hello"), wantErr: "not a complete PEM block"},
		{name: "half written", file: slices.Concat(es, ed[:len(ed)/2]), wantErr: "not a complete PEM block"},
		{name: "same key twice", file: slices.Concat(ed, ed), wantErr: "twice"},
		{name: "P-384", file: pemOf("PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(ec384))), wantErr: "P-256"},
		{name: "RSA", file: pemOf("PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(rsaKey))), wantErr: "unsupported key type"},
		{name: "public key", file: pemOf("PUBLIC KEY", must(x509.MarshalPKIXPublicKey(&ec256.PublicKey))), wantErr: "unsupported PEM type"},
		{name: "short HMAC", file: pemOf("HMAC KEY", []byte("0123456789abcdef")), wantErr: "at least 32 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, err := tokens.New(tokens.Config{Issuer: "https://lrs.test", KeyFile: writeFile(t, tc.file), Logger: quiet})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tok, err := svc.Issue(admin, admin.Scopes)
			if err != nil {
				t.Fatal(err)
			}
			parsed, _, err := jwt.NewParser().ParseUnverified(tok.AccessToken, jwt.MapClaims{})
			if err != nil || parsed.Method.Alg() != tc.signAlg {
				t.Errorf("signed with %v (%v), want %s", parsed.Method.Alg(), err, tc.signAlg)
			}
			p, err := svc.Verify(context.Background(), tok.AccessToken)
			if err != nil || p.Key != "admin" || !p.Internal {
				t.Errorf("Verify: %+v, %v", p, err)
			}
			var set struct{ Keys []map[string]any }
			if err := json.Unmarshal(svc.JWKS(), &set); err != nil || len(set.Keys) != tc.public {
				t.Errorf("JWKS %s, want %d keys", svc.JWKS(), tc.public)
			}
			for _, k := range set.Keys {
				if _, ok := k["d"]; ok {
					t.Errorf("JWKS publishes a private key: %v", k)
				}
			}
		})
	}
}

// TestOpenSSLKeys reads keys made by the commands the README gives.
func TestOpenSSLKeys(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	for _, cmd := range []string{
		"openssl genpkey -algorithm ed25519",
		"openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256",
		"openssl ecparam -name prime256v1 -genkey",
		"echo '-----BEGIN HMAC KEY-----'; openssl rand -base64 32; echo '-----END HMAC KEY-----'",
	} {
		out, err := exec.Command("sh", "-c", cmd).Output()
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		if _, err := tokens.New(tokens.Config{Issuer: "lrs", KeyFile: writeFile(t, out), Logger: quiet}); err != nil {
			t.Errorf("%s: %v", cmd, err)
		}
	}
}

func TestNarrowScopes(t *testing.T) {
	for _, tc := range []struct {
		held      []string
		requested string
		want      []string
		wantErr   string
	}{
		{[]string{"all"}, "", []string{"all"}, ""},
		{[]string{"all"}, "statements/read state", []string{"statements/read", "state"}, ""},
		{[]string{"all"}, "statements/read statements/read", []string{"statements/read"}, ""},
		{[]string{"all/read"}, "statements/read/mine", []string{"statements/read/mine"}, ""},
		{[]string{"statements/read"}, "statements/write", nil, "does not hold"},
		{[]string{"statements/read"}, "all/read", nil, "does not hold"},
		{[]string{"all"}, "admin", nil, "does not hold"}, // the project's scopes are never implied
		{[]string{"all"}, "everything", nil, "unknown scope"},
	} {
		got, err := tokens.NarrowScopes(tc.held, tc.requested)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v / %q: error %v, want %q", tc.held, tc.requested, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%v / %q: %v, %v; want %v", tc.held, tc.requested, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ a, b, want []string }{
		{[]string{"all"}, []string{"statements/read"}, []string{"statements/read"}},
		{[]string{"statements/read"}, []string{"all"}, []string{"statements/read"}},
		{[]string{"statements/write", "state"}, []string{"state"}, []string{"state"}},
		{[]string{"statements/write"}, []string{"statements/read"}, nil},
	} {
		if got := tokens.CommonScopes(tc.a, tc.b); !slices.Equal(got, tc.want) {
			t.Errorf("CommonScopes(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestLoadIssuers(t *testing.T) {
	good := `{"issuer": "https://maskinporten.no/", "jwks_uri": "https://maskinporten.no/jwk",
		"audience": ["https://lrs.example.org"], "algorithms": ["RS256"],
		"tenant_claim": "consumer.ID", "tenants": {"0192:991825827": "default"},
		"scope_claims": ["scope"], "scopes": {"lrs:write": ["statements/write"]}, "client_claim": "client_id"}`
	for _, tc := range []struct {
		name, issuer, wantErr string
	}{
		{"good", good, ""},
		{"loopback http", `{"issuer": "i", "jwks_uri": "http://127.0.0.1:9/k", "audience": ["a"], "algorithms": ["ES256"], "tenant": "default"}`, ""},
		{"plain http", `{"issuer": "i", "jwks_uri": "http://idp.example/k", "audience": ["a"], "algorithms": ["RS256"], "tenant": "default"}`, "https"},
		{"relative jwks_uri", `{"issuer": "i", "jwks_uri": "/k", "audience": ["a"], "algorithms": ["RS256"], "tenant": "default"}`, "absolute"},
		{"no audience", `{"issuer": "i", "jwks_uri": "https://idp/k", "algorithms": ["RS256"], "tenant": "default"}`, "audience"},
		{"no algorithms", `{"issuer": "i", "jwks_uri": "https://idp/k", "audience": ["a"], "tenant": "default"}`, "algorithms"},
		{"HS256", `{"issuer": "i", "jwks_uri": "https://idp/k", "audience": ["a"], "algorithms": ["HS256"], "tenant": "default"}`, "HS256"},
		{"none", `{"issuer": "i", "jwks_uri": "https://idp/k", "audience": ["a"], "algorithms": ["none"], "tenant": "default"}`, "none"},
		{"two tenant rules", `{"issuer": "i", "jwks_uri": "https://idp/k", "audience": ["a"], "algorithms": ["RS256"], "tenant": "default", "tenant_claim": "tid"}`, "exactly one"},
		{"no tenant rule", `{"issuer": "i", "jwks_uri": "https://idp/k", "audience": ["a"], "algorithms": ["RS256"]}`, "exactly one"},
		{"unknown scope", `{"issuer": "i", "jwks_uri": "https://idp/k", "audience": ["a"], "algorithms": ["RS256"], "tenant": "default", "scopes": {"x": ["root"]}}`, "unknown LRS scope"},
		{"misspelt field", `{"issuer": "i", "jwks_uri": "https://idp/k", "audience": ["a"], "algorithms": ["RS256"], "tenant": "default", "scope_claim": "scp"}`, "unknown field"},
		{"bad duration", `{"issuer": "i", "jwks_uri": "https://idp/k", "audience": ["a"], "algorithms": ["RS256"], "tenant": "default", "refresh_interval": 60}`, "duration"},
		{"short refresh", `{"issuer": "i", "jwks_uri": "https://idp/k", "audience": ["a"], "algorithms": ["RS256"], "tenant": "default", "refresh_interval": "5s"}`, "refresh_interval"},
	} {
		p := writeFile(t, []byte(`{"issuers": [`+tc.issuer+`]}`))
		got, err := tokens.LoadIssuers(p)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if tc.name == "good" {
			x := got[0]
			if x.KeyPrefix != "maskinporten.no" || time.Duration(x.RefreshInterval) != time.Hour || x.ClientClaim != "client_id" {
				t.Errorf("defaults not filled in: %+v", x)
			}
		}
	}
	// Two issuers on one host need distinct key prefixes.
	a := tokens.ExternalIssuer{Issuer: "https://login.example/t1", JWKSURI: "https://login.example/k1", Audience: []string{"a"},
		Algorithms: []string{"RS256"}, Tenant: "default"}
	b := a
	b.Issuer, b.JWKSURI = "https://login.example/t2", "https://login.example/k2"
	if _, err := tokens.New(tokens.Config{Issuer: "lrs", External: []tokens.ExternalIssuer{a, b}, Logger: quiet}); err == nil ||
		!strings.Contains(err.Error(), "key_prefix") {
		t.Errorf("two issuers with one key prefix: %v", err)
	}
	b.KeyPrefix = "t2"
	if _, err := tokens.New(tokens.Config{Issuer: "lrs", External: []tokens.ExternalIssuer{a, b}, Logger: quiet}); err != nil {
		t.Error(err)
	}
	// An external issuer cannot be the server's own.
	a.Issuer = "lrs"
	if _, err := tokens.New(tokens.Config{Issuer: "lrs", External: []tokens.ExternalIssuer{a}, Logger: quiet}); err == nil {
		t.Error("an external issuer equal to the server's own was accepted")
	}
}

// TestExternalClaims maps the claims of a Maskinporten-like token: the
// tenant from a nested claim, scopes from a space-separated string.
func TestExternalClaims(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	raw, _ := key.PublicKey.Bytes()
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{
		{"kty": "oct", "kid": "sym", "k": "c2VjcmV0"},                                                      // skipped: symmetric
		{"kty": "EC", "kid": "enc", "use": "enc", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])}, // skipped: not for signatures
		{"kty": "EC", "kid": "m1", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])},
	}})
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(jwks) }))
	defer idp.Close()
	svc, err := tokens.New(tokens.Config{Issuer: "https://lrs.test", Logger: quiet, External: []tokens.ExternalIssuer{{
		Issuer: "https://maskinporten.no/", JWKSURI: idp.URL, Audience: []string{"https://lrs.test"}, Algorithms: []string{"ES256"},
		TenantClaim: "consumer.ID", Tenants: map[string]string{"0192:991825827": "oslo"},
		ScopeClaims: []string{"scope"}, Scopes: map[string][]string{"lrs:write": {"statements/write"}, "lrs:read": {"statements/read"}},
		ClientClaim: "client_id",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(kid string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": "https://maskinporten.no/", "aud": "https://lrs.test",
			"client_id": "abc-123", "consumer": map[string]any{"authority": "iso6523-actorid-upis", "ID": "0192:991825827"},
			"scope": "lrs:write other:scope lrs:read", "exp": time.Now().Add(time.Minute).Unix(), "iat": time.Now().Unix()})
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	p, err := svc.Verify(context.Background(), mk("m1"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Key != "maskinporten.no/abc-123" || p.Tenant != "oslo" || p.Internal ||
		!slices.Equal(p.Scopes, []string{"statements/write", "statements/read"}) {
		t.Errorf("principal %+v", p)
	}
	for _, kid := range []string{"enc", "sym"} {
		if _, err := svc.Verify(context.Background(), mk(kid)); err == nil || !strings.Contains(err.Error(), "kid") {
			t.Errorf("kid %s: %v", kid, err)
		}
	}
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// BenchmarkVerify measures the CPU of checking one token, in one goroutine:
// "uncached" is the signature check a token costs on first use (and on
// every use with the cache off), "cached" every later use.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{tokens.AlgEdDSA, tokens.AlgES256, tokens.AlgHS256} {
		for _, cache := range []int{-1, 0} {
			name := alg + "/cached"
			if cache < 0 {
				name = alg + "/uncached"
			}
			b.Run(name, func(b *testing.B) {
				svc, err := tokens.New(tokens.Config{Issuer: "https://lrs.test", Algorithm: alg, CacheSize: cache, Logger: quiet})
				if err != nil {
					b.Fatal(err)
				}
				tok, err := svc.Issue(admin, []string{"statements/write", "statements/read"})
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					if _, err := svc.Verify(ctx, tok.AccessToken); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
	b.Run("RS256-external/uncached", func(b *testing.B) {
		key, _ := rsa.GenerateKey(rand.Reader, 2048)
		jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "r1",
			"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes())}}})
		idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(jwks) }))
		defer idp.Close()
		svc, err := tokens.New(tokens.Config{Issuer: "lrs", CacheSize: -1, Logger: quiet, External: []tokens.ExternalIssuer{{
			Issuer: "https://idp.test", JWKSURI: idp.URL, Audience: []string{"lrs"}, Algorithms: []string{"RS256"},
			Tenant: "default", ScopeClaims: []string{"scp"}}}})
		if err != nil {
			b.Fatal(err)
		}
		t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": "https://idp.test", "aud": "lrs", "sub": "c1",
			"scp": "statements/read", "exp": time.Now().Add(time.Hour).Unix()})
		t.Header["kid"] = "r1"
		raw, _ := t.SignedString(key)
		ctx := context.Background()
		b.ReportAllocs()
		cpu0 := cpuTime()
		for b.Loop() {
			if _, err := svc.Verify(ctx, raw); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	})
}

// TestConcurrentRotation issues and verifies tokens from several goroutines
// while the key file changes under them (run with -race): tokens of keys
// still in the file keep verifying.
func TestConcurrentRotation(t *testing.T) {
	k1, k2 := genPEM(t, tokens.AlgEdDSA), genPEM(t, tokens.AlgES256)
	path := writeFile(t, k1)
	svc, err := tokens.New(tokens.Config{Issuer: "lrs", KeyFile: path, ReloadInterval: time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { // k1 stays; k2 comes and goes
		defer close(done)
		for i := range 50 {
			data := k1
			if i%2 == 0 {
				data = slices.Concat(k1, k2)
			}
			if err := os.WriteFile(path+".tmp", data, 0o600); err == nil {
				os.Rename(path+".tmp", path)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	errc := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				select {
				case <-done:
					errc <- nil
					return
				default:
				}
				tok, err := svc.Issue(admin, admin.Scopes)
				if err != nil {
					errc <- err
					return
				}
				if _, err := svc.Verify(context.Background(), tok.AccessToken); err != nil &&
					!strings.Contains(err.Error(), "kid") { // a k2 token may meet a file without k2
					errc <- err
					return
				}
			}
		}()
	}
	for range 4 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

// TestNumericDates refuses tokens whose exp, nbf or iat is a string of
// digits rather than a JSON number (RFC 7519 NumericDate), both the
// server's own tokens and an identity provider's, while the same tokens
// with numbers pass.
func TestNumericDates(t *testing.T) {
	keyPEM := genPEM(t, tokens.AlgEdDSA)
	block, _ := pem.Decode(keyPEM)
	edKey, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	idpKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	raw, _ := idpKey.PublicKey.Bytes()
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{
		{"kty": "EC", "kid": "i1", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])}}})
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(jwks) }))
	defer idp.Close()
	svc, err := tokens.New(tokens.Config{Issuer: "https://lrs.test", KeyFile: writeFile(t, keyPEM), Logger: quiet,
		External: []tokens.ExternalIssuer{{Issuer: "https://idp.test", JWKSURI: idp.URL, Audience: []string{"https://lrs.test"},
			Algorithms: []string{"ES256"}, Tenant: "default", ScopeClaims: []string{"scp"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []struct{ Kid string } }
	if err := json.Unmarshal(svc.JWKS(), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS %s: %v", svc.JWKS(), err)
	}
	now := time.Now()
	internal := func(c jwt.MapClaims) string {
		c["iss"], c["aud"], c["sub"] = "https://lrs.test", "https://lrs.test", "admin"
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
		tok.Header["kid"], tok.Header["typ"] = set.Keys[0].Kid, "at+jwt"
		s, err := tok.SignedString(edKey)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	external := func(c jwt.MapClaims) string {
		c["iss"], c["aud"], c["sub"], c["scp"] = "https://idp.test", "https://lrs.test", "client-1", "statements/read"
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
		tok.Header["kid"] = "i1"
		s, err := tok.SignedString(idpKey)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exp, iat := now.Add(time.Hour).Unix(), now.Add(-time.Minute).Unix()
	str := func(n int64) string { return strconv.FormatInt(n, 10) }
	for _, tc := range []struct {
		name   string
		claims jwt.MapClaims
		bad    string // the claim to refuse; "" for a valid token
	}{
		{"numbers", jwt.MapClaims{"exp": exp, "nbf": iat, "iat": iat}, ""},
		{"fractional exp", jwt.MapClaims{"exp": float64(exp) + 0.5, "nbf": iat, "iat": iat}, ""},
		{"exp a string", jwt.MapClaims{"exp": str(exp), "nbf": iat, "iat": iat}, "exp"},
		{"nbf a string", jwt.MapClaims{"exp": exp, "nbf": str(iat), "iat": iat}, "nbf"},
		{"iat a string", jwt.MapClaims{"exp": exp, "nbf": iat, "iat": str(iat)}, "iat"},
		{"exp null", jwt.MapClaims{"exp": nil, "nbf": iat, "iat": iat}, "exp"},
		{"exp a boolean", jwt.MapClaims{"exp": true, "nbf": iat, "iat": iat}, "exp"},
	} {
		for _, kind := range []struct {
			name string
			mint func(jwt.MapClaims) string
		}{{"internal", internal}, {"external", external}} {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				c := jwt.MapClaims{}
				for k, v := range tc.claims {
					c[k] = v
				}
				p, err := svc.Verify(context.Background(), kind.mint(c))
				if tc.bad == "" {
					if err != nil || p.Expires.Unix() != exp {
						t.Fatalf("a valid token: %+v, %v", p, err)
					}
					return
				}
				if err == nil {
					t.Fatalf("a token whose %s is %v was accepted", tc.bad, tc.claims[tc.bad])
				}
				if msg := err.Error(); !strings.Contains(msg, tc.bad+" claim") || !strings.Contains(msg, "NumericDate") {
					t.Errorf("error %q does not say that %s is not a NumericDate", msg, tc.bad)
				}
			})
		}
	}
}

// TestJWKSEncoding pins what the JWK Set publishes and the key ids: the
// Ed25519 key of RFC 8037 appendix A has the thumbprint the RFC gives, a
// P-256 key's kid is the RFC 7638 thumbprint of the members published, and
// an HMAC key (kept out of the set) has the thumbprint of its "oct" JWK.
func TestJWKSEncoding(t *testing.T) {
	seed, _ := base64.RawURLEncoding.DecodeString("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
	rfcKey := pemOf("PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(seed))))
	ec := genPEM(t, tokens.AlgES256)
	hs := genPEM(t, tokens.AlgHS256)
	svc, err := tokens.New(tokens.Config{Issuer: "lrs", KeyFile: writeFile(t, slices.Concat(hs, ec, rfcKey)), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []map[string]string }
	if err := json.Unmarshal(svc.JWKS(), &set); err != nil || len(set.Keys) != 2 {
		t.Fatalf("JWKS %s: %v", svc.JWKS(), err)
	}
	ed, es := set.Keys[1], set.Keys[0]
	want := map[string]string{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
		"kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "alg": "EdDSA", "use": "sig"}
	if !maps.Equal(ed, want) {
		t.Errorf("Ed25519 JWK %v, want %v", ed, want)
	}
	thumb := func(members string) string {
		sum := sha256.Sum256([]byte(members))
		return b64(sum[:])
	}
	x, _ := base64.RawURLEncoding.DecodeString(es["x"])
	y, _ := base64.RawURLEncoding.DecodeString(es["y"])
	if es["kty"] != "EC" || es["crv"] != "P-256" || len(x) != 32 || len(y) != 32 || es["alg"] != "ES256" || es["use"] != "sig" || len(es) != 7 ||
		es["kid"] != thumb(fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":%q,"y":%q}`, es["x"], es["y"])) {
		t.Errorf("P-256 JWK %v", es)
	}
	// The HMAC key signs when it is the newest; its kid names it.
	hsOnly, err := tokens.New(tokens.Config{Issuer: "lrs", KeyFile: writeFile(t, hs), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if string(hsOnly.JWKS()) != `{"keys":[]}` {
		t.Errorf("an HMAC-only key set publishes %s", hsOnly.JWKS())
	}
	tok, err := hsOnly.Issue(admin, admin.Scopes)
	if err != nil {
		t.Fatal(err)
	}
	parsed, _, _ := jwt.NewParser().ParseUnverified(tok.AccessToken, jwt.MapClaims{})
	block, _ := pem.Decode(hs)
	if kid := parsed.Header["kid"]; kid != thumb(fmt.Sprintf(`{"k":%q,"kty":"oct"}`, b64(block.Bytes))) {
		t.Errorf("HMAC kid %v", kid)
	}
}

// TestExternalJWKS reads an identity provider's JWK Set key by key: the
// public signature keys of the supported kinds are used, and weak, private,
// symmetric, malformed and unknown keys are skipped without spoiling the
// others.
func TestExternalJWKS(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	raw, _ := ecKey.PublicKey.Bytes()
	x, y := b64(raw[1:49]), b64(raw[49:])
	e := b64(big.NewInt(int64(rsaKey.E)).Bytes())
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{
		{"kty": "RSA", "kid": "rsa", "n": b64(rsaKey.N.Bytes()), "e": e, "alg": "RS256"},
		{"kty": "RSA", "kid": "weak", "n": b64(weak.N.Bytes()), "e": e},
		{"kty": "EC", "kid": "ec", "crv": "P-384", "x": x, "y": y},
		{"kty": "EC", "kid": "private", "crv": "P-384", "x": x, "y": y, "d": b64(ecKey.D.Bytes())},
		{"kty": "EC", "kid": "short", "crv": "P-384", "x": x[2:], "y": y},
		{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": b64(edPub), "use": "sig"},
		{"kty": "OKP", "kid": "x25519", "crv": "X25519", "x": b64(edPub)},
		{"kty": "oct", "kid": "oct", "k": b64([]byte("0123456789abcdef0123456789abcdef"))},
		{"kty": "XYZ", "kid": "unknown"},
	}})
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(jwks) }))
	defer idp.Close()
	svc, err := tokens.New(tokens.Config{Issuer: "lrs", Logger: quiet, CacheSize: -1, External: []tokens.ExternalIssuer{{
		Issuer: "https://idp.test", JWKSURI: idp.URL, Audience: []string{"lrs"}, Algorithms: []string{"RS256", "ES384", "EdDSA"},
		Tenant: "default", ScopeClaims: []string{"scp"}}}})
	if err != nil {
		t.Fatal(err)
	}
	mint := func(m jwt.SigningMethod, kid string, key any) string {
		tok := jwt.NewWithClaims(m, jwt.MapClaims{"iss": "https://idp.test", "aud": "lrs", "sub": "c1", "scp": "statements/read",
			"exp": time.Now().Add(time.Hour).Unix()})
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ctx := context.Background()
	for _, tc := range []struct {
		kid string
		tok string
		ok  bool
	}{
		{"rsa", mint(jwt.SigningMethodRS256, "rsa", rsaKey), true},
		{"ec", mint(jwt.SigningMethodES384, "ec", ecKey), true},
		{"ed", mint(jwt.SigningMethodEdDSA, "ed", edKey), true},
		{"weak", mint(jwt.SigningMethodRS256, "weak", weak), false},
		{"private", mint(jwt.SigningMethodES384, "private", ecKey), false},
		{"short", mint(jwt.SigningMethodES384, "short", ecKey), false},
		{"x25519", mint(jwt.SigningMethodEdDSA, "x25519", edKey), false},
	} {
		_, err := svc.Verify(ctx, tc.tok)
		if tc.ok && err != nil {
			t.Errorf("key %s: %v", tc.kid, err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "kid")) {
			t.Errorf("key %s: %v, want it skipped", tc.kid, err)
		}
	}
}
