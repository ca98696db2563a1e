// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp)
// inside a test, keeping the messages it accepts, and able to refuse
// messages to test retries.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message the server accepted.
type Received struct {
	From string
	To   []string
	Data []byte
	User string // the user who authenticated, if any
	TLS  bool   // whether it came over TLS (STARTTLS)
}

// Header parses the message's header.
func (r Received) Header(t testing.TB) mail.Header {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(string(r.Data)))
	if err != nil {
		t.Fatalf("message to %v: %v", r.To, err)
	}
	return m.Header
}

// Server is an SMTP server listening on 127.0.0.1.
type Server struct {
	Addr           string // host:port
	user, password string // required, when set (AUTH PLAIN)
	mu             sync.Mutex
	msgs           []Received
	fail           int // messages still to refuse
	hold           chan struct{}
	held           chan struct{} // a message is being held
}

// Hold makes the server hold every message at DATA until release is
// called; held receives once a message is held.
func (s *Server) Hold() (held <-chan struct{}, release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold, s.held = make(chan struct{}), make(chan struct{}, 1)
	hold := s.hold
	return s.held, func() { close(hold) }
}

// Start starts a server, stopped at the end of the test.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, &Server{}, nil)
}

// StartTLS starts a server offering STARTTLS with a certificate for
// 127.0.0.1 (trusted by the pool returned) and requiring AUTH PLAIN as
// user with password before MAIL.
func StartTLS(t testing.TB, user, password string) (*Server, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtp.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	return start(t, &Server{user: user, password: password}, cfg), pool
}

func start(t testing.TB, s *Server, cfg *tls.Config) *Server {
	srv := smtp.NewServer(backend{s})
	srv.Domain = "smtp.test"
	srv.TLSConfig = cfg
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// URL is the server's smtp:// URL.
func (s *Server) URL() string { return "smtp://" + s.Addr }

// FailNext makes the server refuse the next n messages (451 at DATA).
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = n
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) { return &session{s: b.s, c: c}, nil }

type session struct {
	s    *Server
	c    *smtp.Conn
	user string // authenticated
	r    Received
}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if x.s.user == "" || user != x.s.user || password != x.s.password {
			return smtp.ErrAuthFailed
		}
		x.user = user
		return nil
	}), nil
}

func (x *session) Reset()        { x.r = Received{} }
func (x *session) Logout() error { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.user != "" && x.user == "" {
		return smtp.ErrAuthRequired
	}
	x.r.From = from
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.r.To = append(x.r.To, to)
	return nil
}
func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	hold, held := x.s.hold, x.s.held
	x.s.mu.Unlock()
	if hold != nil {
		select {
		case held <- struct{}{}:
		default:
		}
		<-hold
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.fail > 0 {
		x.s.fail--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	x.r.Data, x.r.User = b, x.user
	_, x.r.TLS = x.c.TLSConnectionState()
	x.s.msgs = append(x.s.msgs, x.r)
	return nil
}
