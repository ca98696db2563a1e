package packages_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/packages/packagetest"
)

// clientError fails t unless err is nil or an error a client caused
// (Invalid, or TooLarge for a zip over the limit): a bad package must
// never look like the server's fault.
func clientError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid && e.Kind != errs.TooLarge {
		t.Fatalf("error %v (%T) is not a client's error", err, err)
	}
	if e.Message == "" {
		t.Fatalf("error %v has no message", err)
	}
}

// FuzzManifests feeds the three manifest parsers any bytes: they return a
// manifest or an Invalid error, never panic.
//
//	go test -run='^$' -fuzz=FuzzManifests -fuzztime=60s ./packages/
func FuzzManifests(f *testing.F) {
	for _, m := range []string{packagetest.SCORM12Manifest, packagetest.SCORM2004Manifest, packagetest.CMI5Manifest, packagetest.TinCanManifest} {
		f.Add([]byte(m))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func([]byte) (*packages.Manifest, error){packages.ParseIMSManifest, packages.ParseCMI5, packages.ParseTinCan} {
			m, err := parse(data)
			clientError(t, err)
			if err == nil && (m.Identifier == "" || len(m.Launchables) == 0 || !m.Kind.Valid()) {
				t.Fatalf("a manifest without identifier, launchables or kind: %+v", m)
			}
		}
	})
}

// FuzzArchive feeds the import's reading of a zip any bytes: the zip's
// checks, its manifest, every file read to its end. Each fails with a
// client's error or succeeds, never panics, and a file that passed the
// checks has a safe name.
//
//	go test -run='^$' -fuzz=FuzzArchive -fuzztime=60s ./packages/
func FuzzArchive(f *testing.F) {
	for _, z := range [][]byte{packagetest.SCORM12(), packagetest.SCORM2004(), packagetest.CMI5(), packagetest.TinCan()} {
		f.Add(z)
	}
	lim := packages.Limits{MaxZipBytes: 1 << 20, MaxTotalBytes: 4 << 20, MaxEntries: 200}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := packages.OpenArchive(bytes.NewReader(data), int64(len(data)), lim)
		clientError(t, err)
		if err != nil {
			return
		}
		for _, p := range a.Paths() {
			if !packages.ValidPath(p) {
				t.Fatalf("the archive kept the unsafe path %q", p)
			}
			rc, err := a.Open(p)
			clientError(t, err)
			if err != nil {
				continue
			}
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
			clientError(t, err)
		}
		m, err := packages.ParseManifest(a, "", 0)
		clientError(t, err)
		if err == nil {
			for _, l := range m.Launchables {
				if l.Href == "" {
					t.Fatalf("launchable %q has no href", l.ID)
				}
			}
		}
	})
}
