package mongo

import (
	"testing"

	"github.com/xapi-lrs/lrs/privacy"
	privacytest "github.com/xapi-lrs/lrs/privacy/storetest"
)

func TestAccessLog(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			privacytest.RunAccessLog(t, func(t *testing.T) privacy.AccessLog { return openDB(t, uri) })
		})
	}
}

func TestAgentDocuments(t *testing.T) {
	for name, uri := range servers() {
		t.Run(name, func(t *testing.T) {
			privacytest.RunAgentDocuments(t, func(t *testing.T) privacytest.DocumentStore { return openDB(t, uri) })
		})
	}
}
