// Package reporting is the compliance domain of the LRS: which people must
// complete which training modules by when, who has, and the evidence for
// auditors. It imports neither the HTTP framework nor a database driver;
// Store (store.go) is implemented by package sqlite, and package storetest
// holds the contract tests and the KiNS scenario every backend passes.
//
// # Model
//
// The module catalog (Module) names each piece of mandatory training by the
// activity IRIs that identify it on whatever platform delivers it, with a
// completion rule (completed, passed, completed-and-passed,
// completed-or-passed, optionally a minimum scaled score), optional parts
// that must each be met (the AUs of a cmi5 course) and an optional
// validity after which a completion expires. The evidence must meet the
// whole rule, score included: one statement, or the statements of one
// registration (a cmi5 registration, a Moodle session), never statements
// of different attempts (CompletionRule). Rules require the holders of
// a role to complete modules within a period of the role assignment or of
// the person's start date; campaigns require everyone in some unit subtrees
// and/or roles to complete modules between two dates; exemptions release a
// person from a module for a while.
//
// The roster is bitemporal (roster.go). Each fact about people and units
// is a row with the interval in which HR says it held (valid time) and the
// import that recorded it (transaction time). An import (an HR snapshot,
// from JSON or CSV) is planned by PlanImport against the current rows: the
// changed timelines are superseded and replaced, never edited, and the
// changes are recorded, so the roster as it was on any day, as the LRS knew
// it at any time, can be rebuilt (NewView). Importing the same snapshot
// again changes nothing. A person may have several identifiers (e-mail
// addresses, e.g. from before a change of name, and LMS accounts; in CSV
// in one cell or on repeated lines, see ParsePeopleCSV). Identifiers are
// time-bound too: statements count for whoever held the e-mail address or
// account when they were made.
//
// Intervals are half-open in the store and in the catalog ([from, to): to
// is the first day after). The dates an import gives are days as HR gives
// them, both inclusive: a person's start and end, a unit's from and to, a
// membership's or role's from and to, each ending on its last day; the
// import stores the end as the day after (see days). (Imports before this
// rule stored end dates as given, a day early; the next import listing the
// person or unit corrects it, recorded as a change like any other.)
//
// # Projection
//
// Statements are projected as they are stored into facts (Fact, Project):
// one per statement and learner, keyed by activity IRI rather than by
// module, so catalog edits and roster changes never require recomputation;
// a fact keeps the statement's registration, so that the statements of
// one attempt can meet a rule together.
// Verbs completed, passed, failed and satisfied count, and
// result.completion and result.success on terminated statements; launched,
// initialized, attempted and resumed record attempts ("in progress"). The
// context parent and grouping activities count only for cmi5 and
// SCORM-profile statements, which put stable publisher ids there. A
// voiding statement records a retraction instead of editing facts; readers
// join the two, so a statement voided before it arrives never counts, and
// a report as known at a past time still counts what was voided later.
// Facts of learners nobody in the roster holds are kept (Unmatched lists
// them) and count as soon as HR adds the person. The projection is derived
// data: Rebuild recomputes it from the statements and gives the same
// reports.
//
// The ingest service writes the projection with each request, with the
// statements: one Commit of an ingest.Unit (one transaction on SQLite; on
// MongoDB the statements, then the keyed, immutable facts). Only when
// that fails for the projection's sake does it store the statements alone
// and try Ingest after them.
//
// Facts hold what status reports need; the authority and the SHA-256 of
// each evidence statement are read from the stored statement when an
// evidence pack or a transcript is assembled (AddProof). This keeps the
// projection small (some 35 bytes a fact on SQLite) so that a report of a
// whole organisation can read all of it, and the hash proves what the LRS
// holds when the pack is made.
//
// # Reports
//
// Report gives one Row per person and required module as of an instant
// (Options.AsOf: the roster, rules and campaigns in effect on its day;
// completions with statement timestamps up to it), optionally as known at
// another (Options.KnownAt: only statements, voidings and imports stored by
// then, which shows back-filled records), with a summary per unit subtree,
// role, module and campaign. Statuses, first match wins: exempt; expired;
// expiring-soon; completed; overdue (past the due date); in-progress (an
// attempt or an unmet outcome since the requirement began); due (due within
// Options.DueWithin); not-started. A completion counts from its latest
// evidence; it expires its validity after its oldest evidence (the same
// statement, unless the statements of a registration or the parts of a
// module make the proof). Campaign rows count only completions from the
// campaign's start.
//
// Reminders groups the overdue and the soon due by the managers responsible
// for them (the managers of their units, or of the nearest unit above with
// someone else); StreamReminders gives the same rows one by one, in group
// order, for any size of organisation, and SummariseReminders counts them
// per manager and module. PersonTranscript lists everything a person
// completed.
// Package evidence builds the signed evidence pack for auditors from
// Report rows and AddProof.
//
// # Performance
//
// A report takes the roster's view of its day (kept while the store gives
// out the same rows: the SQLite store caches its current roster, so only
// the first report of a day builds the view, some 0.2 s at 55,000 people),
// then reads the facts of its people in batches (Store.Facts with their
// identifiers): a few people first, so that the first rows go out at once,
// then up to a thousand at a time, on several goroutines while one
// evaluates. Facts are kept in a compact form whose module matches are
// resolved once per activity set; rows are computed into one reused Row
// and written without reflection (Row.AppendJSON, export.CSVRecords,
// export.Writer), so that a report streams in the memory of a few batches
// whatever its size. On the embedded SQLite store with 55,000 people in 50
// units, 8 modules and the facts of 2,000,000 statements, on 2 shared
// cores, the status report of the whole organisation through HTTP sends
// its first bytes within some 50 ms and its 335,500 rows in 2-2.5 s of CPU
// (reading the facts through SQLite is half of it), that of one unit in
// about 80 ms of CPU (BENCHMARKS.md, "Reports at 55,000 people"); the
// first report after the database is opened takes about a second more,
// unless the service warms the store's caches at start (sqlite's
// DB.WarmReporting). A partial roster import reads and plans only the rows
// of what it lists (Import.Scope): one change at 55,000 people takes a few
// milliseconds.
//
// # Backends
//
// Store asks only for finding, inserting and updating records by indexed
// fields; joins and aggregation happen here, in Go. A backend without
// transactions (MongoDB through FerretDB) can: keep catalog entries as
// documents keyed by (tenant, kind, id); apply an import by inserting its
// new rows tagged with the import id, marking superseded rows with it, and
// committing the import record last, readers ignoring rows and marks of
// uncommitted imports (with a per-tenant lock document serialising
// imports); store facts as documents keyed by (tenant, statement, agent),
// inserted idempotently and read by agent with $in, and retractions as
// documents keyed by (tenant, statement), joined in Go.
package reporting
