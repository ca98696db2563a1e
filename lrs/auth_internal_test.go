package lrs

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/sqlite"
)

// BenchmarkAuthenticate measures what authentication adds to a request once
// the credential is warm in the cache: the Basic header, the SHA-256 of the
// secret and its constant-time compare, the tenant check and the rate
// limiter. The budget is 20 µs of CPU per request.
func BenchmarkAuthenticate(b *testing.B) {
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "lrs.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	secret := auth.RandomHex(24)
	if err := db.CreateCredential(b.Context(), &auth.Credential{Key: "k", SecretHash: auth.HashSecret(secret),
		Tenant: auth.DefaultTenant, Scopes: []string{auth.ScopeAll}, Created: time.Now()}); err != nil {
		b.Fatal(err)
	}
	// A rate so high that the limiter does its work but never refuses.
	s := New(Config{Store: db, Documents: db, Activities: db, Credentials: db, Tenants: db, Audit: db,
		RateLimit: 1e12, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e := echo.New()
	h := s.authenticate(func(c *echo.Context) error { return nil })
	r := httptest.NewRequest(http.MethodGet, "/xapi/statements", nil)
	r.SetBasicAuth("k", secret)
	w := httptest.NewRecorder()
	run := func() {
		c := e.NewContext(r, w)
		if err := h(c); err != nil {
			b.Fatal(err)
		}
	}
	run() // warm the cache
	b.ReportAllocs()
	for b.Loop() {
		run()
	}
}
