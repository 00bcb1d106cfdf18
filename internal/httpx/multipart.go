package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// Part is one part of a multipart/form-data body.
type Part struct {
	// Name is the form field name.
	Name string
	// FileName, when set, makes the part a file part.
	FileName string
	// ContentType is the part's Content-Type; empty means none for a field
	// and application/octet-stream for a file.
	ContentType string
	// Data is the content of a small part held in memory. It is used when
	// Open is nil.
	Data []byte
	// Open returns the content of a streamed part, once per attempt.
	Open func() (io.ReadCloser, error)
	// Size is the exact size of what Open yields, or -1 when unknown. A known
	// size lets the whole body be sent with a Content-Length, and a source
	// that yields another number of bytes fails the request.
	Size int64
	// Replayable reports whether Open may be called more than once.
	Replayable bool
}

func (p *Part) header() textproto.MIMEHeader {
	h := make(textproto.MIMEHeader)
	disp := fmt.Sprintf(`form-data; name="%s"`, escapeQuotes(p.Name))
	if p.FileName != "" {
		disp += fmt.Sprintf(`; filename="%s"`, escapeQuotes(p.FileName))
	}
	h.Set("Content-Disposition", disp)
	ct := p.ContentType
	if ct == "" && p.FileName != "" {
		ct = "application/octet-stream"
	}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	return h
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "%0D", "\n", "%0A")

func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }

// MultipartBody returns a multipart/form-data body made of parts. Streamed
// parts are copied through a pipe while the request is being sent, so a file
// of any size costs a small buffer, not its size in memory. The boundary is
// chosen once, so every attempt sends identical bytes.
func MultipartBody(parts []Part) (*Body, error) {
	var rnd [24]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("choosing a multipart boundary: %w", err)
	}
	boundary := hex.EncodeToString(rnd[:])

	length, replayable := int64(0), true
	framing := &countWriter{}
	mw := multipart.NewWriter(framing)
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, err
	}
	for i := range parts {
		p := &parts[i]
		if p.Name == "" {
			return nil, fmt.Errorf("multipart part %d has no name", i)
		}
		if _, err := mw.CreatePart(p.header()); err != nil {
			return nil, err
		}
		switch {
		case p.Open == nil:
			length += int64(len(p.Data))
		case p.Size >= 0 && length >= 0:
			length += p.Size
			replayable = replayable && p.Replayable
		default:
			length = -1
			replayable = replayable && p.Replayable
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	if length >= 0 {
		length += framing.n
	}

	return &Body{
		ContentType: mw.FormDataContentType(),
		Length:      length,
		Replayable:  replayable,
		Open: func() (io.ReadCloser, error) {
			pr, pw := io.Pipe()
			go func() { pw.CloseWithError(writeParts(pw, boundary, parts)) }()
			return pr, nil
		},
	}, nil
}

// writeParts writes the whole multipart body to w.
func writeParts(w io.Writer, boundary string, parts []Part) error {
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(boundary); err != nil {
		return err
	}
	for i := range parts {
		p := &parts[i]
		pw, err := mw.CreatePart(p.header())
		if err != nil {
			return err
		}
		if p.Open == nil {
			if _, err := pw.Write(p.Data); err != nil {
				return err
			}
			continue
		}
		if err := copyPart(pw, p); err != nil {
			return err
		}
	}
	return mw.Close()
}

func copyPart(w io.Writer, p *Part) error {
	rc, err := p.Open()
	if err != nil {
		return fmt.Errorf("opening part %q: %w", p.Name, err)
	}
	defer rc.Close()
	n, err := io.Copy(w, rc)
	if err != nil {
		return fmt.Errorf("streaming part %q: %w", p.Name, err)
	}
	if p.Size >= 0 && n != p.Size {
		return fmt.Errorf("part %q: source yielded %d bytes, %d announced", p.Name, n, p.Size)
	}
	return nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
