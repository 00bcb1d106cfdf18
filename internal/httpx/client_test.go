package httpx

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testKey = "s3cr3t-api-key-do-not-print"

// fastRetry keeps the tests' backoff waits in the millisecond range.
var fastRetry = RetryPolicy{MaxRetries: 3, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newTestClient returns a client for srv that authenticates with testKey and
// logs everything, at Debug, into the returned buffer.
func newTestClient(t *testing.T, srv *httptest.Server, mod func(*Config)) (*Client, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	cfg := Config{
		Name:    "test",
		BaseURL: srv.URL + "/base/",
		Retry:   fastRetry,
		Authorize: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+testKey)
			return nil
		},
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, logs
}

// assertNoSecret fails when the secret appears in any of the strings.
func assertNoSecret(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, testKey) {
			t.Errorf("secret leaked in %q", s)
		}
	}
}

func TestRetryPolicyByMethod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		idempotent bool
		wantCalls  int32
	}{
		{"GET is retried", http.MethodGet, false, 4},
		{"DELETE is retried", http.MethodDelete, false, 4},
		{"POST is not retried", http.MethodPost, false, 1},
		{"PATCH is not retried", http.MethodPatch, false, 1},
		{"POST marked idempotent is retried", http.MethodPost, true, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprint(w, `{"type":"Unavailable","message":"try later"}`)
			}))
			defer srv.Close()
			c, logs := newTestClient(t, srv, nil)
			body, _ := JSONBody(map[string]string{"title": "x"})
			req := &Request{Method: tt.method, Path: "/api/thing", Idempotent: tt.idempotent}
			if tt.method != http.MethodGet && tt.method != http.MethodDelete {
				req.Body = body
			}
			_, err := c.Do(t.Context(), req)
			var re *ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("error = %v, want *ResponseError", err)
			}
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("server saw %d calls, want %d", got, tt.wantCalls)
			}
			if re.StatusCode != http.StatusServiceUnavailable || re.Attempts != int(tt.wantCalls) {
				t.Errorf("status %d attempts %d, want 503 and %d", re.StatusCode, re.Attempts, tt.wantCalls)
			}
			if !strings.Contains(string(re.Body), "try later") {
				t.Errorf("error body %q lost the server's message", re.Body)
			}
			assertNoSecret(t, err.Error(), logs.String())
		})
	}
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			// Drop the (new) connection without an answer.
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
		case 2:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			fmt.Fprint(w, `{"ok":true}`)
		}
	}))
	defer srv.Close()
	c, logs := newTestClient(t, srv, nil)
	var out struct{ OK bool }
	if err := c.DoJSON(t.Context(), &Request{Method: http.MethodGet, Path: "x"}, &out); err != nil {
		t.Fatal(err)
	}
	if !out.OK || calls.Load() != 3 {
		t.Errorf("ok=%v after %d calls, want true after 3", out.OK, calls.Load())
	}
	if n := strings.Count(logs.String(), `"msg":"retrying request"`); n != 2 {
		t.Errorf("%d retry log records, want 2:\n%s", n, logs)
	}
}

func TestRetriedUploadResendsIdenticalBytes(t *testing.T) {
	t.Parallel()
	var (
		mu     sync.Mutex
		bodies [][]byte
		clens  []int64
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		mu.Lock()
		bodies = append(bodies, b)
		clens = append(clens, r.ContentLength)
		n := len(bodies)
		mu.Unlock()
		if n < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		mr := multipart.NewReader(bytes.NewReader(b), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			data, _ := io.ReadAll(p)
			fmt.Fprintf(w, "%s:%s:%d;", p.FormName(), p.FileName(), len(data))
		}
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv, nil)

	file := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	open, replayable := ReaderOpener(bytes.NewReader(file))
	body, err := MultipartBody([]Part{
		{Name: "_json", Data: []byte(`{"dataType":"file"}`), ContentType: "application/json"},
		{Name: "attachment", FileName: "evil \"name\".bin", Open: open, Size: int64(len(file)), Replayable: replayable},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(t.Context(), &Request{Method: http.MethodPost, Path: "upload", Body: body, Idempotent: true})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `_json::19;attachment:evil "name".bin:1048576;`; string(got) != want {
		t.Errorf("server parsed %q, want %q", got, want)
	}
	if len(bodies) != 3 {
		t.Fatalf("%d attempts, want 3", len(bodies))
	}
	first := sha256.Sum256(bodies[0])
	for i, b := range bodies {
		if sha256.Sum256(b) != first {
			t.Errorf("attempt %d sent other bytes than attempt 1", i+1)
		}
		if clens[i] != int64(len(b)) || clens[i] != body.Length {
			t.Errorf("attempt %d: Content-Length %d, body %d bytes, announced %d", i+1, clens[i], len(b), body.Length)
		}
	}
}

func TestOneShotBodyIsNotRetried(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv, nil)
	// A reader that is not a Seeker cannot be rewound.
	open, replayable := ReaderOpener(io.MultiReader(strings.NewReader("streamed once")))
	if replayable {
		t.Fatal("a plain reader was reported replayable")
	}
	body, _ := MultipartBody([]Part{{Name: "f", FileName: "a.txt", Open: open, Size: -1}})
	_, err := c.Do(t.Context(), &Request{Method: http.MethodPost, Path: "u", Body: body, Idempotent: true})
	var re *ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadGateway {
		t.Fatalf("error = %v, want a 502 ResponseError", err)
	}
	if calls.Load() != 1 {
		t.Errorf("%d calls, want 1", calls.Load())
	}
}

func TestPartSizeMismatchFailsTheRequest(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv, func(c *Config) { c.Retry.MaxRetries = -1 })
	open, _ := ReaderOpener(strings.NewReader("short"))
	body, _ := MultipartBody([]Part{{Name: "f", FileName: "a", Open: open, Size: 100}})
	if _, err := c.Do(t.Context(), &Request{Method: http.MethodPost, Path: "u", Body: body}); err == nil {
		t.Fatal("a part shorter than announced was sent without error")
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	s := NewSecret(testKey)
	type holder struct {
		Key    Secret
		hidden Secret
	}
	h := holder{Key: s, hidden: s}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "key", s, "holder", h)
	js, _ := json.Marshal(h)
	outputs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x %d", s, s, s, s, s, s, s),
		fmt.Sprintf("%v %+v %#v", h, h, &h), logs.String(), string(js),
	}
	assertNoSecret(t, outputs...)
	if s.Reveal() != testKey || NewSecret("").IsZero() != true || s.IsZero() {
		t.Error("Reveal or IsZero is wrong")
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://h/api?x=1", "https://h/api?x=1"},
		{"https://user:pw@h/p", "https://REDACTED@h/p"},
		{"https://h/p?access_token=abc&apiKey=k&fields=id&client_secret=c#frag",
			"https://h/p?access_token=%5BREDACTED%5D&apiKey=%5BREDACTED%5D&client_secret=%5BREDACTED%5D&fields=id"},
	}
	for _, tt := range tests {
		u, err := parseURL(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := RedactURL(u); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	h := http.Header{"Authorization": {"Bearer x"}, "Sec": {"tok"}, "X-Organisation": {"org"}, "X-Custom": {"c"}}
	got := RedactHeader(h, "X-Custom")
	want := http.Header{"Authorization": {Redacted}, "Sec": {Redacted}, "X-Organisation": {"org"}, "X-Custom": {Redacted}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RedactHeader (-want +got):\n%s", diff)
	}
}

func TestTransportErrorIsRedacted(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	logs := &logBuffer{}
	c, err := New(Config{
		Name: "test", BaseURL: "http://" + addr, Retry: fastRetry,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "p", Query: map[string][]string{"token": {testKey}}})
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("error = %#v, want *TransportError", err)
	}
	if te.Attempts != fastRetry.MaxRetries+1 {
		t.Errorf("attempts = %d, want %d", te.Attempts, fastRetry.MaxRetries+1)
	}
	var ne net.Error
	if !errors.As(err, &ne) {
		t.Errorf("error %v does not unwrap to a net.Error", err)
	}
	assertNoSecret(t, err.Error(), fmt.Sprintf("%+v", err), logs.String())
}

func TestCrossHostRedirectRefused(t *testing.T) {
	t.Parallel()
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Store(true)
		}
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv, nil)
	_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "p"})
	var rr *RedirectRefusedError
	if !errors.As(err, &rr) {
		t.Fatalf("error = %v, want a refused redirect", err)
	}
	if leaked.Load() {
		t.Error("credentials were sent to the other host")
	}
}

func TestCertificateErrorIsNotRetried(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	c, _ := newTestClient(t, srv, nil) // default transport: does not trust the test CA
	_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "p"})
	var te *TransportError
	if !errors.As(err, &te) || te.Attempts != 1 {
		t.Fatalf("error = %v, want a TransportError after 1 attempt", err)
	}
	if calls.Load() != 0 {
		t.Error("the handler ran despite the certificate error")
	}
}

func TestContextCancelStopsBackoff(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusServiceUnavailable)
		cancel() // the client is about to wait; cancelling must end the wait
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv, func(c *Config) { c.Retry.MaxWait = time.Hour })
	_, err := c.Do(ctx, &Request{Method: http.MethodGet, Path: "p"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	resp := func(code int, ra string) *http.Response {
		h := http.Header{}
		if ra != "" {
			h.Set("Retry-After", ra)
		}
		return &http.Response{StatusCode: code, Header: h}
	}
	minW, maxW := 100*time.Millisecond, 2*time.Second
	if got := backoff(minW, maxW, 0, resp(429, "1")); got != time.Second {
		t.Errorf("Retry-After 1 gave %v", got)
	}
	if got := backoff(minW, maxW, 0, resp(503, "120")); got != maxW {
		t.Errorf("Retry-After 120 not clamped: %v", got)
	}
	date := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	if got := backoff(minW, maxW, 0, resp(429, date)); got != maxW {
		t.Errorf("Retry-After date not clamped: %v", got)
	}
	for attempt := range 10 {
		step := min(minW<<attempt, maxW)
		got := backoff(minW, maxW, attempt, resp(500, "5"))
		if got < step/2 || got > step {
			t.Errorf("attempt %d: wait %v outside [%v, %v]", attempt, got, step/2, step)
		}
	}
}

func TestURLAndHeaders(t *testing.T) {
	t.Parallel()
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv, func(c *Config) {
		c.UserAgent = "synapse-test/1"
		c.Header = http.Header{"X-Organisation": {"org-a"}}
	})
	err := c.DoJSON(t.Context(), &Request{
		Method: http.MethodGet,
		Path:   "/api/v1/alert/" + "type%3Bsrc%3Bref%2F1",
		Query:  map[string][]string{"name": {"a b"}},
		Header: http.Header{"X-Organisation": {"org-b"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.URL.EscapedPath() != "/base/api/v1/alert/type%3Bsrc%3Bref%2F1" || got.URL.RawQuery != "name=a+b" {
		t.Errorf("request URL %s", got.URL)
	}
	if got.Header.Get("User-Agent") != "synapse-test/1" || got.Header.Get("X-Organisation") != "org-b" ||
		got.Header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("headers %v", got.Header)
	}
}

func TestNewValidatesBaseURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "not a url", "ftp://h", "https://user:" + testKey + "@h/"} {
		_, err := New(Config{Name: "x", BaseURL: u})
		if err == nil {
			t.Errorf("New(%q) gave no error", u)
			continue
		}
		assertNoSecret(t, err.Error())
	}
}

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

func TestTemporary(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]bool{400: false, 404: false, 408: true, 429: true, 500: true, 501: false, 503: true} {
		if got := (&ResponseError{StatusCode: code}).Temporary(); got != want {
			t.Errorf("status %d: Temporary() = %v", code, got)
		}
	}
	if !(&TransportError{Err: io.ErrUnexpectedEOF}).Temporary() {
		t.Error("a broken connection is not temporary")
	}
	if (&TransportError{Err: context.Canceled}).Temporary() || (&TransportError{Err: &RedirectRefusedError{Host: "x"}}).Temporary() {
		t.Error("a cancel or a refused redirect is temporary")
	}
}
