package statements

import (
	"slices"
	"strings"
	"time"
)

// voidedVerb is the verb id of a voiding statement.
const voidedVerb = "http://adlnet.gov/expapi/verbs/voided"

// AgentKey returns the identifier key of an Agent or identified Group: its
// inverse functional identifier as one string, the same for every
// serialisation of the same identifier:
//
//	mbox:mailto:name@example.com        (scheme and domain lowercased)
//	mbox_sha1sum:<40 hex digits>        (lowercased)
//	openid:<uri>                        (exactly as sent)
//	account:<homePage> <name>           (homePage with "%" and " " percent-encoded)
//
// The four forms start with different prefixes and the account homePage
// cannot contain a space once encoded, so different identifiers never share
// a key. AgentKey returns "" for an anonymous Group (or anything without an
// identifier). Filters compare these keys, so the agent query parameter and
// the stored statements must both go through AgentKey.
func AgentKey(agent map[string]any) string {
	if s, ok := agent["mbox"].(string); ok {
		return "mbox:" + normalizeMbox(s)
	}
	if s, ok := agent["mbox_sha1sum"].(string); ok {
		return "mbox_sha1sum:" + strings.ToLower(s)
	}
	if s, ok := agent["openid"].(string); ok {
		return "openid:" + s
	}
	if a, ok := agent["account"].(map[string]any); ok {
		home, _ := a["homePage"].(string)
		name, _ := a["name"].(string)
		if strings.ContainsAny(home, "% ") {
			home = strings.ReplaceAll(home, "%", "%25")
			home = strings.ReplaceAll(home, " ", "%20")
		}
		return "account:" + home + " " + name
	}
	return ""
}

// normalizeMbox lowercases the parts of a mailto IRI that are case
// insensitive: the scheme and the domain (xAPI Data 2.3.1, "Case
// sensitivity"). The local part is kept as sent.
func normalizeMbox(s string) string {
	if len(s) >= 7 && strings.EqualFold(s[:7], "mailto:") {
		s = "mailto:" + s[7:]
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		if d := s[at+1:]; d != strings.ToLower(d) {
			s = s[:at+1] + strings.ToLower(d)
		}
	}
	return s
}

// Index fills the filter fields of rec (VerbID, Registration, Timestamp,
// Agents, RelatedAgents, Activities, RelatedActivities, RefID, Voids) from
// the validated statement s. Each list is free of duplicates, and the
// Related lists leave out what the plain lists hold already (stores match
// the union when related_agents or related_activities is set). Ids are kept
// exactly as sent, except the case-insensitive ones: UUIDs (registration,
// StatementRef id) are lowercased, agents are keyed by AgentKey.
//
// Agents holds the actor and an Agent or Group object, and the members of
// those Groups: the agent filter returns statements whose actor or object is
// the Agent, and "Groups that have members which match the specified Agent
// ... are considered a match" (xAPI 1.0.3 Communication 2.1.3, agent
// parameter; applied to 2.0.0 too). RelatedAgents holds the authority, context
// instructor and team, context agents and groups (2.0.0), their members, and
// the same people inside a SubStatement object.
//
// Activities holds the object when it is an Activity; RelatedActivities the
// context activities of every kind (parent, grouping, category, other) and,
// inside a SubStatement, its object Activity and context activities.
func Index(s map[string]any, rec *Record) {
	var x indexer
	rec.VerbID, rec.Registration, rec.Timestamp, rec.RefID, rec.Voids = "", "", time.Time{}, "", ""
	if v, ok := s["verb"].(map[string]any); ok {
		rec.VerbID, _ = v["id"].(string)
	}
	if ctx, ok := s["context"].(map[string]any); ok {
		if r, ok := ctx["registration"].(string); ok {
			rec.Registration = strings.ToLower(r)
		}
	}
	if ts, ok := s["timestamp"].(string); ok {
		if t, err := ParseTimestamp(ts); err == nil {
			rec.Timestamp = t
		}
	}

	// The plain lists.
	if a, ok := s["actor"].(map[string]any); ok {
		x.agent(&x.agents, a)
	}
	obj, _ := s["object"].(map[string]any)
	switch objectTypeOf(obj) {
	case "Activity":
		if id, ok := obj["id"].(string); ok {
			x.activities.add(id)
		}
	case "Agent", "Group":
		x.agent(&x.agents, obj)
	case "StatementRef":
		if id, ok := obj["id"].(string); ok {
			rec.RefID = strings.ToLower(id)
			if rec.VerbID == voidedVerb {
				rec.Voids = rec.RefID
			}
		}
	}

	// The related lists.
	if a, ok := s["authority"].(map[string]any); ok {
		x.agent(&x.related, a)
	}
	x.context(s["context"])
	if objectTypeOf(obj) == "SubStatement" {
		if a, ok := obj["actor"].(map[string]any); ok {
			x.agent(&x.related, a)
		}
		sub, _ := obj["object"].(map[string]any)
		switch objectTypeOf(sub) {
		case "Activity":
			if id, ok := sub["id"].(string); ok {
				x.relatedActs.add(id)
			}
		case "Agent", "Group":
			x.agent(&x.related, sub)
		}
		x.context(obj["context"])
	}

	rec.Agents = x.agents.list
	rec.RelatedAgents = x.related.without(&x.agents)
	rec.Activities = x.activities.list
	rec.RelatedActivities = x.relatedActs.without(&x.activities)
}

// indexer collects the lists of Index.
type indexer struct {
	agents, related         orderedSet
	activities, relatedActs orderedSet
}

// orderedSet is a list of distinct strings in the order they were first
// added. A short list is searched; from setIndexAt elements on, a map
// answers, so that indexing costs time linear in the size of the statement
// however many people or activities it names.
type orderedSet struct {
	list []string
	has  map[string]struct{} // nil while the list is short
}

// setIndexAt is the length from which an orderedSet keeps a map.
const setIndexAt = 16

func (o *orderedSet) contains(s string) bool {
	if o.has != nil {
		_, ok := o.has[s]
		return ok
	}
	return slices.Contains(o.list, s)
}

func (o *orderedSet) add(s string) {
	if o.contains(s) {
		return
	}
	o.list = append(o.list, s)
	switch {
	case o.has != nil:
		o.has[s] = struct{}{}
	case len(o.list) == setIndexAt:
		o.has = make(map[string]struct{}, 2*setIndexAt)
		for _, e := range o.list {
			o.has[e] = struct{}{}
		}
	}
}

// without returns the elements of o not in drop (o's list itself when none
// is dropped).
func (o *orderedSet) without(drop *orderedSet) []string {
	if len(drop.list) == 0 {
		return o.list
	}
	out := o.list[:0:0]
	for _, s := range o.list {
		if !drop.contains(s) {
			out = append(out, s)
		}
	}
	return out
}

// agent adds the key of an Agent or Group and the keys of its members to
// set.
func (x *indexer) agent(set *orderedSet, a map[string]any) {
	if k := AgentKey(a); k != "" {
		set.add(k)
	}
	members, _ := a["member"].([]any)
	for _, m := range members {
		if mm, ok := m.(map[string]any); ok {
			if k := AgentKey(mm); k != "" {
				set.add(k)
			}
		}
	}
}

// context adds the people and activities of a context to the related lists.
func (x *indexer) context(v any) {
	ctx, ok := v.(map[string]any)
	if !ok {
		return
	}
	for _, key := range [...]string{"instructor", "team"} {
		if a, ok := ctx[key].(map[string]any); ok {
			x.agent(&x.related, a)
		}
	}
	for _, p := range [...][2]string{{"contextAgents", "agent"}, {"contextGroups", "group"}} {
		list, _ := ctx[p[0]].([]any)
		for _, e := range list {
			em, _ := e.(map[string]any)
			if a, ok := em[p[1]].(map[string]any); ok {
				x.agent(&x.related, a)
			}
		}
	}
	ca, _ := ctx["contextActivities"].(map[string]any)
	for _, key := range contextActivityKinds {
		switch v := ca[key].(type) {
		case map[string]any:
			if id, ok := v["id"].(string); ok {
				x.relatedActs.add(id)
			}
		case []any:
			for _, e := range v {
				if m, ok := e.(map[string]any); ok {
					if id, ok := m["id"].(string); ok {
						x.relatedActs.add(id)
					}
				}
			}
		}
	}
}

// contextActivityKinds are the properties of a contextActivities object.
var contextActivityKinds = [...]string{"parent", "grouping", "category", "other"}

// objectTypeOf returns the objectType of a statement object, "Activity" when
// it has none; "" for a nil object.
func objectTypeOf(obj map[string]any) string {
	if obj == nil {
		return ""
	}
	if t, ok := obj["objectType"].(string); ok {
		return t
	}
	return "Activity"
}
