package workflow_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
	"github.com/synapse-go/synapse/thehive"
	"github.com/synapse-go/synapse/thehive/thehivetest"
)

// testMail describes a message for the tests.
type testMail struct {
	From, To, Subject, MessageID string
	InReplyTo                    string
	Date                         time.Time
	Text                         string
	HTML                         string
	Files                        map[string][]byte // name → content
	Attached                     []byte            // an attached message
}

// raw renders m as an RFC 5322 message with CRLF line endings.
func (m testMail) raw() []byte {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\r\n", args...) }
	date := m.Date
	if date.IsZero() {
		date = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	}
	w("From: %s", m.From)
	w("To: %s", m.To)
	w("Subject: %s", m.Subject)
	w("Date: %s", date.Format(time.RFC1123Z))
	if m.MessageID != "" {
		w("Message-ID: <%s>", m.MessageID)
	}
	if m.InReplyTo != "" {
		w("In-Reply-To: <%s>", m.InReplyTo)
		w("References: <%s>", m.InReplyTo)
	}
	w("MIME-Version: 1.0")
	const boundary = "b0undary-synapse-test"
	w("Content-Type: multipart/mixed; boundary=%q", boundary)
	w("")
	part := func(headers ...string) {
		w("--%s", boundary)
		for _, h := range headers {
			w("%s", h)
		}
		w("")
	}
	if m.Text != "" || m.HTML == "" {
		part("Content-Type: text/plain; charset=utf-8")
		b.WriteString(strings.ReplaceAll(m.Text, "\n", "\r\n") + "\r\n")
	}
	if m.HTML != "" {
		part("Content-Type: text/html; charset=utf-8")
		b.WriteString(strings.ReplaceAll(m.HTML, "\n", "\r\n") + "\r\n")
	}
	for name, data := range m.Files {
		part("Content-Type: application/octet-stream; name=\""+name+"\"",
			"Content-Disposition: attachment; filename=\""+name+"\"",
			"Content-Transfer-Encoding: base64")
		enc := base64.StdEncoding.EncodeToString(data)
		for len(enc) > 76 {
			w("%s", enc[:76])
			enc = enc[76:]
		}
		w("%s", enc)
	}
	if m.Attached != nil {
		part("Content-Type: message/rfc822", "Content-Disposition: attachment; filename=\"forwarded.eml\"")
		b.Write(m.Attached)
		w("")
	}
	w("--%s--", boundary)
	return b.Bytes()
}

// imapFixture is an in-memory IMAP server with one user and its mailbox.
type imapFixture struct {
	srv *ewstest.IMAPServer
	cfg ews.IMAPConfig
}

const (
	imapUser     = "soc@corp.example"
	imapPassword = "imap-test-password"
	imapFolder   = "Inbox/Phishing"
)

func newIMAPFixture(t testing.TB) *imapFixture {
	t.Helper()
	srv, err := ewstest.NewIMAPServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.AddUser(imapUser, imapPassword); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{imapFolder, "Inbox/Quarantine"} {
		if err := srv.CreateFolder(imapUser, f); err != nil {
			t.Fatal(err)
		}
	}
	return &imapFixture{srv: srv, cfg: ews.IMAPConfig{
		Addr:       srv.Addr(),
		TLS:        ews.TLSNone,
		Username:   imapUser,
		Password:   imapPassword,
		Folders:    []string{imapFolder},
		Processed:  ews.Disposition{MarkRead: true, Category: "synapse-done"},
		Quarantine: ews.Disposition{Category: "synapse-quarantine", MoveTo: "Inbox/Quarantine"},
		MaxConns:   8,
	}}
}

func (f *imapFixture) seed(t testing.TB, raw []byte, categories ...string) {
	t.Helper()
	err := f.srv.Seed(imapUser, imapFolder, ewstest.SeedMessage{Raw: raw, Received: time.Now().UTC().Truncate(time.Second), Categories: categories})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *imapFixture) mailbox(t testing.TB) *ews.IMAPMailbox {
	t.Helper()
	mb, err := ews.NewIMAP(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mb.Close() })
	return mb
}

// newTheHive starts a fake TheHive with an analyst and returns it with a
// client.
func newTheHive(t testing.TB, opts ...thehivetest.Option) (*thehivetest.Server, *thehive.Client) {
	t.Helper()
	opts = append([]thehivetest.Option{thehivetest.WithUser(thehivetest.User{
		Login: "analyst1@corp.example", Name: "Analyst One", Profile: "analyst",
	})}, opts...)
	srv := thehivetest.NewServer(t, opts...)
	th, err := thehive.NewClient(srv.URL(), thehive.WithAPIKey(thehivetest.APIKey),
		thehive.WithOrganisation(thehivetest.Organisation))
	if err != nil {
		t.Fatal(err)
	}
	return srv, th
}

// neverMarked wraps a mailbox so that nothing is ever marked processed:
// every run sees every message again, as after a crash before the mark.
type neverMarked struct {
	ews.Mailbox
	mu     sync.Mutex
	marked int
}

func (n *neverMarked) MarkProcessed(context.Context, ews.Message) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.marked++
	return nil
}

func (n *neverMarked) Messages(ctx context.Context) iter.Seq2[ews.Message, error] {
	return n.Mailbox.Messages(ctx)
}

// byField returns the objects whose field equals value.
func byField(objs []map[string]any, field string, value any) []map[string]any {
	var out []map[string]any
	for _, o := range objs {
		if fmt.Sprint(o[field]) == fmt.Sprint(value) {
			out = append(out, o)
		}
	}
	return out
}
