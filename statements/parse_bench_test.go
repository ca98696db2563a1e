package statements

import "testing"

// benchStatement is a typical cmi5 "completed" statement as an LMS sends it
// (about 1.2 KB): actor account, verb, activity with definition, result,
// context with registration, contextActivities and extensions.
const benchStatement = `{
  "id": "2a41c918-b88b-4b20-a0a5-a4c32391aaa0",
  "actor": {"objectType": "Agent", "name": "Jane Doe", "account": {"homePage": "https://lms.example.gov", "name": "jdoe-10452"}},
  "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
  "object": {
    "objectType": "Activity",
    "id": "https://lms.example.gov/xapi/activities/course/fire-safety-2024/au/1",
    "definition": {
      "name": {"en-US": "Fire safety awareness 2024"},
      "description": {"en-US": "Mandatory annual fire safety awareness module"},
      "type": "http://adlnet.gov/expapi/activities/lesson"
    }
  },
  "result": {"score": {"scaled": 0.85, "raw": 85, "min": 0, "max": 100}, "success": true, "completion": true, "duration": "PT24M13.45S"},
  "context": {
    "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
    "contextActivities": {
      "parent": [{"objectType": "Activity", "id": "https://lms.example.gov/xapi/activities/course/fire-safety-2024"}],
      "grouping": [{"objectType": "Activity", "id": "https://lms.example.gov/xapi/activities/programme/mandatory"}],
      "category": [{"objectType": "Activity", "id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}, {"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}]
    },
    "platform": "Moodle 4.3",
    "language": "en-GB",
    "extensions": {"https://w3id.org/xapi/cmi5/context/extensions/sessionid": "b4c2a7d1-5e3f-4a9b-8c6d-1e2f3a4b5c6d", "https://moodle.example.gov/xapi/ext/cmid": 1842}
  },
  "timestamp": "2024-05-04T12:34:56.789+01:00"
}`

func BenchmarkParseStatement(b *testing.B) {
	data := []byte(benchStatement)
	if len(data) < 1100 || len(data) > 1800 {
		b.Fatalf("benchmark statement is %d bytes", len(data))
	}
	if _, err := ParseStatement(data, V200); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseStatement(data, V200); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeJSON(b *testing.B) {
	data := []byte(benchStatement)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}
