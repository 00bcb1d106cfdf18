package observable

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"sync"
)

// ErrNoPart is returned by [OpenAttachment] when the message has no part
// with the requested path that holds content (a multipart has none).
var ErrNoPart = errors.New("observable: no such part")

// OpenAttachment reads the raw message from raw, as [ParseEmail] did, and
// returns a reader of the decoded content of the part at path (an
// [Attachment.Path]): the file's bytes, or an attached message's original
// bytes. It is how an upload that must be retried streams the same bytes
// again from a fresh copy of the message, without keeping them anywhere.
//
// The message is read up to the wanted part, skipping the content of the
// parts before it, and nothing is kept. Pass the options given to
// ParseEmail: WithMaxDepth changes how the message is split into parts.
// The caller must Close the reader, which stops reading raw; it does not
// close raw. The reader is not safe for concurrent use.
func OpenAttachment(raw io.Reader, path string, opts ...Option) (io.ReadCloser, error) {
	if !validPartPath(path) {
		return nil, fmt.Errorf("observable: invalid part path %q", path)
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	cfg.onFile = nil
	p := &parser{cfg: cfg, find: true, target: path}
	var parseErr error
	next, stop := iter.Pull(func(yield func(io.Reader) bool) {
		p.yield = yield
		l := newLineReader(raw)
		_, parseErr = p.message(l, "", 0)
		if !errors.Is(parseErr, errStopped) {
			l.release()
		}
	})
	r, ok := next()
	if !ok {
		stop()
		if parseErr != nil && !errors.Is(parseErr, errStopped) {
			return nil, parseErr
		}
		return nil, fmt.Errorf("%w: %s", ErrNoPart, path)
	}
	return &partReader{r: r, stop: stop}, nil
}

// validPartPath accepts section numbers such as "1", "2.3.1".
func validPartPath(path string) bool {
	if path == "" {
		return false
	}
	for _, n := range strings.Split(path, ".") {
		if i, err := strconv.Atoi(n); err != nil || i < 1 || n[0] == '0' {
			return false
		}
	}
	return true
}

// partReader reads the content of the part found by OpenAttachment. The
// parse that found it is suspended while the caller reads, and ended by
// Close.
type partReader struct {
	r    io.Reader
	once sync.Once
	stop func()
	done bool
}

func (pr *partReader) Read(b []byte) (int, error) {
	if pr.done {
		return 0, errors.New("observable: read after Close")
	}
	return pr.r.Read(b)
}

// Close ends the parse. It always returns nil.
func (pr *partReader) Close() error {
	pr.once.Do(func() {
		pr.done = true
		pr.stop()
	})
	return nil
}
