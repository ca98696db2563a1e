package lrs_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/xapi-lrs/lrs/lrs"
)

// realServer is the service served by lrs.Server.Serve on a loopback port:
// the http.Server with its timeouts and header limit, which httptest does
// not have.
type realServer struct {
	addr string
	logs *syncBuffer
}

func serveReal(t *testing.T, edit ...func(*lrs.Config)) *realServer {
	t.Helper()
	logs := &syncBuffer{}
	srv, _, _ := newService(t, append([]func(*lrs.Config){func(c *lrs.Config) {
		c.Metrics = prometheus.NewRegistry()
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}}, edit...)...)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Shutdown(t.Context())
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &realServer{addr: l.Addr().String(), logs: logs}
}

// send opens a connection, writes head (the request line and headers,
// without the blank line) and body, then does what then says: "close"
// closes the connection, "half-close" closes its sending side, "" keeps it
// open. It returns the connection.
func (s *realServer) send(t *testing.T, head, body, then string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	conn := c.(*net.TCPConn)
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, strings.ReplaceAll(head, "\n", "\r\n")+"\r\n"+body); err != nil {
		t.Fatal(err)
	}
	switch then {
	case "close":
		conn.Close()
	case "half-close":
		conn.CloseWrite()
	}
	return conn
}

// readResponse reads the response on conn.
func readResponse(t *testing.T, conn net.Conn) *response {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &response{status: res.StatusCode, header: res.Header, body: b}
}

// wantError fails unless r has status and a JSON error body with rule.
func wantError(t *testing.T, r *response, status int, rule string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if e := errorOf(t, r); e.Rule != rule || e.Message == "" {
		t.Errorf("error %+v, want rule %s", e, rule)
	}
}

// requests returns the lrs_http_requests_total series of route by status.
func (s *realServer) requests(t *testing.T, route string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	fams := scrape(t, "http://"+s.addr, "")
	f := fams["lrs_http_requests_total"]
	if f == nil {
		return out
	}
	for _, m := range f.Metric {
		if label(m, "route") == route {
			out[label(m, "status")] += m.Counter.GetValue()
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// statementHead is the head of a request to the Statements resource with
// a body of contentLength bytes of type ctype.
func statementHead(method, query, ctype string, contentLength int) string {
	return fmt.Sprintf("%s /xapi/statements%s HTTP/1.1\nHost: lrs.test\nAuthorization: Basic %s\n"+
		"X-Experience-API-Version: 2.0.0\nContent-Type: %s\nContent-Length: %d\n",
		method, query, b64("admin:admin-secret"), ctype, contentLength)
}

const partialStatement = `{"actor":{"mbox":"mailto:a@example.com"},"verb":`

// TestTruncatedStatementBody: a statement body that ends before its
// Content-Length (the client closed the connection) is a 400 naming what
// arrived, by PUT and POST, as JSON and as multipart; it is counted as a
// 400, never as an internal error, also when the client is gone and cannot
// read the answer.
func TestTruncatedStatementBody(t *testing.T) {
	s := serveReal(t)
	multipart := "--b\r\nContent-Type: application/json\r\n\r\n" + partialStatement
	for _, tc := range []struct {
		name, method, query, ctype, body string
	}{
		{"POST JSON", "POST", "", "application/json", partialStatement},
		{"PUT JSON", "PUT", "?statementId=" + newID(), "application/json", partialStatement},
		{"POST multipart", "POST", "", "multipart/mixed; boundary=b", multipart},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := s.send(t, statementHead(tc.method, tc.query, tc.ctype, 1000), tc.body, "half-close")
			r := readResponse(t, conn)
			wantError(t, r, http.StatusBadRequest, "body-incomplete")
			if want := fmt.Sprintf("after %d of the 1000 bytes", len(tc.body)); !strings.Contains(string(r.body), want) {
				t.Errorf("message does not say %q: %s", want, r.body)
			}
		})
	}

	// The client closes the connection altogether: nobody reads the
	// answer, but the metrics count a 400.
	before := s.requests(t, "/xapi/statements")
	s.send(t, statementHead("POST", "", "application/json", 1000), partialStatement, "close")
	deadline := time.Now().Add(10 * time.Second)
	for s.requests(t, "/xapi/statements")["400"] == before["400"] {
		if time.Now().After(deadline) {
			t.Fatalf("the request of a client that went away was not counted: %v", s.requests(t, "/xapi/statements"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := s.requests(t, "/xapi/statements")["500"]; n != 0 {
		t.Errorf("%v requests counted as 500", n)
	}
	if strings.Contains(s.logs.String(), "internal error") {
		t.Errorf("a truncated body was logged as an internal error:\n%s", s.logs)
	}
}

// TestStalledStatementBody: a body that stops arriving is answered 408
// once the server's read timeout passes, on the Statements resource (JSON
// and multipart) and on a document resource alike.
func TestStalledStatementBody(t *testing.T) {
	s := serveReal(t, func(c *lrs.Config) { c.ReadTimeout = 500 * time.Millisecond })
	multipart := "--b\r\nContent-Type: application/json\r\n\r\n" + partialStatement
	state := fmt.Sprintf("PUT /xapi/activities/state?activityId=%s&agent=%s&stateId=s HTTP/1.1\nHost: lrs.test\n"+
		"Authorization: Basic %s\nX-Experience-API-Version: 2.0.0\nContent-Type: application/json\nContent-Length: 100\n",
		"http%3A%2F%2Fexample.com%2Fa", "%7B%22mbox%22%3A%22mailto%3Aa%40example.com%22%7D", b64("admin:admin-secret"))
	for _, tc := range []struct{ name, head, body string }{
		{"POST JSON", statementHead("POST", "", "application/json", 1000), partialStatement},
		{"PUT JSON", statementHead("PUT", "?statementId="+newID(), "application/json", 1000), partialStatement},
		{"POST multipart", statementHead("POST", "", "multipart/mixed; boundary=b", 1000), multipart},
		{"PUT state", state, `{"a":`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := readResponse(t, s.send(t, tc.head, tc.body, ""))
			wantError(t, r, http.StatusRequestTimeout, "body-timeout")
			if d := time.Since(start); d < 400*time.Millisecond {
				t.Errorf("answered after %v, before the read timeout", d)
			}
		})
	}
	if strings.Contains(s.logs.String(), "internal error") {
		t.Errorf("a stalled body was logged as an internal error:\n%s", s.logs)
	}
	var e struct{ Error struct{ Kind string } }
	r := readResponse(t, s.send(t, statementHead("POST", "", "application/json", 1000), partialStatement, ""))
	if json.Unmarshal(r.body, &e); e.Error.Kind != "request_timeout" {
		t.Errorf("kind %q, want request_timeout", e.Error.Kind)
	}
}
