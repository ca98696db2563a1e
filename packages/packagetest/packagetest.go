// Package packagetest makes the test packages of the project, as zip
// files built in memory: a SCORM 1.2 package with one SCO, a SCORM 2004
// 4th edition package with two SCOs, a cmi5 course with two AUs (moveOn
// CompletedAndPassed) and a Tin Can package; and zips with hand-made
// entries for the refusals (symlinks, traversal, bombs). The content is
// the project's own and tiny; its pages drive the LRS as real content
// does, with scripts of their own (SCOScript, AUScript, TinCanScript) that
// browser tests call.
package packagetest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"io/fs"
	"sort"
	"strings"
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

// scoPage is a SCO's page: a small course page whose script (SCOScript,
// at src) drives the SCORM run-time API.
func scoPage(title, src string) string {
	return scriptPage(title, strings.TrimSuffix(src, "sco.js")+"style.css", src, "sco-state")
}

// scriptPage is a small course page with the style sheet css, a status
// line whose id is status, and the script at src.
func scriptPage(title, css, src, status string) string {
	return "<!doctype html>\n<html lang=\"nb\"><head><meta charset=\"utf-8\"><title>" + title +
		"</title><link rel=\"stylesheet\" href=\"" + css + "\"></head>\n<body><h1>" + title +
		"</h1><p>Testinnhold for lrs.</p><p id=\"" + status + "\" role=\"status\"></p>\n<script src=\"" + src + "\"></script></body></html>\n"
}

// SCOScript is the script of the test packages' SCOs: it finds the SCORM
// API of its player (window.API for SCORM 1.2, window.API_1484_11 for
// 2004, in a parent window or the opener), initialises it, reads how it
// was entered (entry, suspend data, location), and offers what a learner
// does as window.sco, for browser tests to call:
//
//	sco.ready, sco.version, sco.entry, sco.suspendData, sco.location
//	sco.answer(id, response, correct)   an interaction, then a commit
//	sco.suspend(data, location)         exit suspend with suspend data; finish
//	sco.suspendOnUnload(data, location) suspend so as the page goes away (pagehide)
//	sco.finish(scaled)                  score, status, exit normal; finish
//	sco.finished                        what LMSFinish/Terminate returned
//	sco.errors                          calls that returned "false", with their error codes
//
// SCORM 1.2: finishing sets lesson_status passed or failed against
// cmi.student_data.mastery_score (completed without one); SCORM 2004:
// completion_status completed and progress_measure 1, score.scaled, and
// success_status passed or failed unless cmi.scaled_passing_score decides.
const SCOScript = `(function () {
  'use strict';
  function find(name) {
    let w = window;
    for (let i = 0; i < 10 && w; i++) {
      if (w[name]) return w[name];
      if (w.parent === w) break;
      w = w.parent;
    }
    return (window.opener && window.opener[name]) || null;
  }
  const api2004 = find('API_1484_11');
  const api = api2004 || find('API');
  const v12 = !api2004;
  const out = document.getElementById('sco-state');
  const sco = { ready: false, version: v12 ? '1.2' : '2004', errors: [] };
  window.sco = sco;
  if (!api) {
    out.textContent = 'Fant ikke SCORM-API-et.';
    return;
  }
  function call(name12, name2004, args) {
    const name = v12 ? name12 : name2004;
    const r = api[name].apply(api, args);
    if (r === 'false') sco.errors.push(name + '(' + args.join(', ') + '): ' + (v12 ? api.LMSGetLastError() : api.GetLastError()));
    return r;
  }
  const get = (e12, e2004) => call('LMSGetValue', 'GetValue', [v12 ? e12 : e2004]);
  const set = (e12, e2004, v) => call('LMSSetValue', 'SetValue', [v12 ? e12 : e2004, String(v)]);
  const commit = () => call('LMSCommit', 'Commit', ['']);
  const finish = () => {
    sco.finished = call('LMSFinish', 'Terminate', ['']);
    out.textContent = 'Ferdig: ' + sco.finished;
    return sco.finished;
  };
  sco.ready = call('LMSInitialize', 'Initialize', ['']) === 'true';
  sco.entry = get('cmi.core.entry', 'cmi.entry');
  sco.suspendData = get('cmi.suspend_data', 'cmi.suspend_data');
  sco.location = get('cmi.core.lesson_location', 'cmi.location');
  out.textContent = 'Startet (' + sco.entry + ')';
  sco.answer = function (id, response, correct) {
    const n = get('cmi.interactions._count', 'cmi.interactions._count');
    const p = 'cmi.interactions.' + n + '.';
    set(p + 'id', p + 'id', id);
    set(p + 'type', p + 'type', 'choice');
    set(p + 'student_response', p + 'learner_response', response);
    set(p + 'result', p + 'result', correct ? 'correct' : (v12 ? 'wrong' : 'incorrect'));
    return commit();
  };
  sco.suspend = function (data, location) {
    set('cmi.suspend_data', 'cmi.suspend_data', data);
    set('cmi.core.lesson_location', 'cmi.location', location || '');
    if (v12) set('cmi.core.lesson_status', '', 'incomplete');
    else set('', 'cmi.completion_status', 'incomplete');
    set('cmi.core.exit', 'cmi.exit', 'suspend');
    set('cmi.core.session_time', 'cmi.session_time', v12 ? '0000:01:30' : 'PT1M30S');
    return finish();
  };
  sco.suspendOnUnload = function (data, location) {
    window.addEventListener('pagehide', () => sco.suspend(data, location));
    return 'true';
  };
  sco.finish = function (scaled) {
    if (v12) {
      const mastery = get('cmi.student_data.mastery_score');
      set('cmi.core.score.raw', '', Math.round(scaled * 100));
      set('cmi.core.score.min', '', 0);
      set('cmi.core.score.max', '', 100);
      const status = mastery === '' ? 'completed' : (scaled * 100 >= Number(mastery) ? 'passed' : 'failed');
      set('cmi.core.lesson_status', '', status);
      set('cmi.core.exit', '', '');
      set('cmi.core.session_time', '', '0000:02:00');
    } else {
      set('', 'cmi.score.scaled', scaled);
      set('', 'cmi.progress_measure', 1);
      set('', 'cmi.completion_status', 'completed');
      set('', 'cmi.success_status', scaled >= 0.5 ? 'passed' : 'failed');
      set('', 'cmi.exit', 'normal');
      set('', 'cmi.session_time', 'PT2M');
    }
    return finish();
  };
})();
`

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
		"index.html":      scoPage("Informasjonssikkerhet", "sco.js"),
		"sco.js":          SCOScript,
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
		"intro/index.html": scoPage("Innledning", "../shared/sco.js"),
		"test/test.html":   scoPage("Test", "../shared/sco.js"),
		"shared/sco.js":    SCOScript,
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
		"au1/index.html":  scriptPage("Del 1", "style.css", "../au.js", "au-state"),
		"au1/style.css":   "p { margin: 0; }\n",
		"au2/index.html":  scriptPage("Del 2", "style.css", "../au.js", "au-state"),
		"au.js":           AUScript,
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
		"story.html": scriptPage("Varsling", "style.css", "story.js", "story-state"),
		"story.js":   TinCanScript,
		"style.css":  "body { margin: 0; }\n",
	}
}

// TinCan is the Tin Can test package.
func TinCan() []byte { return Files(TinCanFiles()) }

// deflate compresses b with deflate, as a zip entry holds it.
func deflate(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// Raw is an entry written as given: body already compressed by method,
// the sizes and CRC declared as given (which may lie).
type Raw struct {
	Name               string
	Method             uint16
	Body               []byte // compressed
	CRC32              uint32
	Compressed, Uncomp uint64
}

// ZipRaw makes a zip of ordinary files and raw entries.
func ZipRaw(files map[string]string, raws ...Raw) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f, _ := w.Create(n)
		f.Write([]byte(files[n]))
	}
	for _, r := range raws {
		h := &zip.FileHeader{Name: r.Name, Method: r.Method, CRC32: r.CRC32,
			CompressedSize64: r.Compressed, UncompressedSize64: r.Uncomp}
		f, err := w.CreateRaw(h)
		if err != nil {
			panic(err)
		}
		f.Write(r.Body)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Deflated is a raw entry of content compressed with deflate, declaring
// uncompressed bytes (its true size when uncompressed is 0).
func Deflated(name string, content []byte, uncompressed uint64) Raw {
	body := deflate(content)
	if uncompressed == 0 {
		uncompressed = uint64(len(content))
	}
	return Raw{Name: name, Method: zip.Deflate, Body: body, CRC32: crc32.ChecksumIEEE(content),
		Compressed: uint64(len(body)), Uncomp: uncompressed}
}

// Bad is a package the LRS must refuse, and a part of the message that
// says why.
type Bad struct {
	Name string
	Zip  []byte
	Want string
}

// BadPackages lists packages every import must refuse with a 400 naming
// the fault: not a zip, no or a broken manifest, unsafe entry names,
// symlinks, encryption, zip bombs, files the manifest names but the zip
// lacks, and manifests breaking their standard's rules.
func BadPackages() []Bad {
	scorm := SCORM12Files()
	manifest := func(m string) map[string]string { return With(scorm, map[string]string{"imsmanifest.xml": m}) }
	replace := func(old, new string) map[string]string {
		if !strings.Contains(SCORM12Manifest, old) {
			panic("no " + old + " in the SCORM 1.2 manifest")
		}
		return manifest(strings.Replace(SCORM12Manifest, old, new, 1))
	}
	cmi5 := func(old, new string) []byte {
		if !strings.Contains(CMI5Manifest, old) {
			panic("no " + old + " in the cmi5 manifest")
		}
		return Files(With(CMI5Files(), map[string]string{"cmi5.xml": strings.Replace(CMI5Manifest, old, new, 1)}))
	}
	with := func(e Entry) []byte {
		entries := []Entry{e}
		for _, n := range []string{"imsmanifest.xml", "index.html", "style.css", "img/lock.svg"} {
			entries = append(entries, Entry{Name: n, Body: []byte(scorm[n])})
		}
		return Zip(entries...)
	}
	zeros := make([]byte, 8<<20)
	return []Bad{
		{"not a zip", []byte("PK? no, plain text"), "not a zip file"},
		{"empty zip", Zip(), "holds no files"},
		{"no manifest", Files(map[string]string{"index.html": "<p>x</p>"}), "no imsmanifest.xml (SCORM), cmi5.xml (cmi5) or tincan.xml"},
		{"manifest in a folder", Files(map[string]string{"kurs/imsmanifest.xml": SCORM12Manifest, "kurs/index.html": "x"}),
			"in the folder kurs of the zip, not at its root"},
		{"broken XML", Files(manifest("<manifest identifier='x'><organizations>")), "imsmanifest.xml is not well-formed XML"},
		{"no identifier", Files(replace(`<manifest identifier="no.lrs.test.infosikkerhet"`, `<manifest`)), "no identifier attribute"},
		{"unknown schemaversion", Files(replace("<schemaversion>1.2</schemaversion>", "<schemaversion>9.9</schemaversion>")), `schemaversion "9.9"`},
		{"no organization", Files(manifest(SCORM12Manifest[:strings.Index(SCORM12Manifest, "<organizations")] + "<organizations/>" +
			SCORM12Manifest[strings.Index(SCORM12Manifest, "</organizations>")+len("</organizations>"):])), "has no organization"},
		{"item without resource", Files(replace(`identifierref="res-1"`, `identifierref="res-9"`)), `references resource "res-9", which the manifest does not define`},
		{"href out of the package", Files(replace(`href="index.html">`, `href="../index.html">`)), "leads out of the package"},
		{"href a URL", Files(replace(`href="index.html">`, `href="https://evil.example/x.html">`)), "must be a file inside the package"},
		{"masteryscore out of range", Files(replace("<adlcp:masteryscore>80", "<adlcp:masteryscore>180")), "masteryscore \"180\""},
		{"file named but missing", Files(With(scorm, map[string]string{"style.css": ""})), "names a file the zip lacks: style.css (resource \"res-1\" file 2)"},
		{"launch file in another case", Files(With(scorm, map[string]string{"index.html": "", "Index.html": "x"})),
			"the zip has Index.html: names are case-sensitive"},
		{"entry leading out", with(Entry{Name: "../evil.html", Body: []byte("x")}), "leads out of the package"},
		{"entry with an absolute path", with(Entry{Name: "/etc/cron.d/evil", Body: []byte("x")}), "absolute path"},
		{"entry with a backslash", with(Entry{Name: `..\evil.html`, Body: []byte("x")}), "backslash"},
		{"entry with a drive letter", with(Entry{Name: "C:/evil.html", Body: []byte("x")}), "drive letter"},
		{"entry with a dot segment", with(Entry{Name: "a/./b.html", Body: []byte("x")}), `"." segment`},
		{"entry name not UTF-8", with(Entry{Name: "caf\xe9.html", Body: []byte("x")}), "not UTF-8"},
		{"symlink", with(Entry{Name: "lenke", Body: []byte("/etc/passwd"), Mode: fs.ModeSymlink | 0o777}), "symbolic link"},
		{"encrypted entry", with(Entry{Name: "hemmelig.html", Body: []byte("x"), Edit: func(h *zip.FileHeader) { h.Flags |= 1 }}), "encrypted"},
		{"duplicate entry", Zip(Entry{Name: "imsmanifest.xml", Body: []byte(SCORM12Manifest)}, Entry{Name: "imsmanifest.xml", Body: []byte("x")}),
			"appears twice"},
		{"file where a directory is needed", with(Entry{Name: "img", Body: []byte("x")}), `"img" is a file in the zip, but "img/lock.svg" needs it to be a directory`},
		{"zip bomb by ratio", ZipRaw(scorm, Deflated("video.mp4", zeros, 0)), "refused as a zip bomb"},
		{"zip bomb by declared size", ZipRaw(scorm, Deflated("video.mp4", []byte("small"), 3<<30)), "a package may hold at most"},
		{"manifest inflating past its declared size", ZipRaw(With(scorm, map[string]string{"imsmanifest.xml": ""}),
			Deflated("imsmanifest.xml", []byte(SCORM12Manifest), 100)), "inflates to more than its declared size"},
		{"file inflating past its declared size", ZipRaw(With(scorm, map[string]string{"style.css": ""}),
			Deflated("style.css", bytes.Repeat([]byte("p{}\n"), 5000), 10)), "inflates to more than its declared size"},
		{"unknown compression method", ZipRaw(With(scorm, map[string]string{"imsmanifest.xml": ""}),
			Raw{Name: "imsmanifest.xml", Method: 99, Body: []byte(SCORM12Manifest), CRC32: crc32.ChecksumIEEE([]byte(SCORM12Manifest)),
				Compressed: uint64(len(SCORM12Manifest)), Uncomp: uint64(len(SCORM12Manifest))}), "compression method"},
		{"cmi5 bad moveOn", cmi5(`moveOn="CompletedAndPassed" masteryScore`, `moveOn="Whenever" masteryScore`), `moveOn "Whenever"`},
		{"cmi5 AU id not an IRI", cmi5(`<au id="https://lrs.example/kurs/beredskap/au/1"`, `<au id="del-1"`), `au id "del-1" is not an absolute IRI`},
		{"cmi5 duplicate id", cmi5(`<au id="https://lrs.example/kurs/beredskap/au/2"`, `<au id="https://lrs.example/kurs/beredskap/au/1"`), "used twice"},
		{"cmi5 AU without url", cmi5(`<url>au2/index.html</url>`, ``), "has no url"},
		{"cmi5 url missing in the zip", cmi5(`<url>au2/index.html</url>`, `<url>au3/index.html</url>`), "names a file the zip lacks: au3/index.html"},
		{"Tin Can without launch", Files(With(TinCanFiles(), map[string]string{"tincan.xml": strings.Replace(TinCanManifest,
			`<launch lang="nb-NO">story.html</launch>`, ``, 1)})), "no activity with a launch"},
	}
}
