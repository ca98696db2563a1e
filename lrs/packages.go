package lrs

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/reporting"
)

// E-learning packages over HTTP, for the caller's tenant only, when
// Config.Packages is set (scope content/write for all of it):
//
//	POST   /api/v1/packages[?kind=&module=]  import a zip (201); a new version of a package
//	                                         imported before keeps its activity IRIs
//	GET    /api/v1/packages                  {"packages": [latest version of each]}
//	GET    /api/v1/packages/{id}             the latest version, with "versions"
//	DELETE /api/v1/packages/{id}             every version and its files (204); statements stay
//	POST   /api/v1/packages/{id}/links       a signed, expiring content link (packages.ContentToken)
//	GET    /content/{id}/{version}/{path}    a file, with a credential holding content/write
//	GET    /content/t/{token}/{path}         a file, with a content link's token instead
//
// The package domain (package packages) reads the zip, its manifest and
// the versions before; this file decodes requests and encodes answers.

// packageState is what the package API keeps beside the Server.
type packageState struct {
	store    packages.Store
	importer *packages.Importer
	limits   packages.Limits
	keys     [][]byte // content keys: the first signs, all verify
}

// Scopes of the package API and the content it serves.
var contentScopes = []string{auth.ScopeContentWrite}

// contentTokenRoute serves files to a content link's holder; the request
// log does not show its token (requestlog.go).
const contentTokenRoute = "/content/t/:token/*"

// Content links last DefaultContentLinkTTL unless asked otherwise, at most
// MaxContentLinkTTL.
const (
	DefaultContentLinkTTL = time.Hour
	MaxContentLinkTTL     = 24 * time.Hour
)

// zipMediaTypes are the media types a zip is sent with: browsers on
// Windows name .zip files application/x-zip-compressed.
var zipMediaTypes = []string{"application/zip", "application/x-zip-compressed", "application/octet-stream"}

// packageRoutes registers the package API and the content routes on e;
// nil when Config.Packages is nil.
func (s *Server) packageRoutes(e *echo.Echo) *packageState {
	if s.cfg.Packages == nil {
		return nil
	}
	ps := &packageState{store: s.cfg.Packages, limits: s.cfg.PackageLimits.WithDefaults()}
	ps.importer = &packages.Importer{Store: ps.store, Limits: ps.limits, Now: s.now}
	key := s.cfg.ContentKey
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	ps.keys = [][]byte{key}

	guard := []echo.MiddlewareFunc{s.authenticate, authorize(contentScopes...)}
	g := e.Group("/api/v1/packages")
	g.POST("", s.postPackage, guard...)
	g.GET("", s.listPackages, guard...)
	g.GET("/:id", s.getPackage, guard...)
	g.DELETE("/:id", s.deletePackage, guard...)
	g.POST("/:id/links", s.postContentLink, guard...)

	getHead := []string{http.MethodGet, http.MethodHead}
	e.Match(getHead, contentTokenRoute, s.getContentByToken)
	e.Match(getHead, "/content/:id/:version/*", s.getContent, guard...)
	s.launchRoutes(e) // launch.go
	return ps
}

// packageJSON is a package version as the API shows it.
type packageJSON struct {
	*packages.Package
	// Content is the path under which its files are served to a
	// credential holding content/write; a launchable's href is relative to
	// it.
	Content  string         `json:"content"`
	Versions []versionJSON  `json:"versions,omitempty"`
	Previous int            `json:"previousVersion,omitempty"` // on import: the version it follows
	Catalog  *catalogResult `json:"catalog,omitempty"`
}

type versionJSON struct {
	Version    int       `json:"version"`
	Title      string    `json:"title"`
	Files      int       `json:"files"`
	Size       int64     `json:"size"`
	Imported   time.Time `json:"imported"`
	ImportedBy string    `json:"importedBy"`
}

// catalogResult is the catalog entry an import suggests, or made.
type catalogResult struct {
	// Module is the suggested module (PUT it to /api/v1/modules/{id}), or,
	// when Linked, the module as stored.
	Module *reporting.Module `json:"module"`
	Linked bool              `json:"linked"`
	// Error says why linking failed; the import itself stands.
	Error string `json:"error,omitempty"`
}

func toPackageJSON(p *packages.Package) *packageJSON {
	if p.Launchables == nil {
		p.Launchables = []packages.Launchable{}
	}
	return &packageJSON{Package: p, Content: "/content/" + p.ID + "/" + strconv.Itoa(p.Version) + "/"}
}

// postPackage serves POST /api/v1/packages: the body is the zip
// (application/zip, or multipart/form-data with the zip in a file part);
// kind=scorm12|scorm2004|cmi5|tincan picks the manifest of a zip holding
// several; module=ID links the package to that catalog module (creating it
// from the suggestion when missing), which needs roster/write too and
// compliance reporting on. The answer (201) is the new version with the
// catalog suggestion.
func (s *Server) postPackage(c *echo.Context) error {
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	if err := allowOnly(q, "kind", "module"); err != nil {
		return err
	}
	kind := packages.Kind(q.Get("kind"))
	if kind != "" && !kind.Valid() {
		return errs.Invalidf("kind", "package-kind", "parameter kind must be scorm12, scorm2004, cmi5 or tincan, got %q", kind)
	}
	cred := state(c).cred
	module := q.Get("module")
	if module != "" {
		if s.rp == nil {
			return errs.Invalidf("module", "reporting-off", "compliance reporting is off on this server: there is no catalog to link the package to")
		}
		if !cred.Has(auth.ScopeRosterWrite) {
			return errs.E(errs.Forbidden, "linking a package to a catalog module (parameter module) needs the scope %s too", auth.ScopeRosterWrite)
		}
		stub := reporting.Module{ID: module, Title: map[string]string{"und": "x"}, Activities: []string{"https://x.invalid/"},
			Completion: reporting.Completed}
		if err := stub.Validate(); err != nil {
			var e *errs.Error
			if errors.As(err, &e) {
				e.Path = "module"
			}
			return err
		}
	}
	f, size, err := s.spoolPackage(c)
	if err != nil {
		return err
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	ctx := c.Request().Context()
	tenant := tenantOf(cred)
	res, err := s.pk.importer.Import(ctx, packages.ImportRequest{Tenant: tenant, Base: s.publicBase(c), By: cred.Key, Kind: kind}, f, size)
	if err != nil {
		return err
	}
	p := res.Package
	s.audit(c, "package.import", p.ID, fmt.Sprintf("%s %q version %d", p.Kind, p.Identifier, p.Version))
	out := toPackageJSON(p)
	if res.Previous != nil {
		out.Previous = res.Previous.Version
	}
	out.Catalog = &catalogResult{Module: packages.SuggestModule(p)}
	if module != "" {
		out.Catalog = s.linkModule(c, tenant, module, p, res.Previous)
	}
	c.Response().Header().Set("Location", "/api/v1/packages/"+p.ID)
	return writeJSON(c, http.StatusCreated, out)
}

// linkModule links p to the catalog module id, creating it from the
// suggestion when missing. The import stands whatever happens here: a
// failure is reported in the answer, not as the request's error.
func (s *Server) linkModule(c *echo.Context, tenant, id string, p, prev *packages.Package) *catalogResult {
	ctx := c.Request().Context()
	fail := func(err error) *catalogResult {
		msg := "the module could not be stored; PUT it to /api/v1/modules/" + id + " yourself"
		var e *errs.Error
		if errors.As(err, &e) && e.Kind != errs.Internal {
			msg = e.Message
		} else {
			s.log.Error("linking a package to a catalog module", "package", p.ID, "module", id, "err", err)
		}
		return &catalogResult{Module: packages.SuggestModule(p), Error: msg}
	}
	cat, err := s.rp.store.Catalog(ctx, tenant)
	if err != nil {
		return fail(err)
	}
	var m *reporting.Module
	if old := cat.Module(id); old != nil {
		cp := *old
		cp.Activities = append([]string(nil), old.Activities...)
		cp.Parts = append([]string(nil), old.Parts...)
		m = &cp
		packages.LinkModule(m, p, prev)
	} else {
		m = packages.SuggestModule(p)
		m.ID = id
	}
	if err := m.Validate(); err != nil {
		return fail(err)
	}
	if err := s.rp.store.PutModule(ctx, tenant, m); err != nil {
		return fail(err)
	}
	s.audit(c, "module.put", id, "linked to package "+p.ID+" version "+strconv.Itoa(p.Version))
	return &catalogResult{Module: m, Linked: true}
}

// spoolPackage copies the request's zip into a temporary file (a zip is
// read from its end, and may be larger than memory should hold) and
// returns it with its size. The caller closes and removes it.
func (s *Server) spoolPackage(c *echo.Context) (*os.File, int64, error) {
	r := c.Request()
	limit := s.pk.limits.MaxZipBytes
	tooLarge := fmt.Sprintf("a package may be at most %d bytes", limit)
	ct := r.Header.Get("Content-Type")
	mt, params, perr := mime.ParseMediaType(ct)
	switch {
	case ct == "":
		return nil, 0, errs.E(errs.UnsupportedMedia, "give the Content-Type: application/zip for the zip as the body, or multipart/form-data with the zip in a file part")
	case perr != nil:
		return nil, 0, errs.Invalidf("", "content-type", "malformed Content-Type %q: %v", ct, perr)
	case mt != "multipart/form-data" && !slices.Contains(zipMediaTypes, mt):
		return nil, 0, errs.E(errs.UnsupportedMedia, "Content-Type %s is not accepted: send application/zip, or multipart/form-data with the zip in a file part", mt)
	}
	if r.ContentLength > limit {
		return nil, 0, &errs.Error{Kind: errs.TooLarge, Rule: "package-size", Message: tooLarge}
	}
	rd := newBodyReader(c, limit)
	var body io.Reader = rd
	if mt == "multipart/form-data" {
		mr := multipart.NewReader(rd, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err != nil {
				if rd.err != nil {
					return nil, 0, rd.error(tooLarge)
				}
				if err == io.EOF {
					return nil, 0, errs.Invalidf("", "package-part", "the multipart body has no file part: send the zip in a part named file")
				}
				return nil, 0, errs.Invalidf("", "multipart", "the multipart body cannot be read: %v", err)
			}
			if part.FileName() != "" || part.FormName() == "file" {
				body = part
				break
			}
		}
	}
	f, err := os.CreateTemp("", "lrs-package-*.zip")
	if err != nil {
		return nil, 0, errs.Wrap(err, "making a temporary file for a package")
	}
	n, err := io.Copy(f, body)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		if rd.err != nil {
			return nil, 0, rd.error(tooLarge)
		}
		var e *errs.Error
		if errors.As(err, &e) {
			return nil, 0, err
		}
		if pe := (*os.PathError)(nil); errors.As(err, &pe) {
			return nil, 0, errs.Wrap(err, "writing a package to a temporary file")
		}
		return nil, 0, errs.Invalidf("", "multipart", "the package cannot be read from the body: %v", err)
	}
	if n == 0 {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, errs.Invalidf("", "body-required", "the body is empty: send the package's zip file")
	}
	return f, n, nil
}

// listPackages serves GET /api/v1/packages.
func (s *Server) listPackages(c *echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	list, err := s.pk.store.Packages(c.Request().Context(), tenantOf(state(c).cred))
	if err != nil {
		return err
	}
	out := make([]*packageJSON, len(list))
	for i, p := range list {
		out[i] = toPackageJSON(p)
	}
	return writeJSON(c, http.StatusOK, map[string]any{"packages": out})
}

// packageParam returns the path's package id, which must have the form of
// one (anything else names no package).
func packageParam(c *echo.Context) (string, error) {
	id := c.Param("id")
	if !packages.ValidID(id) {
		return "", errs.E(errs.NotFound, "no package %q: a package id is 20 hex digits", id)
	}
	return id, nil
}

// getPackage serves GET /api/v1/packages/{id}: the latest version, with
// the list of versions.
func (s *Server) getPackage(c *echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	id, err := packageParam(c)
	if err != nil {
		return err
	}
	vs, err := s.pk.store.Versions(c.Request().Context(), tenantOf(state(c).cred), id)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		return errs.E(errs.NotFound, "no package %q", id)
	}
	out := toPackageJSON(vs[len(vs)-1])
	for _, v := range vs {
		out.Versions = append(out.Versions, versionJSON{Version: v.Version, Title: v.Title, Files: v.Files, Size: v.Size,
			Imported: v.Imported, ImportedBy: v.ImportedBy})
	}
	return writeJSON(c, http.StatusOK, out)
}

// deletePackage serves DELETE /api/v1/packages/{id}: every version and its
// files go; statements about the package stay, and so do catalog modules
// naming its activities.
func (s *Server) deletePackage(c *echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	id, err := packageParam(c)
	if err != nil {
		return err
	}
	if err := s.pk.store.DeletePackage(c.Request().Context(), tenantOf(state(c).cred), id); err != nil {
		return err
	}
	s.audit(c, "package.delete", id, "")
	return c.NoContent(http.StatusNoContent)
}

// contentLinkRequest is the optional body of POST .../links.
type contentLinkRequest struct {
	Version   int    `json:"version"`   // 0: the latest
	ExpiresIn string `json:"expiresIn"` // a Go duration, e.g. "2h"; "": DefaultContentLinkTTL
}

// postContentLink serves POST /api/v1/packages/{id}/links: a signed link
// to the files of a version (the latest unless the body names one) that
// works without credentials until it expires, for people viewing the
// content in a browser. Learners' launches will issue such links too.
func (s *Server) postContentLink(c *echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	id, err := packageParam(c)
	if err != nil {
		return err
	}
	var req contentLinkRequest
	if err := readJSON(c, &req); err != nil {
		return err
	}
	ttl := DefaultContentLinkTTL
	if req.ExpiresIn != "" {
		d, err := time.ParseDuration(req.ExpiresIn)
		if err != nil || d <= 0 || d > MaxContentLinkTTL {
			return errs.Invalidf("expiresIn", "duration", "expiresIn is a duration such as 30m or 2h, at most %s; got %q", MaxContentLinkTTL, req.ExpiresIn)
		}
		ttl = d
	}
	ctx := c.Request().Context()
	tenant := tenantOf(state(c).cred)
	var p *packages.Package
	if req.Version != 0 {
		p, err = s.pk.store.Version(ctx, tenant, id, req.Version)
	} else {
		p, err = s.pk.store.Package(ctx, tenant, id)
	}
	if err != nil {
		return err
	}
	tok := packages.ContentToken{Tenant: tenant, Package: p.ID, Version: p.Version, Expires: s.now().Add(ttl).Truncate(time.Second).UTC()}
	signed := tok.Sign(s.pk.keys[0])
	base := s.publicBase(c) + "/content/t/" + signed + "/"
	type launch struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	out := struct {
		Token       string    `json:"token"`
		Expires     time.Time `json:"expires"`
		Version     int       `json:"version"`
		Content     string    `json:"content"`
		Launchables []launch  `json:"launchables"`
	}{Token: signed, Expires: tok.Expires, Version: p.Version, Content: base, Launchables: []launch{}}
	for _, l := range p.Launchables {
		u := l.Href
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			u = base + u
		}
		out.Launchables = append(out.Launchables, launch{ID: l.ID, URL: u})
	}
	return writeJSON(c, http.StatusCreated, out)
}

// getContent serves GET /content/{id}/{version}/{path} to a credential
// holding content/write.
func (s *Server) getContent(c *echo.Context) error {
	_, version, filePath, ok := contentPath(c)
	id := c.Param("id")
	if !ok || !packages.ValidID(id) || version < 1 {
		return errs.E(errs.NotFound, "no such package file: the path is /content/{package id}/{version}/{file}")
	}
	p, err := s.pk.store.Version(c.Request().Context(), tenantOf(state(c).cred), id, version)
	if err != nil {
		return err
	}
	return s.serveContent(c, p, filePath, contentCSP)
}

// getContentByToken serves GET /content/t/{token}/{path}: the files of the
// package version a content link names, to anyone holding the link, until
// it expires, as long as the tenant is enabled.
func (s *Server) getContentByToken(c *echo.Context) error {
	token, _, filePath, ok := contentPath(c)
	if !ok {
		return errs.E(errs.NotFound, "no such package file: the path is /content/t/{token}/{file}")
	}
	tok, err := packages.VerifyContentToken(token, s.now(), s.pk.keys...)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.creds.tenantEnabled(ctx, tok.Tenant); err != nil {
		return errs.E(errs.Forbidden, "the content link's tenant is disabled or unknown")
	}
	p, err := s.pk.store.Version(ctx, tok.Tenant, tok.Package, tok.Version)
	if err != nil {
		return err
	}
	return s.serveContent(c, p, filePath, contentCSP)
}

// contentPath splits the request's path /content/{a}/{b}/{file}: a and the
// file path (percent-decoded), and b as a version number (0 when it is not
// one). It reads the escaped path itself, so that a file name holding %2F
// or %25 means what the client sent, whatever the router decoded.
func contentPath(c *echo.Context) (a string, version int, file string, ok bool) {
	parts := strings.SplitN(c.Request().URL.EscapedPath(), "/", 5)
	if len(parts) != 5 || parts[1] != "content" {
		return "", 0, "", false
	}
	if parts[2] == "t" { // /content/t/{token}/{file}
		a = parts[3]
	} else {
		a = parts[2]
		version, _ = strconv.Atoi(parts[3])
	}
	file, err := url.PathUnescape(parts[4])
	if err != nil || !packages.ValidPath(file) {
		return "", 0, "", false
	}
	return a, version, file, true
}

// contentCSP is the Content-Security-Policy of package files. Course
// content is third-party HTML and JavaScript. Served as a page of the LRS's
// own origin, its scripts could read the LRS's API with whatever the
// browser holds for that origin (Basic credentials a browser remembers,
// and the session cookies and stored tokens of future pages for people),
// and could script any page of the origin it opens or frames. The sandbox
// directive without allow-same-origin gives each content document an
// opaque origin instead: no cookies or storage of the LRS's origin, no
// access to the DOM of LRS pages, and its requests to the API are
// cross-origin, which CORS answers without credentials (the API's
// Access-Control-Allow-Origin is "*"). Scripts, forms, pop-ups (outside
// the sandbox, e.g. PDFs and links), modals and downloads stay allowed,
// as courses need them; so do scripts, media and fonts from anywhere
// (courses load them from CDNs). frame-ancestors 'self' lets the LRS's own
// player frame the content, no other site.
//
// The price: content cannot reach a JavaScript object of another window
// (SCORM's API object in the player's window), and localStorage throws in
// an opaque origin. These paths are for previews by content/write
// credentials and content links; learners' launches serve the same files
// without the sandbox under /launch/{token}/content/, so that SCOs find
// the player's API (see getLaunchContent in launch.go for that trade-off).
const contentCSP = "sandbox allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals " +
	"allow-downloads allow-pointer-lock allow-presentation allow-orientation-lock; frame-ancestors 'self'"

// serveContent answers with the file at filePath of version p:
// http.ServeContent's conditional and range requests, the file's media
// type by its extension, a strong ETag per version and file (a version's
// files never change), cached privately for a year, and the
// Content-Security-Policy csp (contentCSP's sandbox, or for a launch
// session launchContentCSP).
func (s *Server) serveContent(c *echo.Context, p *packages.Package, filePath, csp string) error {
	f, err := s.pk.store.OpenFile(c.Request().Context(), p, filePath)
	if err != nil {
		return err
	}
	defer f.Close()
	sum := sha256.Sum256([]byte(p.Storage + "\x00" + filePath))
	h := c.Response().Header()
	h.Set("Content-Type", packages.ContentType(filePath))
	h.Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	// private: served to a credential or a link's holder, never to be kept
	// by a shared cache.
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	http.ServeContent(c.Response(), c.Request(), "", p.Imported, f)
	return nil
}
