package observable

import (
	"net/netip"
	"strings"
	"unicode/utf8"
)

// maxValueLen is the longest observable value TheHive accepts (the data
// field of API v1 since 5.1); longer values are not reported.
const maxValueLen = 4096

// Extract returns the observables of a parsed message, with TheHive data
// types, de-duplicated, in the order they were first found:
//
//   - the subject (mail-subject) and the sender's addresses from From,
//     Sender, Reply-To and Return-Path (mail), with their domains;
//   - X-Originating-IP and similar fields (ip);
//   - the IP addresses and host names of the Received fields, the first
//     external relay tagged "external-relay" (unless SkipReceived);
//   - the recipients, if opts.Recipients is set;
//   - URLs, host names (fqdn for a host below its registrable domain, and
//     domain for the registrable domain itself), IP addresses, mail
//     addresses and MD5/SHA-1/SHA-256/SHA-512 strings found in the
//     subject, the text and HTML bodies and text-like attachments,
//     defanged forms refanged and tagged "defanged";
//   - a file observable for each attachment (unless an inline one and
//     SkipInline), carrying the Attachment and so its hashes;
//   - and all of the above, tagged "attached-message", for each attached
//     message.
//
// IP observables are tagged "private" or "public". Host names are
// checked against the public suffix list, so that file names such as
// "invoice.php" are not taken for hosts, and given in their ASCII
// (punycode) form, tagged "idn" when internationalised. Rules in opts drop
// the organisation's own infrastructure (Allow) or force known-bad values
// in (Deny).
func Extract(e *Email, opts ExtractOptions) []Observable {
	c := newCollector(opts)
	if e != nil {
		c.email(e, nil)
	}
	return c.out
}

// ExtractText returns the observables found in plain text, such as a SIEM
// offense description or a ticket: URLs, host names, IP addresses, mail
// addresses and hashes, tagged "src:text", defanged forms refanged.
func ExtractText(s string, opts ExtractOptions) []Observable {
	c := newCollector(opts)
	c.text(s, []string{TagSrcText}, nil)
	return c.out
}

// collector accumulates observables, merging duplicates.
type collector struct {
	opts  ExtractOptions
	out   []Observable
	index map[string]int
}

func newCollector(opts ExtractOptions) *collector {
	return &collector{opts: opts, index: map[string]int{}}
}

// with returns base plus more, as a new slice.
func with(base []string, more ...string) []string {
	out := make([]string, 0, len(base)+len(more))
	out = append(out, base...)
	return append(out, more...)
}

// add records an observable under key, or merges its tags into the one
// already recorded under that key.
func (c *collector) add(key string, o Observable) {
	if o.Value == "" || len(o.Value) > maxValueLen {
		return
	}
	if !utf8.ValidString(o.Value) {
		o.Value = strings.ToValidUTF8(o.Value, "\uFFFD")
	}
	if i, ok := c.index[key]; ok {
		if i < 0 {
			return // dropped by an allow rule
		}
		for _, t := range o.Tags {
			if !c.out[i].HasTag(t) {
				c.out[i].Tags = append(c.out[i].Tags, t)
			}
		}
		return
	}
	if c.opts.Deny.Match(o) {
		o.Tags = append(o.Tags, TagDenyListed)
	} else if c.opts.Allow.Match(o) {
		// Remember the decision so that later duplicates are dropped fast.
		c.index[key] = -1
		return
	}
	o.Tags = dedupTags(o.Tags)
	c.index[key] = len(c.out)
	c.out = append(c.out, o)
}

func dedupTags(tags []string) []string {
	out := tags[:0:0]
	for _, t := range tags {
		dup := false
		for _, u := range out {
			if u == t {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, t)
		}
	}
	return out
}

// email collects the observables of a message; base tags are added to all
// of them (TagAttachedMessage for attached messages).
func (c *collector) email(e *Email, base []string) {
	hdr := with(base, TagSrcHeader)
	if s := strings.TrimSpace(e.Subject); s != "" {
		c.add("subject:"+s, Observable{Type: TypeMailSubject, Value: s, Tags: hdr})
	}
	for _, a := range e.From {
		c.headerMail(a, with(hdr, "from"))
	}
	for _, a := range e.Sender {
		c.headerMail(a, with(hdr, "sender"))
	}
	for _, a := range e.ReplyTo {
		c.headerMail(a, with(hdr, "reply-to"))
	}
	if e.ReturnPath != "" {
		c.headerMail(Address{Addr: e.ReturnPath}, with(hdr, "return-path"))
	}
	for _, name := range []string{"X-Originating-IP", "X-Sender-IP", "X-Originating-Client-IP", "X-Client-IP"} {
		for _, v := range e.Header.Values(name) {
			for _, ip := range ipsIn(v) {
				c.ip(ip, with(hdr, strings.ToLower(name)))
			}
		}
	}
	if !c.opts.SkipReceived {
		c.received(e, with(base, TagSrcReceived))
	}
	if c.opts.Recipients {
		for _, f := range []struct {
			tag   string
			addrs []Address
		}{{"to", e.To}, {"cc", e.Cc}, {"bcc", e.Bcc}, {"delivered-to", e.DeliveredTo}} {
			for _, a := range f.addrs {
				c.headerMail(a, with(hdr, f.tag))
			}
		}
		for _, h := range e.Received {
			for _, w := range strings.Fields(h.For) {
				if a := cleanAddr(strings.Trim(w, "<>;,")); strings.Contains(a, "@") {
					c.headerMail(Address{Addr: a}, with(base, TagSrcReceived, "for"))
				}
			}
		}
	}
	c.text(e.Subject, with(base, TagSrcSubject), nil)

	names := attachmentNames(e)
	for _, b := range e.Bodies {
		if b.IsHTML() {
			c.html(b.Content, with(base, TagSrcHTML), names)
		} else {
			c.text(b.Content, with(base, TagSrcBody), names)
		}
	}
	for _, a := range e.Attachments {
		tags := with(base, TagSrcAttachment)
		if a.Inline {
			tags = append(tags, TagInline)
		}
		for _, s := range a.Suspicious {
			tags = append(tags, TagSuspiciousPrefix+s)
		}
		if !(a.Inline && c.opts.SkipInline) && a.SHA256 != "" {
			c.add("file:"+a.SHA256, Observable{Type: TypeFile, Value: a.SafeName, Tags: tags, Attachment: a})
		}
		if a.Text != "" {
			if isHTMLName(a) {
				c.html(a.Text, with(base, TagSrcAttachment), names)
			} else {
				c.text(a.Text, with(base, TagSrcAttachment), names)
			}
		}
		if a.Message != nil {
			c.email(a.Message, with(base, TagAttachedMessage))
		}
	}
}

func isHTMLName(a *Attachment) bool {
	ph := partHeader{mediaType: a.ContentType, filename: a.Filename}
	return ph.isHTML() || a.ContentType == "image/svg+xml"
}

// attachmentNames returns the lower-cased names of a message's files, which
// its text may mention but which are not host names.
func attachmentNames(e *Email) map[string]bool {
	names := map[string]bool{}
	for a := range e.AllAttachments() {
		if a.Filename != "" {
			names[strings.ToLower(a.Filename)] = true
		}
	}
	return names
}

// headerMail records an address from a header field, with its domain.
func (c *collector) headerMail(a Address, tags []string) {
	addr := strings.ToLower(strings.TrimSpace(a.Addr))
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return
	}
	if n := strings.ToLower(a.Name); strings.Contains(n, "@") {
		for _, w := range strings.FieldsFunc(n, func(r rune) bool {
			return r == ' ' || r == '<' || r == '>' || r == '"' || r == '\'' || r == '(' || r == ')'
		}) {
			if strings.Contains(w, "@") && w != addr && strings.Contains(w[strings.IndexByte(w, '@'):], ".") {
				tags = with(tags, TagDisplayNameMismatch)
				break
			}
		}
	}
	c.mail(addr, tags)
}

// mail records a mail address and the host of its domain.
func (c *collector) mail(addr string, tags []string) {
	addr = strings.ToLower(addr)
	at := strings.LastIndexByte(addr, '@')
	key := "mail:" + addr
	host, ok := validHostname(addr[at+1:])
	if ok {
		key = "mail:" + addr[:at+1] + host
	}
	c.add(key, Observable{Type: TypeMail, Value: addr, Tags: tags})
	if ok {
		c.host(host, withoutFieldTags(tags))
	}
}

// withoutFieldTags drops the tags that name a header field (from, to,
// ...), which describe an address rather than its domain.
func withoutFieldTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		switch t {
		case "from", "sender", "reply-to", "return-path", "to", "cc", "bcc", "delivered-to", "for", "envelope-from", TagDisplayNameMismatch:
			continue
		}
		out = append(out, t)
	}
	return out
}

// host records a host name: as fqdn when it lies below its registrable
// domain, which is recorded as domain.
func (c *collector) host(h string, tags []string) {
	if ip, err := netip.ParseAddr(h); err == nil {
		c.ip(ip, tags)
		return
	}
	if strings.Contains(h, "xn--") {
		tags = with(tags, TagIDN)
	}
	reg := registrableDomain(h)
	if reg != h {
		c.add("fqdn:"+h, Observable{Type: TypeFQDN, Value: h, Tags: tags})
	}
	c.add("domain:"+reg, Observable{Type: TypeDomain, Value: reg, Tags: tags})
}

// ip records an IP address, tagged private or public.
func (c *collector) ip(ip netip.Addr, tags []string) {
	ip = ip.Unmap().WithZone("")
	scope := TagPrivate
	if isPublicIP(ip) {
		scope = TagPublic
	}
	v := ip.String()
	c.add("ip:"+v, Observable{Type: TypeIP, Value: v, Tags: with(tags, scope)})
}

// url records a URL and its host.
func (c *collector) url(u string, tags []string) {
	host, ok := urlHostValid(u)
	if !ok {
		return
	}
	norm := normalizeURL(u)
	key := "url:" + strings.Replace(norm, urlHost(norm), host, 1)
	if strings.Contains(host, "xn--") {
		tags = with(tags, TagIDN)
	}
	c.add(key, Observable{Type: TypeURL, Value: norm, Tags: tags})
	c.host(host, tags)
}

// normalizeURL lower-cases the scheme and host of a URL, which are
// case-insensitive, and leaves the rest as written.
func normalizeURL(u string) string {
	i := strings.Index(u, "://")
	scheme := ""
	rest := u
	if i >= 0 {
		scheme = strings.ToLower(u[:i]) + "://"
		rest = u[i+3:]
	}
	end := strings.IndexAny(rest, "/?#\\")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	at := strings.LastIndexByte(authority, '@')
	return scheme + authority[:at+1] + strings.ToLower(authority[at+1:]) + rest[end:]
}

// received records the addresses and host names of the Received fields.
func (c *collector) received(e *Email, tags []string) {
	relay, hasRelay := e.ExternalRelay(c.opts.TrustedRelays...)
	for _, h := range e.Received {
		for _, ip := range h.IPs {
			t := tags
			if hasRelay && ip == relay.FromIP {
				t = with(tags, TagExternalRelay)
			}
			c.ip(ip, t)
		}
		for _, host := range h.Hosts {
			c.host(host, tags)
		}
		if h.EnvelopeFrom != "" {
			c.headerMail(Address{Addr: h.EnvelopeFrom}, with(tags, "envelope-from"))
		}
	}
}

// text scans plain text.
func (c *collector) text(s string, tags []string, names map[string]bool) {
	c.scan(s, tags, names, false)
}

// scan refangs s and records what a textScanner finds in it.
func (c *collector) scan(s string, tags []string, names map[string]bool, urlsOnly bool) {
	if strings.TrimSpace(s) == "" {
		return
	}
	s, edits := refang(s)
	t := &textScanner{s: s, names: names}
	t.emit = func(f finding) {
		ft := tags
		if edits != nil && overlaps(edits, f.start, f.end) {
			ft = with(ft, TagDefanged)
		}
		switch f.typ {
		case TypeURL:
			u := f.value
			if strings.Contains(u, "&amp;") {
				u = strings.ReplaceAll(u, "&amp;", "&")
			}
			if f.noScheme {
				ft = with(ft, TagNoScheme)
			}
			c.url(u, ft)
		case TypeMail:
			c.mail(f.value, ft)
		case TypeIP:
			if ip, err := netip.ParseAddr(f.value); err == nil {
				c.ip(ip, ft)
			}
		case TypeFQDN:
			c.host(f.value, ft)
		case TypeHash:
			c.add("hash:"+f.value, Observable{Type: TypeHash, Value: f.value, Tags: with(ft, f.hashAlg)})
		}
	}
	t.scan(urlsOnly)
}

// html scans an HTML document: the URLs of its links and resources, then
// its text, then the URLs in its scripts.
func (c *collector) html(s string, tags []string, names map[string]bool) {
	if strings.TrimSpace(s) == "" {
		return
	}
	doc := scanHTML(s)
	for _, l := range doc.links {
		c.link(l, tags)
	}
	c.scan(doc.text, tags, names, false)
	c.scan(doc.code, tags, names, true)
}

// link records the URL of an HTML attribute: web URLs, mailto: addresses;
// relative references, cid:, data: and other schemes are not indicators.
func (c *collector) link(l htmlLink, tags []string) {
	v, edits := refang(l.value)
	if edits != nil {
		tags = with(tags, TagDefanged)
	}
	lower := strings.ToLower(v)
	switch {
	case strings.HasPrefix(lower, "mailto:"):
		addrs := v[len("mailto:"):]
		if q := strings.IndexByte(addrs, '?'); q >= 0 {
			addrs = addrs[:q]
		}
		for _, a := range strings.Split(addrs, ",") {
			a = strings.TrimSpace(percentUnescape(a))
			if at := strings.LastIndexByte(a, '@'); at > 0 {
				if _, ok := validHostname(a[at+1:]); ok {
					c.mail(a, tags)
				}
			}
		}
		return
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"),
		strings.HasPrefix(lower, "ftp://"), strings.HasPrefix(lower, "ftps://"):
	case strings.HasPrefix(lower, "www."):
		tags = with(tags, TagNoScheme)
	case strings.HasPrefix(lower, "//"):
		tags = with(tags, TagNoScheme)
	default:
		return
	}
	if l.a && linkTextMismatch(l.text, v) {
		tags = with(tags, TagLinkMismatch)
	}
	c.url(v, tags)
}

func percentUnescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	return string(percentDecode(s))
}

// linkTextMismatch reports a link whose text shows a URL or host name in
// another registrable domain than the link's target: the classic phishing
// link "<a href=https://evil.example>https://bank.example</a>".
func linkTextMismatch(text, href string) bool {
	if text == "" {
		return false
	}
	target, ok := urlHostValid(href)
	if !ok {
		return false
	}
	var shown []string
	t := &textScanner{s: text, emit: func(f finding) {
		switch f.typ {
		case TypeURL:
			if h, ok := urlHostValid(f.value); ok {
				shown = append(shown, h)
			}
		case TypeFQDN:
			shown = append(shown, f.value)
		}
	}}
	t.scan(false)
	for _, h := range shown {
		if registrableDomain(h) != registrableDomain(target) {
			return true
		}
	}
	return false
}
