package statements

import (
	"mime"
	"strings"
	"unicode/utf8"
)

// ValidUUID reports whether s is a UUID in the standard string form,
// 8-4-4-4-12 hexadecimal digits (either case). Unlike github.com/google/uuid
// it refuses the "urn:uuid:" prefix, braces and the 32-digit form.
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// validMbox reports whether s is "mailto:" followed by one email address
// (local@domain, without hfields such as "?subject=").
func validMbox(s string) bool {
	addr, ok := strings.CutPrefix(s, "mailto:")
	if !ok {
		return false
	}
	return validEmail(addr)
}

// validEmail is a pragmatic addr-spec check: a non-empty local part and a
// domain (host names with at least one character each label, or an address
// literal in brackets), no white space, control characters or characters
// that cannot appear in a mailto IRI unencoded.
func validEmail(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return false
	}
	local, domain := addr[:at], addr[at+1:]
	for i := 0; i < len(local); {
		c := local[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(local[i:])
			if !iriRune(r) {
				return false
			}
			i += size
			continue
		}
		if c <= ' ' || c == 0x7f || strings.IndexByte("\"(),:;<>[\\]?#", c) >= 0 {
			return false
		}
		i++
	}
	if domain[0] == '[' {
		return domain[len(domain)-1] == ']' && len(domain) > 2
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); {
			c := label[i]
			if c >= utf8.RuneSelf {
				r, size := utf8.DecodeRuneInString(label[i:])
				if !iriRune(r) {
					return false
				}
				i += size
				continue
			}
			if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' {
				return false
			}
			i++
		}
	}
	return true
}

// validSHA1Hex reports whether s is 40 hexadecimal digits.
func validSHA1Hex(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// validSHA2Hex reports whether s is a hexadecimal SHA-2 digest: 56, 64, 96
// or 128 digits (SHA-224, SHA-256, SHA-384, SHA-512).
func validSHA2Hex(s string) bool {
	switch len(s) {
	case 56, 64, 96, 128:
	default:
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// validMediaType reports whether s is an Internet Media Type: type "/"
// subtype with optional parameters (RFC 2045/6838).
func validMediaType(s string) bool {
	mt, _, err := mime.ParseMediaType(s)
	if err != nil {
		return false
	}
	slash := strings.IndexByte(mt, '/')
	return slash > 0 && slash < len(mt)-1
}

// validStatementVersion reports whether s is a statement version the LRS
// accepts under v: "1.0" or "1.0.x" for 1.0.3, and also "2.0" or "2.0.x" for
// 2.0.0, where x is a patch number with an optional Semantic Versioning
// pre-release or build suffix.
func validStatementVersion(s string, v Version) bool {
	var rest string
	switch {
	case strings.HasPrefix(s, "1.0"):
		rest = s[3:]
	case v == V200 && strings.HasPrefix(s, "2.0"):
		rest = s[3:]
	default:
		return false
	}
	if rest == "" {
		return true
	}
	if rest[0] != '.' {
		return false
	}
	rest = rest[1:]
	i := 0
	for i < len(rest) && isDigit(rest[i]) {
		i++
	}
	if i == 0 || (i > 1 && rest[0] == '0') {
		return false
	}
	rest = rest[i:]
	if rest == "" {
		return true
	}
	if rest[0] != '-' && rest[0] != '+' {
		return false
	}
	for _, part := range strings.FieldsFunc(rest[1:], func(r rune) bool { return r == '.' || r == '+' }) {
		if part == "" {
			return false
		}
		for j := 0; j < len(part); j++ {
			if !isAlpha(part[j]) && !isDigit(part[j]) && part[j] != '-' {
				return false
			}
		}
	}
	return len(rest) > 1 && !strings.HasSuffix(rest, ".") && !strings.Contains(rest, "..")
}
