package ewstest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"
)

// Exchange is an in-memory Exchange organisation: mailboxes, their folder
// trees and their messages. [EWSServer] and [GraphServer] serve it over EWS
// and Microsoft Graph; one Exchange may back both at once, as Exchange
// Online does.
//
// Tests seed it and read it back directly, without going through either
// protocol. It is safe for concurrent use.
type Exchange struct {
	mu        sync.Mutex
	mailboxes map[string]*xMailbox // by lower-case primary SMTP address
	items     map[string]*xItem    // by EWS ItemId
	folders   map[string]*xFolder  // by EWS FolderId
	seq       uint64
	nonce     [6]byte
}

// ExchangeMessage is a message stored in an [Exchange], as a test seeds it
// and reads it back.
type ExchangeMessage struct {
	// ID is the message's EWS ItemId, set by the store. Its Graph id is
	// [GraphID](ID). It changes when the message is moved.
	ID string
	// ChangeKey is the EWS ChangeKey, set by the store; it changes with
	// every update.
	ChangeKey string
	// Folder is the path of the folder holding the message, set by the
	// store (for example "Inbox/Phishing").
	Folder string
	// Raw is the RFC 5322 message. The store keeps its own copy when seeding
	// and returns it, shared, when read back: do not modify it.
	Raw []byte
	// Received is when the server received the message; the zero time means
	// now. The store keeps whole seconds, as Exchange reports them.
	Received time.Time
	// Read is the read flag (EWS IsRead, Graph isRead).
	Read bool
	// Categories are the message's Outlook categories, in order.
	Categories []string
	// FlagStatus is "NotFlagged", "Flagged" or "Complete"; empty means
	// NotFlagged.
	FlagStatus string

	// Subject, InternetMessageID and ConversationID are taken from Raw by
	// the store and filled in when a message is read back.
	Subject           string
	InternetMessageID string
	ConversationID    string
}

type xMailbox struct {
	address string
	name    string
	guid    [16]byte
	root    *xFolder // "root"
	top     *xFolder // "msgfolderroot"
}

type xFolder struct {
	id            string
	version       uint64
	mailbox       *xMailbox
	name          string
	distinguished string // well-known name, or ""
	class         string // IPF.Note, IPF.Appointment...
	parent        *xFolder
	children      []*xFolder
	items         []*xItem // in arrival order
}

// elementName is the EWS element that describes the folder.
func (f *xFolder) elementName() string {
	switch f.class {
	case "IPF.Appointment":
		return "CalendarFolder"
	case "IPF.Contact":
		return "ContactsFolder"
	case "IPF.Task":
		return "TasksFolder"
	}
	return "Folder"
}

// path is the folder's path below msgfolderroot, or its display name when it
// is not below it.
func (f *xFolder) path() string {
	var parts []string
	for g := f; g != nil && g != f.mailbox.top; g = g.parent {
		if g.parent == nil {
			return f.name
		}
		parts = append(parts, g.name)
	}
	slices.Reverse(parts)
	return strings.Join(parts, "/")
}

func (f *xFolder) unread() int {
	n := 0
	for _, it := range f.items {
		if !it.read {
			n++
		}
	}
	return n
}

type xItem struct {
	id         string
	version    uint64
	folder     *xFolder
	raw        []byte
	received   time.Time
	sent       time.Time
	created    time.Time
	modified   time.Time
	read       bool
	categories []string
	flag       string
	subject    string
	messageID  string
	convID     string
	topic      string
	from       mail.Address
	to         string
	hasAttach  bool
}

// NewExchange returns an empty organisation.
func NewExchange() *Exchange {
	x := &Exchange{
		mailboxes: make(map[string]*xMailbox),
		items:     make(map[string]*xItem),
		folders:   make(map[string]*xFolder),
	}
	_, _ = rand.Read(x.nonce[:])
	return x
}

// Kinds of ids the store hands out. Their first bytes make them look like
// Exchange's: item ids start "AAMkA", folder ids "AQMkA", change keys
// "CQAAAB", conversation ids "AAQkA".
var (
	itemIDPrefix   = []byte{0x00, 0x03, 0x24, 0x00}
	folderIDPrefix = []byte{0x01, 0x03, 0x24, 0x00}
	changeKeyHead  = []byte{0x09, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00}
	convIDPrefix   = []byte{0x00, 0x04, 0x24, 0x00}
)

// newID returns a fresh id of the given kind in mailbox mb. The caller
// holds x.mu.
func (x *Exchange) newID(prefix []byte, mb *xMailbox) string {
	x.seq++
	b := make([]byte, 0, 4+16+8+6)
	b = append(b, prefix...)
	b = append(b, mb.guid[:]...)
	b = binary.BigEndian.AppendUint64(b, x.seq)
	b = append(b, x.nonce[:]...)
	return base64.StdEncoding.EncodeToString(b)
}

// changeKey renders a version as an Exchange-looking change key.
func changeKey(version uint64) string {
	b := append(slices.Clone(changeKeyHead), make([]byte, 8)...)
	binary.BigEndian.PutUint64(b[8:], version)
	return base64.StdEncoding.EncodeToString(b)
}

// idKind says what an id is, from its bytes.
type idKind int

const (
	idMalformed idKind = iota
	idItem
	idFolder
)

// parseID reports what kind of id s is. Anything that is not base64 of the
// right shape is malformed, as Exchange says of ids it cannot parse.
func parseID(s string) idKind {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != 4+16+8+6 {
		return idMalformed
	}
	switch {
	case bytes.HasPrefix(b, itemIDPrefix):
		return idItem
	case bytes.HasPrefix(b, folderIDPrefix):
		return idFolder
	}
	return idMalformed
}

// validChangeKey reports whether s parses as a change key.
func validChangeKey(s string) bool {
	b, err := base64.StdEncoding.DecodeString(s)
	return err == nil && len(b) == 16 && bytes.HasPrefix(b, changeKeyHead)
}

// GraphID returns the Microsoft Graph id of an EWS id: Graph spells ids in
// the URL-safe base64 alphabet.
func GraphID(ewsID string) string {
	return strings.NewReplacer("+", "_", "/", "-").Replace(ewsID)
}

// ewsIDFromGraph is the inverse of GraphID.
func ewsIDFromGraph(graphID string) string {
	return strings.NewReplacer("_", "+", "-", "/").Replace(graphID)
}

// wellKnownFolders are created in every mailbox, under msgfolderroot, with
// their distinguished (EWS) and well-known (Graph) name.
var wellKnownFolders = []struct{ name, id, class string }{
	{"Inbox", "inbox", "IPF.Note"},
	{"Drafts", "drafts", "IPF.Note"},
	{"Sent Items", "sentitems", "IPF.Note"},
	{"Deleted Items", "deleteditems", "IPF.Note"},
	{"Junk Email", "junkemail", "IPF.Note"},
	{"Outbox", "outbox", "IPF.Note"},
	{"Archive", "archive", "IPF.Note"},
	{"Calendar", "calendar", "IPF.Appointment"},
	{"Contacts", "contacts", "IPF.Contact"},
	{"Tasks", "tasks", "IPF.Task"},
}

// AddMailbox creates a mailbox with its well-known folders (Inbox, Drafts,
// Sent Items, Deleted Items, Junk Email, Outbox, Archive, Calendar,
// Contacts, Tasks). Adding an existing mailbox does nothing.
func (x *Exchange) AddMailbox(address string) error {
	if _, err := mail.ParseAddress(address); err != nil || strings.ContainsAny(address, "<> ") {
		return fmt.Errorf("ewstest: %q is not an SMTP address", address)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	key := strings.ToLower(address)
	if _, ok := x.mailboxes[key]; ok {
		return nil
	}
	mb := &xMailbox{address: address, name: strings.Split(address, "@")[0]}
	_, _ = rand.Read(mb.guid[:])
	x.mailboxes[key] = mb
	mb.root = x.addFolder(mb, nil, "", "root", "")
	mb.top = x.addFolder(mb, mb.root, "Top of Information Store", "msgfolderroot", "")
	for _, w := range wellKnownFolders {
		x.addFolder(mb, mb.top, w.name, w.id, w.class)
	}
	return nil
}

func (x *Exchange) addFolder(mb *xMailbox, parent *xFolder, name, distinguished, class string) *xFolder {
	f := &xFolder{
		id:            x.newID(folderIDPrefix, mb),
		version:       1,
		mailbox:       mb,
		name:          name,
		distinguished: distinguished,
		class:         class,
		parent:        parent,
	}
	if parent != nil {
		parent.children = append(parent.children, f)
	}
	x.folders[f.id] = f
	return f
}

// mailbox returns the mailbox with the given address. The caller holds x.mu.
func (x *Exchange) mailbox(address string) (*xMailbox, error) {
	mb, ok := x.mailboxes[strings.ToLower(address)]
	if !ok {
		return nil, fmt.Errorf("ewstest: no mailbox %q", address)
	}
	return mb, nil
}

// splitPath splits a folder path into its levels.
func splitPath(path string) ([]string, error) {
	path = strings.Trim(path, "/")
	if path == "" {
		return nil, errors.New("ewstest: empty folder path")
	}
	parts := strings.Split(path, "/")
	for _, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("ewstest: folder path %q has an empty level", path)
		}
	}
	return parts, nil
}

// childNamed returns f's child with the given display name, compared
// without regard to case as Exchange does.
func (f *xFolder) childNamed(name string) *xFolder {
	for _, c := range f.children {
		if strings.EqualFold(c.name, name) {
			return c
		}
	}
	return nil
}

// folderByPath resolves a path below msgfolderroot. The caller holds x.mu.
func (x *Exchange) folderByPath(mb *xMailbox, path string) (*xFolder, error) {
	parts, err := splitPath(path)
	if err != nil {
		return nil, err
	}
	f := mb.top
	for _, p := range parts {
		if f = f.childNamed(p); f == nil {
			return nil, fmt.Errorf("ewstest: mailbox %q has no folder %q", mb.address, path)
		}
	}
	return f, nil
}

// CreateFolder creates the folder at path below the top of the mailbox's
// folder tree, and any missing parent, and returns its EWS FolderId. A
// first level of "Inbox" (any case) is the inbox. Creating an existing
// folder returns its id.
func (x *Exchange) CreateFolder(mailbox, path string) (string, error) {
	parts, err := splitPath(path)
	if err != nil {
		return "", err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	mb, err := x.mailbox(mailbox)
	if err != nil {
		return "", err
	}
	f := mb.top
	for _, p := range parts {
		c := f.childNamed(p)
		if c == nil {
			c = x.addFolder(mb, f, p, "", "IPF.Note")
		}
		f = c
	}
	return f.id, nil
}

// DeleteFolder deletes the folder at path, with its subfolders and
// messages, as if a user had emptied it from Deleted Items. Creating a
// folder at the same path later gives it a new id.
func (x *Exchange) DeleteFolder(mailbox, path string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	mb, err := x.mailbox(mailbox)
	if err != nil {
		return err
	}
	f, err := x.folderByPath(mb, path)
	if err != nil {
		return err
	}
	if f.distinguished != "" {
		return fmt.Errorf("ewstest: folder %q is a well-known folder and cannot be deleted", path)
	}
	var drop func(f *xFolder)
	drop = func(f *xFolder) {
		for _, c := range f.children {
			drop(c)
		}
		for _, it := range f.items {
			delete(x.items, it.id)
		}
		delete(x.folders, f.id)
	}
	drop(f)
	f.parent.children = slices.DeleteFunc(f.parent.children, func(c *xFolder) bool { return c == f })
	return nil
}

// Folders returns the paths of every folder below the top of the mailbox's
// folder tree, parents first.
func (x *Exchange) Folders(mailbox string) ([]string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	mb, err := x.mailbox(mailbox)
	if err != nil {
		return nil, err
	}
	var out []string
	var walk func(f *xFolder)
	walk = func(f *xFolder) {
		for _, c := range f.children {
			out = append(out, c.path())
			walk(c)
		}
	}
	walk(mb.top)
	return out, nil
}

// AddMessage stores m in the folder at path, as if it had been delivered
// there, and returns it as stored (with its ID, ChangeKey and the fields
// taken from Raw).
func (x *Exchange) AddMessage(mailbox, folder string, m ExchangeMessage) (ExchangeMessage, error) {
	it, err := newItem(m)
	if err != nil {
		return ExchangeMessage{}, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	mb, err := x.mailbox(mailbox)
	if err != nil {
		return ExchangeMessage{}, err
	}
	f, err := x.folderByPath(mb, folder)
	if err != nil {
		return ExchangeMessage{}, err
	}
	it.id = x.newID(itemIDPrefix, mb)
	it.folder = f
	x.items[it.id] = it
	f.items = append(f.items, it)
	return it.export(), nil
}

// newItem parses the header of m.Raw and builds the item to store.
func newItem(m ExchangeMessage) (*xItem, error) {
	if len(m.Raw) == 0 {
		return nil, errors.New("ewstest: message has no raw content")
	}
	msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(m.Raw)))
	if err != nil {
		return nil, fmt.Errorf("ewstest: parsing the message header: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	received := m.Received.UTC().Truncate(time.Second)
	if m.Received.IsZero() {
		received = now
	}
	it := &xItem{
		version:    1,
		raw:        slices.Clone(m.Raw),
		received:   received,
		created:    received,
		modified:   received,
		read:       m.Read,
		categories: slices.Clone(m.Categories),
		flag:       m.FlagStatus,
		messageID:  strings.TrimSpace(msg.Header.Get("Message-Id")),
		to:         msg.Header.Get("To"),
	}
	if it.flag == "" {
		it.flag = "NotFlagged"
	}
	dec := new(mime.WordDecoder)
	it.subject = msg.Header.Get("Subject")
	if s, err := dec.DecodeHeader(it.subject); err == nil {
		it.subject = s
	}
	if d, err := msg.Header.Date(); err == nil {
		it.sent = d.UTC().Truncate(time.Second)
	} else {
		it.sent = received
	}
	if from, err := msg.Header.AddressList("From"); err == nil && len(from) > 0 {
		it.from = *from[0]
	}
	ct := strings.ToLower(msg.Header.Get("Content-Type"))
	it.hasAttach = strings.HasPrefix(ct, "multipart/mixed") ||
		(!strings.HasPrefix(ct, "text/") && !strings.HasPrefix(ct, "multipart/") && ct != "")
	it.topic = conversationTopic(it.subject)
	sum := sha256.Sum256([]byte(strings.ToLower(it.topic)))
	it.convID = base64.StdEncoding.EncodeToString(append(slices.Clone(convIDPrefix), sum[:16]...))
	return it, nil
}

// conversationTopic strips reply and forward prefixes from a subject, as
// Exchange does to group a thread.
func conversationTopic(subject string) string {
	s := strings.TrimSpace(subject)
	for {
		lower := strings.ToLower(s)
		cut := false
		for _, p := range []string{"re:", "fw:", "fwd:", "aw:", "wg:", "tr:"} {
			if strings.HasPrefix(lower, p) {
				s = strings.TrimSpace(s[len(p):])
				cut = true
				break
			}
		}
		if !cut {
			return s
		}
	}
}

func (it *xItem) export() ExchangeMessage {
	return ExchangeMessage{
		ID:                it.id,
		ChangeKey:         changeKey(it.version),
		Folder:            it.folder.path(),
		Raw:               it.raw,
		Received:          it.received,
		Read:              it.read,
		Categories:        slices.Clone(it.categories),
		FlagStatus:        it.flag,
		Subject:           it.subject,
		InternetMessageID: it.messageID,
		ConversationID:    it.convID,
	}
}

// touch records a change to it.
func (it *xItem) touch() {
	it.version++
	it.modified = time.Now().UTC().Truncate(time.Second)
}

// Messages returns the messages of the folder at path, in arrival order.
func (x *Exchange) Messages(mailbox, folder string) ([]ExchangeMessage, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	mb, err := x.mailbox(mailbox)
	if err != nil {
		return nil, err
	}
	f, err := x.folderByPath(mb, folder)
	if err != nil {
		return nil, err
	}
	out := make([]ExchangeMessage, 0, len(f.items))
	for _, it := range f.items {
		out = append(out, it.export())
	}
	return out, nil
}

// Message returns the message with the given EWS ItemId.
func (x *Exchange) Message(id string) (ExchangeMessage, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	it, ok := x.items[id]
	if !ok {
		return ExchangeMessage{}, fmt.Errorf("ewstest: no message with id %q", id)
	}
	return it.export(), nil
}

// DeleteMessage removes the message with the given EWS ItemId, as if
// someone had deleted it for good.
func (x *Exchange) DeleteMessage(id string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	it, ok := x.items[id]
	if !ok {
		return fmt.Errorf("ewstest: no message with id %q", id)
	}
	x.removeItem(it)
	return nil
}

// removeItem unlinks it from its folder and the index. The caller holds
// x.mu.
func (x *Exchange) removeItem(it *xItem) {
	f := it.folder
	f.items = slices.DeleteFunc(f.items, func(o *xItem) bool { return o == it })
	delete(x.items, it.id)
}

// moveItem moves it to dest under a new id, as Exchange does. The caller
// holds x.mu.
func (x *Exchange) moveItem(it *xItem, dest *xFolder) {
	x.removeItem(it)
	it.id = x.newID(itemIDPrefix, dest.mailbox)
	it.folder = dest
	it.touch()
	x.items[it.id] = it
	dest.items = append(dest.items, it)
}

// distinguishedFolder returns mb's folder with the given distinguished
// name. The caller holds x.mu.
func (mb *xMailbox) distinguishedFolder(name string) *xFolder {
	switch name {
	case "root":
		return mb.root
	case "msgfolderroot":
		return mb.top
	}
	for _, c := range mb.top.children {
		if c.distinguished == name {
			return c
		}
	}
	return nil
}
