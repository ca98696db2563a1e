package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xapi-lrs/lrs/accounts"
	"github.com/xapi-lrs/lrs/auth"
	"github.com/xapi-lrs/lrs/cmd/lrs/wire"
	"github.com/xapi-lrs/lrs/web"
)

// pageSettings are the settings of `lrs serve` for the pages for people
// (package web): sessions, the time zone of the pages, and sign-in with an
// OpenID Connect provider.
type pageSettings struct {
	enabled  *bool
	timeZone *string
	idle     *time.Duration
	maxAge   *time.Duration

	issuer, clientID, clientSecret, name, tenant, claim, match, scopes *string
}

func addPageFlags(fs *flags) *pageSettings {
	return &pageSettings{
		enabled: fs.envBool("pages", "LRS_PAGES", true, "serve the pages for people (sign-in, training status) at /"),
		timeZone: fs.envString("pages-time-zone", "LRS_PAGES_TIME_ZONE", "Europe/Oslo",
			"IANA time `zone` of the calendar days on the pages (due dates, the as-of picker, times shown)"),
		idle: fs.envDuration("session-idle", "LRS_SESSION_IDLE", accounts.DefaultIdleTimeout, time.Minute, nil,
			"a page session ends after this `time` without a request"),
		maxAge: fs.envDuration("session-max-age", "LRS_SESSION_MAX_AGE", accounts.DefaultMaxAge, time.Minute, nil,
			"a page session ends this `long` after sign-in, whatever happens"),
		issuer: fs.envString("oidc-issuer", "LRS_OIDC_ISSUER", "",
			"issuer `URL` of an OpenID Connect provider people sign in to the pages with (needs --base-url; "+
				"register BASE-URL/auth/oidc/callback as its redirect URI)"),
		clientID:     fs.envString("oidc-client-id", "LRS_OIDC_CLIENT_ID", "", "the client `id` registered with the OpenID Connect provider"),
		clientSecret: fs.envString("oidc-client-secret", "LRS_OIDC_CLIENT_SECRET", "", "the client `secret` (prefer the environment variable)"),
		name:         fs.envString("oidc-name", "LRS_OIDC_NAME", "", "the provider's `name` on the sign-in button (default: the issuer's host)"),
		tenant:       fs.envString("oidc-tenant", "LRS_OIDC_TENANT", auth.DefaultTenant, "the `tenant` whose people sign in with the provider"),
		claim: fs.envString("oidc-person-claim", "LRS_OIDC_PERSON_CLAIM", "email",
			"the ID token `claim` that names the person (email, preferred_username, an employee number claim, ...)"),
		match: fs.envString("oidc-person-match", "LRS_OIDC_PERSON_MATCH", web.MatchEmail,
			"how the claim is matched against the roster: `email` (one of the person's e-mail addresses), "+
				"employee-id, or account:HOMEPAGE (the person's LMS account on HOMEPAGE)"),
		scopes: fs.envString("oidc-scopes", "LRS_OIDC_SCOPES", "openid,email,profile", "`scopes` asked of the provider, comma-separated"),
	}
}

// config returns the settings of the pages (nil when they are off), or an
// error naming the setting that is wrong.
func (p *pageSettings) config(baseURL string) (*wire.Pages, error) {
	if !*p.enabled {
		return nil, nil
	}
	loc, err := time.LoadLocation(*p.timeZone)
	if err != nil || *p.timeZone == "Local" || *p.timeZone == "" {
		return nil, fmt.Errorf("serve: --pages-time-zone (LRS_PAGES_TIME_ZONE) %q: want an IANA time zone like Europe/Oslo", *p.timeZone)
	}
	if *p.maxAge < *p.idle {
		return nil, errors.New("serve: --session-max-age must not be shorter than --session-idle")
	}
	pc := &wire.Pages{Location: loc, Idle: *p.idle, MaxAge: *p.maxAge}
	if *p.issuer == "" {
		return pc, nil
	}
	if baseURL == "" {
		return nil, errors.New("serve: --oidc-issuer needs --base-url (LRS_BASE_URL): the redirect URI registered with the provider is BASE-URL/auth/oidc/callback")
	}
	var scopes []string
	for _, s := range strings.Split(*p.scopes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			scopes = append(scopes, s)
		}
	}
	pc.OIDC = &web.OIDCConfig{Issuer: *p.issuer, ClientID: *p.clientID, ClientSecret: *p.clientSecret, Name: *p.name,
		Tenant: *p.tenant, PersonClaim: *p.claim, PersonMatch: *p.match, Scopes: scopes}
	return pc, nil
}
