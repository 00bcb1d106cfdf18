package observable

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkParseCorpus parses every email of the shared corpus once per
// iteration and reports the throughput in MB/s and emails/s.
func BenchmarkParseCorpus(b *testing.B) {
	msgs := corpusMessages(b)
	var total int64
	for _, m := range msgs {
		total += int64(len(m.raw))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, m := range msgs {
			if _, err := ParseEmail(bytes.NewReader(m.raw)); err != nil {
				b.Fatal(err)
			}
		}
		n++
	}
	b.ReportMetric(float64(n*len(msgs))/b.Elapsed().Seconds(), "emails/s")
}

// BenchmarkParseExtractCorpus measures the whole pipeline: ParseEmail
// then Extract, over the shared corpus.
func BenchmarkParseExtractCorpus(b *testing.B) {
	msgs := corpusMessages(b)
	var total int64
	for _, m := range msgs {
		total += int64(len(m.raw))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, m := range msgs {
			e, err := ParseEmail(bytes.NewReader(m.raw))
			if err != nil {
				b.Fatal(err)
			}
			Extract(e, ExtractOptions{Recipients: true})
		}
		n++
	}
	b.ReportMetric(float64(n*len(msgs))/b.Elapsed().Seconds(), "emails/s")
}

// BenchmarkParseLargeAttachment measures the streaming path: one 16 MiB
// base64 attachment, decoded and hashed.
func BenchmarkParseLargeAttachment(b *testing.B) {
	const size = 16 << 20
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseEmail(largeMessage(size)); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = io.EOF
