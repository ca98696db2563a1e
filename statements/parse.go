package statements

import (
	"bytes"
	"encoding/json"

	"github.com/xapi-lrs/lrs/errs"
)

// PLACEHOLDER: replaced by the strict validator (json.go, validate*.go).

// ParseStatement strictly parses and validates one statement (a JSON object)
// for version v. Errors are *errs.Error of kind Invalid naming the property
// path and the rule.
func ParseStatement(data []byte, v Version) (map[string]any, error) {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, errs.Invalidf("", "json", "not a JSON object: %v", err)
	}
	return m, nil
}

// ParseStatements parses a POST body: one statement object or an array of
// them. Paths in errors of a batch start with the index, e.g. "[3].verb.id".
func ParseStatements(data []byte, v Version) ([]map[string]any, error) {
	t := bytes.TrimLeft(data, " \t\r\n")
	if len(t) > 0 && t[0] == '[' {
		var raw []json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			return nil, errs.Invalidf("", "json", "not a JSON array: %v", err)
		}
		out := make([]map[string]any, 0, len(raw))
		for _, r := range raw {
			m, err := ParseStatement(r, v)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		return out, nil
	}
	m, err := ParseStatement(data, v)
	if err != nil {
		return nil, err
	}
	return []map[string]any{m}, nil
}

// ParseAgent strictly parses and validates an Agent or Group object (as given
// in the agent query parameter or the document resources) for version v.
func ParseAgent(data []byte, v Version) (map[string]any, error) {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, errs.Invalidf("", "json", "not a JSON object: %v", err)
	}
	return m, nil
}
