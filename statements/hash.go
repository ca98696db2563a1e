package statements

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"mime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ContentHash returns the SHA-256 (hex) of the canonical form of statement
// s: two statements have the same ContentHash exactly when the xAPI
// "Statement Comparison Requirements" (Data 2.3.1) make them the same
// statement. The LRS uses it for the idempotency rule: a statement posted
// again with a stored id is a no-op when the hashes match and a conflict
// otherwise.
//
// The canonical form ignores what the spec lists as exceptions to statement
// immutability and keeps everything else. It ignores:
//
//   - the properties the LRS may set: id (the key the hash is stored
//     under), stored, authority and version; timestamp is kept when
//     present, compared as an instant to the millisecond (any time zone or
//     precision beyond milliseconds is a serialisation difference);
//   - the Verb "display" and Activity definitions (not part of the
//     statement): a Verb is its id, an Activity its id, wherever they occur
//     (object, context activities, SubStatement);
//   - the order of JSON object keys and of the members of a Group, and
//     whether a context activity is given as one object or an array of one;
//   - case where the data is case-insensitive: UUIDs (registration,
//     StatementRef ids), mbox scheme and domain, hex digests (mbox_sha1sum,
//     attachment sha2), language tags (context language and language map
//     keys), media type names;
//   - the spelling of numbers (1, 1.0 and 1e0 are the same number);
//   - an Agent objectType left out ("Agent" is the default) and an Activity
//     objectType ("Activity" is the default).
//
// Everything else counts, Result duration included (a string, as the spec
// says). The hash depends only on the statement tree, so it can be computed
// before the LRS adds id, stored, authority and version. Changing the
// canonical form changes stored hashes: keep it stable.
func ContentHash(s map[string]any) string {
	w := canonWriters.Get().(*canonWriter)
	w.buf.Reset()
	w.statement(s, false)
	sum := sha256.Sum256(w.buf.Bytes())
	if w.buf.Cap() <= 64<<10 { // a huge statement's buffer is not kept
		canonWriters.Put(w)
	}
	return hex.EncodeToString(sum[:])
}

// canonWriters keeps the buffers of ContentHash between calls.
var canonWriters = sync.Pool{New: func() any {
	w := new(canonWriter)
	w.buf.Grow(2048)
	return w
}}

// StatementSHA256 returns the SHA-256 (lowercase hex) of the bytes of a
// serialised statement, e.g. to record evidence of exactly what was stored.
func StatementSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// canonWriter writes the canonical form of statements as JSON with object
// keys sorted, strings quoted injectively and numbers spelt canonically.
type canonWriter struct {
	buf bytes.Buffer
}

// lrsSet reports whether key is a statement property the LRS may set, left
// out of the canonical form of a Statement.
func lrsSet(key string) bool {
	return key == "id" || key == "stored" || key == "authority" || key == "version"
}

// statement writes a Statement, or a SubStatement when sub is set (which
// has none of the properties the LRS sets; any such are kept).
func (w *canonWriter) statement(m map[string]any, sub bool) {
	w.buf.WriteByte('{')
	first := true
	for _, k := range sortedKeys(m, "") {
		if !sub && lrsSet(k) {
			continue
		}
		w.key(&first, k)
		w.property(k, m[k])
	}
	w.buf.WriteByte('}')
}

// property writes the value of property k of a Statement or SubStatement.
func (w *canonWriter) property(k string, v any) {
	switch k {
	case "actor":
		w.agent(v)
	case "verb":
		w.verb(v)
	case "object":
		w.object(v)
	case "context":
		w.context(v)
	case "timestamp":
		w.timestamp(v)
	case "attachments":
		w.attachments(v)
	default: // result, the objectType of a SubStatement
		w.value(v)
	}
}

// key writes an object key, after a comma unless it is the first.
func (w *canonWriter) key(first *bool, k string) {
	if !*first {
		w.buf.WriteByte(',')
	}
	*first = false
	writeQuoted(&w.buf, k)
	w.buf.WriteByte(':')
}

// sortedKeys returns the keys of m, and extra when not "", sorted.
func sortedKeys(m map[string]any, extra string) []string {
	keys := make([]string, 0, len(m)+1)
	for k := range m {
		keys = append(keys, k)
	}
	if extra != "" {
		keys = append(keys, extra)
	}
	slices.Sort(keys)
	return keys
}

// agent writes an Agent or Group: objectType "Agent" when left out, mbox
// and mbox_sha1sum normalised, members in canonical order.
func (w *canonWriter) agent(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		w.value(v)
		return
	}
	extra := ""
	if _, ok := m["objectType"]; !ok {
		extra = "objectType"
	}
	w.buf.WriteByte('{')
	first := true
	for _, k := range sortedKeys(m, extra) {
		w.key(&first, k)
		x, present := m[k]
		switch {
		case !present: // the default objectType
			writeQuoted(&w.buf, "Agent")
		case k == "mbox" && isString(x):
			writeQuoted(&w.buf, normalizeMbox(x.(string)))
		case k == "mbox_sha1sum" && isString(x):
			writeQuoted(&w.buf, strings.ToLower(x.(string)))
		case k == "member" && isArray(x):
			w.unordered(x.([]any), (*canonWriter).agent)
		default:
			w.value(x)
		}
	}
	w.buf.WriteByte('}')
}

// unordered writes a list whose order does not matter: its elements,
// written by f, in sorted order.
func (w *canonWriter) unordered(list []any, f func(*canonWriter, any)) {
	enc := make([]string, len(list))
	for i, e := range list {
		var ew canonWriter
		f(&ew, e)
		enc[i] = ew.buf.String()
	}
	slices.Sort(enc)
	w.buf.WriteByte('[')
	for i, e := range enc {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		w.buf.WriteString(e)
	}
	w.buf.WriteByte(']')
}

// verb writes a Verb as its id: its display is not part of the statement.
func (w *canonWriter) verb(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		w.value(v)
		return
	}
	w.buf.WriteByte('{')
	if id, ok := m["id"]; ok {
		writeQuoted(&w.buf, "id")
		w.buf.WriteByte(':')
		w.value(id)
	}
	w.buf.WriteByte('}')
}

// activity writes an Activity as its id: its definition is not part of the
// statement.
func (w *canonWriter) activity(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		w.value(v)
		return
	}
	w.buf.WriteByte('{')
	if id, ok := m["id"]; ok {
		writeQuoted(&w.buf, "id")
		w.buf.WriteByte(':')
		w.value(id)
		w.buf.WriteByte(',')
	}
	w.buf.WriteString(`"objectType":"Activity"}`)
}

// statementRef writes a StatementRef with its UUID lowercased.
func (w *canonWriter) statementRef(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		w.value(v)
		return
	}
	w.buf.WriteByte('{')
	first := true
	for _, k := range sortedKeys(m, "") {
		w.key(&first, k)
		if x := m[k]; k == "id" && isString(x) {
			writeQuoted(&w.buf, strings.ToLower(x.(string)))
		} else {
			w.value(x)
		}
	}
	w.buf.WriteByte('}')
}

// object writes a statement object of any type.
func (w *canonWriter) object(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		w.value(v)
		return
	}
	switch objectTypeOf(m) {
	case "Activity":
		w.activity(m)
	case "Agent", "Group":
		w.agent(m)
	case "StatementRef":
		w.statementRef(m)
	case "SubStatement":
		w.statement(m, true)
	default:
		w.value(m)
	}
}

// context writes a context.
func (w *canonWriter) context(v any) {
	ctx, ok := v.(map[string]any)
	if !ok {
		w.value(v)
		return
	}
	w.buf.WriteByte('{')
	first := true
	for _, k := range sortedKeys(ctx, "") {
		w.key(&first, k)
		x := ctx[k]
		switch {
		case (k == "registration" || k == "language") && isString(x):
			writeQuoted(&w.buf, strings.ToLower(x.(string)))
		case k == "instructor" || k == "team":
			w.agent(x)
		case k == "statement":
			w.statementRef(x)
		case k == "contextActivities":
			w.contextActivities(x)
		case k == "contextAgents":
			w.contextPeople(x, "agent")
		case k == "contextGroups":
			w.contextPeople(x, "group")
		default:
			w.value(x)
		}
	}
	w.buf.WriteByte('}')
}

// contextActivities writes each kind of context activities as an array of
// Activities.
func (w *canonWriter) contextActivities(v any) {
	ca, ok := v.(map[string]any)
	if !ok {
		w.value(v)
		return
	}
	w.buf.WriteByte('{')
	first := true
	for _, k := range sortedKeys(ca, "") {
		w.key(&first, k)
		switch a := ca[k].(type) {
		case map[string]any:
			w.buf.WriteByte('[')
			w.activity(a)
			w.buf.WriteByte(']')
		case []any:
			w.buf.WriteByte('[')
			for i, e := range a {
				if i > 0 {
					w.buf.WriteByte(',')
				}
				w.activity(e)
			}
			w.buf.WriteByte(']')
		default:
			w.value(a)
		}
	}
	w.buf.WriteByte('}')
}

// contextPeople writes contextAgents (inner "agent") or contextGroups
// (inner "group").
func (w *canonWriter) contextPeople(v any, inner string) {
	list, ok := v.([]any)
	if !ok {
		w.value(v)
		return
	}
	w.buf.WriteByte('[')
	for i, e := range list {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		m, ok := e.(map[string]any)
		if !ok {
			w.value(e)
			continue
		}
		w.buf.WriteByte('{')
		first := true
		for _, k := range sortedKeys(m, "") {
			w.key(&first, k)
			if k == inner {
				w.agent(m[k])
			} else {
				w.value(m[k])
			}
		}
		w.buf.WriteByte('}')
	}
	w.buf.WriteByte(']')
}

// timestamp writes a timestamp as its instant in UTC, to the millisecond
// (the precision an LRS must keep).
func (w *canonWriter) timestamp(v any) {
	s, ok := v.(string)
	if !ok {
		w.value(v)
		return
	}
	if t, err := ParseTimestamp(s); err == nil {
		s = t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
	}
	writeQuoted(&w.buf, s)
}

// attachments writes the attachments of a statement.
func (w *canonWriter) attachments(v any) {
	list, ok := v.([]any)
	if !ok {
		w.value(v)
		return
	}
	w.buf.WriteByte('[')
	for i, e := range list {
		if i > 0 {
			w.buf.WriteByte(',')
		}
		m, ok := e.(map[string]any)
		if !ok {
			w.value(e)
			continue
		}
		w.buf.WriteByte('{')
		first := true
		for _, k := range sortedKeys(m, "") {
			w.key(&first, k)
			x := m[k]
			switch {
			case k == "display" || k == "description":
				w.langMap(x)
			case k == "sha2" && isString(x):
				writeQuoted(&w.buf, strings.ToLower(x.(string)))
			case k == "contentType" && isString(x):
				writeQuoted(&w.buf, canonMediaType(x.(string)))
			default:
				w.value(x)
			}
		}
		w.buf.WriteByte('}')
	}
	w.buf.WriteByte(']')
}

// langMap writes a language map with its language tags lowercased (they
// are case-insensitive), unless two tags differ only in case.
func (w *canonWriter) langMap(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		w.value(v)
		return
	}
	lower := make(map[string]any, len(m))
	for k, x := range m {
		lk := strings.ToLower(k)
		if _, dup := lower[lk]; dup {
			w.value(m)
			return
		}
		lower[lk] = x
	}
	w.value(lower)
}

// canonMediaType lowercases the type, subtype and parameter names of a media
// type and puts the parameters in a fixed order.
func canonMediaType(s string) string {
	mt, params, err := mime.ParseMediaType(s)
	if err != nil {
		return s
	}
	if f := mime.FormatMediaType(mt, params); f != "" {
		return f
	}
	return s
}

// value writes a value with no xAPI meaning of its own (extensions,
// results, ids): keys sorted, numbers spelt canonically.
func (w *canonWriter) value(v any) {
	switch x := v.(type) {
	case map[string]any:
		w.buf.WriteByte('{')
		first := true
		for _, k := range sortedKeys(x, "") {
			w.key(&first, k)
			w.value(x[k])
		}
		w.buf.WriteByte('}')
	case []any:
		w.buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.value(e)
		}
		w.buf.WriteByte(']')
	case string:
		writeQuoted(&w.buf, x)
	case json.Number:
		w.buf.WriteString(canonicalNumber(string(x)))
	case float64:
		w.buf.WriteString(canonicalNumber(strconv.FormatFloat(x, 'g', -1, 64)))
	case int:
		w.buf.WriteString(canonicalNumber(strconv.Itoa(x)))
	case int64:
		w.buf.WriteString(canonicalNumber(strconv.FormatInt(x, 10)))
	case bool:
		if x {
			w.buf.WriteString("true")
		} else {
			w.buf.WriteString("false")
		}
	case nil:
		w.buf.WriteString("null")
	default:
		// Not produced by DecodeJSON; encode it anyway so that the hash
		// still depends on it.
		b, _ := json.Marshal(x)
		w.buf.Write(b)
	}
}

func isString(v any) bool { _, ok := v.(string); return ok }
func isArray(v any) bool  { _, ok := v.([]any); return ok }

// writeQuoted writes s in double quotes, escaping '"', '\\' and control
// bytes, so that different strings never give the same text.
func writeQuoted(buf *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		buf.WriteString(s[start:i])
		switch c {
		case '"', '\\':
			buf.WriteByte('\\')
			buf.WriteByte(c)
		default:
			buf.WriteString(`\u00`)
			buf.WriteByte(hexDigits[c>>4])
			buf.WriteByte(hexDigits[c&0xf])
		}
		start = i + 1
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}

// canonicalNumber returns one spelling for every JSON number text of the
// same value: an optional "-", the significant digits without leading or
// trailing zeros, and "e" with the exponent when it is not zero: "1.50",
// "15e-1" and "0.150E1" all become "15e-1"; "-0" and "0.0" become "0". The
// result is itself a JSON number. Text that is not a JSON number, or has an
// exponent of more than 9 digits, is returned unchanged.
func canonicalNumber(s string) string {
	i, neg := 0, false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[start:i]
	if intPart == "" {
		return s
	}
	var frac string
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		frac = s[fs:i]
		if frac == "" {
			return s
		}
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		es := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == es || i-es > 9 {
			return s
		}
		exp, _ = strconv.Atoi(s[es:i])
		if eneg {
			exp = -exp
		}
	}
	if i != len(s) {
		return s
	}
	if len(intPart) == len(s) && intPart[0] != '0' && intPart[len(intPart)-1] != '0' {
		return s // already canonical: the common case of a small integer
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	exp -= len(frac)
	if digits == "" {
		return "0"
	}
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(trimmed)
	if exp != 0 {
		b.WriteByte('e')
		b.WriteString(strconv.Itoa(exp))
	}
	return b.String()
}
