package ews

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// IMAPMailbox reads messages from folders of an IMAP server. It implements
// [Mailbox] and [Waiter], and is safe for concurrent use.
//
// It keeps a small pool of connections (see [IMAPConfig.MaxConns]): listing
// holds one only while it talks to the server, never while the caller
// handles a yielded message, and an open message stream holds one until it
// is closed. A connection that breaks is replaced on the next call, and a
// call that fails because its connection broke is retried once on a new one.
//
// Message IDs hold the folder, its UIDVALIDITY and the message's UID, so they
// stay valid across reconnects and restarts. When the server rebuilds a
// folder and changes its UIDVALIDITY, old IDs give [ErrStale] and the next
// listing yields the folder's unprocessed messages under new IDs; processed
// messages stay processed, since their marks are flags stored on the server
// or a move.
type IMAPMailbox struct {
	cfg     IMAPConfig
	tlsConf *tls.Config
	log     *slog.Logger
	pool    *imapPool

	nsMu     sync.Mutex
	nsKnown  bool
	nsPrefix string
	delim    rune

	closing chan struct{} // closed by Close, ends waits

	mu          sync.Mutex
	closed      bool
	uidValidity map[string]uint32   // folder path -> last UIDVALIDITY seen
	uidNext     map[string]imap.UID // folder path -> UIDNEXT at the last listing
}

var (
	_ Mailbox = (*IMAPMailbox)(nil)
	_ Waiter  = (*IMAPMailbox)(nil)
)

// NewIMAP returns a mailbox for cfg. It does no I/O: the first call that
// needs the server connects. Configuration errors match ErrInvalidConfig.
func NewIMAP(cfg IMAPConfig) (*IMAPMailbox, error) {
	cfg, tc, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	return &IMAPMailbox{
		cfg:         cfg,
		tlsConf:     tc,
		log:         cfg.Logger,
		pool:        newIMAPPool(cfg.MaxConns),
		closing:     make(chan struct{}),
		uidValidity: make(map[string]uint32),
		uidNext:     make(map[string]imap.UID),
	}, nil
}

// String names the mailbox by user and server, without secrets.
func (m *IMAPMailbox) String() string {
	return "imap://" + m.cfg.Username + "@" + m.cfg.Addr
}

// Format prints [IMAPMailbox.String] for every verb, so that no verb prints
// the configuration's password.
func (m *IMAPMailbox) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(m.String())) }

// LogValue logs the mailbox's server and user.
func (m *IMAPMailbox) LogValue() slog.Value {
	return slog.GroupValue(slog.String("server", m.cfg.Addr), slog.String("username", m.cfg.Username))
}

// Close logs out and closes every connection. Open message streams fail
// and a WaitForMail in progress returns ErrClosed. Closing twice is not an
// error.
func (m *IMAPMailbox) Close() error {
	m.mu.Lock()
	if !m.closed {
		m.closed = true
		close(m.closing)
	}
	m.mu.Unlock()
	m.pool.close()
	return nil
}

func (m *IMAPMailbox) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// ready returns ErrClosed once the mailbox is closed, then ctx's error.
func (m *IMAPMailbox) ready(ctx context.Context) error {
	if m.isClosed() {
		return ErrClosed
	}
	return ctx.Err()
}

// opErr wraps err with the server, folder and operation. IMAP NO and BAD
// responses become *ServerError.
func (m *IMAPMailbox) opErr(folder, op string, err error) error {
	var opErr *OpError
	if errors.As(err, &opErr) {
		return err
	}
	var imapErr *imap.Error
	var srvErr *ServerError
	if errors.As(err, &imapErr) && !errors.As(err, &srvErr) {
		err = imapServerError(imapErr, imapErrorKind(imapErr))
	}
	return &OpError{Protocol: "imap", Server: m.cfg.Addr, Folder: folder, Op: op, Err: err}
}

// imapServerError wraps an IMAP NO or BAD response as a *ServerError that
// matches kind.
func imapServerError(e *imap.Error, kind error) *ServerError {
	return &ServerError{Code: string(e.Code), Message: e.Text, Kind: kind, Err: e}
}

// imapErrorKind maps an IMAP response code to a shared sentinel.
func imapErrorKind(e *imap.Error) error {
	switch e.Code {
	case imap.ResponseCodeNonExistent, imap.ResponseCodeTryCreate:
		return ErrFolderNotFound
	case imap.ResponseCodeAuthenticationFailed, imap.ResponseCodeAuthorizationFailed, imap.ResponseCodeExpired:
		return ErrAuth
	}
	return nil
}

// retryable reports whether err says the connection broke, rather than the
// server refusing the command or the mailbox deciding to fail.
func retryable(err error) bool {
	var imapErr *imap.Error
	var srvErr *ServerError
	switch {
	case errors.As(err, &imapErr), errors.As(err, &srvErr):
		return false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	}
	for _, s := range []error{ErrAuth, ErrFolderNotFound, ErrMessageNotFound, ErrStale, ErrInvalidID, ErrInvalidConfig, ErrUnsupported, ErrClosed} {
		if errors.Is(err, s) {
			return false
		}
	}
	return true
}

// withConn runs f on a pooled connection with the folder selected (unless
// folder is ""). When the connection breaks under f, it retries once on a
// new connection. A done ctx closes the connection, which unblocks f.
func (m *IMAPMailbox) withConn(ctx context.Context, folder, op string, f func(*imapConn) error) error {
	if err := m.ready(ctx); err != nil {
		return m.opErr(folder, op, err)
	}
	var err error
	errOp := op
	for attempt := 0; attempt < 2; attempt++ {
		var c *imapConn
		c, err = m.pool.get(ctx, m.dialPooled)
		if err != nil {
			if attempt == 0 && retryable(err) && ctx.Err() == nil && !m.isClosed() {
				m.log.WarnContext(ctx, "imap: connecting failed, retrying", "server", m.cfg.Addr, "op", op, "error", err)
				continue
			}
			break
		}
		stop := context.AfterFunc(ctx, c.kill)
		errOp = op
		if err = m.selectFolder(c, folder); err != nil {
			errOp = "select"
		} else {
			err = f(c)
		}
		stopped := stop()
		if err == nil && stopped {
			m.pool.put(c)
			return nil
		}
		if !stopped || c.broken() || retryable(err) {
			m.pool.discard(c, true)
		} else {
			m.pool.put(c)
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
			break
		}
		if m.isClosed() {
			err = ErrClosed
			break
		}
		if !retryable(err) {
			break
		}
		m.log.WarnContext(ctx, "imap: connection lost, retrying on a new one", "server", m.cfg.Addr, "folder", folder, "op", errOp, "error", err)
	}
	return m.opErr(folder, errOp, err)
}

func (m *IMAPMailbox) dialPooled(ctx context.Context) (*imapConn, error) { return m.dial(ctx, nil) }

// selectFolder selects the server mailbox of a folder path.
func (m *IMAPMailbox) selectFolder(c *imapConn, folder string) error {
	if folder == "" {
		return nil
	}
	err := c.selectMailbox(m.serverName(folder))
	var imapErr *imap.Error
	if errors.As(err, &imapErr) && imapErr.Type == imap.StatusResponseTypeNo && imapErr.Code == "" {
		// Some servers say NO without NONEXISTENT for a missing mailbox.
		err = imapServerError(imapErr, ErrFolderNotFound)
	}
	return err
}

// serverName turns a folder path ("Inbox/Phishing") into the server's
// mailbox name ("INBOX.Phishing" on a server whose separator is ".").
func (m *IMAPMailbox) serverName(path string) string {
	m.nsMu.Lock()
	delim, prefix := m.delim, m.nsPrefix
	m.nsMu.Unlock()
	levels := strings.Split(path, "/")
	if strings.EqualFold(levels[0], "INBOX") {
		levels[0] = "INBOX"
	}
	sep := "/"
	if delim != 0 {
		sep = string(delim)
	}
	name := strings.Join(levels, sep)
	if prefix != "" && levels[0] != "INBOX" && !strings.HasPrefix(name, prefix) {
		name = prefix + name
	}
	return name
}

// imapRef is what an IMAP message ID holds.
type imapRef struct {
	folder      string
	uidValidity uint32
	uid         imap.UID
}

const imapIDPrefix = "imap:"

// imapID encodes a message ID as "imap:<uidvalidity>:<uid>:<folder path>".
func imapID(folder string, uidValidity uint32, uid imap.UID) MessageID {
	return MessageID(imapIDPrefix + strconv.FormatUint(uint64(uidValidity), 10) + ":" +
		strconv.FormatUint(uint64(uid), 10) + ":" + folder)
}

func parseIMAPID(id MessageID) (imapRef, error) {
	rest, ok := strings.CutPrefix(string(id), imapIDPrefix)
	parts := strings.SplitN(rest, ":", 3)
	if !ok || len(parts) != 3 {
		return imapRef{}, fmt.Errorf("%w: %q is not an IMAP message id", ErrInvalidID, id)
	}
	uv, err1 := strconv.ParseUint(parts[0], 10, 32)
	uid, err2 := strconv.ParseUint(parts[1], 10, 32)
	if err1 != nil || err2 != nil || uv == 0 || uid == 0 || checkFolderPath(parts[2]) != nil {
		return imapRef{}, fmt.Errorf("%w: %q is not an IMAP message id", ErrInvalidID, id)
	}
	return imapRef{folder: parts[2], uidValidity: uint32(uv), uid: imap.UID(uid)}, nil
}

// checkValidity fails with ErrStale when the selected folder is not the
// one the ID was made for.
func (m *IMAPMailbox) checkValidity(c *imapConn, ref imapRef) error {
	if c.uidValidity != ref.uidValidity {
		return fmt.Errorf("%w: UIDVALIDITY is now %d, the id has %d; list the folder again", ErrStale, c.uidValidity, ref.uidValidity)
	}
	return nil
}

// listBatch is how many messages' metadata one FETCH asks for.
const listBatch = 64

// Messages yields the unprocessed messages of each configured folder in
// turn, oldest first (by the server's INTERNALDATE, then UID).
//
// For each folder it searches once (UID SEARCH UNSEEN, or UNKEYWORD for a
// Category disposition, never a message carrying the quarantine keyword or
// \Deleted), then fetches the metadata lazily in batches. A message that was
// marked processed between the search and its batch is skipped.
func (m *IMAPMailbox) Messages(ctx context.Context) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		for _, folder := range m.cfg.Folders {
			if !m.listFolder(ctx, folder, yield, true) {
				return
			}
		}
	}
}

// listFolder yields one folder's messages and reports whether to go on.
// After a UIDVALIDITY change mid-listing it starts the folder over, once.
func (m *IMAPMailbox) listFolder(ctx context.Context, folder string, yield func(Message, error) bool, again bool) bool {
	type dated struct {
		uid  imap.UID
		date time.Time
	}
	var (
		order       []dated
		uidValidity uint32
	)
	criteria := m.unprocessedCriteria()
	err := m.withConn(ctx, folder, "search", func(c *imapConn) error {
		order = order[:0]
		uidValidity = c.uidValidity
		m.noteFolderState(ctx, folder, c)
		data, err := c.c.UIDSearch(criteria, nil).Wait()
		if err != nil {
			return err
		}
		uids := data.AllUIDs()
		if len(uids) == 0 {
			return nil
		}
		msgs, err := c.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, InternalDate: true}).Collect()
		if err != nil {
			return err
		}
		for _, msg := range msgs {
			order = append(order, dated{uid: msg.UID, date: msg.InternalDate})
		}
		return nil
	})
	if err != nil {
		yield(Message{}, err)
		return false
	}
	slices.SortFunc(order, func(a, b dated) int {
		return cmp.Or(a.date.Compare(b.date), cmp.Compare(a.uid, b.uid))
	})

	for start := 0; start < len(order); start += listBatch {
		batch := order[start:min(start+listBatch, len(order))]
		var set imap.UIDSet
		for _, d := range batch {
			set.AddNum(d.uid)
		}
		byUID := make(map[imap.UID]*imapclient.FetchMessageBuffer, len(batch))
		err := m.withConn(ctx, folder, "fetch", func(c *imapConn) error {
			if c.uidValidity != uidValidity {
				return fmt.Errorf("%w: UIDVALIDITY changed while listing", ErrStale)
			}
			msgs, err := c.c.Fetch(set, &imap.FetchOptions{
				UID: true, Flags: true, InternalDate: true, RFC822Size: true, Envelope: true,
			}).Collect()
			if err != nil {
				return err
			}
			for _, msg := range msgs {
				byUID[msg.UID] = msg
			}
			return nil
		})
		if errors.Is(err, ErrStale) && again {
			// The folder was rebuilt mid-listing: list it again from the start.
			m.log.WarnContext(ctx, "imap: folder rebuilt while listing; listing it again", "server", m.cfg.Addr, "folder", folder)
			return m.listFolder(ctx, folder, yield, false)
		}
		if err != nil {
			yield(Message{}, err)
			return false
		}
		for _, d := range batch {
			msg, ok := byUID[d.uid]
			if !ok || !m.unprocessed(msg.Flags) {
				continue // expunged, or marked since the search
			}
			if !yield(m.message(folder, uidValidity, msg), nil) {
				return false
			}
		}
	}
	return true
}

// noteFolderState remembers UIDNEXT for WaitForMail and warns when a
// folder's UIDVALIDITY changed.
func (m *IMAPMailbox) noteFolderState(ctx context.Context, folder string, c *imapConn) {
	m.mu.Lock()
	prev := m.uidValidity[folder]
	m.uidValidity[folder] = c.uidValidity
	m.uidNext[folder] = c.uidNext
	m.mu.Unlock()
	if prev != 0 && prev != c.uidValidity {
		m.log.WarnContext(ctx, "imap: folder UIDVALIDITY changed; its unprocessed messages are listed again under new ids",
			"server", m.cfg.Addr, "folder", folder, "old", prev, "new", c.uidValidity)
	}
}

// unprocessedCriteria is the SEARCH for messages not yet processed.
func (m *IMAPMailbox) unprocessedCriteria() *imap.SearchCriteria {
	crit := &imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}
	switch p := m.cfg.Processed; {
	case p.Category != "":
		crit.NotFlag = append(crit.NotFlag, imap.Flag(p.Category))
	case p.MarkRead:
		crit.NotFlag = append(crit.NotFlag, imap.FlagSeen)
	}
	if q := m.cfg.Quarantine.Category; q != "" {
		crit.NotFlag = append(crit.NotFlag, imap.Flag(q))
	}
	return crit
}

// unprocessed applies unprocessedCriteria to a message's current flags.
func (m *IMAPMailbox) unprocessed(flags []imap.Flag) bool {
	for _, f := range m.unprocessedCriteria().NotFlag {
		if hasFlag(flags, f) {
			return false
		}
	}
	return true
}

func hasFlag(flags []imap.Flag, f imap.Flag) bool {
	return slices.ContainsFunc(flags, func(g imap.Flag) bool { return strings.EqualFold(string(g), string(f)) })
}

// message builds the listed Message from FETCH data.
func (m *IMAPMailbox) message(folder string, uidValidity uint32, msg *imapclient.FetchMessageBuffer) Message {
	out := Message{
		ID:       imapID(folder, uidValidity, msg.UID),
		Folder:   folder,
		Size:     msg.RFC822Size,
		Received: msg.InternalDate,
	}
	if msg.RFC822Size == 0 {
		out.Size = -1
	}
	if env := msg.Envelope; env != nil {
		out.Subject = env.Subject
		if env.MessageID != "" {
			out.InternetMessageID = "<" + env.MessageID + ">"
		}
	}
	for _, f := range msg.Flags {
		if !strings.HasPrefix(string(f), `\`) && f != imap.FlagWildcard {
			out.Categories = append(out.Categories, string(f))
		}
	}
	return out
}

// Open streams the raw message with UID FETCH BODY.PEEK[], which leaves the
// \Seen flag alone. The stream holds a connection until it is closed;
// closing it before the end drops that connection rather than reading the
// rest. A done ctx fails the stream's reads.
func (m *IMAPMailbox) Open(ctx context.Context, msg Message) (io.ReadCloser, error) {
	ref, err := parseIMAPID(msg.ID)
	if err != nil {
		return nil, m.opErr(msg.Folder, "open", err)
	}
	if err := m.ready(ctx); err != nil {
		return nil, m.opErr(ref.folder, "fetch", err)
	}
	for attempt := 0; ; attempt++ {
		body, err := m.openOnce(ctx, ref)
		if err == nil {
			return body, nil
		}
		if attempt == 1 || !retryable(err) || ctx.Err() != nil || m.isClosed() {
			if ctxErr := ctx.Err(); ctxErr != nil {
				err = ctxErr
			} else if m.isClosed() {
				err = ErrClosed
			}
			return nil, m.opErr(ref.folder, "fetch", err)
		}
		m.log.WarnContext(ctx, "imap: connection lost, retrying on a new one", "server", m.cfg.Addr, "folder", ref.folder, "op", "fetch", "error", err)
	}
}

func (m *IMAPMailbox) openOnce(ctx context.Context, ref imapRef) (*imapBody, error) {
	c, err := m.pool.get(ctx, m.dialPooled)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, c.kill)
	fail := func(err error) (*imapBody, error) {
		if !stop() || c.broken() || retryable(err) {
			m.pool.discard(c, true)
		} else {
			m.pool.put(c)
		}
		return nil, err
	}
	if err := m.selectFolder(c, ref.folder); err != nil {
		return fail(err)
	}
	if err := m.checkValidity(c, ref); err != nil {
		return fail(err)
	}
	cmd := c.c.Fetch(imap.UIDSetNum(ref.uid), &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	})
	data := cmd.Next()
	if data == nil {
		if err := cmd.Close(); err != nil {
			return fail(err)
		}
		return fail(fmt.Errorf("%w: no message has UID %d", ErrMessageNotFound, ref.uid))
	}
	for item := data.Next(); item != nil; item = data.Next() {
		section, ok := item.(imapclient.FetchItemDataBodySection)
		if !ok {
			continue
		}
		if section.Literal == nil {
			break
		}
		return &imapBody{ctx: ctx, m: m, c: c, cmd: cmd, data: data, lit: section.Literal, stop: stop, folder: ref.folder}, nil
	}
	// The server sent no body: the FETCH response was mixed up with an
	// unsolicited one. Drop the connection and try again.
	stop()
	m.pool.discard(c, true)
	return nil, errors.New("the server sent no message body")
}

// imapBody streams one message's literal and gives its connection back when
// closed.
type imapBody struct {
	ctx    context.Context
	m      *IMAPMailbox
	c      *imapConn
	cmd    *imapclient.FetchCommand
	data   *imapclient.FetchMessageData
	lit    imap.LiteralReader
	stop   func() bool
	folder string

	read   int64 // bytes read so far
	eof    bool
	err    error // the first read error, returned by every later Read
	litErr bool  // the literal itself failed: it must not be read again
	closed bool
}

// imapDrainLimit is how much of a message left unread Close reads rather
// than drop the connection: logging in again costs more than reading a
// megabyte (a reader that stops after one attachment is common).
const imapDrainLimit = 1 << 20

func (b *imapBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, b.m.opErr(b.folder, "fetch", errors.New("read from a closed message stream"))
	}
	if b.eof {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	if err := b.ctx.Err(); err != nil {
		b.err = b.m.opErr(b.folder, "fetch", err)
		return 0, b.err
	}
	n, err := b.lit.Read(p)
	b.read += int64(n)
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		// imapclient's reader goroutine takes the connection back after a
		// failed read, so the literal must not be touched again.
		if ctxErr := b.ctx.Err(); ctxErr != nil {
			err = ctxErr
		} else if b.m.isClosed() {
			err = ErrClosed
		}
		err = b.m.opErr(b.folder, "fetch", err)
		b.err, b.litErr = err, true
	}
	return n, err
}

// Close ends the stream. After the whole message was read, or when little
// of it is left to read, it finishes the FETCH and keeps the connection;
// otherwise it drops the connection.
func (b *imapBody) Close() error {
	if b.closed {
		return nil
	}
	if !b.eof && b.err == nil && b.ctx.Err() == nil && b.lit.Size()-b.read <= imapDrainLimit {
		// Read the rest, so that the FETCH ends and the connection is kept.
		_, _ = io.Copy(io.Discard, struct{ io.Reader }{b})
	}
	b.closed = true
	if !b.stop() || !b.eof {
		// imapclient's reader waits until the literal is consumed: close
		// the socket, so that reading the rest fails at once, then drop
		// the connection.
		b.c.kill()
		if !b.litErr && !b.eof {
			// Reading fails soon (after what is buffered) and hands the
			// connection back to imapclient's reader, which then sees the
			// closed socket.
			_, _ = io.Copy(io.Discard, b.lit)
		}
		b.m.pool.discard(b.c, true)
		return nil
	}
	for b.data.Next() != nil {
	}
	if err := b.cmd.Close(); err != nil {
		b.m.pool.discard(b.c, true)
		return nil
	}
	b.m.pool.put(b.c)
	return nil
}

// MarkProcessed applies the Processed disposition: UID STORE +FLAGS for the
// keyword and \Seen, then UID MOVE (or, on a server without MOVE, UID COPY,
// \Deleted and UID EXPUNGE). A message already marked, or already moved
// away, is left alone.
func (m *IMAPMailbox) MarkProcessed(ctx context.Context, msg Message) error {
	return m.apply(ctx, "mark processed", msg, m.cfg.Processed)
}

// Quarantine applies the Quarantine disposition as MarkProcessed does. IMAP
// cannot store reason on the message, so it is logged at Info level.
func (m *IMAPMailbox) Quarantine(ctx context.Context, msg Message, reason string) error {
	if err := m.apply(ctx, "quarantine", msg, m.cfg.Quarantine); err != nil {
		return err
	}
	m.log.InfoContext(ctx, "imap: message quarantined", "server", m.cfg.Addr, "folder", msg.Folder, "id", string(msg.ID), "reason", reason)
	return nil
}

func (m *IMAPMailbox) apply(ctx context.Context, op string, msg Message, d Disposition) error {
	ref, err := parseIMAPID(msg.ID)
	if err != nil {
		return m.opErr(msg.Folder, op, err)
	}
	if d.IsZero() {
		return m.opErr(ref.folder, op, fmt.Errorf("%w: no quarantine disposition is configured", ErrInvalidConfig))
	}
	return m.withConn(ctx, ref.folder, op, func(c *imapConn) error {
		if err := m.checkValidity(c, ref); err != nil {
			return err
		}
		uids := imap.UIDSetNum(ref.uid)
		found, err := c.c.Fetch(uids, &imap.FetchOptions{UID: true, Flags: true}).Collect()
		if err != nil {
			return err
		}
		if len(found) == 0 || hasFlag(found[0].Flags, imap.FlagDeleted) {
			if d.MoveTo != "" {
				return nil // moved by an earlier call
			}
			return fmt.Errorf("%w: no message has UID %d", ErrMessageNotFound, ref.uid)
		}
		var add []imap.Flag
		if d.Category != "" && !hasFlag(found[0].Flags, imap.Flag(d.Category)) {
			if !keywordAllowed(c.permanentFlags, d.Category) {
				return fmt.Errorf("%w: the folder does not store the keyword %q (PERMANENTFLAGS)", ErrUnsupported, d.Category)
			}
			add = append(add, imap.Flag(d.Category))
		}
		if d.MarkRead && !hasFlag(found[0].Flags, imap.FlagSeen) {
			add = append(add, imap.FlagSeen)
		}
		if len(add) > 0 {
			store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: add}
			if err := c.c.Store(uids, store, nil).Close(); err != nil {
				return err
			}
		}
		if d.MoveTo == "" {
			return nil
		}
		return m.move(c, uids, d.MoveTo)
	})
}

// keywordAllowed reports whether PERMANENTFLAGS lets the keyword be stored.
// A server that sent no PERMANENTFLAGS allows every flag (RFC 3501).
func keywordAllowed(permanent []imap.Flag, keyword string) bool {
	return permanent == nil || hasFlag(permanent, imap.FlagWildcard) || hasFlag(permanent, imap.Flag(keyword))
}

// move moves uids from the selected folder to the folder path dest.
func (m *IMAPMailbox) move(c *imapConn, uids imap.UIDSet, dest string) error {
	name := m.serverName(dest)
	if c.caps.Has(imap.CapMove) || c.caps.Has(imap.CapIMAP4rev2) {
		_, err := c.c.Move(uids, name).Wait()
		return destErr(dest, err)
	}
	if _, err := c.c.Copy(uids, name).Wait(); err != nil {
		return destErr(dest, err)
	}
	store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
	if err := c.c.Store(uids, store, nil).Close(); err != nil {
		return err
	}
	if !c.caps.Has(imap.CapUIDPlus) {
		// Without UIDPLUS, EXPUNGE would also remove messages that others
		// flagged \Deleted; the copy left behind is \Deleted, which listing
		// skips, and the server's own expunge removes it later.
		return nil
	}
	return c.c.UIDExpunge(uids).Close()
}

// destErr names a missing move target.
func destErr(dest string, err error) error {
	var imapErr *imap.Error
	if errors.As(err, &imapErr) && imapErrorKind(imapErr) == ErrFolderNotFound {
		return fmt.Errorf("move target %q: %w", dest, imapServerError(imapErr, ErrFolderNotFound))
	}
	return err
}
