package workflow

import (
	"fmt"
	"strings"
	"time"

	"github.com/synapse-go/synapse/observable"
)

// maxLogBody caps the body copied into a task log or an alert description;
// the whole message is attached anyway.
const maxLogBody = 64 << 10

// mdEscaper escapes the characters that would turn a header value into
// Markdown markup.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "#", `\#`, "\r", " ", "\n", " ",
)

func mdEscape(s string) string { return mdEscaper.Replace(s) }

func addressList(as []observable.Address) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

// headerBlock renders From, Sent, To, Cc and Subject as Markdown lines.
func headerBlock(m *Mail) string {
	e := m.Email
	var b strings.Builder
	line := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "**%s:** %s  \n", name, mdEscape(value))
		}
	}
	line("From", addressList(e.From))
	switch {
	case !e.Date.IsZero():
		line("Sent", e.Date.Format(time.RFC1123Z))
	case !m.Message.Received.IsZero():
		line("Received", m.Message.Received.Format(time.RFC1123Z))
	}
	line("To", addressList(e.To))
	line("Cc", addressList(e.Cc))
	subject := e.Subject
	if subject == "" {
		subject = "(no subject)"
	}
	line("Subject", subject)
	return b.String()
}

// bodyMarkdown renders the message text for a task log: the text part in a
// fenced block (so that it reads as written), else the HTML part converted
// to Markdown, else a placeholder. It never fails.
func bodyMarkdown(e *observable.Email) string {
	for _, body := range e.Bodies {
		if !body.IsHTML() && strings.TrimSpace(body.Content) != "" {
			text, cut := capText(body.Content, maxLogBody)
			return fenced(text) + truncNote(cut || body.Truncated)
		}
	}
	if md := strings.TrimSpace(e.BodyMarkdown()); md != "" {
		text, cut := capText(md, maxLogBody)
		return text + "\n" + truncNote(cut)
	}
	return "_This message has no text body; the original message is attached._\n"
}

func truncNote(cut bool) string {
	if !cut {
		return ""
	}
	return "\n_The text was cut; the original message is attached._\n"
}

// capText cuts s to at most n bytes, at a line end when one is near.
func capText(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	cut := strings.ToValidUTF8(s[:n], "")
	if i := strings.LastIndexByte(cut, '\n'); i > n/2 {
		cut = cut[:i]
	}
	return cut, true
}

// fenced puts text in a code fence longer than any run of backticks in it.
func fenced(text string) string {
	longest, run := 0, 0
	for _, r := range text {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	return fence + "\n" + strings.TrimRight(text, "\n") + "\n" + fence + "\n"
}

// logMessage is the task log written for a message.
func logMessage(m *Mail) string {
	var b strings.Builder
	b.WriteString(headerBlock(m))
	b.WriteString("\n")
	b.WriteString(bodyMarkdown(m.Email))
	fmt.Fprintf(&b, "\n---\n_Message %s from folder %s; the original message is attached._\n",
		m.Keys.Message, mdEscape(m.Message.Folder))
	return b.String()
}

// attachmentLines lists a message's attachments as Markdown bullets.
func attachmentLines(e *observable.Email) string {
	var b strings.Builder
	for a := range e.AllAttachments() {
		fmt.Fprintf(&b, "- %s (%s, %d bytes, SHA-256 `%s`)", mdEscape(a.Filename), a.ContentType, a.Size, a.SHA256)
		if len(a.Suspicious) > 0 {
			fmt.Fprintf(&b, " **suspicious name: %s**", strings.Join(a.Suspicious, ", "))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// caseDescription describes a case created from a message.
func caseDescription(m *Mail) string {
	var b strings.Builder
	b.WriteString("Case created by synapse from a reported email.\n\n")
	b.WriteString(headerBlock(m))
	if id := m.Email.MessageID; id != "" {
		fmt.Fprintf(&b, "**Message-ID:** %s  \n", mdEscape(id))
	}
	fmt.Fprintf(&b, "**Folder:** %s  \n", mdEscape(m.Message.Folder))
	if atts := attachmentLines(m.Email); atts != "" {
		b.WriteString("\n**Attachments:**\n\n")
		b.WriteString(atts)
	}
	if n := len(m.Email.Defects); n > 0 {
		fmt.Fprintf(&b, "\n_The message has %d defect(s): it was read as mail clients read it._\n", n)
	}
	b.WriteString("\nEvery email of the thread is logged in the communication task.\n")
	return b.String()
}

// alertDescription describes an alert made from a message.
func alertDescription(m *Mail) string {
	var b strings.Builder
	b.WriteString(headerBlock(m))
	if id := m.Email.MessageID; id != "" {
		fmt.Fprintf(&b, "**Message-ID:** %s  \n", mdEscape(id))
	}
	if atts := attachmentLines(m.Email); atts != "" {
		b.WriteString("\n**Attachments:**\n\n")
		b.WriteString(atts)
	}
	b.WriteString("\n")
	b.WriteString(bodyMarkdown(m.Email))
	return b.String()
}
