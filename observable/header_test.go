package observable

import (
	"io"
	"net/netip"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestDecodeEncodedWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		problem  bool
	}{
		{"plain", "plain", false},
		{"=?UTF-8?Q?Caf=C3=A9?=", "Café", false},
		{"=?utf-8?q?a_b?= =?utf-8?q?_c?=", "a b c", false},
		{"=?ISO-8859-1?Q?Andr=E9?= Pirard", "André Pirard", false},
		{"x =?UTF-8?B?w6k=?= y", "x é y", false},
		{"=?UTF-8?B??=", "", false},
		{"=?UTF-8*en?Q?hi?=", "hi", false},
		{"=?ks_c_5601-1987?B?u+fB+C5KUEc=?=", "사진.JPG", false},
		{"=?iso-2022-jp?B?GyRCJF4kXyRgJGEkYhsoQg==?=", "まみむめも", false},
		{"=?UTF-8?Q?a?==?UTF-8?Q?b?=", "ab", false},
		{"=?bogus?Q?x?=", "x", true},
		{"=?UTF-8?X?x?=", "=?UTF-8?X?x?=", false},
		{"=?UTF-8?Q?unterminated", "=?UTF-8?Q?unterminated", false},
		{"a =? b", "a =? b", false},
	}
	for _, tt := range tests {
		got, problem := decodeEncodedWords(tt.in)
		if got != tt.want || (problem != "") != tt.problem {
			t.Errorf("decodeEncodedWords(%q) = %q, %q; want %q, problem %v", tt.in, got, problem, tt.want, tt.problem)
		}
	}
}

func TestParseAddressList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   []Address
		strict bool
	}{
		{"a@example.com", []Address{{Addr: "a@example.com"}}, true},
		{`"Doe, Jane" <jane@example.org>, bob@example.org (Bob)`, []Address{{Name: "Doe, Jane", Addr: "jane@example.org"}, {Name: "Bob", Addr: "bob@example.org"}}, true},
		{"=?UTF-8?B?SsO2cmc=?= <j@example.de>", []Address{{Name: "Jörg", Addr: "j@example.de"}}, true},
		{"Jöhn Doe <jdöe@mächine.example>", []Address{{Name: "Jöhn Doe", Addr: "jdöe@mächine.example"}}, true},
		{"undisclosed-recipients:;", nil, true},
		{"team: a@example.com, b@example.com;", []Address{{Addr: "a@example.com"}, {Addr: "b@example.com"}}, true},
		{"<mailto:x@example.com>", []Address{{Addr: "x@example.com"}}, true},
		{"<@relay.example:x@example.com>", []Address{{Addr: "x@example.com"}}, true},
		{"a@example.com b@example.com", []Address{{Addr: "a@example.com"}, {Addr: "b@example.com"}}, false},
		{"alice@example.com <bob@example.com>", []Address{{Name: "alice@example.com", Addr: "bob@example.com"}}, false},
		{"john @ example.com", []Address{{Addr: "john@example.com"}}, false},
		{`"unterminated <a@example.com>`, []Address{{Name: "unterminated", Addr: "a@example.com"}}, false},
		{"Name <a@example.com", []Address{{Name: "Name", Addr: "a@example.com"}}, false},
		{"Whomever", nil, false},
	}
	for _, tt := range tests {
		got, strict := ParseAddressList(tt.in)
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" || strict != tt.strict {
			t.Errorf("ParseAddressList(%q): strict %v, want %v; diff (-want +got):\n%s", tt.in, strict, tt.strict, diff)
		}
	}
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // RFC 3339, "" for unparseable
	}{
		{"Mon, 3 Nov 2025 18:23:00 +0100", "2025-11-03T18:23:00+01:00"},
		{"3 Nov 2025 18:23:00 -0000", "2025-11-03T18:23:00Z"},
		{"Thu, 03 Dec 2009 10:50:22 PST", "2009-12-03T10:50:22-08:00"},
		{"Fri, 07 Oct 1994 16:15:05 -0700 (PDT)", "1994-10-07T16:15:05-07:00"},
		{"Wed, 15 Dec 2010 12:21:20 -0500 ", "2010-12-15T12:21:20-05:00"},
		{"May 8, 2005 1:17 PM", "2005-05-08T13:17:00Z"},
		{"Thursday, 10 Jan 2002 13:59:53 GMT+0200", "2002-01-10T13:59:53+02:00"},
		{"2017-03-07T22:29:24Z", "2017-03-07T22:29:24Z"},
		{"Whenever", ""},
		{"<HR>", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := ParseDate(tt.in)
		s := ""
		if ok {
			s = got.Format(time.RFC3339)
		}
		if s != tt.want {
			t.Errorf("ParseDate(%q) = %q, want %q", tt.in, s, tt.want)
		}
	}
}

func TestThreadSubject(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"Invoice":                         "Invoice",
		"RE: Invoice":                     "Invoice",
		"Re: Fwd: AW: TR: SV: Invoice":    "Invoice",
		"Re[2]: Invoice":                  "Invoice",
		"FW:   Invoice   due ":            "Invoice due",
		"[EXTERNAL] RE: [EXTERNAL] Hello": "[EXTERNAL] Hello",
		"[#42] Incident report":           "[#42] Incident report",
		"Réf : Devis":                     "Réf : Devis",
		"RIF: Preventivo":                 "Preventivo",
		"答复: 会议":                          "会议",
		"Re: ":                            "",
		"Subject: not a prefix":           "Subject: not a prefix",
	}
	for in, want := range tests {
		if got := ThreadSubject(in); got != want {
			t.Errorf("ThreadSubject(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseMediaType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		mt      string
		params  map[string]string
		problem bool
	}{
		{`text/plain; charset="utf-8"`, "text/plain", map[string]string{"charset": "utf-8"}, false},
		{`Multipart/Mixed; Boundary=abc`, "multipart/mixed", map[string]string{"boundary": "abc"}, false},
		{`application/pdf name="a.pdf"`, "application/pdf", map[string]string{"name": "a.pdf"}, true},
		{`attachment; filename=Invoice_(1).pdf`, "attachment", map[string]string{"filename": "Invoice_(1).pdf"}, false},
		{`attachment; filename="a \"b\".txt"`, "attachment", map[string]string{"filename": `a "b".txt`}, false},
		{`attachment; filename="unterminated`, "attachment", map[string]string{"filename": "unterminated"}, true},
		{`attachment; filename="a.txt"; filename*=UTF-8''%E2%9C%94.txt`, "attachment", map[string]string{"filename": "✔.txt"}, false},
		{`attachment; filename*0*=iso-8859-1''caf%E9; filename*1=".txt"`, "attachment", map[string]string{"filename": "café.txt"}, false},
		{`attachment; name*1="b"; name*0="a"`, "attachment", map[string]string{"name": "ab"}, false},
		{`text/plain; a=1 b=2`, "text/plain", map[string]string{"a": "1", "b": "2"}, true},
		{``, "", map[string]string{}, false},
		{`;;;`, "", map[string]string{}, false},
	}
	for _, tt := range tests {
		mt, params, problem := parseMediaType(tt.in)
		if mt != tt.mt || (problem != "") != tt.problem {
			t.Errorf("parseMediaType(%q) = %q, problem %q", tt.in, mt, problem)
		}
		if diff := cmp.Diff(tt.params, params); diff != "" {
			t.Errorf("parseMediaType(%q) params (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseReceived(t *testing.T) {
	t.Parallel()
	ip := netip.MustParseAddr
	tests := []struct {
		in   string
		want Hop
	}{
		{
			in: "from mail.example.net (mail.example.net [198.51.100.7]) by mx.example.org (Postfix) with ESMTPS id 4A1B for <a@example.org>; Tue, 3 Nov 2025 18:23:00 +0100",
			want: Hop{
				From: "mail.example.net (mail.example.net [198.51.100.7])", By: "mx.example.org (Postfix)", With: "ESMTPS", ID: "4A1B", For: "<a@example.org>",
				Date:   time.Date(2025, 11, 3, 18, 23, 0, 0, time.FixedZone("", 3600)),
				FromIP: ip("198.51.100.7"), IPs: []netip.Addr{ip("198.51.100.7")},
				Hosts: []string{"mail.example.net", "mx.example.org"},
			},
		},
		{
			in: "from 127.0.0.1 (EHLO reactive-outpost.com) (74.206.28.55) by mta1007.mail.sp2.yahoo.com with SMTP; Fri, 10 Dec 2010 19:20:19 -0800",
			want: Hop{
				From: "127.0.0.1 (EHLO reactive-outpost.com) (74.206.28.55)", By: "mta1007.mail.sp2.yahoo.com", With: "SMTP",
				Date:   time.Date(2010, 12, 10, 19, 20, 19, 0, time.FixedZone("", -8*3600)),
				FromIP: ip("74.206.28.55"), IPs: []netip.Addr{ip("127.0.0.1"), ip("74.206.28.55")},
				Hosts: []string{"reactive-outpost.com", "mta1007.mail.sp2.yahoo.com"},
			},
		},
		{
			in: "from [10.0.0.224] ([10.0.0.224]:41560 helo=rewind) by smokescreen (envelope-from <mailer@infusionmail.com>) (ecelerity 3.5.1.37854 r(Momo-dev:3.5.1.0)) with ESMTP id B5/4A; Thu, 27 Mar 2014 14:06:53 -0400",
			want: Hop{
				From: "[10.0.0.224] ([10.0.0.224]:41560 helo=rewind)", By: "smokescreen (envelope-from <mailer@infusionmail.com>) (ecelerity 3.5.1.37854 r(Momo-dev:3.5.1.0))",
				With: "ESMTP", ID: "B5/4A",
				Date:   time.Date(2014, 3, 27, 14, 6, 53, 0, time.FixedZone("", -4*3600)),
				FromIP: ip("10.0.0.224"), IPs: []netip.Addr{ip("10.0.0.224")},
				EnvelopeFrom: "mailer@infusionmail.com",
			},
		},
		{
			in: "from MBX01C.example.com ([fe80::d9e1:f2e9:23cd:91e2]) by MBX01C.example.com ([fe80::d9e1:f2e9:23cd:91e2%22]) with mapi id 15.00.0775.031; Thu, 27 Mar 2014 17:28:13 -0500",
			want: Hop{
				From: "MBX01C.example.com ([fe80::d9e1:f2e9:23cd:91e2])", By: "MBX01C.example.com ([fe80::d9e1:f2e9:23cd:91e2%22])", With: "mapi", ID: "15.00.0775.031",
				Date:   time.Date(2014, 3, 27, 17, 28, 13, 0, time.FixedZone("", -5*3600)),
				FromIP: ip("fe80::d9e1:f2e9:23cd:91e2"), IPs: []netip.Addr{ip("fe80::d9e1:f2e9:23cd:91e2")},
				Hosts: []string{"mbx01c.example.com"},
			},
		},
		{
			in:   "(qmail 23530 invoked from network); 7 Mar 2017 22:29:25 -0000",
			want: Hop{Date: time.Date(2017, 3, 7, 22, 29, 25, 0, time.UTC)},
		},
		{
			in: "from localhost by e06smtp10.uk.ibm.com with IBM ESMTP SMTP Gateway: Authorized Use Only! for <l@example.it> from <n@example.com>; Wed, 8 Mar 2017 16:46:25 -0000",
			want: Hop{
				From: "localhost", By: "e06smtp10.uk.ibm.com", With: "IBM ESMTP SMTP Gateway: Authorized Use Only!", For: "<l@example.it> from <n@example.com>",
				Date:  time.Date(2017, 3, 8, 16, 46, 25, 0, time.UTC),
				Hosts: []string{"e06smtp10.uk.ibm.com"},
			},
		},
	}
	opts := cmp.Options{
		cmpopts.IgnoreFields(Hop{}, "Raw"),
		cmpopts.EquateEmpty(),
		cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
		cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	}
	for _, tt := range tests {
		got := ParseReceived(tt.in)
		if diff := cmp.Diff(tt.want, got, opts); diff != "" {
			t.Errorf("ParseReceived(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestExternalRelay(t *testing.T) {
	t.Parallel()
	e := mustParse(t, crlf(
		"Received: from int.example.org (int.example.org [10.1.1.254]) by mx.example.org; Thu, 3 Dec 2009 10:50:44 -0800",
		"Received: from edge.example.org (edge.example.org [198.51.100.5]) by int.example.org; Thu, 3 Dec 2009 10:50:43 -0800",
		"Received: from web.example.net (web.example.net [209.191.84.220]) by edge.example.org; Thu, 3 Dec 2009 10:50:23 -0800",
		"",
		"b",
	))
	// 198.51.100.0/24 is set aside for documentation, so it is not public.
	h, ok := e.ExternalRelay()
	if !ok || h.FromIP.String() != "209.191.84.220" {
		t.Errorf("ExternalRelay() = %v, %v", h.FromIP, ok)
	}
	if _, ok := e.ExternalRelay(netip.MustParsePrefix("209.191.84.0/24")); ok {
		t.Error("ExternalRelay with the relay trusted found a hop")
	}
	if e.Received[0].Public() || !e.Received[2].Public() {
		t.Error("Public() wrong")
	}
}

func TestSanitizeFilename(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		reasons  []string
	}{
		{"report.pdf", "report.pdf", nil},
		{"../../etc/passwd", "passwd", []string{SuspiciousPath}},
		{`C:\Users\x\evil.exe`, "evil.exe", []string{SuspiciousPath}},
		{"C:evil.exe", "evil.exe", nil},
		{"/absolute/name.txt", "name.txt", []string{SuspiciousPath}},
		{"invoice\u202Efdp.exe", "invoicefdp.exe", []string{SuspiciousBidi}},
		{"a\x00b\r\nc.txt", "abc.txt", []string{SuspiciousControl}},
		{"zero\u200Bwidth.txt", "zerowidth.txt", []string{SuspiciousControl}},
		{`what?<>:"|*.txt`, "what_______.txt", nil},
		{" .hidden. ", "hidden", nil},
		{"CON.txt", "_CON.txt", nil},
		{"lpt1", "_lpt1", nil},
		{"invoice.pdf.exe", "invoice.pdf.exe", []string{SuspiciousDoubleExtension}},
		{"..", "", nil},
		{"", "", nil},
		{strings.Repeat("é", 200) + ".pdf", strings.Repeat("é", 125) + ".pdf", nil},
		{"bad\xffutf8.txt", "bad_utf8.txt", nil},
	}
	for _, tt := range tests {
		got, reasons := SanitizeFilename(tt.in)
		if got != tt.want {
			t.Errorf("SanitizeFilename(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if diff := cmp.Diff(tt.reasons, reasons, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("SanitizeFilename(%q) reasons (-want +got):\n%s", tt.in, diff)
		}
	}
}

// decodeAll decodes in with the decoder for cte, reading the input in the
// given way.
func decodeAll(t *testing.T, cte, in string, wrap func(io.Reader) io.Reader) (string, string) {
	t.Helper()
	r, dd := transferDecoder(cte, wrap(strings.NewReader(in)))
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s %q: %v", cte, in, err)
	}
	kind := ""
	if dd != nil {
		if k, _, ok := dd.defect(); ok {
			kind = string(k)
		}
	}
	return string(out), kind
}

func TestTransferDecoders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cte, in, want, defect string
	}{
		{"base64", "aGVsbG8gd29y\r\nbGQ=\r\n", "hello world", ""},
		{"BASE64", "aGVsbG8 gd29ybGQ", "hello world", "bad-base64"},
		{"base64", "PGh0*bWw+Cg==", "<html>\n", "bad-base64"},
		{"base64", "aGk=\r\ntrailing junk", "hi", "bad-base64"},
		{"base64", "aGk", "hi", "bad-base64"},
		{"base64", "aGVsbG8gd29ybGQhI", "hello world!", "bad-base64"},
		{"base64", "", "", ""},
		{"quoted-printable", "caf=C3=A9 =\r\nsoft=0D=0Aline\r\n", "café soft\r\nline\r\n", ""},
		{"quoted-printable", "lower =c3=a9 case", "lower é case", ""},
		{"quoted-printable", "bad =ZZ escape=", "bad =ZZ escape", "bad-quoted-printable"},
		{"Quoted-Printable", "x=\ny", "xy", ""},
		{"x-uuencode", "begin 644 a.txt\n+:&5L;&\\@=V]R;&0`\n`\nend\n", "hello world", ""},
		{"7bit", "as is=3D", "as is=3D", ""},
		{"8 bit", "\xe9", "\xe9", ""},
		{"", "plain", "plain", ""},
		{"base9000", "raw", "raw", "unknown-encoding"},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"bytewise": iotest.OneByteReader,
		"halves":   iotest.HalfReader,
	}
	for _, tt := range tests {
		for name, wrap := range readers {
			got, defect := decodeAll(t, tt.cte, tt.in, wrap)
			if got != tt.want || defect != tt.defect {
				t.Errorf("%s %q read %s = %q, defect %q; want %q, %q", tt.cte, tt.in, name, got, defect, tt.want, tt.defect)
			}
		}
	}
}

func TestDecodeCharset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, cs, want string
		ok           bool
	}{
		{"plain", "", "plain", true},
		{"caf\xc3\xa9", "", "café", true},
		{"caf\xe9", "", "café", false},
		{"caf\xe9", "us-ascii", "café", false},
		{"caf\xe9", "iso-8859-1", "café", true},
		{"\x80", "windows-1252", "€", true},
		{"\xcf\xf0\xe8", "koi8-r", "оПХ", true},
		{"a+ZeVnLIqe-", "utf-7", "a日本語", true},
		{"ok \xd1f broken", "utf-8", "ok \uFFFDf broken", false},
		{"x", "no-such-charset", "x", false},
	}
	for _, tt := range tests {
		got, ok := decodeCharset([]byte(tt.in), tt.cs)
		if got != tt.want || ok != tt.ok {
			t.Errorf("decodeCharset(%q, %q) = %q, %v; want %q, %v", tt.in, tt.cs, got, ok, tt.want, tt.ok)
		}
	}
}
