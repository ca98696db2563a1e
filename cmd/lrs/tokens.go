package main

import (
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/xapi-lrs/lrs/tokens"
)

// tokenSettings are the settings of `lrs serve` for bearer tokens: the
// server's own (key file, issuer, lifetime) and the trusted identity
// providers.
type tokenSettings struct {
	enabled  *bool
	keyFile  *string
	alg      *string
	issuer   *string
	ttl      *time.Duration
	trusted  *string
	interval *time.Duration
}

func addTokenFlags(fs *flag.FlagSet) *tokenSettings {
	on, err := strconv.ParseBool(env("LRS_TOKENS", "true"))
	if err != nil {
		on = true
	}
	return &tokenSettings{
		enabled: fs.Bool("tokens", on, "serve bearer tokens: POST /api/v1/token, /api/v1/jwks.json, Authorization: Bearer (env LRS_TOKENS)"),
		keyFile: fs.String("token-keys", env("LRS_TOKEN_KEYS", ""),
			"PEM file of the keys signing tokens, oldest first; the last one signs; re-read when it changes (env LRS_TOKEN_KEYS; default: an ephemeral key per start)"),
		alg: fs.String("token-alg", env("LRS_TOKEN_ALG", tokens.AlgEdDSA),
			"algorithm of the ephemeral key when --token-keys is not set: EdDSA, ES256 or HS256 (env LRS_TOKEN_ALG)"),
		issuer: fs.String("token-issuer", env("LRS_TOKEN_ISSUER", ""),
			"iss of the tokens the server issues (env LRS_TOKEN_ISSUER; default: --base-url, else \"lrs\")"),
		ttl: fs.Duration("token-ttl", envDuration("LRS_TOKEN_TTL", tokens.DefaultTTL),
			"lifetime of the tokens the server issues (env LRS_TOKEN_TTL)"),
		interval: fs.Duration("token-keys-reload", envDuration("LRS_TOKEN_KEYS_RELOAD", tokens.DefaultReloadInterval),
			"how often the key file is checked for changes (env LRS_TOKEN_KEYS_RELOAD)"),
		trusted: fs.String("trusted-issuers", env("LRS_TRUSTED_ISSUERS", ""),
			"JSON file of identity providers whose tokens are accepted (env LRS_TRUSTED_ISSUERS)"),
	}
}

// service returns the token service the settings describe, or nil when
// tokens are off.
func (t *tokenSettings) service(baseURL string, log *slog.Logger) (*tokens.Service, error) {
	if !*t.enabled {
		return nil, nil
	}
	cfg := tokens.Config{
		Issuer:         *t.issuer,
		TTL:            *t.ttl,
		KeyFile:        *t.keyFile,
		ReloadInterval: *t.interval,
		Algorithm:      *t.alg,
		Logger:         log,
	}
	if cfg.Issuer == "" {
		cfg.Issuer = baseURL
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "lrs"
	}
	if *t.trusted != "" {
		var err error
		if cfg.External, err = tokens.LoadIssuers(*t.trusted); err != nil {
			return nil, fmt.Errorf("--trusted-issuers: %w", err)
		}
	}
	svc, err := tokens.New(cfg)
	if err != nil {
		return nil, err
	}
	if svc.Ephemeral() {
		log.Warn("bearer tokens are signed with an ephemeral key: they do not survive a restart and other replicas refuse them; set --token-keys to share keys")
	}
	log.Info("bearer tokens on", "issuer", cfg.Issuer, "ttl", cfg.TTL.String(), "trusted_issuers", len(cfg.External))
	return svc, nil
}
