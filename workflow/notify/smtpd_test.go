package notify

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpd is a minimal SMTP server for tests: EHLO, STARTTLS (self-signed
// certificate for 127.0.0.1), AUTH PLAIN, MAIL, RCPT, DATA, QUIT. It
// records every accepted message.
type smtpd struct {
	addr string
	// clientTLS trusts the server's certificate.
	clientTLS *tls.Config
	serverTLS *tls.Config
	noTLS     bool   // do not offer STARTTLS
	user      string // AUTH PLAIN credentials; MAIL needs them when set
	pass      string
	// tempFails: the first n MAIL commands get 451 (retry later).
	mu        sync.Mutex
	tempFails int
	msgs      chan smtpMsg
}

type smtpMsg struct {
	from   string
	to     []string
	data   string
	tls    bool
	authed string
}

func startSMTPD(t *testing.T, configure func(*smtpd)) *smtpd {
	t.Helper()
	s := &smtpd{msgs: make(chan smtpMsg, 16)}
	s.serverTLS, s.clientTLS = selfSigned(t)
	if configure != nil {
		configure(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c) })
		}
	})
	return s
}

// config is the client configuration that reaches this server.
func (s *smtpd) config() SMTPConfig {
	host, port, _ := net.SplitHostPort(s.addr)
	p := 0
	for _, c := range port {
		p = p*10 + int(c-'0')
	}
	return SMTPConfig{Host: host, Port: p, StartTLS: !s.noTLS, Username: s.user, Password: s.pass, From: "aird@example.com", TLS: s.clientTLS, Timeout: 10 * time.Second}
}

// next waits for the next accepted message.
func (s *smtpd) next(t *testing.T) smtpMsg {
	t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message reached the SMTP server")
		return smtpMsg{}
	}
}

func (s *smtpd) serve(c net.Conn) {
	defer func() { c.Close() }()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	tp := textproto.NewConn(c)
	var m smtpMsg
	reply := func(lines ...string) { // multi-line: all but the last use '-'
		for i, l := range lines {
			sep := "-"
			if i == len(lines)-1 {
				sep = " "
			}
			_ = tp.PrintfLine("%s%s%s", l[:3], sep, l[3:])
		}
	}
	reply("220 127.0.0.1 test ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"250127.0.0.1"}
			if !s.noTLS && !m.tls {
				lines = append(lines, "250STARTTLS")
			}
			if m.tls || s.noTLS {
				lines = append(lines, "250AUTH PLAIN")
			}
			reply(lines...)
		case "STARTTLS":
			reply("220 ready")
			tc := tls.Server(c, s.serverTLS)
			if tc.Handshake() != nil {
				return
			}
			c, tp, m.tls = tc, textproto.NewConn(tc), true
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			raw, _ := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(raw), "\x00")
			if strings.ToUpper(mech) != "PLAIN" || len(parts) != 3 || parts[1] != s.user || parts[2] != s.pass {
				reply("535 5.7.8 authentication failed")
				continue
			}
			m.authed = parts[1]
			reply("235 2.7.0 authenticated")
		case "MAIL":
			if s.user != "" && m.authed == "" {
				reply("530 5.7.0 authentication required")
				continue
			}
			if s.takeTempFail() {
				reply("451 4.3.0 try again later")
				continue
			}
			m.from = strings.Trim(strings.TrimPrefix(arg, "FROM:"), "<>")
			reply("250 ok")
		case "RCPT":
			m.to = append(m.to, strings.Trim(strings.TrimPrefix(arg, "TO:"), "<>"))
			reply("250 ok")
		case "DATA":
			reply("354 go ahead")
			data, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			m.data = string(data)
			s.msgs <- m
			m.from, m.to = "", nil
			reply("250 queued")
		case "QUIT":
			reply("221 bye")
			return
		case "RSET", "NOOP":
			reply("250 ok")
		default:
			reply("502 not implemented")
		}
	}
}

func (s *smtpd) takeTempFail() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tempFails > 0 {
		s.tempFails--
		return true
	}
	return false
}

// selfSigned makes a certificate for 127.0.0.1 and a client config that
// trusts only it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "aird test smtp"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
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
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return server, client
}

// header returns a header of a received message, decoded.
func (m smtpMsg) header(t *testing.T, name string) string {
	t.Helper()
	r := textproto.NewReader(bufio.NewReader(strings.NewReader(m.data)))
	h, err := r.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("message header: %v\n%s", err, m.data)
	}
	return h.Get(name)
}
