package lrs

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// parseParams parses the query string strictly: bad escapes, repeated
// parameters and empty values are errors (xAPI parameter names are
// case-sensitive and each occurs at most once).
func parseParams(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errs.Invalidf("", "query-syntax", "the query string is not valid URL encoding: %v", err)
	}
	for k, v := range q {
		if len(v) > 1 {
			return nil, errs.Invalidf(k, "param-repeated", "parameter %q is given %d times; give it once", k, len(v))
		}
		if v[0] == "" {
			return nil, errs.Invalidf(k, "param-empty", "parameter %q has an empty value; give a value or leave it out", k)
		}
	}
	return q, nil
}

// allowOnly rejects a parameter not among names (xAPI Communication 3.2: an
// unrecognised parameter is a 400).
func allowOnly(q url.Values, names ...string) error {
	for k := range q {
		if !slices.Contains(names, k) {
			if len(names) == 0 {
				return errs.Invalidf(k, "param-unknown", "unknown parameter %q: this request takes no parameters", k)
			}
			return errs.Invalidf(k, "param-unknown", "unknown parameter %q (parameter names are case-sensitive); allowed: %s",
				k, strings.Join(names, ", "))
		}
	}
	return nil
}

// uuidParam returns the parameter name as a lowercase UUID, or an error.
func uuidParam(q url.Values, name string) (string, error) {
	v := q.Get(name)
	if !statements.ValidUUID(v) {
		return "", errs.Invalidf(name, "uuid", "parameter %s must be a UUID like 3f2504e0-4f89-41d3-9a0c-0305e82c3301, got %q", name, v)
	}
	return strings.ToLower(v), nil
}

// boolParam parses a Boolean parameter: "true" or "false", as in JSON.
func boolParam(q url.Values, name string) (bool, error) {
	switch v := q.Get(name); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, errs.Invalidf(name, "boolean", "parameter %s must be true or false, got %q", name, v)
	}
}

// timeParam parses a timestamp parameter (ISO 8601, as statements.ParseTimestamp
// reads it). A space stands for a '+' that the client forgot to escape.
func timeParam(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := statements.ParseTimestamp(strings.ReplaceAll(v, " ", "+"))
	if err != nil {
		return time.Time{}, errs.Invalidf(name, "timestamp",
			"parameter %s must be an ISO 8601 timestamp like 2024-05-01T12:00:00.000Z, got %q", name, v)
	}
	return t.UTC(), nil
}

// iriParam checks that a parameter is an absolute IRI.
func iriParam(q url.Values, name string) (string, error) {
	v := q.Get(name)
	if v == "" {
		return "", nil
	}
	if !statements.ValidIRI(v) {
		return "", errs.Invalidf(name, "iri", "parameter %s must be an absolute IRI like http://example.com/verbs/passed, got %q", name, v)
	}
	return v, nil
}
