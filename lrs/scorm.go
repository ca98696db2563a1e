package lrs

import (
	"mime"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/scorm"
	"github.com/xapi-lrs/lrs/statements"
)

// The SCORM bridge (package scorm does the work):
//
//	POST /api/v1/scorm/commits?agent=<Agent JSON>&activityId=<SCO IRI>&registration=<UUID>[&course=<course IRI>][&terminate=true]
//
// takes the commit a SCORM runtime posts (scorm.ParseCommit: the JSON of
// scorm-again's lmsCommitUrl, {"cmi": {...}}) for the attempt the
// parameters name, maps it to the ADL xAPI SCORM Profile's statements and
// stores them, with the attempt's state. The attempt is named in the URL
// because the commit body of scorm-again names nothing: an LMS configures
// one lmsCommitUrl per launch. The learner is an Agent as in the xAPI
// State resource, the registration is the attempt's (one per attempt of
// the SCO), course the course activity. terminate=true marks the commit
// of LMSFinish/Terminate (scorm-again: terminateCommitParam "terminate",
// or terminateCommitPayloadField "terminate" for the body).
//
// The body may be application/json or text/plain (scorm-again sends its
// terminating commit by navigator.sendBeacon as text/plain). The answer is
// 200 with {"result": "true", "errorCode": 0, "statements": [ids]}, which
// scorm-again's response handlers read as success; a failure is the LRS's
// JSON error with a 4xx or 5xx status, which they read as "false" with
// error 101 (1.2) or 391 (2004). The same commit posted again stores
// nothing and answers the same way with no ids.
//
// Scopes: all, statements/write or scorm/write (see auth.ScopeSCORMWrite).
var scormWriteScopes = []string{auth.ScopeAll, auth.ScopeStatementsWrite, auth.ScopeSCORMWrite}

// scormRoutes registers the SCORM bridge.
func (s *Server) scormRoutes(e *echo.Echo) {
	e.POST("/api/v1/scorm/commits", s.postSCORMCommit, s.authenticate, authorize(scormWriteScopes...))
}

// scormCommitAnswer is the body of a stored commit.
type scormCommitAnswer struct {
	Result     string   `json:"result"`
	ErrorCode  int      `json:"errorCode"`
	Statements []string `json:"statements"`
}

func (s *Server) postSCORMCommit(c *echo.Context) error {
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	if err := allowOnly(q, "agent", "activityId", "registration", "course", "terminate"); err != nil {
		return err
	}
	for _, p := range []string{"agent", "activityId", "registration"} {
		if !q.Has(p) {
			return errs.Invalidf(p, "param-required",
				"the %s parameter is required: a commit is for the attempt named by agent (the learner, an Agent as JSON), activityId (the SCO's IRI) and registration (the attempt's UUID)", p)
		}
	}
	learner, _, err := agentParam(q.Get("agent"), statements.V103)
	if err != nil {
		return err
	}
	reg, err := uuidParam(q, "registration")
	if err != nil {
		return err
	}
	terminate, err := boolParam(q, "terminate")
	if err != nil {
		return err
	}
	body, err := s.commitBody(c)
	if err != nil {
		return err
	}
	res, err := s.scorm.Commit(c.Request().Context(), scorm.Request{
		Writer: s.writer(c),
		Context: scorm.Context{Learner: learner, SCO: q.Get("activityId"), Course: q.Get("course"),
			Registration: reg},
		Body:      body,
		Terminate: terminate,
	})
	if err != nil {
		return err
	}
	if len(res.Statements) > 0 {
		s.metrics.countAccepted(len(res.Statements))
	}
	return writeJSON(c, http.StatusOK, scormCommitAnswer{Result: "true", Statements: res.Statements})
}

// writer is who writes the statements of request c: its credential, and
// the LRS's public URL as the authority's homePage.
func (s *Server) writer(c *echo.Context) ingest.Writer {
	st := state(c)
	return ingest.Writer{Tenant: tenantOf(st.cred), Key: st.cred.Key, Name: st.cred.Name, Home: s.publicBase(c)}
}

// commitBody reads the body of a SCORM commit (the bridge's and the
// player's): JSON, sent as application/json or, by navigator.sendBeacon,
// as text/plain.
func (s *Server) commitBody(c *echo.Context) ([]byte, error) {
	ct := c.Request().Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" && mt != "text/plain" {
		return nil, errs.Invalidf("", "content-type", "a SCORM commit is JSON: send it as application/json (or text/plain, as navigator.sendBeacon does), not %q", ct)
	}
	return readLimited(c, s.cfg.MaxBodyBytes, "the commit is larger than the bytes the LRS accepts in a request body")
}
