package packages

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/xapi-lrs/lrs/statements"
)

// The tincan.xml of a Tin Can (xAPI) package: activities, some with a
// launch location.
type tincanXML struct {
	XMLName    xml.Name
	Activities []struct {
		ID     string           `xml:"id,attr"`
		Type   string           `xml:"type,attr"`
		Name   []cmi5LangString `xml:"name"`
		Launch []cmi5LangString `xml:"launch"`
	} `xml:"activities>activity"`
}

// ParseTinCan parses a tincan.xml: every activity with a launch location
// is a Launchable (its id, an IRI, is its activity IRI); the first of them
// (a course, when one has the course type) names the package: its id is
// the package's identifier and activity IRI, its name the title. A
// relative launch location is a reference ParseManifest checks.
func ParseTinCan(data []byte) (*Manifest, error) {
	var tm tincanXML
	if err := decodeXML(tincanManifestFile, data, &tm); err != nil {
		return nil, err
	}
	if tm.XMLName.Local != "tincan" {
		return nil, bad("tincan-structure", "tincan.xml: the root element is <%s>, not <tincan>", text(tm.XMLName.Local, 64))
	}
	m := &Manifest{Kind: TinCan}
	seen := map[string]bool{}
	var titles []map[string]string // of each launchable
	course := -1
	for _, a := range tm.Activities {
		_, launch := langMap(a.Launch)
		if launch == "" {
			continue
		}
		id := strings.TrimSpace(a.ID)
		if !statements.ValidIRI(id) || len(id) > maxValue {
			return nil, bad("tincan-id", "tincan.xml: activity id %q is not an absolute IRI", text(id, 200))
		}
		if seen[id] {
			return nil, bad("tincan-id", "tincan.xml: two activities with a launch have the id %q", text(id, 200))
		}
		seen[id] = true
		names, title := langMap(a.Name)
		if title == "" {
			title = id
		}
		what := fmt.Sprintf("activity %q launch", text(id, 200))
		loc, err := resolveRef("", launch, what, true)
		if err != nil {
			return nil, err
		}
		m.Launchables = append(m.Launchables, Launchable{ID: id, Title: title, ActivityID: id,
			ActivityType: text(a.Type, maxValue), Href: loc.external})
		titles = append(titles, names)
		if loc.external == "" {
			m.refs = append(m.refs, fileRef{path: loc.path, what: what, rest: loc.rest, launch: len(m.Launchables)})
		}
		if course < 0 && strings.TrimSpace(a.Type) == "http://adlnet.gov/expapi/activities/course" {
			course = len(m.Launchables) - 1
		}
	}
	if len(m.Launchables) == 0 {
		return nil, bad("tincan-no-launch", "tincan.xml has no activity with a launch location")
	}
	course = max(course, 0)
	main := m.Launchables[course]
	m.Identifier, m.ActivityID, m.Title, m.Titles = main.ID, main.ID, main.Title, titles[course]
	return m, nil
}
