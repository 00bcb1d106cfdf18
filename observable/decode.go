package observable

import (
	"encoding/base64"
	"io"
	"strings"
	"sync"
)

// transferDecoder wraps r in a decoder for the Content-Transfer-Encoding
// cte. Unknown encodings are read as is and reported. The decoders are
// lenient, as mail readers are: invalid input is skipped or kept, reported
// through the returned decoder's defect method after the content has been
// read, and never stops the parse.
func transferDecoder(cte string, r io.Reader) (io.Reader, decodeDefect) {
	switch normalizeCTE(cte) {
	case "base64":
		d := &base64Reader{r: r}
		return d, d
	case "quoted-printable":
		d := &qpReader{r: r}
		return d, d
	case "uuencode":
		d := &uuReader{src: newLineReader(r)}
		return d, d
	case "identity":
		return r, nil
	default:
		return r, unknownEncoding(cte)
	}
}

// decodeDefect reports what went wrong while decoding, once the content has
// been read.
type decodeDefect interface {
	defect() (DefectKind, string, bool)
}

type unknownEncoding string

func (u unknownEncoding) defect() (DefectKind, string, bool) {
	return DefectUnknownEncoding, truncate(string(u), 40), true
}

// normalizeCTE maps the spellings of Content-Transfer-Encoding seen in the
// wild to base64, quoted-printable, uuencode, identity (7bit, 8bit, binary
// and their variants, or empty) or "" for unknown.
func normalizeCTE(cte string) string {
	c := strings.ToLower(strings.TrimSpace(cte))
	if i := strings.IndexAny(c, "; \t"); i >= 0 {
		c = c[:i]
	}
	switch c {
	case "", "7bit", "8bit", "binary", "7-bit", "8-bit", "7bits", "8bits", "8", "7":
		return "identity"
	case "base64", "base-64":
		return "base64"
	case "quoted-printable", "quoted_printable", "quotedprintable", "qp":
		return "quoted-printable"
	case "x-uuencode", "uuencode", "uue", "x-uue":
		return "uuencode"
	}
	// "8 bit" and the like.
	if strings.HasSuffix(strings.ReplaceAll(c, " ", ""), "bit") &&
		(strings.HasPrefix(c, "7") || strings.HasPrefix(c, "8")) {
		return "identity"
	}
	return ""
}

// base64Reader decodes base64 leniently: characters outside the alphabet
// are skipped, decoding stops at the padding that ends the data, and a
// final incomplete group is decoded as far as it goes. This matches what
// common mail readers, Python's email package among them, make of broken
// base64.
type base64Reader struct {
	r     io.Reader
	bufs  *decodeBuffers
	chars []byte // alphabet characters not yet decoded: fewer than 4 between reads
	out   []byte // decoded bytes not yet returned
	pads  int
	done  bool // padding seen or input exhausted
	err   error
	// what was wrong
	invalid  bool
	trailing bool
	partial  bool
}

// decodeBuffers are the input and output buffers of a decoder, pooled
// since a message may have hundreds of parts.
type decodeBuffers struct {
	in, out [4096]byte
}

var decodeBufferPool = sync.Pool{New: func() any { return new(decodeBuffers) }}

var b64Index = func() [256]byte {
	var t [256]byte
	for i := range t {
		t[i] = 0xFF
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

func (d *base64Reader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.done {
			d.release()
			if d.err != nil {
				return 0, d.err
			}
			return 0, io.EOF
		}
		d.fill()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

func (d *base64Reader) release() {
	if d.bufs != nil {
		decodeBufferPool.Put(d.bufs)
		d.bufs, d.chars = nil, nil
	}
}

// fill reads input, keeps the alphabet characters and decodes the whole
// groups among them.
func (d *base64Reader) fill() {
	if d.bufs == nil {
		d.bufs = decodeBufferPool.Get().(*decodeBuffers)
	}
	in := d.bufs.in[:]
	// Carried characters (fewer than 4) go first, then at most 3/4 of the
	// input buffer, so that the decoded output fits the output buffer.
	carry := len(d.chars)
	var keep [3]byte
	copy(keep[:], d.chars)
	n, err := d.r.Read(in[:len(in)-carry])
	// Compact in place: the alphabet characters move to the front of in,
	// after the carried ones.
	copy(in[carry:], in[:n])
	copy(in, keep[:carry])
	c := carry
	for i := carry; i < carry+n; i++ {
		ch := in[i]
		if b64Index[ch] != 0xFF {
			if d.pads > 0 {
				// Data after an incomplete padding: the padding is ignored.
				d.invalid = true
				d.pads = 0
			}
			in[c] = ch
			c++
			continue
		}
		if ch == '=' {
			// As Python's binascii does: padding counts only after two
			// characters of a group, and complete padding ends the data.
			q := c % 4
			if q < 2 {
				d.invalid = true
				continue
			}
			d.pads++
			if q+d.pads >= 4 {
				if !isSpaceOnly(in[i+1 : carry+n]) {
					d.trailing = true
				}
				d.decode(in[:c], true)
				d.done = true
				if err == nil {
					d.drain()
				} else if err != io.EOF {
					d.err = err
				}
				return
			}
			continue
		}
		if !isSpaceByte(ch) {
			d.invalid = true
		}
	}
	if err != nil {
		if err != io.EOF {
			d.err = err
		}
		d.decode(in[:c], true)
		d.done = true
		return
	}
	d.decode(in[:c], false)
}

// decode decodes the whole groups of chars into the output buffer and
// keeps the rest for the next read, or, when final, decodes an incomplete
// last group too: 2 characters give 1 byte, 3 give 2; a lone character
// cannot be decoded.
func (d *base64Reader) decode(chars []byte, final bool) {
	whole := len(chars) / 4 * 4
	out := d.bufs.out[:0]
	if whole > 0 {
		m, _ := base64.StdEncoding.Decode(d.bufs.out[:], chars[:whole])
		out = d.bufs.out[:m]
	}
	rest := chars[whole:]
	if !final {
		d.chars = append(d.chars[:0], rest...)
		d.out = out
		return
	}
	d.chars = d.chars[:0]
	var q [4]byte
	for i, ch := range rest {
		q[i] = b64Index[ch]
	}
	switch len(rest) {
	case 1:
		d.partial = true
	case 2:
		out = append(out, q[0]<<2|q[1]>>4)
		d.partial = d.pads == 0
	case 3:
		out = append(out, q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2)
		d.partial = d.pads == 0
	}
	d.out = out
}

// drain reads and drops the rest of the input after the end of the data.
func (d *base64Reader) drain() {
	buf := d.bufs.in[:]
	for {
		n, err := d.r.Read(buf)
		if !isSpaceOnly(buf[:n]) {
			d.trailing = true
		}
		if err != nil {
			if err != io.EOF {
				d.err = err
			}
			return
		}
	}
}

func (d *base64Reader) defect() (DefectKind, string, bool) {
	switch {
	case d.invalid:
		return DefectBase64, "invalid characters skipped", true
	case d.partial:
		return DefectBase64, "incomplete final group", true
	case d.trailing:
		return DefectBase64, "data after the final padding ignored", true
	}
	return "", "", false
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isSpaceOnly(b []byte) bool {
	for _, c := range b {
		if !isSpaceByte(c) {
			return false
		}
	}
	return true
}

// qpReader decodes quoted-printable leniently: soft line breaks are
// removed, "=XY" escapes decoded (in either case), and an "=" that starts
// no valid escape is kept as is.
type qpReader struct {
	r       io.Reader
	in      [4096]byte
	pend    []byte // undecided input carried to the next read: at most "=X" or "=\r"
	pendBuf [3]byte
	out     []byte
	outBuf  [4096 + 3]byte
	eof     bool
	err     error
	invalid bool
}

func (d *qpReader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.eof {
			if d.err != nil {
				return 0, d.err
			}
			return 0, io.EOF
		}
		d.fill()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

func (d *qpReader) fill() {
	// Start with the carried bytes, then as much input as fits.
	k := copy(d.in[:], d.pend)
	d.pend = nil
	n, err := d.r.Read(d.in[k:])
	n += k
	if err != nil {
		d.eof = true
		if err != io.EOF {
			d.err = err
		}
	}
	buf := d.in[:n]
	out := d.outBuf[:0]
	for i := 0; i < len(buf); i++ {
		c := buf[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		rest := buf[i+1:]
		if len(rest) < 2 && !d.eof {
			// Need more input to decide.
			d.pendBuf[0] = '='
			copy(d.pendBuf[1:], rest)
			d.pend = d.pendBuf[:1+len(rest)]
			break
		}
		// The cases below follow Python's binascii.a2b_qp, so that
		// attachment hashes agree with other tools on broken input.
		switch {
		case len(rest) == 0:
			// "=" at the end of the data: dropped.
		case rest[0] == '\n':
			i++ // soft line break
		case rest[0] == '\r':
			i++
			if len(rest) >= 2 && rest[1] == '\n' {
				i++
			}
		case rest[0] == '=':
			out = append(out, '=')
			i++
			d.invalid = true
		case len(rest) >= 2 && unhex(rest[0]) < 16 && unhex(rest[1]) < 16:
			out = append(out, unhex(rest[0])<<4|unhex(rest[1]))
			i += 2
		default:
			d.invalid = true
			out = append(out, '=')
		}
	}
	d.out = out
}

func (d *qpReader) defect() (DefectKind, string, bool) {
	if d.invalid {
		return DefectQuotedPrintable, "invalid escape kept as is", true
	}
	return "", "", false
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 255
}

// uuReader decodes uuencoded data between a "begin" line and an "end"
// line; text outside is skipped.
type uuReader struct {
	src     *lineReader
	out     []byte
	buf     []byte
	begun   bool
	done    bool
	invalid bool
}

func (d *uuReader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.done {
			if err := d.src.readErr(); err != nil {
				return 0, err
			}
			return 0, io.EOF
		}
		d.step()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

func (d *uuReader) step() {
	line, start, err := d.src.next()
	if err != nil {
		d.done = true
		return
	}
	if !start {
		d.invalid = true
		return
	}
	s := strings.TrimRight(string(line), " \t\r\n")
	if !d.begun {
		if strings.HasPrefix(s, "begin ") {
			d.begun = true
		}
		return
	}
	if s == "end" {
		d.done = true
		for {
			// Skip whatever follows.
			if _, _, err := d.src.next(); err != nil {
				return
			}
		}
	}
	if s == "" || s == "`" {
		return
	}
	n := int((s[0] - ' ') & 63)
	d.buf = d.buf[:0]
	var group [4]byte
	for i := 1; i+3 < len(s)+3 && len(d.buf) < n; i += 4 {
		for j := range group {
			if i+j < len(s) {
				group[j] = (s[i+j] - ' ') & 63
			} else {
				group[j] = 0
			}
		}
		d.buf = append(d.buf, group[0]<<2|group[1]>>4, group[1]<<4|group[2]>>2, group[2]<<6|group[3])
	}
	if len(d.buf) < n {
		d.invalid = true
		n = len(d.buf)
	}
	d.out = d.buf[:n]
}

func (d *uuReader) defect() (DefectKind, string, bool) {
	if d.invalid {
		return DefectUUEncode, "malformed line", true
	}
	return "", "", false
}
