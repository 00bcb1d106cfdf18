package observable

import (
	"net/netip"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// finding is an indicator found in a text, before filtering and tagging.
type finding struct {
	typ   DataType
	value string
	// span of the text it was found in
	start, end int
	// hashAlg names the algorithm of a TypeHash finding; noScheme marks a
	// URL written without a scheme.
	hashAlg  string
	noScheme bool
}

// textScanner finds indicators in one text. The scans are plain loops
// over bytes: URLs are located from their "://" or "www.", addresses from
// their "@", and the remaining words are classified as IP addresses, host
// names or hashes.
type textScanner struct {
	s      string
	masked []span // URLs and mail addresses, whose words are not rescanned
	urls   []span // the URLs alone, sorted
	// names are the lower-cased attachment file names of the message, which
	// are not host names even when their extension is a top-level domain.
	names map[string]bool
	emit  func(finding)
}

// scan runs every pass; urlsOnly limits it to URLs with a scheme, for text
// such as scripts where words are mostly code.
func (t *textScanner) scan(urlsOnly bool) {
	t.schemeURLs()
	if urlsOnly {
		return
	}
	t.wwwURLs()
	t.sortMasked()
	t.urls = t.masked
	t.masked = append([]span(nil), t.urls...)
	t.mails()
	t.sortMasked()
	t.words()
}

func (t *textScanner) sortMasked() {
	sort.Slice(t.masked, func(i, j int) bool { return t.masked[i].start < t.masked[j].start })
}

// isMasked reports whether [start, end) lies within a masked span.
func (t *textScanner) isMasked(start, end int) bool {
	i := sort.Search(len(t.masked), func(i int) bool { return t.masked[i].end > start })
	for ; i < len(t.masked) && t.masked[i].start < end; i++ {
		if t.masked[i].start <= start {
			return true
		}
	}
	return false
}

var urlSchemes = []string{"https", "http", "ftps", "ftp"}

// schemeURLs finds http, https, ftp and ftps URLs.
func (t *textScanner) schemeURLs() {
	s := t.s
	for i := 0; i < len(s); {
		k := strings.Index(s[i:], "://")
		if k < 0 {
			return
		}
		p := i + k
		i = p + 3
		st := p
		for st > 0 && p-st < 12 && isASCIILetter(s[st-1]) {
			st--
		}
		word := strings.ToLower(s[st:p])
		scheme := ""
		for _, sc := range urlSchemes {
			if strings.HasSuffix(word, sc) {
				scheme = sc
				break
			}
		}
		if scheme == "" {
			continue
		}
		st = p - len(scheme)
		end := urlEnd(s, p+3)
		if end <= p+3 {
			continue
		}
		t.masked = append(t.masked, span{st, end})
		i = end
		if _, ok := urlHostValid(s[st:end]); ok {
			t.emit(finding{typ: TypeURL, value: s[st:end], start: st, end: end})
		}
	}
}

// wwwURLs finds URLs written without a scheme: "www.example.com/path".
// A bare "www.example.com" is left to the host name pass.
func (t *textScanner) wwwURLs() {
	s := t.s
	for _, marker := range []string{"www.", "WWW."} {
		for i := 0; i < len(s); {
			k := strings.Index(s[i:], marker)
			if k < 0 {
				break
			}
			st := i + k
			i = st + 4
			if st > 0 {
				if c := s[st-1]; isASCIIAlnum(c) || c == '.' || c == '-' || c == '/' || c == '@' || c == ':' || c >= 0x80 {
					continue
				}
			}
			if t.isMasked(st, st+4) {
				continue
			}
			he := st
			for he < len(s) && (isASCIIAlnum(s[he]) || s[he] == '.' || s[he] == '-' || s[he] >= 0x80) {
				if s[he] >= 0x80 {
					r, size := utf8.DecodeRuneInString(s[he:])
					if !isWordRune(r) {
						break
					}
					he += size
					continue
				}
				he++
			}
			for he > st && (s[he-1] == '.' || s[he-1] == '-') {
				he--
			}
			if _, ok := validHostname(s[st:he]); !ok {
				continue
			}
			if he >= len(s) || (s[he] != '/' && s[he] != '?' && s[he] != '#') {
				continue
			}
			end := urlEnd(s, he)
			t.masked = append(t.masked, span{st, end})
			i = end
			t.emit(finding{typ: TypeURL, value: s[st:end], start: st, end: end, noScheme: true})
		}
	}
}

// urlEnd returns where a URL starting before i ends: at white space, a
// character that cannot appear in a URL or a quotation mark, without
// trailing punctuation or unbalanced closing brackets.
func urlEnd(s string, i int) int {
	j := i
loop:
	for j < len(s) {
		c := s[j]
		if c < utf8.RuneSelf {
			switch {
			case c <= ' ' || c == 0x7f:
				break loop
			case strings.IndexByte("<>\"`{}|\\^", c) >= 0:
				break loop
			}
			j++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[j:])
		if r == utf8.RuneError || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || isStopPunct(r) {
			break
		}
		j += size
	}
	// Trailing punctuation is not part of the URL, nor is a closing
	// bracket without its opening one: "(see http://example.com/a)".
	openP, closeP := strings.Count(s[i:j], "("), strings.Count(s[i:j], ")")
	openB, closeB := strings.Count(s[i:j], "["), strings.Count(s[i:j], "]")
	for j > i {
		switch s[j-1] {
		case '.', ',', ';', ':', '!', '?', '\'', '*':
			j--
			continue
		case ')':
			if openP < closeP {
				closeP--
				j--
				continue
			}
		case ']':
			if openB < closeB {
				closeB--
				j--
				continue
			}
		case '(':
			openP--
			j--
			continue
		case '[':
			openB--
			j--
			continue
		}
		break
	}
	return j
}

// isStopPunct reports quotation marks and full-width punctuation, which end
// a URL in running text.
func isStopPunct(r rune) bool {
	switch r {
	case '“', '”', '‘', '’', '«', '»', '‹', '›', '「', '」', '『', '』', '。', '、', '，', '（', '）', '【', '】', '《', '》', '！', '？', '；', '：':
		return true
	}
	return false
}

// urlHost returns the host of a URL (lower-cased, brackets removed from an
// IPv6 literal), or "".
func urlHost(u string) string {
	rest := u
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	} else {
		rest = strings.TrimPrefix(rest, "//")
	}
	if i := strings.IndexAny(rest, "/?#\\"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if strings.HasPrefix(rest, "[") {
		if i := strings.IndexByte(rest, ']'); i >= 0 {
			return strings.ToLower(rest[1:i])
		}
		return ""
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest = rest[:i]
	}
	return strings.ToLower(strings.TrimSuffix(rest, "."))
}

// urlHostValid checks the host of a URL: an IP address or a host name
// under a known top-level domain. It returns the host in canonical form
// (an unmapped address, or a lower-case ASCII name).
func urlHostValid(u string) (string, bool) {
	h := urlHost(u)
	if h == "" {
		return "", false
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.Unmap().WithZone("").String(), true
	}
	return validHostname(h)
}

// isLocalRune reports characters allowed in the local part of an address:
// RFC 5322 atext and dots, and letters and digits of any script (RFC 6531).
func isLocalRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(byte(r)) || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)
	}
	return isWordRune(r)
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

// isDomainRune reports characters allowed in a host name as written,
// internationalised ones included.
func isDomainRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(byte(r)) || r == '-' || r == '.'
	}
	return isWordRune(r)
}

// mails finds mail addresses, internationalised ones kept whole. Content-ID
// references ("cid:part@host") are not addresses.
func (t *textScanner) mails() {
	s := t.s
	for i := 0; i < len(s); {
		k := strings.IndexByte(s[i:], '@')
		if k < 0 {
			return
		}
		at := i + k
		i = at + 1
		ls := at
		for ls > 0 {
			r, size := utf8.DecodeLastRuneInString(s[:ls])
			if !isLocalRune(r) {
				break
			}
			ls -= size
		}
		cut := "/?&#|"
		if t.inURL(at) {
			// In a URL query, "=" ends the name before an address:
			// "?email=victim@example.org".
			cut = "/?&#|="
		}
		if idx := strings.LastIndexAny(s[ls:at], cut); idx >= 0 {
			ls += idx + 1
		}
		if k := keyPrefix(s[ls:at]); k > 0 {
			ls += k
		}
		for ls < at && strings.IndexByte(".'`=-~^{}", s[ls]) >= 0 {
			ls++
		}
		re := at + 1
		for re < len(s) {
			r, size := utf8.DecodeRuneInString(s[re:])
			if !isDomainRune(r) {
				break
			}
			re += size
		}
		for re > at+1 && (s[re-1] == '.' || s[re-1] == '-') {
			re--
		}
		if ls == at || re == at+1 {
			continue
		}
		if ls >= 4 {
			if p := strings.ToLower(s[ls-4 : ls]); p == "cid:" || p == "mid:" {
				t.masked = append(t.masked, span{ls - 4, re})
				continue
			}
		}
		if t.inURLAuthority(at) {
			continue
		}
		local := strings.TrimRight(s[ls:at], ".")
		if local == "" || len(local) > 128 {
			continue
		}
		if isMessageID(s[:ls], local) {
			// Not an address, but its right-hand side names a host.
			t.masked = append(t.masked, span{ls, at + 1})
			continue
		}
		domain := s[at+1 : re]
		if _, ok := validHostname(domain); !ok {
			continue
		}
		t.masked = append(t.masked, span{ls, re})
		t.emit(finding{typ: TypeMail, value: local + "@" + domain, start: ls, end: re})
	}
}

// keyPrefix returns the length of a "key=" written before an address, as
// in "smtp.mailfrom=user@example.com" or "email=user@example.com", or 0.
// The key is made of letters, dots and hyphens, and has a dot or is a
// usual name; VERP and SRS addresses, which hold "=" too, have digits
// before it.
func keyPrefix(local string) int {
	eq := strings.LastIndexByte(local, '=')
	if eq <= 0 {
		return 0
	}
	key := local[:eq]
	for i := 0; i < len(key); i++ {
		if c := key[i]; !isASCIILetter(c) && c != '.' && c != '-' {
			return 0
		}
	}
	switch strings.ToLower(key) {
	case "from", "mailfrom", "envelope-from", "sender", "email", "e-mail", "mail", "user", "to", "address", "rcpt":
		return eq + 1
	}
	if strings.IndexByte(key, '.') >= 0 {
		return eq + 1
	}
	return 0
}

// isMessageID reports a message or content ID that looks like an
// address, as found in the headers quoted by delivery reports and Outlook
// files: one written after an ID field name ("Message-ID: <...>"), an
// Outlook ID with "$" signs, or a local part that is a long run of hex
// digits and dots, which mailboxes do not have.
func isMessageID(before, local string) bool {
	if strings.IndexByte(local, '$') >= 0 {
		return true
	}
	b := strings.ToLower(strings.TrimRight(before[max(0, len(before)-40):], " \t<"))
	for _, f := range []string{"message-id:", "content-id:", "in-reply-to:", "references:", "-id:"} {
		if strings.HasSuffix(b, f) {
			return true
		}
	}
	if len(local) < 20 {
		return false
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; unhex(c) > 15 && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// inURL reports whether position at lies in a URL found earlier.
func (t *textScanner) inURL(at int) bool {
	i := sort.Search(len(t.urls), func(i int) bool { return t.urls[i].end > at })
	return i < len(t.urls) && t.urls[i].start < at
}

// inURLAuthority reports whether position at lies in the user information
// of a URL found earlier ("http://user@host/").
func (t *textScanner) inURLAuthority(at int) bool {
	i := sort.Search(len(t.urls), func(i int) bool { return t.urls[i].end > at })
	if i == len(t.urls) || t.urls[i].start >= at {
		return false
	}
	m := t.urls[i]
	u := t.s[m.start:m.end]
	off := strings.Index(u, "://")
	if off < 0 {
		return false
	}
	slash := strings.IndexAny(u[off+3:], "/?#")
	return slash < 0 || m.start+off+3+slash > at
}

func isTokenRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(byte(r)) || r == '.' || r == '-' || r == '_' || r == ':'
	}
	return isWordRune(r)
}

// words classifies the words outside URLs and addresses.
func (t *textScanner) words() {
	s := t.s
	start := -1
	for i := 0; i <= len(s); {
		var r rune = -1
		size := 1
		if i < len(s) {
			if s[i] < utf8.RuneSelf {
				r = rune(s[i])
			} else {
				r, size = utf8.DecodeRuneInString(s[i:])
			}
		}
		if r >= 0 && isTokenRune(r) {
			if start < 0 {
				start = i
			}
			i += size
			continue
		}
		if start >= 0 {
			if !t.isMasked(start, i) {
				t.word(start, i)
			}
			start = -1
		}
		i += size
	}
}

// word classifies one word s[start:end].
func (t *textScanner) word(start, end int) {
	w := t.s[start:end]
	if strings.Count(w, ":") >= 2 {
		if ip, ok := textIPv6(w); ok {
			t.emitIP(ip, start, end)
			return
		}
	}
	off := start
	for _, part := range strings.Split(w, ":") {
		t.part(part, off)
		off += len(part) + 1
	}
}

func (t *textScanner) part(p string, off int) {
	trimmed := strings.TrimLeft(p, ".-_")
	off += len(p) - len(trimmed)
	p = strings.TrimRight(trimmed, ".-_")
	if p == "" {
		return
	}
	switch {
	case isIPv4Shape(p):
		if ip, err := netip.ParseAddr(p); err == nil && !t.versionBefore(off) {
			t.emitIP(ip, off, off+len(p))
		}
	case isHashShape(p):
		t.emit(finding{typ: TypeHash, value: strings.ToLower(p), start: off, end: off + len(p), hashAlg: hashAlg(len(p))})
	case strings.IndexByte(p, '.') >= 0:
		if h, ok := t.textHost(p); ok {
			t.emit(finding{typ: TypeFQDN, value: h, start: off, end: off + len(p)})
			return
		}
		// "10.0.0.1-10.0.0.9": a range of addresses.
		if strings.IndexByte(p, '-') >= 0 && !hasASCIILetter(p) {
			o := off
			for _, q := range strings.Split(p, "-") {
				if isIPv4Shape(q) {
					if ip, err := netip.ParseAddr(q); err == nil {
						t.emitIP(ip, o, o+len(q))
					}
				}
				o += len(q) + 1
			}
		}
	}
}

func (t *textScanner) emitIP(ip netip.Addr, start, end int) {
	t.emit(finding{typ: TypeIP, value: ip.Unmap().WithZone("").String(), start: start, end: end})
}

// versionBefore reports a word such as "version" or "build" just before
// position off, which makes a dotted quad a version number.
func (t *textScanner) versionBefore(off int) bool {
	from := max(0, off-20)
	before := strings.ToLower(strings.TrimRight(t.s[from:off], " \t:=#"))
	for _, w := range []string{"version", "ver", "vers", "build", "release", "rev", "revision", "firmware", "v"} {
		if strings.HasSuffix(before, w) {
			k := len(before) - len(w)
			if k == 0 || !isASCIILetter(before[k-1]) {
				return true
			}
		}
	}
	return false
}

// fileTLDs are top-level domains that are also common file extensions. A
// bare two-label word ending in one ("setup.py", "archive.zip") is taken
// as a file name, not a host.
var fileTLDs = map[string]bool{
	"zip": true, "mov": true, "py": true, "sh": true, "pl": true, "rs": true, "md": true,
	"pm": true, "so": true, "ai": true, "ms": true, "cc": true, "mk": true, "au": true,
	"bz": true, "ml": true, "cat": true, "ps": true, "sc": true, "in": true, "do": true,
}

// textHost validates a word as a host name found in running text, where
// file names and sentences run together ("today.Thanks") look like hosts.
func (t *textScanner) textHost(w string) (string, bool) {
	h, ok := validHostname(w)
	if !ok {
		return "", false
	}
	if t.names[strings.ToLower(w)] {
		return "", false
	}
	labels := strings.Split(w, ".")
	tld := labels[len(labels)-1]
	if fileTLDs[strings.ToLower(tld)] && len(labels) == 2 {
		return "", false
	}
	// "end.Next": a capitalised last label after a lower-case one is the
	// start of a sentence, not a top-level domain.
	if len(tld) > 1 && isUpperASCII(tld[0]) && !isAllUpper(tld) && !isAllUpper(labels[len(labels)-2]) {
		return "", false
	}
	return h, true
}

func isUpperASCII(c byte) bool { return 'A' <= c && c <= 'Z' }

func isAllUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			return false
		}
	}
	return true
}

func hasASCIILetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if isASCIILetter(s[i]) {
			return true
		}
	}
	return false
}

// isIPv4Shape reports four dot-separated groups of one to three digits.
func isIPv4Shape(s string) bool {
	groups, n := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if n == 0 {
				return false
			}
			groups++
			n = 0
		case '0' <= c && c <= '9':
			n++
			if n > 3 {
				return false
			}
		default:
			return false
		}
	}
	return groups == 3 && n > 0
}

// isHashShape reports a hex string of the length of an MD5, SHA-1,
// SHA-256 or SHA-512 digest that is not a plain number.
func isHashShape(s string) bool {
	switch len(s) {
	case 32, 40, 64, 128:
	default:
		return false
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			digits++
		case ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F'):
		default:
			return false
		}
	}
	return digits < len(s)
}

func hashAlg(n int) string {
	switch n {
	case 32:
		return "md5"
	case 40:
		return "sha1"
	case 64:
		return "sha256"
	}
	return "sha512"
}

// textIPv6 parses a word as an IPv6 address: "2001:db8::1",
// "IPv6:2001:db8::1", "::ffff:192.0.2.1". Words with fewer than three
// groups ("a::b") are not taken, to spare C++ and Perl names.
func textIPv6(w string) (netip.Addr, bool) {
	if len(w) > 5 && strings.EqualFold(w[:5], "ipv6:") {
		w = w[5:]
	}
	w = strings.TrimRight(w, ".:")
	ip, err := netip.ParseAddr(w)
	if err != nil || !ip.Is6() {
		return netip.Addr{}, false
	}
	if ip.Is4In6() {
		return ip.Unmap(), true
	}
	groups := 0
	for _, g := range strings.Split(w, ":") {
		if g != "" {
			groups++
		}
	}
	if groups < 3 && w != "::1" {
		return netip.Addr{}, false
	}
	return ip, true
}
