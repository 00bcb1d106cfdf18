package ewstest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/textproto"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/ews"
)

// Category and keyword names used by the suite. They are lower-case atoms, so
// every server stores them unchanged.
const (
	catProcessed  = "synapse-processed"
	catQuarantine = "synapse-quarantine"
	catTriage     = "triage"
)

// Folder paths used by the suite.
const (
	folderInbox      = "Inbox"
	folderPhishing   = "Inbox/Phishing"
	folderProcessed  = "Processed"
	folderQuarantine = "Quarantine"
)

// LargeMessageSize is the size of the large message that the suite streams
// (skipped with -short).
const LargeMessageSize = 50 << 20

// suiteBase is the first received time the suite seeds.
var suiteBase = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// RunConformance runs the mailbox conformance suite against the mailboxes
// that newHarness builds. Every check is a parallel subtest with a harness of
// its own:
//
//   - listing yields only unprocessed messages, oldest first, folder by
//     folder, under each kind of disposition, and never quarantined ones;
//   - Open streams exactly the seeded bytes, without marking the message
//     read, including a 50 MB message (skipped with -short);
//   - MarkProcessed and Quarantine apply every combination of read flag,
//     category and move, and are idempotent;
//   - nothing is listed twice or lost when the connections drop mid-run;
//   - a canceled context stops every call; breaking out of a listing early
//     leaves the mailbox usable;
//   - sixteen goroutines open and mark messages while one lists (run it with
//     -race);
//   - a missing folder, a malformed ID and a closed mailbox give the shared
//     sentinel errors;
//   - a mailbox that implements [ews.Waiter] wakes up when mail arrives.
func RunConformance(t *testing.T, newHarness Factory) {
	t.Helper()
	checks := []struct {
		name string
		run  func(*testing.T, Factory)
	}{
		{"Listing", checkListing},
		{"Open", checkOpen},
		{"OpenLarge", checkOpenLarge},
		{"MarkProcessed", checkMarkProcessed},
		{"Quarantine", checkQuarantine},
		{"Reconnect", checkReconnect},
		{"ContextCanceled", checkContextCanceled},
		{"EarlyBreak", checkEarlyBreak},
		{"Concurrent", checkConcurrent},
		{"MissingFolder", checkMissingFolder},
		{"InvalidID", checkInvalidID},
		{"Closed", checkClosed},
		{"WaitForMail", checkWaitForMail},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newHarness)
		})
	}
}

// seeder builds unique messages for one test and remembers them by key.
type seeder struct {
	t     *testing.T
	h     Harness
	token string
	raw   map[string][]byte // key -> raw message
}

func newSeeder(t *testing.T, h Harness) *seeder {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return &seeder{t: t, h: h, token: hex.EncodeToString(b[:]), raw: make(map[string][]byte)}
}

// messageID returns the Message-ID (without angle brackets) of key.
func (s *seeder) messageID(key string) string {
	return key + "." + s.token + "@conformance.synapse.test"
}

// keyOf returns the key of a Message-ID, or "" if it is not one of s's.
func (s *seeder) keyOf(messageID string) string {
	id := normalizeMessageID(messageID)
	key, ok := strings.CutSuffix(id, "."+s.token+"@conformance.synapse.test")
	if !ok {
		return ""
	}
	return key
}

// seed stores a plain-text message under key with the given state.
func (s *seeder) seed(folder, key string, offset time.Duration, read bool, categories ...string) {
	s.t.Helper()
	received := suiteBase.Add(offset)
	raw := textMessage(s.messageID(key), "Report "+key, received, "Suspicious message "+key+".\r\n")
	s.seedRaw(folder, key, raw, received, read, categories...)
}

func (s *seeder) seedRaw(folder, key string, raw []byte, received time.Time, read bool, categories ...string) {
	s.t.Helper()
	err := s.h.Server.Seed(s.t.Context(), folder, SeedMessage{
		Raw:        raw,
		Received:   received,
		Read:       read,
		Categories: categories,
	})
	if err != nil {
		s.t.Fatalf("seed %s into %q: %v", key, folder, err)
	}
	s.raw[key] = raw
}

// state is a message's server-side state as the checks compare it.
type state struct {
	Folder     string
	Read       bool
	Categories []string
}

// inspect returns the state of s's messages in the given folders, by key.
func (s *seeder) inspect(folders ...string) map[string]state {
	s.t.Helper()
	out := make(map[string]state)
	for _, f := range folders {
		msgs, err := s.h.Server.Inspect(s.t.Context(), f)
		if err != nil {
			s.t.Fatalf("inspect %q: %v", f, err)
		}
		for _, m := range msgs {
			key := s.keyOf(m.MessageID)
			if key == "" {
				continue
			}
			if prev, dup := out[key]; dup {
				s.t.Errorf("message %s is stored twice: in %q and %q", key, prev.Folder, f)
			}
			out[key] = state{Folder: f, Read: m.Read, Categories: normalizeCategories(m.Categories)}
		}
	}
	return out
}

// listed is one listed message as the checks compare it.
type listed struct {
	Folder string
	Key    string
}

// identify opens msg and returns its key, checking the metadata the
// connector reported against what was seeded.
func (s *seeder) identify(ctx context.Context, msg ews.Message) string {
	s.t.Helper()
	raw := readMessage(ctx, s.t, s.h.Mailbox, msg)
	key := s.keyOf(headerMessageID(s.t, raw))
	if key == "" {
		s.t.Fatalf("listed message %q is not one the test seeded", msg.ID)
	}
	if !bytes.Equal(raw, s.raw[key]) {
		s.t.Errorf("Open(%s) returned %d bytes that differ from the %d seeded", key, len(raw), len(s.raw[key]))
	}
	if msg.InternetMessageID != "" && s.keyOf(msg.InternetMessageID) != key {
		s.t.Errorf("message %s: InternetMessageID = %q, want %q", key, msg.InternetMessageID, s.messageID(key))
	}
	return key
}

// list ranges over the mailbox's messages and fails the test on an error.
func list(ctx context.Context, t *testing.T, mb ews.Mailbox) []ews.Message {
	t.Helper()
	var out []ews.Message
	for msg, err := range mb.Messages(ctx) {
		if err != nil {
			t.Fatalf("Messages: %v", err)
		}
		out = append(out, msg)
	}
	return out
}

// listKeys lists the mailbox and identifies every message.
func (s *seeder) listKeys(ctx context.Context) []listed {
	s.t.Helper()
	var out []listed
	for _, msg := range list(ctx, s.t, s.h.Mailbox) {
		out = append(out, listed{Folder: msg.Folder, Key: s.identify(ctx, msg)})
	}
	return out
}

// findByKey lists the mailbox and returns the message with the given key.
func (s *seeder) findByKey(ctx context.Context, key string) ews.Message {
	s.t.Helper()
	for _, msg := range list(ctx, s.t, s.h.Mailbox) {
		if s.identify(ctx, msg) == key {
			return msg
		}
	}
	s.t.Fatalf("message %s is not listed", key)
	return ews.Message{}
}

func readMessage(ctx context.Context, t *testing.T, mb ews.Mailbox, msg ews.Message) []byte {
	t.Helper()
	rc, err := mb.Open(ctx, msg)
	if err != nil {
		t.Fatalf("Open(%q): %v", msg.ID, err)
	}
	raw, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("reading %q: %v", msg.ID, err)
	}
	return raw
}

func headerMessageID(t *testing.T, raw []byte) string {
	t.Helper()
	hdr, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	if err != nil && len(hdr) == 0 {
		t.Fatalf("parsing the header of an opened message: %v", err)
	}
	return hdr.Get("Message-Id")
}

func normalizeMessageID(id string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
}

// normalizeCategories lower-cases and sorts categories, since IMAP keywords
// are case-insensitive and some servers fold them.
func normalizeCategories(cats []string) []string {
	if len(cats) == 0 {
		return nil
	}
	out := make([]string, len(cats))
	for i, c := range cats {
		out[i] = strings.ToLower(c)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func textMessage(messageID, subject string, date time.Time, body string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Reporter <reporter@example.com>\r\n")
	fmt.Fprintf(&b, "To: Phishing desk <phishing@example.org>\r\n")
	fmt.Fprintf(&b, "Subject: %s\r\n", subject)
	fmt.Fprintf(&b, "Date: %s\r\n", date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s>\r\n", messageID)
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\n")
	fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\n")
	fmt.Fprintf(&b, "Content-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(body)
	return b.Bytes()
}

// checkListing seeds two folders with read, categorised, quarantined and
// plain messages out of received order, and checks what each kind of
// processed disposition lists.
func checkListing(t *testing.T, newHarness Factory) {
	tests := []struct {
		name      string
		processed ews.Disposition
		want      []listed
	}{
		{
			name:      "UnreadWithoutCategory",
			processed: ews.Disposition{MarkRead: true},
			want: []listed{
				{folderInbox, "d"}, {folderInbox, "a"}, {folderInbox, "c"},
				{folderPhishing, "p"},
			},
		},
		{
			name:      "LacksCategory",
			processed: ews.Disposition{MarkRead: true, Category: catProcessed},
			want: []listed{
				{folderInbox, "d"}, {folderInbox, "b"}, {folderInbox, "a"},
				{folderPhishing, "p"},
			},
		},
		{
			name:      "MoveOnly",
			processed: ews.Disposition{MoveTo: folderProcessed},
			want: []listed{
				{folderInbox, "d"}, {folderInbox, "b"}, {folderInbox, "a"}, {folderInbox, "c"},
				{folderPhishing, "r"}, {folderPhishing, "p"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Setup{
				Folders:    []string{folderInbox, folderPhishing},
				Create:     []string{folderInbox, folderPhishing, folderProcessed},
				Processed:  tt.processed,
				Quarantine: ews.Disposition{Category: catQuarantine},
			})
			s := newSeeder(t, h)
			// Seeded out of received order, so that arrival order and
			// received order differ.
			s.seed(folderInbox, "a", 2*time.Hour, false, catTriage)
			s.seed(folderInbox, "b", 1*time.Hour, true)
			s.seed(folderInbox, "c", 3*time.Hour, false, catProcessed)
			s.seed(folderInbox, "d", 0, false)
			s.seed(folderInbox, "q", 4*time.Hour, false, catQuarantine)
			s.seed(folderPhishing, "p", 6*time.Hour, false)
			s.seed(folderPhishing, "r", 5*time.Hour, true, catProcessed)
			received := map[string]time.Duration{"a": 2 * time.Hour, "b": time.Hour, "c": 3 * time.Hour, "d": 0, "p": 6 * time.Hour, "r": 5 * time.Hour}
			cats := map[string][]string{"a": {catTriage}, "c": {catProcessed}, "r": {catProcessed}}

			ctx := t.Context()
			msgs := list(ctx, t, h.Mailbox)
			var got []listed
			ids := make(map[ews.MessageID]bool)
			for _, msg := range msgs {
				key := s.identify(ctx, msg)
				got = append(got, listed{Folder: msg.Folder, Key: key})
				if msg.ID == "" || ids[msg.ID] {
					t.Errorf("message %s: ID %q is empty or not unique", key, msg.ID)
				}
				ids[msg.ID] = true
				if msg.Subject != "" && msg.Subject != "Report "+key {
					t.Errorf("message %s: Subject = %q, want %q", key, msg.Subject, "Report "+key)
				}
				if want := suiteBase.Add(received[key]); !msg.Received.Equal(want) {
					t.Errorf("message %s: Received = %v, want %v", key, msg.Received, want)
				}
				if msg.Size != -1 && msg.Size <= 0 {
					t.Errorf("message %s: Size = %d, want -1 or a positive size", key, msg.Size)
				}
				if diff := cmp.Diff(cats[key], normalizeCategories(msg.Categories)); diff != "" {
					t.Errorf("message %s: Categories mismatch (-want +got):\n%s", key, diff)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("listed messages mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// checkOpen streams messages of several shapes and checks the bytes, that an
// abandoned stream does not wedge the mailbox, and that opening does not
// mark a message read.
func checkOpen(t *testing.T, newHarness Factory) {
	h := newHarness(t, Setup{
		Folders:   []string{folderInbox},
		Create:    []string{folderInbox},
		Processed: ews.Disposition{MarkRead: true},
	})
	s := newSeeder(t, h)
	at := suiteBase
	s.seedRaw(folderInbox, "plain", textMessage(s.messageID("plain"), "Plain", at, "Hello.\r\n"), at, false)

	at = at.Add(time.Minute)
	utf8 := textMessage(s.messageID("utf8"), "=?utf-8?q?Facture_impay=C3=A9e?=", at,
		"Bonjour, votre facture est impayée: ünïcödé ✓.\r\n.\r\nFrom the desk\r\n"+strings.Repeat("x", 998)+"\r\n")
	s.seedRaw(folderInbox, "utf8", utf8, at, false)

	at = at.Add(time.Minute)
	s.seedRaw(folderInbox, "attachment", multipartMessage(s.messageID("attachment"), at, 256<<10), at, false)

	at = at.Add(time.Minute)
	headersOnly := []byte("From: a@example.com\r\nSubject: empty\r\nMessage-ID: <" + s.messageID("empty") + ">\r\n" +
		"Date: " + at.Format(time.RFC1123Z) + "\r\n\r\n")
	s.seedRaw(folderInbox, "empty", headersOnly, at, false)

	ctx := t.Context()
	msgs := list(ctx, t, h.Mailbox)
	if len(msgs) != 4 {
		t.Fatalf("listed %d messages, want 4", len(msgs))
	}
	var got []string
	for _, msg := range msgs {
		got = append(got, s.identify(ctx, msg)) // compares the bytes
	}
	if diff := cmp.Diff([]string{"plain", "utf8", "attachment", "empty"}, got); diff != "" {
		t.Errorf("listed messages mismatch (-want +got):\n%s", diff)
	}

	// Abandon a stream after a few bytes, then open the same message again.
	big := msgs[2]
	rc, err := h.Mailbox.Open(ctx, big)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := io.ReadFull(rc, make([]byte, 100)); err != nil {
		t.Fatalf("reading the first bytes: %v", err)
	}
	if err := rc.Close(); err != nil {
		t.Fatalf("closing a stream early: %v", err)
	}
	if raw := readMessage(ctx, t, h.Mailbox, big); !bytes.Equal(raw, s.raw["attachment"]) {
		t.Errorf("second Open returned %d bytes that differ from the %d seeded", len(raw), len(s.raw["attachment"]))
	}

	for key, st := range s.inspect(folderInbox) {
		if st.Read {
			t.Errorf("message %s is read after Open; Open must not change the read flag", key)
		}
	}
}

func multipartMessage(messageID string, date time.Time, attachment int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Reporter <reporter@example.com>\r\n")
	fmt.Fprintf(&b, "To: Phishing desk <phishing@example.org>\r\n")
	fmt.Fprintf(&b, "Subject: Invoice attached\r\n")
	fmt.Fprintf(&b, "Date: %s\r\n", date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s>\r\n", messageID)
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\n")
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n")
	fmt.Fprintf(&b, "--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSee attached.\r\n")
	fmt.Fprintf(&b, "--b1\r\nContent-Type: application/octet-stream; name=\"invoice.bin\"\r\n")
	fmt.Fprintf(&b, "Content-Disposition: attachment; filename=\"invoice.bin\"\r\n")
	fmt.Fprintf(&b, "Content-Transfer-Encoding: base64\r\n\r\n")
	writeBase64Lines(&b, mathrand.NewChaCha8([32]byte{1}), attachment)
	fmt.Fprintf(&b, "--b1--\r\n")
	return b.Bytes()
}

// writeBase64Lines writes n pseudo-random bytes from r as base64 in 76
// character lines.
func writeBase64Lines(w io.Writer, r io.Reader, n int) {
	chunk := make([]byte, 57) // 57 bytes make one 76-character line
	line := make([]byte, 78)
	for n > 0 {
		k := min(n, len(chunk))
		_, _ = io.ReadFull(r, chunk[:k])
		m := base64.StdEncoding.EncodedLen(k)
		base64.StdEncoding.Encode(line, chunk[:k])
		line[m], line[m+1] = '\r', '\n'
		_, _ = w.Write(line[:m+2])
		n -= k
	}
}

// LargeMessage returns a message of about size bytes whose body is a base64
// attachment of pseudo-random bytes; the same arguments always give the same
// bytes.
func LargeMessage(messageID string, date time.Time, size int) []byte {
	var b bytes.Buffer
	b.Grow(size + 1024)
	fmt.Fprintf(&b, "From: Reporter <reporter@example.com>\r\n")
	fmt.Fprintf(&b, "Subject: Large attachment\r\n")
	fmt.Fprintf(&b, "Date: %s\r\n", date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s>\r\n", messageID)
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\n")
	fmt.Fprintf(&b, "Content-Type: application/octet-stream; name=\"dump.bin\"\r\n")
	fmt.Fprintf(&b, "Content-Transfer-Encoding: base64\r\n\r\n")
	writeBase64Lines(&b, mathrand.NewChaCha8([32]byte{50}), (size-b.Len())/78*57)
	return b.Bytes()
}

// checkOpenLarge streams a 50 MB message and compares its digest.
func checkOpenLarge(t *testing.T, newHarness Factory) {
	if testing.Short() {
		t.Skip("skipping the 50 MB message in -short mode")
	}
	h := newHarness(t, Setup{
		Folders:   []string{folderInbox},
		Create:    []string{folderInbox},
		Processed: ews.Disposition{MarkRead: true},
	})
	s := newSeeder(t, h)
	// Seed from a function, so that the seeded copy can be collected before
	// the message is streamed.
	want, wantLen := func() ([sha256.Size]byte, int) {
		raw := LargeMessage(s.messageID("large"), suiteBase, LargeMessageSize)
		s.seedRaw(folderInbox, "large", raw, suiteBase, false)
		delete(s.raw, "large")
		return sha256.Sum256(raw), len(raw)
	}()

	ctx := t.Context()
	msgs := list(ctx, t, h.Mailbox)
	if len(msgs) != 1 {
		t.Fatalf("listed %d messages, want 1", len(msgs))
	}
	rc, err := h.Mailbox.Open(ctx, msgs[0])
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	hash := sha256.New()
	n, err := io.CopyBuffer(hash, rc, make([]byte, 32<<10))
	if err != nil {
		t.Fatalf("streaming the large message: %v after %d bytes", err, n)
	}
	if err := rc.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n != int64(wantLen) || !bytes.Equal(hash.Sum(nil), want[:]) {
		t.Fatalf("streamed %d bytes with sha256 %x, want %d bytes with sha256 %x", n, hash.Sum(nil), wantLen, want)
	}
	if err := h.Mailbox.MarkProcessed(ctx, msgs[0]); err != nil {
		t.Fatalf("MarkProcessed: %v", err)
	}
	if msgs := list(ctx, t, h.Mailbox); len(msgs) != 0 {
		t.Errorf("listed %d messages after marking the large one, want 0", len(msgs))
	}
}

// dispositionCases are the combinations of actions the suite applies.
var dispositionCases = []struct {
	name string
	d    ews.Disposition
}{
	{"Read", ews.Disposition{MarkRead: true}},
	{"Category", ews.Disposition{Category: catProcessed}},
	{"Move", ews.Disposition{MoveTo: folderProcessed}},
	{"ReadAndCategory", ews.Disposition{MarkRead: true, Category: catProcessed}},
	{"CategoryAndMove", ews.Disposition{Category: catProcessed, MoveTo: folderProcessed}},
	{"ReadCategoryAndMove", ews.Disposition{MarkRead: true, Category: catProcessed, MoveTo: folderProcessed}},
}

// wantState is the state a message seeded unread and uncategorised in the
// inbox has after d was applied to it.
func wantState(d ews.Disposition) state {
	st := state{Folder: folderInbox, Read: d.MarkRead}
	if d.Category != "" {
		st.Categories = []string{d.Category}
	}
	if d.MoveTo != "" {
		st.Folder = d.MoveTo
	}
	return st
}

// checkMarkProcessed applies every disposition twice to one message and
// checks the server state and the next listing.
func checkMarkProcessed(t *testing.T, newHarness Factory) {
	for _, tt := range dispositionCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Setup{
				Folders:    []string{folderInbox},
				Create:     []string{folderInbox, folderProcessed},
				Processed:  tt.d,
				Quarantine: ews.Disposition{Category: catQuarantine},
			})
			checkAppliedTwice(t, h, "MarkProcessed", h.Mailbox.MarkProcessed, tt.d, folderProcessed)
		})
	}
}

// checkAppliedTwice seeds two messages in the inbox, applies d to the
// first twice with apply (the method op), and checks that only the second
// is still listed and that the first is as d says, in the inbox or in
// dest.
func checkAppliedTwice(t *testing.T, h Harness, op string, apply func(context.Context, ews.Message) error, d ews.Disposition, dest string) {
	t.Helper()
	s := newSeeder(t, h)
	s.seed(folderInbox, "a", 0, false)
	s.seed(folderInbox, "b", time.Minute, false)
	ctx := t.Context()
	a := s.findByKey(ctx, "a")
	for i := range 2 {
		if err := apply(ctx, a); err != nil {
			t.Fatalf("%s #%d: %v", op, i+1, err)
		}
	}
	if diff := cmp.Diff([]listed{{folderInbox, "b"}}, s.listKeys(ctx)); diff != "" {
		t.Errorf("listing after %s mismatch (-want +got):\n%s", op, diff)
	}
	want := map[string]state{"a": wantState(d), "b": {Folder: folderInbox}}
	if diff := cmp.Diff(want, s.inspect(folderInbox, dest)); diff != "" {
		t.Errorf("server state mismatch (-want +got):\n%s", diff)
	}
}

// checkQuarantine quarantines one message under each quarantine disposition
// and checks that it is set aside and no longer listed.
func checkQuarantine(t *testing.T, newHarness Factory) {
	tests := []struct {
		name string
		d    ews.Disposition
	}{
		{"Category", ews.Disposition{Category: catQuarantine}},
		{"Move", ews.Disposition{MoveTo: folderQuarantine}},
		{"CategoryAndMove", ews.Disposition{Category: catQuarantine, MoveTo: folderQuarantine}},
		{"ReadAndMove", ews.Disposition{MarkRead: true, MoveTo: folderQuarantine}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, Setup{
				Folders:    []string{folderInbox},
				Create:     []string{folderInbox, folderQuarantine},
				Processed:  ews.Disposition{MarkRead: true},
				Quarantine: tt.d,
			})
			quarantine := func(ctx context.Context, msg ews.Message) error {
				return h.Mailbox.Quarantine(ctx, msg, "failed 5 times: parse error")
			}
			checkAppliedTwice(t, h, "Quarantine", quarantine, tt.d, folderQuarantine)
		})
	}
}

// checkReconnect drops every connection several times while messages are
// listed, opened and marked, and checks that each message is processed
// exactly once and none is lost.
func checkReconnect(t *testing.T, newHarness Factory) {
	h := newHarness(t, Setup{
		Folders:   []string{folderInbox, folderPhishing},
		Create:    []string{folderInbox, folderPhishing},
		Processed: ews.Disposition{MarkRead: true},
	})
	s := newSeeder(t, h)
	var keys []string
	for i := range 12 {
		folder := folderInbox
		if i%3 == 2 {
			folder = folderPhishing
		}
		key := fmt.Sprintf("m%02d", i)
		s.seed(folder, key, time.Duration(i)*time.Minute, false)
		keys = append(keys, key)
	}
	ctx := t.Context()
	processed := make(map[string]int)
	steps := 0
	for pass := 0; ; pass++ {
		if pass == 3 {
			t.Fatalf("messages still listed after %d passes", pass)
		}
		n := 0
		for msg, err := range h.Mailbox.Messages(ctx) {
			if err != nil {
				t.Fatalf("pass %d: Messages: %v", pass, err)
			}
			n++
			key := s.identify(ctx, msg)
			if processed[key] > 0 {
				t.Errorf("message %s listed again after it was marked processed", key)
			}
			steps++
			if steps%3 == 0 {
				h.Server.DropConnections()
			}
			if err := h.Mailbox.MarkProcessed(ctx, msg); err != nil {
				t.Fatalf("MarkProcessed(%s) after a dropped connection: %v", key, err)
			}
			processed[key]++
			if steps%4 == 0 {
				h.Server.DropConnections()
			}
		}
		if n == 0 {
			break
		}
	}
	want := make(map[string]int)
	for _, k := range keys {
		want[k] = 1
	}
	if diff := cmp.Diff(want, processed); diff != "" {
		t.Errorf("times each message was processed mismatch (-want +got):\n%s", diff)
	}
	for key, st := range s.inspect(folderInbox, folderPhishing) {
		if !st.Read {
			t.Errorf("message %s is not marked read on the server", key)
		}
	}
}

// checkContextCanceled calls everything with a canceled context.
func checkContextCanceled(t *testing.T, newHarness Factory) {
	h := newHarness(t, Setup{
		Folders:    []string{folderInbox},
		Create:     []string{folderInbox, folderQuarantine},
		Processed:  ews.Disposition{MarkRead: true},
		Quarantine: ews.Disposition{MoveTo: folderQuarantine},
	})
	s := newSeeder(t, h)
	s.seed(folderInbox, "a", 0, false)
	a := s.findByKey(t.Context(), "a")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	yields := 0
	for _, err := range h.Mailbox.Messages(ctx) {
		yields++
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Messages with a canceled context yielded error %v, want context.Canceled", err)
		}
	}
	if yields != 1 {
		t.Errorf("Messages with a canceled context yielded %d times, want one error", yields)
	}
	if rc, err := h.Mailbox.Open(ctx, a); !errors.Is(err, context.Canceled) {
		if rc != nil {
			rc.Close()
		}
		t.Errorf("Open with a canceled context: error %v, want context.Canceled", err)
	}
	if err := h.Mailbox.MarkProcessed(ctx, a); !errors.Is(err, context.Canceled) {
		t.Errorf("MarkProcessed with a canceled context: error %v, want context.Canceled", err)
	}
	if err := h.Mailbox.Quarantine(ctx, a, "canceled"); !errors.Is(err, context.Canceled) {
		t.Errorf("Quarantine with a canceled context: error %v, want context.Canceled", err)
	}
	if w, ok := h.Mailbox.(ews.Waiter); ok {
		if err := w.WaitForMail(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("WaitForMail with a canceled context: error %v, want context.Canceled", err)
		}
	}
	// Nothing happened to the message, and the mailbox still works.
	if diff := cmp.Diff([]listed{{folderInbox, "a"}}, s.listKeys(t.Context())); diff != "" {
		t.Errorf("listing after canceled calls mismatch (-want +got):\n%s", diff)
	}
}

// checkEarlyBreak stops a listing after one message and checks the mailbox
// still lists, opens and marks.
func checkEarlyBreak(t *testing.T, newHarness Factory) {
	h := newHarness(t, Setup{
		Folders:   []string{folderInbox},
		Create:    []string{folderInbox},
		Processed: ews.Disposition{MarkRead: true},
	})
	s := newSeeder(t, h)
	for i := range 5 {
		s.seed(folderInbox, fmt.Sprintf("m%d", i), time.Duration(i)*time.Minute, false)
	}
	ctx := t.Context()
	for range 3 {
		for _, err := range h.Mailbox.Messages(ctx) {
			if err != nil {
				t.Fatalf("Messages: %v", err)
			}
			break
		}
	}
	got := s.listKeys(ctx)
	if len(got) != 5 {
		t.Fatalf("listed %d messages after breaking out of listings, want 5", len(got))
	}
	m0 := s.findByKey(ctx, "m0")
	if err := h.Mailbox.MarkProcessed(ctx, m0); err != nil {
		t.Fatalf("MarkProcessed: %v", err)
	}
	if got := s.listKeys(ctx); len(got) != 4 {
		t.Errorf("listed %d messages after marking one, want 4", len(got))
	}
}

// checkConcurrent lists from one goroutine while sixteen others open and
// mark the messages.
func checkConcurrent(t *testing.T, newHarness Factory) {
	h := newHarness(t, Setup{
		Folders:    []string{folderInbox, folderPhishing},
		Create:     []string{folderInbox, folderPhishing, folderProcessed, folderQuarantine},
		Processed:  ews.Disposition{Category: catProcessed, MoveTo: folderProcessed},
		Quarantine: ews.Disposition{MoveTo: folderQuarantine},
	})
	s := newSeeder(t, h)
	const total = 40
	for i := range total {
		folder := folderInbox
		if i%4 == 0 {
			folder = folderPhishing
		}
		s.seed(folder, fmt.Sprintf("m%02d", i), time.Duration(i)*time.Second, false)
	}
	ctx := t.Context()
	work := make(chan ews.Message)
	var (
		mu          sync.Mutex
		processed   = make(map[string]int)
		quarantined = make(map[string]bool)
		errs        []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for msg := range work {
				rc, err := h.Mailbox.Open(ctx, msg)
				if err != nil {
					fail(fmt.Errorf("open %q: %w", msg.ID, err))
					continue
				}
				raw, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					fail(fmt.Errorf("reading %q: %w", msg.ID, err))
					continue
				}
				hdr, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
				key := s.keyOf(hdr.Get("Message-Id"))
				if !bytes.Equal(raw, s.raw[key]) {
					fail(fmt.Errorf("message %q (%s): content differs from what was seeded", msg.ID, key))
					continue
				}
				// Every tenth message is quarantined instead.
				if key[len(key)-1] == '7' {
					err = h.Mailbox.Quarantine(ctx, msg, "concurrent quarantine")
				} else {
					err = h.Mailbox.MarkProcessed(ctx, msg)
				}
				if err != nil {
					fail(fmt.Errorf("marking %s: %w", key, err))
					continue
				}
				mu.Lock()
				processed[key]++
				quarantined[key] = key[len(key)-1] == '7'
				mu.Unlock()
			}
		}()
	}
	for msg, err := range h.Mailbox.Messages(ctx) {
		if err != nil {
			fail(fmt.Errorf("listing: %w", err))
			break
		}
		work <- msg
	}
	close(work)
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if len(processed) != total {
		t.Errorf("processed %d distinct messages, want %d", len(processed), total)
	}
	for key, n := range processed {
		if n != 1 {
			t.Errorf("message %s processed %d times", key, n)
		}
	}
	if got := list(ctx, t, h.Mailbox); len(got) != 0 {
		t.Errorf("listed %d messages after processing all, want 0", len(got))
	}
	got := s.inspect(folderInbox, folderPhishing, folderProcessed, folderQuarantine)
	for key := range s.raw {
		want := state{Folder: folderProcessed, Categories: []string{catProcessed}}
		if quarantined[key] {
			want = state{Folder: folderQuarantine}
		}
		if diff := cmp.Diff(want, got[key]); diff != "" {
			t.Errorf("message %s: server state mismatch (-want +got):\n%s", key, diff)
		}
	}
}

// checkMissingFolder lists a folder that does not exist.
func checkMissingFolder(t *testing.T, newHarness Factory) {
	const missing = "Missing Folder"
	h := newHarness(t, Setup{
		Folders:   []string{folderInbox, missing},
		Create:    []string{folderInbox},
		Processed: ews.Disposition{MarkRead: true},
	})
	s := newSeeder(t, h)
	s.seed(folderInbox, "a", 0, false)
	var got []error
	yieldsAfterError := 0
	for _, err := range h.Mailbox.Messages(t.Context()) {
		if len(got) > 0 {
			yieldsAfterError++
		}
		if err != nil {
			got = append(got, err)
		}
	}
	if len(got) != 1 {
		t.Fatalf("listing with a missing folder yielded %d errors, want 1", len(got))
	}
	if yieldsAfterError > 0 {
		t.Errorf("Messages yielded %d more times after an error", yieldsAfterError)
	}
	if err := got[0]; !errors.Is(err, ews.ErrFolderNotFound) || !strings.Contains(err.Error(), missing) {
		t.Errorf("error %q: want one that matches ews.ErrFolderNotFound and names %q", err, missing)
	}
}

// checkInvalidID passes made-up messages to Open, MarkProcessed and
// Quarantine.
func checkInvalidID(t *testing.T, newHarness Factory) {
	h := newHarness(t, Setup{
		Folders:    []string{folderInbox},
		Create:     []string{folderInbox, folderQuarantine},
		Processed:  ews.Disposition{MarkRead: true},
		Quarantine: ews.Disposition{MoveTo: folderQuarantine},
	})
	ctx := t.Context()
	for _, msg := range []ews.Message{
		{},
		{ID: "not-a-real-id", Folder: folderInbox},
		{ID: "\x00\xff;;;", Folder: folderInbox},
	} {
		isInvalid := func(err error) bool {
			return errors.Is(err, ews.ErrInvalidID) || errors.Is(err, ews.ErrMessageNotFound)
		}
		if rc, err := h.Mailbox.Open(ctx, msg); !isInvalid(err) {
			if rc != nil {
				rc.Close()
			}
			t.Errorf("Open(%q): error %v, want ews.ErrInvalidID or ews.ErrMessageNotFound", msg.ID, err)
		}
		if err := h.Mailbox.MarkProcessed(ctx, msg); !isInvalid(err) {
			t.Errorf("MarkProcessed(%q): error %v, want ews.ErrInvalidID or ews.ErrMessageNotFound", msg.ID, err)
		}
		if err := h.Mailbox.Quarantine(ctx, msg, "bad"); !isInvalid(err) {
			t.Errorf("Quarantine(%q): error %v, want ews.ErrInvalidID or ews.ErrMessageNotFound", msg.ID, err)
		}
	}
}

// checkClosed uses a closed mailbox.
func checkClosed(t *testing.T, newHarness Factory) {
	h := newHarness(t, Setup{
		Folders:   []string{folderInbox},
		Create:    []string{folderInbox},
		Processed: ews.Disposition{MarkRead: true},
	})
	s := newSeeder(t, h)
	s.seed(folderInbox, "a", 0, false)
	ctx := t.Context()
	a := s.findByKey(ctx, "a")
	if err := h.Mailbox.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, err := range h.Mailbox.Messages(ctx) {
		if !errors.Is(err, ews.ErrClosed) {
			t.Errorf("Messages after Close: error %v, want ews.ErrClosed", err)
		}
	}
	if rc, err := h.Mailbox.Open(ctx, a); !errors.Is(err, ews.ErrClosed) {
		if rc != nil {
			rc.Close()
		}
		t.Errorf("Open after Close: error %v, want ews.ErrClosed", err)
	}
	if err := h.Mailbox.MarkProcessed(ctx, a); !errors.Is(err, ews.ErrClosed) {
		t.Errorf("MarkProcessed after Close: error %v, want ews.ErrClosed", err)
	}
}

// checkWaitForMail waits for mail seeded after the wait began, when the
// mailbox implements ews.Waiter.
func checkWaitForMail(t *testing.T, newHarness Factory) {
	h := newHarness(t, Setup{
		Folders:   []string{folderInbox, folderPhishing},
		Create:    []string{folderInbox, folderPhishing},
		Processed: ews.Disposition{MarkRead: true},
	})
	w, ok := h.Mailbox.(ews.Waiter)
	if !ok {
		t.Skip("the mailbox does not implement ews.Waiter")
	}
	s := newSeeder(t, h)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if got := list(ctx, t, h.Mailbox); len(got) != 0 {
		t.Fatalf("listed %d messages in an empty mailbox", len(got))
	}
	woke := make(chan error, 1)
	go func() { woke <- w.WaitForMail(ctx) }()
	s.seed(folderPhishing, "new", 0, false)
	// A wait may end early (the server may end it); the caller then lists
	// and waits again, as a runner does.
	for {
		if err := <-woke; err != nil {
			t.Fatalf("WaitForMail: %v", err)
		}
		if got := s.listKeys(ctx); len(got) == 1 {
			break
		}
		go func() { woke <- w.WaitForMail(ctx) }()
	}
}
