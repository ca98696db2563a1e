package statements

// Interaction properties of an Activity Definition (xAPI "Interaction
// Activities"): they describe one interaction type together.
var interactionProps = []string{"interactionType", "correctResponsesPattern",
	"choices", "scale", "source", "target", "steps"}

// MergeDefinition returns the canonical definition of an activity after a
// statement brings the definition new for it, old being the canonical
// definition so far (nil when there is none). The xAPI specification lets
// the LRS update its canonical definition from statements; the rule is:
//
//   - name and description (language maps) merge per language tag, new
//     winning for a tag both have;
//   - extensions merge per key, new winning for a key both have (a value is
//     replaced whole, never merged inside);
//   - interaction components (choices, scale, source, target, steps): the
//     list in new replaces the old one, but the description of a component
//     whose id the old list has too merges per language as above;
//   - when new gives an interactionType other than old's, old's interaction
//     properties (interactionType, correctResponsesPattern and the component
//     lists) are dropped first, so that one type's components never mix
//     with another's;
//   - any other property given in new (type, moreInfo, interactionType,
//     correctResponsesPattern, ...) replaces old's; properties new lacks are
//     kept from old.
//
// It modifies neither input and shares no map or slice with them.
func MergeDefinition(old, new map[string]any) map[string]any {
	out := make(map[string]any, len(old)+len(new))
	for k, v := range old {
		out[k] = deepCopy(v)
	}
	nt, _ := new["interactionType"].(string)
	ot, _ := old["interactionType"].(string)
	if _, ok := new["interactionType"]; ok && nt != ot {
		for _, k := range interactionProps {
			delete(out, k)
		}
	}
	for k, v := range new {
		switch k {
		case "name", "description", "extensions":
			out[k] = mergeMap(out[k], v)
		case "choices", "scale", "source", "target", "steps":
			out[k] = mergeComponents(out[k], v)
		default:
			out[k] = deepCopy(v)
		}
	}
	return out
}

// mergeMap merges two objects key by key, new winning; when either is not
// an object, new replaces old. old is already a private copy.
func mergeMap(old, new any) any {
	o, ok1 := old.(map[string]any)
	n, ok2 := new.(map[string]any)
	if !ok1 || !ok2 {
		return deepCopy(new)
	}
	for k, v := range n {
		o[k] = deepCopy(v)
	}
	return o
}

// mergeComponents returns the component list new, each component merged
// with the component of old (a private copy) that has the same id.
func mergeComponents(old, new any) any {
	n, ok := new.([]any)
	if !ok {
		return deepCopy(new)
	}
	byID := map[string]map[string]any{}
	if o, ok := old.([]any); ok {
		for _, c := range o {
			if m, ok := c.(map[string]any); ok {
				if id, ok := m["id"].(string); ok {
					byID[id] = m
				}
			}
		}
	}
	out := make([]any, len(n))
	for i, c := range n {
		m, ok := c.(map[string]any)
		if !ok {
			out[i] = deepCopy(c)
			continue
		}
		id, _ := m["id"].(string)
		prev, ok := byID[id]
		if !ok {
			out[i] = deepCopy(m)
			continue
		}
		for k, v := range m {
			if k == "description" {
				prev[k] = mergeMap(prev[k], v)
			} else {
				prev[k] = deepCopy(v)
			}
		}
		delete(byID, id) // a repeated id must not share the map
		out[i] = prev
	}
	return out
}

// deepCopy copies a JSON tree (maps and slices; other values are
// immutable).
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = deepCopy(x)
		}
		return s
	default:
		return v
	}
}
