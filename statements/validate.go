package statements

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// verbVoided is the verb of voiding statements.
const verbVoided = "http://adlnet.gov/expapi/verbs/voided"

// checker validates decoded statements for one xAPI version. Each method
// checks the value at path p and returns the first broken rule as an
// *errs.Error of kind Invalid.
type checker struct {
	v Version
}

var (
	statementKeys    = []string{"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority", "version", "attachments"}
	subStatementKeys = []string{"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
	verbKeys         = []string{"id", "display"}
	activityKeys     = []string{"objectType", "id", "definition"}
	definitionKeys   = []string{"name", "description", "type", "moreInfo", "extensions", "interactionType",
		"correctResponsesPattern", "choices", "scale", "source", "target", "steps"}
	componentKeys    = []string{"id", "description"}
	statementRefKeys = []string{"objectType", "id"}
	resultKeys       = []string{"score", "success", "completion", "response", "duration", "extensions"}
	scoreKeys        = []string{"scaled", "raw", "min", "max"}
	context103Keys   = []string{"registration", "instructor", "team", "contextActivities", "revision",
		"platform", "language", "statement", "extensions"}
	context200Keys = []string{"registration", "instructor", "team", "contextActivities", "revision",
		"platform", "language", "statement", "extensions", "contextAgents", "contextGroups"}
	contextActivitiesKeys = []string{"parent", "grouping", "category", "other"}
	contextAgentKeys      = []string{"objectType", "agent", "relevantTypes"}
	contextGroupKeys      = []string{"objectType", "group", "relevantTypes"}
	attachmentKeys        = []string{"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"}
	objectTypes           = []string{"Activity", "Agent", "Group", "StatementRef", "SubStatement"}
	interactionTypes      = []string{"true-false", "choice", "fill-in", "long-fill-in", "matching",
		"performance", "sequencing", "likert", "numeric", "other"}
	componentLists = []string{"choices", "scale", "source", "target", "steps"}
	activityType   = []string{"Activity"}
)

// statement validates a Statement, or a SubStatement when sub is set.
func (c *checker) statement(p *jpath, m map[string]any, sub bool) error {
	what := "a Statement"
	if sub {
		what = "a SubStatement"
		for _, key := range [...]string{"id", "stored", "version", "authority"} {
			if _, ok := m[key]; ok {
				q := p.k(key)
				return invalidAt(&q, "substatement-property", "a SubStatement must not have the %q property", key)
			}
		}
		if err := checkKeys(p, m, what, subStatementKeys...); err != nil {
			return err
		}
	} else if err := checkKeys(p, m, what, statementKeys...); err != nil {
		return err
	}

	if v, ok, err := prop(p, m, "id"); err != nil {
		return err
	} else if ok {
		q := p.k("id")
		if err := uuidValue(&q, v); err != nil {
			return err
		}
	}

	v, err := requiredProp(p, m, "actor", what)
	if err != nil {
		return err
	}
	q := p.k("actor")
	if err := c.actor(&q, v); err != nil {
		return err
	}

	if v, err = requiredProp(p, m, "verb", what); err != nil {
		return err
	}
	q = p.k("verb")
	if err := c.verb(&q, v); err != nil {
		return err
	}

	if v, err = requiredProp(p, m, "object", what); err != nil {
		return err
	}
	q = p.k("object")
	ot, err := c.object(&q, v, sub)
	if err != nil {
		return err
	}
	isActivity := ot == "Activity"
	if !sub && ot != "StatementRef" {
		if vm, _ := m["verb"].(map[string]any); vm["id"] == verbVoided {
			r := q.k("objectType")
			return invalidAt(&r, "voiding-object", "a voiding statement (verb %q) must have a StatementRef object naming the statement it voids", verbVoided)
		}
	}

	if v, ok, err := prop(p, m, "result"); err != nil {
		return err
	} else if ok {
		q := p.k("result")
		if err := c.result(&q, v); err != nil {
			return err
		}
	}

	if v, ok, err := prop(p, m, "context"); err != nil {
		return err
	} else if ok {
		q := p.k("context")
		if err := c.context(&q, v, isActivity); err != nil {
			return err
		}
	}

	for _, key := range [...]string{"timestamp", "stored"} {
		if v, ok, err := prop(p, m, key); err != nil {
			return err
		} else if ok {
			q := p.k(key)
			if err := timestampValue(&q, v); err != nil {
				return err
			}
		}
	}

	if v, ok, err := prop(p, m, "authority"); err != nil {
		return err
	} else if ok {
		q := p.k("authority")
		if err := c.authority(&q, v); err != nil {
			return err
		}
	}

	if v, ok, err := prop(p, m, "version"); err != nil {
		return err
	} else if ok {
		q := p.k("version")
		s, err := stringAt(&q, v)
		if err != nil {
			return err
		}
		if !validStatementVersion(s, c.v) {
			accepted := `"1.0" or "1.0.x"`
			if c.v == V200 {
				accepted = `"1.0", "1.0.x", "2.0" or "2.0.x"`
			}
			return invalidAt(&q, "version", "the statement version %s is not accepted by an xAPI %s LRS; use %s or leave it out", quoteTrunc(s), c.v, accepted)
		}
	}

	if v, ok, err := prop(p, m, "attachments"); err != nil {
		return err
	} else if ok {
		q := p.k("attachments")
		if err := c.attachments(&q, v); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) verb(p *jpath, v any) error {
	m, err := objectAt(p, v)
	if err != nil {
		return err
	}
	if err := checkKeys(p, m, "a Verb", verbKeys...); err != nil {
		return err
	}
	id, err := requiredProp(p, m, "id", "a Verb")
	if err != nil {
		return err
	}
	q := p.k("id")
	if err := iriValue(&q, id); err != nil {
		return err
	}
	return optLangMap(p, m, "display")
}

// object validates a Statement's object and returns its objectType,
// "Activity" when absent (the context rules for revision and platform need
// to know whether the object is an Activity).
func (c *checker) object(p *jpath, v any, sub bool) (string, error) {
	m, err := objectAt(p, v)
	if err != nil {
		return "", err
	}
	ot, has, err := checkObjectType(p, m, objectTypes)
	if err != nil {
		return "", err
	}
	switch ot {
	case "Agent":
		return ot, c.agent(p, m)
	case "Group":
		return ot, c.group(p, m)
	case "StatementRef":
		return ot, c.statementRef(p, m)
	case "SubStatement":
		if sub {
			q := p.k("objectType")
			return "", invalidAt(&q, "substatement-nested", "a SubStatement must not contain another SubStatement")
		}
		return ot, c.statement(p, m, true)
	}
	if !has {
		for _, key := range [...]string{"mbox", "mbox_sha1sum", "openid", "account", "member"} {
			if _, ok := m[key]; ok {
				q := p.k("objectType")
				return "", invalidAt(&q, "object-objecttype", `an Agent or Group used as an object must have "objectType" ("Agent" or "Group"); without it the object is taken to be an Activity`)
			}
		}
	}
	return "Activity", c.activity(p, m)
}

// activity validates an Activity object (objectType, if present, was checked
// to be "Activity" or is checked here).
func (c *checker) activity(p *jpath, m map[string]any) error {
	if _, _, err := checkObjectType(p, m, activityType); err != nil {
		return err
	}
	if err := checkKeys(p, m, "an Activity", activityKeys...); err != nil {
		return err
	}
	id, err := requiredProp(p, m, "id", "an Activity")
	if err != nil {
		return err
	}
	q := p.k("id")
	if err := iriValue(&q, id); err != nil {
		return err
	}
	if v, ok, err := prop(p, m, "definition"); err != nil {
		return err
	} else if ok {
		q := p.k("definition")
		return c.definition(&q, v)
	}
	return nil
}

func (c *checker) definition(p *jpath, v any) error {
	m, err := objectAt(p, v)
	if err != nil {
		return err
	}
	if err := checkKeys(p, m, "an Activity Definition", definitionKeys...); err != nil {
		return err
	}
	if err := optLangMap(p, m, "name"); err != nil {
		return err
	}
	if err := optLangMap(p, m, "description"); err != nil {
		return err
	}
	for _, key := range [...]string{"type", "moreInfo"} {
		if v, ok, err := prop(p, m, key); err != nil {
			return err
		} else if ok {
			q := p.k(key)
			if err := iriValue(&q, v); err != nil {
				return err
			}
		}
	}
	if err := optExtensions(p, m); err != nil {
		return err
	}

	it := ""
	if v, ok, err := prop(p, m, "interactionType"); err != nil {
		return err
	} else if ok {
		q := p.k("interactionType")
		if it, err = stringAt(&q, v); err != nil {
			return err
		}
		if !inList(interactionTypes, it) {
			return invalidAt(&q, "interaction-type", "%s is not an interactionType; use one of %s (case-sensitive)", quoteTrunc(it), strings.Join(interactionTypes, ", "))
		}
	}

	if v, ok, err := prop(p, m, "correctResponsesPattern"); err != nil {
		return err
	} else if ok {
		q := p.k("correctResponsesPattern")
		if it == "" {
			return invalidAt(&q, "interaction-type-required", `"correctResponsesPattern" is only allowed in an interaction Activity: add "interactionType"`)
		}
		a, err := listAt(&q, v, MaxListEntries, "patterns")
		if err != nil {
			return err
		}
		for n, e := range a {
			r := q.i(n)
			if _, err := stringAt(&r, e); err != nil {
				return err
			}
		}
	}

	for _, key := range componentLists {
		v, ok, err := prop(p, m, key)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		q := p.k(key)
		if it == "" {
			return invalidAt(&q, "interaction-type-required", "%q is only allowed in an interaction Activity: add \"interactionType\"", key)
		}
		if !componentListAllowed(it, key) {
			return invalidAt(&q, "interaction-components", "%q is not allowed with interactionType %q (%s)", key, it, componentListsFor(it))
		}
		a, err := listAt(&q, v, MaxListEntries, "components")
		if err != nil {
			return err
		}
		var seen map[string]int // ids by index, for long lists
		if len(a) > 16 {
			seen = make(map[string]int, len(a))
		}
		for n, e := range a {
			r := q.i(n)
			cm, err := objectAt(&r, e)
			if err != nil {
				return err
			}
			if err := checkKeys(&r, cm, "an interaction component", componentKeys...); err != nil {
				return err
			}
			idv, err := requiredProp(&r, cm, "id", "an interaction component")
			if err != nil {
				return err
			}
			s := r.k("id")
			id, err := stringAt(&s, idv)
			if err != nil {
				return err
			}
			if j, dup := seenID(seen, a[:n], id); dup {
				return invalidAt(&s, "interaction-component-id", "the id %s is used by another component of %q (element %d); ids must be distinct", quoteTrunc(id), key, j)
			}
			if seen != nil {
				seen[id] = n
			}
			if err := optLangMap(&r, cm, "description"); err != nil {
				return err
			}
		}
	}
	return nil
}

// seenID reports whether id is the id of one of the components before it:
// from seen when the list is long, else by scanning them.
func seenID(seen map[string]int, before []any, id string) (int, bool) {
	if seen != nil {
		j, ok := seen[id]
		return j, ok
	}
	for j, e := range before {
		cm, _ := e.(map[string]any)
		if prev, _ := cm["id"].(string); prev == id {
			return j, true
		}
	}
	return 0, false
}

// componentListAllowed follows the table of interaction component lists per
// interactionType in the xAPI specification.
func componentListAllowed(interactionType, list string) bool {
	switch interactionType {
	case "choice", "sequencing":
		return list == "choices"
	case "likert":
		return list == "scale"
	case "matching":
		return list == "source" || list == "target"
	case "performance":
		return list == "steps"
	}
	return false
}

func componentListsFor(interactionType string) string {
	switch interactionType {
	case "choice", "sequencing":
		return `it allows "choices"`
	case "likert":
		return `it allows "scale"`
	case "matching":
		return `it allows "source" and "target"`
	case "performance":
		return `it allows "steps"`
	}
	return "it allows no component lists"
}

func (c *checker) statementRef(p *jpath, m map[string]any) error {
	if err := checkKeys(p, m, "a StatementRef", statementRefKeys...); err != nil {
		return err
	}
	if _, has, err := checkObjectType(p, m, []string{"StatementRef"}); err != nil {
		return err
	} else if !has {
		q := p.k("objectType")
		return invalidAt(&q, "required", `a Statement Reference must have "objectType": "StatementRef"`)
	}
	id, err := requiredProp(p, m, "id", "a StatementRef")
	if err != nil {
		return err
	}
	q := p.k("id")
	return uuidValue(&q, id)
}

func (c *checker) result(p *jpath, v any) error {
	m, err := objectAt(p, v)
	if err != nil {
		return err
	}
	if err := checkKeys(p, m, "a Result", resultKeys...); err != nil {
		return err
	}
	if v, ok, err := prop(p, m, "score"); err != nil {
		return err
	} else if ok {
		q := p.k("score")
		if err := checkScore(&q, v); err != nil {
			return err
		}
	}
	for _, key := range [...]string{"success", "completion"} {
		if v, ok, err := prop(p, m, key); err != nil {
			return err
		} else if ok {
			if _, isBool := v.(bool); !isBool {
				q := p.k(key)
				return invalidAt(&q, "type", "%q must be a boolean (true or false), not %s", key, jsonType(v))
			}
		}
	}
	if v, ok, err := prop(p, m, "response"); err != nil {
		return err
	} else if ok {
		q := p.k("response")
		if _, err := stringAt(&q, v); err != nil {
			return err
		}
	}
	if v, ok, err := prop(p, m, "duration"); err != nil {
		return err
	} else if ok {
		q := p.k("duration")
		s, err := stringAt(&q, v)
		if err != nil {
			return err
		}
		if !ValidDuration(s) {
			return invalidAt(&q, "duration", "%s is not an ISO 8601 duration such as \"PT1H30M\", \"PT4.5S\", \"P3Y6M4DT12H\" or \"P2W\"", quoteTrunc(s))
		}
	}
	return optExtensions(p, m)
}

func checkScore(p *jpath, v any) error {
	m, err := objectAt(p, v)
	if err != nil {
		return err
	}
	if err := checkKeys(p, m, "a Score", scoreKeys...); err != nil {
		return err
	}
	var vals [4]float64
	var has [4]bool
	for n, key := range scoreKeys {
		x, ok, err := prop(p, m, key)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		q := p.k(key)
		if vals[n], err = numberAt(&q, x); err != nil {
			return err
		}
		has[n] = true
	}
	scaled, raw, min, max := vals[0], vals[1], vals[2], vals[3]
	if has[0] && (scaled < -1 || scaled > 1) {
		q := p.k("scaled")
		return invalidAt(&q, "score-scaled", "\"scaled\" must be between -1 and 1 inclusive, not %v", scaled)
	}
	if has[2] && has[3] && min >= max {
		q := p.k("min")
		return invalidAt(&q, "score-min-max", "\"min\" (%v) must be less than \"max\" (%v)", min, max)
	}
	if has[1] && has[2] && raw < min {
		q := p.k("raw")
		return invalidAt(&q, "score-raw", "\"raw\" (%v) must not be less than \"min\" (%v)", raw, min)
	}
	if has[1] && has[3] && raw > max {
		q := p.k("raw")
		return invalidAt(&q, "score-raw", "\"raw\" (%v) must not be greater than \"max\" (%v)", raw, max)
	}
	return nil
}

func (c *checker) context(p *jpath, v any, objectIsActivity bool) error {
	m, err := objectAt(p, v)
	if err != nil {
		return err
	}
	keys := context103Keys
	if c.v == V200 {
		keys = context200Keys
	}
	if err := checkKeys(p, m, "a Context", keys...); err != nil {
		return err
	}
	if v, ok, err := prop(p, m, "registration"); err != nil {
		return err
	} else if ok {
		q := p.k("registration")
		if err := uuidValue(&q, v); err != nil {
			return err
		}
	}
	if v, ok, err := prop(p, m, "instructor"); err != nil {
		return err
	} else if ok {
		q := p.k("instructor")
		if err := c.actor(&q, v); err != nil {
			return err
		}
	}
	if v, ok, err := prop(p, m, "team"); err != nil {
		return err
	} else if ok {
		q := p.k("team")
		tm, err := objectAt(&q, v)
		if err != nil {
			return err
		}
		ot, _, err := checkObjectType(&q, tm, []string{"Agent", "Group"})
		if err != nil {
			return err
		}
		if ot != "Group" {
			r := q.k("objectType")
			return invalidAt(&r, "team-group", `the context team must be a Group with "objectType": "Group"`)
		}
		if err := c.group(&q, tm); err != nil {
			return err
		}
	}
	if v, ok, err := prop(p, m, "contextActivities"); err != nil {
		return err
	} else if ok {
		q := p.k("contextActivities")
		if err := c.contextActivities(&q, v); err != nil {
			return err
		}
	}
	for _, key := range [...]string{"revision", "platform"} {
		if v, ok, err := prop(p, m, key); err != nil {
			return err
		} else if ok {
			q := p.k(key)
			if _, err := stringAt(&q, v); err != nil {
				return err
			}
			if !objectIsActivity {
				return invalidAt(&q, "context-"+key, "%q may only be used when the statement's object is an Activity", key)
			}
		}
	}
	if v, ok, err := prop(p, m, "language"); err != nil {
		return err
	} else if ok {
		q := p.k("language")
		s, err := stringAt(&q, v)
		if err != nil {
			return err
		}
		if !ValidLanguageTag(s) {
			return invalidAt(&q, "language-tag", "%s is not an RFC 5646 language tag such as \"en\" or \"en-US\"", quoteTrunc(s))
		}
	}
	if v, ok, err := prop(p, m, "statement"); err != nil {
		return err
	} else if ok {
		q := p.k("statement")
		sm, err := objectAt(&q, v)
		if err != nil {
			return err
		}
		if err := c.statementRef(&q, sm); err != nil {
			return err
		}
	}
	if err := optExtensions(p, m); err != nil {
		return err
	}
	if c.v != V200 {
		return nil
	}
	if err := c.contextPeople(p, m, "contextAgents", "contextAgent", "agent"); err != nil {
		return err
	}
	return c.contextPeople(p, m, "contextGroups", "contextGroup", "group")
}

// contextPeople validates the 2.0 contextAgents (kind "agent") or
// contextGroups (kind "group") array.
func (c *checker) contextPeople(p *jpath, m map[string]any, key, objType, kind string) error {
	v, ok, err := prop(p, m, key)
	if err != nil || !ok {
		return err
	}
	q := p.k(key)
	a, err := listAt(&q, v, MaxListEntries, key)
	if err != nil {
		return err
	}
	keys, what := contextAgentKeys, "a contextAgent"
	if kind == "group" {
		keys, what = contextGroupKeys, "a contextGroup"
	}
	for n, e := range a {
		r := q.i(n)
		em, err := objectAt(&r, e)
		if err != nil {
			return err
		}
		if err := checkKeys(&r, em, what, keys...); err != nil {
			return err
		}
		if _, has, err := checkObjectType(&r, em, []string{objType}); err != nil {
			return err
		} else if !has {
			s := r.k("objectType")
			return invalidAt(&s, "required", "%s must have \"objectType\": %q", what, objType)
		}
		who, err := requiredProp(&r, em, kind, what)
		if err != nil {
			return err
		}
		s := r.k(kind)
		wm, err := objectAt(&s, who)
		if err != nil {
			return err
		}
		if kind == "agent" {
			ot, _, err := checkObjectType(&s, wm, []string{"Agent", "Group"})
			if err != nil {
				return err
			}
			if ot == "Group" {
				t := s.k("objectType")
				return invalidAt(&t, "context-agent", "the agent of a contextAgent must be an Agent, not a Group (use contextGroups for Groups)")
			}
			if err := c.agent(&s, wm); err != nil {
				return err
			}
		} else {
			ot, _, err := checkObjectType(&s, wm, []string{"Agent", "Group"})
			if err != nil {
				return err
			}
			if ot != "Group" {
				t := s.k("objectType")
				return invalidAt(&t, "context-group", `the group of a contextGroup must be a Group with "objectType": "Group"`)
			}
			if err := c.group(&s, wm); err != nil {
				return err
			}
		}
		if rv, ok, err := prop(&r, em, "relevantTypes"); err != nil {
			return err
		} else if ok {
			s := r.k("relevantTypes")
			ra, err := listAt(&s, rv, MaxListEntries, "IRIs")
			if err != nil {
				return err
			}
			if len(ra) == 0 {
				return invalidAt(&s, "relevant-types", "\"relevantTypes\" must hold at least one IRI when present")
			}
			for j, t := range ra {
				u := s.i(j)
				if err := iriValue(&u, t); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (c *checker) contextActivities(p *jpath, v any) error {
	m, err := objectAt(p, v)
	if err != nil {
		return err
	}
	if err := checkKeys(p, m, "a contextActivities object", contextActivitiesKeys...); err != nil {
		return err
	}
	for _, key := range contextActivitiesKeys {
		v, ok, err := prop(p, m, key)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		q := p.k(key)
		switch x := v.(type) {
		case map[string]any:
			if err := c.activity(&q, x); err != nil {
				return err
			}
		case []any:
			if _, err := listAt(&q, x, MaxListEntries, "Activities"); err != nil {
				return err
			}
			for n, e := range x {
				r := q.i(n)
				am, err := objectAt(&r, e)
				if err != nil {
					return err
				}
				if err := c.activity(&r, am); err != nil {
					return err
				}
			}
		default:
			return invalidAt(&q, "type", "%q must be an Activity object or an array of Activity objects, not %s", key, jsonType(v))
		}
	}
	return nil
}

func (c *checker) attachments(p *jpath, v any) error {
	a, err := listAt(p, v, MaxListEntries, "attachments")
	if err != nil {
		return err
	}
	for n, e := range a {
		q := p.i(n)
		m, err := objectAt(&q, e)
		if err != nil {
			return err
		}
		if err := checkKeys(&q, m, "an Attachment", attachmentKeys...); err != nil {
			return err
		}
		x, err := requiredProp(&q, m, "usageType", "an Attachment")
		if err != nil {
			return err
		}
		r := q.k("usageType")
		if err := iriValue(&r, x); err != nil {
			return err
		}
		if _, err := requiredProp(&q, m, "display", "an Attachment"); err != nil {
			return err
		}
		if err := optLangMap(&q, m, "display"); err != nil {
			return err
		}
		if err := optLangMap(&q, m, "description"); err != nil {
			return err
		}
		if x, err = requiredProp(&q, m, "contentType", "an Attachment"); err != nil {
			return err
		}
		r = q.k("contentType")
		s, err := stringAt(&r, x)
		if err != nil {
			return err
		}
		if !validMediaType(s) {
			return invalidAt(&r, "content-type", "%s is not an Internet media type such as \"application/pdf\"", quoteTrunc(s))
		}
		if x, err = requiredProp(&q, m, "length", "an Attachment"); err != nil {
			return err
		}
		r = q.k("length")
		f, err := numberAt(&r, x)
		if err != nil {
			return err
		}
		if f < 0 || f != math.Trunc(f) || f > 1<<53 {
			return invalidAt(&r, "attachment-length", "\"length\" must be a non-negative integer (the number of octets), not %v", x)
		}
		if x, err = requiredProp(&q, m, "sha2", "an Attachment"); err != nil {
			return err
		}
		r = q.k("sha2")
		if s, err = stringAt(&r, x); err != nil {
			return err
		}
		if !validSHA2Hex(s) {
			return invalidAt(&r, "attachment-sha2", "\"sha2\" must be the hexadecimal SHA-2 hash of the attachment data (64 hex digits for SHA-256), not %s", quoteTrunc(s))
		}
		if x, ok, err := prop(&q, m, "fileUrl"); err != nil {
			return err
		} else if ok {
			r := q.k("fileUrl")
			if err := iriValue(&r, x); err != nil {
				return err
			}
		}
	}
	return nil
}

// --- typed accessors -------------------------------------------------------

// field returns m[key] and whether it is present; a null value is an error
// (xAPI forbids nulls outside extensions).
func prop(p *jpath, m map[string]any, key string) (any, bool, error) {
	v, ok := m[key]
	if ok && v == nil {
		q := p.k(key)
		return nil, true, invalidAt(&q, "null", "%q must not be null; leave the property out instead", key)
	}
	return v, ok, nil
}

// required is field for a property that must be present.
func requiredProp(p *jpath, m map[string]any, key, what string) (any, error) {
	v, ok, err := prop(p, m, key)
	if err != nil {
		return nil, err
	}
	if !ok {
		q := p.k(key)
		return nil, invalidAt(&q, "required", "%s must have the %q property", what, key)
	}
	return v, nil
}

func objectAt(p *jpath, v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalidAt(p, "type", "must be a JSON object, not %s", jsonType(v))
	}
	return m, nil
}

func arrayAt(p *jpath, v any) ([]any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, invalidAt(p, "type", "must be a JSON array, not %s", jsonType(v))
	}
	return a, nil
}

func stringAt(p *jpath, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", invalidAt(p, "type", "must be a string, not %s", jsonType(v))
	}
	return s, nil
}

func numberAt(p *jpath, v any) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, invalidAt(p, "type", "must be a number, not %s", jsonType(v))
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, invalidAt(p, "number-range", "the number %s is out of range", quoteTrunc(string(n)))
	}
	return f, nil
}

// objectType returns m's objectType and whether it is present, checking that
// it is one of allowed (case-sensitive).
func checkObjectType(p *jpath, m map[string]any, allowed []string) (string, bool, error) {
	v, ok, err := prop(p, m, "objectType")
	if err != nil || !ok {
		return "", false, err
	}
	q := p.k("objectType")
	s, err := stringAt(&q, v)
	if err != nil {
		return "", true, err
	}
	if inList(allowed, s) {
		return s, true, nil
	}
	for _, a := range allowed {
		if strings.EqualFold(a, s) {
			return "", true, invalidAt(&q, "objecttype-case", "objectType values are case-sensitive: use %q, not %s", a, quoteTrunc(s))
		}
	}
	if len(allowed) == 1 {
		return "", true, invalidAt(&q, "objecttype", "objectType must be %q here, not %s", allowed[0], quoteTrunc(s))
	}
	return "", true, invalidAt(&q, "objecttype", "objectType must be one of %s here, not %s", strings.Join(allowed, ", "), quoteTrunc(s))
}

func uuidValue(p *jpath, v any) error {
	s, err := stringAt(p, v)
	if err != nil {
		return err
	}
	if !ValidUUID(s) {
		return invalidAt(p, "uuid", "%s is not a UUID in the standard form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", quoteTrunc(s))
	}
	return nil
}

func iriValue(p *jpath, v any) error {
	s, err := stringAt(p, v)
	if err != nil {
		return err
	}
	if !ValidIRI(s) {
		return invalidAt(p, "iri", "%s is not an absolute IRI with a scheme, such as \"http://example.com/x\"", quoteTrunc(s))
	}
	return nil
}

func timestampValue(p *jpath, v any) error {
	s, err := stringAt(p, v)
	if err != nil {
		return err
	}
	if _, ok := parseTimestamp(s); !ok {
		return invalidAt(p, "timestamp", "%s is not an ISO 8601 timestamp such as \"2024-05-04T17:00:00.000Z\" (a \"-00:00\" offset is not allowed)", quoteTrunc(s))
	}
	return nil
}

// optLangMap validates m[key] as a language map when present.
func optLangMap(p *jpath, m map[string]any, key string) error {
	v, ok, err := prop(p, m, key)
	if err != nil || !ok {
		return err
	}
	q := p.k(key)
	lm, err := objectAt(&q, v)
	if err != nil {
		return err
	}
	// Report the first bad key in sorted order, whatever the map order.
	bad, found := "", false
	for tag, s := range lm {
		if _, ok := s.(string); (!ok || !ValidLanguageTag(tag)) && (!found || tag < bad) {
			bad, found = tag, true
		}
	}
	if !found {
		return nil
	}
	r := q.k(bad)
	if !ValidLanguageTag(bad) {
		return invalidAt(&r, "language-tag", "the language map key %s is not an RFC 5646 language tag such as \"en\" or \"en-US\"", quoteTrunc(bad))
	}
	return invalidAt(&r, "type", "language map values must be strings, not %s", jsonType(lm[bad]))
}

// optExtensions validates m["extensions"] when present: an object whose keys
// are IRIs. Values are free JSON, null included.
func optExtensions(p *jpath, m map[string]any) error {
	v, ok, err := prop(p, m, "extensions")
	if err != nil || !ok {
		return err
	}
	q := p.k("extensions")
	em, err := objectAt(&q, v)
	if err != nil {
		return err
	}
	bad, found := "", false
	for key := range em {
		if !ValidIRI(key) && (!found || key < bad) {
			bad, found = key, true
		}
	}
	if found {
		r := q.k(bad)
		return invalidAt(&r, "extension-key", "extension keys must be absolute IRIs such as \"http://example.com/ext/x\", not %s", quoteTrunc(bad))
	}
	return nil
}

// quoteTrunc quotes s for an error message, shortened to 80 bytes.
func quoteTrunc(s string) string {
	if len(s) > 80 {
		cut := 80
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}
