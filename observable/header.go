package observable

import (
	"strings"
	"unicode/utf8"
)

// unfold removes the line breaks that fold a header value (RFC 5322
// section 2.2.3), keeping the white space that follows them.
func unfold(raw []byte) []byte {
	if !containsNewline(raw) {
		return raw
	}
	out := make([]byte, 0, len(raw))
	for _, c := range raw {
		if c == '\r' || c == '\n' {
			continue
		}
		out = append(out, c)
	}
	return out
}

func containsNewline(b []byte) bool {
	for _, c := range b {
		if c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}

// headerRaw unfolds a raw header value and converts bytes that are not
// UTF-8 with the message's charset (windows-1252 when it has none),
// leaving encoded words alone.
func (p *parser) headerRaw(raw []byte, where string) string {
	v := unfold(raw)
	if utf8.Valid(v) {
		return string(v)
	}
	cs := p.hdrCharset
	if cs == "" || !knownCharset(cs) {
		cs = "windows-1252"
	}
	text, _ := decodeCharset(v, cs)
	p.bad(where, DefectNonUTF8Header, "decoded as "+cs)
	return text
}

// headerText decodes a header value for display: unfolded, converted to
// UTF-8, RFC 2047 encoded words decoded, surrounding white space removed.
func (p *parser) headerText(raw []byte, where string) string {
	s := strings.TrimSpace(p.headerRaw(raw, where))
	d, problem := decodeEncodedWords(s)
	if problem != "" {
		p.bad(where, DefectEncodedWord, problem)
	}
	return d
}

// paramText decodes encoded words in a parameter value, which mailers put
// there although RFC 2047 forbids it.
func (p *parser) paramText(v, where string) string {
	d, problem := decodeEncodedWords(v)
	if problem != "" {
		p.bad(where, DefectEncodedWord, problem)
	}
	return d
}

// decodeEncodedWords decodes RFC 2047 encoded words in s. White space
// between adjacent encoded words is dropped, and adjacent words in the same
// charset are decoded together, so that a character split across two words
// survives. Words that cannot be decoded are kept as they are. problem
// describes the first failure, if any.
func decodeEncodedWords(s string) (string, string) {
	if !strings.Contains(s, "=?") {
		return s, ""
	}
	var (
		out      strings.Builder
		pendCS   string
		pendData []byte
		lastWord bool
		problem  string
	)
	flush := func() {
		if pendCS == "" {
			return
		}
		text, ok := decodeCharset(pendData, pendCS)
		if !ok && problem == "" {
			problem = "unknown charset " + truncate(pendCS, 40)
		}
		out.WriteString(text)
		pendCS, pendData = "", pendData[:0]
	}
	i := 0
	for i < len(s) {
		j := strings.Index(s[i:], "=?")
		if j < 0 {
			break
		}
		between := s[i : i+j]
		cs, data, n, ok := parseEncodedWord(s[i+j:])
		if !ok {
			flush()
			out.WriteString(between)
			out.WriteString("=?")
			i += j + 2
			lastWord = false
			continue
		}
		if !(lastWord && strings.TrimLeft(between, " \t\r\n") == "") {
			flush()
			out.WriteString(between)
		}
		if !strings.EqualFold(cs, pendCS) {
			flush()
			pendCS = cs
		}
		pendData = append(pendData, data...)
		lastWord = true
		i += j + n
	}
	flush()
	out.WriteString(s[i:])
	return out.String(), problem
}

// maxEncodedWord bounds the length of an encoded word's text.
const maxEncodedWord = 4096

// parseEncodedWord parses "=?charset?enc?text?=" at the start of s and
// returns the charset (without an RFC 2231 language), the decoded bytes and
// the length of the word.
func parseEncodedWord(s string) (cs string, data []byte, n int, ok bool) {
	// s starts with "=?".
	q1 := strings.IndexByte(s[2:], '?')
	if q1 <= 0 || q1 > 64 {
		return "", nil, 0, false
	}
	cs = s[2 : 2+q1]
	if strings.ContainsAny(cs, " \t\r\n\"") {
		return "", nil, 0, false
	}
	rest := s[2+q1+1:]
	if len(rest) < 2 || rest[1] != '?' {
		return "", nil, 0, false
	}
	enc := rest[0] | 0x20
	if enc != 'b' && enc != 'q' {
		return "", nil, 0, false
	}
	text := rest[2:]
	// RFC 2047 limits a word to 75 characters; a generous bound keeps a
	// header full of "=?" from being scanned over and over.
	end := strings.Index(text[:min(len(text), maxEncodedWord)], "?=")
	if end < 0 {
		return "", nil, 0, false
	}
	text = text[:end]
	if strings.ContainsAny(text, " \t") && enc == 'b' {
		return "", nil, 0, false
	}
	if star := strings.IndexByte(cs, '*'); star >= 0 {
		cs = cs[:star]
	}
	if enc == 'b' {
		data = decodeBase64Lenient(text)
	} else {
		data = decodeQ(text)
	}
	return cs, data, 2 + q1 + 1 + 2 + end + 2, true
}

// decodeBase64Lenient decodes base64 the way base64Reader does.
func decodeBase64Lenient(s string) []byte {
	d := &base64Reader{r: strings.NewReader(s)}
	var out []byte
	buf := make([]byte, 512)
	for {
		n, err := d.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out
		}
	}
}

// decodeQ decodes the "Q" encoding of RFC 2047: "_" is a space and "=XY"
// a byte; an invalid "=" is kept.
func decodeQ(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(s) && unhex(s[i+1]) < 16 && unhex(s[i+2]) < 16:
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out
}

// threadPrefixes are the reply and forward markers of common mail clients
// in many languages, lower-cased.
var threadPrefixes = []string{
	"re", "fw", "fwd", "aw", "wg", "tr", "sv", "vs", "vb", "antw", "antwort", "doorst",
	"rif", "r", "i", "ref", "res", "enc", "odp", "pd", "ynt", "ilt", "atb", "vl", "fs",
	"rv", "bls", "továbbítás", "答复", "回复", "转发", "回覆", "轉寄", "返信", "転送",
	"απ", "σχετ", "πρθ", "השב", "הועבר", "отв", "пересл",
}

// ThreadSubject removes the reply and forward prefixes ("Re:", "Fwd:",
// "AW:", "TR:", "SV:", "Re[2]:", ... in any number, case and mix) from a
// subject, and any "[tag]" placed before one of them, so that every message
// of a thread gives the same string. White space is collapsed.
func ThreadSubject(subject string) string {
	s := strings.Join(strings.Fields(subject), " ")
	for {
		t := stripTag(s)
		if n := prefixLen(t); n > 0 {
			s = strings.TrimLeft(t[n:], " ")
			continue
		}
		return s
	}
}

// stripTag removes a leading "[...]" when a reply or forward prefix follows
// it.
func stripTag(s string) string {
	if !strings.HasPrefix(s, "[") {
		return s
	}
	end := strings.IndexByte(s[:min(len(s), 66)], ']')
	if end < 0 {
		return s
	}
	t := strings.TrimLeft(s[end+1:], " ")
	if prefixLen(t) > 0 {
		return t
	}
	return s
}

// prefixLen returns the length of the reply or forward prefix at the start
// of s, colon included, or 0.
func prefixLen(s string) int {
	colon := strings.IndexAny(s[:min(len(s), 28)], ":：")
	if colon <= 0 || colon > 24 {
		return 0
	}
	word := strings.TrimRight(s[:colon], " ")
	// A counter: "Re[2]", "Re(2)", "Re^2".
	if k := strings.IndexAny(word, "[(^"); k > 0 {
		counter := strings.Trim(word[k:], "[]()^ ")
		for _, c := range counter {
			if c < '0' || c > '9' {
				return 0
			}
		}
		word = strings.TrimRight(word[:k], " ")
	}
	lw := strings.ToLower(word)
	for _, pfx := range threadPrefixes {
		if lw == strings.ToLower(pfx) {
			_, size := utf8.DecodeRuneInString(s[colon:])
			return colon + size
		}
	}
	return 0
}
