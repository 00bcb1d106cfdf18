package ews

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-sasl"
)

// imapConn is one authenticated connection and what it has selected.
type imapConn struct {
	c    *imapclient.Client
	raw  net.Conn // the TCP connection under c
	caps imap.CapSet

	selected       string // server name of the selected mailbox, or ""
	uidValidity    uint32
	uidNext        imap.UID
	permanentFlags []imap.Flag
}

// broken reports whether the connection is known to be closed.
func (c *imapConn) broken() bool {
	select {
	case <-c.c.Closed():
		return true
	default:
		return false
	}
}

// kill closes the TCP connection without waiting, which fails every
// pending command and read. Unlike Client.Close it never blocks, even while
// a message literal is half read.
func (c *imapConn) kill() { c.raw.Close() }

// selectMailbox selects name. It selects again even when name is already
// selected: the SELECT response is the only fresh word on UIDVALIDITY,
// and a folder may have been rebuilt or renamed under a long-lived
// connection.
func (c *imapConn) selectMailbox(name string) error {
	c.selected = ""
	data, err := c.c.Select(name, nil).Wait()
	if err != nil {
		return err
	}
	c.selected = name
	c.uidValidity = data.UIDValidity
	c.uidNext = data.UIDNext
	c.permanentFlags = data.PermanentFlags
	return nil
}

// imapPool hands out at most max connections at a time and keeps the idle
// ones for reuse.
type imapPool struct {
	sem chan struct{}

	mu     sync.Mutex
	idle   []*imapConn
	all    map[*imapConn]struct{}
	closed bool
}

func newIMAPPool(max int) *imapPool {
	return &imapPool{sem: make(chan struct{}, max), all: make(map[*imapConn]struct{})}
}

// get returns an idle connection, or a new one from dial, once fewer than
// max are in use.
func (p *imapPool) get(ctx context.Context, dial func(context.Context) (*imapConn, error)) (*imapConn, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			<-p.sem
			return nil, ErrClosed
		}
		var c *imapConn
		if n := len(p.idle); n > 0 {
			c = p.idle[n-1]
			p.idle = p.idle[:n-1]
		}
		p.mu.Unlock()
		if c == nil {
			break
		}
		if !c.broken() {
			return c, nil
		}
		p.discard(c, false)
	}
	c, err := dial(ctx)
	if err != nil {
		<-p.sem
		return nil, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.c.Close()
		<-p.sem
		return nil, ErrClosed
	}
	p.all[c] = struct{}{}
	p.mu.Unlock()
	return c, nil
}

// put returns a healthy connection to the pool.
func (p *imapPool) put(c *imapConn) {
	p.mu.Lock()
	closed := p.closed
	if !closed {
		p.idle = append(p.idle, c)
	}
	p.mu.Unlock()
	if closed {
		c.c.Close()
	}
	<-p.sem
}

// discard closes a connection that is broken or in an unknown state. held
// says whether the caller holds a slot from get.
func (p *imapPool) discard(c *imapConn, held bool) {
	p.mu.Lock()
	delete(p.all, c)
	p.mu.Unlock()
	c.c.Close()
	if held {
		<-p.sem
	}
}

// close closes every connection, idle or in use.
func (p *imapPool) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	for _, c := range idle {
		delete(p.all, c)
	}
	busy := p.all
	p.all = make(map[*imapConn]struct{})
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		logoutAndClose(c.c)
	}
	// A busy connection may be half way through a message: fail it, and
	// let its holder drop it.
	for c := range busy {
		c.kill()
	}
}

// logoutAndClose says goodbye if the connection still works, then closes it.
func logoutAndClose(c *imapclient.Client) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Logout().Wait()
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
	c.Close()
}

// dial connects, secures and authenticates a new connection. handler, if
// not nil, receives the connection's unilateral mailbox updates.
func (m *IMAPMailbox) dial(ctx context.Context, handler *imapclient.UnilateralDataHandler) (*imapConn, error) {
	dialFn := m.cfg.DialContext
	if dialFn == nil {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		dialFn = d.DialContext
	}
	raw, err := dialFn(ctx, "tcp", m.cfg.Addr)
	if err != nil {
		return nil, m.opErr("", "connect", err)
	}
	// Until the connection is ready, a done ctx closes it, which unblocks
	// every step below.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	fail := func(op string, err error) (*imapConn, error) {
		raw.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		return nil, m.opErr("", op, err)
	}

	var conn net.Conn = raw
	if m.cfg.TLS == TLSImplicit {
		tc := tls.Client(raw, m.tlsConf.Clone())
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail("tls handshake", err)
		}
		conn = tc
	}
	opts := &imapclient.Options{
		TLSConfig:             m.tlsConf.Clone(),
		UnilateralDataHandler: handler,
		WordDecoder:           &mime.WordDecoder{CharsetReader: charset.Reader},
	}
	var c *imapclient.Client
	if m.cfg.TLS == TLSStartTLS {
		c, err = imapclient.NewStartTLS(&idleDeadlineConn{Conn: conn}, opts)
		if err != nil {
			return fail("starttls", err)
		}
	} else {
		c = imapclient.New(&idleDeadlineConn{Conn: conn}, opts)
	}
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return fail("greeting", err)
	}
	if c.State() != imap.ConnStateAuthenticated {
		if err := m.authenticate(c); err != nil {
			c.Close()
			return fail("login", err)
		}
	}
	caps := c.Caps()
	if caps == nil {
		c.Close()
		return fail("capability", errors.New("no capability list"))
	}
	ic := &imapConn{c: c, raw: raw, caps: caps}
	if err := m.learnNamespace(ic); err != nil {
		c.Close()
		return fail("namespace", err)
	}
	m.log.DebugContext(ctx, "imap: connected", "server", m.cfg.Addr, "tls", m.cfg.TLS.String())
	return ic, nil
}

// authenticate logs in with the configured mechanism. Its errors never
// contain the password or the token.
func (m *IMAPMailbox) authenticate(c *imapclient.Client) error {
	mech := m.cfg.Auth
	caps := c.Caps()
	if mech == IMAPAuthAuto {
		switch {
		case m.cfg.TokenSource != nil:
			mech = IMAPAuthXOAuth2
		case caps.Has(imap.AuthCap(sasl.Plain)):
			mech = IMAPAuthPlain
		default:
			mech = IMAPAuthLogin
		}
	}
	var err error
	switch mech {
	case IMAPAuthLogin:
		if caps.Has(imap.CapLoginDisabled) {
			return fmt.Errorf("%w: the server disables LOGIN on this connection (use TLS or STARTTLS)", ErrUnsupported)
		}
		err = c.Login(m.cfg.Username, m.cfg.Password).Wait()
	case IMAPAuthPlain:
		err = c.Authenticate(sasl.NewPlainClient("", m.cfg.Username, m.cfg.Password))
	case IMAPAuthXOAuth2:
		tok, terr := m.cfg.TokenSource.Token()
		if terr != nil {
			return fmt.Errorf("%w: getting an OAuth2 token failed", ErrAuth)
		}
		err = c.Authenticate(&xoauth2Client{username: m.cfg.Username, token: tok.AccessToken})
	}
	if err == nil {
		return nil
	}
	var imapErr *imap.Error
	if errors.As(err, &imapErr) {
		return imapServerError(imapErr, ErrAuth)
	}
	return err
}

// xoauth2Client is the SASL XOAUTH2 mechanism of Google and Microsoft.
type xoauth2Client struct {
	username, token string
}

func (x *xoauth2Client) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.username + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

// Next answers the server's error challenge (a JSON status) with an empty
// response, after which the server fails the command.
func (x *xoauth2Client) Next([]byte) ([]byte, error) { return []byte{}, nil }

// learnNamespace finds the hierarchy separator and personal namespace
// prefix once per mailbox.
func (m *IMAPMailbox) learnNamespace(c *imapConn) error {
	m.nsMu.Lock()
	defer m.nsMu.Unlock()
	if m.nsKnown {
		return nil
	}
	if c.caps.Has(imap.CapNamespace) {
		ns, err := c.c.Namespace().Wait()
		if err == nil && ns != nil && len(ns.Personal) > 0 {
			m.nsPrefix = ns.Personal[0].Prefix
			m.delim = ns.Personal[0].Delim
			m.nsKnown = true
			return nil
		}
	}
	list, err := c.c.List("", "", nil).Collect()
	if err != nil {
		return err
	}
	if len(list) > 0 {
		m.delim = list[0].Delim
	}
	m.nsKnown = true
	return nil
}

// idleDeadlineConn turns the absolute read deadlines that imapclient sets
// into inactivity timeouts: each Read pushes the deadline forward by the
// duration last asked for. imapclient allows a literal five minutes in
// total, which a slow consumer of a large message would exceed; with this,
// only five minutes without any data fail.
type idleDeadlineConn struct {
	net.Conn
	idle atomic.Int64 // nanoseconds; 0 means no deadline
}

func (c *idleDeadlineConn) SetReadDeadline(t time.Time) error {
	if t.IsZero() {
		c.idle.Store(0)
	} else {
		c.idle.Store(int64(max(time.Until(t), time.Millisecond)))
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *idleDeadlineConn) Read(p []byte) (int, error) {
	if d := c.idle.Load(); d > 0 {
		if err := c.Conn.SetReadDeadline(time.Now().Add(time.Duration(d))); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(p)
}
