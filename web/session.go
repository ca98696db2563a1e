package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/labstack/echo/v5"
	"golang.org/x/time/rate"

	"github.com/xapi-lrs/lrs/errs"
)

// Cookie names. The session and sign-in cookies get the __Host- prefix
// over https (cookieName): the browser then takes them only from this
// host over https, with Path=/ and no Domain.
const (
	cookieSession = "lrs_session"
	cookieSignin  = "lrs_signin"
	cookieLang    = "lrs_lang"
)

// signinTTL is how long a sign-in may take: the sign-in cookie's life.
const signinTTL = 10 * time.Minute

// maxFormBytes bounds the forms the pages take.
const maxFormBytes = 16 << 10

func (p *Pages) cookieName(base string) string {
	if p.secure {
		return "__Host-" + base
	}
	return base
}

// setCookie sets a cookie of the pages: Path /, HttpOnly, SameSite=Lax,
// Secure over https; maxAge 0 makes a cookie that ends with the browser.
func (p *Pages) setCookie(c *echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: p.secure,
		SameSite: http.SameSiteLaxMode})
}

func (p *Pages) clearCookie(c *echo.Context, name string) { p.setCookie(c, name, "", -1) }

// token returns 256 random bits, base64url-encoded.
func token() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// signin is what the sign-in cookie holds while a person signs in: the
// token of the sign-in form, and for OpenID Connect the state, nonce and
// PKCE verifier of the authorization request and where to go after.
type signin struct {
	CSRF     string    `json:"c"`
	State    string    `json:"s,omitempty"`
	Nonce    string    `json:"n,omitempty"`
	Verifier string    `json:"v,omitempty"`
	Next     string    `json:"x,omitempty"`
	Started  time.Time `json:"t"`
}

// readSignin returns the sign-in of the request, or nil when there is
// none or it is older than signinTTL.
func (p *Pages) readSignin(c *echo.Context) *signin {
	ck, err := c.Cookie(p.cookieName(cookieSignin))
	if err != nil {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	var s signin
	if err != nil || json.Unmarshal(b, &s) != nil || s.CSRF == "" || p.now().Sub(s.Started) > signinTTL {
		return nil
	}
	return &s
}

// writeSignin sets the sign-in cookie.
func (p *Pages) writeSignin(c *echo.Context, s *signin) {
	b, _ := json.Marshal(s)
	p.setCookie(c, p.cookieName(cookieSignin), base64.RawURLEncoding.EncodeToString(b), int(signinTTL/time.Second))
}

// startSignin returns the sign-in of the request, or starts a new one
// (and sets its cookie).
func (p *Pages) startSignin(c *echo.Context) *signin {
	if s := p.readSignin(c); s != nil {
		return s
	}
	s := &signin{CSRF: token(), Started: p.now().UTC()}
	p.writeSignin(c, s)
	return s
}

// errCSRF is the answer to a form without the right token, or posted from
// another site.
var errCSRF = errs.E(errs.Forbidden, "the form's token is missing or wrong")

// checkForm reads the form of a POST (at most limit bytes; a multipart
// form's files too) and checks that it comes from this site and carries
// want in its csrf field.
func (p *Pages) checkForm(c *echo.Context, want string, limit int64) error {
	r := c.Request()
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return errCSRF
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != p.host(r) {
			return errCSRF
		}
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		err = r.ParseMultipartForm(limit)
	} else {
		err = r.ParseForm()
	}
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		return errs.E(errs.TooLarge, "the form is larger than %d bytes", limit)
	}
	if err != nil {
		return errs.Invalidf("", "form", "the form could not be read")
	}
	got := r.PostForm.Get("csrf")
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errCSRF
	}
	return nil
}

// host is the host the site is reached at: the base URL's, else the
// request's.
func (p *Pages) host(r *http.Request) string {
	if p.cfg.BaseURL != "" {
		if u, err := url.Parse(p.cfg.BaseURL); err == nil {
			return u.Host
		}
	}
	return r.Host
}

// throttle limits failed sign-ins by key (an account name, a client
// address): burst at once, then one every interval. It forgets keys that
// have refilled when it holds many.
type throttle struct {
	now   func() time.Time
	burst int
	every time.Duration
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

// throttleKeys is how many keys a throttle holds before it forgets the
// refilled ones.
const throttleKeys = 10000

func newThrottle(now func() time.Time, burst int, every time.Duration) *throttle {
	return &throttle{now: now, burst: burst, every: every, m: map[string]*rate.Limiter{}}
}

// allowed reports whether key may try again.
func (t *throttle) allowed(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.m[key]
	return l == nil || l.TokensAt(t.now()) >= 1
}

// failed records a failure of key.
func (t *throttle) failed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.m) > throttleKeys {
		for k, l := range t.m {
			if l.TokensAt(now) >= float64(t.burst) {
				delete(t.m, k)
			}
		}
	}
	l := t.m[key]
	if l == nil {
		l = rate.NewLimiter(rate.Every(t.every), t.burst)
		t.m[key] = l
	}
	l.AllowN(now, 1)
}
