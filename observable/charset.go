package observable

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
)

// decodeCharset converts b from the charset cs to UTF-8. It reports false
// when the charset is unknown, in which case b is taken as UTF-8 if it is
// valid UTF-8 and as windows-1252 (a superset of ISO-8859-1) otherwise. An
// empty or ASCII charset is treated the same way, without complaint when b
// is UTF-8 or plain ASCII.
func decodeCharset(b []byte, cs string) (string, bool) {
	switch normalizeCharset(cs) {
	case "utf-8", "utf8":
		if utf8.Valid(b) {
			return string(b), true
		}
		return strings.ToValidUTF8(string(b), "\uFFFD"), false
	case "", "us-ascii", "ascii", "x-unknown", "unknown-8bit", "default":
		return guessText(b)
	case "utf-7", "unicode-1-1-utf-7", "csunicode11utf7", "x-utf-7":
		return decodeUTF7(b), true
	}
	r, err := charset.Reader(strings.TrimSpace(cs), bytes.NewReader(b))
	if err != nil {
		text, _ := guessText(b)
		return text, false
	}
	out, err := io.ReadAll(r)
	if err != nil {
		text, _ := guessText(b)
		return text, false
	}
	return string(out), true
}

// guessText decodes text of unknown charset: UTF-8 when it is valid, or
// mostly valid with a few broken sequences (replaced by U+FFFD), and
// windows-1252 otherwise. It reports whether the text was valid UTF-8.
func guessText(b []byte) (string, bool) {
	if utf8.Valid(b) {
		return string(b), true
	}
	good, bad := 0, 0
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			bad++
		} else {
			good++
		}
		i += size
	}
	if good >= 4*bad {
		return strings.ToValidUTF8(string(b), "\uFFFD"), false
	}
	return windows1252(b), false
}

// knownCharset reports whether decodeCharset can convert from cs.
func knownCharset(cs string) bool {
	switch normalizeCharset(cs) {
	case "", "us-ascii", "ascii", "utf-8", "utf8", "utf-7", "unicode-1-1-utf-7", "csunicode11utf7", "x-utf-7":
		return true
	}
	_, err := charset.Reader(strings.TrimSpace(cs), bytes.NewReader(nil))
	return err == nil
}

func normalizeCharset(cs string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(cs), `"'`))
}

func windows1252(b []byte) string {
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(out)
}

// decodeUTF7 decodes UTF-7 (RFC 2152): "+" starts a run of modified
// base64 holding UTF-16, ended by any other character ("-" is absorbed);
// "+-" stands for "+".
func decodeUTF7(b []byte) string {
	var sb strings.Builder
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '+' {
			sb.WriteByte(c)
			continue
		}
		if i+1 < len(b) && b[i+1] == '-' {
			sb.WriteByte('+')
			i++
			continue
		}
		var (
			bits  uint32
			nbits uint
			units []uint16
		)
		j := i + 1
		for ; j < len(b); j++ {
			v := b64Index[b[j]]
			if v == 0xFF {
				break
			}
			bits = bits<<6 | uint32(v)
			nbits += 6
			if nbits >= 16 {
				nbits -= 16
				units = append(units, uint16(bits>>nbits))
				bits &= 1<<nbits - 1
			}
		}
		sb.WriteString(string(utf16.Decode(units)))
		if j < len(b) && b[j] == '-' {
			j++
		}
		i = j - 1
	}
	return strings.ToValidUTF8(sb.String(), "\uFFFD")
}

// mislabelledUTF8 reports text declared in a legacy charset that is in
// fact UTF-8, a common mistake of mailing software. Text in a legacy
// charset with bytes above 0x7F is almost never valid UTF-8 by accident:
// accented Latin letters and CJK characters alone break UTF-8's byte
// patterns.
func mislabelledUTF8(b []byte, cs string) bool {
	switch n := normalizeCharset(cs); {
	case n == "utf-8" || n == "utf8" || strings.HasPrefix(n, "utf-16") || strings.HasPrefix(n, "utf-32") ||
		n == "ucs-2" || n == "unicode" || strings.Contains(n, "utf-7"):
		return false
	}
	high := 0
	for _, c := range b {
		if c >= 0x80 {
			high++
		}
	}
	return high >= 2 && utf8.Valid(b)
}
