package dovecot_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log"

	"github.com/synapse-go/synapse/internal/dovecot"
)

// ExampleNewCertificate makes a certificate that a client trusts through
// its pool.
func ExampleNewCertificate() {
	cert, err := dovecot.NewCertificate("localhost", "127.0.0.1")
	if err != nil {
		log.Fatal(err)
	}
	block, _ := pem.Decode(cert.CertPEM)
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		log.Fatal(err)
	}
	_, err = leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: cert.Pool()})
	fmt.Println("trusted for localhost:", err == nil)
	// Output:
	// trusted for localhost: true
}

// ExampleLaunch starts a Dovecot from a program that has no *testing.T,
// such as a crash-test driver. (Not run: it needs Dovecot installed.)
func ExampleLaunch() {
	srv, err := dovecot.Launch(context.Background(), dovecot.Options{
		Users: map[string]string{"analyst": dovecot.RandomPassword()},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()
	fmt.Println("IMAP on", srv.Addr, "for", len(srv.Users()), "user")
}
