package packages

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
)

// ContentToken grants reading the files of one version of one package of
// one tenant until it expires: what a launch link carries, so that a
// learner's browser fetches course content without a credential of the
// LRS. It grants nothing else (no xAPI access), and a later version of
// the package needs a token of its own.
//
// Its text form is
//
//	<tenant>.<package id>.<version>.<expiry, Unix seconds>.<MAC>
//
// where MAC is the unpadded base64url HMAC-SHA256, under the server's
// content key, of "lrs-content-token-v1", a newline and the four fields as
// they stand before it. Every part is safe in a URL path segment, so the
// token can stand in the path (/content/t/<token>/<file>) and the relative
// links of course pages carry it to every file they load. Tenant names
// (auth.ValidTenantName) and package IDs hold no dot, so the form is
// unambiguous. The fields are readable: a token hides nothing, it only
// cannot be forged or prolonged without the key.
//
// Keys: at least 32 random bytes (MinContentKeyBytes); replicas behind one
// address share them. Verify takes several keys, so a key can be rotated
// by verifying with the old and the new one for a token lifetime.
type ContentToken struct {
	Tenant  string
	Package string
	Version int
	Expires time.Time
}

// MinContentKeyBytes is the shortest content key accepted.
const MinContentKeyBytes = 32

const contentTokenDomain = "lrs-content-token-v1\n"

func (t ContentToken) payload() string {
	return t.Tenant + "." + t.Package + "." + strconv.Itoa(t.Version) + "." + strconv.FormatInt(t.Expires.Unix(), 10)
}

func contentMAC(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(contentTokenDomain))
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Sign returns the text form of t under key (see ContentToken).
func (t ContentToken) Sign(key []byte) string {
	p := t.payload()
	return p + "." + base64.RawURLEncoding.EncodeToString(contentMAC(key, p))
}

// VerifyContentToken parses s and checks its MAC under any of keys and its
// expiry at now. A malformed or forged token is an errs.Forbidden error, as
// is an expired one (with a message saying so).
func VerifyContentToken(s string, now time.Time, keys ...[]byte) (ContentToken, error) {
	invalid := errs.E(errs.Forbidden, "the content link is not valid: ask for a new launch link")
	parts := strings.Split(s, ".")
	if len(s) > 512 || len(parts) != 5 {
		return ContentToken{}, invalid
	}
	mac, err := base64.RawURLEncoding.DecodeString(parts[4])
	if err != nil {
		return ContentToken{}, invalid
	}
	payload := strings.Join(parts[:4], ".")
	ok := false
	for _, k := range keys {
		if len(k) >= MinContentKeyBytes && hmac.Equal(mac, contentMAC(k, payload)) {
			ok = true
		}
	}
	if !ok {
		return ContentToken{}, invalid
	}
	v, err1 := strconv.Atoi(parts[2])
	exp, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil || v < 1 || !auth.ValidTenantName(parts[0]) || !ValidID(parts[1]) {
		return ContentToken{}, invalid
	}
	t := ContentToken{Tenant: parts[0], Package: parts[1], Version: v, Expires: time.Unix(exp, 0).UTC()}
	if !now.Before(t.Expires) {
		return ContentToken{}, errs.E(errs.Forbidden, "the content link expired at %s: ask for a new launch link",
			t.Expires.Format(time.RFC3339))
	}
	return t, nil
}
