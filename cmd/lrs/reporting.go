package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // report time zones (tz=Europe/Oslo) in images without a zoneinfo database

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/reporting"
)

// The compliance reporting commands:
//
//	lrs reporting rebuild [--tenant T]     recompute the completion projection
//	lrs roster import --tenant T FILE      import a roster (CSV or JSON)

// openReporting opens the stores and checks that the backend keeps
// compliance reporting.
func openReporting(ctx context.Context, s streams, db string) (*stores, error) {
	st, err := openCLIStores(ctx, s, db)
	if err != nil {
		return nil, err
	}
	if st.Reporting == nil {
		st.Close()
		return nil, fmt.Errorf("the %s backend does not keep compliance reporting", st.Backend)
	}
	return st, nil
}

// reportingCmd runs "lrs reporting SUBCOMMAND".
func reportingCmd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("reporting rebuild")
	db := dbFlag(fs)
	tenant := fs.String("tenant", "", "the tenant whose projection to rebuild (default: every tenant)")
	if _, err := fs.parse(s, args); err != nil {
		return err
	}
	st, err := openReporting(ctx, s, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	tenants := []string{*tenant}
	if *tenant == "" {
		ts, err := st.Tenants.Tenants(ctx)
		if err != nil {
			return err
		}
		tenants = tenants[:0]
		for _, t := range ts {
			tenants = append(tenants, t.Name)
		}
	} else if _, err := st.Tenants.Tenant(ctx, *tenant); err != nil {
		return fmt.Errorf("reporting rebuild: tenant %q: %w", *tenant, err)
	}
	for _, t := range tenants {
		start := time.Now()
		n, err := reporting.Rebuild(ctx, st.Statements, st.Reporting, t)
		if err != nil {
			return fmt.Errorf("reporting rebuild: tenant %s, after %d statements: %w (run it again)", t, n, err)
		}
		agents, err := st.Reporting.FactAgents(ctx, t)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.stdout, "tenant %s: %d statements read, %d learners with facts, in %s\n",
			t, n, len(agents), time.Since(start).Round(time.Millisecond))
		recordAudit(ctx, st, t, "projection.rebuild", t, strconv.Itoa(n)+" statements")
	}
	return nil
}

// rosterCmd runs "lrs roster import".
func rosterCmd(ctx context.Context, s streams, args []string) error {
	fs := newFlags("roster import")
	db := dbFlag(fs)
	tenant := fs.String("tenant", "", "the tenant whose roster it is (required)")
	kind := fs.String("kind", "people", "CSV only: people or units")
	partial := fs.Bool("partial", false, "CSV only: change only the people or units listed (default: the file is complete; whoever it leaves out ends)")
	effective := fs.String("effective", "", "CSV only: the day undated changes take effect, YYYY-MM-DD (default: today)")
	pos, err := fs.parse(s, args, "FILE")
	if err != nil {
		return err
	}
	file := pos[0]
	if *tenant == "" {
		return errors.New("roster import: --tenant is required (a complete import ends everyone it leaves out)")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var imp *reporting.Import
	switch ext := strings.ToLower(filepath.Ext(file)); ext {
	case ".json":
		set := []string{}
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "kind" || f.Name == "partial" || f.Name == "effective" {
				set = append(set, "--"+f.Name)
			}
		})
		if len(set) > 0 {
			return fmt.Errorf("roster import: %s are for CSV files; a JSON import carries them in the file", strings.Join(set, ", "))
		}
		if imp, err = reporting.ParseImportJSON(data); err != nil {
			return fmt.Errorf("roster import: %s: %w", file, describe(err))
		}
	case ".csv", ".txt":
		imp = &reporting.Import{Partial: *partial}
		if imp.Effective, err = reporting.ParseDate(*effective); err != nil {
			return fmt.Errorf("roster import: --effective %q is not a date like 2025-09-01", *effective)
		}
		switch *kind {
		case "people":
			imp.People, err = reporting.ParsePeopleCSV(bytes.NewReader(data))
		case "units":
			imp.Units, err = reporting.ParseUnitsCSV(bytes.NewReader(data))
		default:
			return fmt.Errorf("roster import: --kind is people or units, not %q", *kind)
		}
		if err != nil {
			return fmt.Errorf("roster import: %s: %w", file, describe(err))
		}
	default:
		return fmt.Errorf("roster import: %s: want a .csv or .json file, not %q", file, ext)
	}
	if imp.Source == "" {
		imp.Source = filepath.Base(file)
	}
	st, err := openReporting(ctx, s, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Tenants.Tenant(ctx, *tenant); err != nil {
		return fmt.Errorf("roster import: tenant %q: %w", *tenant, err)
	}
	rec, err := st.Reporting.ImportRoster(ctx, *tenant, imp, time.Now())
	if err != nil {
		return fmt.Errorf("roster import: %s: %w", file, describe(err))
	}
	mode := "complete"
	if rec.Partial {
		mode = "partial"
	}
	fmt.Fprintf(s.stdout, "import %d of tenant %s (%s, effective %s): %d people, %d units listed; %d changes\n",
		rec.ID, *tenant, mode, rec.Effective, rec.People, rec.Units, len(rec.Changes))
	counts := map[string]int{}
	var keys []string
	for _, c := range rec.Changes {
		k := string(c.Kind) + " " + c.Op
		if counts[k] == 0 {
			keys = append(keys, k)
		}
		counts[k]++
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(s.stdout, "  %-16s %d\n", k, counts[k])
	}
	recordAudit(ctx, st, *tenant, "roster.import", strconv.FormatInt(rec.ID, 10),
		fmt.Sprintf("people %d, units %d, changes %d (file %s)", rec.People, rec.Units, len(rec.Changes), imp.Source))
	return nil
}

// describe adds the path of an errs.Error (e.g. "line 4, start") to its
// message.
func describe(err error) error {
	var e *errs.Error
	if errors.As(err, &e) && e.Path != "" {
		return fmt.Errorf("%s: %s", e.Path, e.Message)
	}
	return err
}

// recordAudit appends an audit entry for a change made at the command
// line; a failure is reported but does not undo the change.
func recordAudit(ctx context.Context, st *stores, tenant, action, target, detail string) {
	err := st.Audit.AppendAudit(ctx, &auth.AuditEntry{Time: time.Now().UTC(), Tenant: tenant, Actor: cliActor(),
		Action: action, Target: target, Detail: detail})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lrs: recording the audit entry:", err)
	}
}
