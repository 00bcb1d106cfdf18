package observable

import "unicode/utf8"

// oleMagic starts an OLE compound file, the format of Outlook .msg files.
var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// minStringRun is the shortest run of characters stringsBuffer keeps.
const minStringRun = 6

// stringsBuffer keeps the printable text of binary content, as the Unix
// strings tool does: runs of ASCII characters and of UTF-16LE characters
// below U+0100 (Outlook .msg files store their text so), at least
// minStringRun long, one per line, up to max bytes in all.
type stringsBuffer struct {
	max       int64
	buf       []byte
	truncated bool

	ascii []byte
	u16   []rune
	// n counts the bytes seen; u16End is the value of n just after the
	// last UTF-16 character of the current run; prev is the previous byte.
	n, u16End int64
	prev      byte
}

func isPrintByte(c byte) bool { return (c >= 0x20 && c < 0x7F) || c == '\t' }

func (s *stringsBuffer) Write(b []byte) (int, error) {
	for _, c := range b {
		if isPrintByte(c) {
			s.ascii = append(s.ascii, c)
		} else {
			s.flushASCII()
		}
		// A UTF-16LE character: a low byte, then 0x00, at an offset
		// continuing the current run.
		if c == 0 && s.n > 0 && (isPrintByte(s.prev) || s.prev >= 0xA0) {
			if len(s.u16) > 0 && s.n-1 != s.u16End {
				s.flushU16()
			}
			s.u16 = append(s.u16, rune(s.prev))
			s.u16End = s.n + 1
		} else if len(s.u16) > 0 && s.n > s.u16End {
			s.flushU16()
		}
		s.prev = c
		s.n++
	}
	return len(b), nil
}

func (s *stringsBuffer) flushASCII() {
	if len(s.ascii) >= minStringRun {
		s.keep(s.ascii)
	}
	s.ascii = s.ascii[:0]
}

func (s *stringsBuffer) flushU16() {
	if len(s.u16) >= minStringRun {
		var b []byte
		for _, r := range s.u16 {
			b = utf8.AppendRune(b, r)
		}
		s.keep(b)
	}
	s.u16 = s.u16[:0]
}

func (s *stringsBuffer) keep(run []byte) {
	if s.truncated {
		return
	}
	if int64(len(s.buf)+len(run)+1) > s.max {
		s.truncated = true
		return
	}
	s.buf = append(s.buf, run...)
	s.buf = append(s.buf, '\n')
}

// close flushes the runs in progress.
func (s *stringsBuffer) close() {
	s.flushASCII()
	s.flushU16()
}
