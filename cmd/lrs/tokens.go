package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
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

func addTokenFlags(fs *flags) *tokenSettings {
	return &tokenSettings{
		enabled: fs.envBool("tokens", "LRS_TOKENS", true, "serve bearer tokens: POST /api/v1/token, /api/v1/jwks.json, Authorization: Bearer"),
		keyFile: fs.envString("token-keys", "LRS_TOKEN_KEYS", "",
			"PEM `file` of the keys signing tokens and evidence packs, oldest first; the last one signs; re-read when it changes; "+
				"make one with: lrs tokens keygen --out FILE; ephemeral: a new key each start (default: token-keys.pem beside "+
				"the SQLite database, made on first start; with MongoDB, ephemeral)"),
		alg: fs.envString("token-alg", "LRS_TOKEN_ALG", tokens.AlgEdDSA,
			"`algorithm` of a key the server makes itself (--token-keys not set, or ephemeral): EdDSA, ES256 or HS256"),
		issuer: fs.envString("token-issuer", "LRS_TOKEN_ISSUER", "",
			"`iss` of the tokens the server issues (default: --base-url, else \"lrs\")"),
		ttl: fs.envDuration("token-ttl", "LRS_TOKEN_TTL", tokens.DefaultTTL, time.Second, nil,
			"the `lifetime` of the tokens the server issues"),
		interval: fs.envDuration("token-keys-reload", "LRS_TOKEN_KEYS_RELOAD", tokens.DefaultReloadInterval, time.Millisecond, nil,
			"the `interval` at which the key file is checked for changes"),
		trusted: fs.envString("trusted-issuers", "LRS_TRUSTED_ISSUERS", "",
			"JSON `file` of identity providers whose tokens are accepted"),
	}
}

// ephemeralKeys is the --token-keys value that asks for a new key at each
// start.
const ephemeralKeys = "ephemeral"

// service returns the token service the settings describe, or nil when
// tokens are off. Without --token-keys, the embedded store keeps its key
// file beside the database (defaultKeyFile); MongoDB, whose replicas share
// nothing but the database, gets an ephemeral key and a warning.
func (t *tokenSettings) service(baseURL string, st *stores, log *slog.Logger) (*tokens.Service, error) {
	if !*t.enabled {
		return nil, nil
	}
	keyFile := *t.keyFile
	switch {
	case keyFile == ephemeralKeys:
		keyFile = ""
	case keyFile == "" && st.Backend == "sqlite":
		var err error
		if keyFile, err = defaultKeyFile(st.Location, *t.alg, log); err != nil {
			return nil, err
		}
	}
	cfg := tokens.Config{
		Issuer:         *t.issuer,
		TTL:            *t.ttl,
		KeyFile:        keyFile,
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
	if err != nil && cfg.KeyFile != "" {
		return nil, fmt.Errorf("--token-keys (LRS_TOKEN_KEYS) %s: %w; make a key file with: lrs tokens keygen --out FILE", cfg.KeyFile, err)
	}
	if err != nil {
		return nil, err
	}
	if svc.Ephemeral() {
		log.Warn("LRS_TOKEN_KEYS (--token-keys) is not set (MongoDB) or is ephemeral: bearer tokens and evidence packs are signed with an ephemeral key made at start. "+
			"Other replicas refuse this replica's tokens, every token dies with a restart, and evidence packs signed now cannot be verified after one. "+
			"Give every replica the same key file, made with: lrs tokens keygen --out FILE",
			"setting", "LRS_TOKEN_KEYS")
	}
	log.Info("bearer tokens on", "issuer", cfg.Issuer, "ttl", cfg.TTL.String(), "trusted_issuers", len(cfg.External))
	return svc, nil
}

// defaultKeyFile returns the key file of the embedded store:
// token-keys.pem in the directory of the database db, made (mode 0600,
// with a new key for alg) when it does not exist, so that tokens and
// evidence packs outlive a restart, and a backup of the data directory
// holds the key that verifies its packs.
func defaultKeyFile(db, alg string, log *slog.Logger) (string, error) {
	path := filepath.Join(filepath.Dir(db), "token-keys.pem")
	key, err := tokens.GenerateKeyPEM(alg)
	if err != nil {
		return "", fmt.Errorf("--token-alg (LRS_TOKEN_ALG): %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return path, nil
	}
	if err != nil {
		return "", fmt.Errorf("making the token key file: %w", err)
	}
	_, err = f.Write(key)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("making the token key file: %w", err)
	}
	log.Info("made a token signing key beside the database; keep it with the database (backups), as it verifies the evidence packs signed with it",
		"token_keys", path, "alg", alg)
	return path, nil
}

const keygenHelp = `Writes a new random key for the token key file (--token-keys,
LRS_TOKEN_KEYS), a PEM block: on stdout, or into the file --out names (mode
0600). Every replica must read the same key file; on Kubernetes, keep it in a
Secret (deploy/README.md):

  lrs tokens keygen --out token-keys.pem
  kubectl create secret generic lrs-token-keys --from-file=token-keys.pem

To rotate, add a new key with --append: it signs from the servers' next look
at the file, and the older keys keep verifying until they are removed. Keep a
key as long as tokens it signed live (--token-ttl) and as long as evidence
packs it signed must be verifiable. HS256 keys sign tokens only: nobody else
can check an HMAC signature, so they never sign evidence packs.`

// keygenCmd is `lrs tokens keygen`.
func keygenCmd(_ context.Context, s streams, args []string) error {
	fl := newFlags("tokens keygen")
	alg := fl.String("alg", tokens.AlgEdDSA, "EdDSA (Ed25519), ES256 (ECDSA P-256) or HS256 (HMAC)")
	out := fl.String("out", "", "the key file to write (default: stdout)")
	appendKey := fl.Bool("append", false, "with --out: add the key to the key file, which may exist (rotation: the new key signs)")
	ifMissing := fl.Bool("if-missing", false, "with --out: leave the key file as it is when it exists (for an init container)")
	if _, err := fl.parse(s, args); err != nil {
		return err
	}
	switch {
	case (*appendKey || *ifMissing) && *out == "":
		return errors.New("tokens keygen: --append and --if-missing need --out FILE")
	case *appendKey && *ifMissing:
		return errors.New("tokens keygen: give --append or --if-missing, not both")
	}
	key, err := tokens.GenerateKeyPEM(*alg)
	if err != nil {
		return fmt.Errorf("tokens keygen: %w", err)
	}
	kids, err := tokens.KeyIDs(key)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err := s.stdout.Write(key)
		fmt.Fprintf(s.stderr, "a new %s key, kid %s\n", *alg, kids[0])
		return err
	}
	mode := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if *appendKey {
		mode = os.O_RDWR | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(*out, mode, 0o600)
	if errors.Is(err, fs.ErrExist) {
		if *ifMissing {
			fmt.Fprintf(s.stderr, "%s exists: left as it is\n", *out)
			return nil
		}
		return fmt.Errorf("tokens keygen: %s exists: --append adds a key to it (rotation), --if-missing leaves it be", *out)
	}
	if err != nil {
		return fmt.Errorf("tokens keygen: %w", err)
	}
	if info, err := f.Stat(); err == nil && info.Size() > 0 { // a key file's last line may lack its line break
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, info.Size()-1); err == nil && last[0] != '\n' {
			key = append([]byte("\n"), key...)
		}
	}
	_, err = f.Write(key)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("tokens keygen: %s: %w", *out, err)
	}
	if info, err := os.Stat(*out); err == nil && info.Size() == int64(len(key)) {
		fmt.Fprintf(s.stderr, "wrote a new %s key, kid %s, to the new key file %s; give every replica this file with --token-keys or LRS_TOKEN_KEYS\n",
			*alg, kids[0], *out)
	} else {
		fmt.Fprintf(s.stderr, "added a new %s key, kid %s, to %s; it signs from the servers' next look at the file\n", *alg, kids[0], *out)
	}
	return nil
}
