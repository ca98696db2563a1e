package packages

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"

	"github.com/xapi-lrs/lrs/errs"
)

// Manifest is what a package's manifest says, before the LRS gives it an
// ID, a version and (for SCORM) its activity IRIs.
type Manifest struct {
	Kind          Kind
	SchemaVersion string // SCORM only
	Identifier    string
	Title         string
	// Titles is the title in each language the manifest gives it in (cmi5,
	// Tin Can), keyed "und" when it names no language.
	Titles map[string]string
	// ActivityID is the course IRI of cmi5 and Tin Can packages; empty for
	// SCORM, whose IRIs the LRS makes (SCORMCourseIRI).
	ActivityID string
	// Launchables, in the manifest's order. For SCORM their ActivityID is
	// empty, and their Href is a path inside the package until
	// ParseManifest resolves it against the archive.
	Launchables []Launchable
	refs        []fileRef
}

// fileRef is a file the manifest names inside the package.
type fileRef struct {
	path string // as resolved, before percent-decoding
	what string // where the manifest names it, e.g. `resource "r1" href`
	rest string // query and fragment of a launch location
	// launch is 1 + the index of the launchable it is the launch location
	// of; 0 for other files.
	launch int
}

// Manifest file names, at the root of the zip.
const (
	scormManifestFile  = "imsmanifest.xml"
	cmi5ManifestFile   = "cmi5.xml"
	tincanManifestFile = "tincan.xml"
)

// manifestFiles are the manifests looked for, in order, when the kind is
// not given: cmi5 and Tin Can packages sometimes carry an imsmanifest.xml
// too, for LMSs that know only SCORM.
var manifestFiles = []struct {
	name  string
	kinds []Kind
}{
	{cmi5ManifestFile, []Kind{CMI5}},
	{scormManifestFile, []Kind{SCORM12, SCORM2004}},
	{tincanManifestFile, []Kind{TinCan}},
}

// ParseManifest finds and parses the manifest of the package in a: of the
// kind given, or else the first of cmi5.xml, imsmanifest.xml and
// tincan.xml at the root of the zip. It checks that every file the
// manifest names is in the archive, and resolves each launchable's Href
// to the path of its file (percent-encoded, with the manifest's query and
// fragment) or an absolute URL.
func ParseManifest(a *Archive, kind Kind, maxBytes int64) (*Manifest, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultLimits.MaxManifestBytes
	}
	if kind != "" && !kind.Valid() {
		return nil, errs.Invalidf("kind", "package-kind", "unknown package kind %q: use scorm12, scorm2004, cmi5 or tincan", kind)
	}
	for _, mf := range manifestFiles {
		if kind != "" && !containsKind(mf.kinds, kind) || !a.Has(mf.name) {
			continue
		}
		data, err := a.ReadFile(mf.name, maxBytes)
		if err != nil {
			return nil, err
		}
		var m *Manifest
		switch mf.name {
		case cmi5ManifestFile:
			m, err = ParseCMI5(data)
		case scormManifestFile:
			m, err = ParseIMSManifest(data)
			if err == nil && kind != "" && m.Kind != kind {
				err = bad("package-kind", "imsmanifest.xml describes a %s package, not %s", m.Kind, kind)
			}
		case tincanManifestFile:
			m, err = ParseTinCan(data)
		}
		if err != nil {
			return nil, err
		}
		return m, m.resolve(a, mf.name)
	}
	return nil, noManifest(a, kind)
}

func containsKind(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// noManifest explains why no manifest was found: most often the package's
// folder was zipped instead of its contents.
func noManifest(a *Archive, kind Kind) error {
	want := "imsmanifest.xml (SCORM), cmi5.xml (cmi5) or tincan.xml (Tin Can)"
	for _, mf := range manifestFiles {
		if kind != "" && !containsKind(mf.kinds, kind) {
			continue
		}
		if kind != "" {
			want = mf.name
		}
		for _, p := range a.Paths() {
			if path.Base(p) == mf.name && strings.Count(p, "/") == 1 {
				return bad("manifest-missing", "%s is in the folder %s of the zip, not at its root: zip the contents of the folder, not the folder itself",
					mf.name, path.Dir(p))
			}
		}
	}
	return bad("manifest-missing", "the zip has no %s at its root: it is not a package this LRS can import", want)
}

// resolve checks the files the manifest names against the archive and
// sets the launchables' Href.
func (m *Manifest) resolve(a *Archive, name string) error {
	var missing []string
	for _, r := range m.refs {
		found := ""
		if a.Has(r.path) {
			found = r.path
		} else if u, err := url.PathUnescape(r.path); err == nil && a.Has(u) {
			found = u
		}
		if found == "" {
			msg := fmt.Sprintf("%s (%s)", r.path, r.what)
			if v := a.caseVariant(r.path); v != "" {
				msg += fmt.Sprintf(" — the zip has %s: names are case-sensitive", v)
			}
			missing = append(missing, msg)
			continue
		}
		if r.launch > 0 {
			m.Launchables[r.launch-1].Href = escapePath(found) + r.rest
		}
	}
	switch n := len(missing); {
	case n == 1:
		return bad("manifest-file-missing", "%s names a file the zip lacks: %s", name, missing[0])
	case n > 5:
		return bad("manifest-file-missing", "%s names %d files the zip lacks: %s, …", name, n, strings.Join(missing[:5], "; "))
	case n > 0:
		return bad("manifest-file-missing", "%s names %d files the zip lacks: %s", name, n, strings.Join(missing, "; "))
	}
	return nil
}

// escapePath percent-encodes each segment of a path inside the package.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// location is a launch location or file reference of a manifest, resolved
// against a directory inside the package.
type location struct {
	external string // an absolute http(s) URL, or ""
	path     string // the path inside the package
	rest     string // query and fragment
}

// resolveRef resolves ref against dir (a directory inside the package,
// "" for the root). what names the reference for messages. An absolute URL
// is external when allowExternal, else an error; a reference leading out
// of the package or an absolute path is an error.
func resolveRef(dir, ref, what string, allowExternal bool) (location, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return location{}, bad("manifest-href", "%s is empty", what)
	}
	if u, err := url.Parse(ref); err == nil && (u.Scheme != "" || strings.HasPrefix(ref, "//")) {
		if !allowExternal {
			return location{}, bad("manifest-href", "%s is the URL %q; it must be a file inside the package", what, ref)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return location{}, bad("manifest-href", "%s is %q: an absolute launch URL must be http or https", what, ref)
		}
		return location{external: ref}, nil
	}
	p, rest := ref, ""
	if i := strings.IndexAny(ref, "?#"); i >= 0 {
		p, rest = ref[:i], ref[i:]
	}
	if strings.Contains(p, `\`) {
		return location{}, bad("manifest-href", "%s %q has a backslash; paths inside a package use /", what, ref)
	}
	if strings.HasPrefix(p, "/") {
		return location{}, bad("manifest-href", "%s %q is an absolute path; it must be relative to the package", what, ref)
	}
	joined := path.Join(dir, p)
	if joined == ".." || strings.HasPrefix(joined, "../") {
		return location{}, bad("manifest-href", "%s %q leads out of the package", what, ref)
	}
	if joined == "." || p == "" {
		return location{}, bad("manifest-href", "%s %q names no file", what, ref)
	}
	return location{path: joined, rest: rest}, nil
}

// joinDir resolves a directory reference (an xml:base) against dir.
func joinDir(dir, base, what string) (string, error) {
	base = strings.TrimSpace(base)
	if base == "" {
		return dir, nil
	}
	if u, err := url.Parse(base); err == nil && (u.Scheme != "" || strings.HasPrefix(base, "//")) {
		return "", bad("manifest-href", "%s xml:base is the URL %q; packages served by this LRS keep their files inside the package", what, base)
	}
	if strings.HasPrefix(base, "/") || strings.Contains(base, `\`) {
		return "", bad("manifest-href", "%s xml:base %q must be a relative path with /", what, base)
	}
	j := path.Join(dir, base)
	if j == ".." || strings.HasPrefix(j, "../") {
		return "", bad("manifest-href", "%s xml:base %q leads out of the package", what, base)
	}
	if j == "." {
		j = ""
	}
	return j, nil
}

// decodeXML decodes the manifest data (UTF-8, or UTF-16 with a byte order
// mark, or any encoding its XML declaration names) into v, strictly.
func decodeXML(name string, data []byte, v any) error {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}), bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		u, err := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder().Bytes(data)
		if err != nil {
			return bad("manifest-xml", "%s: not valid UTF-16: %v", name, err)
		}
		data = u
		// The declaration may still say UTF-16: it is UTF-8 now.
		if i := bytes.Index(data, []byte("?>")); bytes.HasPrefix(data, []byte("<?xml")) && i > 0 {
			data = data[i+2:]
		}
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		enc, err := htmlindex.Get(label)
		if err != nil {
			return nil, fmt.Errorf("unknown encoding %q", label)
		}
		return enc.NewDecoder().Reader(in), nil
	}
	if err := d.Decode(v); err != nil {
		var se *xml.SyntaxError
		switch {
		case errors.As(err, &se):
			return bad("manifest-xml", "%s is not well-formed XML: line %d: %s", name, se.Line, se.Msg)
		case errors.Is(err, io.EOF):
			return bad("manifest-xml", "%s is empty", name)
		}
		return bad("manifest-xml", "%s cannot be read as XML: %v", name, err)
	}
	return nil
}

// text trims s and checks that it is valid UTF-8 (the XML decoder makes
// sure of that) of at most max bytes.
func text(s string, max int) string {
	s = strings.TrimSpace(s)
	if len(s) > max {
		s = s[:max]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}
