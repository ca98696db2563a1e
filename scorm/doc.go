// Package scorm is the SCORM run-time domain of the LRS: what a SCORM
// package's content (a SCO) reports through the run-time API, and how it
// becomes xAPI statements. It holds
//
//   - the run-time script (Runtime): the project's own window.API (SCORM
//     1.2) and window.API_1484_11 (SCORM 2004 4th edition), plain script
//     files embedded in the binary, which a player page loads and
//     initialises with an Init object;
//   - the commit (ParseCommit): the runtime data a runtime POSTs on
//     LMSCommit/Commit and LMSFinish/Terminate, in the JSON shape of
//     scorm-again's lmsCommitUrl, so that scorm-again players in other
//     LMSs can post to the same endpoint;
//   - the mapping (Map) of a commit, against the attempt's previous state,
//     to the statements of the ADL xAPI SCORM Profile, with deterministic
//     ids;
//   - the commit use case (Service.Commit): the attempt's state kept as an
//     xAPI State document under a reserved stateId, the statements stored
//     through the ingest service, idempotently.
//
// It imports neither the HTTP framework nor a database driver.
package scorm
