package lrs

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// DefaultMaxDocumentBytes is the default largest document body of the State,
// Activity Profile and Agent Profile resources. It stays below the 16 MiB a
// MongoDB document may hold, so that both backends take the same documents.
const DefaultMaxDocumentBytes = 12 << 20

// docResource describes one of the three document resources.
type docResource struct {
	kind documents.Kind
	// idParam names the document: stateId or profileId.
	idParam string
	// activity, agent: whether the key has an activityId, an agent.
	activity, agent bool
	// registration: whether the registration parameter is allowed (State).
	registration bool
	// deleteAll: whether DELETE without idParam deletes every matching
	// document (State) rather than being an error (profiles).
	deleteAll bool
	// alwaysConcurrent: a PUT over an existing document needs If-Match or
	// If-None-Match in every version (profiles); State needs it from 2.0.
	alwaysConcurrent bool
}

var (
	stateResource = &docResource{kind: documents.State, idParam: "stateId",
		activity: true, agent: true, registration: true, deleteAll: true}
	activityProfileResource = &docResource{kind: documents.ActivityProfile, idParam: "profileId",
		activity: true, alwaysConcurrent: true}
	agentProfileResource = &docResource{kind: documents.AgentProfile, idParam: "profileId",
		agent: true, alwaysConcurrent: true}
)

// params lists the query parameters the resource takes, "since" with GET.
func (d *docResource) params(get bool) []string {
	var p []string
	if d.activity {
		p = append(p, "activityId")
	}
	if d.agent {
		p = append(p, "agent")
	}
	if d.registration {
		p = append(p, "registration")
	}
	p = append(p, d.idParam)
	if get {
		p = append(p, "since")
	}
	return p
}

// key parses the request's parameters into a document key; ID is empty when
// the request names no document.
func (s *Server) docKey(c *echo.Context, d *docResource, q url.Values) (documents.Key, error) {
	k := documents.Key{Tenant: tenantOf(state(c).cred), Kind: d.kind}
	if d.activity {
		if !q.Has("activityId") {
			return k, errs.Invalidf("activityId", "param-required", "the activityId parameter is required")
		}
		id, err := iriParam(q, "activityId")
		if err != nil {
			return k, err
		}
		k.ActivityID = id
	}
	if d.agent {
		if !q.Has("agent") {
			return k, errs.Invalidf("agent", "param-required",
				`the agent parameter is required: an Agent as JSON, e.g. {"mbox":"mailto:learner@example.org"}`)
		}
		_, key, err := agentParam(q.Get("agent"), state(c).version)
		if err != nil {
			return k, err
		}
		k.Agent = key
	}
	if d.registration && q.Has("registration") {
		reg, err := uuidParam(q, "registration")
		if err != nil {
			return k, err
		}
		k.Registration = reg
	}
	k.ID = q.Get(d.idParam)
	if tok := state(c).launch; tok != nil {
		m := c.Request().Method
		if err := tok.CheckDocument(k, m != http.MethodGet && m != http.MethodHead); err != nil {
			return k, err
		}
	}
	return k, nil
}

// docRequest parses and checks the parameters of a document request.
func (s *Server) docRequest(c *echo.Context, d *docResource) (documents.Key, url.Values, error) {
	q, err := parseParams(c.Request())
	if err != nil {
		return documents.Key{}, nil, err
	}
	method := c.Request().Method
	if err := allowOnly(q, d.params(method == http.MethodGet || method == http.MethodHead)...); err != nil {
		return documents.Key{}, nil, err
	}
	k, err := s.docKey(c, d, q)
	return k, q, err
}

// getDocument serves GET and HEAD: one document when the id parameter is
// given, else the JSON array of the ids of the matching documents (updated
// after since, when given).
func (s *Server) getDocument(d *docResource) echo.HandlerFunc {
	return func(c *echo.Context) error {
		k, q, err := s.docRequest(c, d)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		if k.ID == "" {
			since, err := timeParam(q, "since")
			if err != nil {
				return err
			}
			ids, err := s.cfg.Documents.DocumentIDs(ctx, k, since)
			if err != nil {
				return err
			}
			body, err := json.Marshal(ids)
			if err != nil {
				return errs.Wrap(err, "encoding document ids")
			}
			writeBody(c, http.StatusOK, "application/json", body)
			return nil
		}
		doc, err := s.cfg.Documents.Document(ctx, k)
		if errs.Is(err, errs.NotFound) {
			return errs.E(errs.NotFound, "no %s document with %s %q for these parameters", d.kind, d.idParam, k.ID)
		}
		if err != nil {
			return err
		}
		h := c.Response().Header()
		h.Set("ETag", `"`+doc.ETag+`"`)
		h.Set("Last-Modified", doc.Updated.UTC().Format(http.TimeFormat))
		if inm := c.Request().Header.Get("If-None-Match"); inm != "" {
			if tags, err := parseETags(inm); err == nil && (documents.Condition{IfNoneMatch: tags}).Holds(doc) == false {
				c.Response().WriteHeader(http.StatusNotModified)
				return nil
			}
		}
		ct := doc.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		writeBody(c, http.StatusOK, ct, doc.Content)
		return nil
	}
}

// putDocument serves PUT: it stores the body as the document, replacing any
// document with the same key.
func (s *Server) putDocument(d *docResource) echo.HandlerFunc {
	return func(c *echo.Context) error {
		k, cond, ct, body, err := s.docWrite(c, d)
		if err != nil {
			return err
		}
		if documents.IsJSON(ct) && !json.Valid(body) {
			return errs.Invalidf("", "document-json", "the body is declared application/json but is not valid JSON")
		}
		needCond := d.alwaysConcurrent || state(c).version != statements.V103
		if needCond && len(cond.IfMatch) == 0 && len(cond.IfNoneMatch) == 0 {
			if state(c).version == statements.V103 {
				// xAPI 1.0.3 wants a precondition on every PUT here: the
				// answer is 409 over an existing document, else 400.
				_, err := s.cfg.Documents.Document(c.Request().Context(), k)
				if err == nil {
					return errDocumentExists
				}
				if !errs.Is(err, errs.NotFound) {
					return err
				}
				return errs.Invalidf("", "precondition-required", "xAPI 1.0.3 requires If-None-Match: * (to create "+
					"the document) or If-Match with its ETag (to replace it) on every PUT to this resource")
			}
			// Only a new document may be written without a precondition.
			cond.IfNoneMatch = []string{"*"}
			err := s.cfg.Documents.PutDocument(c.Request().Context(), s.newDocument(k, ct, body), cond)
			if errs.Is(err, errs.PreconditionFailed) {
				return errDocumentExists
			}
			if err != nil {
				return err
			}
			return c.NoContent(http.StatusNoContent)
		}
		if err := s.cfg.Documents.PutDocument(c.Request().Context(), s.newDocument(k, ct, body), cond); err != nil {
			return preconditionError(err)
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// postDocument serves POST: the body, a JSON object, is merged into the
// stored JSON object document (its top-level properties replace those of
// the same name), or stored as the document when there is none.
func (s *Server) postDocument(d *docResource) echo.HandlerFunc {
	return func(c *echo.Context) error {
		k, cond, ct, body, err := s.docWrite(c, d)
		if err != nil {
			return err
		}
		if !documents.IsJSON(ct) {
			return errs.Invalidf("", "document-merge-type",
				"POST merges JSON objects: send Content-Type application/json (use PUT to store other content), got %s", ct)
		}
		if err := documents.Merge(c.Request().Context(), s.cfg.Documents, k, body, cond, s.now); err != nil {
			return preconditionError(err)
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// deleteDocument serves DELETE: one document, or for the State resource
// without stateId every state matching the other parameters.
func (s *Server) deleteDocument(d *docResource) echo.HandlerFunc {
	return func(c *echo.Context) error {
		k, _, err := s.docRequest(c, d)
		if err != nil {
			return err
		}
		cond, err := condition(c.Request())
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		if k.ID == "" {
			if !d.deleteAll {
				return errs.Invalidf(d.idParam, "param-required", "DELETE needs the %s parameter", d.idParam)
			}
			if len(cond.IfMatch) > 0 || len(cond.IfNoneMatch) > 0 {
				return errs.Invalidf("", "precondition-set",
					"If-Match and If-None-Match apply to one document; give %s, or leave the headers out to delete all", d.idParam)
			}
			if err := s.cfg.Documents.DeleteDocuments(ctx, k); err != nil {
				return err
			}
			return c.NoContent(http.StatusNoContent)
		}
		if err := s.cfg.Documents.DeleteDocument(ctx, k, cond); err != nil {
			return preconditionError(err)
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// docWrite parses a PUT or POST of one document: its key (the id
// parameter is required), its precondition, its Content-Type and body.
func (s *Server) docWrite(c *echo.Context, d *docResource) (k documents.Key, cond documents.Condition, ct string, body []byte, err error) {
	if k, _, err = s.docRequest(c, d); err != nil {
		return
	}
	if k.ID == "" {
		err = errs.Invalidf(d.idParam, "param-required", "%s needs the %s parameter", c.Request().Method, d.idParam)
		return
	}
	if cond, err = condition(c.Request()); err != nil {
		return
	}
	ct, body, err = s.readDocument(c)
	return
}

func (s *Server) newDocument(k documents.Key, ct string, body []byte) *documents.Document {
	return documents.NewDocument(k, ct, body, s.now())
}

// errDocumentExists answers a PUT without a precondition over an existing
// document where the specification requires one.
var errDocumentExists = errs.E(errs.Conflict, "the document exists; to replace it, send If-Match with its ETag "+
	"(from a GET), or If-None-Match: * to write it only if it does not exist")

// preconditionError gives a failed precondition a message that says what to do.
func preconditionError(err error) error {
	if errs.Is(err, errs.PreconditionFailed) {
		return errs.E(errs.PreconditionFailed,
			"the If-Match or If-None-Match precondition does not hold: the document has changed or does not exist as expected; GET it for its current ETag")
	}
	return err
}

// readDocument reads a document body within the document size limit and
// returns its Content-Type (application/octet-stream when none is given).
func (s *Server) readDocument(c *echo.Context) (string, []byte, error) {
	r := c.Request()
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	} else if _, _, err := mime.ParseMediaType(ct); err != nil {
		return "", nil, errs.Invalidf("", "content-type", "malformed Content-Type %q: %v", ct, err)
	}
	limit := s.cfg.MaxDocumentBytes
	if r.ContentLength > limit {
		return "", nil, errs.E(errs.TooLarge, "a document may be at most %d bytes; this one is %d", limit, r.ContentLength)
	}
	body, err := readLimited(c, limit, fmt.Sprintf("a document may be at most %d bytes", limit))
	if err != nil {
		return "", nil, err
	}
	if len(body) == 0 {
		return "", nil, errs.Invalidf("", "document-empty", "the request has no body; send the document as the body")
	}
	return ct, body, nil
}

// condition reads If-Match and If-None-Match.
func condition(r *http.Request) (documents.Condition, error) {
	var cond documents.Condition
	var err error
	if h := r.Header.Values("If-Match"); len(h) > 0 {
		if cond.IfMatch, err = parseETags(strings.Join(h, ",")); err != nil {
			return cond, errs.Invalidf("If-Match", "etag", "If-Match: %v", err)
		}
	}
	if h := r.Header.Values("If-None-Match"); len(h) > 0 {
		if cond.IfNoneMatch, err = parseETags(strings.Join(h, ",")); err != nil {
			return cond, errs.Invalidf("If-None-Match", "etag", "If-None-Match: %v", err)
		}
	}
	return cond, nil
}

// parseETags parses an If-Match / If-None-Match value: "*" or a list of
// entity tags, quoted as HTTP requires (bare tags are accepted too; a weak
// tag's W/ prefix is dropped).
func parseETags(h string) ([]string, error) {
	var tags []string
	for _, t := range strings.Split(h, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		if len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"' {
			t = t[1 : len(t)-1]
		}
		if t == "" {
			continue
		}
		if strings.ContainsAny(t, "\" \t") {
			return nil, errors.New(`want "*" or quoted entity tags like "3e4f…", separated by commas`)
		}
		tags = append(tags, strings.ToLower(t))
	}
	if len(tags) == 0 {
		return nil, errors.New(`empty; want "*" or quoted entity tags`)
	}
	return tags, nil
}

// Scopes of the document resources.
var (
	stateScopes       = []string{auth.ScopeAll, auth.ScopeState}
	stateReadScopes   = []string{auth.ScopeAll, auth.ScopeAllRead, auth.ScopeState}
	profileScopes     = []string{auth.ScopeAll, auth.ScopeProfile}
	profileReadScopes = []string{auth.ScopeAll, auth.ScopeAllRead, auth.ScopeProfile}
	definitionsScopes = []string{auth.ScopeAll, auth.ScopeAllRead, auth.ScopeStatementsRead, auth.ScopeDefine}
)
