package lrs_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// as returns s with failures reported to t.
func (s *testServer) as(t testing.TB) *testServer {
	c := *s
	c.t = t
	return &c
}

// expect4xx fails unless r is a client error with a JSON error body (HEAD
// responses have no body).
func expect4xx(t testing.TB, what string, method string, r *response) {
	t.Helper()
	if r.status < 400 || r.status > 499 {
		t.Errorf("%s: status %d, want 4xx; body %.300s", what, r.status, r.body)
		return
	}
	if method == "HEAD" {
		return
	}
	var e struct {
		Error struct{ Kind, Message string } `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Kind == "" || e.Error.Message == "" {
		t.Errorf("%s: 4xx without a JSON error body: %.300s", what, r.body)
	}
}

// TestBadInputIs4xx sends a catalogue of malformed requests; each must get a
// 4xx with a JSON error, never a 500.
func TestBadInputIs4xx(t *testing.T) {
	s := newServer(t)
	id := s.post(stmt("ann", "attended"))[0]
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	deepObj := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	bodies := map[string]string{
		"empty":            "",
		"null":             "null",
		"true":             "true",
		"string":           `"statement"`,
		"number":           "1e999999",
		"array of null":    "[null]",
		"array of arrays":  "[[]]",
		"open brace":       "{",
		"nul byte":         "\x00",
		"bad utf8":         "{\"actor\":\"\xff\xfe\"}",
		"deep array":       deep,
		"deep object":      deepObj,
		"duplicate keys":   `{"actor":{"mbox":"mailto:a@b.c"},"actor":{"mbox":"mailto:a@b.c"},"verb":{"id":"http://a.b/c"},"object":{"id":"http://a.b/d"}}`,
		"case keys":        `{"Actor":{"mbox":"mailto:a@b.c"},"verb":{"id":"http://a.b/c"},"object":{"id":"http://a.b/d"}}`,
		"wrong types":      `{"id":5,"actor":[],"verb":"x","object":null,"result":"r","context":7,"timestamp":true,"attachments":{}}`,
		"huge id":          `{"id":"` + strings.Repeat("a", 100000) + `"}`,
		"numbers as keys":  `{"1":2}`,
		"trailing comma":   `{"actor":{"mbox":"mailto:a@b.c"},}`,
		"two values":       `{} []`,
		"big int score":    string(mustJSON(t, stmt("a", "b", "result", map[string]any{"score": map[string]any{"raw": json.Number("1" + strings.Repeat("0", 400))}}))),
		"stmt ref no id":   `{"actor":{"mbox":"mailto:a@b.c"},"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"},"object":{"objectType":"StatementRef"}}`,
		"voiding activity": string(mustJSON(t, stmt("a", "voided"))),
	}
	var reqs []req
	for name, b := range bodies {
		reqs = append(reqs,
			req{method: "POST", path: "/xapi/statements", body: b, header: map[string]string{"X-Case": "POST " + name}},
			req{method: "PUT", path: "/xapi/statements?statementId=" + newID(), body: b, header: map[string]string{"X-Case": "PUT " + name}},
		)
	}
	ctypes := []string{"-", "text/plain", "application/xml", "multipart/form-data; boundary=a", "multipart/mixed",
		"multipart/mixed; boundary=", "multipart/mixed; boundary=\"unterminated", "application/json; charset", ";;;",
		"application/x-www-form-urlencoded"}
	for _, ct := range ctypes {
		reqs = append(reqs, req{method: "POST", path: "/xapi/statements", body: mustJSON(t, stmt("a", "b")), ctype: ct,
			header: map[string]string{"X-Case": "content type " + ct}})
	}
	multiparts := map[string]string{
		"no parts":          "--b\r\n--b--\r\n",
		"garbage":           "this is not multipart",
		"no closing":        "--b\r\nContent-Type: application/json\r\n\r\n{}",
		"first not json":    "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n",
		"first bad json":    "--b\r\nContent-Type: application/json\r\n\r\n{{{\r\n--b--\r\n",
		"part without hash": "--b\r\nContent-Type: application/json\r\n\r\n" + string(mustJSON(t, stmt("a", "b"))) + "\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n",
		"header garbage":    "--b\r\n\x00\x01\x02\r\n\r\n{}\r\n--b--\r\n",
		"huge header line":  "--b\r\nContent-Type: " + strings.Repeat("a", 100000) + "\r\n\r\n{}\r\n--b--\r\n",
	}
	for name, b := range multiparts {
		reqs = append(reqs, req{method: "POST", path: "/xapi/statements", body: b, ctype: "multipart/mixed; boundary=b",
			header: map[string]string{"X-Case": "multipart " + name}})
	}
	queries := []string{
		"statementId=" + id + "&agent=%7B", "agent=%7B%7D", "agent=" + url.QueryEscape(strings.Repeat("[", 50000)),
		"agent=" + url.QueryEscape(`{"mbox":"mailto:a@b.c","openid":"http://x.y"}`), "since=" + strings.Repeat("9", 1000),
		"limit=99999999999999999999999", "more=" + strings.Repeat("A", 5000) + "." + strings.Repeat("A", 22),
		"more=%00", "verb=%FF", "activity=http://a.b/%zz", "registration=%00", "format=%00", "a=%", "=", "statementId", "verb=", "agent=&verb=x:y",
	}
	for _, q := range queries {
		for _, m := range []string{"GET", "HEAD"} {
			reqs = append(reqs, req{method: m, path: "/xapi/statements?" + q, header: map[string]string{"X-Case": m + " ?" + q}})
		}
	}
	// A garbled Accept-Language only loses its preference.
	r := s.do(req{method: "GET", path: "/xapi/statements?statementId=" + id + "&format=canonical",
		header: map[string]string{"Accept-Language": strings.Repeat("en;q=0.5,", 5000) + "\xff;q=x"}})
	expect(t, r, http.StatusOK)
	reqs = append(reqs,
		req{method: "GET", path: "/xapi/statements", version: "\xff\xfe", header: map[string]string{"X-Case": "binary version"}},
		req{method: "GET", path: "/xapi/statements", version: strings.Repeat("1.0.", 2000), header: map[string]string{"X-Case": "long version"}},
		req{method: "GET", path: "/xapi/%2e%2e/statements", header: map[string]string{"X-Case": "dot path"}},
		req{method: "GET", path: "/xapi/statements%00", header: map[string]string{"X-Case": "nul path"}},
	)
	for _, r := range reqs {
		got := s.do(r)
		expect4xx(t, r.header["X-Case"], r.method, got)
	}
}

// TestRandomBodies posts random bytes and random mutations of valid
// statements: garbage is a 4xx, and no body is ever a 5xx.
func TestRandomBodies(t *testing.T) {
	s := newServer(t)
	rng := rand.New(rand.NewPCG(1, 2))
	valid := mustJSON(t, stmt("ann", "attended", "context", map[string]any{
		"registration":      newID(),
		"contextActivities": map[string]any{"parent": map[string]any{"id": "http://example.com/p"}},
	}, "result", map[string]any{"score": map[string]any{"scaled": 0.5}, "success": true, "duration": "PT1H"}))
	alphabet := []byte(`{}[]":,.-+eE0123456789 abcdefghijklmnopqrstuvwxyz\/` + "\x00\xff\n")
	for i := 0; i < 300; i++ {
		var body []byte
		garbage := i%3 == 0
		if garbage {
			body = make([]byte, rng.IntN(200))
			for j := range body {
				body[j] = byte(rng.IntN(256))
			}
			if len(body) > 0 && i%2 == 0 {
				body[0] = '{'
			}
		} else {
			body = bytes.Clone(valid)
			for n := 1 + rng.IntN(3); n > 0; n-- {
				p := rng.IntN(len(body))
				switch rng.IntN(3) {
				case 0:
					body = append(body[:p], body[p+1:]...)
				case 1:
					body = append(body[:p], append([]byte{alphabet[rng.IntN(len(alphabet))]}, body[p:]...)...)
				default:
					body[p] = alphabet[rng.IntN(len(alphabet))]
				}
			}
		}
		for _, v := range []string{"1.0.3", "2.0.0"} {
			r := s.do(req{method: "POST", path: "/xapi/statements", body: body, version: v})
			if r.status >= 500 || garbage && r.status != http.StatusBadRequest && r.status != http.StatusOK {
				t.Errorf("body %q (%s): status %d: %s", body, v, r.status, r.body)
			}
			if garbage && r.status == http.StatusOK {
				t.Errorf("random bytes %q accepted as a statement", body)
			}
			if r.status != http.StatusOK {
				expect4xx(t, string(body), "POST", r)
			}
		}
	}
}

// FuzzPostStatement feeds bodies to POST /xapi/statements: whatever the
// body, the answer is 200 or a 4xx. Its seeds (and
// testdata/fuzz/FuzzPostStatement) run with the other tests.
func FuzzPostStatement(f *testing.F) {
	s := newServer(f)
	f.Add([]byte(mustJSON(f, stmt("ann", "attended"))), "application/json")
	f.Add([]byte(`[`+string(mustJSON(f, stmt("a", "b")))+`,{}]`), "application/json")
	f.Add([]byte("--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b--\r\n"), "multipart/mixed; boundary=b")
	f.Add([]byte(`{"actor":{"objectType":"Group","member":[]},"verb":{"id":"x:y"},"object":{"objectType":"SubStatement"}}`), "application/json")
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		if ctype == "" {
			ctype = "-"
		}
		for _, c := range []byte(ctype) {
			if c < ' ' && c != '\t' || c == 0x7f {
				t.Skip("not a header value an HTTP client can send")
			}
		}
		r := s.as(t).do(req{method: "POST", path: "/xapi/statements", body: body, ctype: ctype})
		if r.status != http.StatusOK {
			expect4xx(t, string(body), "POST", r)
		}
	})
}
