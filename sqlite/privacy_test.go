package sqlite_test

import (
	"testing"

	"github.com/xapi-lrs/lrs/privacy"
	privacytest "github.com/xapi-lrs/lrs/privacy/storetest"
)

func TestAccessLog(t *testing.T) {
	privacytest.RunAccessLog(t, func(t *testing.T) privacy.AccessLog { return MustOpen(t) })
}

func TestAgentDocuments(t *testing.T) {
	privacytest.RunAgentDocuments(t, func(t *testing.T) privacytest.DocumentStore { return MustOpen(t) })
}
