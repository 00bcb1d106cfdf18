package ews_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
	"github.com/synapse-go/synapse/internal/dovecot"
)

// dropProxy forwards loopback connections to a server and can cut them all
// at once, so that a test drops exactly the mailbox's connections.
type dropProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func newDropProxy(t testing.TB, target string) *dropProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{ln: ln, target: target, conns: make(map[net.Conn]struct{})}
	t.Cleanup(func() {
		ln.Close()
		p.Drop()
	})
	go p.serve()
	return p
}

func (p *dropProxy) Addr() string { return p.ln.Addr().String() }

func (p *dropProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns[client] = struct{}{}
		p.conns[server] = struct{}{}
		p.mu.Unlock()
		var once atomic.Bool
		closeBoth := func() {
			if once.Swap(true) {
				return
			}
			client.Close()
			server.Close()
			p.mu.Lock()
			delete(p.conns, client)
			delete(p.conns, server)
			p.mu.Unlock()
		}
		go func() { _, _ = io.Copy(server, client); closeBoth() }()
		go func() { _, _ = io.Copy(client, server); closeBoth() }()
	}
}

// Drop closes every proxied connection.
func (p *dropProxy) Drop() {
	p.mu.Lock()
	conns := p.conns
	p.conns = make(map[net.Conn]struct{})
	p.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}

// startDovecot starts a Dovecot with n users, named user0, user1, ...
func startDovecot(t *testing.T, n int) (*dovecot.Server, []string) {
	users := make(map[string]string, n)
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("user%d", i)
		users[names[i]] = dovecot.RandomPassword()
	}
	return dovecot.Start(t, dovecot.Options{Users: users}), names
}

// dovecotFactory builds each harness as another user of one shared
// Dovecot, reached through a proxy of its own so that dropping its
// connections disturbs no other test.
func dovecotFactory(srv *dovecot.Server, users []string) ewstest.Factory {
	var mu sync.Mutex
	passwords := srv.Users()
	return func(t testing.TB, setup ewstest.Setup) ewstest.Harness {
		t.Helper()
		mu.Lock()
		if len(users) == 0 {
			mu.Unlock()
			t.Fatal("no Dovecot user left for this test")
		}
		user := users[0]
		users = users[1:]
		mu.Unlock()
		password := passwords[user]
		backend := ewstest.NewIMAPBackend(srv.Addr, user, password, nil)
		if err := backend.CreateFolders(t.Context(), setup.Create...); err != nil {
			t.Fatal(err)
		}
		proxy := newDropProxy(t, srv.Addr)
		mb, err := ews.NewIMAP(ews.IMAPConfig{
			Addr:       proxy.Addr(),
			TLS:        ews.TLSNone,
			Username:   user,
			Password:   password,
			Folders:    setup.Folders,
			Processed:  setup.Processed,
			Quarantine: setup.Quarantine,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mb.Close() })
		return ewstest.Harness{
			Mailbox: mb,
			Server:  ewstest.NewIMAPBackend(srv.Addr, user, password, proxy.Drop),
		}
	}
}

func TestIMAPDovecotConformance(t *testing.T) {
	t.Parallel()
	srv, users := startDovecot(t, 40)
	ewstest.RunConformance(t, dovecotFactory(srv, users))
}

// TestIMAPDovecotTLS connects to a real Dovecot with STARTTLS and with
// implicit TLS, trusting its certificate through a custom CA, and checks
// Dovecot's own answer to a wrong password.
func TestIMAPDovecotTLS(t *testing.T) {
	t.Parallel()
	cert, err := dovecot.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	srv := dovecot.Start(t, dovecot.Options{Cert: cert, Users: map[string]string{"analyst": "pw-analyst"}})
	tests := []struct {
		name     string
		addr     string
		mode     ews.TLSMode
		password string
		wantErr  error
	}{
		{"StartTLS", srv.Addr, ews.TLSStartTLS, "pw-analyst", nil},
		{"Implicit", srv.TLSAddr, ews.TLSImplicit, "pw-analyst", nil},
		{"WrongPassword", srv.TLSAddr, ews.TLSImplicit, "nope", ews.ErrAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mb, err := ews.NewIMAP(ews.IMAPConfig{
				Addr: tt.addr, TLS: tt.mode, CACertPEM: cert.CertPEM, Username: "analyst", Password: tt.password,
				Folders: []string{"Inbox"}, Processed: ews.Disposition{MarkRead: true},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer mb.Close()
			n, err := countMessages(t.Context(), mb)
			if tt.wantErr == nil && (err != nil || n != 0) {
				t.Fatalf("listing an empty inbox: %d messages, error %v", n, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("listing: error %v, want %v", err, tt.wantErr)
			}
		})
	}
}
