package lrs

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/xapi-lrs/lrs/errs"
)

// Defaults of the hardening settings in Config.
const (
	DefaultRateLimit      = 1000 // requests per second per credential
	DefaultRequestTimeout = 2 * time.Minute
)

// rateLimiter keeps a token bucket per credential key: each request takes a
// token; tokens come back at rate per second up to burst. A client over its
// rate gets 429 with Retry-After.
type rateLimiter struct {
	rate  float64 // tokens per second; <= 0: no limit
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the limiter's memory; when full it starts afresh (a
// full bucket for everyone), which errs on the side of letting clients in.
const maxBuckets = 100000

func newRateLimiter(rate float64, burst int, now func() time.Time) *rateLimiter {
	if burst <= 0 {
		burst = int(math.Max(1, 2*rate))
	}
	return &rateLimiter{rate: rate, burst: float64(burst), now: now, buckets: make(map[string]*bucket)}
}

// allow takes a token for key, or returns an errs.TooManyRequests error and
// sets Retry-After.
func (l *rateLimiter) allow(c *echo.Context, key string) error {
	if l == nil || l.rate <= 0 {
		return nil
	}
	now := l.now()
	l.mu.Lock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.buckets = make(map[string]*bucket)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	// A clock that steps back must not drain the bucket.
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		l.mu.Unlock()
		return nil
	}
	wait := (1 - b.tokens) / l.rate
	l.mu.Unlock()
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait))))
	return errs.E(errs.TooManyRequests, "this credential is over its rate limit of %g requests per second; retry after the Retry-After seconds", l.rate)
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
