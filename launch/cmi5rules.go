package launch

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// The rules of cmi5 on the statements of an AU session (sections 9.3 to
// 9.6 and 10.2.2), which the LMS should enforce by rejecting the
// statements that break them (section 6.3). A "cmi5 defined" statement is
// one with the cmi5 category (section 7.1.3); the others an AU sends in
// its context template are "cmi5 allowed", and the usage rules of the
// verbs do not apply to them.

const (
	verbInitialized = "http://adlnet.gov/expapi/verbs/initialized"
	verbFailed      = "http://adlnet.gov/expapi/verbs/failed"
)

// auVerbs are the verbs cmi5 defines for an AU; lmsVerbs those the LMS
// alone uses.
var (
	auVerbs  = []string{verbInitialized, verbCompleted, verbPassed, verbFailed, verbTerminated}
	lmsVerbs = []string{verbLaunched, verbAbandoned, verbWaived, verbSatisfied}
)

// cmi5History is what the AU's earlier cmi5 defined statements in the
// registration did: the verbs of the session, and of every session of the
// registration.
type cmi5History struct {
	session, registration map[string]bool
}

// CheckCMI5Statements refuses, as an errs.Invalid error naming the rule
// and the statement, a statement the AU of the cmi5 session tok may not
// send:
//
//   - any statement with a verb of the LMS (launched, abandoned, waived,
//     satisfied), without the session's id (section 9.6.3.1), or before
//     the session's initialized (9.3: initialized comes first);
//   - a cmi5 defined statement whose verb cmi5 does not define for AUs,
//     whose object is not the AU (9.4), or, in Browse and Review mode,
//     whose verb is not initialized or terminated (10.2.2);
//   - a result breaking section 9.5: a score but in passed and failed,
//     success but true in passed and false in failed, completion but true
//     in completed, no duration in completed, passed, failed and
//     terminated; a passed scaled score below the AU's masteryScore, or a
//     failed one at or above it; the moveon category with neither success
//     nor completion, or missing with one (9.6.2.2);
//   - a verb the session sent before, passed and failed in one session,
//     a second completed or passed of the AU in the registration, and
//     failed after passed (9.3).
//
// The statements are taken in the order given, after those stored.
func (s *Service) CheckCMI5Statements(ctx context.Context, tok *Token, stmts []map[string]any) error {
	var h *cmi5History
	for i, st := range stmts {
		verb := verbOf(st)
		refuse := func(field, rule, msg string, args ...any) error {
			return &errs.Error{Kind: errs.Invalid, Path: pathOf(i, len(stmts), field), Rule: rule, Message: fmt.Sprintf(msg, args...)}
		}
		if slices.Contains(lmsVerbs, verb) {
			return refuse("verb", "cmi5-lms-verb", "%s statements are the LMS's (cmi5 section 9.3); an AU does not send them", verbName(verb))
		}
		if _, _, session := contextOf(st); session != tok.Session {
			return refuse("context.extensions", "cmi5-session", "the statements of a cmi5 session carry its session id, as the context template of LMS.LaunchData gives it (cmi5 section 9.6.3.1)")
		}
		if h == nil {
			var err error
			if h, err = s.cmi5History(ctx, tok); err != nil {
				return err
			}
		}
		defined := hasCategory(st, categoryCMI5)
		if !h.session[verbInitialized] && !(defined && verb == verbInitialized) {
			return refuse("verb", "cmi5-initialized-first", "the first statement of a cmi5 session is initialized (cmi5 section 9.3.2)")
		}
		if !defined {
			continue
		}
		obj, _ := st["object"].(map[string]any)
		switch {
		case !slices.Contains(auVerbs, verb):
			return refuse("verb", "cmi5-verb", "a cmi5 defined statement of an AU is initialized, completed, passed, failed or terminated (cmi5 section 9.3); "+
				"send other verbs without the cmi5 category, as cmi5 allowed statements")
		case obj["id"] != tok.AU:
			return refuse("object", "cmi5-object", "the object of a cmi5 defined statement is the AU, the activityId of the launch (cmi5 section 9.4)")
		case tok.LaunchMode() != ModeNormal && verb != verbInitialized && verb != verbTerminated:
			return refuse("verb", "cmi5-launch-mode", "the AU was launched in %s mode, which records no %s: only initialized and terminated (cmi5 section 10.2.2)",
				tok.LaunchMode(), verbName(verb))
		}
		if field, msg := s.checkCMI5Result(ctx, tok, verb, st); msg != "" {
			return refuse(field, "cmi5-result", "%s", msg)
		}
		switch {
		case h.session[verb]:
			return refuse("verb", "cmi5-verb-order", "this cmi5 session sent %s before; a session sends each cmi5 defined verb once (cmi5 section 9.3)", verbName(verb))
		case (verb == verbPassed && h.session[verbFailed]) || (verb == verbFailed && h.session[verbPassed]):
			return refuse("verb", "cmi5-verb-order", "a cmi5 session sends passed or failed, not both (cmi5 section 9.3)")
		case (verb == verbCompleted || verb == verbPassed) && h.registration[verb]:
			return refuse("verb", "cmi5-verb-order", "the AU sent %s before in this registration; it sends it once per registration (cmi5 section 9.3)", verbName(verb))
		case verb == verbFailed && h.registration[verbPassed]:
			return refuse("verb", "cmi5-verb-order", "the AU was passed in this registration; failed does not follow passed (cmi5 section 9.3)")
		}
		h.session[verb], h.registration[verb] = true, true
	}
	return nil
}

// cmi5History reads the AU's cmi5 defined statements in the registration
// of tok (the AU as their object and the cmi5 category).
func (s *Service) cmi5History(ctx context.Context, tok *Token) (*cmi5History, error) {
	h := &cmi5History{session: map[string]bool{}, registration: map[string]bool{}}
	q := statements.Query{Tenant: tok.Tenant, Agent: tok.LearnerKey(), Registration: strings.ToLower(tok.Registration), Activity: tok.AU, Limit: 500}
	err := s.eachStatement(ctx, q, func(_ *statements.Record, st map[string]any) {
		obj, _ := st["object"].(map[string]any)
		verb := verbOf(st)
		if obj["id"] != tok.AU || !hasCategory(st, categoryCMI5) || !slices.Contains(auVerbs, verb) {
			return
		}
		h.registration[verb] = true
		if _, _, session := contextOf(st); session == tok.Session {
			h.session[verb] = true
		}
	})
	return h, err
}

// checkCMI5Result checks the result of a cmi5 defined statement of the AU
// against section 9.5, returning the field at fault and why ("" if none).
func (s *Service) checkCMI5Result(ctx context.Context, tok *Token, verb string, st map[string]any) (field, msg string) {
	res, _ := st["result"].(map[string]any)
	name := verbName(verb)
	success, hasSuccess := res["success"].(bool)
	completion, hasCompletion := res["completion"].(bool)
	score, hasScore := res["score"].(map[string]any)
	switch {
	case hasScore && verb != verbPassed && verb != verbFailed:
		return "result.score", "a cmi5 " + name + " statement has no score: only passed and failed have one (cmi5 section 9.5.1)"
	case verb == verbPassed && (!hasSuccess || !success):
		return "result.success", "a cmi5 passed statement has success true (cmi5 section 9.5.2)"
	case verb == verbFailed && (!hasSuccess || success):
		return "result.success", "a cmi5 failed statement has success false (cmi5 section 9.5.2)"
	case hasSuccess && verb != verbPassed && verb != verbFailed:
		return "result.success", "a cmi5 " + name + " statement has no success: only passed and failed have one (cmi5 section 9.5.2)"
	case verb == verbCompleted && (!hasCompletion || !completion):
		return "result.completion", "a cmi5 completed statement has completion true (cmi5 section 9.5.3)"
	case hasCompletion && verb != verbCompleted:
		return "result.completion", "a cmi5 " + name + " statement has no completion: only completed has one (cmi5 section 9.5.3)"
	case verb != verbInitialized && res["duration"] == nil:
		return "result.duration", "a cmi5 " + name + " statement has a duration (cmi5 section 9.5.4)"
	case hasCategory(st, categoryMoveOn) != (hasSuccess || hasCompletion):
		return "context.contextActivities.category", "the moveon category marks the cmi5 statements whose result has success or completion, and those only (cmi5 section 9.6.2.2)"
	}
	scaled, ok := number(score["scaled"])
	if !ok || (verb != verbPassed && verb != verbFailed) {
		return "", ""
	}
	p, err := s.Packages.Version(ctx, tok.Tenant, tok.Package, tok.Version)
	if err != nil {
		return "", "" // the package is gone: nothing to judge the score by
	}
	au, err := launchable(p, tok.Launchable)
	if err != nil || au.MasteryScore == nil {
		return "", ""
	}
	mastery := strconv.FormatFloat(*au.MasteryScore, 'f', -1, 64)
	switch {
	case verb == verbPassed && scaled < *au.MasteryScore:
		return "result.score.scaled", "the AU's masteryScore is " + mastery + ": a passed statement's scaled score is at least that (cmi5 section 9.3.4)"
	case verb == verbFailed && scaled >= *au.MasteryScore:
		return "result.score.scaled", "the AU's masteryScore is " + mastery + ": a failed statement's scaled score is below that (cmi5 section 9.3.5)"
	}
	return "", ""
}

// hasCategory reports whether the statement's context has the category
// activity id.
func hasCategory(st map[string]any, id string) bool {
	ctx, _ := st["context"].(map[string]any)
	ca, _ := ctx["contextActivities"].(map[string]any)
	switch c := ca["category"].(type) {
	case []any:
		for _, a := range c {
			if m, ok := a.(map[string]any); ok && m["id"] == id {
				return true
			}
		}
	case map[string]any:
		return c["id"] == id
	}
	return false
}

// number is a JSON number as a float64.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// verbName is the last segment of a verb IRI.
func verbName(verb string) string {
	return verb[strings.LastIndexByte(verb, '/')+1:]
}
