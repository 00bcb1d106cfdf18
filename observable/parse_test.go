package observable

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// crlf joins lines with CRLF, as messages are written on the wire.
func crlf(lines ...string) string { return strings.Join(lines, "\r\n") }

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func mustParse(t *testing.T, raw string, opts ...Option) *Email {
	t.Helper()
	e, err := ParseEmail(strings.NewReader(raw), opts...)
	if err != nil {
		t.Fatalf("ParseEmail: %v", err)
	}
	return e
}

func defectKinds(e *Email) []string {
	var ks []string
	for _, d := range e.Defects {
		ks = append(ks, d.Path+":"+string(d.Kind))
	}
	return ks
}

func TestParseEmailHeader(t *testing.T) {
	t.Parallel()
	raw := crlf(
		"Received: from mail.example.net (mail.example.net [198.51.100.7])",
		"\tby mx.example.org (Postfix) with ESMTPS id 4A1B2C3D",
		"\tfor <alice@example.org>; Tue, 3 Nov 2025 18:23:00 +0100",
		"From: =?UTF-8?B?SsO2cmc=?= Müller <jörg@exämple.de>",
		`To: "Doe, Jane" <jane@example.org>, bob@example.org`,
		"Cc: undisclosed-recipients:;",
		"Reply-To: <replies@example.com>",
		"Delivered-To: alice@example.org",
		"Return-Path: <bounce+1234@example.net>",
		"Subject: =?UTF-8?Q?Re=3A_AW=3A_Fwd=3A_Caf=C3=A9_?=",
		" =?UTF-8?Q?invoice?=",
		"Date: Mon, 3 Nov 2025 18:23:00 PST",
		"Message-ID: <abc.123@example.net>",
		"In-Reply-To: <x1@example.net>",
		"References: <x0@example.net>",
		" <x1@example.net>",
		"",
		"body",
	)
	e := mustParse(t, raw)
	want := &Email{
		From:          []Address{{Name: "Jörg Müller", Addr: "jörg@exämple.de"}},
		To:            []Address{{Name: "Doe, Jane", Addr: "jane@example.org"}, {Addr: "bob@example.org"}},
		ReplyTo:       []Address{{Addr: "replies@example.com"}},
		DeliveredTo:   []Address{{Addr: "alice@example.org"}},
		ReturnPath:    "bounce+1234@example.net",
		Subject:       "Re: AW: Fwd: Café invoice",
		ThreadSubject: "Café invoice",
		Date:          time.Date(2025, 11, 3, 18, 23, 0, 0, time.FixedZone("PST", -8*3600)),
		MessageID:     "abc.123@example.net",
		InReplyTo:     []string{"x1@example.net"},
		References:    []string{"x0@example.net", "x1@example.net"},
		Bodies:        []*Body{{Path: "1", ContentType: "text/plain", Content: "body"}},
	}
	opts := cmp.Options{
		cmpopts.IgnoreFields(Email{}, "Header", "Received", "Size"),
		cmpopts.EquateEmpty(),
		cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
	}
	if diff := cmp.Diff(want, e, opts); diff != "" {
		t.Errorf("Email mismatch (-want +got):\n%s", diff)
	}
	if got := e.Header.Values("References"); len(got) != 1 || got[0] != "<x0@example.net> <x1@example.net>" {
		t.Errorf("Header.Values(References) = %q", got)
	}
	if got := e.Header.Get("subject"); got != e.Subject {
		t.Errorf("Header.Get(subject) = %q, want %q", got, e.Subject)
	}
	if len(e.Received) != 1 || e.Received[0].FromIP.String() != "198.51.100.7" {
		t.Errorf("Received = %+v", e.Received)
	}
	if len(e.Defects) != 0 {
		t.Errorf("Defects = %v", e.Defects)
	}
}

func TestParseEmailHeaderDefects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		check   func(*Email) string
		defects []string
	}{
		{
			name: "unparseable date is reported, not replaced",
			raw:  crlf("Date: Whenever", "Subject: x", "", "b"),
			check: func(e *Email) string {
				if !e.Date.IsZero() {
					return "Date = " + e.Date.String()
				}
				return ""
			},
			defects: []string{":bad-date"},
		},
		{
			name: "duplicate singleton fields keep the first",
			raw:  crlf("Subject: first", "Subject: second", "From: a@example.com", "From: b@example.com", "", "b"),
			check: func(e *Email) string {
				if e.Subject != "first" || len(e.From) != 1 || e.From[0].Addr != "a@example.com" {
					return "Subject " + e.Subject
				}
				return ""
			},
			defects: []string{":duplicate-header", ":duplicate-header"},
		},
		{
			name: "first line is a continuation",
			raw:  crlf(" From: a@example.com", "Subject: s", "", "b"),
			check: func(e *Email) string {
				if len(e.From) != 1 || e.From[0].Addr != "a@example.com" {
					return "From not recovered"
				}
				return ""
			},
			defects: []string{":header-continuation"},
		},
		{
			name: "missing empty line after the header",
			raw:  crlf("Subject: s", "this is the body", "more"),
			check: func(e *Email) string {
				if e.TextBody() != "this is the body\r\nmore" {
					return "body " + e.TextBody()
				}
				return ""
			},
			defects: []string{":missing-header-end"},
		},
		{
			name: "raw windows-1252 subject",
			raw:  "Subject: Forma\xe7\xe3o Ver\xe3o\r\n\r\nb",
			check: func(e *Email) string {
				if e.Subject != "Formação Verão" {
					return "Subject " + e.Subject
				}
				return ""
			},
			defects: []string{":non-utf8-header"},
		},
		{
			name: "raw 8-bit header in the message charset",
			raw:  "Subject: \xc4\xe3\xba\xc3\r\nContent-Type: text/plain; charset=gb2312\r\n\r\nb",
			check: func(e *Email) string {
				if e.Subject != "你好" {
					return "Subject " + e.Subject
				}
				return ""
			},
			defects: []string{":non-utf8-header"},
		},
		{
			name: "addresses without commas and display names with @",
			raw:  crlf("From: a@example.com b@example.com", "To: Mikel@Lindsaar <mikel@example.net>", "", "b"),
			check: func(e *Email) string {
				want := []Address{{Addr: "a@example.com"}, {Addr: "b@example.com"}, {Name: "Mikel@Lindsaar", Addr: "mikel@example.net"}}
				return cmp.Diff(want, append(e.From, e.To...))
			},
			defects: []string{":address-syntax", ":address-syntax"},
		},
		{
			name: "encoded word split inside a character",
			raw:  crlf("Subject: =?UTF-8?B?w6k=?= =?UTF-8?B?w6nD?= =?UTF-8?B?qQ==?=", "", "b"),
			check: func(e *Email) string {
				if e.Subject != "ééé" {
					return "Subject " + e.Subject
				}
				return ""
			},
		},
		{
			name: "unknown charset in an encoded word",
			raw:  crlf("Subject: =?none?Q?TEST?=", "", "b"),
			check: func(e *Email) string {
				if e.Subject != "TEST" {
					return "Subject " + e.Subject
				}
				return ""
			},
			defects: []string{":encoded-word"},
		},
		{
			name: "mbox separator line",
			raw:  crlf("From sender@example.com Tue May 10 11:28:07 2005", "Subject: s", "", "b"),
			check: func(e *Email) string {
				if e.Subject != "s" {
					return "Subject " + e.Subject
				}
				return ""
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := mustParse(t, tt.raw)
			if msg := tt.check(e); msg != "" {
				t.Error(msg)
			}
			if diff := cmp.Diff(tt.defects, defectKinds(e), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("defects (-want +got):\n%s\n%v", diff, e.Defects)
			}
		})
	}
}

// part describes an expected body or attachment in structure tests.
type part struct {
	Path, Type, Name, Content string
	Inline                    bool
}

func parts(e *Email) []part {
	var ps []part
	var walk func(e *Email)
	walk = func(e *Email) {
		for _, b := range e.Bodies {
			ps = append(ps, part{Path: b.Path, Type: b.ContentType, Content: b.Content})
		}
		for _, a := range e.Attachments {
			c := "md5:" + a.MD5
			if a.Text != "" {
				c = a.Text
			}
			ps = append(ps, part{Path: a.Path, Type: a.ContentType, Name: a.SafeName, Content: c, Inline: a.Inline})
			if a.Message != nil {
				walk(a.Message)
			}
		}
	}
	walk(e)
	return ps
}

func TestParseEmailStructure(t *testing.T) {
	t.Parallel()
	pdf := "%PDF-1.4 fake"
	pdf64 := "JVBERi0xLjQgZmFrZQ=="
	tests := []struct {
		name    string
		raw     string
		want    []part
		defects []string
	}{
		{
			name: "single part",
			raw:  crlf("Subject: s", "", "hello"),
			want: []part{{Path: "1", Type: "text/plain", Content: "hello"}},
		},
		{
			name: "alternative inside mixed with an attachment",
			raw: crlf(
				"Content-Type: multipart/mixed; boundary=outer",
				"",
				"preamble",
				"--outer",
				"Content-Type: multipart/alternative; boundary=\"inner\"",
				"",
				"--inner",
				"Content-Type: text/plain; charset=iso-8859-1",
				"Content-Transfer-Encoding: quoted-printable",
				"",
				"caf=E9 http://exa=",
				"mple.com/x",
				"--inner",
				"Content-Type: text/html",
				"",
				"<p>caf&eacute;</p>",
				"--inner--",
				"",
				"--outer",
				"Content-Type: application/pdf; name=\"a.pdf\"",
				"Content-Disposition: attachment; filename=\"a.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
				"Content-Transfer-Encoding: base64",
				"",
				pdf64,
				"--outer--",
				"epilogue",
			),
			want: []part{
				{Path: "1.1", Type: "text/plain", Content: "café http://example.com/x"},
				{Path: "1.2", Type: "text/html", Content: "<p>caf&eacute;</p>"},
				{Path: "2", Type: "application/pdf", Name: "résumé.pdf", Content: "md5:" + md5hex(pdf)},
			},
		},
		{
			name: "missing close delimiters end at the enclosing one",
			raw: crlf(
				"Content-Type: multipart/mixed; boundary=a",
				"",
				"--a",
				"Content-Type: multipart/alternative; boundary=b",
				"",
				"--b",
				"",
				"one",
				"--a",
				"Content-Type: text/plain",
				"",
				"two",
			),
			want: []part{
				{Path: "1.1", Type: "text/plain", Content: "one"},
				{Path: "2", Type: "text/plain", Content: "two"},
			},
			defects: []string{"1:missing-close-boundary", ":missing-close-boundary"},
		},
		{
			name: "boundaries that are prefixes of each other",
			raw: crlf(
				"Content-Type: multipart/mixed; boundary=ab",
				"",
				"--ab",
				"Content-Type: multipart/mixed; boundary=abc",
				"",
				"--abc",
				"",
				"inner",
				"--abc--",
				"--ab",
				"",
				"outer",
				"--ab--",
			),
			want: []part{
				{Path: "1.1", Type: "text/plain", Content: "inner"},
				{Path: "2", Type: "text/plain", Content: "outer"},
			},
		},
		{
			name:    "multipart without a boundary parameter",
			raw:     crlf("Content-Type: multipart/report", "", "I'm a body"),
			want:    []part{{Path: "1", Type: "text/plain", Content: "I'm a body"}},
			defects: []string{":no-boundary"},
		},
		{
			name:    "boundary that never appears",
			raw:     crlf("Content-Type: multipart/alternative; boundary=zz", "", "text", "more text"),
			want:    []part{{Path: "1", Type: "text/plain", Content: "text\r\nmore text"}},
			defects: []string{":boundary-not-found"},
		},
		{
			name: "boundary with a missing semicolon and unquoted tspecials",
			raw: crlf(
				"Content-Type: multipart/mixed",
				"\tboundary=\"bb\"",
				"",
				"--bb",
				"Content-Type: application/pdf name=Invoice_(1).pdf",
				"Content-Transfer-Encoding: base64",
				"",
				pdf64,
				"--bb--",
			),
			want:    []part{{Path: "1", Type: "application/pdf", Name: "Invoice_(1).pdf", Content: "md5:" + md5hex(pdf)}},
			defects: []string{":content-type", "1:content-type"},
		},
		{
			name: "attached message, base64 encoded, with its own attachment",
			raw: crlf(
				"Content-Type: multipart/mixed; boundary=m",
				"",
				"--m",
				"",
				"see attached",
				"--m",
				"Content-Type: message/rfc822",
				"Content-Transfer-Encoding: base64",
				"",
				b64Lines(crlf(
					"Subject: inner",
					"Content-Type: multipart/mixed; boundary=i",
					"",
					"--i",
					"",
					"inner text",
					"--i",
					"Content-Type: image/png",
					"Content-ID: <logo@x>",
					"",
					"PNG",
					"--i--",
					"",
				)),
				"--m--",
			),
			want: []part{
				{Path: "1", Type: "text/plain", Content: "see attached"},
				{Path: "2", Type: "message/rfc822", Name: "inner.eml", Content: "md5:" + md5hex(crlf(
					"Subject: inner", "Content-Type: multipart/mixed; boundary=i", "", "--i", "", "inner text",
					"--i", "Content-Type: image/png", "Content-ID: <logo@x>", "", "PNG", "--i--", ""))},
				{Path: "2.1", Type: "text/plain", Content: "inner text"},
				{Path: "2.2", Type: "image/png", Name: "part-2.2.png", Content: "md5:" + md5hex("PNG"), Inline: true},
			},
		},
		{
			name: "digest parts default to message/rfc822",
			raw: crlf(
				"Content-Type: multipart/digest; boundary=d",
				"",
				"--d",
				"",
				"Subject: one",
				"",
				"first",
				"--d--",
			),
			want: []part{
				{Path: "1", Type: "message/rfc822", Name: "one.eml", Content: "md5:" + md5hex("Subject: one\r\n\r\nfirst")},
				{Path: "1.1", Type: "text/plain", Content: "first"},
			},
		},
		{
			name: "broken transfer encodings",
			raw: crlf(
				"Content-Type: multipart/mixed; boundary=x",
				"",
				"--x",
				"Content-Type: application/octet-stream; name=a.bin",
				"Content-Transfer-Encoding: base64",
				"",
				"PGh0*bWw+Cg==",
				"--x",
				"Content-Type: text/plain",
				"Content-Transfer-Encoding: quoted-printable",
				"",
				"a=ZZb ==3D c=",
				"--x",
				"Content-Type: application/zip; name=b.zip",
				"Content-Transfer-Encoding: base9000",
				"",
				"raw",
				"--x--",
			),
			// As Python's binascii: an invalid escape is kept, and "==" is
			// one "=".
			want: []part{
				{Path: "2", Type: "text/plain", Content: "a=ZZb =3D c"},
				{Path: "1", Type: "application/octet-stream", Name: "a.bin", Content: "md5:" + md5hex("<html>\n")},
				{Path: "3", Type: "application/zip", Name: "b.zip", Content: "md5:" + md5hex("raw")},
			},
			defects: []string{"1:bad-base64", "2:bad-quoted-printable", "3:unknown-encoding"},
		},
		{
			name: "charsets",
			raw: crlf(
				"Content-Type: multipart/mixed; boundary=x",
				"",
				"--x",
				"Content-Type: text/plain; charset=iso-2022-jp",
				"",
				"\x1b$B$9$_$^$;$s\x1b(B",
				"--x",
				"Content-Type: text/plain; charset=invalid-charset",
				"",
				"d\xe9j\xe0",
				"--x",
				"Content-Type: text/plain; charset=utf-7",
				"",
				"Hi Mom -+Jjo--!",
				"--x",
				"Content-Type: text/plain; charset=windows-1251",
				"",
				"\xcf\xf0\xe8\xe2\xe5\xf2",
				"--x--",
			),
			want: []part{
				{Path: "1", Type: "text/plain", Content: "すみません"},
				{Path: "2", Type: "text/plain", Content: "déjà"},
				{Path: "3", Type: "text/plain", Content: "Hi Mom -☺-!"},
				{Path: "4", Type: "text/plain", Content: "Привет"},
			},
			defects: []string{"2:charset"},
		},
		{
			name: "named and encoded file names, inline parts, bidi override",
			raw: crlf(
				"Content-Type: multipart/related; boundary=r",
				"",
				"--r",
				"Content-Type: image/gif; name=\"=?UTF-8?B?5pel5pys?=.gif\"",
				"Content-ID: <img1>",
				"",
				"GIF",
				"--r",
				"Content-Type: application/octet-stream",
				"Content-Disposition: attachment; filename=\"../../etc/invoice\u202Efdp.exe\"",
				"",
				"MZ",
				"--r--",
			),
			want: []part{
				{Path: "1", Type: "image/gif", Name: "日本.gif", Content: "md5:" + md5hex("GIF"), Inline: true},
				{Path: "2", Type: "application/octet-stream", Name: "invoicefdp.exe", Content: "md5:" + md5hex("MZ")},
			},
		},
		{
			name:    "outlook msg file",
			raw:     string(oleMagic) + "\x00\x00h\x00t\x00t\x00p\x00:\x00/\x00/\x00e\x00v\x00i\x00l\x00.\x00e\x00x\x00a\x00m\x00p\x00l\x00e\x00/\x00\x00\x00",
			want:    []part{{Path: "1", Type: "application/vnd.ms-outlook", Name: "part-1.msg", Content: "http://evil.example/\n"}},
			defects: []string{":not-mime"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := mustParse(t, tt.raw)
			if diff := cmp.Diff(tt.want, parts(e)); diff != "" {
				t.Errorf("parts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.defects, defectKinds(e), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("defects (-want +got):\n%s\n%v", diff, e.Defects)
			}
			// The parse must not depend on how the input is split into reads.
			e2, err := ParseEmail(iotest.OneByteReader(strings.NewReader(tt.raw)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(parts(e), parts(e2)); diff != "" {
				t.Errorf("one byte at a time (-whole +bytewise):\n%s", diff)
			}
		})
	}
}

func TestAttachmentSuspicious(t *testing.T) {
	t.Parallel()
	e := mustParse(t, crlf(
		"Content-Type: application/octet-stream",
		"Content-Disposition: attachment; filename=\"../invoice\u202Efdp.exe\"",
		"",
		"MZ",
	))
	a := e.Attachments[0]
	want := &Attachment{
		Path: "1", Filename: "../invoice\u202Efdp.exe", SafeName: "invoicefdp.exe",
		ContentType: "application/octet-stream", Disposition: "attachment",
		Suspicious: []string{SuspiciousPath, SuspiciousBidi},
		Size:       2, MD5: md5hex("MZ"), SHA256: sha256hex("MZ"),
	}
	if diff := cmp.Diff(want, a, cmpopts.IgnoreFields(Attachment{}, "SHA1")); diff != "" {
		t.Errorf("Attachment (-want +got):\n%s", diff)
	}
}

// b64Lines base64-encodes s in 76-character lines.
func b64Lines(s string) string {
	return strings.TrimRight(string(encodeLines([]byte(s))), "\r\n")
}

func TestParseEmailTextLimit(t *testing.T) {
	t.Parallel()
	raw := crlf(
		"Content-Type: multipart/mixed; boundary=x",
		"",
		"--x",
		"",
		strings.Repeat("a", 100),
		"--x",
		"Content-Type: text/html; name=page.html",
		"",
		strings.Repeat("b", 100),
		"--x--",
	)
	e := mustParse(t, raw, WithMaxTextSize(10))
	if b := e.Bodies[0]; b.Content != strings.Repeat("a", 10) || !b.Truncated {
		t.Errorf("body = %q, truncated %v", b.Content, b.Truncated)
	}
	if a := e.Attachments[0]; a.Text != strings.Repeat("b", 10) || !a.TextTruncated || a.Size != 100 || a.MD5 != md5hex(strings.Repeat("b", 100)) {
		t.Errorf("attachment text %q truncated %v size %d", a.Text, a.TextTruncated, a.Size)
	}
	if diff := cmp.Diff([]string{"1:text-truncated"}, defectKinds(e)); diff != "" {
		t.Errorf("defects (-want +got):\n%s", diff)
	}
}

func TestParseEmailDepthLimit(t *testing.T) {
	t.Parallel()
	var sb strings.Builder
	for i := 0; i < 5; i++ {
		sb.WriteString("Content-Type: multipart/mixed; boundary=b" + string(rune('0'+i)) + "\r\n\r\n--b" + string(rune('0'+i)) + "\r\n")
	}
	sb.WriteString("\r\ndeep\r\n")
	e := mustParse(t, sb.String(), WithMaxDepth(3))
	if len(e.Attachments) != 1 || !strings.HasPrefix(e.Attachments[0].Path, "1.1.1") {
		t.Errorf("attachments %+v", e.Attachments)
	}
	found := false
	for _, d := range e.Defects {
		found = found || d.Kind == DefectTooDeep
	}
	if !found {
		t.Errorf("no too-deep defect in %v", e.Defects)
	}
}

func TestParseEmailOptions(t *testing.T) {
	t.Parallel()
	for _, opt := range []Option{WithMaxTextSize(0), WithMaxHeaderSize(-1), WithMaxDepth(0), WithAttachmentFunc(nil)} {
		if _, err := ParseEmail(strings.NewReader("x"), opt); err == nil {
			t.Errorf("no error for an invalid option")
		}
	}
}

func TestParseEmailReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("Subject: s\r\n\r\nbody start"), iotest.ErrReader(boom))
	e, err := ParseEmail(r)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if e == nil || e.Subject != "s" {
		t.Errorf("partial Email = %+v", e)
	}
}

const attachmentsMessage = "Content-Type: multipart/mixed; boundary=x\r\n\r\n" +
	"--x\r\n\r\ntext\r\n" +
	"--x\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQgZmFrZQ==\r\n" +
	"--x\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=y\r\n\r\n" +
	"--y\r\n\r\ninner\r\n--y\r\nContent-Type: text/csv; name=b.csv\r\n\r\na,b\r\n--y--\r\n" +
	"--x--\r\n"

func TestAttachmentFunc(t *testing.T) {
	t.Parallel()
	type call struct {
		Path, Name string
		Read       string
		Size       int64
	}
	var calls []call
	fn := func(a *Attachment, r io.Reader) error {
		// Read only the first 3 bytes: the parser reads the rest.
		buf := make([]byte, 3)
		n, _ := io.ReadFull(r, buf)
		calls = append(calls, call{Path: a.Path, Name: a.SafeName, Read: string(buf[:n]), Size: a.Size})
		return nil
	}
	e := mustParse(t, attachmentsMessage, WithAttachmentFunc(fn))
	want := []call{
		{Path: "2", Name: "a.pdf", Read: "%PD"},
		{Path: "3.2", Name: "b.csv", Read: "a,b"},
	}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if a := e.Attachments[0]; a.Size != 13 || a.MD5 != md5hex("%PDF-1.4 fake") {
		t.Errorf("hashes not final after a partial read: %+v", a)
	}

	boom := errors.New("upload failed")
	_, err := ParseEmail(strings.NewReader(attachmentsMessage), WithAttachmentFunc(func(*Attachment, io.Reader) error { return boom }))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "attachment 2 (a.pdf)") {
		t.Errorf("err = %v", err)
	}
}

func TestOpenAttachment(t *testing.T) {
	t.Parallel()
	e := mustParse(t, attachmentsMessage)
	var paths []string
	for a := range e.AllAttachments() {
		paths = append(paths, a.Path)
		rc, err := OpenAttachment(iotest.HalfReader(strings.NewReader(attachmentsMessage)), a.Path)
		if err != nil {
			t.Fatalf("OpenAttachment(%s): %v", a.Path, err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		if err := rc.Close(); err != nil {
			t.Fatal(err)
		}
		if got := sha256hex(string(b)); got != a.SHA256 || int64(len(b)) != a.Size {
			t.Errorf("OpenAttachment(%s): %d bytes, sha256 %s; want %d bytes, %s", a.Path, len(b), got, a.Size, a.SHA256)
		}
	}
	if diff := cmp.Diff([]string{"2", "3", "3.2"}, paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}

	// A body part can be opened too; a multipart or a missing part cannot.
	rc, err := OpenAttachment(strings.NewReader(attachmentsMessage), "1")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(rc); string(b) != "text" {
		t.Errorf("part 1 = %q", b)
	}
	rc.Close()
	for _, p := range []string{"4", "3.3", "1.1"} {
		if _, err := OpenAttachment(strings.NewReader(attachmentsMessage), p); !errors.Is(err, ErrNoPart) {
			t.Errorf("OpenAttachment(%s): err = %v, want ErrNoPart", p, err)
		}
	}
	for _, p := range []string{"", "0", "a", "1..2", "01"} {
		if _, err := OpenAttachment(strings.NewReader(attachmentsMessage), p); err == nil || errors.Is(err, ErrNoPart) {
			t.Errorf("OpenAttachment(%q): err = %v, want an invalid path error", p, err)
		}
	}
	// Closing before reading stops the parse.
	rc, err = OpenAttachment(strings.NewReader(attachmentsMessage), "2")
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if _, err := rc.Read(make([]byte, 1)); err == nil {
		t.Error("Read after Close succeeded")
	}
}

// TestOpenAttachmentCorpus checks that every attachment of every email in
// the shared corpus streams again, byte for byte, from its path.
func TestOpenAttachmentCorpus(t *testing.T) {
	t.Parallel()
	for _, m := range corpusMessages(t) {
		e, err := ParseEmail(bytes.NewReader(m.raw))
		if err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		for a := range e.AllAttachments() {
			rc, err := OpenAttachment(bytes.NewReader(m.raw), a.Path)
			if err != nil {
				t.Errorf("%s: OpenAttachment(%s): %v", m.name, a.Path, err)
				continue
			}
			h := sha256.New()
			n, err := io.Copy(h, rc)
			rc.Close()
			if err != nil {
				t.Errorf("%s: %s: %v", m.name, a.Path, err)
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != a.SHA256 || n != a.Size {
				t.Errorf("%s: %s: reopened %d bytes %s, parsed %d bytes %s", m.name, a.Path, n, got, a.Size, a.SHA256)
			}
		}
	}
}

func TestBodyMarkdown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw, want string
	}{
		{"text preferred", crlf("Content-Type: multipart/alternative; boundary=a", "", "--a", "", "plain *text*", "--a", "Content-Type: text/html", "", "<b>html</b>", "--a--"), "plain *text*"},
		{"html converted", crlf("Content-Type: text/html", "", "<h1>Title</h1><p>Go <a href=\"https://example.com/\">here</a></p>"), "# Title\n\nGo [here](https://example.com/)"},
		{"no body", crlf("Subject: s", "", ""), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mustParse(t, tt.raw).BodyMarkdown(); got != tt.want {
				t.Errorf("BodyMarkdown() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLongLines(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 3*lineBufSize+17)
	raw := crlf(
		"Subject: "+long,
		"Content-Type: multipart/mixed; boundary=b",
		"",
		"--b",
		"",
		long,
		"--b",
		"",
		"short",
		"--b--",
	)
	e := mustParse(t, raw)
	if e.Subject != long {
		t.Errorf("subject of %d bytes, want %d", len(e.Subject), len(long))
	}
	if diff := cmp.Diff([]part{{Path: "1", Type: "text/plain", Content: long}, {Path: "2", Type: "text/plain", Content: "short"}}, parts(e)); diff != "" {
		t.Errorf("parts (-want +got):\n%s", diff)
	}
}

func TestHeaderLimit(t *testing.T) {
	t.Parallel()
	raw := crlf("Subject: kept", "X-Long: "+strings.Repeat("x", 200), " "+strings.Repeat("y", 200), "X-After: dropped", "", "body")
	e := mustParse(t, raw, WithMaxHeaderSize(100))
	if e.Subject != "kept" || e.Header.Has("X-After") || e.Header.Has("X-Long") || e.TextBody() != "body" {
		t.Errorf("header %+v, body %q", e.Header, e.TextBody())
	}
	if diff := cmp.Diff([]string{":header-too-large"}, defectKinds(e)); diff != "" {
		t.Errorf("defects (-want +got):\n%s", diff)
	}
}

func TestAccessors(t *testing.T) {
	t.Parallel()
	e := mustParse(t, attachmentsMessage)
	if got := (Address{Name: "A", Addr: "a@Example.COM"}); got.Domain() != "example.com" || got.String() != "A <a@Example.COM>" {
		t.Errorf("Address %v: domain %q", got, got.Domain())
	}
	if (Address{Addr: "no-at"}).Domain() != "" {
		t.Error("Domain of an address without @")
	}
	if e.Attachments[0].IsMessage() || !e.Attachments[1].IsMessage() {
		t.Error("IsMessage wrong")
	}
	if !e.Header.Has("content-type") || e.Header.Has("Subject") {
		t.Error("Has wrong")
	}
	// An attached message without a subject gets a name after its path;
	// a long subject is cut.
	for subject, want := range map[string]string{
		"":                       "message-2.eml",
		strings.Repeat("ab", 80): strings.Repeat("ab", 50) + ".eml",
	} {
		if got := messageFileName(subject, "2"); got != want {
			t.Errorf("messageFileName(%q) = %q, want %q", subject, got, want)
		}
	}
	var n int
	for range e.AllAttachments() {
		n++
		break
	}
	if n != 1 {
		t.Error("AllAttachments does not stop")
	}
}
