package reporting

import (
	"slices"
	"strings"

	"github.com/xapi-lrs/lrs/errs"
)

// PersonAgent returns the xAPI Agent by which person (an employee id) is
// known on day d, for statements made on their behalf (a launch of a
// package for them): the identifier they hold on d that the reports match
// their statements by, preferring their e-mail address (mbox), then an
// account, another mbox, an OpenID and a hashed address, with their name.
// rows are the person's current roster rows (RosterFilter.People). A
// person the roster does not know is an errs.NotFound error; one without
// an identifier on d an errs.Invalid error.
func PersonAgent(rows []RosterRow, person string, d Date) (map[string]any, error) {
	return personAgent(rows, person, d, false)
}

// PersonAccount is PersonAgent limited to the person's accounts: the Agent
// of a cmi5 launch, whose actor has an account (cmi5 section 9.2). A
// person without an account on d is an errs.Invalid error.
func PersonAccount(rows []RosterRow, person string, d Date) (map[string]any, error) {
	return personAgent(rows, person, d, true)
}

func personAgent(rows []RosterRow, person string, d Date, account bool) (map[string]any, error) {
	var name, email string
	var keys []string
	var from Date
	known := false
	for _, r := range rows {
		if r.Key != person {
			continue
		}
		switch r.Kind {
		case RowPerson:
			if !known || r.From >= from {
				name, email, from = r.Name, r.Email, r.From
			}
			known = true
		case RowIdent:
			if r.Contains(d) && (!account || strings.HasPrefix(r.Value, "account:")) {
				keys = append(keys, r.Value)
			}
		}
	}
	if !known {
		return nil, errs.E(errs.NotFound, "no person %q in the roster", person)
	}
	if k, err := emailKey(email); err == nil && slices.Contains(keys, k) {
		keys = []string{k}
	}
	rank := func(k string) int {
		for i, p := range []string{"mbox:", "account:", "openid:", "mbox_sha1sum:"} {
			if strings.HasPrefix(k, p) {
				return i
			}
		}
		return 9
	}
	slices.SortStableFunc(keys, func(a, b string) int { return rank(a) - rank(b) })
	for _, k := range keys {
		if a := agentOfKey(k); a != nil {
			if name != "" {
				a["name"] = name
			}
			a["objectType"] = "Agent"
			return a, nil
		}
	}
	if account {
		return nil, errs.Invalidf("person", "cmi5-actor", "person %q has no account identifier in the roster today, and a cmi5 learner is an Agent with an account (cmi5 section 9.2)", person)
	}
	return nil, errs.Invalidf("person", "person-identifier", "person %q has no e-mail address or xAPI identifier in the roster today", person)
}

// agentOfKey returns an Agent with the identifier of a MatchKey (nil for
// a key of no known form).
func agentOfKey(k string) map[string]any {
	kind, v, ok := strings.Cut(k, ":")
	if !ok || v == "" {
		return nil
	}
	switch kind {
	case "mbox", "mbox_sha1sum", "openid":
		return map[string]any{kind: v}
	case "account":
		home, name, ok := strings.Cut(v, " ")
		if !ok || home == "" || name == "" {
			return nil
		}
		home = strings.ReplaceAll(strings.ReplaceAll(home, "%20", " "), "%25", "%")
		return map[string]any{"account": map[string]any{"homePage": home, "name": name}}
	}
	return nil
}
