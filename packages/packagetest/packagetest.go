// Package packagetest makes the test packages of the project, as zip
// files built in memory: a SCORM 1.2 package with one SCO, a SCORM 2004
// 4th edition package with two SCOs, a cmi5 course with two AUs (moveOn
// CompletedAndPassed) and a Tin Can package; and zips with hand-made
// entries for the refusals (symlinks, traversal, bombs). The content is
// the project's own and tiny.
package packagetest

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"sort"
)

// Entry is one entry of a hand-made zip.
type Entry struct {
	Name string
	Body []byte
	Mode fs.FileMode // 0: a regular file (0644)
	// Store keeps the body uncompressed (method Store) instead of deflating
	// it.
	Store bool
	// Edit, if set, adjusts the header before it is written (e.g. to
	// declare another size).
	Edit func(*zip.FileHeader)
}

// Zip makes a zip of entries, in order.
func Zip(entries ...Entry) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate}
		if e.Store {
			h.Method = zip.Store
		}
		mode := e.Mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		if e.Edit != nil {
			e.Edit(h)
		}
		f, err := w.CreateHeader(h)
		if err != nil {
			panic(err)
		}
		if _, err := f.Write(e.Body); err != nil {
			panic(err)
		}
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Files makes a zip of the files (path -> content), sorted by path.
func Files(files map[string]string) []byte {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var entries []Entry
	for _, n := range names {
		entries = append(entries, Entry{Name: n, Body: []byte(files[n])})
	}
	return Zip(entries...)
}

// With returns a copy of files with the changes (an empty value deletes).
func With(files map[string]string, changes map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range files {
		out[k] = v
	}
	for k, v := range changes {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// page is a small course page.
func page(title string) string {
	return "<!doctype html>\n<html lang=\"nb\"><head><meta charset=\"utf-8\"><title>" + title +
		"</title><link rel=\"stylesheet\" href=\"style.css\"></head>\n<body><h1>" + title +
		"</h1><p>Testinnhold for lrs.</p></body></html>\n"
}

// SCORM12Manifest is the manifest of SCORM12Files: one SCO with a mastery
// score of 80 and launch data.
const SCORM12Manifest = `<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="no.lrs.test.infosikkerhet" version="1.0"
    xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
    xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org1">
    <organization identifier="org1">
      <title>Grunnleggende informasjonssikkerhet</title>
      <item identifier="sco-1" identifierref="res-1" parameters="?lang=nb">
        <title>Informasjonssikkerhet</title>
        <adlcp:masteryscore>80</adlcp:masteryscore>
        <adlcp:datafromlms>start=1</adlcp:datafromlms>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="res-1" type="webcontent" adlcp:scormtype="sco" href="index.html">
      <file href="index.html"/>
      <file href="style.css"/>
      <file href="img/lock.svg"/>
    </resource>
  </resources>
</manifest>
`

// SCORM12Files are the files of the SCORM 1.2 test package.
func SCORM12Files() map[string]string {
	return map[string]string{
		"imsmanifest.xml": SCORM12Manifest,
		"index.html":      page("Informasjonssikkerhet"),
		"style.css":       "body { font-family: sans-serif; }\n",
		"img/lock.svg":    `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>` + "\n",
	}
}

// SCORM12 is the SCORM 1.2 test package.
func SCORM12() []byte { return Files(SCORM12Files()) }

// SCORM2004Manifest is the manifest of SCORM2004Files: 4th edition, two
// SCOs in a module; the second scored against a minNormalizedMeasure of
// 0.8 (through the sequencing collection) with a completion threshold;
// its resource under an xml:base.
const SCORM2004Manifest = `<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="no.lrs.test.personvern" version="3"
    xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
    xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"
    xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3"
    xmlns:adlnav="http://www.adlnet.org/xsd/adlnav_v1p3"
    xmlns:imsss="http://www.imsglobal.org/xsd/imsss">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="personvern">
    <organization identifier="personvern" adlseq:objectivesGlobalToSystem="false">
      <title>Personvern i praksis</title>
      <item identifier="modul-1">
        <title>Modul 1</title>
        <item identifier="intro" identifierref="res-intro">
          <title>Innledning</title>
          <adlcp:dataFromLMS>kapittel=1</adlcp:dataFromLMS>
        </item>
        <item identifier="test" identifierref="res-test" parameters="#start">
          <title>Test</title>
          <adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.9"/>
          <adlcp:timeLimitAction>continue,message</adlcp:timeLimitAction>
          <imsss:sequencing IDRef="scored"/>
        </item>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="res-intro" type="webcontent" adlcp:scormType="sco" href="intro/index.html">
      <file href="intro/index.html"/>
      <file href="shared/style.css"/>
      <dependency identifierref="res-shared"/>
    </resource>
    <resource identifier="res-test" type="webcontent" adlcp:scormType="sco" xml:base="test/" href="test.html">
      <file href="test.html"/>
      <file href="../shared/style.css"/>
    </resource>
    <resource identifier="res-shared" type="webcontent" adlcp:scormType="asset">
      <file href="shared/style.css"/>
    </resource>
  </resources>
  <imsss:sequencingCollection>
    <imsss:sequencing ID="scored">
      <imsss:objectives>
        <imsss:primaryObjective objectiveID="bestatt" satisfiedByMeasure="true">
          <imsss:minNormalizedMeasure>0.8</imsss:minNormalizedMeasure>
        </imsss:primaryObjective>
      </imsss:objectives>
    </imsss:sequencing>
  </imsss:sequencingCollection>
</manifest>
`

// SCORM2004Files are the files of the SCORM 2004 test package.
func SCORM2004Files() map[string]string {
	return map[string]string{
		"imsmanifest.xml":  SCORM2004Manifest,
		"intro/index.html": page("Innledning"),
		"test/test.html":   page("Test"),
		"shared/style.css": "h1 { color: #235; }\n",
	}
}

// SCORM2004 is the SCORM 2004 4th edition test package.
func SCORM2004() []byte { return Files(SCORM2004Files()) }

// CMI5Manifest is the course structure of CMI5Files: two AUs, the second
// in a block, both with moveOn CompletedAndPassed.
const CMI5Manifest = `<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
  <course id="https://lrs.example/kurs/beredskap">
    <title><langstring lang="nb-NO">Beredskap</langstring><langstring lang="en-US">Preparedness</langstring></title>
    <description><langstring lang="nb-NO">Et testkurs.</langstring></description>
  </course>
  <au id="https://lrs.example/kurs/beredskap/au/1" moveOn="CompletedAndPassed" masteryScore="0.75" launchMethod="OwnWindow"
      activityType="http://adlnet.gov/expapi/activities/lesson">
    <title><langstring lang="nb-NO">Del 1</langstring></title>
    <description><langstring lang="nb-NO">Første del.</langstring></description>
    <url>au1/index.html?del=1</url>
    <launchParameters>{"tema":"brann"}</launchParameters>
  </au>
  <block id="https://lrs.example/kurs/beredskap/blokk/2">
    <title><langstring lang="nb-NO">Blokk 2</langstring></title>
    <description><langstring lang="nb-NO">Andre blokk.</langstring></description>
    <au id="https://lrs.example/kurs/beredskap/au/2" moveOn="CompletedAndPassed">
      <title><langstring lang="nb-NO">Del 2</langstring></title>
      <description><langstring lang="nb-NO">Andre del.</langstring></description>
      <url>au2/index.html</url>
    </au>
  </block>
</courseStructure>
`

// CMI5Files are the files of the cmi5 test course.
func CMI5Files() map[string]string {
	return map[string]string{
		"cmi5.xml":        CMI5Manifest,
		"au1/index.html":  page("Del 1"),
		"au1/style.css":   "p { margin: 0; }\n",
		"au2/index.html":  page("Del 2"),
		"au2/style.css":   "p { margin: 1em; }\n",
		"assets/film.mp4": "not really a film, but bytes to serve in ranges: 0123456789abcdefghijklmnopqrstuvwxyz\n",
	}
}

// CMI5 is the cmi5 test course.
func CMI5() []byte { return Files(CMI5Files()) }

// TinCanManifest is the tincan.xml of TinCanFiles: a course with a launch
// and an objective without one.
const TinCanManifest = `<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<tincan xmlns="http://projecttincan.com/tincan.xsd">
  <activities>
    <activity id="https://lrs.example/tincan/varsling" type="http://adlnet.gov/expapi/activities/course">
      <name lang="nb-NO">Varsling</name>
      <description lang="nb-NO">Et Tin Can-testkurs.</description>
      <launch lang="nb-NO">story.html</launch>
    </activity>
    <activity id="https://lrs.example/tincan/varsling/mål" type="http://adlnet.gov/expapi/activities/objective">
      <name lang="nb-NO">Mål</name>
    </activity>
  </activities>
</tincan>
`

// TinCanFiles are the files of the Tin Can test package.
func TinCanFiles() map[string]string {
	return map[string]string{
		"tincan.xml": TinCanManifest,
		"story.html": page("Varsling"),
		"style.css":  "body { margin: 0; }\n",
	}
}

// TinCan is the Tin Can test package.
func TinCan() []byte { return Files(TinCanFiles()) }
