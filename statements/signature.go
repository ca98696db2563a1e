package statements

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/xapi-lrs/lrs/errs"
)

// signatureAlgorithms are the JWS algorithms a statement signature may use
// (xAPI Data 2.6: "RS256", "RS384" or "RS512").
var signatureAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512}

// maxRSABits bounds the size of a signing key, so that a hostile
// certificate cannot make verification slow.
const maxRSABits = 8192

// VerifySignature checks the signature of a signed statement (xAPI Data
// 2.6): jws is the raw data of the statement's attachment with usageType
// SignatureUsageType, and s the statement as received (before the LRS adds
// anything). It checks that jws
//
//   - is a JWS in Compact Serialization whose "alg" is RS256, RS384 or RS512;
//   - verifies with the public key of the first certificate of its "x5c"
//     header when it has one (or of its "jwk" header), as a check against
//     mistakes: the certificate chain is neither validated nor trusted;
//   - has as payload a JSON object that is the original statement: the
//     statement s without the signature attachment, equivalent under the
//     statement comparison requirements (see ContentHash). The payload may
//     leave out what the LRS may assign: id and timestamp (when it has them
//     they must match), and stored, authority and version, which are
//     ignored.
//
// Failures are errs.Invalid errors with rule "signature" and a message
// naming the problem; path is "attachments" (the caller adds a batch index).
func VerifySignature(s map[string]any, jws []byte) error {
	fail := func(format string, args ...any) error {
		return errs.Invalidf("attachments", "signature", "malformed statement signature: "+format, args...)
	}
	compact := strings.TrimSpace(string(jws))
	if strings.HasPrefix(compact, "{") {
		return fail("the JWS must use the Compact Serialization (header.payload.signature), not the JSON Serialization")
	}
	obj, err := jose.ParseSignedCompact(compact, signatureAlgorithms)
	if err != nil {
		var alg *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &alg) {
			return fail("the JWS algorithm is %s; it must be RS256, RS384 or RS512", alg.Got)
		}
		return fail("not a JWS in Compact Serialization: %v", err)
	}
	if len(obj.Signatures) != 1 {
		return fail("the JWS must have exactly one signature")
	}

	key, err := signingKey(compact, obj.Signatures[0].Header)
	if err != nil {
		return fail("%v", err)
	}
	var payload []byte
	if key != nil {
		if payload, err = obj.Verify(key); err != nil {
			return fail("the signature does not verify with the key of the certificate in the JWS header")
		}
	} else {
		payload = obj.UnsafePayloadWithoutVerification()
	}

	tree, err := DecodeJSON(payload)
	if err != nil {
		return fail("the JWS payload is not valid JSON: %v", err)
	}
	original, ok := tree.(map[string]any)
	if !ok {
		return fail("the JWS payload must be the statement (a JSON object)")
	}
	if where, differ := signedDifference(s, original, jws); differ {
		return fail("the statement differs from the signed statement (the JWS payload) at %q", where)
	}
	return nil
}

// signingKey returns the public key to verify with: that of the first x5c
// certificate, else that of a "jwk" header, else nil. go-jose keeps the x5c
// certificates to itself unless the chain validates against trusted roots,
// which is not what the spec asks, so the header is decoded here.
func signingKey(compact string, h jose.Header) (any, error) {
	enc, _, _ := strings.Cut(compact, ".")
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return nil, err
	}
	var header struct {
		X5c []string `json:"x5c"`
	}
	if err := json.Unmarshal(raw, &header); err != nil {
		return nil, err
	}
	if len(header.X5c) > 0 {
		der, err := base64.StdEncoding.DecodeString(header.X5c[0])
		if err != nil {
			return nil, errBadX5c
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, errBadX5c
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, errNotRSA
		}
		if pub.N.BitLen() > maxRSABits {
			return nil, errBigKey
		}
		return pub, nil
	}
	if h.JSONWebKey != nil {
		pub, ok := h.JSONWebKey.Key.(*rsa.PublicKey)
		if !ok {
			return nil, errNotRSA
		}
		if pub.N.BitLen() > maxRSABits {
			return nil, errBigKey
		}
		return pub, nil
	}
	return nil, nil
}

var (
	errBadX5c = errs.E(errs.Invalid, "the x5c header does not hold a base64 DER X.509 certificate")
	errNotRSA = errs.E(errs.Invalid, "the signing key is not an RSA key, as RS256, RS384 and RS512 need")
	errBigKey = errs.E(errs.Invalid, "the signing RSA key is larger than %d bits", maxRSABits)
)

// signedDifference compares the received statement with the signed original
// and returns the path of the first difference that matters.
func signedDifference(received, original map[string]any, jws []byte) (string, bool) {
	r := make(map[string]any, len(received))
	for k, v := range received {
		r[k] = v
	}
	// The signature attachment was added after signing.
	if list, ok := received["attachments"].([]any); ok {
		kept := make([]any, 0, len(list))
		for _, e := range list {
			if a, ok := e.(map[string]any); ok && a["usageType"] == SignatureUsageType {
				if sum, _ := a["sha2"].(string); strings.EqualFold(sum, sha2Hex(jws, sum)) {
					continue
				}
			}
			kept = append(kept, e)
		}
		if len(kept) == 0 {
			delete(r, "attachments")
		} else {
			r["attachments"] = kept
		}
	}
	// id and timestamp may be assigned after signing.
	if id, ok := original["id"]; ok {
		ros, _ := r["id"].(string)
		oid, _ := id.(string)
		if !strings.EqualFold(ros, oid) {
			return "id", true
		}
	}
	if _, ok := original["timestamp"]; !ok {
		delete(r, "timestamp")
	}
	// Durations compare only to 0.01 s (xAPI 2.0, "Duration").
	r = withResultDuration(r)
	original = withResultDuration(original)
	// Compare the canonical forms property by property, to name the first
	// that differs.
	keys := sortedKeys(r, "")
	for k := range original {
		if _, ok := r[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if lrsSet(k) {
			continue
		}
		rv, rok := r[k]
		ov, ook := original[k]
		if rok != ook {
			return k, true
		}
		var a, b canonWriter
		a.property(k, rv)
		b.property(k, ov)
		if !bytes.Equal(a.buf.Bytes(), b.buf.Bytes()) {
			return k, true
		}
	}
	return "", false
}

// withResultDuration returns s with result.duration truncated to hundredths
// of a second (a copy when it changes), so that durations compare with the
// precision the specification requires.
func withResultDuration(s map[string]any) map[string]any {
	res, ok := s["result"].(map[string]any)
	if !ok {
		return s
	}
	d, ok := res["duration"].(string)
	if !ok || truncateDuration(d) == d {
		return s
	}
	c := maps.Clone(s)
	r := maps.Clone(res)
	r["duration"] = truncateDuration(d)
	c["result"] = r
	return c
}

// truncateDuration truncates the seconds of an ISO 8601 duration to
// hundredths and drops trailing zeros: "PT1.2370S" and "PT1.23S" both give
// "PT1.23S", "PT4.50S" gives "PT4.5S".
func truncateDuration(d string) string {
	if !strings.HasSuffix(d, "S") {
		return d
	}
	dot := strings.LastIndexByte(d, '.')
	if dot < 0 {
		return d
	}
	frac := d[dot+1 : len(d)-1]
	if len(frac) > 2 {
		frac = frac[:2]
	}
	frac = strings.TrimRight(frac, "0")
	if frac == "" {
		return d[:dot] + "S"
	}
	return d[:dot+1] + frac + "S"
}
