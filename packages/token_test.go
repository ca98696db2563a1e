package packages_test

import (
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/errs"
	"github.com/xapi-lrs/lrs/packages"
)

func TestContentToken(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	other := []byte("fedcba9876543210fedcba9876543210")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tok := packages.ContentToken{Tenant: "oslo", Package: packages.PackageID("kurs"), Version: 3, Expires: now.Add(time.Hour)}
	s := tok.Sign(key)
	if strings.ContainsAny(s, "/?#%+= ") {
		t.Errorf("token %q has characters that need escaping in a URL path", s)
	}
	got, err := packages.VerifyContentToken(s, now, key)
	if err != nil || got != tok {
		t.Fatalf("VerifyContentToken = %+v, %v; want %+v", got, err, tok)
	}
	// Rotation: verified by any of the keys given.
	if _, err := packages.VerifyContentToken(s, now, other, key); err != nil {
		t.Errorf("with the signing key second of two: %v", err)
	}
	parts := strings.Split(s, ".")
	forge := func(i int, v string) string {
		p := append([]string{}, parts...)
		p[i] = v
		return strings.Join(p, ".")
	}
	for name, bad := range map[string]string{
		"another tenant":    forge(0, "bergen"),
		"another package":   forge(1, packages.PackageID("annen")),
		"another version":   forge(2, "4"),
		"a later expiry":    forge(3, "99999999999"),
		"another MAC":       forge(4, strings.Repeat("A", len(parts[4]))),
		"no MAC":            strings.Join(parts[:4], "."),
		"empty":             "",
		"garbage":           "a.b.c.d.e",
		"another key":       tok.Sign(other),
		"signed, bad field": packages.ContentToken{Tenant: "Oslo!", Package: "x", Version: 0, Expires: now.Add(time.Hour)}.Sign(key),
	} {
		if _, err := packages.VerifyContentToken(bad, now, key); !errs.Is(err, errs.Forbidden) {
			t.Errorf("%s: %v, want Forbidden", name, err)
		}
	}
	if _, err := packages.VerifyContentToken(s, now, []byte("short")); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a key shorter than %d bytes verified a token", packages.MinContentKeyBytes)
	}
	_, err = packages.VerifyContentToken(s, now.Add(time.Hour), key)
	if !errs.Is(err, errs.Forbidden) || !strings.Contains(err.Error(), "expired at 2026-03-01T13:00:00Z") {
		t.Errorf("an expired token: %v", err)
	}
}
