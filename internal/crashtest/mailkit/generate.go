package mailkit

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Options shape a batch of generated emails. The zero value gives emails
// without replies or attachments from seed 0.
type Options struct {
	// Seed makes the batch: the same seed gives the same bytes.
	Seed uint64
	// ReplyEvery makes every ReplyEvery-th email (the 1st excluded) a reply
	// to an earlier email; 0 means none.
	ReplyEvery int
	// AttachEvery gives every AttachEvery-th email a file attachment; 0
	// means none.
	AttachEvery int
	// Start is the Date of the first email; each next one is a minute
	// later. Zero means 2026-11-02 08:00 UTC.
	Start time.Time
}

// Message is one generated email and what a mail-to-case workflow must make
// of it.
type Message struct {
	// Index is the email's place in the batch, from 0.
	Index int
	// Raw is the RFC 5322 message, with CRLF line endings, and SHA256 the
	// hex SHA-256 of Raw.
	Raw    []byte
	SHA256 string
	// MessageID is the Message-ID without angle brackets.
	MessageID string
	// Subject is the Subject header; ThreadSubject is the subject of the
	// thread's first email, which titles the thread's case.
	Subject       string
	ThreadSubject string
	// Thread is the Index of the thread's first email (Index itself for an
	// email that starts a thread).
	Thread int
	// Attachments are the email's file attachments.
	Attachments []Attachment
	// Indicators are the URLs, IP addresses and domains written in the
	// email, refanged.
	Indicators []string
}

// Attachment is a generated file attachment.
type Attachment struct {
	// Name is the file name and ContentType its media type.
	Name        string
	ContentType string
	// Size is the decoded size and SHA256 the hex SHA-256 of the content.
	Size   int64
	SHA256 string
}

// lure is one kind of reported email.
type lure struct {
	sender  string // display name
	local   string // sender's local part
	domains []string
	subject string // with %s for the email's reference
	body    string // %[1]s reference, %[2]s URL as written, %[3]s IP
	file    string // attachment name, with %s for the reference
	ctype   string
	magic   string // first bytes of the attachment
}

var lures = []lure{{
	sender:  "Microsoft 365 Security",
	local:   "no-reply",
	domains: []string{"rnicrosoft-secure.com", "office365-verify.net", "m365-account-alert.com"},
	subject: "Action required: mailbox %s will be suspended",
	body: "Dear user,\n\nYour mailbox %[1]s has exceeded its storage quota and will be suspended within 24 hours.\n" +
		"Confirm your account at %[2]s to keep your messages.\n\nSign-in attempt from %[3]s was blocked.\n\nMicrosoft 365 Security Team\n",
	file:  "quota-report-%s.html",
	ctype: "text/html",
	magic: "<html><body><form action=\"",
}, {
	sender:  "Accounts Receivable",
	local:   "billing",
	domains: []string{"invoices-portal.net", "payment-remit.com", "ar-docs-online.com"},
	subject: "Overdue invoice %s",
	body: "Hello,\n\nInvoice %[1]s is 30 days overdue. The invoice is attached.\nPay today at %[2]s to avoid late fees.\n" +
		"Our payment server (%[3]s) accepts cards and transfers.\n\nAccounts Receivable\n",
	file:  "%s.pdf",
	ctype: "application/pdf",
	magic: "%PDF-1.4\n",
}, {
	sender:  "Parcel Service",
	local:   "tracking",
	domains: []string{"parcel-redelivery.com", "dhl-track-notice.net", "post-hold-center.com"},
	subject: "Your parcel %s is on hold",
	body: "We could not deliver parcel %[1]s.\nSchedule a new delivery at %[2]s within 48 hours.\n" +
		"Customs office reference: %[3]s.\n",
	file:  "label-%s.zip",
	ctype: "application/zip",
	magic: "PK\x03\x04",
}, {
	sender:  "Jane Carter (CEO)",
	local:   "jane.carter",
	domains: []string{"corp-executive.com", "corpexample-mail.com", "board-office.net"},
	subject: "Urgent wire transfer %s",
	body: "I need you to process wire transfer %[1]s today, before noon. I am in a meeting and cannot talk.\n" +
		"Details are at %[2]s. Reply to this address only.\nSent from %[3]s\n",
	file:  "transfer-%s.docm",
	ctype: "application/vnd.ms-word.document.macroenabled.12",
	magic: "PK\x03\x04\x14\x00\x06\x00",
}}

var reporters = []string{"Alice Martin <alice.martin@corp.example>", "Bob Nguyen <bob.nguyen@corp.example>",
	"Chen Wei <chen.wei@corp.example>", "Dana Novak <dana.novak@corp.example>"}

// Generate returns n reported emails shaped by opts.
func Generate(n int, opts Options) []Message {
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	start := opts.Start
	if start.IsZero() {
		start = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	}
	msgs := make([]Message, 0, max(n, 0))
	for i := range max(n, 0) {
		date := start.Add(time.Duration(i) * time.Minute)
		if opts.ReplyEvery > 0 && i > 0 && i%opts.ReplyEvery == 0 {
			parent := &msgs[rng.IntN(i)]
			msgs = append(msgs, reply(i, parent, &msgs[parent.Thread], date, rng))
			continue
		}
		withFile := opts.AttachEvery > 0 && i%opts.AttachEvery == opts.AttachEvery-1
		msgs = append(msgs, report(i, date, withFile, rng))
	}
	return msgs
}

// report makes an email that starts a thread.
func report(i int, date time.Time, withFile bool, rng *rand.Rand) Message {
	l := lures[i%len(lures)]
	domain := l.domains[rng.IntN(len(l.domains))]
	ref := fmt.Sprintf("%s-%05d", strings.ToUpper(domain[:3]), 10000+i)
	host := fmt.Sprintf("www%d.%s", rng.IntN(9)+1, domain)
	url := fmt.Sprintf("https://%s/%s/%d?ref=%s", host, []string{"login", "pay", "track", "doc"}[rng.IntN(4)], rng.IntN(90000)+10000, ref)
	written := url
	if rng.IntN(3) == 0 { // defanged, as some reporters write them
		written = strings.Replace(strings.Replace(url, "https://", "hxxps://", 1), "."+domain, "[.]"+domain, 1)
	}
	ip := fmt.Sprintf("%s.%d", []string{"203.0.113", "198.51.100", "192.0.2"}[rng.IntN(3)], rng.IntN(250)+1)
	relay := fmt.Sprintf("185.%d.%d.%d", 100+rng.IntN(120), rng.IntN(250), rng.IntN(250)+1)
	m := Message{
		Index:      i,
		MessageID:  fmt.Sprintf("%s.%04d.%x@mail.%s", date.Format("20060102150405"), i, rng.Uint32(), domain),
		Subject:    fmt.Sprintf(l.subject, ref),
		Thread:     i,
		Indicators: []string{url, ip, domain, relay},
	}
	m.ThreadSubject = m.Subject
	var b bytes.Buffer
	hdr := func(format string, args ...any) { fmt.Fprintf(&b, format+"\r\n", args...) }
	hdr("Received: from mail.%s (mail.%s [%s])", domain, domain, relay)
	hdr(" by mx1.corp.example (Postfix) with ESMTP id %X", rng.Uint64())
	hdr(" for <soc@corp.example>; %s", date.Add(-3*time.Second).Format(time.RFC1123Z))
	hdr("From: %q <%s@%s>", l.sender, l.local, domain)
	hdr("To: %s", reporters[i%len(reporters)])
	hdr("Subject: %s", m.Subject)
	hdr("Date: %s", date.Format(time.RFC1123Z))
	hdr("Message-ID: <%s>", m.MessageID)
	hdr("MIME-Version: 1.0")
	text := crlf(fmt.Sprintf(l.body, ref, written, ip))
	html := crlf(fmt.Sprintf("<html><body><p>%s</p><p><a href=\"%s\">%s</a></p></body></html>\n",
		strings.SplitN(fmt.Sprintf(l.body, ref, written, ip), "\n", 2)[0], url, "https://"+l.domains[0]+"/secure"))
	alt := fmt.Sprintf("alt-%04d", i)
	if !withFile {
		hdr("Content-Type: multipart/alternative; boundary=%q", alt)
		hdr("")
		writeAlternative(&b, alt, text, html)
	} else {
		mixed := fmt.Sprintf("mix-%04d", i)
		hdr("Content-Type: multipart/mixed; boundary=%q", mixed)
		hdr("")
		hdr("--%s", mixed)
		hdr("Content-Type: multipart/alternative; boundary=%q", alt)
		hdr("")
		writeAlternative(&b, alt, text, html)
		content := make([]byte, 2048+rng.IntN(22*1024))
		fill(content, rng)
		copy(content, l.magic)
		name := fmt.Sprintf(l.file, ref)
		sum := sha256.Sum256(content)
		m.Attachments = []Attachment{{Name: name, ContentType: l.ctype, Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:])}}
		hdr("--%s", mixed)
		hdr("Content-Type: %s; name=%q", l.ctype, name)
		hdr("Content-Disposition: attachment; filename=%q", name)
		hdr("Content-Transfer-Encoding: base64")
		hdr("")
		writeBase64(&b, content)
		hdr("--%s--", mixed)
	}
	return m.finish(b.Bytes())
}

// reply makes an email answering parent, in the thread started by root.
func reply(i int, parent, root *Message, date time.Time, rng *rand.Rand) Message {
	from := reporters[(parent.Index+1)%len(reporters)]
	workstation := fmt.Sprintf("10.%d.%d.%d", rng.IntN(250), rng.IntN(250), rng.IntN(250)+1)
	m := Message{
		Index:         i,
		MessageID:     fmt.Sprintf("%s.%04d.%x@corp.example", date.Format("20060102150405"), i, rng.Uint32()),
		Subject:       "RE: " + root.Subject,
		ThreadSubject: root.ThreadSubject,
		Thread:        root.Index,
		Indicators:    []string{workstation},
	}
	refs := "<" + root.MessageID + ">"
	if parent.Index != root.Index {
		refs += " <" + parent.MessageID + ">"
	}
	var b bytes.Buffer
	hdr := func(format string, args ...any) { fmt.Fprintf(&b, format+"\r\n", args...) }
	hdr("From: %s", from)
	hdr("To: SOC <soc@corp.example>")
	hdr("Subject: %s", m.Subject)
	hdr("Date: %s", date.Format(time.RFC1123Z))
	hdr("Message-ID: <%s>", m.MessageID)
	hdr("In-Reply-To: <%s>", parent.MessageID)
	hdr("References: %s", refs)
	hdr("MIME-Version: 1.0")
	hdr("Content-Type: text/plain; charset=utf-8")
	hdr("")
	b.WriteString(crlf(fmt.Sprintf("Hello SOC,\n\nI opened the link from my workstation (%s) before I noticed.\nWhat should I do now?\n\n> %s\n",
		workstation, parent.Subject)))
	return m.finish(b.Bytes())
}

func (m Message) finish(raw []byte) Message {
	sum := sha256.Sum256(raw)
	m.Raw, m.SHA256 = raw, hex.EncodeToString(sum[:])
	return m
}

func writeAlternative(b *bytes.Buffer, boundary, text, html string) {
	fmt.Fprintf(b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s", boundary, text)
	fmt.Fprintf(b, "--%s\r\nContent-Type: text/html; charset=utf-8\r\n\r\n%s", boundary, html)
	fmt.Fprintf(b, "--%s--\r\n", boundary)
}

// writeBase64 writes data base64-encoded in lines of 76 characters.
func writeBase64(b *bytes.Buffer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
}

func fill(p []byte, rng *rand.Rand) {
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
