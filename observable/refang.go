package observable

import (
	"strings"
)

// span is a half-open byte range [start, end) of a text.
type span struct{ start, end int }

// hasDefangMarker reports whether s may hold a defanged indicator, so that
// refang is skipped for ordinary text.
func hasDefangMarker(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '(', '{':
			if i+2 < len(s) {
				switch s[i+1] | 0x20 {
				case '.', 'd', 'a', '@', ':', '/':
					return true
				}
				if s[i+1] == ' ' {
					return true
				}
			}
		case 'h', 'H', 'f', 'F':
			if i+3 < len(s) && (s[i+1]|0x20) == 'x' && (s[i+2]|0x20) == 'x' {
				return true
			}
		}
	}
	return false
}

// refang rewrites the defanged forms analysts and security tools use to
// keep indicators from being clickable: hxxp:// and hxxps://, fxp://,
// [.] (.) {.} [dot] (dot), [at] (at) [@], [:] and [://]. It returns the
// rewritten text and the ranges of it that were rewritten, so that
// indicators overlapping them can be tagged.
func refang(s string) (string, []span) {
	if !hasDefangMarker(s) {
		return s, nil
	}
	var (
		sb    strings.Builder
		edits []span
	)
	sb.Grow(len(s))
	i := 0
	for i < len(s) {
		c := s[i]
		// hxxp, hxxps, fxp.
		if (c|0x20) == 'h' || (c|0x20) == 'f' {
			if rep, n := schemeRefang(s, i); n > 0 {
				start := sb.Len()
				sb.WriteString(rep)
				edits = append(edits, span{start, sb.Len()})
				i += n
				continue
			}
		}
		if c == '[' || c == '(' || c == '{' || (c == ' ' && i+1 < len(s) && (s[i+1] == '[' || s[i+1] == '(' || s[i+1] == '{')) {
			if rep, n := bracketRefang(s, i); n > 0 {
				start := sb.Len()
				sb.WriteString(rep)
				edits = append(edits, span{start, sb.Len()})
				i += n
				continue
			}
		}
		sb.WriteByte(c)
		i++
	}
	return sb.String(), edits
}

// schemeRefang recognises hxxp, hxxps, hxxpx and fxp at s[i] when a ":"
// or "[:]" follows.
func schemeRefang(s string, i int) (string, int) {
	if i > 0 && isASCIIAlnum(s[i-1]) {
		return "", 0
	}
	lower := strings.ToLower(s[i:min(i+6, len(s))])
	var rep string
	var n int
	switch {
	case strings.HasPrefix(lower, "hxxps"):
		rep, n = "https", 5
	case strings.HasPrefix(lower, "hxxp"):
		rep, n = "http", 4
	case strings.HasPrefix(lower, "fxp"):
		rep, n = "ftp", 3
	default:
		return "", 0
	}
	rest := s[i+n:]
	if strings.HasPrefix(rest, ":") || strings.HasPrefix(rest, "[:]") || strings.HasPrefix(rest, "[://]") {
		return rep, n
	}
	return "", 0
}

// bracketRefang recognises a bracketed marker at s[i], either glued to
// the indicator ("example[.]com") or, for dots and at signs, with a space
// on both sides ("example [dot] com"), in which case s[i] is that space.
func bracketRefang(s string, i int) (string, int) {
	spaced := s[i] == ' '
	j := i
	if spaced {
		j++
	}
	var closeCh byte
	switch s[j] {
	case '[':
		closeCh = ']'
	case '(':
		closeCh = ')'
	case '{':
		closeCh = '}'
	default:
		return "", 0
	}
	end := strings.IndexByte(s[j+1:min(j+8, len(s))], closeCh)
	if end < 0 {
		return "", 0
	}
	k := j + 1 + end + 1 // after the closing bracket
	var rep string
	switch strings.ToLower(strings.TrimSpace(s[j+1 : j+1+end])) {
	case ".", "dot":
		rep = "."
	case "at", "@":
		rep = "@"
	case ":":
		rep = ":"
	case "://":
		rep = "://"
	case "/":
		rep = "/"
	default:
		return "", 0
	}
	if i == 0 || !isIndicatorByte(s[i-1]) {
		return "", 0
	}
	if spaced {
		if (rep != "." && rep != "@") || k+1 >= len(s) || s[k] != ' ' || !isIndicatorByte(s[k+1]) {
			return "", 0
		}
		return rep, k + 1 - i
	}
	if (rep == "." || rep == "@") && (k >= len(s) || !isIndicatorByte(s[k])) {
		return "", 0
	}
	return rep, k - i
}

func isASCIIAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// isIndicatorByte reports bytes that may end or start a part of a host
// name, address or URL next to a defang marker.
func isIndicatorByte(c byte) bool {
	return isASCIIAlnum(c) || c >= 0x80 || c == '-' || c == '_' || c == '/' || c == ']'
}

// overlaps reports whether [start, end) meets one of the edits.
func overlaps(edits []span, start, end int) bool {
	for _, e := range edits {
		if e.start < end && start < e.end {
			return true
		}
	}
	return false
}
