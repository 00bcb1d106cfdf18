package ews_test

import (
	"testing"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
)

// newGraphHarness builds a Graph mailbox on a fresh fake Graph server, with
// the client credentials grant against the fake's token endpoint and small
// pages so that paging is exercised.
func newGraphHarness(t testing.TB, setup ewstest.Setup) ewstest.Harness {
	t.Helper()
	srv := ewstest.NewGraphServer(t)
	for _, f := range setup.Create {
		if _, err := srv.CreateFolder(ewstest.GraphMailbox, f); err != nil {
			t.Fatal(err)
		}
	}
	mb, err := ews.NewGraph(ews.GraphConfig{
		TenantID:     ewstest.GraphTenantID,
		ClientID:     ewstest.GraphClientID,
		ClientSecret: ewstest.GraphClientSecret,
		TokenURL:     srv.TokenURL(),
		BaseURL:      srv.URL(),
		User:         ewstest.GraphMailbox,
		Folders:      setup.Folders,
		Processed:    setup.Processed,
		Quarantine:   setup.Quarantine,
		PageSize:     3,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mb.Close() })
	return ewstest.Harness{Mailbox: mb, Server: srv.Backend(ewstest.GraphMailbox)}
}

func TestGraphConformance(t *testing.T) {
	t.Parallel()
	ewstest.RunConformance(t, newGraphHarness)
}
