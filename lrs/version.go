package lrs

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// VersionHeader is the xAPI version header of requests and responses.
const VersionHeader = "X-Experience-API-Version"

// parseVersion maps an X-Experience-API-Version request header to the
// version family the LRS serves: "1.0" and "1.0.<digits>" are 1.0.3 (xAPI
// 1.0.3, Communication 3.3: accept 1.0 as 1.0.0 and every 1.0.x), "2.0" and
// "2.0.<digits>" are 2.0.0 (IEEE 9274.1.1). Anything else is unsupported.
func parseVersion(h string) (statements.Version, bool) {
	if len(h) < 3 || h[1] != '.' || h[2] != '0' {
		return "", false
	}
	var v statements.Version
	switch h[0] {
	case '1':
		v = statements.V103
	case '2':
		v = statements.V200
	default:
		return "", false
	}
	if len(h) == 3 {
		return v, true
	}
	if h[3] != '.' || len(h) == 4 {
		return "", false
	}
	for i := 4; i < len(h); i++ {
		if h[i] < '0' || h[i] > '9' {
			return "", false
		}
	}
	return v, true
}

// replyVersion is the X-Experience-API-Version of responses to requests of
// family v: the latest patch the LRS implements.
func replyVersion(v statements.Version) string { return string(v) }

// negotiateVersion runs on every request: it parses the version header into
// the request state and sets the response header, which the xAPI requires on
// every response. A missing or unsupported header is rejected later, by
// requireVersion, on the resources that need one.
func (s *Server) negotiateVersion(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		s.setVersion(c)
		return next(c)
	}
}

// setVersion reads the version header into the request state and the
// response header.
func (s *Server) setVersion(c *echo.Context) {
	st := state(c)
	v, ok := parseVersion(c.Request().Header.Get(VersionHeader))
	st.versionOK = ok
	if ok {
		st.version = v
	} else {
		st.version = s.defaultVersion
	}
	c.Response().Header().Set(VersionHeader, replyVersion(st.version))
}

// requireVersion rejects requests without a supported version header with
// 400. It runs after authentication: a client that omits the header is
// answered in the version it used last, the one it most likely speaks.
func (s *Server) requireVersion(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		st := state(c)
		if !st.versionOK {
			if v, ok := s.creds.lastVersion(st.cred.Key); ok {
				st.version = v
				c.Response().Header().Set(VersionHeader, replyVersion(v))
			}
			got := c.Request().Header.Get(VersionHeader)
			if got == "" {
				return errs.Invalidf("", "version-header",
					"the %s header is required; send 1.0.3 or 2.0.0", VersionHeader)
			}
			return errs.Invalidf("", "version-header",
				"unsupported %s %q; this LRS serves 1.0.x (1.0.3) and 2.0.x (2.0.0)", VersionHeader, got)
		}
		s.creds.setLastVersion(st.cred.Key, st.version)
		return next(c)
	}
}

// getAbout serves GET and HEAD /xapi/about, without authentication and
// whatever the version header says (xAPI Communication 2.8).
func (s *Server) getAbout(c *echo.Context) error {
	if len(c.Request().URL.RawQuery) > 0 {
		q, err := parseParams(c.Request())
		if err != nil {
			return err
		}
		if err := allowOnly(q); err != nil {
			return err
		}
	}
	writeBody(c, http.StatusOK, "application/json", aboutBody)
	return nil
}

var aboutBody = []byte(`{"version":["1.0.3","2.0.0"],"extensions":{}}`)
