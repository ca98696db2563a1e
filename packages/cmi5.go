package packages

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"github.com/xapi-lrs/lrs/statements"
)

// The cmi5.xml course structure (cmi5 section 13): a course, then blocks
// and AUs in order, blocks nesting blocks and AUs.
type cmi5Structure struct {
	XMLName xml.Name
	Course  struct {
		ID    string           `xml:"id,attr"`
		Title []cmi5LangString `xml:"title>langstring"`
	} `xml:"course"`
	Children []cmi5Node `xml:",any"`
}

type cmi5LangString struct {
	Lang  string `xml:"lang,attr"`
	Value string `xml:",chardata"`
}

// cmi5Node is a block or an AU (or another element, which is skipped).
type cmi5Node struct {
	XMLName          xml.Name
	ID               string           `xml:"id,attr"`
	MoveOn           string           `xml:"moveOn,attr"`
	MasteryScore     string           `xml:"masteryScore,attr"`
	LaunchMethod     string           `xml:"launchMethod,attr"`
	ActivityType     string           `xml:"activityType,attr"`
	Title            []cmi5LangString `xml:"title>langstring"`
	URL              string           `xml:"url"`
	LaunchParameters string           `xml:"launchParameters"`
	EntitlementKey   string           `xml:"entitlementKey"`
	Children         []cmi5Node       `xml:",any"`
}

// MoveOn values of a cmi5 AU.
var moveOnValues = []string{"Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed", "NotApplicable"}

// ParseCMI5 parses a cmi5.xml course structure: the course id (an IRI; the
// package's identifier and activity IRI) and title, and each AU, in
// order, with its id (an IRI: the AU's activity IRI), title, url, moveOn
// (default NotApplicable), masteryScore (0–1), launchMethod (default
// AnyWindow), activityType, launchParameters, entitlementKey and enclosing
// blocks. A relative url is a reference ParseManifest checks.
func ParseCMI5(data []byte) (*Manifest, error) {
	var cs cmi5Structure
	if err := decodeXML(cmi5ManifestFile, data, &cs); err != nil {
		return nil, err
	}
	if cs.XMLName.Local != "courseStructure" {
		return nil, bad("cmi5-structure", "cmi5.xml: the root element is <%s>, not <courseStructure>", text(cs.XMLName.Local, 64))
	}
	id := strings.TrimSpace(cs.Course.ID)
	if id == "" {
		return nil, bad("cmi5-course", "cmi5.xml: the course element has no id; a course id is an IRI naming the course")
	}
	if !statements.ValidIRI(id) || len(id) > maxValue {
		return nil, bad("cmi5-course", "cmi5.xml: the course id %q is not an absolute IRI", text(id, 200))
	}
	m := &Manifest{Kind: CMI5, Identifier: id, ActivityID: id}
	m.Titles, m.Title = langMap(cs.Course.Title)
	if m.Title == "" {
		m.Title = id
	}
	p := &cmi5Parse{m: m, seen: map[string]bool{id: true}}
	if err := p.nodes(cs.Children, nil); err != nil {
		return nil, err
	}
	if len(m.Launchables) == 0 {
		return nil, bad("cmi5-no-au", "cmi5.xml: the course has no AU")
	}
	return m, nil
}

type cmi5Parse struct {
	m    *Manifest
	seen map[string]bool // ids of the course, blocks and AUs
}

func (p *cmi5Parse) nodes(nodes []cmi5Node, parents []string) error {
	for i := range nodes {
		n := &nodes[i]
		switch n.XMLName.Local {
		case "block", "au":
		default:
			continue
		}
		id := strings.TrimSpace(n.ID)
		if !statements.ValidIRI(id) || len(id) > maxValue {
			return bad("cmi5-id", "cmi5.xml: %s id %q is not an absolute IRI", n.XMLName.Local, text(id, 200))
		}
		if p.seen[id] {
			return bad("cmi5-id", "cmi5.xml: the id %q is used twice; every course, block and AU id must be unique", text(id, 200))
		}
		p.seen[id] = true
		if n.XMLName.Local == "block" {
			if err := p.nodes(n.Children, append(parents[:len(parents):len(parents)], id)); err != nil {
				return err
			}
			continue
		}
		if err := p.au(n, id, parents); err != nil {
			return err
		}
	}
	return nil
}

func (p *cmi5Parse) au(n *cmi5Node, id string, parents []string) error {
	what := fmt.Sprintf("AU %q url", text(id, 200))
	l := Launchable{ID: id, ActivityID: id, Parents: parents, MoveOn: strings.TrimSpace(n.MoveOn),
		LaunchMethod: strings.TrimSpace(n.LaunchMethod), ActivityType: text(n.ActivityType, maxValue),
		LaunchParameters: text(n.LaunchParameters, maxValue), EntitlementKey: text(n.EntitlementKey, maxValue)}
	_, l.Title = langMap(n.Title)
	if l.Title == "" {
		l.Title = id
	}
	if l.MoveOn == "" {
		l.MoveOn = "NotApplicable"
	}
	if !containsString(moveOnValues, l.MoveOn) {
		return bad("cmi5-moveon", "cmi5.xml: AU %q has moveOn %q; it is one of %s", id, text(l.MoveOn, 64), strings.Join(moveOnValues, ", "))
	}
	switch l.LaunchMethod {
	case "":
		l.LaunchMethod = "AnyWindow"
	case "AnyWindow", "OwnWindow":
	default:
		return bad("cmi5-launchmethod", "cmi5.xml: AU %q has launchMethod %q; it is AnyWindow or OwnWindow", id, text(l.LaunchMethod, 64))
	}
	if l.ActivityType != "" && !statements.ValidIRI(l.ActivityType) {
		return bad("cmi5-activitytype", "cmi5.xml: AU %q has activityType %q, which is not an absolute IRI", id, text(l.ActivityType, 200))
	}
	if s := strings.TrimSpace(n.MasteryScore); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 || v > 1 {
			return bad("cmi5-masteryscore", "cmi5.xml: AU %q has masteryScore %q; it is a decimal from 0 to 1", id, text(s, 64))
		}
		l.MasteryScore = &v
	}
	if strings.TrimSpace(n.URL) == "" {
		return bad("cmi5-url", "cmi5.xml: AU %q has no url to launch", id)
	}
	loc, err := resolveRef("", n.URL, what, true)
	if err != nil {
		return err
	}
	p.m.Launchables = append(p.m.Launchables, l)
	if loc.external != "" {
		p.m.Launchables[len(p.m.Launchables)-1].Href = loc.external
		return nil
	}
	p.m.refs = append(p.m.refs, fileRef{path: loc.path, what: what, rest: loc.rest, launch: len(p.m.Launchables)})
	return nil
}

// langMap returns the non-empty strings of a list of language strings as
// a language map (keyed "und" where no language is given), and the first
// of them.
func langMap(list []cmi5LangString) (map[string]string, string) {
	var m map[string]string
	first := ""
	for _, ls := range list {
		v := text(ls.Value, maxTitle)
		if v == "" {
			continue
		}
		lang := text(ls.Lang, 64)
		if lang == "" {
			lang = "und"
		}
		if m == nil {
			m, first = map[string]string{}, v
		}
		if _, dup := m[lang]; !dup {
			m[lang] = v
		}
	}
	return m, first
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
