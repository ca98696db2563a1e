package lrs

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/labstack/echo/v5"
	"golang.org/x/text/language"

	"github.com/xapi-lrs/lrs/launch"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/scorm"
)

// The SCORM player: a page of the LRS (html/template, embedded with its
// script and style), in Norwegian Bokmål or English after the browser's
// Accept-Language, that installs the SCORM run-time API (scorm.Runtime) in
// its window and shows one SCO at a time in a frame, with a table of
// contents when the package has several launchables. Its
// Content-Security-Policy allows scripts, styles and frames of the LRS's
// own origin only and no inline script: the runtime's initial data rides
// in a <script type="application/json"> element, which is data, not
// script.

//go:embed player/*.html
var playerTemplates embed.FS

//go:embed player/*.js player/*.css
var playerAssets embed.FS

var pages = template.Must(template.ParseFS(playerTemplates, "player/*.html"))

// playerCSP is the Content-Security-Policy of the player's pages.
const playerCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; frame-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

// pageText is the text of the player's pages in one language.
type pageText struct {
	Skip, Back, Contents, Saved, Failed, NoScript string
	ErrorTitle, ErrorHelp                         string
	// Invalid, Expired and Gone say why a launch failed: a link that is
	// not valid, one that expired, a package no longer there.
	Invalid, Expired, Gone string
	Status                 map[launch.SCOStatus]string
}

var pageTexts = map[string]pageText{
	"nb": {
		Skip: "Gå til innholdet", Back: "Tilbake", Contents: "Innhold",
		Saved:      "Fremdriften din er lagret. Du kan velge en annen del eller lukke vinduet.",
		Failed:     "Fremdriften din kunne ikke lagres. Prøv igjen, eller åpne lenken på nytt.",
		NoScript:   "Kurset trenger JavaScript. Slå det på i nettleseren og last siden på nytt.",
		ErrorTitle: "Kurset kan ikke åpnes", ErrorHelp: "Be om en ny lenke der du fikk denne.",
		Invalid: "Lenken er ikke gyldig.", Expired: "Lenken er utløpt.", Gone: "Kurset finnes ikke lenger.",
		Status: map[launch.SCOStatus]string{launch.NotAttempted: "Ikke startet", launch.Incomplete: "Påbegynt",
			launch.Done: "Fullført", launch.Passed: "Bestått", launch.Failed: "Ikke bestått"},
	},
	"en": {
		Skip: "Skip to content", Back: "Back", Contents: "Contents",
		Saved:      "Your progress is saved. You may choose another part or close the window.",
		Failed:     "Your progress could not be saved. Try again, or open the link again.",
		NoScript:   "The course needs JavaScript. Turn it on in your browser and reload the page.",
		ErrorTitle: "The course cannot be opened", ErrorHelp: "Ask for a new link where you got this one.",
		Invalid: "The link is not valid.", Expired: "The link has expired.", Gone: "The course is no longer there.",
		Status: map[launch.SCOStatus]string{launch.NotAttempted: "Not started", launch.Incomplete: "In progress",
			launch.Done: "Completed", launch.Passed: "Passed", launch.Failed: "Failed"},
	},
}

// pageLang returns the language of the pages for request r: of the
// languages the browser asks for (Accept-Language, most wanted first),
// the first that is Norwegian (nb, no, nn: Bokmål) or English; English
// when none is.
func pageLang(r *http.Request) string {
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	for _, t := range tags {
		switch b, _ := t.Base(); b.String() {
		case "nb", "no", "nn":
			return "nb"
		case "en":
			return "en"
		}
	}
	return "en"
}

// tocItem is an entry of the table of contents.
type tocItem struct {
	Title, URL         string
	Status, StatusText string
	Current            bool
}

// playerPage is the data of player.html.
type playerPage struct {
	Lang       string
	T          pageText
	Title      string
	ReturnURL  string
	Current    *packages.Launchable
	Items      []tocItem
	Init       scorm.Init
	ContentURL string
}

// showPlayer answers the SCORM player for the launchable sco ("": the
// session's) of the session (sealed: its token) of package p.
func (s *Server) showPlayer(c *echo.Context, session *launch.Token, sealed string, p *packages.Package, sco string) error {
	pl, err := s.launch.Player(c.Request().Context(), session, p, sco)
	if err != nil {
		return err
	}
	lang := pageLang(c.Request())
	t := pageTexts[lang]
	base := "/launch/" + sealed
	pl.Init.CommitURL = base + "/commit?sco=" + url.QueryEscape(pl.Launchable.ID)
	page := playerPage{Lang: lang, T: t, Title: p.Title, ReturnURL: session.ReturnURL, Current: pl.Launchable,
		Init: pl.Init, ContentURL: sessionContent("", sealed, pl.Launchable)}
	for _, it := range pl.Items {
		page.Items = append(page.Items, tocItem{Title: it.Launchable.Title, URL: base + "?sco=" + url.QueryEscape(it.Launchable.ID),
			Status: string(it.Status), StatusText: t.Status[it.Status], Current: it.Current})
	}
	return s.renderPage(c, http.StatusOK, lang, "player.html", page)
}

// errorPage is the data of error.html.
type errorPage struct {
	Lang, Reason string
	T            pageText
	// Detail is the error's message, in English.
	Detail string
}

// showLaunchError answers a failed launch with a page for the learner
// saying why, in their language, with the error's message (in English)
// for whoever helps them, and the status the error's kind maps to.
func (s *Server) showLaunchError(c *echo.Context, err error) {
	status, detail := s.describe(c, err)
	lang := pageLang(c.Request())
	t := pageTexts[lang]
	reason := t.Invalid
	switch {
	case status == http.StatusNotFound:
		reason = t.Gone
	case strings.Contains(detail.Message, "expired"):
		reason = t.Expired
	case status >= 500:
		reason = ""
	}
	_ = s.renderPage(c, status, lang, "error.html", errorPage{Lang: lang, Reason: reason, T: t, Detail: detail.Message})
}

// renderPage writes the page name in language lang with data, and the
// player's security headers.
func (s *Server) renderPage(c *echo.Context, status int, lang, name string, data any) error {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", playerCSP)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Language", lang)
	writeBody(c, status, "text/html; charset=utf-8", buf.Bytes())
	return nil
}

// etagOf is a strong ETag of b.
func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// getStatic serves GET /static/{file}: the player's script and style, and
// the SCORM runtime (scorm.Runtime).
func (s *Server) getStatic(c *echo.Context) error {
	name := c.Param("file")
	var fsys fs.FS
	switch name {
	case "player.js", "player.css":
		sub, _ := fs.Sub(playerAssets, "player")
		fsys = sub
	case scorm.RuntimeScript:
		fsys = scorm.Runtime()
	default:
		return echo.ErrNotFound
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-cache") // revalidated: a new release changes them
	h.Set("ETag", etagOf(b))
	if c.Request().Header.Get("If-None-Match") == h.Get("ETag") {
		c.Response().WriteHeader(http.StatusNotModified)
		return nil
	}
	ct := "text/javascript; charset=utf-8"
	if path.Ext(name) == ".css" {
		ct = "text/css; charset=utf-8"
	}
	writeBody(c, http.StatusOK, ct, b)
	return nil
}
