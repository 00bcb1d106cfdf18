// Package observable parses reported emails and extracts the observables
// an analyst needs, typed with TheHive's data types.
//
// # Parsing
//
// [ParseEmail] reads a raw RFC 5322 message with MIME from an io.Reader in
// one pass and returns an [Email]: the decoded header (addresses, subject
// and thread subject, date, message IDs, Received hops with their
// addresses and the first external relay), the text and HTML bodies, the
// attachments and the defects met on the way. It streams: an attachment is
// hashed (MD5, SHA-1, SHA-256) as it goes by and handed, if asked, to an
// [AttachmentFunc] as a reader of its decoded content, so a 200 MB file is
// never held in memory. Only text parts are kept, up to a limit
// ([WithMaxTextSize]).
//
// The parser reads real-world mail the way mail readers do. Encoded words
// (RFC 2047), raw UTF-8 (RFC 6532) and legacy charsets in headers, RFC 2231
// parameters, missing or broken boundaries, bad base64 or
// quoted-printable, unknown charsets or encodings and duplicate fields are
// all read as well as they can be and recorded in [Email.Defects]; a
// malformed message is never an error and never a panic. Attached
// messages (message/rfc822) are parsed recursively into an Email of their
// own, hashed on their original bytes.
//
// Each part has a path, its IMAP section number ("2", "3.1", ...), stable
// across parses of the same message. [OpenAttachment] uses it to stream one
// attachment again from a fresh copy of the raw message, for an upload that
// must be retried, without keeping anything in memory or on disk.
//
// # Bodies
//
// [Email.TextBody] and [Email.HTMLBody] return the message text;
// [Email.BodyMarkdown] returns the text part, or else the HTML part
// converted to Markdown, for a task log. [HTMLToMarkdown] and [HTMLText]
// convert any HTML.
//
// # Extraction
//
// [Extract] turns an Email into [Observable] values: the subject
// (mail-subject), sender addresses (mail), Received addresses and host
// names, and the URLs, domains and FQDNs, IP addresses, mail addresses and
// hashes found in the bodies, in text attachments and in attached
// messages, plus a file observable per attachment carrying its
// [Attachment]. [ExtractText] does the same for any plain text, such as a
// SIEM offense description. Observables are de-duplicated, in the order
// they were first found, and tagged with where they were found and what is
// known about them (private or public address, defanged, link text that
// does not match its target, ...).
//
// Extraction is careful about what is not an indicator: host names must
// end in a top-level domain of the public suffix list (so "invoice.php" is
// a file name, not a host), internationalised names are compared in their
// punycode form, IP addresses must be valid (no 192.168.123.456, no
// version numbers, no MAC addresses or times), cid: references are not
// addresses, HTML comments are skipped, and defanged indicators
// (hxxps://example[.]com) are refanged and tagged. [Rules] in
// [ExtractOptions] drop the organisation's own infrastructure (Allow) or
// keep known-bad values whatever the allow-list says (Deny).
//
// The package does not depend on a TheHive client: [DataType] names
// TheHive's types, and the caller turns Observables into API calls.
package observable
