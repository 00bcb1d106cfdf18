package ewstest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
)

// IMAPServerOptions configures an [IMAPServer]. The zero value serves plain
// IMAP with LOGIN and AUTHENTICATE PLAIN allowed, MOVE and UIDPLUS
// advertised.
type IMAPServerOptions struct {
	// TLSConfig, when set, secures the server: with STARTTLS (and LOGIN
	// refused before it), or from the first byte when ImplicitTLS is set.
	TLSConfig *tls.Config
	// ImplicitTLS serves TLS from the first byte (IMAPS) instead of STARTTLS.
	ImplicitTLS bool
	// NoMove hides the MOVE capability, so clients must COPY, STORE \Deleted
	// and EXPUNGE instead.
	NoMove bool
	// NoUIDPlus hides the UIDPLUS capability (UID EXPUNGE).
	NoUIDPlus bool
	// DebugWriter, when set, receives the raw protocol of every connection,
	// passwords included.
	DebugWriter io.Writer
}

// IMAPServer is an in-memory IMAP server on a loopback port, for tests and
// demo programs. It is built on go-imap's imapmemserver: messages, flags and
// keywords live in memory; it supports IDLE, NAMESPACE, MOVE and UIDPLUS
// (each can be hidden), and AUTHENTICATE PLAIN and XOAUTH2 (the bearer token
// is checked against the user's password). Folders use "/" as the hierarchy
// separator, and a first level of "Inbox" is the user's INBOX.
//
// imapmemserver folds keywords to lower case, as IMAP allows, and holds
// every message in memory twice while serving it.
type IMAPServer struct {
	mem *imapmemserver.Server
	srv *imapserver.Server
	ln  net.Listener

	mu    sync.Mutex
	users map[string]*imapmemserver.User
	conns map[net.Conn]struct{}
}

// NewIMAPServer starts a server on 127.0.0.1 on a free port. Close stops it.
func NewIMAPServer(opts *IMAPServerOptions) (*IMAPServer, error) {
	if opts == nil {
		opts = &IMAPServerOptions{}
	}
	if opts.ImplicitTLS && opts.TLSConfig == nil {
		return nil, errors.New("ewstest: ImplicitTLS needs a TLSConfig")
	}
	s := &IMAPServer{
		mem:   imapmemserver.New(),
		users: make(map[string]*imapmemserver.User),
		conns: make(map[net.Conn]struct{}),
	}
	caps := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapNamespace: {}, imap.CapLiteralPlus: {}}
	if !opts.NoMove {
		caps[imap.CapMove] = struct{}{}
	}
	if !opts.NoUIDPlus {
		caps[imap.CapUIDPlus] = struct{}{}
	}
	srvOpts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &imapSession{server: s}, nil, nil
		},
		Caps:         caps,
		Logger:       log.New(io.Discard, "", 0),
		InsecureAuth: opts.TLSConfig == nil,
		DebugWriter:  opts.DebugWriter,
	}
	if !opts.ImplicitTLS {
		srvOpts.TLSConfig = opts.TLSConfig
	}
	s.srv = imapserver.New(srvOpts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ewstest: listen: %w", err)
	}
	s.ln = &trackingListener{Listener: ln, s: s}
	serve := s.ln
	if opts.ImplicitTLS {
		// TLS above the tracked connection, so that the server sees a
		// *tls.Conn and DropConnections closes the socket beneath it.
		serve = tls.NewListener(s.ln, opts.TLSConfig)
	}
	go func() { _ = s.srv.Serve(serve) }()
	return s, nil
}

// Addr returns the server's host:port.
func (s *IMAPServer) Addr() string { return s.ln.Addr().String() }

// Close stops the server and closes every connection.
func (s *IMAPServer) Close() error {
	err := s.srv.Close()
	s.DropConnections()
	return err
}

// DropConnections closes every client connection at once, as a server
// crash would. New connections are accepted as before.
func (s *IMAPServer) DropConnections() {
	s.mu.Lock()
	conns := s.conns
	s.conns = make(map[net.Conn]struct{})
	s.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}

// AddUser creates a user with an empty INBOX.
func (s *IMAPServer) AddUser(username, password string) error {
	if username == "" {
		return errors.New("ewstest: empty username")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[username]; ok {
		return fmt.Errorf("ewstest: user %q exists", username)
	}
	u := imapmemserver.NewUser(username, password)
	if err := u.Create("INBOX", nil); err != nil {
		return err
	}
	s.users[username] = u
	s.mem.AddUser(u)
	return nil
}

func (s *IMAPServer) user(username string) (*imapmemserver.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[username]
	if !ok {
		return nil, fmt.Errorf("ewstest: no user %q", username)
	}
	return u, nil
}

// memName turns a folder path into the server's mailbox name.
func memName(path string) string {
	first, rest, found := strings.Cut(path, "/")
	if strings.EqualFold(first, "INBOX") {
		first = "INBOX"
	}
	if !found {
		return first
	}
	return first + "/" + rest
}

// CreateFolder creates a folder (and no parents: "Inbox/A/B" needs "Inbox/A"
// only for clients that list hierarchies). Creating one that exists is not
// an error.
func (s *IMAPServer) CreateFolder(username, folder string) error {
	u, err := s.user(username)
	if err != nil {
		return err
	}
	err = u.Create(memName(folder), nil)
	var imapErr *imap.Error
	if errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeAlreadyExists {
		return nil
	}
	return err
}

// Append stores a raw message in a user's folder with the given flags (such
// as `\Seen` or a keyword), received now.
func (s *IMAPServer) Append(username, folder string, raw []byte, flags ...string) error {
	return s.Seed(username, folder, SeedMessage{Raw: raw, Categories: flags})
}

// Seed stores msg in a user's folder. Categories become keywords (or system
// flags when they start with a backslash); Read sets \Seen.
func (s *IMAPServer) Seed(username, folder string, msg SeedMessage) error {
	u, err := s.user(username)
	if err != nil {
		return err
	}
	opts := &imap.AppendOptions{Time: msg.Received}
	for _, c := range msg.Categories {
		opts.Flags = append(opts.Flags, imap.Flag(c))
	}
	if msg.Read {
		opts.Flags = append(opts.Flags, imap.FlagSeen)
	}
	_, err = u.Append(memName(folder), literal{bytes.NewReader(msg.Raw)}, opts)
	return err
}

// RebuildFolder gives a folder a new UIDVALIDITY and renumbers its messages
// from 1, keeping their content, flags and received times, as a server does
// when it rebuilds a damaged index. Message IDs from before then are stale.
func (s *IMAPServer) RebuildFolder(username, folder string) error {
	u, err := s.user(username)
	if err != nil {
		return err
	}
	name := memName(folder)
	tmp := name + ".rebuild-" + fmt.Sprint(time.Now().UnixNano())
	if err := u.Rename(name, tmp, nil); err != nil {
		return err
	}
	if err := u.Create(name, nil); err != nil {
		return err
	}
	sess := imapmemserver.NewUserSession(u)
	defer sess.Close()
	if _, err := sess.Select(tmp, nil); err != nil {
		return err
	}
	if _, err := sess.Copy(imap.UIDSet{{Start: 1, Stop: 0}}, name); err != nil {
		return err
	}
	if err := sess.Unselect(); err != nil {
		return err
	}
	return u.Delete(tmp)
}

// literal adapts a bytes.Reader to imap.LiteralReader.
type literal struct{ *bytes.Reader }

// imapSession logs users of the server in and serves them from
// imapmemserver.
type imapSession struct {
	*imapmemserver.UserSession // nil until logged in
	server                     *IMAPServer
}

var _ imapserver.SessionSASL = (*imapSession)(nil)

func (sess *imapSession) Login(username, password string) error {
	u, err := sess.server.user(username)
	if err != nil {
		return imapserver.ErrAuthFailed
	}
	if err := u.Login(username, password); err != nil {
		return err
	}
	sess.UserSession = imapmemserver.NewUserSession(u)
	return nil
}

// Idle first sends the updates queued since the last command, as real
// servers do when IDLE starts; imapmemserver alone would hold them back
// until the next change.
func (sess *imapSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if err := sess.Poll(w, true); err != nil {
		return err
	}
	return sess.UserSession.Idle(w, stop)
}

func (sess *imapSession) AuthenticateMechanisms() []string {
	return []string{sasl.Plain, "XOAUTH2"}
}

func (sess *imapSession) Authenticate(mech string) (sasl.Server, error) {
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				return imapserver.ErrAuthFailed
			}
			return sess.Login(username, password)
		}), nil
	case "XOAUTH2":
		return &xoauth2Server{login: sess.Login}, nil
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "SASL mechanism not supported"}
}

// xoauth2Server checks "user=U\x01auth=Bearer T\x01\x01" and, like Gmail,
// answers a bad token with a JSON challenge before failing.
type xoauth2Server struct {
	login  func(username, password string) error
	failed bool
}

func (x *xoauth2Server) Next(response []byte) ([]byte, bool, error) {
	if x.failed {
		return nil, true, imapserver.ErrAuthFailed
	}
	var user, token string
	for _, field := range strings.Split(string(response), "\x01") {
		if v, ok := strings.CutPrefix(field, "user="); ok {
			user = v
		} else if v, ok := strings.CutPrefix(field, "auth=Bearer "); ok {
			token = v
		}
	}
	if user == "" || token == "" || x.login(user, token) != nil {
		x.failed = true
		return []byte(`{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`), false, nil
	}
	return nil, true, nil
}

// trackingListener remembers accepted connections for DropConnections.
type trackingListener struct {
	net.Listener
	s *IMAPServer
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, s: l.s}
	l.s.mu.Lock()
	l.s.conns[tc] = struct{}{}
	l.s.mu.Unlock()
	return tc, nil
}

type trackedConn struct {
	net.Conn
	s *IMAPServer
}

func (c *trackedConn) Close() error {
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
	return c.Conn.Close()
}
