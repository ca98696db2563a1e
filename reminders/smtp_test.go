package reminders_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/reminders"
	"github.com/xapi-lrs/lrs/reminders/smtptest"
)

// TestSMTPStartTLSAndAuth: the sender upgrades to TLS when the server
// offers STARTTLS and authenticates with AUTH PLAIN; a wrong password is
// an error, and so is an URL that is not smtp:// or smtps://.
func TestSMTPStartTLSAndAuth(t *testing.T) {
	srv, pool := smtptest.StartTLS(t, "kurs", "hemmelig")
	msg := &reminders.Message{From: "Kurs <kurs@kommune.no>", To: "kari@kommune.no", ID: "1@kommune.no", Date: time.Now(),
		Subject: "Påminnelse", Text: "Hei\n", HTML: "<p>Hei</p>"}
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"smtp://kurs:hemmelig@" + srv.Addr, true},
		{"smtp://kurs:feil@" + srv.Addr, false},
		{"smtp://" + srv.Addr, false}, // the server requires AUTH
	} {
		snd, err := reminders.ParseSMTPURL(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		snd.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
		err = snd.Send(context.Background(), msg)
		if (err == nil) != tc.ok {
			t.Errorf("Send via %s: %v, want ok %v", tc.url, err, tc.ok)
		}
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || !msgs[0].TLS || msgs[0].User != "kurs" || msgs[0].To[0] != "kari@kommune.no" ||
		!strings.Contains(string(msgs[0].Data), "Subject: =?utf-8?q?P=C3=A5minnelse?=") {
		t.Fatalf("received %+v", msgs)
	}
	for _, bad := range []string{"http://mail.kommune.no", "smtp://", "smtp://mail.kommune.no/x", "smtp://mail.kommune.no?x=1"} {
		if _, err := reminders.ParseSMTPURL(bad); err == nil {
			t.Errorf("ParseSMTPURL(%q) accepted", bad)
		}
	}
	if s, _ := reminders.ParseSMTPURL("smtps://a:b@mail.kommune.no"); s.Addr != "mail.kommune.no:465" || !s.TLS || s.User != "a" || s.Password != "b" {
		t.Errorf("smtps URL: %+v", s)
	}
}
