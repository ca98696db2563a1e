package web

import (
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/reporting"
)

func TestMessagesComplete(t *testing.T) {
	for key := range messages[langNB] {
		if _, ok := messages[langEN][key]; !ok {
			t.Errorf("%q has no English text", key)
		}
	}
	for key := range messages[langEN] {
		if _, ok := messages[langNB][key]; !ok {
			t.Errorf("%q has no Norwegian text", key)
		}
	}
	for _, s := range reporting.Statuses {
		if messages[langNB]["status."+string(s)] == "" {
			t.Errorf("status %s has no name", s)
		}
	}
}

func TestPickLang(t *testing.T) {
	for _, c := range []struct{ cookie, accept, want string }{
		{"", "", "nb"},
		{"", "en-GB,en;q=0.9", "en"},
		{"", "nb-NO,nb;q=0.9,en;q=0.8", "nb"},
		{"", "nn-NO", "nb"},
		{"", "no", "nb"},
		{"", "de-DE,en;q=0.5,nb;q=0.7", "nb"},
		{"", "sv-SE,da;q=0.8", "nb"},
		{"", "en;q=0.2,nb;q=bad", "en"},
		{"en", "nb-NO", "en"},
		{"nb", "en", "nb"},
		{"xx", "en", "en"},
	} {
		if got := pickLang(c.cookie, c.accept); got != c.want {
			t.Errorf("pickLang(%q, %q) = %s, want %s", c.cookie, c.accept, got, c.want)
		}
	}
}

func TestFormats(t *testing.T) {
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	nb, en := locale{langNB, oslo}, locale{langEN, oslo}
	d := reporting.MustDate("2026-10-31")
	instant := time.Date(2026, 10, 31, 23, 30, 0, 0, time.UTC) // 1 November in Oslo
	for _, c := range []struct{ got, want string }{
		{nb.Date(d), "31.10.2026"},
		{en.Date(d), "31 Oct 2026"},
		{nb.Date(0), ""},
		{nb.Time(instant), "01.11.2026 kl. 00.30"},
		{en.Time(instant), "1 Nov 2026, 00:30"},
		{nb.Time(time.Time{}), ""},
		{nb.Percent(87.5), "87,5\u00a0%"},
		{en.Percent(87.5), "87.5%"},
		{nb.Number(0.85), "0,85"},
		{en.Number(0.85), "0.85"},
		{nb.Status(reporting.StatusOverdue), "Forfalt"},
		{en.Status(reporting.StatusOverdue), "Overdue"},
		{nb.T("unit.title", "Oppvekst"), "Status for Oppvekst"},
		{nb.Title(map[string]string{"en": "Basics", "nb-NO": "Grunnleggende"}, "m1"), "Grunnleggende"},
		{en.Title(map[string]string{"en": "Basics", "nb-NO": "Grunnleggende"}, "m1"), "Basics"},
		{en.Title(map[string]string{"da": "Grundlæggende"}, "m1"), "Grundlæggende"},
		{en.Title(nil, "m1"), "m1"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if got := nb.Day(instant); got != reporting.MustDate("2026-11-01") {
		t.Errorf("Day = %s", got)
	}
}

// TestLocalPath: where the pages send the browser after sign-in or a
// language switch is always a path on this site.
func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/units/oppvekst?asOf=2026-10-31": "/units/oppvekst?asOf=2026-10-31",
		"/":                               "/",
		"":                                "/",
		"https://evil.example/":           "/",
		"//evil.example/":                 "/",
		"/\\evil.example":                 "/",
		"javascript:alert(1)":             "/",
		"units":                           "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestThrottle(t *testing.T) {
	now := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	th := newThrottle(func() time.Time { return now }, 10, time.Minute)
	for i := range 10 {
		if !th.allowed("kari") {
			t.Fatalf("attempt %d refused", i+1)
		}
		th.failed("kari")
	}
	if th.allowed("kari") {
		t.Error("an 11th attempt at once is allowed")
	}
	if !th.allowed("ola") {
		t.Error("another key is refused")
	}
	now = now.Add(time.Minute)
	if !th.allowed("kari") {
		t.Error("refused a minute later")
	}
	th.failed("kari")
	if th.allowed("kari") {
		t.Error("two attempts allowed in the minute after")
	}
}
