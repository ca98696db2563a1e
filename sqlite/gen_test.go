package sqlite_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/statements"
	"github.com/xapi-lrs/lrs/statements/storetest"
)

// Shape of the generated data: a public body's staff taking mandatory
// courses through a few LMSs.
const (
	genLearners = 20000
	genCourses  = 400
	genPrograms = 20
)

var genVerbs = []string{
	"http://adlnet.gov/expapi/verbs/launched", "http://adlnet.gov/expapi/verbs/initialized",
	"http://adlnet.gov/expapi/verbs/progressed", "http://adlnet.gov/expapi/verbs/completed",
	"http://adlnet.gov/expapi/verbs/passed",
}

var genBase = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func learnerKey(n int) string { return fmt.Sprintf("mbox:mailto:learner%d@agency.example.gov", n) }
func courseID(n int) string   { return fmt.Sprintf("https://lms.example.gov/courses/%d", n) }

// genRecord returns the i-th statement of tenant, about 1.2 KB of JSON,
// stored at stored.
func genRecord(tenant string, i int, stored time.Time) *statements.Record {
	learner := (i * 7919) % genLearners
	course := (i * 31) % genCourses
	program := course % genPrograms
	verb := genVerbs[i%len(genVerbs)]
	lms := fmt.Sprintf("lms%d", i%3)
	id := storetest.NewID()
	// One registration per learner and course: statements of an attempt share it.
	reg := fmt.Sprintf("%08x-%04x-4000-8000-%012x", learner, course, learner*genCourses+course)
	ts := stored.Add(-2 * time.Second)
	desc := strings.Repeat("Staff must complete this course every year. ", 5)
	json := fmt.Sprintf(`{"id":%q,"actor":{"objectType":"Agent","name":"Learner %d","mbox":"mailto:learner%d@agency.example.gov"},`+
		`"verb":{"id":%q,"display":{"en-US":"%s"}},`+
		`"object":{"objectType":"Activity","id":%q,"definition":{"name":{"en-US":"Mandatory course %d: information security"},`+
		`"description":{"en-US":%q},"type":"http://adlnet.gov/expapi/activities/course"}},`+
		`"result":{"score":{"scaled":0.%02d,"raw":%d,"min":0,"max":100},"success":true,"completion":true,"duration":"PT42M17S"},`+
		`"context":{"registration":%q,"contextActivities":{"parent":[{"id":"https://lms.example.gov/programs/%d"}],`+
		`"category":[{"id":"https://w3id.org/xapi/scorm"}]},"platform":"Moodle 4.3","language":"en-GB",`+
		`"extensions":{"https://lms.example.gov/xapi/ext/department":"Department of Examples"}},`+
		`"timestamp":%q,"stored":%q,"authority":{"objectType":"Agent","account":{"homePage":"https://lrs.example.gov","name":%q}},"version":"1.0.3"}`,
		id, learner, learner, verb, verb[strings.LastIndex(verb, "/")+1:], courseID(course), course, desc, i%100, i%100, reg, program,
		ts.Format(time.RFC3339Nano), stored.Format(time.RFC3339Nano), lms)
	h := sha256.Sum256([]byte(json))
	authority := "account:https://lrs.example.gov " + lms
	return &statements.Record{
		Tenant:            tenant,
		ID:                id,
		Stored:            stored,
		Timestamp:         ts,
		Authority:         authority,
		VerbID:            verb,
		Registration:      reg,
		Agents:            []string{learnerKey(learner)},
		RelatedAgents:     []string{authority},
		Activities:        []string{courseID(course)},
		RelatedActivities: []string{fmt.Sprintf("https://lms.example.gov/programs/%d", program), "https://w3id.org/xapi/scorm"},
		Hash:              hex.EncodeToString(h[:]),
		JSON:              []byte(json),
	}
}

// genRecords returns statements start..start+n-1 of tenant, stored a
// microsecond apart.
func genRecords(tenant string, start, n int) []*statements.Record {
	out := make([]*statements.Record, n)
	for i := range out {
		out[i] = genRecord(tenant, start+i, genBase.Add(time.Duration(start+i)*time.Microsecond))
	}
	return out
}
