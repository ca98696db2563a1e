package lrs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/ingest"
	"github.com/xapi-lrs/lrs/statements"
)

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
	req, err := s.ingestRequest(c)
	if err != nil {
		return err
	}
	if err := s.ingest.Put(c.Request().Context(), id, req); err != nil {
		return err
	}
	s.metrics.countAccepted(1)
	s.launchWritten(c)
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
	req, err := s.ingestRequest(c)
	if err != nil {
		return err
	}
	ids, err := s.ingest.Post(c.Request().Context(), req)
	if err != nil {
		return err
	}
	s.metrics.countAccepted(len(ids))
	s.launchWritten(c)
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

// ingestRequest decodes a PUT or POST of statements for the ingest
// service: its body (readBody), the request's xAPI version and who writes.
func (s *Server) ingestRequest(c *echo.Context) (ingest.Request, error) {
	body, atts, err := s.readBody(c)
	if err != nil {
		return ingest.Request{}, err
	}
	req := ingest.Request{
		Writer:      s.writer(c),
		Version:     state(c).version,
		Body:        body,
		Attachments: atts,
	}
	if st := state(c); st.launch != nil {
		req.Restrict = func(stmts []map[string]any) error {
			if err := st.launch.CheckStatements(stmts); err != nil {
				return err
			}
			if st.launch.AU != "" {
				if err := s.launch.CheckCMI5Statements(c.Request().Context(), st.launch, stmts); err != nil {
					return err
				}
			}
			st.written = stmts
			return nil
		}
	}
	return req, nil
}
