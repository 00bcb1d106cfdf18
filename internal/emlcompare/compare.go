package main

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"

	"github.com/synapse-go/synapse/observable"
)

// The categories compared.
const (
	catURL    = "url"
	catIP     = "ip"
	catDomain = "domain"
	catMail   = "mail"
	catHash   = "hash"
)

var categories = []string{catURL, catIP, catDomain, catMail, catHash}

// Verdicts on a difference.
const (
	verdictOursRight   = "ours right"   // eml_parser reports something wrong, or misses something real
	verdictTheirsRight = "theirs right" // eml_parser finds something real that we miss
	verdictExplained   = "explained"    // both are right, in different terms
)

// diff is one value found by one side only, with the reason.
type diff struct {
	Cat     string
	Value   string
	Side    string // "theirs" (eml_parser only) or "ours"
	Verdict string
	Reason  string
}

// counts are per-category tallies of eml_parser's values.
type counts struct {
	Theirs    int // values eml_parser reports
	Found     int // of which we report too
	Wrong     int // of which are wrong (ours right not to report them)
	Explained int // of which differ for a reason that makes both right
	Missed    int // of which we miss although they are right
	OursOnly  int // values only we report
}

func (c *counts) add(o counts) {
	c.Theirs += o.Theirs
	c.Found += o.Found
	c.Wrong += o.Wrong
	c.Explained += o.Explained
	c.Missed += o.Missed
	c.OursOnly += o.OursOnly
}

// emailResult is the comparison for one email.
type emailResult struct {
	Name string
	// ParseErr is ParseEmail's error; Panic a recovered panic.
	ParseErr string
	Panic    string
	// BodyLost is set when eml_parser found body text and we found none.
	BodyLost bool
	// BodyTexts and BodyTextsSame count eml_parser's body parts and those
	// whose text we decoded identically.
	BodyTexts, BodyTextsSame int
	Defects                  int
	Counts                   map[string]*counts
	Diffs                    []diff
}

// oracle is the part of an eml_parser output file the comparison reads.
type oracle struct {
	Oracle struct {
		Error   any `json:"error"`
		Summary struct {
			Attachments []struct {
				ContentType string `json:"content_type"`
				Filename    string `json:"filename"`
				MD5         string `json:"md5"`
				SHA1        string `json:"sha1"`
				SHA256      string `json:"sha256"`
				Size        int64  `json:"size"`
			} `json:"attachments"`
			BodyParts []struct {
				ContentType *string `json:"content_type"`
				Length      int     `json:"length"`
				SHA256      string  `json:"sha256"`
			} `json:"body_parts"`
			CC               []string `json:"cc"`
			DeliveredTo      []string `json:"delivered_to"`
			Domains          []string `json:"domains"`
			Emails           []string `json:"emails"`
			From             *string  `json:"from"`
			IPs              []string `json:"ips"`
			ReceivedDomain   []string `json:"received_domain"`
			ReceivedEmail    []string `json:"received_email"`
			ReceivedForEmail []string `json:"received_foremail"`
			ReceivedIP       []string `json:"received_ip"`
			ReplyTo          []string `json:"reply_to"`
			ReturnPath       []string `json:"return_path"`
			Sender           []string `json:"sender"`
			To               []string `json:"to"`
			URLs             []string `json:"urls"`
			URLsNoScheme     []string `json:"urls_noscheme"`
		} `json:"summary"`
	} `json:"_oracle"`
}

// corpus locates the two directories of a corpus.
type corpus struct {
	emlDir, jsonDir string
}

func newCorpus(dir string) (corpus, error) {
	c := corpus{emlDir: filepath.Join(dir, "eml"), jsonDir: filepath.Join(dir, "eml_parser-output")}
	for _, d := range []string{c.emlDir, c.jsonDir} {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return c, fmt.Errorf("corpus: %s is not a directory", d)
		}
	}
	return c, nil
}

// names lists the emails that have an eml_parser output, sorted.
func (c corpus) names() ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(c.emlDir, "*.eml"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range paths {
		name := filepath.Base(p)
		if _, err := os.Stat(c.jsonPath(name)); err == nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}

func (c corpus) jsonPath(name string) string {
	return filepath.Join(c.jsonDir, strings.TrimSuffix(name, ".eml")+".json")
}

// compareOne parses one email and compares the result with eml_parser's.
func (c corpus) compareOne(name string) (res emailResult) {
	res = emailResult{Name: name, Counts: map[string]*counts{}}
	for _, cat := range categories {
		res.Counts[cat] = &counts{}
	}
	raw, err := os.ReadFile(filepath.Join(c.emlDir, name))
	if err != nil {
		res.ParseErr = err.Error()
		return res
	}
	js, err := os.ReadFile(c.jsonPath(name))
	if err != nil {
		res.ParseErr = err.Error()
		return res
	}
	var theirs oracle
	if err := json.Unmarshal(js, &theirs); err != nil {
		res.ParseErr = "eml_parser output: " + err.Error()
		return res
	}

	var e *observable.Email
	func() {
		defer func() {
			if r := recover(); r != nil {
				res.Panic = fmt.Sprint(r)
			}
		}()
		e, err = observable.ParseEmail(bytes.NewReader(raw))
	}()
	if res.Panic != "" {
		return res
	}
	if err != nil {
		res.ParseErr = err.Error()
	}
	res.Defects = len(e.Defects)
	var obs []observable.Observable
	func() {
		defer func() {
			if r := recover(); r != nil {
				res.Panic = "Extract: " + fmt.Sprint(r)
			}
		}()
		obs = observable.Extract(e, observable.ExtractOptions{Recipients: true})
	}()
	if res.Panic != "" {
		return res
	}

	ours := newOurSide(e, obs)
	s := theirs.Oracle.Summary
	cmp := &comparer{res: &res, raw: string(raw), email: e, ours: ours}

	// Bodies.
	ourTexts := ours.texts
	anyTheirs := false
	for _, b := range s.BodyParts {
		if b.Length == 0 {
			continue
		}
		anyTheirs = true
		res.BodyTexts++
		if ours.textHashes[b.SHA256] {
			res.BodyTextsSame++
		}
	}
	if anyTheirs && strings.TrimSpace(strings.Join(ourTexts, "")) == "" {
		res.BodyLost = true
	}

	// URLs.
	var urls []string
	urls = append(urls, s.URLs...)
	urls = append(urls, s.URLsNoScheme...)
	cmp.urls(dedup(urls))

	// IPs.
	cmp.ips(dedup(append(append([]string{}, s.IPs...), s.ReceivedIP...)))

	// Domains.
	cmp.domains(dedup(append(append([]string{}, s.Domains...), s.ReceivedDomain...)))

	// Addresses.
	var mails []string
	mails = append(mails, s.Emails...)
	if s.From != nil {
		mails = append(mails, *s.From)
	}
	mails = append(mails, s.To...)
	mails = append(mails, s.CC...)
	mails = append(mails, s.DeliveredTo...)
	mails = append(mails, s.ReceivedForEmail...)
	mails = append(mails, s.ReceivedEmail...)
	for _, v := range append(append(append([]string{}, s.ReplyTo...), s.Sender...), s.ReturnPath...) {
		mails = append(mails, addressesIn(v)...)
	}
	cmp.mails(dedup(lowerAll(mails)))

	// Attachment hashes.
	for _, a := range s.Attachments {
		cmp.attachment(a.Filename, a.ContentType, a.MD5, a.SHA1, a.SHA256, a.Size)
	}

	cmp.oursOnly()
	sort.SliceStable(res.Diffs, func(i, j int) bool {
		if res.Diffs[i].Cat != res.Diffs[j].Cat {
			return catIndex(res.Diffs[i].Cat) < catIndex(res.Diffs[j].Cat)
		}
		return res.Diffs[i].Side > res.Diffs[j].Side
	})
	return res
}

func catIndex(c string) int {
	for i, x := range categories {
		if x == c {
			return i
		}
	}
	return len(categories)
}

// ourSide indexes what the observable package found.
type ourSide struct {
	urls    map[string]observable.Observable // normalised URL
	rawURLs []string
	ips     map[string]observable.Observable
	hosts   map[string]observable.Observable // fqdn and domain values
	mails   map[string]observable.Observable
	// attachments by MD5
	files      map[string]*observable.Attachment
	messages   []*observable.Attachment
	messageMD5 map[string]*observable.Attachment
	texts      []string
	textHashes map[string]bool
	bodyMD5    map[string]bool
	used       map[string]bool // "cat\x00value" of ours matched by eml_parser's
}

func newOurSide(e *observable.Email, obs []observable.Observable) *ourSide {
	o := &ourSide{
		urls: map[string]observable.Observable{}, ips: map[string]observable.Observable{},
		hosts: map[string]observable.Observable{}, mails: map[string]observable.Observable{},
		files: map[string]*observable.Attachment{}, textHashes: map[string]bool{},
		messageMD5: map[string]*observable.Attachment{},
		bodyMD5:    map[string]bool{}, used: map[string]bool{},
	}
	for _, ob := range obs {
		switch ob.Type {
		case observable.TypeURL:
			o.urls[normURL(ob.Value)] = ob
			o.rawURLs = append(o.rawURLs, ob.Value)
		case observable.TypeIP:
			o.ips[ob.Value] = ob
		case observable.TypeDomain, observable.TypeFQDN:
			o.hosts[ob.Value] = ob
		case observable.TypeMail:
			o.mails[strings.ToLower(ob.Value)] = ob
		}
	}
	var walk func(e *observable.Email)
	walk = func(e *observable.Email) {
		for _, b := range e.Bodies {
			o.addText(b.Content)
			sum := md5.Sum([]byte(b.Content))
			o.bodyMD5[hex.EncodeToString(sum[:])] = true
		}
		for _, a := range e.Attachments {
			if a.Message != nil {
				o.messages = append(o.messages, a)
				o.messageMD5[a.MD5] = a
				walk(a.Message)
				continue
			}
			o.files[a.MD5] = a
			if a.Text != "" {
				o.addText(a.Text)
			}
		}
	}
	walk(e)
	return o
}

func (o *ourSide) addText(t string) {
	o.texts = append(o.texts, t)
	for _, v := range []string{t, strings.ReplaceAll(t, "\r\n", "\n")} {
		o.textHashes[sha256hex(v)] = true
	}
}

type comparer struct {
	res   *emailResult
	raw   string
	email *observable.Email
	ours  *ourSide
}

func (c *comparer) theirs(cat, value, verdict, reason string) {
	cnt := c.res.Counts[cat]
	switch verdict {
	case verdictOursRight:
		cnt.Wrong++
	case verdictExplained:
		cnt.Explained++
	default:
		cnt.Missed++
	}
	c.res.Diffs = append(c.res.Diffs, diff{Cat: cat, Value: value, Side: "theirs", Verdict: verdict, Reason: reason})
}

func (c *comparer) found(cat, ourValue string) {
	c.res.Counts[cat].Found++
	c.markUsed(cat, ourValue)
}

// markUsed records that a value of ours answers one of eml_parser's, so
// that it is not listed as ours only.
func (c *comparer) markUsed(cat, ourValue string) {
	c.ours.used[cat+"\x00"+ourValue] = true
}

// urls compares eml_parser's URLs with ours.
func (c *comparer) urls(theirs []string) {
	for _, u := range theirs {
		c.res.Counts[catURL].Theirs++
		n := normURL(u)
		if ob, ok := c.ours.urls[n]; ok {
			c.found(catURL, ob.Value)
			continue
		}
		lower := strings.ToLower(u)
		switch {
		case strings.HasPrefix(lower, "mailto:"):
			addr := strings.ToLower(strings.SplitN(u[len("mailto:"):], "?", 2)[0])
			if _, ok := c.ours.mails[addr]; ok {
				c.markUsed(catMail, addr)
				c.theirs(catURL, u, verdictExplained, "a mailto: link: we report the address as a mail observable")
			} else {
				c.theirs(catURL, u, verdictTheirsRight, "a mailto: link whose address we do not report")
			}
			continue
		case strings.HasPrefix(lower, "cid:"):
			c.theirs(catURL, u, verdictOursRight, "a Content-ID reference to a part of this message, not a URL")
			continue
		case !strings.Contains(u, "://") && !strings.HasPrefix(lower, "www."):
			c.theirs(catURL, u, verdictOursRight, "not an absolute URL (a relative link or a bare name)")
			continue
		}
		if host := hostOf(u); !validHost(host) {
			c.theirs(catURL, u, verdictOursRight, fmt.Sprintf("host %q is neither an IP address nor a name under a known public suffix", host))
			continue
		}
		if reason := c.urlRelation(n); reason != "" {
			c.theirs(catURL, u, verdictOursRight, reason)
			continue
		}
		if reason := c.hiddenContext(u); reason != "" {
			c.theirs(catURL, u, verdictOursRight, reason)
			continue
		}
		c.theirs(catURL, u, verdictTheirsRight, "we do not report this URL")
	}
}

// urlRelation explains a URL of eml_parser's that is a cut or overlong
// form of one of ours.
func (c *comparer) urlRelation(n string) string {
	for _, ou := range c.ours.rawURLs {
		on := normURL(ou)
		switch {
		case strings.HasPrefix(n, on) && len(n) > len(on):
			extra := n[len(on):]
			if strings.ContainsAny(extra[:1], "\"'<>()[]{}|\\^` ,;") || strings.HasPrefix(extra, "&quot") || strings.HasPrefix(extra, "&gt") || strings.HasPrefix(extra, "&lt") {
				c.markUsed(catURL, ou)
				return fmt.Sprintf("runs past the end of the URL into %q; we report %s", truncate(extra, 20), ou)
			}
		case strings.HasPrefix(on, n) && len(on) > len(n):
			c.markUsed(catURL, ou)
			return "cut short (eml_parser scans text in fixed-size windows); the full URL is " + ou
		}
	}
	return ""
}

// hiddenContext explains a value found only where it is no indicator: in
// HTML comments, a document type declaration or an XML namespace.
func (c *comparer) hiddenContext(v string) string {
	seen := false
	reasons := map[string]bool{}
	for _, t := range c.ours.texts {
		lt := strings.ToLower(t)
		lv := strings.ToLower(v)
		for i := 0; ; {
			k := strings.Index(lt[i:], lv)
			if k < 0 {
				break
			}
			at := i + k
			i = at + len(lv)
			seen = true
			before := lt[:at]
			switch {
			case strings.LastIndex(before, "<!--") > strings.LastIndex(before, "-->"):
				reasons["inside an HTML comment, which is neither shown nor fetched"] = true
			case xmlnsBefore(before):
				reasons["an XML namespace name in the HTML, not a link"] = true
			case strings.LastIndex(before, "<!doctype") >= 0 && strings.LastIndex(before, "<!doctype") > strings.LastIndex(before, ">"):
				reasons["the document type identifier of the HTML, not a link"] = true
			default:
				return ""
			}
		}
	}
	if !seen {
		return ""
	}
	return joinReasons(reasons)
}

func xmlnsBefore(before string) bool {
	before = strings.TrimSuffix(strings.TrimSuffix(before, "http://"), "https://")
	i := strings.LastIndex(before, "xmlns")
	if i < 0 || i < len(before)-40 {
		return false
	}
	rest := strings.TrimLeft(before[i+5:], ":abcdefghijklmnopqrstuvwxyz0123456789")
	rest = strings.TrimSpace(rest)
	return rest == "=\"" || rest == "='" || rest == "=" || rest == "=3d\""
}

func joinReasons(m map[string]bool) string {
	var rs []string
	for r := range m {
		rs = append(rs, r)
	}
	sort.Strings(rs)
	return strings.Join(rs, "; ")
}

// cutShort explains a value of eml_parser's that is a piece of a longer
// value of ours, cut inside a word.
func (c *comparer) cutShort(v string, ours []string) string {
	lv := strings.ToLower(v)
	for _, o := range ours {
		lo := strings.ToLower(o)
		k := strings.Index(lo, lv)
		if k < 0 || lo == lv {
			continue
		}
		before, after := byte(' '), byte(' ')
		if k > 0 {
			before = lo[k-1]
		}
		if k+len(lv) < len(lo) {
			after = lo[k+len(lv)]
		}
		if isAlnum(before) || before >= 0x80 || isAlnum(after) || after >= 0x80 || (after == '.' && k+len(lv)+1 < len(lo)) {
			return "cut short (at eml_parser's fixed-size text windows or a non-ASCII character); the full value is " + o
		}
	}
	return ""
}

// ips compares eml_parser's IP addresses with ours.
func (c *comparer) ips(theirs []string) {
	for _, v := range theirs {
		c.res.Counts[catIP].Theirs++
		ip, err := netip.ParseAddr(v)
		if err != nil {
			c.theirs(catIP, v, verdictOursRight, "not an IP address ("+strings.TrimPrefix(err.Error(), "ParseAddr(\""+v+"\"): ")+")")
			continue
		}
		key := ip.Unmap().WithZone("").String()
		if _, ok := c.ours.ips[key]; ok {
			c.found(catIP, key)
			continue
		}
		if reason := c.notAnAddress(v); reason != "" {
			c.theirs(catIP, v, verdictOursRight, reason)
			continue
		}
		c.theirs(catIP, v, verdictTheirsRight, "we do not report this address")
	}
}

// idBefore reports text ending with the word "id" and white space.
func idBefore(s string) bool {
	t := strings.ToLower(strings.TrimRight(s, " \t\r\n"))
	return len(t) < len(s) && strings.HasSuffix(t, "id") && (len(t) == 2 || !isAlnum(t[len(t)-3]))
}

// notAnAddress explains why every occurrence of an IP-looking string in
// the raw message is something else, or returns "".
func (c *comparer) notAnAddress(v string) string {
	raw := c.raw
	reasons := map[string]bool{}
	for i := 0; ; {
		k := strings.Index(raw[i:], v)
		if k < 0 {
			break
		}
		at := i + k
		i = at + len(v)
		before, after := byte(' '), byte(' ')
		if at > 0 {
			before = raw[at-1]
		}
		if i < len(raw) {
			after = raw[i]
		}
		switch {
		case isAlnum(before) || before == '.' || before == '-' || before == '_' || (after == '.' && i+1 < len(raw) && isAlnum(raw[i+1])) || isAlnum(after):
			reasons["part of a longer token (a message ID, date stamp or version string)"] = true
		case idBefore(raw[max(0, at-10):at]):
			reasons["a server version after \"id\" in a Received field, not an address"] = true
		case before == ':' && at >= 2 && isAlnum(raw[at-2]):
			reasons["a version string (\"name:1.2.3.4\"), not an address"] = true
		case inWithClause(raw, at):
			reasons["in the \"with\" clause of a Received field (a software version), not an address"] = true
		default:
			return ""
		}
	}
	var rs []string
	for r := range reasons {
		rs = append(rs, r)
	}
	sort.Strings(rs)
	return strings.Join(rs, "; ")
}

// domains compares eml_parser's domains with our fqdn and domain values.
func (c *comparer) domains(theirs []string) {
	for _, d := range theirs {
		c.res.Counts[catDomain].Theirs++
		h := strings.ToLower(strings.TrimSuffix(d, "."))
		if ip, err := netip.ParseAddr(h); err == nil {
			if _, ok := c.ours.ips[ip.String()]; ok {
				c.markUsed(catIP, ip.String())
				c.theirs(catDomain, d, verdictExplained, "an IP address, which we report as an ip observable")
			} else {
				c.theirs(catDomain, d, verdictTheirsRight, "an IP address we do not report")
			}
			continue
		}
		if a, err := idna.Lookup.ToASCII(h); err == nil {
			h = a
		}
		if _, ok := c.ours.hosts[h]; ok {
			c.found(catDomain, h)
			continue
		}
		if !validHost(h) {
			c.theirs(catDomain, d, verdictOursRight, "not under a known public suffix (a file name, an internal or a made-up name)")
			continue
		}
		if reason := c.cutShort(h, c.ours.allValues()); reason != "" {
			c.theirs(catDomain, d, verdictOursRight, reason)
			continue
		}
		if c.sentenceJoin(h) {
			c.theirs(catDomain, d, verdictOursRight, "two words of a sentence run together (\"delays.You\"), not a host")
			continue
		}
		if reason := c.hiddenContext(h); reason != "" {
			c.theirs(catDomain, d, verdictOursRight, "host of a URL that is "+reason)
			continue
		}
		c.theirs(catDomain, d, verdictTheirsRight, "we do not report this host")
	}
}

// sentenceJoin reports whether every occurrence of h in the texts is
// written "word.Capitalised", the end of a sentence without its space.
func (c *comparer) sentenceJoin(h string) bool {
	seen := false
	for _, t := range c.ours.texts {
		lt := strings.ToLower(t)
		for i := 0; ; {
			k := strings.Index(lt[i:], h)
			if k < 0 {
				break
			}
			at := i + k
			i = at + len(h)
			seen = true
			dot := strings.LastIndexByte(h, '.')
			tld := t[at+dot+1 : at+len(h)]
			if len(tld) < 2 || !(tld[0] >= 'A' && tld[0] <= 'Z') || strings.ToUpper(tld) == tld {
				return false
			}
		}
	}
	return seen
}

func (o *ourSide) allValues() []string {
	var vs []string
	vs = append(vs, o.rawURLs...)
	for k := range o.hosts {
		vs = append(vs, k)
	}
	for k := range o.mails {
		vs = append(vs, k)
	}
	sort.Strings(vs)
	return vs
}

// mails compares eml_parser's addresses with ours.
func (c *comparer) mails(theirs []string) {
	for _, m := range theirs {
		if m == "" {
			continue
		}
		c.res.Counts[catMail].Theirs++
		if _, ok := c.ours.mails[m]; ok {
			c.found(catMail, m)
			continue
		}
		at := strings.LastIndexByte(m, '@')
		lraw := strings.ToLower(c.raw)
		var ourMails []string
		for k := range c.ours.mails {
			ourMails = append(ourMails, k)
		}
		sort.Strings(ourMails)
		switch {
		case at < 0:
			c.theirs(catMail, m, verdictOursRight, "not an address")
		case strings.Contains(lraw, "cid:"+m) || c.inTexts("cid:"+m):
			c.theirs(catMail, m, verdictOursRight, "a Content-ID reference (cid:) to a part of this message, not an address")
		case strings.Contains(lraw, "id <"+m):
			c.theirs(catMail, m, verdictOursRight, "a message ID in the \"id\" clause of a Received field, not an address")
		case strings.Contains(lraw, "message-id: <"+m) || strings.Contains(lraw, "message-id:<"+m):
			c.theirs(catMail, m, verdictOursRight, "a message ID quoted in the message (\"Message-ID: <...>\"), not an address; we report its host")
		case keyed(m, c.ours.mails) != "":
			c.theirs(catMail, m, verdictOursRight, "a \"key=\" written before the address, as in Authentication-Results; the address is "+keyed(m, c.ours.mails))
		case c.cutShort(m, ourMails) != "":
			c.theirs(catMail, m, verdictOursRight, c.cutShort(m, ourMails))
		case displayNameRe(m).MatchString(lraw):
			c.theirs(catMail, m, verdictOursRight, "a display name written like an address (a spoofing pattern); the mailbox is the address in angle brackets, which we report tagged display-name-mismatch")
		case isIPv4(m[at+1:]):
			c.theirs(catMail, m, verdictOursRight, "an SMTP login (user@IP) noted in a Received comment; an address with an IP domain is written user@[IP]")
		case !validHost(m[at+1:]):
			c.theirs(catMail, m, verdictOursRight, "the domain is not under a known public suffix: not a deliverable Internet address")
		default:
			c.theirs(catMail, m, verdictTheirsRight, "we do not report this address")
		}
	}
}

// keyed returns the address of ours that m ends with after an "=", as in
// "smtp.mailfrom=user@example.com", or "".
func keyed(m string, ours map[string]observable.Observable) string {
	for i := len(m) - 1; i >= 0; i-- {
		if m[i] == '=' {
			if _, ok := ours[m[i+1:]]; ok {
				return m[i+1:]
			}
		}
	}
	return ""
}

// displayNameRe matches an address used as the display name of another
// one in a header field: "alice@example.com <bob@example.org>".
func displayNameRe(m string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^(from|to|cc|reply-to|sender):.*` + regexp.QuoteMeta(m) + `"?\s*<[^>]+@`)
}

func isIPv4(s string) bool {
	ip, err := netip.ParseAddr(s)
	return err == nil && ip.Is4()
}

func (c *comparer) inTexts(s string) bool {
	for _, t := range c.ours.texts {
		if strings.Contains(strings.ToLower(t), s) {
			return true
		}
	}
	return false
}

// inWithClause reports whether position at of raw lies in a Received
// field after its "with" keyword.
func inWithClause(raw string, at int) bool {
	start := strings.LastIndex(strings.ToLower(raw[:at]), "\nreceived:")
	if start < 0 {
		return false
	}
	field := strings.ToLower(raw[start:at])
	// The field must not have ended before at.
	for i := 2; i < len(field); i++ {
		if field[i-1] == '\n' && field[i] != ' ' && field[i] != '\t' && !(field[i] == '\r') {
			return false
		}
	}
	w := strings.LastIndex(field, " with ")
	return w >= 0 && w > strings.LastIndex(field, " by ")
}

// attachment compares one of eml_parser's attachments with ours by hash.
func (c *comparer) attachment(name, contentType, md5sum, sha1sum, sha256sum string, size int64) {
	cnt := c.res.Counts[catHash]
	cnt.Theirs++
	label := fmt.Sprintf("%s (%s, %d bytes, md5 %s)", name, strings.SplitN(contentType, ";", 2)[0], size, md5sum)
	if a, ok := c.ours.messageMD5[md5sum]; ok && a.SHA256 == sha256sum {
		c.found(catHash, md5sum)
		return
	}
	if a, ok := c.ours.files[md5sum]; ok {
		if a.SHA1 == sha1sum && a.SHA256 == sha256sum {
			c.found(catHash, md5sum)
			return
		}
		c.theirs(catHash, label, verdictTheirsRight, "MD5 equal but SHA-1 or SHA-256 differ")
		return
	}
	mt := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	switch {
	case mt == "message/rfc822":
		// eml_parser hashes its own re-serialisation of the parsed message.
		for _, m := range c.ours.messages {
			if c.ours.used[catHash+"\x00"+m.MD5] {
				continue
			}
			if m.Filename == name || (strings.HasPrefix(name, "part-") && m.Filename == "") {
				c.markUsed(catHash, m.MD5)
				c.theirs(catHash, label, verdictExplained, fmt.Sprintf("attached message: eml_parser hashes its own re-serialisation of the parsed message; we hash the original bytes (%s, %d bytes, md5 %s)", m.SafeName, m.Size, m.MD5))
				return
			}
		}
	case strings.HasPrefix(mt, "multipart/"):
		// A multipart whose boundary is missing or never appears: Python
		// keeps the body as one opaque part, we read it as text.
		if c.ours.bodyMD5[md5sum] {
			c.markUsed(catHash, md5sum)
			c.theirs(catHash, label, verdictExplained, "a multipart without usable boundary: eml_parser lists its body as an attachment, we read it as the body text (same bytes)")
			return
		}
		if size == 0 {
			c.theirs(catHash, label, verdictOursRight, "an empty multipart without usable boundary listed as a file; nothing to attach")
			return
		}
	}
	if strings.HasPrefix(mt, "multipart/") && c.splitRoot() {
		c.theirs(catHash, label, verdictOursRight, "eml_parser could not split this multipart (malformed boundary parameter) and hashed its whole body as a file; we split it into its parts")
		return
	}
	if c.rawBase64MD5(md5sum) {
		c.theirs(catHash, label, verdictOursRight, "base64 with a stray final character: Python gives up and returns the base64 text itself, which eml_parser hashed; we decode the valid groups")
		return
	}
	for a := range c.email.AllAttachments() {
		if a.ContentType != "message/external-body" {
			continue
		}
		// The part holds a header, an empty line and the phantom body,
		// which is empty when the empty line is missing.
		phantom := ""
		for _, sep := range []string{"\r\n\r\n", "\n\n"} {
			if i := strings.Index(a.Text, sep); i >= 0 {
				phantom = a.Text[i+len(sep):]
				break
			}
		}
		if sum := md5.Sum([]byte(phantom)); hex.EncodeToString(sum[:]) == md5sum && !c.ours.used[catHash+"\x00ext"+a.Path] {
			c.ours.used[catHash+"\x00ext"+a.Path] = true
			c.markUsed(catHash, a.MD5)
			c.theirs(catHash, label, verdictExplained, "the phantom body of a message/external-body part (the file itself is stored elsewhere): eml_parser lists it as a file, we keep the whole part ("+a.SafeName+")")
			return
		}
	}
	c.theirs(catHash, label, verdictTheirsRight, "no attachment of ours has this hash")
}

// splitRoot reports whether we split the top-level multipart into parts.
func (c *comparer) splitRoot() bool {
	for _, d := range c.email.Defects {
		if d.Path == "" && (d.Kind == observable.DefectNoBoundary || d.Kind == observable.DefectBoundaryNotFound) {
			return false
		}
	}
	return len(c.email.Bodies)+len(c.email.Attachments) > 0
}

// rawBase64MD5 reports whether md5sum is the MD5 of a block of base64
// lines of the raw message, taken as text.
func (c *comparer) rawBase64MD5(md5sum string) bool {
	var block strings.Builder
	check := func() bool {
		if block.Len() == 0 {
			return false
		}
		sum := md5.Sum([]byte(block.String()))
		block.Reset()
		return hex.EncodeToString(sum[:]) == md5sum
	}
	for _, line := range strings.Split(c.raw, "\n") {
		line = strings.TrimRight(line, "\r")
		if line != "" && strings.Trim(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") == "" {
			block.WriteString(line)
			continue
		}
		if check() {
			return true
		}
	}
	return check()
}

// oursOnly lists what we report and eml_parser does not.
func (c *comparer) oursOnly() {
	add := func(cat, value string, ob observable.Observable) {
		if c.ours.used[cat+"\x00"+value] {
			return
		}
		c.res.Counts[cat].OursOnly++
		verdict, reason := oursReason(cat, ob, c)
		c.res.Diffs = append(c.res.Diffs, diff{Cat: cat, Value: value, Side: "ours", Verdict: verdict, Reason: reason})
	}
	for _, k := range sortedKeys(c.ours.urls) {
		ob := c.ours.urls[k]
		add(catURL, ob.Value, ob)
	}
	for _, k := range sortedKeys(c.ours.ips) {
		add(catIP, k, c.ours.ips[k])
	}
	for _, k := range sortedKeys(c.ours.hosts) {
		add(catDomain, k, c.ours.hosts[k])
	}
	for _, k := range sortedKeys(c.ours.mails) {
		add(catMail, k, c.ours.mails[k])
	}
	var md5s []string
	for k := range c.ours.files {
		md5s = append(md5s, k)
	}
	sort.Strings(md5s)
	for _, k := range md5s {
		if c.ours.used[catHash+"\x00"+k] {
			continue
		}
		a := c.ours.files[k]
		c.res.Counts[catHash].OursOnly++
		reason := "a part eml_parser does not list as an attachment"
		switch {
		case strings.HasPrefix(a.ContentType, "text/") && a.Disposition != "attachment":
			reason = "a named text part, which eml_parser treats as body text only"
		case strings.HasPrefix(a.Path, "") && strings.Count(a.Path, ".") > 0 && len(c.ours.messages) > 0:
			reason = "inside an attached message"
		}
		c.res.Diffs = append(c.res.Diffs, diff{Cat: catHash, Value: fmt.Sprintf("%s (%s, %d bytes, md5 %s)", a.SafeName, a.ContentType, a.Size, a.MD5), Side: "ours", Verdict: verdictOursRight, Reason: reason})
	}
	for _, m := range c.ours.messages {
		if !c.ours.used[catHash+"\x00"+m.MD5] {
			c.res.Counts[catHash].OursOnly++
			c.res.Diffs = append(c.res.Diffs, diff{Cat: catHash, Value: fmt.Sprintf("%s (message/rfc822, %d bytes, md5 %s)", m.SafeName, m.Size, m.MD5), Side: "ours", Verdict: verdictOursRight, Reason: "an attached message eml_parser does not list"})
		}
	}
}

// oursReason explains a value only we report, from where we found it.
func oursReason(cat string, ob observable.Observable, c *comparer) (string, string) {
	switch {
	case ob.HasTag(observable.TagDefanged):
		return verdictOursRight, "written defanged; eml_parser does not refang"
	case ob.HasTag(observable.TagAttachedMessage):
		return verdictOursRight, "in an attached message, whose header and body eml_parser does not read as a message"
	case ob.HasTag(observable.TagSrcSubject) && len(ob.Tags) <= 2:
		return verdictOursRight, "in the subject, which eml_parser does not scan"
	}
	switch cat {
	case catDomain:
		for h := range c.ours.hosts {
			if h != ob.Value && strings.HasSuffix(h, "."+ob.Value) {
				return verdictOursRight, "registrable domain of " + h
			}
		}
		if ob.HasTag(observable.TagSrcReceived) {
			return verdictOursRight, "a host name in a Received field (HELO or reverse DNS name in a comment, which eml_parser skips)"
		}
		if ob.HasTag(observable.TagSrcHeader) {
			return verdictOursRight, "domain of a sender address"
		}
	case catIP:
		if ob.HasTag(observable.TagSrcHeader) {
			return verdictOursRight, "from an X-Originating-IP style header field"
		}
	case catMail:
		if ob.HasTag("envelope-from") {
			return verdictOursRight, "envelope sender noted in a Received field"
		}
		if ob.HasTag(observable.TagSrcHTML) {
			return verdictOursRight, "a mailto: link or an address in the HTML text"
		}
	case catURL:
		if ob.HasTag(observable.TagSrcHTML) {
			return verdictOursRight, "an HTML link or resource URL (eml_parser's href regex covers only <a href> and <img src>)"
		}
	}
	return verdictOursRight, "found in " + strings.Join(ob.Tags, ", ") + "; not in eml_parser's output"
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// normURL normalises a URL for comparison: entities decoded, scheme and
// host lower-cased, host in ASCII, no trailing slash.
func normURL(u string) string {
	u = strings.TrimSpace(html.UnescapeString(u))
	i := strings.Index(u, "://")
	scheme, rest := "", u
	if i >= 0 {
		scheme, rest = strings.ToLower(u[:i])+"://", u[i+3:]
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	host := strings.ToLower(rest[:end])
	if a, err := idna.Lookup.ToASCII(host); err == nil {
		host = a
	}
	return strings.TrimRight(scheme+host+rest[end:], "/")
}

// hostOf returns the host of a URL.
func hostOf(u string) string {
	rest := u
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if strings.HasPrefix(rest, "[") {
		if i := strings.IndexByte(rest, ']'); i >= 0 {
			return rest[1:i]
		}
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest = rest[:i]
	}
	return strings.ToLower(rest)
}

// validHost reports an IP address or a host name under a known (ICANN)
// public suffix, with a label below it. It is written here independently
// of the observable package, from the same public suffix list.
func validHost(h string) bool {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return true
	}
	if a, err := idna.Lookup.ToASCII(h); err == nil {
		h = a
	} else {
		return false
	}
	dot := strings.LastIndexByte(h, '.')
	if dot <= 0 {
		return false
	}
	if _, icann := publicsuffix.PublicSuffix(h[dot+1:]); !icann {
		return false
	}
	_, err := publicsuffix.EffectiveTLDPlusOne(h)
	return err == nil
}

// addressesIn returns the addresses in a raw header value: those in angle
// brackets, else the words holding an "@".
func addressesIn(v string) []string {
	var out []string
	rest := v
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '>')
		if j < 0 {
			break
		}
		if a := strings.TrimSpace(rest[i+1 : i+j]); strings.Contains(a, "@") {
			out = append(out, a)
		}
		rest = rest[i+j+1:]
	}
	if len(out) > 0 {
		return out
	}
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == '"' }) {
		if strings.Contains(w, "@") {
			out = append(out, w)
		}
	}
	return out
}

func dedup(vs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range vs {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func lowerAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.ToLower(strings.TrimSpace(v))
	}
	return out
}

func isAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
