package ews

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"
	"golang.org/x/oauth2"

	"github.com/synapse-go/synapse/internal/httpx"
)

// EWSAuth chooses how an EWS mailbox authenticates.
type EWSAuth int

const (
	// EWSAuthAuto uses a bearer token when a TokenSource is configured, and
	// NTLM otherwise.
	EWSAuthAuto EWSAuth = iota
	// EWSAuthNTLM negotiates NTLMv2 (github.com/Azure/go-ntlmssp), the
	// usual choice for on-premises Exchange. The handshake is bound to the
	// TCP connection, which is kept alive.
	EWSAuthNTLM
	// EWSAuthBasic sends the user name and password with every request. It
	// must be enabled on the EWS virtual directory; Exchange Online refuses
	// it.
	EWSAuthBasic
	// EWSAuthBearer sends an OAuth2 access token from the TokenSource
	// (Exchange Online, or on-premises with hybrid modern authentication).
	EWSAuthBearer
)

// String returns "auto", "ntlm", "basic" or "bearer".
func (a EWSAuth) String() string {
	switch a {
	case EWSAuthAuto:
		return "auto"
	case EWSAuthNTLM:
		return "ntlm"
	case EWSAuthBasic:
		return "basic"
	case EWSAuthBearer:
		return "bearer"
	}
	return "EWSAuth(" + strconv.Itoa(int(a)) + ")"
}

// Defaults of EWSConfig fields left zero.
const (
	DefaultEWSServerVersion = "Exchange2013_SP1"
	DefaultEWSPageSize      = 100
	DefaultEWSMaxConns      = 8
)

// ewsVersions are the RequestServerVersion values the connector accepts,
// with their rank.
var ewsVersions = map[string]int{
	"Exchange2010": 2, "Exchange2010_SP1": 3, "Exchange2010_SP2": 4,
	"Exchange2013": 5, "Exchange2013_SP1": 6, "Exchange2016": 8,
}

// EWSConfig configures an EWS mailbox. URL, credentials, Folders and
// Processed are required.
//
// Its String, Format and LogValue methods never print the password or the
// token source, so a configuration can be logged.
type EWSConfig struct {
	// URL is the EWS endpoint, such as
	// "https://mail.example.com/EWS/Exchange.asmx". It must not hold
	// credentials.
	URL string
	// Auth chooses the authentication scheme.
	Auth EWSAuth
	// Username is the account that signs in: `DOMAIN\user` or
	// "user@domain" (NTLM, Basic).
	Username string
	// Password is the account's password. It is never logged or put in
	// errors.
	Password string
	// TokenSource gives OAuth2 access tokens (EWSAuthBearer). Wrap it in
	// oauth2.ReuseTokenSource if it does not cache tokens itself.
	TokenSource oauth2.TokenSource

	// Mailbox is the primary SMTP address of the mailbox to read, such as a
	// shared mailbox "soc@example.com". Empty means the signed-in account's
	// own mailbox. Without Impersonate, the account needs full access to it
	// (delegate access).
	Mailbox string
	// Impersonate acts as Mailbox with the ExchangeImpersonation header
	// (the ApplicationImpersonation role on premises; the only way for an
	// app-only OAuth2 token in Exchange Online) instead of delegate access.
	Impersonate bool
	// ServerVersion is sent as RequestServerVersion (default
	// DefaultEWSServerVersion, which Exchange 2013 SP1 and later accept).
	// From Exchange2013_SP1 on, marking a message read suppresses its read
	// receipt.
	ServerVersion string

	// Folders are the folder paths listed, in order, with "/" between
	// levels (for example "Inbox/Phishing"). A first level of "Inbox", in
	// any case, is the inbox; any other first level is a folder at the top
	// of the mailbox, beside the inbox. Names compare without regard to
	// case, as Exchange compares them.
	Folders []string
	// Processed is what MarkProcessed does, and decides which messages are
	// listed: see [Disposition]. It must do something.
	Processed Disposition
	// Quarantine is what Quarantine does. When it is zero, Quarantine fails
	// with ErrInvalidConfig.
	Quarantine Disposition

	// PageSize is how many messages one FindItem asks for (default
	// DefaultEWSPageSize, at most 1000; Exchange caps restricted searches
	// at 250).
	PageSize int
	// MaxConns bounds the connections to the server (default
	// DefaultEWSMaxConns, below Exchange's EWSMaxConcurrency). An open
	// message stream holds one until it is closed; a call that needs one
	// while all are busy waits, within its context.
	MaxConns int
	// HTTPClient is copied, never modified; nil means a client of the
	// mailbox's own. Its transport must be an *http.Transport when
	// TLSConfig is set.
	HTTPClient *http.Client
	// TLSConfig, when set, configures TLS (a private CA, a client
	// certificate).
	TLSConfig *tls.Config
	// Timeout bounds each HTTP request, body included, so it must allow for
	// streaming the largest message; zero means no bound but the context's.
	Timeout time.Duration
	// MaxRetries is how many times a request is retried after a transient
	// failure or a throttling answer (default DefaultMaxRetries; negative
	// means never).
	MaxRetries int
	// MaxRetryWait is the longest the mailbox waits before a retry (default
	// DefaultMaxRetryWait). When the server asks for a longer back-off
	// (ErrorServerBusy's BackOffMilliseconds), the call fails at once with
	// an error matching ErrThrottled whose ServerError.RetryAfter says how
	// long to wait.
	MaxRetryWait time.Duration
	// UserAgent is sent with every request.
	UserAgent string
	// Logger receives a debug record per HTTP request and a warning per
	// retry, without credentials; nil discards them.
	Logger *slog.Logger
}

// String describes the configuration without its secrets.
func (c EWSConfig) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ews.EWSConfig{URL:%q Auth:%s Username:%q", redactedURL(c.URL), c.Auth, c.Username)
	if c.Password != "" {
		b.WriteString(" Password:" + httpx.Redacted)
	}
	if c.TokenSource != nil {
		b.WriteString(" TokenSource:" + httpx.Redacted)
	}
	fmt.Fprintf(&b, " Mailbox:%q Impersonate:%t Folders:%q Processed:%+v Quarantine:%+v}",
		c.Mailbox, c.Impersonate, c.Folders, c.Processed, c.Quarantine)
	return b.String()
}

// Format prints [EWSConfig.String] for every verb, so that no verb (not
// even %#v or %x) prints the password.
func (c EWSConfig) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue logs the configuration without its secrets.
func (c EWSConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", redactedURL(c.URL)),
		slog.String("auth", c.Auth.String()),
		slog.String("username", c.Username),
		slog.String("mailbox", c.Mailbox),
		slog.Any("folders", c.Folders),
	)
}

// redactedURL prints a configured URL without user information or
// credential-looking query parameters.
func redactedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return httpx.Redacted
	}
	return httpx.RedactURL(u)
}

// validate checks c and fills in defaults.
func (c EWSConfig) validate() (EWSConfig, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: ews: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return c, bad("URL is empty")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return c, bad("URL must be an absolute http or https URL")
	case u.User != nil:
		return c, bad("URL must not hold credentials; use Username and Password")
	}
	if c.Auth == EWSAuthAuto {
		c.Auth = EWSAuthNTLM
		if c.TokenSource != nil {
			c.Auth = EWSAuthBearer
		}
	}
	switch c.Auth {
	case EWSAuthNTLM, EWSAuthBasic:
		if c.Username == "" || c.Password == "" {
			return c, bad("Auth %s needs a Username and a Password", c.Auth)
		}
		if strings.ContainsAny(c.Username, ":\r\n") {
			return c, bad("Username must not hold ':' or a line break")
		}
	case EWSAuthBearer:
		if c.TokenSource == nil {
			return c, bad("Auth bearer needs a TokenSource")
		}
	default:
		return c, bad("unknown Auth %d", int(c.Auth))
	}
	if c.Impersonate && c.Mailbox == "" {
		return c, bad("Impersonate needs the Mailbox to act as")
	}
	if c.Mailbox != "" && (!strings.Contains(c.Mailbox, "@") || strings.ContainsAny(c.Mailbox, " <>\r\n")) {
		return c, bad("Mailbox %q is not an SMTP address", c.Mailbox)
	}
	if c.ServerVersion == "" {
		c.ServerVersion = DefaultEWSServerVersion
	}
	if _, ok := ewsVersions[c.ServerVersion]; !ok {
		return c, bad("unknown ServerVersion %q", c.ServerVersion)
	}
	if err := xchCheckDispositions(c.Folders, c.Processed, c.Quarantine); err != nil {
		return c, bad("%v", err)
	}
	if err := xchLimit("PageSize", &c.PageSize, DefaultEWSPageSize, 1000); err != nil {
		return c, bad("%v", err)
	}
	if err := xchLimit("MaxConns", &c.MaxConns, DefaultEWSMaxConns, 0); err != nil {
		return c, bad("%v", err)
	}
	if c.Timeout < 0 || c.MaxRetryWait < 0 {
		return c, bad("Timeout and MaxRetryWait must not be negative")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Folders = append([]string(nil), c.Folders...)
	return c, nil
}

// EWSMailbox reads messages from folders of an Exchange mailbox over
// Exchange Web Services (SOAP). It implements [Mailbox] and is safe for
// concurrent use.
//
// Folders are found by display name, level by level (GetFolder on the
// inbox, then FindFolder), and remembered. Listing is FindItem with an
// IndexedPageItemView, a restriction that keeps the unprocessed messages
// (IsRead false, or no such category) and an ascending sort on
// DateTimeReceived; Open is GetItem with IncludeMimeContent, decoded as it
// streams; MarkProcessed and Quarantine are UpdateItem (categories, then
// IsRead, with the current ChangeKey) and MoveItem.
//
// Message IDs are EWS ItemIds. Moving a message gives it a new ItemId;
// the mailbox remembers the ones it moved, so that marking a message twice
// works, and after a restart it finds a moved message again by its
// Internet Message-ID in the destination folder.
type EWSMailbox struct {
	xchMailbox
	cfg  EWSConfig
	hc   *httpx.Client
	file string // the endpoint's last path segment, escaped
	rank int
}

var _ Mailbox = (*EWSMailbox)(nil)

// NewEWS returns a mailbox for cfg. It does no I/O: the first call that
// needs the server connects. Configuration errors match ErrInvalidConfig.
func NewEWS(cfg EWSConfig) (*EWSMailbox, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	// The endpoint is one file, such as /EWS/Exchange.asmx: the client's
	// base is its directory and every request names the file.
	endpoint, _ := url.Parse(cfg.URL)
	dir, file := path.Split(endpoint.EscapedPath())
	endpoint.RawPath, endpoint.RawQuery, endpoint.Fragment = "", "", ""
	endpoint.Path, _ = url.PathUnescape(dir)
	hcfg := httpx.Config{
		Name:       "ews",
		BaseURL:    endpoint.String(),
		HTTPClient: cfg.HTTPClient,
		TLSConfig:  cfg.TLSConfig,
		Timeout:    cfg.Timeout,
		UserAgent:  cfg.UserAgent,
		Header: http.Header{
			"Accept": {"text/xml"},
		},
		Logger: cfg.Logger,
		// The mailbox retries by itself: it knows EWS's throttling answers.
		Retry:       httpx.RetryPolicy{MaxRetries: -1},
		DecodeError: ewsDecodeHTTPError,
	}
	if cfg.Mailbox != "" {
		hcfg.Header.Set("X-AnchorMailbox", cfg.Mailbox)
	}
	user, pass := cfg.Username, httpx.NewSecret(cfg.Password)
	switch cfg.Auth {
	case EWSAuthBasic:
		hcfg.Authorize = func(r *http.Request) error { r.SetBasicAuth(user, pass.Reveal()); return nil }
		hcfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return limitConns(rt, cfg.MaxConns) }
	case EWSAuthNTLM:
		// The negotiator turns the Basic credentials into an NTLM
		// handshake and never sends them as Basic.
		hcfg.Authorize = func(r *http.Request) error { r.SetBasicAuth(user, pass.Reveal()); return nil }
		hcfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return newNTLMLanes(rt, cfg.MaxConns) }
	case EWSAuthBearer:
		ts := oauth2.ReuseTokenSource(nil, cfg.TokenSource)
		hcfg.Authorize = func(r *http.Request) error {
			tok, err := ts.Token()
			if err != nil {
				return tokenError(err)
			}
			r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			return nil
		}
		hcfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return limitConns(rt, cfg.MaxConns) }
	}
	hc, err := httpx.New(hcfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	return &EWSMailbox{
		xchMailbox: xchMailbox{
			protocol: "ews",
			host:     hc.BaseURL().Host,
			idName:   "an EWS ItemId",
			log:      cfg.Logger,
			retry:    newXchRetry(cfg.MaxRetries, cfg.MaxRetryWait, cfg.Logger),
		},
		cfg:  cfg,
		hc:   hc,
		file: file,
		rank: ewsVersions[cfg.ServerVersion],
	}, nil
}

// tokenError turns a token endpoint's refusal into an authentication
// error. The endpoint's error code and description are kept; they hold no
// secret. Other failures (an unreachable endpoint) are wrapped as they
// are.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("getting an access token: %w", err)
	}
	se := &ServerError{Code: re.ErrorCode, Message: firstLine(re.ErrorDescription), Kind: ErrAuth, Err: err}
	if re.Response != nil {
		se.StatusCode = re.Response.StatusCode
	}
	if se.Code == "" {
		se.Message = "the token endpoint refused the request"
	}
	return se
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}

// String names the mailbox by server and mailbox, without secrets.
func (m *EWSMailbox) String() string {
	name := m.cfg.Mailbox
	if name == "" {
		name = m.cfg.Username
	}
	return "ews://" + name + "@" + m.host
}

// Format prints [EWSMailbox.String] for every verb, so that no verb prints
// the configuration's password.
func (m *EWSMailbox) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(m.String())) }

// LogValue logs the mailbox's server and address.
func (m *EWSMailbox) LogValue() slog.Value {
	return slog.GroupValue(slog.String("server", m.host), slog.String("mailbox", m.cfg.Mailbox))
}

// Close closes idle connections; later calls fail with ErrClosed. Open
// message streams keep working until they are closed. Closing twice is not
// an error.
func (m *EWSMailbox) Close() error {
	m.markClosed()
	m.hc.CloseIdleConnections()
	return nil
}

// call sends one single-item SOAP request, with retries, and returns the
// answer's only response message, or its error. The answer is bounded in
// size: only GetItem with MimeContent streams, through ewsOpenMime.
func (m *EWSMailbox) call(ctx context.Context, op string, idempotent bool, body []byte) (*ewsResponseMessage, error) {
	var msgs []ewsResponseMessage
	err := m.retry.do(ctx, op, idempotent, func(ctx context.Context) error {
		resp, err := m.hc.Do(ctx, m.soapRequest(op, body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxEWSAnswer+1))
		if err != nil {
			return m.brokenAnswer(err)
		}
		if len(data) > maxEWSAnswer {
			return fmt.Errorf("the %s answer is larger than %d bytes", op, maxEWSAnswer)
		}
		msgs, err = decodeEWSAnswer(data)
		if err != nil {
			return err
		}
		// A busy server may answer 200 with ErrorServerBusy in the
		// message: that is a throttling answer, retried like a fault.
		for i := range msgs {
			if !msgs[i].ok() {
				if se := msgs[i].err().(*ServerError); se.Kind == ErrThrottled || transientCodes[se.Code] {
					return se
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(msgs) != 1 {
		return nil, fmt.Errorf("the %s answer holds %d response messages, want 1", op, len(msgs))
	}
	if !msgs[0].ok() {
		return nil, msgs[0].err()
	}
	return &msgs[0], nil
}

// brokenAnswer reports an answer whose stream broke: a transport error,
// which an idempotent request retries.
func (m *EWSMailbox) brokenAnswer(err error) error {
	return &httpx.TransportError{Name: "ews", Method: http.MethodPost, URL: m.hc.BaseURL().String(), Attempts: 1, Err: err}
}

// maxEWSAnswer bounds the answers read whole (everything but MimeContent).
const maxEWSAnswer = 32 << 20

func (m *EWSMailbox) soapRequest(op string, body []byte) *httpx.Request {
	return &httpx.Request{
		Method: http.MethodPost,
		Path:   m.file,
		Header: http.Header{"Soapaction": {`"` + ewsNSMessages + "/" + op + `"`}},
		Body:   httpx.BytesBody("text/xml; charset=utf-8", body),
	}
}

// ---- folders ----

// mailboxXML addresses the configured mailbox in a DistinguishedFolderId,
// for delegate access.
func (m *EWSMailbox) mailboxXML() string {
	if m.cfg.Mailbox == "" || m.cfg.Impersonate {
		return ""
	}
	return "<t:Mailbox><t:EmailAddress>" + xmlEscape(m.cfg.Mailbox) + "</t:EmailAddress></t:Mailbox>"
}

func (m *EWSMailbox) distinguished(id string) string {
	if mb := m.mailboxXML(); mb != "" {
		return `<t:DistinguishedFolderId Id="` + id + `">` + mb + `</t:DistinguishedFolderId>`
	}
	return `<t:DistinguishedFolderId Id="` + id + `"/>`
}

// folderID resolves a configured path to its FolderId, asking the server
// once per path.
func (m *EWSMailbox) folderID(ctx context.Context, path string) (string, error) {
	id, ok := m.cachedFolder(path)
	if ok {
		return id, nil
	}
	levels := strings.Split(strings.Trim(path, "/"), "/")
	var parent string // FolderId XML of the current parent
	start := 0
	if strings.EqualFold(levels[0], "Inbox") {
		env := m.envelope().raw(`<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds>`).
			raw(m.distinguished("inbox")).raw(`</m:FolderIds></m:GetFolder>`)
		msg, err := m.call(ctx, "GetFolder", true, env.bytes())
		if err != nil {
			return "", m.opErr(path, "GetFolder", err)
		}
		if len(msg.Folders.List) == 0 {
			return "", m.opErr(path, "GetFolder", errors.New("the GetFolder answer holds no folder"))
		}
		id = msg.Folders.List[0].FolderID.ID
		parent = `<t:FolderId Id="` + xmlEscape(id) + `"/>`
		start = 1
	} else {
		parent = m.distinguished("msgfolderroot")
	}
	for i := start; i < len(levels); i++ {
		env := m.envelope().raw(`<m:FindFolder Traversal="Shallow"><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape>` +
			`<t:AdditionalProperties><t:FieldURI FieldURI="folder:DisplayName"/></t:AdditionalProperties></m:FolderShape>` +
			`<m:IndexedPageFolderView MaxEntriesReturned="10" Offset="0" BasePoint="Beginning"/>` +
			`<m:Restriction><t:IsEqualTo><t:FieldURI FieldURI="folder:DisplayName"/><t:FieldURIOrConstant><t:Constant Value="`).
			text(levels[i]).raw(`"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction><m:ParentFolderIds>`).
			raw(parent).raw(`</m:ParentFolderIds></m:FindFolder>`)
		msg, err := m.call(ctx, "FindFolder", true, env.bytes())
		if err != nil {
			return "", m.opErr(path, "FindFolder", err)
		}
		id = ""
		if msg.RootFolder != nil {
			for _, f := range msg.RootFolder.Folders.List {
				// The server compares without regard to case; prefer an
				// exact match when there are several.
				if id == "" || f.DisplayName == levels[i] {
					id = f.FolderID.ID
				}
			}
		}
		if id == "" {
			return "", m.opErr(path, "FindFolder", fmt.Errorf("%w: no folder %q in %q", ErrFolderNotFound, levels[i], strings.Join(levels[:i], "/")))
		}
		parent = `<t:FolderId Id="` + xmlEscape(id) + `"/>`
	}
	m.rememberFolder(path, id)
	return id, nil
}

// ---- listing ----

// Messages yields the unprocessed messages of each configured folder,
// oldest first. It implements [Mailbox].
func (m *EWSMailbox) Messages(ctx context.Context) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		for _, folder := range m.cfg.Folders {
			if !m.listFolder(ctx, folder, yield) {
				return
			}
		}
	}
}

// unprocessedRestriction is the search expression that keeps unprocessed
// messages, or "" when every message is.
func (m *EWSMailbox) unprocessedRestriction() []string {
	var terms []string
	notCategory := func(c string) string {
		return `<t:Not><t:Contains ContainmentMode="FullString" ContainmentComparison="IgnoreCase">` +
			`<t:FieldURI FieldURI="item:Categories"/><t:Constant Value="` + xmlEscape(c) + `"/></t:Contains></t:Not>`
	}
	p := m.cfg.Processed
	switch {
	case p.Category != "":
		terms = append(terms, notCategory(p.Category))
	case p.MarkRead:
		terms = append(terms, `<t:IsEqualTo><t:FieldURI FieldURI="message:IsRead"/><t:FieldURIOrConstant><t:Constant Value="false"/></t:FieldURIOrConstant></t:IsEqualTo>`)
	}
	if q := m.cfg.Quarantine.Category; q != "" && !strings.EqualFold(q, p.Category) {
		terms = append(terms, notCategory(q))
	}
	return terms
}

// listFolder yields the unprocessed messages of one folder; it returns
// false when the caller stopped or an error was yielded.
func (m *EWSMailbox) listFolder(ctx context.Context, folder string, yield func(Message, error) bool) bool {
	fail := func(op string, err error) bool {
		yield(Message{}, m.opErr(folder, op, err))
		return false
	}
	if err := m.ready(ctx); err != nil {
		return fail("FindItem", err)
	}
	id, err := m.folderID(ctx, folder)
	if err != nil {
		return fail("FindFolder", err)
	}
	var ks xchKeyset
	refreshed := false
	for {
		if err := m.ready(ctx); err != nil {
			return fail("FindItem", err)
		}
		items, last, err := m.findItems(ctx, id, ks)
		if errors.Is(err, ErrFolderNotFound) && !refreshed {
			// The remembered folder id went stale: find the folder again.
			refreshed = true
			m.forgetFolder(folder)
			if id, err = m.folderID(ctx, folder); err != nil {
				return fail("FindFolder", err)
			}
			continue
		}
		if err != nil {
			return fail("FindItem", err)
		}
		for _, it := range items {
			received, err := time.Parse(time.RFC3339, strings.TrimSpace(it.DateTimeReceived))
			if err != nil || it.ItemID.ID == "" {
				return fail("FindItem", fmt.Errorf("the server listed a message without an id or a valid DateTimeReceived (%q)", it.DateTimeReceived))
			}
			if !ks.admit(it.ItemID.ID, received) {
				continue
			}
			if !yield(m.message(folder, it, received), nil) {
				return false
			}
		}
		if last || len(items) == 0 {
			return true
		}
		ks.step(len(items))
	}
}

func (m *EWSMailbox) message(folder string, it ewsItemXML, received time.Time) Message {
	size, err := strconv.ParseInt(strings.TrimSpace(it.Size), 10, 64)
	if err != nil || size <= 0 {
		size = -1
	}
	return Message{
		ID:                MessageID(it.ItemID.ID),
		Folder:            folder,
		ConversationID:    it.ConversationID.ID,
		InternetMessageID: strings.TrimSpace(it.InternetMessageID),
		Subject:           it.Subject,
		Categories:        it.Categories,
		Size:              size,
		Received:          received.UTC(),
	}
}

// findItems asks for one page of unprocessed messages received at or after
// the keyset's cursor.
func (m *EWSMailbox) findItems(ctx context.Context, folderID string, ks xchKeyset) ([]ewsItemXML, bool, error) {
	terms := m.unprocessedRestriction()
	if !ks.cursor.IsZero() {
		terms = append(terms, `<t:IsGreaterThanOrEqualTo><t:FieldURI FieldURI="item:DateTimeReceived"/>`+
			`<t:FieldURIOrConstant><t:Constant Value="`+ewsTime(ks.cursor)+`"/></t:FieldURIOrConstant></t:IsGreaterThanOrEqualTo>`)
	}
	env := m.envelope().raw(`<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>` +
		`<t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="item:DateTimeReceived"/><t:FieldURI FieldURI="item:Size"/>` +
		`<t:FieldURI FieldURI="item:Categories"/><t:FieldURI FieldURI="item:ConversationId"/>` +
		`<t:FieldURI FieldURI="message:InternetMessageId"/></t:AdditionalProperties></m:ItemShape>`)
	env.raw(fmt.Sprintf(`<m:IndexedPageItemView MaxEntriesReturned="%d" Offset="%d" BasePoint="Beginning"/>`, m.cfg.PageSize, ks.offset))
	switch len(terms) {
	case 0:
	case 1:
		env.raw(`<m:Restriction>` + terms[0] + `</m:Restriction>`)
	default:
		env.raw(`<m:Restriction><t:And>` + strings.Join(terms, "") + `</t:And></m:Restriction>`)
	}
	env.raw(`<m:SortOrder><t:FieldOrder Order="Ascending"><t:FieldURI FieldURI="item:DateTimeReceived"/></t:FieldOrder></m:SortOrder>`)
	env.raw(`<m:ParentFolderIds><t:FolderId Id="`).text(folderID).raw(`"/></m:ParentFolderIds></m:FindItem>`)
	msg, err := m.call(ctx, "FindItem", true, env.bytes())
	if err != nil {
		return nil, false, err
	}
	if msg.RootFolder == nil {
		return nil, false, errors.New("the FindItem answer holds no RootFolder")
	}
	last := strings.EqualFold(strings.TrimSpace(msg.RootFolder.IncludesLastItemInRange), "true")
	return msg.RootFolder.Items.List, last, nil
}

// ---- opening ----

// Open returns the raw message, decoded from GetItem's MimeContent while it
// streams. It implements [Mailbox].
func (m *EWSMailbox) Open(ctx context.Context, msg Message) (io.ReadCloser, error) {
	if err := m.precheck(ctx, msg, "GetItem"); err != nil {
		return nil, err
	}
	id := m.moved.resolve(msg.ID)
	env := m.envelope().raw(`<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:IncludeMimeContent>true</t:IncludeMimeContent></m:ItemShape>` +
		`<m:ItemIds><t:ItemId Id="`).text(string(id)).raw(`"/></m:ItemIds></m:GetItem>`)
	body := env.bytes()
	var rc io.ReadCloser
	err := m.retry.do(ctx, "GetItem", true, func(ctx context.Context) error {
		resp, err := m.hc.Do(ctx, m.soapRequest("GetItem", body))
		if err != nil {
			return err
		}
		r, err := ewsOpenMime(resp.Body)
		if err != nil {
			var se *ServerError
			if !errors.As(err, &se) {
				// A broken stream before the content started.
				return m.brokenAnswer(err)
			}
			return err
		}
		rc = r
		return nil
	})
	if err != nil {
		return nil, m.opErr(msg.Folder, "GetItem", err)
	}
	return rc, nil
}

// ---- marking ----

// MarkProcessed applies the Processed disposition. It implements
// [Mailbox].
func (m *EWSMailbox) MarkProcessed(ctx context.Context, msg Message) error {
	return m.apply(ctx, msg, m.cfg.Processed)
}

// Quarantine applies the Quarantine disposition. The reason is logged at
// Info level; EWS has no standard place to store it on the message. It
// implements [Mailbox].
func (m *EWSMailbox) Quarantine(ctx context.Context, msg Message, reason string) error {
	if m.cfg.Quarantine.IsZero() {
		return m.refuseQuarantine(ctx, msg)
	}
	if err := m.apply(ctx, msg, m.cfg.Quarantine); err != nil {
		return err
	}
	m.logQuarantined(ctx, msg, reason)
	return nil
}

// ewsItemState is what marking needs to know of a message.
type ewsItemState struct {
	id, changeKey string
	parent        string
	read          bool
	categories    []string
	messageID     string
}

// itemState reads the state of one message.
func (m *EWSMailbox) itemState(ctx context.Context, id string) (ewsItemState, error) {
	env := m.envelope().raw(`<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>` +
		`<t:FieldURI FieldURI="item:ParentFolderId"/><t:FieldURI FieldURI="item:Categories"/>` +
		`<t:FieldURI FieldURI="message:InternetMessageId"/><t:FieldURI FieldURI="message:IsRead"/>` +
		`</t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="`).text(id).raw(`"/></m:ItemIds></m:GetItem>`)
	msg, err := m.call(ctx, "GetItem", true, env.bytes())
	if err != nil {
		return ewsItemState{}, err
	}
	if len(msg.Items.List) == 0 {
		return ewsItemState{}, errors.New("the GetItem answer holds no item")
	}
	it := msg.Items.List[0]
	return ewsItemState{
		id:         it.ItemID.ID,
		changeKey:  it.ItemID.ChangeKey,
		parent:     it.ParentFolderID.ID,
		read:       strings.EqualFold(strings.TrimSpace(it.IsRead), "true"),
		categories: it.Categories,
		messageID:  strings.TrimSpace(it.InternetMessageID),
	}, nil
}

// findMoved looks for a message that was already moved to folder, by its
// Internet Message-ID: the way back to a message whose move succeeded but
// whose answer was lost, or that was moved before a restart.
func (m *EWSMailbox) findMoved(ctx context.Context, folder, messageID string) (ewsItemState, error) {
	folderID, err := m.folderID(ctx, folder)
	if err != nil {
		return ewsItemState{}, err
	}
	env := m.envelope().raw(`<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>` +
		`<m:IndexedPageItemView MaxEntriesReturned="1" Offset="0" BasePoint="Beginning"/>` +
		`<m:Restriction><t:IsEqualTo><t:FieldURI FieldURI="message:InternetMessageId"/><t:FieldURIOrConstant><t:Constant Value="`).
		text(messageID).raw(`"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>` +
		`<m:ParentFolderIds><t:FolderId Id="`).text(folderID).raw(`"/></m:ParentFolderIds></m:FindItem>`)
	msg, err := m.call(ctx, "FindItem", true, env.bytes())
	if err != nil {
		return ewsItemState{}, err
	}
	if msg.RootFolder == nil || len(msg.RootFolder.Items.List) == 0 {
		return ewsItemState{}, fmt.Errorf("%w: the message is neither where it was listed nor in %q", ErrMessageNotFound, folder)
	}
	return m.itemState(ctx, msg.RootFolder.Items.List[0].ItemID.ID)
}

// apply brings the message to the state d describes: categories and read
// flag first (one UpdateItem), then the move. Every step checks the
// current state first, so applying twice does nothing the second time.
func (m *EWSMailbox) apply(ctx context.Context, msg Message, d Disposition) error {
	op := "UpdateItem"
	if err := m.precheck(ctx, msg, op); err != nil {
		return err
	}
	id := string(m.moved.resolve(msg.ID))
	st, err := m.itemState(ctx, id)
	if errors.Is(err, ErrMessageNotFound) && d.MoveTo != "" && msg.InternetMessageID != "" {
		st, err = m.findMoved(ctx, d.MoveTo, msg.InternetMessageID)
	}
	if err != nil {
		return m.opErr(msg.Folder, "GetItem", err)
	}
	if st.id != id {
		m.moved.put(msg.ID, MessageID(st.id))
	}
	for attempt := 0; ; attempt++ {
		err := m.update(ctx, &st, d)
		if err == nil {
			break
		}
		if attempt == 0 && errors.Is(err, ErrStale) {
			// Someone changed the message since it was read (a stale or
			// missing ChangeKey): read it again and apply the changes
			// still needed.
			if st, err = m.itemState(ctx, st.id); err == nil {
				continue
			}
		}
		return m.opErr(msg.Folder, op, err)
	}
	if d.MoveTo == "" {
		return nil
	}
	dest, err := m.folderID(ctx, d.MoveTo)
	if err != nil {
		return m.opErr(d.MoveTo, "FindFolder", err)
	}
	if st.parent == dest {
		return nil
	}
	newID, err := m.move(ctx, st, d.MoveTo, dest)
	if err != nil {
		return m.opErr(msg.Folder, "MoveItem", err)
	}
	if newID != "" {
		m.moved.put(MessageID(st.id), MessageID(newID))
		m.moved.put(msg.ID, MessageID(newID))
	}
	return nil
}

// update sends the UpdateItem that adds the category and sets the read
// flag, if either is missing.
func (m *EWSMailbox) update(ctx context.Context, st *ewsItemState, d Disposition) error {
	var updates strings.Builder
	if d.Category != "" && !xchHasCategory(st.categories, d.Category) {
		// SetItemField replaces the whole list: send the union.
		updates.WriteString(`<t:SetItemField><t:FieldURI FieldURI="item:Categories"/><t:Message><t:Categories>`)
		for _, c := range append(append([]string(nil), st.categories...), d.Category) {
			updates.WriteString(`<t:String>` + xmlEscape(c) + `</t:String>`)
		}
		updates.WriteString(`</t:Categories></t:Message></t:SetItemField>`)
	}
	if d.MarkRead && !st.read {
		updates.WriteString(`<t:SetItemField><t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>true</t:IsRead></t:Message></t:SetItemField>`)
	}
	if updates.Len() == 0 {
		return nil
	}
	suppress := ""
	if m.rank >= ewsVersions["Exchange2013_SP1"] {
		// Marking a reported phishing mail read must not send its sender a
		// read receipt.
		suppress = ` SuppressReadReceipts="true"`
	}
	env := m.envelope().raw(`<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="AutoResolve"` + suppress + `>` +
		`<m:ItemChanges><t:ItemChange><t:ItemId Id="`).text(st.id)
	if st.changeKey != "" {
		env.raw(`" ChangeKey="`).text(st.changeKey)
	}
	env.raw(`"/><t:Updates>` + updates.String() + `</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`)
	// Setting fields to fixed values may be repeated safely.
	msg, err := m.call(ctx, "UpdateItem", true, env.bytes())
	if err != nil {
		return err
	}
	if len(msg.Items.List) > 0 && msg.Items.List[0].ItemID.ChangeKey != "" {
		st.changeKey = msg.Items.List[0].ItemID.ChangeKey
	}
	if d.Category != "" && !xchHasCategory(st.categories, d.Category) {
		st.categories = append(st.categories, d.Category)
	}
	st.read = st.read || d.MarkRead
	return nil
}

// move sends the MoveItem and returns the message's new id. A move is not
// idempotent (the old id is gone once it succeeded), so when its answer is
// lost the message is looked for in both folders before trying again.
func (m *EWSMailbox) move(ctx context.Context, st ewsItemState, destPath, dest string) (string, error) {
	env := m.envelope().raw(`<m:MoveItem><m:ToFolderId><t:FolderId Id="`).text(dest).
		raw(`"/></m:ToFolderId><m:ItemIds><t:ItemId Id="`).text(st.id).raw(`"/></m:ItemIds>`)
	if m.rank >= ewsVersions["Exchange2010_SP1"] {
		env.raw(`<m:ReturnNewItemIds>true</m:ReturnNewItemIds>`)
	}
	body := env.raw(`</m:MoveItem>`).bytes()
	for attempt := 0; ; attempt++ {
		msg, err := m.call(ctx, "MoveItem", false, body)
		if err == nil {
			if len(msg.Items.List) > 0 {
				return msg.Items.List[0].ItemID.ID, nil
			}
			return "", nil
		}
		var te *httpx.TransportError
		if attempt > 0 || !errors.As(err, &te) || ctx.Err() != nil {
			return "", err
		}
		// The answer was lost: did the move happen?
		if _, serr := m.itemState(ctx, st.id); serr == nil {
			continue // still in its folder: move it now
		} else if !errors.Is(serr, ErrMessageNotFound) || st.messageID == "" {
			return "", err
		}
		moved, ferr := m.findMoved(ctx, destPath, st.messageID)
		if ferr != nil {
			return "", err
		}
		return moved.id, nil
	}
}

// limitConns bounds the connections of an *http.Transport to the host.
func limitConns(rt http.RoundTripper, n int) http.RoundTripper {
	if t, ok := rt.(*http.Transport); ok {
		t = t.Clone()
		t.MaxConnsPerHost = n
		return t
	}
	return rt
}

// ntlmLanes runs NTLM over a fixed set of connections. NTLM authenticates
// a TCP connection, not a request: the three legs of a handshake must use
// the same connection, which a shared connection pool does not promise
// when requests run concurrently (another request may take the connection
// between two legs). Each lane is a transport limited to one connection,
// with its own negotiator; a request holds a lane until its answer is read
// and closed, and the lane's connection stays authenticated for the next
// request.
type ntlmLanes struct {
	free chan http.RoundTripper
}

func newNTLMLanes(rt http.RoundTripper, n int) http.RoundTripper {
	base, ok := rt.(*http.Transport)
	if !ok {
		// A custom transport: the negotiator works on it as long as it
		// keeps each handshake on one connection.
		return ntlmssp.Negotiator{RoundTripper: rt}
	}
	l := &ntlmLanes{free: make(chan http.RoundTripper, n)}
	for range n {
		t := base.Clone()
		t.MaxConnsPerHost = 1
		t.MaxIdleConnsPerHost = 1
		// NTLM over HTTP/2 is not supported by IIS: keep HTTP/1.1.
		t.ForceAttemptHTTP2 = false
		t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		l.free <- ntlmssp.Negotiator{RoundTripper: t}
	}
	return l
}

func (l *ntlmLanes) RoundTrip(req *http.Request) (*http.Response, error) {
	var lane http.RoundTripper
	select {
	case lane = <-l.free:
	case <-req.Context().Done():
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, req.Context().Err()
	}
	resp, err := lane.RoundTrip(req)
	if err != nil {
		l.free <- lane
		return nil, err
	}
	resp.Body = &laneBody{ReadCloser: resp.Body, release: func() { l.free <- lane }}
	return resp, nil
}

// CloseIdleConnections closes the idle connections of every free lane.
func (l *ntlmLanes) CloseIdleConnections() {
	for {
		select {
		case lane := <-l.free:
			defer func() { l.free <- lane }()
			if n, ok := lane.(ntlmssp.Negotiator); ok {
				if t, ok := n.RoundTripper.(*http.Transport); ok {
					t.CloseIdleConnections()
				}
			}
		default:
			return
		}
	}
}

// laneBody gives its lane back when the answer is closed.
type laneBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *laneBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
