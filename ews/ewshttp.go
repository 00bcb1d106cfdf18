package ews

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/synapse-go/synapse/internal/httpx"
)

// Plumbing shared by the EWS and Microsoft Graph connectors: the state and
// checks both mailboxes hold, the retry loop that honours the server's
// back-off, the memory of moved messages, and configuration checks.

// xchMailbox is what the EWS and Graph mailboxes share: the server they
// name in errors and logs, whether they are closed, and the folder ids
// they have found. Both embed it.
type xchMailbox struct {
	protocol string // "ews" or "graph"
	host     string
	idName   string // what the server's message ids are called, for errors
	log      *slog.Logger
	retry    xchRetry
	moved    xchMoved

	folderMu sync.Mutex
	folders  map[string]string // folder key -> the server's folder id

	mu     sync.Mutex
	closed bool
}

// markClosed makes later calls fail with ErrClosed.
func (b *xchMailbox) markClosed() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
}

// ready returns ErrClosed once the mailbox is closed, then ctx's error.
func (b *xchMailbox) ready(ctx context.Context) error {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return ctx.Err()
}

// opErr wraps err with the server, folder and operation, unless it already
// names them.
func (b *xchMailbox) opErr(folder, op string, err error) error {
	var oe *OpError
	if errors.As(err, &oe) {
		return err
	}
	return &OpError{Protocol: b.protocol, Server: b.host, Folder: folder, Op: op, Err: err}
}

// precheck refuses calls on a closed mailbox, with a done context or with
// an ID that cannot be one of the server's.
func (b *xchMailbox) precheck(ctx context.Context, msg Message, op string) error {
	if err := b.ready(ctx); err != nil {
		return b.opErr(msg.Folder, op, err)
	}
	if err := xchCheckID(msg.ID, b.idName); err != nil {
		return b.opErr(msg.Folder, op, err)
	}
	return nil
}

// xchCheckID accepts what an EWS ItemId or a Graph message id can look
// like (base64 text), so that garbage is refused before it is sent. name
// says what the id is called in errors, such as "an EWS ItemId".
func xchCheckID(id MessageID, name string) error {
	if id == "" {
		return fmt.Errorf("%w: empty message id", ErrInvalidID)
	}
	if len(id) > 1024 {
		return fmt.Errorf("%w: message id is longer than %s", ErrInvalidID, name)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("+/=-_", c) >= 0) {
			return fmt.Errorf("%w: %q is not %s", ErrInvalidID, string(id), name)
		}
	}
	return nil
}

// refuseQuarantine is Quarantine's answer when no Quarantine disposition
// is configured.
func (b *xchMailbox) refuseQuarantine(ctx context.Context, msg Message) error {
	if err := b.precheck(ctx, msg, "Quarantine"); err != nil {
		return err
	}
	return b.opErr(msg.Folder, "Quarantine", fmt.Errorf("%w: no Quarantine disposition is configured", ErrInvalidConfig))
}

// logQuarantined records a quarantined message and the reason, which
// neither server can store on the message.
func (b *xchMailbox) logQuarantined(ctx context.Context, msg Message, reason string) {
	b.log.LogAttrs(ctx, slog.LevelInfo, b.protocol+": message quarantined",
		slog.String("server", b.host), slog.String("folder", msg.Folder), slog.String("id", string(msg.ID)), slog.String("reason", reason))
}

// cachedFolder returns the id found earlier for a folder path.
func (b *xchMailbox) cachedFolder(path string) (string, bool) {
	b.folderMu.Lock()
	defer b.folderMu.Unlock()
	id, ok := b.folders[xchFolderKey(path)]
	return id, ok
}

// rememberFolder records the id found for a folder path.
func (b *xchMailbox) rememberFolder(path, id string) {
	b.folderMu.Lock()
	defer b.folderMu.Unlock()
	if b.folders == nil {
		b.folders = make(map[string]string)
	}
	b.folders[xchFolderKey(path)] = id
}

// forgetFolder drops a remembered folder id that the server no longer
// knows (the folder was deleted or recreated).
func (b *xchMailbox) forgetFolder(path string) {
	b.folderMu.Lock()
	defer b.folderMu.Unlock()
	delete(b.folders, xchFolderKey(path))
}

// Defaults of the retry settings of EWSConfig and GraphConfig.
const (
	DefaultMaxRetries   = 4
	DefaultMaxRetryWait = time.Minute
	defaultMinRetryWait = 500 * time.Millisecond
)

// xchRetry retries an operation after the failures another attempt can
// fix. Unlike internal/httpx's loop, it understands the servers' own
// throttling answers (an EWS ErrorServerBusy with BackOffMilliseconds
// arrives as an HTTP 500 SOAP fault or inside an HTTP 200) and never
// retries sooner than the server asked: a wait longer than maxWait, or one
// that would outlast the context, ends the operation with the server's
// error, which matches ErrThrottled.
type xchRetry struct {
	max     int
	minWait time.Duration
	maxWait time.Duration
	log     *slog.Logger
	// wait blocks for d or until ctx is done; tests replace it.
	wait func(ctx context.Context, d time.Duration) error
}

func newXchRetry(maxRetries int, maxWait time.Duration, log *slog.Logger) xchRetry {
	switch {
	case maxRetries == 0:
		maxRetries = DefaultMaxRetries
	case maxRetries < 0:
		maxRetries = 0
	}
	if maxWait <= 0 {
		maxWait = DefaultMaxRetryWait
	}
	return xchRetry{max: maxRetries, minWait: defaultMinRetryWait, maxWait: maxWait, log: log, wait: sleepCtx}
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// do runs attempt until it succeeds or fails for good. idempotent says
// whether the operation may be repeated after a failure that may have
// happened after the server applied it (a broken connection, a gateway
// error); throttling answers are retried either way, since the server
// refused the request before doing anything.
func (r *xchRetry) do(ctx context.Context, op string, idempotent bool, attempt func(context.Context) error) error {
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := attempt(ctx)
		if err == nil {
			return nil
		}
		delay, retry := retryDelay(err, idempotent)
		if !retry || n >= r.max || ctx.Err() != nil {
			return err
		}
		if delay <= 0 {
			delay = r.backoff(n)
		}
		if delay > r.maxWait {
			return err // the server asked for a longer wait than allowed
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay {
			return err // waiting would outlast the caller
		}
		if r.log != nil {
			r.log.LogAttrs(ctx, slog.LevelWarn, "retrying request",
				slog.String("op", op), slog.Int("attempt", n+1),
				slog.Duration("wait", delay), slog.String("reason", err.Error()))
		}
		if werr := r.wait(ctx, delay); werr != nil {
			return werr
		}
	}
}

// backoff is the n-th exponential step from minWait, capped at maxWait,
// with jitter in [step/2, step].
func (r *xchRetry) backoff(n int) time.Duration {
	step := r.minWait
	for i := 0; i < n && step < r.maxWait; i++ {
		step *= 2
	}
	step = min(step, r.maxWait)
	half := step / 2
	return half + rand.N(half+1)
}

// retryDelay says whether err is worth another attempt, and how long the
// server asked to wait (0 when it did not say).
func retryDelay(err error, idempotent bool) (time.Duration, bool) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return 0, false
	}
	var se *ServerError
	if errors.As(err, &se) {
		switch {
		case se.Kind == ErrThrottled, transientCodes[se.Code]:
			return se.RetryAfter, true
		case se.StatusCode == http.StatusBadGateway, se.StatusCode == http.StatusGatewayTimeout,
			se.StatusCode == http.StatusInternalServerError && se.Code == "":
			return se.RetryAfter, idempotent
		}
		return 0, false
	}
	var te *httpx.TransportError
	if errors.As(err, &te) {
		return 0, idempotent && te.Temporary()
	}
	return 0, false
}

// transientCodes are server codes that say "try again later" without being
// throttling.
var transientCodes = map[string]bool{
	"ErrorInternalServerTransientError": true,
	"ErrorTimeoutExpired":               true,
	"ErrorMailboxStoreUnavailable":      true,
	"ErrorMailboxMoveInProgress":        true,
	"ErrorConnectionFailed":             true,
	"ServiceUnavailable":                true,
	"serviceNotAvailable":               true,
	"UnknownError":                      true,
}

// xchMoved remembers the new ids of messages the mailbox moved, so that
// marking or opening a message again with the id it was listed under still
// works. It keeps the most recent entries only.
type xchMoved struct {
	mu    sync.Mutex
	ids   map[MessageID]MessageID
	order []MessageID
}

const xchMovedMax = 4096

func (c *xchMoved) put(old, moved MessageID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil {
		c.ids = make(map[MessageID]MessageID)
	}
	if _, ok := c.ids[old]; !ok {
		c.order = append(c.order, old)
	}
	c.ids[old] = moved
	if len(c.order) > xchMovedMax {
		delete(c.ids, c.order[0])
		c.order = c.order[1:]
	}
}

// resolve follows recorded moves from id.
func (c *xchMoved) resolve(id MessageID) MessageID {
	c.mu.Lock()
	defer c.mu.Unlock()
	for range 16 {
		next, ok := c.ids[id]
		if !ok {
			break
		}
		id = next
	}
	return id
}

// xchCheckPath is checkFolderPath, and also counts a level of white space
// only as empty.
func xchCheckPath(path string) error {
	if err := checkFolderPath(path); err != nil {
		return err
	}
	for _, level := range strings.Split(path, "/") {
		if strings.TrimSpace(level) == "" {
			return fmt.Errorf("folder path %q has an empty level", path)
		}
	}
	return nil
}

// xchFolderKey compares folder paths the way Exchange compares display
// names: without regard to case.
func xchFolderKey(path string) string { return strings.ToLower(strings.Trim(path, "/")) }

// xchCheckCategory accepts an Outlook category name.
func xchCheckCategory(c string) error {
	switch {
	case strings.TrimSpace(c) == "":
		return errors.New("category is blank")
	case !utf8.ValidString(c):
		return fmt.Errorf("category %q is not UTF-8", c)
	case utf8.RuneCountInString(c) > 255:
		return fmt.Errorf("category %q is longer than 255 characters", c)
	case strings.IndexFunc(c, unicode.IsControl) >= 0:
		return fmt.Errorf("category %q has a control character", c)
	}
	return nil
}

// xchLimit sets the setting *v to def when it is zero and checks that it
// is positive and, when maxV is not zero, at most maxV.
func xchLimit(name string, v *int, def, maxV int) error {
	switch {
	case *v == 0:
		*v = def
	case maxV > 0 && (*v < 0 || *v > maxV):
		return fmt.Errorf("%s %d is outside 1..%d", name, *v, maxV)
	case *v < 0:
		return fmt.Errorf("%s %d is negative", name, *v)
	}
	return nil
}

// xchCheckDispositions validates the folders and dispositions shared by
// the EWS and Graph configurations.
func xchCheckDispositions(folders []string, processed, quarantine Disposition) error {
	if len(folders) == 0 {
		return errors.New("no Folders to list")
	}
	seen := make(map[string]bool)
	for _, f := range folders {
		if err := xchCheckPath(f); err != nil {
			return fmt.Errorf("bad folder in Folders: %w", err)
		}
		if seen[xchFolderKey(f)] {
			return fmt.Errorf("folder %q is listed twice", f)
		}
		seen[xchFolderKey(f)] = true
	}
	if processed.IsZero() {
		return errors.New("the Processed disposition does nothing, so every message would be listed forever")
	}
	for _, d := range []struct {
		name string
		d    Disposition
	}{{"Processed", processed}, {"Quarantine", quarantine}} {
		if d.d.Category != "" {
			if err := xchCheckCategory(d.d.Category); err != nil {
				return fmt.Errorf("%s.Category: %w", d.name, err)
			}
		}
		if d.d.MoveTo != "" {
			if err := xchCheckPath(d.d.MoveTo); err != nil {
				return fmt.Errorf("%s.MoveTo: %w", d.name, err)
			}
			if seen[xchFolderKey(d.d.MoveTo)] {
				return fmt.Errorf("%s.MoveTo %q is a listed folder, so moved messages would be listed again", d.name, d.d.MoveTo)
			}
		}
	}
	return nil
}

// xchHasCategory reports whether cats holds c, compared without regard to
// case as Outlook compares categories.
func xchHasCategory(cats []string, c string) bool {
	for _, x := range cats {
		if strings.EqualFold(x, c) {
			return true
		}
	}
	return false
}

// xchKeyset is the position of a listing in a folder ordered by received
// time. Listing re-queries "received at or after the cursor" instead of
// paging by offset, so that messages marked, moved or delivered while the
// listing runs neither shift the pages (and get skipped) nor get listed
// twice. Messages received in the same second as the cursor are told apart
// by their ids. Within one second, the same page is asked again while it
// holds messages not listed yet (the caller may have marked the others,
// which then leave the view), and the listing moves past a page only when
// everything on it was already listed.
type xchKeyset struct {
	cursor time.Time
	seen   map[string]bool // ids listed at the cursor's second
	offset int             // offset within the cursor's second
	fresh  int             // messages admitted from the current page
	moved  bool            // the cursor moved during the current page
}

// admit reports whether a message received at t with id is new, and moves
// the cursor.
func (k *xchKeyset) admit(id string, t time.Time) bool {
	if k.seen == nil {
		k.seen = make(map[string]bool)
	}
	if t.Before(k.cursor) || k.seen[id] {
		return false
	}
	if t.After(k.cursor) {
		k.cursor = t
		k.seen = make(map[string]bool)
		k.moved = true
	}
	k.seen[id] = true
	k.fresh++
	return true
}

// step ends a page of n items and says how to ask for the next one:
// "restart" from the new cursor, "again" the same page, or "skip" past it
// (the offset has moved by n).
func (k *xchKeyset) step(n int) string {
	moved, fresh := k.moved, k.fresh
	k.moved, k.fresh = false, 0
	switch {
	case moved:
		k.offset = 0
		return "restart"
	case fresh > 0:
		return "again"
	}
	k.offset += n
	return "skip"
}
