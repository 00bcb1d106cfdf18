package observable

import (
	"strings"
)

// ParseAddressList parses an address list header value (From, To, Cc, ...)
// as mail readers do: RFC 5322 syntax with quoted display names, comments,
// groups and RFC 2047 encoded words, and also the broken forms seen in the
// wild (addresses separated by spaces, unquoted "@" in display names,
// missing brackets or quotes). It reports false when the value did not
// follow RFC 5322.
func ParseAddressList(s string) ([]Address, bool) {
	ap := addrParser{s: s, strict: true}
	ap.parse()
	return ap.out, ap.strict
}

// addressList parses the raw value of an address field.
func (p *parser) addressList(raw []byte, where, name string) []Address {
	list, strict := ParseAddressList(p.headerRaw(raw, where))
	if !strict {
		p.bad(where, DefectAddress, name+": read leniently")
	}
	return list
}

type addrParser struct {
	s      string
	i      int
	strict bool
	out    []Address
	// noQuotes is set after an unterminated quote: later quote marks are
	// ordinary characters, which keeps the parse linear.
	noQuotes bool

	// the mailbox being read
	words   []string
	angle   string
	hasAng  bool
	comment string
}

func (ap *addrParser) parse() {
	for ap.i < len(ap.s) {
		c := ap.s[ap.i]
		switch c {
		case ' ', '\t', '\r', '\n':
			ap.i++
		case '"':
			if ap.noQuotes {
				ap.words = append(ap.words, ap.word())
				continue
			}
			start := ap.i
			if q, ok := ap.quoted(); ok {
				ap.words = append(ap.words, "\x00"+q)
			} else {
				// An unterminated quote: take it, and any quote after it,
				// as a stray character and read on.
				ap.strict = false
				ap.noQuotes = true
				ap.i = start
				ap.words = append(ap.words, ap.word())
			}
		case '(':
			cm := ap.commentText()
			if ap.comment == "" {
				ap.comment = cm
			}
		case '<':
			ap.angleAddr()
		case ',', ';':
			ap.i++
			ap.finish()
		case ':':
			ap.i++
			if !ap.hasAng && len(ap.words) > 0 {
				// A group: "name: a, b;". The group name is dropped.
				ap.words = ap.words[:0]
				ap.comment = ""
			}
		case '>', ')':
			ap.i++
			ap.strict = false
		default:
			ap.words = append(ap.words, ap.word())
		}
	}
	ap.finish()
}

// word reads an atom, or a stray quote mark and what follows it. It always
// consumes at least one byte.
func (ap *addrParser) word() string {
	start := ap.i
	ap.i++
	for ap.i < len(ap.s) {
		switch ap.s[ap.i] {
		case ' ', '\t', '\r', '\n', '(', ')', '<', '>', ',', ';', ':':
			return ap.s[start:ap.i]
		case '"':
			if !ap.noQuotes {
				return ap.s[start:ap.i]
			}
		}
		ap.i++
	}
	return ap.s[start:]
}

// quoted reads a quoted string; it reports false when the closing quote
// is missing.
func (ap *addrParser) quoted() (string, bool) {
	ap.i++ // the opening quote
	var sb strings.Builder
	for ap.i < len(ap.s) {
		c := ap.s[ap.i]
		ap.i++
		switch c {
		case '\\':
			if ap.i < len(ap.s) {
				sb.WriteByte(ap.s[ap.i])
				ap.i++
			}
		case '"':
			return sb.String(), true
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String(), false
}

func (ap *addrParser) commentText() string {
	ap.i++ // "("
	depth := 1
	start := ap.i
	for ap.i < len(ap.s) {
		switch ap.s[ap.i] {
		case '\\':
			ap.i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				cm := ap.s[start:ap.i]
				ap.i++
				return strings.TrimSpace(cm)
			}
		}
		ap.i++
	}
	ap.strict = false
	return strings.TrimSpace(ap.s[start:])
}

func (ap *addrParser) angleAddr() {
	ap.i++ // "<"
	end := strings.IndexByte(ap.s[ap.i:], '>')
	var a string
	if end < 0 {
		ap.strict = false
		// An unterminated "<": up to the next separator.
		end = strings.IndexAny(ap.s[ap.i:], ",;")
		if end < 0 {
			end = len(ap.s) - ap.i
		}
		a = ap.s[ap.i : ap.i+end]
		ap.i += end
	} else {
		a = ap.s[ap.i : ap.i+end]
		ap.i += end + 1
	}
	if ap.hasAng {
		// Two angle addresses in one mailbox: keep the first as its own.
		ap.strict = false
		ap.finish()
	}
	ap.angle = a
	ap.hasAng = true
}

// finish ends the mailbox being read.
func (ap *addrParser) finish() {
	defer func() {
		ap.words, ap.angle, ap.hasAng, ap.comment = ap.words[:0], "", false, ""
	}()
	if ap.hasAng {
		addr := cleanAddr(ap.angle)
		if addr == "" {
			return
		}
		name := ap.phrase(ap.words)
		for _, w := range ap.words {
			if !strings.HasPrefix(w, "\x00") && strings.ContainsAny(w, "@[]") {
				ap.strict = false
			}
		}
		if name == "" {
			name = decodeName(ap.comment)
		}
		ap.out = append(ap.out, Address{Name: name, Addr: addr})
		return
	}
	if len(ap.words) == 0 {
		return
	}
	// No angle brackets: an addr-spec, possibly several run together.
	var specs []string
	for _, w := range ap.words {
		if !strings.HasPrefix(w, "\x00") && strings.Contains(w, "@") && !strings.HasPrefix(w, "@") && !strings.HasSuffix(w, "@") {
			specs = append(specs, w)
		}
	}
	switch {
	case len(specs) == 1 && len(ap.words) == 1:
		ap.out = append(ap.out, Address{Name: decodeName(ap.comment), Addr: cleanAddr(specs[0])})
	case len(specs) >= 1:
		ap.strict = false
		for _, sp := range specs {
			ap.out = append(ap.out, Address{Addr: cleanAddr(sp)})
		}
	default:
		// "local @ domain" with spaces, or a quoted local part.
		var sb strings.Builder
		for _, w := range ap.words {
			sb.WriteString(strings.TrimPrefix(w, "\x00"))
		}
		joined := sb.String()
		if strings.Count(joined, "@") == 1 && !strings.HasPrefix(joined, "@") && !strings.HasSuffix(joined, "@") {
			if len(ap.words) > 1 {
				ap.strict = false
			}
			ap.out = append(ap.out, Address{Name: decodeName(ap.comment), Addr: cleanAddr(joined)})
			return
		}
		// A display name with no address: nothing to keep.
		ap.strict = false
	}
}

// phrase joins and decodes the words of a display name.
func (ap *addrParser) phrase(words []string) string {
	if len(words) == 0 {
		return ""
	}
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = strings.TrimPrefix(w, "\x00")
	}
	return decodeName(strings.Trim(strings.Join(parts, " "), `"`))
}

func decodeName(s string) string {
	d, _ := decodeEncodedWords(strings.TrimSpace(s))
	return strings.Join(strings.Fields(d), " ")
}

// cleanAddr trims an address: white space, a "mailto:" prefix and an
// obsolete source route ("@a,@b:local@domain").
func cleanAddr(a string) string {
	a = strings.TrimSpace(a)
	if len(a) > 7 && strings.EqualFold(a[:7], "mailto:") {
		a = a[7:]
	}
	if strings.HasPrefix(a, "@") {
		if c := strings.IndexByte(a, ':'); c >= 0 {
			a = a[c+1:]
		}
	}
	a = strings.Trim(a, " \t'\"")
	if strings.ContainsAny(a, " \t") {
		a = strings.Join(strings.Fields(a), "")
	}
	return a
}
