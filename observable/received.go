package observable

import (
	"net/netip"
	"strings"
)

// ParseReceived parses the value of a Received header field (RFC 5321
// section 4.4) into a Hop. It is lenient: the clauses may come in any
// order, comments may hold the real host name and address, and whatever
// does not fit is kept in the clause it follows.
func ParseReceived(v string) Hop {
	v = strings.Join(strings.Fields(v), " ")
	h := Hop{Raw: v}
	clauses := v
	if i := lastTopLevel(v, ';'); i >= 0 {
		clauses = v[:i]
		if t, ok := ParseDate(v[i+1:]); ok {
			h.Date = t
		}
	}
	toks := receivedTokens(clauses)
	var (
		cur     *strings.Builder
		fromTok []rtoken
		byTok   []rtoken
		inFrom  bool
		inBy    bool
		seenKey = map[string]bool{}
		clause  [6]strings.Builder
	)
	keywords := [6]string{"from", "by", "via", "with", "id", "for"}
	for _, t := range toks {
		if t.kind == tokWord && len(t.text) <= 4 {
			kw := strings.ToLower(t.text)
			found := false
			for i, k := range keywords {
				if kw == k && !seenKey[kw] {
					seenKey[kw] = true
					cur = &clause[i]
					inFrom, inBy = kw == "from", kw == "by"
					found = true
					break
				}
			}
			if found {
				continue
			}
		}
		if cur == nil {
			continue
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(t.text)
		switch {
		case inFrom:
			fromTok = append(fromTok, t)
		case inBy:
			byTok = append(byTok, t)
		}
	}
	h.From, h.By, h.Via, h.With, h.ID, h.For = clause[0].String(), clause[1].String(), clause[2].String(),
		clause[3].String(), clause[4].String(), clause[5].String()

	// The connecting host's address: the receiving server records it in a
	// comment ("(rdns [1.2.3.4])", "(HELO x) (1.2.3.4)"); without one, the
	// address written right after "from".
	var inComment, bare []netip.Addr
	for _, t := range fromTok {
		ips := ipsIn(t.text)
		if t.kind == tokComment {
			inComment = append(inComment, ips...)
		} else {
			bare = append(bare, ips...)
		}
	}
	switch {
	case len(inComment) > 0:
		h.FromIP = inComment[len(inComment)-1]
	case len(bare) > 0:
		h.FromIP = bare[0]
	}
	seenIP := map[netip.Addr]bool{}
	seenHost := map[string]bool{}
	for _, group := range [][]rtoken{fromTok, byTok} {
		for _, t := range group {
			for _, ip := range ipsIn(t.text) {
				if !seenIP[ip] {
					seenIP[ip] = true
					h.IPs = append(h.IPs, ip)
				}
			}
			for _, host := range hostsIn(t.text) {
				if !seenHost[host] {
					seenHost[host] = true
					h.Hosts = append(h.Hosts, host)
				}
			}
		}
	}
	h.EnvelopeFrom = envelopeFrom(v)
	return h
}

type rtokenKind int

const (
	tokWord rtokenKind = iota
	tokComment
	tokAngle
)

type rtoken struct {
	kind rtokenKind
	text string
}

// receivedTokens splits the clauses of a Received field into words,
// parenthesised comments (nested ones included) and <...> addresses.
func receivedTokens(s string) []rtoken {
	var toks []rtoken
	i := 0
	for i < len(s) {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '(':
			depth, j := 0, i
			for ; j < len(s); j++ {
				if s[j] == '(' {
					depth++
				} else if s[j] == ')' {
					depth--
					if depth == 0 {
						j++
						break
					}
				}
			}
			toks = append(toks, rtoken{tokComment, s[i:j]})
			i = j
		case c == '<':
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				j = len(s) - i - 1
			}
			toks = append(toks, rtoken{tokAngle, s[i : i+j+1]})
			i += j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '(' && s[j] != '<' {
				j++
			}
			toks = append(toks, rtoken{tokWord, s[i:j]})
			i = j
		}
	}
	return toks
}

// lastTopLevel returns the index of the last c outside parentheses, or -1.
func lastTopLevel(s string, c byte) int {
	depth, last := 0, -1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			if depth > 0 {
				depth--
			}
		case c:
			if depth == 0 {
				last = i
			}
		}
	}
	return last
}

// ipsIn returns the valid IP addresses written as whole tokens in s:
// "1.2.3.4", "[1.2.3.4]", "[IPv6:2001:db8::1]", "1.2.3.4:25",
// "user@1.2.3.4". IPv4-mapped IPv6 addresses are given as IPv4.
func ipsIn(s string) []netip.Addr {
	var out []netip.Addr
	forEachToken(s, isIPTokenChar, func(tok string) {
		if ip, ok := parseIPToken(tok); ok {
			out = append(out, ip)
		}
	})
	return out
}

func isIPTokenChar(c byte) bool {
	return c == '.' || c == ':' || c == '%' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// parseIPToken parses one token as an IP address, tolerating an "IPv6:"
// prefix, a zone and a port.
func parseIPToken(tok string) (netip.Addr, bool) {
	if len(tok) > 5 && strings.EqualFold(tok[:5], "ipv6:") {
		tok = tok[5:]
	}
	if !strings.ContainsAny(tok, ".:") || len(tok) < 3 {
		return netip.Addr{}, false
	}
	if i := strings.IndexByte(tok, '%'); i >= 0 {
		tok = tok[:i]
	}
	if ip, err := netip.ParseAddr(tok); err == nil {
		return ip.Unmap(), true
	}
	// "1.2.3.4:port"
	if i := strings.LastIndexByte(tok, ':'); i > 0 && strings.Count(tok, ":") == 1 {
		if ip, err := netip.ParseAddr(tok[:i]); err == nil && ip.Is4() && allDigits(tok[i+1:]) {
			return ip, true
		}
	}
	return netip.Addr{}, false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// hostsIn returns the words of s that are host names with a known public
// suffix, lower-cased and without a final dot.
func hostsIn(s string) []string {
	var out []string
	forEachTokenAt(s, isHostTokenChar, func(start int, tok string) {
		if start > 0 && s[start-1] == '@' {
			return // the domain of an address, not a host of the route
		}
		tok = strings.ToLower(strings.Trim(tok, ".-"))
		if strings.IndexByte(tok, '.') < 0 {
			return
		}
		if h, ok := validHostname(tok); ok {
			out = append(out, h)
		}
	})
	return out
}

func isHostTokenChar(c byte) bool {
	return c == '.' || c == '-' || c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c >= 0x80
}

// forEachToken calls fn for each maximal run of bytes for which in is true.
func forEachToken(s string, in func(byte) bool, fn func(string)) {
	forEachTokenAt(s, in, func(_ int, tok string) { fn(tok) })
}

// forEachTokenAt is forEachToken with the offset of each run.
func forEachTokenAt(s string, in func(byte) bool, fn func(int, string)) {
	start := -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && in(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			fn(start, s[start:i])
			start = -1
		}
	}
}

// envelopeFrom finds the address in an "envelope-from" comment.
func envelopeFrom(v string) string {
	i := strings.Index(strings.ToLower(v), "envelope-from")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(v[i+len("envelope-from"):], " =")
	if strings.HasPrefix(rest, "<") {
		rest = rest[1:]
		if end := strings.IndexByte(rest, '>'); end >= 0 {
			rest = rest[:end]
		}
	} else if end := strings.IndexAny(rest, " );,"); end >= 0 {
		rest = rest[:end]
	}
	if !strings.Contains(rest, "@") {
		return ""
	}
	return rest
}
