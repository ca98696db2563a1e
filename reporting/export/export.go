// Package export writes compliance report rows (reporting.Row) as files HR
// opens in a spreadsheet: CSV (CSVRecords: UTF-8 with a byte order mark,
// RFC 4180), written by the HTTP service's status reports and reminders,
// and XLSX (Writer: a styled, filterable sheet of rows and a sheet of
// summary counts).
//
// Both stream: a file's memory does not grow with its rows, and its first
// bytes go out before its last row is computed. reporting.Report can emit
// straight into Writer.Row, and Close finishes the workbook with the
// report's summary:
//
//	w := export.NewXLSX(out, export.Options{Location: loc})
//	sum, err := reporting.Report(ctx, st, tenant, q, w.Row)
//	if err != nil {
//		w.Abort()
//		return err
//	}
//	return w.Close(sum)
package export

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/reporting"
)

// Options are the settings of a Writer.
type Options struct {
	// Location is the time zone of the organisation's calendar days, in
	// which the Completed column shows the day of a completion (use the
	// report's Options.Location). nil: UTC.
	Location *time.Location
	// UnitNames maps unit ids to names (the roster's, see reporting.View):
	// the "Unit names" column of the rows and the "Name" of each unit in
	// the summary. Units without a name show none.
	UnitNames map[string]string
}

// UnitNames returns the names of the tenant's units on the day of a report
// with options o (as the roster was known at o.KnownAt), for
// Options.UnitNames.
func UnitNames(ctx context.Context, st reporting.Store, tenant string, o reporting.Options) (map[string]string, error) {
	rows, err := st.RosterRows(ctx, tenant, reporting.RosterFilter{UnitsOnly: true, KnownAt: o.KnownAt})
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for id, u := range reporting.NewView(rows, reporting.DateOf(o.AsOf, o.Location)).Units {
		names[id] = u.Name
	}
	return names, nil
}

// column is one column of the rows sheet.
type column struct {
	title string
	width float64 // in characters
}

// columns are the columns of the rows sheet, in order.
var columns = []column{
	{"Employee ID", 13}, {"Name", 28}, {"E-mail", 32}, {"Units", 18}, {"Unit names", 28}, {"Roles", 16},
	{"Module", 14}, {"Campaign", 14}, {"Rules", 16}, {"Status", 14},
	{"Due", 12}, {"Completed", 12}, {"Expires", 12}, {"Score", 8}, {"Exemption", 28},
}

// Indexes of the columns that are not plain text.
const (
	colDue = 10 + iota
	colCompleted
	colExpires
	colScore
)

// listSep joins the units, roles and rules of a row in one cell (and the
// evidence in CSV), as the roster's CSV does.
const listSep = "|"

// texts returns the text cells of r (dates and score left empty).
func texts(r *reporting.Row, names map[string]string, out []string) []string {
	out = append(out[:0], r.Person, r.Name, r.Email, strings.Join(r.Units, listSep), unitNames(r.Units, names),
		strings.Join(r.Roles, listSep), r.Module, r.Campaign, strings.Join(r.Rules, listSep), string(r.Status),
		"", "", "", "", r.Exemption)
	return out
}

// unitNames joins the names of units ("" when names is nil).
func unitNames(units []string, names map[string]string) string {
	if names == nil || len(units) == 0 {
		return ""
	}
	if len(units) == 1 {
		return names[units[0]]
	}
	out := make([]string, len(units))
	for i, u := range units {
		out[i] = names[u]
	}
	return strings.Join(out, listSep)
}

// completedDay returns the day of r's completion in loc, or 0.
func completedDay(r *reporting.Row, loc *time.Location) reporting.Date {
	if r.Completed.IsZero() {
		return 0
	}
	return reporting.DateOf(r.Completed, loc)
}

// summaryLine is one line of a summary: the counts of a group of rows.
type summaryLine struct {
	group string // "total", "unit", "role", "module" or "campaign"
	key   string
	name  string // units only, from Options.UnitNames
	c     *reporting.Counts
}

// summaryLines lists the counts of s: the total, then each unit, role,
// module and campaign, by id.
func summaryLines(s *reporting.Summary, names map[string]string) []summaryLine {
	out := []summaryLine{{"total", "", "", &s.Total}}
	for _, g := range []struct {
		name string
		m    map[string]*reporting.Counts
	}{{"unit", s.Units}, {"role", s.Roles}, {"module", s.Modules}, {"campaign", s.Campaigns}} {
		keys := make([]string, 0, len(g.m))
		for k := range g.m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			l := summaryLine{group: g.name, key: k, c: g.m[k]}
			if g.name == "unit" {
				l.name = names[k]
			}
			out = append(out, l)
		}
	}
	return out
}

// summaryHeader is the header of a summary table: the group, its id and
// name, the number of rows, the compliant rows and their share, then each status.
func summaryHeader() []string {
	h := []string{"Group", "ID", "Name", "Rows", "Compliant", "Percent"}
	for _, s := range reporting.Statuses {
		h = append(h, string(s))
	}
	return h
}
