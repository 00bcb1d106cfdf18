package observable

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// DataType is a TheHive observable data type. The constants carry the
// names of TheHive's built-in types; this package does not depend on a
// TheHive client.
type DataType string

// TheHive's built-in observable data types.
const (
	TypeAutonomousSystem DataType = "autonomous-system"
	TypeDomain           DataType = "domain"
	TypeFile             DataType = "file"
	TypeFilename         DataType = "filename"
	TypeFQDN             DataType = "fqdn"
	TypeHash             DataType = "hash"
	TypeHostname         DataType = "hostname"
	TypeIP               DataType = "ip"
	TypeMail             DataType = "mail"
	TypeMailSubject      DataType = "mail-subject"
	TypeOther            DataType = "other"
	TypeRegexp           DataType = "regexp"
	TypeRegistry         DataType = "registry"
	TypeURIPath          DataType = "uri_path"
	TypeURL              DataType = "url"
	TypeUserAgent        DataType = "user-agent"
)

// Observable is an indicator found in a message or a text, typed with a
// TheHive data type.
type Observable struct {
	// Type is the TheHive data type.
	Type DataType
	// Value is the observable's data: the address, URL, host name, hash...
	// For a TypeFile observable it is the attachment's safe file name.
	Value string
	// Tags say where the observable was found ("src:body", "src:html",
	// "src:received", "from", ...) and what is known about it ("private",
	// "defanged", "link-text-mismatch", ...): see the Tag constants.
	Tags []string
	// Attachment is the file a TypeFile observable stands for; nil for the
	// other types.
	Attachment *Attachment
}

// String formats the observable for a log line: "type:value [tags]".
func (o Observable) String() string {
	if len(o.Tags) == 0 {
		return string(o.Type) + ":" + o.Value
	}
	return fmt.Sprintf("%s:%s %v", o.Type, o.Value, o.Tags)
}

// HasTag reports whether the observable carries tag.
func (o Observable) HasTag(tag string) bool {
	for _, t := range o.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// Tags set by Extract.
const (
	// Where an observable was found.
	TagSrcHeader     = "src:header"     // a header field other than Received
	TagSrcReceived   = "src:received"   // a Received field
	TagSrcSubject    = "src:subject"    // the text of the subject
	TagSrcBody       = "src:body"       // a text/plain body
	TagSrcHTML       = "src:html"       // a text/html body
	TagSrcAttachment = "src:attachment" // an attachment, or the text inside one
	TagSrcText       = "src:text"       // the text given to ExtractText
	// TagAttachedMessage marks what was found in an attached message.
	TagAttachedMessage = "attached-message"

	// What is known about it.
	TagPrivate       = "private"            // an IP address that is not globally routable
	TagPublic        = "public"             // a globally routable IP address
	TagDefanged      = "defanged"           // written defanged (hxxp, [.], ...) and refanged
	TagLinkMismatch  = "link-text-mismatch" // a link whose text shows another domain
	TagInline        = "inline"             // an attachment shown within the body
	TagExternalRelay = "external-relay"     // the address of the first external hop
	TagDenyListed    = "deny-list"          // matched a deny rule
	TagIDN           = "idn"                // an internationalised host name
	TagNoScheme      = "no-scheme"          // a URL written without its scheme (www.example.com/path)
	// TagSuspiciousPrefix starts the tags of a file whose name is
	// suspicious, followed by the reason: "suspicious:bidi-override" (see
	// the Suspicious constants).
	TagSuspiciousPrefix = "suspicious:"
	// TagDisplayNameMismatch marks a sender whose display name is another
	// mail address ("ceo@example.com" <someone@elsewhere.example>).
	TagDisplayNameMismatch = "display-name-mismatch"
)

// ExtractOptions tune [Extract] and [ExtractText]. The zero value extracts
// everything but the recipients, with no allow or deny rules.
type ExtractOptions struct {
	// Recipients adds the To, Cc, Bcc and Delivered-To addresses and the
	// "for" addresses of Received fields, which are usually the
	// organisation's own.
	Recipients bool
	// SkipReceived leaves out the IP addresses and host names of Received
	// fields.
	SkipReceived bool
	// SkipInline leaves out the files shown within the body (inline images
	// and the like).
	SkipInline bool
	// TrustedRelays are the organisation's own public address ranges, used
	// to find the first external relay (see [Email.ExternalRelay]).
	TrustedRelays []netip.Prefix
	// Allow lists known-good values, such as the organisation's own
	// infrastructure: observables they match are dropped.
	Allow Rules
	// Deny lists known-bad values: observables they match are kept even
	// when Allow matches them, and tagged "deny-list".
	Deny Rules
}

// Rules match observables by domain, IP range or regular expression.
type Rules struct {
	// Domains match a domain and all its subdomains, as the value of a
	// domain, fqdn or hostname observable, the host of a URL or the domain
	// of a mail address.
	Domains []string
	// Networks match IP observables and URLs whose host is an address in
	// one of the ranges.
	Networks []netip.Prefix
	// Patterns match the value of any observable.
	Patterns []*regexp.Regexp
}

// ParseRules builds Rules from strings, as found in a configuration file:
// domain names, CIDR ranges or single addresses, and regular expressions
// (RE2 syntax).
func ParseRules(domains, networks, patterns []string) (Rules, error) {
	var r Rules
	for _, d := range domains {
		d = strings.TrimPrefix(strings.TrimSpace(d), "*.")
		if d == "" {
			continue
		}
		h, ok := validHostname(d)
		if !ok {
			h = strings.ToLower(strings.TrimSuffix(d, "."))
		}
		r.Domains = append(r.Domains, h)
	}
	for _, n := range networks {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if p, err := netip.ParsePrefix(n); err == nil {
			r.Networks = append(r.Networks, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(n)
		if err != nil {
			return Rules{}, fmt.Errorf("observable: network %q is neither a CIDR range nor an address", n)
		}
		r.Networks = append(r.Networks, netip.PrefixFrom(ip, ip.BitLen()))
	}
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return Rules{}, fmt.Errorf("observable: pattern %q: %w", p, err)
		}
		r.Patterns = append(r.Patterns, re)
	}
	return r, nil
}

// IsZero reports whether r holds no rule.
func (r Rules) IsZero() bool {
	return len(r.Domains) == 0 && len(r.Networks) == 0 && len(r.Patterns) == 0
}

// Match reports whether a rule matches the observable.
func (r Rules) Match(o Observable) bool {
	if r.IsZero() {
		return false
	}
	for _, re := range r.Patterns {
		if re.MatchString(o.Value) {
			return true
		}
	}
	var host string
	switch o.Type {
	case TypeDomain, TypeFQDN, TypeHostname:
		host = o.Value
	case TypeURL:
		host = urlHost(o.Value)
	case TypeMail:
		if i := strings.LastIndexByte(o.Value, '@'); i >= 0 {
			host = o.Value[i+1:]
		}
	case TypeIP:
		host = o.Value
	}
	if host == "" {
		return false
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		ip = ip.Unmap()
		for _, p := range r.Networks {
			if p.Contains(ip) {
				return true
			}
		}
		return false
	}
	if h, ok := validHostname(host); ok {
		host = h
	} else {
		host = strings.ToLower(host)
	}
	for _, d := range r.Domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}
