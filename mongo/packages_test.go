package mongo

import (
	"bytes"
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/xapi-lrs/lrs/packages"
	"github.com/xapi-lrs/lrs/packages/packagetest"
	"github.com/xapi-lrs/lrs/packages/storetest"
)

func TestPackages(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) packages.Store { return openDB(t, uri) })
		})
	}
}

// TestPackageFilesInGridFS checks where the files go: GridFS documents
// (content.files and content.chunks) that every replica reads, gone after
// the package is deleted.
func TestPackageFilesInGridFS(t *testing.T) {
	db := openDB(t, ferretURI)
	ctx := context.Background()
	z := packagetest.CMI5()
	a, err := packages.OpenArchive(bytes.NewReader(z), int64(len(z)), packages.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	p := &packages.Package{Tenant: "t1", ID: packages.PackageID("gridfs"), Kind: packages.CMI5, Identifier: "gridfs",
		Imported: time.Now().UTC()}
	if err := db.PutVersion(ctx, p, a); err != nil {
		t.Fatal(err)
	}
	count := func(coll string, filter bson.D) int64 {
		t.Helper()
		n, err := db.db.Collection(coll).CountDocuments(ctx, filter)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("content.files", bson.D{{Key: "metadata.s", Value: p.Storage}, {Key: "metadata.t", Value: "t1"}}); n != int64(len(a.Paths())) {
		t.Errorf("content.files holds %d files of the version, want %d", n, len(a.Paths()))
	}
	if n := count("content.chunks", bson.D{{Key: "files_id", Value: p.Storage + "/au1/index.html"}}); n != 1 {
		t.Errorf("au1/index.html has %d chunks, want 1", n)
	}
	if err := db.DeletePackage(ctx, "t1", p.ID); err != nil {
		t.Fatal(err)
	}
	if n := count("content.files", bson.D{{Key: "metadata.s", Value: p.Storage}}); n != 0 {
		t.Errorf("content.files holds %d files of the deleted package", n)
	}
	if n := count("content.chunks", bson.D{}); n != 0 {
		t.Errorf("content.chunks holds %d chunks after the only package was deleted", n)
	}
}
