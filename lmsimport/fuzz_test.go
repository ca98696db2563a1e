package lmsimport_test

import (
	"testing"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/lmsimport"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/statements"
)

// FuzzParse feeds arbitrary files (CSV, and XLSX when they start as a
// zip) to the row parser and plans their statements against a roster and
// catalog: nothing may panic, a refused file is a client error (never an
// internal one), every row is either planned or skipped, and every
// planned statement is a valid xAPI statement with its own id. The seed
// corpus is in testdata/fuzz/FuzzParse (KS Læring style CSV, an XLSX
// workbook, Windows-1252, bad cells).
func FuzzParse(f *testing.F) {
	rows, cat := roster(f)
	dir := lmsimport.NewDirectory(rows, cat, reporting.DateOf(now, oslo))
	f.Add([]byte(ksExport))
	f.Add([]byte("Brukernavn,Kurs,Status,Score,Date\nhelge,kins-2,Failed,\"0,4\",2025-02-01\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(what string, err error) bool {
			if err != nil && errs.KindOf(err) == errs.Internal {
				t.Fatalf("%s: an internal error for client input: %v", what, err)
			}
			return err == nil
		}
		tab, err := lmsimport.ReadTable(data, "", 1000)
		if !check("ReadTable", err) {
			return
		}
		p, err := lmsimport.Parse(tab, lmsimport.Options{Now: now})
		if !check("Parse", err) {
			return
		}
		plan := lmsimport.Build(p, dir, prov)
		if len(plan.Statements)+len(plan.Skipped) != p.Rows || p.Rows != len(p.Lines) {
			t.Fatalf("%d rows, %d lines, %d statements, %d skipped", p.Rows, len(p.Lines), len(plan.Statements), len(plan.Skipped))
		}
		seen := map[string]bool{}
		for _, st := range plan.Statements {
			if seen[st.ID] {
				t.Fatalf("row %d: id %s twice", st.Row, st.ID)
			}
			seen[st.ID] = true
			if _, err := statements.ParseStatement(st.JSON, statements.V103); err != nil {
				t.Fatalf("row %d: an invalid statement %s: %v", st.Row, st.JSON, err)
			}
		}
	})
}
