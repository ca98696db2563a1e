package packages_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/text/encoding/unicode"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/packages/packagetest"
)

func open(t *testing.T, z []byte) *packages.Archive {
	t.Helper()
	a, err := packages.OpenArchive(bytes.NewReader(z), int64(len(z)), packages.Limits{})
	if err != nil {
		t.Fatalf("OpenArchive: %v", err)
	}
	return a
}

func parse(t *testing.T, z []byte) *packages.Manifest {
	t.Helper()
	m, err := packages.ParseManifest(open(t, z), "", 0)
	if err != nil {
		t.Fatalf("ParseManifest: %v", err)
	}
	return m
}

func f(v float64) *float64 { return &v }

// jsonOf shows launchables in messages and compares them.
func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestParseManifests parses the four test packages: every field the LRS
// reads from their manifests.
func TestParseManifests(t *testing.T) {
	for _, tt := range []struct {
		name                                string
		zip                                 []byte
		kind                                packages.Kind
		schema, identifier, title, activity string
		titles                              map[string]string
		launchables                         []packages.Launchable
	}{
		{"SCORM 1.2", packagetest.SCORM12(), packages.SCORM12, "1.2", "no.lrs.test.infosikkerhet",
			"Grunnleggende informasjonssikkerhet", "", nil,
			[]packages.Launchable{{ID: "sco-1", Title: "Informasjonssikkerhet", Href: "index.html?lang=nb", SCORMType: "sco",
				MasteryScore: f(80), DataFromLMS: "start=1"}}},
		{"SCORM 2004 4th edition", packagetest.SCORM2004(), packages.SCORM2004, "2004 4th Edition", "no.lrs.test.personvern",
			"Personvern i praksis", "", nil,
			[]packages.Launchable{
				{ID: "intro", Title: "Innledning", Href: "intro/index.html", Parents: []string{"modul-1"}, SCORMType: "sco",
					DataFromLMS: "kapittel=1"},
				{ID: "test", Title: "Test", Href: "test/test.html#start", Parents: []string{"modul-1"}, SCORMType: "sco",
					MinNormalizedMeasure: f(0.8), CompletionThreshold: f(0.9), TimeLimitAction: "continue,message"}}},
		{"cmi5", packagetest.CMI5(), packages.CMI5, "", "https://lrs.example/kurs/beredskap", "Beredskap",
			"https://lrs.example/kurs/beredskap", map[string]string{"nb-NO": "Beredskap", "en-US": "Preparedness"},
			[]packages.Launchable{
				{ID: "https://lrs.example/kurs/beredskap/au/1", Title: "Del 1", ActivityID: "https://lrs.example/kurs/beredskap/au/1",
					Href: "au1/index.html?del=1", MoveOn: "CompletedAndPassed", MasteryScore: f(0.75), LaunchMethod: "OwnWindow",
					ActivityType: "http://adlnet.gov/expapi/activities/lesson", LaunchParameters: `{"tema":"brann"}`},
				{ID: "https://lrs.example/kurs/beredskap/au/2", Title: "Del 2", ActivityID: "https://lrs.example/kurs/beredskap/au/2",
					Href: "au2/index.html", Parents: []string{"https://lrs.example/kurs/beredskap/blokk/2"},
					MoveOn: "CompletedAndPassed", LaunchMethod: "AnyWindow"}}},
		{"Tin Can", packagetest.TinCan(), packages.TinCan, "", "https://lrs.example/tincan/varsling", "Varsling",
			"https://lrs.example/tincan/varsling", map[string]string{"nb-NO": "Varsling"},
			[]packages.Launchable{{ID: "https://lrs.example/tincan/varsling", Title: "Varsling",
				ActivityID: "https://lrs.example/tincan/varsling", Href: "story.html",
				ActivityType: "http://adlnet.gov/expapi/activities/course"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := parse(t, tt.zip)
			if m.Kind != tt.kind || m.SchemaVersion != tt.schema || m.Identifier != tt.identifier || m.Title != tt.title ||
				m.ActivityID != tt.activity || jsonOf(m.Titles) != jsonOf(tt.titles) {
				t.Errorf("got kind %q, schema %q, identifier %q, title %q, activity %q, titles %v",
					m.Kind, m.SchemaVersion, m.Identifier, m.Title, m.ActivityID, m.Titles)
			}
			if got, want := jsonOf(m.Launchables), jsonOf(tt.launchables); got != want {
				t.Errorf("launchables\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestParseManifestForms parses manifests in the forms real packages come
// in: UTF-16 with a byte order mark, ISO-8859-1, namespaces without a
// schemaversion, an href that needs percent-decoding, parameters and
// xml:base.
func TestParseManifestForms(t *testing.T) {
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(
		strings.Replace(packagetest.SCORM12Manifest, `encoding="UTF-8"`, `encoding="UTF-16"`, 1))
	if err != nil {
		t.Fatal(err)
	}
	latin1 := strings.Replace(strings.Replace(packagetest.SCORM12Manifest, `encoding="UTF-8"`, `encoding="ISO-8859-1"`, 1),
		"Grunnleggende informasjonssikkerhet", "Grunnleggende sikkerhet p\xe5 jobb", 1)
	noVersion := strings.Replace(packagetest.SCORM2004Manifest, "<schemaversion>2004 4th Edition</schemaversion>", "", 1)
	spaced := strings.Replace(packagetest.SCORM12Manifest, `href="index.html">`, `href="min%20side.html" xml:base="sider/">`, 1)
	for _, tt := range []struct {
		name     string
		files    map[string]string
		kind     packages.Kind
		title    string
		href     string
		external bool
	}{
		{"UTF-16", packagetest.With(packagetest.SCORM12Files(), map[string]string{"imsmanifest.xml": utf16}),
			packages.SCORM12, "Grunnleggende informasjonssikkerhet", "index.html?lang=nb", false},
		{"ISO-8859-1", packagetest.With(packagetest.SCORM12Files(), map[string]string{"imsmanifest.xml": latin1}),
			packages.SCORM12, "Grunnleggende sikkerhet på jobb", "index.html?lang=nb", false},
		{"2004 by its namespaces", packagetest.With(packagetest.SCORM2004Files(), map[string]string{"imsmanifest.xml": noVersion}),
			packages.SCORM2004, "Personvern i praksis", "intro/index.html", false},
		{"percent-encoded href under xml:base", map[string]string{"imsmanifest.xml": strings.NewReplacer(
			`<file href="index.html"/>`, ``, `<file href="style.css"/>`, ``, `<file href="img/lock.svg"/>`, ``).Replace(spaced),
			"sider/min side.html": "<p>side</p>"},
			packages.SCORM12, "Grunnleggende informasjonssikkerhet", "sider/min%20side.html?lang=nb", false},
		{"cmi5 AU hosted elsewhere", packagetest.With(packagetest.CMI5Files(), map[string]string{"cmi5.xml": strings.Replace(
			packagetest.CMI5Manifest, "<url>au2/index.html</url>", "<url>https://kurs.example.org/au2?x=1</url>", 1)}),
			packages.CMI5, "Beredskap", "https://kurs.example.org/au2?x=1", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := parse(t, packagetest.Files(tt.files))
			l := m.Launchables[0]
			if tt.external {
				l = m.Launchables[1]
			}
			if m.Kind != tt.kind || m.Title != tt.title || l.Href != tt.href {
				t.Errorf("got kind %q, title %q, href %q; want %q, %q, %q", m.Kind, m.Title, l.Href, tt.kind, tt.title, tt.href)
			}
		})
	}
}

// TestKindChoice: a zip with several manifests is read by the first of
// cmi5.xml, imsmanifest.xml, tincan.xml, unless the kind is given.
func TestKindChoice(t *testing.T) {
	files := packagetest.With(packagetest.CMI5Files(), packagetest.SCORM12Files())
	a := open(t, packagetest.Files(files))
	for kind, want := range map[packages.Kind]packages.Kind{"": packages.CMI5, packages.SCORM12: packages.SCORM12, packages.CMI5: packages.CMI5} {
		m, err := packages.ParseManifest(a, kind, 0)
		if err != nil || m.Kind != want {
			t.Errorf("ParseManifest(kind %q) = %v, %v; want a %s manifest", kind, m, err, want)
		}
	}
	if _, err := packages.ParseManifest(a, packages.SCORM2004, 0); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "scorm12 package, not scorm2004") {
		t.Errorf("ParseManifest(scorm2004) of a SCORM 1.2 package = %v", err)
	}
	if _, err := packages.ParseManifest(a, packages.TinCan, 0); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "no tincan.xml") {
		t.Errorf("ParseManifest(tincan) without tincan.xml = %v", err)
	}
}

func TestWithParameters(t *testing.T) {
	for _, tt := range []struct{ href, params, want string }{
		{"a.html", "", "a.html"},
		{"a.html", "?x=1", "a.html?x=1"},
		{"a.html", "&x=1", "a.html?x=1"},
		{"a.html", "x=1", "a.html?x=1"},
		{"a.html?y=2", "?x=1", "a.html?y=2&x=1"},
		{"a.html", "#p3", "a.html#p3"},
		{"a.html#p1", "#p3", "a.html#p1"},
		{"a.html#p1", "x=1", "a.html?x=1#p1"},
		{"a.html", "?x=1#p2", "a.html?x=1#p2"},
	} {
		manifest := strings.NewReplacer(`href="index.html">`, `href="`+tt.href+`">`, `parameters="?lang=nb"`, `parameters="`+strings.ReplaceAll(tt.params, "&", "&amp;")+`"`).
			Replace(packagetest.SCORM12Manifest)
		files := packagetest.With(packagetest.SCORM12Files(), map[string]string{"imsmanifest.xml": manifest, "a.html": "<p>a</p>"})
		if got := parse(t, packagetest.Files(files)).Launchables[0].Href; got != tt.want {
			t.Errorf("href %q with parameters %q = %q, want %q", tt.href, tt.params, got, tt.want)
		}
	}
}
