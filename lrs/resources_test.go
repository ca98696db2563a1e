package lrs_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"testing"
)

// person GETs the Person object of agent (JSON) and decodes it.
func (s *testServer) person(agent string) map[string]any {
	s.t.Helper()
	r := s.do(req{method: "GET", path: withQuery("/xapi/agents", "agent", agent)})
	expect(s.t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		s.t.Errorf("Person Content-Type %q", ct)
	}
	var p map[string]any
	r.json(s.t, &p)
	if p["objectType"] != "Person" {
		s.t.Errorf("Person without objectType Person: %s", r.body)
	}
	return p
}

// names returns the Person's name array.
func names(t testing.TB, p map[string]any) []string {
	t.Helper()
	raw, ok := p["name"]
	if !ok {
		return nil
	}
	list, ok := raw.([]any)
	if !ok {
		t.Fatalf("Person name is not an array: %v", p)
	}
	var out []string
	for _, n := range list {
		out = append(out, n.(string))
	}
	slices.Sort(out)
	return out
}

// TestAgentsResource checks the Person object: the identifier as a
// one-element array, and the names the agent was given in the request and
// in its statements, as actor and as object.
func TestAgentsResource(t *testing.T) {
	s := newServer(t)
	ann := map[string]any{"mbox": "mailto:ann@example.com"}
	named := func(name string) map[string]any {
		return map[string]any{"objectType": "Agent", "mbox": "mailto:ann@example.com", "name": name}
	}
	account := map[string]any{"objectType": "Agent", "name": "Player One",
		"account": map[string]any{"homePage": "http://games.example.com", "name": "p1"}}
	s.post(
		stmt("ann", "attended", "actor", named("Ann")),
		stmt("ann", "attended", "actor", named("Ann")), // a name once
		stmt("ann", "attended", "actor", ann),          // no name
		stmt("bob", "mentored", "object", named("Ann Smith")),
		stmt("bob", "attended"), // Bob's name is Bob's
		stmt("x", "attended", "actor", account),
	)

	p := s.person(annAgent)
	if got := names(t, p); !slices.Equal(got, []string{"Ann", "Ann Smith"}) {
		t.Errorf("Ann's names %q, want Ann and Ann Smith", got)
	}
	if got, ok := p["mbox"].([]any); !ok || !slices.Equal(got, []any{"mailto:ann@example.com"}) {
		t.Errorf("Person mbox %v, want [mailto:ann@example.com]", p["mbox"])
	}
	for _, ifi := range []string{"mbox_sha1sum", "openid", "account"} {
		if _, ok := p[ifi]; ok {
			t.Errorf("Person has %s the agent does not: %v", ifi, p)
		}
	}

	// A name in the request is one of the names.
	p = s.person(`{"mbox":"mailto:ann@example.com","name":"A. Smith"}`)
	if got := names(t, p); !slices.Equal(got, []string{"A. Smith", "Ann", "Ann Smith"}) {
		t.Errorf("names with one in the request: %q", got)
	}

	p = s.person(`{"account":{"homePage":"http://games.example.com","name":"p1"}}`)
	wantAccount := []any{map[string]any{"homePage": "http://games.example.com", "name": "p1"}}
	if !reflect.DeepEqual(p["account"], wantAccount) || !slices.Equal(names(t, p), []string{"Player One"}) {
		t.Errorf("Person of an account: %v", p)
	}

	// An agent the LRS has never seen is a Person with its identifier.
	p = s.person(`{"openid":"http://openid.example.com/carol"}`)
	want := map[string]any{"objectType": "Person", "openid": []any{"http://openid.example.com/carol"}}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Person of an unknown agent %v, want %v", p, want)
	}
	p = s.person(`{"mbox_sha1sum":"ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}`)
	if got, ok := p["mbox_sha1sum"].([]any); !ok || len(got) != 1 {
		t.Errorf("Person of an mbox_sha1sum agent: %v", p)
	}

	h := s.do(req{method: "HEAD", path: withQuery("/xapi/agents", "agent", annAgent)})
	expect(t, h, http.StatusOK)
	if len(h.body) != 0 || h.header.Get("Content-Length") == "" {
		t.Errorf("HEAD /xapi/agents: Content-Length %q, body %q", h.header.Get("Content-Length"), h.body)
	}

	// Bad requests, credentials and scopes.
	for _, c := range []struct{ what, path, errPath string }{
		{"no agent", "/xapi/agents", "agent"},
		{"agent not JSON", withQuery("/xapi/agents", "agent", "ann"), "agent"},
		{"agent unidentified", withQuery("/xapi/agents", "agent", `{"name":"Ann"}`), "*"},
		{"unknown parameter", withQuery("/xapi/agents", "agent", annAgent, "activityId", course), "activityId"},
		{"repeated agent", "/xapi/agents?agent=%7B%7D&agent=%7B%7D", "agent"},
	} {
		expectError(t, c.what, s.do(req{method: "GET", path: c.path}), http.StatusBadRequest, c.errPath)
	}
	path := withQuery("/xapi/agents", "agent", annAgent)
	expectError(t, "agents without credentials", s.do(req{method: "GET", path: path, noAuth: true}), http.StatusUnauthorized, "")
	expectError(t, "agents with the state scope", s.do(req{method: "GET", path: path, key: "nothing"}), http.StatusForbidden, "")
	expectError(t, "agents with statements/write", s.do(req{method: "GET", path: path, key: "writer"}), http.StatusForbidden, "")
	for _, key := range []string{"reader", "allreader"} {
		expect(t, s.do(req{method: "GET", path: path, key: key}), http.StatusOK)
	}
	r := s.do(req{method: "PUT", path: path, body: `{}`})
	if r.status != http.StatusMethodNotAllowed {
		t.Errorf("PUT /xapi/agents: status %d", r.status)
	}
}

// activity GETs the Activity object of id and decodes it, returning the raw
// body too.
func (s *testServer) activity(id string) (map[string]any, []byte) {
	s.t.Helper()
	r := s.do(req{method: "GET", path: withQuery("/xapi/activities", "activityId", id)})
	expect(s.t, r, http.StatusOK)
	var a map[string]any
	r.json(s.t, &a)
	if a["objectType"] != "Activity" || a["id"] != id {
		s.t.Errorf("Activity %s: %s", id, r.body)
	}
	return a, r.body
}

// act returns an Activity with a definition (none when def is nil).
func act(id string, def map[string]any) map[string]any {
	a := map[string]any{"objectType": "Activity", "id": id}
	if def != nil {
		a["definition"] = def
	}
	return a
}

// TestActivitiesResource checks the canonical definitions the LRS learns
// from statements: merged across statements, from the object, the context
// activities and SubStatements, and only the id for an unknown activity.
func TestActivitiesResource(t *testing.T) {
	s := newServer(t)
	const base = "http://example.com/acts/"
	lang := func(m ...string) map[string]any {
		out := map[string]any{}
		for i := 0; i+1 < len(m); i += 2 {
			out[m[i]] = m[i+1]
		}
		return out
	}
	// Two statements define one activity in different languages.
	s.post(stmt("ann", "attended", "object", act(base+"merged", map[string]any{
		"name": lang("en-US", "Fire safety"), "type": "http://adlnet.gov/expapi/activities/course"})))
	s.post(stmt("bob", "attended", "object", act(base+"merged", map[string]any{
		"name": lang("fr-FR", "Sécurité incendie"), "description": lang("en-US", "How & why <fire>")})))
	a, raw := s.activity(base + "merged")
	wantDef := map[string]any{
		"name":        lang("en-US", "Fire safety", "fr-FR", "Sécurité incendie"),
		"description": lang("en-US", "How & why <fire>"),
		"type":        "http://adlnet.gov/expapi/activities/course",
	}
	if !reflect.DeepEqual(a["definition"], wantDef) {
		t.Errorf("merged definition %v, want %v", a["definition"], wantDef)
	}
	if !bytes.Contains(raw, []byte("How & why <fire>")) {
		t.Errorf("the definition's text is escaped: %s", raw)
	}
	// A later statement's text for a language replaces the earlier one.
	s.post(stmt("ann", "attended", "object", act(base+"merged", map[string]any{"name": lang("en-US", "Fire safety 2")})))
	a, _ = s.activity(base + "merged")
	if name := a["definition"].(map[string]any)["name"]; !reflect.DeepEqual(name, lang("en-US", "Fire safety 2", "fr-FR", "Sécurité incendie")) {
		t.Errorf("name after an update: %v", name)
	}

	// Context activities (arrays, and single objects in 1.0.3) and a
	// SubStatement's object and context activities.
	def := func(name string) map[string]any { return map[string]any{"name": lang("en-US", name)} }
	s.post(stmt("ann", "attended", "context", map[string]any{"contextActivities": map[string]any{
		"parent":   []any{act(base+"parent", def("Parent"))},
		"grouping": []any{act(base+"grouping", def("Grouping")), act(base+"grouping2", def("Grouping 2"))},
		"category": []any{act(base+"category", def("Category"))},
		"other":    []any{act(base+"other", def("Other"))},
	}}))
	expect(t, s.do(req{method: "POST", path: "/xapi/statements", version: "1.0.3", body: stmt("ann", "attended", "context",
		map[string]any{"contextActivities": map[string]any{"parent": act(base+"single-parent", def("Single parent"))}})}), http.StatusOK)
	s.post(stmt("ann", "planned", "object", map[string]any{
		"objectType": "SubStatement",
		"actor":      map[string]any{"mbox": "mailto:ann@example.com"},
		"verb":       map[string]any{"id": "http://adlnet.gov/expapi/verbs/attended"},
		"object":     act(base+"sub", def("Sub object")),
		"context": map[string]any{"contextActivities": map[string]any{
			"category": []any{act(base+"sub-category", def("Sub category"))}}},
	}))
	for id, name := range map[string]string{"parent": "Parent", "grouping": "Grouping", "grouping2": "Grouping 2",
		"category": "Category", "other": "Other", "single-parent": "Single parent", "sub": "Sub object", "sub-category": "Sub category"} {
		a, _ := s.activity(base + id)
		if !reflect.DeepEqual(a["definition"], def(name)) {
			t.Errorf("activity %s: definition %v, want %v", id, a["definition"], def(name))
		}
	}

	// No definition: the id only; likewise an activity never seen.
	s.post(stmt("ann", "attended", "object", act(base+"bare", nil)))
	for _, id := range []string{base + "bare", base + "never-seen", "urn:x-example:never?a=1&b=2"} {
		a, raw := s.activity(id)
		if want := map[string]any{"objectType": "Activity", "id": id}; !reflect.DeepEqual(a, want) {
			t.Errorf("activity %s: %s, want only objectType and id", id, raw)
		}
	}

	// A rejected batch teaches nothing.
	r := s.do(req{method: "POST", path: "/xapi/statements", body: []any{
		stmt("ann", "attended", "object", act(base+"rejected", def("Rejected"))),
		map[string]any{"actor": map[string]any{"mbox": "not-an-mbox"}},
	}})
	expect(t, r, http.StatusBadRequest)
	if a, raw := s.activity(base + "rejected"); a["definition"] != nil {
		t.Errorf("definition from a rejected batch: %s", raw)
	}

	// Bad requests, credentials and scopes.
	for _, c := range []struct{ what, path, errPath string }{
		{"no activityId", "/xapi/activities", "activityId"},
		{"activityId not an IRI", withQuery("/xapi/activities", "activityId", "not an iri"), "activityId"},
		{"unknown parameter", withQuery("/xapi/activities", "activityId", base+"x", "agent", annAgent), "agent"},
		{"repeated activityId", "/xapi/activities?activityId=urn:a:b&activityId=urn:a:b", "activityId"},
	} {
		expectError(t, c.what, s.do(req{method: "GET", path: c.path}), http.StatusBadRequest, c.errPath)
	}
	path := withQuery("/xapi/activities", "activityId", base+"merged")
	expectError(t, "activities without credentials", s.do(req{method: "GET", path: path, noAuth: true}), http.StatusUnauthorized, "")
	expectError(t, "activities with the state scope", s.do(req{method: "GET", path: path, key: "nothing"}), http.StatusForbidden, "")
	for _, key := range []string{"reader", "allreader"} {
		expect(t, s.do(req{method: "GET", path: path, key: key}), http.StatusOK)
	}
	h := s.do(req{method: "HEAD", path: path})
	expect(t, h, http.StatusOK)
	if len(h.body) != 0 {
		t.Errorf("HEAD /xapi/activities has a body")
	}
	var full json.RawMessage
	s.do(req{method: "GET", path: path}).json(t, &full)
	if h.header.Get("Content-Length") != itoa(len(full)) {
		t.Errorf("HEAD Content-Length %s, GET body %d bytes", h.header.Get("Content-Length"), len(full))
	}
}
