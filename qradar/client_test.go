package qradar_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/qradar/qradartest"
)

func TestNewClientOptions(t *testing.T) {
	t.Parallel()
	tok := qradar.WithToken("t")
	tests := []struct {
		name string
		url  string
		opts []qradar.Option
	}{
		{"no credential", "https://q.example", nil},
		{"empty token", "https://q.example", []qradar.Option{qradar.WithToken(" ")}},
		{"empty user", "https://q.example", []qradar.Option{qradar.WithBasicAuth("", "pw")}},
		{"colon in user", "https://q.example", []qradar.Option{qradar.WithBasicAuth("a:b", "pw")}},
		{"bad version", "https://q.example", []qradar.Option{tok, qradar.WithVersion("v20")}},
		{"bad minor", "https://q.example", []qradar.Option{tok, qradar.WithVersion("20.x")}},
		{"nil HTTP client", "https://q.example", []qradar.Option{tok, qradar.WithHTTPClient(nil)}},
		{"nil TLS config", "https://q.example", []qradar.Option{tok, qradar.WithTLSConfig(nil)}},
		{"no PEM", "https://q.example", []qradar.Option{tok, qradar.WithCACertPEM([]byte("not a certificate"))}},
		{"negative timeout", "https://q.example", []qradar.Option{tok, qradar.WithTimeout(-time.Second)}},
		{"negative wait", "https://q.example", []qradar.Option{tok, qradar.WithRetry(qradar.RetryPolicy{MinWait: -1})}},
		{"line break in user agent", "https://q.example", []qradar.Option{tok, qradar.WithUserAgent("a\r\nSEC: x")}},
		{"batch size 0", "https://q.example", []qradar.Option{tok, qradar.WithBatchSize(0)}},
		{"batch size too big", "https://q.example", []qradar.Option{tok, qradar.WithBatchSize(qradar.MaxBatchSize + 1)}},
		{"relative URL", "qradar.example", []qradar.Option{tok}},
		{"bad scheme", "ftp://q.example", []qradar.Option{tok}},
		{"credentials in URL", "https://user:secret@q.example", []qradar.Option{tok}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := qradar.NewClient(tt.url, tt.opts...)
			if err == nil || c != nil {
				t.Fatalf("NewClient accepted it")
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error shows the URL's password: %v", err)
			}
			if !errors.Is(err, qradar.ErrInvalidParams) {
				t.Errorf("err = %v, want ErrInvalidParams", err)
			}
		})
	}
	good := []qradar.Option{tok, nil, qradar.WithVersion(""), qradar.WithTimeout(time.Minute), qradar.WithLogger(nil),
		qradar.WithUserAgent("x"), qradar.WithBatchSize(50), qradar.WithCacheTTL(time.Minute), qradar.WithInsecureSkipVerify(),
		qradar.WithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}), qradar.WithHTTPClient(&http.Client{})}
	if _, err := qradar.NewClient("https://q.example/api/", good...); err != nil {
		t.Errorf("good options: %v", err)
	}
}

func TestHeadersAndAuthentication(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []qradar.Option
		want map[string]string
	}{
		{"token and default version", nil, hdr()},
		{"basic", []qradar.Option{qradar.WithBasicAuth(qradartest.Username, qradartest.Password)},
			map[string]string{"Authorization": "Basic YWRtaW46cXJhZGFydGVzdC1wYXNzd29yZA==", "Version": qradar.DefaultVersion, "Accept": "application/json"}},
		{"version", []qradar.Option{qradar.WithVersion("14.0")}, hdr("Version", "14.0")},
		{"no version", []qradar.Option{qradar.WithVersion("")}, map[string]string{"SEC": qradartest.Token, "Accept": "application/json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil, tt.opts...)
			if _, err := e.c.System.About(t.Context()); err != nil {
				t.Fatal(err)
			}
			reqs := e.rec.take()
			if diff := cmp.Diff(tt.want, reqs[0].Header); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}

	// The base URL may end in /api, with or without a slash.
	srv := qradartest.New()
	ts := newTestServer(t, srv.Handler())
	for _, base := range []string{ts, ts + "/", ts + "/api", ts + "/api/"} {
		c, err := qradar.NewClient(base, qradar.WithToken(qradartest.Token))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.System.About(t.Context()); err != nil {
			t.Errorf("base %q: %v", base, err)
		}
	}
}

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	e := newEnv(t, []qradartest.Option{qradartest.WithToken(qradartest.APIToken{Value: "viewer", Label: "viewer", ReadOnly: true})},
		qradar.WithRetry(qradar.RetryPolicy{MaxRetries: -1}))
	seedOffenses(t, e.srv, 1)
	viewer, err := qradar.NewClient(e.ts.URL, qradar.WithToken("viewer"))
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := qradar.NewClient(e.ts.URL, qradar.WithToken("wrong-token-value"))
	if err != nil {
		t.Fatal(err)
	}
	old, err := qradar.NewClient(e.ts.URL, qradar.WithToken(qradartest.Token), qradar.WithVersion("9.0"))
	if err != nil {
		t.Fatal(err)
	}
	all := []error{qradar.ErrUnauthorized, qradar.ErrForbidden, qradar.ErrNotFound, qradar.ErrConflict, qradar.ErrInvalidRequest,
		qradar.ErrInvalidFilter, qradar.ErrInvalidAQL, qradar.ErrUnsupportedVersion, qradar.ErrServer}
	tests := []struct {
		name   string
		op     func() error
		status int
		code   int
		is     []error
	}{
		{"401", func() error { _, err := stranger.Offenses.Get(t.Context(), 1); return err }, 401, 18, []error{qradar.ErrUnauthorized}},
		{"403", func() error { _, err := viewer.Offenses.AddNote(t.Context(), 1, "x"); return err }, 403, 26, []error{qradar.ErrForbidden}},
		{"404", func() error { _, err := e.c.Offenses.Get(t.Context(), 2); return err }, 404, 1002, []error{qradar.ErrNotFound}},
		{"filter", func() error {
			_, err := e.c.Offenses.List(t.Context(), &qradar.OffenseListOptions{Filter: "status =="})
			return err
		}, 422, 1010, []error{qradar.ErrInvalidRequest, qradar.ErrInvalidFilter}},
		{"sort", func() error {
			_, err := e.c.Offenses.List(t.Context(), &qradar.OffenseListOptions{Sort: "+description"})
			return err
		}, 422, 1030, []error{qradar.ErrInvalidRequest}},
		{"version", func() error { _, err := old.System.About(t.Context()); return err }, 422, 1005, []error{qradar.ErrInvalidRequest, qradar.ErrUnsupportedVersion}},
		{"500", func() error {
			e.srv.SetFaults(qradartest.Faults{Rate: 1, Times: 1, Kinds: []qradartest.FaultKind{qradartest.FaultStatus500}})
			_, err := e.c.Offenses.Get(t.Context(), 1)
			return err
		}, 500, 1020, []error{qradar.ErrServer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			var apiErr *qradar.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want an *APIError", err)
			}
			if apiErr.StatusCode != tt.status || apiErr.Code != tt.code {
				t.Errorf("got %d/%d, want %d/%d", apiErr.StatusCode, apiErr.Code, tt.status, tt.code)
			}
			for _, s := range all {
				want := false
				for _, w := range tt.is {
					want = want || s == w
				}
				if errors.Is(err, s) != want {
					t.Errorf("errors.Is(%v) = %v", s, !want)
				}
			}
			if strings.Contains(err.Error(), qradartest.Token) || strings.Contains(err.Error(), "wrong-token-value") {
				t.Errorf("error shows a token: %v", err)
			}
		})
	}
}

func TestAPIErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *qradar.APIError
		want string
	}{
		{&qradar.APIError{StatusCode: 404, Code: 1002, Message: "Offense 9 does not exist", Method: "GET", URL: "https://q/api/siem/offenses/9"},
			"qradar: GET https://q/api/siem/offenses/9: 404 (code 1002): Offense 9 does not exist"},
		{&qradar.APIError{StatusCode: 500, Code: 1020, Description: "An error occurred.", Method: "GET", URL: "u", Attempts: 5},
			"qradar: GET u: 500 (code 1020): An error occurred. (after 5 attempts)"},
		{&qradar.APIError{StatusCode: 401, HTTPMessage: "You are unauthorized", Method: "GET", URL: "u"},
			"qradar: GET u: 401: You are unauthorized"},
		{&qradar.APIError{StatusCode: 503, Body: []byte("<html>"), Method: "GET", URL: "u"},
			"qradar: GET u: 503: answer is not a QRadar error body"},
		{&qradar.APIError{StatusCode: 502, Method: "GET", URL: "u"}, "qradar: GET u: 502"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
}

// TestTLS: a console whose certificate is not trusted is an error (never
// retried, never a crash); trusting its certificate fixes it.
func TestTLS(t *testing.T) {
	t.Parallel()
	srv := qradartest.NewTLSServer(t)
	c, err := qradar.NewClient(srv.URL(), qradar.WithToken(qradartest.Token), qradar.WithRetry(fastRetry))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.System.About(t.Context())
	var unknown x509.UnknownAuthorityError
	if err == nil || !errors.As(err, &unknown) {
		t.Fatalf("err = %v, want a certificate error", err)
	}
	if n := srv.Requests("GET /api/system/about"); n != 0 {
		t.Errorf("%d requests reached the console over an untrusted connection", n)
	}
	for name, opt := range map[string]qradar.Option{
		"CA":                   qradar.WithCACertPEM(srv.CertificatePEM()),
		"insecure skip verify": qradar.WithInsecureSkipVerify(),
	} {
		c, err := qradar.NewClient(srv.URL(), qradar.WithToken(qradartest.Token), opt)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.System.About(t.Context()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNoSecretInLogs: with debug logging on, retries and errors included,
// neither the token nor the password appears in any log line or error.
func TestNoSecretInLogs(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, auth := range []qradar.Option{qradar.WithToken(qradartest.Token), qradar.WithBasicAuth(qradartest.Username, qradartest.Password)} {
		e := newEnv(t, nil, auth, qradar.WithLogger(logger))
		seedOffenses(t, e.srv, 1)
		e.srv.SetFaults(qradartest.Faults{Rate: 1, Times: 2})
		var errs []error
		_, err := e.c.Offenses.Get(t.Context(), 1)
		errs = append(errs, err)
		_, err = e.c.Offenses.Get(t.Context(), 7)
		errs = append(errs, err)
		_, err = e.c.Offenses.AddNote(t.Context(), 7, "x")
		errs = append(errs, err)
		for _, err := range errs {
			if err != nil && (strings.Contains(err.Error(), qradartest.Token) || strings.Contains(err.Error(), qradartest.Password)) {
				t.Errorf("error shows a secret: %v", err)
			}
		}
	}
	out := logs.String()
	if !strings.Contains(out, "retrying request") || !strings.Contains(out, "http request") {
		t.Errorf("expected attempt and retry records, got:\n%s", out)
	}
	for _, secret := range []string{qradartest.Token, qradartest.Password, "cXJhZGFydGVzdC1wYXNzd29yZA"} {
		if strings.Contains(out, secret) {
			t.Errorf("logs show a secret:\n%s", out)
		}
	}
}

// TestNonJSONAnswer: a 2xx answer that is not JSON is an error, not a
// panic or a zero offense.
func TestNonJSONAnswer(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>login</html>"))
	}))
	c, err := qradar.NewClient(ts, qradar.WithToken("t"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Offenses.Get(t.Context(), 1); err == nil || !strings.Contains(err.Error(), "decoding the answer") {
		t.Errorf("err = %v", err)
	}
	empty := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	c, _ = qradar.NewClient(empty, qradar.WithToken("t"))
	if _, err := c.Offenses.Get(t.Context(), 1); err == nil {
		t.Error("an empty answer gave no error")
	}
}

// TestOffenseJSONRoundTrip: an Offense marshals to QRadar's wire form
// (epoch milliseconds, null for unset times) and reads back unchanged.
func TestOffenseJSONRoundTrip(t *testing.T) {
	t.Parallel()
	o := qradar.Offense{ID: 5, Description: "d", StartTime: t0, LastUpdatedTime: t0.Add(time.Minute),
		Status: qradar.StatusOpen, SourceAddressIDs: []qradar.AddressID{1}, Rules: []qradar.OffenseRule{{ID: 9, Type: "CRE_RULE"}}}
	b, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"start_time":1709294400000`, `"close_time":null`, `"last_updated_time":1709294460000`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	var back qradar.Offense
	if err := back.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(o, back, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestAPIErrorTemporary(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]bool{401: false, 404: false, 409: false, 422: false, 429: true, 500: true, 503: true} {
		if got := (&qradar.APIError{StatusCode: code}).Temporary(); got != want {
			t.Errorf("status %d: Temporary() = %v, want %v", code, got, want)
		}
	}
}
