package lrs

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"
	"golang.org/x/time/rate"

	"github.com/xapi-lrs/lrs/errs"
)

// Defaults of the hardening settings in Config.
const (
	DefaultRateLimit      = 1000 // requests per second per credential
	DefaultRequestTimeout = 2 * time.Minute
)

// rateLimiter limits the requests of each credential: a token bucket
// (golang.org/x/time/rate) per credential key holding burst requests and
// refilled at rate per second. A client over its rate gets 429 with
// Retry-After.
//
// A clock that steps back neither refills nor drains a bucket: rate.Limiter
// measures no time across a backward step. After one, it measures from the
// earlier time, so when the clock comes forward again a bucket may refill
// by up to one burst more than it would have; the hand-written bucket this
// replaces kept the later time instead. Erring that way lets clients in.
type rateLimiter struct {
	rate float64 // requests per second; <= 0: no limit
	set  *limiters
}

func newRateLimiter(rps float64, burst int, now func() time.Time) *rateLimiter {
	if burst <= 0 {
		burst = int(math.Max(1, 2*rps))
	}
	return &rateLimiter{rate: rps, set: newLimiters(rate.Limit(rps), burst, now)}
}

// allow takes a token for key, or returns an errs.TooManyRequests error and
// sets Retry-After.
func (l *rateLimiter) allow(c *echo.Context, key string) error {
	if l == nil || l.rate <= 0 {
		return nil
	}
	now := l.set.now()
	lim := l.set.get(key)
	if lim.AllowN(now, 1) {
		return nil
	}
	setRetryAfter(c, lim, now)
	return errs.E(errs.TooManyRequests, "this credential is over its rate limit of %g requests per second; retry after the Retry-After seconds", l.rate)
}

// setRetryAfter sets the Retry-After header to the whole seconds until lim
// has a token again, at least 1.
func setRetryAfter(c *echo.Context, lim *rate.Limiter, now time.Time) {
	wait := (1 - lim.TokensAt(now)) / float64(lim.Limit())
	c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait)))))
}

// limiters keeps a rate.Limiter per key (a credential key, a client
// address), made on first use. A limiter left alone until it has refilled
// is the same as a new one, so such idle limiters are dropped, once a
// minute and whenever the set is full: memory is bounded by the keys
// active within one refill time, and by maxLimiters.
type limiters struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu    sync.RWMutex
	m     map[string]*rate.Limiter
	swept time.Time
}

// maxLimiters bounds a set of limiters. When it is full of busy ones, a
// tenth of them, arbitrary ones, are dropped (they start afresh, with a full
// bucket), which errs on the side of letting clients in.
const maxLimiters = 100000

func newLimiters(limit rate.Limit, burst int, now func() time.Time) *limiters {
	return &limiters{limit: limit, burst: burst, now: now, m: make(map[string]*rate.Limiter)}
}

// peek returns key's limiter, or nil when it has none (a full bucket).
func (ls *limiters) peek(key string) *rate.Limiter {
	ls.mu.RLock()
	defer ls.mu.RUnlock()
	return ls.m[key]
}

// get returns key's limiter, making one if needed.
func (ls *limiters) get(key string) *rate.Limiter {
	if l := ls.peek(key); l != nil {
		return l
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if l := ls.m[key]; l != nil {
		return l
	}
	if now := ls.now(); len(ls.m) >= maxLimiters || now.Sub(ls.swept).Abs() >= time.Minute {
		ls.sweep(now)
	}
	l := rate.NewLimiter(ls.limit, ls.burst)
	ls.m[key] = l
	return l
}

// sweep drops the limiters that have refilled, then, if the set is still
// full, arbitrary ones (map order is random) down to nine tenths.
func (ls *limiters) sweep(now time.Time) {
	ls.swept = now
	for k, l := range ls.m {
		if l.TokensAt(now) >= float64(ls.burst) {
			delete(ls.m, k)
		}
	}
	if len(ls.m) < maxLimiters {
		return
	}
	for k := range ls.m {
		if len(ls.m) < maxLimiters*9/10 {
			break
		}
		delete(ls.m, k)
	}
}

// secure sets the security headers every response carries, and bounds the
// time a request may take.
func (s *Server) secure(next echo.HandlerFunc) echo.HandlerFunc {
	hsts := strings.HasPrefix(s.cfg.BaseURL, "https://")
	return func(c *echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		// Answers hold personal data: no shared cache may keep them.
		h.Set("Cache-Control", "no-store")
		if hsts || c.Request().TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if s.cfg.RequestTimeout > 0 {
			ctx, cancel := context.WithTimeout(c.Request().Context(), s.cfg.RequestTimeout)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
		}
		return next(c)
	}
}
