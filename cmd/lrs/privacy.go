package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/xapi-lrs/lrs/privacy"
)

// The privacy commands:
//
//	lrs privacy erase --tenant T --person ID --mode pseudonymise|delete [--dry-run]
//	lrs retention run [--tenant T] [--dry-run]
//
// and the retention job of `lrs serve` (retentionEvery).

const privacyEraseHelp = `Erases a person of the roster (GDPR article 17), as the API's
POST /api/v1/people/ID/erasure does: --mode pseudonymise replaces every
identifier of the person by a keyed pseudonym (statements stay and keep
counting in reports); --mode delete deletes their statements outright.
In both modes their documents, their statements' attachments and their
accounts of the pages are deleted. --dry-run prints what would change.
The erasure record (JSON, naming the pseudonym only) is printed and kept.
See docs/privacy.md.`

// privacyEraseCmd runs "lrs privacy erase".
func privacyEraseCmd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("privacy erase")
	db := dbFlag(fs)
	tenant := fs.String("tenant", "", "the person's tenant (required)")
	person := fs.String("person", "", "the employee id of the person to erase (required)")
	mode := fs.String("mode", "", "pseudonymise or delete (required)")
	dry := fs.Bool("dry-run", false, "count what would change; change nothing")
	if _, err := fs.parse(s, args); err != nil {
		return err
	}
	if *tenant == "" || *person == "" || *mode == "" {
		return errors.New("privacy erase: --tenant, --person and --mode are required")
	}
	st, err := openReporting(ctx, s, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Tenants.Tenant(ctx, *tenant); err != nil {
		return fmt.Errorf("privacy erase: tenant %q: %w", *tenant, err)
	}
	e, err := privacy.Erase(ctx, privacySources(st), st.Privacy, privacy.ErasureRequest{Tenant: *tenant, Person: *person, Mode: *mode,
		Actor: cliActor(), DryRun: *dry}, time.Now())
	if err != nil {
		return fmt.Errorf("privacy erase: %w", describe(err))
	}
	enc := json.NewEncoder(s.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(e)
}

// privacySources are the stores of st holding people's data.
func privacySources(st *stores) privacy.Sources {
	return privacy.Sources{Reporting: st.Reporting, Statements: st.Statements, Documents: st.Documents, Privacy: st.Privacy,
		Reminders: st.Reminders}
}

const retentionRunHelp = `Applies the retention rules of a tenant (--tenant), or of every tenant
with a rule on, as the service's daily job does (--retention-interval):
erases, with mode delete, the people whose employment ended the rule's
years ago (their roster rows and completion facts stay pseudonymised, so
totals for past dates stay the same); deletes documents and attachment
files not written or listed for the rule's months; prunes the audit log,
the access log and the reminders-sent records. --dry-run counts what
would be deleted. Each run is recorded (GET /api/v1/retention/runs) and
printed as JSON. The rules are set with PUT /api/v1/retention. See
docs/privacy.md.`

// retentionRunCmd runs "lrs retention run".
func retentionRunCmd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("retention run")
	db := dbFlag(fs)
	tenant := fs.String("tenant", "", "the tenant (default: every tenant with a rule on)")
	dry := fs.Bool("dry-run", false, "count what would be deleted; delete nothing")
	if _, err := fs.parse(s, args); err != nil {
		return err
	}
	st, err := openReporting(ctx, s, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if *tenant != "" {
		if _, err := st.Tenants.Tenant(ctx, *tenant); err != nil {
			return fmt.Errorf("retention run: tenant %q: %w", *tenant, err)
		}
	}
	runs, err := runRetention(ctx, st, *tenant, cliActor(), *dry)
	enc := json.NewEncoder(s.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"runs": runs}); err != nil {
		return err
	}
	if err != nil {
		return fmt.Errorf("retention run: %w", describe(err))
	}
	return nil
}

// runRetention runs the retention of tenant, or, when tenant is "", of
// every tenant with a rule on (a tenant whose rules are all off is not
// run, nor recorded), and returns the runs' records: those of the
// tenants run before a failure, and the failed one.
func runRetention(ctx context.Context, st *stores, tenant, actor string, dry bool) ([]*privacy.RetentionRun, error) {
	tenants := []string{tenant}
	if tenant == "" {
		ts, err := st.Tenants.Tenants(ctx)
		if err != nil {
			return nil, err
		}
		tenants = nil
		for _, t := range ts {
			r, err := st.Privacy.RetentionRules(ctx, t.Name)
			if err != nil {
				return nil, err
			}
			if !r.Off() {
				tenants = append(tenants, t.Name)
			}
		}
	}
	runs := []*privacy.RetentionRun{}
	for _, t := range tenants {
		run, err := privacy.RunRetention(ctx, privacySources(st), st.Privacy, privacy.RetentionRequest{Tenant: t, Actor: actor, DryRun: dry},
			time.Now())
		if run != nil {
			runs = append(runs, run)
		}
		if err != nil {
			return runs, fmt.Errorf("tenant %s: %w", t, err)
		}
	}
	return runs, nil
}

// retentionEvery runs the retention of every tenant with a rule on
// (runRetention) every period, the first time a minute after the start
// (sooner when period is shorter), until ctx ends: the scheduled job of
// `lrs serve`.
func retentionEvery(ctx context.Context, st *stores, period time.Duration, log *slog.Logger) {
	if st.Reporting == nil || st.Privacy == nil {
		return
	}
	t := time.NewTimer(min(period, time.Minute))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		runs, err := runRetention(ctx, st, "", privacy.RetentionJob, false)
		for _, r := range runs {
			log.Info("retention run", "tenant", r.Tenant, "people", r.Counts.People, "statements", r.Counts.Statements,
				"documents", r.Counts.Documents, "attachments", r.Counts.Attachments, "audit", r.Counts.Audit,
				"access_log", r.Counts.AccessLog, "reminders_sent", r.Counts.Reminders, "duration_ms", r.Millis)
		}
		if err != nil && ctx.Err() == nil {
			log.Error("retention run", "err", err)
		}
		t.Reset(period)
	}
}
