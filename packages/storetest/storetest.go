// Package storetest holds the contract tests every packages.Store backend
// passes (package sqlite, package mongo): Run checks that a version's
// files come back byte for byte and by ranges, that versions number up and
// are never reused (also after a delete, and when imports race), that a
// failing source stores nothing, that a delete removes records and files,
// and that no tenant sees or opens another tenant's packages.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/packages/packagetest"
)

// Run runs the contract tests against the stores open returns. open returns
// a fresh, empty store and registers its cleanup with t.
func Run(t *testing.T, open func(t *testing.T) packages.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s packages.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Ranges", testRanges},
		{"Versions", testVersions},
		{"ConcurrentVersions", testConcurrentVersions},
		{"List", testList},
		{"Delete", testDelete},
		{"FailingSource", testFailingSource},
		{"Isolation", testIsolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// archive opens a zip made of files.
func archive(t *testing.T, files map[string]string) *packages.Archive {
	t.Helper()
	z := packagetest.Files(files)
	a, err := packages.OpenArchive(bytes.NewReader(z), int64(len(z)), packages.Limits{})
	if err != nil {
		t.Fatalf("OpenArchive: %v", err)
	}
	return a
}

// record returns a package record of tenant named id, as an import makes
// it.
func record(tenant, identifier string, files map[string]string) *packages.Package {
	return &packages.Package{Tenant: tenant, ID: packages.PackageID(identifier), Kind: packages.SCORM12,
		Identifier: identifier, Title: "Pakke " + identifier, ActivityID: "https://lrs.test/activities/scorm/" + tenant + "/" + identifier,
		Launchables: []packages.Launchable{{ID: "sco-1", Title: "SCO", ActivityID: "https://lrs.test/activities/scorm/" + tenant + "/" + identifier + "/sco-1",
			Href: "index.html?lang=nb", SCORMType: "sco"}},
		Files: len(files), Imported: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), ImportedBy: "admin"}
}

func put(t *testing.T, s packages.Store, p *packages.Package, files map[string]string) *packages.Package {
	t.Helper()
	if err := s.PutVersion(context.Background(), p, archive(t, files)); err != nil {
		t.Fatalf("PutVersion: %v", err)
	}
	if p.Version < 1 || p.Storage == "" {
		t.Fatalf("PutVersion set version %d, storage %q", p.Version, p.Storage)
	}
	return p
}

// readFile reads a whole file of p.
func readFile(t *testing.T, s packages.Store, p *packages.Package, path string) []byte {
	t.Helper()
	f, err := s.OpenFile(context.Background(), p, path)
	if err != nil {
		t.Fatalf("OpenFile(%s): %v", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	if int64(len(b)) != f.Size() {
		t.Errorf("%s: Size %d, read %d bytes", path, f.Size(), len(b))
	}
	return b
}

func checkFiles(t *testing.T, s packages.Store, p *packages.Package, files map[string]string) {
	t.Helper()
	for path, want := range files {
		if got := readFile(t, s, p, path); string(got) != want {
			t.Errorf("version %d, %s = %q, want %q", p.Version, path, got, want)
		}
	}
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errs.Is(err, errs.NotFound) {
		t.Errorf("%s: %v, want a NotFound error", what, err)
	}
}

func same(t *testing.T, got, want *packages.Package) {
	t.Helper()
	g, w := *got, *want
	if !g.Imported.Equal(w.Imported) {
		t.Errorf("Imported = %v, want %v", g.Imported, w.Imported)
	}
	g.Imported, w.Imported = time.Time{}, time.Time{}
	if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", w) {
		t.Errorf("stored package\n%+v\nwant\n%+v", g, w)
	}
}

func testRoundTrip(t *testing.T, s packages.Store) {
	ctx := context.Background()
	files := packagetest.SCORM12Files()
	p := put(t, s, record("t1", "kurs-a", files), files)
	if p.Version != 1 {
		t.Errorf("first version = %d, want 1", p.Version)
	}
	got, err := s.Package(ctx, "t1", p.ID)
	if err != nil {
		t.Fatalf("Package: %v", err)
	}
	same(t, got, p)
	got, err = s.Version(ctx, "t1", p.ID, 1)
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	same(t, got, p)
	checkFiles(t, s, got, files)
	for _, path := range []string{"missing.html", "img", "img/", "../imsmanifest.xml", "/index.html", "img/../index.html", `img\lock.svg`, ""} {
		_, err := s.OpenFile(ctx, got, path)
		wantNotFound(t, "OpenFile("+path+")", err)
	}
	_, err = s.Version(ctx, "t1", p.ID, 2)
	wantNotFound(t, "Version 2", err)
	_, err = s.Package(ctx, "t1", packages.PackageID("other"))
	wantNotFound(t, "Package of another id", err)
}

// testRanges stores a file of several MiB (several GridFS chunks) and
// reads it whole and from offsets, across chunk boundaries.
func testRanges(t *testing.T, s packages.Store) {
	r := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 3<<20+12345)
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	files := map[string]string{"imsmanifest.xml": packagetest.SCORM12Manifest, "media/film.mp4": string(big)}
	p := put(t, s, record("t1", "film", files), files)
	if got := readFile(t, s, p, "media/film.mp4"); !bytes.Equal(got, big) {
		t.Fatalf("the large file came back different (%d bytes, want %d)", len(got), len(big))
	}
	f, err := s.OpenFile(context.Background(), p, "media/film.mp4")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, off := range []int64{0, 1, 255<<10 - 1, 255 << 10, 1<<20 + 7, int64(len(big)) - 10, int64(len(big)) - 1} {
		n := min(int64(300<<10), int64(len(big))-off)
		if pos, err := f.Seek(off, io.SeekStart); err != nil || pos != off {
			t.Fatalf("Seek(%d) = %d, %v", off, pos, err)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(f, buf); err != nil {
			t.Fatalf("reading %d bytes at %d: %v", n, off, err)
		}
		if !bytes.Equal(buf, big[off:off+n]) {
			t.Errorf("bytes at %d differ", off)
		}
	}
	if end, err := f.Seek(0, io.SeekEnd); err != nil || end != int64(len(big)) {
		t.Errorf("Seek to the end = %d, %v; want %d", end, err, len(big))
	}
	if n, err := f.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("Read at the end = %d, %v; want 0, EOF", n, err)
	}
	if _, err := f.Seek(-5, io.SeekCurrent); err != nil {
		t.Fatal(err)
	}
	tail, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(tail, big[len(big)-5:]) {
		t.Errorf("the last 5 bytes after Seek(-5, current) = %x, %v", tail, err)
	}
}

func testVersions(t *testing.T, s packages.Store) {
	ctx := context.Background()
	v1files := packagetest.SCORM12Files()
	v1 := put(t, s, record("t1", "kurs-a", v1files), v1files)
	v2files := packagetest.With(v1files, map[string]string{"index.html": "<p>versjon 2</p>", "img/lock.svg": "", "ny.html": "<p>ny</p>"})
	rec := record("t1", "kurs-a", v2files)
	rec.Title = "Versjon 2"
	v2 := put(t, s, rec, v2files)
	if v2.Version != 2 || v2.Storage == v1.Storage {
		t.Fatalf("second version = %d, storage %q (first: %q); want 2 and another storage", v2.Version, v2.Storage, v1.Storage)
	}
	latest, err := s.Package(ctx, "t1", v1.ID)
	if err != nil || latest.Version != 2 || latest.Title != "Versjon 2" {
		t.Fatalf("Package = %+v, %v; want version 2", latest, err)
	}
	// Version 1 is still served, unchanged.
	old, err := s.Version(ctx, "t1", v1.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, s, old, v1files)
	checkFiles(t, s, latest, v2files)
	_, err = s.OpenFile(ctx, latest, "img/lock.svg")
	wantNotFound(t, "a file version 2 no longer has", err)
	vs, err := s.Versions(ctx, "t1", v1.ID)
	if err != nil || len(vs) != 2 || vs[0].Version != 1 || vs[1].Version != 2 {
		t.Fatalf("Versions = %v, %v", vs, err)
	}
}

func testConcurrentVersions(t *testing.T, s packages.Store) {
	ctx := context.Background()
	files := packagetest.TinCanFiles()
	const n = 6
	var wg sync.WaitGroup
	versions := make([]int, n)
	errList := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := record("t1", "samtidig", files)
			errList[i] = s.PutVersion(ctx, p, archive(t, files))
			versions[i] = p.Version
		}()
	}
	wg.Wait()
	for _, err := range errList {
		if err != nil {
			t.Fatalf("PutVersion: %v", err)
		}
	}
	sort.Ints(versions)
	for i, v := range versions {
		if v != i+1 {
			t.Fatalf("concurrent PutVersion calls got versions %v, want 1 to %d", versions, n)
		}
	}
	vs, err := s.Versions(ctx, "t1", packages.PackageID("samtidig"))
	if err != nil || len(vs) != n {
		t.Fatalf("Versions = %d versions, %v; want %d", len(vs), err, n)
	}
	for _, v := range vs {
		checkFiles(t, s, v, files)
	}
}

func testList(t *testing.T, s packages.Store) {
	ctx := context.Background()
	list, err := s.Packages(ctx, "t1")
	if err != nil || len(list) != 0 {
		t.Fatalf("Packages of an empty store = %v, %v", list, err)
	}
	files := packagetest.CMI5Files()
	for _, id := range []string{"c", "a", "b"} {
		put(t, s, record("t1", id, files), files)
	}
	put(t, s, record("t1", "b", files), files)
	list, err = s.Packages(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range list {
		got = append(got, fmt.Sprintf("%s/%d", p.Identifier, p.Version))
	}
	want := []string{"a/1", "b/2", "c/1"}
	sort.Slice(want, func(i, j int) bool { return packages.PackageID(want[i][:1]) < packages.PackageID(want[j][:1]) })
	if !slices.Equal(got, want) {
		t.Errorf("Packages = %v, want %v (latest versions, by id)", got, want)
	}
}

func testDelete(t *testing.T, s packages.Store) {
	ctx := context.Background()
	files := packagetest.SCORM2004Files()
	v1 := put(t, s, record("t1", "slett", files), files)
	v2 := put(t, s, record("t1", "slett", files), files)
	keep := put(t, s, record("t1", "behold", files), files)
	if err := s.DeletePackage(ctx, "t1", v1.ID); err != nil {
		t.Fatalf("DeletePackage: %v", err)
	}
	_, err := s.Package(ctx, "t1", v1.ID)
	wantNotFound(t, "Package after the delete", err)
	_, err = s.Version(ctx, "t1", v1.ID, 1)
	wantNotFound(t, "Version after the delete", err)
	for _, v := range []*packages.Package{v1, v2} {
		_, err = s.OpenFile(ctx, v, "intro/index.html")
		wantNotFound(t, fmt.Sprintf("OpenFile of version %d after the delete", v.Version), err)
	}
	if vs, err := s.Versions(ctx, "t1", v1.ID); err != nil || len(vs) != 0 {
		t.Errorf("Versions after the delete = %v, %v", vs, err)
	}
	list, err := s.Packages(ctx, "t1")
	if err != nil || len(list) != 1 || list[0].ID != keep.ID {
		t.Errorf("Packages after the delete = %v, %v; want only %s", list, err, keep.ID)
	}
	checkFiles(t, s, keep, files)
	wantNotFound(t, "a second DeletePackage", s.DeletePackage(ctx, "t1", v1.ID))
	// Imported again, the package numbers on: version 1's URLs must not
	// name other content than they did.
	v3 := put(t, s, record("t1", "slett", files), files)
	if v3.Version != 3 {
		t.Errorf("the version after a delete = %d, want 3", v3.Version)
	}
	checkFiles(t, s, v3, files)
}

// failingSource fails while its second file is read.
type failingSource struct {
	packages.Source
}

var errBroken = errs.Invalidf("", "zip-corrupt", "zip entry is corrupt")

func (f failingSource) Open(p string) (io.ReadCloser, error) {
	if p != f.Paths()[1] {
		return f.Source.Open(p)
	}
	return io.NopCloser(io.MultiReader(bytes.NewReader(make([]byte, 1000)), errReader{})), nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBroken }

func testFailingSource(t *testing.T, s packages.Store) {
	ctx := context.Background()
	files := packagetest.SCORM2004Files()
	p := record("t1", "brutt", files)
	err := s.PutVersion(ctx, p, failingSource{archive(t, files)})
	if !errors.Is(err, errBroken) {
		t.Fatalf("PutVersion with a failing source = %v, want the source's error", err)
	}
	_, err = s.Package(ctx, "t1", p.ID)
	wantNotFound(t, "Package after a failed PutVersion", err)
	if list, err := s.Packages(ctx, "t1"); err != nil || len(list) != 0 {
		t.Errorf("Packages after a failed PutVersion = %v, %v", list, err)
	}
	ok := put(t, s, record("t1", "brutt", files), files)
	if ok.Version != 1 {
		t.Errorf("version after a failed PutVersion = %d, want 1", ok.Version)
	}
	checkFiles(t, s, ok, files)
}

func testIsolation(t *testing.T, s packages.Store) {
	ctx := context.Background()
	files := packagetest.CMI5Files()
	a := put(t, s, record("oslo", "felles", files), files)
	_, err := s.Package(ctx, "bergen", a.ID)
	wantNotFound(t, "bergen's Package of oslo's id", err)
	_, err = s.Version(ctx, "bergen", a.ID, 1)
	wantNotFound(t, "bergen's Version of oslo's id", err)
	if vs, err := s.Versions(ctx, "bergen", a.ID); err != nil || len(vs) != 0 {
		t.Errorf("bergen's Versions of oslo's id = %v, %v", vs, err)
	}
	if list, err := s.Packages(ctx, "bergen"); err != nil || len(list) != 0 {
		t.Errorf("bergen's Packages = %v, %v", list, err)
	}
	wantNotFound(t, "bergen's DeletePackage of oslo's id", s.DeletePackage(ctx, "bergen", a.ID))
	// A record claiming bergen with oslo's storage opens nothing.
	forged := *a
	forged.Tenant = "bergen"
	_, err = s.OpenFile(ctx, &forged, "au1/index.html")
	wantNotFound(t, "OpenFile of oslo's storage as bergen", err)
	// Bergen's own package of the same identifier is its own, version 1.
	b := put(t, s, record("bergen", "felles", packagetest.TinCanFiles()), packagetest.TinCanFiles())
	if b.ID != a.ID || b.Version != 1 {
		t.Errorf("bergen's package = %s version %d, want %s version 1", b.ID, b.Version, a.ID)
	}
	checkFiles(t, s, a, files)
	checkFiles(t, s, b, packagetest.TinCanFiles())
	if got, err := s.Package(ctx, "oslo", a.ID); err != nil || got.Version != 1 || got.Storage != a.Storage {
		t.Errorf("oslo's package after bergen's = %+v, %v", got, err)
	}
}
