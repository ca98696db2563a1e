// Package statements is the xAPI domain: strict parsing and validation of
// statements for xAPI 1.0.3 and 2.0.0, the fields the LRS extracts to index
// them, equivalence, formats, attachments, signatures, query filters, and the
// Store interface that the storage backends (package sqlite, package mongo)
// implement and that package storetest checks.
//
// A parsed statement is its JSON object tree: map[string]any whose values are
// map[string]any, []any, string, json.Number, bool or nil. The tree is kept as
// the client sent it (after validation) so that the stored statement is the
// client's statement plus the properties the LRS sets (id, stored, authority,
// version).
//
// This package imports neither the HTTP framework nor a database driver.
package statements
