package lrs_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// docMethods are the methods FuzzDocuments sends.
var docMethods = []string{"PUT", "POST", "GET", "DELETE", "HEAD"}

// validHeader reports whether an HTTP client can send v as a header value.
func validHeader(v string) bool {
	for _, c := range []byte(v) {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// FuzzDocuments drives the State, Activity Profile and Agent Profile
// resources through the real server with arbitrary bodies, Content-Types,
// If-Match / If-None-Match values and document ids: the answer is never a
// 5xx, every 4xx has a JSON error body, a document a PUT stored reads back
// byte for byte with its Content-Type, and a POST's properties are in the
// document it merged into. op picks the resource, the method and the
// version. Its seeds (and testdata/fuzz/FuzzDocuments) run with the other
// tests.
func FuzzDocuments(f *testing.F) {
	s := newServer(f)
	// op: resource = op%3, method = docMethods[op/3%5], 1.0.3 when op >= 128.
	f.Add(uint8(0), []byte("hello"), "text/plain", "", "", "a")
	f.Add(uint8(3), []byte(`{"a":1}`), "application/json", "", "", "a")
	f.Add(uint8(3), []byte(`{"b":[1,2]}`), "application/json; charset=utf-8", "*", "", "a")
	f.Add(uint8(4), []byte(`{"a":1}`), "application/json", "", "*", "b")
	f.Add(uint8(1), []byte("\x00\x01\x02\xff"), "application/octet-stream", "", "*", "bin")
	f.Add(uint8(2), []byte("x"), "", `"0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33"`, "", "c")
	f.Add(uint8(6), []byte(nil), "", "", `W/"abc", "def"`, "a")
	f.Add(uint8(9), []byte(nil), "", "", "", "")
	f.Add(uint8(10), []byte(nil), "", "*", "", "a")
	f.Add(uint8(12), []byte(nil), "", "", "", "a")
	f.Add(uint8(128), []byte("y"), "text/plain", "", "", "a")
	f.Add(uint8(129), []byte("y"), "text/plain", "", "", "p")
	f.Add(uint8(3), []byte("\u00a0{}"), "application/json", "", "", "nbsp")
	f.Add(uint8(3), []byte(`[1]`), "application/json", "", "", "array")
	f.Add(uint8(0), []byte("{"), "application/json", "", "", "badjson")
	f.Add(uint8(0), []byte("x"), "text/plain; charset", "", "", "badct")
	f.Add(uint8(0), []byte("x"), "text/plain", "a b", "", "badtag")
	f.Add(uint8(0), []byte("x"), "text/plain", "", "", "id with spaces & ünïcödé")
	f.Fuzz(func(t *testing.T, op uint8, body []byte, ctype, ifMatch, ifNoneMatch, id string) {
		if !validHeader(ctype) || !validHeader(ifMatch) || !validHeader(ifNoneMatch) {
			t.Skip("not a header value an HTTP client can send")
		}
		d := docResources[int(op)%len(docResources)]
		method := docMethods[int(op)/len(docResources)%len(docMethods)]
		version := "2.0.0"
		if op >= 128 {
			version = "1.0.3"
		}
		r := req{method: method, path: d.url(id), version: version, header: map[string]string{}}
		if method == "PUT" || method == "POST" {
			r.body, r.ctype = body, ctype
			if ctype == "" {
				r.ctype = "-"
			}
		}
		if ifMatch != "" {
			r.header["If-Match"] = ifMatch
		}
		if ifNoneMatch != "" {
			r.header["If-None-Match"] = ifNoneMatch
		}
		ts := s.as(t)
		got := ts.do(r)
		what := method + " " + d.name
		switch {
		case got.status >= 500:
			t.Fatalf("%s: status %d: %s", what, got.status, got.body)
		case got.status >= 400:
			expect4xx(t, what, method, got)
			return
		case got.status != http.StatusNoContent || id == "":
			return
		}
		// What a PUT stored, a GET returns.
		after := ts.do(req{method: "GET", path: d.url(id), version: version})
		if after.status != http.StatusOK {
			if method == "DELETE" && after.status == http.StatusNotFound {
				return
			}
			t.Fatalf("%s answered 204, then GET: status %d: %s", what, after.status, after.body)
		}
		switch method {
		case "PUT":
			want := strings.Trim(ctype, " \t") // as the server reads the header
			if want == "" {
				want = "application/octet-stream"
			}
			if !bytes.Equal(after.body, body) || after.header.Get("Content-Type") != want {
				t.Fatalf("%s stored %q (%s), GET returned %q (%s)", what, body, want, after.body, after.header.Get("Content-Type"))
			}
		case "POST":
			var sent, doc map[string]json.RawMessage
			if err := json.Unmarshal(body, &sent); err != nil {
				t.Fatalf("%s merged a body that is not a JSON object (%v): %q", what, err, body)
			}
			if err := json.Unmarshal(after.body, &doc); err != nil || after.header.Get("Content-Type") != "application/json" {
				t.Fatalf("%s left a document that is not a JSON object (%v): %q (%s)", what, err, after.body, after.header.Get("Content-Type"))
			}
			for k, v := range sent {
				var a, b bytes.Buffer
				_ = json.Compact(&a, v)
				_ = json.Compact(&b, doc[k])
				if !bytes.Equal(a.Bytes(), b.Bytes()) {
					t.Fatalf("%s sent %s: %s, the document has %s", what, k, v, doc[k])
				}
			}
		case "DELETE":
			t.Fatalf("%s answered 204, yet the document is still there", what)
		}
	})
}
