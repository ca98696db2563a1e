package packages_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/packages/packagetest"
)

// readAll checks a zip as an import does: its directory, its manifest, and
// every file read to its end (as a store reads them).
func readAll(z []byte, lim packages.Limits) error {
	a, err := packages.OpenArchive(bytes.NewReader(z), int64(len(z)), lim)
	if err != nil {
		return err
	}
	if _, err := packages.ParseManifest(a, "", lim.WithDefaults().MaxManifestBytes); err != nil {
		return err
	}
	for _, p := range a.Paths() {
		rc, err := a.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// TestBadPackages: every bad package is refused with an errs.Invalid
// error whose message names the fault.
func TestBadPackages(t *testing.T) {
	for _, b := range packagetest.BadPackages() {
		t.Run(b.Name, func(t *testing.T) {
			err := readAll(b.Zip, packages.Limits{})
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Invalid {
				t.Fatalf("error %v, want an Invalid error", err)
			}
			if !strings.Contains(e.Message, b.Want) {
				t.Errorf("message %q does not say %q", e.Message, b.Want)
			}
		})
	}
}

// TestGoodPackagesRead: the test packages pass every check.
func TestGoodPackagesRead(t *testing.T) {
	for name, z := range map[string][]byte{"SCORM 1.2": packagetest.SCORM12(), "SCORM 2004": packagetest.SCORM2004(),
		"cmi5": packagetest.CMI5(), "Tin Can": packagetest.TinCan()} {
		if err := readAll(z, packages.Limits{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestLimits: the limits on the zip's size, its entries and their total
// size hold, each with its own message.
func TestLimits(t *testing.T) {
	z := packagetest.SCORM12()
	files := packagetest.SCORM12Files()
	n, total := len(files), 0
	for _, f := range files {
		total += len(f)
	}
	for _, tt := range []struct {
		lim  packages.Limits
		kind errs.Kind
		want string
	}{
		{packages.Limits{MaxZipBytes: int64(len(z)) - 1}, errs.TooLarge, "the limit is"},
		{packages.Limits{MaxEntries: n - 1}, errs.Invalid, fmt.Sprintf("the zip has %d entries; the limit is %d", n, n-1)},
		{packages.Limits{MaxTotalBytes: 1000}, errs.Invalid, "inflate to more than 1000 bytes"},
		{packages.Limits{MaxManifestBytes: 100}, errs.Invalid, "imsmanifest.xml has"},
	} {
		err := readAll(z, tt.lim)
		if !errs.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("limits %+v: %v; want %s saying %q", tt.lim, err, tt.kind, tt.want)
		}
	}
	if err := readAll(z, packages.Limits{MaxZipBytes: int64(len(z)), MaxEntries: n, MaxTotalBytes: int64(total)}); err != nil {
		t.Errorf("a package just within the limits: %v", err)
	}
}

func TestValidPath(t *testing.T) {
	for p, want := range map[string]bool{
		"index.html": true, "a/b/c.js": true, "min side.html": true, "æøå/ü.html": true,
		"": false, "/a": false, "a/../b": false, "..": false, "./a": false, "a//b": false, `a\b`: false,
		"C:/a": false, "a/\x00": false, strings.Repeat("a", 256): false,
	} {
		if got := packages.ValidPath(p); got != want {
			t.Errorf("ValidPath(%q) = %v, want %v", p, got, want)
		}
	}
}
