package mailkit

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
)

// BigMessage is an email with one large attachment, generated as it is
// read: reading it costs a few kilobytes whatever its size.
type BigMessage struct {
	// MessageID is the Message-ID without angle brackets, and Subject the
	// subject.
	MessageID string
	Subject   string
	// Size is the exact length of the raw message.
	Size int64
	// Attachment describes the attachment, its SHA-256 included.
	Attachment Attachment

	head, tail string
	seed       uint64
}

// b64Line is how many bytes one 76-character base64 line encodes.
const b64Line = 57

// Big returns an email carrying an attachment of size bytes of
// pseudo-random content drawn from seed. Computing the attachment's SHA-256
// reads the content once.
func Big(size int64, seed uint64) (*BigMessage, error) {
	if size <= 0 {
		return nil, fmt.Errorf("mailkit: attachment size %d is not positive", size)
	}
	name := fmt.Sprintf("disk-image-%d.bin", seed)
	b := &BigMessage{
		MessageID: fmt.Sprintf("big-%d-%d@corp.example", size, seed),
		Subject:   fmt.Sprintf("Suspicious disk image (%d MB) from a user's workstation", size>>20),
		seed:      seed,
	}
	date := time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC).Format(time.RFC1123Z)
	b.head = crlf(fmt.Sprintf(`From: Bob Nguyen <bob.nguyen@corp.example>
To: SOC <soc@corp.example>
Subject: %s
Date: %s
Message-ID: <%s>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="big-outer"

--big-outer
Content-Type: text/plain; charset=utf-8

The attached image came from the workstation that visited
https://dropper.malware-cdn.net/stage2 just before it started
beaconing to 203.0.113.99.

--big-outer
Content-Type: application/octet-stream; name="%s"
Content-Disposition: attachment; filename="%s"
Content-Transfer-Encoding: base64

`, b.Subject, date, b.MessageID, name, name))
	b.tail = "--big-outer--\r\n"
	encoded := 4 * ((size + 2) / 3)
	lines := (size + b64Line - 1) / b64Line
	b.Size = int64(len(b.head)) + encoded + 2*lines + int64(len(b.tail))

	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(rand.NewChaCha8(seedBytes(seed)), size)); err != nil {
		return nil, err
	}
	b.Attachment = Attachment{Name: name, ContentType: "application/octet-stream", Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}
	return b, nil
}

func seedBytes(seed uint64) [32]byte {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	copy(s[8:], "synapse big attachment")
	return s
}

// Open returns the raw message as a stream of exactly Size bytes.
func (b *BigMessage) Open() io.Reader {
	content := io.LimitReader(rand.NewChaCha8(seedBytes(b.seed)), b.Attachment.Size)
	return io.MultiReader(strings.NewReader(b.head), &base64Lines{src: content}, strings.NewReader(b.tail))
}

// base64Lines encodes src as base64 in CRLF-ended lines of 76 characters.
type base64Lines struct {
	src  io.Reader
	in   [b64Line * 512]byte
	out  []byte
	buf  [78 * 512]byte
	done bool
}

func (r *base64Lines) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.done {
			return 0, io.EOF
		}
		n, err := io.ReadFull(r.src, r.in[:])
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			r.done = true
		} else if err != nil {
			return 0, err
		}
		out := r.buf[:0]
		for off := 0; off < n; off += b64Line {
			chunk := r.in[off:min(off+b64Line, n)]
			line := out[len(out) : len(out)+base64.StdEncoding.EncodedLen(len(chunk))]
			base64.StdEncoding.Encode(line, chunk)
			out = append(out[:len(out)+len(line)], '\r', '\n')
		}
		r.out = out
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}
