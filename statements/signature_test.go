package statements

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/xapi-lrs/lrs/errs"
)

// signKeys are the keys of the signature tests: an RSA key with a
// self-signed certificate, and another RSA key.
var signKeys = sync.OnceValues(func() (*rsa.PrivateKey, []byte) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "xAPI test signer"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return key, der
})

var otherKey = sync.OnceValue(func() *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return key
})

// signJWS signs payload in the JWS Compact Serialization.
func signJWS(t *testing.T, alg jose.SignatureAlgorithm, key any, payload []byte, headers map[jose.HeaderKey]any) []byte {
	t.Helper()
	opts := &jose.SignerOptions{}
	for k, v := range headers {
		opts = opts.WithHeader(k, v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}

// signedStatement returns statement js with a signature attachment for
// jws, as the suite's helper.signStatement builds it.
func signedStatement(t *testing.T, js string, jws []byte) map[string]any {
	t.Helper()
	s := decodeStmt(t, js)
	list, _ := s["attachments"].([]any)
	s["attachments"] = append(list, map[string]any{
		"usageType":   SignatureUsageType,
		"display":     map[string]any{"en-US": "Signed by the Test Suite"},
		"description": map[string]any{"en-US": "Signed by the Test Suite"},
		"contentType": "application/octet-stream",
		"length":      json.Number(strconv.Itoa(len(jws))),
		"sha2":        sha256Hex(jws),
	})
	return s
}

// signBase is the conformance suite's default statement with an id.
const signBase = `{"id":"33cff416-e331-4c9d-969e-5373a1756120",
	"actor":{"objectType":"Agent","name":"xAPI mbox","mbox":"mailto:xapi@adlnet.gov"},
	"verb":{"id":"http://adlnet.gov/expapi/verbs/attended","display":{"en-GB":"attended","en-US":"attended"}},
	"object":{"objectType":"Activity","id":"http://www.example.com/meetings/occurances/34534"}}`

func TestSignVerify(t *testing.T) {
	key, der := signKeys()
	x5c := map[jose.HeaderKey]any{"x5c": []string{base64.StdEncoding.EncodeToString(der)}}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(signBase)
	b64 := base64.RawURLEncoding.EncodeToString

	tests := []struct {
		name     string
		jws      []byte
		stmt     string // the statement sent, before the signature attachment is added
		errMatch string // "" for a valid signature
	}{
		{"RS256 with x5c", signJWS(t, jose.RS256, key, payload, x5c), signBase, ""},
		{"RS384 with x5c", signJWS(t, jose.RS384, key, payload, x5c), signBase, ""},
		{"RS512 with x5c", signJWS(t, jose.RS512, key, payload, x5c), signBase, ""},
		{"RS256 without x5c (as the suite signs)", signJWS(t, jose.RS256, otherKey(), payload, nil), signBase, ""},
		{"RS256 with the key as jwk", signJWS(t, jose.RS256, key, payload,
			map[jose.HeaderKey]any{"jwk": jose.JSONWebKey{Key: &key.PublicKey}}), signBase, ""},
		{"payload with other serialisation and without id", signJWS(t, jose.RS256, key,
			[]byte(`{"object":{"id":"http://www.example.com/meetings/occurances/34534"},
			"verb":{"id":"http://adlnet.gov/expapi/verbs/attended"},
			"actor":{"mbox":"mailto:xapi@adlnet.gov","name":"xAPI mbox"}}`), x5c), signBase, ""},
		{"payload without the timestamp the statement has", signJWS(t, jose.RS256, key, payload, x5c),
			strings.Replace(signBase, `"id":`, `"timestamp":"2024-01-01T00:00:00Z","id":`, 1), ""},
		{"timestamp in another zone", signJWS(t, jose.RS256, key,
			[]byte(strings.Replace(signBase, `"id":`, `"timestamp":"2024-01-01T02:00:00+02:00","id":`, 1)), x5c),
			strings.Replace(signBase, `"id":`, `"timestamp":"2024-01-01T00:00:00Z","id":`, 1), ""},
		{"other attachments are part of the original", signJWS(t, jose.RS256, key,
			[]byte(strings.Replace(signBase, `"id":`, `"attachments":[{"usageType":"http://example.com/u","display":{"en":"x"},"contentType":"text/plain","length":27,"sha2":"`+attHash+`"}],"id":`, 1)), x5c),
			strings.Replace(signBase, `"id":`, `"attachments":[{"usageType":"http://example.com/u","display":{"en":"x"},"contentType":"text/plain","length":27,"sha2":"`+attHash+`"}],"id":`, 1), ""},
		{"stored, authority and version ignored", signJWS(t, jose.RS256, key,
			[]byte(strings.Replace(signBase, `"id":`, `"version":"1.0.0","authority":{"mbox":"mailto:x@example.com"},"id":`, 1)), x5c),
			signBase, ""},

		// XAPI-00117: only RS256, RS384, RS512.
		{"HS256", signJWS(t, jose.HS256, []byte("a secret key of thirty-two bytes!"), payload, nil), signBase, "HS256"},
		{"ES256", signJWS(t, jose.ES256, ecKey, payload, nil), signBase, "ES256"},
		{"PS256", signJWS(t, jose.PS256, key, payload, x5c), signBase, "PS256"},
		{"alg none", []byte(b64([]byte(`{"alg":"none"}`)) + "." + b64(payload) + "."), signBase, "none"},
		// XAPI-00116: the payload must be the statement, as JSON.
		{"payload not JSON (the suite's breakJson)", signJWS(t, jose.RS256, key,
			[]byte(strings.Replace(signBase, `"`, `'`, 1)), x5c), signBase, "not valid JSON"},
		{"payload not an object", signJWS(t, jose.RS256, key, []byte(`["x"]`), x5c), signBase, "JSON object"},
		{"payload differs", signJWS(t, jose.RS256, key,
			[]byte(strings.Replace(signBase, "verbs/attended", "verbs/passed", 1)), x5c), signBase, `"verb"`},
		{"payload with another id", signJWS(t, jose.RS256, key,
			[]byte(strings.Replace(signBase, "33cff416", "43cff416", 1)), x5c), signBase, `"id"`},
		{"payload with another timestamp", signJWS(t, jose.RS256, key,
			[]byte(strings.Replace(signBase, `"id":`, `"timestamp":"2024-01-01T00:00:01Z","id":`, 1)), x5c),
			strings.Replace(signBase, `"id":`, `"timestamp":"2024-01-01T00:00:00Z","id":`, 1), `"timestamp"`},
		{"statement has an attachment the original has not", signJWS(t, jose.RS256, key, payload, x5c),
			strings.Replace(signBase, `"id":`, `"attachments":[{"usageType":"http://example.com/u","display":{"en":"x"},"contentType":"text/plain","length":27,"sha2":"`+attHash+`"}],"id":`, 1),
			`"attachments"`},
		// Signature checks against the certificate.
		{"signed with another key than the certificate's", signJWS(t, jose.RS256, otherKey(), payload, x5c), signBase, "does not verify"},
		{"x5c not a certificate", signJWS(t, jose.RS256, key, payload, map[jose.HeaderKey]any{"x5c": []string{"bm90IGEgY2VydA=="}}), signBase, "x5c"},
		{"tampered payload", func() []byte {
			parts := strings.Split(string(signJWS(t, jose.RS256, key, payload, x5c)), ".")
			parts[1] = b64([]byte(strings.Replace(signBase, "xAPI mbox", "xAPI mbox!", 1)))
			return []byte(strings.Join(parts, "."))
		}(), strings.Replace(signBase, "xAPI mbox", "xAPI mbox!", 1), "does not verify"},
		// Not a compact JWS.
		{"JSON serialization", func() []byte {
			signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, nil)
			obj, _ := signer.Sign(payload)
			return []byte(obj.FullSerialize())
		}(), signBase, "Compact Serialization"},
		{"garbage", []byte("not a jws"), signBase, "Compact Serialization"},
		{"empty", nil, signBase, "Compact Serialization"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := signedStatement(t, tt.stmt, tt.jws)
			before := formatJSON(t, s)
			err := VerifySignature(s, tt.jws)
			if formatJSON(t, s) != before {
				t.Error("VerifySignature modified the statement")
			}
			if tt.errMatch == "" {
				if err != nil {
					t.Fatalf("VerifySignature: %v", err)
				}
				return
			}
			checkErr(t, err, errs.Invalid, "signature")
			if !strings.Contains(err.Error(), tt.errMatch) {
				t.Errorf("error %q does not mention %q", err, tt.errMatch)
			}
		})
	}
}

// TestSignSpecExample verifies the spec's Appendix D example: the signed
// statement with its JWS (RS256, x5c chain with an expired certificate,
// payload serialised with CRLF line breaks and "version" 1.0.0).
func TestSignSpecExample(t *testing.T) {
	s := specStatement(t, "appendix-d-signed.json")
	if err := VerifySignature(s, []byte(specSignedJWS)); err != nil {
		t.Fatalf("spec example: %v", err)
	}
	// The same JWS does not sign a changed statement.
	s["timestamp"] = "2013-04-01T12:00:01Z"
	if err := VerifySignature(s, []byte(specSignedJWS)); err == nil {
		t.Error("changed statement accepted")
	}
	// Nor does a JWS whose signature bytes are damaged.
	s["timestamp"] = "2013-04-01T12:00:00Z"
	bad := []byte(specSignedJWS)
	bad[len(bad)-2] ^= 1
	s["attachments"].([]any)[0].(map[string]any)["sha2"] = sha256Hex(bad)
	if err := VerifySignature(s, bad); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("damaged signature: %v, want a verification failure", err)
	}
}

// specSignedJWS is the JWS of the spec's Appendix D (xAPI 1.0.3 Data,
// "Example Signed Statement"): RS256 with an x5c chain, signed in 2013.
const specSignedJWS = "ew0KICAgICJhbGciOiAiUlMyNTYiLA0KICAgICJ4NWMiOiBbDQogICAgICAgICJNSUlEQVRDQ0FtcWdBd0lCQWdJSkFNQjFjc051QTYra01BMEdDU3FHU0liM0RRRUJCUVVBTUhFeEN6QUpCZ05WQkFZVEFsVlRNUkl3RUFZRFZRUUlFd2xVWlc1dVpYTnpaV1V4R0RBV0JnTlZCQW9URDBWNFlXMXdiR1VnUTI5dGNHRnVlVEVRTUE0R0ExVUVBeE1IUlhoaGJYQnNaVEVpTUNBR0NTcUdTSWIzRFFFSkFSWVRaWGhoYlhCc1pVQmxlR0Z0Y0d4bExtTnZiVEFlRncweE16QTBNRFF4TlRJNE16QmFGdzB4TkRBME1EUXhOVEk0TXpCYU1JR1dNUXN3Q1FZRFZRUUdFd0pWVXpFU01CQUdBMVVFQ0JNSlZHVnVibVZ6YzJWbE1SRXdEd1lEVlFRSEV3aEdjbUZ1YTJ4cGJqRVlNQllHQTFVRUNoTVBSWGhoYlhCc1pTQkRiMjF3WVc1NU1SQXdEZ1lEVlFRTEV3ZEZlR0Z0Y0d4bE1SQXdEZ1lEVlFRREV3ZEZlR0Z0Y0d4bE1TSXdJQVlKS29aSWh2Y05BUWtCRmhObGVHRnRjR3hsUUdWNFlXMXdiR1V1WTI5dE1JR2ZNQTBHQ1NxR1NJYjNEUUVCQVFVQUE0R05BRENCaVFLQmdRRGp4dlpYRjMwV0w0b0tqWllYZ1IwWnlhWCt1M3k2K0pxVHFpTmtGYS9WVG5ldDZMeTJPVDZabW1jSkVQbnEzVW5ld3BIb09RK0dmaGhUa1cxM2owNmo1aU5uNG9iY0NWV1RMOXlYTnZKSCtLbyt4dTRZbC95U1BScklQeVRqdEhkRzBNMlh6SWxtbUxxbStDQVMrS0NiSmVINHRmNTQza0lXQzVwQzVwM2NWUUlEQVFBQm8zc3dlVEFKQmdOVkhSTUVBakFBTUN3R0NXQ0dTQUdHK0VJQkRRUWZGaDFQY0dWdVUxTk1JRWRsYm1WeVlYUmxaQ0JEWlhKMGFXWnBZMkYwWlRBZEJnTlZIUTRFRmdRVVZzM3Y1YWZFZE9lb1llVmFqQVFFNHYwV1MxUXdId1lEVlIwakJCZ3dGb0FVeVZJYzN5dnJhNEVCejIwSTRCRjM5SUFpeEJrd0RRWUpLb1pJaHZjTkFRRUZCUUFEZ1lFQWdTL0ZGNUQwSG5qNDRydlQ2a2duM2tKQXZ2MmxqL2Z5anp0S0lyWVMzM2xqWEduNmdHeUE0cXRiWEEyM1ByTzR1Yy93WUNTRElDRHBQb2JoNjJ4VENkOXFPYktoZ3dXT2kwNVBTQkxxVXUzbXdmQWUxNUxKQkpCcVBWWjRLMGtwcGVQQlU4bTZhSVpvSDU3TC85dDRPb2FMOHlLcy9xaktGZUkxT0ZXWnh2QT0iLA0KICAgICAgICAiTUlJRE56Q0NBcUNnQXdJQkFnSUpBTUIxY3NOdUE2K2pNQTBHQ1NxR1NJYjNEUUVCQlFVQU1IRXhDekFKQmdOVkJBWVRBbFZUTVJJd0VBWURWUVFJRXdsVVpXNXVaWE56WldVeEdEQVdCZ05WQkFvVEQwVjRZVzF3YkdVZ1EyOXRjR0Z1ZVRFUU1BNEdBMVVFQXhNSFJYaGhiWEJzWlRFaU1DQUdDU3FHU0liM0RRRUpBUllUWlhoaGJYQnNaVUJsZUdGdGNHeGxMbU52YlRBZUZ3MHhNekEwTURReE5USTFOVE5hRncweU16QTBNREl4TlRJMU5UTmFNSEV4Q3pBSkJnTlZCQVlUQWxWVE1SSXdFQVlEVlFRSUV3bFVaVzV1WlhOelpXVXhHREFXQmdOVkJBb1REMFY0WVcxd2JHVWdRMjl0Y0dGdWVURVFNQTRHQTFVRUF4TUhSWGhoYlhCc1pURWlNQ0FHQ1NxR1NJYjNEUUVKQVJZVFpYaGhiWEJzWlVCbGVHRnRjR3hsTG1OdmJUQ0JuekFOQmdrcWhraUc5dzBCQVFFRkFBT0JqUUF3Z1lrQ2dZRUExc0JuQldQWjBmN1dKVUZUSnk1KzAxU2xTNVo2RERENlV5ZTl2SzlBeWNnVjVCMytXQzhIQzV1NWg5MU11akFDMUFSUFZVT3RzdlBSczQ1cUtORklnSUdSWEtQQXdaamF3RUkyc0NKUlNLVjQ3aTZCOGJEdjRXa3VHdlFhdmVaR0kwcWxtTjVSMUVpbTJnVUl0UmoxaGdjQzlyUWF2amxuRktEWTJybFhHdWtDQXdFQUFhT0IxakNCMHpBZEJnTlZIUTRFRmdRVXlWSWMzeXZyYTRFQnoyMEk0QkYzOUlBaXhCa3dnYU1HQTFVZEl3U0JtekNCbUlBVXlWSWMzeXZyYTRFQnoyMEk0QkYzOUlBaXhCbWhkYVJ6TUhFeEN6QUpCZ05WQkFZVEFsVlRNUkl3RUFZRFZRUUlFd2xVWlc1dVpYTnpaV1V4R0RBV0JnTlZCQW9URDBWNFlXMXdiR1VnUTI5dGNHRnVlVEVRTUE0R0ExVUVBeE1IUlhoaGJYQnNaVEVpTUNBR0NTcUdTSWIzRFFFSkFSWVRaWGhoYlhCc1pVQmxlR0Z0Y0d4bExtTnZiWUlKQU1CMWNzTnVBNitqTUF3R0ExVWRFd1FGTUFNQkFmOHdEUVlKS29aSWh2Y05BUUVGQlFBRGdZRUFEaHdUZWJHazczNXlLaG04RHFDeHZObkVaME54c1lFWU9qZ1JHMXlYVGxXNXBFNjkxZlNINUFaK1Q2ZnB3cFpjV1k1UVlrb042RG53ak94R2tTZlFDMy95R21jVURLQlB3aVo1TzJzOUMrZkUxa1VFbnJYMlhlYTRhZ1ZuZ016UjhEUTZvT2F1TFdxZWhEQitnMkVOV1JMb1ZnUyttYTUvWWNzMEdUeXJFQ1k9Ig0KICAgIF0NCn0.ew0KICAgICJ2ZXJzaW9uIjogIjEuMC4wIiwNCiAgICAiaWQiOiAiMzNjZmY0MTYtZTMzMS00YzlkLTk2OWUtNTM3M2ExNzU2MTIwIiwNCiAgICAiYWN0b3IiOiB7DQogICAgICAgICJtYm94IjogIm1haWx0bzpleGFtcGxlQGV4YW1wbGUuY29tIiwNCiAgICAgICAgIm5hbWUiOiAiRXhhbXBsZSBMZWFybmVyIiwNCiAgICAgICAgIm9iamVjdFR5cGUiOiAiQWdlbnQiDQogICAgfSwNCiAgICAidmVyYiI6IHsNCiAgICAgICAgImlkIjogImh0dHA6Ly9hZGxuZXQuZ292L2V4cGFwaS92ZXJicy9leHBlcmllbmNlZCIsDQogICAgICAgICJkaXNwbGF5Ijogew0KICAgICAgICAgICAgImVuLVVTIjogImV4cGVyaWVuY2VkIg0KICAgICAgICB9DQogICAgfSwNCiAgICAib2JqZWN0Ijogew0KICAgICAgICAiaWQiOiAiaHR0cHM6Ly93d3cueW91dHViZS5jb20vd2F0Y2g_dj14aDRrSWlIM1NtOCIsDQogICAgICAgICJvYmplY3RUeXBlIjogIkFjdGl2aXR5IiwNCiAgICAgICAgImRlZmluaXRpb24iOiB7DQogICAgICAgICAgICAibmFtZSI6IHsNCiAgICAgICAgICAgICAgICAiZW4tVVMiOiAiVGF4IFRpcHMgJiBJbmZvcm1hdGlvbiA6IEhvdyB0byBGaWxlIGEgVGF4IFJldHVybiAiDQogICAgICAgICAgICB9LA0KICAgICAgICAgICAgImRlc2NyaXB0aW9uIjogew0KICAgICAgICAgICAgICAgICJlbi1VUyI6ICJGaWxpbmcgYSB0YXggcmV0dXJuIHdpbGwgcmVxdWlyZSBmaWxsaW5nIG91dCBlaXRoZXIgYSAxMDQwLCAxMDQwQSBvciAxMDQwRVogZm9ybSINCiAgICAgICAgICAgIH0NCiAgICAgICAgfQ0KICAgIH0sDQogICAgInRpbWVzdGFtcCI6ICIyMDEzLTA0LTAxVDEyOjAwOjAwWiINCn0.FWuwaPhwUbkk7h9sKW5zSvjsYNugvxJ-TrVaEgt_DCUT0bmKhQScRrjMB6P9O50uznPwT66oF1NnU_G0HVhRzS5voiXE-y7tT3z0M3-8A6YK009Bk_digVUul-HA4Fpd5IjoBBGe3yzaQ2ZvzarvRuipvNEQCI0onpfuZZJQ0d8"

func TestTruncateDuration(t *testing.T) {
	for in, want := range map[string]string{
		"PT1.2370S": "PT1.23S", "PT1.23S": "PT1.23S", "PT4.50S": "PT4.5S", "PT4.00S": "PT4S",
		"PT0.009S": "PT0S", "P1D": "P1D", "PT5S": "PT5S", "P1DT2H3M0.12999S": "P1DT2H3M0.12S",
	} {
		if got := truncateDuration(in); got != want {
			t.Errorf("truncateDuration(%q) = %q, want %q", in, got, want)
		}
	}
}
