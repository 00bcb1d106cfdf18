package observable

import (
	"iter"
	"net/netip"
	"strings"
	"time"
)

// Email is a parsed message: its decoded header, its text and HTML bodies,
// its attachments (attached messages parsed as Emails of their own) and the
// defects found on the way.
//
// Fields that the message does not carry are left empty. Nothing is
// invented: an absent or unparseable Date stays the zero time, with a
// [Defect] saying which.
type Email struct {
	// Header holds every header field of the message, in order, as sent and
	// decoded.
	Header Header

	// From usually holds one address, but RFC 5322 allows several.
	From []Address
	// Sender is the agent that sent the message on behalf of From, if any.
	Sender []Address
	// ReplyTo, To, Cc and Bcc gather every occurrence of their field, so
	// that no address is lost when a field is repeated.
	ReplyTo []Address
	To      []Address // the primary recipients
	Cc      []Address // the carbon-copy recipients
	Bcc     []Address // the blind-copy recipients, as kept by the sender's copy
	// DeliveredTo lists the Delivered-To fields added by the final MTAs.
	DeliveredTo []Address
	// ReturnPath is the envelope sender recorded by the final MTA, without
	// its angle brackets; empty for the null sender "<>".
	ReturnPath string

	// Subject is the decoded subject.
	Subject string
	// ThreadSubject is Subject without its reply and forward prefixes
	// (Re:, Fwd:, AW:, TR:, SV:, ... in any number and mix), suitable for
	// matching the messages of one thread.
	ThreadSubject string
	// Date is the Date header; the zero time when it is missing or cannot
	// be parsed (a defect records the latter).
	Date time.Time

	// MessageID is the Message-ID without its angle brackets.
	MessageID string
	// InReplyTo lists the message IDs of In-Reply-To, without angle
	// brackets.
	InReplyTo []string
	// References lists the message IDs of References, without angle
	// brackets, oldest first as in the header.
	References []string

	// Received lists the Received header fields, most recent first (the
	// order in which they appear in the header).
	Received []Hop

	// Bodies lists the text/plain and text/html parts that make up the
	// message text, in the order they appear. Parts of attached messages
	// are in their own Email.
	Bodies []*Body
	// Attachments lists the files attached to this message, in the order
	// they appear, inline images included. Files inside an attached message
	// are listed in that message's Email (see [Attachment.Message] and
	// [Email.AllAttachments]).
	Attachments []*Attachment

	// Defects lists what was wrong with the message and how it was read
	// anyway. Defects found inside attached messages are listed here too,
	// on the outermost Email only, with the path of the part concerned.
	Defects []Defect

	// Size is the number of bytes read to parse the message.
	Size int64
}

// Address is a mail address with its display name.
type Address struct {
	// Name is the decoded display name, possibly empty.
	Name string
	// Addr is the address as sent (local@domain). Internationalised local
	// parts and domains are kept whole, in UTF-8.
	Addr string
}

// String formats the address as "Name <addr>", or just the address when
// there is no display name.
func (a Address) String() string {
	if a.Name == "" {
		return a.Addr
	}
	return a.Name + " <" + a.Addr + ">"
}

// Domain returns the part of the address after its last "@", lower-cased.
func (a Address) Domain() string {
	i := strings.LastIndexByte(a.Addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(a.Addr[i+1:])
}

// Header is a list of header fields in the order they appear.
type Header []Field

// Field is one header field.
type Field struct {
	// Name is the field name as sent.
	Name string
	// Value is the unfolded value with RFC 2047 encoded words and 8-bit
	// text decoded to UTF-8.
	Value string
	// Raw is the value exactly as sent, folding included; it may hold
	// bytes that are not UTF-8.
	Raw string
}

// Get returns the decoded value of the first field with the given name
// (case-insensitive), or "".
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Values returns the decoded values of every field with the given name
// (case-insensitive), in order.
func (h Header) Values(name string) []string {
	var vs []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// Has reports whether the header holds a field with the given name.
func (h Header) Has(name string) bool {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Body is a text/plain or text/html part of the message text.
type Body struct {
	// Path is the part's section number, as in IMAP ("1", "2.1", ...).
	Path string
	// ContentType is "text/plain" or "text/html".
	ContentType string
	// Charset is the charset the part declared, if any.
	Charset string
	// Content is the decoded text, in UTF-8.
	Content string
	// Truncated reports that the part was longer than the configured limit
	// (see [WithMaxTextSize]) and Content holds only its beginning.
	Truncated bool
}

// IsHTML reports whether the body is a text/html part.
func (b *Body) IsHTML() bool { return b.ContentType == "text/html" }

// Attachment is a file attached to a message, or an attached message.
//
// ParseEmail computes Size and the hashes while the content streams by; it
// keeps no content except, for text-like files (text/*, HTML, SVG, ...), up
// to the text limit in Text, so that indicators can be extracted from it.
type Attachment struct {
	// Path is the part's section number, as in IMAP ("2", "3.1", ...); it
	// names the same part in every parse of the same message and is what
	// [OpenAttachment] takes.
	Path string
	// Filename is the name as sent, decoded (RFC 2231 filename* wins over
	// filename, which wins over the Content-Type name). It may be empty,
	// hold a path, control characters or bidirectional overrides: never use
	// it as a file name, use SafeName.
	Filename string
	// SafeName is Filename made safe to write to disk or to upload: no
	// directories, no control, format or bidirectional characters, no
	// reserved names. It is never empty: a name is made up from the part
	// path and content type when the message gives none.
	SafeName string
	// ContentType is the media type, lower-cased, without parameters.
	ContentType string
	// Disposition is the Content-Disposition type as sent, lower-cased
	// ("attachment", "inline" or "").
	Disposition string
	// ContentID is the Content-ID without angle brackets.
	ContentID string
	// Inline reports a part meant to be shown within the body (disposition
	// inline, or a Content-ID that the HTML body refers to with cid:).
	Inline bool
	// Suspicious lists reasons to distrust the attachment's name, such as
	// "bidi-override" for a right-to-left override that disguises the
	// extension ("invoice\u202Efdp.exe" shows as "invoiceexe.pdf").
	Suspicious []string

	// Size is the length of the decoded content in bytes.
	Size int64
	// MD5, SHA1 and SHA256 are lower-case hex digests of the decoded
	// content. For an attached message they cover the message's original
	// bytes.
	MD5, SHA1, SHA256 string

	// Text is the decoded content of a text-like attachment, converted to
	// UTF-8 and cut at the text limit; for an Outlook .msg file, the text
	// strings found in it; empty for other attachments.
	Text string
	// TextTruncated reports that Text holds only the beginning.
	TextTruncated bool

	// Message is the parsed attached message when ContentType is
	// message/rfc822 (or message/global); nil otherwise.
	Message *Email
}

// IsMessage reports whether the attachment is an attached message.
func (a *Attachment) IsMessage() bool { return a.Message != nil }

// Defect records something wrong with a message and how the parser coped.
type Defect struct {
	// Path is the section number of the part concerned; "" for the header
	// of the outermost message.
	Path string
	// Kind names the class of problem.
	Kind DefectKind
	// Detail says what was found, for a human reader.
	Detail string
}

// String formats the defect for a log line.
func (d Defect) String() string {
	p := d.Path
	if p == "" {
		p = "header"
	}
	if d.Detail == "" {
		return p + ": " + string(d.Kind)
	}
	return p + ": " + string(d.Kind) + ": " + d.Detail
}

// DefectKind names a class of defect.
type DefectKind string

// The kinds of defect ParseEmail reports.
const (
	// DefectHeaderContinuation: the header starts with a continuation line.
	DefectHeaderContinuation DefectKind = "header-continuation"
	// DefectMissingHeaderEnd: the header did not end with an empty line;
	// the body starts at the first line that is not a header field.
	DefectMissingHeaderEnd DefectKind = "missing-header-end"
	// DefectHeaderTooLarge: the header exceeded the size limit; the rest
	// of it was skipped.
	DefectHeaderTooLarge DefectKind = "header-too-large"
	// DefectDuplicateHeader: a field that may appear once (Subject, From,
	// Date, Content-Type, ...) appears several times; the first one is used.
	DefectDuplicateHeader DefectKind = "duplicate-header"
	// DefectNonUTF8Header: header bytes that are not UTF-8 were decoded
	// with a guessed charset.
	DefectNonUTF8Header DefectKind = "non-utf8-header"
	// DefectEncodedWord: an RFC 2047 encoded word could not be decoded.
	DefectEncodedWord DefectKind = "encoded-word"
	// DefectAddress: an address list did not follow RFC 5322 and was read
	// leniently.
	DefectAddress DefectKind = "address-syntax"
	// DefectDate: the Date header could not be parsed.
	DefectDate DefectKind = "bad-date"
	// DefectContentType: the Content-Type or Content-Disposition could not
	// be parsed strictly.
	DefectContentType DefectKind = "content-type"
	// DefectNoBoundary: a multipart without a boundary parameter; its body
	// is read as text.
	DefectNoBoundary DefectKind = "no-boundary"
	// DefectBoundaryNotFound: the boundary of a multipart never appears;
	// its body is read as text.
	DefectBoundaryNotFound DefectKind = "boundary-not-found"
	// DefectMissingCloseBoundary: a multipart ends without its closing
	// delimiter.
	DefectMissingCloseBoundary DefectKind = "missing-close-boundary"
	// DefectBase64: invalid characters or a truncated group in base64 data;
	// the valid part was decoded.
	DefectBase64 DefectKind = "bad-base64"
	// DefectQuotedPrintable: an invalid escape in quoted-printable data,
	// kept as is.
	DefectQuotedPrintable DefectKind = "bad-quoted-printable"
	// DefectUUEncode: invalid uuencoded data.
	DefectUUEncode DefectKind = "bad-uuencode"
	// DefectUnknownEncoding: an unknown Content-Transfer-Encoding; the
	// content is read as is.
	DefectUnknownEncoding DefectKind = "unknown-encoding"
	// DefectCharset: an unknown or missing charset; the text was decoded
	// as UTF-8 where valid, else as windows-1252.
	DefectCharset DefectKind = "charset"
	// DefectTextTruncated: a text part exceeded the text limit.
	DefectTextTruncated DefectKind = "text-truncated"
	// DefectTooDeep: parts nested beyond the depth limit were not parsed
	// and were kept as attachments.
	DefectTooDeep DefectKind = "too-deep"
	// DefectNotMIME: the input is not a MIME message (an Outlook .msg
	// file); it is kept whole as an attachment.
	DefectNotMIME DefectKind = "not-mime"
)

// Hop is one Received header field: one step of the message's route.
type Hop struct {
	// From, By, Via, With, ID and For are the clauses as written, without
	// their keyword; empty when absent.
	From, By, Via, With, ID, For string
	// Date is the time stamp after the ";"; zero when missing or invalid.
	Date time.Time
	// FromIP is the address of the host that connected, as recorded by the
	// receiving server; invalid (the zero Addr) when not recorded.
	FromIP netip.Addr
	// IPs lists every valid IP address in the From and By clauses.
	IPs []netip.Addr
	// Hosts lists the host names with a known public suffix found in the
	// From and By clauses, lower-cased.
	Hosts []string
	// EnvelopeFrom is the envelope sender noted in a comment
	// ("envelope-from <...>"), if any.
	EnvelopeFrom string
	// Raw is the unfolded field value.
	Raw string
}

// Public reports whether the connecting host's address is known and
// globally routable: a hop from the Internet rather than from a private
// network or from the same machine.
func (h Hop) Public() bool { return h.FromIP.IsValid() && isPublicIP(h.FromIP) }

// ExternalRelay returns the first hop, going back from the recipient, that
// was received from a public address outside trusted: the host that
// handed the message to the recipient's infrastructure. Pass the
// organisation's own public ranges as trusted, so that hops between its
// own servers are skipped. It returns false when no such hop is recorded.
func (e *Email) ExternalRelay(trusted ...netip.Prefix) (Hop, bool) {
next:
	for _, h := range e.Received {
		if !h.Public() {
			continue
		}
		for _, p := range trusted {
			if p.Contains(h.FromIP) {
				continue next
			}
		}
		return h, true
	}
	return Hop{}, false
}

// TextBody returns the text/plain bodies, joined by blank lines.
func (e *Email) TextBody() string { return e.joinBodies(false) }

// HTMLBody returns the text/html bodies, joined by newlines.
func (e *Email) HTMLBody() string { return e.joinBodies(true) }

func (e *Email) joinBodies(html bool) string {
	var parts []string
	for _, b := range e.Bodies {
		if b.IsHTML() == html && strings.TrimSpace(b.Content) != "" {
			parts = append(parts, b.Content)
		}
	}
	if html {
		return strings.Join(parts, "\n")
	}
	return strings.Join(parts, "\n\n")
}

// BodyMarkdown returns the message text for a Markdown document such as a
// TheHive task log: the text/plain body when there is one, else the HTML
// body converted to Markdown, else "". Plain text is returned as is; quote
// it (for example in a fenced block) if Markdown characters in it must not
// be interpreted.
func (e *Email) BodyMarkdown() string {
	if t := e.TextBody(); strings.TrimSpace(t) != "" {
		return t
	}
	if h := e.HTMLBody(); h != "" {
		return HTMLToMarkdown(h)
	}
	return ""
}

// AllAttachments walks the attachments of the message and, depth first, of
// the messages attached to it. An attached message is yielded before the
// files inside it.
func (e *Email) AllAttachments() iter.Seq[*Attachment] {
	return func(yield func(*Attachment) bool) {
		e.walkAttachments(yield)
	}
}

func (e *Email) walkAttachments(yield func(*Attachment) bool) bool {
	for _, a := range e.Attachments {
		if !yield(a) {
			return false
		}
		if a.Message != nil && !a.Message.walkAttachments(yield) {
			return false
		}
	}
	return true
}
