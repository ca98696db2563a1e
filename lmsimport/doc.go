// Package lmsimport is the import of an LMS's completion export (issue
// "SCORM and cmi5", item 6b): a CSV or XLSX file with one row per person
// and course, such as KS Læring's "Status alle medarbeidere", turned into
// one xAPI statement per completed, passed or failed row, so that years of
// completions recorded before the LRS can be documented and counted by
// the compliance reports. It imports neither the HTTP framework nor a
// database driver; package lrs serves it as POST /api/v1/imports/completions.
//
// # The file
//
// ReadTable reads the cells (CSV as reporting.ReadCSV reads it; XLSX, the
// first sheet or a named one, with excelize). Parse finds the header row
// (the first of the first 20 rows that names the columns) and reads the
// rows below it. Columns are matched by name, in Norwegian or English, in
// any case, ignoring spaces and punctuation (see columnNames); other
// columns are ignored:
//
//   - the person: ansattnummer/employee id (a person key of the roster),
//     e-post/email, brukernavn/username (an LMS account name the roster
//     holds), or person/identifier (any of the three); several may be
//     given, and must then name the same person;
//   - the module: kurs/modul/course/module: a catalog module's id, its
//     title in any language, or one of its activity IRIs;
//   - the status: fullført/completed, bestått/passed, ikke bestått/failed
//     make a statement; påbegynt/in progress, ikke startet/not started
//     and an empty status are skipped (see statuses);
//   - the score (optional): poeng/score, 0–100 (percent, "85", "85 %") or
//     0–1 (a fraction, "0,85"); which one a file uses is detected (percent
//     if any score is above 1 or written with %) unless the request says
//     (ScoreScale), and the answer says which it took;
//   - the date: dato/fullført dato/completed: 2024-03-01, 01.03.2024,
//     1.3.2024, with or without a time (01.03.2024 14:30), an ISO 8601
//     timestamp with an offset, or an Excel date. A date without a time
//     (or at midnight, as databases export dates) is taken as 12:00 in the
//     import's time zone (Options.Location, default Europe/Oslo), the same
//     calendar day in every zone from UTC−11 to UTC+11, so reports in UTC
//     or Norwegian time show that day.
//
// A value that cannot be read (a date, a score, a status) makes the file
// refused with an errs.Invalid error naming the row and the column; a row
// that can be read but not recorded (an unknown person or module, a
// status that is no completion, a missing value, a date in the future, a
// repeat of an earlier row) is skipped, with the reason, and the rest is
// imported.
//
// # The statements
//
// Each statement (see statement):
//
//	{"id": ID,
//	 "actor": the person's agent in the roster: the e-mail address the roster
//	          shows for them (mbox) if they held it on the completion date,
//	          else another identifier they held then; with their name,
//	 "verb": completed, passed or failed (http://adlnet.gov/expapi/verbs/…),
//	 "object": {"objectType": "Activity", "id": the module's first activity IRI},
//	 "result": completed {"completion": true}; passed {"completion": true,
//	          "success": true}; failed {"success": false}; with a score
//	          {"scaled": 0.85, "raw": 85, "min": 0, "max": 100} (percent) or
//	          {"scaled": 0.85} (a fraction),
//	 "timestamp": the row's date,
//	 "context": {"contextActivities": {"category": [{"id": CategoryIRI}]},
//	             "extensions": {ExtensionIRI: {"fileSha256": …, "row": 12,
//	                 "credential": KEY, "cells": {header: cell, …}}}}}
//
// "cells" holds the row's cells of the columns read, under the file's own
// header names: what the export said (an Excel date shown as 2024-01-31 or
// 2024-01-31 14:30:00 rather than as its serial number). The authority is
// the importing credential, as on every statement.
//
// A file may hold at most Config.MaxRows data rows (DefaultMaxRows); the
// HTTP service bounds its bytes.
//
// # Ids and idempotency
//
// A statement's id is a UUID v5 (name-based, SHA-1) in Namespace of
// "tenant\nperson key\nmodule id\ncompletion date\nverb" (the date as
// YYYY-MM-DD in the import's time zone; the verb completed, passed or
// failed): the same completion in two exports (the same file again, or two
// overlapping exports of different dates) is one statement, while another
// attempt on another day, or a failure and a later pass, are several. The
// file's hash and the row are provenance, not identity. Before storing,
// the import looks each id up: one stored already (by any import, with
// whatever provenance, voided or not) is counted as already recorded and
// not sent again, so importing a file twice, or an overlapping one, stores
// nothing new, and a completion voided since its import stays voided. The
// statements of one file and credential are byte-for-byte the same on
// every run, so two imports racing each other are settled by the ingest
// service's idempotency on equal statements.
package lmsimport
