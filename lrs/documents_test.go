package lrs_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/lrs"
)

// Parameters the document tests share.
const (
	course     = "http://example.com/activities/course-1"
	annAgent   = `{"mbox":"mailto:ann@example.com"}`
	bobAgent   = `{"mbox":"mailto:bob@example.com"}`
	stateReg1  = "5b0d0b2c-8c8e-4c4a-9c3e-1f3a2b4c5d6e"
	stateReg2  = "0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b"
	statePath  = "/xapi/activities/state"
	actProfile = "/xapi/activities/profile"
	agtProfile = "/xapi/agents/profile"
)

// docRes is one of the three document resources with the parameters of a
// document of the tests.
type docRes struct {
	name    string
	path    string
	idParam string
	params  []string // name, value pairs besides the id
}

var docResources = []docRes{
	{"state", statePath, "stateId", []string{"activityId", course, "agent", annAgent}},
	{"activity profile", actProfile, "profileId", []string{"activityId", course}},
	{"agent profile", agtProfile, "profileId", []string{"agent", annAgent}},
}

// url returns the resource's URL path for document id ("" for none) with
// the extra name, value pairs.
func (d docRes) url(id string, extra ...string) string {
	pairs := slices.Clone(d.params)
	if id != "" {
		pairs = append(pairs, d.idParam, id)
	}
	return withQuery(d.path, append(pairs, extra...)...)
}

// withQuery returns path with the name, value pairs as its query string.
func withQuery(path string, pairs ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Add(pairs[i], pairs[i+1])
	}
	return path + "?" + v.Encode()
}

// errorDetail is the "error" object of a JSON error body.
type errorDetail struct {
	Kind, Message, Path, Rule string
}

// errorDetail decodes a JSON error body, failing if the body is not one.
func (r *response) errorDetail(t testing.TB) errorDetail {
	t.Helper()
	var e struct {
		Error errorDetail `json:"error"`
	}
	r.json(t, &e)
	if e.Error.Kind == "" || e.Error.Message == "" {
		t.Fatalf("error body without kind and message: %s", r.body)
	}
	return e.Error
}

// expectError fails unless r has status and a JSON error body whose path
// is path (any path when path is "*").
func expectError(t testing.TB, what string, r *response, status int, path string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d; body %.300s", what, r.status, status, r.body)
		return
	}
	e := r.errorDetail(t)
	if path != "*" && e.Path != path {
		t.Errorf("%s: error path %q, want %q (%s)", what, e.Path, path, e.Message)
	}
}

// etag returns the ETag header of r, failing unless it is the quoted SHA-1
// of want, the document content.
func etag(t testing.TB, r *response, want []byte) string {
	t.Helper()
	got := r.header.Get("ETag")
	if exp := `"` + documents.ComputeETag(want) + `"`; got != exp {
		t.Fatalf("ETag %q, want %q", got, exp)
	}
	return got
}

// getDoc fetches a document and fails unless it has content and ctype,
// with an ETag and a Last-Modified header; it returns the response.
func (s *testServer) getDoc(path string, content []byte, ctype string) *response {
	s.t.Helper()
	r := s.do(req{method: "GET", path: path})
	expect(s.t, r, http.StatusOK)
	if !bytes.Equal(r.body, content) {
		s.t.Fatalf("GET %s: body of %d bytes differs from the %d stored (%.100q vs %.100q)", path, len(r.body), len(content), r.body, content)
	}
	if got := r.header.Get("Content-Type"); got != ctype {
		s.t.Fatalf("GET %s: Content-Type %q, want %q", path, got, ctype)
	}
	etag(s.t, r, content)
	if _, err := http.ParseTime(r.header.Get("Last-Modified")); err != nil {
		s.t.Fatalf("GET %s: Last-Modified %q: %v", path, r.header.Get("Last-Modified"), err)
	}
	return r
}

// randomBytes returns n pseudo-random bytes from seed.
func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TestDocumentRoundTrip stores documents of any content type in the three
// resources and reads them back byte for byte, with the Content-Type as
// sent, the quoted SHA-1 ETag and Last-Modified; HEAD gives the headers
// without the body.
func TestDocumentRoundTrip(t *testing.T) {
	s := newServer(t)
	modified := time.Date(2024, 5, 1, 12, 30, 15, 0, time.UTC)
	s.clock.Set(modified)
	bodies := []struct {
		ctype string // as sent; "-" for none
		want  string // as returned
		body  []byte
	}{
		{"application/octet-stream", "application/octet-stream", randomBytes(1, 4096)},
		{"image/png", "image/png", append([]byte("\x89PNG\r\n\x1a\n\x00\x00"), randomBytes(2, 300)...)},
		{"text/plain; charset=iso-8859-1", "text/plain; charset=iso-8859-1", []byte("caf\xe9 \x00 cr\xe8me")},
		{"text/plain", "text/plain", []byte(`{"looks":"like JSON", but is not}`)},
		{"application/json; charset=utf-8", "application/json; charset=utf-8", []byte(" {\"a\" : [1, 2.50, \"\\u00e9\"] }\n")},
		{"application/json", "application/json", []byte(`"a JSON string is a document too"`)},
		{"-", "application/octet-stream", []byte("no Content-Type")},
		{"application/vnd.example+xml", "application/vnd.example+xml", []byte("<a>&amp;</a>")},
	}
	for _, d := range docResources {
		for i, b := range bodies {
			path := d.url("doc-" + string(rune('a'+i)))
			r := s.do(req{method: "PUT", path: path, body: b.body, ctype: b.ctype})
			expect(t, r, http.StatusNoContent)
			got := s.getDoc(path, b.body, b.want)
			if lm, _ := http.ParseTime(got.header.Get("Last-Modified")); !lm.Equal(modified) {
				t.Errorf("%s: Last-Modified %v, want %v", d.name, lm, modified)
			}
			h := s.do(req{method: "HEAD", path: path})
			expect(t, h, http.StatusOK)
			if len(h.body) != 0 || h.header.Get("ETag") != got.header.Get("ETag") ||
				h.header.Get("Content-Type") != b.want || h.header.Get("Content-Length") != itoa(len(b.body)) {
				t.Errorf("%s: HEAD headers %v, body %d bytes", d.name, h.header, len(h.body))
			}
		}
		// Replacing a document replaces content and Content-Type.
		path := d.url("doc-a")
		old := s.do(req{method: "GET", path: path})
		r := s.do(req{method: "PUT", path: path, body: "short", ctype: "text/plain",
			header: map[string]string{"If-Match": old.header.Get("ETag")}})
		expect(t, r, http.StatusNoContent)
		s.getDoc(path, []byte("short"), "text/plain")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestDocumentLarge stores and returns a 10 MB document intact.
func TestDocumentLarge(t *testing.T) {
	s := newServer(t)
	body := randomBytes(3, 10<<20)
	path := docResources[0].url("big")
	start := time.Now()
	expect(t, s.do(req{method: "PUT", path: path, body: body, ctype: "application/octet-stream"}), http.StatusNoContent)
	s.getDoc(path, body, "application/octet-stream")
	t.Logf("10 MB PUT + GET: %v", time.Since(start))
}

// TestDocumentTooLarge checks Config.MaxDocumentBytes: a body over the
// limit is a 413, whether its length is declared or it is sent chunked,
// and stores nothing.
func TestDocumentTooLarge(t *testing.T) {
	const limit = 1024
	s := newServer(t, func(c *lrs.Config) { c.MaxDocumentBytes = limit })
	for _, d := range docResources {
		path := d.url("limit")
		expect(t, s.do(req{method: "PUT", path: path, body: randomBytes(4, limit), ctype: "application/octet-stream"}), http.StatusNoContent)
		over := randomBytes(5, limit+1)
		r := s.do(req{method: "PUT", path: path, body: over, ctype: "application/octet-stream",
			header: map[string]string{"If-Match": "*"}})
		expectError(t, d.name+" PUT over the limit", r, http.StatusRequestEntityTooLarge, "*")
		s.getDoc(path, randomBytes(4, limit), "application/octet-stream")

		big := `{"a":"` + strings.Repeat("x", limit) + `"}`
		r = s.do(req{method: "POST", path: d.url("limit-post"), body: big})
		expectError(t, d.name+" POST over the limit", r, http.StatusRequestEntityTooLarge, "*")
		expect(t, s.do(req{method: "GET", path: d.url("limit-post")}), http.StatusNotFound)

		// Chunked: no Content-Length, so the limit is found while reading.
		hr, err := http.NewRequest("PUT", s.URL+d.url("chunked"), io.MultiReader(bytes.NewReader(over)))
		if err != nil {
			t.Fatal(err)
		}
		hr.SetBasicAuth("admin", "admin-secret")
		hr.Header.Set("X-Experience-API-Version", "2.0.0")
		hr.Header.Set("Content-Type", "application/octet-stream")
		res, err := testClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: chunked PUT over the limit: status %d, want 413", d.name, res.StatusCode)
		}
		expect(t, s.do(req{method: "GET", path: d.url("chunked")}), http.StatusNotFound)
	}
}

// TestDocumentPostMerge checks POST: a JSON object merged into the stored
// JSON object at the top level, values kept as sent; a 400 when either side
// is not a JSON object declared application/json, and nothing changed then.
func TestDocumentPostMerge(t *testing.T) {
	s := newServer(t)
	for _, d := range docResources {
		path := d.url("merge")
		// A new document is the body as sent.
		first := `{"n":1.000000000000000000001,"a":{"x":1,"y":2},"keep":"é"}`
		expect(t, s.do(req{method: "POST", path: path, body: first}), http.StatusNoContent)
		s.getDoc(path, []byte(first), "application/json")

		second := `{"a":{"z":3},"b":"x&<y>\u2028","big":12345678901234567890123}`
		expect(t, s.do(req{method: "POST", path: path, body: second, ctype: "application/json; charset=utf-8"}), http.StatusNoContent)
		r := s.do(req{method: "GET", path: path})
		expect(t, r, http.StatusOK)
		var got map[string]json.RawMessage
		r.json(t, &got)
		want := map[string]string{
			"n":    `1.000000000000000000001`,
			"a":    `{"z":3}`, // replaced, not merged in depth
			"keep": `"é"`,
			"b":    `"x&<y>\u2028"`,
			"big":  `12345678901234567890123`,
		}
		if len(got) != len(want) {
			t.Errorf("%s: merged document %s, want the properties %v", d.name, r.body, want)
		}
		for k, v := range want {
			if string(got[k]) != v {
				t.Errorf("%s: merged property %s is %s, want %s as sent", d.name, k, got[k], v)
			}
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: merged Content-Type %q", d.name, ct)
		}
		merged := r.body

		// Bad merges: a 400, and the document unchanged.
		for _, bad := range []struct{ what, body, ctype string }{
			{"array", `[1,2]`, ""},
			{"string", `"x"`, ""},
			{"null", `null`, ""},
			{"invalid JSON", `{"a":`, ""},
			{"two values", `{"a":1} {"b":2}`, ""},
			{"not application/json", `{"a":1}`, "text/plain"},
			{"no Content-Type", `{"a":1}`, "-"},
			{"json suffix type", `{"a":1}`, "application/ld+json"},
			{"leading no-break space", "\u00a0{\"a\":1}", ""},
			{"trailing form feed", "{\"a\":1}\f", ""},
			{"leading byte order mark", "\ufeff{\"a\":1}", ""},
		} {
			r := s.do(req{method: "POST", path: path, body: bad.body, ctype: bad.ctype})
			expectError(t, d.name+" POST "+bad.what, r, http.StatusBadRequest, "")
			s.getDoc(path, merged, "application/json")
			// Nor is it stored as a new document.
			r = s.do(req{method: "POST", path: d.url("merge-bad"), body: bad.body, ctype: bad.ctype})
			expectError(t, d.name+" POST "+bad.what+" as a new document", r, http.StatusBadRequest, "")
			expect(t, s.do(req{method: "GET", path: d.url("merge-bad")}), http.StatusNotFound)
		}

		// Stored documents that cannot be merged into.
		for _, stored := range []struct{ what, body, ctype string }{
			{"text document", `{"a":1}`, "text/plain"},
			{"JSON array", `[1]`, "application/json"},
			{"binary", "\x00\x01", "application/octet-stream"},
		} {
			p := d.url("merge-into-" + strings.ReplaceAll(stored.what, " ", "-"))
			expect(t, s.do(req{method: "PUT", path: p, body: stored.body, ctype: stored.ctype}), http.StatusNoContent)
			r := s.do(req{method: "POST", path: p, body: `{"b":2}`})
			expectError(t, d.name+" POST into a "+stored.what, r, http.StatusBadRequest, "")
			s.getDoc(p, []byte(stored.body), stored.ctype)
		}

		// Preconditions hold for POST too.
		cur := s.do(req{method: "GET", path: path})
		r = s.do(req{method: "POST", path: path, body: `{"c":1}`, header: map[string]string{"If-Match": `"0000"`}})
		expectError(t, d.name+" POST If-Match mismatch", r, http.StatusPreconditionFailed, "")
		r = s.do(req{method: "POST", path: path, body: `{"c":1}`, header: map[string]string{"If-None-Match": "*"}})
		expectError(t, d.name+" POST If-None-Match * over a document", r, http.StatusPreconditionFailed, "")
		s.getDoc(path, merged, "application/json")
		r = s.do(req{method: "POST", path: path, body: `{"c":1}`, header: map[string]string{"If-Match": cur.header.Get("ETag")}})
		expect(t, r, http.StatusNoContent)
		r = s.do(req{method: "POST", path: d.url("merge-new"), body: `{"c":1}`, header: map[string]string{"If-Match": "*"}})
		expectError(t, d.name+" POST If-Match * without a document", r, http.StatusPreconditionFailed, "")
		expect(t, s.do(req{method: "GET", path: d.url("merge-new")}), http.StatusNotFound)
	}
}

// TestDocumentPostConcurrent merges many objects into one document at the
// same time: every POST succeeds and every property is kept.
func TestDocumentPostConcurrent(t *testing.T) {
	s := newServer(t)
	path := docResources[0].url("busy")
	const n = 16
	statuses := make(chan *response, n)
	for i := range n {
		go func() {
			statuses <- s.do(req{method: "POST", path: path, body: `{"k` + itoa(i) + `":` + itoa(i) + `}`})
		}()
	}
	for range n {
		r := <-statuses
		if r.status != http.StatusNoContent {
			t.Errorf("concurrent POST: status %d: %s", r.status, r.body)
		}
	}
	r := s.do(req{method: "GET", path: path})
	var got map[string]int
	r.json(t, &got)
	if len(got) != n {
		t.Errorf("after %d concurrent merges the document has %d properties: %s", n, len(got), r.body)
	}
}

// TestDocumentPreconditions checks If-Match and If-None-Match on PUT, GET
// and DELETE, and where a PUT needs one: profiles always, State from 2.0.
func TestDocumentPreconditions(t *testing.T) {
	s := newServer(t)
	for _, d := range docResources {
		path := d.url("cond")
		v1, v2 := []byte("version one"), []byte("version two")
		put := func(body []byte, header map[string]string) *response {
			return s.do(req{method: "PUT", path: path, body: body, ctype: "text/plain", header: header})
		}
		// If-Match on a missing document fails, and creates nothing.
		expectError(t, d.name+" If-Match * on nothing", put(v1, map[string]string{"If-Match": "*"}), http.StatusPreconditionFailed, "")
		expectError(t, d.name+" If-Match tag on nothing", put(v1, map[string]string{"If-Match": `"` + documents.ComputeETag(v1) + `"`}), http.StatusPreconditionFailed, "")
		expect(t, s.do(req{method: "GET", path: path}), http.StatusNotFound)
		// 2.0: a new document needs no precondition.
		expect(t, put(v1, nil), http.StatusNoContent)
		tag1 := etag(t, s.getDoc(path, v1, "text/plain"), v1)
		// Over an existing document a PUT without precondition is a 409.
		expectError(t, d.name+" PUT without precondition", put(v2, nil), http.StatusConflict, "")
		expectError(t, d.name+" If-None-Match *", put(v2, map[string]string{"If-None-Match": "*"}), http.StatusPreconditionFailed, "")
		expectError(t, d.name+" If-None-Match tag", put(v2, map[string]string{"If-None-Match": tag1}), http.StatusPreconditionFailed, "")
		expectError(t, d.name+" If-Match other", put(v2, map[string]string{"If-Match": `"` + documents.ComputeETag(v2) + `"`}), http.StatusPreconditionFailed, "")
		s.getDoc(path, v1, "text/plain")
		// Weak, upper-case and listed tags match.
		expect(t, put(v2, map[string]string{"If-Match": `W/` + strings.ToUpper(tag1)}), http.StatusNoContent)
		tag2 := etag(t, s.getDoc(path, v2, "text/plain"), v2)
		expect(t, put(v1, map[string]string{"If-Match": `"abc", ` + tag2}), http.StatusNoContent)
		expect(t, put(v2, map[string]string{"If-None-Match": `"abc"`}), http.StatusNoContent)
		expect(t, put(v1, map[string]string{"If-Match": "*"}), http.StatusNoContent)
		s.getDoc(path, v1, "text/plain")
		// Malformed tags are a 400 naming the header.
		expectError(t, d.name+" malformed If-Match", put(v2, map[string]string{"If-Match": `abc def`}), http.StatusBadRequest, "If-Match")
		expectError(t, d.name+" malformed If-None-Match", put(v2, map[string]string{"If-None-Match": `"a"b"`}), http.StatusBadRequest, "If-None-Match")
		expectError(t, d.name+" empty If-Match", put(v2, map[string]string{"If-Match": `""`}), http.StatusBadRequest, "If-Match")

		// GET with If-None-Match: 304 when it matches.
		for _, inm := range []string{tag1, "*", `"x", ` + tag1, "W/" + tag1} {
			r := s.do(req{method: "GET", path: path, header: map[string]string{"If-None-Match": inm}})
			expect(t, r, http.StatusNotModified)
			if len(r.body) != 0 || r.header.Get("ETag") != tag1 {
				t.Errorf("%s: 304 with ETag %q and body %q", d.name, r.header.Get("ETag"), r.body)
			}
		}
		expect(t, s.do(req{method: "GET", path: path, header: map[string]string{"If-None-Match": tag2}}), http.StatusOK)

		// DELETE: a precondition that fails leaves the document.
		r := s.do(req{method: "DELETE", path: path, header: map[string]string{"If-Match": tag2}})
		expectError(t, d.name+" DELETE If-Match mismatch", r, http.StatusPreconditionFailed, "")
		r = s.do(req{method: "DELETE", path: path, header: map[string]string{"If-None-Match": "*"}})
		expectError(t, d.name+" DELETE If-None-Match *", r, http.StatusPreconditionFailed, "")
		s.getDoc(path, v1, "text/plain")
		expect(t, s.do(req{method: "DELETE", path: path, header: map[string]string{"If-Match": tag1}}), http.StatusNoContent)
		expect(t, s.do(req{method: "GET", path: path}), http.StatusNotFound)
		// Deleting what is not there is fine, unless a tag is required.
		expect(t, s.do(req{method: "DELETE", path: path}), http.StatusNoContent)
		expectError(t, d.name+" DELETE If-Match on nothing", s.do(req{method: "DELETE", path: path,
			header: map[string]string{"If-Match": "*"}}), http.StatusPreconditionFailed, "")
	}
}

// TestDocumentPreconditions103 checks xAPI 1.0.3: every profile PUT needs a
// precondition (409 over a document, else 400), a State PUT needs none.
func TestDocumentPreconditions103(t *testing.T) {
	s := newServer(t)
	for _, d := range docResources {
		path := d.url("cond103")
		put := func(body string, header map[string]string) *response {
			return s.do(req{method: "PUT", path: path, body: body, ctype: "text/plain", version: "1.0.3", header: header})
		}
		if d.idParam == "stateId" {
			expect(t, put("one", nil), http.StatusNoContent)
			expect(t, put("two", nil), http.StatusNoContent)
			s.getDoc(path, []byte("two"), "text/plain")
			continue
		}
		expectError(t, d.name+" new without precondition", put("one", nil), http.StatusBadRequest, "")
		expect(t, s.do(req{method: "GET", path: path, version: "1.0.3"}), http.StatusNotFound)
		expect(t, put("one", map[string]string{"If-None-Match": "*"}), http.StatusNoContent)
		expectError(t, d.name+" existing without precondition", put("two", nil), http.StatusConflict, "")
		s.getDoc(path, []byte("one"), "text/plain")
		expect(t, put("two", map[string]string{"If-Match": `"` + documents.ComputeETag([]byte("one")) + `"`}), http.StatusNoContent)
		s.getDoc(path, []byte("two"), "text/plain")
		// POST merges need no precondition in 1.0.3 either.
		expect(t, s.do(req{method: "POST", path: d.url("post103"), body: `{"a":1}`, version: "1.0.3"}), http.StatusNoContent)
		expect(t, s.do(req{method: "POST", path: d.url("post103"), body: `{"b":1}`, version: "1.0.3"}), http.StatusNoContent)
		s.getDoc(d.url("post103"), []byte(`{"a":1,"b":1}`), "application/json")
	}
}

// listIDs GETs a document list and fails unless it is want.
func (s *testServer) listIDs(what, path string, want ...string) {
	s.t.Helper()
	r := s.do(req{method: "GET", path: path})
	expect(s.t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		s.t.Errorf("%s: list Content-Type %q", what, ct)
	}
	var got []string
	r.json(s.t, &got)
	if want == nil {
		want = []string{}
	}
	if got == nil || !slices.Equal(got, want) {
		s.t.Errorf("%s: ids %s, want %q", what, r.body, want)
	}
}

// TestStateRegistrations checks the State list, get and delete-all with
// and without a registration: without one, a list or delete-all covers the
// states of every registration; a single state without one is the state
// stored without one.
func TestStateRegistrations(t *testing.T) {
	s := newServer(t)
	base := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	put := func(reg, id, body string, i int) {
		t.Helper()
		s.clock.Set(at(i))
		extra := []string{"stateId", id}
		if reg != "" {
			extra = append(extra, "registration", reg)
		}
		expect(t, s.do(req{method: "PUT", path: withQuery(statePath, append([]string{"activityId", course, "agent", annAgent}, extra...)...),
			body: body, ctype: "text/plain"}), http.StatusNoContent)
	}
	// In time order: the server's clock never goes back.
	put("", "s0", "0", 1)
	put(stateReg2, "dup", "d2", 1)
	put(stateReg1, "s1", "1", 2)
	put(stateReg2, "s2", "2", 3)
	put("", "dup", "d0", 4)
	put(stateReg1, "dup", "d1", 5)
	// Neighbours no request below touches.
	s.clock.Set(at(6))
	expect(t, s.do(req{method: "PUT", path: withQuery(statePath, "activityId", course, "agent", bobAgent, "stateId", "s0"), body: "bob", ctype: "text/plain"}), http.StatusNoContent)
	expect(t, s.do(req{method: "PUT", path: withQuery(statePath, "activityId", course+"/2", "agent", annAgent, "stateId", "s0"), body: "c2", ctype: "text/plain"}), http.StatusNoContent)
	expect(t, s.do(req{method: "PUT", path: withQuery(actProfile, "activityId", course, "profileId", "s0"), body: "ap", ctype: "text/plain"}), http.StatusNoContent)

	ann := []string{"activityId", course, "agent", annAgent}
	list := func(extra ...string) string { return withQuery(statePath, append(slices.Clone(ann), extra...)...) }
	s.listIDs("all", list(), "dup", "s0", "s1", "s2")
	s.listIDs("reg1", list("registration", stateReg1), "dup", "s1")
	s.listIDs("reg2", list("registration", stateReg2), "dup", "s2")
	s.listIDs("reg1 upper-case", list("registration", strings.ToUpper(stateReg1)), "dup", "s1")
	s.listIDs("unknown reg", list("registration", "9a1b2c3d-0000-4000-8000-000000000000"))
	s.listIDs("since", list("since", at(2).Format(time.RFC3339Nano)), "dup", "s2")
	s.listIDs("since with offset", list("since", at(2).In(time.FixedZone("", 2*3600)).Format("2006-01-02T15:04:05.000-07:00")), "dup", "s2")
	s.listIDs("since reg2", list("registration", stateReg2, "since", at(1).Format(time.RFC3339)), "s2")
	s.listIDs("since latest", list("since", at(5).Format(time.RFC3339)))
	s.listIDs("other agent", withQuery(statePath, "activityId", course, "agent", bobAgent), "s0")
	s.listIDs("no such activity", withQuery(statePath, "activityId", course+"/none", "agent", annAgent))
	// The agent is matched by identifier, however the JSON spells it.
	s.listIDs("agent respelled", withQuery(statePath, "activityId", course,
		"agent", `{"name":"Ann","objectType":"Agent","mbox":"mailto:ann@example.com"}`), "dup", "s0", "s1", "s2")
	// An unescaped '+' in since reaches the server as a space.
	r := s.do(req{method: "GET", path: list() + "&since=2024-03-01T10:02:00+00:00"})
	expect(t, r, http.StatusOK)
	if string(r.body) != `["dup","s2"]` {
		t.Errorf("since with a raw '+': %s", r.body)
	}

	// One state: the registration is part of its key.
	s.getDoc(list("stateId", "dup"), []byte("d0"), "text/plain")
	s.getDoc(list("stateId", "dup", "registration", stateReg1), []byte("d1"), "text/plain")
	s.getDoc(list("stateId", "dup", "registration", strings.ToUpper(stateReg2)), []byte("d2"), "text/plain")
	expect(t, s.do(req{method: "GET", path: list("stateId", "s1")}), http.StatusNotFound)
	expect(t, s.do(req{method: "GET", path: list("stateId", "s0", "registration", stateReg1)}), http.StatusNotFound)

	// Deleting one state without a registration deletes only that one.
	expect(t, s.do(req{method: "DELETE", path: list("stateId", "dup")}), http.StatusNoContent)
	s.listIDs("after delete dup", list(), "dup", "s0", "s1", "s2")
	s.listIDs("after delete dup, reg1", list("registration", stateReg1), "dup", "s1")
	// Delete-all with a registration: that registration's states.
	expect(t, s.do(req{method: "DELETE", path: list("registration", stateReg1)}), http.StatusNoContent)
	s.listIDs("after delete reg1", list(), "dup", "s0", "s2")
	// Delete-all without: every state of the agent and activity.
	expect(t, s.do(req{method: "DELETE", path: list()}), http.StatusNoContent)
	s.listIDs("after delete all", list())
	expect(t, s.do(req{method: "DELETE", path: list()}), http.StatusNoContent)
	s.getDoc(withQuery(statePath, "activityId", course, "agent", bobAgent, "stateId", "s0"), []byte("bob"), "text/plain")
	s.getDoc(withQuery(statePath, "activityId", course+"/2", "agent", annAgent, "stateId", "s0"), []byte("c2"), "text/plain")
	s.getDoc(withQuery(actProfile, "activityId", course, "profileId", "s0"), []byte("ap"), "text/plain")
}

// TestProfileLists checks the profile id lists and since.
func TestProfileLists(t *testing.T) {
	s := newServer(t)
	for k, d := range docResources[1:] {
		base := time.Date(2024, 3, 1, 10+k, 0, 0, 0, time.UTC) // the clock never goes back
		for i, id := range []string{"z", "a", "m"} {
			s.clock.Set(base.Add(time.Duration(i) * time.Second))
			expect(t, s.do(req{method: "PUT", path: d.url(id), body: id, ctype: "text/plain"}), http.StatusNoContent)
		}
		s.listIDs(d.name, d.url(""), "a", "m", "z")
		s.listIDs(d.name+" since", d.url("", "since", base.Format(time.RFC3339)), "a", "m")
		s.listIDs(d.name+" since ms", d.url("", "since", base.Add(1500*time.Millisecond).Format(time.RFC3339Nano)), "m")
		r := s.do(req{method: "HEAD", path: d.url("")})
		expect(t, r, http.StatusOK)
		if len(r.body) != 0 || r.header.Get("Content-Length") != itoa(len(`["a","m","z"]`)) {
			t.Errorf("%s: HEAD of a list: Content-Length %s, body %q", d.name, r.header.Get("Content-Length"), r.body)
		}
	}
	s.listIDs("other agent", withQuery(agtProfile, "agent", bobAgent))
	s.listIDs("other activity", withQuery(actProfile, "activityId", course+"/x"))
}

// TestDocumentBadRequests checks that bad parameters, headers and bodies
// are a 400 with a JSON error naming what was wrong, missing credentials a
// 401 and a credential without the scope a 403.
func TestDocumentBadRequests(t *testing.T) {
	s := newServer(t)
	expect(t, s.do(req{method: "PUT", path: docResources[0].url("exists"), body: "x", ctype: "text/plain"}), http.StatusNoContent)
	state := func(pairs ...string) string { return withQuery(statePath, pairs...) }
	cases := []struct {
		what, method, path string
		body               string
		ctype              string
		header             map[string]string
		path400            string // the error's path; "*" for any
	}{
		{"missing activityId", "GET", state("agent", annAgent, "stateId", "a"), "", "", nil, "activityId"},
		{"missing agent", "GET", state("activityId", course, "stateId", "a"), "", "", nil, "agent"},
		{"agent not JSON", "GET", state("activityId", course, "agent", "{", "stateId", "a"), "", "", nil, "agent"},
		{"agent a string", "GET", state("activityId", course, "agent", `"ann"`, "stateId", "a"), "", "", nil, "agent"},
		{"agent unidentified", "PUT", state("activityId", course, "agent", `{"name":"Ann"}`, "stateId", "a"), "x", "text/plain", nil, "*"},
		{"agent two identifiers", "GET", state("activityId", course, "agent", `{"mbox":"mailto:a@b.c","openid":"http://a.b/c"}`, "stateId", "a"), "", "", nil, "*"},
		{"agent bad mbox", "DELETE", state("activityId", course, "agent", `{"mbox":"ann@example.com"}`), "", "", nil, "*"},
		{"activityId not an IRI", "GET", state("activityId", "course 1", "agent", annAgent, "stateId", "a"), "", "", nil, "activityId"},
		{"activityId relative", "PUT", withQuery(actProfile, "activityId", "/courses/1", "profileId", "a"), "x", "text/plain", nil, "activityId"},
		{"registration not a UUID", "GET", state("activityId", course, "agent", annAgent, "registration", "reg-1"), "", "", nil, "registration"},
		{"registration on a profile", "GET", withQuery(actProfile, "activityId", course, "registration", stateReg1), "", "", nil, "registration"},
		{"agent on an activity profile", "GET", withQuery(actProfile, "activityId", course, "agent", annAgent), "", "", nil, "agent"},
		{"activityId on an agent profile", "GET", withQuery(agtProfile, "agent", annAgent, "activityId", course), "", "", nil, "activityId"},
		{"stateId on a profile", "GET", withQuery(agtProfile, "agent", annAgent, "stateId", "a"), "", "", nil, "stateId"},
		{"unknown parameter", "GET", state("activityId", course, "agent", annAgent, "stateid", "a"), "", "", nil, "stateid"},
		{"since on PUT", "PUT", state("activityId", course, "agent", annAgent, "stateId", "a", "since", "2024-01-01T00:00:00Z"), "x", "text/plain", nil, "since"},
		{"bad since", "GET", state("activityId", course, "agent", annAgent, "since", "yesterday"), "", "", nil, "since"},
		{"repeated stateId", "GET", statePath + "?activityId=" + url.QueryEscape(course) + "&agent=" + url.QueryEscape(annAgent) + "&stateId=a&stateId=b", "", "", nil, "stateId"},
		{"repeated activityId", "GET", actProfile + "?activityId=" + url.QueryEscape(course) + "&activityId=" + url.QueryEscape(course), "", "", nil, "activityId"},
		{"empty profileId", "GET", agtProfile + "?agent=" + url.QueryEscape(annAgent) + "&profileId=", "", "", nil, "profileId"},
		{"bad escape", "GET", agtProfile + "?agent=%zz", "", "", nil, ""},
		{"PUT without stateId", "PUT", state("activityId", course, "agent", annAgent), "x", "text/plain", nil, "stateId"},
		{"POST without stateId", "POST", state("activityId", course, "agent", annAgent), `{}`, "", nil, "stateId"},
		{"PUT without profileId", "PUT", withQuery(agtProfile, "agent", annAgent), "x", "text/plain", nil, "profileId"},
		{"DELETE without profileId", "DELETE", withQuery(actProfile, "activityId", course), "", "", nil, "profileId"},
		{"delete-all with If-Match", "DELETE", state("activityId", course, "agent", annAgent), "", "", map[string]string{"If-Match": "*"}, ""},
		{"empty body", "PUT", state("activityId", course, "agent", annAgent, "stateId", "a"), "", "text/plain", nil, ""},
		{"malformed Content-Type", "PUT", state("activityId", course, "agent", annAgent, "stateId", "a"), "x", "text/plain; charset", nil, ""},
		{"invalid JSON declared JSON", "PUT", state("activityId", course, "agent", annAgent, "stateId", "a"), "{nope", "application/json", nil, ""},
		{"malformed If-None-Match", "DELETE", state("activityId", course, "agent", annAgent, "stateId", "exists"), "", "", map[string]string{"If-None-Match": "a b"}, "If-None-Match"},
	}
	for _, c := range cases {
		r := s.do(req{method: c.method, path: c.path, body: nilIfEmpty(c.body, c.method), ctype: c.ctype, header: c.header})
		expectError(t, c.what, r, http.StatusBadRequest, c.path400)
	}
	s.getDoc(docResources[0].url("exists"), []byte("x"), "text/plain")

	r := s.do(req{method: "GET", path: docResources[1].url("missing")})
	expectError(t, "missing document", r, http.StatusNotFound, "")
	if !strings.Contains(r.errorDetail(t).Message, "missing") {
		t.Errorf("404 message does not name the document: %s", r.body)
	}

	// Authentication and scopes.
	for _, d := range docResources {
		for _, m := range []string{"GET", "PUT", "POST", "DELETE"} {
			var body any
			if m == "PUT" || m == "POST" {
				body = `{}`
			}
			r := s.do(req{method: m, path: d.url("exists"), body: body, noAuth: true})
			expectError(t, d.name+" "+m+" without credentials", r, http.StatusUnauthorized, "")
			if r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", d.name, m)
			}
			r = s.do(req{method: m, path: d.url("exists"), body: body, key: "admin", header: map[string]string{"Authorization": "Basic " + b64("admin:wrong")}})
			expectError(t, d.name+" "+m+" with a wrong secret", r, http.StatusUnauthorized, "")
			// statements/write and statements/read grant no documents.
			for _, key := range []string{"writer", "reader"} {
				r = s.do(req{method: m, path: d.url("exists"), body: body, key: key})
				expectError(t, d.name+" "+m+" as "+key, r, http.StatusForbidden, "")
			}
			// The state scope grants State only.
			r = s.do(req{method: m, path: d.url("scoped"), body: body, key: "nothing"})
			if d.idParam == "stateId" {
				if r.status >= 300 && r.status != http.StatusNotFound {
					t.Errorf("state %s with the state scope: status %d: %s", m, r.status, r.body)
				}
			} else {
				expectError(t, d.name+" "+m+" with the state scope", r, http.StatusForbidden, "")
			}
			// all/read reads but does not write.
			r = s.do(req{method: m, path: d.url("exists"), body: body, key: "allreader"})
			if m == "GET" {
				if r.status != http.StatusOK && r.status != http.StatusNotFound {
					t.Errorf("%s GET as all/read: status %d: %s", d.name, r.status, r.body)
				}
			} else {
				expectError(t, d.name+" "+m+" as all/read", r, http.StatusForbidden, "")
			}
		}
	}
	s.getDoc(docResources[0].url("exists"), []byte("x"), "text/plain")
}

// nilIfEmpty returns nil for an empty body, except for a PUT, whose empty
// body is the point of a case.
func nilIfEmpty(body, method string) any {
	if body == "" && method != "PUT" {
		return nil
	}
	return body
}
