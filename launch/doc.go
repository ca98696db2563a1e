// Package launch is how learners start the packages the LRS hosts
// (package packages) without an account: personal, expiring launch links
// (Token), the attempt (registration) a launch belongs to, the SCORM
// player's data (the runtime's scorm.Init with the attempt's resume data,
// the table of contents of a multi-SCO package) and its commits (through
// scorm.Service), the SCORM rollup (one statement about the course when
// every SCO is done), the Tin Can launch parameters, and the LMS side of
// cmi5 (cmi5.go): the launch parameters, the one-time fetch URL,
// LMS.LaunchData and the learner preferences, launch modes, launched,
// satisfied, abandoned (at a relaunch and by a sweep) and waived, and the
// rules of cmi5 on an AU's statements (cmi5rules.go).
//
// It imports neither the HTTP framework, nor net/http, nor a database
// driver; package lrs serves it (lrs/launch.go).
package launch
