package lrs_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/lrs"
)

// TestHeaderLimit: a request whose URL and headers exceed lrs.MaxHeaderBytes
// gets net/http's own plain-text 431 (the one answer that cannot be JSON,
// see MaxHeaderBytes); one just within the limit reaches the service, and
// the server goes on serving.
func TestHeaderLimit(t *testing.T) {
	s := serveReal(t)
	about := func(pad string) *response {
		conn := s.send(t, "GET /xapi/about HTTP/1.1\nHost: lrs.test\nX-Pad: "+pad+"\nConnection: close\n", "", "")
		return readResponse(t, conn)
	}
	if r := about(strings.Repeat("a", lrs.MaxHeaderBytes-200)); r.status != http.StatusOK {
		t.Fatalf("headers within the limit: %d %s", r.status, r.body)
	}
	r := about(strings.Repeat("a", lrs.MaxHeaderBytes+8<<10))
	if r.status != http.StatusRequestHeaderFieldsTooLarge || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("headers over the limit: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	// A long URL counts too.
	conn := s.send(t, "GET /xapi/about?x="+strings.Repeat("a", lrs.MaxHeaderBytes+8<<10)+" HTTP/1.1\nHost: lrs.test\n", "", "")
	if r := readResponse(t, conn); r.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("URL over the limit: %d %s", r.status, r.body)
	}
	if r := about("x"); r.status != http.StatusOK {
		t.Errorf("after the 431s: %d %s", r.status, r.body)
	}
}

// TestLoneSurrogate: a statement with a lone UTF-16 surrogate escape is
// refused (it names no character and could be stored only by changing it);
// a surrogate pair is stored as the character it encodes.
func TestLoneSurrogate(t *testing.T) {
	s := newServer(t)
	body := func(name string) string {
		return `{"actor":{"name":"` + name + `","mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/o"}}`
	}
	for _, r := range []*response{
		s.do(req{method: "POST", path: "/xapi/statements", body: body(`Ann \ud800`)}),
		s.do(req{method: "PUT", path: "/xapi/statements?statementId=" + newID(), body: body(`\udc00Ann`)}),
		s.do(req{method: "POST", path: "/xapi/statements", body: "[" + body("Ann") + "," + body(`\ud83d\ud83d`) + "]"}),
	} {
		expect(t, r, http.StatusBadRequest)
		if e := errorOf(t, r); e.Rule != "json-surrogate" {
			t.Errorf("error %+v, want rule json-surrogate", e)
		}
	}
	r := s.do(req{method: "POST", path: "/xapi/statements", body: body(`Ann \ud83d\ude00`)})
	expect(t, r, http.StatusOK)
	var ids []string
	r.json(t, &ids)
	id := ids[0]
	if got := s.get(id)["actor"].(map[string]any)["name"]; got != "Ann 😀" {
		t.Errorf("name stored as %q", got)
	}
}
