package observable

import (
	"encoding/base64"
	"fmt"
	"io"
)

// largeChunk is the repeating content of generated attachments: 57 KiB,
// a multiple of 57 bytes so that it encodes to whole 76-character lines.
var largeChunk = func() []byte {
	b := make([]byte, 57*1024)
	for i := range b {
		b[i] = byte(i*7 + i>>11)
	}
	return b
}()

// encodeLines base64-encodes b in 76-character lines ending in CRLF.
func encodeLines(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); i += 57 {
		j := min(i+57, len(b))
		out = base64.StdEncoding.AppendEncode(out, b[i:j])
		out = append(out, '\r', '\n')
	}
	return out
}

var largeChunkEncoded = encodeLines(largeChunk)

// largeContent calls fn with the successive pieces of the content of a
// generated attachment of size bytes.
func largeContent(size int64, fn func([]byte) error) error {
	for off := int64(0); off < size; off += int64(len(largeChunk)) {
		n := min(int64(len(largeChunk)), size-off)
		if err := fn(largeChunk[:n]); err != nil {
			return err
		}
	}
	return nil
}

// largeMessage returns a reader of a message with one attachment of size
// bytes, generated on the fly through a pipe, so that the message is never
// held in memory either.
func largeMessage(size int64) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		_, err := fmt.Fprintf(pw, "From: a@example.com\r\nTo: b@example.com\r\nSubject: large\r\n"+
			"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"+
			"--b1\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n"+
			"--b1\r\nContent-Type: application/octet-stream; name=\"big.bin\"\r\n"+
			"Content-Disposition: attachment; filename=\"big.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		if err == nil {
			err = largeContent(size, func(b []byte) error {
				enc := largeChunkEncoded
				if len(b) < len(largeChunk) {
					enc = encodeLines(b)
				}
				_, err := pw.Write(enc)
				return err
			})
		}
		if err == nil {
			_, err = io.WriteString(pw, "--b1--\r\n")
		}
		pw.CloseWithError(err)
	}()
	return pr
}
