package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/lmsimport"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/reporting"
)

// The roster upload goes in two steps, with nothing kept on the server
// between them: the preview page carries the uploaded file itself (in a
// hidden field, base64url), its SHA-256 and the last import the preview
// was planned against (reporting.ImportPreview's Base). Applying decodes
// the file, checks its SHA-256, parses it with the same settings and
// applies it with reporting.ApplyImport, which refuses it (409, "upload it
// again") when another import has come since the preview. No second
// upload is needed, replicas need share nothing, and no copy of a roster
// is left behind when a preview is abandoned. The preview's CSRF token
// keeps other sites from posting a file of their own.

const (
	// maxRosterUpload bounds a roster file on the pages (some 100,000
	// people in CSV); larger ones go through the API in partial imports.
	maxRosterUpload = 20 << 20
	// maxRosterApply bounds the form applying a previewed file: the file
	// in base64 and the other fields.
	maxRosterApply = maxRosterUpload/3*4 + 64<<10
	// maxPreviewRows bounds the people or units a preview lists in each
	// group (the counts are always complete).
	maxPreviewRows = 500
)

// rosterOptions are the settings of an upload besides the file.
type rosterOptions struct {
	Kind      string // people or units (for CSV and XLSX files)
	Partial   bool
	Effective reporting.Date
	Source    string // the file's name
}

// readRosterOptions reads the settings of an upload from its form.
func readRosterOptions(f url.Values) (rosterOptions, error) {
	o := rosterOptions{Kind: f.Get("kind"), Partial: f.Get("partial") == "on", Source: f.Get("source")}
	if o.Kind != "people" && o.Kind != "units" {
		return o, errs.Invalidf("kind", "csv-kind", "choose whether the file lists people or units")
	}
	if len(o.Source) > 256 {
		o.Source = o.Source[:256]
	}
	var err error
	if o.Effective, err = reporting.ParseDate(f.Get("effective")); err != nil {
		return o, errs.Invalidf("effective", "date", "the effective date %q is not a date", f.Get("effective"))
	}
	return o, nil
}

// values returns the settings as form fields (for the preview's form).
func (o rosterOptions) values() url.Values {
	v := url.Values{"kind": {o.Kind}, "source": {o.Source}, "effective": {o.Effective.String()}}
	if o.Partial {
		v.Set("partial", "on")
	}
	return v
}

// parseRoster parses an uploaded roster file: JSON (reporting.Import; the
// form's settings fill in what it does not give), an XLSX workbook (its
// first sheet) or CSV, of people or of units as o.Kind says. Errors about
// the file are errs.Invalid.
func parseRoster(data []byte, o rosterOptions) (*reporting.Import, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errs.Invalidf("", "body-required", "the file is empty")
	}
	if trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n"); trimmed[0] == '{' {
		imp, err := reporting.ParseImportJSON(trimmed)
		if err != nil {
			return nil, err
		}
		imp.Partial = imp.Partial || o.Partial
		if imp.Effective == 0 {
			imp.Effective = o.Effective
		}
		if imp.Source == "" {
			imp.Source = o.Source
		}
		return imp, nil
	}
	t, err := lmsimport.ReadTable(data, "", 0)
	if err != nil {
		return nil, err
	}
	records := make([][]string, len(t.Rows))
	for i, row := range t.Rows {
		records[i] = row.Cells
	}
	date := reporting.ParseDate
	if t.ExcelDates {
		date = func(s string) (reporting.Date, error) { return excelDate(s, t.Date1904) }
	}
	imp := &reporting.Import{Partial: o.Partial, Effective: o.Effective, Source: o.Source}
	if o.Kind == "units" {
		imp.Units, err = reporting.ParseUnitsTable(records, date)
	} else {
		imp.People, err = reporting.ParsePeopleTable(records, date)
	}
	if err != nil {
		return nil, err
	}
	return imp, nil
}

// excelDate reads a date cell of a workbook: a serial day number (as
// Excel stores dates), or text as reporting.ParseDate reads it.
func excelDate(s string, date1904 bool) (reporting.Date, error) {
	s = strings.TrimSpace(s)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || strings.ContainsAny(s, "eE+-") {
		return reporting.ParseDate(s)
	}
	if math.IsNaN(f) || f < 1 || f > 2958465 { // 1900-01-01 to 9999-12-31
		return 0, errs.Invalidf("", "date", "%q is not a date", s)
	}
	t, err := excelize.ExcelDateToTime(f, date1904)
	if err != nil {
		return 0, errs.Invalidf("", "date", "%q is not a date", s)
	}
	return reporting.DateOf(t.Round(time.Second), time.UTC), nil
}

type rosterData struct {
	Message string // why the upload was refused
	Applied *reporting.ImportRecord
	Imports []*reporting.ImportRecord // newest first
	Today   reporting.Date
}

// rosterPage serves GET /admin/roster: the upload form and the latest
// imports (?applied=ID after an import).
func (p *Pages) rosterPage(r *request) error {
	return p.renderRoster(r, http.StatusOK, "")
}

// renderRoster shows the roster page with status and a message saying
// why an upload was refused.
func (p *Pages) renderRoster(r *request, status int, message string) error {
	ctx := r.c.Request().Context()
	recs, err := p.cfg.Reporting.Imports(ctx, r.acc.Tenant)
	if err != nil {
		return err
	}
	slices.Reverse(recs)
	d := rosterData{Message: message, Imports: recs[:min(len(recs), 20)], Today: reporting.DateOf(p.now(), p.cfg.Location)}
	if v := r.c.QueryParam("applied"); v != "" && message == "" {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			if d.Applied, err = p.cfg.Reporting.ImportRecord(ctx, r.acc.Tenant, id); err != nil && !errs.Is(err, errs.NotFound) {
				return err
			}
		}
	}
	return p.render(r, status, "admin_roster", r.T("roster.title"), d)
}

// previewData is the preview page's.
type previewData struct {
	*reporting.ImportPreview
	Options rosterOptions
	Fields  url.Values // the hidden fields of the form applying the file
	SHA256  string
	Size    int
	Limit   int
	// The changes of each group, described in the page's language; the
	// empty groups left out.
	Groups []diffGroup
}

// diffGroup is a list of the preview: people added, units changed, ...
type diffGroup struct {
	Key  string // people.added, units.changed, ...
	ID   string // of its section: people-added, ...
	Rows []diffRow
	More int // how many more than the rows shown
}

// diffRow is a person or unit in a preview table.
type diffRow struct {
	ID, Name string
	Lines    []string // what changes, one line each
}

// rosterPreview serves POST /admin/roster/preview: it parses the uploaded
// file and shows what applying it would change, with a form applying it.
func (p *Pages) rosterPreview(r *request) error {
	req := r.c.Request()
	o, err := readRosterOptions(req.PostForm)
	if err != nil {
		return p.renderRoster(r, http.StatusBadRequest, r.T("roster.bad", invalidMessage(err)))
	}
	var fh []*multipart.FileHeader
	if req.MultipartForm != nil {
		fh = req.MultipartForm.File["file"]
	}
	if len(fh) != 1 || fh[0].Size == 0 {
		return p.renderRoster(r, http.StatusBadRequest, r.T("roster.nofile"))
	}
	f, err := fh[0].Open()
	if err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxRosterUpload+1))
	f.Close()
	if err != nil {
		return err
	}
	if len(data) > maxRosterUpload {
		return p.renderRoster(r, http.StatusRequestEntityTooLarge, r.T("roster.toolarge", maxRosterUpload>>20))
	}
	o.Source = path.Base(strings.ReplaceAll(fh[0].Filename, `\`, "/"))
	if len(o.Source) > 256 {
		o.Source = o.Source[:256]
	}
	return p.preview(r, data, o, "")
}

// preview plans the file and shows the preview page (or the roster page
// saying what is wrong with the file); message is shown above it.
func (p *Pages) preview(r *request, data []byte, o rosterOptions, message string) error {
	imp, err := parseRoster(data, o)
	var pv *reporting.ImportPreview
	if err == nil {
		pv, err = reporting.PreviewImport(r.c.Request().Context(), p.cfg.Reporting, r.acc.Tenant, imp, p.now())
	}
	if errs.Is(err, errs.Invalid) || errs.Is(err, errs.TooLarge) {
		return p.renderRoster(r, http.StatusBadRequest, r.T("roster.bad", invalidMessage(err)))
	}
	if err != nil {
		return err
	}
	var read privacy.Subjects
	for _, list := range [][]*reporting.EntityDiff{pv.PeopleAdded, pv.PeopleChanged, pv.PeopleEnded} {
		for _, d := range list {
			read.Person(d.ID)
		}
	}
	defer p.logAccess(r, privacy.ReadPageRosterPreview, &read, read.Len())
	sum := sha256.Sum256(data)
	d := previewData{ImportPreview: pv, Options: o, Fields: o.values(), SHA256: hex.EncodeToString(sum[:]), Size: len(data), Limit: maxPreviewRows}
	d.Fields.Set("data", base64.RawURLEncoding.EncodeToString(data))
	d.Fields.Set("sha256", d.SHA256)
	d.Fields.Set("base", strconv.FormatInt(pv.Base, 10))
	// The preview's effective date is the one applied, even if the day
	// changes before the file is.
	d.Fields.Set("planned", pv.Effective.String())
	for _, g := range []struct {
		key   string
		diffs []*reporting.EntityDiff
	}{{"units.added", pv.UnitsAdded}, {"units.changed", pv.UnitsChanged}, {"units.ended", pv.UnitsEnded},
		{"people.added", pv.PeopleAdded}, {"people.changed", pv.PeopleChanged}, {"people.ended", pv.PeopleEnded}} {
		if len(g.diffs) > 0 {
			d.Groups = append(d.Groups, diffGroup{Key: g.key, ID: strings.ReplaceAll(g.key, ".", "-"), Rows: r.diffRows(g.diffs), More: max(0, len(g.diffs)-maxPreviewRows)})
		}
	}
	status := http.StatusOK
	if message != "" {
		status = http.StatusConflict
	}
	return p.render(r, status, "admin_preview", r.T("preview.title"), struct {
		previewData
		Message string
	}{d, message})
}

// rosterApply serves POST /admin/roster/apply: the file of a preview,
// applied if the roster is as the preview saw it. A stale preview is
// shown again, planned against the roster as it is now, saying so.
func (p *Pages) rosterApply(r *request) error {
	f := r.c.Request().PostForm
	data, err := base64.RawURLEncoding.DecodeString(f.Get("data"))
	sum := sha256.Sum256(data)
	if err != nil || len(data) == 0 || hex.EncodeToString(sum[:]) != f.Get("sha256") {
		return p.renderRoster(r, http.StatusBadRequest, r.T("roster.damaged"))
	}
	base, err := strconv.ParseInt(f.Get("base"), 10, 64)
	if err != nil || base < 0 {
		return p.renderRoster(r, http.StatusBadRequest, r.T("roster.damaged"))
	}
	o, err := readRosterOptions(f)
	if err != nil {
		return p.renderRoster(r, http.StatusBadRequest, r.T("roster.bad", invalidMessage(err)))
	}
	planned, err := reporting.ParseDate(f.Get("planned"))
	if err != nil {
		return p.renderRoster(r, http.StatusBadRequest, r.T("roster.damaged"))
	}
	imp, err := parseRoster(data, o)
	if err != nil {
		return p.renderRoster(r, http.StatusBadRequest, r.T("roster.bad", invalidMessage(err)))
	}
	if imp.Effective == 0 {
		imp.Effective = planned
	}
	rec, err := reporting.ApplyImport(r.c.Request().Context(), p.cfg.Reporting, r.acc.Tenant, imp, base, p.now())
	switch {
	case errs.Is(err, errs.Conflict):
		return p.preview(r, data, o, r.T("roster.stale"))
	case errs.Is(err, errs.Invalid):
		return p.renderRoster(r, http.StatusBadRequest, r.T("roster.bad", invalidMessage(err)))
	case err != nil:
		return err
	}
	p.audit(r, "roster.import", strconv.FormatInt(rec.ID, 10),
		"people "+strconv.Itoa(rec.People)+", units "+strconv.Itoa(rec.Units)+", changes "+strconv.Itoa(len(rec.Changes)))
	return r.c.Redirect(http.StatusSeeOther, "/admin/roster?applied="+strconv.FormatInt(rec.ID, 10))
}

// diffRows describes diffs in the page's language, at most
// maxPreviewRows of them.
func (r *request) diffRows(diffs []*reporting.EntityDiff) []diffRow {
	out := make([]diffRow, 0, min(len(diffs), maxPreviewRows))
	for _, d := range diffs[:min(len(diffs), maxPreviewRows)] {
		out = append(out, diffRow{ID: d.ID, Name: d.Name, Lines: r.describe(d)})
	}
	return out
}

// describe says what changes for a person or unit, one line per field or
// relation: "Navn: Kari → Kari N.", "Enheter: + skole, − helse".
func (r *request) describe(d *reporting.EntityDiff) []string {
	var out []string
	switch d.Op {
	case "added":
		if d.After != nil && d.After.From != 0 {
			out = append(out, r.T("diff.start")+": "+r.Date(d.After.From))
		}
		if d.After != nil && d.After.To != 0 {
			out = append(out, r.T("diff.end")+": "+r.Date(d.After.To.AddDays(-1)))
		}
	case "ended":
		if d.After != nil && d.After.To != 0 {
			out = append(out, r.T("diff.end")+": "+r.Date(d.After.To.AddDays(-1)))
		}
	case "removed":
		out = append(out, r.T("diff.removed"))
	case "changed":
		for _, f := range d.Fields {
			var before, after string
			switch f {
			case "name":
				before, after = d.Before.Name, d.After.Name
			case "email":
				before, after = d.Before.Email, d.After.Email
			case "start":
				before, after = r.Date(d.Before.From), r.Date(d.After.From)
			case "end":
				before, after = r.lastDay(d.Before.To), r.lastDay(d.After.To)
			}
			out = append(out, r.T("diff."+f)+": "+dash(before)+" → "+dash(after))
		}
	}
	for _, rel := range d.Relations {
		var parts []string
		show := func(v string) string {
			if rel.Kind == reporting.RowIdent {
				return strings.TrimPrefix(v, "mbox:mailto:") // an e-mail address, as HR gave it
			}
			return v
		}
		for _, v := range rel.Added {
			parts = append(parts, "+ "+show(v))
		}
		for _, v := range rel.Ended {
			parts = append(parts, "− "+show(v))
		}
		for _, v := range rel.Changed {
			parts = append(parts, show(v)+" ("+r.T("diff.dates")+")")
		}
		out = append(out, r.T("diff."+string(rel.Kind))+": "+strings.Join(parts, ", "))
	}
	return out
}

// lastDay writes the last day of an interval ending before to ("" when
// open).
func (r *request) lastDay(to reporting.Date) string {
	if to == 0 {
		return ""
	}
	return r.Date(to.AddDays(-1))
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
