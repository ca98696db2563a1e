package statements

import (
	"strings"

	"github.com/xapi-lrs/lrs/errs"
)

// ParseStatement strictly parses and validates one statement (a JSON object)
// for version v. Errors are *errs.Error of kind Invalid naming the property
// path and the rule.
//
// Parsing is strict JSON (see DecodeJSON: no duplicate keys, valid UTF-8,
// bounded depth, nothing after the value) and validation enforces every
// requirement the xAPI specification places on a statement for v: property
// names and enumerated values in the exact case, no unknown properties and
// no nulls outside extensions, the right JSON types, the formats of UUIDs,
// IRIs, mailto addresses, language tags, timestamps and durations, and the
// structural rules on Agents, Groups, Activities, interactions, SubStatements,
// StatementRefs, results, contexts (contextAgents and contextGroups in 2.0.0
// only), authority, version and attachments. The returned tree is the
// statement as sent; nothing is normalised.
func ParseStatement(data []byte, v Version) (map[string]any, error) {
	tree, err := DecodeJSON(data)
	if err != nil {
		return nil, err
	}
	return validateStatement(nil, tree, v)
}

// ParseStatements parses a POST body: one statement object or an array of
// them. Paths in errors of a batch start with the index, e.g. "[3].verb.id".
// Two statements of a batch with the same id are rejected (rule
// "duplicate-id").
//
// An empty array yields no statements and no error, so POST [] stores
// nothing and answers 200 with the empty array of ids. xAPI (Communication
// 2.1.2) takes "an array of Statements or a single Statement" and returns
// the array of their ids, with no minimum length; the ADL conformance suite
// does not test it; lrsql accepts it too (yetanalytics/xapi-schema PR 86,
// "Allow empty statement batches"). A client that flushes an empty queue
// thus gets a success that changes nothing.
func ParseStatements(data []byte, v Version) ([]map[string]any, error) {
	tree, err := DecodeJSON(data)
	if err != nil {
		return nil, err
	}
	a, isArray := tree.([]any)
	if !isArray {
		if _, isObject := tree.(map[string]any); !isObject {
			return nil, errs.Invalidf("", "type", "the request body must be a statement (a JSON object) or an array of statements, not %s", jsonType(tree))
		}
		m, err := validateStatement(nil, tree, v)
		if err != nil {
			return nil, err
		}
		return []map[string]any{m}, nil
	}
	out := make([]map[string]any, 0, len(a))
	var seen map[string]int
	for i, e := range a {
		var root *jpath
		p := root.i(i)
		m, err := validateStatement(&p, e, v)
		if err != nil {
			return nil, err
		}
		if id, ok := m["id"].(string); ok {
			id = strings.ToLower(id)
			if seen == nil {
				seen = make(map[string]int, len(a))
			}
			if j, dup := seen[id]; dup {
				q := p.k("id")
				return nil, invalidAt(&q, "duplicate-id", "the statement id %s is also used by statement [%d] of this batch; ids must be unique", id, j)
			}
			seen[id] = i
		}
		out = append(out, m)
	}
	return out, nil
}

// ParseAgent strictly parses and validates an Agent or Group object (as given
// in the agent query parameter or the document resources) for version v.
// Groups may be anonymous here; callers that need an identifier check
// AgentKey.
func ParseAgent(data []byte, v Version) (map[string]any, error) {
	tree, err := DecodeJSON(data)
	if err != nil {
		return nil, err
	}
	m, ok := tree.(map[string]any)
	if !ok {
		return nil, errs.Invalidf("", "type", "an Agent or Group must be a JSON object, not %s", jsonType(tree))
	}
	c := checker{v: v}
	if err := c.actor(nil, m); err != nil {
		return nil, err
	}
	return m, nil
}

func validateStatement(p *jpath, tree any, v Version) (map[string]any, error) {
	m, ok := tree.(map[string]any)
	if !ok {
		return nil, invalidAt(p, "type", "a statement must be a JSON object, not %s", jsonType(tree))
	}
	c := checker{v: v}
	if err := c.statement(p, m, false); err != nil {
		return nil, err
	}
	return m, nil
}
