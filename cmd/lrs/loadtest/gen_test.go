package loadtest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/statements"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func testGen() *Generator {
	return &Generator{Seed: 7, Learners: DefaultLearners, Activities: DefaultActivities, IDSpace: 42}
}

// Every generated statement passes the real validator of both versions.
func TestGeneratorStatementsAreValid(t *testing.T) {
	g := testGen()
	for n := uint64(0); n < 500; n++ {
		js := g.JSON(n)
		for _, v := range []statements.Version{statements.V103, statements.V200} {
			if _, err := statements.ParseStatement(js, v); err != nil {
				t.Fatalf("statement %d rejected by the %s validator: %v\n%s", n, v, err, js)
			}
		}
	}
	// A batch as the batch phase sends it.
	var buf bytes.Buffer
	buf.WriteByte('[')
	for n := uint64(0); n < 100; n++ {
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.Write(g.JSON(1<<40 + n))
	}
	buf.WriteByte(']')
	got, err := statements.ParseStatements(buf.Bytes(), statements.V103)
	if err != nil || len(got) != 100 {
		t.Fatalf("batch: %d statements, %v", len(got), err)
	}
}

func TestGeneratorIsDeterministicAndVaried(t *testing.T) {
	g := testGen()
	if !bytes.Equal(g.JSON(12345), testGen().JSON(12345)) {
		t.Fatal("the same statement differs between two generators with the same settings")
	}
	other := testGen()
	other.IDSpace = 43
	a, b := g.Statement(5), other.Statement(5)
	if a["id"] == b["id"] {
		t.Fatal("another IDSpace gave the same id")
	}
	delete(a, "id")
	delete(b, "id")
	if !reflect.DeepEqual(a, b) {
		t.Fatal("another IDSpace changed the content")
	}

	verbs := map[string]int{}
	actors := map[string]bool{}
	objects := map[string]bool{}
	ids := map[string]bool{}
	accounts, total := 0, 0
	const N = 2000
	for n := uint64(0); n < N; n++ {
		s := g.Statement(n)
		js := g.JSON(n)
		total += len(js)
		verbs[s["verb"].(map[string]any)["id"].(string)]++
		actor := s["actor"].(map[string]any)
		actors[statements.AgentKey(actor)] = true
		if _, ok := actor["account"]; ok {
			accounts++
		}
		objects[s["object"].(map[string]any)["id"].(string)] = true
		id := s["id"].(string)
		if !uuidRE.MatchString(id) || ids[id] {
			t.Fatalf("statement %d: bad or repeated id %q", n, id)
		}
		ids[id] = true
		if got := g.ActivityID(n); got != s["object"].(map[string]any)["id"] {
			t.Fatalf("ActivityID(%d) = %s, the statement's object is %v", n, got, s["object"])
		}
		if !bytes.Contains(js, []byte(g.agentNeedle(n))) {
			t.Fatalf("statement %d does not contain its agent needle %s", n, g.agentNeedle(n))
		}
	}
	if len(verbs) != 5 {
		t.Errorf("verbs used: %v, want 5", verbs)
	}
	if len(actors) < N*9/10 {
		t.Errorf("%d distinct actors in %d statements of a 50,000 population", len(actors), N)
	}
	if len(objects) < 500 {
		t.Errorf("%d distinct objects in %d statements", len(objects), N)
	}
	if accounts < N/2 || accounts > N*9/10 {
		t.Errorf("%d of %d actors use an account, want about 70 %%", accounts, N)
	}
	if mean := total / N; mean < 1000 || mean > 1500 {
		t.Errorf("mean statement size %d bytes, want about 1.2 KB", mean)
	}
}

// The agent filter of a statement parses as an Agent and names the actor.
func TestAgentFilter(t *testing.T) {
	g := testGen()
	for n := uint64(0); n < 50; n++ {
		f := g.AgentFilter(n)
		a, err := statements.ParseAgent([]byte(f), statements.V103)
		if err != nil {
			t.Fatalf("AgentFilter(%d) = %s: %v", n, f, err)
		}
		if got, want := statements.AgentKey(a), statements.AgentKey(g.Statement(n)["actor"].(map[string]any)); got != want {
			t.Fatalf("AgentFilter(%d) identifies %s, the actor is %s", n, got, want)
		}
		if strings.Contains(f, `"name":"`+g.Agent(n)["name"].(string)) {
			t.Fatalf("AgentFilter(%d) = %s carries the display name", n, f)
		}
	}
}

func TestUUID(t *testing.T) {
	seen := map[string]bool{}
	for n := uint64(0); n < 10000; n++ {
		u := UUID(99, n)
		if !uuidRE.MatchString(u) {
			t.Fatalf("UUID(99, %d) = %q is not a lowercase version 4 UUID", n, u)
		}
		if seen[u] {
			t.Fatalf("UUID(99, %d) = %q repeats", n, u)
		}
		seen[u] = true
	}
	if UUID(1, 5) == UUID(2, 5) {
		t.Fatal("two spaces gave the same UUID")
	}
}

// A record completed like the server does carries the statement as stored,
// and withID makes a copy under a new id and stored time.
func TestWriterRecord(t *testing.T) {
	g := testGen()
	cred := &auth.Credential{Key: "k1", Name: "bench", Tenant: auth.DefaultTenant}
	w := newWriter(cred, "http://127.0.0.1:1", statements.V103)
	at := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	rec := w.record(g.Statement(3), at)
	if rec.ID != g.ID(3) || rec.Tenant != auth.DefaultTenant || rec.Authority != "k1" || rec.Hash == "" {
		t.Fatalf("record fields: %+v", rec)
	}
	if !rec.Stored.Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("Stored = %v", rec.Stored)
	}
	var js map[string]any
	if err := json.Unmarshal(rec.JSON, &js); err != nil {
		t.Fatal(err)
	}
	if js["stored"] != "2025-03-01T12:00:00.123Z" || js["version"] != "1.0.0" || js["id"] != g.ID(3) {
		t.Fatalf("stored JSON lacks what the LRS sets: %s", rec.JSON)
	}
	auth := js["authority"].(map[string]any)["account"].(map[string]any)
	if auth["name"] != "k1" || auth["homePage"] != "http://127.0.0.1:1" {
		t.Fatalf("authority = %v", js["authority"])
	}
	if _, err := statements.ParseStatement(rec.JSON, statements.V103); err != nil {
		t.Fatalf("the stored form is not a valid statement: %v", err)
	}
	if rec.VerbID != js["verb"].(map[string]any)["id"] {
		t.Fatalf("VerbID = %q: the record is not indexed", rec.VerbID)
	}

	later := at.Add(time.Hour)
	c := withID(rec, UUID(1, 1), later)
	var cj map[string]any
	if err := json.Unmarshal(c.JSON, &cj); err != nil {
		t.Fatal(err)
	}
	if c.ID != UUID(1, 1) || cj["id"] != c.ID || cj["stored"] != "2025-03-01T13:00:00.123Z" || !c.Stored.Equal(later.Truncate(time.Millisecond)) {
		t.Fatalf("withID: id %s, JSON id %v, stored %v", c.ID, cj["id"], cj["stored"])
	}
	if js["id"] != g.ID(3) || rec.ID != g.ID(3) {
		t.Fatal("withID changed the original")
	}
	delete(cj, "id")
	delete(cj, "stored")
	delete(js, "id")
	delete(js, "stored")
	if !reflect.DeepEqual(cj, js) {
		t.Fatal("withID changed more than id and stored")
	}
}
