package privacy

import (
	"context"
	"slices"
	"time"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
)

// Retention (GDPR article 5(1)(e), storage limitation): each tenant sets
// how long each category of personal data is kept, and a run
// (RunRetention: a scheduled job of the service, or `lrs retention run`)
// deletes what is older. Every rule is off (0) until the tenant sets it:
// nothing is deleted by default.
//
//   - People: the statements of a person whose employment ended more than
//     StatementsYears years ago are deleted by erasing the person with
//     mode Delete (Erase): their statements, documents, accounts and the
//     attachments only their statements had go; their roster rows,
//     completion facts, exemptions and the logs naming them are
//     pseudonymised and stay, so unit and module totals for past dates
//     stay the same. Each such erasure is recorded (Erasures) with the
//     actor "retention".
//   - Documents: State, Agent Profile and Activity Profile documents not
//     written for DocumentsMonths months are deleted.
//   - Attachments: an attachment's file is deleted when every statement
//     listing it was stored more than AttachmentsMonths months ago (or
//     none lists it any more); the statements keep their attachment
//     metadata (sha2, length, content type).
//   - Audit log, access log and reminders-sent records older than
//     AuditYears, AccessLogYears and RemindersYears years are deleted.
//
// Employment: a person's employment is the interval of their person
// rows in the current roster (reporting.RowPerson: from the first day
// through the last, as HR gives it; a rehire is another interval). It
// has ended when every interval is closed; it ended on the day after the
// last day of the latest one (the To of the interval). Memberships and
// roles do not count: an import ending a person ends them too, and a
// person without a unit is still employed. People erased before (the
// roster knows only their pseudonym) are left as they are.
type RetentionRules struct {
	StatementsYears   int `json:"statementsYearsAfterEmployment"`
	DocumentsMonths   int `json:"documentsMonths"`
	AttachmentsMonths int `json:"attachmentsMonths"`
	AuditYears        int `json:"auditLogYears"`
	AccessLogYears    int `json:"accessLogYears"`
	RemindersYears    int `json:"remindersSentYears"`
	// Updated and UpdatedBy say when and by whom the rules were last set
	// (zero: never, every rule off).
	Updated   time.Time `json:"updated,omitzero"`
	UpdatedBy string    `json:"updatedBy,omitempty"`
}

// Bounds of a rule (0 is off).
const (
	maxRetentionYears  = 100
	maxRetentionMonths = 12 * maxRetentionYears
)

// Check reports a rule out of bounds as an errs.Invalid error.
func (r *RetentionRules) Check() error {
	for _, x := range []struct {
		name string
		v    int
		max  int
	}{
		{"statementsYearsAfterEmployment", r.StatementsYears, maxRetentionYears},
		{"documentsMonths", r.DocumentsMonths, maxRetentionMonths},
		{"attachmentsMonths", r.AttachmentsMonths, maxRetentionMonths},
		{"auditLogYears", r.AuditYears, maxRetentionYears},
		{"accessLogYears", r.AccessLogYears, maxRetentionYears},
		{"remindersSentYears", r.RemindersYears, maxRetentionYears},
	} {
		if x.v < 0 || x.v > x.max {
			return errs.Invalidf(x.name, "retention-period", "%s must be 0 (off: kept) to %d, got %d", x.name, x.max, x.v)
		}
	}
	return nil
}

// Off reports whether every rule is off.
func (r *RetentionRules) Off() bool {
	return r.StatementsYears == 0 && r.DocumentsMonths == 0 && r.AttachmentsMonths == 0 && r.AuditYears == 0 &&
		r.AccessLogYears == 0 && r.RemindersYears == 0
}

// RetentionCounts says how much a retention run deleted (or, dry, would
// delete) in each category.
type RetentionCounts struct {
	People      int `json:"people"`      // erased: their statements deleted, the rest pseudonymised
	Statements  int `json:"statements"`  // deleted with those people
	Facts       int `json:"facts"`       // those people's completion facts, pseudonymised (kept)
	Documents   int `json:"documents"`   // deleted: those people's and those not written for DocumentsMonths
	Attachments int `json:"attachments"` // files deleted
	Audit       int `json:"auditLog"`
	AccessLog   int `json:"accessLog"`
	Reminders   int `json:"remindersSent"`
}

// RetentionRun is the record of one retention run of one tenant.
type RetentionRun struct {
	Tenant string          `json:"tenant"`
	Time   time.Time       `json:"time"`
	Actor  string          `json:"actor"` // RetentionJob, a credential key, or "cli:<user>"
	DryRun bool            `json:"dryRun,omitempty"`
	Rules  RetentionRules  `json:"rules"`
	Counts RetentionCounts `json:"counts"`
	Error  string          `json:"error,omitempty"` // a run that failed: the counts of what it did before
	Millis int64           `json:"durationMs"`
}

// RetentionJob is the actor of the runs of the service's scheduled job.
const RetentionJob = "job"

// StatementStamp names a statement and when it was stored.
type StatementStamp struct {
	ID     string
	Stored time.Time
}

// AttachmentUse is an attachment file a tenant stores and the statements
// listing it (none: a file no statement lists any more).
type AttachmentUse struct {
	SHA2       string
	Statements []StatementStamp
}

// RetentionStore is what retention keeps and deletes, beside the
// erasure's methods and the access log's PruneAccess.
type RetentionStore interface {
	// RetentionRules returns the tenant's rules: all off (zero) when never
	// set. PutRetentionRules replaces them.
	RetentionRules(ctx context.Context, tenant string) (*RetentionRules, error)
	PutRetentionRules(ctx context.Context, tenant string, r *RetentionRules) error
	// AddRetentionRun stores a run's record; RetentionRuns lists a
	// tenant's, newest first, at most limit (> 0).
	AddRetentionRun(ctx context.Context, run *RetentionRun) error
	RetentionRuns(ctx context.Context, tenant string, limit int) ([]*RetentionRun, error)
	// StaleDocuments returns the keys of the tenant's documents (every
	// kind) last written before before.
	StaleDocuments(ctx context.Context, tenant string, before time.Time) ([]documents.Key, error)
	// AttachmentUses lists the tenant's attachment files (those of
	// unfinished writes left out) with the statements listing each.
	AttachmentUses(ctx context.Context, tenant string) ([]AttachmentUse, error)
	// DeleteAttachments deletes the tenant's attachment files with the
	// hashes that no statement stored at or after listedSince lists, and
	// returns how many it deleted.
	DeleteAttachments(ctx context.Context, tenant string, hashes []string, listedSince time.Time) (int, error)
	// PruneAudit and PruneReminders delete the tenant's audit entries and
	// reminders-sent records older than before and return how many; with
	// dryRun they only count them.
	PruneAudit(ctx context.Context, tenant string, before time.Time, dryRun bool) (int, error)
	PruneReminders(ctx context.Context, tenant string, before time.Time, dryRun bool) (int, error)
}

// RetentionRequest says which tenant's retention to run, for whom.
type RetentionRequest struct {
	Tenant string
	Actor  string
	DryRun bool
}

// RunRetention applies the tenant's rules (see RetentionRules) as of now
// and records the run, dry runs too; a dry run changes nothing else and
// counts exactly what the real run would delete. A run is idempotent:
// run again at the same time, it finds nothing left. A run that fails is
// recorded with its error and the counts of what it did before.
//
// The order makes the counts add up: the people are erased first (their
// documents and the attachments only their statements had go with
// them), then the stale documents and attachments left are deleted, then
// the logs are pruned (an erasure rewrites log entries, never deletes
// them). A dry run subtracts what the erasures would delete from what
// the later rules find.
func RunRetention(ctx context.Context, src Sources, st Store, req RetentionRequest, now time.Time) (*RetentionRun, error) {
	rules, err := st.RetentionRules(ctx, req.Tenant)
	if err != nil {
		return nil, err
	}
	run := &RetentionRun{Tenant: req.Tenant, Time: now.UTC(), Actor: req.Actor, DryRun: req.DryRun, Rules: *rules}
	start := time.Now()
	err = applyRetention(ctx, src, st, run, now)
	run.Millis = time.Since(start).Milliseconds()
	if err != nil {
		run.Error = err.Error()
	}
	if rerr := st.AddRetentionRun(context.WithoutCancel(ctx), run); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return run, err
	}
	return run, nil
}

func applyRetention(ctx context.Context, src Sources, st Store, run *RetentionRun, now time.Time) error {
	r, n, dry, tenant := &run.Rules, &run.Counts, run.DryRun, run.Tenant

	// People whose retention passed: erased with mode Delete.
	erasedStatements := map[string]bool{}
	erasedDocuments := map[documents.Key]bool{}
	if r.StatementsYears > 0 {
		people, err := ExpiredPeople(ctx, src.Reporting, tenant, r.StatementsYears, now)
		if err != nil {
			return err
		}
		actor := "retention"
		if run.Actor != RetentionJob {
			actor += ":" + run.Actor
		}
		for _, id := range people {
			e, err := Erase(ctx, src, st, ErasureRequest{Tenant: tenant, Person: id, Mode: Delete, Actor: actor, DryRun: dry}, now)
			if err != nil {
				return err
			}
			n.People++
			n.Facts += e.Counts.Facts
			if !dry {
				// Each statement and document is deleted once, by the
				// first erasure naming it.
				n.Statements += e.Counts.Statements
				n.Documents += e.Counts.Documents
				n.Attachments += e.Counts.Attachments
			}
			for _, id := range e.statements {
				erasedStatements[id] = true
			}
			for _, k := range e.documents {
				erasedDocuments[k] = true
			}
		}
		if dry {
			n.Statements, n.Documents = len(erasedStatements), len(erasedDocuments)
		}
	}

	if r.DocumentsMonths > 0 {
		keys, err := st.StaleDocuments(ctx, tenant, now.AddDate(0, -r.DocumentsMonths, 0))
		if err != nil {
			return err
		}
		keys = slices.DeleteFunc(keys, func(k documents.Key) bool { return erasedDocuments[k] }) // dry: the erasures' own
		if !dry {
			if err := st.PurgeDocuments(ctx, keys); err != nil {
				return err
			}
		}
		n.Documents += len(keys)
	}

	if r.AttachmentsMonths > 0 || dry && len(erasedStatements) > 0 {
		var cutoff time.Time // attachments listed by no statement but the erased ones
		if r.AttachmentsMonths > 0 {
			cutoff = now.AddDate(0, -r.AttachmentsMonths, 0)
		}
		uses, err := st.AttachmentUses(ctx, tenant)
		if err != nil {
			return err
		}
		var stale []string
		for _, u := range uses {
			erased, recent := false, false
			for _, s := range u.Statements {
				switch {
				case erasedStatements[s.ID]:
					erased = true // dry: the erasure deletes this statement
				case !s.Stored.Before(cutoff):
					recent = true
				}
			}
			if !recent && (r.AttachmentsMonths > 0 || erased) {
				stale = append(stale, u.SHA2)
			}
		}
		if dry {
			n.Attachments += len(stale)
		} else {
			k, err := st.DeleteAttachments(ctx, tenant, stale, cutoff)
			if err != nil {
				return err
			}
			n.Attachments += k
		}
	}

	var err error
	if r.AuditYears > 0 {
		if n.Audit, err = st.PruneAudit(ctx, tenant, now.AddDate(-r.AuditYears, 0, 0), dry); err != nil {
			return err
		}
	}
	if r.AccessLogYears > 0 {
		if n.AccessLog, err = st.PruneAccess(ctx, tenant, now.AddDate(-r.AccessLogYears, 0, 0), dry); err != nil {
			return err
		}
	}
	if r.RemindersYears > 0 {
		if n.Reminders, err = st.PruneReminders(ctx, tenant, now.AddDate(-r.RemindersYears, 0, 0), dry); err != nil {
			return err
		}
	}
	return nil
}

// ExpiredPeople returns the employee ids, sorted, of the tenant's people
// whose employment (see RetentionRules) ended at least years years before
// the day of now (UTC), pseudonyms of people erased before left out.
func ExpiredPeople(ctx context.Context, st reporting.RosterStore, tenant string, years int, now time.Time) ([]string, error) {
	rows, err := st.RosterRows(ctx, tenant, reporting.RosterFilter{})
	if err != nil {
		return nil, err
	}
	today := reporting.DateOf(now, time.UTC)
	ended := map[string]reporting.Date{} // the day after the last day; 0: employed (an open interval)
	for _, r := range rows {
		if r.Kind != reporting.RowPerson || IsPseudonym(r.Key) {
			continue
		}
		end, seen := ended[r.Key]
		switch {
		case r.To == 0:
			ended[r.Key] = 0
		case !seen || end != 0 && r.To > end:
			ended[r.Key] = r.To
		}
	}
	var out []string
	for id, end := range ended {
		if end != 0 && today >= end.Add(reporting.Period{Years: years}) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// IsPseudonym reports whether an employee id is a pseudonym an erasure
// gave (Pseudonyms.Person).
func IsPseudonym(id string) bool {
	const prefix, hexLen = "erased-", 24
	if len(id) != len(prefix)+hexLen || id[:len(prefix)] != prefix {
		return false
	}
	for _, c := range id[len(prefix):] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
