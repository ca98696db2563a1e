package web

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/accounts"
	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
)

// The administration pages are for hr (the compliance lead) alone: every
// page and every POST checks the role on the server (hrOnly), so
// learners, managers and auditors are refused (403) whatever links they
// follow. They change the same configuration the API changes, through the
// same domain functions and store methods (reporting.PreviewImport and
// ApplyImport, the catalog store's Put and Delete, each entry validated
// by its Validate), and record each change in the audit log with the
// signed-in account as the actor.
//
//	GET  /admin                                  the sections
//	GET  /admin/roster                           upload form and the latest imports
//	POST /admin/roster/preview                   a CSV, XLSX or JSON file → what it would change
//	POST /admin/roster/apply                     apply the previewed file (refused if the roster changed meanwhile)
//	GET  /admin/modules, /admin/modules/{id|new} the module catalog, a module's form
//	POST /admin/modules, /admin/modules/{id}/delete
//	GET  /admin/rules, /admin/rules/{id|new}     the role rules, a rule's form
//	POST /admin/rules, /admin/rules/{id}/delete
//	GET  /admin/campaigns                        campaigns, and a form for a new one
//	POST /admin/campaigns, /admin/campaigns/{id}/end, /admin/campaigns/{id}/delete
//	GET  /admin/exemptions                       exemptions, and a form for a new one
//	POST /admin/exemptions, /admin/exemptions/{id}/end, /admin/exemptions/{id}/delete
//	GET  /admin/erasure, POST /admin/erasure/preview, /admin/erasure    erasing a person (admin_erasure.go)
//	GET  /admin/reminders, POST /admin/reminders/run                   reminder e-mails: today's, and sending them (admin_reminders.go)

// adminPages are the templates of the administration pages; each is
// parsed with the layout and admin_common.html.
var adminPages = []string{"admin", "admin_roster", "admin_preview", "admin_modules", "admin_module", "admin_rules", "admin_rule",
	"admin_campaigns", "admin_exemptions", "admin_erasure", "admin_erasure_preview", "admin_reminders"}

// parseAdmin parses the templates of the administration pages.
func (p *Pages) parseAdmin() error {
	for _, name := range adminPages {
		t, err := template.New("layout.html").ParseFS(files, "templates/layout.html", "templates/admin_common.html", "templates/"+name+".html")
		if err != nil {
			return err
		}
		p.pages[name] = t
	}
	return nil
}

// registerAdmin mounts the administration pages on e.
func (p *Pages) registerAdmin(e *echo.Echo) {
	hr := func(h handler) echo.HandlerFunc { return p.private(p.hrOnly(h)) }
	e.GET("/admin", hr(p.adminIndex))
	e.GET("/admin/roster", hr(p.rosterPage))
	e.POST("/admin/roster/preview", p.privateForm(maxRosterUpload+64<<10, p.hrOnly(p.rosterPreview)))
	e.POST("/admin/roster/apply", p.privateForm(maxRosterApply, p.hrOnly(p.rosterApply)))
	if p.cfg.Erasure != nil {
		e.GET("/admin/erasure", hr(p.erasurePage))
		e.POST("/admin/erasure/preview", hr(p.erasurePreview))
		e.POST("/admin/erasure", hr(p.erasurePost))
	}
	if p.cfg.Reminders != nil {
		e.GET("/admin/reminders", hr(p.remindersPage))
		e.POST("/admin/reminders/run", hr(p.remindersRun))
	}
	for _, k := range catalogKinds(p) {
		e.GET("/admin/"+k.plural, hr(k.list))
		if k.form != nil {
			e.GET("/admin/"+k.plural+"/new", hr(k.form))
			e.GET("/admin/"+k.plural+"/:id", hr(k.form))
		}
		e.POST("/admin/"+k.plural, hr(k.save))
		e.POST("/admin/"+k.plural+"/:id/delete", hr(p.deleteEntry(k)))
		if k.end != nil {
			e.POST("/admin/"+k.plural+"/:id/end", hr(k.end))
		}
	}
}

// hrOnly refuses h to anyone not granted hr.
func (p *Pages) hrOnly(h handler) handler {
	return func(r *request) error {
		if !r.acc.Has(accounts.RoleHR) {
			return errs.E(errs.Forbidden, "the administration pages are for hr")
		}
		return h(r)
	}
}

// adminIndex serves GET /admin: the sections.
func (p *Pages) adminIndex(r *request) error {
	return p.render(r, http.StatusOK, "admin", r.T("admin.title"), struct{ Erasure, Reminders bool }{p.cfg.Erasure != nil, p.cfg.Reminders != nil})
}

// actor names the signed-in person in the audit and access logs: the
// account's name, or "person:ID" for an OpenID Connect sign-in no account
// names.
func (r *request) actor() string {
	if r.acc.Account != "" {
		return r.acc.Account
	}
	return "person:" + r.acc.Person
}

// audit records a change made on the pages in the audit log, when there
// is one. The change is made: a failure is logged.
func (p *Pages) audit(r *request, action, target, detail string) {
	if p.cfg.Audit == nil {
		return
	}
	e := &auth.AuditEntry{Time: p.now().UTC(), Tenant: r.acc.Tenant, Actor: r.actor(), Action: action, Target: target, Detail: detail}
	if err := p.cfg.Audit.AppendAudit(context.WithoutCancel(r.c.Request().Context()), e); err != nil {
		p.log.Error("recording an audit entry", "action", action, "target", target, "err", err)
	}
}

// flash is what a page says above its content: Notice after a change
// (role status), Message when something was refused (role alert).
type flash struct{ Notice, Message string }

// notice is the line a list page shows after a change: ?saved=ID,
// ?deleted=ID or ?ended=ID (the redirect after a POST).
func (r *request) notice() string {
	q := r.c.Request().URL.Query()
	for _, k := range []string{"saved", "deleted", "ended"} {
		if id := q.Get(k); id != "" {
			return r.T("admin."+k, id)
		}
	}
	return ""
}

// done answers a successful POST: back to the list, saying what was done.
func done(r *request, plural, what, id string) error {
	return r.c.Redirect(http.StatusSeeOther, "/admin/"+plural+"?"+url.Values{what: {id}}.Encode())
}

// invalidMessage returns the text of an errs.Invalid error for a form:
// the field and what is wrong; "" for other errors.
func invalidMessage(err error) string {
	var e *errs.Error
	if !errs.Is(err, errs.Invalid) || !errors.As(err, &e) {
		return ""
	}
	if e.Path != "" {
		return e.Path + ": " + e.Message
	}
	return e.Message
}

// formLines splits a text area into its lines, trimmed, blank ones left out.
func formLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// formWords splits a field into words separated by commas, spaces or
// line breaks.
func formWords(s string) []string {
	return strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == ';' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
}
