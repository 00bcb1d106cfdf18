package ews_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
)

// xchBase is the first received time the EWS and Graph tests seed.
var xchBase = time.Date(2026, 3, 2, 9, 14, 7, 0, time.UTC)

// xchRaw returns a small RFC 5322 message.
func xchRaw(subject, messageID string, body string) []byte {
	return []byte("From: Reporter <reporter@example.com>\r\n" +
		"To: Phishing desk <soc@example.com>\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: Mon, 02 Mar 2026 09:14:00 +0000\r\n" +
		"Message-ID: <" + messageID + ">\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body)
}

// xchSeed stores a message with subject "Report <key>" and Message-ID
// "<key>@test" in folder.
func xchSeed(t testing.TB, x *ewstest.Exchange, mailbox, folder, key string, offset time.Duration, read bool, cats ...string) ewstest.ExchangeMessage {
	t.Helper()
	m, err := x.AddMessage(mailbox, folder, ewstest.ExchangeMessage{
		Raw:        xchRaw("Report "+key, key+"@test", "Body of "+key+".\r\n"),
		Received:   xchBase.Add(offset),
		Read:       read,
		Categories: cats,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// waitRecorder replaces the retry wait: it records what was asked and
// returns at once.
type waitRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (w *waitRecorder) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.waits = append(w.waits, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waitRecorder) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.waits...)
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// recorded is one request seen by a recorder.
type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

// recorder records the requests that reach next.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	reqs []recorded
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{Method: req.Method, Path: req.URL.EscapedPath(), Query: req.URL.RawQuery, Header: req.Header.Clone(), Body: string(body)})
	r.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(body))
	r.next.ServeHTTP(w, req)
}

func (r *recorder) requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// startRecorded serves h behind a recorder on a loopback port.
func startRecorded(t testing.TB, h http.Handler) (*recorder, *httptest.Server) {
	t.Helper()
	rec := &recorder{next: h}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return rec, srv
}

var idPattern = regexp.MustCompile(`(Id|ChangeKey)="[A-Za-z0-9+/=_-]{16,}"`)

// normalizeIDs replaces EWS ids and change keys, which are random, by
// placeholders.
func normalizeIDs(s string) string { return idPattern.ReplaceAllString(s, `$1="…"`) }

// listAll lists every message of mb.
func listAll(ctx context.Context, t testing.TB, mb ews.Mailbox) []ews.Message {
	t.Helper()
	var out []ews.Message
	for m, err := range mb.Messages(ctx) {
		if err != nil {
			t.Fatalf("Messages: %v", err)
		}
		out = append(out, m)
	}
	return out
}

// readAll opens msg and reads it whole.
func readAll(ctx context.Context, t testing.TB, mb ews.Mailbox, msg ews.Message) []byte {
	t.Helper()
	rc, err := mb.Open(ctx, msg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	return b
}

// checkListsTiesOnce seeds seven messages, five of them received in one
// second, through seed into a mailbox that lists two a page, and checks
// that each is listed once, also when each is marked processed as it is
// listed (the unprocessed view then shrinks under the listing).
func checkListsTiesOnce(t *testing.T, mb ews.Mailbox, seed func(key string, offset time.Duration), mark bool) {
	t.Helper()
	want := map[string]int{}
	for i := range 7 {
		key := fmt.Sprintf("m%d", i)
		seed(key, time.Duration(i/5)*time.Minute) // five in one second, then two
		want["Report "+key] = 1
	}
	ctx := t.Context()
	got := map[string]int{}
	for m, err := range mb.Messages(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got[m.Subject]++
		if mark {
			if err := mb.MarkProcessed(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("times each message was listed (-want +got):\n%s", diff)
	}
}

// checkFolderRecreated deletes and recreates the folder "Inbox/Phishing"
// that mb lists between two listings: the remembered folder id is stale,
// and the mailbox finds the folder again; once the folder is gone for
// good, listing fails with ErrFolderNotFound.
func checkFolderRecreated(t *testing.T, mb ews.Mailbox, x *ewstest.Exchange, mailbox string) {
	t.Helper()
	const folder = "Inbox/Phishing"
	if _, err := x.CreateFolder(mailbox, folder); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	listAll(ctx, t, mb)
	if err := x.DeleteFolder(mailbox, folder); err != nil {
		t.Fatal(err)
	}
	if _, err := x.CreateFolder(mailbox, folder); err != nil {
		t.Fatal(err)
	}
	xchSeed(t, x, mailbox, folder, "a", 0, false)
	if msgs := listAll(ctx, t, mb); len(msgs) != 1 {
		t.Errorf("listed %d messages in the recreated folder, want 1", len(msgs))
	}
	if err := x.DeleteFolder(mailbox, folder); err != nil {
		t.Fatal(err)
	}
	if _, err := listErr(ctx, mb); !errors.Is(err, ews.ErrFolderNotFound) {
		t.Errorf("listing a deleted folder: %v, want ErrFolderNotFound", err)
	}
}

// assertNoSecret fails when any output holds one of the secrets.
func assertNoSecret(t testing.TB, secrets []string, outputs ...string) {
	t.Helper()
	for _, out := range outputs {
		for _, s := range secrets {
			if s != "" && strings.Contains(out, s) {
				t.Errorf("a secret leaked into %q", strings.ReplaceAll(out, s, fmt.Sprintf("<secret %d chars>", len(s))))
			}
		}
	}
}
