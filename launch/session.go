package launch

import (
	"slices"
	"strconv"
	"strings"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/scorm"
	"github.com/xapi-lrs/lrs/statements"
)

// A Session token is also a bearer token of the xAPI resources, for
// content that talks xAPI itself (Tin Can): it speaks for the learner
// only. Credential is the principal it stands for; CheckStatements and
// CheckDocument are the limits on what it may do beyond its scopes.

// SessionScopes are the scopes of a session token: writing statements
// (CheckStatements), reading the statements of its own attempt
// (statements/read/mine reads those whose authority is its key) and the
// learner's State documents (CheckDocument); a cmi5 session also reads
// and writes the learner's Agent Profile (cmi5LearnerPreferences) and
// reads its AU's Activity Profile.
var SessionScopes = []string{auth.ScopeStatementsWrite, auth.ScopeStatementsReadMine, auth.ScopeState}

// Credential returns the principal the session token t speaks for: the
// key "launch:" and the attempt's registration (the authority of the
// statements the session writes, and the statements it may read back),
// named after the credential that made the launch, in t's tenant, with
// SessionScopes.
func (t *Token) Credential() *auth.Credential {
	scopes := append([]string(nil), SessionScopes...)
	if t.AU != "" {
		scopes = append(scopes, auth.ScopeProfile)
	}
	return &auth.Credential{Key: "launch:" + strings.ToLower(t.Registration), Name: "launch by " + t.Issuer,
		Tenant: t.Tenant, Scopes: scopes}
}

const verbVoided = "http://adlnet.gov/expapi/verbs/voided"

// CheckStatements refuses statements a session of t may not write: any
// whose actor is not the learner, and voiding statements (a learner's
// session must not retract statements, its own or others'); for a cmi5
// session, also any of another registration, and any not about its AU
// (neither the AU as object nor the AU's publisher id in the grouping, as
// the context template puts it).
func (t *Token) CheckStatements(stmts []map[string]any) error {
	learner := t.LearnerKey()
	for i, st := range stmts {
		if t.AU != "" {
			reg, grouping, _ := contextOf(st)
			obj, _ := st["object"].(map[string]any)
			if !strings.EqualFold(reg, t.Registration) {
				return &errs.Error{Kind: errs.Forbidden, Path: pathOf(i, len(stmts), "context.registration"), Rule: "launch-registration",
					Message: "a cmi5 session writes statements of its registration only: context.registration must be the registration of the launch"}
			}
			if obj["id"] != t.AU && !slices.Contains(grouping, t.Launchable) {
				return &errs.Error{Kind: errs.Forbidden, Path: pathOf(i, len(stmts), "object"), Rule: "launch-au",
					Message: "a cmi5 session writes statements about its AU only: the object must be the AU (activityId), or the context the AU's context template"}
			}
		}
		actor, _ := st["actor"].(map[string]any)
		if statements.AgentKey(actor) != learner || actor["objectType"] == "Group" {
			return &errs.Error{Kind: errs.Forbidden, Path: pathOf(i, len(stmts), "actor"), Rule: "launch-actor",
				Message: "a launch session writes statements of its learner only: the actor must be the Agent the launch gave as actor"}
		}
		if verb, _ := st["verb"].(map[string]any); verb["id"] == verbVoided {
			return &errs.Error{Kind: errs.Forbidden, Path: pathOf(i, len(stmts), "verb"), Rule: "launch-void",
				Message: "a launch session may not void statements"}
		}
	}
	return nil
}

func pathOf(i, n int, field string) string {
	if n == 1 {
		return field
	}
	return "[" + strconv.Itoa(i) + "]." + field
}

// CheckDocument refuses a document request a session of t may not make:
// a document (k, with ID "" for the list or a delete of every state) of
// another agent; for a cmi5 session, a State document of another activity
// than its AU or of another registration, and any change to the Activity
// Profile; with write, one of the LRS's own states (the attempt,
// AttemptStateID, the SCORM runtime state, scorm.StateID, cmi5's
// LMS.LaunchData and the session record, SessionStateID), or every state
// at once.
func (t *Token) CheckDocument(k documents.Key, write bool) error {
	if k.Agent != "" && k.Agent != t.LearnerKey() {
		return &errs.Error{Kind: errs.Forbidden, Path: "agent", Rule: "launch-agent",
			Message: "a launch session reads and writes the documents of its learner only"}
	}
	if t.AU != "" && k.Kind != documents.AgentProfile {
		switch {
		case k.ActivityID != t.AU:
			return &errs.Error{Kind: errs.Forbidden, Path: "activityId", Rule: "launch-au",
				Message: "a cmi5 session reads and writes the documents of its AU only (the activityId of the launch)"}
		case k.Kind == documents.State && !strings.EqualFold(k.Registration, t.Registration):
			return &errs.Error{Kind: errs.Forbidden, Path: "registration", Rule: "launch-registration",
				Message: "a cmi5 session reads and writes the State documents of its registration only"}
		case k.Kind == documents.ActivityProfile && write:
			return &errs.Error{Kind: errs.Forbidden, Path: "activityId", Rule: "launch-document",
				Message: "a cmi5 session reads its AU's Activity Profile; it does not change it"}
		}
	}
	if !write {
		return nil
	}
	switch k.ID {
	case "":
		return &errs.Error{Kind: errs.Forbidden, Path: "stateId", Rule: "launch-document",
			Message: "a launch session deletes one document at a time: give its stateId"}
	case AttemptStateID, scorm.StateID, LaunchDataID, SessionStateID:
		return &errs.Error{Kind: errs.Forbidden, Path: "stateId", Rule: "launch-document",
			Message: "this State document is the LRS's record of the attempt; a launch session may read it, not change it"}
	}
	return nil
}
