package sqlite_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/packages/packagetest"
	"github.com/xapi-lrs/lrs/packages/storetest"
)

func TestPackages(t *testing.T) {
	storetest.Run(t, func(t *testing.T) packages.Store { return MustOpen(t) })
}

// TestPackageFilesOnDisk checks where the files go: under "content" beside
// the database file, one directory per tenant and version, gone after the
// package is deleted.
func TestPackageFilesOnDisk(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	z := packagetest.CMI5()
	a, err := packages.OpenArchive(bytes.NewReader(z), int64(len(z)), packages.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	p := &packages.Package{Tenant: "t1", ID: packages.PackageID("disk"), Kind: packages.CMI5, Identifier: "disk",
		Imported: time.Now().UTC()}
	if err := db.PutVersion(ctx, p, a); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(filepath.Dir(db.Path()), "content", "t1", p.Storage)
	b, err := os.ReadFile(filepath.Join(dir, "au1", "index.html"))
	if err != nil || string(b) != packagetest.CMI5Files()["au1/index.html"] {
		t.Fatalf("au1/index.html on disk: %q, %v", b, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("the tenant's content directory holds %d entries, want the version's directory only (no temporary one)", len(entries))
	}
	if err := db.DeletePackage(ctx, "t1", p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the deleted version's directory: %v, want it gone", err)
	}
}
