package statements

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// formatSuiteStatement is the statement of the conformance suite's format
// test (XAPI-00168..00171): template object_substatement with the unicode
// statement as object and an identified Group as actor.
const formatSuiteStatement = `{
	"actor": {"objectType": "Group", "name": "Group Identified", "mbox": "mailto:agent1@adlnet.gov"},
	"verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-GB": "attended", "en-US": "attended"}},
	"object": {
		"objectType": "SubStatement",
		"actor": {"objectType": "Group", "name": "Group Identified", "mbox": "mailto:group1@adlnet.gov"},
		"verb": {"id": "http://adlnet.gov/expapi/verbs/attended",
			"display": {"en-GB": "attended", "en-US": "attended", "ja-JP": "出席した", "ko-KR": "참석"}},
		"object": {
			"objectType": "Activity",
			"id": "http://www.example.com/unicode/1",
			"definition": {
				"name": {"en": "Other", "en-GB": "attended", "en-US": "attended", "ja-JP": "出席した"},
				"description": {"en-US": "On this map, please mark Franklin, TN", "en-GB": "On this map, please mark Franklin, TN"},
				"type": "http://adlnet.gov/expapi/activities/cmi.interaction",
				"moreInfo": "http://virtualmeeting.example.com/345256",
				"interactionType": "other",
				"correctResponsesPattern": ["(35.937432,-86.868896)"],
				"extensions": {"http://example.com/profiles/meetings/extension/reporter": {"name": "Thomas", "id": "http://openid.com/342"}}
			}
		}
	}
}`

// formatJSON renders a tree for comparison in test output.
func formatJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameJSON reports whether two trees are equal as JSON.
func sameJSON(t *testing.T, got any, want string) bool {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	var g any
	if err := json.Unmarshal([]byte(formatJSON(t, got)), &g); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(g, w)
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name   string
		stmt   string
		format string
		langs  []string
		want   string
	}{
		{
			name:   "ids, the suite's statement",
			stmt:   formatSuiteStatement,
			format: FormatIDs,
			want: `{
				"actor": {"objectType": "Group", "mbox": "mailto:agent1@adlnet.gov"},
				"verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
				"object": {"objectType": "SubStatement",
					"actor": {"objectType": "Group", "mbox": "mailto:group1@adlnet.gov"},
					"verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
					"object": {"id": "http://www.example.com/unicode/1"}}}`,
		},
		{
			name:   "canonical en-GB, the suite's statement",
			stmt:   formatSuiteStatement,
			format: FormatCanonical,
			langs:  []string{"en-GB"},
			want: `{
				"actor": {"objectType": "Group", "name": "Group Identified", "mbox": "mailto:agent1@adlnet.gov"},
				"verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-GB": "attended"}},
				"object": {"objectType": "SubStatement",
					"actor": {"objectType": "Group", "name": "Group Identified", "mbox": "mailto:group1@adlnet.gov"},
					"verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-GB": "attended"}},
					"object": {"objectType": "Activity", "id": "http://www.example.com/unicode/1",
						"definition": {
							"name": {"en-GB": "attended"},
							"description": {"en-GB": "On this map, please mark Franklin, TN"},
							"type": "http://adlnet.gov/expapi/activities/cmi.interaction",
							"moreInfo": "http://virtualmeeting.example.com/345256",
							"interactionType": "other",
							"correctResponsesPattern": ["(35.937432,-86.868896)"],
							"extensions": {"http://example.com/profiles/meetings/extension/reporter": {"name": "Thomas", "id": "http://openid.com/342"}}}}}}`,
		},
		{
			name:   "exact is the statement as stored",
			stmt:   formatSuiteStatement,
			format: FormatExact,
			want:   formatSuiteStatement,
		},
		{
			name: "ids: anonymous groups keep their members, reduced; everywhere agents occur",
			stmt: `{"actor":{"objectType":"Group","name":"G","member":[{"name":"A","mbox":"mailto:a@example.com"},
					{"objectType":"Agent","name":"B","account":{"homePage":"http://example.com","name":"b"}}]},
				"verb":{"id":"http://example.com/v","display":{"en":"v"}},
				"object":{"objectType":"Agent","name":"C","openid":"http://c.example.com/"},
				"authority":{"objectType":"Group","member":[{"name":"app","account":{"homePage":"http://lrs.example","name":"k"}},
					{"name":"D","mbox_sha1sum":"ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}]},
				"context":{"instructor":{"name":"I","mbox":"mailto:i@example.com"},
					"team":{"objectType":"Group","name":"T","mbox":"mailto:t@example.com","member":[{"mbox":"mailto:a@example.com"}]},
					"contextActivities":{"parent":{"id":"http://example.com/p","definition":{"name":{"en":"P"}}},
						"other":[{"objectType":"Activity","id":"http://example.com/o"}]},
					"contextAgents":[{"objectType":"contextAgent","agent":{"name":"E","mbox":"mailto:e@example.com"},"relevantTypes":["http://example.com/r"]}],
					"contextGroups":[{"objectType":"contextGroup","group":{"objectType":"Group","name":"F","member":[{"name":"A","mbox":"mailto:a@example.com"}]}}],
					"registration":"ec531277-b57b-4c15-8d91-d292c5b2b8f7"},
				"result":{"success":true}}`,
			format: FormatIDs,
			want: `{"actor":{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"},
					{"objectType":"Agent","account":{"homePage":"http://example.com","name":"b"}}]},
				"verb":{"id":"http://example.com/v"},
				"object":{"objectType":"Agent","openid":"http://c.example.com/"},
				"authority":{"objectType":"Group","member":[{"account":{"homePage":"http://lrs.example","name":"k"}},
					{"mbox_sha1sum":"ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}]},
				"context":{"instructor":{"mbox":"mailto:i@example.com"},
					"team":{"objectType":"Group","mbox":"mailto:t@example.com"},
					"contextActivities":{"parent":{"id":"http://example.com/p"},"other":[{"id":"http://example.com/o"}]},
					"contextAgents":[{"objectType":"contextAgent","agent":{"mbox":"mailto:e@example.com"},"relevantTypes":["http://example.com/r"]}],
					"contextGroups":[{"objectType":"contextGroup","group":{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"}]}}],
					"registration":"ec531277-b57b-4c15-8d91-d292c5b2b8f7"},
				"result":{"success":true}}`,
		},
		{
			name: "ids: statement refs and attachments unchanged",
			stmt: `{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},
				"object":{"objectType":"StatementRef","id":"8f87ccde-bb56-4c2e-ab83-44982ef22df0"},
				"attachments":[{"usageType":"http://example.com/u","display":{"en":"x","fr":"y"},"contentType":"text/plain","length":1,
					"sha2":"495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"}]}`,
			format: FormatIDs,
			want: `{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},
				"object":{"objectType":"StatementRef","id":"8f87ccde-bb56-4c2e-ab83-44982ef22df0"},
				"attachments":[{"usageType":"http://example.com/u","display":{"en":"x","fr":"y"},"contentType":"text/plain","length":1,
					"sha2":"495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"}]}`,
		},
		{
			name: "canonical: interaction components and context activities, one language each",
			stmt: `{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v","display":{"en-US":"did","fr-FR":"a fait"}},
				"object":{"id":"http://example.com/q","definition":{"interactionType":"choice","correctResponsesPattern":["a"],
					"choices":[{"id":"a","description":{"en-US":"A","fr-FR":"A fr"}},{"id":"b","description":{"fr-FR":"B fr"}}]}},
				"context":{"contextActivities":{"parent":[{"id":"http://example.com/p","definition":{"name":{"en-US":"P","fr":"P fr"}}}]}}}`,
			format: FormatCanonical,
			langs:  []string{"fr"},
			want: `{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v","display":{"fr-FR":"a fait"}},
				"object":{"id":"http://example.com/q","definition":{"interactionType":"choice","correctResponsesPattern":["a"],
					"choices":[{"id":"a","description":{"fr-FR":"A fr"}},{"id":"b","description":{"fr-FR":"B fr"}}]}},
				"context":{"contextActivities":{"parent":[{"id":"http://example.com/p","definition":{"name":{"fr":"P fr"}}}]}}}`,
		},
		{
			name:   "canonical without Accept-Language: en-US, then en, then the first tag",
			stmt:   `{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v","display":{"de":"x","en-US":"y","fr":"z"}},"object":{"id":"http://example.com/o","definition":{"name":{"de":"n","fr":"m"}}}}`,
			format: FormatCanonical,
			want:   `{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v","display":{"en-US":"y"}},"object":{"id":"http://example.com/o","definition":{"name":{"de":"n"}}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := decodeStmt(t, tt.stmt)
			before := formatJSON(t, s)
			got := Format(s, tt.format, tt.langs)
			if !sameJSON(t, got, tt.want) {
				t.Errorf("Format(%s) =\n%s\nwant\n%s", tt.format, formatJSON(t, got), tt.want)
			}
			if after := formatJSON(t, s); after != before {
				t.Errorf("Format modified its input:\n%s\nwas\n%s", after, before)
			}
		})
	}
}

// TestFormatSuiteExpectations checks the shapes the conformance suite
// asserts for format=ids (XAPI-00171): key counts of the actor, the
// SubStatement's actor and its activity.
func TestFormatSuiteExpectations(t *testing.T) {
	got := Format(decodeStmt(t, formatSuiteStatement), FormatIDs, nil)
	actor := got["actor"].(map[string]any)
	sub := got["object"].(map[string]any)
	if n := len(actor); n < 1 || n > 2 {
		t.Errorf("actor has %d keys, want 1 or 2", n)
	}
	if n := len(sub["actor"].(map[string]any)); n != 2 {
		t.Errorf("object.actor has %d keys, want 2", n)
	}
	if n := len(sub["object"].(map[string]any)); n != 1 {
		t.Errorf("object.object has %d keys, want 1", n)
	}
}

func TestFormatBestLanguage(t *testing.T) {
	m := map[string]any{"en": "en", "en-GB": "gb", "en-US": "us", "fr-CA": "ca", "zh-Hant-TW": "tw"}
	tests := []struct {
		name  string
		langs []string
		want  string
	}{
		{"exact", []string{"en-GB"}, "en-GB"},
		{"exact, case-insensitive", []string{"EN-gb"}, "en-GB"},
		{"order of preference", []string{"fr-CA", "en-GB"}, "fr-CA"},
		{"unmatched range skipped", []string{"de", "en-US"}, "en-US"},
		{"range matches a longer tag", []string{"fr"}, "fr-CA"},
		{"range matches a longer tag, several levels", []string{"zh"}, "zh-Hant-TW"},
		{"truncated range as a last resort", []string{"fr-FR"}, "fr-CA"},
		{"truncated range after all full ranges", []string{"fr-FR", "en-GB"}, "en-GB"},
		{"star", []string{"*"}, "en-US"},
		{"nothing matches: en-US", []string{"de"}, "en-US"},
		{"no preference: en-US", nil, "en-US"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BestLanguage(m, tt.langs)
			if len(got) != 1 {
				t.Fatalf("BestLanguage = %v, want one entry", got)
			}
			if _, ok := got[tt.want]; !ok {
				t.Errorf("BestLanguage(%q) = %v, want %s", tt.langs, got, tt.want)
			}
		})
	}
	// Truncation finds a shorter tag.
	if got := BestLanguage(map[string]any{"de": 1, "en": 2}, []string{"en-GB"}); got["en"] != 2 || len(got) != 1 {
		t.Errorf("en-GB over {de, en} = %v, want en", got)
	}
	// Without en-US or en, the first tag in sorted order.
	if got := BestLanguage(map[string]any{"fr": 1, "de": 2}, []string{"ja"}); got["de"] != 2 || len(got) != 1 {
		t.Errorf("ja over {fr, de} = %v, want de", got)
	}
	// One entry or none: as is.
	one := map[string]any{"fr": "x"}
	if got := BestLanguage(one, []string{"en"}); !reflect.DeepEqual(got, one) {
		t.Errorf("one entry = %v", got)
	}
}

func TestFormatAcceptLanguage(t *testing.T) {
	tests := []struct {
		header string
		want   []string
	}{
		{"", nil},
		{"en-GB", []string{"en-GB"}},
		{"en-US,en;q=0.8", []string{"en-US", "en"}},
		{"da, en-gb;q=0.8, en;q=0.7", []string{"da", "en-gb", "en"}},
		{"en;q=0.5, fr;q=0.9, de", []string{"de", "fr", "en"}},
		{"fr;q=0.5, de;q=0.5", []string{"fr", "de"}},
		{"en;q=0, fr", []string{"fr"}},
		{"*;q=0.1, ja", []string{"ja", "*"}},
		{"en; Q=0.3 , zh-Hant-TW", []string{"zh-Hant-TW", "en"}},
		{"en;q=2, fr;q=abc, de", []string{"de"}},
		{"en_US, not a tag, toolongsubtag, de", []string{"de"}},
		{" , ,", nil},
	}
	for _, tt := range tests {
		got := ParseAcceptLanguage(tt.header)
		if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("ParseAcceptLanguage(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestFormatNormalize(t *testing.T) {
	s := decodeStmt(t, `{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},
		"object":{"objectType":"SubStatement","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},
			"object":{"id":"http://example.com/o"},
			"context":{"contextActivities":{"grouping":{"id":"http://example.com/g"}}}},
		"context":{"contextActivities":{"parent":{"id":"http://example.com/p"},"other":[{"id":"http://example.com/o1"},{"id":"http://example.com/o2"}]}}}`)
	Normalize(s)
	want := `{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},
		"object":{"objectType":"SubStatement","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},
			"object":{"id":"http://example.com/o"},
			"context":{"contextActivities":{"grouping":[{"id":"http://example.com/g"}]}}},
		"context":{"contextActivities":{"parent":[{"id":"http://example.com/p"}],"other":[{"id":"http://example.com/o1"},{"id":"http://example.com/o2"}]}}}`
	if !sameJSON(t, s, want) {
		t.Errorf("Normalize =\n%s\nwant\n%s", formatJSON(t, s), want)
	}
}

// TestFormatHashIndexRobustness runs Index, ContentHash, Format, Normalize
// and CheckAttachments over every statement body of the conformance suite,
// valid or not (testdata/conformance): none may panic, and Format must not
// modify its input.
func TestFormatHashIndexRobustness(t *testing.T) {
	n := 0
	for _, file := range []string{"testdata/conformance/v1_0_3.json.gz", "testdata/conformance/v2_0_0.json.gz"} {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases []struct {
			Body string `json:"body"`
		}
		err = json.NewDecoder(zr).Decode(&cases)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			tree, err := DecodeJSON([]byte(c.Body))
			if err != nil {
				continue
			}
			var stmts []map[string]any
			switch x := tree.(type) {
			case map[string]any:
				stmts = append(stmts, x)
			case []any:
				for _, e := range x {
					if m, ok := e.(map[string]any); ok {
						stmts = append(stmts, m)
					}
				}
			}
			for _, s := range stmts {
				n++
				before := formatJSON(t, s)
				var rec Record
				Index(s, &rec)
				h := ContentHash(s)
				for _, f := range []string{FormatIDs, FormatCanonical} {
					Format(s, f, []string{"en-GB"})
				}
				if formatJSON(t, s) != before {
					t.Fatalf("Format modified %s", before)
				}
				Normalize(s)
				if ContentHash(s) != h {
					t.Errorf("Normalize changed the hash of %s", before)
				}
			}
			_ = CheckAttachments(stmts, nil)
		}
	}
	if n < 1000 {
		t.Errorf("only %d statements", n)
	}
}
