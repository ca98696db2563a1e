package lrs

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// personStatements is how many of an agent's most recent statements the
// Agents resource reads for the names the agent has used.
const personStatements = 50

// getAgents serves GET and HEAD /xapi/agents?agent=...: the Person object
// of the agent (xAPI Communication 2.4). An Agent has one identifier, and
// the LRS does not yet link identifiers of the same person, so the Person
// holds the requested identifier and every name the agent was given in the
// request and in its most recent statements (as actor or object).
func (s *Server) getAgents(c *echo.Context) error {
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	if err := allowOnly(q, "agent"); err != nil {
		return err
	}
	if !q.Has("agent") {
		return errs.Invalidf("agent", "param-required",
			`the agent parameter is required: an Agent as JSON, e.g. {"mbox":"mailto:learner@example.org"}`)
	}
	agent, key, err := agentParam(q.Get("agent"), state(c).version)
	if err != nil {
		return err
	}
	var names []string
	addName := func(a map[string]any) {
		if n, ok := a["name"].(string); ok && n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	addName(agent)
	st := state(c)
	query := statements.Query{Tenant: tenantOf(st.cred), Agent: key, Limit: personStatements}
	if readsOnlyOwn(st.cred) {
		query.Authority = st.cred.Key
	}
	page, err := s.cfg.Store.Query(c.Request().Context(), query)
	if err != nil {
		return err
	}
	for _, rec := range page.Records {
		var stmt struct {
			Actor  map[string]any `json:"actor"`
			Object map[string]any `json:"object"`
		}
		if json.Unmarshal(rec.JSON, &stmt) != nil {
			continue
		}
		for _, a := range []map[string]any{stmt.Actor, stmt.Object} {
			if a != nil && statements.AgentKey(a) == key {
				addName(a)
			}
		}
	}

	person := map[string]any{"objectType": "Person"}
	if len(names) > 0 {
		person["name"] = names
	}
	for _, ifi := range []string{"mbox", "mbox_sha1sum", "openid", "account"} {
		if v, ok := agent[ifi]; ok {
			person[ifi] = []any{v}
		}
	}
	body, err := json.Marshal(person)
	if err != nil {
		return errs.Wrap(err, "encoding a Person")
	}
	writeBody(c, http.StatusOK, "application/json", body)
	return nil
}

// getActivities serves GET and HEAD /xapi/activities?activityId=...: the
// Activity object with the canonical definition the LRS has learned from
// statements, or only the id when no statement defined the activity
// (xAPI Communication 2.5).
func (s *Server) getActivities(c *echo.Context) error {
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	if err := allowOnly(q, "activityId"); err != nil {
		return err
	}
	if !q.Has("activityId") {
		return errs.Invalidf("activityId", "param-required", "the activityId parameter is required")
	}
	id, err := iriParam(q, "activityId")
	if err != nil {
		return err
	}
	act := map[string]any{"objectType": "Activity", "id": id}
	def, err := s.cfg.Activities.Activity(c.Request().Context(), tenantOf(state(c).cred), id)
	switch {
	case errs.Is(err, errs.NotFound):
	case err != nil:
		return err
	case len(def) > 0:
		act["definition"] = def
	}
	enc, err := marshalJSON(act)
	if err != nil {
		return errs.Wrap(err, "encoding an Activity")
	}
	writeBody(c, http.StatusOK, "application/json", enc)
	return nil
}
