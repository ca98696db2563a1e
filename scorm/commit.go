package scorm

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// Version is a SCORM edition.
type Version string

const (
	V12   Version = "1.2"
	V2004 Version = "2004" // 4th edition
)

// Limits of a commit: far above what a SCO writes (SCORM 2004 requires an
// LMS to keep at least 250 interactions and 100 objectives), low enough
// that one commit cannot make a request of unbounded work.
const (
	MaxInteractions     = 1000
	MaxObjectives       = 1000
	MaxCorrectResponses = 250
)

// Commit is the runtime data of one commit, in names common to both
// editions. Values are the data model's strings as the SCO set them,
// checked against the types and vocabularies of the elements the mapping
// reads; an element the SCO never set is "".
type Commit struct {
	Version Version `json:"version"`
	// Terminate marks the commit of LMSFinish/Terminate: the session ends.
	Terminate bool `json:"terminate,omitempty"`

	LearnerID   string `json:"learnerId,omitempty"`
	LearnerName string `json:"learnerName,omitempty"`
	Entry       string `json:"entry,omitempty"`    // ab-initio, resume or ""
	Exit        string `json:"exit,omitempty"`     // time-out, suspend, logout, normal (2004) or ""
	Location    string `json:"location,omitempty"` // cmi.location, cmi.core.lesson_location
	SuspendData string `json:"suspendData,omitempty"`
	LaunchData  string `json:"launchData,omitempty"`
	Credit      string `json:"credit,omitempty"`
	Mode        string `json:"mode,omitempty"`

	// Completion is completed, incomplete, not attempted, unknown or "";
	// Success is passed, failed, unknown or "". SCORM 1.2's
	// cmi.core.lesson_status is split into the two (see lessonStatus).
	Completion   string `json:"completion,omitempty"`
	Success      string `json:"success,omitempty"`
	LessonStatus string `json:"lessonStatus,omitempty"` // SCORM 1.2 only, as set

	Score           Score  `json:"score"`
	ProgressMeasure string `json:"progressMeasure,omitempty"` // 2004, 0..1
	SessionTime     string `json:"sessionTime,omitempty"`     // as set: HHHH:MM:SS.SS (1.2) or ISO 8601 (2004)
	TotalTime       string `json:"totalTime,omitempty"`

	Interactions []Interaction `json:"interactions,omitempty"`
	Objectives   []Objective   `json:"objectives,omitempty"`
}

// Score is cmi.score (2004) or cmi.core.score (1.2): decimal strings.
type Score struct {
	Scaled string `json:"scaled,omitempty"` // 2004 only, -1..1
	Raw    string `json:"raw,omitempty"`
	Min    string `json:"min,omitempty"`
	Max    string `json:"max,omitempty"`
}

func (s Score) empty() bool { return s.Scaled == "" && s.Raw == "" }

// Interaction is one element of cmi.interactions.
type Interaction struct {
	ID               string   `json:"id"`
	Type             string   `json:"type,omitempty"`
	Timestamp        string   `json:"timestamp,omitempty"` // 2004 timestamp, 1.2 time
	Weighting        string   `json:"weighting,omitempty"`
	LearnerResponse  string   `json:"learnerResponse,omitempty"` // 1.2 student_response
	Result           string   `json:"result,omitempty"`
	Latency          string   `json:"latency,omitempty"`
	Description      string   `json:"description,omitempty"`
	CorrectResponses []string `json:"correctResponses,omitempty"`
	Objectives       []string `json:"objectives,omitempty"`
}

// Objective is one element of cmi.objectives.
type Objective struct {
	ID         string `json:"id"`
	Completion string `json:"completion,omitempty"`
	Success    string `json:"success,omitempty"`
	Status     string `json:"status,omitempty"` // 1.2 status, as set
	Score      Score  `json:"score"`
}

// ParseCommit parses the body of a commit: the JSON of scorm-again's
// lmsCommitUrl with dataCommitFormat "json", which is
//
//	{"cmi": {...}}                       (renderCommonCommitFields false, the default)
//	{"runtimeData": {"cmi": {...}}, ...} (renderCommonCommitFields true)
//
// where cmi is the data model as a tree of objects: arrays are objects
// keyed "0", "1", … (JSON arrays are accepted too), values are strings
// (numbers are taken as their text, null as unset). A top-level
// "terminate": true marks the commit of LMSFinish/Terminate (set
// scorm-again's terminateCommitPayloadField to "terminate"). The edition
// is SCORM 1.2 when cmi.core is present, else 2004.
//
// Elements the mapping does not read are ignored. Those it reads must have
// the SCORM type and vocabulary: errors are errs.Invalid naming the
// element.
func ParseCommit(body []byte) (*Commit, error) {
	tree, err := statements.DecodeJSON(body)
	if err != nil {
		return nil, err
	}
	top, ok := tree.(map[string]any)
	if !ok {
		return nil, errs.Invalidf("", "commit-type", "a commit must be a JSON object with a \"cmi\" object, not %s", kindOf(tree))
	}
	root := node{m: top}
	if rd, ok := top["runtimeData"]; ok && top["cmi"] == nil {
		m, ok := rd.(map[string]any)
		if !ok {
			return nil, errs.Invalidf("runtimeData", "commit-type", "runtimeData must be an object holding \"cmi\", not %s", kindOf(rd))
		}
		root = node{m: m, path: "runtimeData"}
	}
	cmiV, ok := root.m["cmi"]
	if !ok || cmiV == nil {
		return nil, errs.Invalidf(root.at("cmi"), "commit-cmi", "a commit must hold the runtime data as a \"cmi\" object")
	}
	cmiM, ok := cmiV.(map[string]any)
	if !ok {
		return nil, errs.Invalidf(root.at("cmi"), "commit-type", "cmi must be an object, not %s", kindOf(cmiV))
	}
	c := &Commit{}
	switch t := top["terminate"].(type) {
	case nil:
	case bool:
		c.Terminate = t
	default:
		return nil, errs.Invalidf("terminate", "commit-type", "terminate must be true or false, not %s", kindOf(t))
	}
	cmi := node{m: cmiM, path: "cmi"}
	p := &parser{}
	if _, is12 := cmiM["core"]; is12 {
		c.Version = V12
		p.commit12(c, cmi)
	} else {
		c.Version = V2004
		p.commit2004(c, cmi)
	}
	if p.err != nil {
		return nil, p.err
	}
	return c, nil
}

// node is an object of the commit tree and its path for messages.
type node struct {
	m    map[string]any
	path string
}

func (n node) at(key string) string {
	if n.path == "" {
		return key
	}
	return n.path + "." + key
}

// parser reads a commit tree, keeping the first error.
type parser struct {
	err error
}

func (p *parser) fail(path, rule, format string, args ...any) {
	if p.err == nil {
		p.err = errs.Invalidf(path, rule, format, args...)
	}
}

// obj returns the object under key (an empty one when absent or null).
func (p *parser) obj(n node, key string) node {
	path := n.at(key)
	switch v := n.m[key].(type) {
	case nil:
		return node{m: map[string]any{}, path: path}
	case map[string]any:
		return node{m: v, path: path}
	default:
		p.fail(path, "commit-type", "%s must be an object, not %s", path, kindOf(v))
		return node{m: map[string]any{}, path: path}
	}
}

// str returns the string value under key: "" when absent or null, the
// text of a number.
func (p *parser) str(n node, key string) string {
	switch v := n.m[key].(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	default:
		p.fail(n.at(key), "commit-type", "%s must be a string, not %s", n.at(key), kindOf(v))
		return ""
	}
}

// list returns the elements of the array under key: an object keyed by
// the indexes 0 … n-1 (any order) or a JSON array, of at most max
// elements. Each element is handed to each with its node.
func (p *parser) list(n node, key string, max int, each func(i int, v any, path string)) {
	path := n.at(key)
	switch v := n.m[key].(type) {
	case nil:
	case []any:
		if len(v) > max {
			p.fail(path, "commit-too-many", "%s has %d elements; at most %d are kept", path, len(v), max)
			return
		}
		for i, e := range v {
			each(i, e, fmt.Sprintf("%s.%d", path, i))
		}
	case map[string]any:
		if len(v) > max {
			p.fail(path, "commit-too-many", "%s has %d elements; at most %d are kept", path, len(v), max)
			return
		}
		idx := make([]int, 0, len(v))
		for k := range v {
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || strconv.Itoa(i) != k {
				p.fail(path, "commit-index", "%s is an array: its keys must be the indexes 0, 1, …, not %q", path, k)
				return
			}
			idx = append(idx, i)
		}
		sort.Ints(idx)
		for want, i := range idx {
			if i != want {
				p.fail(path, "commit-index", "%s has element %d but not element %d: SCORM arrays have no gaps", path, i, want)
				return
			}
			each(i, v[strconv.Itoa(i)], fmt.Sprintf("%s.%d", path, i))
		}
	default:
		p.fail(path, "commit-type", "%s must be an object keyed by index (or an array), not %s", path, kindOf(v))
	}
}

// elem returns an array element as an object.
func (p *parser) elem(v any, path string) node {
	m, ok := v.(map[string]any)
	if !ok {
		p.fail(path, "commit-type", "%s must be an object, not %s", path, kindOf(v))
		return node{m: map[string]any{}, path: path}
	}
	return node{m: m, path: path}
}

// vocab returns the string under key, which must be "" or one of allowed.
func (p *parser) vocab(n node, key string, allowed ...string) string {
	s := p.str(n, key)
	if s == "" {
		return ""
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	p.fail(n.at(key), "commit-vocabulary", "%s is %q; it must be one of: %s", n.at(key), trunc(s), strings.Join(allowed, ", "))
	return ""
}

var decimal = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// number returns the decimal string under key, "" or a real number within
// [lo, hi] (no bound where lo > hi).
func (p *parser) number(n node, key string, lo, hi float64) string {
	s := p.str(n, key)
	if s == "" {
		return ""
	}
	f, err := strconv.ParseFloat(s, 64)
	if !decimal.MatchString(s) || err != nil {
		p.fail(n.at(key), "commit-number", "%s is %q, not a decimal number", n.at(key), trunc(s))
		return ""
	}
	if lo <= hi && (f < lo || f > hi) {
		p.fail(n.at(key), "commit-range", "%s is %s; it must be between %v and %v", n.at(key), s, lo, hi)
		return ""
	}
	return s
}

// timespan12 is SCORM 1.2's CMITimespan, HHHH:MM:SS.SS (RTE 3.4.2).
var timespan12 = regexp.MustCompile(`^[0-9]{2,4}:[0-5][0-9]:[0-5][0-9](\.[0-9]{1,2})?$`)

// duration2004 is SCORM 2004's timeinterval (second,10,2), ISO 8601
// (RTE 4.2.28 and 4.1.1.4).
var duration2004 = regexp.MustCompile(`^P(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+D)?(?:T(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:\.[0-9]{1,2})?S)?)?$`)

// interval returns the time interval under key, "" or of the edition's
// format.
func (p *parser) interval(n node, key string, v Version) string {
	s := p.str(n, key)
	if s == "" {
		return ""
	}
	if v == V12 {
		if !timespan12.MatchString(s) {
			p.fail(n.at(key), "commit-timespan", "%s is %q, not a SCORM 1.2 time span (HHHH:MM:SS.SS)", n.at(key), trunc(s))
			return ""
		}
		return s
	}
	if !duration2004.MatchString(s) || s == "P" || strings.HasSuffix(s, "T") {
		p.fail(n.at(key), "commit-duration", "%s is %q, not an ISO 8601 duration (e.g. PT1H5M30S)", n.at(key), trunc(s))
		return ""
	}
	return s
}

// identifier returns the identifier under key, which must not be empty
// when required.
func (p *parser) identifier(n node, key string, required bool) string {
	s := p.str(n, key)
	if s == "" && required {
		p.fail(n.at(key), "commit-identifier", "%s is required: every element of this array needs an id", n.at(key))
	}
	if strings.TrimSpace(s) != s || len(s) > 4000 {
		p.fail(n.at(key), "commit-identifier", "%s is %q: an identifier has no surrounding spaces and at most 4000 characters", n.at(key), trunc(s))
	}
	return s
}

var (
	interactionTypes12   = []string{"true-false", "choice", "fill-in", "matching", "performance", "sequencing", "likert", "numeric"}
	interactionTypes2004 = []string{"true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing", "likert", "numeric", "other"}
	lessonStatuses       = []string{"passed", "completed", "failed", "incomplete", "browsed", "not attempted"}
)

func (p *parser) commit12(c *Commit, cmi node) {
	core := p.obj(cmi, "core")
	c.LearnerID = p.str(core, "student_id")
	c.LearnerName = p.str(core, "student_name")
	c.Location = p.str(core, "lesson_location")
	c.Credit = p.vocab(core, "credit", "credit", "no-credit")
	c.Mode = p.vocab(core, "lesson_mode", "normal", "browse", "review")
	c.Entry = p.vocab(core, "entry", "ab-initio", "resume")
	c.Exit = p.vocab(core, "exit", "time-out", "suspend", "logout")
	c.LessonStatus = p.vocab(core, "lesson_status", lessonStatuses...)
	c.Completion, c.Success = lessonStatus(c.LessonStatus)
	c.Score = p.score12(p.obj(core, "score"))
	c.SessionTime = p.interval(core, "session_time", V12)
	c.TotalTime = p.interval(core, "total_time", V12)
	c.SuspendData = p.str(cmi, "suspend_data")
	c.LaunchData = p.str(cmi, "launch_data")

	p.list(cmi, "interactions", MaxInteractions, func(i int, v any, path string) {
		n := p.elem(v, path)
		in := Interaction{
			ID:              p.identifier(n, "id", true),
			Type:            p.vocab(n, "type", interactionTypes12...),
			Timestamp:       p.str(n, "time"),
			Weighting:       p.number(n, "weighting", 1, 0),
			LearnerResponse: p.str(n, "student_response"),
			Result:          p.str(n, "result"),
			Latency:         p.interval(n, "latency", V12),
		}
		p.list(n, "correct_responses", MaxCorrectResponses, func(_ int, v any, path string) {
			in.CorrectResponses = append(in.CorrectResponses, p.str(p.elem(v, path), "pattern"))
		})
		p.list(n, "objectives", MaxObjectives, func(_ int, v any, path string) {
			in.Objectives = append(in.Objectives, p.identifier(p.elem(v, path), "id", true))
		})
		c.Interactions = append(c.Interactions, in)
	})
	p.list(cmi, "objectives", MaxObjectives, func(i int, v any, path string) {
		n := p.elem(v, path)
		o := Objective{ID: p.identifier(n, "id", true), Status: p.vocab(n, "status", lessonStatuses...)}
		o.Completion, o.Success = lessonStatus(o.Status)
		o.Score = p.score12(p.obj(n, "score"))
		c.Objectives = append(c.Objectives, o)
	})
}

// lessonStatus splits SCORM 1.2's lesson_status into completion and
// success. Passed and failed both mean the learner finished the SCO (SCORM
// 1.2 RTE 3.4.4, cmi.core.lesson_status; scorm-again's
// completion_status_on_failed defaults to completed too); browsed is a
// look without credit, neither completed nor judged.
func lessonStatus(s string) (completion, success string) {
	switch s {
	case "passed":
		return "completed", "passed"
	case "failed":
		return "completed", "failed"
	case "completed":
		return "completed", ""
	case "incomplete":
		return "incomplete", ""
	case "not attempted":
		return "not attempted", ""
	}
	return "", ""
}

// score12 reads a SCORM 1.2 score: raw, min and max are CMIDecimal (RTE
// 3.4.2 says 0..100, which is checked by the runtime, not here: a raw of
// 120 out of a max of 150 is a score all the same).
func (p *parser) score12(n node) Score {
	return Score{Raw: p.number(n, "raw", 1, 0), Min: p.number(n, "min", 1, 0), Max: p.number(n, "max", 1, 0)}
}

func (p *parser) commit2004(c *Commit, cmi node) {
	c.LearnerID = p.str(cmi, "learner_id")
	c.LearnerName = p.str(cmi, "learner_name")
	c.Location = p.str(cmi, "location")
	c.Credit = p.vocab(cmi, "credit", "credit", "no-credit")
	c.Mode = p.vocab(cmi, "mode", "normal", "browse", "review")
	c.Entry = p.vocab(cmi, "entry", "ab-initio", "resume")
	c.Exit = p.vocab(cmi, "exit", "time-out", "suspend", "logout", "normal")
	c.Completion = p.vocab(cmi, "completion_status", "completed", "incomplete", "not attempted", "unknown")
	c.Success = p.vocab(cmi, "success_status", "passed", "failed", "unknown")
	c.Score = p.score2004(p.obj(cmi, "score"))
	c.ProgressMeasure = p.number(cmi, "progress_measure", 0, 1)
	c.SessionTime = p.interval(cmi, "session_time", V2004)
	c.TotalTime = p.interval(cmi, "total_time", V2004)
	c.SuspendData = p.str(cmi, "suspend_data")
	c.LaunchData = p.str(cmi, "launch_data")

	p.list(cmi, "interactions", MaxInteractions, func(i int, v any, path string) {
		n := p.elem(v, path)
		in := Interaction{
			ID:              p.identifier(n, "id", true),
			Type:            p.vocab(n, "type", interactionTypes2004...),
			Timestamp:       p.str(n, "timestamp"),
			Weighting:       p.number(n, "weighting", 1, 0),
			LearnerResponse: p.str(n, "learner_response"),
			Result:          p.str(n, "result"),
			Latency:         p.interval(n, "latency", V2004),
			Description:     p.str(n, "description"),
		}
		p.list(n, "correct_responses", MaxCorrectResponses, func(_ int, v any, path string) {
			in.CorrectResponses = append(in.CorrectResponses, p.str(p.elem(v, path), "pattern"))
		})
		p.list(n, "objectives", MaxObjectives, func(_ int, v any, path string) {
			in.Objectives = append(in.Objectives, p.identifier(p.elem(v, path), "id", true))
		})
		c.Interactions = append(c.Interactions, in)
	})
	p.list(cmi, "objectives", MaxObjectives, func(i int, v any, path string) {
		n := p.elem(v, path)
		c.Objectives = append(c.Objectives, Objective{
			ID:         p.identifier(n, "id", true),
			Completion: p.vocab(n, "completion_status", "completed", "incomplete", "not attempted", "unknown"),
			Success:    p.vocab(n, "success_status", "passed", "failed", "unknown"),
			Score:      p.score2004(p.obj(n, "score")),
		})
	})
}

// score2004 reads a SCORM 2004 score: scaled in -1..1 (RTE 4.2.20),
// raw, min and max real numbers.
func (p *parser) score2004(n node) Score {
	return Score{Scaled: p.number(n, "scaled", -1, 1), Raw: p.number(n, "raw", 1, 0),
		Min: p.number(n, "min", 1, 0), Max: p.number(n, "max", 1, 0)}
}

// kindOf names the JSON type of a decoded value.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// trunc shortens a value quoted in a message.
func trunc(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
