// Package ingest is the use case of writing statements, free of HTTP and of
// any database driver: a Service takes the body of a PUT or POST of
// statements as the client sent it (the statement JSON and the raw data of
// its attachments), with who writes it and in which xAPI version, and
//
//   - parses and validates it (statements.ParseStatements), checks the
//     attachments and the signatures of signed statements;
//   - completes each statement as the LRS must: id, stored, timestamp,
//     authority, version (xAPI Data 2.4);
//   - derives what is derived: the record's index fields, the attachments
//     held, the completion facts and retractions (reporting.Projection) and
//     the activity definitions;
//   - hands one unit of work (Unit: statements, facts, retractions,
//     definitions) to the Store's Commit, one transaction on SQLite.
//
// The HTTP service (package lrs) decodes the request, calls Post or Put
// and encodes the answer; nothing of the statement's JSON tree crosses
// that line.
package ingest
