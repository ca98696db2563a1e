package tokens

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// Algorithms the server signs its own tokens with.
const (
	AlgEdDSA = "EdDSA" // Ed25519; the default
	AlgES256 = "ES256" // ECDSA P-256 with SHA-256
	AlgHS256 = "HS256" // HMAC-SHA-256: a shared secret, never published
)

// PEM block types of the key file.
const (
	pemPKCS8 = "PRIVATE KEY"    // PKCS #8: Ed25519 or ECDSA P-256
	pemSEC1  = "EC PRIVATE KEY" // SEC 1: ECDSA P-256
	pemHMAC  = "HMAC KEY"       // at least 32 random bytes
)

// minHMACBytes is the shortest HMAC key accepted: 256 bits.
const minHMACBytes = 32

// signingKey is one key of the server's key set.
type signingKey struct {
	kid    string
	method jwt.SigningMethod
	sign   any // ed25519.PrivateKey, *ecdsa.PrivateKey or []byte
	verify any // ed25519.PublicKey, *ecdsa.PublicKey or []byte
}

// keySet is the server's keys at one moment; it is never changed once
// built.
type keySet struct {
	byKid  map[string]*signingKey
	signer *signingKey // the newest key: the last in the file
	jwks   []byte      // the public keys as a JWK Set; HMAC keys are left out
}

func newKeySet(keys []*signingKey) (*keySet, error) {
	if len(keys) == 0 {
		return nil, errors.New("no keys")
	}
	ks := &keySet{byKid: make(map[string]*signingKey), signer: keys[len(keys)-1]}
	pub := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}} // [] rather than null when only HMAC keys
	for _, k := range keys {
		if ks.byKid[k.kid] != nil {
			return nil, fmt.Errorf("the same key appears twice (kid %s)", k.kid)
		}
		ks.byKid[k.kid] = k
		if _, hmac := k.verify.([]byte); hmac {
			continue
		}
		pub.Keys = append(pub.Keys, publicJWK(k.verify, k.kid, k.method.Alg()))
	}
	var err error
	ks.jwks, err = json.Marshal(pub)
	return ks, err
}

// parseKeyFile reads a key file: PEM blocks, oldest first. The last key
// signs new tokens; every key verifies.
func parseKeyFile(data []byte) (*keySet, error) {
	keys, err := parseKeys(data)
	if err != nil {
		return nil, err
	}
	return newKeySet(keys)
}

// KeyIDs returns the key ids (the kid of tokens and of the JWK Set) of the
// keys of a key file, oldest first: the last one signs.
func KeyIDs(data []byte) ([]string, error) {
	keys, err := parseKeys(data)
	if err != nil {
		return nil, err
	}
	kids := make([]string, len(keys))
	for i, k := range keys {
		kids[i] = k.kid
	}
	return kids, nil
}

// parseKeys reads the keys of a key file, oldest first.
func parseKeys(data []byte) ([]*signingKey, error) {
	var keys []*signingKey
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "EC PARAMETERS" { // what `openssl ecparam -genkey` puts before the key
			continue
		}
		k, err := parsePEMKey(b)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", len(keys)+1, err)
		}
		keys = append(keys, k)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("text after PEM block %d is not a complete PEM block", len(keys))
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM blocks")
	}
	return keys, nil
}

// parsePEMKey reads one PEM block of the key file.
func parsePEMKey(b *pem.Block) (*signingKey, error) {
	var priv any
	var err error
	switch b.Type {
	case pemPKCS8:
		priv, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case pemSEC1:
		priv, err = x509.ParseECPrivateKey(b.Bytes)
	case pemHMAC:
		if len(b.Bytes) < minHMACBytes {
			return nil, fmt.Errorf("an HMAC key needs at least %d bytes, this one has %d", minHMACBytes, len(b.Bytes))
		}
		priv = b.Bytes
	default:
		return nil, fmt.Errorf("unsupported PEM type %q (want %q, %q or %q)", b.Type, pemPKCS8, pemSEC1, pemHMAC)
	}
	if err != nil {
		return nil, err
	}
	return newSigningKey(priv)
}

// newSigningKey wraps a private key: Ed25519, ECDSA P-256, or HMAC bytes.
func newSigningKey(priv any) (*signingKey, error) {
	k := &signingKey{sign: priv}
	switch p := priv.(type) {
	case ed25519.PrivateKey:
		k.method, k.verify = jwt.SigningMethodEdDSA, p.Public()
	case *ecdsa.PrivateKey:
		if p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("ECDSA keys must be on P-256, not %s", p.Curve.Params().Name)
		}
		k.method, k.verify = jwt.SigningMethodES256, &p.PublicKey
	case []byte:
		k.method, k.verify = jwt.SigningMethodHS256, p
	default:
		return nil, fmt.Errorf("unsupported key type %T (want Ed25519, ECDSA P-256 or HMAC)", priv)
	}
	var err error
	k.kid, err = thumbprint(k.verify)
	return k, err
}

// generateKey makes a new random key for alg.
func generateKey(alg string) (*signingKey, error) {
	switch alg {
	case AlgEdDSA, "":
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		return newSigningKey(priv)
	case AlgES256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		return newSigningKey(priv)
	case AlgHS256:
		secret := make([]byte, minHMACBytes)
		if _, err := rand.Read(secret); err != nil {
			return nil, err
		}
		return newSigningKey(secret)
	}
	return nil, fmt.Errorf("unsupported token algorithm %q (want %s, %s or %s)", alg, AlgEdDSA, AlgES256, AlgHS256)
}

// GenerateKeyPEM returns a new random key for alg as a PEM block for the
// key file: how an operator (or a test) makes a key to append to it.
func GenerateKeyPEM(alg string) ([]byte, error) {
	k, err := generateKey(alg)
	if err != nil {
		return nil, err
	}
	if secret, ok := k.sign.([]byte); ok {
		return pem.EncodeToMemory(&pem.Block{Type: pemHMAC, Bytes: secret}), nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.sign)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPKCS8, Bytes: der}), nil
}

// minForcedReload spaces out the re-reads of the key file that an unknown
// kid triggers, so that tokens with made-up kids cannot keep the server
// reading the file.
const minForcedReload = time.Second

// keySource holds the current key set: a key file re-read when it changes,
// checked at most once per interval on use, or one ephemeral key.
type keySource struct {
	path     string // "": ephemeral
	interval time.Duration
	log      *slog.Logger
	onChange func() // called after the key set changed

	cur       atomic.Pointer[keySet]
	nextCheck atomic.Int64 // unix nanoseconds of the next look at the file

	mu         sync.Mutex // serialises reloads; guards raw and lastForced
	raw        []byte     // the file contents cur was built from
	lastForced time.Time
}

// newKeySource loads the key file, or makes an ephemeral key of alg when
// path is empty.
func newKeySource(path, alg string, interval time.Duration, log *slog.Logger, onChange func(), now time.Time) (*keySource, error) {
	src := &keySource{path: path, interval: interval, log: log, onChange: onChange}
	if path == "" {
		k, err := generateKey(alg)
		if err != nil {
			return nil, err
		}
		ks, err := newKeySet([]*signingKey{k})
		if err != nil {
			return nil, err
		}
		src.cur.Store(ks)
		return src, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("token key file: %w", err)
	}
	ks, err := parseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("token key file %s: %w", path, err)
	}
	src.cur.Store(ks)
	src.raw = data
	src.nextCheck.Store(now.Add(interval).UnixNano())
	return src, nil
}

// get returns the current key set, first re-reading the key file if its
// interval has passed. Only one caller reads the file; the others go on
// with the keys they have.
func (src *keySource) get(now time.Time) *keySet {
	if src.path != "" && now.UnixNano() >= src.nextCheck.Load() && src.mu.TryLock() {
		if now.UnixNano() >= src.nextCheck.Load() {
			src.nextCheck.Store(now.Add(src.interval).UnixNano())
			src.reload()
		}
		src.mu.Unlock()
	}
	return src.cur.Load()
}

// forceReload re-reads the key file now (at most once per
// minForcedReload): a token names a kid the server does not know, which
// another replica may have just added to the file.
func (src *keySource) forceReload(now time.Time) *keySet {
	if src.path == "" {
		return src.cur.Load()
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if now.Sub(src.lastForced) >= minForcedReload || now.Before(src.lastForced) {
		src.lastForced = now
		src.nextCheck.Store(now.Add(src.interval).UnixNano())
		src.reload()
	}
	return src.cur.Load()
}

// reload re-reads the file, keeping the current keys when the file cannot be
// read or parsed (e.g. half-written). src.mu is held.
func (src *keySource) reload() {
	data, err := os.ReadFile(src.path)
	if err != nil {
		src.log.Error("token key file unreadable; keeping the current keys", "path", src.path, "err", err)
		return
	}
	if bytes.Equal(data, src.raw) {
		return
	}
	ks, err := parseKeyFile(data)
	if err != nil {
		src.log.Error("token key file invalid; keeping the current keys", "path", src.path, "err", err)
		return
	}
	src.raw = data
	src.cur.Store(ks)
	src.log.Info("token keys reloaded", "path", src.path, "keys", len(ks.byKid), "signing_kid", ks.signer.kid)
	src.onChange()
}
