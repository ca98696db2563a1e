package lrs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/errs"
)

// kindStatus is the one table from error kind to HTTP status.
var kindStatus = map[errs.Kind]int{
	errs.Internal:           http.StatusInternalServerError,
	errs.Invalid:            http.StatusBadRequest,
	errs.Unauthorized:       http.StatusUnauthorized,
	errs.Forbidden:          http.StatusForbidden,
	errs.NotFound:           http.StatusNotFound,
	errs.Conflict:           http.StatusConflict,
	errs.PreconditionFailed: http.StatusPreconditionFailed,
	errs.TooLarge:           http.StatusRequestEntityTooLarge,
	errs.UnsupportedMedia:   http.StatusUnsupportedMediaType,
	errs.TooManyRequests:    http.StatusTooManyRequests,
	errs.Unavailable:        http.StatusServiceUnavailable,
	errs.Timeout:            http.StatusRequestTimeout,
}

// HTTPStatus returns the HTTP status of an error of kind k (500 for a kind
// the table lacks): the pages for people (package web) answer errors with
// the same statuses as the API.
func HTTPStatus(k errs.Kind) int {
	if status, ok := kindStatus[k]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
	Rule    string `json:"rule,omitempty"`
}

// handleError is the Echo error handler: it answers every error a handler or
// middleware returns. *errs.Error values are mapped through kindStatus; the
// router's 404 and 405 and a body over the size limit get their status; any
// other error is internal: logged with an id, and answered with a 500 whose
// body shows only that id.
func (s *Server) handleError(c *echo.Context, err error) {
	if r, _ := echo.UnwrapResponse(c.Response()); r != nil && r.Committed {
		s.log.Error("error after response was sent", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		return
	}
	status, detail := s.describe(c, err)
	h := c.Response().Header()
	if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		// Challenge in the scheme the client tried (RFC 6750 for tokens,
		// when the server takes them).
		if f := strings.Fields(c.Request().Header.Get("Authorization")); s.cfg.Tokens != nil && len(f) > 0 && strings.EqualFold(f[0], "Bearer") {
			h.Set("WWW-Authenticate", `Bearer realm="LRS", error="invalid_token"`)
		} else {
			h.Set("WWW-Authenticate", `Basic realm="LRS"`)
		}
	}
	body, mErr := json.Marshal(errorBody{Error: detail})
	if mErr != nil { // cannot happen: the body holds only strings
		body = []byte(`{"error":{"kind":"internal","message":"internal error"}}`)
	}
	writeBody(c, status, "application/json", body)
}

// describe returns the status and the client-facing description of err.
func (s *Server) describe(c *echo.Context, err error) (int, errorDetail) {
	var e *errs.Error
	if errors.As(err, &e) && e.Kind != errs.Internal {
		status, ok := kindStatus[e.Kind]
		if ok {
			return status, errorDetail{Kind: e.Kind.String(), Message: e.Message, Path: e.Path, Rule: e.Rule}
		}
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return http.StatusRequestEntityTooLarge, errorDetail{Kind: errs.TooLarge.String(),
			Message: "request body is larger than the limit of " + itoa(tooLarge.Limit) + " bytes"}
	}
	if e == nil || e.Kind != errs.Internal {
		switch echo.StatusCode(err) {
		case http.StatusNotFound:
			return http.StatusNotFound, errorDetail{Kind: errs.NotFound.String(),
				Message: "no resource at " + c.Request().Method + " " + c.Request().URL.Path}
		case http.StatusMethodNotAllowed:
			msg := "method " + c.Request().Method + " is not allowed on " + c.Request().URL.Path
			if allow := c.Response().Header().Get("Allow"); allow != "" {
				msg += "; allowed: " + allow
			}
			return http.StatusMethodNotAllowed, errorDetail{Kind: "method_not_allowed", Message: msg}
		case http.StatusRequestEntityTooLarge:
			return http.StatusRequestEntityTooLarge, errorDetail{Kind: errs.TooLarge.String(), Message: "request body too large"}
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		s.log.Warn("request not completed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		return http.StatusServiceUnavailable, errorDetail{Kind: errs.Unavailable.String(),
			Message: "the request was cancelled or timed out before it completed; retry it"}
	}
	id := errorID()
	s.log.Error("internal error", "id", id, "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	return http.StatusInternalServerError, errorDetail{Kind: errs.Internal.String(),
		Message: "internal error (id " + id + "); the server log has the details"}
}

// errorID returns a short random id that ties a 500 response to its log line.
func errorID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// writeBody writes a complete response with an exact Content-Length. For HEAD
// requests net/http sends the headers and drops the body.
func writeBody(c *echo.Context, status int, contentType string, body []byte) {
	h := c.Response().Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", itoa(int64(len(body))))
	c.Response().WriteHeader(status)
	if c.Request().Method != http.MethodHead {
		_, _ = c.Response().Write(body)
	}
}
