package web

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reporting"
	"github.com/xapi-lrs/lrs/reporting/export"
)

// home serves GET /: the overview for managers, hr and auditors, else the
// learner's own page.
func (p *Pages) home(r *request) error {
	switch a := r.acc; {
	case a.Learner() && !a.Manager() && !a.Tenantwide():
		return r.c.Redirect(http.StatusSeeOther, "/me")
	case a.Manager() || a.Tenantwide():
		return r.c.Redirect(http.StatusSeeOther, "/overview")
	}
	return p.render(r, http.StatusForbidden, "error", r.T("error.title"), errorPage{r.T("error.noaccount")})
}

// dates are the as-of and known-at days a page shows, from its query.
type dates struct {
	AsOf    reporting.Date // the day the page describes (today by default)
	KnownAt reporting.Date // 0: everything known now
	Today   reporting.Date
}

// options returns the report options of the dates: the end of each day.
func (d dates) options(loc *time.Location) reporting.Options {
	o := reporting.Options{AsOf: endOf(d.AsOf, loc), Location: loc}
	if d.KnownAt != 0 {
		o.KnownAt = endOf(d.KnownAt, loc)
	}
	return o
}

// Query returns the dates as a query string (for links keeping them).
func (d dates) Query() string {
	v := d.values()
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// values returns the dates as query parameters: those not today's.
func (d dates) values() url.Values {
	v := url.Values{}
	if d.AsOf != d.Today {
		v.Set("asOf", d.AsOf.String())
	}
	if d.KnownAt != 0 {
		v.Set("knownAt", d.KnownAt.String())
	}
	return v
}

// endOf returns the last instant of day d in loc, as the API reads asOf=D.
func endOf(d reporting.Date, loc *time.Location) time.Time {
	return d.AddDays(1).Start(loc).Add(-time.Nanosecond)
}

// readDates reads asOf and knownAt from the query. knownAt (what the LRS
// had recorded by a day) is for hr and auditors only.
func (p *Pages) readDates(r *request) (dates, error) {
	today := reporting.DateOf(p.now(), p.cfg.Location)
	d := dates{AsOf: today, Today: today}
	q := r.c.Request().URL.Query()
	for _, f := range []struct {
		name string
		dst  *reporting.Date
	}{{"asOf", &d.AsOf}, {"knownAt", &d.KnownAt}} {
		v := q.Get(f.name)
		if v == "" {
			continue
		}
		day, err := reporting.ParseDate(v)
		if err != nil {
			return d, errs.Invalidf(f.name, "date", "%s must be a date like 2026-10-31, got %q", f.name, v)
		}
		*f.dst = day
	}
	if d.KnownAt != 0 && !r.acc.Tenantwide() {
		return d, errs.E(errs.Forbidden, "knownAt is for hr and auditors")
	}
	return d, nil
}

// catalog returns the tenant's catalog.
func (p *Pages) catalog(r *request) (*reporting.Catalog, error) {
	return p.cfg.Reporting.Catalog(r.c.Request().Context(), r.acc.Tenant)
}

// moduleTitle names a module in the page's language.
func (r *request) moduleTitle(cat *reporting.Catalog, id string) string {
	if m := cat.Module(id); m != nil {
		return r.Title(m.Title, id)
	}
	return id
}

// meRow is one requirement on the learner's page.
type meRow struct {
	Module string
	Status reporting.Status
	By     reporting.Date // the due date, or the expiry of a completion to renew
	// How to start it: a module hosted here is started by a form posting
	// its ID to /me/start; else its own web address from the catalog.
	ID     string
	Hosted bool
	URL    string
}

// meDone is one completed module on the learner's page.
type meDone struct {
	Module    string
	Completed time.Time
	Expires   reporting.Date
}

type meData struct {
	Must []meRow
	Done []meDone
}

// me serves GET /me: what the signed-in person must take and by when, and
// what they have completed, from the status report and the transcript.
func (p *Pages) me(r *request) error {
	if !r.acc.Learner() {
		return p.render(r, http.StatusForbidden, "error", r.T("error.title"), errorPage{r.T("me.notperson")})
	}
	ctx := r.c.Request().Context()
	cat, err := p.catalog(r)
	if err != nil {
		return err
	}
	hosted := map[string]string{}
	if p.cfg.Launcher != nil {
		if hosted, err = p.cfg.Launcher.HostedModules(ctx, r.acc.Tenant, cat); err != nil {
			return err
		}
	}
	opts := reporting.Options{AsOf: p.now(), Location: p.cfg.Location}
	var d meData
	_, err = reporting.Report(ctx, p.cfg.Reporting, r.acc.Tenant, reporting.Query{Options: opts, People: []string{r.acc.Person}},
		func(row *reporting.Row) error {
			m := meRow{Module: r.moduleTitle(cat, row.Module), Status: row.Status, By: row.Due, ID: row.Module, Hosted: hosted[row.Module] != ""}
			switch row.Status {
			case reporting.StatusCompleted, reporting.StatusExempt:
				return nil
			case reporting.StatusExpiringSoon, reporting.StatusExpired:
				m.By = row.Expires
			}
			if mod := cat.Module(row.Module); mod != nil && !m.Hosted {
				m.URL = reminders.ModuleAddress(mod)
			}
			d.Must = append(d.Must, m)
			return nil
		})
	if err != nil {
		return err
	}
	t, err := reporting.PersonTranscript(ctx, p.cfg.Reporting, nil, r.acc.Tenant, r.acc.Person, opts)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	var read privacy.Subjects
	read.Person(r.acc.Person)
	defer p.logAccess(r, privacy.ReadPageMe, &read, len(d.Must)+len(d.Done))
	if t != nil {
		for _, m := range t.Modules {
			d.Done = append(d.Done, meDone{r.moduleTitle(cat, m.Module), m.Completed, m.Expires})
		}
	}
	return p.render(r, http.StatusOK, "me", r.T("me.title"), d)
}

// startTTL is how long the launch link of a Start button works: the
// browser follows it at once (the session it opens lasts
// launch.SessionTTL).
const startTTL = 5 * time.Minute

// start serves POST /me/start (module=ID): a personal launch of the
// module for the signed-in learner, when a package here delivers it, and
// on to the launch (the player). Any learner may take any module hosted
// here; the /me page offers those they must take.
func (p *Pages) start(r *request) error {
	if !r.acc.Learner() || p.cfg.Launcher == nil {
		return errs.E(errs.Forbidden, "nothing to start")
	}
	ctx := r.c.Request().Context()
	cat, err := p.catalog(r)
	if err != nil {
		return err
	}
	id := r.c.Request().PostForm.Get("module")
	m := cat.Module(id)
	if m == nil {
		return errs.E(errs.NotFound, "no module %q", id)
	}
	path, err := p.cfg.Launcher.LaunchModule(ctx, r.acc.Tenant, r.acc.Person, m, startTTL)
	if err != nil {
		return err
	}
	if path == "" {
		return errs.E(errs.NotFound, "module %q is not hosted here", id)
	}
	return r.c.Redirect(http.StatusSeeOther, path)
}

// unitLink is a unit in a list.
type unitLink struct {
	ID, Name string
	Depth    int // below the highest unit listed
}

// unitList lists units in tree order (each after its parent), with
// their depth.
func unitList(v *reporting.View, ids []string) []unitLink {
	set := map[string]bool{}
	for _, id := range ids {
		set[id] = true
	}
	var out []unitLink
	var walk func(id string, depth int)
	walk = func(id string, depth int) {
		out = append(out, unitLink{id, v.Units[id].Name, depth})
		for _, c := range v.Units[id].Children {
			if set[c] {
				walk(c, depth+1)
			}
		}
	}
	for _, id := range ids {
		if parent := v.Units[id].Parent; parent == "" || !set[parent] {
			walk(id, 0)
		}
	}
	return out
}

// units serves GET /units: the units the person may open.
func (p *Pages) units(r *request) error {
	if !r.acc.Tenantwide() && !r.acc.Manager() {
		return errs.E(errs.Forbidden, "units are for managers, hr and auditors")
	}
	return p.render(r, http.StatusOK, "units", r.T("units.title"), unitList(r.acc.Units, r.acc.VisibleUnits()))
}

// unitRequest checks access to the unit of the path and reads the dates.
func (p *Pages) unitRequest(r *request) (*reporting.Unit, dates, error) {
	id := r.c.Param("id")
	u := r.acc.Units.Units[id]
	switch {
	case u == nil && r.acc.Tenantwide():
		return nil, dates{}, errs.E(errs.NotFound, "no unit %q", id)
	case u == nil || !r.acc.SeesUnit(id):
		return nil, dates{}, errs.E(errs.Forbidden, "unit %q is not yours to see", id)
	}
	d, err := p.readDates(r)
	return u, d, err
}

// column is a column of the unit table: a module, or a module of a
// campaign.
type column struct {
	Module, Campaign string
	Title            string
}

// cell is one requirement in the unit table.
type cell struct {
	*reporting.Row
	Date reporting.Date // the completion day, else the due day
}

// personRow is a line of the unit table.
type personRow struct {
	ID, Name string
	Cells    []*cell // by column; nil: not required
}

// statusCount is how many rows have a status.
type statusCount struct {
	Status reporting.Status
	N      int
}

type unitData struct {
	Counts  []statusCount
	Unit    *reporting.Unit
	Dates   dates
	Tenant  bool // knownAt may be given
	Columns []column
	People  []personRow
	Summary *reporting.Summary
	Subs    []unitLink
	// The filters (unit_downloads.go), their choices, and the query of
	// the links that keep the dates and the filters.
	Filter   unitFilter
	Statuses []option
	Modules  []option
	Links    string
	Evidence *evidenceForm // nil: no evidence packs (no signing key)
}

// unit serves GET /units/{id}?asOf=&knownAt=&status=&module=: everyone
// in the unit's subtree × their required modules, with status, due and
// completion dates (reporting.Report, as the API's status report), and a
// summary of the rows shown; the filters keep the rows of a status (or
// all not done) and of a module.
func (p *Pages) unit(r *request) error {
	u, d, cat, f, err := p.unitFiltered(r)
	if err != nil {
		return err
	}
	data := unitData{Unit: u, Dates: d, Tenant: r.acc.Tenantwide(), Filter: f, Links: linkQuery(d, f),
		Statuses: r.statusOptions(f), Modules: r.moduleOptions(cat, []string{f.Module})}
	if p.cfg.Signer != nil && p.cfg.Statements != nil {
		data.Evidence = &evidenceForm{KnownAt: d.KnownAt}
		data.Evidence.From, data.Evidence.To = lastFullMonth(d.AsOf)
	}
	col := map[column]int{}
	var rows []*reporting.Row
	q := f.query(u, d, p.cfg.Location)
	data.Summary, err = reporting.Report(r.c.Request().Context(), p.cfg.Reporting, r.acc.Tenant, q, func(row *reporting.Row) error {
		k := column{Module: row.Module, Campaign: row.Campaign}
		if _, ok := col[k]; !ok {
			col[k] = -1
			data.Columns = append(data.Columns, k)
		}
		c := *row // the row is valid only during the call
		rows = append(rows, &c)
		return nil
	})
	if err != nil {
		return err
	}
	order := map[string]int{}
	for i, m := range cat.Modules {
		order[m.ID] = i
	}
	slices.SortFunc(data.Columns, func(a, b column) int {
		if c := order[a.Module] - order[b.Module]; c != 0 {
			return c
		}
		return strings.Compare(a.Campaign, b.Campaign)
	})
	for i := range data.Columns {
		c := &data.Columns[i]
		col[*c] = i
		c.Title = r.moduleTitle(cat, c.Module)
		if c.Campaign != "" {
			c.Title += " (" + r.T("col.campaign", c.Campaign) + ")"
		}
	}
	for _, row := range rows {
		if n := len(data.People); n == 0 || data.People[n-1].ID != row.Person {
			data.People = append(data.People, personRow{ID: row.Person, Name: row.Name, Cells: make([]*cell, len(data.Columns))})
		}
		c := &cell{Row: row, Date: row.Due}
		if !row.Completed.IsZero() {
			c.Date = r.Day(row.Completed)
		}
		data.People[len(data.People)-1].Cells[col[column{Module: row.Module, Campaign: row.Campaign}]] = c
	}
	var read privacy.Subjects
	for _, row := range rows {
		read.Person(row.Person)
	}
	defer p.logAccess(r, privacy.ReadPageUnit, &read, len(rows))
	for _, st := range reporting.Statuses {
		if n := data.Summary.Total.Status[st]; n > 0 {
			data.Counts = append(data.Counts, statusCount{st, n})
		}
	}
	var subs []string
	for _, id := range u.Children {
		if r.acc.SeesUnit(id) {
			subs = append(subs, id)
		}
	}
	data.Subs = unitList(r.acc.Units, subs)
	return p.render(r, http.StatusOK, "unit", r.T("unit.title", u.Name), data)
}

// unitCSV serves GET /units/{id}/status.csv?asOf=&knownAt=&status=&module=&delimiter=:
// the unit's rows (filtered as the page) in the CSV of the API's status
// report (the same columns and writer: export.StatusHeader,
// export.StatusRecord), with semicolons for Norwegian spreadsheets
// unless delimiter=comma.
func (p *Pages) unitCSV(r *request) error {
	u, d, _, f, err := p.unitFiltered(r)
	if err != nil {
		return err
	}
	comma := ';'
	switch v := r.c.QueryParam("delimiter"); v {
	case "", "semicolon":
	case "comma":
		comma = ','
	default:
		return errs.Invalidf("delimiter", "delimiter", "delimiter must be semicolon or comma, got %q", v)
	}
	var buf bytes.Buffer
	w := export.NewCSVRecords(&buf, comma)
	w.Write(export.StatusHeader)
	q := f.query(u, d, p.cfg.Location)
	var read privacy.Subjects
	n := 0
	_, err = reporting.Report(r.c.Request().Context(), p.cfg.Reporting, r.acc.Tenant, q, func(row *reporting.Row) error {
		read.Person(row.Person)
		n++
		return w.WriteStatus(nil, row, p.cfg.Location)
	})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return err
	}
	defer p.logAccess(r, privacy.ReadPageUnitCSV, &read, n)
	h := r.c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="`+downloadName("status", u, d.AsOf, d.KnownAt, "csv")+`"`)
	return r.c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

type personData struct {
	ID         string
	Name       string
	Units      []unitLink
	Dates      dates
	Tenant     bool
	Rows       []*reporting.Row
	Transcript *reporting.Transcript
	Titles     map[string]string // module id -> title
	Reminders  []*reminders.Sent // newest first; nil: no record kept
	Record     bool              // reminders are recorded
}

// personReminders is how many of a person's reminders the page lists.
const personReminders = 200

// person serves GET /people/{id}?asOf=&knownAt=: a person's requirements
// with status and evidence, their transcript with the id, SHA-256 and
// authority of every statement (reporting.PersonTranscript), and the
// reminder e-mails sent to them (the latest 200, whatever the dates).
func (p *Pages) person(r *request) error {
	id := r.c.Param("id")
	ctx := r.c.Request().Context()
	rows, err := p.cfg.Reporting.RosterRows(ctx, r.acc.Tenant, reporting.RosterFilter{People: []string{id}})
	if err != nil {
		return err
	}
	var units []string // the person's units on the day
	for _, row := range rows {
		if row.Kind == reporting.RowMember && row.Contains(r.acc.Units.Date) {
			units = append(units, row.Value)
		}
	}
	known := slices.ContainsFunc(rows, func(row reporting.RosterRow) bool { return row.Kind == reporting.RowPerson })
	switch {
	case !known && r.acc.Tenantwide():
		return errs.E(errs.NotFound, "no person %q", id)
	case !known || !r.acc.SeesPerson(id, units):
		return errs.E(errs.Forbidden, "person %q is not yours to see", id)
	}
	d, err := p.readDates(r)
	if err != nil {
		return err
	}
	cat, err := p.catalog(r)
	if err != nil {
		return err
	}
	data := personData{ID: id, Name: reporting.NewView(rows, d.AsOf).Name(id), Dates: d, Tenant: r.acc.Tenantwide(), Titles: map[string]string{}}
	for _, m := range cat.Modules {
		data.Titles[m.ID] = r.Title(m.Title, m.ID)
	}
	var visible []string
	for _, u := range units {
		if r.acc.Units.Units[u] != nil {
			visible = append(visible, u)
		}
	}
	for _, u := range visible {
		data.Units = append(data.Units, unitLink{ID: u, Name: r.acc.Units.Units[u].Name})
	}
	opts := d.options(p.cfg.Location)
	if _, err := reporting.Report(ctx, p.cfg.Reporting, r.acc.Tenant, reporting.Query{Options: opts, People: []string{id}},
		func(row *reporting.Row) error {
			c := *row // the row is valid only during the call
			data.Rows = append(data.Rows, &c)
			return nil
		}); err != nil {
		return err
	}
	if data.Transcript, err = reporting.PersonTranscript(ctx, p.cfg.Reporting, p.cfg.Statements, r.acc.Tenant, id, opts); err != nil {
		return err
	}
	if p.cfg.Reminders != nil {
		data.Record = true
		if data.Reminders, err = p.cfg.Reminders.RemindersTo(ctx, r.acc.Tenant, id, personReminders); err != nil {
			return err
		}
	}
	var read privacy.Subjects
	read.Person(id)
	defer p.logAccess(r, privacy.ReadPagePerson, &read, len(data.Rows)+len(data.Transcript.Entries)+len(data.Reminders))
	return p.render(r, http.StatusOK, "person", r.T("person.title", data.Name), data)
}
