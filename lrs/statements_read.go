package lrs

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/privacy"
	"github.com/xapi-lrs/lrs/statements"
)

// ConsistentThroughHeader is on every response of GET /xapi/statements.
const ConsistentThroughHeader = "X-Experience-API-Consistent-Through"

// queryParams are the parameters of a statement query (GET without
// statementId or voidedStatementId).
var queryParams = []string{"agent", "verb", "activity", "registration", "related_activities",
	"related_agents", "since", "until", "limit", "format", "attachments", "ascending"}

// getStatements serves GET and HEAD /xapi/statements: one statement by
// statementId or voidedStatementId, a query answered with a StatementResult,
// or the next page of a query (the more parameter).
func (s *Server) getStatements(c *echo.Context) error {
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	if q.Has("statementId") || q.Has("voidedStatementId") {
		return s.getOne(c, q)
	}
	var req stmtQuery
	if q.Has("more") {
		if err := allowOnly(q, "more"); err != nil {
			return errs.Invalidf("more", "more-alone", "the more parameter is used alone: it carries the whole query")
		}
		req, err = s.decodeMore(q.Get("more"))
	} else {
		req, err = s.parseQuery(q, state(c).version)
	}
	if err != nil {
		return err
	}
	return s.query(c, req)
}

// consistentThrough sets the X-Experience-API-Consistent-Through header,
// which every response of GET /xapi/statements carries, errors included
// (xAPI Communication 2.1.3). It runs first in the chain.
func (s *Server) consistentThrough(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		through, err := s.cfg.Store.ConsistentThrough(c.Request().Context())
		if err != nil {
			return err
		}
		c.Response().Header().Set(ConsistentThroughHeader, through.UTC().Format(ingest.StoredLayout))
		return next(c)
	}
}

// getOne answers GET with statementId or voidedStatementId.
func (s *Server) getOne(c *echo.Context, q url.Values) error {
	name := "statementId"
	if q.Has("voidedStatementId") {
		if q.Has("statementId") {
			return errs.Invalidf("voidedStatementId", "param-exclusive", "give statementId or voidedStatementId, not both")
		}
		name = "voidedStatementId"
	}
	for k := range q {
		if k != name && k != "format" && k != "attachments" {
			if slices.Contains(queryParams, k) {
				return errs.Invalidf(k, "param-exclusive", "%s cannot be combined with %s; only format and attachments can", k, name)
			}
			return allowOnly(q, name, "format", "attachments")
		}
	}
	id, err := uuidParam(q, name)
	if err != nil {
		return err
	}
	format, err := formatParam(q)
	if err != nil {
		return err
	}
	withAtts, err := boolParam(q, "attachments")
	if err != nil {
		return err
	}
	st := state(c)
	ctx := c.Request().Context()
	rec, err := s.cfg.Store.Get(ctx, tenantOf(st.cred), id)
	if errs.Is(err, errs.NotFound) || err == nil && readsOnlyOwn(st.cred) && rec.Authority != st.cred.Key {
		return errs.E(errs.NotFound, "no statement with id %s", id)
	}
	if err != nil {
		return err
	}
	switch {
	case name == "statementId" && rec.Voided:
		return errs.E(errs.NotFound, "statement %s is voided; fetch it with voidedStatementId", id)
	case name == "voidedStatementId" && !rec.Voided:
		return errs.E(errs.NotFound, "statement %s is not voided; fetch it with statementId", id)
	}
	body, err := render(rec.JSON, format, c.Request())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Last-Modified", rec.Stored.UTC().Format(http.TimeFormat))
	if withAtts {
		return s.writeWithAttachments(c, body, [][]string{rec.AttachmentHashes})
	}
	writeBody(c, http.StatusOK, "application/json", body)
	return nil
}

// stmtQuery is a parsed statement query; it is also what a "more" link
// carries, so that later pages follow the same rules.
type stmtQuery struct {
	Agent             string    `json:"ag,omitempty"`
	Verb              string    `json:"vb,omitempty"`
	Activity          string    `json:"ac,omitempty"`
	Registration      string    `json:"rg,omitempty"`
	RelatedActivities bool      `json:"ra,omitempty"`
	RelatedAgents     bool      `json:"rr,omitempty"`
	Since             time.Time `json:"si,omitzero"`
	Until             time.Time `json:"un,omitzero"`
	Limit             int       `json:"li,omitempty"`
	Ascending         bool      `json:"as,omitempty"`
	Format            string    `json:"fo,omitempty"`
	Attachments       bool      `json:"at,omitempty"`
	Cursor            string    `json:"cu,omitempty"`
}

// parseQuery parses and checks the parameters of a statement query.
func (s *Server) parseQuery(q url.Values, v statements.Version) (stmtQuery, error) {
	var r stmtQuery
	if err := allowOnly(q, queryParams...); err != nil {
		return r, err
	}
	var err error
	if a := q.Get("agent"); a != "" {
		if _, r.Agent, err = agentParam(a, v); err != nil {
			return r, err
		}
	}
	if r.Verb, err = iriParam(q, "verb"); err != nil {
		return r, err
	}
	if r.Activity, err = iriParam(q, "activity"); err != nil {
		return r, err
	}
	if q.Has("registration") {
		if r.Registration, err = uuidParam(q, "registration"); err != nil {
			return r, err
		}
	}
	if r.RelatedActivities, err = boolParam(q, "related_activities"); err != nil {
		return r, err
	}
	if r.RelatedAgents, err = boolParam(q, "related_agents"); err != nil {
		return r, err
	}
	if r.Since, err = timeParam(q, "since"); err != nil {
		return r, err
	}
	if r.Until, err = timeParam(q, "until"); err != nil {
		return r, err
	}
	if r.Ascending, err = boolParam(q, "ascending"); err != nil {
		return r, err
	}
	if r.Attachments, err = boolParam(q, "attachments"); err != nil {
		return r, err
	}
	if r.Format, err = formatParam(q); err != nil {
		return r, err
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || v[0] == '+' {
			return r, errs.Invalidf("limit", "limit", "parameter limit must be a non-negative integer, got %q", v)
		}
		r.Limit = n
	}
	if r.Limit == 0 || r.Limit > s.cfg.MaxLimit {
		r.Limit = s.cfg.MaxLimit
	}
	return r, nil
}

// agentParam parses the agent parameter: an Agent or identified Group as
// JSON, returned with its identifier key.
func agentParam(param string, v statements.Version) (map[string]any, string, error) {
	a, err := statements.ParseAgent([]byte(param), v)
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) {
			ce := *e
			ce.Path = joinPath("agent", e.Path)
			ce.Message = "parameter agent: " + e.Message
			return nil, "", &ce
		}
		return nil, "", err
	}
	key := statements.AgentKey(a)
	if key == "" {
		return nil, "", errs.Invalidf("agent", "agent-identified",
			"parameter agent must be an Agent or an identified Group (with mbox, mbox_sha1sum, openid or account)")
	}
	return a, key, nil
}

func joinPath(prefix, path string) string {
	switch {
	case path == "":
		return prefix
	case path[0] == '[':
		return prefix + path
	}
	return prefix + "." + path
}

// formatParam parses the format parameter; the default is exact.
func formatParam(q url.Values) (string, error) {
	switch f := q.Get("format"); f {
	case "", statements.FormatExact:
		return statements.FormatExact, nil
	case statements.FormatIDs, statements.FormatCanonical:
		return f, nil
	default:
		return "", errs.Invalidf("format", "format", "parameter format must be ids, exact or canonical, got %q", f)
	}
}

// query answers a statement query with one page of a StatementResult.
func (s *Server) query(c *echo.Context, req stmtQuery) error {
	st := state(c)
	sq := statements.Query{
		Tenant:            tenantOf(st.cred),
		Agent:             req.Agent,
		Verb:              req.Verb,
		Activity:          req.Activity,
		Registration:      req.Registration,
		RelatedActivities: req.RelatedActivities,
		RelatedAgents:     req.RelatedAgents,
		Since:             req.Since,
		Until:             req.Until,
		Limit:             min(req.Limit, s.cfg.MaxLimit),
		Ascending:         req.Ascending,
		Cursor:            req.Cursor,
	}
	if sq.Limit <= 0 {
		sq.Limit = s.cfg.MaxLimit
	}
	if readsOnlyOwn(st.cred) {
		sq.Authority = st.cred.Key
	}
	page, err := s.cfg.Store.Query(c.Request().Context(), sq)
	if err != nil {
		return err
	}
	if req.Agent != "" {
		var read privacy.Subjects
		read.Agent(req.Agent)
		defer s.logAccess(c, privacy.ReadStatements, &read, len(page.Records))
	}

	var buf bytes.Buffer
	size := 256 // the envelope and the more link
	for _, rec := range page.Records {
		size += len(rec.JSON) + 1
	}
	buf.Grow(size) // exact: the size of the answer; another format: near it
	buf.WriteString(`{"statements":[`)
	var last time.Time
	var hashes [][]string
	for i, rec := range page.Records {
		if i > 0 {
			buf.WriteByte(',')
		}
		body, err := render(rec.JSON, req.Format, c.Request())
		if err != nil {
			return err
		}
		buf.Write(body)
		if rec.Stored.After(last) {
			last = rec.Stored
		}
		if req.Attachments && len(rec.AttachmentHashes) > 0 {
			hashes = append(hashes, rec.AttachmentHashes)
		}
	}
	buf.WriteString(`],"more":"`)
	if page.Cursor != "" {
		next := req
		next.Cursor = page.Cursor
		buf.WriteString(c.Request().URL.Path)
		buf.WriteString("?more=")
		buf.WriteString(s.encodeMore(next))
	}
	buf.WriteString(`"}`)
	if !last.IsZero() {
		c.Response().Header().Set("Last-Modified", last.UTC().Format(http.TimeFormat))
	}
	if req.Attachments {
		return s.writeWithAttachments(c, buf.Bytes(), hashes)
	}
	writeBody(c, http.StatusOK, "application/json", buf.Bytes())
	return nil
}

// render returns a stored statement in the requested format: exact is the
// stored JSON as is; ids and canonical are rebuilt from it.
func render(stored []byte, format string, r *http.Request) ([]byte, error) {
	if format == statements.FormatExact {
		return stored, nil
	}
	d := json.NewDecoder(bytes.NewReader(stored))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, errs.Wrap(err, "decoding a stored statement")
	}
	var langs []string
	if format == statements.FormatCanonical {
		langs = statements.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	}
	out, err := marshalJSON(statements.Format(m, format, langs))
	if err != nil {
		return nil, errs.Wrap(err, "encoding a formatted statement")
	}
	return out, nil
}

// marshalJSON encodes v without HTML escaping and without a trailing newline.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// writeWithAttachments answers with the multipart/mixed response format:
// the JSON first, then the raw attachments of the statements it holds.
func (s *Server) writeWithAttachments(c *echo.Context, jsonBody []byte, hashes [][]string) error {
	var want []string
	for _, hs := range hashes {
		for _, h := range hs {
			if !slices.Contains(want, h) {
				want = append(want, h)
			}
		}
	}
	var atts []statements.Attachment
	if len(want) > 0 {
		var err error
		atts, err = s.cfg.Store.Attachments(c.Request().Context(), tenantOf(state(c).cred), want)
		if err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	ct, err := statements.WriteMultipart(&buf, jsonBody, atts)
	if err != nil {
		return errs.Wrap(err, "writing a multipart response")
	}
	writeBody(c, http.StatusOK, ct, buf.Bytes())
	return nil
}

func tenantOf(c *auth.Credential) string {
	if c.Tenant == "" {
		return auth.DefaultTenant
	}
	return c.Tenant
}
