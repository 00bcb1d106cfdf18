package ews

import (
	"errors"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/google/go-cmp/cmp"
)

func TestIMAPIDRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []imapRef{
		{folder: "Inbox", uidValidity: 1, uid: 1},
		{folder: "Inbox/Phishing", uidValidity: 4294967295, uid: 4294967295},
		{folder: "Reports: 2025/Q1", uidValidity: 77, uid: 12},
		{folder: "Répertoire/été", uidValidity: 3, uid: 9},
	}
	for _, want := range tests {
		id := imapID(want.folder, want.uidValidity, want.uid)
		got, err := parseIMAPID(id)
		if err != nil {
			t.Fatalf("parseIMAPID(%q): %v", id, err)
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(imapRef{})); diff != "" {
			t.Errorf("parseIMAPID(%q) mismatch (-want +got):\n%s", id, diff)
		}
	}
}

func TestParseIMAPIDRejects(t *testing.T) {
	t.Parallel()
	for _, id := range []MessageID{
		"", "imap:", "imap:1:2", "imap:1:2:", "imap:0:2:Inbox", "imap:1:0:Inbox",
		"imap:x:2:Inbox", "imap:1:-2:Inbox", "imap:4294967296:1:Inbox", "imap:1:2:Inbox//x",
		"ews:AAMkAD=", "imap:1:2:\x00", "IMAP:1:2:Inbox",
	} {
		if _, err := parseIMAPID(id); !errors.Is(err, ErrInvalidID) {
			t.Errorf("parseIMAPID(%q): error %v, want ErrInvalidID", id, err)
		}
	}
}

func FuzzParseIMAPID(f *testing.F) {
	f.Add("imap:1:2:Inbox")
	f.Add("imap:7:99:Inbox/Phishing")
	f.Add("imap:1:2:a:b:c")
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := parseIMAPID(MessageID(s))
		if err != nil {
			if !errors.Is(err, ErrInvalidID) {
				t.Fatalf("parseIMAPID(%q): error %v does not match ErrInvalidID", s, err)
			}
			return
		}
		if ref.uid == 0 || ref.uidValidity == 0 || ref.folder == "" {
			t.Fatalf("parseIMAPID(%q) = %+v: zero field accepted", s, ref)
		}
		again, err := parseIMAPID(imapID(ref.folder, ref.uidValidity, imap.UID(ref.uid)))
		if err != nil || again != ref {
			t.Fatalf("round trip of %q: %+v, %v", s, again, err)
		}
	})
}

func TestServerName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		delim  rune
		prefix string
		path   string
		want   string
	}{
		{'/', "", "Inbox", "INBOX"},
		{'/', "", "inbox/Phishing", "INBOX/Phishing"},
		{'.', "", "Inbox/Phishing", "INBOX.Phishing"},
		{'.', "", "Processed", "Processed"},
		{'.', "INBOX.", "Processed", "INBOX.Processed"},
		{'.', "INBOX.", "Inbox/Processed", "INBOX.Processed"},
		{0, "", "Archive", "Archive"},
	}
	for _, tt := range tests {
		m := &IMAPMailbox{delim: tt.delim, nsPrefix: tt.prefix, nsKnown: true}
		if got := m.serverName(tt.path); got != tt.want {
			t.Errorf("serverName(%q) with delimiter %q and prefix %q = %q, want %q", tt.path, tt.delim, tt.prefix, got, tt.want)
		}
	}
}
