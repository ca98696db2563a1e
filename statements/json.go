package statements

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xapi-lrs/lrs/errs"
)

// MaxDepth is the deepest nesting of JSON objects and arrays DecodeJSON
// accepts. A statement needs about 10 levels; extensions may nest more.
const MaxDepth = 64

// DecodeJSON strictly decodes one JSON value into the tree used throughout
// this package: map[string]any, []any, string, json.Number, bool or nil.
//
// Unlike encoding/json it rejects duplicate object keys, invalid UTF-8 (in
// strings and elsewhere), nesting deeper than MaxDepth and anything but white
// space after the value. Errors are *errs.Error of kind Invalid whose Path
// names the offending place, e.g. "actor.mbox" for a duplicate key. A
// leading UTF-8 byte order mark is ignored, as RFC 8259 allows.
func DecodeJSON(data []byte) (any, error) {
	d := decoder{data: data}
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		d.pos = 3
	}
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		return nil, err.toError()
	}
	d.skipSpace()
	if d.pos < len(d.data) {
		return nil, errs.Invalidf("", "json-syntax", "unexpected data after the JSON value at byte %d", d.pos)
	}
	return v, nil
}

// decodeErr is a decoding error whose path is built while the recursion
// unwinds (segments are appended innermost first).
type decodeErr struct {
	rule string
	msg  string
	segs []pathSeg
}

func (e *decodeErr) toError() *errs.Error {
	var p *jpath
	for i := len(e.segs) - 1; i >= 0; i-- {
		p = &jpath{parent: p, key: e.segs[i].key, idx: e.segs[i].idx}
	}
	return errs.Invalidf(p.String(), e.rule, "%s", e.msg)
}

type pathSeg struct {
	key string
	idx int
}

type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) fail(rule, format string, args ...any) *decodeErr {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &decodeErr{rule: rule, msg: msg}
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\r', '\n':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (any, *decodeErr) {
	if d.pos >= len(d.data) {
		return nil, d.fail("json-syntax", "unexpected end of JSON input")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		if depth >= MaxDepth {
			return nil, d.fail("json-depth", "JSON nesting is deeper than %d levels", MaxDepth)
		}
		return d.object(depth + 1)
	case c == '[':
		if depth >= MaxDepth {
			return nil, d.fail("json-depth", "JSON nesting is deeper than %d levels", MaxDepth)
		}
		return d.array(depth + 1)
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return s, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	default:
		return nil, d.fail("json-syntax", "invalid character %s at byte %d", quoteByte(c), d.pos)
	}
}

func (d *decoder) literal(word string) *decodeErr {
	if len(d.data)-d.pos >= len(word) && string(d.data[d.pos:d.pos+len(word)]) == word {
		d.pos += len(word)
		return nil
	}
	return d.fail("json-syntax", "invalid literal at byte %d (expected %s)", d.pos, word)
}

func (d *decoder) object(depth int) (any, *decodeErr) {
	d.pos++ // '{'
	m := make(map[string]any)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return m, nil
	}
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.fail("json-syntax", "expected a property name in double quotes at byte %d", d.pos)
		}
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		if _, dup := m[key]; dup {
			err := d.fail("duplicate-key", "the property %q appears more than once in the same object", key)
			err.segs = append(err.segs, pathSeg{key: key, idx: -1})
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.fail("json-syntax", "expected ':' after a property name at byte %d", d.pos)
		}
		d.pos++
		d.skipSpace()
		v, err := d.value(depth)
		if err != nil {
			err.segs = append(err.segs, pathSeg{key: key, idx: -1})
			return nil, err
		}
		m[key] = v
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.fail("json-syntax", "unexpected end of JSON input in an object")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case '}':
			d.pos++
			return m, nil
		default:
			return nil, d.fail("json-syntax", "expected ',' or '}' at byte %d", d.pos)
		}
	}
}

func (d *decoder) array(depth int) (any, *decodeErr) {
	d.pos++ // '['
	a := make([]any, 0, 4)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return a, nil
	}
	for {
		v, err := d.value(depth)
		if err != nil {
			err.segs = append(err.segs, pathSeg{idx: len(a)})
			return nil, err
		}
		a = append(a, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.fail("json-syntax", "unexpected end of JSON input in an array")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case ']':
			d.pos++
			return a, nil
		default:
			return nil, d.fail("json-syntax", "expected ',' or ']' at byte %d", d.pos)
		}
	}
}

// number scans a number following the JSON grammar exactly and returns it as
// a json.Number holding the original text.
func (d *decoder) number() (any, *decodeErr) {
	start := d.pos
	b := d.data
	i := d.pos
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, d.fail("json-syntax", "invalid number at byte %d", start)
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, d.fail("json-syntax", "invalid number at byte %d", start)
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, d.fail("json-syntax", "invalid number at byte %d", start)
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	d.pos = i
	return json.Number(b[start:i]), nil
}

// str scans a string starting at the opening quote. Strings without escapes
// are sliced from the input; others are unescaped. Invalid UTF-8, raw
// control characters and lone UTF-16 surrogates in \u escapes are errors.
//
// Lone surrogates ("\ud800" not followed by a low surrogate, or "\udc00"
// alone) are refused rather than replaced with U+FFFD as encoding/json
// does: RFC 8259 (section 8.2) leaves the behaviour of software receiving
// them unpredictable, and RFC 7493 (I-JSON, section 2.1) forbids them, as
// they name no Unicode character. The LRS stores and returns statements as
// UTF-8, so it could keep such a string only by changing it, and a
// statement must come back as it was sent (its signature, its
// equivalence); a 400 tells the client at once.
func (d *decoder) str() (string, *decodeErr) {
	b := d.data
	start := d.pos + 1
	i := start
	for i < len(b) {
		c := b[i]
		if c == '"' {
			d.pos = i + 1
			if s, ok := intern(b[start:i]); ok {
				return s, nil
			}
			return string(b[start:i]), nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", d.fail("json-syntax", "control character in a string at byte %d (escape it)", i)
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return "", d.fail("json-utf8", "invalid UTF-8 in a string at byte %d", i)
		}
		i += size
	}
	if i >= len(b) {
		return "", d.fail("json-syntax", "unterminated string starting at byte %d", d.pos)
	}
	// Slow path: unescape.
	out := make([]byte, 0, i-start+16)
	out = append(out, b[start:i]...)
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return string(out), nil
		case c == '\\':
			if i+1 >= len(b) {
				return "", d.fail("json-syntax", "unterminated string starting at byte %d", d.pos)
			}
			switch e := b[i+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
				i += 2
			case 'b':
				out = append(out, '\b')
				i += 2
			case 'f':
				out = append(out, '\f')
				i += 2
			case 'n':
				out = append(out, '\n')
				i += 2
			case 'r':
				out = append(out, '\r')
				i += 2
			case 't':
				out = append(out, '\t')
				i += 2
			case 'u':
				r, ok := hex4(b, i+2)
				if !ok {
					return "", d.fail("json-syntax", "invalid \\u escape at byte %d", i)
				}
				at := i
				i += 6
				if utf16.IsSurrogate(r) {
					r2, ok2 := rune(-1), false
					if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
						r2, ok2 = hex4(b, i+2)
					}
					dec := utf16.DecodeRune(r, r2)
					if !ok2 || dec == utf8.RuneError {
						return "", d.fail("json-surrogate", "the escape %s at byte %d is a lone UTF-16 surrogate, which is no character (RFC 7493 section 2.1): "+
							"escape a character outside the Basic Multilingual Plane as a pair such as \\ud83d\\ude00, or send it as UTF-8", b[at:at+6], at)
					}
					r = dec
					i += 6
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", d.fail("json-syntax", "invalid escape \\%s in a string at byte %d", string(rune(e)), i)
			}
		case c < 0x20:
			return "", d.fail("json-syntax", "control character in a string at byte %d (escape it)", i)
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return "", d.fail("json-utf8", "invalid UTF-8 in a string at byte %d", i)
			}
			out = append(out, b[i:i+size]...)
			i += size
		}
	}
	return "", d.fail("json-syntax", "unterminated string starting at byte %d", d.pos)
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("0x%02x", c)
}

// intern returns the xAPI property names and enumerated values that occur in
// almost every statement without allocating a new string for each.
func intern(b []byte) (string, bool) {
	if len(b) > 23 {
		return "", false
	}
	switch string(b) { // compiled without allocating
	case "id":
		return "id", true
	case "actor":
		return "actor", true
	case "verb":
		return "verb", true
	case "object":
		return "object", true
	case "result":
		return "result", true
	case "context":
		return "context", true
	case "timestamp":
		return "timestamp", true
	case "stored":
		return "stored", true
	case "authority":
		return "authority", true
	case "version":
		return "version", true
	case "attachments":
		return "attachments", true
	case "objectType":
		return "objectType", true
	case "name":
		return "name", true
	case "mbox":
		return "mbox", true
	case "mbox_sha1sum":
		return "mbox_sha1sum", true
	case "openid":
		return "openid", true
	case "account":
		return "account", true
	case "homePage":
		return "homePage", true
	case "member":
		return "member", true
	case "display":
		return "display", true
	case "definition":
		return "definition", true
	case "description":
		return "description", true
	case "type":
		return "type", true
	case "moreInfo":
		return "moreInfo", true
	case "extensions":
		return "extensions", true
	case "interactionType":
		return "interactionType", true
	case "correctResponsesPattern":
		return "correctResponsesPattern", true
	case "choices":
		return "choices", true
	case "score":
		return "score", true
	case "scaled":
		return "scaled", true
	case "raw":
		return "raw", true
	case "min":
		return "min", true
	case "max":
		return "max", true
	case "success":
		return "success", true
	case "completion":
		return "completion", true
	case "response":
		return "response", true
	case "duration":
		return "duration", true
	case "registration":
		return "registration", true
	case "instructor":
		return "instructor", true
	case "team":
		return "team", true
	case "contextActivities":
		return "contextActivities", true
	case "parent":
		return "parent", true
	case "grouping":
		return "grouping", true
	case "category":
		return "category", true
	case "other":
		return "other", true
	case "platform":
		return "platform", true
	case "language":
		return "language", true
	case "statement":
		return "statement", true
	case "Agent":
		return "Agent", true
	case "Group":
		return "Group", true
	case "Activity":
		return "Activity", true
	case "StatementRef":
		return "StatementRef", true
	case "SubStatement":
		return "SubStatement", true
	case "en":
		return "en", true
	case "en-US":
		return "en-US", true
	case "en-GB":
		return "en-GB", true
	case "und":
		return "und", true
	}
	return "", false
}
