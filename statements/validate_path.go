package statements

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/xapi-lrs/lrs/errs"
)

// path is the JSON path of a value being validated, as a list linked from the
// innermost segment outwards. It lives on the stack of the validating
// functions and is turned into a string only when an error is reported.
type jpath struct {
	parent *jpath
	key    string // object property name, when idx < 0
	idx    int    // array index, or -1 for a property
}

// k returns the path of property key inside p.
func (p *jpath) k(key string) jpath { return jpath{parent: p, key: key, idx: -1} }

// i returns the path of element n inside p.
func (p *jpath) i(n int) jpath { return jpath{parent: p, idx: n} }

// String renders p as `actor.mbox`, `object.definition.choices[2].id`,
// `[3].verb.id` or `context.extensions["http://example.com/x"]`.
func (p *jpath) String() string {
	if p == nil {
		return ""
	}
	var b strings.Builder
	p.write(&b)
	return b.String()
}

// write renders the parents first, then p. It keeps no reference to p, so
// paths built on the stack stay there.
func (p *jpath) write(b *strings.Builder) {
	if p.parent != nil {
		p.parent.write(b)
	}
	if p.idx >= 0 {
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(p.idx))
		b.WriteByte(']')
		return
	}
	if plainKey(p.key) {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p.key)
		return
	}
	b.WriteByte('[')
	b.WriteString(strconv.Quote(p.key))
	b.WriteByte(']')
}

// plainKey reports whether key can be written after a dot in a path.
func plainKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !isAlpha(c) && !isDigit(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// invalid builds the *errs.Error for a rule broken at p.
func invalidAt(p *jpath, rule, format string, args ...any) error {
	return errs.Invalidf(p.String(), rule, format, args...)
}

// jsonType names the JSON type of a decoded value for error messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// checkKeys rejects properties of m not in allowed. The error names the
// first unknown property in sorted order (so that it does not depend on map
// order) and suggests the right spelling when only the case differs.
func checkKeys(p *jpath, m map[string]any, what string, allowed ...string) error {
	if len(m) <= len(allowed) {
		ok := true
		for key := range m {
			if !inList(allowed, key) {
				ok = false
				break
			}
		}
		if ok {
			return nil
		}
	}
	var unknown []string
	for key := range m {
		if !inList(allowed, key) {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	key := unknown[0]
	q := p.k(key)
	for _, a := range allowed {
		if strings.EqualFold(a, key) {
			return invalidAt(&q, "property-case", "%s has no property %q; property names are case-sensitive: use %q", what, key, a)
		}
	}
	return invalidAt(&q, "unknown-property", "%s has no property %q (allowed: %s)", what, key, strings.Join(allowed, ", "))
}

func inList(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
