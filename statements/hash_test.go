package statements

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// hashBase is the statement the hash cases vary.
const hashBase = `{
	"id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
	"actor": {"objectType": "Group", "name": "Team", "mbox": "mailto:team@example.com",
		"member": [{"mbox": "mailto:ann@example.com", "name": "Ann"}, {"openid": "http://bob.example.org/"}]},
	"verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-US": "attended"}},
	"object": {"objectType": "Activity", "id": "http://www.example.com/meetings/34534",
		"definition": {"name": {"en-US": "example meeting"}}},
	"result": {"score": {"scaled": 0.5, "raw": 50}, "success": true, "duration": "PT1H0M0S",
		"extensions": {"http://example.com/ext": {"a": 1, "b": [1, 2]}}},
	"context": {"registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7", "language": "en-US",
		"contextActivities": {"parent": [{"id": "http://www.example.com/meetings/series/267"}]},
		"statement": {"objectType": "StatementRef", "id": "9e13cefd-53d3-4eac-b5ed-2cf6693903bb"}},
	"timestamp": "2013-05-18T05:32:34.804Z",
	"attachments": [{"usageType": "http://example.com/usage", "display": {"en-US": "A"},
		"contentType": "text/plain; charset=ascii", "length": 27,
		"sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"}]
}`

func TestContentHash(t *testing.T) {
	base := ContentHash(decodeStmt(t, hashBase))
	if len(base) != 64 {
		t.Fatalf("ContentHash = %q, want 64 hex digits", base)
	}
	tests := []struct {
		name string
		edit func(s map[string]any)
		same bool
	}{
		// Exceptions to immutability (Data 2.3.1): ignored.
		{"id case", func(s map[string]any) { s["id"] = "6690E6C9-3EF0-4ED3-8B37-7F3964730BEE" }, true},
		{"id absent", func(s map[string]any) { delete(s, "id") }, true},
		{"stored, authority and version set by the LRS", func(s map[string]any) {
			s["stored"] = "2024-01-01T00:00:00Z"
			s["version"] = "1.0.3"
			s["authority"] = map[string]any{"objectType": "Agent", "mbox": "mailto:lrs@example.com"}
		}, true},
		{"timestamp in another zone", func(s map[string]any) { s["timestamp"] = "2013-05-18T07:32:34.804+02:00" }, true},
		{"timestamp beyond milliseconds", func(s map[string]any) { s["timestamp"] = "2013-05-18T05:32:34.8049Z" }, true},
		{"verb display", func(s map[string]any) {
			s["verb"].(map[string]any)["display"] = map[string]any{"fr": "a participé"}
		}, true},
		{"activity definition", func(s map[string]any) {
			delete(s["object"].(map[string]any), "definition")
		}, true},
		{"activity objectType left out", func(s map[string]any) { delete(s["object"].(map[string]any), "objectType") }, true},
		{"group members in another order", func(s map[string]any) {
			m := s["actor"].(map[string]any)["member"].([]any)
			m[0], m[1] = m[1], m[0]
		}, true},
		{"agent objectType made explicit", func(s map[string]any) {
			s["actor"].(map[string]any)["member"].([]any)[0].(map[string]any)["objectType"] = "Agent"
		}, true},
		{"mbox domain case", func(s map[string]any) { s["actor"].(map[string]any)["mbox"] = "mailto:team@EXAMPLE.COM" }, true},
		{"registration case", func(s map[string]any) {
			s["context"].(map[string]any)["registration"] = "EC531277-B57B-4C15-8D91-D292C5B2B8F7"
		}, true},
		{"context statement ref case", func(s map[string]any) {
			s["context"].(map[string]any)["statement"].(map[string]any)["id"] = "9E13CEFD-53D3-4EAC-B5ED-2CF6693903BB"
		}, true},
		{"context language case", func(s map[string]any) { s["context"].(map[string]any)["language"] = "en-us" }, true},
		{"single context activity instead of an array", func(s map[string]any) {
			ca := s["context"].(map[string]any)["contextActivities"].(map[string]any)
			ca["parent"] = ca["parent"].([]any)[0]
		}, true},
		{"context activity definition", func(s map[string]any) {
			ca := s["context"].(map[string]any)["contextActivities"].(map[string]any)
			ca["parent"].([]any)[0].(map[string]any)["definition"] = map[string]any{"type": "http://example.com/t"}
		}, true},
		{"number spelling", func(s map[string]any) {
			sc := s["result"].(map[string]any)["score"].(map[string]any)
			sc["scaled"] = jsonNum("5.0e-1")
			sc["raw"] = jsonNum("50.00")
		}, true},
		{"attachment sha2 and media type case, language tag case", func(s map[string]any) {
			a := s["attachments"].([]any)[0].(map[string]any)
			a["sha2"] = "495395E777CD98DA653DF9615D09C0FD6BB2F8D4788394CD53C56A3BFDCD848A"
			a["contentType"] = "Text/Plain; Charset=ascii"
			a["display"] = map[string]any{"EN-us": "A"}
		}, true},

		// Everything else counts.
		{"actor name", func(s map[string]any) { s["actor"].(map[string]any)["name"] = "Other" }, false},
		{"member removed", func(s map[string]any) {
			a := s["actor"].(map[string]any)
			a["member"] = a["member"].([]any)[:1]
		}, false},
		{"mbox local part case", func(s map[string]any) { s["actor"].(map[string]any)["mbox"] = "mailto:Team@example.com" }, false},
		{"verb id", func(s map[string]any) { s["verb"].(map[string]any)["id"] = "http://adlnet.gov/expapi/verbs/Attended" }, false},
		{"activity id case (IRIs compare exactly)", func(s map[string]any) {
			s["object"].(map[string]any)["id"] = "http://www.example.com/meetings/34534/"
		}, false},
		{"timestamp instant", func(s map[string]any) { s["timestamp"] = "2013-05-18T05:32:34.805Z" }, false},
		{"timestamp absent", func(s map[string]any) { delete(s, "timestamp") }, false},
		{"duration spelling (a string for comparison)", func(s map[string]any) {
			s["result"].(map[string]any)["duration"] = "PT60M"
		}, false},
		{"score", func(s map[string]any) { s["result"].(map[string]any)["score"].(map[string]any)["raw"] = jsonNum("51") }, false},
		{"extension value", func(s map[string]any) {
			s["result"].(map[string]any)["extensions"].(map[string]any)["http://example.com/ext"].(map[string]any)["b"] = []any{jsonNum("2"), jsonNum("1")}
		}, false},
		{"extension string vs number", func(s map[string]any) {
			s["result"].(map[string]any)["extensions"].(map[string]any)["http://example.com/ext"].(map[string]any)["a"] = "1"
		}, false},
		{"success", func(s map[string]any) { s["result"].(map[string]any)["success"] = false }, false},
		{"context activity added", func(s map[string]any) {
			ca := s["context"].(map[string]any)["contextActivities"].(map[string]any)
			ca["other"] = []any{map[string]any{"id": "http://example.com/x"}}
		}, false},
		{"attachment display", func(s map[string]any) {
			s["attachments"].([]any)[0].(map[string]any)["display"] = map[string]any{"en-US": "B"}
		}, false},
		{"attachments removed", func(s map[string]any) { delete(s, "attachments") }, false},
		{"object becomes an agent with the same id string", func(s map[string]any) {
			s["object"] = map[string]any{"objectType": "Agent", "openid": "http://www.example.com/meetings/34534"}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := decodeStmt(t, hashBase)
			tt.edit(s)
			got := ContentHash(s)
			if (got == base) != tt.same {
				if tt.same {
					t.Errorf("hash changed; want the same statement")
				} else {
					t.Errorf("hash unchanged; want a different statement")
				}
			}
		})
	}
}

func jsonNum(s string) any {
	v, err := DecodeJSON([]byte(s))
	if err != nil {
		panic(err)
	}
	return v
}

// TestHashKeyOrder checks that the serialisation of the same tree does not
// matter: key order and white space.
func TestHashKeyOrder(t *testing.T) {
	a := decodeStmt(t, `{"actor":{"mbox":"mailto:a@example.com","name":"A"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/o"}}`)
	b := decodeStmt(t, `{ "object" : {"id":"http://example.com/o"}, "verb":{"id":"http://example.com/v"},
		"actor":{"name":"A","mbox":"mailto:a@example.com"} }`)
	if ContentHash(a) != ContentHash(b) {
		t.Error("the hash depends on the order of keys")
	}
	// Stable across calls (map iteration order varies).
	s := decodeStmt(t, hashBase)
	h := ContentHash(s)
	for range 20 {
		if ContentHash(s) != h {
			t.Fatal("ContentHash is not deterministic")
		}
	}
}

// TestHashSpecExamples checks the spec's signed statement example: the
// statement before signing and the signed statement differ only by the
// signature attachment.
func TestHashSpecExamples(t *testing.T) {
	signed := specStatement(t, "appendix-d-signed.json")
	before := ContentHash(signed)
	delete(signed, "attachments")
	if ContentHash(signed) == before {
		t.Error("removing the attachments did not change the hash")
	}
	for _, name := range []string{"appendix-a-long.json", "appendix-b-substatement.json", "contextactivities.json"} {
		s := specStatement(t, name)
		h := ContentHash(s)
		Normalize(s)
		if ContentHash(s) != h {
			t.Errorf("%s: Normalize changed the hash", name)
		}
	}
}

func TestHashCanonicalNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0"}, {"-0", "0"}, {"0.000", "0"}, {"0e10", "0"},
		{"1", "1"}, {"1.0", "1"}, {"1e0", "1"}, {"10", "1e1"}, {"100", "1e2"}, {"1E2", "1e2"},
		{"1.50", "15e-1"}, {"0.150E1", "15e-1"}, {"15e-1", "15e-1"},
		{"-2.5", "-25e-1"}, {"123456789012345678901234567890", "12345678901234567890123456789e1"},
		{"0.1", "1e-1"}, {"1e-7", "1e-7"}, {"1e+7", "1e7"},
		{"1e9999999999", "1e9999999999"}, // exponent too large: as is
		{"abc", "abc"}, {"1.", "1."}, {"", ""},
	}
	for _, tt := range tests {
		if got := canonicalNumber(tt.in); got != tt.want {
			t.Errorf("canonicalNumber(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHashStatementSHA256(t *testing.T) {
	data := []byte(`{"id":"x"}`)
	sum := sha256.Sum256(data)
	if got, want := StatementSHA256(data), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("StatementSHA256 = %s, want %s", got, want)
	}
	// The spec's attachment example: "here is a simple attachment".
	if got := StatementSHA256([]byte("here is a simple attachment")); got != "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a" {
		t.Errorf("sha256 of the spec example = %s", got)
	}
}

func BenchmarkHashContent(b *testing.B) {
	s := specStatement(b, "appendix-a-long.json")
	b.ReportAllocs()
	for b.Loop() {
		ContentHash(s)
	}
}
