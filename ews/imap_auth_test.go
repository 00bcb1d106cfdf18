package ews_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
	"github.com/synapse-go/synapse/internal/dovecot"
)

// syncWriter is a bytes.Buffer that log handlers may write concurrently.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// newSeededServer starts an in-memory server with the test user and one
// message in the inbox.
func newSeededServer(t *testing.T, opts *ewstest.IMAPServerOptions) *ewstest.IMAPServer {
	t.Helper()
	srv := newUserServer(t, opts)
	raw := "From: a@example.com\r\nSubject: hello\r\nMessage-ID: <hello@example.com>\r\n\r\nHello.\r\n"
	if err := srv.Append(testUser, "Inbox", []byte(raw)); err != nil {
		t.Fatal(err)
	}
	return srv
}

// countMessages lists the mailbox and returns how many messages it yields.
func countMessages(ctx context.Context, mb ews.Mailbox) (int, error) {
	n := 0
	for _, err := range mb.Messages(ctx) {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

type staticToken string

func (s staticToken) Token() (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: string(s), TokenType: "Bearer"}, nil
}

type failingToken struct{}

func (failingToken) Token() (*oauth2.Token, error) {
	return nil, errors.New("token endpoint said no to client secret s3cr3t-client")
}

func TestIMAPAuth(t *testing.T) {
	t.Parallel()
	srv := newSeededServer(t, nil)
	tests := []struct {
		name     string
		auth     ews.IMAPAuth
		password string
		token    oauth2.TokenSource
		wantErr  error
	}{
		{"AutoPlain", ews.IMAPAuthAuto, testPassword, nil, nil},
		{"Login", ews.IMAPAuthLogin, testPassword, nil, nil},
		{"Plain", ews.IMAPAuthPlain, testPassword, nil, nil},
		{"XOAuth2", ews.IMAPAuthXOAuth2, "", staticToken(testPassword), nil},
		{"AutoXOAuth2", ews.IMAPAuthAuto, "", staticToken(testPassword), nil},
		{"LoginWrongPassword", ews.IMAPAuthLogin, "wrong", nil, ews.ErrAuth},
		{"PlainWrongPassword", ews.IMAPAuthPlain, "wrong", nil, ews.ErrAuth},
		{"XOAuth2WrongToken", ews.IMAPAuthXOAuth2, "", staticToken("expired"), ews.ErrAuth},
		{"XOAuth2NoToken", ews.IMAPAuthXOAuth2, "", failingToken{}, ews.ErrAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mb, err := ews.NewIMAP(ews.IMAPConfig{
				Addr: srv.Addr(), TLS: ews.TLSNone, Username: testUser, Password: tt.password,
				TokenSource: tt.token, Auth: tt.auth, Folders: []string{"Inbox"},
				Processed: ews.Disposition{MarkRead: true},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer mb.Close()
			n, err := countMessages(t.Context(), mb)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("listing: error %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && n != 1 {
				t.Errorf("listed %d messages, want 1", n)
			}
		})
	}
}

func TestIMAPTLS(t *testing.T) {
	t.Parallel()
	cert, err := dovecot.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	other, err := dovecot.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	serverTLS, err := cert.ServerTLS()
	if err != nil {
		t.Fatal(err)
	}
	startTLS := newSeededServer(t, &ewstest.IMAPServerOptions{TLSConfig: serverTLS})
	implicit := newSeededServer(t, &ewstest.IMAPServerOptions{TLSConfig: serverTLS, ImplicitTLS: true})
	plain := newSeededServer(t, nil)

	tests := []struct {
		name    string
		srv     *ewstest.IMAPServer
		mode    ews.TLSMode
		config  func(*ews.IMAPConfig)
		wantErr error // nil: success; errAny: some error
	}{
		{"StartTLSRootCAs", startTLS, ews.TLSStartTLS, func(c *ews.IMAPConfig) { c.RootCAs = cert.Pool() }, nil},
		{"StartTLSPEM", startTLS, ews.TLSStartTLS, func(c *ews.IMAPConfig) { c.CACertPEM = cert.CertPEM }, nil},
		{"ImplicitPEM", implicit, ews.TLSImplicit, func(c *ews.IMAPConfig) { c.CACertPEM = cert.CertPEM }, nil},
		{"ImplicitServerName", implicit, ews.TLSImplicit, func(c *ews.IMAPConfig) {
			c.RootCAs = cert.Pool()
			c.ServerName = "localhost"
		}, nil},
		{"ImplicitWrongCA", implicit, ews.TLSImplicit, func(c *ews.IMAPConfig) { c.RootCAs = other.Pool() }, errAny},
		{"ImplicitWrongName", implicit, ews.TLSImplicit, func(c *ews.IMAPConfig) {
			c.RootCAs = cert.Pool()
			c.ServerName = "imap.example.com"
		}, errAny},
		{"StartTLSWrongCA", startTLS, ews.TLSStartTLS, func(c *ews.IMAPConfig) { c.RootCAs = other.Pool() }, errAny},
		{"StartTLSNotOffered", plain, ews.TLSStartTLS, func(c *ews.IMAPConfig) { c.RootCAs = cert.Pool() }, errAny},
		{"PlainLoginRefused", startTLS, ews.TLSNone, func(c *ews.IMAPConfig) { c.Auth = ews.IMAPAuthLogin }, ews.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := ews.IMAPConfig{
				Addr: tt.srv.Addr(), TLS: tt.mode, Username: testUser, Password: testPassword,
				Folders: []string{"Inbox"}, Processed: ews.Disposition{MarkRead: true},
			}
			tt.config(&cfg)
			mb, err := ews.NewIMAP(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer mb.Close()
			n, err := countMessages(t.Context(), mb)
			switch {
			case tt.wantErr == nil && (err != nil || n != 1):
				t.Fatalf("listing: %d messages, error %v; want 1 message", n, err)
			case tt.wantErr == errAny && err == nil:
				t.Fatal("listing succeeded, want an error")
			case tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("listing: error %v, want %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tt.srv.Addr()) {
				t.Errorf("error %q does not name the server %s", err, tt.srv.Addr())
			}
		})
	}
}

var errAny = errors.New("any error")

// TestIMAPSecretsRedacted checks that no password or token reaches an
// error, a log record (at Debug level) or a formatted value.
func TestIMAPSecretsRedacted(t *testing.T) {
	t.Parallel()
	const (
		goodPassword = "Good-Pa55word-4f1d"
		badPassword  = "Bad-Pa55word-9c2e"
		badToken     = "ya29.Bad-Token-77aa"
	)
	srv, err := ewstest.NewIMAPServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.AddUser(testUser, goodPassword); err != nil {
		t.Fatal(err)
	}
	if err := srv.CreateFolder(testUser, "Quarantine"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		raw := fmt.Sprintf("From: a@example.com\r\nSubject: m%d\r\nMessage-ID: <m%d@example.com>\r\n\r\nBody.\r\n", i, i)
		if err := srv.Append(testUser, "Inbox", []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	var logs syncWriter
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	base := ews.IMAPConfig{
		Addr: srv.Addr(), TLS: ews.TLSNone, Username: testUser, Folders: []string{"Inbox", "Missing"},
		Processed: ews.Disposition{MarkRead: true}, Quarantine: ews.Disposition{MoveTo: "Quarantine"},
		Logger: logger,
	}
	var errs []error

	// A wrong password and a wrong token.
	for _, cfg := range []ews.IMAPConfig{
		func() ews.IMAPConfig { c := base; c.Password = badPassword; c.Auth = ews.IMAPAuthLogin; return c }(),
		func() ews.IMAPConfig { c := base; c.Password = badPassword; c.Auth = ews.IMAPAuthPlain; return c }(),
		func() ews.IMAPConfig { c := base; c.TokenSource = staticToken(badToken); return c }(),
		func() ews.IMAPConfig { c := base; c.TokenSource = failingToken{}; return c }(),
	} {
		mb, err := ews.NewIMAP(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = countMessages(t.Context(), mb)
		if !errors.Is(err, ews.ErrAuth) {
			t.Errorf("listing with bad credentials: error %v, want ews.ErrAuth", err)
		}
		errs = append(errs, err)
		mb.Close()
	}

	// A whole run with the right password, ending on a missing folder.
	good := base
	good.Password = goodPassword
	mb, err := ews.NewIMAP(good)
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	ctx := t.Context()
	var msgs []ews.Message
	for msg, err := range mb.Messages(ctx) {
		if err != nil {
			errs = append(errs, err)
			if !errors.Is(err, ews.ErrFolderNotFound) {
				t.Errorf("listing: error %v, want ews.ErrFolderNotFound", err)
			}
			for _, part := range []string{srv.Addr(), `"Missing"`, "select"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %s", err, part)
				}
			}
			break
		}
		msgs = append(msgs, msg)
	}
	if len(msgs) != 3 {
		t.Fatalf("listed %d messages, want 3", len(msgs))
	}
	if err := mb.MarkProcessed(ctx, msgs[0]); err != nil {
		t.Fatal(err)
	}
	if err := mb.Quarantine(ctx, msgs[1], "failed 5 times"); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Open(ctx, ews.Message{ID: "imap:1:999:Inbox"}); err != nil {
		errs = append(errs, err)
	}
	stale := msgs[2]
	stale.ID = ews.MessageID(strings.Replace(string(stale.ID), "imap:1:", "imap:12345:", 1))
	if err := mb.MarkProcessed(ctx, stale); !errors.Is(err, ews.ErrStale) {
		t.Errorf("MarkProcessed with another UIDVALIDITY: error %v, want ews.ErrStale", err)
	} else {
		errs = append(errs, err)
	}
	srv.DropConnections()
	if _, err := countMessages(ctx, mb); err == nil {
		t.Error("listing with a missing folder after a reconnect: no error")
	}
	logger.Info("config", "cfg", good, "mailbox", mb)

	var printed []string
	for _, v := range []any{good, &good, mb} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T %[1]v"} {
			printed = append(printed, fmt.Sprintf(verb, v))
		}
	}
	for _, err := range errs {
		printed = append(printed, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	}
	printed = append(printed, logs.String())
	if !strings.Contains(logs.String(), "failed 5 times") {
		t.Errorf("the quarantine reason was not logged; logs:\n%s", logs.String())
	}
	for _, secret := range []string{goodPassword, badPassword, badToken, "s3cr3t-client"} {
		for _, s := range printed {
			if strings.Contains(s, secret) {
				t.Errorf("%q leaked into: %s", secret, s)
			}
		}
	}
}

func TestNewIMAPRejectsBadConfig(t *testing.T) {
	t.Parallel()
	ok := ews.IMAPConfig{
		Addr: "imap.example.com", Username: "u", Password: "p", Folders: []string{"Inbox"},
		Processed: ews.Disposition{MarkRead: true},
	}
	tests := []struct {
		name   string
		mutate func(*ews.IMAPConfig)
	}{
		{"NoAddr", func(c *ews.IMAPConfig) { c.Addr = "" }},
		{"BadAddr", func(c *ews.IMAPConfig) { c.Addr = ":143" }},
		{"UnknownTLS", func(c *ews.IMAPConfig) { c.TLS = 9 }},
		{"NoUser", func(c *ews.IMAPConfig) { c.Username = "" }},
		{"NoSecret", func(c *ews.IMAPConfig) { c.Password = "" }},
		{"XOAuth2NoToken", func(c *ews.IMAPConfig) { c.Auth = ews.IMAPAuthXOAuth2 }},
		{"PlainNoPassword", func(c *ews.IMAPConfig) { c.Password = ""; c.TokenSource = staticToken("t"); c.Auth = ews.IMAPAuthPlain }},
		{"UnknownAuth", func(c *ews.IMAPConfig) { c.Auth = 9 }},
		{"NoFolders", func(c *ews.IMAPConfig) { c.Folders = nil }},
		{"EmptyFolder", func(c *ews.IMAPConfig) { c.Folders = []string{""} }},
		{"EmptyLevel", func(c *ews.IMAPConfig) { c.Folders = []string{"Inbox//Phishing"} }},
		{"ControlChar", func(c *ews.IMAPConfig) { c.Folders = []string{"In\x00box"} }},
		{"Duplicate", func(c *ews.IMAPConfig) { c.Folders = []string{"Inbox", "INBOX"} }},
		{"ProcessedZero", func(c *ews.IMAPConfig) { c.Processed = ews.Disposition{} }},
		{"KeywordSpace", func(c *ews.IMAPConfig) { c.Processed.Category = "Synapse done" }},
		{"KeywordBackslash", func(c *ews.IMAPConfig) { c.Processed.Category = `\Seen` }},
		{"KeywordNonASCII", func(c *ews.IMAPConfig) { c.Quarantine.Category = "traité" }},
		{"MoveIntoListed", func(c *ews.IMAPConfig) { c.Processed.MoveTo = "inbox" }},
		{"BadMoveTo", func(c *ews.IMAPConfig) { c.Quarantine.MoveTo = "a//b" }},
		{"NegativeConns", func(c *ews.IMAPConfig) { c.MaxConns = -1 }},
		{"NegativeWait", func(c *ews.IMAPConfig) { c.WaitTimeout = -time.Second }},
		{"BadPEM", func(c *ews.IMAPConfig) { c.CACertPEM = []byte("not a certificate") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := ok
			cfg.Folders = append([]string(nil), ok.Folders...)
			tt.mutate(&cfg)
			if _, err := ews.NewIMAP(cfg); !errors.Is(err, ews.ErrInvalidConfig) {
				t.Errorf("NewIMAP: error %v, want ews.ErrInvalidConfig", err)
			}
		})
	}
	if _, err := ews.NewIMAP(ok); err != nil {
		t.Errorf("NewIMAP with a valid configuration: %v", err)
	}
}
