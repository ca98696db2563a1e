package lrs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/errs"
)

// TestHandleError checks the error table on errors no request can provoke
// from a healthy store: an internal error is logged with an id and answered
// with a body that shows nothing else.
func TestHandleError(t *testing.T) {
	var logs bytes.Buffer
	s := New(Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	cases := []struct {
		err    error
		status int
		kind   string
	}{
		{errors.New("sql: secret table xyz is broken"), 500, "internal"},
		{errs.Wrap(errors.New("disk full at /var/secret"), "inserting"), 500, "internal"},
		{fmt.Errorf("wrapped: %w", errs.E(errs.Conflict, "statement exists")), 409, "conflict"},
		{errs.E(errs.PreconditionFailed, "etag"), 412, "precondition_failed"},
		{errs.E(errs.UnsupportedMedia, "no"), 415, "unsupported_media_type"},
		{errs.E(errs.TooManyRequests, "slow down"), 429, "too_many_requests"},
		{errs.E(errs.Unavailable, "down"), 503, "unavailable"},
		{errs.E(errs.Timeout, "too slow"), 408, "request_timeout"},
		{&http.MaxBytesError{Limit: 10}, 413, "too_large"},
	}
	for _, c := range cases {
		logs.Reset()
		rec := httptest.NewRecorder()
		ctx := s.echo.NewContext(httptest.NewRequest("GET", "/xapi/statements", nil), rec)
		s.handleError(ctx, c.err)
		if rec.Code != c.status {
			t.Errorf("%v: status %d, want %d", c.err, rec.Code, c.status)
		}
		var body errorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Kind != c.kind {
			t.Errorf("%v: body %s, want kind %s", c.err, rec.Body, c.kind)
		}
		if c.status == 500 {
			if strings.Contains(rec.Body.String(), "secret") {
				t.Errorf("500 body reveals the cause: %s", rec.Body)
			}
			id := strings.TrimSuffix(strings.TrimPrefix(body.Error.Message, "internal error (id "), "); the server log has the details")
			if len(id) != 12 || !strings.Contains(logs.String(), id) || !strings.Contains(logs.String(), "secret") {
				t.Errorf("log %q lacks the id %q or the cause", logs.String(), id)
			}
		}
	}
}
