package launch

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/statements"
)

// Purpose says what a Token is for.
type Purpose string

const (
	// Link is the personal launch link: it opens the player (SCORM) or
	// starts a session and redirects to the content (Tin Can, cmi5).
	Link Purpose = "link"
	// Session is what a launched session uses: the package's files under
	// the token's path, SCORM commits, and (Tin Can, cmi5) the xAPI
	// resources as the learner, as a bearer token (cmi5: as the Basic
	// credentials of the auth-token).
	Session Purpose = "session"
	// Content names a cmi5 session where its URLs show: the AU's files
	// under the token's path and the one-time fetch URL, which answers the
	// session's auth-token once (Service.Fetch). It is no credential of the
	// xAPI resources, so that the launch URL in a browser's history does
	// not give them away.
	Content Purpose = "content"
)

// Token is a launch token: one learner's launch of one launchable of one
// version of a package of one tenant, within one registration (the
// attempt), until it expires. It needs no account of the learner: holding
// the token is the authorisation, as with packages.ContentToken.
//
// Its text form is "l1." and the unpadded base64url of a random 12-byte
// nonce and the AES-256-GCM sealing of the token's JSON, with the
// associated data "lrs-launch-token-v1". The AES key is the HMAC-SHA256,
// under the server's content key, of the label "lrs-launch-token-v1": a key
// of its own, derived from the content key, so that neither kind of token
// can pass for the other. GCM authenticates the token like the HMAC of a
// content token (it cannot be forged or prolonged without the key) and
// also hides it: a launch token names a learner (often by e-mail address)
// and stands in URL paths, which browser histories and proxy logs keep.
// The base64url alphabet has no dot, so "l1." tells a launch token from a
// JWT in an Authorization header.
//
// Keys rotate like content keys: Open takes several.
type Token struct {
	Purpose Purpose `json:"u"`
	Tenant  string  `json:"t"`
	// Issuer is the key of the credential that made the launch: a session
	// ends when that credential is revoked. A learner's own launch has a
	// SelfIssuer instead.
	Issuer     string `json:"i"`
	Package    string `json:"p"`
	Version    int    `json:"v"`
	Launchable string `json:"l"` // the launchable's ID
	// Learner is the learner's Agent, as statements.ParseAgent returns it.
	Learner      map[string]any `json:"a"`
	Registration string         `json:"r"`
	ReturnURL    string         `json:"ru,omitempty"`
	// Session is the id of a session (Session and Content tokens): a
	// UUID, cmi5's session id.
	Session string `json:"s,omitempty"`
	// AU is, for a cmi5 session, the activity IRI the LRS gave the AU
	// (its activityId launch parameter, CMI5AU); "" for SCORM and Tin Can.
	AU string `json:"au,omitempty"`
	// Mode is a cmi5 launch's launchMode when it is not Normal: Browse or
	// Review (LaunchMode).
	Mode    string    `json:"m,omitempty"`
	Expires time.Time `json:"e"`
}

// tokenPrefix starts the text form of every launch token.
const tokenPrefix = "l1."

const tokenLabel = "lrs-launch-token-v1"

// MaxTokenLength bounds the text form of a token Open reads;
// maxLinkLength the link token Service.Launch makes, so that the session
// and content tokens made from it (with a session id and an AU IRI more)
// stay within MaxTokenLength.
const (
	MaxTokenLength = 8192
	maxLinkLength  = 6144
)

// IsToken reports whether s has the form of a launch token (not whether
// it is valid).
func IsToken(s string) bool { return strings.HasPrefix(s, tokenPrefix) }

// aead returns the AES-256-GCM of the launch key derived from contentKey.
func aead(contentKey []byte) cipher.AEAD {
	m := hmac.New(sha256.New, contentKey)
	m.Write([]byte(tokenLabel))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		panic(err) // a 32-byte key is always an AES-256 key
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return g
}

// Seal returns the text form of t under contentKey (see Token).
func (t Token) Seal(contentKey []byte) string {
	t.Expires = t.Expires.UTC().Truncate(time.Second)
	plain, err := json.Marshal(t)
	if err != nil {
		panic(err) // the learner came from JSON
	}
	g := aead(contentKey)
	nonce := make([]byte, g.NonceSize())
	_, _ = rand.Read(nonce)
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(g.Seal(nonce, nonce, plain, []byte(tokenLabel)))
}

// Open reads the token s, sealed under any of keys, and checks that it
// has purpose want (any of them) and has not expired at now. A malformed,
// forged or expired token is an errs.Forbidden error saying to ask for a
// new link.
func Open(s string, now time.Time, keys [][]byte, want ...Purpose) (*Token, error) {
	invalid := errs.E(errs.Forbidden, "the launch link is not valid: ask for a new one")
	if !IsToken(s) || len(s) > MaxTokenLength {
		return nil, invalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(s[len(tokenPrefix):])
	if err != nil {
		return nil, invalid
	}
	var plain []byte
	for _, k := range keys {
		if len(k) < packages.MinContentKeyBytes {
			continue
		}
		g := aead(k)
		if len(raw) < g.NonceSize()+g.Overhead() {
			return nil, invalid
		}
		if p, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], []byte(tokenLabel)); err == nil {
			plain = p
			break
		}
	}
	if plain == nil {
		return nil, invalid
	}
	var t Token
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.UseNumber()
	if err := dec.Decode(&t); err != nil || !auth.ValidTenantName(t.Tenant) || !packages.ValidID(t.Package) ||
		statements.AgentKey(t.Learner) == "" || !statements.ValidUUID(t.Registration) {
		return nil, invalid
	}
	ok := false
	for _, p := range want {
		ok = ok || t.Purpose == p
	}
	if !ok {
		return nil, invalid
	}
	if !now.Before(t.Expires) {
		if t.Purpose == Link {
			return nil, errs.E(errs.Forbidden, "the launch link expired at %s: ask for a new one", t.Expires.Format(time.RFC3339))
		}
		return nil, errs.E(errs.Forbidden, "the session expired at %s: open the launch link again", t.Expires.Format(time.RFC3339))
	}
	return &t, nil
}

// LaunchMode is the cmi5 launchMode of the token: Normal, Browse or
// Review.
func (t *Token) LaunchMode() string {
	if t.Mode == "" {
		return ModeNormal
	}
	return t.Mode
}

// LearnerKey is the statements.AgentKey of the token's learner.
func (t *Token) LearnerKey() string { return statements.AgentKey(t.Learner) }
