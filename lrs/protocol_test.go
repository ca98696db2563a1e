package lrs_test

import (
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/internal/metricstest"
)

// TestCORS checks the CORS headers on responses to cross-origin requests,
// errors included, and preflight requests answered without credentials.
func TestCORS(t *testing.T) {
	s := newServer(t)
	origin := map[string]string{"Origin": "https://content.example.org"}
	path := docResources[0].url("cors")
	expect(t, s.do(req{method: "PUT", path: path, body: "x", ctype: "text/plain"}), http.StatusNoContent)

	for _, p := range []string{path, "/xapi/statements", "/xapi/about", "/xapi/agents/profile", "/xapi/nowhere"} {
		r := s.do(req{method: "OPTIONS", path: p, noAuth: true, version: "-", header: map[string]string{
			"Origin":                         "https://content.example.org",
			"Access-Control-Request-Method":  "PUT",
			"Access-Control-Request-Headers": "authorization, content-type, if-match, x-experience-api-version",
		}})
		if r.status != http.StatusNoContent {
			t.Errorf("preflight of %s: status %d, want 204: %s", p, r.status, r.body)
			continue
		}
		h := r.header
		if h.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("preflight of %s: Access-Control-Allow-Origin %q", p, h.Get("Access-Control-Allow-Origin"))
		}
		for _, m := range []string{"GET", "HEAD", "PUT", "POST", "DELETE"} {
			if !listHas(h.Get("Access-Control-Allow-Methods"), m) {
				t.Errorf("preflight of %s: Access-Control-Allow-Methods %q lacks %s", p, h.Get("Access-Control-Allow-Methods"), m)
			}
		}
		for _, name := range []string{"Authorization", "Content-Type", "If-Match", "If-None-Match", "X-Experience-API-Version"} {
			if !listHas(h.Get("Access-Control-Allow-Headers"), name) {
				t.Errorf("preflight of %s: Access-Control-Allow-Headers %q lacks %s", p, h.Get("Access-Control-Allow-Headers"), name)
			}
		}
		if h.Get("Access-Control-Max-Age") == "" {
			t.Errorf("preflight of %s: no Access-Control-Max-Age", p)
		}
	}

	// Cross-origin responses, errors too, let scripts read the headers
	// they need.
	for _, c := range []struct {
		what   string
		r      req
		status int
	}{
		{"document", req{method: "GET", path: path, header: origin}, http.StatusOK},
		{"about", req{method: "GET", path: "/xapi/about", noAuth: true, header: origin}, http.StatusOK},
		{"statements", req{method: "GET", path: "/xapi/statements", header: origin}, http.StatusOK},
		{"401", req{method: "GET", path: path, noAuth: true, header: origin}, http.StatusUnauthorized},
		{"400", req{method: "GET", path: statePath + "?x=1", header: origin}, http.StatusBadRequest},
		{"404", req{method: "GET", path: docResources[0].url("none"), header: origin}, http.StatusNotFound},
	} {
		r := s.do(c.r)
		if r.status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.what, r.status, c.status, r.body)
		}
		if r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: Access-Control-Allow-Origin %q", c.what, r.header.Get("Access-Control-Allow-Origin"))
		}
		for _, name := range []string{"ETag", "Last-Modified", "X-Experience-API-Version", "X-Experience-API-Consistent-Through"} {
			if !listHas(r.header.Get("Access-Control-Expose-Headers"), name) {
				t.Errorf("%s: Access-Control-Expose-Headers %q lacks %s", c.what, r.header.Get("Access-Control-Expose-Headers"), name)
			}
		}
	}
	// An OPTIONS request is never routed to a resource: it changes nothing.
	r := s.do(req{method: "OPTIONS", path: path, body: "y", ctype: "text/plain"})
	expect(t, r, http.StatusNoContent)
	s.getDoc(path, []byte("x"), "text/plain")
}

// listHas reports whether the comma-separated header value list holds name
// (case-insensitive).
func listHas(list, name string) bool {
	for _, v := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(v), name) {
			return true
		}
	}
	return false
}

// alt sends a request in the alternate request syntax: POST path?method=m
// with form as the body; the version and credentials go in the form unless
// it already has them.
func (s *testServer) alt(path, m string, form url.Values, r req) *response {
	s.t.Helper()
	if !form.Has("X-Experience-API-Version") && r.version == "" {
		form.Set("X-Experience-API-Version", "1.0.3")
	}
	if !form.Has("Authorization") && !r.noAuth {
		form.Set("Authorization", "Basic "+b64("admin:admin-secret"))
	}
	r.method, r.noAuth = "POST", true
	if r.version == "" {
		r.version = "-"
	}
	if r.path == "" {
		r.path = path + "?method=" + m
	}
	r.body = form.Encode()
	if r.ctype == "" {
		r.ctype = "application/x-www-form-urlencoded"
	}
	return s.do(r)
}

// TestAlternateSyntax checks the alternate request syntax of xAPI 1.0.3:
// POST ?method=X with the headers, parameters and content in a form body.
func TestAlternateSyntax(t *testing.T) {
	s := newServer(t)

	// PUT of a statement.
	id := newID()
	r := s.alt("/xapi/statements", "PUT", url.Values{
		"statementId":  {id},
		"content":      {string(mustJSON(t, stmt("ann", "attended")))},
		"Content-Type": {"application/json"},
	}, req{})
	expect(t, r, http.StatusNoContent)
	got := s.get(id)
	if got["id"] != id || got["verb"].(map[string]any)["id"] != "http://adlnet.gov/expapi/verbs/attended" {
		t.Errorf("statement stored through the alternate syntax: %v", got)
	}
	if r.header.Get("X-Experience-API-Version") != "1.0.3" {
		t.Errorf("alternate syntax answered in version %q", r.header.Get("X-Experience-API-Version"))
	}
	// GET of it, the parameters in the form.
	r = s.alt("/xapi/statements", "GET", url.Values{"statementId": {id}}, req{})
	expect(t, r, http.StatusOK)
	if r.statement(t)["id"] != id {
		t.Errorf("GET through the alternate syntax: %s", r.body)
	}

	// PUT, GET, POST and DELETE of a state document.
	params := url.Values{"activityId": {course}, "agent": {annAgent}, "stateId": {"alt"}}
	form := func(extra ...string) url.Values {
		f := url.Values{}
		for k, v := range params {
			f[k] = v
		}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return f
	}
	r = s.alt(statePath, "PUT", form("content", "plain & simple", "Content-Type", "text/plain"), req{})
	expect(t, r, http.StatusNoContent)
	s.getDoc(docResources[0].url("alt"), []byte("plain & simple"), "text/plain")
	r = s.alt(statePath, "GET", form(), req{})
	expect(t, r, http.StatusOK)
	if string(r.body) != "plain & simple" || r.header.Get("ETag") == "" {
		t.Errorf("GET of a state through the alternate syntax: %q, ETag %q", r.body, r.header.Get("ETag"))
	}
	// Content without a Content-Type is JSON.
	r = s.alt(statePath, "PUT", form("stateId", "alt-json", "content", `{"a":1}`), req{})
	expect(t, r, http.StatusNoContent)
	s.getDoc(docResources[0].url("alt-json"), []byte(`{"a":1}`), "application/json")
	r = s.alt(statePath, "POST", form("stateId", "alt-json", "content", `{"b":2}`), req{})
	expect(t, r, http.StatusNoContent)
	s.getDoc(docResources[0].url("alt-json"), []byte(`{"a":1,"b":2}`), "application/json")
	r = s.alt(statePath, "DELETE", form(), req{})
	expect(t, r, http.StatusNoContent)
	expect(t, s.do(req{method: "GET", path: docResources[0].url("alt")}), http.StatusNotFound)

	// Header fields in the form are headers: a 1.0.3 profile PUT needs a
	// precondition.
	prof := url.Values{"agent": {annAgent}, "profileId": {"alt"}, "content": {"v1"}, "Content-Type": {"text/plain"}}
	expectError(t, "alternate profile PUT without precondition", s.alt(agtProfile, "PUT", prof, req{}), http.StatusBadRequest, "")
	prof.Set("If-None-Match", "*")
	expect(t, s.alt(agtProfile, "PUT", prof, req{}), http.StatusNoContent)
	expectError(t, "alternate profile PUT with If-None-Match", s.alt(agtProfile, "PUT", prof, req{}), http.StatusPreconditionFailed, "")
	s.getDoc(docResources[2].url("alt"), []byte("v1"), "text/plain")

	// Credentials may also come as a header; a form without any is a 401.
	r = s.alt(statePath, "GET", form(), req{noAuth: true, header: map[string]string{"Authorization": "Basic " + b64("admin:admin-secret")}})
	expect(t, r, http.StatusNotFound) // deleted above
	r = s.alt(statePath, "GET", form(), req{noAuth: true})
	expectError(t, "alternate syntax without credentials", r, http.StatusUnauthorized, "")

	// What the alternate syntax does not allow.
	bad := []struct {
		what string
		r    func() *response
		path string
	}{
		{"parameters in the URL", func() *response {
			return s.alt(statePath, "", form(), req{path: statePath + "?method=GET&stateId=alt"})
		}, "method"},
		{"method twice", func() *response {
			return s.alt(statePath, "", form(), req{path: statePath + "?method=GET&method=GET"})
		}, "method"},
		{"unknown method", func() *response { return s.alt(statePath, "PATCH", form(), req{}) }, "method"},
		{"lower-case method", func() *response { return s.alt(statePath, "put", form(), req{}) }, "method"},
		{"not a form", func() *response { return s.alt(statePath, "GET", form(), req{ctype: "application/json"}) }, ""},
		{"version 2.0 header", func() *response { return s.alt(statePath, "GET", form(), req{version: "2.0.0"}) }, "method"},
		{"version 2.0 in the form", func() *response {
			return s.alt(statePath, "GET", form("X-Experience-API-Version", "2.0.0"), req{})
		}, "method"},
		{"repeated parameter in the form", func() *response {
			f := form()
			f.Add("stateId", "other")
			return s.alt(statePath, "GET", f, req{})
		}, "stateId"},
		{"unknown parameter in the form", func() *response { return s.alt(statePath, "GET", form("since", "x", "foo", "1"), req{}) }, "*"},
		{"bad form encoding", func() *response {
			return s.do(req{method: "POST", path: statePath + "?method=GET", body: "a=%zz", ctype: "application/x-www-form-urlencoded", version: "1.0.3"})
		}, ""},
	}
	for _, c := range bad {
		expectError(t, c.what, c.r(), http.StatusBadRequest, c.path)
	}
	// method on anything but POST is a 400, and changes nothing.
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		var body any
		if m == "PUT" {
			body = "changed"
		}
		r := s.do(req{method: m, path: docResources[2].url("alt") + "&method=PUT", body: body, ctype: "text/plain", version: "1.0.3"})
		expectError(t, m+" with method", r, http.StatusBadRequest, "method")
		r = s.do(req{method: m, path: agtProfile + "?method=PUT", body: body, ctype: "text/plain", version: "1.0.3"})
		expectError(t, m+" with method only", r, http.StatusBadRequest, "method")
	}
	s.getDoc(docResources[2].url("alt"), []byte("v1"), "text/plain")
	// A parameter whose name merely contains "method" is an unknown one.
	r = s.do(req{method: "GET", path: docResources[2].url("alt") + "&methods=1"})
	expectError(t, "methods parameter", r, http.StatusBadRequest, "methods")
}

// filler is an endless body of 'a's that allocates nothing and counts what
// was read of it.
type filler struct{ read atomic.Int64 }

func (f *filler) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	f.read.Add(int64(len(p)))
	return len(p), nil
}

// TestAlternateSyntaxAnonymousBody checks that the alternate request syntax
// reads no large body before it knows who sends it: 24 concurrent 20 MiB
// forms, without credentials or with wrong ones in the header, are refused
// without being read (the process allocates a small fraction of what they
// hold); forms without an Authorization header together hold a bounded
// amount; and with the header, large forms still work.
func TestAlternateSyntaxAnonymousBody(t *testing.T) {
	s := newServer(t)
	const huge = 20 << 20
	send := func(auth string, length int64) (status int, read int64) {
		body := &filler{}
		hr, _ := http.NewRequest("POST", s.URL+statePath+"?method=PUT", io.LimitReader(body, huge))
		hr.ContentLength = length
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			hr.Header.Set("Authorization", auth)
		}
		res, err := testClient.Do(hr)
		if err != nil { // the server may close the connection while the client still writes
			return 0, body.read.Load()
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, body.read.Load()
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	var sent int64
	for i := range 24 {
		wg.Go(func() {
			auth, length := "", int64(huge)
			switch i % 3 {
			case 1:
				length = -1 // chunked: the length is not declared
			case 2:
				auth = "Basic " + b64("admin:wrong-secret")
			}
			st, n := send(auth, length)
			mu.Lock()
			statuses[st]++
			sent += n
			mu.Unlock()
		})
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("24 requests of 20 MiB: statuses %v, %d MiB sent, %.1f MiB allocated", statuses, sent>>20, float64(alloc)/(1<<20))
	if statuses[http.StatusRequestEntityTooLarge]+statuses[0] != 16 || statuses[http.StatusUnauthorized] != 8 {
		t.Errorf("statuses %v, want 16 413 (or a connection closed early) and 8 401", statuses)
	}
	if alloc > 32<<20 {
		t.Errorf("the process allocated %d MiB for 24 requests it refused", alloc>>20)
	}
	if sent > 24*huge/2 {
		t.Errorf("the clients sent %d MiB of 480: the server read the bodies", sent>>20)
	}

	// Forms without an Authorization header may hold 8 MiB together: of
	// 140 stalled forms of undeclared length (each may be 64 KiB), 128 take
	// it all and the others are refused (answered once they end, as the
	// server reads a little of a refused body to keep the connection).
	const fit, stalled = 128, 140
	var writers []*io.PipeWriter
	t.Cleanup(func() { // also when the test fails half-way, so that the server can stop
		for _, pw := range writers {
			pw.Close()
		}
	})
	done := make(chan int, stalled)
	// A client of its own, with no idle connection that the server closed
	// after the refusals above: a request with a streamed body cannot be
	// retried on another.
	stalling := &http.Client{Timeout: testClient.Timeout, Transport: &http.Transport{}}
	for range stalled {
		pr, pw := io.Pipe()
		writers = append(writers, pw)
		go func() {
			hr, _ := http.NewRequest("POST", s.URL+statePath+"?method=GET", pr)
			hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := stalling.Do(hr)
			if err != nil {
				done <- 0
				return
			}
			res.Body.Close()
			done <- res.StatusCode
		}()
		go pw.Write([]byte("stateId=x&")) // returns when read, or when the pipe is closed
	}
	form := url.Values{"activityId": {course}, "agent": {annAgent}, "stateId": {"x"},
		"X-Experience-API-Version": {"1.0.3"}, "Authorization": {"Basic " + b64("admin:admin-secret")}}
	quick := func() *response {
		return s.do(req{method: "POST", path: statePath + "?method=GET", noAuth: true, version: "-",
			body: form.Encode(), ctype: "application/x-www-form-urlencoded"})
	}
	// The stalled forms reach the server in their own time: wait until it
	// serves 128 (and the scrape) and has refused the others.
	arrived := func() bool {
		fams := scrape(t, s.URL, "")
		refused := 0.0
		for _, m := range fams["lrs_http_requests_total"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "status" && l.GetValue() == "503" {
					refused += m.GetCounter().GetValue()
				}
			}
		}
		return metricstest.Value(sample(t, fams, "lrs_http_requests_in_flight")) == fit+1 && refused == stalled-fit
	}
	for deadline := time.Now().Add(10 * time.Second); !arrived(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the stalled forms did not reach the server: ", scrape(t, s.URL, "")["lrs_http_requests_in_flight"])
		}
	}
	r := quick()
	expect(t, r, http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") == "" || r.errorKind(t) != "unavailable" {
		t.Errorf("503: Retry-After %q, body %s", r.header.Get("Retry-After"), r.body)
	}
	for _, pw := range writers {
		pw.Close()
	}
	got := map[int]int{}
	for range stalled {
		got[<-done]++
	}
	if got[http.StatusUnauthorized] != fit || got[http.StatusServiceUnavailable] != stalled-fit {
		t.Errorf("stalled forms without credentials: statuses %v, want %d 401 and %d 503", got, fit, stalled-fit)
	}
	expect(t, quick(), http.StatusNotFound) // room again: no such state, but authenticated

	// With the Authorization header a form may be large; without, it may not.
	big := url.Values{"activityId": {course}, "agent": {annAgent}, "stateId": {"big"},
		"content": {strings.Repeat("x", 200<<10)}, "Content-Type": {"text/plain"}}
	expect(t, s.alt(statePath, "PUT", big, req{noAuth: true, header: basic("admin", "admin-secret")}), http.StatusNoContent)
	r = s.alt(statePath, "PUT", big, req{})
	expect(t, r, http.StatusRequestEntityTooLarge)
	if !strings.Contains(errorMessage(t, r), "Authorization header") {
		t.Errorf("413 without the header: %s", r.body)
	}
	// The credentials once: in the header, or in the form, or equal in both.
	expectError(t, "different credentials in the header and the form",
		s.alt(statePath, "GET", url.Values{"activityId": {course}, "agent": {annAgent}, "stateId": {"big"}},
			req{header: basic("reader", "reader-secret")}), http.StatusBadRequest, "Authorization")
	expect(t, s.alt(statePath, "GET", url.Values{"activityId": {course}, "agent": {annAgent}, "stateId": {"big"}},
		req{header: basic("admin", "admin-secret")}), http.StatusOK)
}

// TestAlternateSyntaxCrossSite: a form posted by a page of another site
// carries the Basic credentials a browser remembers for the LRS; in the
// alternate request syntax it would store a statement (no CORS preflight
// stops a form). Such a request is refused unless its credentials are in
// the form, as a legitimate cross-site client of the syntax sends them.
func TestAlternateSyntaxCrossSite(t *testing.T) {
	s := newServer(t)
	put := func(header map[string]string, authInForm bool) (*response, string) {
		t.Helper()
		id := newID()
		form := url.Values{"statementId": {id}, "content": {string(mustJSON(t, stmt("ann", "attended")))},
			"X-Experience-API-Version": {"1.0.3"}}
		r := req{method: "POST", path: "/xapi/statements?method=PUT", body: form.Encode(), header: header,
			ctype: "application/x-www-form-urlencoded", version: "-"}
		if authInForm {
			form.Set("Authorization", "Basic "+b64("admin:admin-secret"))
			r.body, r.noAuth = form.Encode(), true
		}
		return s.do(r), id
	}
	stored := func(id string) bool {
		return s.do(req{method: "GET", path: "/xapi/statements?statementId=" + id}).status == http.StatusOK
	}
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"},
		{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors"},
		{"Origin": "https://evil.example"},
	} {
		r, id := put(h, false)
		expect(t, r, http.StatusForbidden)
		if !strings.Contains(string(r.body), "Authorization field") {
			t.Errorf("%v: the refusal does not say what to do: %s", h, r.body)
		}
		if stored(id) {
			t.Errorf("%v: a cross-site form with remembered credentials stored a statement", h)
		}
		r, id = put(h, true)
		expect(t, r, http.StatusNoContent)
		if !stored(id) {
			t.Errorf("%v: credentials in the form: not stored", h)
		}
	}
	for _, h := range []map[string]string{nil, {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"},
		{"Origin": s.URL}} {
		r, id := put(h, false)
		expect(t, r, http.StatusNoContent)
		if !stored(id) {
			t.Errorf("%v: not stored", h)
		}
	}
}
