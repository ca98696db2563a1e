package scorm

// Init is what a player page hands the runtime script
// (window.LRSScorm.start(init), see runtime/scorm.js): the learner, the
// data model's values set by the LMS, what a resumed attempt had, and
// where to commit. Its JSON names are the script's.
type Init struct {
	Version Version `json:"version"` // "1.2" or "2004"

	LearnerID   string `json:"learnerId"`
	LearnerName string `json:"learnerName,omitempty"`

	// Entry is ab-initio for a new attempt, resume for a suspended one.
	Entry  string `json:"entry"`
	Credit string `json:"credit,omitempty"` // credit (default) or no-credit
	Mode   string `json:"mode,omitempty"`   // normal (default), browse or review

	LaunchData string `json:"launchData,omitempty"` // the manifest's adlcp:datafromlms / adlcp:dataFromLMS
	// MasteryScore is SCORM 1.2's cmi.student_data.mastery_score (0..100,
	// adlcp:masteryscore); ScaledPassingScore SCORM 2004's
	// cmi.scaled_passing_score (-1..1); CompletionThreshold 2004's
	// cmi.completion_threshold (0..1). "" when the manifest has none.
	MasteryScore        string `json:"masteryScore,omitempty"`
	ScaledPassingScore  string `json:"scaledPassingScore,omitempty"`
	CompletionThreshold string `json:"completionThreshold,omitempty"`
	MaxTimeAllowed      string `json:"maxTimeAllowed,omitempty"`
	TimeLimitAction     string `json:"timeLimitAction,omitempty"`

	// What the attempt had when it was suspended (Resume fills them).
	SuspendData string        `json:"suspendData,omitempty"`
	Location    string        `json:"location,omitempty"`
	TotalTime   string        `json:"totalTime,omitempty"`
	Completion  string        `json:"completionStatus,omitempty"` // 2004
	Success     string        `json:"successStatus,omitempty"`    // 2004
	Lesson      string        `json:"lessonStatus,omitempty"`     // 1.2
	Score       Score         `json:"score"`
	Progress    string        `json:"progressMeasure,omitempty"` // 2004
	Interaction []Interaction `json:"interactions,omitempty"`    // 2004
	Objectives  []Objective   `json:"objectives,omitempty"`

	// CommitURL is where the runtime POSTs its commits (the JSON of
	// ParseCommit), synchronously; CommitHeaders are added to each POST
	// (e.g. Authorization).
	CommitURL     string            `json:"commitUrl"`
	CommitHeaders map[string]string `json:"commitHeaders,omitempty"`
}

// Resume returns base completed with what the attempt of state st had:
// for an attempt whose last session was suspended, entry resume and the
// suspend data, location, total time, statuses, score and (SCORM 2004)
// interactions and objectives as last committed; otherwise (no state yet)
// entry ab-initio. An attempt whose last session ended normally is over
// (SCORM 2004 RTE 4.2.10, cmi.exit): the caller should start a new
// attempt, with a new registration; Resume then answers ab-initio.
func (st *State) Resume(base Init) Init {
	in := base
	in.Entry = "ab-initio"
	if st == nil || st.Data == nil {
		return in
	}
	d := st.Data
	in.Version = st.Version
	if !st.Suspended {
		return in
	}
	in.Entry = "resume"
	in.TotalTime = d.TotalTime
	in.SuspendData, in.Location = d.SuspendData, d.Location
	in.Score = d.Score
	if st.Version == V12 {
		in.Lesson = d.LessonStatus
		in.Objectives = d.Objectives
		return in
	}
	in.Completion, in.Success, in.Progress = d.Completion, d.Success, d.ProgressMeasure
	in.Interaction, in.Objectives = d.Interactions, d.Objectives
	return in
}
