package statements

import (
	"sort"
	"strconv"
	"strings"
)

// The values of the format parameter of GET Statements.
const (
	FormatExact     = "exact"
	FormatIDs       = "ids"
	FormatCanonical = "canonical"
)

// Format returns statement s as the format parameter f of GET Statements asks
// (xAPI Communication 2.1.3). s is not modified: the result shares the parts
// it does not change.
//
//   - "exact" (and any other value): s itself.
//   - "ids": only what identifies each Agent, Group, Activity and Verb. An
//     Agent or identified Group keeps its objectType (when given) and its
//     inverse functional identifier; an anonymous Group keeps its
//     objectType and its members, each reduced likewise; an Activity keeps
//     only its id; a Verb only its id. This applies everywhere they occur:
//     actor, object, authority, context (instructor, team, context
//     activities, context agents and groups) and inside a SubStatement.
//   - "canonical": every language map of Verbs ("display") and Activity
//     definitions ("name", "description", and the descriptions of
//     interaction components) reduced to the one language that best fits
//     langs (see ParseAcceptLanguage); Agents and Groups as in "exact".
//     The LRS keeps no canonical Activity definitions of its own, so each
//     Activity keeps the definition it was sent with.
func Format(s map[string]any, f string, langs []string) map[string]any {
	switch f {
	case FormatIDs:
		return formatStatement(s, idsFormatter{})
	case FormatCanonical:
		return formatStatement(s, canonicalFormatter{langs})
	}
	return s
}

// formatter rewrites the identified objects of a statement.
type formatter interface {
	agent(m map[string]any) map[string]any
	verb(m map[string]any) map[string]any
	activity(m map[string]any) map[string]any
}

// formatStatement applies f to a Statement or SubStatement, copying only
// what changes.
func formatStatement(s map[string]any, f formatter) map[string]any {
	out := make(map[string]any, len(s))
	for k, v := range s {
		out[k] = v
	}
	if m, ok := s["actor"].(map[string]any); ok {
		out["actor"] = f.agent(m)
	}
	if m, ok := s["authority"].(map[string]any); ok {
		out["authority"] = f.agent(m)
	}
	if m, ok := s["verb"].(map[string]any); ok {
		out["verb"] = f.verb(m)
	}
	if obj, ok := s["object"].(map[string]any); ok {
		switch objectTypeOf(obj) {
		case "Activity":
			out["object"] = f.activity(obj)
		case "Agent", "Group":
			out["object"] = f.agent(obj)
		case "SubStatement":
			out["object"] = formatStatement(obj, f)
		}
	}
	if ctx, ok := s["context"].(map[string]any); ok {
		out["context"] = formatContext(ctx, f)
	}
	return out
}

func formatContext(ctx map[string]any, f formatter) map[string]any {
	out := make(map[string]any, len(ctx))
	for k, v := range ctx {
		out[k] = v
	}
	for _, key := range [...]string{"instructor", "team"} {
		if m, ok := ctx[key].(map[string]any); ok {
			out[key] = f.agent(m)
		}
	}
	if ca, ok := ctx["contextActivities"].(map[string]any); ok {
		c := make(map[string]any, len(ca))
		for kind, v := range ca {
			switch a := v.(type) {
			case map[string]any:
				c[kind] = f.activity(a)
			case []any:
				list := make([]any, len(a))
				for i, e := range a {
					if m, ok := e.(map[string]any); ok {
						list[i] = f.activity(m)
					} else {
						list[i] = e
					}
				}
				c[kind] = list
			default:
				c[kind] = v
			}
		}
		out["contextActivities"] = c
	}
	for _, p := range [...][2]string{{"contextAgents", "agent"}, {"contextGroups", "group"}} {
		list, ok := ctx[p[0]].([]any)
		if !ok {
			continue
		}
		c := make([]any, len(list))
		for i, e := range list {
			em, ok := e.(map[string]any)
			if !ok {
				c[i] = e
				continue
			}
			cm := make(map[string]any, len(em))
			for k, v := range em {
				cm[k] = v
			}
			if a, ok := em[p[1]].(map[string]any); ok {
				cm[p[1]] = f.agent(a)
			}
			c[i] = cm
		}
		out[p[0]] = c
	}
	return out
}

// idsFormatter implements format=ids.
type idsFormatter struct{}

// identifierKeys are the inverse functional identifier properties of an Agent or
// Group.
var identifierKeys = [...]string{"mbox", "mbox_sha1sum", "openid", "account"}

func (idsFormatter) agent(m map[string]any) map[string]any {
	out := make(map[string]any, 2)
	if t, ok := m["objectType"]; ok {
		out["objectType"] = t
	}
	identified := false
	for _, k := range identifierKeys {
		if v, ok := m[k]; ok {
			out[k] = v
			identified = true
		}
	}
	if !identified {
		if members, ok := m["member"].([]any); ok {
			list := make([]any, len(members))
			for i, e := range members {
				if mm, ok := e.(map[string]any); ok {
					list[i] = idsFormatter{}.agent(mm)
				} else {
					list[i] = e
				}
			}
			out["member"] = list
		}
	}
	return out
}

func (idsFormatter) verb(m map[string]any) map[string]any {
	if id, ok := m["id"]; ok {
		return map[string]any{"id": id}
	}
	return map[string]any{}
}

func (idsFormatter) activity(m map[string]any) map[string]any {
	if id, ok := m["id"]; ok {
		return map[string]any{"id": id}
	}
	return map[string]any{}
}

// canonicalFormatter implements format=canonical.
type canonicalFormatter struct {
	langs []string
}

func (canonicalFormatter) agent(m map[string]any) map[string]any { return m }

func (c canonicalFormatter) verb(m map[string]any) map[string]any {
	d, ok := m["display"].(map[string]any)
	if !ok || len(d) <= 1 {
		return m
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	out["display"] = BestLanguage(d, c.langs)
	return out
}

func (c canonicalFormatter) activity(m map[string]any) map[string]any {
	def, ok := m["definition"].(map[string]any)
	if !ok {
		return m
	}
	nd := make(map[string]any, len(def))
	for k, v := range def {
		nd[k] = v
	}
	for _, k := range [...]string{"name", "description"} {
		if lm, ok := def[k].(map[string]any); ok {
			nd[k] = BestLanguage(lm, c.langs)
		}
	}
	for _, k := range interactionComponentLists {
		list, ok := def[k].([]any)
		if !ok {
			continue
		}
		nl := make([]any, len(list))
		for i, e := range list {
			comp, ok := e.(map[string]any)
			lm, ok2 := comp["description"].(map[string]any)
			if !ok || !ok2 {
				nl[i] = e
				continue
			}
			nc := make(map[string]any, len(comp))
			for ck, cv := range comp {
				nc[ck] = cv
			}
			nc["description"] = BestLanguage(lm, c.langs)
			nl[i] = nc
		}
		nd[k] = nl
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	out["definition"] = nd
	return out
}

// BestLanguage returns a language map holding only the entry of m that best
// fits the language ranges langs (most preferred first, as returned by
// ParseAcceptLanguage), choosing as HTTP Accept-Language does (RFC 2616
// 14.4) for each map on its own (xAPI Communication 2.1.3, language
// filtering):
//
//  1. for each range in order: a tag equal to it (case-insensitively), else
//     a tag starting with the range and "-" ("en" matches "en-GB"), else for
//     "*" any tag;
//  2. for each range in order, cut at each "-" from the end: the same
//     match ("fr-FR" falls back to "fr", then to "fr-CA");
//  3. "en-US", then "en", then the first tag in sorted order.
//
// Ties are broken by sorted order, so the choice never depends on map order.
// A map with at most one entry is returned as it is.
func BestLanguage(m map[string]any, langs []string) map[string]any {
	if len(m) <= 1 {
		return m
	}
	tags := make([]string, 0, len(m))
	for k := range m {
		tags = append(tags, k)
	}
	sort.Strings(tags)
	pick := func(t string) map[string]any { return map[string]any{t: m[t]} }

	for _, r := range langs {
		if r == "*" {
			return pick(fallbackTag(tags))
		}
		if t := matchRange(tags, r); t != "" {
			return pick(t)
		}
	}
	for _, r := range langs {
		for i := strings.LastIndexByte(r, '-'); i > 0; i = strings.LastIndexByte(r, '-') {
			r = r[:i]
			if t := matchRange(tags, r); t != "" {
				return pick(t)
			}
		}
	}
	return pick(fallbackTag(tags))
}

// matchRange returns the tag equal to the language range r, else the first
// tag that starts with r and "-", else "" (case-insensitively).
func matchRange(tags []string, r string) string {
	prefixed := ""
	for _, t := range tags {
		if strings.EqualFold(t, r) {
			return t
		}
		if prefixed == "" && len(t) > len(r) && t[len(r)] == '-' && strings.EqualFold(t[:len(r)], r) {
			prefixed = t
		}
	}
	return prefixed
}

// fallbackTag picks a tag of the sorted tags when no preference decides.
func fallbackTag(tags []string) string {
	for _, want := range [...]string{"en-US", "en"} {
		for _, t := range tags {
			if strings.EqualFold(t, want) {
				return t
			}
		}
	}
	return tags[0]
}

// ParseAcceptLanguage returns the language ranges of an Accept-Language
// header, most preferred first: ordered by quality value, ties kept in header
// order. Ranges with q=0 (not acceptable) and malformed entries are left
// out. An empty header gives no ranges.
func ParseAcceptLanguage(header string) []string {
	type ranged struct {
		r string
		q float64
	}
	var rs []ranged
	for _, field := range strings.Split(header, ",") {
		r, params, _ := strings.Cut(field, ";")
		r = strings.TrimSpace(r)
		if r == "" || !validLanguageRange(r) {
			continue
		}
		q := 1.0
		ok := true
		for _, p := range strings.Split(params, ";") {
			name, val, found := strings.Cut(strings.TrimSpace(p), "=")
			if !found || !strings.EqualFold(strings.TrimSpace(name), "q") {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil || f < 0 || f > 1 {
				ok = false
				break
			}
			q = f
		}
		if ok && q > 0 {
			rs = append(rs, ranged{r, q})
		}
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].q > rs[j].q })
	out := make([]string, len(rs))
	for i, x := range rs {
		out[i] = x.r
	}
	return out
}

// validLanguageRange reports whether r is "*" or 1-8 letters followed by
// "-" and 1-8 letters or digits, any number of times (RFC 4647 2.1).
func validLanguageRange(r string) bool {
	if r == "*" {
		return true
	}
	for i, sub := range strings.Split(r, "-") {
		if len(sub) < 1 || len(sub) > 8 {
			return false
		}
		for j := 0; j < len(sub); j++ {
			c := sub[j]
			if !isAlpha(c) && (i == 0 || !isDigit(c)) {
				return false
			}
		}
	}
	return true
}

// Normalize rewrites statement s in place into the form the LRS stores and
// returns: every value of a contextActivities object becomes an array, a
// single Activity becoming an array of one ("The LRS MUST return every value
// in the contextActivities Object as an array, even if it arrived as a
// single Activity Object", xAPI Data 2.4.6.2), in the statement and in a
// SubStatement object. ContentHash is unaffected by it.
func Normalize(s map[string]any) {
	if ctx, ok := s["context"].(map[string]any); ok {
		if ca, ok := ctx["contextActivities"].(map[string]any); ok {
			for k, v := range ca {
				if m, ok := v.(map[string]any); ok {
					ca[k] = []any{m}
				}
			}
		}
	}
	if obj, ok := s["object"].(map[string]any); ok && objectTypeOf(obj) == "SubStatement" {
		Normalize(obj)
	}
}

// interactionComponentLists are the interaction component properties of an
// Activity definition.
var interactionComponentLists = [...]string{"choices", "scale", "source", "target", "steps"}
