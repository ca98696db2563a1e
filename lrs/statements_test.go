package lrs_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xapi-lrs/lrs/lrs"
)

func newID() string { return uuid.NewString() }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestPutStatement(t *testing.T) {
	for _, version := range []string{"1.0.3", "2.0.0"} {
		t.Run(version, func(t *testing.T) {
			s := newServer(t)
			now := time.Date(2024, 5, 1, 12, 30, 15, 123456789, time.UTC)
			s.clock.Set(now)
			id := newID()
			st := stmt("ann", "attended")
			r := s.do(req{method: "PUT", path: "/xapi/statements?statementId=" + id, body: st, version: version})
			expect(t, r, http.StatusNoContent)
			if len(r.body) != 0 {
				t.Errorf("204 with a body: %s", r.body)
			}

			r = s.do(req{method: "GET", path: "/xapi/statements?statementId=" + id, version: version})
			expect(t, r, http.StatusOK)
			got := r.statement(t)
			if got["id"] != id {
				t.Errorf("id %v, want %s", got["id"], id)
			}
			if got["stored"] != "2024-05-01T12:30:15.123Z" {
				t.Errorf("stored %v", got["stored"])
			}
			if got["timestamp"] != got["stored"] {
				t.Errorf("timestamp %v, want it set to stored %v", got["timestamp"], got["stored"])
			}
			wantVersion := map[string]string{"1.0.3": "1.0.0", "2.0.0": "2.0.0"}[version]
			if got["version"] != wantVersion {
				t.Errorf("version property %v, want %s", got["version"], wantVersion)
			}
			if _, ok := got["authority"].(map[string]any); !ok {
				t.Errorf("no authority: %v", got)
			}
			if lm, err := http.ParseTime(r.header.Get("Last-Modified")); err != nil || !lm.Equal(now.Truncate(time.Second)) {
				t.Errorf("Last-Modified %q (%v), want %v", r.header.Get("Last-Modified"), err, now.Truncate(time.Second))
			}
			if r.header.Get("X-Experience-API-Version") != version {
				t.Errorf("response version %q", r.header.Get("X-Experience-API-Version"))
			}

			// The same statement again is a no-op; a different one conflicts.
			s.clock.Set(now.Add(time.Hour))
			expect(t, s.do(req{method: "PUT", path: "/xapi/statements?statementId=" + id, body: st, version: version}), http.StatusNoContent)
			other := stmt("ann", "failed")
			r = s.do(req{method: "PUT", path: "/xapi/statements?statementId=" + id, body: other, version: version})
			expect(t, r, http.StatusConflict)
			if r.errorKind(t) != "conflict" {
				t.Errorf("kind %s", r.errorKind(t))
			}
			if again := s.get(id); again["stored"] != got["stored"] || again["verb"].(map[string]any)["id"] != "http://adlnet.gov/expapi/verbs/attended" {
				t.Errorf("statement changed by a repeated PUT: %v", again)
			}

			// The id in the body must match the parameter (in any case).
			upper := newID()
			withID := stmt("bob", "attended", "id", strings.ToUpper(upper))
			expect(t, s.do(req{method: "PUT", path: "/xapi/statements?statementId=" + upper, body: withID, version: version}), http.StatusNoContent)
			if s.get(upper)["id"] != upper {
				t.Errorf("id not stored in lowercase")
			}
			mismatch := stmt("bob", "attended", "id", newID())
			r = s.do(req{method: "PUT", path: "/xapi/statements?statementId=" + newID(), body: mismatch, version: version})
			expect(t, r, http.StatusBadRequest)
		})
	}
}

func TestPutStatementBadRequests(t *testing.T) {
	s := newServer(t)
	id := newID()
	cases := map[string]req{
		"no statementId":      {path: "/xapi/statements", body: stmt("a", "b")},
		"statementId case":    {path: "/xapi/statements?StatementId=" + id, body: stmt("a", "b")},
		"bad uuid":            {path: "/xapi/statements?statementId=123", body: stmt("a", "b")},
		"urn uuid":            {path: "/xapi/statements?statementId=urn:uuid:" + id, body: stmt("a", "b")},
		"extra param":         {path: "/xapi/statements?statementId=" + id + "&verb=x", body: stmt("a", "b")},
		"repeated param":      {path: "/xapi/statements?statementId=" + id + "&statementId=" + id, body: stmt("a", "b")},
		"array":               {path: "/xapi/statements?statementId=" + id, body: []any{stmt("a", "b")}},
		"invalid statement":   {path: "/xapi/statements?statementId=" + id, body: map[string]any{"actor": "x"}},
		"empty body":          {path: "/xapi/statements?statementId=" + id, body: ""},
		"no content type":     {path: "/xapi/statements?statementId=" + id, body: `{}`, ctype: "-"},
		"text/plain":          {path: "/xapi/statements?statementId=" + id, body: `{}`, ctype: "text/plain"},
		"form":                {path: "/xapi/statements?statementId=" + id, body: `a=b`, ctype: "application/x-www-form-urlencoded"},
		"bad query encoding":  {path: "/xapi/statements?statementId=%zz", body: stmt("a", "b")},
		"malformed ctype":     {path: "/xapi/statements?statementId=" + id, body: `{}`, ctype: "application/json; ="},
		"multipart no bound.": {path: "/xapi/statements?statementId=" + id, body: `{}`, ctype: "multipart/mixed"},
	}
	for name, r := range cases {
		r.method = "PUT"
		got := s.do(r)
		if got.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400; body %s", name, got.status, got.body)
			continue
		}
		if got.errorKind(t) != "invalid" {
			t.Errorf("%s: kind %s", name, got.errorKind(t))
		}
	}
	// Nothing was stored under id.
	expect(t, s.do(req{method: "GET", path: "/xapi/statements?statementId=" + id}), http.StatusNotFound)
}

func TestPostStatements(t *testing.T) {
	s := newServer(t)
	// One statement; the LRS assigns a lowercase v4 UUID.
	id := s.post(stmt("ann", "attended"))[0]
	if u, err := uuid.Parse(id); err != nil || u.Version() != 4 || id != strings.ToLower(id) {
		t.Errorf("assigned id %q is not a lowercase v4 UUID", id)
	}

	// A batch keeps its order; given ids are kept.
	given := newID()
	batch := []map[string]any{stmt("a", "attended"), stmt("b", "attended", "id", given), stmt("c", "attended")}
	got := s.post(batch...)
	if got[1] != given || got[0] == got[2] {
		t.Errorf("batch ids %v", got)
	}
	for i, id := range got {
		st := s.get(id)
		if st["actor"].(map[string]any)["name"] != []string{"a", "b", "c"}[i] {
			t.Errorf("id %d refers to %v", i, st["actor"])
		}
	}

	// Re-posting a stored statement is fine; changing it is a conflict, and
	// a batch holding a conflict stores nothing.
	again := stmt("b", "attended", "id", given)
	if s.post(again)[0] != given {
		t.Errorf("repost returned another id")
	}
	fresh := newID()
	r := s.do(req{method: "POST", path: "/xapi/statements",
		body: []any{stmt("d", "attended", "id", fresh), stmt("b", "failed", "id", given)}})
	expect(t, r, http.StatusConflict)
	expect(t, s.do(req{method: "GET", path: "/xapi/statements?statementId=" + fresh}), http.StatusNotFound)

	// An empty batch stores nothing and succeeds (see
	// statements.ParseStatements for why).
	count := func() int {
		got, _ := s.do(req{method: "GET", path: "/xapi/statements?limit=100"}).result(t)
		return len(got)
	}
	before := count()
	r = s.do(req{method: "POST", path: "/xapi/statements", body: "[]"})
	expect(t, r, http.StatusOK)
	if string(r.body) != "[]" {
		t.Errorf("empty batch answered %s", r.body)
	}
	if after := count(); after != before {
		t.Errorf("an empty batch changed the statements from %d to %d", before, after)
	}
}

func TestPostBatchAllOrNone(t *testing.T) {
	s := newServer(t)
	good, dup := newID(), newID()
	cases := map[string][]any{
		"invalid member":  {stmt("a", "attended", "id", good), map[string]any{"actor": stmt("x", "y")["actor"], "verb": map[string]any{"id": "not an iri"}}},
		"duplicate ids":   {stmt("a", "attended", "id", good), stmt("b", "attended", "id", dup), stmt("c", "attended", "id", dup)},
		"duplicate case":  {stmt("a", "attended", "id", good), stmt("b", "attended", "id", dup), stmt("c", "attended", "id", strings.ToUpper(dup))},
		"null statement":  {stmt("a", "attended", "id", good), nil},
		"not an object":   {stmt("a", "attended", "id", good), "statement"},
		"unknown propery": {stmt("a", "attended", "id", good), stmt("b", "attended", "dummy", "x")},
	}
	for name, batch := range cases {
		r := s.do(req{method: "POST", path: "/xapi/statements", body: batch})
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", name, r.status, r.body)
			continue
		}
		var e struct {
			Error struct{ Path string } `json:"error"`
		}
		r.json(t, &e)
		if !strings.HasPrefix(e.Error.Path, "[") {
			t.Errorf("%s: error path %q does not name the batch index", name, e.Error.Path)
		}
	}
	for _, id := range []string{good, dup} {
		expect(t, s.do(req{method: "GET", path: "/xapi/statements?statementId=" + id}), http.StatusNotFound)
	}
}

func TestPostLimits(t *testing.T) {
	s := newServer(t, func(c *lrs.Config) { c.MaxBodyBytes = 2000; c.MaxBatch = 3 })
	big := stmt("a", "attended", "result", map[string]any{"response": strings.Repeat("x", 3000)})
	r := s.do(req{method: "POST", path: "/xapi/statements", body: big})
	expect(t, r, http.StatusRequestEntityTooLarge)
	if r.errorKind(t) != "too_large" {
		t.Errorf("kind %s", r.errorKind(t))
	}
	r = s.do(req{method: "PUT", path: "/xapi/statements?statementId=" + newID(), body: big})
	expect(t, r, http.StatusRequestEntityTooLarge)
	r = s.do(req{method: "POST", path: "/xapi/statements", body: multipartBody(t, "b0", big, nil), ctype: "multipart/mixed; boundary=b0"})
	expect(t, r, http.StatusRequestEntityTooLarge)

	batch := []any{stmt("a", "x"), stmt("b", "x"), stmt("c", "x"), stmt("d", "x")}
	r = s.do(req{method: "POST", path: "/xapi/statements", body: batch})
	expect(t, r, http.StatusRequestEntityTooLarge)
	expect(t, s.do(req{method: "POST", path: "/xapi/statements", body: batch[:3]}), http.StatusOK)
}

func TestPostBadRequests(t *testing.T) {
	s := newServer(t)
	cases := map[string]req{
		"query parameter":   {path: "/xapi/statements?statementId=" + newID(), body: stmt("a", "b")},
		"no content type":   {path: "/xapi/statements", body: stmt("a", "b"), ctype: "-"},
		"text/plain":        {path: "/xapi/statements", body: stmt("a", "b"), ctype: "text/plain"},
		"multipart/form":    {path: "/xapi/statements", body: stmt("a", "b"), ctype: "multipart/form-data; boundary=x"},
		"not json":          {path: "/xapi/statements", body: "hello"},
		"json scalar":       {path: "/xapi/statements", body: "42"},
		"truncated":         {path: "/xapi/statements", body: `{"actor":`},
		"trailing garbage":  {path: "/xapi/statements", body: `{}{}`},
		"unknown property":  {path: "/xapi/statements", body: stmt("a", "b", "dummy", 1)},
		"voiding no ref":    {path: "/xapi/statements", body: stmt("a", "voided")},
		"bad multipart":     {path: "/xapi/statements", body: "garbage", ctype: "multipart/mixed; boundary=zz"},
		"version mismatch":  {path: "/xapi/statements", body: stmt("a", "b", "version", "3.0.0")},
		"authority group 3": {path: "/xapi/statements", body: stmt("a", "b", "authority", map[string]any{"objectType": "Group", "member": []any{map[string]any{"mbox": "mailto:a@b.c"}, map[string]any{"mbox": "mailto:b@b.c"}, map[string]any{"mbox": "mailto:c@b.c"}}})},
	}
	for name, r := range cases {
		r.method = "POST"
		got := s.do(r)
		if got.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400; body %s", name, got.status, got.body)
			continue
		}
		if got.errorKind(t) != "invalid" {
			t.Errorf("%s: kind %s", name, got.errorKind(t))
		}
	}
	// The error names the property and the rule.
	r := s.do(req{method: "POST", path: "/xapi/statements", body: stmt("a", "b", "actor", map[string]any{"mbox": "a@b.c"})})
	expect(t, r, http.StatusBadRequest)
	var e struct {
		Error struct{ Kind, Message, Path, Rule string } `json:"error"`
	}
	r.json(t, &e)
	if !strings.HasPrefix(e.Error.Path, "actor") || e.Error.Rule == "" || e.Error.Message == "" {
		t.Errorf("error body %s does not name the path and rule", r.body)
	}
}

func TestLRSOverridesAuthority(t *testing.T) {
	s := newServer(t)
	claimed := map[string]any{"objectType": "Agent", "mbox": "mailto:boss@example.com"}
	id := s.post(stmt("a", "attended", "authority", claimed, "stored", "2000-01-01T00:00:00Z"))[0]
	got := s.get(id)
	a := got["authority"].(map[string]any)
	if a["mbox"] != nil || a["account"].(map[string]any)["name"] != "admin" {
		t.Errorf("authority %v, want the credential's agent", a)
	}
	if got["stored"] == "2000-01-01T00:00:00Z" {
		t.Errorf("client-supplied stored kept")
	}
	// A client-supplied version and timestamp are kept.
	id = s.post(stmt("a", "attended", "version", "2.0.0", "timestamp", "2024-01-02T03:04:05.678+02:00"))[0]
	got = s.get(id)
	if got["version"] != "2.0.0" || got["timestamp"] != "2024-01-02T03:04:05.678+02:00" {
		t.Errorf("version %v timestamp %v", got["version"], got["timestamp"])
	}
}

func TestContextActivitiesAsArrays(t *testing.T) {
	s := newServer(t)
	single := map[string]any{"id": "http://example.com/programs/1"}
	ctx := map[string]any{"contextActivities": map[string]any{"parent": single, "grouping": []any{single}}}
	id := s.post(stmt("a", "attended", "context", ctx))[0]
	ca := s.get(id)["context"].(map[string]any)["contextActivities"].(map[string]any)
	for _, k := range []string{"parent", "grouping"} {
		if l, ok := ca[k].([]any); !ok || len(l) != 1 {
			t.Errorf("contextActivities.%s = %v, want an array of one", k, ca[k])
		}
	}
}

func TestGetStatementVoiding(t *testing.T) {
	s := newServer(t)
	target := s.post(stmt("ann", "attended"))[0]
	voider := s.post(voiding(target))[0]

	r := s.do(req{method: "GET", path: "/xapi/statements?statementId=" + target})
	expect(t, r, http.StatusNotFound)
	if r.errorKind(t) != "not_found" || r.header.Get(lrs.ConsistentThroughHeader) == "" {
		t.Errorf("404 body %s, headers %v", r.body, r.header)
	}
	r = s.do(req{method: "GET", path: "/xapi/statements?voidedStatementId=" + target})
	expect(t, r, http.StatusOK)
	if r.statement(t)["id"] != target {
		t.Errorf("voidedStatementId returned %s", r.body)
	}
	expect(t, s.do(req{method: "GET", path: "/xapi/statements?voidedStatementId=" + voider}), http.StatusNotFound)
	expect(t, s.do(req{method: "GET", path: "/xapi/statements?statementId=" + voider}), http.StatusOK)
	expect(t, s.do(req{method: "GET", path: "/xapi/statements?statementId=" + newID()}), http.StatusNotFound)
	expect(t, s.do(req{method: "GET", path: "/xapi/statements?voidedStatementId=" + newID()}), http.StatusNotFound)

	// Voiding a voiding statement is accepted and ignored; so is voiding an
	// unknown statement.
	s.post(voiding(voider))
	expect(t, s.do(req{method: "GET", path: "/xapi/statements?statementId=" + voider}), http.StatusOK)
	s.post(voiding(newID()))

	// Queries leave the voided statement out but return those referring to it.
	r = s.do(req{method: "GET", path: "/xapi/statements"})
	expect(t, r, http.StatusOK)
	got, _ := r.result(t)
	if contains(ids(got), target) || !contains(ids(got), voider) {
		t.Errorf("query returned %v; want %s (voiding) and not %s (voided)", ids(got), voider, target)
	}
}

func TestGetStatementParams(t *testing.T) {
	s := newServer(t)
	id := s.post(stmt("ann", "attended"))[0]
	ok := []string{
		"statementId=" + id,
		"statementId=" + strings.ToUpper(id),
		"statementId=" + id + "&format=exact",
		"statementId=" + id + "&format=ids",
		"statementId=" + id + "&format=canonical",
		"statementId=" + id + "&attachments=false",
		"statementId=" + id + "&attachments=true&format=ids",
	}
	for _, q := range ok {
		r := s.do(req{method: "GET", path: "/xapi/statements?" + q})
		expect(t, r, http.StatusOK)
		if r.header.Get(lrs.ConsistentThroughHeader) == "" || r.header.Get("Last-Modified") == "" {
			t.Errorf("%s: missing Consistent-Through or Last-Modified: %v", q, r.header)
		}
	}
	agent := url.QueryEscape(`{"mbox":"mailto:ann@example.com"}`)
	bad := []string{
		"statementId=" + id + "&voidedStatementId=" + id,
		"statementId=" + id + "&agent=" + agent,
		"statementId=" + id + "&verb=http://adlnet.gov/expapi/verbs/attended",
		"statementId=" + id + "&activity=http://example.com/courses/safety",
		"statementId=" + id + "&registration=" + newID(),
		"statementId=" + id + "&related_activities=true",
		"statementId=" + id + "&related_agents=true",
		"statementId=" + id + "&since=2020-01-01T00:00:00Z",
		"statementId=" + id + "&until=2020-01-01T00:00:00Z",
		"statementId=" + id + "&limit=1",
		"statementId=" + id + "&ascending=true",
		"statementId=" + id + "&more=x",
		"statementId=" + id + "&foo=bar",
		"voidedStatementId=" + id + "&limit=1",
		"statementId=" + id + "&format=full",
		"statementId=" + id + "&attachments=yes",
		"statementId=not-a-uuid",
		"statementId=",
		"StatementId=" + id,
		"VoidedStatementId=" + id,
		"statementId=" + id + "&statementId=" + id,
	}
	for _, q := range bad {
		r := s.do(req{method: "GET", path: "/xapi/statements?" + q})
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400; %s", q, r.status, r.body)
			continue
		}
		if r.header.Get(lrs.ConsistentThroughHeader) == "" {
			t.Errorf("%s: 400 without %s", q, lrs.ConsistentThroughHeader)
		}
	}
}

func TestQueryParams(t *testing.T) {
	s := newServer(t)
	s.post(stmt("ann", "attended"))
	agent := url.QueryEscape(`{"objectType":"Agent","mbox":"mailto:ann@example.com"}`)
	ok := []string{
		"",
		"agent=" + agent,
		"verb=http://adlnet.gov/expapi/verbs/attended",
		"activity=http://example.com/courses/safety",
		"registration=" + newID(),
		"related_activities=true&activity=http://example.com/courses/safety",
		"related_agents=false&agent=" + agent,
		"since=2020-01-01T00:00:00Z",
		"until=2999-01-01T00:00:00.000%2B02:00",
		"until=2999-01-01T00:00:00.000+02:00", // an unescaped + reads as a space
		"limit=0",
		"limit=5",
		"limit=100000",
		"format=ids",
		"format=canonical",
		"format=exact",
		"attachments=false",
		"ascending=true",
		"ascending=false",
	}
	for _, q := range ok {
		r := s.do(req{method: "GET", path: "/xapi/statements?" + q})
		expect(t, r, http.StatusOK)
		r.result(t)
		if r.header.Get(lrs.ConsistentThroughHeader) == "" {
			t.Errorf("%s: no %s", q, lrs.ConsistentThroughHeader)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q", q, ct)
		}
	}
	bad := []string{
		"foo=bar",
		"LIMIT=1",
		"Verb=http://adlnet.gov/expapi/verbs/attended",
		"agent=" + url.QueryEscape(`{"mbox":"ann@example.com"}`),
		"agent=" + url.QueryEscape(`{"objectType":"Group","member":[{"mbox":"mailto:a@b.c"}]}`), // anonymous
		"agent=notjson",
		"agent=" + url.QueryEscape(`[]`),
		"verb=attended",
		"activity=not%20an%20iri",
		"registration=123",
		"related_activities=yes",
		"related_agents=1",
		"since=yesterday",
		"until=2020-13-01T00:00:00Z",
		"limit=-1",
		"limit=abc",
		"limit=1.5",
		"limit=+5",
		"format=all",
		"attachments=TRUE",
		"ascending=",
		"ascending=true&ascending=false",
		"more=garbage",
		"more=a.b",
		"%zz=1",
	}
	for _, q := range bad {
		r := s.do(req{method: "GET", path: "/xapi/statements?" + q})
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400; %s", q, r.status, r.body)
			continue
		}
		if r.errorKind(t) != "invalid" || r.header.Get(lrs.ConsistentThroughHeader) == "" {
			t.Errorf("%s: body %s headers %v", q, r.body, r.header)
		}
	}
}

func TestQueryFiltersAndPaging(t *testing.T) {
	s := newServer(t, func(c *lrs.Config) { c.MaxLimit = 4 })
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	var all []string
	for i := 0; i < 10; i++ {
		s.clock.Set(base.Add(time.Duration(i) * time.Second))
		verb := "attended"
		if i%2 == 1 {
			verb = "completed"
		}
		all = append(all, s.post(stmt(fmt.Sprintf("user%d", i), verb))[0])
	}

	// Descending by default, pages of at most MaxLimit, following more.
	var seen []string
	path := "/xapi/statements"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatalf("more links do not end")
		}
		r := s.do(req{method: "GET", path: path})
		expect(t, r, http.StatusOK)
		got, more := r.result(t)
		if len(got) > 4 {
			t.Errorf("page of %d statements, limit 4", len(got))
		}
		seen = append(seen, ids(got)...)
		if more != "" && !strings.HasPrefix(more, "/xapi/statements?more=") {
			t.Fatalf("more = %q", more)
		}
		path = more
	}
	for i, id := range seen {
		if id != all[len(all)-1-i] {
			t.Fatalf("descending pages gave %v, want the reverse of %v", seen, all)
		}
	}

	// Filters, limit and order hold across pages.
	r := s.do(req{method: "GET", path: "/xapi/statements?verb=http://adlnet.gov/expapi/verbs/completed&ascending=true&limit=2"})
	expect(t, r, http.StatusOK)
	got, more := r.result(t)
	if strings.Join(ids(got), ",") != strings.Join([]string{all[1], all[3]}, ",") || more == "" {
		t.Fatalf("first page %v more %q, want %v", ids(got), more, []string{all[1], all[3]})
	}
	r = s.do(req{method: "GET", path: more})
	expect(t, r, http.StatusOK)
	got, _ = r.result(t)
	if strings.Join(ids(got), ",") != strings.Join([]string{all[5], all[7]}, ",") {
		t.Errorf("second page %v, want %v", ids(got), []string{all[5], all[7]})
	}

	// since is exclusive, until inclusive.
	q := "since=" + base.Add(2*time.Second).Format(time.RFC3339) + "&until=" + base.Add(5*time.Second).Format(time.RFC3339) + "&ascending=true"
	r = s.do(req{method: "GET", path: "/xapi/statements?" + q})
	expect(t, r, http.StatusOK)
	got, _ = r.result(t)
	if strings.Join(ids(got), ",") != strings.Join(all[3:6], ",") {
		t.Errorf("since/until gave %v, want %v", ids(got), all[3:6])
	}
	if lm, err := http.ParseTime(r.header.Get("Last-Modified")); err != nil || !lm.Equal(base.Add(5*time.Second)) {
		t.Errorf("Last-Modified %q, want the newest stored of the page", r.header.Get("Last-Modified"))
	}

	// No match: an empty array, no more link.
	r = s.do(req{method: "GET", path: "/xapi/statements?verb=http://adlnet.gov/expapi/non/existent"})
	expect(t, r, http.StatusOK)
	got, more = r.result(t)
	if len(got) != 0 || more != "" {
		t.Errorf("empty result %s", r.body)
	}

	// A more token cannot be forged, edited or combined with other parameters.
	r = s.do(req{method: "GET", path: "/xapi/statements?limit=1"})
	_, more = r.result(t)
	token := strings.TrimPrefix(more, "/xapi/statements?more=")
	forged := "x" + token
	expect(t, s.do(req{method: "GET", path: "/xapi/statements?more=" + forged}), http.StatusBadRequest)
	expect(t, s.do(req{method: "GET", path: more + "&limit=2"}), http.StatusBadRequest)
	// Another server (another key) does not accept it.
	other := newServer(t)
	expect(t, other.do(req{method: "GET", path: more}), http.StatusBadRequest)
}

func TestQueryAgentFilter(t *testing.T) {
	s := newServer(t)
	ann := s.post(stmt("ann", "attended"))[0]
	s.post(stmt("bob", "attended"))
	q := url.Values{"agent": {`{"mbox":"mailto:ann@example.com"}`}}
	r := s.do(req{method: "GET", path: "/xapi/statements?" + q.Encode()})
	expect(t, r, http.StatusOK)
	got, _ := r.result(t)
	if strings.Join(ids(got), ",") != ann {
		t.Errorf("agent filter returned %v, want [%s]", ids(got), ann)
	}
}

func TestHead(t *testing.T) {
	s := newServer(t)
	id := s.post(stmt("ann", "attended"))[0]
	for _, q := range []string{"", "?statementId=" + id, "?limit=1", "?statementId=" + newID(), "?foo=bar"} {
		get := s.do(req{method: "GET", path: "/xapi/statements" + q})
		head := s.do(req{method: "HEAD", path: "/xapi/statements" + q})
		if head.status != get.status {
			t.Errorf("%s: HEAD %d, GET %d", q, head.status, get.status)
		}
		if len(head.body) != 0 {
			t.Errorf("%s: HEAD with a body: %s", q, head.body)
		}
		for _, h := range []string{"Content-Type", "Content-Length", "X-Experience-API-Version", "Last-Modified"} {
			if head.header.Get(h) != get.header.Get(h) {
				t.Errorf("%s: HEAD %s %q, GET %q", q, h, head.header.Get(h), get.header.Get(h))
			}
		}
		if head.header.Get(lrs.ConsistentThroughHeader) == "" {
			t.Errorf("%s: HEAD without %s", q, lrs.ConsistentThroughHeader)
		}
	}
}

func TestConsistentThrough(t *testing.T) {
	s := newServer(t)
	before := time.Now().Add(-time.Minute)
	for _, q := range []string{"", "?limit=1", "?LIMIT=1", "?statementId=" + newID()} {
		r := s.do(req{method: "GET", path: "/xapi/statements" + q})
		ct, err := time.Parse(time.RFC3339Nano, r.header.Get(lrs.ConsistentThroughHeader))
		if err != nil || ct.Before(before) {
			t.Errorf("%s (%d): %s = %q (%v)", q, r.status, lrs.ConsistentThroughHeader, r.header.Get(lrs.ConsistentThroughHeader), err)
		}
	}
	// Also on a 400 for a missing version header.
	r := s.do(req{method: "GET", path: "/xapi/statements", version: "-"})
	expect(t, r, http.StatusBadRequest)
	if r.header.Get(lrs.ConsistentThroughHeader) == "" {
		t.Errorf("no %s on a version error", lrs.ConsistentThroughHeader)
	}
}

// multipartBody builds a multipart/mixed statement request body.
func multipartBody(t *testing.T, boundary string, statement any, atts [][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary(boundary); err != nil {
		t.Fatal(err)
	}
	js := mustJSON(t, statement)
	p, _ := w.CreatePart(map[string][]string{"Content-Type": {"application/json"}})
	p.Write(js)
	for _, a := range atts {
		sum := sha256.Sum256(a)
		p, _ := w.CreatePart(map[string][]string{"Content-Type": {"text/plain"},
			"Content-Transfer-Encoding": {"binary"}, "X-Experience-API-Hash": {hex.EncodeToString(sum[:])}})
		p.Write(a)
	}
	w.Close()
	return buf.Bytes()
}

func attachmentMeta(data []byte) map[string]any {
	sum := sha256.Sum256(data)
	return map[string]any{
		"usageType":   "http://example.com/attachment-usage/test",
		"display":     map[string]any{"en-US": "A test attachment"},
		"contentType": "text/plain",
		"length":      len(data),
		"sha2":        hex.EncodeToString(sum[:]),
	}
}

func TestAttachments(t *testing.T) {
	s := newServer(t)
	data := []byte("here is a simple attachment")
	st := stmt("ann", "attended", "attachments", []any{attachmentMeta(data)})
	r := s.do(req{method: "POST", path: "/xapi/statements", body: multipartBody(t, "xyz", st, [][]byte{data}),
		ctype: "multipart/mixed; boundary=xyz"})
	expect(t, r, http.StatusOK)
	var posted []string
	r.json(t, &posted)
	id := posted[0]

	// Without attachments=true: plain JSON.
	r = s.do(req{method: "GET", path: "/xapi/statements?statementId=" + id})
	expect(t, r, http.StatusOK)
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
	}

	// With it: multipart/mixed, the statement first, then the raw data.
	for _, q := range []string{"?statementId=" + id + "&attachments=true", "?attachments=true"} {
		r = s.do(req{method: "GET", path: "/xapi/statements" + q})
		expect(t, r, http.StatusOK)
		mt, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
		if err != nil || mt != "multipart/mixed" || params["boundary"] == "" {
			t.Fatalf("%s: Content-Type %q", q, r.header.Get("Content-Type"))
		}
		mr := multipart.NewReader(bytes.NewReader(r.body), params["boundary"])
		first, err := mr.NextRawPart()
		if err != nil || !strings.HasPrefix(first.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: first part %v %v", q, first, err)
		}
		js, _ := io.ReadAll(first)
		if !bytes.Contains(js, []byte(id)) {
			t.Errorf("%s: first part lacks the statement: %s", q, js)
		}
		part, err := mr.NextRawPart()
		if err != nil {
			t.Fatalf("%s: no attachment part: %v", q, err)
		}
		got, _ := io.ReadAll(part)
		sum := sha256.Sum256(data)
		if !bytes.Equal(got, data) || part.Header.Get("X-Experience-API-Hash") != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: attachment part %q, hash %q", q, got, part.Header.Get("X-Experience-API-Hash"))
		}
	}

	// An attachment without fileUrl sent as application/json lacks its data.
	r = s.do(req{method: "POST", path: "/xapi/statements", body: st})
	expect(t, r, http.StatusBadRequest)
	// A fileUrl attachment may come as application/json.
	meta := attachmentMeta([]byte("elsewhere"))
	meta["fileUrl"] = "http://example.com/file.txt"
	expect(t, s.do(req{method: "POST", path: "/xapi/statements", body: stmt("a", "b", "attachments", []any{meta})}), http.StatusOK)
	// A multipart body without attachments is fine.
	r = s.do(req{method: "POST", path: "/xapi/statements", body: multipartBody(t, "q1", stmt("a", "b"), nil),
		ctype: "multipart/mixed; boundary=q1"})
	expect(t, r, http.StatusOK)
	// A part no statement refers to is refused.
	r = s.do(req{method: "POST", path: "/xapi/statements", body: multipartBody(t, "q2", stmt("a", "b"), [][]byte{data}),
		ctype: "multipart/mixed; boundary=q2"})
	expect(t, r, http.StatusBadRequest)
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTripBothVersions(t *testing.T) {
	s := newServer(t, func(c *lrs.Config) { c.MaxLimit = 2 })
	for _, v := range []string{"1.0.3", "2.0.0"} {
		var posted []string
		for i := 0; i < 3; i++ {
			r := s.do(req{method: "POST", path: "/xapi/statements", body: stmt("v"+v, "experienced"), version: v})
			expect(t, r, http.StatusOK)
			if r.header.Get("X-Experience-API-Version") != v {
				t.Errorf("%s: POST answered in %q", v, r.header.Get("X-Experience-API-Version"))
			}
			var ids []string
			r.json(t, &ids)
			posted = append(posted, ids...)
		}
		r := s.do(req{method: "POST", path: "/xapi/statements", body: voiding(posted[0]), version: v})
		expect(t, r, http.StatusOK)
		var voider []string
		r.json(t, &voider)

		agent := url.QueryEscape(`{"mbox":"mailto:v` + v + `@example.com"}`)
		var got []string
		for path := "/xapi/statements?ascending=true&agent=" + agent; path != ""; {
			r := s.do(req{method: "GET", path: path, version: v})
			expect(t, r, http.StatusOK)
			if r.header.Get("X-Experience-API-Version") != v {
				t.Errorf("%s: GET answered in %q", v, r.header.Get("X-Experience-API-Version"))
			}
			stmts, more := r.result(t)
			for _, st := range stmts {
				if st["version"] != map[string]string{"1.0.3": "1.0.0", "2.0.0": "2.0.0"}[v] {
					t.Errorf("%s: statement version %v", v, st["version"])
				}
			}
			got = append(got, ids(stmts)...)
			path = more
		}
		// The voided statement is left out; the voiding statement matches
		// through its StatementRef.
		want := append(posted[1:], voider[0])
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: agent query gave %v, want %v", v, got, want)
		}
		r = s.do(req{method: "GET", path: "/xapi/statements?voidedStatementId=" + posted[0], version: v})
		expect(t, r, http.StatusOK)
	}
}
