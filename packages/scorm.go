package packages

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// The imsmanifest.xml of SCORM 1.2 and 2004, as far as the LRS needs it.
// Elements and attributes are matched by local name, whatever their
// namespace prefix: real manifests vary (and 1.2 spells scormtype,
// datafromlms in lower case, 2004 scormType, dataFromLMS).
type imsManifest struct {
	Identifier string `xml:"identifier,attr"`
	Base       string `xml:"http://www.w3.org/XML/1998/namespace base,attr"`
	Metadata   struct {
		Schema        string `xml:"schema"`
		SchemaVersion string `xml:"schemaversion"`
	} `xml:"metadata"`
	Organizations struct {
		Default string            `xml:"default,attr"`
		List    []imsOrganization `xml:"organization"`
	} `xml:"organizations"`
	Resources struct {
		Base string        `xml:"http://www.w3.org/XML/1998/namespace base,attr"`
		List []imsResource `xml:"resource"`
	} `xml:"resources"`
	SequencingCollection struct {
		List []imsSequencing `xml:"sequencing"`
	} `xml:"sequencingCollection"`
}

type imsOrganization struct {
	Identifier string    `xml:"identifier,attr"`
	Title      string    `xml:"title"`
	Items      []imsItem `xml:"item"`
}

type imsItem struct {
	Identifier    string    `xml:"identifier,attr"`
	IdentifierRef string    `xml:"identifierref,attr"`
	Parameters    string    `xml:"parameters,attr"`
	Title         string    `xml:"title"`
	Items         []imsItem `xml:"item"`

	MasteryScore    string `xml:"masteryscore"`    // 1.2
	MaxTimeAllowed  string `xml:"maxtimeallowed"`  // 1.2
	TimeLimitAction string `xml:"timelimitaction"` // 1.2
	DataFromLMS     string `xml:"datafromlms"`     // 1.2
	TimeLimitAct04  string `xml:"timeLimitAction"` // 2004
	DataFromLMS04   string `xml:"dataFromLMS"`     // 2004
	Completion      *struct {
		Value              string `xml:",chardata"`               // 3rd edition
		MinProgressMeasure string `xml:"minProgressMeasure,attr"` // 4th edition
	} `xml:"completionThreshold"`
	Sequencing *imsSequencing `xml:"sequencing"`
}

type imsSequencing struct {
	ID         string `xml:"ID,attr"`
	IDRef      string `xml:"IDRef,attr"`
	Objectives *struct {
		Primary *struct {
			SatisfiedByMeasure   string  `xml:"satisfiedByMeasure,attr"`
			MinNormalizedMeasure *string `xml:"minNormalizedMeasure"`
		} `xml:"primaryObjective"`
	} `xml:"objectives"`
}

type imsResource struct {
	Identifier string `xml:"identifier,attr"`
	Href       string `xml:"href,attr"`
	Base       string `xml:"http://www.w3.org/XML/1998/namespace base,attr"`
	SCORMType  string `xml:"scormtype,attr"` // 1.2
	SCORMType4 string `xml:"scormType,attr"` // 2004
	Files      []struct {
		Href string `xml:"href,attr"`
	} `xml:"file"`
}

// Bounds of manifest values kept.
const (
	maxTitle = 1000
	maxValue = 4096
)

// ParseIMSManifest parses a SCORM imsmanifest.xml: its identifier, its
// SCORM version (the metadata's schemaversion, else its namespaces), the
// default organization's title and items, and for each item that
// references a resource a Launchable: the resource's href (under its
// xml:base) with the item's parameters, its scormType, SCORM 1.2's
// masteryscore, maxtimeallowed, timelimitaction and datafromlms, SCORM
// 2004's primary objective minNormalizedMeasure (when satisfiedByMeasure),
// completionThreshold, timeLimitAction and dataFromLMS. Every file of
// every resource an item uses is a reference ParseManifest checks.
func ParseIMSManifest(data []byte) (*Manifest, error) {
	var im imsManifest
	if err := decodeXML(scormManifestFile, data, &im); err != nil {
		return nil, err
	}
	m := &Manifest{Identifier: text(im.Identifier, maxValue)}
	if m.Identifier == "" {
		return nil, bad("manifest-identifier", "imsmanifest.xml: the manifest element has no identifier attribute; it names the package across its versions: add one")
	}
	switch sv := strings.TrimSpace(im.Metadata.SchemaVersion); {
	case sv == "1.2":
		m.Kind = SCORM12
	case sv == "CAM 1.3" || strings.HasPrefix(sv, "2004"):
		m.Kind = SCORM2004
	case sv != "":
		return nil, bad("scorm-version", "imsmanifest.xml: schemaversion %q is neither SCORM 1.2 nor SCORM 2004 (CAM 1.3, 2004 3rd Edition, 2004 4th Edition)", text(sv, 64))
	case bytes.Contains(data, []byte("adlcp_v1p3")) || bytes.Contains(data, []byte("imsss")):
		m.Kind = SCORM2004
	default:
		m.Kind = SCORM12
	}
	m.SchemaVersion = text(im.Metadata.SchemaVersion, 64)

	orgs := im.Organizations.List
	if len(orgs) == 0 {
		return nil, bad("scorm-organization", "imsmanifest.xml has no organization: an LMS launches the items of an organization; add one")
	}
	org := &orgs[0]
	if d := strings.TrimSpace(im.Organizations.Default); d != "" {
		org = nil
		for i := range orgs {
			if orgs[i].Identifier == d {
				org = &orgs[i]
			}
		}
		if org == nil {
			return nil, bad("scorm-organization", "imsmanifest.xml: organizations default=%q names no organization", text(d, 200))
		}
	}
	resources := map[string]*imsResource{}
	for i := range im.Resources.List {
		r := &im.Resources.List[i]
		resources[r.Identifier] = r
	}
	seqs := map[string]*imsSequencing{}
	for i := range im.SequencingCollection.List {
		s := &im.SequencingCollection.List[i]
		seqs[s.ID] = s
	}
	root, err := joinDir("", im.Base, "the manifest's")
	if err != nil {
		return nil, err
	}
	if root, err = joinDir(root, im.Resources.Base, "the resources'"); err != nil {
		return nil, err
	}

	p := &scormParse{m: m, resources: resources, seqs: seqs, root: root, seen: map[string]bool{}, checked: map[string]bool{}}
	for i := range org.Items {
		if err := p.item(&org.Items[i], nil); err != nil {
			return nil, err
		}
	}
	if len(m.Launchables) == 0 {
		return nil, bad("scorm-no-launchable", "imsmanifest.xml: organization %q has no item that references a resource to launch", text(org.Identifier, 200))
	}
	m.Title = text(org.Title, maxTitle)
	if m.Title == "" {
		m.Title = m.Launchables[0].Title
	}
	if m.Title == "" {
		m.Title = m.Identifier
	}
	return m, nil
}

// scormParse walks the items of an organization.
type scormParse struct {
	m         *Manifest
	resources map[string]*imsResource
	seqs      map[string]*imsSequencing
	root      string
	seen      map[string]bool // item identifiers
	checked   map[string]bool // resources whose files are referenced
}

func (p *scormParse) item(it *imsItem, parents []string) error {
	id := text(it.Identifier, maxValue)
	if id == "" {
		return bad("scorm-item", "imsmanifest.xml: an item has no identifier")
	}
	if p.seen[id] {
		return bad("scorm-item", "imsmanifest.xml: two items have the identifier %q", id)
	}
	p.seen[id] = true
	if ref := strings.TrimSpace(it.IdentifierRef); ref != "" {
		if err := p.launchable(it, id, ref, parents); err != nil {
			return err
		}
	}
	for i := range it.Items {
		if err := p.item(&it.Items[i], append(parents[:len(parents):len(parents)], id)); err != nil {
			return err
		}
	}
	return nil
}

func (p *scormParse) launchable(it *imsItem, id, ref string, parents []string) error {
	r := p.resources[ref]
	if r == nil {
		return bad("scorm-resource", "imsmanifest.xml: item %q references resource %q, which the manifest does not define", id, text(ref, 200))
	}
	what := fmt.Sprintf("resource %q href", text(ref, 200))
	if strings.TrimSpace(r.Href) == "" {
		return bad("scorm-resource", "imsmanifest.xml: resource %q, which item %q launches, has no href", text(ref, 200), id)
	}
	dir, err := joinDir(p.root, r.Base, fmt.Sprintf("resource %q", text(ref, 200)))
	if err != nil {
		return err
	}
	loc, err := resolveRef(dir, r.Href, what, false)
	if err != nil {
		return err
	}
	l := Launchable{ID: id, Title: text(it.Title, maxTitle), Parents: parents,
		SCORMType: strings.ToLower(strings.TrimSpace(r.SCORMType + r.SCORMType4))}
	if l.SCORMType == "" {
		l.SCORMType = "asset"
	}
	if l.Title == "" {
		l.Title = id
	}
	if err := p.data(&l, it); err != nil {
		return err
	}
	p.m.Launchables = append(p.m.Launchables, l)
	// The Href is set by ParseManifest once the file is found.
	p.m.refs = append(p.m.refs, fileRef{path: loc.path, what: what, rest: withParameters(loc.rest, it.Parameters),
		launch: len(p.m.Launchables)})
	if !p.checked[ref] {
		p.checked[ref] = true
		for i, f := range r.Files {
			if strings.TrimSpace(f.Href) == "" {
				continue
			}
			fw := fmt.Sprintf("resource %q file %d", text(ref, 200), i+1)
			floc, err := resolveRef(dir, f.Href, fw, true)
			if err != nil {
				return err
			}
			if floc.external == "" {
				p.m.refs = append(p.m.refs, fileRef{path: floc.path, what: fw})
			}
		}
	}
	return nil
}

// data reads the item's SCORM data: the values an LMS initialises the
// run-time data model with.
func (p *scormParse) data(l *Launchable, it *imsItem) error {
	l.DataFromLMS = text(it.DataFromLMS+it.DataFromLMS04, maxValue)
	l.MaxTimeAllowed = text(it.MaxTimeAllowed, 64)
	l.TimeLimitAction = text(it.TimeLimitAction+it.TimeLimitAct04, 64)
	if s := strings.TrimSpace(it.MasteryScore); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 || v > 100 {
			return bad("scorm-masteryscore", "imsmanifest.xml: item %q has masteryscore %q; it is a number from 0 to 100", l.ID, text(s, 64))
		}
		l.MasteryScore = &v
	}
	if c := it.Completion; c != nil {
		s := strings.TrimSpace(c.MinProgressMeasure)
		if s == "" {
			s = strings.TrimSpace(c.Value)
		}
		if s != "" {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || v < 0 || v > 1 {
				return bad("scorm-completionthreshold", "imsmanifest.xml: item %q has completion threshold %q; it is a number from 0 to 1", l.ID, text(s, 64))
			}
			l.CompletionThreshold = &v
		}
	}
	// The primary objective: the item's own sequencing, or the one of the
	// sequencing collection it refers to.
	var obj *struct {
		SatisfiedByMeasure   string  `xml:"satisfiedByMeasure,attr"`
		MinNormalizedMeasure *string `xml:"minNormalizedMeasure"`
	}
	if s := it.Sequencing; s != nil {
		if s.Objectives != nil {
			obj = s.Objectives.Primary
		} else if c := p.seqs[s.IDRef]; c != nil && c.Objectives != nil {
			obj = c.Objectives.Primary
		}
	}
	if obj != nil && strings.TrimSpace(obj.SatisfiedByMeasure) == "true" {
		v := 1.0 // the default of minNormalizedMeasure
		if obj.MinNormalizedMeasure != nil {
			s := strings.TrimSpace(*obj.MinNormalizedMeasure)
			var err error
			if v, err = strconv.ParseFloat(s, 64); err != nil || v < -1 || v > 1 {
				return bad("scorm-minnormalizedmeasure", "imsmanifest.xml: item %q has minNormalizedMeasure %q; it is a number from -1 to 1", l.ID, text(s, 64))
			}
		}
		l.MinNormalizedMeasure = &v
	}
	return nil
}

// withParameters adds an item's parameters to the query and fragment rest
// of its resource's href, following the SCORM CAM: a leading '?' or '&'
// is dropped and the rest joined with '&' or '?'; a fragment is added
// unless the href has one.
func withParameters(rest, params string) string {
	params = strings.TrimSpace(params)
	if params == "" {
		return rest
	}
	query, frag := rest, ""
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		query, frag = rest[:i], rest[i:]
	}
	if strings.HasPrefix(params, "#") {
		if frag == "" {
			frag = params
		}
		return query + frag
	}
	params = strings.TrimLeft(params, "?&")
	pf := ""
	if i := strings.IndexByte(params, '#'); i >= 0 {
		params, pf = params[:i], params[i:]
		if frag == "" {
			frag = pf
		}
	}
	switch {
	case params == "":
	case query == "":
		query = "?" + params
	default:
		query += "&" + params
	}
	return query + frag
}
