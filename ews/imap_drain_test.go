package ews_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
)

type countingHandler struct {
	mu       sync.Mutex
	messages []string
}

func (h *countingHandler) Enabled(_ context.Context, _ slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.messages = append(h.messages, r.Message)
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

func (h *countingHandler) count(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.messages {
		if m == msg {
			n++
		}
	}
	return n
}

// TestIMAPCloseEarlyKeepsTheConnection reads the start of a small message
// only (as a reader stopping after one attachment does), then opens it
// again: the connection is reused, not dropped and logged in again. A
// large message read in part still drops its connection rather than
// download the rest.
func TestIMAPCloseEarlyKeepsTheConnection(t *testing.T) {
	t.Parallel()
	srv := newUserServer(t, nil)
	small := []byte("Subject: small\r\n\r\n" + strings.Repeat("line of text\r\n", 5000))
	large := append([]byte("Subject: large\r\n\r\n"), bytes.Repeat([]byte("x"), 3<<20)...)
	for i, raw := range [][]byte{small, large} {
		if err := srv.Seed(testUser, "Inbox", ewstest.SeedMessage{Raw: raw, Received: time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
	}
	logs := &countingHandler{}
	mb := newTestMailbox(t, srv, func(c *ews.IMAPConfig) { c.Logger = slog.New(logs); c.MaxConns = 1 })
	_, msgs := listSubjects(t, mb)
	if len(msgs) != 2 {
		t.Fatalf("%d messages listed", len(msgs))
	}
	readStart := func(m ews.Message) {
		rc, err := mb.Open(t.Context(), m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(rc, make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
		if err := rc.Close(); err != nil {
			t.Fatal(err)
		}
	}
	before := logs.count("imap: connected")
	for range 3 {
		readStart(msgs[0])
	}
	if got := logs.count("imap: connected") - before; got != 0 {
		t.Errorf("%d new connections after closing a small message early, want 0", got)
	}
	readStart(msgs[1])
	readStart(msgs[0])
	if got := logs.count("imap: connected") - before; got != 1 {
		t.Errorf("%d new connections after closing a 3 MiB message early, want 1 (the large rest is not downloaded)", got)
	}

}
