package observable

import (
	"strings"
)

// singletonFields may appear at most once in a message header (RFC 5322
// section 3.6). The MIME ones are checked per part, in partHeader.
var singletonFields = []string{
	"From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Subject", "Date",
	"Message-ID", "In-Reply-To", "References", "MIME-Version",
}

// fillHeader sets the header fields of e from the raw fields of a message
// header. where is the path reported with defects.
func (p *parser) fillHeader(e *Email, fields []rawField, where string) {
	e.Header = make(Header, len(fields))
	count := map[string]int{}
	first := map[string]int{}
	for i, f := range fields {
		e.Header[i] = Field{Name: f.name, Raw: string(f.raw), Value: p.headerText(f.raw, where)}
		k := strings.ToLower(f.name)
		if count[k] == 0 {
			first[k] = i
		}
		count[k]++
	}
	for _, name := range singletonFields {
		if count[strings.ToLower(name)] > 1 {
			p.bad(where, DefectDuplicateHeader, name+": the first one is used")
		}
	}
	get := func(name string) (rawField, bool) {
		i, ok := first[strings.ToLower(name)]
		if !ok {
			return rawField{}, false
		}
		return fields[i], true
	}
	// Address fields: From and Sender from their first occurrence; the
	// recipient fields from all of them, so that no recipient is lost.
	if f, ok := get("From"); ok {
		e.From = p.addressList(f.raw, where, "From")
	}
	if f, ok := get("Sender"); ok {
		e.Sender = p.addressList(f.raw, where, "Sender")
	}
	for _, f := range fields {
		var dst *[]Address
		switch strings.ToLower(f.name) {
		case "reply-to":
			dst = &e.ReplyTo
		case "to":
			dst = &e.To
		case "cc":
			dst = &e.Cc
		case "bcc":
			dst = &e.Bcc
		case "delivered-to":
			dst = &e.DeliveredTo
		case "received":
			e.Received = append(e.Received, ParseReceived(p.headerText(f.raw, where)))
			continue
		default:
			continue
		}
		*dst = append(*dst, p.addressList(f.raw, where, f.name)...)
	}
	if f, ok := get("Return-Path"); ok {
		rp := strings.TrimSpace(p.headerRaw(f.raw, where))
		if i := strings.IndexByte(rp, '<'); i >= 0 {
			rp = rp[i+1:]
			if j := strings.IndexByte(rp, '>'); j >= 0 {
				rp = rp[:j]
			}
		}
		e.ReturnPath = cleanAddr(rp)
	}
	e.Subject = e.Header.Get("Subject")
	e.ThreadSubject = ThreadSubject(e.Subject)
	if f, ok := get("Date"); ok {
		v := strings.TrimSpace(p.headerText(f.raw, where))
		if t, ok := ParseDate(v); ok {
			e.Date = t
		} else {
			p.bad(where, DefectDate, truncate(v, 60))
		}
	}
	if f, ok := get("Message-ID"); ok {
		if ids := messageIDs(p.headerRaw(f.raw, where)); len(ids) > 0 {
			e.MessageID = ids[0]
		}
	}
	if f, ok := get("In-Reply-To"); ok {
		e.InReplyTo = messageIDs(p.headerRaw(f.raw, where))
	}
	if f, ok := get("References"); ok {
		e.References = messageIDs(p.headerRaw(f.raw, where))
	}
}

// messageIDs returns the message IDs in a Message-ID, In-Reply-To or
// References value, without angle brackets. Values without brackets are
// split on white space and commas.
func messageIDs(v string) []string {
	var ids []string
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
		if id := strings.TrimSpace(rest[i+1 : i+j]); id != "" {
			ids = append(ids, id)
		}
		rest = rest[i+j+1:]
	}
	if len(ids) > 0 {
		return ids
	}
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' }) {
		if f = strings.Trim(f, "<>"); f != "" {
			ids = append(ids, f)
		}
	}
	return ids
}
