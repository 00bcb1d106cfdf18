package ews_test

import (
	"testing"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
)

const (
	testUser     = "analyst"
	testPassword = "correct horse battery staple"
)

// newUserServer starts an in-memory IMAP server that knows the test user,
// and closes it when the test ends.
func newUserServer(t testing.TB, opts *ewstest.IMAPServerOptions) *ewstest.IMAPServer {
	t.Helper()
	srv, err := ewstest.NewIMAPServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.AddUser(testUser, testPassword); err != nil {
		t.Fatal(err)
	}
	return srv
}

// memFactory builds each conformance harness on a fresh in-memory server,
// so that one test dropping connections does not disturb another.
func memFactory(opts ewstest.IMAPServerOptions, configure func(*ews.IMAPConfig)) ewstest.Factory {
	return func(t testing.TB, setup ewstest.Setup) ewstest.Harness {
		t.Helper()
		srv := newUserServer(t, &opts)
		for _, f := range setup.Create {
			if err := srv.CreateFolder(testUser, f); err != nil {
				t.Fatal(err)
			}
		}
		cfg := ews.IMAPConfig{
			Addr:       srv.Addr(),
			TLS:        ews.TLSNone,
			Username:   testUser,
			Password:   testPassword,
			Folders:    setup.Folders,
			Processed:  setup.Processed,
			Quarantine: setup.Quarantine,
		}
		if configure != nil {
			configure(&cfg)
		}
		mb, err := ews.NewIMAP(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mb.Close() })
		return ewstest.Harness{
			Mailbox: mb,
			Server:  ewstest.NewIMAPBackend(srv.Addr(), testUser, testPassword, srv.DropConnections),
		}
	}
}

func TestIMAPConformance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts ewstest.IMAPServerOptions
	}{
		{"Move", ewstest.IMAPServerOptions{}},
		{"CopyExpunge", ewstest.IMAPServerOptions{NoMove: true}},
		{"CopyNoUIDPlus", ewstest.IMAPServerOptions{NoMove: true, NoUIDPlus: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ewstest.RunConformance(t, memFactory(tt.opts, nil))
		})
	}
}
