package accounts

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/xapi-lrs/lrs/errs"
)

// The argon2id parameters of new hashes: OWASP's first choice (m=19 MiB,
// t=2, p=1), a 16-byte salt and a 32-byte key.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Password lengths: at least MinPasswordLength characters (NSM and NIST
// SP 800-63B favour length over composition rules), at most
// MaxPasswordBytes bytes (hashing is slow; a megabyte password must not
// make it slower).
const (
	MinPasswordLength = 12
	MaxPasswordBytes  = 1024
)

// CheckPasswordRules returns an errs.Invalid error when pw is too short,
// too long or not UTF-8.
func CheckPasswordRules(pw string) error {
	switch {
	case !utf8.ValidString(pw):
		return errs.Invalidf("password", "password", "the password is not valid UTF-8")
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		return errs.Invalidf("password", "password", "a password has at least %d characters (a few words make a good one)", MinPasswordLength)
	case len(pw) > MaxPasswordBytes:
		return errs.Invalidf("password", "password", "a password has at most %d bytes", MaxPasswordBytes)
	}
	return nil
}

var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id hash of pw in the PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches hash (from HashPassword, with
// whatever parameters it names), comparing in constant time. A malformed
// hash matches nothing.
func CheckPassword(hash, pw string) bool {
	p, ok := parseHash(hash)
	if !ok || len(pw) > MaxPasswordBytes {
		return false
	}
	key := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1
}

type argonHash struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parseHash reads a PHC argon2id string, refusing parameters that would
// make checking it a denial of service (over 1 GiB, 16 passes, 16 lanes).
func parseHash(s string) (argonHash, bool) {
	var p argonHash
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, false
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &threads); err != nil || n != 3 {
		return p, false
	}
	if p.memory < 8 || p.memory > 1<<20 || p.time < 1 || p.time > 16 || threads < 1 || threads > 16 {
		return p, false
	}
	p.threads = uint8(threads)
	var err1, err2 error
	p.salt, err1 = b64.DecodeString(parts[4])
	p.key, err2 = b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(p.salt) < 8 || len(p.key) < 16 || len(p.key) > 64 {
		return p, false
	}
	return p, true
}
