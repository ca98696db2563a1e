package statements

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/errs"
)

// baseStatement uses most properties of a statement; the table tests below
// break it one property at a time.
const baseStatement = `{
  "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
  "actor": {"objectType": "Agent", "name": "Jane Doe", "mbox": "mailto:jane@example.com"},
  "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed", "fr": "a terminé"}},
  "object": {
    "objectType": "Activity",
    "id": "http://example.com/courses/fire-safety",
    "definition": {
      "name": {"en-US": "Fire safety"},
      "description": {"en-US": "Mandatory fire safety training"},
      "type": "http://adlnet.gov/expapi/activities/course",
      "moreInfo": "https://lms.example.com/course/view.php?id=42",
      "extensions": {"http://example.com/ext/level": 3}
    }
  },
  "result": {
    "score": {"scaled": 0.9, "raw": 90, "min": 0, "max": 100},
    "success": true,
    "completion": true,
    "response": "done",
    "duration": "PT1H2M3.5S",
    "extensions": {"http://example.com/ext/attempts": 2}
  },
  "context": {
    "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
    "instructor": {"objectType": "Agent", "account": {"homePage": "https://lms.example.com", "name": "teacher-1"}},
    "team": {"objectType": "Group", "name": "Blue", "member": [{"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}]},
    "contextActivities": {
      "parent": [{"id": "http://example.com/programmes/safety"}],
      "grouping": {"objectType": "Activity", "id": "http://example.com/org/unit-7"},
      "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}],
      "other": []
    },
    "revision": "r2",
    "platform": "Moodle",
    "language": "en-GB",
    "statement": {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"},
    "extensions": {"http://example.com/ext/session": "abc", "http://example.com/ext/null": null}
  },
  "timestamp": "2024-05-04T12:00:00.123-05:00",
  "stored": "2024-05-04T17:00:01Z",
  "authority": {"objectType": "Agent", "account": {"homePage": "https://lrs.example.com", "name": "client-1"}},
  "version": "1.0.0",
  "attachments": [{
    "usageType": "http://adlnet.gov/expapi/attachments/signature",
    "display": {"en-US": "Signature"},
    "description": {"en-US": "A signature"},
    "contentType": "application/octet-stream",
    "length": 4235,
    "sha2": "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634",
    "fileUrl": "https://files.example.com/sig.jws"
  }]
}`

// substatementBase has a SubStatement object for the SubStatement rules.
const substatementBase = `{
  "actor": {"mbox": "mailto:teacher@example.com"},
  "verb": {"id": "http://example.com/verbs/planned"},
  "object": {
    "objectType": "SubStatement",
    "actor": {"mbox": "mailto:jane@example.com"},
    "verb": {"id": "http://example.com/verbs/visit"},
    "object": {"id": "http://example.com/website"},
    "result": {"completion": false},
    "context": {"platform": "web"},
    "timestamp": "2030-01-01T00:00:00Z"
  }
}`

// edit decodes doc, applies the edits (a dotted path with [n] indices set to
// a value, or removed when the value is the deleteMarker) and re-encodes it.
func editJSON(t testing.TB, doc string, edits ...any) string {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(doc))
	d.UseNumber()
	var root any
	if err := d.Decode(&root); err != nil {
		t.Fatalf("bad test document: %v", err)
	}
	for i := 0; i < len(edits); i += 2 {
		setJSONPath(t, &root, edits[i].(string), edits[i+1])
	}
	b, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type deleteMarker struct{}

var deleted = deleteMarker{}

// raw is a value given as JSON text.
type rawJSON string

func setJSONPath(t testing.TB, root *any, p string, v any) {
	t.Helper()
	var segs []string
	for _, s := range strings.Split(p, ".") {
		for {
			j := strings.IndexByte(s, '[')
			if j < 0 {
				segs = append(segs, s)
				break
			}
			if j > 0 {
				segs = append(segs, s[:j])
			}
			k := strings.IndexByte(s, ']')
			segs = append(segs, s[j:k+1])
			s = s[k+1:]
			if s == "" {
				break
			}
		}
	}
	if r, ok := v.(rawJSON); ok {
		d := json.NewDecoder(strings.NewReader(string(r)))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			t.Fatalf("bad raw value %s: %v", r, err)
		}
	}
	cur := root
	for n, s := range segs {
		last := n == len(segs)-1
		switch c := (*cur).(type) {
		case map[string]any:
			if last {
				if v == deleted {
					delete(c, s)
				} else {
					c[s] = v
				}
				return
			}
			x := c[s]
			cur = &x
			defer func(key string, x *any) { c[key] = *x }(s, cur)
		case []any:
			idx, err := strconv.Atoi(s[1 : len(s)-1])
			if err != nil {
				t.Fatalf("bad path %s", p)
			}
			if last {
				c[idx] = v
				return
			}
			cur = &c[idx]
		default:
			t.Fatalf("path %s: %T at %s", p, c, s)
		}
	}
}

func TestBaseStatementsAreValid(t *testing.T) {
	for _, v := range []Version{V103, V200} {
		for _, doc := range []string{baseStatement, substatementBase} {
			m, err := ParseStatement([]byte(doc), v)
			if err != nil {
				t.Fatalf("%s: %v", v, err)
			}
			// The tree is the statement as sent.
			var want map[string]any
			d := json.NewDecoder(strings.NewReader(doc))
			d.UseNumber()
			if err := d.Decode(&want); err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(m)
			exp, _ := json.Marshal(want)
			if !bytes.Equal(got, exp) {
				t.Errorf("%s: tree differs from the input:\n%s\n%s", v, got, exp)
			}
		}
	}
}

type invalidCase struct {
	name string
	doc  string
	path string // expected errs.Error Path
	rule string // expected errs.Error Rule
	only Version
}

func invalidCases(t *testing.T) []invalidCase {
	b := func(edits ...any) string { return editJSON(t, baseStatement, edits...) }
	sub := func(edits ...any) string { return editJSON(t, substatementBase, edits...) }
	mboxAgent := rawJSON(`{"mbox": "mailto:a@example.com"}`)
	return []invalidCase{
		// Statement properties.
		{"missing actor", b("actor", deleted), "actor", "required", ""},
		{"missing verb", b("verb", deleted), "verb", "required", ""},
		{"missing object", b("object", deleted), "object", "required", ""},
		{"unknown property", b("foo", "bar"), "foo", "unknown-property", ""},
		{"key case", b("Actor", mboxAgent), "Actor", "property-case", ""},
		{"key case nested", b("verb.Display", rawJSON(`{"en":"x"}`)), "verb.Display", "property-case", ""},
		{"null result", b("result", nil), "result", "null", ""},
		{"null timestamp", b("timestamp", nil), "timestamp", "null", ""},
		{"null in language map", b("verb.display.en-US", nil), "verb.display.en-US", "type", ""},
		{"null name", b("actor.name", nil), "actor.name", "null", ""},
		{"statement is array element of wrong type", `[1]`, "[0]", "type", ""},

		// id.
		{"id urn form", b("id", "urn:uuid:fd41c918-b88b-4b20-a0a5-a4c32391aaa0"), "id", "uuid", ""},
		{"id braces", b("id", "{fd41c918-b88b-4b20-a0a5-a4c32391aaa0}"), "id", "uuid", ""},
		{"id without dashes", b("id", "fd41c918b88b4b20a0a5a4c32391aaa0"), "id", "uuid", ""},
		{"id too long", b("id", "fd41c918-b88b-4b20-a0a5-a4c32391aaa01"), "id", "uuid", ""},
		{"id not hex", b("id", "gd41c918-b88b-4b20-a0a5-a4c32391aaa0"), "id", "uuid", ""},
		{"id number", b("id", 12345), "id", "type", ""},
		{"id empty", b("id", ""), "id", "uuid", ""},

		// Actor, Agent, Group.
		{"actor objectType wrong case", b("actor.objectType", "agent"), "actor.objectType", "objecttype-case", ""},
		{"actor objectType unknown", b("actor.objectType", "Person"), "actor.objectType", "objecttype", ""},
		{"actor objectType number", b("actor.objectType", 1), "actor.objectType", "type", ""},
		{"actor objectType holds JSON", b("actor.objectType", `"objectType": "Agent"`), "actor.objectType", "objecttype", ""},
		{"actor two IFIs", b("actor.openid", "http://openid.example.com/jane"), "actor.openid", "one-ifi", ""},
		{"actor no IFI", b("actor.mbox", deleted), "actor", "agent-ifi", ""},
		{"actor name number", b("actor.name", 1), "actor.name", "type", ""},
		{"actor not object", b("actor", "jane"), "actor", "type", ""},
		{"mbox without mailto", b("actor.mbox", "jane@example.com"), "actor.mbox", "mbox", ""},
		{"mbox without address", b("actor.mbox", "mailto:should.fail.com"), "actor.mbox", "mbox", ""},
		{"mbox http", b("actor.mbox", "http://should.fail.com"), "actor.mbox", "mbox", ""},
		{"mbox with space", b("actor.mbox", "mailto:jane doe@example.com"), "actor.mbox", "mbox", ""},
		{"mbox empty domain label", b("actor.mbox", "mailto:jane@example..com"), "actor.mbox", "mbox", ""},
		{"mbox_sha1sum short", b("actor.mbox", deleted, "actor.mbox_sha1sum", "ebd31e95054c018b10727ccffd2ef2ec3a016ee"), "actor.mbox_sha1sum", "mbox-sha1sum", ""},
		{"mbox_sha1sum object", b("actor.mbox", deleted, "actor.mbox_sha1sum", rawJSON(`{"key":"value"}`)), "actor.mbox_sha1sum", "type", ""},
		{"openid no scheme", b("actor.mbox", deleted, "actor.openid", "open.id.com/testUser"), "actor.openid", "iri", ""},
		{"openid bad scheme", b("actor.mbox", deleted, "actor.openid", "ab=c://should.fail.com"), "actor.openid", "iri", ""},
		{"account no name", b("actor.mbox", deleted, "actor.account", rawJSON(`{"homePage":"http://example.com"}`)), "actor.account.name", "required", ""},
		{"account no homePage", b("actor.mbox", deleted, "actor.account", rawJSON(`{"name":"x"}`)), "actor.account.homePage", "required", ""},
		{"account homePage no scheme", b("actor.mbox", deleted, "actor.account", rawJSON(`{"homePage":"homePage.com/testUser","name":"x"}`)), "actor.account.homePage", "iri", ""},
		{"account extra key", b("actor.mbox", deleted, "actor.account", rawJSON(`{"homePage":"http://example.com","name":"x","id":1}`)), "actor.account.id", "unknown-property", ""},
		{"account name number", b("actor.mbox", deleted, "actor.account", rawJSON(`{"homePage":"http://example.com","name":1}`)), "actor.account.name", "type", ""},
		{"agent with member", b("actor.member", rawJSON(`[]`)), "actor.member", "unknown-property", ""},
		{"group without objectType", b("actor", rawJSON(`{"member":[{"mbox":"mailto:a@example.com"}]}`)), "actor.objectType", "group-objecttype", ""},
		{"anonymous group no member", b("actor", rawJSON(`{"objectType":"Group","name":"g"}`)), "actor.member", "anonymous-group-member", ""},
		{"anonymous group empty member", b("actor", rawJSON(`{"objectType":"Group","member":[]}`)), "actor.member", "anonymous-group-member", ""},
		{"group member not array", b("actor", rawJSON(`{"objectType":"Group","member":{"mbox":"mailto:a@example.com"}}`)), "actor.member", "type", ""},
		{"group member is group", b("actor", rawJSON(`{"objectType":"Group","member":[{"objectType":"Group","mbox":"mailto:g@example.com"}]}`)), "actor.member[0].objectType", "group-member", ""},
		{"group member invalid", b("actor", rawJSON(`{"objectType":"Group","mbox":"mailto:g@example.com","member":[{"mbox":"mailto:a@example.com"},{"name":"x"}]}`)), "actor.member[1]", "agent-ifi", ""},
		{"group two IFIs", b("actor", rawJSON(`{"objectType":"Group","mbox":"mailto:g@example.com","openid":"http://g.example.com"}`)), "actor.openid", "one-ifi", ""},

		// Verb.
		{"verb id missing", b("verb.id", deleted), "verb.id", "required", ""},
		{"verb id no scheme", b("verb.id", "adlnet.gov/expapi/verbs/completed"), "verb.id", "iri", ""},
		{"verb id with space", b("verb.id", "http://example.com/my verb"), "verb.id", "iri", ""},
		{"verb id empty", b("verb.id", ""), "verb.id", "iri", ""},
		{"verb display underscore tag", b("verb.display", rawJSON(`{"en_US":"completed"}`)), `verb.display.en_US`, "language-tag", ""},
		{"verb display bad tag", b("verb.display", rawJSON(`{"a12345678":"completed"}`)), `verb.display.a12345678`, "language-tag", ""},
		{"verb display value number", b("verb.display", rawJSON(`{"en":1}`)), `verb.display.en`, "type", ""},
		{"verb display string", b("verb.display", "completed"), "verb.display", "type", ""},
		{"verb extra", b("verb.name", "x"), "verb.name", "unknown-property", ""},

		// Activity.
		{"activity objectType case", b("object.objectType", "activity"), "object.objectType", "objecttype-case", ""},
		{"activity id missing", b("object.id", deleted), "object.id", "required", ""},
		{"activity id relative", b("object.id", "/courses/1"), "object.id", "iri", ""},
		{"activity extra", b("object.name", "x"), "object.name", "unknown-property", ""},
		{"definition type no scheme", b("object.definition.type", "example.com/type"), "object.definition.type", "iri", ""},
		{"definition moreInfo no scheme", b("object.definition.moreInfo", "virtualmeeting.example.com/345256"), "object.definition.moreInfo", "iri", ""},
		{"definition name bad tag", b("object.definition.name", rawJSON(`{"en_GB":"x"}`)), "object.definition.name.en_GB", "language-tag", ""},
		{"definition description not map", b("object.definition.description", 1), "object.definition.description", "type", ""},
		{"definition extension key", b("object.definition.extensions", rawJSON(`{"not.valid.com/extension":1234}`)), `object.definition.extensions["not.valid.com/extension"]`, "extension-key", ""},
		{"definition extensions not object", b("object.definition.extensions", rawJSON(`[]`)), "object.definition.extensions", "type", ""},
		{"definition extra", b("object.definition.Name", rawJSON(`{"en":"x"}`)), "object.definition.Name", "property-case", ""},
		{"interactionType unknown", b("object.definition.interactionType", "essay"), "object.definition.interactionType", "interaction-type", ""},
		{"interactionType case", b("object.definition.interactionType", "Choice"), "object.definition.interactionType", "interaction-type", ""},
		{"interactionType number", b("object.definition.interactionType", 1), "object.definition.interactionType", "type", ""},
		{"correctResponsesPattern without interactionType", b("object.definition.correctResponsesPattern", rawJSON(`["a"]`)), "object.definition.correctResponsesPattern", "interaction-type-required", ""},
		{"correctResponsesPattern not array", b("object.definition.interactionType", "fill-in", "object.definition.correctResponsesPattern", "a"), "object.definition.correctResponsesPattern", "type", ""},
		{"correctResponsesPattern number", b("object.definition.interactionType", "numeric", "object.definition.correctResponsesPattern", rawJSON(`["1", 4]`)), "object.definition.correctResponsesPattern[1]", "type", ""},
		{"choices without interactionType", b("object.definition.choices", rawJSON(`[{"id":"a"}]`)), "object.definition.choices", "interaction-type-required", ""},
		{"choices with likert", b("object.definition.interactionType", "likert", "object.definition.choices", rawJSON(`[{"id":"a"}]`)), "object.definition.choices", "interaction-components", ""},
		{"scale with choice", b("object.definition.interactionType", "choice", "object.definition.scale", rawJSON(`[{"id":"a"}]`)), "object.definition.scale", "interaction-components", ""},
		{"steps with true-false", b("object.definition.interactionType", "true-false", "object.definition.steps", rawJSON(`[{"id":"a"}]`)), "object.definition.steps", "interaction-components", ""},
		{"source with performance", b("object.definition.interactionType", "performance", "object.definition.source", rawJSON(`[{"id":"a"}]`)), "object.definition.source", "interaction-components", ""},
		{"target with other", b("object.definition.interactionType", "other", "object.definition.target", rawJSON(`[{"id":"a"}]`)), "object.definition.target", "interaction-components", ""},
		{"component ids repeat", b("object.definition.interactionType", "choice", "object.definition.choices", rawJSON(`[{"id":"a"},{"id":"b"},{"id":"a"}]`)), "object.definition.choices[2].id", "interaction-component-id", ""},
		{"component ids repeat in a long list", b("object.definition.interactionType", "choice", "object.definition.choices", rawJSON(longChoices(20, 3, 19))), "object.definition.choices[19].id", "interaction-component-id", ""},
		{"component id missing", b("object.definition.interactionType", "choice", "object.definition.choices", rawJSON(`[{"id":"a"},{"description":{"en":"b"}}]`)), "object.definition.choices[1].id", "required", ""},
		{"component id number", b("object.definition.interactionType", "sequencing", "object.definition.choices", rawJSON(`[{"id":1}]`)), "object.definition.choices[0].id", "type", ""},
		{"component extra", b("object.definition.interactionType", "matching", "object.definition.target", rawJSON(`[{"id":"a","name":"x"}]`)), "object.definition.target[0].name", "unknown-property", ""},
		{"component description bad tag", b("object.definition.interactionType", "likert", "object.definition.scale", rawJSON(`[{"id":"a","description":{"a12345678":"x"}}]`)), "object.definition.scale[0].description.a12345678", "language-tag", ""},
		{"components not array", b("object.definition.interactionType", "choice", "object.definition.choices", rawJSON(`{"id":"a"}`)), "object.definition.choices", "type", ""},

		// Agent, Group, StatementRef and SubStatement objects.
		{"agent object without objectType", b("object", mboxAgent), "object.objectType", "object-objecttype", ""},
		{"group object without objectType", b("object", rawJSON(`{"member":[{"mbox":"mailto:a@example.com"}]}`)), "object.objectType", "object-objecttype", ""},
		{"object objectType unknown", b("object.objectType", "Statement"), "object.objectType", "objecttype", ""},
		{"statementref bad id", b("object", rawJSON(`{"objectType":"StatementRef","id":"MA97B177-9383-4934-8543-0F91A7A02836"}`)), "object.id", "uuid", ""},
		{"statementref no id", b("object", rawJSON(`{"objectType":"StatementRef"}`)), "object.id", "required", ""},
		{"statementref extra", b("object", rawJSON(`{"objectType":"StatementRef","id":"6690e6c9-3ef0-4ed3-8b37-7f3964730bee","definition":{}}`)), "object.definition", "unknown-property", ""},
		{"voiding needs statementref", b("verb.id", "http://adlnet.gov/expapi/verbs/voided"), "object.objectType", "voiding-object", ""},
		{"substatement with id", sub("object.id", "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"), "object.id", "substatement-property", ""},
		{"substatement with stored", sub("object.stored", "2024-01-01T00:00:00Z"), "object.stored", "substatement-property", ""},
		{"substatement with version", sub("object.version", "1.0.0"), "object.version", "substatement-property", ""},
		{"substatement with authority", sub("object.authority", mboxAgent), "object.authority", "substatement-property", ""},
		{"substatement nested", sub("object.object", rawJSON(`{"objectType":"SubStatement","actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}}`)), "object.object.objectType", "substatement-nested", ""},
		{"substatement missing verb", sub("object.verb", deleted), "object.verb", "required", ""},
		{"substatement bad actor", sub("object.actor.mbox", "jane"), "object.actor.mbox", "mbox", ""},
		{"substatement objectType case", sub("object.objectType", "substatement"), "object.objectType", "objecttype-case", ""},
		{"substatement revision with agent object", sub("object.object", rawJSON(`{"objectType":"Agent","mbox":"mailto:a@example.com"}`)), "object.context.platform", "context-platform", ""},
		{"substatement bad timestamp", sub("object.timestamp", "2008-09-15T15:53:00.601-00:00"), "object.timestamp", "timestamp", ""},
		{"substatement unknown property", sub("object.foo", 1), "object.foo", "unknown-property", ""},

		// Result.
		{"result not object", b("result", "passed"), "result", "type", ""},
		{"scaled above 1", b("result.score.scaled", 1.5), "result.score.scaled", "score-scaled", ""},
		{"scaled below -1", b("result.score.scaled", rawJSON("-1.01")), "result.score.scaled", "score-scaled", ""},
		{"scaled string", b("result.score.scaled", "0.5"), "result.score.scaled", "type", ""},
		{"min equals max", b("result.score.min", 100), "result.score.min", "score-min-max", ""},
		{"min above max", b("result.score.min", 200, "result.score.raw", deleted), "result.score.min", "score-min-max", ""},
		{"raw below min", b("result.score.raw", -1), "result.score.raw", "score-raw", ""},
		{"raw above max", b("result.score.raw", 101), "result.score.raw", "score-raw", ""},
		{"raw out of float range", b("result.score.raw", rawJSON("1e400"), "result.score.max", deleted), "result.score.raw", "number-range", ""},
		{"score extra", b("result.score.percent", 90), "result.score.percent", "unknown-property", ""},
		{"success string", b("result.success", "true"), "result.success", "type", ""},
		{"completion number", b("result.completion", 1), "result.completion", "type", ""},
		{"response number", b("result.response", 1), "result.response", "type", ""},
		{"duration empty P", b("result.duration", "P"), "result.duration", "duration", ""},
		{"duration empty PT", b("result.duration", "PT"), "result.duration", "duration", ""},
		{"duration dangling T", b("result.duration", "P1DT"), "result.duration", "duration", ""},
		{"duration no P", b("result.duration", "1H"), "result.duration", "duration", ""},
		{"duration order", b("result.duration", "PT1S1M"), "result.duration", "duration", ""},
		{"duration repeated", b("result.duration", "PT1H2H"), "result.duration", "duration", ""},
		{"duration weeks mixed", b("result.duration", "P4W1D"), "result.duration", "duration", ""},
		{"duration years and weeks", b("result.duration", "P1Y2W"), "result.duration", "duration", ""},
		{"duration alternative format", b("result.duration", "P0003-01-01T00:00:00"), "result.duration", "duration", ""},
		{"duration fraction not last", b("result.duration", "PT1.5H2M"), "result.duration", "duration", ""},
		{"duration number", b("result.duration", 60), "result.duration", "type", ""},
		{"duration lowercase", b("result.duration", "pt1h"), "result.duration", "duration", ""},
		{"result extension key", b("result.extensions", rawJSON(`{"example.com/extension/wrong":1234}`)), `result.extensions["example.com/extension/wrong"]`, "extension-key", ""},
		{"result extra", b("result.passed", true), "result.passed", "unknown-property", ""},

		// Context.
		{"registration bad", b("context.registration", "AA97B177-9383-4934-8543-0F91A7A028368"), "context.registration", "uuid", ""},
		{"registration object", b("context.registration", rawJSON(`{"key":"should fail"}`)), "context.registration", "type", ""},
		{"instructor invalid", b("context.instructor.account.homePage", "lms"), "context.instructor.account.homePage", "iri", ""},
		{"team agent", b("context.team", mboxAgent), "context.team.objectType", "team-group", ""},
		{"team anonymous without member", b("context.team.member", deleted), "context.team.member", "anonymous-group-member", ""},
		{"contextActivities unknown key", b("context.contextActivities.parents", rawJSON(`[]`)), "context.contextActivities.parents", "unknown-property", ""},
		{"contextActivities value string", b("context.contextActivities.parent", "http://example.com/p"), "context.contextActivities.parent", "type", ""},
		{"contextActivities activity without id", b("context.contextActivities.parent[0].id", deleted), "context.contextActivities.parent[0].id", "required", ""},
		{"contextActivities activity not object", b("context.contextActivities.category", rawJSON(`["http://example.com/c"]`)), "context.contextActivities.category[0]", "type", ""},
		{"contextActivities agent", b("context.contextActivities.other", rawJSON(`[{"objectType":"Agent","mbox":"mailto:a@example.com"}]`)), "context.contextActivities.other[0].objectType", "objecttype", ""},
		{"contextActivities single bad id", b("context.contextActivities.grouping.id", "unit-7"), "context.contextActivities.grouping.id", "iri", ""},
		{"revision with statementref object", b("object", rawJSON(`{"objectType":"StatementRef","id":"6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}`)), "context.revision", "context-revision", ""},
		{"platform with agent object", b("object", rawJSON(`{"objectType":"Agent","mbox":"mailto:a@example.com"}`), "context.revision", deleted), "context.platform", "context-platform", ""},
		{"revision number", b("context.revision", 2), "context.revision", "type", ""},
		{"language underscore", b("context.language", "en_GB"), "context.language", "language-tag", ""},
		{"language empty", b("context.language", ""), "context.language", "language-tag", ""},
		{"context statement no objectType", b("context.statement.objectType", deleted), "context.statement.objectType", "required", ""},
		{"context statement bad id", b("context.statement.id", 12345), "context.statement.id", "type", ""},
		{"context statement activity", b("context.statement", rawJSON(`{"objectType":"Activity","id":"http://example.com/a"}`)), "context.statement.objectType", "objecttype", ""},
		{"context extension key", b("context.extensions", rawJSON(`{"example.com/extension/wrong":1234}`)), `context.extensions["example.com/extension/wrong"]`, "extension-key", ""},
		{"context extra", b("context.location", "x"), "context.location", "unknown-property", ""},
		{"contextAgents in 1.0.3", b("context.contextAgents", rawJSON(`[]`)), "context.contextAgents", "unknown-property", V103},
		{"contextGroups in 1.0.3", b("context.contextGroups", rawJSON(`[]`)), "context.contextGroups", "unknown-property", V103},
		{"contextAgents not array", b("context.contextAgents", rawJSON(`{}`)), "context.contextAgents", "type", V200},
		{"contextAgent objectType", b("context.contextAgents", rawJSON(`[{"objectType":"Should fail","agent":{"mbox":"mailto:a@example.com"}}]`)), "context.contextAgents[0].objectType", "objecttype", V200},
		{"contextAgent objectType missing", b("context.contextAgents", rawJSON(`[{"agent":{"mbox":"mailto:a@example.com"}}]`)), "context.contextAgents[0].objectType", "required", V200},
		{"contextAgent agent invalid", b("context.contextAgents", rawJSON(`[{"objectType":"contextAgent","agent":{"key":"Should fail"}}]`)), "context.contextAgents[0].agent.key", "unknown-property", V200},
		{"contextAgent agent missing", b("context.contextAgents", rawJSON(`[{"objectType":"contextAgent"}]`)), "context.contextAgents[0].agent", "required", V200},
		{"contextAgent agent group", b("context.contextAgents", rawJSON(`[{"objectType":"contextAgent","agent":{"objectType":"Group","mbox":"mailto:g@example.com"}}]`)), "context.contextAgents[0].agent.objectType", "context-agent", V200},
		{"contextAgent relevantTypes empty", b("context.contextAgents", rawJSON(`[{"objectType":"contextAgent","agent":{"mbox":"mailto:a@example.com"},"relevantTypes":[]}]`)), "context.contextAgents[0].relevantTypes", "relevant-types", V200},
		{"contextAgent relevantTypes not IRI", b("context.contextAgents", rawJSON(`[{"objectType":"contextAgent","agent":{"mbox":"mailto:a@example.com"},"relevantTypes":["abc"]}]`)), "context.contextAgents[0].relevantTypes[0]", "iri", V200},
		{"contextAgent extra", b("context.contextAgents", rawJSON(`[{"objectType":"contextAgent","agent":{"mbox":"mailto:a@example.com"},"role":"x"}]`)), "context.contextAgents[0].role", "unknown-property", V200},
		{"contextGroup objectType", b("context.contextGroups", rawJSON(`[{"objectType":"contextAgent","group":{"objectType":"Group","mbox":"mailto:g@example.com"}}]`)), "context.contextGroups[0].objectType", "objecttype", V200},
		{"contextGroup group agent", b("context.contextGroups", rawJSON(`[{"objectType":"contextGroup","group":{"mbox":"mailto:g@example.com"}}]`)), "context.contextGroups[0].group.objectType", "context-group", V200},
		{"contextGroup group anonymous empty", b("context.contextGroups", rawJSON(`[{"objectType":"contextGroup","group":{"objectType":"Group"}}]`)), "context.contextGroups[0].group.member", "anonymous-group-member", V200},
		{"contextGroup relevantTypes empty", b("context.contextGroups", rawJSON(`[{"objectType":"contextGroup","group":{"objectType":"Group","mbox":"mailto:g@example.com"},"relevantTypes":[]}]`)), "context.contextGroups[0].relevantTypes", "relevant-types", V200},

		// Timestamps.
		{"timestamp text", b("timestamp", "should fail"), "timestamp", "timestamp", ""},
		{"timestamp date only", b("timestamp", "2015-01-01"), "timestamp", "timestamp", ""},
		{"timestamp US date", b("timestamp", "01/011/2015"), "timestamp", "timestamp", ""},
		{"timestamp -00", b("timestamp", "2008-09-15T15:53:00.601-00"), "timestamp", "timestamp", ""},
		{"timestamp -0000", b("timestamp", "2008-09-15T15:53:00.601-0000"), "timestamp", "timestamp", ""},
		{"timestamp -00:00", b("timestamp", "2008-09-15T15:53:00.601-00:00"), "timestamp", "timestamp", ""},
		{"timestamp Feb 30", b("timestamp", "2015-02-30T00:00:00Z"), "timestamp", "timestamp", ""},
		{"timestamp hour 25", b("timestamp", "2015-02-03T25:00:00Z"), "timestamp", "timestamp", ""},
		{"timestamp space separator", b("timestamp", "2015-02-03 10:00:00Z"), "timestamp", "timestamp", ""},
		{"timestamp mixed forms", b("timestamp", "2015-02-03T100000Z"), "timestamp", "timestamp", ""},
		{"timestamp empty fraction", b("timestamp", "2015-02-03T10:00:00.Z"), "timestamp", "timestamp", ""},
		{"timestamp number", b("timestamp", 1430000000), "timestamp", "type", ""},
		{"stored bad", b("stored", "yesterday"), "stored", "timestamp", ""},

		// Authority.
		{"authority no IFI", b("authority", rawJSON(`{"name":"x"}`)), "authority", "agent-ifi", ""},
		{"authority identified group", b("authority", rawJSON(`{"objectType":"Group","mbox":"mailto:g@example.com","member":[{"account":{"homePage":"http://example.com/xAPI/OAuth/Token","name":"oauth_consumer_x75db"}},{"mbox":"mailto:bob@example.com"}]}`)), "authority.mbox", "authority-group", ""},
		{"authority group one member", b("authority", rawJSON(`{"objectType":"Group","member":[{"mbox":"mailto:bob@example.com"}]}`)), "authority.member", "authority-group", ""},
		{"authority group three members", b("authority", rawJSON(`{"objectType":"Group","member":[{"account":{"homePage":"http://example.com/xAPI/OAuth/Token","name":"c"}},{"mbox":"mailto:bob@example.com"},{"mbox":"mailto:james@example.com"}]}`)), "authority.member", "authority-group", ""},
		{"authority group without consumer account", b("authority", rawJSON(`{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"},{"mbox":"mailto:bob@example.com"}]}`)), "authority.member", "authority-group", ""},
		{"authority group no member", b("authority", rawJSON(`{"objectType":"Group","name":"Group Anonymous"}`)), "authority.member", "anonymous-group-member", ""},

		// Version.
		{"version 1.1.0", b("version", "1.1.0"), "version", "version", ""},
		{"version 0.9.9", b("version", "0.9.9"), "version", "version", ""},
		{"version text", b("version", "should fail"), "version", "version", ""},
		{"version 1.0.", b("version", "1.0."), "version", "version", ""},
		{"version 1.0.x", b("version", "1.0.x"), "version", "version", ""},
		{"version 1.00", b("version", "1.00"), "version", "version", ""},
		{"version 2.0.0 in 1.0.3", b("version", "2.0.0"), "version", "version", V103},
		{"version 2.1.0 in 2.0.0", b("version", "2.1.0"), "version", "version", V200},
		{"version number", b("version", 1.0), "version", "type", ""},

		// Attachments.
		{"attachments not array", b("attachments", rawJSON(`{"usageType":"http://example.com/u"}`)), "attachments", "type", ""},
		{"attachment number", b("attachments", rawJSON(`[12345]`)), "attachments[0]", "type", ""},
		{"attachment usageType missing", b("attachments[0].usageType", deleted), "attachments[0].usageType", "required", ""},
		{"attachment usageType no scheme", b("attachments[0].usageType", "example.com/attachment-usage/test"), "attachments[0].usageType", "iri", ""},
		{"attachment display missing", b("attachments[0].display", deleted), "attachments[0].display", "required", ""},
		{"attachment display string", b("attachments[0].display", "Signature"), "attachments[0].display", "type", ""},
		{"attachment description bad tag", b("attachments[0].description", rawJSON(`{"a12345678":"x"}`)), "attachments[0].description.a12345678", "language-tag", ""},
		{"attachment contentType missing", b("attachments[0].contentType", deleted), "attachments[0].contentType", "required", ""},
		{"attachment contentType number", b("attachments[0].contentType", 12345), "attachments[0].contentType", "type", ""},
		{"attachment contentType no subtype", b("attachments[0].contentType", "text"), "attachments[0].contentType", "content-type", ""},
		{"attachment length missing", b("attachments[0].length", deleted), "attachments[0].length", "required", ""},
		{"attachment length string", b("attachments[0].length", "27"), "attachments[0].length", "type", ""},
		{"attachment length negative", b("attachments[0].length", -1), "attachments[0].length", "attachment-length", ""},
		{"attachment length fraction", b("attachments[0].length", 1.5), "attachments[0].length", "attachment-length", ""},
		{"attachment sha2 missing", b("attachments[0].sha2", deleted), "attachments[0].sha2", "required", ""},
		{"attachment sha2 number", b("attachments[0].sha2", 12345), "attachments[0].sha2", "type", ""},
		{"attachment sha2 not hex", b("attachments[0].sha2", "should fail"), "attachments[0].sha2", "attachment-sha2", ""},
		{"attachment fileUrl no scheme", b("attachments[0].fileUrl", "over.there.com/file.txt"), "attachments[0].fileUrl", "iri", ""},
		{"attachment extra", b("attachments[0].data", "aGVsbG8="), "attachments[0].data", "unknown-property", ""},
		{"attachment null fileUrl", b("attachments[0].fileUrl", nil), "attachments[0].fileUrl", "null", ""},
	}
}

func TestInvalidStatements(t *testing.T) {
	for _, tc := range invalidCases(t) {
		for _, v := range []Version{V103, V200} {
			if tc.only != "" && tc.only != v {
				continue
			}
			t.Run(string(v)+"/"+tc.name, func(t *testing.T) {
				_, err := ParseStatements([]byte(tc.doc), v)
				checkInvalid(t, err, tc.path, tc.rule)
				if strings.HasPrefix(tc.doc, "{") {
					_, err = ParseStatement([]byte(tc.doc), v)
					checkInvalid(t, err, tc.path, tc.rule)
					// In a batch, the path starts with the index.
					_, err = ParseStatements([]byte("["+baseStatement+",\n"+tc.doc+"]"), v)
					if tc.rule != "duplicate-id" {
						checkInvalid(t, err, batchPath("[1]", tc.path), tc.rule)
					}
				}
			})
		}
	}
}

func batchPath(prefix, p string) string {
	if p == "" || p[0] == '[' {
		return prefix + p
	}
	return prefix + "." + p
}

func checkInvalid(t *testing.T, err error, path, rule string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want rule %q at %q", rule, path)
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is %T, want *errs.Error", err, err)
	}
	if e.Kind != errs.Invalid {
		t.Errorf("kind %v, want invalid", e.Kind)
	}
	if e.Path != path || e.Rule != rule {
		t.Errorf("got rule %q at %q (%v); want rule %q at %q", e.Rule, e.Path, err, rule, path)
	}
	if e.Message == "" || strings.HasSuffix(e.Message, ".") {
		t.Errorf("message %q should be a non-empty sentence fragment without a final period", e.Message)
	}
}

// validCases are statements both versions must accept (besides the spec
// examples in testdata/spec).
func validCases(t *testing.T) []struct {
	name string
	doc  string
	only Version
} {
	b := func(edits ...any) string { return editJSON(t, baseStatement, edits...) }
	sub := func(edits ...any) string { return editJSON(t, substatementBase, edits...) }
	return []struct {
		name string
		doc  string
		only Version
	}{
		{"minimal", `{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}}`, ""},
		{"uppercase id", b("id", "FD41C918-B88B-4B20-A0A5-A4C32391AAA0"), ""},
		{"no optional properties", b("result", deleted, "context", deleted, "timestamp", deleted, "stored", deleted, "authority", deleted, "version", deleted, "attachments", deleted, "id", deleted), ""},
		{"version 1.0", b("version", "1.0"), ""},
		{"version 1.0.9", b("version", "1.0.9"), ""},
		{"version 1.0.3", b("version", "1.0.3"), ""},
		{"version 2.0.0", b("version", "2.0.0"), V200},
		{"version 2.0", b("version", "2.0"), V200},
		{"agent without objectType", b("actor.objectType", deleted), ""},
		{"agent mbox_sha1sum uppercase", b("actor.mbox", deleted, "actor.mbox_sha1sum", "EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"), ""},
		{"agent openid", b("actor.mbox", deleted, "actor.openid", "http://openid.example.org/12345"), ""},
		{"agent account empty name", b("actor.mbox", deleted, "actor.account", rawJSON(`{"homePage":"http://www.example.com","name":""}`)), ""},
		{"mbox with plus and subdomain", b("actor.mbox", "mailto:jane.doe+lrs@mail.example.co.uk"), ""},
		{"mbox IDN", b("actor.mbox", "mailto:jürgen@exämple.de"), ""},
		{"identified group without member", b("actor", rawJSON(`{"objectType":"Group","account":{"homePage":"http://example.com","name":"g"}}`)), ""},
		{"identified group empty member", b("actor", rawJSON(`{"objectType":"Group","mbox":"mailto:g@example.com","member":[]}`)), ""},
		{"anonymous group", b("actor", rawJSON(`{"objectType":"Group","name":"ad hoc","member":[{"mbox":"mailto:a@example.com"},{"objectType":"Agent","openid":"http://b.example.com/"}]}`)), ""},
		{"authority oauth group", b("authority", rawJSON(`{"objectType":"Group","member":[{"account":{"homePage":"http://example.com/xAPI/OAuth/Token","name":"oauth_consumer_x75db"}},{"mbox":"mailto:bob@example.com"}]}`)), ""},
		{"object agent", b("object", rawJSON(`{"objectType":"Agent","mbox":"mailto:a@example.com"}`), "context.revision", deleted, "context.platform", deleted), ""},
		{"object group", b("object", rawJSON(`{"objectType":"Group","mbox":"mailto:g@example.com"}`), "context.revision", deleted, "context.platform", deleted), ""},
		{"object statementref", b("object", rawJSON(`{"objectType":"StatementRef","id":"6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}`), "context.revision", deleted, "context.platform", deleted), ""},
		{"object without objectType", b("object.objectType", deleted), ""},
		{"voiding statement", b("verb.id", "http://adlnet.gov/expapi/verbs/voided", "object", rawJSON(`{"objectType":"StatementRef","id":"6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}`), "context", deleted), ""},
		{"substatement voided verb activity", sub("object.verb.id", "http://adlnet.gov/expapi/verbs/voided"), ""},
		{"substatement with attachments", sub("object.attachments", rawJSON(`[{"usageType":"http://example.com/u","display":{"en":"x"},"contentType":"text/plain","length":0,"sha2":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}]`)), ""},
		{"substatement statementref object", sub("object.object", rawJSON(`{"objectType":"StatementRef","id":"6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}`), "object.context", deleted), ""},
		{"empty extensions", b("result.extensions", rawJSON(`{}`), "context.extensions", rawJSON(`{}`), "object.definition.extensions", rawJSON(`{}`)), ""},
		{"extension values of any type", b("context.extensions", rawJSON(`{"http://example.com/a":"","http://example.com/b":null,"http://example.com/c":{"Nested":{"null":null,"x":[1,"two",false]}},"urn:x-ext:d":[]}`)), ""},
		{"empty language map", b("verb.display", rawJSON(`{}`)), ""},
		{"language tags", b("verb.display", rawJSON(`{"en":"a","en-US":"b","zh-Hant-TW":"c","sr-Latn-RS":"d","de-CH-1901":"e","es-419":"f","x-klingon":"g","i-klingon":"h","tlh":"i","EN-gb":"j","en-a-bbb-x-a-ccc":"k"}`)), ""},
		{"score only raw", b("result.score", rawJSON(`{"raw":-1e3}`)), ""},
		{"score boundaries", b("result.score", rawJSON(`{"scaled":-1,"raw":0,"min":0,"max":0.5}`)), ""},
		{"score empty", b("result.score", rawJSON(`{}`)), ""},
		{"durations", b("result.duration", "P3Y1M29DT4H35M59.14S"), ""},
		{"duration weeks", b("result.duration", "P4W"), ""},
		{"duration seconds", b("result.duration", "PT16559.14S"), ""},
		{"duration comma", b("result.duration", "PT0,5S"), ""},
		{"duration zero", b("result.duration", "PT0S"), ""},
		{"duration days fraction", b("result.duration", "P1.5D"), ""},
		{"timestamp Z", b("timestamp", "2015-11-18T12:17:00Z"), ""},
		{"timestamp +00:00", b("timestamp", "2008-09-15T15:53:00.601+00:00"), ""},
		{"timestamp nanoseconds", b("timestamp", "2008-09-15T15:53:00.123456789+05:30"), ""},
		{"timestamp basic form", b("timestamp", "20080915T155300.601+0200"), ""},
		{"timestamp hour offset", b("timestamp", "2008-09-15T15:53:00-05"), ""},
		{"timestamp without zone", b("timestamp", "2008-09-15T15:53:00"), ""},
		{"timestamp leap day", b("timestamp", "2024-02-29T00:00:00Z"), ""},
		{"timestamp future", b("timestamp", "2099-01-01T00:00:00Z"), ""},
		{"contextActivities single objects", b("context.contextActivities", rawJSON(`{"parent":{"id":"http://example.com/p"},"other":{"objectType":"Activity","id":"http://example.com/o"}}`)), ""},
		{"context without activity-only properties", b("object", rawJSON(`{"objectType":"Agent","mbox":"mailto:a@example.com"}`), "context.revision", deleted, "context.platform", deleted), ""},
		{"team identified without member", b("context.team", rawJSON(`{"objectType":"Group","openid":"http://team.example.com/"}`)), ""},
		{"instructor group", b("context.instructor", rawJSON(`{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"}]}`)), ""},
		{"contextAgents and contextGroups", b("context.contextAgents", rawJSON(`[{"objectType":"contextAgent","agent":{"mbox":"mailto:a@example.com"},"relevantTypes":["http://example.com/t"]}]`), "context.contextGroups", rawJSON(`[{"objectType":"contextGroup","group":{"objectType":"Group","mbox":"mailto:g@example.com"}}]`)), V200},
		{"empty contextAgents", b("context.contextAgents", rawJSON(`[]`)), V200},
		{"long component list", b("object.definition.interactionType", "likert", "object.definition.scale", rawJSON(longChoices(40, 0, -1))), ""},
		{"interaction without components", b("object.definition.interactionType", "true-false", "object.definition.correctResponsesPattern", rawJSON(`["true"]`)), ""},
		{"interaction empty correctResponsesPattern", b("object.definition.interactionType", "choice", "object.definition.correctResponsesPattern", rawJSON(`[]`), "object.definition.choices", rawJSON(`[]`)), ""},
		{"IRIs", b("object.id", "urn:uuid:6690e6c9-3ef0-4ed3-8b37-7f3964730bee", "verb.id", "http://example.com/فعل/خواندن", "object.definition.type", "tag:example.com,2024:type#x", "object.definition.moreInfo", "https://[2001:db8::1]:8443/a%20b?q=1&r=(2)"), ""},
		{"attachment sha512", b("attachments[0].sha2", strings.Repeat("ab", 64)), ""},
		{"attachment length zero", b("attachments[0].length", 0), ""},
		{"attachment content type with parameters", b("attachments[0].contentType", "text/plain; charset=ascii"), ""},
		{"empty attachments", b("attachments", rawJSON(`[]`)), ""},
		{"escaped strings", strings.Replace(baseStatement, `"Jane Doe"`, `"J\u00e9r\u00f4me \"JJ\" \ud83d\ude00 \/ \\"`, 1), ""},
		{"byte order mark", "\xEF\xBB\xBF" + baseStatement, ""},
	}
}

func TestValidStatements(t *testing.T) {
	for _, tc := range validCases(t) {
		for _, v := range []Version{V103, V200} {
			if tc.only != "" && tc.only != v {
				continue
			}
			if _, err := ParseStatement([]byte(tc.doc), v); err != nil {
				t.Errorf("%s %s: %v\n%s", v, tc.name, err, tc.doc)
			}
		}
	}
}

// TestSpecExamples parses every example statement of the xAPI specification
// (testdata/spec): all are valid in both versions, except those using 2.0
// properties, which 1.0.3 rejects.
func TestSpecExamples(t *testing.T) {
	files, err := filepath.Glob("testdata/spec/*.json")
	if err != nil || len(files) < 25 {
		t.Fatalf("spec examples missing: %v %d", err, len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v2only := strings.HasPrefix(filepath.Base(f), "v2-")
		for _, v := range []Version{V103, V200} {
			_, err := ParseStatements(data, v)
			switch {
			case v2only && v == V103:
				var e *errs.Error
				if !errors.As(err, &e) || e.Rule != "unknown-property" {
					t.Errorf("%s %s: want unknown-property, got %v", f, v, err)
				}
			case err != nil:
				t.Errorf("%s %s: %v", f, v, err)
			}
		}
	}
}

// TestSuiteInlineCases covers the statements the conformance suite builds in
// its test files rather than from configs (Data2.2-FormattingRequirements,
// Object requirements, Authority requirements, Error codes, Special data
// types). Each starts from the suite's own templates.
func TestSuiteInlineCases(t *testing.T) {
	def := `{"actor":{"objectType":"Agent","name":"xAPI mbox","mbox":"mailto:xapi@adlnet.gov"},"verb":{"id":"http://adlnet.gov/expapi/verbs/attended","display":{"en-GB":"attended","en-US":"attended"}},"object":{"objectType":"Activity","id":"http://www.example.com/meetings/occurances/34534"}}`
	actDef := `{"objectType":"Activity","id":"http://www.example.com/meetings/occurances/34534","definition":{"extensions":{"http://example.com/profiles/meetings/extension/location":"X:\\meetings\\minutes\\examplemeeting.one","http://example.com/profiles/meetings/extension/reporter":{"name":"Thomas","id":"http://openid.com/342"}},"name":{"en-GB":"example meeting","en-US":"example meeting"},"description":{"en-GB":"An example meeting that happened on a specific occasion with certain people present.","en-US":"An example meeting that happened on a specific occasion with certain people present."},"type":"http://adlnet.gov/expapi/activities/meeting","moreInfo":"http://virtualmeeting.example.com/345256"}}`
	att := `[{"usageType":"http://example.com/attachment-usage/test","display":{"en-US":"A test attachment"},"description":{"en-US":"A test attachment (description)"},"contentType":"text/plain; charset=ascii","length":27,"sha2":"495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a","fileUrl":"http://over.there.com/file.txt"}]`
	e := func(doc string, edits ...any) string { return editJSON(t, doc, edits...) }
	withDef := e(def, "object", rawJSON(actDef))
	interaction := func(it string, extra ...any) string {
		d := e(withDef, "object.definition.interactionType", it)
		return e(d, extra...)
	}
	bad := []struct{ name, doc string }{
		{"verb id without scheme", e(def, "verb.id", "adlnet.gov/expapi/verbs/attended")},
		{"openid without scheme", e(def, "actor.mbox", deleted, "actor.openid", "open.id.com/testUser")},
		{"homePage without scheme", e(def, "actor.mbox", deleted, "actor.account", rawJSON(`{"homePage":"homePage.com/testUser","name":"123456"}`))},
		{"object id without scheme", e(def, "object.id", "www.example.com/meetings/occurances/34534")},
		{"definition type without scheme", e(withDef, "object.definition.type", "adlnet.gov/expapi/activities/meeting")},
		{"moreInfo without scheme", e(withDef, "object.definition.moreInfo", "virtualmeeting.example.com/345256")},
		{"usageType without scheme", e(def, "attachments", rawJSON(att), "attachments[0].usageType", "example.com/attachment-usage/test")},
		{"fileUrl without scheme", e(def, "attachments", rawJSON(att), "attachments[0].fileUrl", "over.there.com/file.txt")},
		{"definition extension without scheme", e(withDef, "object.definition.extensions", rawJSON(`{"not.valid.com/extension":1234}`))},
		{"context extension without scheme", e(def, "context", rawJSON(`{"extensions":{"example.com/extension/wrong":1234}}`))},
		{"result extension without scheme", e(def, "result", rawJSON(`{"extensions":{"example.com/extension/wrong":1234}}`))},
		{"objectType holding JSON text", e(def, "actor.objectType", `"objectType": "Agent"`)},
		{"correctResponsesPattern without interactionType", e(withDef, "object.definition.correctResponsesPattern", rawJSON(`["(35.937432,-86.868896)"]`))},
		{"choices without interactionType", e(withDef, "object.definition.choices", rawJSON(`[{"id":"golf","description":{"en-US":"Golf Example"}}]`), "object.definition.correctResponsesPattern", rawJSON(`["golf"]`))},
		{"scale without interactionType", e(withDef, "object.definition.scale", rawJSON(`[{"id":"likert_0","description":{"en-US":"It's OK"}}]`))},
		{"source without interactionType", e(withDef, "object.definition.source", rawJSON(`[{"id":"ben","description":{"en-US":"Ben"}}]`))},
		{"target without interactionType", e(withDef, "object.definition.target", rawJSON(`[{"id":"1","description":{"en-US":"Swift Kick in the Grass"}}]`))},
		{"steps without interactionType", e(withDef, "object.definition.steps", rawJSON(`[{"id":"pong","description":{"en-US":"Net pong matches won"}}]`))},
		{"agent object without objectType", e(def, "object", rawJSON(`{"name":"xAPI mbox","mbox":"mailto:xapi@adlnet.gov"}`))},
		{"group object without objectType", e(def, "object", rawJSON(`{"name":"Group","mbox":"mailto:group@adlnet.gov","member":[{"mbox":"mailto:xapi@adlnet.gov"}]}`))},
		{"substatement agent object without objectType", e(def, "object", rawJSON(`{"objectType":"SubStatement","actor":{"mbox":"mailto:xapi@adlnet.gov"},"verb":{"id":"http://adlnet.gov/expapi/verbs/reported"},"object":{"mbox":"mailto:xapi@adlnet.gov"}}`))},
		{"authority identified group of two", e(def, "authority", rawJSON(`{"objectType":"Group","name":"xAPI Group","mbox":"mailto:xapigroup@example.com","member":[{"name":"agentA","mbox":"mailto:agentA@example.com"},{"name":"agentB","mbox":"mailto:agentB@example.com"}]}`))},
		{"batch with one bad verb", "[" + e(def, "id", "6690e6c9-3ef0-4ed3-8b37-7f3964730bee") + "," + e(def, "id", "6690e6c9-3ef0-4ed3-8b37-7f3964730bef", "verb.id", "should fail") + "]"},
		{"batch with a repeated id", "[" + e(def, "id", "6690e6c9-3ef0-4ed3-8b37-7f3964730bee") + "," + e(def, "id", "6690E6C9-3EF0-4ED3-8B37-7F3964730BEE") + "]"},
	}
	good := []struct{ name, doc string }{
		{"default", def},
		{"interactions", interaction("other", "object.definition.correctResponsesPattern", rawJSON(`["(35.937432,-86.868896)"]`))},
		{"extension values empty string", e(withDef, "object.definition.extensions", rawJSON(`{"http://example.com/profiles/meetings/extension/location":""}`))},
		{"extension values null", e(def, "result", rawJSON(`{"extensions":{"http://example.com/x":null}}`), "context", rawJSON(`{"extensions":{"http://example.com/x":null}}`))},
		{"extension values empty object", e(def, "result", rawJSON(`{"extensions":{"http://example.com/x":{}}}`))},
		{"extensions empty", e(def, "result", rawJSON(`{"extensions":{}}`), "context", rawJSON(`{"extensions":{}}`))},
		{"precision", e(def, "result", rawJSON(`{"score":{"min":0.12123434,"raw":12.125,"max":45.45,"scaled":0.12123434}}`))},
		{"timestamp with offset", e(def, "timestamp", "2023-05-04T12:00:00-05:00")},
		{"version 2.0.0", e(def, "version", "2.0.0")},
		{"batch", "[" + e(def, "id", "6690e6c9-3ef0-4ed3-8b37-7f3964730bee") + "," + e(def, "id", "6690e6c9-3ef0-4ed3-8b37-7f3964730bef") + "]"},
	}
	for _, v := range []Version{V103, V200} {
		for _, tc := range bad {
			_, err := ParseStatements([]byte(tc.doc), v)
			if !errs.Is(err, errs.Invalid) {
				t.Errorf("%s %s: want Invalid, got %v", v, tc.name, err)
			}
		}
		for _, tc := range good {
			if tc.name == "version 2.0.0" && v == V103 {
				continue
			}
			if _, err := ParseStatements([]byte(tc.doc), v); err != nil {
				t.Errorf("%s %s: %v", v, tc.name, err)
			}
		}
	}
}

func TestParseStatementsShapes(t *testing.T) {
	one := `{"actor":{"mbox":"mailto:a@example.com"},"verb":{"id":"http://example.com/v"},"object":{"id":"http://example.com/a"}}`
	got, err := ParseStatements([]byte(" \n"+one+"\n"), V103)
	if err != nil || len(got) != 1 || got[0]["verb"].(map[string]any)["id"] != "http://example.com/v" {
		t.Fatalf("single object: %v %v", got, err)
	}
	got, err = ParseStatements([]byte("["+one+","+one+"]"), V200)
	if err != nil || len(got) != 2 {
		t.Fatalf("array: %v %v", got, err)
	}
	got, err = ParseStatements([]byte("[]"), V200)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("empty array: %v %v", got, err)
	}
	for _, body := range []string{`"statement"`, `42`, `null`, `true`} {
		_, err := ParseStatements([]byte(body), V103)
		checkInvalid(t, err, "", "type")
	}
	_, err = ParseStatement([]byte(`[`+one+`]`), V103)
	checkInvalid(t, err, "", "type")
}

func TestParseAgent(t *testing.T) {
	good := []string{
		`{"mbox":"mailto:a@example.com"}`,
		`{"objectType":"Agent","name":"Rick James","account":{"homePage":"http://www.example.com/agentId/1","name":"Rick James"}}`,
		`{"objectType":"Group","openid":"http://group.example.com/"}`,
		`{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"}]}`,
		`{"mbox_sha1sum":"cd9b00a5611f94eaa7b1661edab976068e364975"}`,
	}
	for _, v := range []Version{V103, V200} {
		for _, s := range good {
			m, err := ParseAgent([]byte(s), v)
			if err != nil || m == nil {
				t.Errorf("%s %s: %v", v, s, err)
			}
		}
	}
	bad := []struct{ doc, path, rule string }{
		{`true`, "", "type"},
		{`not JSON`, "", "json-syntax"},
		{`"mailto:a@example.com"`, "", "type"},
		{`{"mbox":"x"}`, "mbox", "mbox"},
		{`{"name":"x"}`, "", "agent-ifi"},
		{`{"objectType":"Group"}`, "member", "anonymous-group-member"},
		{`{"objectType":"agent","mbox":"mailto:a@example.com"}`, "objectType", "objecttype-case"},
		{`{"mbox":"mailto:a@example.com","mbox":"mailto:b@example.com"}`, "mbox", "duplicate-key"},
		{`{"mbox":"mailto:a@example.com","Name":"x"}`, "Name", "property-case"},
		{`{"account":{"homePage":"http://www.example.com/agentId/1"` + "\x22:" + `"name":"Rick James"}}`, "account", "json-syntax"},
		{`{"mbox":"mailto:a@example.com"} {}`, "", "json-syntax"},
	}
	for _, v := range []Version{V103, V200} {
		for _, tc := range bad {
			_, err := ParseAgent([]byte(tc.doc), v)
			checkInvalid(t, err, tc.path, tc.rule)
		}
	}
}

// TestStrictJSONInStatements checks the JSON-level traps on whole statements.
func TestStrictJSONInStatements(t *testing.T) {
	deep := strings.Repeat("[", 70) + strings.Repeat("]", 70)
	cases := []struct{ name, doc, path, rule string }{
		{"duplicate top-level key", strings.Replace(baseStatement, `"verb":`, `"actor": {"mbox":"mailto:b@example.com"}, "verb":`, 1), "actor", "duplicate-key"},
		{"duplicate nested key", strings.Replace(baseStatement, `"fr": "a terminé"`, `"en-US": "done"`, 1), "verb.display.en-US", "duplicate-key"},
		{"duplicate key in extension", strings.Replace(baseStatement, `"http://example.com/ext/level": 3`, `"http://example.com/ext/level": 3, "http://example.com/ext/level": 4`, 1), `object.definition.extensions["http://example.com/ext/level"]`, "duplicate-key"},
		{"duplicate key in array element", strings.Replace(baseStatement, `"usageType"`, `"length": 1, "usageType"`, 1), "attachments[0].length", "duplicate-key"},
		{"trailing garbage", baseStatement + "x", "", "json-syntax"},
		{"two objects", baseStatement + baseStatement, "", "json-syntax"},
		{"trailing comma", strings.Replace(baseStatement, `"version": "1.0.0",`, `"version": "1.0.0",,`, 1), "", "json-syntax"},
		{"single quotes", strings.Replace(baseStatement, `"version": "1.0.0"`, `'version': '1.0.0'`, 1), "", "json-syntax"},
		{"invalid UTF-8 in string", strings.Replace(baseStatement, "Jane Doe", "Jane \xff Doe", 1), "actor.name", "json-utf8"},
		{"invalid UTF-8 in key", strings.Replace(baseStatement, `"response"`, "\"resp\xc3\x28onse\"", 1), "result", "json-utf8"},
		{"raw control character", strings.Replace(baseStatement, "Jane Doe", "Jane\tDoe", 1), "actor.name", "json-syntax"},
		{"bad escape", strings.Replace(baseStatement, "Jane Doe", `Jane \x Doe`, 1), "actor.name", "json-syntax"},
		{"too deep", strings.Replace(baseStatement, `"abc"`, deep, 1), `context.extensions["http://example.com/ext/session"]` + strings.Repeat("[0]", 61), "json-depth"},
		{"NaN", strings.Replace(baseStatement, `"raw": 90`, `"raw": NaN`, 1), "result.score", "json-syntax"},
		{"leading zero", strings.Replace(baseStatement, `"raw": 90`, `"raw": 090`, 1), "result.score", "json-syntax"},
		{"plus sign", strings.Replace(baseStatement, `"raw": 90`, `"raw": +90`, 1), "result.score", "json-syntax"},
		{"empty body", "", "", "json-syntax"},
		{"truncated", baseStatement[:len(baseStatement)/2], "", "json-syntax"},
	}
	for _, tc := range cases {
		for _, v := range []Version{V103, V200} {
			_, err := ParseStatements([]byte(tc.doc), v)
			if err == nil {
				t.Errorf("%s: accepted", tc.name)
				continue
			}
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Rule != tc.rule {
				t.Errorf("%s: got %v (rule %q), want rule %q", tc.name, err, e.Rule, tc.rule)
				continue
			}
			if tc.rule != "json-syntax" && e.Path != tc.path {
				t.Errorf("%s: path %q, want %q", tc.name, e.Path, tc.path)
			}
		}
	}
}

func TestErrorMessages(t *testing.T) {
	_, err := ParseStatement([]byte(editJSON(t, baseStatement, "actor.mbox", "jane@example.com")), V103)
	if err == nil || err.Error() != `actor.mbox: "jane@example.com" is not "mailto:" followed by an email address, e.g. "mailto:jane@example.com"` {
		t.Errorf("message: %v", err)
	}
	_, err = ParseStatement([]byte(editJSON(t, baseStatement, "Verb", rawJSON(`{}`))), V103)
	if err == nil || !strings.Contains(err.Error(), `use "verb"`) {
		t.Errorf("case hint missing: %v", err)
	}
	_, err = ParseStatement([]byte(editJSON(t, baseStatement, "version", "2.0.0")), V103)
	if err == nil || !strings.Contains(err.Error(), `"1.0" or "1.0.x"`) {
		t.Errorf("version message: %v", err)
	}
	long := strings.Repeat("é", 100)
	_, err = ParseStatement([]byte(editJSON(t, baseStatement, "verb.id", long)), V103)
	if err == nil || strings.Count(err.Error(), "é") > 41 || !strings.Contains(err.Error(), "…") {
		t.Errorf("long value not shortened: %v", err)
	}
	// With several unknown properties the first in sorted order is named,
	// whatever the map order.
	doc := editJSON(t, baseStatement, "zeta", 1, "alpha", 2, "mid", 3)
	for i := 0; i < 20; i++ {
		_, err := ParseStatement([]byte(doc), V103)
		var e *errs.Error
		if !errors.As(err, &e) || e.Path != "alpha" {
			t.Fatalf("got %v", err)
		}
	}
}

// longChoices returns a JSON array of n interaction components whose ids are
// distinct except that element dup repeats the id of element orig.
func longChoices(n, orig, dup int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		id := i
		if i == dup {
			id = orig
		}
		b.WriteString(`{"id":"c` + strconv.Itoa(id) + `"}`)
	}
	b.WriteByte(']')
	return b.String()
}
