package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reporting"
)

// The reminder pages let hr see and send the reminder e-mails of the day
// as the API does (POST /api/v1/reminders/run), through the same
// reminders.Service: the API's, with its personal links and its one run
// at a time per tenant (Pages.UseReminders).
//
//	GET  /admin/reminders?unit=&module=&lang=   what a run would send today (a dry run), and the latest reminders sent
//	POST /admin/reminders/run                   send them now, and what came of it
//
// A personal start link is a credential for the learner alone: the pages
// say whether a message carries one, never the link.

// ReminderRunner plans and sends reminder runs: the *reminders.Service
// the API runs (lrs.Server.Reminders).
type ReminderRunner interface {
	Run(ctx context.Context, r reminders.Run) (*reminders.Result, error)
	CanSend() bool
}

// UseReminders sets the service the reminder pages run (for a service
// built after the pages, as lrs.New is).
func (p *Pages) UseReminders(r ReminderRunner) { p.runner = r }

// recentReminders is how many of the latest reminders sent the page lists.
const recentReminders = 50

// reminderFilter are the choices of a run: the unit subtree and module it
// is limited to ("" for all) and the language of the messages.
type reminderFilter struct {
	Unit, Module, Lang string
}

// query is the filter as URL parameters (of the preview's address).
func (f reminderFilter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"unit": f.Unit, "module": f.Module, "lang": f.Lang} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// path is where the language switch leads: the preview of the filter
// (also from the page of a run, which a GET cannot repeat).
func (d remindersData) path() string { return d.Path() }

// Path is the address of the preview of the filter.
func (d remindersData) Path() string {
	if q := d.Filter.query().Encode(); q != "" {
		return "/admin/reminders?" + q
	}
	return "/admin/reminders"
}

// reminderMessage is a row of the table of messages.
type reminderMessage struct {
	*reminders.Planned
	Learner  bool // to the learner (else a manager's digest)
	Personal bool // the message carries a personal start link
}

// remindersData is the data of the reminder page.
type remindersData struct {
	flash
	Filter  reminderFilter
	Units   []option
	Modules []option
	Langs   []option
	CanSend bool
	// Result is the dry run, or the run when Ran; nil when none was made.
	Result   *reminders.Result
	Ran      bool
	Messages []reminderMessage
	Titles   map[string]string // module titles in the page's language
	Names    map[string]string // names of the people in the record
	Recent   []*reminders.Sent
	Max      int // the cap of a run's messages
}

// readReminderFilter reads the filter from the query (GET) or the form
// (POST); for an unknown unit, module or language it returns what is
// wrong.
func (p *Pages) readReminderFilter(r *request, cat *reporting.Catalog) (reminderFilter, string) {
	get := r.c.QueryParam
	if r.c.Request().Method == http.MethodPost {
		get = r.c.Request().PostForm.Get
	}
	f := reminderFilter{Unit: strings.TrimSpace(get("unit")), Module: strings.TrimSpace(get("module")), Lang: get("lang")}
	if f.Lang == "" {
		f.Lang = reminders.Languages[0]
	}
	switch {
	case f.Unit != "" && r.acc.Units.Units[f.Unit] == nil:
		return f, r.T("reminders.badunit", f.Unit)
	case f.Module != "" && cat.Module(f.Module) == nil:
		return f, r.T("reminders.badmodule", f.Module)
	case !slices.Contains(reminders.Languages, f.Lang):
		return f, r.T("reminders.badlang", f.Lang)
	}
	return f, ""
}

// run runs the reminders of f (a dry run unless send).
func (p *Pages) run(r *request, f reminderFilter, send bool) (*reminders.Result, error) {
	q := reporting.Query{Options: reporting.Options{Location: p.cfg.Location}}
	if f.Unit != "" {
		q.Units = []string{f.Unit}
	}
	if f.Module != "" {
		q.Modules = []string{f.Module}
	}
	base := p.cfg.BaseURL
	if base == "" {
		base = r.c.Scheme() + "://" + r.c.Request().Host
	}
	return p.runner.Run(r.c.Request().Context(), reminders.Run{Tenant: r.acc.Tenant, Query: q, Lang: f.Lang, DryRun: !send, BaseURL: base})
}

// reminderRequest reads what both reminder pages need: the catalog and
// the filter. A bad filter is answered with the page and a message (ok
// false, err what the handler returns).
func (p *Pages) reminderRequest(r *request) (cat *reporting.Catalog, f reminderFilter, ok bool, err error) {
	if p.runner == nil {
		return nil, f, false, errs.E(errs.Unavailable, "reminders are off")
	}
	if cat, err = p.catalog(r); err != nil {
		return nil, f, false, err
	}
	f, bad := p.readReminderFilter(r, cat)
	if bad != "" {
		return nil, f, false, p.renderReminders(r, http.StatusBadRequest, cat, f, nil, false, flash{Message: bad})
	}
	return cat, f, true, nil
}

// remindersPage serves GET /admin/reminders: the dry run of the filter's
// reminders.
func (p *Pages) remindersPage(r *request) error {
	cat, f, ok, err := p.reminderRequest(r)
	if !ok {
		return err
	}
	res, err := p.run(r, f, false)
	if err != nil {
		return err
	}
	return p.renderReminders(r, http.StatusOK, cat, f, res, false, flash{})
}

// remindersRun serves POST /admin/reminders/run: the run, and what came
// of it. While another run of the tenant is sending, 409 and the page
// without a plan; without an SMTP server, 503.
func (p *Pages) remindersRun(r *request) error {
	cat, f, ok, err := p.reminderRequest(r)
	if !ok {
		return err
	}
	res, err := p.run(r, f, true)
	if res != nil {
		p.audit(r, "reminders.run", res.Day.String(), fmt.Sprintf("sent %d, failed %d, skipped %d, deferred %d, no address %d; unit %q, module %q, lang %s",
			res.Sent, res.Failed, res.Skipped, res.Deferred, len(res.NoAddress), f.Unit, f.Module, f.Lang))
	}
	switch {
	case errs.Is(err, errs.Conflict):
		return p.renderReminders(r, http.StatusConflict, cat, f, nil, false, flash{Message: r.T("reminders.busy")})
	case errs.Is(err, errs.Unavailable):
		return p.renderReminders(r, http.StatusServiceUnavailable, cat, f, nil, false, flash{Message: r.T("reminders.nosmtp")})
	case err != nil && res == nil:
		return err
	case err != nil:
		// Sent, but the record failed: the page says what was sent; the
		// log has the error.
		p.log.Error("reminder run from the pages", "tenant", r.acc.Tenant, "sent", res.Sent, "failed", res.Failed, "err", err)
		return p.renderReminders(r, http.StatusInternalServerError, cat, f, res, true, flash{Message: r.T("reminders.unrecorded")})
	}
	fl := flash{Notice: r.T("reminders.done", res.Sent)}
	if res.Failed > 0 || res.Skipped > 0 {
		fl = flash{Message: r.T("reminders.donefailed", res.Sent, res.Failed, res.Skipped)}
	}
	return p.renderReminders(r, http.StatusOK, cat, f, res, true, fl)
}

// renderReminders renders the reminder page: the filter, res (a dry run,
// or the run when ran; nil for none), the send form and the latest
// reminders sent. The people it shows are recorded in the access log.
func (p *Pages) renderReminders(r *request, status int, cat *reporting.Catalog, f reminderFilter, res *reminders.Result, ran bool, fl flash) error {
	ctx := r.c.Request().Context()
	d := remindersData{flash: fl, Filter: f, CanSend: p.runner != nil && p.runner.CanSend(), Result: res, Ran: ran,
		Titles: map[string]string{}, Names: map[string]string{}, Max: reminders.DefaultMax}
	d.Units = append(d.Units, option{"", r.T("reminders.all.units"), f.Unit == ""})
	for _, u := range unitList(r.acc.Units, r.acc.VisibleUnits()) {
		d.Units = append(d.Units, option{u.ID, strings.Repeat("\u00a0\u00a0", u.Depth) + u.Name, u.ID == f.Unit})
	}
	d.Modules = append([]option{{"", r.T("reminders.all.modules"), f.Module == ""}}, r.moduleOptions(cat, []string{f.Module})...)
	for _, l := range reminders.Languages {
		d.Langs = append(d.Langs, option{l, r.T("reminders.lang." + l), l == f.Lang})
	}
	for _, m := range cat.Modules {
		d.Titles[m.ID] = r.Title(m.Title, m.ID)
	}
	var read privacy.Subjects
	if res != nil {
		for _, m := range res.Messages {
			msg := reminderMessage{Planned: m, Learner: strings.HasPrefix(m.Template, reminders.TemplateLearner+"/")}
			read.Person(m.Person)
			for _, it := range m.Items {
				read.Person(it.Person)
				msg.Personal = msg.Personal || it.Personal
			}
			d.Messages = append(d.Messages, msg)
		}
		for _, id := range res.NoAddress {
			read.Person(id)
		}
	}
	var err error
	if d.Recent, err = p.cfg.Reminders.RecentReminders(ctx, r.acc.Tenant, recentReminders); err != nil {
		return err
	}
	var ids []string
	for _, s := range d.Recent {
		read.Person(s.Person)
		ids = append(ids, s.Person)
	}
	if len(ids) > 0 {
		rows, err := p.cfg.Reporting.RosterRows(ctx, r.acc.Tenant, reporting.RosterFilter{People: ids})
		if err != nil {
			return err
		}
		v := reporting.NewView(rows, r.acc.Units.Date)
		for _, id := range ids {
			d.Names[id] = v.Name(id)
		}
	}
	defer p.logAccess(r, privacy.ReadPageReminders, &read, len(d.Messages)+len(d.Recent))
	return p.render(r, status, "admin_reminders", r.T("reminders.title"), d)
}
