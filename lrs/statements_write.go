package lrs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/statements"
)

// storedLayout is the format of "stored" and of timestamps the LRS sets:
// RFC 3339, millisecond precision, UTC.
const storedLayout = "2006-01-02T15:04:05.000Z"

// putStatement serves PUT /xapi/statements?statementId=<uuid>: it stores the
// one statement of the body under that id and answers 204 No Content; the
// same statement stored again is a no-op, a different one with the same id is
// a 409 Conflict.
func (s *Server) putStatement(c *echo.Context) error {
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	if err := allowOnly(q, "statementId"); err != nil {
		return err
	}
	if !q.Has("statementId") {
		return errs.Invalidf("statementId", "param-required", "PUT /statements needs the statementId parameter; use POST to let the LRS assign ids")
	}
	id, err := uuidParam(q, "statementId")
	if err != nil {
		return err
	}
	body, atts, err := s.readBody(c)
	if err != nil {
		return err
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		return errs.Invalidf("", "put-single", "PUT /statements takes one statement object, not an array; POST a batch instead")
	}
	st, err := statements.ParseStatement(body, state(c).version)
	if err != nil {
		return err
	}
	if got, ok := st["id"]; ok {
		if gs, _ := got.(string); !strings.EqualFold(gs, id) {
			return errs.Invalidf("id", "put-id-match", "the statement id %v differs from the statementId parameter %s", got, id)
		}
	}
	st["id"] = id
	if _, err := s.store(c, []map[string]any{st}, atts); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// postStatements serves POST /xapi/statements: one statement or an array of
// them, stored all or none; the answer is the array of their ids.
func (s *Server) postStatements(c *echo.Context) error {
	q, err := parseParams(c.Request())
	if err != nil {
		return err
	}
	if err := allowOnly(q); err != nil {
		return err
	}
	body, atts, err := s.readBody(c)
	if err != nil {
		return err
	}
	stmts, err := statements.ParseStatements(body, state(c).version)
	if err != nil {
		return err
	}
	if len(stmts) > s.cfg.MaxBatch {
		return errs.E(errs.TooLarge, "a batch may hold at most %d statements; this one has %d", s.cfg.MaxBatch, len(stmts))
	}
	ids, err := s.store(c, stmts, atts)
	if err != nil {
		return err
	}
	out := make([]byte, 0, 2+len(ids)*39)
	out = append(out, '[')
	for i, id := range ids {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, id...)
		out = append(out, '"')
	}
	out = append(out, ']')
	writeBody(c, http.StatusOK, "application/json", out)
	return nil
}

// readBody reads a PUT or POST body within the size limit. An
// application/json body is the statement JSON itself; a multipart/mixed body
// holds the statement JSON in its first part and attachments in the others.
func (s *Server) readBody(c *echo.Context) (body []byte, atts []statements.Attachment, err error) {
	r := c.Request()
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, nil, errs.Invalidf("", "content-type",
			"the Content-Type header is required: application/json, or multipart/mixed for statements with attachments")
	}
	mt, _, perr := mime.ParseMediaType(ct)
	if perr != nil {
		return nil, nil, errs.Invalidf("", "content-type", "malformed Content-Type %q: %v", ct, perr)
	}
	rd := newBodyReader(c, s.cfg.MaxBodyBytes)
	switch mt {
	case "application/json":
		body, err = readAll(rd, r.ContentLength, s.cfg.MaxBodyBytes)
	case "multipart/mixed":
		body, atts, err = statements.ReadMultipart(ct, rd, s.cfg.MaxBodyBytes)
	default:
		return nil, nil, errs.Invalidf("", "content-type",
			"Content-Type %s is not accepted: send application/json, or multipart/mixed for statements with attachments", mt)
	}
	if rd.err != nil { // however the multipart reader reported it
		return nil, nil, rd.error(fmt.Sprintf("the request body is larger than the %d bytes the LRS accepts", s.cfg.MaxBodyBytes))
	}
	if err != nil {
		return nil, nil, err
	}
	return body, atts, nil
}

// bodyReader reads a request body, at most limit bytes, and remembers the
// first error reading it (other than its end) and how much it read.
type bodyReader struct {
	req *http.Request
	r   io.Reader
	n   int64
	err error
}

func newBodyReader(c *echo.Context, limit int64) *bodyReader {
	return &bodyReader{req: c.Request(), r: http.MaxBytesReader(c.Response(), c.Request().Body, limit)}
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// error returns the client's error for b.err, the failure to read the
// body, which is never the server's fault: TooLarge (413) with the message
// tooLarge for a body over the limit; Timeout (408) for a body that
// stopped arriving until the server's read timeout passed; Invalid (400)
// for a body cut short (the client closed the connection before sending
// the Content-Length it announced) or otherwise unreadable. A client that
// went away does not see the answer, but the log and the metrics then
// count a 4xx, not an internal error.
func (b *bodyReader) error(tooLarge string) error {
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(b.err, &mbe):
		return &errs.Error{Kind: errs.TooLarge, Rule: "body-size", Message: tooLarge}
	case errors.Is(b.err, os.ErrDeadlineExceeded) || errors.As(b.err, &ne) && ne.Timeout():
		return &errs.Error{Kind: errs.Timeout, Rule: "body-timeout", Err: b.err,
			Message: fmt.Sprintf("the request body stopped arriving after %d bytes and the server's read timeout passed; send the request again", b.n)}
	case errors.Is(b.err, io.ErrUnexpectedEOF) && b.req.ContentLength > 0:
		return &errs.Error{Kind: errs.Invalid, Rule: "body-incomplete", Err: b.err,
			Message: fmt.Sprintf("the request body ended after %d of the %d bytes its Content-Length announced", b.n, b.req.ContentLength)}
	default:
		return &errs.Error{Kind: errs.Invalid, Rule: "body-incomplete", Err: b.err,
			Message: fmt.Sprintf("the request body could not be read after %d bytes: %v", b.n, b.err)}
	}
}

// readLimited reads the request body, at most limit bytes. A body over the
// limit is an errs.TooLarge error whose message is tooLarge; a body that
// cannot be read is a client error (see bodyReader.error).
func readLimited(c *echo.Context, limit int64, tooLarge string) ([]byte, error) {
	rd := newBodyReader(c, limit)
	body, err := readAll(rd, c.Request().ContentLength, limit)
	if err != nil {
		return nil, rd.error(tooLarge)
	}
	return body, nil
}

// readAll reads r to the end, sizing the buffer from the Content-Length.
func readAll(r io.Reader, contentLength, max int64) ([]byte, error) {
	if contentLength <= 0 || contentLength > max {
		return io.ReadAll(r)
	}
	buf := bytes.NewBuffer(make([]byte, 0, contentLength+1))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// store completes validated statements as the LRS must (id, stored,
// timestamp, authority, version), indexes them, and inserts them all or none.
// It returns their ids in order.
func (s *Server) store(c *echo.Context, stmts []map[string]any, atts []statements.Attachment) ([]string, error) {
	st := state(c)
	if err := statements.CheckAttachments(stmts, atts); err != nil {
		return nil, err
	}
	if err := verifySignatures(stmts, atts); err != nil {
		return nil, err
	}

	now := s.now().UTC().Truncate(time.Millisecond)
	stored := now.Format(storedLayout)
	authority := s.authority(c, st.cred)
	tenant := tenantOf(st.cred)

	ids := make([]string, len(stmts))
	recs := make([]*statements.Record, len(stmts))
	entries := 0 // index entries of recs
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i, stmt := range stmts {
		hash := statements.ContentHash(stmt) // of the statement as the client sent it
		id, _ := stmt["id"].(string)
		if id == "" {
			id = uuid.NewString()
		} else {
			id = strings.ToLower(id)
		}
		stmt["id"] = id
		stmt["stored"] = stored
		if t, ok := stmt["timestamp"]; !ok || t == nil {
			stmt["timestamp"] = stored
		}
		stmt["authority"] = authority
		statements.Normalize(stmt)
		if v, ok := stmt["version"]; !ok || v == nil {
			stmt["version"] = statementVersion(st.version)
		}

		buf.Reset()
		if err := enc.Encode(stmt); err != nil {
			return nil, errs.Wrap(err, "encoding a validated statement")
		}
		js := bytes.Clone(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}))
		rec := &statements.Record{
			Tenant:    tenant,
			ID:        id,
			Stored:    now,
			Authority: st.cred.Key,
			Hash:      hash,
			JSON:      js,
		}
		statements.Index(stmt, rec)
		if rec.Timestamp.IsZero() {
			rec.Timestamp = now
		}
		rec.AttachmentHashes = heldAttachments(stmt, atts)
		ids[i] = id
		recs[i] = rec
		entries += rec.IndexEntries()
	}
	if entries > statements.MaxIndexEntries {
		return nil, &errs.Error{Kind: errs.TooLarge, Rule: "index-entries",
			Message: fmt.Sprintf("the statements of this request name %d people and activities in all; this LRS accepts at most %d in one request (send fewer statements per request)",
				entries, statements.MaxIndexEntries)}
	}
	// With compliance reporting on, insert also projects the statements
	// into completion facts (voidings retract their targets'). Like the
	// activity definitions below, the projection is derived data: a
	// failure of it alone is logged, not reported to the client, and a
	// projection rebuild repairs it (reporting.go).
	if err := s.insert(c.Request().Context(), tenant, recs, atts, stmts); err != nil {
		return nil, err
	}
	if defs := definitions(stmts); len(defs) > 0 {
		// The definitions are derived data: the statements are stored, so
		// a failure here is logged and not reported to the client, whose
		// retry would not bring them again (the insert would be a no-op).
		if err := s.cfg.Activities.MergeActivities(c.Request().Context(), tenant, defs); err != nil {
			s.log.Error("updating activity definitions", "err", err, "activities", len(defs))
		}
	}
	return ids, nil
}

// authority is the Agent the LRS puts as authority on the statements a
// credential writes (xAPI Data 2.4.9: the LRS overwrites the authority with
// the Agent of the credential): identified by an account whose homePage is
// the LRS and whose name is the credential key.
func (s *Server) authority(c *echo.Context, cred *auth.Credential) map[string]any {
	home := s.cfg.BaseURL
	if home == "" {
		home = c.Scheme() + "://" + c.Request().Host
	}
	a := map[string]any{
		"objectType": "Agent",
		"account":    map[string]any{"homePage": home, "name": cred.Key},
	}
	if cred.Name != "" {
		a["name"] = cred.Name
	}
	return a
}

// heldAttachments returns the sha2 of the attachments of the statement (and
// of its SubStatement) whose raw data came with the request.
func heldAttachments(stmt map[string]any, atts []statements.Attachment) []string {
	if len(atts) == 0 {
		return nil
	}
	held := make(map[string]bool, len(atts))
	for _, att := range atts {
		held[strings.ToLower(att.SHA2)] = true
	}
	var out []string
	add := func(st map[string]any) {
		list, _ := st["attachments"].([]any)
		for _, a := range list {
			m, _ := a.(map[string]any)
			sha, _ := m["sha2"].(string)
			sha = strings.ToLower(sha)
			if held[sha] {
				held[sha] = false // listed once
				out = append(out, sha)
			}
		}
	}
	add(stmt)
	if obj, ok := stmt["object"].(map[string]any); ok && obj["objectType"] == "SubStatement" {
		add(obj)
	}
	return out
}

// verifySignatures checks the JWS of every signed statement (xAPI Data 2.6)
// against the statement as the client sent it. CheckAttachments has made
// sure that each signature came as a part.
func verifySignatures(stmts []map[string]any, atts []statements.Attachment) error {
	if len(atts) == 0 {
		return nil
	}
	for i, stmt := range stmts {
		list, _ := stmt["attachments"].([]any)
		for _, a := range list {
			m, _ := a.(map[string]any)
			if m["usageType"] != statements.SignatureUsageType {
				continue
			}
			sha, _ := m["sha2"].(string)
			for _, att := range atts {
				if !strings.EqualFold(att.SHA2, sha) {
					continue
				}
				if err := statements.VerifySignature(stmt, att.Data); err != nil {
					var e *errs.Error
					if len(stmts) > 1 && errors.As(err, &e) {
						ce := *e
						ce.Path = fmt.Sprintf("[%d].%s", i, e.Path)
						return &ce
					}
					return err
				}
				break
			}
		}
	}
	return nil
}
