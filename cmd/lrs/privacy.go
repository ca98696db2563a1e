package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/xapi-lrs/lrs/privacy"
)

// The privacy commands:
//
//	lrs privacy erase --tenant T --person ID --mode pseudonymise|delete [--dry-run]

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
	src := privacy.Sources{Reporting: st.Reporting, Statements: st.Statements, Documents: st.Documents, Privacy: st.Privacy,
		Reminders: st.Reminders}
	e, err := privacy.Erase(ctx, src, st.Privacy, privacy.ErasureRequest{Tenant: *tenant, Person: *person, Mode: *mode,
		Actor: cliActor(), DryRun: *dry}, time.Now())
	if err != nil {
		return fmt.Errorf("privacy erase: %w", describe(err))
	}
	enc := json.NewEncoder(s.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(e)
}
