package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/airctl/airctl/workflow/dag"
)

// SMTPConfig is the mail server of e-mail notifiers (aird.hcl `smtp`).
type SMTPConfig struct {
	Host string
	Port int // default 587 with STARTTLS, else 25
	// StartTLS upgrades the connection before authenticating; a server
	// that does not offer it is refused rather than sent the password.
	StartTLS bool
	Username string // empty: no AUTH
	Password string
	From     string
	// TLS overrides the TLS settings (a private CA); nil verifies the
	// server against the system roots as Host.
	TLS *tls.Config
	// Timeout bounds one delivery attempt; default 30s.
	Timeout time.Duration
}

func (c SMTPConfig) addr() string {
	port := c.Port
	if port == 0 {
		port = 25
		if c.StartTLS {
			port = 587
		}
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(port))
}

// EmailSender sends e-mail notifications with AUTH PLAIN, after STARTTLS
// when configured (net/smtp refuses PLAIN over plain text except to
// localhost).
type EmailSender struct {
	SMTP SMTPConfig
}

// Send mails n to its recipients; the subject and body default to a
// summary of the event with its log link.
func (e EmailSender) Send(ctx context.Context, ev Event, n dag.Notification) error {
	msg, env, err := e.message(ev, n)
	if err != nil {
		return permanent(err)
	}
	timeout := e.SMTP.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := new(net.Dialer).DialContext(ctx, "tcp", e.SMTP.addr())
	if err != nil {
		return fmt.Errorf("connect to smtp server %s: %w", e.SMTP.addr(), err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, e.SMTP.Host)
	if err != nil {
		conn.Close()
		return classifySMTP("greeting", err)
	}
	defer c.Close()
	return e.deliver(c, msg, env)
}

// envelope is the SMTP sender and recipients of a message.
type envelope struct {
	from  string
	rcpts []string
}

// deliver runs one SMTP session on c.
func (e EmailSender) deliver(c *smtp.Client, msg []byte, env envelope) error {
	if e.SMTP.StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return permanent(fmt.Errorf("smtp server %s does not offer STARTTLS; fix the server or set smtp.starttls = false", e.SMTP.addr()))
		}
		cfg := &tls.Config{ServerName: e.SMTP.Host, MinVersion: tls.VersionTLS12}
		if e.SMTP.TLS != nil {
			cfg = e.SMTP.TLS.Clone()
		}
		if err := c.StartTLS(cfg); err != nil {
			return classifySMTP("starttls", err)
		}
	}
	if e.SMTP.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", e.SMTP.Username, e.SMTP.Password, e.SMTP.Host)); err != nil {
			return classifySMTP("auth (check smtp.username and AIRD_SMTP_PASSWORD)", err)
		}
	}
	if err := c.Mail(env.from); err != nil {
		return classifySMTP("mail from", err)
	}
	for _, r := range env.rcpts {
		if err := c.Rcpt(r); err != nil {
			return classifySMTP("rcpt to "+r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return classifySMTP("data", err)
	}
	if _, err := w.Write(msg); err != nil {
		return classifySMTP("data", err)
	}
	if err := w.Close(); err != nil {
		return classifySMTP("data", err)
	}
	return classifySMTP("quit", c.Quit())
}

// classifySMTP wraps an SMTP error; 5xx replies and an untrusted server
// certificate are permanent, 4xx replies and network errors are retried.
func classifySMTP(step string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("smtp %s: %w", step, err)
	var tp *textproto.Error
	var cert *tls.CertificateVerificationError
	if (errors.As(err, &tp) && tp.Code >= 500) || errors.As(err, &cert) {
		return permanent(err)
	}
	return err
}

// message builds the RFC 5322 message and its envelope.
func (e EmailSender) message(ev Event, n dag.Notification) ([]byte, envelope, error) {
	var env envelope
	if e.SMTP.Host == "" {
		return nil, env, errors.New("e-mail notifier: smtp.host is not set; add an smtp block to aird.hcl or set AIRD_SMTP_HOST")
	}
	from, err := mail.ParseAddress(e.SMTP.From)
	if err != nil {
		return nil, env, fmt.Errorf("smtp.from %q is not an e-mail address: %w", e.SMTP.From, err)
	}
	if len(n.To) == 0 {
		return nil, env, errors.New("e-mail notifier: to is empty; list at least one recipient")
	}
	var rcpts, to []string
	for _, raw := range n.To {
		a, err := mail.ParseAddress(raw)
		if err != nil {
			return nil, env, fmt.Errorf("e-mail notifier: recipient %q: %w", raw, err)
		}
		rcpts, to = append(rcpts, a.Address), append(to, a.String())
	}
	subject, body := n.Subject, n.Body
	if subject == "" {
		subject = "[aird] " + ev.subject()
	}
	if body == "" {
		body = defaultBody(ev)
	}
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, oneLine(v)) }
	header("From", from.String())
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(subject)))
	header("Date", time.Now().Format(time.RFC1123Z))
	header("Message-ID", messageID(from.Address))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, env, err
	}
	if err := qp.Close(); err != nil {
		return nil, env, err
	}
	return b.Bytes(), envelope{from: from.Address, rcpts: rcpts}, nil
}

// oneLine keeps a rendered value from starting new header lines.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

func messageID(from string) string {
	var r [12]byte
	_, _ = rand.Read(r[:])
	domain := "aird.local"
	if _, d, ok := strings.Cut(from, "@"); ok {
		domain = d
	}
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">"
}

// defaultBody lists the event's facts, one per line.
func defaultBody(ev Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", ev.subject())
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-13s %s\n", k+":", v)
		}
	}
	line("DAG", ev.DagID)
	line("Task", ev.TaskID)
	line("Run", ev.RunID)
	if ev.Try > 0 {
		line("Try", strconv.Itoa(ev.Try))
	}
	line("State", ev.State)
	if !ev.LogicalDate.IsZero() {
		line("Logical date", ev.LogicalDate.UTC().Format(time.RFC3339))
	}
	if !ev.Deadline.IsZero() {
		line("SLA deadline", ev.Deadline.UTC().Format(time.RFC3339))
	}
	line("Failed tasks", strings.Join(ev.FailedTasks, ", "))
	line("Log", ev.LogURL)
	return b.String()
}
