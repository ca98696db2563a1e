package packages

import (
	"slices"
	"strings"

	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// SuggestModule returns the reporting module that a package delivers, for
// the catalog (reporting.Module): its id made from the title, the title,
// the package's activity IRI as the module's activity, the IRIs of its
// parts, and the completion rule its manifest implies:
//
//   - cmi5: the course id is the activity (the LMS puts it in the grouping
//     of its "satisfied" statement for the course); the AUs that must be
//     done (moveOn other than NotApplicable) are the parts, each to meet
//     the rule their moveOn names (completed, passed,
//     completed-and-passed, completed-or-passed; when the AUs differ,
//     completed-or-passed, which each of their moveOn criteria meets);
//   - SCORM: the course IRI is the activity (the LRS's player sends a
//     statement about the course when every SCO is done, the SCORM
//     rollup), and the SCOs are the parts, even a single one: a SCORM
//     player elsewhere posting to the SCORM bridge sends statements about
//     its SCOs only, and a SCO's statement does not count for the course
//     in its grouping (see reporting.Project). SCORM 1.2 reports one
//     lesson_status, so a SCO
//     with a mastery score counts when passed, others when completed or
//     passed; SCORM 2004 reports completion and success apart, so a SCO
//     scored against a minNormalizedMeasure counts when completed and
//     passed, others when completed;
//   - Tin Can: the launched activity, completed or passed.
func SuggestModule(p *Package) *reporting.Module {
	m := &reporting.Module{ID: moduleID(p), Title: titles(p), Activities: []string{p.ActivityID}}
	switch p.Kind {
	case CMI5:
		rule := reporting.CompletionRule("")
		for _, l := range p.Launchables {
			r := moveOnRule(l.MoveOn)
			if r == "" {
				continue
			}
			m.Parts = append(m.Parts, l.ActivityID)
			if rule == "" {
				rule = r
			} else if rule != r {
				rule = reporting.CompletedOrPassed
			}
		}
		if rule == "" {
			rule = reporting.CompletedOrPassed
		}
		m.Completion = rule
	case SCORM12, SCORM2004:
		m.Parts = scos(p)
		m.Completion = reporting.Completed
		for _, l := range p.Launchables {
			switch {
			case p.Kind == SCORM12 && l.MasteryScore != nil:
				m.Completion = reporting.Passed
			case p.Kind == SCORM2004 && l.MinNormalizedMeasure != nil:
				m.Completion = reporting.CompletedAndPassed
			}
		}
		if p.Kind == SCORM12 && m.Completion == reporting.Completed {
			m.Completion = reporting.CompletedOrPassed
		}
	default:
		m.Completion = reporting.CompletedOrPassed
	}
	return m
}

// LinkModule links the package p to the catalog module m: it adds p's
// activity IRI to m's activities and replaces, among m's parts, those of
// the version before (prev, nil for none) by those SuggestModule gives for
// p. The module's title, completion rule, score and validity stay as they
// are.
func LinkModule(m *reporting.Module, p, prev *Package) {
	if !slices.Contains(m.Activities, p.ActivityID) {
		m.Activities = append(m.Activities, p.ActivityID)
	}
	if prev != nil {
		old := SuggestModule(prev).Parts
		m.Parts = slices.DeleteFunc(m.Parts, func(s string) bool { return slices.Contains(old, s) })
	}
	for _, part := range SuggestModule(p).Parts {
		if !slices.Contains(m.Parts, part) {
			m.Parts = append(m.Parts, part)
		}
	}
	if len(m.Parts) == 0 {
		m.Parts = nil
	}
}

// moveOnRule is the completion rule of a cmi5 moveOn; "" for
// NotApplicable (the AU needs nothing of the learner).
func moveOnRule(moveOn string) reporting.CompletionRule {
	switch moveOn {
	case "Completed":
		return reporting.Completed
	case "Passed":
		return reporting.Passed
	case "CompletedAndPassed":
		return reporting.CompletedAndPassed
	case "CompletedOrPassed":
		return reporting.CompletedOrPassed
	}
	return ""
}

// scos lists the activity IRIs of a SCORM package's SCOs (assets do not
// report).
func scos(p *Package) []string {
	var out []string
	for _, l := range p.Launchables {
		if l.SCORMType == "sco" {
			out = append(out, l.ActivityID)
		}
	}
	return out
}

// titles is the package's title as a language map: the manifest's
// languages where they are RFC 5646 tags, else the title as "und"
// (undetermined).
func titles(p *Package) map[string]string {
	out := map[string]string{}
	for lang, t := range p.Titles {
		if statements.ValidLanguageTag(lang) && t != "" {
			out[lang] = t
		}
	}
	if len(out) == 0 {
		out["und"] = p.Title
	}
	return out
}

// moduleID makes a catalog id from the package's title: lower-case
// letters, digits and hyphens (at most 64), or the package ID.
func moduleID(p *Package) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(p.Title) {
		var s string
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			s = string(r)
		case r == 'æ':
			s = "ae"
		case r == 'ø' || r == 'ö':
			s = "o"
		case r == 'å' || r == 'ä':
			s = "a"
		default:
			hyphen = true
			continue
		}
		if b.Len()+len(s)+1 > 64 {
			break
		}
		if hyphen && b.Len() > 0 {
			b.WriteByte('-')
		}
		hyphen = false
		b.WriteString(s)
	}
	if b.Len() == 0 {
		return "package-" + p.ID
	}
	return b.String()
}
