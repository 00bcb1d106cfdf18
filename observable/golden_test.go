package observable

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenCorpus lists the emails of the shared corpus with golden files:
// one or more of each kind of difficulty.
var goldenCorpus = []string{
	"enmime__malformed-base64-attach.eml",
	"enmime__multipart-wo-boundary.eml",
	"enmime__qp-utf8-header-recursed.eml",
	"mikel__attachment_message_rfc822.eml",
	"mikel__bad_date_header.eml",
	"mikel__japanese_attachment_long_name.eml",
	"mikel__utf8_headers_rfc6532.eml",
	"nodemailer__nodemailer.eml",
	"phpmmp__issue116.eml",
	"phpmmp__issue274.eml",
	"phpmmp__m0027.eml",
	"spamscope__mail_malformed_1.eml",
	"spamscope__mail_outlook_1.eml",
	"spamscope__mail_test_13.eml",
	"spamscope__mail_test_19.eml",
	"spamscope__mail_test_7.eml",
	"spamscope__mail_test_8.eml",
	"stalwart__rfc_008.eml",
	"stalwart__thirdparty_015.eml",
}

// golden is the stable, readable form of a parse and an extraction.
type golden struct {
	From, Sender, ReplyTo, To, Cc []string `json:",omitempty"`
	ReturnPath                    string   `json:",omitempty"`
	Subject, ThreadSubject        string   `json:",omitempty"`
	Date                          string   `json:",omitempty"`
	MessageID                     string   `json:",omitempty"`
	InReplyTo, References         []string `json:",omitempty"`
	Received                      []goldenHop
	Bodies                        []goldenBody
	Attachments                   []goldenAttachment
	Defects                       []string `json:",omitempty"`
	Markdown                      string   `json:",omitempty"`
	Observables                   []string `json:",omitempty"`
}

type goldenHop struct {
	From, By, With, ID, For string `json:",omitempty"`
	Date                    string `json:",omitempty"`
	FromIP                  string `json:",omitempty"`
	Public                  bool   `json:",omitempty"`
	IPs, Hosts              []string
}

type goldenBody struct {
	Path, ContentType, Charset string
	Length                     int
	SHA256                     string
	Start                      string
	Truncated                  bool `json:",omitempty"`
}

type goldenAttachment struct {
	Path, Filename, SafeName, ContentType string
	Disposition, ContentID                string   `json:",omitempty"`
	Inline                                bool     `json:",omitempty"`
	Suspicious                            []string `json:",omitempty"`
	Size                                  int64
	MD5, SHA1, SHA256                     string
	TextLength                            int     `json:",omitempty"`
	Message                               *golden `json:",omitempty"`
}

func start(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func addrs(as []Address) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}

func toGolden(e *Email, withObservables bool) *golden {
	g := &golden{
		From: addrs(e.From), Sender: addrs(e.Sender), ReplyTo: addrs(e.ReplyTo), To: addrs(e.To), Cc: addrs(e.Cc),
		ReturnPath: e.ReturnPath, Subject: e.Subject, ThreadSubject: e.ThreadSubject,
		MessageID: e.MessageID, InReplyTo: e.InReplyTo, References: e.References,
		Received: []goldenHop{}, Bodies: []goldenBody{}, Attachments: []goldenAttachment{},
	}
	if !e.Date.IsZero() {
		g.Date = e.Date.Format(time.RFC3339)
	}
	for _, h := range e.Received {
		gh := goldenHop{From: h.From, By: h.By, With: h.With, ID: h.ID, For: h.For, Public: h.Public(), IPs: []string{}, Hosts: h.Hosts}
		if gh.Hosts == nil {
			gh.Hosts = []string{}
		}
		if !h.Date.IsZero() {
			gh.Date = h.Date.Format(time.RFC3339)
		}
		if h.FromIP.IsValid() {
			gh.FromIP = h.FromIP.String()
		}
		for _, ip := range h.IPs {
			gh.IPs = append(gh.IPs, ip.String())
		}
		g.Received = append(g.Received, gh)
	}
	for _, b := range e.Bodies {
		g.Bodies = append(g.Bodies, goldenBody{Path: b.Path, ContentType: b.ContentType, Charset: b.Charset,
			Length: len(b.Content), SHA256: sha256hex(b.Content), Start: start(b.Content, 120), Truncated: b.Truncated})
	}
	for _, a := range e.Attachments {
		ga := goldenAttachment{Path: a.Path, Filename: a.Filename, SafeName: a.SafeName, ContentType: a.ContentType,
			Disposition: a.Disposition, ContentID: a.ContentID, Inline: a.Inline, Suspicious: a.Suspicious,
			Size: a.Size, MD5: a.MD5, SHA1: a.SHA1, SHA256: a.SHA256, TextLength: len(a.Text)}
		if a.Message != nil {
			ga.Message = toGolden(a.Message, false)
		}
		g.Attachments = append(g.Attachments, ga)
	}
	for _, d := range e.Defects {
		g.Defects = append(g.Defects, d.String())
	}
	if withObservables {
		g.Markdown = start(e.BodyMarkdown(), 300)
		for _, o := range Extract(e, ExtractOptions{}) {
			g.Observables = append(g.Observables, o.String())
		}
	}
	return g
}

// checkGolden compares the parse of one message with its golden file.
func checkGolden(t *testing.T, name string, raw []byte) {
	t.Helper()
	e, err := ParseEmail(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("ParseEmail: %v", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(toGolden(e, true)); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from its golden file (-want +got; go test -update rewrites it):\n%s", name, diff)
	}
}

// TestGoldenTestdata checks the messages written for this package's tests.
func TestGoldenTestdata(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata/*.eml: %v", err)
	}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(p), func(t *testing.T) {
			t.Parallel()
			checkGolden(t, filepath.Base(p), raw)
		})
	}
}

// TestGoldenCorpus checks a chosen set of the shared corpus.
func TestGoldenCorpus(t *testing.T) {
	t.Parallel()
	dir := corpusDir(t)
	for _, name := range goldenCorpus {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkGolden(t, name, raw)
		})
	}
}
