package observable

import (
	"bufio"
	"bytes"
	"io"
	"sync"
)

// lineBufSize is the read buffer of a lineReader. Lines longer than this
// are read in chunks; only the first chunk of a line can be a multipart
// delimiter, which is at most 70 characters plus padding.
const lineBufSize = 32 << 10

// lineReader reads a message line by line and knows the boundaries of the
// multiparts currently open, so that the body of each part ends at the
// first delimiter line of any of them. This is what makes the parser
// tolerant: a part whose multipart was never closed still ends where an
// enclosing multipart's delimiter appears.
type lineReader struct {
	br *bufio.Reader
	// bounds holds the boundaries of the open multiparts, outermost first.
	bounds []string
	// held is a line given back with unread, returned by the next call to
	// next. It always starts a line.
	held    []byte
	hasHeld bool
	// midLine is set while a line longer than the buffer is being read.
	midLine bool
	err     error
}

// bufioPool recycles the read buffers of lineReaders.
var bufioPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, lineBufSize) }}

func newLineReader(r io.Reader) *lineReader {
	br := bufioPool.Get().(*bufio.Reader)
	br.Reset(r)
	return &lineReader{br: br}
}

// release returns the read buffer to the pool. The lineReader, and any
// slice it returned, must not be used afterwards.
func (l *lineReader) release() {
	if l.br != nil {
		l.br.Reset(nil)
		bufioPool.Put(l.br)
		l.br = nil
	}
}

// next returns the next line with its terminator, or the next chunk of an
// overlong line, and whether it starts a line. The slice is valid until the
// next call. At the end of input it returns io.EOF (or the read error).
func (l *lineReader) next() ([]byte, bool, error) {
	if l.hasHeld {
		l.hasHeld = false
		return l.held, true, nil
	}
	if l.err != nil {
		return nil, false, l.err
	}
	start := !l.midLine
	line, err := l.br.ReadSlice('\n')
	switch err {
	case nil:
		l.midLine = false
	case bufio.ErrBufferFull:
		l.midLine = true
	default:
		l.err = err
		l.midLine = false
		if len(line) == 0 {
			return nil, false, err
		}
	}
	return line, start, nil
}

// unread gives back a line that starts a line, to be returned again by next.
func (l *lineReader) unread(line []byte) {
	l.held = append(l.held[:0], line...)
	l.hasHeld = true
}

// peek returns the next line without consuming it, or false at the end of
// input.
func (l *lineReader) peek() ([]byte, bool) {
	line, start, err := l.next()
	if err != nil {
		return nil, false
	}
	if !start {
		// Cannot happen: callers peek only at line starts.
		return line, true
	}
	l.unread(line)
	return l.held, true
}

// readErr returns the read error that ended the input, if it was not the
// normal end of input.
func (l *lineReader) readErr() error {
	if l.err == io.EOF {
		return nil
	}
	return l.err
}

func (l *lineReader) push(boundary string) { l.bounds = append(l.bounds, boundary) }

func (l *lineReader) pop() { l.bounds = l.bounds[:len(l.bounds)-1] }

// delimiter reports whether line is a delimiter of one of the open
// multiparts: the index of that multipart in l.bounds (the innermost when
// several match) and whether it is a close delimiter. It returns -1 for any
// other line. As in RFC 2046, a delimiter line is "--" and the boundary,
// "--" for the close delimiter, then only white space.
func (l *lineReader) delimiter(line []byte) (level int, final bool) {
	if len(l.bounds) == 0 || len(line) < 3 || line[0] != '-' || line[1] != '-' {
		return -1, false
	}
	for i := len(l.bounds) - 1; i >= 0; i-- {
		b := l.bounds[i]
		if len(line)-2 < len(b) || string(line[2:2+len(b)]) != b {
			continue
		}
		rest := line[2+len(b):]
		fin := false
		if len(rest) >= 2 && rest[0] == '-' && rest[1] == '-' {
			fin = true
			rest = rest[2:]
		}
		if isBlank(rest) {
			return i, fin
		}
	}
	return -1, false
}

// isBlank reports whether b holds only spaces, tabs and line terminators.
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// discard skips lines up to the next delimiter of an open multipart (left
// unread) or the end of input.
func (l *lineReader) discard() {
	for {
		line, start, err := l.next()
		if err != nil {
			return
		}
		if start && line[0] == '-' {
			if lvl, _ := l.delimiter(line); lvl >= 0 {
				l.unread(line)
				return
			}
		}
	}
}

// body returns a reader of the raw bytes up to the next delimiter of an
// open multipart, or the end of input. The line break before a delimiter
// belongs to the delimiter and is not returned.
func (l *lineReader) body() *bodyReader {
	return &bodyReader{l: l}
}

// bodyReader reads a part's raw body from a lineReader. Each line's
// terminator is held back until the next line shows it is not followed by a
// delimiter.
type bodyReader struct {
	l      *lineReader
	pre    []byte // terminator of the previous line, being returned
	cur    []byte // rest of the current line, being returned
	preBuf [2]byte
	term   [2]byte
	nterm  int
	err    error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(b.pre) > 0 {
			c := copy(p[n:], b.pre)
			b.pre = b.pre[c:]
			n += c
			continue
		}
		if len(b.cur) > 0 {
			c := copy(p[n:], b.cur)
			b.cur = b.cur[c:]
			n += c
			continue
		}
		if b.err != nil {
			break
		}
		line, start, err := b.l.next()
		if err != nil {
			// The end of input: the last line break is part of the body.
			b.err = err
			b.flushTerm()
			continue
		}
		if start && line[0] == '-' {
			if lvl, _ := b.l.delimiter(line); lvl >= 0 {
				b.l.unread(line)
				b.err = io.EOF
				b.nterm = 0
				continue
			}
		}
		b.flushTerm()
		t := 0
		if line[len(line)-1] == '\n' {
			t = 1
			if len(line) > 1 && line[len(line)-2] == '\r' {
				t = 2
			}
		}
		copy(b.term[:], line[len(line)-t:])
		b.nterm = t
		b.cur = line[:len(line)-t]
	}
	if n == 0 && b.err != nil {
		return 0, b.err
	}
	return n, nil
}

func (b *bodyReader) flushTerm() {
	if b.nterm > 0 {
		b.preBuf = b.term
		b.pre = b.preBuf[:b.nterm]
		b.nterm = 0
	}
}

// rawField is a header field as read: its name and its value with folding
// line breaks kept and the final line break removed.
type rawField struct {
	name string
	raw  []byte
}

// readHeader reads header fields up to the empty line that ends them, a
// delimiter line, a line that is not a header field, or the end of input.
// Problems are reported to bad. At most max bytes of fields are kept.
func (l *lineReader) readHeader(max int, bad func(DefectKind, string)) []rawField {
	var (
		fields  []rawField
		total   int
		first   = true
		skip    bool // over the size limit: read but do not keep
		cur     = -1 // index of the field being continued
		tooLong bool
	)
	appendTo := func(line []byte) {
		if skip || cur < 0 {
			return
		}
		if total+len(line) > max {
			skip = true
			if !tooLong {
				tooLong = true
				bad(DefectHeaderTooLarge, "")
			}
			return
		}
		total += len(line)
		fields[cur].raw = append(fields[cur].raw, line...)
	}
	for {
		line, start, err := l.next()
		if err != nil {
			break
		}
		if !start {
			appendTo(line)
			continue
		}
		if isBlank(line) && (line[0] == '\n' || line[0] == '\r') {
			break
		}
		if line[0] == '-' {
			if lvl, _ := l.delimiter(line); lvl >= 0 {
				l.unread(line)
				break
			}
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur >= 0 || skip {
				appendTo(line)
				continue
			}
			trimmed := bytes.TrimLeft(line, " \t")
			bad(DefectHeaderContinuation, string(bytes.TrimRight(trimmed, "\r\n")))
			if _, _, ok := splitField(trimmed); !ok {
				continue
			}
			line = trimmed
		}
		if first && bytes.HasPrefix(line, []byte("From ")) {
			// An mbox separator line before the header.
			first = false
			continue
		}
		first = false
		name, value, ok := splitField(line)
		if !ok {
			if isBlank(line) {
				// A line of white space only: take it as the end of the header.
				break
			}
			bad(DefectMissingHeaderEnd, truncate(string(bytes.TrimRight(line, "\r\n")), 80))
			l.unread(line)
			break
		}
		if skip {
			cur = -1
			continue
		}
		if total+len(line) > max {
			skip = true
			cur = -1
			if !tooLong {
				tooLong = true
				bad(DefectHeaderTooLarge, "")
			}
			continue
		}
		total += len(line)
		fields = append(fields, rawField{name: name, raw: append([]byte(nil), value...)})
		cur = len(fields) - 1
	}
	for i := range fields {
		fields[i].raw = bytes.TrimRight(fields[i].raw, "\r\n")
	}
	return fields
}

// splitField splits a header line into its field name and the value after
// the colon. Spaces between the name and the colon are tolerated.
func splitField(line []byte) (string, []byte, bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return "", nil, false
	}
	name := bytes.TrimRight(line[:i], " \t")
	if len(name) == 0 {
		return "", nil, false
	}
	for _, c := range name {
		if c < 33 || c > 126 {
			return "", nil, false
		}
	}
	return string(name), line[i+1:], true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
