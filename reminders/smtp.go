package reminders

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// SMTPSender sends messages to an SMTP server (a relay, or a submission
// server) with net/smtp, one connection per message: STARTTLS when the server offers it,
// AUTH PLAIN when a user is given.
type SMTPSender struct {
	Addr           string // host:port
	TLS            bool   // implicit TLS (smtps://, port 465)
	User, Password string
	TLSConfig      *tls.Config // nil: verify the server's certificate for its host name
	Timeout        time.Duration
}

// ParseSMTPURL reads the SMTP server of an URL: smtp://user:pass@host:587
// (STARTTLS when offered) or smtps://user:pass@host:465 (implicit TLS);
// the user and password are optional, the port defaults to 587 and 465.
func ParseSMTPURL(s string) (*SMTPSender, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("not an URL: %w", err)
	}
	snd := &SMTPSender{Timeout: 30 * time.Second}
	port := "587"
	switch u.Scheme {
	case "smtp":
	case "smtps":
		snd.TLS, port = true, "465"
	default:
		return nil, fmt.Errorf("want smtp://[user:password@]host[:port] or smtps://…, got scheme %q", u.Scheme)
	}
	if u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("want smtp://[user:password@]host[:port], with a host and nothing after it")
	}
	if u.Port() != "" {
		port = u.Port()
	}
	snd.Addr = net.JoinHostPort(u.Hostname(), port)
	if u.User != nil {
		snd.User = u.User.Username()
		snd.Password, _ = u.User.Password()
	}
	return snd, nil
}

// Send delivers m.
func (s *SMTPSender) Send(ctx context.Context, m *Message) error {
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	host, _, _ := net.SplitHostPort(s.Addr)
	cfg := s.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{ServerName: host}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if s.TLS {
		conn = tls.Client(conn, cfg)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && !s.TLS {
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("smtp STARTTLS: %w", err)
		}
	}
	if s.User != "" {
		// PLAIN only over TLS (or to localhost): net/smtp refuses else.
		if err := c.Auth(smtp.PlainAuth("", s.User, s.Password, host)); err != nil {
			return fmt.Errorf("smtp AUTH: %w", err)
		}
	}
	if err := c.Mail(bareAddress(m.From)); err != nil {
		return fmt.Errorf("smtp MAIL: %w", err)
	}
	if err := c.Rcpt(bareAddress(m.To)); err != nil {
		return fmt.Errorf("smtp RCPT: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if _, err := w.Write(m.Bytes()); err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	return c.Quit()
}

// bareAddress returns the address of "Name <addr>", or s.
func bareAddress(s string) string {
	if i, j := strings.LastIndex(s, "<"), strings.LastIndex(s, ">"); i >= 0 && j > i {
		return s[i+1 : j]
	}
	return strings.TrimSpace(s)
}
