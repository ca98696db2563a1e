package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xapi-lrs/lrs/reminders/smtptest"
)

// TestServeReminderEmails: `lrs serve --smtp-url --smtp-from` sends the
// reminders of POST /api/v1/reminders/run through the SMTP server (a real
// one, started in the test); bad settings stop serve with a message naming
// the flag.
func TestServeReminderEmails(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "lrs.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--smtp-url", "http://mail.kommune.no"}, "--smtp-url"},
		{[]string{"--smtp-url", "smtp://u:hemmelig@mail.kommune.no"}, "--smtp-from"},
	} {
		err := run(ctx, append([]string{"serve", "--db", db}, tc.args...), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hemmelig") {
			t.Errorf("serve %q: %v, want an error naming %s without the password", tc.args, err, tc.want)
		}
	}
	if err := run(ctx, []string{"credentials", "create", "--db", db, "--name", "hr", "--key", "hr", "--secret", "hr-0123456789abcdef",
		"--scopes", "roster/write"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	mailer := smtptest.Start(t)
	addr, _ := startServe(t, "--db", db, "--smtp-url", mailer.URL(), "--smtp-from", "Kurs <kurs@kommune.no>")
	do := func(method, path, ctype, body string) string {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.SetBasicAuth("hr", "hr-0123456789abcdef")
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return string(b)
	}
	today := time.Now().UTC().Format("2006-01-02")
	do("PUT", "/api/v1/modules/m1", "application/json", `{"title":{"nb":"Informasjonssikkerhet"},"activities":["https://kurs.kommune.no/m1"],"completion":"completed"}`)
	do("PUT", "/api/v1/rules/r1", "application/json", `{"role":"alle","modules":["m1"],"dueWithin":"P7D"}`)
	do("POST", "/api/v1/roster/imports?effective="+today, "text/csv", "id,name,email,roles,start\ne1,Kari Nordmann,kari@kommune.no,alle,"+today+"\n")
	if out := do("POST", "/api/v1/reminders/run", "", ""); !strings.Contains(out, `"sent":1`) {
		t.Fatalf("run: %s", out)
	}
	msgs := mailer.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "kari@kommune.no" || msgs[0].From != "kurs@kommune.no" ||
		!strings.Contains(string(msgs[0].Data), "https://kurs.kommune.no/m1") {
		t.Fatalf("delivered %d messages: %+v", len(msgs), msgs)
	}
}
