package sqlite_test

import (
	"testing"

	"github.com/xapi-lrs/lrs/documents"
	"github.com/xapi-lrs/lrs/documents/storetest"
	"github.com/xapi-lrs/lrs/statements"
)

func TestDocuments(t *testing.T) {
	storetest.Run(t, func(t *testing.T) documents.Store { return MustOpen(t) })
}

func TestDocumentsLarge(t *testing.T) {
	storetest.RunLarge(t, func(t *testing.T) documents.Store { return MustOpen(t) }, 10<<20)
}

func TestActivities(t *testing.T) {
	storetest.RunActivities(t, func(t *testing.T) statements.ActivityStore { return MustOpen(t) })
}
