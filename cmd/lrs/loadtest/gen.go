package loadtest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Generator makes realistic xAPI statements deterministically: statement n of
// a Generator depends only on Seed, n and the population sizes, so a run can
// be reproduced and the query phase can ask for the agent or the activity of
// any statement it filled without keeping them.
//
// The statements look like those a Moodle-based LMS (e.g. KS Læring with the
// xAPI log store plugin) or a cmi5 player sends for mandatory security
// training: an actor identified by account (homePage + login) or mbox, the
// verbs experienced / attempted / completed / passed / failed, a module or a
// page of a module as object, a registration, parent and grouping context
// activities, the plugin's info extension, a result with
// score, success, completion and duration, and a timestamp. They are about
// 1.2 KB of JSON each.
type Generator struct {
	Seed       uint64 // selects the content
	Learners   int    // size of the learner population (> 0)
	Activities int    // number of distinct object activities, modules and pages (>= 10)
	// IDSpace selects the statement ids: two Generators with the same Seed
	// and different IDSpace make the same statements with different ids.
	IDSpace uint64
}

// Defaults of the population.
const (
	DefaultLearners   = 50_000
	DefaultActivities = 2_000
)

const (
	homePage  = "https://laering.kommune.example.no"
	mailHost  = "kommune.example.no"
	verbsBase = "http://adlnet.gov/expapi/verbs/"
)

var moduleTitles = []string{
	"Basic information security", "Security on mobile devices", "Threats from IT criminals",
	"Physical security", "Basic privacy (GDPR)", "Extended privacy: special categories of personal data",
	"Information security for leaders", "Handling security incidents",
	"Is it secure? Security for leaders", "Security culture in practice",
}

var pageTitles = []string{
	"Introduction", "Why it matters", "Case: the lost laptop", "Passwords and passphrases",
	"Phishing e-mails", "Reporting a breach within 72 hours", "Working from home", "Quiz",
	"Summary", "Further reading",
}

var firstNames = []string{"Kari", "Ola", "Ingrid", "Lars", "Sofie", "Jonas", "Nora", "Emil",
	"Mette", "Anders", "Sigrid", "Henrik", "Astrid", "Magnus", "Frida", "Erik"}

var lastNames = []string{"Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Andersen",
	"Pedersen", "Nilsen", "Kristiansen", "Jensen", "Karlsen", "Berg", "Haugen", "Dahl"}

var eventNames = map[string]string{
	"experienced": `\mod_page\event\course_module_viewed`,
	"attempted":   `\mod_scorm\event\attempt_started`,
	"completed":   `\mod_scorm\event\scoreraw_submitted`,
	"passed":      `\mod_scorm\event\status_submitted`,
	"failed":      `\mod_scorm\event\status_submitted`,
}

// base is the timestamp of statement 0; statement n is about n*7 s later.
var base = time.Date(2025, 1, 6, 7, 30, 0, 0, time.UTC)

func (g *Generator) modules() int { return max(1, g.Activities/10) }
func (g *Generator) pages() int   { return max(1, g.Activities-g.modules()) }
func (g *Generator) courses() int { return max(1, g.modules()/10) }

// rng returns the random source of statement n.
func (g *Generator) rng(n uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.Seed, n))
}

// choice is what statement n is about: who did what to which activity.
type choice struct {
	learner int
	verb    string
	module  int // the module, or the page's module
	page    int // -1: the object is the module itself
}

func (g *Generator) choose(r *rand.Rand) choice {
	c := choice{learner: r.IntN(g.Learners), page: -1}
	switch roll := r.IntN(100); {
	case roll < 55:
		c.verb = "experienced"
		c.page = r.IntN(g.pages())
		c.module = c.page % g.modules()
	case roll < 70:
		c.verb = "attempted"
	case roll < 85:
		c.verb = "completed"
	case roll < 95:
		c.verb = "passed"
	default:
		c.verb = "failed"
	}
	if c.page < 0 {
		c.module = r.IntN(g.modules())
	}
	return c
}

// ID returns the id of statement n: a random-looking version 4 UUID.
func (g *Generator) ID(n uint64) string { return UUID(g.IDSpace^0x6c72732d62656e63, n) }

// Agent returns the actor of statement n (an Agent object with its
// identifier and name).
func (g *Generator) Agent(n uint64) map[string]any {
	return g.learner(g.choose(g.rng(n)).learner)
}

// AgentFilter returns the value of the agent query parameter that matches the
// actor of statement n: the Agent's JSON with only its identifier.
func (g *Generator) AgentFilter(n uint64) string {
	a := g.Agent(n)
	delete(a, "name")
	b, _ := json.Marshal(a)
	return string(b)
}

// ActivityID returns the id of the object of statement n.
func (g *Generator) ActivityID(n uint64) string {
	c := g.choose(g.rng(n))
	if c.page >= 0 {
		return pageID(c.page)
	}
	return moduleID(c.module)
}

// ModuleID returns the id of the module statement n is about: its object,
// or its object's parent.
func (g *Generator) ModuleID(n uint64) string { return moduleID(g.choose(g.rng(n)).module) }

// VerbID returns the id of the verb of statement n.
func (g *Generator) VerbID(n uint64) string { return verbsBase + g.choose(g.rng(n)).verb }

func (g *Generator) learner(l int) map[string]any {
	first, last := firstNames[l%len(firstNames)], lastNames[(l/len(firstNames))%len(lastNames)]
	a := map[string]any{"objectType": "Agent", "name": first + " " + last}
	if l%10 < 7 {
		a["account"] = map[string]any{"homePage": homePage, "name": "u" + strconv.Itoa(100000+l)}
	} else {
		a["mbox"] = fmt.Sprintf("mailto:%s.%s.%d@%s", lower(first), lower(last), l, mailHost)
	}
	return a
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func moduleID(m int) string { return homePage + "/mod/scorm/view.php?id=" + strconv.Itoa(1000+m) }
func pageID(p int) string   { return homePage + "/mod/page/view.php?id=" + strconv.Itoa(20000+p) }
func courseID(c int) string { return homePage + "/course/view.php?id=" + strconv.Itoa(2+c) }

func langMap(s string) map[string]any { return map[string]any{"en-GB": s} }

// Statement returns statement n as a JSON tree (json.Number for numbers),
// with an id, as a client would send it.
func (g *Generator) Statement(n uint64) map[string]any {
	r := g.rng(n)
	c := g.choose(r)

	module := map[string]any{
		"objectType": "Activity",
		"id":         moduleID(c.module),
		"definition": map[string]any{
			"type": "http://adlnet.gov/expapi/activities/module",
			"name": langMap(fmt.Sprintf("%s (%d)", moduleTitles[c.module%len(moduleTitles)], c.module)),
		},
	}
	course := c.module % g.courses()
	ctxActs := map[string]any{
		"grouping": []any{map[string]any{
			"objectType": "Activity",
			"id":         courseID(course),
			"definition": map[string]any{
				"type": "http://adlnet.gov/expapi/activities/course",
				"name": langMap(fmt.Sprintf("Mandatory security training %d", course)),
			},
		}},
	}
	object := module
	if c.page >= 0 {
		object = map[string]any{
			"objectType": "Activity",
			"id":         pageID(c.page),
			"definition": map[string]any{
				"type": "http://adlnet.gov/expapi/activities/lesson",
				"name": langMap(pageTitles[c.page%len(pageTitles)]),
			},
		}
		ctxActs["parent"] = []any{module}
	}

	s := map[string]any{
		"id":    g.ID(n),
		"actor": g.learner(c.learner),
		"verb": map[string]any{
			"id":      verbsBase + c.verb,
			"display": map[string]any{"en": c.verb},
		},
		"object": object,
		"context": map[string]any{
			"registration":      UUID(g.Seed^uint64(c.module)<<32, uint64(c.learner)),
			"platform":          "Moodle",
			"language":          "nb-NO",
			"contextActivities": ctxActs,
			"extensions": map[string]any{
				"http://lrs.learninglocker.net/define/extensions/info": map[string]any{
					"https://moodle.org": "4.1.9",
					"https://github.com/xAPI-vle/moodle-logstore_xapi": "v4.7.0",
					"event_name": eventNames[c.verb],
				},
			},
		},
		"timestamp": base.Add(time.Duration(n)*7*time.Second + time.Duration(r.IntN(7000))*time.Millisecond).
			Format("2006-01-02T15:04:05.000Z07:00"),
	}
	duration := fmt.Sprintf("PT%dM%dS", 1+r.IntN(40), r.IntN(60))
	switch c.verb {
	case "experienced":
		s["result"] = map[string]any{"duration": duration}
	case "completed", "passed", "failed":
		raw := 40 + r.IntN(61)
		if c.verb == "passed" {
			raw = 80 + r.IntN(21)
		} else if c.verb == "failed" {
			raw = r.IntN(80)
		}
		res := map[string]any{
			"score": map[string]any{
				"scaled": json.Number(strconv.FormatFloat(float64(raw)/100, 'f', -1, 64)),
				"raw":    json.Number(strconv.Itoa(raw)),
				"min":    json.Number("0"),
				"max":    json.Number("100"),
			},
			"completion": true,
			"duration":   duration,
		}
		if c.verb != "completed" {
			res["success"] = c.verb == "passed"
		}
		s["result"] = res
	}
	return s
}

// JSON returns statement n as JSON.
func (g *Generator) JSON(n uint64) []byte {
	b, err := json.Marshal(g.Statement(n))
	if err != nil {
		panic(err) // the tree holds only JSON types
	}
	return b
}

// UUID returns a random-looking version 4 UUID that depends only on space
// and n; distinct n give distinct UUIDs in one space.
func UUID(space, n uint64) string {
	hi := mix64(space + n*0x9e3779b97f4a7c15) // a bijection of n for a fixed space
	lo := mix64(hi ^ space)
	hi = hi&^(0xf<<12) | 4<<12   // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // variant 10
	const hex = "0123456789abcdef"
	var b [36]byte
	j := 0
	for i := 0; i < 16; i++ {
		var x byte
		if i < 8 {
			x = byte(hi >> (56 - 8*i))
		} else {
			x = byte(lo >> (56 - 8*(i-8)))
		}
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hex[x>>4], hex[x&0xf]
		j += 2
	}
	return string(b[:])
}

// mix64 is the SplitMix64 finaliser: a bijection on uint64 that scrambles bits.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
