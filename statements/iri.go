package statements

import "unicode/utf8"

// ValidIRI reports whether s is an absolute IRI (RFC 3987): a scheme
// (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), a colon, and a non-empty rest
// made only of characters an IRI may contain, with every "%" starting a
// percent-encoded octet and at most one "#". It is a syntax check, not a
// full RFC 3987 parse: that is the "best-effort validation" the xAPI
// specification allows, strict enough to reject values without a scheme
// ("example.com/x", "not a uri") and values with spaces or other characters
// IRIs cannot hold.
//
// Unlike net/url.Parse it does not accept relative references or strings
// with spaces. IRLs (moreInfo, homePage, fileUrl) use the same check.
func ValidIRI(s string) bool {
	colon := schemeEnd(s)
	if colon < 0 || colon == len(s)-1 {
		return false
	}
	fragment := false
	for i := colon + 1; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if !iriRune(r) {
				return false
			}
			i += size
			continue
		}
		switch {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 3
			continue
		case c == '#':
			if fragment {
				return false
			}
			fragment = true
		case !iriASCII(c):
			return false
		}
		i++
	}
	return true
}

// schemeEnd returns the index of the colon ending a valid scheme at the start
// of s, or -1.
func schemeEnd(s string) int {
	if s == "" || !isAlpha(s[0]) {
		return -1
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			return i
		case isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.':
		default:
			return -1
		}
	}
	return -1
}

// iriASCII reports whether the ASCII byte c may appear literally in an IRI
// after the scheme: unreserved, reserved (gen-delims and sub-delims).
func iriASCII(c byte) bool {
	if isAlpha(c) || isDigit(c) {
		return true
	}
	switch c {
	case '-', '.', '_', '~', // unreserved
		':', '/', '?', '#', '[', ']', '@', // gen-delims
		'!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=': // sub-delims
		return true
	}
	return false
}

// iriRune reports whether the non-ASCII rune r is a ucschar or iprivate
// character of RFC 3987.
func iriRune(r rune) bool {
	switch {
	case r == utf8.RuneError:
		return false
	case r >= 0xA0 && r <= 0xD7FF, r >= 0xF900 && r <= 0xFDCF, r >= 0xFDF0 && r <= 0xFFEF:
		return true
	case r >= 0xE000 && r <= 0xF8FF: // iprivate
		return true
	case r >= 0xE0000 && r <= 0xE0FFF: // tag characters are not ucschar
		return false
	case r >= 0x10000 && r <= 0xEFFFD:
		return r&0xFFFF <= 0xFFFD // excludes the non-characters xFFFE, xFFFF of each plane
	case r >= 0xF0000 && r <= 0x10FFFD: // iprivate
		return true
	}
	return false
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }
