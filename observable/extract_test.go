package observable

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// strs formats observables for readable diffs: "type:value [tags]".
func strs(obs []Observable) []string {
	out := make([]string, len(obs))
	for i, o := range obs {
		out[i] = o.String()
	}
	return out
}

func TestExtractText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{
			name: "urls with trailing punctuation and brackets",
			in:   "Visit https://Example.COM/path?a=1&amp;b=2. Or (see http://example.org/a_(b)), or <ftp://files.example.net/x>!",
			want: []string{
				"url:https://example.com/path?a=1&b=2 [src:text]",
				"domain:example.com [src:text]",
				"url:http://example.org/a_(b) [src:text]",
				"domain:example.org [src:text]",
				"url:ftp://files.example.net/x [src:text]",
				"fqdn:files.example.net [src:text]",
				"domain:example.net [src:text]",
			},
		},
		{
			name: "defanged indicators",
			in:   "Blocked hxxps://login.evil-bank[.]com/verify from 203[.]0[.]113[.]9, sender bad[at]evil-bank[.]com",
			want: []string{
				"url:https://login.evil-bank.com/verify [src:text defanged]",
				"fqdn:login.evil-bank.com [src:text defanged]",
				"domain:evil-bank.com [src:text defanged]",
				"mail:bad@evil-bank.com [src:text defanged]",
				"ip:203.0.113.9 [src:text defanged private]",
			},
		},
		{
			name: "spaced defanging",
			in:   "write to john [at] example [dot] org",
			want: []string{
				"mail:john@example.org [src:text defanged]",
				"domain:example.org [src:text defanged]",
			},
		},
		{
			name: "file names, versions and sentences are not hosts",
			in:   "Open invoice.php, setup.exe or archive.zip; see README.md. Version 2.10.4 shipped.Thanks to e.g. Mr.Smith",
			want: nil,
		},
		{
			name: "bare host names",
			in:   "Hosts: mail.example.co.uk, www.example.zip and xn--bcher-kva.example.de.",
			want: []string{
				"fqdn:mail.example.co.uk [src:text]",
				"domain:example.co.uk [src:text]",
				"fqdn:www.example.zip [src:text]",
				"domain:example.zip [src:text]",
				"fqdn:xn--bcher-kva.example.de [src:text idn]",
				"domain:example.de [src:text idn]",
			},
		},
		{
			name: "internationalised names are one host in either form",
			in:   "http://bücher.example.de/x then xn--bcher-kva.example.de",
			want: []string{
				"url:http://bücher.example.de/x [src:text idn]",
				"fqdn:xn--bcher-kva.example.de [src:text idn]",
				"domain:example.de [src:text idn]",
			},
		},
		{
			name: "IP addresses",
			in:   "8.8.8.8, 10.1.2.3:8080, ::ffff:192.0.2.1 and 2001:4860:4860::8888 via [IPv6:fe80::1:2:3]",
			want: []string{
				"ip:8.8.8.8 [src:text public]",
				"ip:10.1.2.3 [src:text private]",
				"ip:192.0.2.1 [src:text private]",
				"ip:2001:4860:4860::8888 [src:text public]",
				"ip:fe80::1:2:3 [src:text private]",
			},
		},
		{
			name: "not IP addresses",
			in:   "192.168.123.456 1.2.3 1.2.3.4.5 version 10.0.0.1 build: 6.1.7601.2 00:1a:2b:3c:4d:5e 12:30:45 010.1.1.1 std::string a::b",
			want: nil,
		},
		{
			name: "mail addresses",
			in: "Contact jöhn@exämple.de, <Bob@Example.com> or 'amy@example.org' (not cid:image001.png@01D2C1.ABC, x@localhost, <4B2F@smtp.example$@example.com>, " +
				"Message-ID: <a1@mail.example.net>, <20170918100018.6ae0948009c@www.example.net>)",
			want: []string{
				"mail:jöhn@exämple.de [src:text]",
				"domain:xn--exmple-cua.de [src:text idn]",
				"mail:bob@example.com [src:text]",
				"domain:example.com [src:text]",
				"mail:amy@example.org [src:text]",
				"domain:example.org [src:text]",
				// The host of a message ID is kept.
				"fqdn:mail.example.net [src:text]",
				"domain:example.net [src:text]",
				"fqdn:www.example.net [src:text]",
			},
		},
		{
			name: "addresses after a key, and VERP addresses",
			in:   "smtp.mailfrom=sales@proxmox.com; header.from=News@Proxmox.com; bounce-42=victim=example.org@lists.example.net",
			want: []string{
				"mail:sales@proxmox.com [src:text]",
				"domain:proxmox.com [src:text]",
				"mail:news@proxmox.com [src:text]",
				"mail:bounce-42=victim=example.org@lists.example.net [src:text]",
				"fqdn:lists.example.net [src:text]",
				"domain:example.net [src:text]",
			},
		},
		{
			name: "an address in a URL query is an address, user info is not",
			in:   "http://user@example.com/unsubscribe?email=victim@example.org",
			want: []string{
				"url:http://user@example.com/unsubscribe?email=victim@example.org [src:text]",
				"domain:example.com [src:text]",
				"mail:victim@example.org [src:text]",
				"domain:example.org [src:text]",
			},
		},
		{
			name: "hashes",
			in:   "md5 D41D8CD98F00B204E9800998ECF8427E sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709, sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 not 12345678901234567890123456789012 nor id_d41d8cd98f00b204e9800998ecf8427e",
			want: []string{
				"hash:d41d8cd98f00b204e9800998ecf8427e [src:text md5]",
				"hash:da39a3ee5e6b4b0d3255bfef95601890afd80709 [src:text sha1]",
				"hash:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 [src:text sha256]",
			},
		},
		{
			name: "URLs without a scheme",
			in:   "go to www.example.org/login?next=/ now, or www.example.net",
			want: []string{
				"url:www.example.org/login?next=/ [src:text no-scheme]",
				"fqdn:www.example.org [src:text no-scheme]",
				"domain:example.org [src:text no-scheme]",
				"fqdn:www.example.net [src:text]",
				"domain:example.net [src:text]",
			},
		},
		{
			name: "duplicates merge",
			in:   "http://a.example.com/ http://A.EXAMPLE.COM/ a.example.com",
			want: []string{
				"url:http://a.example.com/ [src:text]",
				"fqdn:a.example.com [src:text]",
				"domain:example.com [src:text]",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := strs(ExtractText(tt.in, ExtractOptions{}))
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ExtractText(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestExtractHTML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		html string
		want []string
	}{
		{
			name: "links, resources, forms, CSS and refresh; no comments",
			html: `<html><head><style>body{background:url('https://cdn.example.com/bg.png')} @import "https://css.example.com/a.css";</style>
<meta http-equiv="Refresh" content="0; URL=https://redirect.example.net/r">
<!-- <a href="https://hidden.example.org/">hidden</a> --></head>
<body background="https://bg.example.com/b.jpg">
<a href="https://www.example.com/?a=1&amp;b=2">Example</a>
<img src="cid:logo@x" srcset="https://img.example.com/1x.png 1x, https://img.example.com/2x.png 2x">
<form action="https://collect.example.net/post"><input type="image" src="https://img.example.com/btn.png"></form>
<a href="mailto:Sales@Example.com?subject=hi">mail us</a> <a href="/relative">rel</a> <a href="javascript:void(0)">js</a>
<div style="background-image: url(https://img.example.com/div.png)">text at ex<b>ample</b>.org</div>
<script>var u = "https://tracker.example.net/t.js"; window.x.name = 1;</script>
</body></html>`,
			want: []string{
				"url:https://cdn.example.com/bg.png [src:html]",
				"fqdn:cdn.example.com [src:html]",
				"domain:example.com [src:html]",
				"url:https://css.example.com/a.css [src:html]",
				"fqdn:css.example.com [src:html]",
				"url:https://redirect.example.net/r [src:html]",
				"fqdn:redirect.example.net [src:html]",
				"domain:example.net [src:html]",
				"url:https://bg.example.com/b.jpg [src:html]",
				"fqdn:bg.example.com [src:html]",
				"url:https://www.example.com/?a=1&b=2 [src:html]",
				"fqdn:www.example.com [src:html]",
				"url:https://img.example.com/1x.png [src:html]",
				"fqdn:img.example.com [src:html]",
				"url:https://img.example.com/2x.png [src:html]",
				"url:https://collect.example.net/post [src:html]",
				"fqdn:collect.example.net [src:html]",
				"url:https://img.example.com/btn.png [src:html]",
				"mail:sales@example.com [src:html]",
				"url:https://img.example.com/div.png [src:html]",
				"domain:example.org [src:html]",
				"url:https://tracker.example.net/t.js [src:html]",
				"fqdn:tracker.example.net [src:html]",
			},
		},
		{
			name: "link text showing another domain",
			html: `<a href="https://evil.example.net/login">https://www.bank.example.com/</a> <a href="https://www.bank.example.com/help">www.bank.example.com</a> <a href="https://t.example.org/x">Click here</a>`,
			want: []string{
				"url:https://evil.example.net/login [src:html link-text-mismatch]",
				"fqdn:evil.example.net [src:html link-text-mismatch]",
				"domain:example.net [src:html link-text-mismatch]",
				"url:https://www.bank.example.com/help [src:html]",
				"fqdn:www.bank.example.com [src:html]",
				"domain:example.com [src:html]",
				"url:https://t.example.org/x [src:html]",
				"fqdn:t.example.org [src:html]",
				"domain:example.org [src:html]",
				"url:https://www.bank.example.com/ [src:html]",
			},
		},
		{
			name: "obfuscated attribute and a document cut inside a tag",
			html: "<a href=\"ht\ttps://obf.example.com/\n x\">x</a><a href=\"http://cut.example.org/",
			want: []string{
				"url:https://obf.example.com/%20x [src:html]",
				"fqdn:obf.example.com [src:html]",
				"domain:example.com [src:html]",
				"url:http://cut.example.org/ [src:html]",
				"fqdn:cut.example.org [src:html]",
				"domain:example.org [src:html]",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := mustParse(t, "Content-Type: text/html\r\n\r\n"+tt.html)
			got := strs(Extract(e, ExtractOptions{}))
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Extract (-want +got):\n%s", diff)
			}
		})
	}
}

const phishMessage = "Received: from mx.example.org (mx.example.org [10.0.0.5]) by store.example.org; Mon, 3 Nov 2025 18:23:02 +0100\r\n" +
	"Received: from relay.phish-co.net (relay.phish-co.net [203.0.113.50]) by mx.example.org; Mon, 3 Nov 2025 18:23:01 +0100\r\n" +
	"Received: from [192.168.1.20] (dsl.isp-net.com [198.18.0.1]) by relay.phish-co.net (envelope-from <b@bounce.phish-co.net>); Mon, 3 Nov 2025 18:23:00 +0100\r\n" +
	"X-Originating-IP: [192.0.2.44]\r\n" +
	"From: \"it-support@example.org\" <helpdesk@phish-co.net>\r\n" +
	"Reply-To: collect@phish-co.net\r\n" +
	"To: victim@example.org\r\n" +
	"Subject: Password expires at portal.phish-co.net\r\n" +
	"Content-Type: multipart/mixed; boundary=b\r\n" +
	"\r\n" +
	"--b\r\n" +
	"Content-Type: multipart/alternative; boundary=a\r\n" +
	"\r\n" +
	"--a\r\n" +
	"Content-Type: text/plain\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Renew at https://portal.phish-co.net/renew?user=3Dvictim&amp;x=3D1 or hxxp://mirror[.]phish-co[.]net=\r\n" +
	"/renew\r\n" +
	"--a\r\n" +
	"Content-Type: text/html\r\n" +
	"\r\n" +
	"<a href=\"https://portal.phish-co.net/renew\">https://portal.example.org/</a><img src=\"cid:logo\">\r\n" +
	"--a--\r\n" +
	"--b\r\n" +
	"Content-Type: image/png\r\n" +
	"Content-ID: <logo>\r\n" +
	"\r\n" +
	"PNG\r\n" +
	"--b\r\n" +
	"Content-Type: text/html; name=\"form.html\"\r\n" +
	"Content-Disposition: attachment; filename=\"form.html\"\r\n" +
	"\r\n" +
	"<form action=\"https://post.phish-co.net/p\"></form>\r\n" +
	"--b\r\n" +
	"Content-Type: message/rfc822\r\n" +
	"\r\n" +
	"From: ceo@other-co.org\r\n" +
	"Subject: inner\r\n" +
	"\r\n" +
	"see 45.33.32.156\r\n" +
	"--b--\r\n"

func TestExtract(t *testing.T) {
	t.Parallel()
	e := mustParse(t, phishMessage)
	got := Extract(e, ExtractOptions{})
	want := []string{
		"mail-subject:Password expires at portal.phish-co.net [src:header]",
		"mail:helpdesk@phish-co.net [src:header from display-name-mismatch]",
		"domain:phish-co.net [src:header src:received src:subject src:body defanged src:html link-text-mismatch src:attachment]",
		"mail:collect@phish-co.net [src:header reply-to]",
		"ip:192.0.2.44 [src:header x-originating-ip private]",
		"ip:10.0.0.5 [src:received private]",
		"fqdn:mx.example.org [src:received]",
		"domain:example.org [src:received src:html]",
		"fqdn:store.example.org [src:received]",
		"ip:203.0.113.50 [src:received private]",
		"fqdn:relay.phish-co.net [src:received]",
		"ip:192.168.1.20 [src:received private]",
		"ip:198.18.0.1 [src:received private]",
		"fqdn:dsl.isp-net.com [src:received]",
		"domain:isp-net.com [src:received]",
		"mail:b@bounce.phish-co.net [src:received envelope-from]",
		"fqdn:bounce.phish-co.net [src:received]",
		"fqdn:portal.phish-co.net [src:subject src:body src:html link-text-mismatch]",
		"url:https://portal.phish-co.net/renew?user=victim&x=1 [src:body]",
		"url:http://mirror.phish-co.net/renew [src:body defanged]",
		"fqdn:mirror.phish-co.net [src:body defanged]",
		"url:https://portal.phish-co.net/renew [src:html link-text-mismatch]",
		"url:https://portal.example.org/ [src:html]",
		"fqdn:portal.example.org [src:html]",
		"file:part-2.png [src:attachment inline]",
		"file:form.html [src:attachment]",
		"url:https://post.phish-co.net/p [src:attachment]",
		"fqdn:post.phish-co.net [src:attachment]",
		"file:inner.eml [src:attachment]",
		"mail-subject:inner [attached-message src:header]",
		"mail:ceo@other-co.org [attached-message src:header from]",
		"domain:other-co.org [attached-message src:header]",
		"ip:45.33.32.156 [attached-message src:body public]",
	}
	if diff := cmp.Diff(want, strs(got)); diff != "" {
		t.Errorf("Extract (-want +got):\n%s", diff)
	}
	for _, o := range got {
		if (o.Type == TypeFile) != (o.Attachment != nil) {
			t.Errorf("%s: Attachment %v", o, o.Attachment)
		}
	}

	// Recipients, and no inline files.
	got = Extract(e, ExtractOptions{Recipients: true, SkipInline: true, SkipReceived: true})
	has := map[string]bool{}
	for _, o := range got {
		has[string(o.Type)+":"+o.Value] = true
	}
	if !has["mail:victim@example.org"] || has["file:part-2.png"] || has["ip:10.0.0.5"] {
		t.Errorf("options not applied: %v", strs(got))
	}
}

func TestExtractExternalRelay(t *testing.T) {
	t.Parallel()
	e := mustParse(t, crlf(
		"Received: from edge.example.org (edge.example.org [20.1.2.3]) by mx.example.org; Mon, 3 Nov 2025 18:23:02 +0100",
		"Received: from sender.example.net (sender.example.net [45.33.32.156]) by edge.example.org; Mon, 3 Nov 2025 18:23:01 +0100",
		"", "b"))
	got := Extract(e, ExtractOptions{TrustedRelays: []netip.Prefix{netip.MustParsePrefix("20.0.0.0/8")}})
	var relays []string
	for _, o := range got {
		if o.HasTag(TagExternalRelay) {
			relays = append(relays, o.Value)
		}
	}
	if diff := cmp.Diff([]string{"45.33.32.156"}, relays); diff != "" {
		t.Errorf("external relays (-want +got):\n%s", diff)
	}
}

func TestRules(t *testing.T) {
	t.Parallel()
	allow, err := ParseRules([]string{"Example.ORG", "*.cdn.example.net"}, []string{"10.0.0.0/8", "192.0.2.7"}, []string{`^https://safe\.`})
	if err != nil {
		t.Fatal(err)
	}
	deny, err := ParseRules(nil, nil, []string{`phish`})
	if err != nil {
		t.Fatal(err)
	}
	text := "mail.example.org https://safe.example.com/x https://phish.example.org/ a.cdn.example.net 10.1.1.1 192.0.2.7 192.0.2.8 boss@example.org"
	got := strs(ExtractText(text, ExtractOptions{Allow: allow, Deny: deny}))
	// The URL on safe. is allowed by its pattern but its host is not; the
	// phish. host is under an allowed domain but denied by a pattern.
	want := []string{
		"fqdn:safe.example.com [src:text]",
		"domain:example.com [src:text]",
		"url:https://phish.example.org/ [src:text deny-list]",
		"fqdn:phish.example.org [src:text deny-list]",
		"domain:example.net [src:text]",
		"ip:192.0.2.8 [src:text private]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ExtractText with rules (-want +got):\n%s", diff)
	}

	for _, bad := range [][3][]string{
		{nil, {"10.0.0.0/33"}, nil},
		{nil, {"not-an-ip"}, nil},
		{nil, nil, {"("}},
	} {
		if _, err := ParseRules(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("ParseRules(%q) succeeded", bad)
		}
	}
	r := Rules{Patterns: []*regexp.Regexp{regexp.MustCompile("x")}}
	if !r.Match(Observable{Type: TypeOther, Value: "x"}) || (Rules{}).Match(Observable{Type: TypeIP, Value: "1.2.3.4"}) {
		t.Error("Match wrong")
	}
}

func TestRefang(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"hxxp://a.example/x":           "http://a.example/x",
		"HXXPS[:]//a[.]example":        "https://a.example",
		"fxp://files[.]example":        "ftp://files.example",
		"a(.)b{.}c[dot]d(dot)e":        "a.b.c.d.e",
		"user[@]host[.]example":        "user@host.example",
		"user (at) host (dot) example": "user@host.example",
		"a [.]b":                       "a [.]b",
		"x [dot] y":                    "x.y",
		"[.]start":                     "[.]start",
		"(at) alone":                   "(at) alone",
		"hxxpx and hxxp text":          "hxxpx and hxxp text",
		"list [1] (2) {3}":             "list [1] (2) {3}",
	}
	for in, want := range tests {
		got, _ := refang(in)
		if got != want {
			t.Errorf("refang(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidHostname(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"example.com":                    "example.com",
		"WWW.Example.COM.":               "www.example.com",
		"bücher.example.de":              "xn--bcher-kva.example.de",
		"xn--p1ai.xn--p1ai":              "xn--p1ai.xn--p1ai",
		"example.zip":                    "example.zip",
		"invoice.php":                    "",
		"co.uk":                          "",
		"localhost":                      "",
		"host.local":                     "",
		"1.2.3.4":                        "",
		"-phish-co.net.com":              "",
		"under_score.example":            "",
		"a..b.com":                       "",
		strings.Repeat("a", 64) + ".com": "",
	}
	for in, want := range tests {
		got, ok := validHostname(in)
		if got != want || ok != (want != "") {
			t.Errorf("validHostname(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestHTMLText(t *testing.T) {
	t.Parallel()
	got := HTMLText("<html><head><title>T</title><style>p{}</style></head><body><p>Hello <b>wor</b>ld &amp; more</p><!-- hidden --><div>next&nbsp;line</div><script>x()</script></body></html>")
	if want := "Hello world & more\nnext line"; got != want {
		t.Errorf("HTMLText = %q, want %q", got, want)
	}
}
