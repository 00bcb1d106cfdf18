package ewstest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// IMAPBackend is a [Backend] for any IMAP server reachable in plain text on
// loopback, such as an [IMAPServer] or a test Dovecot. Each call opens its
// own connection, so dropping the mailbox's connections does not disturb it.
type IMAPBackend struct {
	addr, username, password string
	drop                     func()
}

var _ Backend = (*IMAPBackend)(nil)

// NewIMAPBackend returns a Backend that logs in to addr as username. drop
// is called by DropConnections and must break the connections of the
// mailbox under test (for example [IMAPServer.DropConnections]).
func NewIMAPBackend(addr, username, password string, drop func()) *IMAPBackend {
	return &IMAPBackend{addr: addr, username: username, password: password, drop: drop}
}

// DropConnections calls the drop function given to NewIMAPBackend.
func (b *IMAPBackend) DropConnections() {
	if b.drop != nil {
		b.drop()
	}
}

// session is one logged-in connection with the server's separator.
type session struct {
	c     *imapclient.Client
	stop  func() bool
	delim rune
}

func (b *IMAPBackend) connect(ctx context.Context) (*session, error) {
	c, err := imapclient.DialInsecure(b.addr, nil)
	if err != nil {
		return nil, fmt.Errorf("ewstest: connect to %s: %w", b.addr, err)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	if err := c.Login(b.username, b.password).Wait(); err != nil {
		stop()
		c.Close()
		return nil, fmt.Errorf("ewstest: login to %s as %s: %w", b.addr, b.username, err)
	}
	list, err := c.List("", "", nil).Collect()
	if err != nil {
		stop()
		c.Close()
		return nil, fmt.Errorf("ewstest: LIST on %s: %w", b.addr, err)
	}
	s := &session{c: c, stop: stop, delim: '/'}
	if len(list) > 0 && list[0].Delim != 0 {
		s.delim = list[0].Delim
	}
	return s, nil
}

func (s *session) close() {
	s.stop()
	_ = s.c.Logout().Wait()
	s.c.Close()
}

// name turns a folder path into the server's mailbox name.
func (s *session) name(path string) string {
	levels := strings.Split(path, "/")
	if strings.EqualFold(levels[0], "INBOX") {
		levels[0] = "INBOX"
	}
	return strings.Join(levels, string(s.delim))
}

// CreateFolders creates folders that do not exist yet.
func (b *IMAPBackend) CreateFolders(ctx context.Context, folders ...string) error {
	s, err := b.connect(ctx)
	if err != nil {
		return err
	}
	defer s.close()
	for _, f := range folders {
		if strings.EqualFold(f, "INBOX") {
			continue
		}
		err := s.c.Create(s.name(f), nil).Wait()
		var imapErr *imap.Error
		if errors.As(err, &imapErr) && (imapErr.Code == imap.ResponseCodeAlreadyExists ||
			strings.Contains(strings.ToLower(imapErr.Text), "exists")) {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("ewstest: CREATE %q: %w", f, err)
		}
	}
	return nil
}

// Seed appends msg to folder with APPEND, carrying its flags and date.
func (b *IMAPBackend) Seed(ctx context.Context, folder string, msg SeedMessage) error {
	s, err := b.connect(ctx)
	if err != nil {
		return err
	}
	defer s.close()
	opts := &imap.AppendOptions{Time: msg.Received}
	for _, c := range msg.Categories {
		opts.Flags = append(opts.Flags, imap.Flag(c))
	}
	if msg.Read {
		opts.Flags = append(opts.Flags, imap.FlagSeen)
	}
	cmd := s.c.Append(s.name(folder), int64(len(msg.Raw)), opts)
	if _, err := cmd.Write(msg.Raw); err != nil {
		cmd.Close()
		return fmt.Errorf("ewstest: APPEND to %q: %w", folder, err)
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("ewstest: APPEND to %q: %w", folder, err)
	}
	if _, err := cmd.Wait(); err != nil {
		return fmt.Errorf("ewstest: APPEND to %q: %w", folder, err)
	}
	return nil
}

// Inspect returns the messages of folder that are not flagged \Deleted,
// read with EXAMINE so that nothing changes.
func (b *IMAPBackend) Inspect(ctx context.Context, folder string) ([]StoredMessage, error) {
	s, err := b.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer s.close()
	data, err := s.c.Select(s.name(folder), &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("ewstest: EXAMINE %q: %w", folder, err)
	}
	if data.NumMessages == 0 {
		return nil, nil
	}
	msgs, err := s.c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true, Envelope: true}).Collect()
	if err != nil {
		return nil, fmt.Errorf("ewstest: FETCH in %q: %w", folder, err)
	}
	var out []StoredMessage
	for _, m := range msgs {
		st := StoredMessage{}
		if m.Envelope != nil {
			st.MessageID = m.Envelope.MessageID
			st.Subject = m.Envelope.Subject
		}
		deleted := false
		for _, f := range m.Flags {
			switch {
			case strings.EqualFold(string(f), string(imap.FlagSeen)):
				st.Read = true
			case strings.EqualFold(string(f), string(imap.FlagDeleted)):
				deleted = true
			case !strings.HasPrefix(string(f), `\`):
				st.Categories = append(st.Categories, string(f))
			}
		}
		if !deleted {
			out = append(out, st)
		}
	}
	return out, nil
}
