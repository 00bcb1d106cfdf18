package mailkit

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Store reaches one user's mailbox on an IMAP server that speaks plain text
// on loopback. Every method opens its own connection and closes it before
// returning, so a Store is safe for concurrent use and never disturbs the
// connections of the client under test.
type Store struct {
	// Addr is the server's host:port.
	Addr string
	// Username and Password log in. The password is never put in an error.
	Username string
	Password string
}

// Seed is a message to append.
type Seed struct {
	// Raw is the message. When Body is set, Raw is ignored and Size bytes
	// are streamed from Body instead.
	Raw  []byte
	Body io.Reader
	Size int64
	// Keywords are set on the message (an analyst's category, for example).
	Keywords []string
	// Read sets \Seen.
	Read bool
	// Received is the message's INTERNALDATE; zero means now.
	Received time.Time
}

// Stored is a message as the server holds it.
type Stored struct {
	// UID is the message's UID in its folder.
	UID uint32
	// Flags are its flags and keywords as the server reports them, sorted.
	Flags []string
	// Size is the size of the raw message and SHA256 its hash, both computed
	// from what the server sent.
	Size   int64
	SHA256 string
	// MessageID is the Message-ID of the envelope, without angle brackets.
	MessageID string
	// Subject is the envelope's subject.
	Subject string
}

// HasFlag reports whether the message carries flag, compared without
// regard to case as IMAP compares keywords.
func (s Stored) HasFlag(flag string) bool {
	return slices.ContainsFunc(s.Flags, func(f string) bool { return strings.EqualFold(f, flag) })
}

// session is a logged-in connection and the server's hierarchy separator.
type session struct {
	c      *imapclient.Client
	stop   func() bool
	delim  rune
	broken bool // a command was cut short: close without LOGOUT
}

func (s *Store) connect(ctx context.Context) (*session, error) {
	if s.Addr == "" || s.Username == "" {
		return nil, errors.New("mailkit: Store needs an Addr and a Username")
	}
	c, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		return nil, fmt.Errorf("mailkit: connecting to %s: %w", s.Addr, err)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	fail := func(what string, err error) (*session, error) {
		stop()
		c.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("mailkit: %s on %s as %s: %w", what, s.Addr, s.Username, err)
	}
	if err := c.Login(s.Username, s.Password).Wait(); err != nil {
		return fail("LOGIN", err)
	}
	list, err := c.List("", "", nil).Collect()
	if err != nil {
		return fail("LIST", err)
	}
	sess := &session{c: c, stop: stop, delim: '/'}
	if len(list) > 0 && list[0].Delim != 0 {
		sess.delim = list[0].Delim
	}
	return sess, nil
}

func (s *session) close() {
	if !s.broken {
		_ = s.c.Logout().Wait()
	}
	s.c.Close()
	s.stop()
}

// mailbox turns a folder path ("Inbox/Phishing") into the server's name.
func (s *session) mailbox(path string) string {
	levels := strings.Split(path, "/")
	if strings.EqualFold(levels[0], "INBOX") {
		levels[0] = "INBOX"
	}
	return strings.Join(levels, string(s.delim))
}

// CreateFolders creates the folders (paths with "/" between levels) that do
// not exist yet.
func (s *Store) CreateFolders(ctx context.Context, paths ...string) error {
	sess, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer sess.close()
	for _, p := range paths {
		if strings.EqualFold(p, "INBOX") {
			continue
		}
		err := sess.c.Create(sess.mailbox(p), nil).Wait()
		var ierr *imap.Error
		if errors.As(err, &ierr) && (ierr.Code == imap.ResponseCodeAlreadyExists || strings.Contains(strings.ToLower(ierr.Text), "exists")) {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("mailkit: CREATE %q: %w", p, err)
		}
	}
	return nil
}

// Append appends the messages to folder, in order, over one connection.
func (s *Store) Append(ctx context.Context, folder string, msgs ...Seed) error {
	sess, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer sess.close()
	name := sess.mailbox(folder)
	for i, m := range msgs {
		if err := appendOne(sess.c, name, m); err != nil {
			sess.broken = true
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return fmt.Errorf("mailkit: APPEND message %d to %q: %w", i, folder, err)
		}
	}
	return nil
}

func appendOne(c *imapclient.Client, mailbox string, m Seed) error {
	body, size := m.Body, m.Size
	if body == nil {
		body, size = bytes.NewReader(m.Raw), int64(len(m.Raw))
	}
	if size <= 0 {
		return errors.New("empty message")
	}
	opts := &imap.AppendOptions{Time: m.Received}
	if opts.Time.IsZero() {
		opts.Time = time.Now()
	}
	for _, k := range m.Keywords {
		opts.Flags = append(opts.Flags, imap.Flag(k))
	}
	if m.Read {
		opts.Flags = append(opts.Flags, imap.FlagSeen)
	}
	cmd := c.Append(mailbox, size, opts)
	n, err := io.Copy(cmd, io.LimitReader(body, size))
	if err == nil && n != size {
		err = fmt.Errorf("the body gave %d bytes, not %d", n, size)
	}
	if err != nil {
		// The literal is cut short: the server still waits for its bytes,
		// so only closing the connection ends the command.
		c.Close()
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err = cmd.Wait()
	return err
}

// Inspect returns every message of folder, oldest UID first, read with
// EXAMINE so that nothing changes (not even \Seen). Each message is hashed
// as it streams by: a large message costs no more memory than a small one.
func (s *Store) Inspect(ctx context.Context, folder string) ([]Stored, error) {
	sess, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer sess.close()
	fail := func(what string, err error) ([]Stored, error) {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("mailkit: %s in %q: %w", what, folder, err)
	}
	data, err := sess.c.Select(sess.mailbox(folder), &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return fail("EXAMINE", err)
	}
	if data.NumMessages == 0 {
		return nil, nil
	}
	cmd := sess.c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{
		UID: true, Flags: true, Envelope: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	})
	var out []Stored
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		st, err := readStored(msg)
		if err != nil {
			cmd.Close()
			return fail("FETCH", err)
		}
		out = append(out, st)
	}
	if err := cmd.Close(); err != nil {
		return fail("FETCH", err)
	}
	slices.SortFunc(out, func(a, b Stored) int { return cmp.Compare(a.UID, b.UID) })
	return out, nil
}

func readStored(msg *imapclient.FetchMessageData) (Stored, error) {
	var st Stored
	for {
		item := msg.Next()
		if item == nil {
			return st, nil
		}
		switch item := item.(type) {
		case imapclient.FetchItemDataUID:
			st.UID = uint32(item.UID)
		case imapclient.FetchItemDataFlags:
			for _, f := range item.Flags {
				st.Flags = append(st.Flags, string(f))
			}
			slices.Sort(st.Flags)
		case imapclient.FetchItemDataEnvelope:
			if item.Envelope != nil {
				st.MessageID = strings.Trim(item.Envelope.MessageID, "<> ")
				st.Subject = item.Envelope.Subject
			}
		case imapclient.FetchItemDataBodySection:
			if item.Literal == nil {
				continue
			}
			h := sha256.New()
			n, err := io.Copy(h, item.Literal)
			if err != nil {
				return st, err
			}
			st.Size, st.SHA256 = n, hex.EncodeToString(h.Sum(nil))
		}
	}
}

// CRLF returns raw with every bare line feed turned into CR LF, as IMAP
// requires and as a mail server stores what it receives by SMTP. Lines that
// already end in CR LF are left alone.
func CRLF(raw []byte) []byte {
	out := make([]byte, 0, len(raw)+bytes.Count(raw, []byte{'\n'}))
	for i, b := range raw {
		if b == '\n' && (i == 0 || raw[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, b)
	}
	return out
}
