package reminders

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	htmltemplate "html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/xapi-lrs/lrs/reporting"
)

// Message is one e-mail: a text part and an HTML part of the same content.
type Message struct {
	From, To string // addresses
	ID       string // the Message-ID, without <>
	Date     time.Time
	Subject  string
	Text     string
	HTML     string
}

//go:embed templates
var templateFS embed.FS

// The templates: templates/NAME.LANG.txt defines "subject" and the text
// part, templates/NAME.LANG.html the HTML part, of each Planned.Template.
var (
	funcs    = map[string]any{"date": norDate, "overdue": func(s reporting.Status) bool { return s == reporting.StatusOverdue || s == reporting.StatusExpired }}
	textTmpl = texttemplate.Must(texttemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.txt"))
	htmlTmpl = htmltemplate.Must(htmltemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))
)

// norDate writes a date as Norwegians do: dd.mm.yyyy.
func norDate(d reporting.Date) string { return d.Start(nil).Format("02.01.2006") }

// render makes the message of p.
func render(p *Planned, from string, now time.Time) (*Message, error) {
	name := strings.Replace(p.Template, "/", ".", 1) // learner/nb -> learner.nb
	var subj, text, html bytes.Buffer
	if err := textTmpl.ExecuteTemplate(&subj, name+".subject", p); err != nil {
		return nil, err
	}
	if err := textTmpl.ExecuteTemplate(&text, name+".txt", p); err != nil {
		return nil, err
	}
	if err := htmlTmpl.ExecuteTemplate(&html, name+".html", p); err != nil {
		return nil, err
	}
	return &Message{From: from, To: p.Email, ID: newMessageID(from), Date: now,
		Subject: strings.TrimSpace(subj.String()), Text: text.String(), HTML: html.String()}, nil
}

// newMessageID returns a random message id at the sender's domain.
func newMessageID(from string) string {
	b := make([]byte, 16)
	rand.Read(b)
	domain := "lrs.invalid"
	if i := strings.LastIndex(from, "@"); i >= 0 && i < len(from)-1 {
		domain = strings.Trim(from[i+1:], "<> ")
	}
	return hex.EncodeToString(b) + "@" + domain
}

// Bytes returns the message in the Internet Message Format (RFC 5322):
// multipart/alternative, the text part first, both quoted-printable UTF-8.
func (m *Message) Bytes() []byte {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", m.From)
	header("To", m.To)
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", m.Date.Format(time.RFC1123Z))
	header("Message-ID", "<"+m.ID+">")
	header("MIME-Version", "1.0")
	header("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	for _, part := range []struct{ ctype, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		w, _ := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		qp := quotedprintable.NewWriter(w)
		qp.Write([]byte(strings.ReplaceAll(part.body, "\n", "\r\n")))
		qp.Close()
	}
	mw.Close()
	return b.Bytes()
}
