package tokens

import (
	"encoding/json"

	"github.com/xapi-lrs/lrs/errs"
)

// SignJWS signs payload with the server's newest key, as it signs tokens:
// a JWS (RFC 7515) in compact serialization whose protected header holds
// alg, kid (the key's id in JWKS) and typ. It is for documents the server
// vouches for, such as evidence packs, which anyone can check against
// JWKS; so an HMAC key, which only the server could check, cannot sign
// them (an errs.Unavailable error).
func (s *Service) SignJWS(payload []byte, typ string) (string, error) {
	k := s.keys.get(s.cfg.Now()).signer
	if _, hmac := k.sign.([]byte); hmac {
		return "", errs.E(errs.Unavailable, "the server's newest token key is an HMAC secret, whose signatures no one else can check: "+
			"append an Ed25519 or ECDSA P-256 key to the token key file to sign documents")
	}
	h, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ,omitempty"`
	}{k.method.Alg(), k.kid, typ})
	if err != nil {
		return "", errs.Wrap(err, "encoding a JWS header")
	}
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(payload)
	sig, err := k.method.Sign(input, k.sign)
	if err != nil {
		return "", errs.Wrap(err, "signing a document")
	}
	return input + "." + b64.EncodeToString(sig), nil
}
