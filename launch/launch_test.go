package launch

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/scorm"
)

var (
	key1 = []byte("launch test key one, 32 bytes!!!")
	key2 = []byte("launch test key two, 32 bytes!!!")
)

func token() Token {
	return Token{Purpose: Link, Tenant: "oslo", Issuer: "portal", Package: packages.PackageID("x"), Version: 2, Launchable: "sco-1",
		Learner:      map[string]any{"mbox": "mailto:kari@example.com", "name": "Kari"},
		Registration: "0c9d1f6e-7b7a-4a53-8f0e-2c6f0e4b9d11", Expires: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

// TestToken: a sealed token opens under its key (or with it among
// others) to what was sealed, hides the learner, is URL-path safe, and is
// refused when forged, altered, expired, of another purpose or under
// another key.
func TestToken(t *testing.T) {
	now := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	tok := token()
	s := tok.Seal(key1)
	if !IsToken(s) || url.PathEscape(s) != s || strings.Contains(s, "kari") {
		t.Fatalf("sealed %q", s)
	}
	if s2 := tok.Seal(key1); s2 == s {
		t.Error("two seals of one token are equal: no nonce")
	}
	got, err := Open(s, now, [][]byte{key2, key1}, Session, Link)
	if err != nil || got.Tenant != "oslo" || got.Issuer != "portal" || got.Version != 2 || got.Launchable != "sco-1" ||
		got.LearnerKey() != "mbox:mailto:kari@example.com" || got.Registration != tok.Registration || !got.Expires.Equal(tok.Expires) {
		t.Fatalf("Open = %+v, %v", got, err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(s[3:])
	raw[len(raw)/2] ^= 1
	altered := "l1." + base64.RawURLEncoding.EncodeToString(raw)
	for name, tt := range map[string]struct {
		s    string
		now  time.Time
		keys [][]byte
		want []Purpose
	}{
		"other key":     {s, now, [][]byte{key2}, []Purpose{Link}},
		"short key":     {s, now, [][]byte{key1[:16]}, []Purpose{Link}},
		"altered":       {altered, now, [][]byte{key1}, []Purpose{Link}},
		"truncated":     {s[:20], now, [][]byte{key1}, []Purpose{Link}},
		"no prefix":     {s[3:], now, [][]byte{key1}, []Purpose{Link}},
		"not base64":    {"l1.*", now, [][]byte{key1}, []Purpose{Link}},
		"other purpose": {s, now, [][]byte{key1}, []Purpose{Session}},
		"expired":       {s, tok.Expires, [][]byte{key1}, []Purpose{Link}},
		"too long":      {"l1." + strings.Repeat("A", MaxTokenLength), now, [][]byte{key1}, []Purpose{Link}},
	} {
		if _, err := Open(tt.s, tt.now, tt.keys, tt.want...); !errs.Is(err, errs.Forbidden) {
			t.Errorf("%s: %v, want forbidden", name, err)
		}
	}
	if _, err := Open(s, tok.Expires, [][]byte{key1}, Link); err == nil || !strings.Contains(err.Error(), "expired at 2026-03-01T12:00:00Z") {
		t.Errorf("expired: %v", err)
	}
	bad := token()
	bad.Registration = "nope"
	if _, err := Open(bad.Seal(key1), now, [][]byte{key1}, Link); err == nil {
		t.Error("a token without a valid registration opened")
	}
}

// TestCheckStatements: a session writes its learner's statements only,
// and voids none.
func TestCheckStatements(t *testing.T) {
	tok := token()
	st := func(actor map[string]any, verb string) map[string]any {
		return map[string]any{"actor": actor, "verb": map[string]any{"id": "http://adlnet.gov/expapi/verbs/" + verb},
			"object": map[string]any{"id": "https://x.example"}}
	}
	kari := map[string]any{"mbox": "mailto:kari@example.com"}
	if err := tok.CheckStatements([]map[string]any{st(kari, "completed"), st(map[string]any{"mbox": "mailto:kari@EXAMPLE.com"}, "passed")}); err != nil {
		t.Errorf("the learner's statements: %v", err)
	}
	for name, stmts := range map[string][]map[string]any{
		"another learner": {st(kari, "completed"), st(map[string]any{"mbox": "mailto:ola@example.com"}, "completed")},
		"a group":         {st(map[string]any{"objectType": "Group", "mbox": "mailto:kari@example.com"}, "completed")},
		"voiding":         {st(kari, "voided")},
	} {
		if err := tok.CheckStatements(stmts); !errs.Is(err, errs.Forbidden) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// pkg is a package of two SCOs and an asset; the second SCO has a
// mastery score when mastery.
func pkg(mastery bool) *packages.Package {
	p := &packages.Package{Kind: packages.SCORM2004, ActivityID: "https://lrs.test/c", Launchables: []packages.Launchable{
		{ID: "a", ActivityID: "https://lrs.test/c/a", SCORMType: "sco"},
		{ID: "b", ActivityID: "https://lrs.test/c/b", SCORMType: "sco"},
		{ID: "r", ActivityID: "https://lrs.test/c/r", SCORMType: "asset"},
	}}
	if mastery {
		m := 0.8
		p.Launchables[1].MinNormalizedMeasure = &m
	}
	return p
}

func state(completion, success, scaled string) *scorm.State {
	return &scorm.State{Version: scorm.V2004, Data: &scorm.Commit{Version: scorm.V2004, Completion: completion, Success: success,
		Score: scorm.Score{Scaled: scaled}}}
}

// TestRollup: the course is done when every SCO is completed, and passed
// where it has a mastery score; assets do not count.
func TestRollup(t *testing.T) {
	for _, tt := range []struct {
		name    string
		mastery bool
		a, b    *scorm.State
		verb    string
		score   any
	}{
		{"nothing yet", false, nil, nil, "", nil},
		{"one of two", false, state("completed", "", ""), state("incomplete", "", ""), "", nil},
		{"both completed", false, state("completed", "", ""), state("completed", "", "0.5"), scorm.Completed, nil},
		{"both scored", false, state("completed", "", "1"), state("completed", "passed", "0.5"), scorm.Completed, 0.75},
		{"mastery: completed is not enough", true, state("completed", "", ""), state("completed", "", ""), "", nil},
		{"mastery: failed", true, state("completed", "", ""), state("completed", "failed", "0.2"), "", nil},
		{"mastery: passed", true, state("completed", "", ""), state("completed", "passed", "0.9"), scorm.Passed, nil},
	} {
		verb, res, ok := Rollup(pkg(tt.mastery), map[string]*scorm.State{"https://lrs.test/c/a": tt.a, "https://lrs.test/c/b": tt.b})
		if verb != tt.verb || ok != (tt.verb != "") {
			t.Errorf("%s: %q %v %v", tt.name, verb, res, ok)
			continue
		}
		if !ok {
			continue
		}
		if res["completion"] != true || (verb == scorm.Passed) != (res["success"] == true) {
			t.Errorf("%s: result %v", tt.name, res)
		}
		sc, _ := res["score"].(map[string]any)
		if tt.score == nil && sc != nil || tt.score != nil && (sc == nil || sc["scaled"] != tt.score) {
			t.Errorf("%s: score %v, want %v", tt.name, sc, tt.score)
		}
	}
	if _, _, ok := Rollup(&packages.Package{Launchables: []packages.Launchable{{SCORMType: "asset"}}}, nil); ok {
		t.Error("a package of assets only rolled up")
	}
}

// TestTinCanURL: the launch parameters are added to the content's query,
// before its fragment.
func TestTinCanURL(t *testing.T) {
	got := TinCanURL("https://lrs.test/launch/T/content/story.html?lang=nb#start", "https://lrs.test/xapi/", "Bearer T",
		map[string]any{"mbox": "mailto:kari@example.com"}, "0c9d1f6e-7b7a-4a53-8f0e-2c6f0e4b9d11", "https://x.example/course")
	u, err := url.Parse(got)
	if err != nil || u.Fragment != "start" || u.Path != "/launch/T/content/story.html" {
		t.Fatalf("%s: %v", got, err)
	}
	q := u.Query()
	if q.Get("lang") != "nb" || q.Get("endpoint") != "https://lrs.test/xapi/" || q.Get("auth") != "Bearer T" ||
		q.Get("actor") != `{"mbox":"mailto:kari@example.com"}` || q.Get("registration") != "0c9d1f6e-7b7a-4a53-8f0e-2c6f0e4b9d11" ||
		q.Get("activity_id") != "https://x.example/course" {
		t.Errorf("query %v", q)
	}
}

// cmi5Token is a cmi5 session's token.
func cmi5Token() *Token {
	t := token()
	t.Purpose, t.Session, t.Launchable, t.AU = Session, "s-1", "https://pub.example/au/1", "https://lrs.test/activities/cmi5/oslo/x/au/1"
	return &t
}

// TestCMI5Limits: a cmi5 session writes statements of its registration
// about its AU, and reads and writes the documents of its AU and
// registration, but not the LMS's.
func TestCMI5Limits(t *testing.T) {
	tok := cmi5Token()
	kari := map[string]any{"mbox": "mailto:kari@example.com"}
	st := func(reg, object, grouping string) map[string]any {
		ctx := map[string]any{"registration": reg}
		if grouping != "" {
			ctx["contextActivities"] = map[string]any{"grouping": []any{map[string]any{"id": grouping}}}
		}
		return map[string]any{"actor": kari, "verb": map[string]any{"id": "http://adlnet.gov/expapi/verbs/answered"},
			"object": map[string]any{"id": object}, "context": ctx}
	}
	reg := tok.Registration
	if err := tok.CheckStatements([]map[string]any{st(reg, tok.AU, ""), st(strings.ToUpper(reg), "https://x.example/q1", tok.Launchable)}); err != nil {
		t.Errorf("the AU's statements: %v", err)
	}
	for name, s := range map[string]map[string]any{
		"another registration": st("6fbd4b6c-1e2a-4c8e-9a55-0a1c2b3d4e5f", tok.AU, ""),
		"no registration":      st("", tok.AU, ""),
		"another AU":           st(reg, "https://x.example/q1", "https://pub.example/au/2"),
	} {
		if err := tok.CheckStatements([]map[string]any{s}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("%s: %v", name, err)
		}
	}
	state := func(activity, reg, id string) documents.Key {
		return documents.Key{Kind: documents.State, ActivityID: activity, Agent: tok.LearnerKey(), Registration: reg, ID: id}
	}
	for _, ok := range []struct {
		k     documents.Key
		write bool
	}{
		{state(tok.AU, reg, LaunchDataID), false},
		{state(tok.AU, reg, "bookmark"), true},
		{documents.Key{Kind: documents.AgentProfile, Agent: tok.LearnerKey(), ID: PreferencesID}, true},
		{documents.Key{Kind: documents.ActivityProfile, ActivityID: tok.AU, ID: "p"}, false},
	} {
		if err := tok.CheckDocument(ok.k, ok.write); err != nil {
			t.Errorf("%+v (write %v): %v", ok.k, ok.write, err)
		}
	}
	for _, bad := range []struct {
		k     documents.Key
		write bool
	}{
		{state(tok.AU, reg, LaunchDataID), true},
		{state(tok.AU, reg, SessionStateID), true},
		{state("https://x.example/other", reg, "bookmark"), false},
		{state(tok.AU, "6fbd4b6c-1e2a-4c8e-9a55-0a1c2b3d4e5f", "bookmark"), false},
		{state(tok.AU, reg, ""), true},
		{documents.Key{Kind: documents.AgentProfile, Agent: "mbox:mailto:ola@example.com", ID: PreferencesID}, false},
		{documents.Key{Kind: documents.ActivityProfile, ActivityID: tok.AU, ID: "p"}, true},
	} {
		if err := tok.CheckDocument(bad.k, bad.write); !errs.Is(err, errs.Forbidden) {
			t.Errorf("%+v (write %v): %v", bad.k, bad.write, err)
		}
	}
	if c := tok.Credential(); !slices.Contains(c.Scopes, "profile") || c.Key != "launch:"+reg {
		t.Errorf("credential %+v", c)
	}
}

// TestMoveOn: each moveOn criterion, and a waiver meeting any.
func TestMoveOn(t *testing.T) {
	c, p, w := map[string]bool{verbCompleted: true}, map[string]bool{verbPassed: true}, map[string]bool{verbWaived: true}
	both := map[string]bool{verbCompleted: true, verbPassed: true}
	for _, tt := range []struct {
		moveOn string
		done   map[string]bool
		want   bool
	}{
		{"NotApplicable", nil, true},
		{"Completed", c, true}, {"Completed", p, false},
		{"Passed", p, true}, {"Passed", c, false},
		{"CompletedAndPassed", both, true}, {"CompletedAndPassed", c, false},
		{"CompletedOrPassed", p, true}, {"CompletedOrPassed", nil, false},
		{"CompletedAndPassed", w, true},
	} {
		if got := moveOnMet(tt.moveOn, tt.done); got != tt.want {
			t.Errorf("moveOnMet(%s, %v) = %v", tt.moveOn, tt.done, got)
		}
	}
	if d := isoDuration(90*time.Second + 250*time.Millisecond); d != "PT0H1M30.25S" {
		t.Errorf("isoDuration = %s", d)
	}
}
