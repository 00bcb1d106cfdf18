package dovecot

import (
	"os"
	"testing"
)

// Start launches a private Dovecot for the test and stops it when the test
// ends. Without Dovecot installed the test is skipped, unless the CI
// environment variable is "true", in which case it fails: CI must run the
// integration tests. opts may be omitted.
func Start(t testing.TB, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Binary == "" {
		if _, err := Binary(); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%v; CI=true requires Dovecot for the integration tests", err)
			}
			t.Skipf("skipping: %v", err)
		}
	}
	s, err := Launch(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dovecot log (last lines):\n%s", s.LogTail(30))
		}
		if err := s.Stop(); err != nil {
			t.Errorf("stopping dovecot: %v", err)
		}
	})
	return s
}
