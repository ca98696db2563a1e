package lrs

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/sqlite"
	"github.com/xapi-lrs/lrs/tokens"
)

// BenchmarkAuthenticateBearer measures what authentication with a bearer
// token adds to a request, like BenchmarkAuthenticate for Basic: the token
// check, the credential lookup (warm), the tenant check and the rate
// limiter. "uncached" checks the signature on every request (a token's
// first use); "cached" is every later use of the same token. Besides the
// wall time it reports the process CPU time per request (cpu-ns/op), the
// figure the issue's budget (20 µs of CPU per request) is about, which a
// busy machine distorts less.
func BenchmarkAuthenticateBearer(b *testing.B) {
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "lrs.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	cred := &auth.Credential{Key: "k", SecretHash: auth.HashSecret("s"), Tenant: auth.DefaultTenant,
		Scopes: []string{auth.ScopeAll}, Created: time.Now()}
	if err := db.CreateCredential(b.Context(), cred); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, alg := range []string{tokens.AlgEdDSA, tokens.AlgES256, tokens.AlgHS256} {
		for _, cached := range []bool{true, false} {
			name := alg + "/uncached"
			size := -1
			if cached {
				name, size = alg+"/cached", 0
			}
			b.Run(name, func(b *testing.B) {
				svc, err := tokens.New(tokens.Config{Issuer: "https://lrs.test", Algorithm: alg, CacheSize: size, Logger: log})
				if err != nil {
					b.Fatal(err)
				}
				s := New(Config{Store: db, Documents: db, Activities: db, Credentials: db, Tenants: db, Audit: db,
					RateLimit: 1e12, Logger: log, Tokens: svc})
				tok, err := svc.Issue(cred, []string{auth.ScopeStatementsWrite, auth.ScopeStatementsRead})
				if err != nil {
					b.Fatal(err)
				}
				e := echo.New()
				h := s.authenticate(func(c *echo.Context) error { return nil })
				r := httptest.NewRequest(http.MethodGet, "/xapi/statements", nil)
				r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
				w := httptest.NewRecorder()
				run := func() {
					if err := h(e.NewContext(r, w)); err != nil {
						b.Fatal(err)
					}
				}
				run() // warm the credential cache (and the token cache)
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					run()
				}
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
