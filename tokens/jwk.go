package tokens

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// JSON Web Keys (RFC 7517) are encoded, decoded and thumbprinted by
// go-jose's JSONWebKey; this file holds what the LRS adds: which keys it
// publishes and accepts, and the thumbprint of an HMAC key.

// jwkSet is a JWK Set (RFC 7517 section 5) whose keys are decoded one by
// one: jose.JSONWebKeySet fails as a whole on one key it cannot read, and an
// identity provider's set may hold keys of kinds the LRS does not use, which
// the RFC says to skip.
type jwkSet struct {
	Keys []json.RawMessage `json:"keys"`
}

// minRSABits is the smallest RSA modulus accepted from an identity provider.
const minRSABits = 2048

var b64 = base64.RawURLEncoding

// publicJWK returns the JWK of a public key (Ed25519 or ECDSA P-256) for
// the server's JWK Set.
func publicJWK(pub any, kid, alg string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"}
}

// thumbprint returns the RFC 7638 JWK thumbprint (SHA-256, base64url) of a
// public key, or of an HMAC key: a key id that names exactly one key.
func thumbprint(key any) (string, error) {
	if secret, ok := key.([]byte); ok {
		// go-jose has no thumbprint of a symmetric key, so its RFC 7638
		// members (section 3.2: k and kty) are written here. A hash of a
		// 256-bit random secret reveals nothing of it.
		sum := sha256.Sum256(fmt.Appendf(nil, `{"k":%q,"kty":"oct"}`, b64.EncodeToString(secret)))
		return b64.EncodeToString(sum[:]), nil
	}
	sum, err := (&jose.JSONWebKey{Key: key}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return b64.EncodeToString(sum), nil
}

// parseRemoteJWK reads one key of an identity provider's JWK Set and
// returns its public key: ed25519.PublicKey, *ecdsa.PublicKey (P-256,
// P-384, P-521) or *rsa.PublicKey. Private and symmetric keys, unknown key
// types and weak RSA keys are errors.
func parseRemoteJWK(raw []byte) (jose.JSONWebKey, error) {
	var j jose.JSONWebKey
	if err := j.UnmarshalJSON(raw); err != nil {
		return j, err
	}
	if !j.IsPublic() {
		return j, errors.New("the JWK holds private or symmetric key material")
	}
	switch k := j.Key.(type) {
	case ed25519.PublicKey, *ecdsa.PublicKey:
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return j, fmt.Errorf("RSA key of %d bits is too weak (at least %d)", k.N.BitLen(), minRSABits)
		}
		if k.E < 3 || k.E%2 == 0 {
			return j, errors.New("bad RSA exponent")
		}
	default:
		return j, fmt.Errorf("unsupported key type %T", j.Key)
	}
	return j, nil
}

// keyFitsAlg reports whether key is of the kind alg verifies with. It is the
// guard against algorithm confusion: a public key is never an HMAC secret,
// and an ES256 token is never checked with an RSA key.
func keyFitsAlg(key any, alg string) bool {
	switch k := key.(type) {
	case ed25519.PublicKey:
		return alg == "EdDSA"
	case *ecdsa.PublicKey:
		return alg == "ES256" && k.Curve == elliptic.P256() || alg == "ES384" && k.Curve == elliptic.P384() ||
			alg == "ES512" && k.Curve == elliptic.P521()
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case []byte:
		return alg == "HS256"
	}
	return false
}
