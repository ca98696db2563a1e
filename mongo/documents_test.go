package mongo

import (
	"os"
	"testing"

	"github.com/xapi-lrs/lrs/documents"
	dstoretest "github.com/xapi-lrs/lrs/documents/storetest"
	"github.com/xapi-lrs/lrs/statements"
)

func TestDocuments(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			dstoretest.Run(t, func(t *testing.T) documents.Store { return openDB(t, uri) })
		})
	}
}

// TestDocumentsLarge stores a 10 MB document on a real MongoDB (when
// LRS_TEST_MONGODB_URI is set) and a small one on FerretDB, which is slow
// with large values.
func TestDocumentsLarge(t *testing.T) {
	dstoretest.RunLarge(t, func(t *testing.T) documents.Store { return openDB(t, ferretURI) }, 256<<10)
	if uri := os.Getenv("LRS_TEST_MONGODB_URI"); uri != "" {
		dstoretest.RunLarge(t, func(t *testing.T) documents.Store { return openDB(t, uri) }, 10<<20)
	}
}

func TestActivities(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			dstoretest.RunActivities(t, func(t *testing.T) statements.ActivityStore { return openDB(t, uri) })
		})
	}
}
