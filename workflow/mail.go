package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"iter"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/observable"
	"github.com/synapse-go/synapse/thehive"
)

// Mail is the state of one email going through a mail pipeline (Ews2Case,
// Ews2Alert, or a pipeline of the user's own).
type Mail struct {
	// Message is what the mailbox listed.
	Message ews.Message
	// Mailbox is where the message is read from again: to attach the
	// original .eml and to stream each attachment.
	Mailbox ews.Mailbox

	// Email is the parsed message, set by ParseMail.
	Email *observable.Email
	// RawSHA256 is the SHA-256 of the raw message and RawSize its size.
	RawSHA256 string
	RawSize   int64
	// Keys identify the message and its thread in TheHive, set by ParseMail.
	Keys MailKeys

	// Case is the case of the thread, found or created.
	Case *thehive.Case
	// CaseCreated reports that this run created Case, so it holds nothing
	// yet: no task, log or observable needs to be looked for.
	CaseCreated bool
	// Owner is the login the case is assigned to, set by ResolveOwner.
	Owner string
	// Task is the case's communication task, set by EnsureTask.
	Task *thehive.Task
	// Alert is the alert made from the message, by CreateMailAlert.
	Alert *thehive.Alert

	// Outcome is what the pipeline did; the steps raise it.
	Outcome Outcome

	// tried records the creations a step attempted, so that a retried step
	// looks for what a lost answer may have created before creating again.
	tried map[string]bool
	// gate orders the messages of a thread (see WaitForThread); seq is the
	// message's place in it.
	gate *threadGate
	seq  uint64
}

// Release lets the next message of the thread through (see WaitForThread).
// Runners call it when the pipeline ends; calling it twice is harmless.
func (m *Mail) Release() {
	if m.gate != nil {
		m.gate.leave(m.seq)
		m.gate = nil
	}
}

// raise records that the pipeline did at least o.
func (m *Mail) raise(o Outcome) {
	if o == Created || (o == Updated && m.Outcome != Created) {
		m.Outcome = o
	}
}

// attempt records that a creation called name is being attempted and
// reports whether it was attempted before.
func (m *Mail) attempt(name string) (again bool) {
	if m.tried == nil {
		m.tried = make(map[string]bool)
	}
	again = m.tried[name]
	m.tried[name] = true
	return again
}

// MailKeys identify a message and its thread. They are stored on the case
// as tags, so that the query API finds the case of a reply, and the message
// key on each task log, so that a message is never logged twice.
type MailKeys struct {
	// Message identifies the message itself by its raw bytes
	// ("synapse:raw=…"): the same stored message read again (a rerun after
	// a crash) has the same key, while two different messages that a broken
	// mailer gave one Message-ID do not.
	Message string
	// MessageID is how replies name the message ("synapse:msg=…", from its
	// Message-ID alone); empty when it has none.
	MessageID string
	// Thread holds the keys of the thread the message belongs to: its
	// conversation (EWS, Graph) and the messages it answers (In-Reply-To,
	// References).
	Thread []string
	// CaseNumber is the number in a "[#123]" subject marker, or 0.
	CaseNumber int
}

// Tags returns every key, as stored on the thread's case.
func (k MailKeys) Tags() []string {
	tags := []string{k.Message}
	if k.MessageID != "" {
		tags = append(tags, k.MessageID)
	}
	return append(tags, k.Thread...)
}

// lookup returns the keys that find the message's case: its own key (a
// rerun) and its thread's. Its Message-ID key is not among them: a reply
// finds its thread through it, but another message claiming the same
// Message-ID must not.
func (k MailKeys) lookup() []string { return append([]string{k.Message}, k.Thread...) }

// caseMarker finds "[#123]" in a subject.
var caseMarker = regexp.MustCompile(`\[#(\d{1,9})\]`)

// mailKeys computes the keys of a parsed message; prefix starts every key.
func mailKeys(prefix string, msg ews.Message, e *observable.Email, rawSHA256 string) MailKeys {
	k := MailKeys{Message: prefix + ":raw=" + rawSHA256[:24]}
	if id := normaliseMessageID(e.MessageID); id != "" {
		k.MessageID = keyTag(prefix, "msg", id)
	}
	if msg.ConversationID != "" {
		k.Thread = append(k.Thread, keyTag(prefix, "conv", msg.ConversationID))
	}
	seen := map[string]bool{k.MessageID: true}
	for _, id := range append(append([]string(nil), e.InReplyTo...), e.References...) {
		if id = normaliseMessageID(id); id == "" {
			continue
		}
		t := keyTag(prefix, "msg", id)
		if !seen[t] {
			seen[t] = true
			k.Thread = append(k.Thread, t)
		}
	}
	if m := caseMarker.FindStringSubmatch(e.Subject); m != nil {
		k.CaseNumber, _ = strconv.Atoi(m[1])
	}
	return k
}

// keyTag makes a short, fixed-length tag from a long identifier: tags are
// limited to 128 characters and Message-IDs are not.
func keyTag(prefix, kind, id string) string {
	sum := sha256.Sum256([]byte(id))
	return prefix + ":" + kind + "=" + hex.EncodeToString(sum[:12])
}

// normaliseMessageID strips angle brackets and spaces and folds case, so
// that the ids of one message written by different mail clients agree.
func normaliseMessageID(id string) string {
	id = strings.TrimSpace(id)
	id = strings.TrimPrefix(id, "<")
	id = strings.TrimSuffix(id, ">")
	return strings.ToLower(strings.TrimSpace(id))
}

// countingHash counts and hashes what is written to it.
type countingHash struct {
	h hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// MailOptions configure the mail steps.
type MailOptions struct {
	// KeyPrefix starts the tags that identify messages and threads (default
	// "synapse"): "synapse:msg=…", "synapse:conv=…".
	KeyPrefix string
	// Parse are extra options for observable.ParseEmail.
	Parse []observable.Option
}

func (o MailOptions) keyPrefix() string {
	if o.KeyPrefix == "" {
		return "synapse"
	}
	return o.KeyPrefix
}

// ParseMail opens the message from its mailbox as a stream, parses it and
// computes its keys. Nothing of the message but its text parts is held in
// memory: attachments are hashed as they stream by.
func ParseMail(opts MailOptions) Step[Mail] {
	return NewStep("parse-mail", func(ctx context.Context, m *Mail) error {
		rc, err := m.Mailbox.Open(ctx, m.Message)
		if err != nil {
			return fmt.Errorf("opening the message: %w", err)
		}
		defer rc.Close()
		sum := &countingHash{h: sha256.New()}
		e, err := observable.ParseEmail(io.TeeReader(rc, sum), opts.Parse...)
		if err != nil {
			return fmt.Errorf("reading the message: %w", err)
		}
		m.Email = e
		m.RawSize = sum.n
		m.RawSHA256 = hex.EncodeToString(sum.h.Sum(nil))
		m.Keys = mailKeys(opts.keyPrefix(), m.Message, e, m.RawSHA256)
		return nil
	})
}

// WaitForThread waits until the message may be handled: messages of one
// thread (sharing a key) are handled one at a time, in the order the
// mailbox listed them, so a reply finds the case its first mail created.
// Messages of other threads go on in parallel. It does nothing for a Mail
// that was not made by a mail runner (NewMailRunner).
func WaitForThread() Step[Mail] {
	return NewStep("wait-for-thread", func(ctx context.Context, m *Mail) error {
		if m.gate == nil {
			return nil
		}
		keys := m.Keys.Tags()
		if m.Keys.CaseNumber > 0 {
			keys = append(keys, "case#"+strconv.Itoa(m.Keys.CaseNumber))
		}
		return m.gate.enter(ctx, m.seq, keys)
	})
}

// openRaw returns an opener of the raw message, for uploads.
func (m *Mail) openRaw(ctx context.Context) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return m.Mailbox.Open(ctx, m.Message) }
}

// openAttachment returns an opener of one attachment's decoded content, read
// afresh from the mailbox for every attempt.
func (m *Mail) openAttachment(ctx context.Context, path string, opts []observable.Option) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		raw, err := m.Mailbox.Open(ctx, m.Message)
		if err != nil {
			return nil, err
		}
		part, err := observable.OpenAttachment(raw, path, opts...)
		if err != nil {
			raw.Close()
			return nil, err
		}
		return readCloser{Reader: part, close: func() error {
			perr := part.Close()
			if err := raw.Close(); err != nil {
				return err
			}
			return perr
		}}, nil
	}
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

// mailSource is the Source of a mail runner: a mailbox whose listing
// admits each message into the run's thread gate, in order.
type mailSource struct {
	mb   ews.Mailbox
	gate atomic.Pointer[threadGate]
}

// Items implements Source.
func (s *mailSource) Items(ctx context.Context) iter.Seq2[ews.Message, error] {
	return func(yield func(ews.Message, error) bool) {
		g := newThreadGate()
		s.gate.Store(g)
		for msg, err := range s.mb.Messages(ctx) {
			if err == nil {
				g.admit(string(msg.ID))
			}
			if !yield(msg, err) {
				return
			}
		}
	}
}

// Ack implements Source: it marks the message processed.
func (s *mailSource) Ack(ctx context.Context, msg ews.Message) error {
	return s.mb.MarkProcessed(ctx, msg)
}

// Quarantine implements Source.
func (s *mailSource) Quarantine(ctx context.Context, msg ews.Message, reason string) error {
	return s.mb.Quarantine(ctx, msg, reason)
}

// newMail returns the state of a message about to go through a pipeline.
func (s *mailSource) newMail(msg ews.Message) *Mail {
	m := &Mail{Message: msg, Mailbox: s.mb}
	if g := s.gate.Load(); g != nil {
		m.gate, m.seq = g, g.take(string(msg.ID))
	}
	return m
}
