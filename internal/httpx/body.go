package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Body is a request body that is rebuilt for every attempt.
type Body struct {
	// ContentType is sent as the Content-Type header.
	ContentType string
	// Length is the exact number of bytes Open yields, or -1 when unknown
	// (the request is then sent chunked).
	Length int64
	// Open returns a fresh reader of the whole body. It is called once per
	// attempt, and again only when Replayable is true.
	Open func() (io.ReadCloser, error)
	// Replayable reports whether Open may be called more than once, each time
	// yielding the same bytes. A request whose body is not replayable is
	// never retried.
	Replayable bool
}

// BytesBody returns a replayable body over b.
func BytesBody(contentType string, b []byte) *Body {
	return &Body{
		ContentType: contentType,
		Length:      int64(len(b)),
		Open:        func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		Replayable:  true,
	}
}

// JSONBody encodes v once and returns a replayable application/json body.
func JSONBody(v any) (*Body, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding request body: %w", err)
	}
	return BytesBody("application/json", b), nil
}

// ErrNotReplayable is returned by an opener made by [ReaderOpener] over a
// plain reader when it is called a second time.
var ErrNotReplayable = errors.New("request body cannot be read a second time")

// ReaderOpener turns r into an Open function for a [Body] or a [Part].
//
// When r is an io.Seeker (an *os.File, a *bytes.Reader, an
// *io.SectionReader...), every call seeks back to r's offset at the time of
// this call, so the opener is replayable. Otherwise the first call returns r
// and later calls fail with [ErrNotReplayable]. The returned readers never
// close r: its owner does.
func ReaderOpener(r io.Reader) (open func() (io.ReadCloser, error), replayable bool) {
	if s, ok := r.(io.ReadSeeker); ok {
		start, err := s.Seek(0, io.SeekCurrent)
		if err == nil {
			return func() (io.ReadCloser, error) {
				if _, err := s.Seek(start, io.SeekStart); err != nil {
					return nil, fmt.Errorf("rewinding request body: %w", err)
				}
				return io.NopCloser(s), nil
			}, true
		}
	}
	var once sync.Once
	return func() (io.ReadCloser, error) {
		var rc io.ReadCloser
		once.Do(func() { rc = io.NopCloser(r) })
		if rc == nil {
			return nil, ErrNotReplayable
		}
		return rc, nil
	}, false
}

// lazyReader opens its source on the first Read. go-retryablehttp calls a
// body function once when the request is built, only to look for a length;
// being lazy keeps that probe free of side effects (no goroutine, no
// download started).
type lazyReader struct {
	open func() (io.ReadCloser, error)
	rc   io.ReadCloser
	err  error
}

func (l *lazyReader) Read(p []byte) (int, error) {
	if l.rc == nil && l.err == nil {
		l.rc, l.err = l.open()
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.rc.Read(p)
}

func (l *lazyReader) Close() error {
	if l.rc == nil {
		return nil
	}
	return l.rc.Close()
}
