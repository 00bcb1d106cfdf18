package observable

import (
	"strings"
	"testing"
)

// adversarial lists inputs built to hit the worst cases of the parser and
// the scanners, each about 1 MiB. BenchmarkAdversarial parses them; a
// quadratic path shows up as a benchmark that takes seconds.
var adversarial = []struct {
	name string
	raw  func() string
}{
	{"encoded words without end", func() string { return "Subject: " + strings.Repeat("=?a?q?", 1<<17) + "\r\n\r\nb" }},
	{"unterminated quotes in an address", func() string { return "From: " + strings.Repeat(`"\`, 1<<18) + "\r\n\r\nb" }},
	{"parameters without semicolons", func() string {
		return "Content-Type: text/plain; " + strings.Repeat("a=1 ", 1<<18) + "\r\n\r\nb"
	}},
	{"subject of prefixes and brackets", func() string { return "Subject: " + strings.Repeat("Re: [", 1<<17) + "]\r\n\r\nb" }},
	{"long Received", func() string { return "Received: from " + strings.Repeat("a ", 1<<18) + "\r\n\r\nb" }},
	{"nested multiparts", func() string {
		var sb strings.Builder
		for i := 0; i < 1<<12; i++ {
			sb.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n")
		}
		return sb.String()
	}},
	{"many parts", func() string {
		return "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + strings.Repeat("--b\r\n\r\nx\r\n", 1<<16)
	}},
	{"text of at signs", func() string { return "\r\n" + strings.Repeat("a@b.com@", 1<<17) }},
	{"text of schemes", func() string { return "\r\n" + strings.Repeat("http://", 1<<17) }},
	{"closing brackets after a URL", func() string { return "\r\nhttp://example.com/" + strings.Repeat(")", 1<<20) }},
	{"defang markers", func() string { return "\r\n" + strings.Repeat("a[.]", 1<<18) }},
	{"dotted words", func() string { return "\r\n" + strings.Repeat("a.b.c.d.e.f.g.h ", 1<<16) }},
	{"HTML links", func() string {
		return "Content-Type: text/html\r\n\r\n" + strings.Repeat(`<a href="http://a.example.com/">http://b.example.org/</a>`, 1<<14)
	}},
}

func BenchmarkAdversarial(b *testing.B) {
	for _, a := range adversarial {
		raw := a.raw()
		b.Run(a.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				e, err := ParseEmail(strings.NewReader(raw))
				if err != nil {
					b.Fatal(err)
				}
				Extract(e, ExtractOptions{})
			}
		})
	}
}
