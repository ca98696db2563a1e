package statements

import "strings"

// ValidLanguageTag reports whether s is a well-formed RFC 5646 language tag
// (case-insensitive): a langtag, a private-use tag or a grandfathered tag.
// It checks the syntax of the subtag sequence, not the registry, which is
// what xAPI requires of language map keys ("validate that the sequence of
// token lengths ... matches RFC 5646").
//
// golang.org/x/text/language is not used, neither instead of this check
// nor behind it, because its answers differ from RFC 5646 well-formedness,
// which is what xAPI and the ADL conformance suite ask for (checked with
// x/text v0.43.0 against this function's tests and every tag of the
// conformance suite):
//
//   - language.Parse accepts "en_US" (it takes "_" for "-");
//   - it refuses the well-formed "abcde" and "abcdefgh" (5-8 letter
//     language subtags, which the ABNF allows for future registrations) as
//     syntax errors;
//   - it checks the registry, so it refuses the well-formed but unregistered
//     "xx-YY", "en-1234" and "en-t-xx": behind this check it would turn
//     tags registered after its snapshot, and private agreements, into 400s;
//   - taking only its syntax errors as errors (accepting its ValueError)
//     lets through the ill-formed "zh-Hant-abc" and "en-Latn-Latn".
//
// It also canonicalises tags, while the LRS keeps the keys of a language
// map as sent. The grammar below is short, and TestValidLanguageTag pins
// each of those cases.
//
//	langtag    = language ["-" script] ["-" region] *("-" variant)
//	             *("-" extension) ["-" privateuse]
//	language   = 2*3ALPHA ["-" extlang] / 4ALPHA / 5*8ALPHA
//	extlang    = 3ALPHA *2("-" 3ALPHA)
//	script     = 4ALPHA
//	region     = 2ALPHA / 3DIGIT
//	variant    = 5*8alphanum / (DIGIT 3alphanum)
//	extension  = singleton 1*("-" (2*8alphanum))   ; singleton: alphanum except x
//	privateuse = "x" 1*("-" (1*8alphanum))
func ValidLanguageTag(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	// Fast paths for the common "en" and "en-US" forms.
	if (len(s) == 2 || len(s) == 3) && allAlpha(s) {
		return true
	}
	if len(s) == 5 && s[2] == '-' && allAlpha(s[:2]) && allAlpha(s[3:]) {
		return true
	}
	if irregularTags[strings.ToLower(s)] {
		return true
	}
	subtags := strings.Split(s, "-")
	for _, t := range subtags {
		if t == "" || len(t) > 8 || !allAlnum(t) {
			return false
		}
	}
	first := subtags[0]
	if len(first) == 1 && (first[0]|0x20) == 'x' {
		return privateUse(subtags)
	}
	// language
	if !allAlpha(first) || len(first) < 2 {
		return false
	}
	i := 1
	if len(first) <= 3 {
		// up to three extlang subtags
		for n := 0; n < 3 && i < len(subtags) && len(subtags[i]) == 3 && allAlpha(subtags[i]); n++ {
			i++
		}
	}
	// script
	if i < len(subtags) && len(subtags[i]) == 4 && allAlpha(subtags[i]) {
		i++
	}
	// region
	if i < len(subtags) {
		t := subtags[i]
		if (len(t) == 2 && allAlpha(t)) || (len(t) == 3 && allDigit(t)) {
			i++
		}
	}
	// variants
	for i < len(subtags) {
		t := subtags[i]
		if (len(t) >= 5) || (len(t) == 4 && isDigit(t[0])) {
			i++
			continue
		}
		break
	}
	// extensions
	for i < len(subtags) {
		t := subtags[i]
		if len(t) != 1 || (t[0]|0x20) == 'x' {
			break
		}
		i++
		n := 0
		for i < len(subtags) && len(subtags[i]) >= 2 {
			i++
			n++
		}
		if n == 0 {
			return false
		}
	}
	if i == len(subtags) {
		return true
	}
	return privateUse(subtags[i:])
}

// privateUse checks "x" 1*("-" (1*8alphanum)); lengths and characters were
// checked by the caller.
func privateUse(subtags []string) bool {
	return len(subtags) >= 2 && len(subtags[0]) == 1 && (subtags[0][0]|0x20) == 'x'
}

// irregularTags are the grandfathered tags that do not match the langtag
// production (the "regular" grandfathered ones do).
var irregularTags = map[string]bool{
	"en-gb-oed": true, "i-ami": true, "i-bnn": true, "i-default": true, "i-enochian": true,
	"i-hak": true, "i-klingon": true, "i-lux": true, "i-mingo": true, "i-navajo": true,
	"i-pwn": true, "i-tao": true, "i-tay": true, "i-tsu": true, "sgn-be-fr": true,
	"sgn-be-nl": true, "sgn-ch-de": true,
}

func allAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlpha(s[i]) {
			return false
		}
	}
	return true
}

func allDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func allAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlpha(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}
