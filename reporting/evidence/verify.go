package evidence

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/xapi-lrs/lrs/errs"
)

// Algorithms a pack may be signed with: those of the LRS's public keys.
// Any other ("none", HMAC, RSA) is refused.
const (
	algEdDSA = "EdDSA"
	algES256 = "ES256"
)

// JWKS is a set of public keys that may have signed packs, by key id.
type JWKS struct {
	keys map[string]jwkKey
}

// jwkKey is one usable key of a JWKS.
type jwkKey struct {
	alg string // the algorithm it verifies
	pub any    // ed25519.PublicKey or *ecdsa.PublicKey (P-256)
}

// ParseJWKS reads a JWK Set (RFC 7517), as the LRS publishes it at
// /api/v1/jwks.json. Keys other than Ed25519 and ECDSA P-256 signature
// keys, or without a kid, are left out; a private key is an error (publish
// and pass only public keys).
func ParseJWKS(data []byte) (*JWKS, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil || set.Keys == nil {
		return nil, errs.E(errs.Invalid, "not a JWK Set: want a JSON object with \"keys\"")
	}
	out := &JWKS{keys: map[string]jwkKey{}}
	for i, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue // a kind of key packs are never signed with
		}
		if !k.IsPublic() {
			return nil, errs.E(errs.Invalid, "key %d of the JWK Set is private or symmetric: use the public keys", i+1)
		}
		if k.KeyID == "" || k.Use != "" && k.Use != "sig" {
			continue
		}
		var kk jwkKey
		switch pub := k.Key.(type) {
		case ed25519.PublicKey:
			kk = jwkKey{algEdDSA, pub}
		case *ecdsa.PublicKey:
			if pub.Curve != elliptic.P256() {
				continue
			}
			kk = jwkKey{algES256, pub}
		default:
			continue
		}
		if k.Algorithm != "" && k.Algorithm != kk.alg {
			continue
		}
		out.keys[k.KeyID] = kk
	}
	return out, nil
}

// Len returns the number of usable keys.
func (s *JWKS) Len() int { return len(s.keys) }

// header is the protected header of a pack's JWS.
type header struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit,omitempty"`
}

// b64 decodes base64url without padding, refusing any other spelling of
// the same bytes (so that no character of a pack can change unnoticed).
var b64 = base64.RawURLEncoding.Strict()

// Verify checks a signed pack (a JWS in compact serialization; white space
// around it is ignored) against keys and returns what it holds, with
// KeyID and Algorithm set. It fails with an errs.Invalid error when the
// pack is not one, is not signed by one of keys with EdDSA or ES256, or
// was altered in any byte since it was signed.
func Verify(pack []byte, keys *JWKS) (*Pack, error) {
	s := string(bytes.TrimSpace(pack))
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, invalid("not a signed evidence pack: want a JWS in compact serialization (three base64url parts joined by dots)")
	}
	hb, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, invalid("the JWS header is not base64url: %v", err)
	}
	var h header
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, invalid("the JWS header is not JSON: %v", err)
	}
	switch {
	case h.Alg != algEdDSA && h.Alg != algES256:
		return nil, invalid("the pack is signed with algorithm %q; evidence packs are signed with %s or %s", h.Alg, algEdDSA, algES256)
	case h.Typ != PackType:
		return nil, invalid("the JWS is of type %q, not an evidence pack (%q)", h.Typ, PackType)
	case h.Crit != nil:
		return nil, invalid("the JWS header has critical extensions (crit), which evidence packs never use")
	case h.Kid == "":
		return nil, invalid("the JWS header names no key (kid)")
	}
	if keys == nil {
		keys = &JWKS{}
	}
	key, ok := keys.keys[h.Kid]
	if !ok {
		return nil, invalid("the pack was signed by key %q, which is not among the %d keys given", h.Kid, keys.Len())
	}
	if key.alg != h.Alg {
		return nil, invalid("key %q verifies %s, but the pack says %s", h.Kid, key.alg, h.Alg)
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, invalid("the JWS payload is not base64url: %v", err)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, invalid("the JWS signature is not base64url: %v", err)
	}
	if !verifySignature(key, []byte(parts[0]+"."+parts[1]), sig) {
		return nil, invalid("the signature does not match: the pack was altered after it was signed, or key %q did not sign it", h.Kid)
	}
	var p Pack
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, invalid("the signed payload is not an evidence pack: %v", err)
	}
	if p.Type != Type || p.Version != Version {
		return nil, invalid("the signed payload is a %q version %d, not an evidence pack version %d", p.Type, p.Version, Version)
	}
	p.KeyID, p.Algorithm = h.Kid, h.Alg
	return &p, nil
}

// verifySignature checks a JWS signature (RFC 7518: ES256 is r || s, 32
// bytes each).
func verifySignature(k jwkKey, input, sig []byte) bool {
	switch pub := k.pub.(type) {
	case ed25519.PublicKey:
		return ed25519.Verify(pub, input, sig)
	case *ecdsa.PublicKey:
		if len(sig) != 64 {
			return false
		}
		digest := sha256.Sum256(input)
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(pub, digest[:], r, s)
	}
	return false
}

// invalid is the error of a pack that does not verify.
func invalid(format string, args ...any) *errs.Error {
	return errs.E(errs.Invalid, format, args...)
}
