package thehive

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/synapse-go/synapse/internal/httpx"
)

// File is a file to upload: a file observable or a task log attachment. It
// is streamed into the request, never read whole into memory.
//
// Give either Reader or Open. A Reader that is an io.Seeker (an *os.File,
// a *bytes.Reader...) is rewound for a retry, and its size is found by
// seeking; a Reader that is not an io.Seeker can be sent once only, so the
// request is not retried. Open is called for every attempt and must yield
// the same bytes each time.
type File struct {
	// Name is the file name TheHive records. Required.
	Name string
	// ContentType defaults to application/octet-stream.
	ContentType string
	// Size is the exact size in bytes, or -1 when unknown. Zero is read as
	// unknown as well, so that a File without a Size works (a seekable
	// Reader's size is then measured). When the size is known the request
	// has a Content-Length, and a source yielding another number of bytes
	// fails the request instead of sending a truncated file.
	Size int64
	// Reader is the content.
	Reader io.Reader
	// Open returns the content, afresh for each attempt.
	Open func() (io.ReadCloser, error)
}

// part returns the multipart part uploading f under field name.
func (f *File) part(field, what string) (httpx.Part, error) {
	if f == nil {
		return httpx.Part{}, invalid("%s: nil file", what)
	}
	if strings.TrimSpace(f.Name) == "" {
		return httpx.Part{}, invalid("%s: file name is required", what)
	}
	if (f.Reader == nil) == (f.Open == nil) {
		return httpx.Part{}, invalid("%s: file %q needs exactly one of Reader and Open", what, f.Name)
	}
	if f.Size < -1 {
		return httpx.Part{}, invalid("%s: file %q has a negative size", what, f.Name)
	}
	p := httpx.Part{Name: field, FileName: f.Name, ContentType: f.ContentType, Size: f.Size}
	if p.Size == 0 {
		p.Size = -1
	}
	if f.Open != nil {
		p.Open, p.Replayable = f.Open, true
		return p, nil
	}
	if p.Size < 0 {
		if s, ok := f.Reader.(io.Seeker); ok {
			if n, ok := remaining(s); ok {
				p.Size = n
			}
		}
	}
	p.Open, p.Replayable = httpx.ReaderOpener(f.Reader)
	return p, nil
}

// remaining returns how many bytes a seeker holds from its current offset,
// and leaves the offset where it was.
func remaining(s io.Seeker) (int64, bool) {
	cur, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, false
	}
	end, err := s.Seek(0, io.SeekEnd)
	if _, err2 := s.Seek(cur, io.SeekStart); err != nil || err2 != nil {
		return 0, false
	}
	return end - cur, true
}

// multipartBody returns the body of TheHive's uploads: the JSON of b in a
// "_json" part, then the files.
func multipartBody(b body, files []httpx.Part) (*httpx.Body, error) {
	data, err := json.Marshal(b)
	if err != nil {
		return nil, invalid("encoding the request: %v", err)
	}
	mb, err := httpx.MultipartBody(append([]httpx.Part{{Name: "_json", Data: data}}, files...))
	if err != nil {
		return nil, fmt.Errorf("thehive: %w", err)
	}
	return mb, nil
}

// Attachment is a file stored by TheHive: the content of a file
// observable, or an attachment of a task log.
type Attachment struct {
	// ID is the attachment's id, used in download URLs.
	ID        AttachmentID `json:"_id"`
	CreatedBy string       `json:"_createdBy,omitempty"`
	CreatedAt time.Time    `json:"-"` // _createdAt
	// Name is the file name.
	Name string `json:"name"`
	// Hashes are the SHA-256, SHA-1 and MD5 of the content, in hex, in that
	// order.
	Hashes      []string `json:"hashes"`
	Size        int64    `json:"size"`
	ContentType string   `json:"contentType"`
	// StorageID is the id of the content in TheHive's storage (its
	// "id" field, the SHA-256 in TheHive 4).
	StorageID string `json:"id"`
}

func (a *Attachment) times() []timeField { return []timeField{{"_createdAt", &a.CreatedAt}} }

// UnmarshalJSON decodes TheHive's JSON, dates in epoch milliseconds.
func (a *Attachment) UnmarshalJSON(b []byte) error {
	type plain Attachment
	return unmarshalWithTimes(b, (*plain)(a), a.times())
}

// MarshalJSON encodes a as TheHive does, dates in epoch milliseconds.
func (a Attachment) MarshalJSON() ([]byte, error) {
	type plain Attachment
	return marshalWithTimes((*plain)(&a), a.times())
}

// SHA256 returns the SHA-256 of the content in hex (the first of Hashes),
// or "".
func (a *Attachment) SHA256() string {
	if len(a.Hashes) == 0 {
		return ""
	}
	return a.Hashes[0]
}

// download streams a file from path.
func (c *Client) download(ctx context.Context, path string, opts []CallOption) (io.ReadCloser, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: path}, opts)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
