package lrs

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestPanicIsA500 checks that a panicking handler is answered with a 500
// that carries an error id and nothing else, that the stack reaches the
// log, and that the request is counted.
func TestPanicIsA500(t *testing.T) {
	logs := &strings.Builder{}
	reg := prometheus.NewRegistry()
	s := New(Config{Logger: slog.New(slog.NewJSONHandler(logs, nil)), Metrics: reg})
	s.echo.GET("/boom", func(c *echo.Context) error { panic("the secret is hunter2") })
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	res, err := http.Get(ts.URL + "/boom")
	if err != nil {
		t.Fatalf("the connection broke instead of a 500: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 500 || !strings.Contains(string(body), `"kind":"internal"`) || strings.Contains(string(body), "hunter2") {
		t.Errorf("panic answered %d %s", res.StatusCode, body)
	}
	if res.Header.Get(RequestIDHeader) == "" {
		t.Error("no request id on the 500")
	}
	if !strings.Contains(logs.String(), "handler panicked") || !strings.Contains(logs.String(), "requestlog_internal_test.go") {
		t.Errorf("the log lacks the panic and its stack: %s", logs.String())
	}
	var m dto.Metric
	if err := s.metrics.requests.WithLabelValues("/boom", "GET", "500").Write(&m); err != nil || m.Counter.GetValue() != 1 {
		t.Errorf("the 500 was counted %v times (%v)", m.Counter.GetValue(), err)
	}

	// http.ErrAbortHandler keeps its meaning: the connection is dropped.
	s.echo.GET("/abort", func(c *echo.Context) error { panic(http.ErrAbortHandler) })
	if res, err := http.Get(ts.URL + "/abort"); err == nil {
		res.Body.Close()
		t.Errorf("ErrAbortHandler answered %d", res.StatusCode)
	}
}
