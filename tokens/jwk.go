package tokens

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// jwk is a JSON Web Key (RFC 7517) as published in a JWK Set. Only public
// keys are read and written here; a JWK carrying private or symmetric key
// material is refused when read.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`

	// Private and symmetric members, only to notice and refuse them.
	D string `json:"d,omitempty"`
	K string `json:"k,omitempty"`
}

// jwkSet is a JWK Set (RFC 7517 section 5).
type jwkSet struct {
	Keys []json.RawMessage `json:"keys"`
}

// minRSABits is the smallest RSA modulus accepted from an identity provider.
const minRSABits = 2048

var b64 = base64.RawURLEncoding

// publicJWK returns the JWK of a public key (Ed25519 or ECDSA P-256).
func publicJWK(pub any, kid, alg string) (jwk, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return jwk{Kty: "OKP", Crv: "Ed25519", X: b64.EncodeToString(k), Kid: kid, Alg: alg, Use: "sig"}, nil
	case *ecdsa.PublicKey:
		raw, err := k.Bytes() // 0x04 || x || y
		if err != nil {
			return jwk{}, err
		}
		n := (len(raw) - 1) / 2
		crv, ok := curveNames[k.Curve]
		if !ok {
			return jwk{}, errors.New("unsupported elliptic curve")
		}
		return jwk{Kty: "EC", Crv: crv, X: b64.EncodeToString(raw[1 : 1+n]), Y: b64.EncodeToString(raw[1+n:]),
			Kid: kid, Alg: alg, Use: "sig"}, nil
	}
	return jwk{}, fmt.Errorf("unsupported public key type %T", pub)
}

var curveNames = map[elliptic.Curve]string{elliptic.P256(): "P-256", elliptic.P384(): "P-384", elliptic.P521(): "P-521"}

var curvesByName = map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}

// thumbprint returns the RFC 7638 JWK thumbprint (SHA-256, base64url) of a
// public key, or of an HMAC key: a key id that names exactly one key.
func thumbprint(key any) (string, error) {
	var members string
	switch k := key.(type) {
	case []byte: // HMAC: a hash of a 256-bit random secret reveals nothing of it
		members = fmt.Sprintf(`{"k":%q,"kty":"oct"}`, b64.EncodeToString(k))
	default:
		j, err := publicJWK(key, "", "")
		if err != nil {
			return "", err
		}
		if j.Kty == "OKP" {
			members = fmt.Sprintf(`{"crv":%q,"kty":"OKP","x":%q}`, j.Crv, j.X)
		} else {
			members = fmt.Sprintf(`{"crv":%q,"kty":"EC","x":%q,"y":%q}`, j.Crv, j.X, j.Y)
		}
	}
	sum := sha256.Sum256([]byte(members))
	return b64.EncodeToString(sum[:]), nil
}

// publicKey returns the public key a JWK describes: ed25519.PublicKey,
// *ecdsa.PublicKey (P-256, P-384, P-521) or *rsa.PublicKey. Private and
// symmetric keys, unknown key types and weak RSA keys are errors.
func (j *jwk) publicKey() (any, error) {
	if j.D != "" || j.K != "" {
		return nil, errors.New("the JWK holds private or symmetric key material")
	}
	switch j.Kty {
	case "OKP":
		if j.Crv != "Ed25519" {
			return nil, fmt.Errorf("unsupported OKP curve %q", j.Crv)
		}
		x, err := b64.DecodeString(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("bad Ed25519 x")
		}
		return ed25519.PublicKey(x), nil
	case "EC":
		curve, ok := curvesByName[j.Crv]
		if !ok {
			return nil, fmt.Errorf("unsupported EC curve %q", j.Crv)
		}
		size := (curve.Params().BitSize + 7) / 8
		x, errX := b64.DecodeString(j.X)
		y, errY := b64.DecodeString(j.Y)
		if errX != nil || errY != nil || len(x) != size || len(y) != size {
			return nil, errors.New("bad EC coordinates")
		}
		return ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
	case "RSA":
		n, errN := b64.DecodeString(j.N)
		e, errE := b64.DecodeString(j.E)
		if errN != nil || errE != nil || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("bad RSA modulus or exponent")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key of %d bits is too weak (at least %d)", pub.N.BitLen(), minRSABits)
		}
		if pub.E < 3 || pub.E%2 == 0 {
			return nil, errors.New("bad RSA exponent")
		}
		return pub, nil
	}
	return nil, fmt.Errorf("unsupported key type %q", j.Kty)
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
