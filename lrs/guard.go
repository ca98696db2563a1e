package lrs

import (
	"context"
	"math"
	"net"
	"net/netip"
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

// Failed logins are throttled (failureThrottle), so that guessing secrets
// is slow and cheap to refuse. Only guesses count: a wrong secret or an
// unknown key, of HTTP Basic (on any route, also in the form of the
// alternate request syntax) or of the token endpoint. Requests without
// credentials, with a revoked credential or one of a disabled tenant guess
// nothing and are not counted; neither are bad bearer tokens, which are
// signed and cannot be guessed. Three kinds of token buckets (rate.Limiter)
// hold the failures allowed:
//
//   - per client address (an IPv6 address counts per /64):
//     failureAddrBurst, then one more per second, whatever the keys;
//   - per key: failureKeyBurst, then one more per second, whatever the
//     addresses: this slows a guessing spread over many addresses;
//   - per key and address, for a pair known to be good (below):
//     failureAddrBurst, then one more per second.
//
// An attempt that an empty bucket applies to is answered 429 with
// Retry-After (the seconds until the bucket has room, 1 at the steady
// rate) before its secret is checked, so that a throttled client learns
// nothing, and it empties no bucket further.
//
// Lockouts. Keys are not secret (a statement's authority names its key),
// so anyone could keep a key's bucket empty and lock out the client that
// owns it. A key and address pair that authenticated within goodFor is
// therefore known to be good: the per-address and per-key buckets do not
// apply to it, only its own pair bucket, which only wrong secrets sent with
// that key from that very address empty. An LMS that works keeps working
// whatever is sent from other addresses, and whatever other keys are tried
// from its own. A client new to a key waits (Retry-After: 1) only while a
// guessing of that key spread over many addresses lasts; one address alone
// cannot hold a key's bucket empty, as its own empties first
// (failureAddrBurst < failureKeyBurst) and then it gets no more guesses
// than the key's bucket refills. Only someone sending wrong secrets for the
// very key from the very address of a client can lock that client out:
// from there, nothing tells them apart.
//
// Behind a reverse proxy every client has the proxy's address unless the
// proxy's range is in Config.TrustedProxies (then its X-Forwarded-For names
// the client; see clientIP); without that, the per-address bucket is
// shared by all, and clients known to be good still get in.
type failureThrottle struct {
	now    func() time.Time
	byAddr *limiters
	byKey  *limiters
	byPair *limiters // only for pairs known to be good

	mu        sync.RWMutex
	good      map[string]time.Time // pair -> last success
	goodSwept time.Time
}

// The failure throttle's budgets.
const (
	failureAddrBurst = 20
	failureKeyBurst  = 50
	failureRate      = 1 // failures per second, once a bucket is empty
	// goodFor is how long a pair that authenticated stays known to be good.
	goodFor = 24 * time.Hour
)

func newFailureThrottle(now func() time.Time) *failureThrottle {
	return &failureThrottle{now: now,
		byAddr: newLimiters(failureRate, failureAddrBurst, now),
		byKey:  newLimiters(failureRate, failureKeyBurst, now),
		byPair: newLimiters(failureRate, failureAddrBurst, now),
		good:   make(map[string]time.Time)}
}

// pairOf names a key and address pair (an address has no NUL).
func pairOf(key, addr string) string { return key + "\x00" + addr }

// check returns an errs.TooManyRequests error, and sets Retry-After, when
// attempts with key from addr are throttled.
func (ft *failureThrottle) check(c *echo.Context, key, addr string) error {
	now := ft.now()
	pair := pairOf(key, addr)
	buckets := []*rate.Limiter{ft.byPair.peek(pair)}
	if !ft.isGood(pair, now) {
		buckets = []*rate.Limiter{ft.byAddr.peek(addr), ft.byKey.peek(key)}
	}
	for _, lim := range buckets {
		if lim != nil && lim.TokensAt(now) < 1 {
			setRetryAfter(c, lim, now)
			return errs.E(errs.TooManyRequests,
				"too many failed authentications with this key or from this address; retry after the Retry-After seconds")
		}
	}
	return nil
}

// failed counts a wrong key or secret sent with key from addr.
func (ft *failureThrottle) failed(key, addr string) {
	now := ft.now()
	ft.byAddr.get(addr).AllowN(now, 1)
	ft.byKey.get(key).AllowN(now, 1)
	if pair := pairOf(key, addr); ft.isGood(pair, now) {
		ft.byPair.get(pair).AllowN(now, 1)
	}
}

func (ft *failureThrottle) isGood(pair string, now time.Time) bool {
	ft.mu.RLock()
	last, ok := ft.good[pair]
	ft.mu.RUnlock()
	return ok && now.Sub(last) < goodFor
}

// succeeded records that key authenticated from addr. The record is
// renewed at most once a minute, so that most requests only read it.
func (ft *failureThrottle) succeeded(key, addr string) {
	now := ft.now()
	pair := pairOf(key, addr)
	ft.mu.RLock()
	last, ok := ft.good[pair]
	ft.mu.RUnlock()
	if ok && now.Sub(last).Abs() < time.Minute {
		return
	}
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if full := len(ft.good) >= maxLimiters; full || now.Sub(ft.goodSwept).Abs() >= time.Hour {
		// Drop the expired records and, when full, arbitrary ones down to
		// nine tenths, as limiters.sweep does.
		ft.goodSwept = now
		for p, last := range ft.good {
			if now.Sub(last) >= goodFor || full && len(ft.good) >= maxLimiters*9/10 {
				delete(ft.good, p)
			}
		}
	}
	ft.good[pair] = now
}

// clientIP returns how the service finds a request's client address: the
// peer's, or, when the peer is one of the trusted proxies, the nearest
// address in X-Forwarded-For that is not a trusted proxy. Nothing else is
// trusted (not loopback, nor private ranges, which echo trusts by default):
// X-Forwarded-For from anyone else is ignored, as anyone can send it.
func clientIP(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// clientAddr is the address the failure throttle counts a request's
// failures by: the client's IP address (echo's RealIP), an IPv6 address
// cut to its /64, as one host commonly holds all of a /64.
func clientAddr(c *echo.Context) string {
	ip := c.RealIP()
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() || a.Is4In6() {
		return ip
	}
	p, _ := a.Prefix(64)
	return p.String()
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
