package scorm

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// IRIs of the ADL xAPI SCORM Profile (adlnet/xAPI-SCORM-Profile,
// xapi-scorm-profile.md): the profile activity every statement carries in
// its context category, the activity types, and the ADL verbs.
const (
	ProfileIRI = "https://w3id.org/xapi/scorm"

	TypeProfile     = "http://adlnet.gov/expapi/activities/profile"
	TypeCourse      = "http://adlnet.gov/expapi/activities/course"
	TypeLesson      = "http://adlnet.gov/expapi/activities/lesson" // a SCO
	TypeAttempt     = "http://adlnet.gov/expapi/activities/attempt"
	TypeInteraction = "http://adlnet.gov/expapi/activities/cmi.interaction"

	verbPrefix = "http://adlnet.gov/expapi/verbs/"
)

// Verbs the mapping uses (ADL vocabulary, section 3.2 "Verb" of the
// profile).
const (
	Initialized = "initialized"
	Resumed     = "resumed"
	Suspended   = "suspended"
	Terminated  = "terminated"
	Completed   = "completed"
	Passed      = "passed"
	Failed      = "failed"
	Scored      = "scored"
	Responded   = "responded"
	Progressed  = "progressed"
)

// Context is who and what a commit is about.
type Context struct {
	// Learner is the learner's Agent (as statements.ParseAgent returns it).
	Learner map[string]any
	// Course is the course activity IRI ("": none); SCO the SCO's.
	Course string
	SCO    string
	// Registration is the attempt's UUID: the statements' registration,
	// and the attemptId of the attempt activity.
	Registration string
	// Time is the statements' timestamp.
	Time time.Time
}

// check reports a Context that cannot make valid statements.
func (x Context) check() error {
	if statements.AgentKey(x.Learner) == "" || x.Learner["objectType"] == "Group" {
		return errs.Invalidf("agent", "scorm-learner", "the learner must be an identified Agent, not a Group")
	}
	if !statements.ValidIRI(x.SCO) {
		return errs.Invalidf("activityId", "scorm-sco", "the SCO's activity id must be an IRI, not %q", trunc(x.SCO))
	}
	if x.Course != "" && !statements.ValidIRI(x.Course) {
		return errs.Invalidf("course", "scorm-course", "the course activity id must be an IRI, not %q", trunc(x.Course))
	}
	if !statements.ValidUUID(x.Registration) {
		return errs.Invalidf("registration", "scorm-registration", "the attempt's registration must be a UUID, not %q", trunc(x.Registration))
	}
	return nil
}

// State is what the mapping keeps of an attempt between commits.
type State struct {
	Version Version `json:"version"`
	// Session is the number of the current or last session (from 1);
	// Open is true from a session's first commit until its terminating
	// commit.
	Session int  `json:"session"`
	Open    bool `json:"open"`
	// Suspended is true when the last session ended with exit suspend:
	// the next session resumes the attempt.
	Suspended bool `json:"suspended,omitempty"`
	// Seq counts the statements made for the attempt; each statement's id
	// derives from its number and event.
	Seq int `json:"seq"`
	// Data is the runtime data as last committed.
	Data *Commit `json:"data"`
}

// Map returns the statements of the ADL xAPI SCORM Profile that commit c
// adds to the attempt whose state is prev (nil: its first commit), in the
// order of the events, and the attempt's state after c:
//
//   - the first commit of a session: initialized, or resumed when the SCO
//     was launched with entry resume (or the previous session was
//     suspended);
//   - responded for each interaction that is new or whose response or
//     result changed (object: the interaction activity
//     <SCO>/interactions/<id>, with interactionType and
//     correctResponsesPattern; parent: the SCO);
//   - completed when the completion status becomes completed; passed or
//     failed when the success status becomes passed or failed (with
//     result.success and result.completion, and the score when known);
//   - scored when the score changed; progressed when progress_measure
//     changed (result.score.scaled, as the profile says);
//   - on the terminating commit, suspended (exit suspend) or terminated,
//     with the SCO's result and the session time as result.duration.
//
// Every statement has the learner as actor, the registration, the course
// and the attempt activity in the grouping, and the profile activity in
// the category. Its id is a UUID v5 of the attempt and the event, so the
// same commit against the same state makes the same statements. A commit
// that changes nothing the mapping reads makes none, and so does the
// terminating commit of the last session sent again.
func Map(prev *State, c *Commit, x Context) (*State, []map[string]any, error) {
	if err := x.check(); err != nil {
		return nil, nil, err
	}
	if prev != nil && !prev.Open && sameJSON(prev.Data, c) {
		// The commit that ended the last session, again (a retry whose
		// first try got through): it starts no session.
		same := *prev
		return &same, nil, nil
	}
	next := &State{Version: c.Version, Data: c}
	old := &Commit{Version: c.Version}
	if prev != nil {
		if prev.Version != c.Version {
			return nil, nil, errs.E(errs.Conflict, "this attempt's earlier commits were SCORM %s and this one is SCORM %s: an attempt has one SCO", prev.Version, c.Version)
		}
		next.Session, next.Open, next.Seq, next.Suspended = prev.Session, prev.Open, prev.Seq, prev.Suspended
		if prev.Data != nil {
			old = prev.Data
		}
	}
	m := &mapper{x: x, next: next}

	if !next.Open {
		resuming := c.Entry == "resume" || next.Suspended
		next.Session++
		next.Open = true
		if resuming {
			m.emit(Resumed, m.sco(), nil)
		} else {
			m.emit(Initialized, m.sco(), nil)
		}
		if c.Version == V12 {
			// SCORM 1.2 interactions are a write-only journal: each session
			// writes its own from index 0 (RTE 3.4.4, cmi.interactions).
			old = &Commit{Version: c.Version, Completion: old.Completion, Success: old.Success, Score: old.Score, ProgressMeasure: old.ProgressMeasure}
		}
	}

	for i, in := range c.Interactions {
		var was Interaction
		if i < len(old.Interactions) {
			was = old.Interactions[i]
		}
		if (in.LearnerResponse == "" && in.Result == "") || in.ID == was.ID && in.LearnerResponse == was.LearnerResponse && in.Result == was.Result {
			continue
		}
		m.responded(in, c.Version)
	}

	if c.Completion == "completed" && old.Completion != "completed" {
		m.emit(Completed, m.sco(), m.result(c))
	}
	if (c.Success == "passed" || c.Success == "failed") && c.Success != old.Success {
		verb := Passed
		if c.Success == "failed" {
			verb = Failed
		}
		m.emit(verb, m.sco(), m.result(c))
	}
	if !c.Score.empty() && c.Score != old.Score {
		if sc := score(c.Score, c.Version); sc != nil {
			m.emit(Scored, m.sco(), map[string]any{"score": sc})
		}
	}
	if c.ProgressMeasure != "" && c.ProgressMeasure != old.ProgressMeasure {
		pm, _ := strconv.ParseFloat(c.ProgressMeasure, 64)
		m.emit(Progressed, m.sco(), map[string]any{"score": map[string]any{"scaled": pm}})
	}

	if c.Terminate {
		next.Open = false
		next.Suspended = c.Exit == "suspend"
		res := m.result(c)
		if d := duration(c.SessionTime, c.Version); d != "" {
			res["duration"] = d
		}
		if len(res) == 0 {
			res = nil
		}
		if next.Suspended {
			m.emit(Suspended, m.sco(), res)
		} else {
			m.emit(Terminated, m.sco(), res)
		}
	}
	return next, m.out, nil
}

// mapper builds the statements of one commit.
type mapper struct {
	x    Context
	next *State
	out  []map[string]any
}

// idNamespace is the UUID namespace of statement ids: UUID v5 of the URL
// of this project's SCORM mapping.
var idNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/xapi-lrs/lrs/scorm#statement"))

// StatementID returns the id of the statement of an attempt's event: a
// UUID v5 of the learner, the SCO, the registration, the statement's
// number in the attempt and its event.
func StatementID(x Context, seq int, event string) string {
	name := strings.Join([]string{statements.AgentKey(x.Learner), x.SCO, strings.ToLower(x.Registration), strconv.Itoa(seq), event}, "\n")
	return uuid.NewSHA1(idNamespace, []byte(name)).String()
}

// emit adds a statement with verb about object.
func (m *mapper) emit(verb string, object map[string]any, result map[string]any) {
	m.next.Seq++
	event := verb + " " + object["id"].(string)
	s := map[string]any{
		"id":        StatementID(m.x, m.next.Seq, event),
		"actor":     m.x.Learner,
		"verb":      map[string]any{"id": verbPrefix + verb, "display": map[string]any{"en-US": verb}},
		"object":    object,
		"context":   m.context(object["id"] != m.x.SCO),
		"timestamp": m.x.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	if result != nil {
		s["result"] = result
	}
	m.out = append(m.out, s)
}

// sco is the SCO activity.
func (m *mapper) sco() map[string]any {
	return map[string]any{"objectType": "Activity", "id": m.x.SCO, "definition": map[string]any{"type": TypeLesson}}
}

// context is the statements' context: the registration, the course and
// the attempt in the grouping, the profile in the category, and the SCO as
// parent of what is inside it.
func (m *mapper) context(inSCO bool) map[string]any {
	grouping := []any{}
	if m.x.Course != "" {
		grouping = append(grouping, map[string]any{"id": m.x.Course, "definition": map[string]any{"type": TypeCourse}})
	}
	grouping = append(grouping, map[string]any{"id": AttemptIRI(m.x.SCO, m.x.Registration), "definition": map[string]any{"type": TypeAttempt}})
	ca := map[string]any{
		"grouping": grouping,
		"category": []any{map[string]any{"id": ProfileIRI, "definition": map[string]any{"type": TypeProfile}}},
	}
	if inSCO {
		ca["parent"] = []any{map[string]any{"id": m.x.SCO, "definition": map[string]any{"type": TypeLesson}}}
	}
	return map[string]any{"registration": strings.ToLower(m.x.Registration), "contextActivities": ca}
}

// AttemptIRI is the attempt activity of the profile's examples: the SCO
// IRI with the attemptId query parameter.
func AttemptIRI(sco, registration string) string {
	frag := ""
	if i := strings.IndexByte(sco, '#'); i >= 0 {
		sco, frag = sco[:i], sco[i:]
	}
	sep := "?"
	if strings.Contains(sco, "?") {
		sep = "&"
	}
	return sco + sep + "attemptId=" + strings.ToLower(registration) + frag
}

// result is the SCO's overall result (profile section 5, "Terminating an
// attempt"): success when passed or failed, completion when completed or
// incomplete, the score when known.
func (m *mapper) result(c *Commit) map[string]any {
	r := map[string]any{}
	switch c.Success {
	case "passed":
		r["success"] = true
	case "failed":
		r["success"] = false
	}
	switch c.Completion {
	case "completed":
		r["completion"] = true
	case "incomplete":
		r["completion"] = false
	}
	if sc := score(c.Score, c.Version); sc != nil {
		r["score"] = sc
	}
	return r
}

// score is the xAPI score of a SCORM score: scaled is cmi.score.scaled
// (2004) or cmi.core.score.raw / 100 (1.2), as the profile's note under
// "Score" says; raw, min and max as they are. Parts that would break
// xAPI's rules (scaled outside -1..1, min not below max, raw outside
// min..max) are left out. nil when nothing is left.
func score(s Score, v Version) map[string]any {
	num := func(t string) (float64, bool) {
		if t == "" {
			return 0, false
		}
		f, err := strconv.ParseFloat(t, 64)
		return f, err == nil && !math.IsInf(f, 0)
	}
	out := map[string]any{}
	raw, hasRaw := num(s.Raw)
	min, hasMin := num(s.Min)
	max, hasMax := num(s.Max)
	scaled, hasScaled := num(s.Scaled)
	if v == V12 && hasRaw {
		scaled, hasScaled = raw/100, true
	}
	if hasScaled && scaled >= -1 && scaled <= 1 {
		out["scaled"] = scaled
	}
	if hasMin && hasMax && min >= max {
		hasMin, hasMax = false, false
	}
	if hasRaw && (hasMin && raw < min || hasMax && raw > max) {
		hasMin, hasMax = false, false
	}
	if hasRaw {
		out["raw"] = raw
	}
	if hasMin {
		out["min"] = min
	}
	if hasMax {
		out["max"] = max
	}
	if !hasRaw && !hasScaled {
		return nil // min and max alone are no score
	}
	return out
}

// responded adds the statement of a learner's response to an interaction.
func (m *mapper) responded(in Interaction, v Version) {
	def := map[string]any{"type": TypeInteraction}
	if in.Type != "" {
		def["interactionType"] = in.Type
		if len(in.CorrectResponses) > 0 {
			pats := make([]any, len(in.CorrectResponses))
			for i, p := range in.CorrectResponses {
				pats[i] = response(p, in.Type, v)
			}
			def["correctResponsesPattern"] = pats
		}
	}
	if lang, text := langString(in.Description); text != "" {
		def["description"] = map[string]any{lang: text}
	}
	obj := map[string]any{"objectType": "Activity", "id": InteractionIRI(m.x.SCO, in.ID), "definition": def}
	res := map[string]any{}
	if in.LearnerResponse != "" {
		res["response"] = response(in.LearnerResponse, in.Type, v)
	}
	switch in.Result {
	case "correct":
		res["success"] = true
	case "incorrect", "wrong": // 2004, 1.2
		res["success"] = false
	}
	if d := duration(in.Latency, v); d != "" {
		res["duration"] = d
	}
	if len(res) == 0 {
		res = nil
	}
	m.emit(Responded, obj, res)
}

// InteractionIRI is the interaction's activity id: <SCO>/interactions/<id>
// (profile section 3.2, "Guidelines for Activity IRI Construction"), the
// id percent-encoded as a path segment.
func InteractionIRI(sco, id string) string {
	return strings.TrimRight(sco, "/") + "/interactions/" + url.PathEscape(id)
}

// response converts a SCORM response or correct-response pattern to the
// xAPI form (Data 2.4.4.1, interaction components, which takes SCORM
// 2004's formats: "[,]" between items, "[.]" between the parts of a pair,
// "[:]" in numeric ranges). SCORM 1.2's are rewritten: true-false t/f/0/1
// become true/false, items separated by "," (optionally in braces) are
// joined by "[,]", matching pairs "a.b" become "a[.]b".
func response(s, typ string, v Version) string {
	if v != V12 {
		return s
	}
	switch typ {
	case "true-false":
		switch s {
		case "t", "1", "true":
			return "true"
		case "f", "0", "false":
			return "false"
		}
	case "choice", "sequencing":
		return strings.Join(items12(s), "[,]")
	case "matching":
		items := items12(s)
		for i, it := range items {
			items[i] = strings.Replace(it, ".", "[.]", 1)
		}
		return strings.Join(items, "[,]")
	case "numeric":
		return s
	}
	return s
}

// items12 splits a SCORM 1.2 list: "a,b", "{a,b}".
func items12(s string) []string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '{' && s[len(s)-1] == '}' {
		s = s[1 : len(s)-1]
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// langString splits a SCORM 2004 localized string "{lang=xx}text" into a
// language tag (SCORM's default "en" when absent or not a tag) and text.
func langString(s string) (lang, text string) {
	lang, text = "en", s
	if strings.HasPrefix(s, "{lang=") {
		if end := strings.IndexByte(s, '}'); end > 0 {
			if l := s[len("{lang="):end]; statements.ValidLanguageTag(l) {
				lang = l
			}
			text = s[end+1:]
		}
	}
	return lang, text
}

// duration converts a SCORM time interval to an ISO 8601 duration: 2004's
// is one already; 1.2's HHHH:MM:SS.SS becomes PTxHyMz.zzS. "" stays "".
func duration(s string, v Version) string {
	if s == "" {
		return ""
	}
	if v != V12 {
		if statements.ValidDuration(s) {
			return s
		}
		return ""
	}
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 {
		return ""
	}
	h, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	sec, err3 := strconv.ParseFloat(parts[2], 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return ""
	}
	return fmt.Sprintf("PT%dH%dM%sS", h, mi, strconv.FormatFloat(sec, 'f', -1, 64))
}

// ScaledScore returns the scaled score the mapping gives the SCORM score
// s (cmi.score.scaled, or for SCORM 1.2 cmi.core.score.raw / 100; see
// score); ok is false when it gives none.
func ScaledScore(s Score, v Version) (scaled float64, ok bool) {
	scaled, ok = score(s, v)["scaled"].(float64)
	return scaled, ok
}

// RollupStatement returns the statement of a SCORM rollup: the learner of
// x completed (verb Completed) or passed (Passed) the course x.Course,
// every SCO of it being done, in the attempt x.Registration, at x.Time,
// with result. It is a SCORM-profile statement (the profile activity in
// its category) about the course activity itself, which is what makes a
// catalog module of the course complete (reporting.Project counts the
// grouping of SCORM-profile statements for nothing). Its id is a UUID v5
// of the learner, the course and the registration: one rollup per
// attempt.
func RollupStatement(x Context, verb string, result map[string]any) map[string]any {
	name := strings.Join([]string{statements.AgentKey(x.Learner), x.Course, strings.ToLower(x.Registration), "rollup"}, "\n")
	s := map[string]any{
		"id":     uuid.NewSHA1(idNamespace, []byte(name)).String(),
		"actor":  x.Learner,
		"verb":   map[string]any{"id": verbPrefix + verb, "display": map[string]any{"en-US": verb}},
		"object": map[string]any{"objectType": "Activity", "id": x.Course, "definition": map[string]any{"type": TypeCourse}},
		"context": map[string]any{"registration": strings.ToLower(x.Registration), "contextActivities": map[string]any{
			"category": []any{map[string]any{"id": ProfileIRI, "definition": map[string]any{"type": TypeProfile}}},
		}},
		"timestamp": x.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	if result != nil {
		s["result"] = result
	}
	return s
}
