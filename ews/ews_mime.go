package ews

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Streaming the MimeContent of a GetItem answer. EWS returns the raw
// message base64-encoded inside the XML, so a 50 MB message is 67 MB of
// character data. encoding/xml would collect that text into one token, so
// the decoder is only used to walk the envelope up to the start tag of
// t:MimeContent; from there the character data is read straight from the
// buffered body and base64-decoded as the caller reads. Memory stays at the
// size of the buffers whatever the size of the message.

// byteTracker is the io.ByteReader the XML decoder reads from. Because it
// is a ByteReader, the decoder does no read-ahead of its own, so after it
// returns a start tag the underlying reader is positioned just after the
// tag's '>'. It remembers the byte before that '>' to tell "<x/>" from
// "<x>".
type byteTracker struct {
	r          *bufio.Reader
	prev, last byte
}

func (t *byteTracker) ReadByte() (byte, error) {
	b, err := t.r.ReadByte()
	if err == nil {
		t.prev, t.last = t.last, b
	}
	return b, err
}

func (t *byteTracker) Read(p []byte) (int, error) {
	// The XML decoder only calls ReadByte; Read exists for io.Reader.
	if len(p) == 0 {
		return 0, nil
	}
	b, err := t.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = b
	return 1, nil
}

// selfClosed reports whether the start tag just read ended with "/>".
func (t *byteTracker) selfClosed() bool { return t.last == '>' && t.prev == '/' }

// ewsOpenMime reads a GetItem answer up to the MimeContent of its (single)
// message and returns a reader of the decoded message, which owns body. A
// failed response message becomes a *ServerError.
func ewsOpenMime(body io.ReadCloser) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(body, 64<<10)
	tr := &byteTracker{r: br}
	d := xml.NewDecoder(tr)
	fail := func(err error) (io.ReadCloser, error) {
		body.Close()
		return nil, err
	}
	var msg ewsResponseMessage
	inMessage := false
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fail(fmt.Errorf("decoding the GetItem answer: %w", err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch name := t.Name.Local; {
			case name == "Fault":
				var f ewsFaultXML
				if err := d.DecodeElement(&f, &t); err != nil {
					return fail(fmt.Errorf("decoding the GetItem fault: %w", err))
				}
				return fail(ewsServerError(http.StatusOK, f.code(), f.FaultString, f.Detail.MessageXML))
			case strings.HasSuffix(name, "ResponseMessage"):
				inMessage = true
				for _, a := range t.Attr {
					if a.Name.Local == "ResponseClass" {
						msg.Class = a.Value
					}
				}
			case !inMessage:
				// Envelope, Header, Body, GetItemResponse, ResponseMessages.
				if name == "Header" {
					if err := d.Skip(); err != nil {
						return fail(fmt.Errorf("decoding the GetItem answer: %w", err))
					}
				}
			case name == "MessageText":
				if err := d.DecodeElement(&msg.MessageText, &t); err != nil {
					return fail(fmt.Errorf("decoding the GetItem answer: %w", err))
				}
			case name == "ResponseCode":
				if err := d.DecodeElement(&msg.ResponseCode, &t); err != nil {
					return fail(fmt.Errorf("decoding the GetItem answer: %w", err))
				}
			case name == "MessageXml":
				if err := d.DecodeElement(&msg.MessageXML, &t); err != nil {
					return fail(fmt.Errorf("decoding the GetItem answer: %w", err))
				}
			case name == "MimeContent":
				if !msg.ok() {
					return fail(msg.err())
				}
				if tr.selfClosed() {
					return fail(errors.New("the server sent an empty MimeContent"))
				}
				text := &ewsBase64Text{r: br}
				return &mimeReader{dec: base64.NewDecoder(base64.StdEncoding, text), text: text, body: body}, nil
			case name == "Items" || isItemElement(name):
				// Descend into the payload and the item.
			default:
				if err := d.Skip(); err != nil {
					return fail(fmt.Errorf("decoding the GetItem answer: %w", err))
				}
			}
		case xml.EndElement:
			if strings.HasSuffix(t.Name.Local, "ResponseMessage") {
				if !msg.ok() {
					return fail(msg.err())
				}
				return fail(errors.New("the GetItem answer holds no MimeContent"))
			}
		}
	}
}

// isItemElement reports whether name is an EWS item element that can hold
// MimeContent.
func isItemElement(name string) bool {
	switch name {
	case "Message", "Item", "MeetingRequest", "MeetingResponse", "MeetingCancellation", "MeetingMessage",
		"PostItem", "CalendarItem", "Contact", "Task", "DistributionList":
		return true
	}
	return false
}

// mimeReader is the message stream Open returns.
type mimeReader struct {
	dec  io.Reader
	text *ewsBase64Text
	body io.Closer
	err  error
}

func (m *mimeReader) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	n, err := m.dec.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("reading the message: %w", err)
		m.err = err
	}
	return n, err
}

// Close closes the HTTP answer. Closing before the end drops the
// connection rather than reading the rest.
func (m *mimeReader) Close() error {
	if m.err == nil {
		m.err = errors.New("read from a closed message")
	}
	return m.body.Close()
}

// ewsBase64Text reads the character data of the MimeContent element: it
// ends at the '<' of the end tag, drops whitespace and resolves the
// character references a server may write for line breaks or base64
// characters.
type ewsBase64Text struct {
	r       *bufio.Reader
	pending []byte // the part of the current chunk not yet returned
	ended   bool   // the '<' of the end tag was read
	entity  []byte // a character reference split across chunks
	inRef   bool
}

func (t *ewsBase64Text) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(t.pending) == 0 {
			if t.ended {
				break
			}
			chunk, err := t.r.ReadSlice('<')
			switch {
			case err == nil:
				chunk = chunk[:len(chunk)-1]
				t.ended = true
			case errors.Is(err, bufio.ErrBufferFull):
			case len(chunk) == 0 && errors.Is(err, io.EOF):
				return n, fmt.Errorf("the answer ended inside MimeContent: %w", io.ErrUnexpectedEOF)
			case len(chunk) == 0:
				return n, err
			}
			t.pending = chunk
			if len(chunk) == 0 {
				continue
			}
		}
		if !t.inRef {
			// Copy the run up to the next space, tab or reference in one
			// go; base64's decoder drops the line breaks itself.
			run := len(t.pending)
			for _, special := range []byte{'&', ' ', '\t'} {
				if i := bytes.IndexByte(t.pending[:run], special); i >= 0 {
					run = i
				}
			}
			k := copy(p[n:], t.pending[:run])
			n += k
			t.pending = t.pending[k:]
			if k < run || len(t.pending) == 0 {
				continue
			}
		}
		c := t.pending[0]
		t.pending = t.pending[1:]
		switch {
		case t.inRef:
			if c != ';' {
				if len(t.entity) > 8 {
					return n, errors.New("malformed character reference in MimeContent")
				}
				t.entity = append(t.entity, c)
				continue
			}
			t.inRef = false
			r, err := resolveCharRef(string(t.entity))
			t.entity = t.entity[:0]
			if err != nil {
				return n, err
			}
			if r != 0 {
				p[n] = r
				n++
			}
		case c == '&':
			t.inRef = true
		}
	}
	if n == 0 && t.ended && len(t.pending) == 0 {
		if t.inRef {
			return 0, errors.New("unterminated character reference in MimeContent")
		}
		return 0, io.EOF
	}
	return n, nil
}

// resolveCharRef resolves a numeric character reference (without & and
// ;) that may appear in base64 text: whitespace resolves to 0 (dropped),
// base64 characters to themselves.
func resolveCharRef(ref string) (byte, error) {
	var v int64
	var err error
	switch {
	case strings.HasPrefix(ref, "#x") || strings.HasPrefix(ref, "#X"):
		v, err = strconv.ParseInt(ref[2:], 16, 32)
	case strings.HasPrefix(ref, "#"):
		v, err = strconv.ParseInt(ref[1:], 10, 32)
	default:
		err = errors.New("named entity")
	}
	if err != nil {
		return 0, fmt.Errorf("unexpected reference &%s; in MimeContent", ref)
	}
	switch c := byte(v); {
	case v == ' ' || v == '\t' || v == '\r' || v == '\n':
		return 0, nil
	case v < 0x80 && (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='):
		return c, nil
	}
	return 0, fmt.Errorf("unexpected character &%s; in MimeContent", ref)
}
