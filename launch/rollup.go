package launch

import (
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/scorm"
)

// SCOStatus is how far a learner got with one SCO in an attempt, as the
// player's table of contents shows it.
type SCOStatus string

const (
	NotAttempted SCOStatus = "not-attempted"
	Incomplete   SCOStatus = "incomplete"
	Done         SCOStatus = "completed" // completed, without a verdict
	Passed       SCOStatus = "passed"    // completed and passed
	Failed       SCOStatus = "failed"
)

// Status returns the status of a SCO whose attempt state is st (nil: never
// launched).
func Status(st *scorm.State) SCOStatus {
	if st == nil || st.Data == nil {
		return NotAttempted
	}
	d := st.Data
	switch {
	case d.Success == "passed":
		return Passed
	case d.Success == "failed":
		return Failed
	case d.Completion == "completed":
		return Done
	}
	return Incomplete
}

// masteryScored reports whether the SCO l is judged against a mastery
// score: SCORM 1.2's adlcp:masteryscore, SCORM 2004's minNormalizedMeasure
// (cmi.scaled_passing_score).
func masteryScored(l *packages.Launchable) bool {
	return l.MasteryScore != nil || l.MinNormalizedMeasure != nil
}

// SCOs returns the launchables of p that report through the run-time API
// (scormType sco; assets do not).
func SCOs(p *packages.Package) []*packages.Launchable {
	var out []*packages.Launchable
	for i := range p.Launchables {
		if p.Launchables[i].SCORMType == "sco" {
			out = append(out, &p.Launchables[i])
		}
	}
	return out
}

// Rollup decides the SCORM rollup of an attempt at the package p, given
// the attempt states of its SCOs by activity IRI (missing: not attempted):
// when every SCO is completed, and passed where it has a mastery score,
// the course is done. The verb is scorm.Passed when some SCO has a mastery
// score (the course was judged), else scorm.Completed; the result says
// completion (and success for passed), with the mean scaled score of the
// SCOs when each has one. ok is false while the course is not done (and
// for a package without SCOs, which nothing can complete).
func Rollup(p *packages.Package, states map[string]*scorm.State) (verb string, result map[string]any, ok bool) {
	scos := SCOs(p)
	if len(scos) == 0 {
		return "", nil, false
	}
	judged := false
	sum, scored := 0.0, 0
	for _, l := range scos {
		st := Status(states[l.ActivityID])
		if masteryScored(l) {
			judged = true
			if st != Passed {
				return "", nil, false
			}
		} else if st != Done && st != Passed {
			return "", nil, false
		}
		if s, ok := scaledScore(states[l.ActivityID]); ok {
			sum += s
			scored++
		}
	}
	verb = scorm.Completed
	result = map[string]any{"completion": true}
	if judged {
		verb = scorm.Passed
		result["success"] = true
	}
	if scored == len(scos) {
		result["score"] = map[string]any{"scaled": sum / float64(scored)}
	}
	return verb, result, true
}

// scaledScore is the scaled score of a SCO's attempt, as the SCORM profile
// maps it (scorm.ScaledScore).
func scaledScore(st *scorm.State) (float64, bool) {
	if st == nil || st.Data == nil {
		return 0, false
	}
	return scorm.ScaledScore(st.Data.Score, st.Version)
}
