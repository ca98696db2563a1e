package statements

import (
	"os"
	"reflect"
	"testing"
	"time"
)

// decodeStmt decodes a statement (or any JSON object) for the tests of the
// statement utilities.
func decodeStmt(t testing.TB, js string) map[string]any {
	t.Helper()
	v, err := DecodeJSON([]byte(js))
	if err != nil {
		t.Fatalf("decoding %s: %v", js, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("not an object: %s", js)
	}
	return m
}

// specStatement decodes a statement from testdata/spec.
func specStatement(t testing.TB, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/spec/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return decodeStmt(t, string(b))
}

func TestIndexAgentKey(t *testing.T) {
	tests := []struct {
		name  string
		agent string
		want  string
	}{
		{"mbox", `{"mbox":"mailto:Ann@example.com"}`, "mbox:mailto:Ann@example.com"},
		{"mbox domain and scheme case", `{"mbox":"MAILTO:Ann@EXAMPLE.com"}`, "mbox:mailto:Ann@example.com"},
		{"mbox_sha1sum lowercased", `{"mbox_sha1sum":"EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"}`,
			"mbox_sha1sum:ebd31e95054c018b10727ccffd2ef2ec3a016ee9"},
		{"openid exact", `{"openid":"http://Toby.openid.example.org/"}`, "openid:http://Toby.openid.example.org/"},
		{"account", `{"account":{"homePage":"http://www.example.com","name":"13936749"}}`,
			"account:http://www.example.com 13936749"},
		{"account name with spaces", `{"account":{"homePage":"http://x.example","name":"a b"}}`, "account:http://x.example a b"},
		{"account homePage with space and percent", `{"account":{"homePage":"http://x.example/a b%","name":"n"}}`,
			"account:http://x.example/a%20b%25 n"},
		{"identified group", `{"objectType":"Group","mbox":"mailto:team@example.com","member":[{"mbox":"mailto:a@example.com"}]}`,
			"mbox:mailto:team@example.com"},
		{"anonymous group", `{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"}]}`, ""},
		{"nothing", `{"name":"x"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AgentKey(decodeStmt(t, tt.agent)); got != tt.want {
				t.Errorf("AgentKey(%s) = %q, want %q", tt.agent, got, tt.want)
			}
		})
	}

	// Different identifiers never share a key, whatever the strings hold.
	distinct := []string{
		`{"account":{"homePage":"http://a.example x","name":"y"}}`,
		`{"account":{"homePage":"http://a.example","name":"x y"}}`,
		`{"account":{"homePage":"http://a.example%20x","name":"y"}}`,
		`{"openid":"mbox:mailto:a@example.com"}`,
		`{"mbox":"mailto:a@example.com"}`,
		`{"mbox_sha1sum":"mailto:a@example.com"}`,
	}
	seen := map[string]string{}
	for _, a := range distinct {
		k := AgentKey(decodeStmt(t, a))
		if prev, dup := seen[k]; dup {
			t.Errorf("%s and %s share the key %q", prev, a, k)
		}
		seen[k] = a
	}
}

func TestIndex(t *testing.T) {
	const (
		ann   = "mbox:mailto:ann@example.com"
		bob   = "mbox:mailto:bob@example.com"
		cat   = "mbox:mailto:cat@example.com"
		team  = "mbox:mailto:team@example.com"
		auth  = "account:https://lrs.example key"
		actA  = "http://example.com/a"
		actB  = "http://example.com/b"
		actC  = "http://example.com/c"
		verbX = "http://example.com/verbs/did"
	)
	tests := []struct {
		name string
		stmt string
		want Record
	}{
		{
			name: "agent does activity",
			stmt: `{"actor":{"mbox":"mailto:ann@example.com"},"verb":{"id":"http://example.com/verbs/did"},
				"object":{"id":"http://example.com/a"},"timestamp":"2024-03-01T12:00:00.123+02:00",
				"context":{"registration":"EC531277-B57B-4C15-8D91-D292C5B2B8F7"}}`,
			want: Record{VerbID: verbX, Registration: "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
				Timestamp: time.Date(2024, 3, 1, 10, 0, 0, 123000000, time.UTC),
				Agents:    []string{ann}, Activities: []string{actA}},
		},
		{
			name: "group actor: the group and its members match the agent filter",
			stmt: `{"actor":{"objectType":"Group","mbox":"mailto:team@example.com",
				"member":[{"mbox":"mailto:ann@example.com"},{"mbox":"mailto:bob@example.com"},{"mbox":"mailto:ann@example.com"}]},
				"verb":{"id":"http://example.com/verbs/did"},"object":{"objectType":"Activity","id":"http://example.com/a"}}`,
			want: Record{VerbID: verbX, Agents: []string{team, ann, bob}, Activities: []string{actA}},
		},
		{
			name: "anonymous group actor: only its members",
			stmt: `{"actor":{"objectType":"Group","member":[{"mbox":"mailto:ann@example.com"},{"mbox":"mailto:bob@example.com"}]},
				"verb":{"id":"http://example.com/verbs/did"},"object":{"id":"http://example.com/a"}}`,
			want: Record{VerbID: verbX, Agents: []string{ann, bob}, Activities: []string{actA}},
		},
		{
			name: "agent object",
			stmt: `{"actor":{"mbox":"mailto:ann@example.com"},"verb":{"id":"http://example.com/verbs/did"},
				"object":{"objectType":"Agent","mbox":"mailto:bob@example.com"}}`,
			want: Record{VerbID: verbX, Agents: []string{ann, bob}},
		},
		{
			name: "voiding statement",
			stmt: `{"actor":{"mbox":"mailto:ann@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"},
				"object":{"objectType":"StatementRef","id":"8F87CCDE-BB56-4C2E-AB83-44982EF22DF0"}}`,
			want: Record{VerbID: voidedVerb, Agents: []string{ann},
				RefID: "8f87ccde-bb56-4c2e-ab83-44982ef22df0", Voids: "8f87ccde-bb56-4c2e-ab83-44982ef22df0"},
		},
		{
			name: "statement ref that does not void",
			stmt: `{"actor":{"mbox":"mailto:ann@example.com"},"verb":{"id":"http://example.com/verbs/did"},
				"object":{"objectType":"StatementRef","id":"8f87ccde-bb56-4c2e-ab83-44982ef22df0"}}`,
			want: Record{VerbID: verbX, Agents: []string{ann}, RefID: "8f87ccde-bb56-4c2e-ab83-44982ef22df0"},
		},
		{
			name: "related people and activities, duplicates left out",
			stmt: `{"actor":{"mbox":"mailto:ann@example.com"},"verb":{"id":"http://example.com/verbs/did"},
				"object":{"id":"http://example.com/a"},
				"authority":{"objectType":"Group","member":[{"account":{"homePage":"https://lrs.example","name":"key"}},{"mbox":"mailto:ann@example.com"}]},
				"context":{"instructor":{"mbox":"mailto:bob@example.com"},
					"team":{"objectType":"Group","mbox":"mailto:team@example.com","member":[{"mbox":"mailto:cat@example.com"}]},
					"contextActivities":{"parent":{"id":"http://example.com/b"},"grouping":[{"id":"http://example.com/a"},{"id":"http://example.com/c"}],
						"category":[{"id":"http://example.com/b"}],"other":[]}}}`,
			want: Record{VerbID: verbX, Agents: []string{ann}, Activities: []string{actA},
				RelatedAgents:     []string{auth, bob, team, cat},
				RelatedActivities: []string{actB, actC}},
		},
		{
			name: "2.0 context agents and groups",
			stmt: `{"actor":{"mbox":"mailto:ann@example.com"},"verb":{"id":"http://example.com/verbs/did"},
				"object":{"id":"http://example.com/a"},
				"context":{"contextAgents":[{"objectType":"contextAgent","agent":{"mbox":"mailto:bob@example.com"}}],
					"contextGroups":[{"objectType":"contextGroup","group":{"objectType":"Group","member":[{"mbox":"mailto:cat@example.com"}]}}]}}`,
			want: Record{VerbID: verbX, Agents: []string{ann}, Activities: []string{actA},
				RelatedAgents: []string{bob, cat}},
		},
		{
			name: "substatement: its people and activities are related only",
			stmt: `{"actor":{"mbox":"mailto:ann@example.com"},"verb":{"id":"http://example.com/verbs/planned"},
				"object":{"objectType":"SubStatement","actor":{"mbox":"mailto:bob@example.com"},
					"verb":{"id":"http://example.com/verbs/did"},"object":{"id":"http://example.com/b"},
					"context":{"instructor":{"mbox":"mailto:cat@example.com"},"contextActivities":{"parent":[{"id":"http://example.com/c"}]}}}}`,
			want: Record{VerbID: "http://example.com/verbs/planned", Agents: []string{ann},
				RelatedAgents: []string{bob, cat}, RelatedActivities: []string{actB, actC}},
		},
		{
			name: "substatement with an agent object",
			stmt: `{"actor":{"mbox":"mailto:ann@example.com"},"verb":{"id":"http://example.com/verbs/planned"},
				"object":{"objectType":"SubStatement","actor":{"mbox":"mailto:ann@example.com"},
					"verb":{"id":"http://example.com/verbs/met"},"object":{"objectType":"Agent","mbox":"mailto:bob@example.com"}}}`,
			want: Record{VerbID: "http://example.com/verbs/planned", Agents: []string{ann}, RelatedAgents: []string{bob}},
		},
		{
			name: "ids kept exactly as sent",
			stmt: `{"actor":{"mbox":"mailto:ann@example.com"},"verb":{"id":"http://Example.com/Verbs/Did"},
				"object":{"id":"http://Example.com/A"},"context":{"contextActivities":{"other":{"id":"http://example.com/A"}}}}`,
			want: Record{VerbID: "http://Example.com/Verbs/Did", Agents: []string{ann},
				Activities: []string{"http://Example.com/A"}, RelatedActivities: []string{"http://example.com/A"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec Record
			Index(decodeStmt(t, tt.stmt), &rec)
			checkIndexed(t, rec, tt.want)
		})
	}
}

// checkIndexed compares the fields Index fills, treating nil and empty
// lists alike.
func checkIndexed(t *testing.T, got, want Record) {
	t.Helper()
	if got.VerbID != want.VerbID {
		t.Errorf("VerbID = %q, want %q", got.VerbID, want.VerbID)
	}
	if got.Registration != want.Registration {
		t.Errorf("Registration = %q, want %q", got.Registration, want.Registration)
	}
	if !got.Timestamp.Equal(want.Timestamp) {
		t.Errorf("Timestamp = %v, want %v", got.Timestamp, want.Timestamp)
	}
	if got.RefID != want.RefID || got.Voids != want.Voids {
		t.Errorf("RefID, Voids = %q, %q, want %q, %q", got.RefID, got.Voids, want.RefID, want.Voids)
	}
	for _, l := range []struct {
		name      string
		got, want []string
	}{
		{"Agents", got.Agents, want.Agents},
		{"RelatedAgents", got.RelatedAgents, want.RelatedAgents},
		{"Activities", got.Activities, want.Activities},
		{"RelatedActivities", got.RelatedActivities, want.RelatedActivities},
	} {
		if len(l.got) != 0 || len(l.want) != 0 {
			if !reflect.DeepEqual(l.got, l.want) {
				t.Errorf("%s = %q, want %q", l.name, l.got, l.want)
			}
		}
	}
}

// TestIndexSpecExamples indexes statements of the specification.
func TestIndexSpecExamples(t *testing.T) {
	var rec Record
	Index(specStatement(t, "appendix-a-long.json"), &rec)
	checkIndexed(t, rec, Record{
		VerbID:       "http://adlnet.gov/expapi/verbs/attended",
		Registration: "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
		Timestamp:    time.Date(2013, 5, 18, 5, 32, 34, 804000000, time.UTC),
		Agents: []string{"mbox:mailto:teampb@example.com", "account:http://www.example.com 13936749",
			"openid:http://toby.openid.example.org/", "mbox_sha1sum:ebd31e95054c018b10727ccffd2ef2ec3a016ee9"},
		// the instructor and team are members or the actor already
		RelatedAgents: []string{"account:http://cloud.scorm.com/ anonymous"},
		Activities:    []string{"http://www.example.com/meetings/occurances/34534"},
		RelatedActivities: []string{"http://www.example.com/meetings/series/267",
			"http://www.example.com/meetings/categories/teammeeting",
			"http://www.example.com/meetings/occurances/34257",
			"http://www.example.com/meetings/occurances/3425567"},
	})

	rec = Record{}
	Index(specStatement(t, "appendix-b-group.json"), &rec)
	checkIndexed(t, rec, Record{
		VerbID: "http://adlnet.gov/expapi/verbs/experienced",
		Agents: []string{"mbox:mailto:xapi@example.com", "account:http://example.com/homePage GroupAccount",
			"mbox:mailto:andrew@example.com", "openid:http://aaron.openid.example.org"},
	})

	rec = Record{}
	Index(specStatement(t, "appendix-b-substatement.json"), &rec)
	checkIndexed(t, rec, Record{
		VerbID:        "http://adlnet.gov/expapi/verbs/experienced",
		Agents:        []string{"mbox:mailto:xapi@example.com"},
		RelatedAgents: []string{"mbox:mailto:agent@example.com"},
	})
}

// TestIndexResets checks that Index overwrites what a reused Record held.
func TestIndexResets(t *testing.T) {
	rec := Record{VerbID: "v", RefID: "x", Voids: "x", Registration: "r", Timestamp: time.Now(), Agents: []string{"old"},
		RelatedAgents: []string{"old"}, Activities: []string{"old"}, RelatedActivities: []string{"old"}}
	Index(decodeStmt(t, `{"actor":{"mbox":"mailto:ann@example.com"},"object":{"objectType":"Agent","mbox":"mailto:bob@example.com"}}`), &rec)
	checkIndexed(t, rec, Record{Agents: []string{"mbox:mailto:ann@example.com", "mbox:mailto:bob@example.com"}})
}

func BenchmarkIndex(b *testing.B) {
	s := specStatement(b, "appendix-a-long.json")
	b.ReportAllocs()
	for b.Loop() {
		var rec Record
		Index(s, &rec)
	}
}
