package lrs

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// CORS: browser content served from another origin calls the LRS with
// Basic credentials in the Authorization header (never cookies), so any
// origin may be allowed without letting one site act on another's session.
const (
	corsAllowMethods = "GET, HEAD, PUT, POST, DELETE, OPTIONS"
	corsAllowHeaders = "Authorization, Content-Type, If-Match, If-None-Match, X-Experience-API-Version, X-Experience-API-Consistent-Through, Accept-Language"
	corsExpose       = "ETag, Last-Modified, Content-Type, Content-Length, X-Experience-API-Version, X-Experience-API-Consistent-Through"
)

// cors adds the CORS headers to every response and answers preflight
// (OPTIONS) requests itself, before authentication, as browsers send them
// without credentials.
func (s *Server) cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		h := c.Response().Header()
		origin := c.Request().Header.Get("Origin")
		if origin != "" {
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Expose-Headers", corsExpose)
		}
		if c.Request().Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", "86400")
			h.Set("Allow", corsAllowMethods)
			return c.NoContent(http.StatusNoContent)
		}
		return next(c)
	}
}

// altHeaders are the form fields of the alternate request syntax that stand
// for request headers (xAPI 1.0.3 Communication 1.3).
var altHeaders = []string{"Authorization", "X-Experience-API-Version", "Content-Type",
	"Content-Length", "If-Match", "If-None-Match"}

// Bodies read before their sender is known. The alternate request syntax
// must read its form to learn the request, before routing and so before
// the authentication of the route; and the form may hold the credentials
// (its Authorization field, which the ADL conformance suite uses, after the
// content). So:
//
//   - with an Authorization header, the request is authenticated first, and
//     only then its form read, up to Config.MaxBodyBytes;
//   - without one, the form is read only up to maxAnonymousForm (a larger
//     one is refused with 413 before any of it is read, when its length is
//     declared), and all such forms being read or served at once hold at
//     most maxAnonymousForms bytes: past that, 503 with Retry-After.
//
// So requests without credentials cost at most maxAnonymousForms of memory
// however many arrive.
const (
	maxAnonymousForm  = 64 << 10
	maxAnonymousForms = 8 << 20
)

// alternateSyntax rewrites a request in the alternate request syntax of xAPI
// 1.0.3 (Communication 1.3) into the request it stands for, before routing:
// POST <resource>?method=PUT with an application/x-www-form-urlencoded body
// whose fields are the headers, the parameters and the content. Clients on
// xAPI 2.0 may not use it (IEEE 9274.1.1 dropped it): their such requests
// are rejected with 400.
func (s *Server) alternateSyntax(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := c.Request()
		if !strings.Contains(r.URL.RawQuery, "method") {
			return next(c)
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil || !q.Has("method") {
			return next(c) // the resource reports a bad query string
		}
		if r.Method != http.MethodPost {
			return errs.Invalidf("method", "alternate-syntax",
				"the method parameter (alternate request syntax) is only allowed on POST requests")
		}
		if v, ok := parseVersion(r.Header.Get(VersionHeader)); ok && v != statements.V103 {
			return errs.Invalidf("method", "alternate-syntax",
				"the alternate request syntax (?method=) is not part of xAPI 2.0; send the request with its own method")
		}
		if len(q) != 1 || len(q["method"]) != 1 {
			return errs.Invalidf("method", "alternate-syntax",
				"a request in the alternate request syntax takes only the method parameter in the URL; put the others in the form body")
		}
		method := q.Get("method")
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete:
		default:
			return errs.Invalidf("method", "alternate-syntax", "method must be GET, HEAD, PUT, POST or DELETE, got %q", method)
		}
		ct := r.Header.Get("Content-Type")
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/x-www-form-urlencoded" {
			return errs.Invalidf("", "alternate-syntax",
				"a request in the alternate request syntax must have Content-Type application/x-www-form-urlencoded, got %q", ct)
		}
		header := r.Header.Get("Authorization")
		if header != "" && crossSite(r) {
			return errs.E(errs.Forbidden, "a request in the alternate request syntax from a page of another site must carry "+
				"its credentials in the form's Authorization field, not in an Authorization header: a browser adds "+
				"credentials it remembers to any site's form posts")
		}
		if header != "" {
			cred, err := s.login(c, attemptedKey(c), func() (*auth.Credential, error) { return s.principal(c) })
			if err != nil {
				return err
			}
			state(c).cred = cred
		} else {
			release, err := s.reserveAnonymousForm(c)
			if err != nil {
				return err
			}
			defer release()
		}
		limit, tooLarge := s.cfg.MaxBodyBytes, fmt.Sprintf("request body is larger than the limit of %d bytes", s.cfg.MaxBodyBytes)
		if header == "" {
			limit, tooLarge = maxAnonymousForm, anonymousFormTooLarge
		}
		raw, err := readLimited(c, limit, tooLarge)
		if err != nil {
			return err
		}
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			return errs.Invalidf("", "alternate-syntax", "the form body is not valid URL encoding: %v", err)
		}
		if f := form["Authorization"]; header != "" && len(f) > 0 && f[0] != header {
			return errs.Invalidf("Authorization", "alternate-syntax",
				"the Authorization form field differs from the Authorization header; send the credentials once")
		}
		r.Method = method
		r.Header.Del("Content-Type")
		r.Header.Del("Content-Length")
		params := url.Values{}
		var content []byte
		hasContent := false
		for name, vals := range form {
			switch {
			case name == "content":
				content, hasContent = []byte(vals[0]), true
			case isAltHeader(name):
				r.Header.Set(name, vals[0])
			default:
				params[name] = vals
			}
		}
		if hasContent && r.Header.Get("Content-Type") == "" {
			r.Header.Set("Content-Type", "application/json")
		}
		r.Header.Del("Content-Length")
		r.URL.RawQuery = params.Encode()
		r.RequestURI = r.URL.RequestURI()
		r.Body = io.NopCloser(bytes.NewReader(content))
		r.ContentLength = int64(len(content))
		r.Header.Set("Content-Length", strconv.Itoa(len(content)))
		s.setVersion(c) // the form may have carried the version header
		if v, ok := parseVersion(r.Header.Get(VersionHeader)); ok && v != statements.V103 {
			return errs.Invalidf("method", "alternate-syntax",
				"the alternate request syntax (?method=) is not part of xAPI 2.0; send the request with its own method")
		}
		return next(c)
	}
}

// crossSite reports whether the browser says a request comes from a page of
// another site: Sec-Fetch-Site (all current browsers), else an Origin
// naming another host. A form of another site's page can be posted to the
// LRS with no script at all (application/x-www-form-urlencoded needs no
// CORS preflight), and the browser then adds Basic credentials it
// remembers for the LRS; only the alternate request syntax turns such a
// form into an xAPI request.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	case "same-origin", "none":
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host != r.Host
}

var anonymousFormTooLarge = fmt.Sprintf("a request in the alternate request syntax without an Authorization header "+
	"may have a form of at most %d bytes, as it is read before its sender is known; send the credentials "+
	"in the Authorization header to send more", maxAnonymousForm)

// reserveAnonymousForm reserves room for reading the form of a request
// without an Authorization header, or refuses it: 413 when it declares a
// form over maxAnonymousForm, 503 when the forms of such requests already
// hold maxAnonymousForms bytes. release gives the room back.
func (s *Server) reserveAnonymousForm(c *echo.Context) (release func(), err error) {
	n := c.Request().ContentLength
	if n > maxAnonymousForm {
		return nil, errs.E(errs.TooLarge, "%s", anonymousFormTooLarge)
	}
	if n < 0 {
		n = maxAnonymousForm // not declared: the most it may be
	}
	if s.anonymousForms.Add(n) > maxAnonymousForms {
		s.anonymousForms.Add(-n)
		c.Response().Header().Set("Retry-After", "1")
		return nil, errs.E(errs.Unavailable,
			"the server is reading too many requests without an Authorization header; retry, or send the credentials in the header")
	}
	return func() { s.anonymousForms.Add(-n) }, nil
}

func isAltHeader(name string) bool {
	for _, h := range altHeaders {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}
