package ews

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// TLSMode says how an IMAP connection is secured.
type TLSMode int

const (
	// TLSImplicit speaks TLS from the first byte (IMAPS, port 993). It is
	// the zero value, so a configuration that says nothing is encrypted.
	TLSImplicit TLSMode = iota
	// TLSStartTLS connects in plain text (port 143) and upgrades with the
	// STARTTLS command before authenticating. It fails if the server does
	// not offer STARTTLS.
	TLSStartTLS
	// TLSNone never encrypts. Use it only on loopback or in tests: the
	// password crosses the network in clear.
	TLSNone
)

// String returns "tls", "starttls" or "none".
func (m TLSMode) String() string {
	switch m {
	case TLSImplicit:
		return "tls"
	case TLSStartTLS:
		return "starttls"
	case TLSNone:
		return "none"
	}
	return "TLSMode(" + strconv.Itoa(int(m)) + ")"
}

// IMAPAuth chooses how an IMAP mailbox authenticates.
type IMAPAuth int

const (
	// IMAPAuthAuto uses XOAUTH2 when a TokenSource is configured, else
	// AUTHENTICATE PLAIN when the server offers it, else LOGIN.
	IMAPAuthAuto IMAPAuth = iota
	// IMAPAuthLogin uses the LOGIN command.
	IMAPAuthLogin
	// IMAPAuthPlain uses AUTHENTICATE PLAIN (RFC 4616).
	IMAPAuthPlain
	// IMAPAuthXOAuth2 uses AUTHENTICATE XOAUTH2 with a bearer token from
	// the TokenSource (Gmail, Exchange Online).
	IMAPAuthXOAuth2
)

// String returns "auto", "login", "plain" or "xoauth2".
func (a IMAPAuth) String() string {
	switch a {
	case IMAPAuthAuto:
		return "auto"
	case IMAPAuthLogin:
		return "login"
	case IMAPAuthPlain:
		return "plain"
	case IMAPAuthXOAuth2:
		return "xoauth2"
	}
	return "IMAPAuth(" + strconv.Itoa(int(a)) + ")"
}

// Default values of IMAPConfig fields left zero.
const (
	DefaultIMAPMaxConns    = 4
	DefaultIMAPWaitTimeout = 10 * time.Minute
)

// IMAPConfig configures an IMAP mailbox. Only Addr, Username, a Password or
// TokenSource, Folders and Processed are required.
//
// Its String, Format and LogValue methods never print the password or the
// token source, so a configuration can be logged.
type IMAPConfig struct {
	// Addr is the server's host and port. Without a port, 993 is used for
	// TLSImplicit and 143 otherwise.
	Addr string
	// TLS says how the connection is secured.
	TLS TLSMode
	// TLSConfig is the base TLS configuration, cloned before use; nil means
	// Go's defaults (system roots, TLS 1.2 or newer).
	TLSConfig *tls.Config
	// RootCAs, when set, are the certificate authorities trusted to sign the
	// server's certificate instead of the system's.
	RootCAs *x509.CertPool
	// CACertPEM holds PEM certificates trusted in addition to RootCAs (or,
	// when RootCAs is nil, instead of the system's), such as a private CA.
	CACertPEM []byte
	// ServerName is the name checked against the server's certificate; by
	// default the host part of Addr.
	ServerName string

	// Username is the login name.
	Username string
	// Password is the login password. It is never logged or put in errors.
	Password string
	// TokenSource, when set, gives OAuth2 access tokens for XOAUTH2.
	TokenSource oauth2.TokenSource
	// Auth chooses the authentication mechanism.
	Auth IMAPAuth

	// Folders are the folder paths listed, in order, with "/" between levels
	// whatever the server's own separator (for example "Inbox/Phishing"). A
	// first level of "Inbox", in any case, is the user's inbox.
	Folders []string
	// Processed is what MarkProcessed does, and decides which messages are
	// listed: see [Disposition]. It must do something.
	Processed Disposition
	// Quarantine is what Quarantine does. When it is zero, Quarantine fails
	// with ErrInvalidConfig.
	Quarantine Disposition

	// MaxConns bounds the connections the mailbox opens for listing,
	// streaming and marking (default DefaultIMAPMaxConns). An open message
	// stream holds one connection until it is closed. WaitForMail uses one
	// more connection per folder while it waits.
	MaxConns int
	// WaitTimeout is the longest WaitForMail waits before returning nil so
	// that the caller lists again (default DefaultIMAPWaitTimeout).
	WaitTimeout time.Duration
	// Logger receives debug and warning records; nil discards them.
	Logger *slog.Logger
	// DialContext, when set, opens the TCP connection instead of a
	// net.Dialer, for example through a proxy.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// String describes the configuration without its secrets.
func (c IMAPConfig) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ews.IMAPConfig{Addr:%q TLS:%s Username:%q", c.Addr, c.TLS, c.Username)
	if c.Password != "" {
		b.WriteString(" Password:[REDACTED]")
	}
	if c.TokenSource != nil {
		b.WriteString(" TokenSource:[REDACTED]")
	}
	fmt.Fprintf(&b, " Auth:%s Folders:%q Processed:%+v Quarantine:%+v}", c.Auth, c.Folders, c.Processed, c.Quarantine)
	return b.String()
}

// Format prints [IMAPConfig.String] for every verb, so that no verb (not
// even %#v or %x) prints the password.
func (c IMAPConfig) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue logs the configuration without its secrets.
func (c IMAPConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("tls", c.TLS.String()),
		slog.String("username", c.Username),
		slog.Any("folders", c.Folders),
	)
}

// validate checks c and returns a copy with defaults filled in and the
// derived TLS configuration.
func (c IMAPConfig) validate() (IMAPConfig, *tls.Config, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: imap: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	if c.Addr == "" {
		return c, nil, bad("Addr is empty")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		port := "993"
		if c.TLS != TLSImplicit {
			port = "143"
		}
		c.Addr = net.JoinHostPort(strings.Trim(c.Addr, "[]"), port)
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil || host == "" {
		return c, nil, bad("Addr %q is not host:port", c.Addr)
	}
	switch c.TLS {
	case TLSImplicit, TLSStartTLS, TLSNone:
	default:
		return c, nil, bad("unknown TLS mode %d", int(c.TLS))
	}
	if c.Username == "" {
		return c, nil, bad("Username is empty")
	}
	switch c.Auth {
	case IMAPAuthAuto, IMAPAuthLogin, IMAPAuthPlain:
		if c.Password == "" && c.TokenSource == nil {
			return c, nil, bad("Password and TokenSource are both empty")
		}
		if c.Auth != IMAPAuthAuto && c.Password == "" {
			return c, nil, bad("Auth %s needs a Password", c.Auth)
		}
	case IMAPAuthXOAuth2:
		if c.TokenSource == nil {
			return c, nil, bad("Auth xoauth2 needs a TokenSource")
		}
	default:
		return c, nil, bad("unknown Auth %d", int(c.Auth))
	}
	if len(c.Folders) == 0 {
		return c, nil, bad("no Folders to list")
	}
	seen := make(map[string]bool)
	for _, f := range c.Folders {
		if err := checkFolderPath(f); err != nil {
			return c, nil, bad("Folders: %v", err)
		}
		if seen[folderKey(f)] {
			return c, nil, bad("folder %q is listed twice", f)
		}
		seen[folderKey(f)] = true
	}
	if c.Processed.IsZero() {
		return c, nil, bad("Processed does nothing, so every message would be listed forever")
	}
	for _, d := range []struct {
		name string
		d    Disposition
	}{{"Processed", c.Processed}, {"Quarantine", c.Quarantine}} {
		if d.d.Category != "" {
			if err := checkKeyword(d.d.Category); err != nil {
				return c, nil, bad("%s.Category: %v", d.name, err)
			}
		}
		if d.d.MoveTo != "" {
			if err := checkFolderPath(d.d.MoveTo); err != nil {
				return c, nil, bad("%s.MoveTo: %v", d.name, err)
			}
			if seen[folderKey(d.d.MoveTo)] {
				return c, nil, bad("%s.MoveTo %q is a listed folder, so moved messages would be listed again", d.name, d.d.MoveTo)
			}
		}
	}
	if c.MaxConns < 0 {
		return c, nil, bad("MaxConns %d is negative", c.MaxConns)
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultIMAPMaxConns
	}
	if c.WaitTimeout < 0 {
		return c, nil, bad("WaitTimeout %v is negative", c.WaitTimeout)
	}
	if c.WaitTimeout == 0 {
		c.WaitTimeout = DefaultIMAPWaitTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}

	var tc *tls.Config
	if c.TLSConfig != nil {
		tc = c.TLSConfig.Clone()
	} else {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if c.RootCAs != nil {
		tc.RootCAs = c.RootCAs
	}
	if len(c.CACertPEM) > 0 {
		pool := tc.RootCAs
		if pool == nil {
			pool = x509.NewCertPool()
		} else {
			pool = pool.Clone()
		}
		if !pool.AppendCertsFromPEM(c.CACertPEM) {
			return c, nil, bad("CACertPEM holds no PEM certificate")
		}
		tc.RootCAs = pool
	}
	if c.ServerName != "" {
		tc.ServerName = c.ServerName
	}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	if c.TLS == TLSImplicit && tc.NextProtos == nil {
		tc.NextProtos = []string{"imap"}
	}
	return c, tc, nil
}

// checkFolderPath rejects empty paths, empty levels and control characters.
func checkFolderPath(path string) error {
	if path == "" {
		return errors.New("empty folder path")
	}
	if !utf8.ValidString(path) {
		return fmt.Errorf("folder path %q is not UTF-8", path)
	}
	for _, level := range strings.Split(path, "/") {
		if level == "" {
			return fmt.Errorf("folder path %q has an empty level", path)
		}
	}
	if strings.IndexFunc(path, unicode.IsControl) >= 0 {
		return fmt.Errorf("folder path %q has a control character", path)
	}
	return nil
}

// folderKey folds the inbox's case so that "INBOX/x" and "Inbox/x" compare
// equal.
func folderKey(path string) string {
	first, rest, _ := strings.Cut(path, "/")
	if strings.EqualFold(first, "INBOX") {
		first = "INBOX"
	}
	if rest == "" {
		return first
	}
	return first + "/" + rest
}

// checkKeyword accepts an IMAP keyword: an atom (RFC 3501 flag-keyword) that
// is not a system flag.
func checkKeyword(k string) error {
	for _, r := range k {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`(){%*"\]`, r) {
			return fmt.Errorf("%q is not a valid IMAP keyword: it may hold only printable ASCII without spaces or any of (){%%*\"\\]", k)
		}
	}
	return nil
}
