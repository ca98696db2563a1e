package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations build the schema, one step per schema version; a step never
// changes once released (add a new one instead).
//
// Statements are stored verbatim (json) next to the fields extracted from
// them. seq, the rowid, counts statements in commit order and is never
// reused (statements are never deleted). Queries page on (stored, seq).
//
// facets is the one index behind every filter: a row (key, stored, seq)
// says that statement seq matches a filter, where key is facetKey(tenant,
// kind, value) (see the kind constants). Keys are 64 bits of a SHA-256, so
// the index stays small (about 25 bytes an entry) and quick to update; a
// hash collision can only add candidates, which the query checks against the
// statement's fields. A StatementRef target's facets are copied to the
// statements referring to it (and listed in their inherited column), so one
// index range scan answers a filter including the StatementRef rule, in
// stored order.
var migrations = []string{
	// 1: statements, facets, attachments, credentials.
	`
CREATE TABLE statements (
	seq                INTEGER PRIMARY KEY,
	tenant             TEXT NOT NULL,
	id                 TEXT NOT NULL,
	stored             INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	timestamp          TEXT NOT NULL,    -- RFC 3339 with nanoseconds, UTC
	authority          TEXT NOT NULL,
	verb               TEXT NOT NULL,
	registration       TEXT NOT NULL,
	ref_id             TEXT NOT NULL,
	voids              TEXT NOT NULL,
	voided             INTEGER NOT NULL DEFAULT 0,
	hash               TEXT NOT NULL,
	agents             TEXT,             -- JSON arrays of strings, NULL when empty
	related_agents     TEXT,
	activities         TEXT,
	related_activities TEXT,
	attachment_hashes  TEXT,
	inherited          TEXT,             -- JSON [[kind, value], ...] inherited through StatementRefs
	json               BLOB NOT NULL
);
CREATE UNIQUE INDEX statements_tenant_id ON statements (tenant, id);
CREATE INDEX statements_tenant_stored ON statements (tenant, stored, seq);
CREATE INDEX statements_ref ON statements (tenant, ref_id) WHERE ref_id <> '';

CREATE TABLE facets (
	key    INTEGER NOT NULL, -- facetKey(tenant, kind, value)
	stored INTEGER NOT NULL,
	seq    INTEGER NOT NULL,
	PRIMARY KEY (key, stored, seq)
) WITHOUT ROWID;

CREATE TABLE attachments (
	tenant       TEXT NOT NULL,
	sha2         TEXT NOT NULL,
	content_type TEXT NOT NULL,
	data         BLOB NOT NULL
);
CREATE UNIQUE INDEX attachments_tenant_sha2 ON attachments (tenant, sha2);

CREATE TABLE credentials (
	key         TEXT PRIMARY KEY,
	secret_hash TEXT NOT NULL,
	name        TEXT NOT NULL,
	tenant      TEXT NOT NULL,
	scopes      TEXT NOT NULL,    -- comma-separated
	created     INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	revoked     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX credentials_tenant ON credentials (tenant);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`,
	// 2: documents (State, Activity Profile, Agent Profile) and the
	// canonical activity definitions. A document's key fields not used by
	// its kind are ''. The unique index serves single-document access, and
	// lists and deletes by a prefix of it; content comes last so that lists
	// never read a large document's overflow pages.
	`
CREATE TABLE documents (
	tenant       TEXT NOT NULL,
	kind         TEXT NOT NULL,
	activity     TEXT NOT NULL,
	agent        TEXT NOT NULL,
	registration TEXT NOT NULL,
	id           TEXT NOT NULL,
	etag         TEXT NOT NULL,
	updated      INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	content_type TEXT NOT NULL,
	content      BLOB NOT NULL
);
CREATE UNIQUE INDEX documents_key ON documents (tenant, kind, activity, agent, registration, id);

CREATE TABLE activities (
	tenant     TEXT NOT NULL,
	id         TEXT NOT NULL,
	definition BLOB NOT NULL, -- JSON object
	PRIMARY KEY (tenant, id)
);
`,
	// 3: tenants, credential rotation, the audit log of admin actions.
	`
CREATE TABLE tenants (
	name     TEXT PRIMARY KEY,
	created  INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	disabled INTEGER NOT NULL DEFAULT 0
);
INSERT INTO tenants (name, created) VALUES ('default', CAST((julianday('now') - 2440587.5) * 86400000000000 AS INTEGER));

ALTER TABLE credentials ADD COLUMN previous_secret_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN previous_until INTEGER NOT NULL DEFAULT 0;

CREATE TABLE audit (
	seq    INTEGER PRIMARY KEY,
	time   INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	tenant TEXT NOT NULL,
	actor  TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	detail TEXT NOT NULL
);
CREATE INDEX audit_tenant_time ON audit (tenant, time);
CREATE INDEX audit_time ON audit (time);
`,
	// 4: compliance reporting (package reporting; see reporting.go).
	// rp_catalog holds modules, rules, campaigns and exemptions as JSON.
	// rp_roster holds the bitemporal roster rows (dates are reporting.Date
	// day numbers, 0 unbounded; recorded and superseded are import ids),
	// rp_imports the record of each import and rp_import_changes what it
	// changed. The projection: the facts of
	// each agent packed into chunks of about 1 KB, clustered by agent
	// (rp_fact_chunks, the one table reports read), the retractions by voiding statements
	// (rp_retractions, joined with the facts when read), and the activity
	// sets facts refer to by number (rp_activity_sets).
	`
CREATE TABLE rp_catalog (
	tenant TEXT NOT NULL,
	kind   TEXT NOT NULL, -- module, rule, campaign, exemption
	id     TEXT NOT NULL,
	json   BLOB NOT NULL,
	PRIMARY KEY (tenant, kind, id)
) WITHOUT ROWID;

CREATE TABLE rp_imports (
	tenant   TEXT NOT NULL,
	id       INTEGER NOT NULL, -- 1, 2, … per tenant
	recorded INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	record   BLOB NOT NULL,    -- reporting.ImportRecord as JSON, without its changes
	PRIMARY KEY (tenant, id)
);

CREATE TABLE rp_import_changes (
	tenant TEXT NOT NULL,
	import INTEGER NOT NULL,
	n      INTEGER NOT NULL, -- the change's position in the import's record
	change BLOB NOT NULL,    -- reporting.Change as JSON
	PRIMARY KEY (tenant, import, n)
) WITHOUT ROWID;

CREATE TABLE rp_roster (
	seq        INTEGER PRIMARY KEY,
	tenant     TEXT NOT NULL,
	kind       TEXT NOT NULL,
	key        TEXT NOT NULL,
	value      TEXT NOT NULL,
	name       TEXT NOT NULL,
	email      TEXT NOT NULL,
	valid_from INTEGER NOT NULL,
	valid_to   INTEGER NOT NULL,
	recorded   INTEGER NOT NULL,
	superseded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX rp_roster_key ON rp_roster (tenant, key, kind, value);
CREATE INDEX rp_roster_member ON rp_roster (tenant, value) WHERE kind = 'member';

CREATE TABLE rp_fact_chunks (
	tenant TEXT NOT NULL,
	agent  TEXT NOT NULL,
	chunk  INTEGER NOT NULL, -- 0: the open chunk facts are appended to; 1, 2, …: full ones
	n      INTEGER NOT NULL, -- facts in data
	name   TEXT NOT NULL,    -- the latest name statements gave the agent
	data   BLOB NOT NULL,    -- n encoded facts (see reporting_facts.go)
	PRIMARY KEY (tenant, agent, chunk)
) WITHOUT ROWID;

CREATE TABLE rp_retractions (
	tenant    TEXT NOT NULL,
	statement BLOB NOT NULL,    -- the voided statement's id, 16 bytes
	stored    INTEGER NOT NULL, -- when the voiding statement was stored (Unix ns)
	PRIMARY KEY (tenant, statement)
) WITHOUT ROWID;

CREATE TABLE rp_activity_sets (
	id     INTEGER PRIMARY KEY, -- 64 bits of SHA-256(tenant NUL acts)
	tenant TEXT NOT NULL,
	acts   TEXT NOT NULL -- JSON array of activity IRIs
);
`,
	// 5: the current roster rows by kind and value, so that a partial
	// roster import reads only the rows it needs (the units; the
	// holders of the identifiers it lists) without scanning the roster.
	`
CREATE INDEX rp_roster_current ON rp_roster (tenant, kind, value) WHERE superseded = 0;
`,
	// 6: e-learning packages (see packages.go): one row per version, its
	// packages.Package as JSON; its files on disk under the content
	// directory, in the directory named by storage. A deleted package's
	// rows stay, marked, so that its version numbers are never reused.
	`
CREATE TABLE packages (
	tenant  TEXT NOT NULL,
	id      TEXT NOT NULL,
	version INTEGER NOT NULL,
	deleted INTEGER NOT NULL DEFAULT 0,
	storage TEXT NOT NULL,
	json    BLOB NOT NULL,
	PRIMARY KEY (tenant, id, version)
) WITHOUT ROWID;
`,
	// 7: the accounts of the pages for people and their sign-in sessions
	// (package accounts; see accounts.go). A session is keyed by the
	// SHA-256 of the secret its browser holds.
	`
CREATE TABLE accounts (
	name          TEXT PRIMARY KEY,
	tenant        TEXT NOT NULL,
	person        TEXT NOT NULL,
	password_hash TEXT NOT NULL, -- argon2id, PHC string; '' for none
	grants        TEXT NOT NULL, -- comma-separated roles
	disabled      INTEGER NOT NULL DEFAULT 0,
	created       INTEGER NOT NULL -- Unix nanoseconds (UTC)
);
CREATE INDEX accounts_tenant ON accounts (tenant);

CREATE TABLE sessions (
	id        TEXT PRIMARY KEY, -- hex SHA-256 of the secret
	tenant    TEXT NOT NULL,
	account   TEXT NOT NULL,
	person    TEXT NOT NULL,
	method    TEXT NOT NULL,
	label     TEXT NOT NULL,
	csrf      TEXT NOT NULL,
	created   INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	last_seen INTEGER NOT NULL,
	expires   INTEGER NOT NULL
);
CREATE INDEX sessions_account ON sessions (account);
`,
	// 8: the access log (package privacy; see privacy.go): one row per
	// read of people's data, naming its subjects by the id of a set kept
	// once per tenant and distinct set in access_sets.
	`
CREATE TABLE access_log (
	seq        INTEGER PRIMARY KEY,
	tenant     TEXT NOT NULL,
	time       INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	actor      TEXT NOT NULL,
	actor_kind TEXT NOT NULL,
	what       TEXT NOT NULL,
	subjects   TEXT NOT NULL,    -- the id of the set in access_sets
	count      INTEGER NOT NULL
);
CREATE INDEX access_log_time ON access_log (tenant, time);
CREATE INDEX access_log_subjects ON access_log (tenant, subjects);

CREATE TABLE access_sets (
	tenant  TEXT NOT NULL,
	id      TEXT NOT NULL,
	n       INTEGER NOT NULL,
	members BLOB NOT NULL, -- privacy.EncodeSubjects
	PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
`,
	// 9: the reminders sent (package reminders; see reminders.go): one
	// row per person, module and message, failed ones too.
	`
CREATE TABLE reminders_sent (
	seq        INTEGER PRIMARY KEY,
	tenant     TEXT NOT NULL,
	person     TEXT NOT NULL,
	module     TEXT NOT NULL,    -- '' for a manager's digest
	due        INTEGER NOT NULL, -- reporting.Date, 0 for none
	template   TEXT NOT NULL,
	time       INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	message_id TEXT NOT NULL,
	outcome    TEXT NOT NULL,
	error      TEXT NOT NULL,
	attempts   INTEGER NOT NULL
);
CREATE INDEX reminders_sent_time ON reminders_sent (tenant, time);
CREATE INDEX reminders_sent_person ON reminders_sent (tenant, person, time);
`,
	// 10: the erasure of people (package privacy; see erasure.go): each
	// tenant's secret pseudonym key, and the record of each erasure
	// (privacy.Erasure as JSON, naming the person by pseudonym only).
	`
CREATE TABLE privacy_keys (
	tenant TEXT PRIMARY KEY,
	key    BLOB NOT NULL
);

CREATE TABLE erasures (
	seq    INTEGER PRIMARY KEY,
	tenant TEXT NOT NULL,
	time   INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	record BLOB NOT NULL
);
CREATE INDEX erasures_tenant ON erasures (tenant, time);
`,
	// 11: retention (package privacy; see retention.go): each tenant's
	// rules (privacy.RetentionRules as JSON) and the record of each run;
	// the statements with attachments by time (a partial index: few
	// statements have one) and the documents by the time last written.
	`
CREATE TABLE retention_rules (
	tenant TEXT PRIMARY KEY,
	rules  BLOB NOT NULL
);

CREATE TABLE retention_runs (
	seq    INTEGER PRIMARY KEY,
	tenant TEXT NOT NULL,
	time   INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	record BLOB NOT NULL
);
CREATE INDEX retention_runs_tenant ON retention_runs (tenant, time);

CREATE INDEX statements_attachments ON statements (tenant, stored) WHERE attachment_hashes IS NOT NULL;
CREATE INDEX documents_updated ON documents (tenant, updated);
`,
}

// migrate brings the schema to the newest version, each step in its own
// transaction. Running it again is a no-op.
func migrate(ctx context.Context, conn *sql.Conn) error {
	// A database whose schema is current is opened without the write lock,
	// so that opening one in use (lrs backup and the other commands, next
	// to a busy service) never waits behind its writer.
	var current int
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&current); err == nil && current == len(migrations) {
		return nil
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	for {
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return err
		}
		var v int
		err := conn.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v)
		if err == nil && v > len(migrations) {
			err = fmt.Errorf("the database has schema version %d, newer than this program knows (%d)", v, len(migrations))
		}
		if err != nil || v == len(migrations) {
			conn.ExecContext(ctx, "ROLLBACK")
			return err
		}
		if _, err := conn.ExecContext(ctx, migrations[v]); err != nil {
			conn.ExecContext(ctx, "ROLLBACK")
			return fmt.Errorf("schema migration %d: %w", v+1, err)
		}
		_, err = conn.ExecContext(ctx, `DELETE FROM schema_version`)
		if err == nil {
			_, err = conn.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, v+1)
		}
		if err != nil {
			conn.ExecContext(ctx, "ROLLBACK")
			return err
		}
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			return err
		}
	}
}
