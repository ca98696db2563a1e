package web

import (
	"net/http"
	"strings"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/privacy"
)

// The erasure pages let hr erase a person (GDPR art. 17) as the API and
// the command line do (privacy.Erase): a dry run first, which shows what
// the erasure would change, then the erasure itself, confirmed on that
// page. The records of earlier erasures are listed; they name the person
// by pseudonym only.
//
//	GET  /admin/erasure           the form and the erasure records
//	POST /admin/erasure/preview   a dry run: what erasing the person would change
//	POST /admin/erasure           the erasure

// erasureFields are the fields of the erasure form.
type erasureFields struct {
	Person string
	Mode   string
}

// countLine is one line of an erasure's counts.
type countLine struct {
	Label string
	N     int
}

// erasureLines lists the counts of e in the page's language.
func (r *request) erasureLines(c privacy.ErasureCounts) []countLine {
	return []countLine{
		{r.T("erasure.n.statements"), c.Statements}, {r.T("erasure.n.attachments"), c.Attachments},
		{r.T("erasure.n.referrers"), c.Referrers}, {r.T("erasure.n.documents"), c.Documents},
		{r.T("erasure.n.facts"), c.Facts}, {r.T("erasure.n.roster"), c.RosterRows + c.RosterChanges},
		{r.T("erasure.n.exemptions"), c.Exemptions}, {r.T("erasure.n.reminders"), c.Reminders},
		{r.T("erasure.n.access"), c.AccessLog + c.Audit}, {r.T("erasure.n.accounts"), c.Accounts},
	}
}

// erasureRecord is a row of the list of erasures.
type erasureRecord struct {
	*privacy.Erasure
	Total int
}

// erasurePage serves GET /admin/erasure.
func (p *Pages) erasurePage(r *request) error {
	notice := ""
	if ps := r.c.Request().URL.Query().Get("erased"); ps != "" {
		notice = r.T("erasure.done", ps)
	}
	return p.renderErasure(r, http.StatusOK, erasureFields{Mode: privacy.Pseudonymise}, flash{Notice: notice})
}

func (p *Pages) renderErasure(r *request, status int, f erasureFields, fl flash) error {
	es, err := p.cfg.Erasure.Privacy.Erasures(r.c.Request().Context(), r.acc.Tenant)
	if err != nil {
		return err
	}
	rows := make([]erasureRecord, 0, len(es))
	for i := len(es) - 1; i >= 0; i-- { // newest first
		e := es[i]
		if e.DryRun {
			continue
		}
		c := e.Counts
		rows = append(rows, erasureRecord{e, c.Statements + c.Documents + c.Facts + c.RosterRows + c.RosterChanges + c.Exemptions +
			c.Reminders + c.AccessLog + c.Accounts + c.Audit})
	}
	return p.render(r, status, "admin_erasure", r.T("erasure.title"), struct {
		flash
		Form erasureFields
		Rows []erasureRecord
	}{fl, f, rows})
}

// erasureForm reads the erasure form; a bad one is answered with the form
// again.
func (p *Pages) erasureForm(r *request) (privacy.ErasureRequest, erasureFields, bool, error) {
	f := r.c.Request().PostForm
	fields := erasureFields{Person: strings.TrimSpace(f.Get("person")), Mode: f.Get("mode")}
	req := privacy.ErasureRequest{Tenant: r.acc.Tenant, Person: fields.Person, Mode: fields.Mode, Actor: r.actor()}
	msg := ""
	switch {
	case fields.Person == "":
		msg = r.T("erasure.noperson")
	case fields.Mode != privacy.Pseudonymise && fields.Mode != privacy.Delete:
		fields.Mode = privacy.Pseudonymise
		msg = r.T("erasure.nomode")
	}
	if msg != "" {
		return req, fields, false, p.renderErasure(r, http.StatusBadRequest, fields, flash{Message: msg})
	}
	return req, fields, true, nil
}

// erase runs req; an unknown person or a bad request is answered with
// the form again (ok false).
func (p *Pages) erase(r *request, req privacy.ErasureRequest, fields erasureFields) (*privacy.Erasure, bool, error) {
	e, err := privacy.Erase(r.c.Request().Context(), *p.cfg.Erasure, p.cfg.Erasure.Privacy, req, p.now())
	switch {
	case errs.Is(err, errs.NotFound):
		return nil, false, p.renderErasure(r, http.StatusNotFound, fields, flash{Message: r.T("erasure.unknown", fields.Person)})
	case invalidMessage(err) != "":
		return nil, false, p.renderErasure(r, http.StatusBadRequest, fields, flash{Message: r.T("admin.invalid", invalidMessage(err))})
	case err != nil:
		return nil, false, err
	}
	return e, true, nil
}

// erasurePreview serves POST /admin/erasure/preview: the dry run, and a
// form to confirm the erasure.
func (p *Pages) erasurePreview(r *request) error {
	req, fields, ok, err := p.erasureForm(r)
	if !ok {
		return err
	}
	req.DryRun = true
	e, ok, err := p.erase(r, req, fields)
	if !ok {
		return err
	}
	return p.render(r, http.StatusOK, "admin_erasure_preview", r.T("erasure.preview.title"), struct {
		flash
		Form  erasureFields
		Lines []countLine
	}{flash{}, fields, r.erasureLines(e.Counts)})
}

// erasurePost serves POST /admin/erasure: the erasure, once confirmed.
func (p *Pages) erasurePost(r *request) error {
	req, fields, ok, err := p.erasureForm(r)
	if !ok {
		return err
	}
	if r.c.Request().PostForm.Get("confirm") != "yes" {
		return p.renderErasure(r, http.StatusBadRequest, fields, flash{Message: r.T("erasure.unconfirmed")})
	}
	e, ok, err := p.erase(r, req, fields)
	if !ok {
		return err
	}
	return r.c.Redirect(http.StatusSeeOther, "/admin/erasure?erased="+e.Pseudonym)
}
