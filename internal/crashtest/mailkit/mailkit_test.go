package mailkit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/synapse-go/synapse/ews/ewstest"
	"github.com/synapse-go/synapse/internal/crashtest/mailkit"
	"github.com/synapse-go/synapse/observable"
)

func TestGenerateIsReproducible(t *testing.T) {
	t.Parallel()
	opts := mailkit.Options{Seed: 42, ReplyEvery: 5, AttachEvery: 3}
	a, b := mailkit.Generate(40, opts), mailkit.Generate(40, opts)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different emails (-first +second):\n%s", diff)
	}
	opts.Seed = 43
	c := mailkit.Generate(40, opts)
	if bytes.Equal(a[0].Raw, c[0].Raw) {
		t.Error("another seed gave the same first email")
	}
}

// TestGenerateParses checks that every generated email reads as it says it
// does: its Message-ID, subject, thread headers and attachments.
func TestGenerateParses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                      string
		opts                      mailkit.Options
		n, wantReplies, wantFiles int
	}{
		{"plain", mailkit.Options{Seed: 1}, 12, 0, 0},
		{"threads and files", mailkit.Options{Seed: 2, ReplyEvery: 4, AttachEvery: 3}, 60, 14, 15},
		{"every second is a reply", mailkit.Options{Seed: 3, ReplyEvery: 2}, 21, 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msgs := mailkit.Generate(tt.n, tt.opts)
			if len(msgs) != tt.n {
				t.Fatalf("%d emails, want %d", len(msgs), tt.n)
			}
			replies, files := 0, 0
			ids := map[string]bool{}
			for i, m := range msgs {
				if m.Index != i {
					t.Errorf("email %d has Index %d", i, m.Index)
				}
				if ids[m.MessageID] {
					t.Errorf("Message-ID %s used twice", m.MessageID)
				}
				ids[m.MessageID] = true
				sum := sha256.Sum256(m.Raw)
				if hex.EncodeToString(sum[:]) != m.SHA256 {
					t.Errorf("email %d: SHA256 is not the hash of Raw", i)
				}
				if bytes.Contains(bytes.ReplaceAll(m.Raw, []byte("\r\n"), nil), []byte("\n")) {
					t.Errorf("email %d has a bare line feed", i)
				}
				e, err := observable.ParseEmail(bytes.NewReader(m.Raw))
				if err != nil {
					t.Fatalf("email %d: %v", i, err)
				}
				if len(e.Defects) > 0 {
					t.Errorf("email %d has defects: %v", i, e.Defects)
				}
				if e.MessageID != m.MessageID || e.Subject != m.Subject || e.ThreadSubject != m.ThreadSubject {
					t.Errorf("email %d reads as %q %q %q, want %q %q %q", i,
						e.MessageID, e.Subject, e.ThreadSubject, m.MessageID, m.Subject, m.ThreadSubject)
				}
				if m.Thread != i {
					replies++
					root := msgs[m.Thread]
					if m.Thread > i || root.Thread != root.Index {
						t.Errorf("email %d answers %d, which does not start a thread before it", i, m.Thread)
					}
					if !slices.Contains(e.References, root.MessageID) || len(e.InReplyTo) != 1 {
						t.Errorf("email %d: References %v, In-Reply-To %v; want the root %s", i, e.References, e.InReplyTo, root.MessageID)
					}
				}
				var got []mailkit.Attachment
				for a := range e.AllAttachments() {
					got = append(got, mailkit.Attachment{Name: a.Filename, ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256})
				}
				if diff := cmp.Diff(m.Attachments, got); diff != "" {
					t.Errorf("email %d attachments (-generated +parsed):\n%s", i, diff)
				}
				files += len(got)
			}
			if replies != tt.wantReplies || files != tt.wantFiles {
				t.Errorf("%d replies and %d files, want %d and %d", replies, files, tt.wantReplies, tt.wantFiles)
			}
		})
	}
}

// TestGenerateIndicators checks that extraction finds the indicators the
// emails are said to carry, the defanged ones included.
func TestGenerateIndicators(t *testing.T) {
	t.Parallel()
	for _, m := range mailkit.Generate(16, mailkit.Options{Seed: 9, ReplyEvery: 4}) {
		e, err := observable.ParseEmail(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		for _, o := range observable.Extract(e, observable.ExtractOptions{}) {
			found[o.Value] = true
		}
		for _, want := range m.Indicators {
			if !found[want] {
				t.Errorf("email %d: %s not extracted", m.Index, want)
			}
		}
	}
}

func TestBig(t *testing.T) {
	t.Parallel()
	// Sizes around the base64 line (57 bytes) and read chunk (57*512) edges.
	for _, size := range []int64{1, 2, 3, 56, 57, 58, 57 * 512, 57*512 + 1, 100_000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			b, err := mailkit.Big(size, uint64(size))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := io.ReadAll(b.Open())
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(raw)) != b.Size {
				t.Fatalf("read %d bytes, Size says %d", len(raw), b.Size)
			}
			for i, line := range strings.Split(string(raw), "\r\n") {
				if len(line) > 76 || strings.ContainsAny(line, "\r\n") {
					t.Fatalf("line %d is %d long or has a bare line end: %q", i, len(line), line)
				}
			}
			e, err := observable.ParseEmail(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			var got []mailkit.Attachment
			for a := range e.AllAttachments() {
				got = append(got, mailkit.Attachment{Name: a.Filename, ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256})
			}
			if diff := cmp.Diff([]mailkit.Attachment{b.Attachment}, got); diff != "" {
				t.Errorf("attachment (-said +parsed):\n%s", diff)
			}
			if e.MessageID != b.MessageID || len(e.Defects) > 0 {
				t.Errorf("Message-ID %q, defects %v", e.MessageID, e.Defects)
			}
		})
	}
	if _, err := mailkit.Big(0, 1); err == nil {
		t.Error("Big(0) did not fail")
	}
}

func TestCRLF(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"a\nb\n", "a\r\nb\r\n"},
		{"a\r\nb\r\n", "a\r\nb\r\n"},
		{"\n\r\n\r\r\n", "\r\n\r\n\r\r\n"},
		{"no newline", "no newline"},
	}
	for _, tt := range tests {
		if got := string(mailkit.CRLF([]byte(tt.in))); got != tt.want {
			t.Errorf("CRLF(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func newIMAP(t *testing.T) *mailkit.Store {
	t.Helper()
	srv, err := ewstest.NewIMAPServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.AddUser("soc", "imap-password"); err != nil {
		t.Fatal(err)
	}
	return &mailkit.Store{Addr: srv.Addr(), Username: "soc", Password: "imap-password"}
}

func TestStoreRoundTrip(t *testing.T) {
	t.Parallel()
	st := newIMAP(t)
	ctx := t.Context()
	if err := st.CreateFolders(ctx, "Inbox/Phishing", "Inbox/Phishing", "INBOX"); err != nil {
		t.Fatal(err)
	}
	msgs := mailkit.Generate(5, mailkit.Options{Seed: 5, AttachEvery: 2})
	big, err := mailkit.Big(300_000, 7)
	if err != nil {
		t.Fatal(err)
	}
	var seeds []mailkit.Seed
	for i, m := range msgs {
		seeds = append(seeds, mailkit.Seed{Raw: m.Raw, Keywords: []string{fmt.Sprintf("analyst%d", i)}, Read: i == 0})
	}
	seeds = append(seeds, mailkit.Seed{Body: big.Open(), Size: big.Size})
	if err := st.Append(ctx, "Inbox/Phishing", seeds...); err != nil {
		t.Fatal(err)
	}
	got, err := st.Inspect(ctx, "Inbox/Phishing")
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		UID       uint32
		MessageID string
		SHA256    string
		Keyword   bool
		Read      bool
	}
	var want, have []summary
	for i, m := range msgs {
		want = append(want, summary{uint32(i + 1), m.MessageID, m.SHA256, true, i == 0})
	}
	h := sha256.New()
	if _, err := io.Copy(h, big.Open()); err != nil {
		t.Fatal(err)
	}
	want = append(want, summary{6, big.MessageID, hex.EncodeToString(h.Sum(nil)), false, false})
	for i, s := range got {
		have = append(have, summary{s.UID, s.MessageID, s.SHA256, s.HasFlag(fmt.Sprintf("ANALYST%d", i)), s.HasFlag(`\Seen`)})
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("stored messages (-appended +inspected):\n%s", diff)
	}

	// Inspect changes nothing: the unread messages are still unread.
	again, err := st.Inspect(ctx, "Inbox/Phishing")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("a second inspection differs:\n%s", diff)
	}
	empty, err := st.Inspect(ctx, "INBOX")
	if err != nil || len(empty) != 0 {
		t.Errorf("empty inbox: %v, %v", empty, err)
	}
}

func TestStoreErrors(t *testing.T) {
	t.Parallel()
	st := newIMAP(t)
	ctx := t.Context()
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"missing folder", func() error { _, err := st.Inspect(ctx, "Nope"); return err }, `EXAMINE in "Nope"`},
		{"append to missing folder", func() error { return st.Append(ctx, "Nope", mailkit.Seed{Raw: []byte("x\r\n")}) }, `APPEND message 0 to "Nope"`},
		{"empty message", func() error { return st.Append(ctx, "INBOX", mailkit.Seed{}) }, "empty message"},
		{"short body", func() error {
			return st.Append(ctx, "INBOX", mailkit.Seed{Body: strings.NewReader("abc"), Size: 10})
		}, "gave 3 bytes, not 10"},
		{"wrong password", func() error {
			bad := *st
			bad.Password = "not-the-password"
			return bad.CreateFolders(ctx, "X")
		}, "LOGIN"},
		{"no address", func() error { return (&mailkit.Store{}).CreateFolders(ctx, "X") }, "needs an Addr"},
	}
	for _, tt := range tests {
		err := tt.run()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "imap-password") {
			t.Errorf("%s: the error shows the password: %v", tt.name, err)
		}
	}
}
