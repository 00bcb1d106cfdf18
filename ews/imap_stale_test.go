package ews_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
)

func newTestMailbox(t *testing.T, srv *ewstest.IMAPServer, configure func(*ews.IMAPConfig)) *ews.IMAPMailbox {
	t.Helper()
	cfg := ews.IMAPConfig{
		Addr: srv.Addr(), TLS: ews.TLSNone, Username: testUser, Password: testPassword,
		Folders: []string{"Inbox"}, Processed: ews.Disposition{Category: "done"},
	}
	if configure != nil {
		configure(&cfg)
	}
	mb, err := ews.NewIMAP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mb.Close() })
	return mb
}

func listSubjects(t *testing.T, mb ews.Mailbox) ([]string, []ews.Message) {
	t.Helper()
	var subjects []string
	var msgs []ews.Message
	for msg, err := range mb.Messages(t.Context()) {
		if err != nil {
			t.Fatalf("Messages: %v", err)
		}
		subjects = append(subjects, msg.Subject)
		msgs = append(msgs, msg)
	}
	return subjects, msgs
}

// TestIMAPUIDValidityChange rebuilds a folder under the mailbox: old IDs
// are stale, and the next listing yields exactly the unprocessed messages
// under new IDs.
func TestIMAPUIDValidityChange(t *testing.T) {
	t.Parallel()
	srv := newUserServer(t, nil)
	for _, s := range []string{"a", "b", "c"} {
		raw := fmt.Sprintf("From: x@example.com\r\nSubject: %s\r\nMessage-ID: <%s@example.com>\r\n\r\n%s\r\n", s, s, s)
		if err := srv.Append(testUser, "Inbox", []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	mb := newTestMailbox(t, srv, nil)
	ctx := t.Context()
	_, before := listSubjects(t, mb)
	if len(before) != 3 {
		t.Fatalf("listed %d messages, want 3", len(before))
	}
	if err := mb.MarkProcessed(ctx, before[0]); err != nil {
		t.Fatal(err)
	}
	if err := srv.RebuildFolder(testUser, "Inbox"); err != nil {
		t.Fatal(err)
	}

	if _, err := mb.Open(ctx, before[1]); !errors.Is(err, ews.ErrStale) {
		t.Errorf("Open with an old id: error %v, want ews.ErrStale", err)
	}
	if err := mb.MarkProcessed(ctx, before[1]); !errors.Is(err, ews.ErrStale) {
		t.Errorf("MarkProcessed with an old id: error %v, want ews.ErrStale", err)
	}
	if err := mb.Quarantine(ctx, before[1], "x"); !errors.Is(err, ews.ErrInvalidConfig) {
		t.Errorf("Quarantine without a quarantine disposition: error %v, want ews.ErrInvalidConfig", err)
	}

	subjects, after := listSubjects(t, mb)
	if diff := cmp.Diff([]string{"b", "c"}, subjects); diff != "" {
		t.Errorf("listing after the rebuild mismatch (-want +got):\n%s", diff)
	}
	for i, msg := range after {
		if msg.ID == before[i+1].ID {
			t.Errorf("message %s kept its id %q across the UIDVALIDITY change", msg.Subject, msg.ID)
		}
	}
	rc, err := mb.Open(ctx, after[0])
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || len(body) == 0 {
		t.Fatalf("reading a message under its new id: %d bytes, %v", len(body), err)
	}
}

// TestIMAPStreamCanceled cancels the context of an open stream.
func TestIMAPStreamCanceled(t *testing.T) {
	t.Parallel()
	srv := newUserServer(t, nil)
	raw := ewstest.LargeMessage("big@example.com", time.Now(), 4<<20)
	if err := srv.Append(testUser, "Inbox", raw); err != nil {
		t.Fatal(err)
	}
	mb := newTestMailbox(t, srv, func(c *ews.IMAPConfig) { c.MaxConns = 1 })
	_, msgs := listSubjects(t, mb)
	ctx, cancel := context.WithCancel(t.Context())
	rc, err := mb.Open(ctx, msgs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rc, make([]byte, 1024)); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = io.Copy(io.Discard, rc)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("reading after cancel: error %v, want context.Canceled", err)
	}
	if err := rc.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	// The only connection was dropped; the mailbox opens a new one.
	rc, err = mb.Open(t.Context(), msgs[0])
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil || n != int64(len(raw)) {
		t.Errorf("reading again: %d bytes, %v; want %d bytes", n, err, len(raw))
	}
}

// TestIMAPWaitTimeout checks that a wait with no mail ends after
// WaitTimeout with a nil error.
func TestIMAPWaitTimeout(t *testing.T) {
	t.Parallel()
	srv := newUserServer(t, nil)
	mb := newTestMailbox(t, srv, func(c *ews.IMAPConfig) { c.WaitTimeout = 50 * time.Millisecond })
	listSubjects(t, mb)
	if err := mb.WaitForMail(t.Context()); err != nil {
		t.Fatalf("WaitForMail: %v", err)
	}
}

// TestIMAPCloseEndsWait closes the mailbox while WaitForMail waits.
func TestIMAPCloseEndsWait(t *testing.T) {
	t.Parallel()
	srv := newUserServer(t, nil)
	mb := newTestMailbox(t, srv, nil)
	listSubjects(t, mb)
	done := make(chan error, 1)
	go func() { done <- mb.WaitForMail(t.Context()) }()
	mb.Close()
	if err := <-done; !errors.Is(err, ews.ErrClosed) {
		t.Errorf("WaitForMail on a closed mailbox: error %v, want ews.ErrClosed", err)
	}
}
