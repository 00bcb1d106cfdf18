package ews_test

import (
	"testing"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
)

// newEWSHarness builds an EWS mailbox on a fresh fake EWS server, reading
// the shared mailbox as a delegate over NTLM, with small pages so that
// paging is exercised.
func newEWSHarness(t testing.TB, setup ewstest.Setup) ewstest.Harness {
	t.Helper()
	srv := ewstest.NewEWSServer(t)
	for _, f := range setup.Create {
		if _, err := srv.CreateFolder(ewstest.EWSSharedMailbox, f); err != nil {
			t.Fatal(err)
		}
	}
	mb, err := ews.NewEWS(ews.EWSConfig{
		URL:        srv.URL(),
		Username:   ewstest.EWSUsername,
		Password:   ewstest.EWSPassword,
		Mailbox:    ewstest.EWSSharedMailbox,
		Folders:    setup.Folders,
		Processed:  setup.Processed,
		Quarantine: setup.Quarantine,
		PageSize:   3,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mb.Close() })
	return ewstest.Harness{Mailbox: mb, Server: srv.Backend(ewstest.EWSSharedMailbox)}
}

func TestEWSConformance(t *testing.T) {
	t.Parallel()
	ewstest.RunConformance(t, newEWSHarness)
}
