package web

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reporting"
)

// catalogPage is one kind of catalog entry on the administration pages:
// its list page, its form (modules and rules: create and edit), the POST
// saving one, and ending one (campaigns and exemptions).
type catalogPage struct {
	name, plural string
	list, form   handler
	save, end    handler
	del          func(ctx context.Context, tenant, id string) error
}

func catalogKinds(p *Pages) []catalogPage {
	st := p.cfg.Reporting
	return []catalogPage{
		{name: "module", plural: "modules", list: p.modulesPage, form: p.moduleForm, save: p.saveModule, del: st.DeleteModule},
		{name: "rule", plural: "rules", list: p.rulesPage, form: p.ruleForm, save: p.saveRule, del: st.DeleteRule},
		{name: "campaign", plural: "campaigns", list: p.campaignsPage, save: p.saveCampaign, end: p.endCampaign, del: st.DeleteCampaign},
		{name: "exemption", plural: "exemptions", list: p.exemptionsPage, save: p.saveExemption, end: p.endExemption, del: st.DeleteExemption},
	}
}

// deleteEntry serves POST /admin/{plural}/{id}/delete. A module that
// rules, campaigns or exemptions name is not deleted: its form says which.
func (p *Pages) deleteEntry(k catalogPage) handler {
	return func(r *request) error {
		id := r.c.Param("id")
		err := k.del(r.c.Request().Context(), r.acc.Tenant, id)
		if errs.Is(err, errs.Conflict) && k.name == "module" {
			cat, err := p.catalog(r)
			if err != nil {
				return err
			}
			if m := cat.Module(id); m != nil {
				return p.renderModule(r, http.StatusConflict, r.moduleFields(m, cat), r.T("module.inuse", strings.Join(cat.References(id), ", ")))
			}
		}
		if err != nil {
			return err
		}
		p.audit(r, k.name+".delete", id, "")
		return done(r, k.plural, "deleted", id)
	}
}

// option is a choice of a form: a check box or an option of a list.
type option struct {
	ID, Label string
	Checked   bool
}

// moduleOptions lists the catalog's modules as choices, those in chosen
// checked.
func (r *request) moduleOptions(cat *reporting.Catalog, chosen []string) []option {
	out := make([]option, len(cat.Modules))
	for i, m := range cat.Modules {
		out[i] = option{m.ID, r.Title(m.Title, m.ID), slices.Contains(chosen, m.ID)}
	}
	return out
}

// moduleTitles names modules in the page's language.
func (r *request) moduleTitles(cat *reporting.Catalog, ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = r.moduleTitle(cat, id)
	}
	return out
}

// Language tags of the two title fields of a form: the first found is
// shown, and saving replaces them all with the first.
var (
	nbTags = []string{"nb-NO", "nb", "no"}
	enTags = []string{"en", "en-GB", "en-US"}
)

func firstTitle(m map[string]string, tags []string) string {
	for _, t := range tags {
		if s := m[t]; s != "" {
			return s
		}
	}
	return ""
}

// formTitle returns the language map of a form's title fields, keeping
// the other languages of old.
func formTitle(f url.Values, old map[string]string) map[string]string {
	m := maps.Clone(old)
	if m == nil {
		m = map[string]string{}
	}
	for _, tags := range [][]string{nbTags, enTags} {
		for _, t := range tags {
			delete(m, t)
		}
	}
	if s := strings.TrimSpace(f.Get("title_nb")); s != "" {
		m[nbTags[0]] = s
	}
	if s := strings.TrimSpace(f.Get("title_en")); s != "" {
		m[enTags[0]] = s
	}
	return m
}

// formDate reads a date field; last means the field gives the last day of
// an interval, which ends the day after.
func formDate(f url.Values, name string, last bool) (reporting.Date, error) {
	d, err := reporting.ParseDate(f.Get(name))
	if err != nil {
		return 0, errs.Invalidf(name, "date", "%q is not a date", f.Get(name))
	}
	if last && d != 0 {
		d = d.AddDays(1)
	}
	return d, nil
}

// formPeriod reads a period field (ISO 8601: P30D).
func formPeriod(f url.Values, name string) (reporting.Period, error) {
	v := strings.ToUpper(strings.TrimSpace(f.Get(name)))
	p, err := reporting.ParsePeriod(v)
	if err != nil {
		return p, errs.Invalidf(name, "period", "%q is not a period: write P30D (30 days), P2W, P6M or P1Y", v)
	}
	return p, nil
}

// lastDayField returns the value of a "last day" date field for an
// interval ending before to.
func lastDayField(to reporting.Date) string {
	if to == 0 {
		return ""
	}
	return to.AddDays(-1).String()
}

// --- Modules ---

// moduleFields are the fields of a module's form, as shown.
type moduleFields struct {
	New                            bool
	ID, TitleNB, TitleEN           string
	Activities, Parts              string // one IRI a line
	Completion, MinScore, Validity string
	Completions                    []option
	Refs                           []string
}

var completionRules = []reporting.CompletionRule{reporting.Completed, reporting.Passed, reporting.CompletedAndPassed, reporting.CompletedOrPassed}

// completionOptions lists the completion rules, chosen checked.
func (r *request) completionOptions(chosen string) []option {
	out := make([]option, len(completionRules))
	for i, c := range completionRules {
		out[i] = option{string(c), r.T("completion." + string(c)), string(c) == chosen}
	}
	return out
}

// moduleFields returns the form of m.
func (r *request) moduleFields(m *reporting.Module, cat *reporting.Catalog) moduleFields {
	f := moduleFields{ID: m.ID, TitleNB: firstTitle(m.Title, nbTags), TitleEN: firstTitle(m.Title, enTags),
		Activities: strings.Join(m.Activities, "\n"), Parts: strings.Join(m.Parts, "\n"), Completion: string(m.Completion),
		Validity: m.Validity.String(), Refs: cat.References(m.ID)}
	if m.MinScore != nil {
		f.MinScore = r.Number(*m.MinScore)
	}
	f.Completions = r.completionOptions(f.Completion)
	return f
}

// renderModule shows a module's form with status and a message.
func (p *Pages) renderModule(r *request, status int, f moduleFields, message string) error {
	title := r.T("module.edit", f.ID)
	if f.New {
		title = r.T("module.new")
	}
	return p.render(r, status, "admin_module", title, struct {
		moduleFields
		flash
	}{f, flash{Message: message}})
}

type moduleRow struct {
	ID, Title, Completion, MinScore string
	Activities                      []string
	Validity                        reporting.Period
	Refs                            []string
}

// modulesPage serves GET /admin/modules: the module catalog.
func (p *Pages) modulesPage(r *request) error {
	cat, err := p.catalog(r)
	if err != nil {
		return err
	}
	rows := make([]moduleRow, len(cat.Modules))
	for i, m := range cat.Modules {
		rows[i] = moduleRow{ID: m.ID, Title: r.Title(m.Title, m.ID), Completion: r.T("completion." + string(m.Completion)),
			Activities: m.Activities, Validity: m.Validity, Refs: cat.References(m.ID)}
		if m.MinScore != nil {
			rows[i].MinScore = r.Number(*m.MinScore)
		}
	}
	return p.render(r, http.StatusOK, "admin_modules", r.T("modules.title"), struct {
		flash
		Rows []moduleRow
	}{flash{Notice: r.notice()}, rows})
}

// moduleForm serves GET /admin/modules/new and /admin/modules/{id}.
func (p *Pages) moduleForm(r *request) error {
	id := r.c.Param("id")
	if id == "" {
		return p.renderModule(r, http.StatusOK, moduleFields{New: true, Completion: string(reporting.Completed),
			Completions: r.completionOptions(string(reporting.Completed))}, "")
	}
	cat, err := p.catalog(r)
	if err != nil {
		return err
	}
	m := cat.Module(id)
	if m == nil {
		return errs.E(errs.NotFound, "no module %q", id)
	}
	return p.renderModule(r, http.StatusOK, r.moduleFields(m, cat), "")
}

// saveModule serves POST /admin/modules: creates (new=1) or replaces a
// module; a form with mistakes is shown again, saying what is wrong.
func (p *Pages) saveModule(r *request) error {
	f := r.c.Request().PostForm
	cat, err := p.catalog(r)
	if err != nil {
		return err
	}
	fields := moduleFields{New: f.Get("new") == "1", ID: strings.TrimSpace(f.Get("id")), TitleNB: f.Get("title_nb"), TitleEN: f.Get("title_en"),
		Activities: f.Get("activities"), Parts: f.Get("parts"), Completion: f.Get("completion"), MinScore: f.Get("minScore"),
		Validity: f.Get("validity"), Refs: cat.References(f.Get("id"))}
	fields.Completions = r.completionOptions(fields.Completion)
	old := cat.Module(fields.ID)
	if fields.New && old != nil {
		return p.renderModule(r, http.StatusConflict, fields, r.T("admin.exists", fields.ID))
	}
	m := &reporting.Module{ID: fields.ID, Activities: formLines(fields.Activities), Parts: formLines(fields.Parts),
		Completion: reporting.CompletionRule(fields.Completion)}
	var oldTitle map[string]string
	if old != nil {
		oldTitle = old.Title
	}
	m.Title = formTitle(f, oldTitle)
	if v := strings.TrimSpace(fields.MinScore); v != "" {
		s, perr := strconv.ParseFloat(strings.Replace(v, ",", ".", 1), 64)
		if perr != nil {
			err = errs.Invalidf("minScore", "score-range", "%q is not a number between 0 and 1 (e.g. 0,8)", v)
		}
		m.MinScore = &s
	}
	if err == nil {
		m.Validity, err = formPeriod(f, "validity")
	}
	if err == nil {
		err = m.Validate()
	}
	if err == nil {
		err = p.cfg.Reporting.PutModule(r.c.Request().Context(), r.acc.Tenant, m)
	}
	if msg := invalidMessage(err); msg != "" {
		return p.renderModule(r, http.StatusBadRequest, fields, r.T("admin.invalid", msg))
	}
	if err != nil {
		return err
	}
	p.audit(r, "module.put", m.ID, "")
	return done(r, "modules", "saved", m.ID)
}

// --- Rules ---

// ruleFields are the fields of a rule's form, as shown.
type ruleFields struct {
	New                                   bool
	ID, Role, DueWithin, DueFrom, Renewal string
	From, To                              string // the first and the last day in force
	Modules                               []option
}

func (r *request) ruleFields(x *reporting.Rule, cat *reporting.Catalog) ruleFields {
	return ruleFields{ID: x.ID, Role: x.Role, DueWithin: x.DueWithin.String(), DueFrom: string(x.DueFrom), Renewal: x.Renewal.String(),
		From: x.Effective.From.String(), To: lastDayField(x.Effective.To), Modules: r.moduleOptions(cat, x.Modules)}
}

func (p *Pages) renderRule(r *request, status int, f ruleFields, message string) error {
	title := r.T("rule.edit", f.ID)
	if f.New {
		title = r.T("rule.new")
	}
	return p.render(r, status, "admin_rule", title, struct {
		ruleFields
		flash
	}{f, flash{Message: message}})
}

type ruleRow struct {
	*reporting.Rule
	Modules []string // titles
	Last    reporting.Date
}

// rulesPage serves GET /admin/rules: the role rules.
func (p *Pages) rulesPage(r *request) error {
	cat, err := p.catalog(r)
	if err != nil {
		return err
	}
	rows := make([]ruleRow, len(cat.Rules))
	for i, x := range cat.Rules {
		rows[i] = ruleRow{Rule: x, Modules: r.moduleTitles(cat, x.Modules)}
		if x.Effective.To != 0 {
			rows[i].Last = x.Effective.To.AddDays(-1)
		}
	}
	return p.render(r, http.StatusOK, "admin_rules", r.T("rules.title"), struct {
		flash
		Rows []ruleRow
	}{flash{Notice: r.notice()}, rows})
}

// ruleForm serves GET /admin/rules/new and /admin/rules/{id}.
func (p *Pages) ruleForm(r *request) error {
	cat, err := p.catalog(r)
	if err != nil {
		return err
	}
	id := r.c.Param("id")
	if id == "" {
		return p.renderRule(r, http.StatusOK, ruleFields{New: true, Modules: r.moduleOptions(cat, nil)}, "")
	}
	i := slices.IndexFunc(cat.Rules, func(x *reporting.Rule) bool { return x.ID == id })
	if i < 0 {
		return errs.E(errs.NotFound, "no rule %q", id)
	}
	return p.renderRule(r, http.StatusOK, r.ruleFields(cat.Rules[i], cat), "")
}

// saveRule serves POST /admin/rules: creates (new=1) or replaces a rule.
func (p *Pages) saveRule(r *request) error {
	f := r.c.Request().PostForm
	cat, err := p.catalog(r)
	if err != nil {
		return err
	}
	x := &reporting.Rule{ID: strings.TrimSpace(f.Get("id")), Role: strings.TrimSpace(f.Get("role")), Modules: f["modules"],
		DueFrom: reporting.DueBase(f.Get("dueFrom"))}
	fields := ruleFields{New: f.Get("new") == "1", ID: x.ID, Role: x.Role, DueWithin: f.Get("dueWithin"), DueFrom: f.Get("dueFrom"),
		Renewal: f.Get("renewal"), From: f.Get("from"), To: f.Get("to"), Modules: r.moduleOptions(cat, x.Modules)}
	if fields.New && slices.ContainsFunc(cat.Rules, func(y *reporting.Rule) bool { return y.ID == x.ID }) {
		return p.renderRule(r, http.StatusConflict, fields, r.T("admin.exists", x.ID))
	}
	if x.DueWithin, err = formPeriod(f, "dueWithin"); err == nil {
		if x.Renewal, err = formPeriod(f, "renewal"); err == nil {
			if x.Effective.From, err = formDate(f, "from", false); err == nil {
				x.Effective.To, err = formDate(f, "to", true)
			}
		}
	}
	if err == nil {
		err = x.Validate()
	}
	if err == nil {
		err = p.cfg.Reporting.PutRule(r.c.Request().Context(), r.acc.Tenant, x)
	}
	if msg := invalidMessage(err); msg != "" {
		return p.renderRule(r, http.StatusBadRequest, fields, r.T("admin.invalid", msg))
	}
	if err != nil {
		return err
	}
	p.audit(r, "rule.put", x.ID, "")
	return done(r, "rules", "saved", x.ID)
}

// --- Campaigns ---

// campaignFields are the fields of the form for a new campaign.
type campaignFields struct {
	ID, TitleNB, TitleEN, Roles, Start, End string
	Modules, Units                          []option
}

type campaignRow struct {
	*reporting.Campaign
	Title          string
	Modules, Units []string
	State          string // planned, running, ended
}

// campaignsPage serves GET /admin/campaigns: the campaigns and a form for
// a new one.
func (p *Pages) campaignsPage(r *request) error {
	return p.renderCampaigns(r, http.StatusOK, campaignFields{}, "", "")
}

// renderCampaigns shows the campaigns page; message says why the form
// (or ending a campaign) was refused.
func (p *Pages) renderCampaigns(r *request, status int, f campaignFields, message string, chosenUnits string) error {
	cat, err := p.catalog(r)
	if err != nil {
		return err
	}
	today := reporting.DateOf(p.now(), p.cfg.Location)
	rows := make([]campaignRow, len(cat.Campaigns))
	for i, c := range cat.Campaigns {
		row := campaignRow{Campaign: c, Title: r.Title(c.Title, c.ID), Modules: r.moduleTitles(cat, c.Modules), State: "running"}
		for _, u := range c.Units {
			name := u
			if unit := r.acc.Units.Units[u]; unit != nil {
				name = unit.Name
			}
			row.Units = append(row.Units, name)
		}
		switch {
		case today < c.Start:
			row.State = "planned"
		case today > c.End:
			row.State = "ended"
		}
		rows[i] = row
	}
	if f.Modules == nil {
		f.Modules = r.moduleOptions(cat, nil)
	}
	if f.Units == nil {
		chosen := formWords(chosenUnits)
		ids := make([]string, 0, len(r.acc.Units.Units))
		for id := range r.acc.Units.Units {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, u := range unitList(r.acc.Units, ids) {
			f.Units = append(f.Units, option{u.ID, strings.Repeat("\u00a0\u00a0", u.Depth) + u.Name, slices.Contains(chosen, u.ID)})
		}
	}
	return p.render(r, status, "admin_campaigns", r.T("campaigns.title"), struct {
		flash
		Rows []campaignRow
		Form campaignFields
	}{flash{r.notice(), message}, rows, f})
}

// saveCampaign serves POST /admin/campaigns: a new campaign.
func (p *Pages) saveCampaign(r *request) error {
	f := r.c.Request().PostForm
	cat, err := p.catalog(r)
	if err != nil {
		return err
	}
	c := &reporting.Campaign{ID: strings.TrimSpace(f.Get("id")), Title: formTitle(f, nil), Units: f["units"], Roles: formWords(f.Get("roles")),
		Modules: f["modules"]}
	fields := campaignFields{ID: c.ID, TitleNB: f.Get("title_nb"), TitleEN: f.Get("title_en"), Roles: f.Get("roles"),
		Start: f.Get("start"), End: f.Get("end"), Modules: r.moduleOptions(cat, c.Modules)}
	units := strings.Join(c.Units, " ")
	if slices.ContainsFunc(cat.Campaigns, func(y *reporting.Campaign) bool { return y.ID == c.ID }) {
		return p.renderCampaigns(r, http.StatusConflict, fields, r.T("admin.exists", c.ID), units)
	}
	if c.Start, err = formDate(f, "start", false); err == nil {
		c.End, err = formDate(f, "end", false)
	}
	if err == nil {
		err = c.Validate()
	}
	if err == nil {
		err = p.cfg.Reporting.PutCampaign(r.c.Request().Context(), r.acc.Tenant, c)
	}
	if msg := invalidMessage(err); msg != "" {
		return p.renderCampaigns(r, http.StatusBadRequest, fields, r.T("admin.invalid", msg), units)
	}
	if err != nil {
		return err
	}
	p.audit(r, "campaign.put", c.ID, "")
	return done(r, "campaigns", "saved", c.ID)
}

// endCampaign serves POST /admin/campaigns/{id}/end: a running campaign
// ends today (its modules are due today).
func (p *Pages) endCampaign(r *request) error {
	cat, err := p.catalog(r)
	if err != nil {
		return err
	}
	id := r.c.Param("id")
	i := slices.IndexFunc(cat.Campaigns, func(c *reporting.Campaign) bool { return c.ID == id })
	if i < 0 {
		return errs.E(errs.NotFound, "no campaign %q", id)
	}
	c := *cat.Campaigns[i]
	today := reporting.DateOf(p.now(), p.cfg.Location)
	switch {
	case today < c.Start:
		return p.renderCampaigns(r, http.StatusConflict, campaignFields{}, r.T("campaign.notstarted", id), "")
	case today >= c.End:
		return p.renderCampaigns(r, http.StatusConflict, campaignFields{}, r.T("campaign.ended", id), "")
	}
	c.End = today
	if err := p.cfg.Reporting.PutCampaign(r.c.Request().Context(), r.acc.Tenant, &c); err != nil {
		return err
	}
	p.audit(r, "campaign.end", id, "end "+today.String())
	return done(r, "campaigns", "ended", id)
}

// --- Exemptions ---

// exemptionFields are the fields of the form for a new exemption.
type exemptionFields struct {
	ID, Person, From, To, Reason string
	Modules                      []option
}

type exemptionRow struct {
	*reporting.Exemption
	Name, Module string
	Last         reporting.Date // the last day exempt; 0: open
	Active       bool           // in force today or later
}

// exemptionsPage serves GET /admin/exemptions: the exemptions and a form
// for a new one.
func (p *Pages) exemptionsPage(r *request) error {
	return p.renderExemptions(r, http.StatusOK, exemptionFields{}, "")
}

func (p *Pages) renderExemptions(r *request, status int, f exemptionFields, message string) error {
	ctx := r.c.Request().Context()
	cat, err := p.catalog(r)
	if err != nil {
		return err
	}
	people := make([]string, 0, len(cat.Exemptions))
	for _, x := range cat.Exemptions {
		people = append(people, x.Person)
	}
	today := reporting.DateOf(p.now(), p.cfg.Location)
	var names *reporting.View
	if len(people) > 0 {
		rows, err := p.cfg.Reporting.RosterRows(ctx, r.acc.Tenant, reporting.RosterFilter{People: people})
		if err != nil {
			return err
		}
		names = reporting.NewView(rows, today)
	}
	var read privacy.Subjects
	for _, id := range people {
		read.Person(id)
	}
	defer p.logAccess(r, privacy.ReadPageExemptions, &read, len(cat.Exemptions))
	rows := make([]exemptionRow, len(cat.Exemptions))
	for i, x := range cat.Exemptions {
		rows[i] = exemptionRow{Exemption: x, Name: names.Name(x.Person), Module: r.moduleTitle(cat, x.Module),
			Active: x.Effective.To == 0 || x.Effective.To > today}
		if x.Effective.To != 0 {
			rows[i].Last = x.Effective.To.AddDays(-1)
		}
	}
	if f.Modules == nil {
		f.Modules = r.moduleOptions(cat, nil)
	}
	return p.render(r, status, "admin_exemptions", r.T("exemptions.title"), struct {
		flash
		Rows []exemptionRow
		Form exemptionFields
	}{flash{r.notice(), message}, rows, f})
}

// saveExemption serves POST /admin/exemptions: a new exemption of a
// person of the roster from a module. Without an id, one is made of the
// person, the module and the first day.
func (p *Pages) saveExemption(r *request) error {
	ctx := r.c.Request().Context()
	f := r.c.Request().PostForm
	cat, err := p.catalog(r)
	if err != nil {
		return err
	}
	x := &reporting.Exemption{ID: strings.TrimSpace(f.Get("id")), Person: strings.TrimSpace(f.Get("person")), Module: f.Get("module"),
		Reason: strings.TrimSpace(f.Get("reason"))}
	fields := exemptionFields{ID: x.ID, Person: x.Person, From: f.Get("from"), To: f.Get("to"), Reason: x.Reason,
		Modules: r.moduleOptions(cat, []string{x.Module})}
	exists := func(id string) bool {
		return slices.ContainsFunc(cat.Exemptions, func(y *reporting.Exemption) bool { return y.ID == id })
	}
	if x.Effective.From, err = formDate(f, "from", false); err == nil {
		x.Effective.To, err = formDate(f, "to", true)
	}
	if x.ID == "" {
		day := x.Effective.From
		if day == 0 {
			day = reporting.DateOf(p.now(), p.cfg.Location)
		}
		base := x.Person + "-" + x.Module + "-" + day.String()
		x.ID = base[:min(len(base), 120)]
		for n := 2; exists(x.ID); n++ {
			x.ID = base[:min(len(base), 120)] + "-" + strconv.Itoa(n)
		}
	} else if exists(x.ID) {
		return p.renderExemptions(r, http.StatusConflict, fields, r.T("admin.exists", x.ID))
	}
	if err == nil {
		err = x.Validate()
	}
	if err == nil {
		var rows []reporting.RosterRow
		if rows, err = p.cfg.Reporting.RosterRows(ctx, r.acc.Tenant, reporting.RosterFilter{People: []string{x.Person}}); err == nil &&
			!slices.ContainsFunc(rows, func(row reporting.RosterRow) bool { return row.Kind == reporting.RowPerson }) {
			err = errs.Invalidf("person", "unknown-person", "nobody in the roster has the employee id %q", x.Person)
		}
	}
	if err == nil {
		err = p.cfg.Reporting.PutExemption(ctx, r.acc.Tenant, x)
	}
	if msg := invalidMessage(err); msg != "" {
		return p.renderExemptions(r, http.StatusBadRequest, fields, r.T("admin.invalid", msg))
	}
	if err != nil {
		return err
	}
	p.audit(r, "exemption.put", x.ID, "")
	return done(r, "exemptions", "saved", x.ID)
}

// endExemption serves POST /admin/exemptions/{id}/end: the exemption
// no longer holds from today.
func (p *Pages) endExemption(r *request) error {
	cat, err := p.catalog(r)
	if err != nil {
		return err
	}
	id := r.c.Param("id")
	i := slices.IndexFunc(cat.Exemptions, func(x *reporting.Exemption) bool { return x.ID == id })
	if i < 0 {
		return errs.E(errs.NotFound, "no exemption %q", id)
	}
	x := *cat.Exemptions[i]
	today := reporting.DateOf(p.now(), p.cfg.Location)
	switch {
	case x.Effective.From != 0 && x.Effective.From >= today:
		return p.renderExemptions(r, http.StatusConflict, exemptionFields{}, r.T("exemption.notstarted", id))
	case x.Effective.To != 0 && x.Effective.To <= today:
		return p.renderExemptions(r, http.StatusConflict, exemptionFields{}, r.T("exemption.ended", id))
	}
	x.Effective.To = today
	if err := p.cfg.Reporting.PutExemption(r.c.Request().Context(), r.acc.Tenant, &x); err != nil {
		return err
	}
	p.audit(r, "exemption.end", id, "to "+today.String())
	return done(r, "exemptions", "ended", id)
}
