package loadtest

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/statements"
)

// storedLayout is how the LRS writes "stored": RFC 3339, milliseconds, UTC.
const storedLayout = "2006-01-02T15:04:05.000Z"

// writer completes statements into Records the way the LRS does when it
// accepts them (package lrs, Server.store): the content hash of the
// statement as sent, then stored, authority and version set, the JSON
// encoded without HTML escaping, and the filter fields indexed. The raw and
// fill phases use it to write the same rows the server would write, without
// HTTP and validation.
type writer struct {
	cred      *auth.Credential
	authority map[string]any // the Agent the LRS puts as authority
	version   string         // the "version" property, e.g. "1.0.0"
}

func newWriter(cred *auth.Credential, lrsBase string, v statements.Version) *writer {
	a := map[string]any{
		"objectType": "Agent",
		"account":    map[string]any{"homePage": lrsBase, "name": cred.Key},
	}
	if cred.Name != "" {
		a["name"] = cred.Name
	}
	version := "2.0.0"
	if v == statements.V103 {
		version = "1.0.0"
	}
	return &writer{cred: cred, authority: a, version: version}
}

// record completes s (modifying it) as stored at now and returns its Record.
func (w *writer) record(s map[string]any, now time.Time) *statements.Record {
	now = now.UTC().Truncate(time.Millisecond)
	hash := statements.ContentHash(s)
	id, _ := s["id"].(string)
	s["stored"] = now.Format(storedLayout)
	if _, ok := s["timestamp"]; !ok {
		s["timestamp"] = s["stored"]
	}
	s["authority"] = w.authority
	if _, ok := s["version"]; !ok {
		s["version"] = w.version
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // generated trees hold only JSON types
	}
	tenant := w.cred.Tenant
	if tenant == "" {
		tenant = auth.DefaultTenant
	}
	rec := &statements.Record{
		Tenant:    tenant,
		ID:        id,
		Stored:    now,
		Authority: w.cred.Key,
		Hash:      hash,
		JSON:      bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}),
	}
	statements.Index(s, rec)
	if rec.Timestamp.IsZero() {
		rec.Timestamp = now
	}
	return rec
}

// withID returns a copy of rec under a new id, stored at now: the JSON is
// patched in place (id and stored have fixed lengths). The filter fields
// are shared with rec, which stores only read.
func withID(rec *statements.Record, id string, now time.Time) *statements.Record {
	c := *rec
	c.ID = id
	c.Stored = now.UTC().Truncate(time.Millisecond)
	c.JSON = replaceID(rec.JSON, rec.ID, id)
	key := []byte(`"stored":"`)
	if i := bytes.Index(c.JSON, key); i >= 0 {
		copy(c.JSON[i+len(key):], c.Stored.Format(storedLayout))
	}
	return &c
}

// replaceID returns a copy of js with the first occurrence of the statement
// id old replaced by id (both canonical UUIDs, so the length is unchanged).
func replaceID(js []byte, old, id string) []byte {
	out := bytes.Clone(js)
	if i := bytes.Index(out, []byte(`"`+old+`"`)); i >= 0 {
		copy(out[i+1:], id)
	}
	return out
}
