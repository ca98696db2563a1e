//go:build ferretserve

package mongo

import (
	"fmt"
	"os"
	"os/signal"
	"testing"
	"time"
)

// TestServeFerretDB is not a test: built only with -tags ferretserve, it keeps
// the in-process FerretDB that TestMain starts serving, so that `lrs serve
// --db URI` can be run against a MongoDB wire-protocol server by hand (for
// example to run the ADL conformance suite on the MongoDB backend):
//
//	LRS_FERRETDB_SERVE_FOR=30m go test -v -tags ferretserve -run TestServeFerretDB -timeout 0 ./mongo/
//
// It prints the URI and serves until interrupted or the duration elapses.
func TestServeFerretDB(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("LRS_FERRETDB_SERVE_FOR"))
	if err != nil {
		d = 10 * time.Minute
	}
	fmt.Fprintf(os.Stderr, "FerretDB serving at %s for %s\n", ferretURI, d)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	select {
	case <-sig:
	case <-time.After(d):
	}
}
