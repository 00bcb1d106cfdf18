package observable

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"

	htmlcharset "golang.org/x/net/html/charset"
)

// Defaults for the parse limits.
const (
	// DefaultMaxTextSize is the default limit on the decoded size of one
	// text part kept in memory (see [WithMaxTextSize]).
	DefaultMaxTextSize = 8 << 20
	// DefaultMaxHeaderSize is the default limit on the size of one header
	// block (see [WithMaxHeaderSize]).
	DefaultMaxHeaderSize = 1 << 20
	// DefaultMaxDepth is the default limit on the nesting of multiparts and
	// attached messages (see [WithMaxDepth]).
	DefaultMaxDepth = 32
)

// AttachmentFunc is called by [ParseEmail] for each attached file, at the
// moment the parse reaches it, with a reader of its decoded content: this
// is how a file is uploaded or scanned without being held in memory.
//
// The function runs on the goroutine that called ParseEmail, one file at a
// time. It may read all, part or none of content; ParseEmail reads the rest
// to compute the attachment's size and hashes, which are set on a after the
// function returns (they are zero during the call). The reader is valid
// only during the call. An error stops the parse: ParseEmail returns it,
// wrapped.
//
// Files inside attached messages are passed too, with their own paths. An
// attached message itself is not passed, because its bytes are being
// parsed as they stream; stream its original bytes with [OpenAttachment]
// and its path when they are needed (to upload it as a .eml file).
type AttachmentFunc func(a *Attachment, content io.Reader) error

// Option configures [ParseEmail] and [OpenAttachment].
type Option func(*config) error

type config struct {
	onFile    AttachmentFunc
	maxText   int64
	maxHeader int
	maxDepth  int
}

func defaultConfig() config {
	return config{maxText: DefaultMaxTextSize, maxHeader: DefaultMaxHeaderSize, maxDepth: DefaultMaxDepth}
}

// WithAttachmentFunc has fn called for each attached file during the parse
// (see [AttachmentFunc]).
func WithAttachmentFunc(fn AttachmentFunc) Option {
	return func(c *config) error {
		if fn == nil {
			return errors.New("observable: nil AttachmentFunc")
		}
		c.onFile = fn
		return nil
	}
}

// WithMaxTextSize sets how many decoded bytes of each text part (body or
// text-like attachment) are kept in memory; the rest is read and dropped,
// and the part is marked truncated. The default is [DefaultMaxTextSize].
// Attachment content other than text is never kept, whatever its size.
func WithMaxTextSize(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("observable: text size limit %d is not positive", n)
		}
		c.maxText = n
		return nil
	}
}

// WithMaxHeaderSize sets how many bytes of one header block are kept; the
// rest of the block is skipped with a defect. The default is
// [DefaultMaxHeaderSize].
func WithMaxHeaderSize(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("observable: header size limit %d is not positive", n)
		}
		c.maxHeader = n
		return nil
	}
}

// WithMaxDepth sets how deeply multiparts and attached messages may nest
// before the parser stops descending and keeps the deeper part whole as an
// attachment. The default is [DefaultMaxDepth]. Pass the same value to
// [OpenAttachment] as to [ParseEmail], since it changes part paths.
func WithMaxDepth(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("observable: depth limit %d is less than 1", n)
		}
		c.maxDepth = n
		return nil
	}
}

func newConfig(opts []Option) (config, error) {
	c := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&c); err != nil {
			return c, err
		}
	}
	return c, nil
}

// ParseEmail reads a message (RFC 5322 with MIME) from r and returns its
// parsed form. It reads r once, to the end, holding in memory only the
// header, the text parts (up to the text limit) and the text of text-like
// attachments: attachments are hashed as they stream by and can be handed
// to a function with [WithAttachmentFunc].
//
// Malformed input is not an error: ParseEmail reads what can be read, the
// way mail readers do, and records each problem in [Email.Defects]. The
// error is non-nil only when reading r fails, an AttachmentFunc fails, or
// an option is invalid; the Email returned with a read or AttachmentFunc
// error holds what was parsed before it.
func ParseEmail(r io.Reader, opts ...Option) (*Email, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	p := &parser{cfg: cfg}
	cr := &countingReader{r: r}
	l := newLineReader(cr)
	e, err := p.message(l, "", 0)
	l.release()
	e.Size = cr.n
	e.Defects = p.defects
	return e, err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// errStopped ends a parse in find mode once the caller is done.
var errStopped = errors.New("observable: stopped")

// parser walks a message. In build mode it fills Emails; in find mode
// (OpenAttachment) it skips everything but the part at target, whose
// content it hands to yield.
type parser struct {
	cfg     config
	defects []Defect

	// hdrCharset is the charset declared by the Content-Type of the
	// message being read, used for header bytes that are not UTF-8.
	hdrCharset string

	find   bool
	target string
	yield  func(io.Reader) bool
}

func (p *parser) bad(path string, kind DefectKind, detail string) {
	if p.find {
		return
	}
	p.defects = append(p.defects, Defect{Path: path, Kind: kind, Detail: detail})
}

func (p *parser) badAt(path string) func(DefectKind, string) {
	return func(k DefectKind, d string) { p.bad(path, k, d) }
}

func joinPath(prefix string, i int) string {
	if prefix == "" {
		return strconv.Itoa(i)
	}
	return prefix + "." + strconv.Itoa(i)
}

// onPath reports whether the part at path is the target or contains it.
func (p *parser) onPath(path string) bool {
	return path == "" || p.target == path || strings.HasPrefix(p.target, path+".")
}

// message parses a message (the outermost one or an attached one) whose
// parts are numbered under prefix.
func (p *parser) message(l *lineReader, prefix string, depth int) (*Email, error) {
	var fields []rawField
	ole := isOLE(l)
	if !ole {
		fields = l.readHeader(p.cfg.maxHeader, p.badAt(prefix))
	}
	e := &Email{}
	if !p.find {
		saved := p.hdrCharset
		defer func() { p.hdrCharset = saved }()
		p.hdrCharset = declaredCharset(fields)
		p.fillHeader(e, fields, prefix)
	}
	ph := p.partHeader(fields, prefix, "text/plain")
	var err error
	if ole {
		// Not MIME at all: an Outlook .msg file, kept whole.
		p.bad(prefix, DefectNotMIME, "an Outlook .msg file (OLE compound document), kept whole as an attachment")
		ph = &partHeader{mediaType: "application/vnd.ms-outlook", params: map[string]string{}, forceFile: true}
	}
	if strings.HasPrefix(ph.mediaType, "multipart/") {
		err = p.multipart(l, ph, prefix, prefix, e, depth)
	} else {
		err = p.leaf(l, ph, joinPath(prefix, 1), e, depth)
	}
	if err == nil {
		err = l.readErr()
	}
	return e, err
}

// isOLE reports whether the input continues with an OLE compound file.
func isOLE(l *lineReader) bool {
	if l.hasHeld {
		return bytes.HasPrefix(l.held, oleMagic)
	}
	b, _ := l.br.Peek(len(oleMagic))
	return bytes.Equal(b, oleMagic)
}

// declaredCharset returns the charset parameter of the first Content-Type
// field, if the charset is known.
func declaredCharset(fields []rawField) string {
	for _, f := range fields {
		if strings.EqualFold(f.name, "Content-Type") {
			_, params, _ := parseMediaType(string(unfold(f.raw)))
			if cs := params["charset"]; cs != "" && knownCharset(cs) {
				return cs
			}
			return ""
		}
	}
	return ""
}

// multipart parses a multipart entity found at path, whose parts are
// numbered under childPrefix.
func (p *parser) multipart(l *lineReader, ph *partHeader, path, childPrefix string, e *Email, depth int) error {
	boundary := ph.params["boundary"]
	if boundary == "" {
		p.bad(path, DefectNoBoundary, ph.mediaType+" without a boundary: body read as text")
		return p.leaf(l, ph.asText(), joinPath(childPrefix, 1), e, depth)
	}
	if depth >= p.cfg.maxDepth {
		p.bad(path, DefectTooDeep, "multipart kept as an attachment")
		return p.leaf(l, ph.asOpaque(), joinPath(childPrefix, 1), e, depth)
	}
	l.push(boundary)
	level := len(l.bounds) - 1
	err := p.parts(l, ph, path, childPrefix, e, depth, level)
	l.pop()
	return err
}

// parts reads the preamble, the parts and the epilogue of a multipart
// whose boundary is open at level.
func (p *parser) parts(l *lineReader, ph *partHeader, path, childPrefix string, e *Email, depth, level int) error {
	// The preamble. It is kept (up to the text limit) in case the boundary
	// never appears and the preamble turns out to be the whole body.
	preamble, truncated := p.skipPreamble(l)
	line, ok := l.peek()
	if !ok {
		p.bad(path, DefectBoundaryNotFound, "boundary "+strconv.Quote(truncate(ph.params["boundary"], 40))+" never appears: body read as text")
		if !p.find && len(bytes.TrimSpace(preamble)) > 0 {
			cs := ph.params["charset"]
			e.Bodies = append(e.Bodies, &Body{
				Path:        joinPath(childPrefix, 1),
				ContentType: "text/plain",
				Charset:     cs,
				Content:     p.textOf(preamble, cs, false, path),
				Truncated:   truncated,
			})
		}
		return nil
	}
	digest := ph.mediaType == "multipart/digest"
	for i := 1; ; i++ {
		lvl, final := l.delimiter(line)
		if lvl < level {
			p.bad(path, DefectMissingCloseBoundary, "")
			return nil
		}
		l.next() // the delimiter line
		if final {
			// The epilogue: up to a delimiter of an enclosing multipart.
			l.bounds = l.bounds[:level]
			l.discard()
			l.bounds = append(l.bounds, ph.params["boundary"])
			return nil
		}
		childPath := joinPath(childPrefix, i)
		defType := "text/plain"
		if digest {
			defType = "message/rfc822"
		}
		fields := l.readHeader(p.cfg.maxHeader, p.badAt(childPath))
		ch := p.partHeader(fields, childPath, defType)
		if err := p.entity(l, ch, childPath, e, depth+1); err != nil {
			return err
		}
		if line, ok = l.peek(); !ok {
			p.bad(path, DefectMissingCloseBoundary, "")
			return nil
		}
	}
}

// skipPreamble reads the lines before the first delimiter, keeping up to
// the text limit of them.
func (p *parser) skipPreamble(l *lineReader) ([]byte, bool) {
	if p.find {
		l.discard()
		return nil, false
	}
	return readCapped(l.body(), p.cfg.maxText)
}

// entity parses the part at path inside a multipart.
func (p *parser) entity(l *lineReader, ph *partHeader, path string, e *Email, depth int) error {
	if strings.HasPrefix(ph.mediaType, "multipart/") {
		return p.multipart(l, ph, path, path, e, depth)
	}
	return p.leaf(l, ph, path, e, depth)
}

// leaf handles a part that is not a multipart: a body, a file or an
// attached message.
func (p *parser) leaf(l *lineReader, ph *partHeader, path string, e *Email, depth int) error {
	if p.find {
		return p.findLeaf(l, ph, path, depth)
	}
	switch ph.kind() {
	case kindBody:
		return p.bodyPart(l, ph, path, e)
	case kindMessage:
		if depth < p.cfg.maxDepth {
			return p.messagePart(l, ph, path, e, depth)
		}
		p.bad(path, DefectTooDeep, "attached message kept as a file")
	}
	return p.filePart(l, ph, path, e)
}

func (p *parser) findLeaf(l *lineReader, ph *partHeader, path string, depth int) error {
	if !p.onPath(path) {
		l.discard()
		return nil
	}
	r, _ := transferDecoder(ph.cte, l.body())
	if path == p.target {
		if !p.yield(r) {
			return errStopped
		}
		_, err := io.Copy(io.Discard, r)
		return err
	}
	if ph.kind() != kindMessage || depth >= p.cfg.maxDepth {
		_, err := io.Copy(io.Discard, r)
		return err
	}
	inner := newLineReader(r)
	_, err := p.message(inner, path, depth+1)
	if err != nil {
		return err
	}
	inner.release()
	_, err = io.Copy(io.Discard, r)
	return err
}

func (p *parser) decoded(l *lineReader, ph *partHeader) (io.Reader, decodeDefect) {
	return transferDecoder(ph.cte, l.body())
}

func (p *parser) reportDecode(dd decodeDefect, path string) {
	if dd == nil {
		return
	}
	if k, d, ok := dd.defect(); ok {
		p.bad(path, k, d)
	}
}

func (p *parser) bodyPart(l *lineReader, ph *partHeader, path string, e *Email) error {
	r, dd := p.decoded(l, ph)
	data, truncated := readCapped(r, p.cfg.maxText)
	if err := l.readErr(); err != nil {
		return err
	}
	p.reportDecode(dd, path)
	if truncated {
		p.bad(path, DefectTextTruncated, "kept the first "+strconv.FormatInt(p.cfg.maxText, 10)+" bytes")
	}
	if len(data) == 0 {
		return nil // an empty part adds nothing to the text
	}
	cs := ph.params["charset"]
	e.Bodies = append(e.Bodies, &Body{
		Path:        path,
		ContentType: ph.mediaType,
		Charset:     cs,
		Content:     p.textOf(data, cs, ph.mediaType == "text/html", path),
		Truncated:   truncated,
	})
	return nil
}

func (p *parser) filePart(l *lineReader, ph *partHeader, path string, e *Email) error {
	a := ph.attachment(path)
	r, dd := p.decoded(l, ph)
	var (
		h    = newHashes()
		text *capBuffer
		strs *stringsBuffer
		w    io.Writer = h
	)
	switch {
	case ph.textLike():
		text = &capBuffer{max: p.cfg.maxText}
		w = io.MultiWriter(h, text)
	case ph.isOutlookMsg():
		strs = &stringsBuffer{max: p.cfg.maxText}
		w = io.MultiWriter(h, strs)
	}
	tee := io.TeeReader(r, w)
	if p.cfg.onFile != nil {
		if err := p.cfg.onFile(a, tee); err != nil {
			e.Attachments = append(e.Attachments, a)
			return fmt.Errorf("observable: attachment %s (%s): %w", path, a.SafeName, err)
		}
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return err
	}
	if err := l.readErr(); err != nil {
		return err
	}
	p.reportDecode(dd, path)
	h.setOn(a)
	switch {
	case text != nil:
		a.Text = p.textOf(text.buf, ph.params["charset"], ph.isHTML(), path)
		a.TextTruncated = text.truncated
	case strs != nil:
		strs.close()
		a.Text = string(strs.buf)
		a.TextTruncated = strs.truncated
	}
	e.Attachments = append(e.Attachments, a)
	return nil
}

func (p *parser) messagePart(l *lineReader, ph *partHeader, path string, e *Email, depth int) error {
	r, dd := p.decoded(l, ph)
	h := newHashes()
	tee := io.TeeReader(r, h)
	inner := newLineReader(tee)
	sub, err := p.message(inner, path, depth+1)
	inner.release()
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return err
	}
	p.reportDecode(dd, path)
	sub.Size = h.n
	a := ph.attachment(path)
	a.Message = sub
	if a.Filename == "" {
		a.SafeName = messageFileName(sub.Subject, path)
	}
	h.setOn(a)
	e.Attachments = append(e.Attachments, a)
	return nil
}

// textOf converts the bytes of a text part to UTF-8, recording charset
// problems. An HTML part without a MIME charset may declare one in a meta
// element.
func (p *parser) textOf(data []byte, cs string, html bool, path string) string {
	if cs == "" && html {
		if _, name, certain := htmlcharset.DetermineEncoding(data, "text/html"); certain {
			cs = name
		}
	}
	if cs != "" && mislabelledUTF8(data, cs) {
		p.bad(path, DefectCharset, "declared "+strconv.Quote(truncate(cs, 40))+" but the text is UTF-8: read as UTF-8")
		return string(data)
	}
	text, ok := decodeCharset(data, cs)
	if !ok {
		switch n := normalizeCharset(cs); {
		case n == "utf-8" || n == "utf8":
			p.bad(path, DefectCharset, "invalid UTF-8 sequences replaced with U+FFFD")
		case cs != "" && !knownCharset(cs):
			p.bad(path, DefectCharset, "unknown charset "+strconv.Quote(truncate(cs, 40))+": read as UTF-8 where valid, else as windows-1252")
		default:
			p.bad(path, DefectCharset, "8-bit text that is not "+strconv.Quote(truncate(cs, 40))+": read as UTF-8 where valid, else as windows-1252")
		}
	}
	return text
}

// readCapped reads r to the end and returns up to max bytes of it, and
// whether there was more.
func readCapped(r io.Reader, max int64) ([]byte, bool) {
	c := &capBuffer{max: max}
	c.ReadFrom(r)
	return c.buf, c.truncated
}

// capBuffer keeps the first max bytes written to it.
type capBuffer struct {
	max       int64
	buf       []byte
	truncated bool
}

// ReadFrom reads r to the end straight into the buffer, keeping the first
// max bytes.
func (c *capBuffer) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for int64(len(c.buf)) < c.max {
		if len(c.buf) == cap(c.buf) {
			n := min(max(2*cap(c.buf), 4096), int(c.max))
			c.buf = append(make([]byte, 0, n), c.buf...)
		}
		m, err := r.Read(c.buf[len(c.buf):min(cap(c.buf), int(c.max))])
		c.buf = c.buf[:len(c.buf)+m]
		total += int64(m)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
	rest, err := io.Copy(io.Discard, r)
	if rest > 0 {
		c.truncated = true
	}
	return total + rest, err
}

func (c *capBuffer) Write(b []byte) (int, error) {
	room := c.max - int64(len(c.buf))
	if int64(len(b)) > room {
		c.truncated = true
		c.buf = append(c.buf, b[:room]...)
	} else {
		c.buf = append(c.buf, b...)
	}
	return len(b), nil
}

// hashes computes the size and digests of an attachment as it streams.
type hashes struct {
	md5, sha1, sha256 hash.Hash
	n                 int64
}

func newHashes() *hashes {
	return &hashes{md5: md5.New(), sha1: sha1.New(), sha256: sha256.New()}
}

func (h *hashes) Write(b []byte) (int, error) {
	h.md5.Write(b)
	h.sha1.Write(b)
	h.sha256.Write(b)
	h.n += int64(len(b))
	return len(b), nil
}

func (h *hashes) setOn(a *Attachment) {
	var buf [sha256.Size]byte
	a.Size = h.n
	a.MD5 = hex.EncodeToString(h.md5.Sum(buf[:0]))
	a.SHA1 = hex.EncodeToString(h.sha1.Sum(buf[:0]))
	a.SHA256 = hex.EncodeToString(h.sha256.Sum(buf[:0]))
}
