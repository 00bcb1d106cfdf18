package workflow_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/internal/crashtest"
	"github.com/synapse-go/synapse/internal/crashtest/mailkit"
	"github.com/synapse-go/synapse/internal/dovecot"
	"github.com/synapse-go/synapse/thehive"
	"github.com/synapse-go/synapse/thehive/thehivetest"
	"github.com/synapse-go/synapse/workflow"
)

// The end-to-end tests run the mail pipeline against a private Dovecot (in
// its own processes) and the fake TheHive, as a deployment would: a SOC
// mailbox with a folder of reported emails and a quarantine folder.
const (
	e2eUser        = "soc"
	e2eFolder      = "Inbox/Phishing"
	e2eQuarantine  = "Inbox/Quarantine"
	e2eProcessed   = "synapse-processed"
	e2eQuarantined = "synapse-quarantined"
	e2eAnalyst     = "analyst1@corp.example"
)

// e2eMailbox is a Dovecot user's mailbox, reached by the pipeline through
// ews.IMAPMailbox and by the test through mailkit.Store.
type e2eMailbox struct {
	store *mailkit.Store
	cfg   ews.IMAPConfig
}

// startE2EMailbox starts Dovecot (skipping the test without it, failing it
// in CI) with the SOC's folders.
func startE2EMailbox(t *testing.T) *e2eMailbox {
	t.Helper()
	password := dovecot.RandomPassword()
	srv := dovecot.Start(t, dovecot.Options{Users: map[string]string{e2eUser: password}})
	b := &e2eMailbox{
		store: &mailkit.Store{Addr: srv.Addr, Username: e2eUser, Password: password},
		cfg: ews.IMAPConfig{
			Addr:       srv.Addr,
			TLS:        ews.TLSNone,
			Username:   e2eUser,
			Password:   password,
			Folders:    []string{e2eFolder},
			Processed:  ews.Disposition{MarkRead: true, Category: e2eProcessed},
			Quarantine: ews.Disposition{Category: e2eQuarantined, MoveTo: e2eQuarantine},
			MaxConns:   10,
		},
	}
	if err := b.store.CreateFolders(t.Context(), e2eFolder, e2eQuarantine); err != nil {
		t.Fatal(err)
	}
	return b
}

// seed appends the messages to the reported folder and returns them as
// Dovecot stores them, in order.
func (b *e2eMailbox) seed(t *testing.T, seeds ...mailkit.Seed) []mailkit.Stored {
	t.Helper()
	if err := b.store.Append(t.Context(), e2eFolder, seeds...); err != nil {
		t.Fatal(err)
	}
	stored := b.inspect(t, e2eFolder)
	if len(stored) != len(seeds) {
		t.Fatalf("%d messages stored, %d appended", len(stored), len(seeds))
	}
	return stored
}

func (b *e2eMailbox) inspect(t *testing.T, folder string) []mailkit.Stored {
	t.Helper()
	stored, err := b.store.Inspect(t.Context(), folder)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func (b *e2eMailbox) mailbox(t *testing.T) *ews.IMAPMailbox {
	t.Helper()
	mb, err := ews.NewIMAP(b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mb.Close() })
	return mb
}

// e2eTheHive starts the fake TheHive with an analyst besides the admin.
func e2eTheHive(t *testing.T) (*thehivetest.Server, *thehive.Client) {
	t.Helper()
	srv := thehivetest.NewServer(t, thehivetest.WithUser(thehivetest.User{
		Login: e2eAnalyst, Name: "Ana Lyst", Profile: "analyst",
	}))
	th, err := thehive.NewClient(srv.URL(), thehive.WithAPIKey(thehivetest.APIKey),
		thehive.WithOrganisation(thehivetest.Organisation), thehive.WithTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return srv, th
}

func snapshot(t *testing.T, srv *thehivetest.Server) *crashtest.Snapshot {
	t.Helper()
	s, err := crashtest.NewSnapshot(srv.State())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// moduleRoot returns the directory of the module's go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := crashtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// readEMLs returns the .eml files of dir, sorted by name, with CRLF line
// ends as a mail server stores them.
func readEMLs(t *testing.T, dir string) (names []string, raws [][]byte) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(paths)
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(p))
		raws = append(raws, mailkit.CRLF(raw))
	}
	return names, raws
}

// recordingMailbox passes every call to its mailbox, except that it fails
// to open the message whose Message-ID is poison, every time and for good,
// as a mailbox does with a message it cannot deliver. For each message it
// quarantines it records the SHA-256 of its content and the reason.
type recordingMailbox struct {
	ews.Mailbox
	poison string // "<id>", as ews.Message.InternetMessageID

	mu      sync.Mutex
	reasons map[string]string // SHA-256 → reason
}

var errPoison = errors.New("the server fails to deliver this message")

func (r *recordingMailbox) Open(ctx context.Context, msg ews.Message) (io.ReadCloser, error) {
	if r.poison != "" && msg.InternetMessageID == r.poison {
		return nil, workflow.Permanent(errPoison)
	}
	return r.Mailbox.Open(ctx, msg)
}

func (r *recordingMailbox) Quarantine(ctx context.Context, msg ews.Message, reason string) error {
	sum, err := r.hash(ctx, msg)
	if err != nil {
		return err
	}
	if err := r.Mailbox.Quarantine(ctx, msg, reason); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reasons == nil {
		r.reasons = make(map[string]string)
	}
	r.reasons[sum] = reason
	return nil
}

func (r *recordingMailbox) hash(ctx context.Context, msg ews.Message) (string, error) {
	rc, err := r.Mailbox.Open(ctx, msg)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
