package dovecot_test

import (
	"crypto/tls"
	"errors"
	"os"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/synapse-go/synapse/internal/dovecot"
)

func TestStart(t *testing.T) {
	t.Parallel()
	cert, err := dovecot.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	srv := dovecot.Start(t, dovecot.Options{Cert: cert, Users: map[string]string{"alice": "pw-alice"}})
	if err := srv.AddUser("bob", "pw-bob"); err != nil {
		t.Fatal(err)
	}
	tlsConf := &tls.Config{RootCAs: cert.Pool(), ServerName: "127.0.0.1"}

	tests := []struct {
		name           string
		dial           func() (*imapclient.Client, error)
		user, password string
		wantErr        bool
	}{
		{"Plain", func() (*imapclient.Client, error) { return imapclient.DialInsecure(srv.Addr, nil) }, "alice", "pw-alice", false},
		{"StartTLS", func() (*imapclient.Client, error) {
			return imapclient.DialStartTLS(srv.Addr, &imapclient.Options{TLSConfig: tlsConf})
		}, "alice", "pw-alice", false},
		{"TLS", func() (*imapclient.Client, error) {
			return imapclient.DialTLS(srv.TLSAddr, &imapclient.Options{TLSConfig: tlsConf})
		}, "alice", "pw-alice", false},
		{"AddedUser", func() (*imapclient.Client, error) { return imapclient.DialInsecure(srv.Addr, nil) }, "bob", "pw-bob", false},
		{"WrongPassword", func() (*imapclient.Client, error) { return imapclient.DialInsecure(srv.Addr, nil) }, "alice", "nope", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := tt.dial()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.Login(tt.user, tt.password).Wait()
			var imapErr *imap.Error
			if tt.wantErr {
				if !errors.As(err, &imapErr) || imapErr.Code != imap.ResponseCodeAuthenticationFailed {
					t.Fatalf("login with a wrong password: %v, want NO [AUTHENTICATIONFAILED]", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if _, err := c.Select("INBOX", nil).Wait(); err != nil {
				t.Fatalf("select INBOX: %v", err)
			}
		})
	}
}

func TestKick(t *testing.T) {
	t.Parallel()
	srv := dovecot.Start(t)
	var user, password string
	for u, p := range srv.Users() {
		user, password = u, p
	}
	c, err := imapclient.DialInsecure(srv.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, password).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Kick(user); err != nil {
		t.Fatal(err)
	}
	<-c.Closed() // the server ends the connection
	if err := c.Noop().Wait(); err == nil {
		t.Fatal("NOOP succeeded on a kicked connection")
	}
}

func TestStopRemovesDir(t *testing.T) {
	t.Parallel()
	if _, err := dovecot.Binary(); err != nil {
		t.Skip(err)
	}
	srv, err := dovecot.Launch(t.Context(), dovecot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := os.Stat(srv.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory %s still exists after Stop: %v", srv.Dir, err)
	}
}

func TestLaunchRejectsBadUsers(t *testing.T) {
	t.Parallel()
	for _, users := range []map[string]string{
		{"": "pw"},
		{"a:b": "pw"},
		{"alice": ""},
		{"alice": "line\nbreak"},
	} {
		if _, err := dovecot.Launch(t.Context(), dovecot.Options{Users: users, Binary: "/nonexistent"}); err == nil {
			t.Errorf("Launch with users %q: no error", users)
		}
	}
}
