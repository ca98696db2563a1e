package web

import (
	"context"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/xapi-lrs/lrs/accounts"
	"github.com/xapi-lrs/lrs/errs"
)

// loginData is the data of the sign-in page.
type loginData struct {
	token   string
	Next    string
	Name    string // the name typed, kept after a failure
	Message string // why the last attempt failed
	OIDC    string // the name of the identity provider, when there is one
	// NoAccounts: nobody can sign in yet (no account, no identity
	// provider); the page says how to make the first account.
	NoAccounts bool
}

func (d loginData) csrf() string { return d.token }

// loginPage serves GET /login?next=PATH: the sign-in form, and the
// identity provider's button.
func (p *Pages) loginPage(r *request) error {
	s := p.startSignin(r.c)
	return p.showLogin(r, http.StatusOK, s, "", "")
}

func (p *Pages) showLogin(r *request, status int, s *signin, name, message string) error {
	d := loginData{token: s.CSRF, Next: localPath(r.c.QueryParam("next")), Name: name, Message: message}
	if r.c.Request().Method == http.MethodPost {
		d.Next = localPath(r.c.Request().PostForm.Get("next"))
	}
	if p.oidc != nil {
		d.OIDC = p.oidc.cfg.Name
	} else {
		d.NoAccounts = !p.anyAccount(r)
	}
	return p.render(r, status, "login", r.T("login.title"), d)
}

// login serves POST /login: name, password, csrf and next. A success
// starts a session (ending the one the browser had) and goes to next.
func (p *Pages) login(r *request) error {
	c := r.c
	s := p.readSignin(c)
	if s == nil {
		s = p.startSignin(c)
		return p.showLogin(r, http.StatusForbidden, s, "", r.T("login.expired"))
	}
	if err := p.checkForm(c, s.CSRF, maxFormBytes); err != nil {
		return err
	}
	form := c.Request().PostForm
	name, password := form.Get("name"), form.Get("password")
	addr := c.RealIP()
	if !p.nameFailures.allowed(name) || !p.addrFailures.allowed(addr) {
		return p.showLogin(r, http.StatusTooManyRequests, s, name, r.T("login.throttle"))
	}
	a, err := p.cfg.Accounts.CheckPassword(c.Request().Context(), name, password)
	if errs.Is(err, errs.Unauthorized) {
		p.nameFailures.failed(name)
		p.addrFailures.failed(addr)
		p.log.Warn("failed sign-in", "account", name)
		return p.showLogin(r, http.StatusUnauthorized, s, name, r.T("login.failed"))
	}
	if err != nil {
		return err
	}
	return p.startSession(r, accounts.SignIn{Tenant: a.Tenant, Account: a.Name, Person: a.Person,
		Method: accounts.MethodPassword, Label: a.Name}, localPath(form.Get("next")))
}

// startSession signs the browser in: it ends the session it had (so that
// a session id planted before sign-in is worth nothing), starts a new one
// and goes to next.
func (p *Pages) startSession(r *request, in accounts.SignIn, next string) error {
	c := r.c
	ctx := c.Request().Context()
	if ck, err := c.Cookie(p.cookieName(cookieSession)); err == nil {
		if err := p.cfg.Accounts.EndSession(ctx, ck.Value); err != nil {
			return err
		}
	}
	secret, _, err := p.cfg.Accounts.StartSession(ctx, in)
	if err != nil {
		return err
	}
	p.setCookie(c, p.cookieName(cookieSession), secret, 0)
	p.clearCookie(c, p.cookieName(cookieSignin))
	p.log.Info("signed in", "tenant", in.Tenant, "account", in.Account, "person", in.Person, "method", in.Method)
	p.cleanup()
	return c.Redirect(http.StatusSeeOther, next)
}

// cleanup deletes ended sessions in the background, at most every ten
// minutes (at a sign-in).
func (p *Pages) cleanup() {
	now := p.now().UnixNano()
	last := p.cleaned.Load()
	if now-last < int64(10*time.Minute) || !p.cleaned.CompareAndSwap(last, now) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if n, err := p.cfg.Accounts.DeleteExpiredSessions(ctx); err != nil {
			p.log.Warn("deleting ended sessions", "err", err)
		} else if n > 0 {
			p.log.Info("deleted ended sessions", "sessions", n)
		}
	}()
}

// logout serves POST /logout: the session ends, and its cookie.
func (p *Pages) logout(r *request) error {
	c := r.c
	if ck, err := c.Cookie(p.cookieName(cookieSession)); err == nil {
		if err := p.cfg.Accounts.EndSession(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	p.clearCookie(c, p.cookieName(cookieSession))
	p.log.Info("signed out", "tenant", r.sess.Tenant, "account", r.sess.Account, "person", r.sess.Person)
	return c.Redirect(http.StatusSeeOther, "/login")
}

// oidcStart serves GET /auth/oidc/start?next=PATH: it sends the browser to
// the identity provider with a fresh state, nonce and PKCE verifier, kept
// in the sign-in cookie.
func (p *Pages) oidcStart(r *request) error {
	if p.oidc == nil {
		return errs.E(errs.NotFound, "no OpenID Connect provider is configured")
	}
	c := r.c
	s := p.startSignin(c)
	s.State, s.Nonce, s.Verifier, s.Next = token(), token(), token(), localPath(c.QueryParam("next"))
	u, err := p.oidc.authURL(c.Request().Context(), s.State, s.Nonce, s.Verifier)
	if err != nil {
		return err
	}
	p.writeSignin(c, s)
	return c.Redirect(http.StatusSeeOther, u)
}

// oidcCallback serves GET /auth/oidc/callback?code=&state=: it checks the
// state against the sign-in cookie, redeems the code with the PKCE
// verifier, verifies the ID token (signature, issuer, audience, expiry,
// nonce), finds the person its claim names, and starts a session.
func (p *Pages) oidcCallback(r *request) error {
	if p.oidc == nil {
		return errs.E(errs.NotFound, "no OpenID Connect provider is configured")
	}
	c := r.c
	s := p.readSignin(c)
	state := c.QueryParam("state")
	if s == nil || s.State == "" || subtle.ConstantTimeCompare([]byte(state), []byte(s.State)) != 1 {
		return p.showLogin(r, http.StatusForbidden, p.startSignin(c), "", r.T("login.expired"))
	}
	if e := c.QueryParam("error"); e != "" {
		p.log.Warn("the identity provider refused the sign-in", "error", e, "description", c.QueryParam("error_description"))
		return p.showLogin(r, http.StatusUnauthorized, s, "", r.T("login.expired"))
	}
	ctx := c.Request().Context()
	value, err := p.oidc.exchange(ctx, c.QueryParam("code"), s.Verifier, s.Nonce)
	if err != nil {
		return err
	}
	in, err := p.oidc.signIn(ctx, p.cfg.Accounts, p.cfg.Reporting, value, p.now(), p.cfg.Location)
	if errs.Is(err, errs.NotFound) || errs.Is(err, errs.Forbidden) {
		p.log.Warn("OpenID Connect sign-in of nobody known", "claim", p.oidc.cfg.PersonClaim, "err", err)
		return p.showLogin(r, http.StatusForbidden, s, "", r.T("login.notfound"))
	}
	if err != nil {
		return err
	}
	return p.startSession(r, in, localPath(s.Next))
}

// anyAccount reports whether an account exists. Once one does, it is not
// asked again (accounts are disabled, not deleted, in the normal course);
// until then the list it reads is empty.
func (p *Pages) anyAccount(r *request) bool {
	if p.hasAccounts.Load() {
		return true
	}
	as, err := p.cfg.Accounts.Accounts(r.c.Request().Context(), "")
	if err != nil || len(as) > 0 {
		p.hasAccounts.Store(true) // on an error, no advice
		return true
	}
	return false
}
