package ews_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
)

// ewsFixture is a fake EWS server with the shared mailbox's inbox and a
// Processed folder, and a mailbox reading it.
type ewsFixture struct {
	srv   *ewstest.EWSServer
	mb    *ews.EWSMailbox
	cfg   ews.EWSConfig
	waits *waitRecorder
	logs  *syncBuffer
}

// newEWSFixture starts a fake and builds a mailbox that signs in with
// Basic (NTLM has tests of its own), marks processed messages read and
// logs at debug level; configure adjusts the configuration.
func newEWSFixture(t testing.TB, configure func(*ews.EWSConfig), opts ...ewstest.EWSOption) *ewsFixture {
	t.Helper()
	f := &ewsFixture{srv: ewstest.NewEWSServer(t, opts...), waits: &waitRecorder{}, logs: &syncBuffer{}}
	if _, err := f.srv.CreateFolder(ewstest.EWSSharedMailbox, "Processed"); err != nil {
		t.Fatal(err)
	}
	f.cfg = ews.EWSConfig{
		URL:       f.srv.URL(),
		Auth:      ews.EWSAuthBasic,
		Username:  ewstest.EWSUsername,
		Password:  ewstest.EWSPassword,
		Mailbox:   ewstest.EWSSharedMailbox,
		Folders:   []string{"Inbox"},
		Processed: ews.Disposition{MarkRead: true},
		Logger:    slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if configure != nil {
		configure(&f.cfg)
	}
	f.mb = f.open(t)
	return f
}

// open builds another mailbox with the fixture's configuration.
func (f *ewsFixture) open(t testing.TB) *ews.EWSMailbox {
	t.Helper()
	mb, err := ews.NewEWS(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ews.SetEWSRetryWait(mb, f.waits.wait)
	t.Cleanup(func() { _ = mb.Close() })
	return mb
}

func (f *ewsFixture) seed(t testing.TB, key string, offset time.Duration, read bool, cats ...string) ewstest.ExchangeMessage {
	t.Helper()
	return xchSeed(t, f.srv.Exchange, ewstest.EWSSharedMailbox, "Inbox", key, offset, read, cats...)
}

// listErr lists mb and returns the error it yields, or nil.
func listErr(ctx context.Context, mb ews.Mailbox) ([]ews.Message, error) {
	var out []ews.Message
	for m, err := range mb.Messages(ctx) {
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
	return out, nil
}

func TestEWSListsMessageFields(t *testing.T) {
	t.Parallel()
	f := newEWSFixture(t, func(c *ews.EWSConfig) { c.PageSize = 2 })
	b := f.seed(t, "b", time.Hour, false, "Phishing", "Triage")
	a := f.seed(t, "a", 0, false)
	f.seed(t, "c", 2*time.Hour, true)
	ctx := t.Context()
	got := listAll(ctx, t, f.mb)
	want := []ews.Message{
		{ID: ews.MessageID(a.ID), Folder: "Inbox", ConversationID: a.ConversationID, InternetMessageID: "<a@test>",
			Subject: "Report a", Size: int64(len(a.Raw)), Received: xchBase},
		{ID: ews.MessageID(b.ID), Folder: "Inbox", ConversationID: b.ConversationID, InternetMessageID: "<b@test>",
			Subject: "Report b", Categories: []string{"Phishing", "Triage"}, Size: int64(len(b.Raw)), Received: xchBase.Add(time.Hour)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Messages mismatch (-want +got):\n%s", diff)
	}
	if got, want := string(readAll(ctx, t, f.mb, got[0])), string(a.Raw); got != want {
		t.Errorf("Open returned %q, want %q", got, want)
	}
}

// TestEWSListsTiesOnce seeds more messages received in the same second
// than a page holds, and marks each as it is listed: every message is
// listed once, although the unread view shrinks under the listing.
func TestEWSListsTiesOnce(t *testing.T) {
	t.Parallel()
	for _, mark := range []bool{false, true} {
		t.Run(fmt.Sprintf("mark=%t", mark), func(t *testing.T) {
			t.Parallel()
			f := newEWSFixture(t, func(c *ews.EWSConfig) { c.PageSize = 2 })
			checkListsTiesOnce(t, f.mb, func(key string, offset time.Duration) { f.seed(t, key, offset, false) }, mark)
		})
	}
}

// TestEWSThrottling answers the first two FindItem requests with each kind
// of busy or transient failure, and checks that the listing succeeds after
// waiting at least as long as the server asked.
func TestEWSThrottling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fault    ewstest.EWSFault
		wantWait time.Duration // the least each wait must be
	}{
		{"ServerBusyFault", ewstest.EWSFault{Kind: ewstest.EWSServerBusyFault, BackOff: 1500 * time.Millisecond}, 1500 * time.Millisecond},
		{"ServerBusyResponse", ewstest.EWSFault{Kind: ewstest.EWSServerBusyResponse, BackOff: 2 * time.Second}, 2 * time.Second},
		{"InternalServerBusy", ewstest.EWSFault{Kind: ewstest.EWSInternalServerBusy, BackOff: 3 * time.Second}, 3 * time.Second},
		{"ExceededConnectionCount", ewstest.EWSFault{Kind: ewstest.EWSExceededConnectionCount}, 0},
		{"ServiceUnavailable", ewstest.EWSFault{Kind: ewstest.EWSServiceUnavailable, BackOff: 2 * time.Second}, 2 * time.Second},
		{"ServerErrorPage", ewstest.EWSFault{Kind: ewstest.EWSServerErrorPage}, 0},
		{"DropConnection", ewstest.EWSFault{Kind: ewstest.EWSDropConnection}, 0},
		{"TransientError", ewstest.EWSFault{Kind: ewstest.EWSErrorResponse, ResponseCode: "ErrorInternalServerTransientError"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newEWSFixture(t, nil)
			f.seed(t, "a", 0, false)
			ctx := t.Context()
			listAll(ctx, t, f.mb) // resolves the folder
			tt.fault.Operation, tt.fault.Count = "FindItem", 2
			f.srv.InjectFault(tt.fault)
			msgs, err := listErr(ctx, f.mb)
			if err != nil || len(msgs) != 1 {
				t.Fatalf("Messages = %d messages, %v; want the message after retries", len(msgs), err)
			}
			waits := f.waits.all()
			if len(waits) != 2 {
				t.Fatalf("waited %d times (%v), want 2", len(waits), waits)
			}
			for _, w := range waits {
				if w < tt.wantWait || w <= 0 {
					t.Errorf("waited %v, want at least %v", w, max(tt.wantWait, time.Nanosecond))
				}
			}
			if got := f.srv.Requests("FindItem"); got != 4 {
				t.Errorf("FindItem requests = %d, want 4 (1 + 2 failed + 1)", got)
			}
		})
	}
}

// TestEWSThrottlingLimits checks that a back-off longer than allowed, or
// than the context's deadline, fails at once with ErrThrottled and the
// server's wait, and that retries stop after MaxRetries.
func TestEWSThrottlingLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		backOff    time.Duration
		count      int
		maxRetries int
		deadline   time.Duration
		wantWaits  int
		wantReqs   int
	}{
		{"LongerThanMaxRetryWait", 5 * time.Minute, 1, 0, 0, 0, 1},
		{"LongerThanDeadline", 20 * time.Second, 1, 0, 10 * time.Second, 0, 1},
		{"RetriesExhausted", time.Second, 10, 2, 0, 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newEWSFixture(t, func(c *ews.EWSConfig) { c.MaxRetries = tt.maxRetries })
			ctx := t.Context()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			f.srv.InjectFault(ewstest.EWSFault{Operation: "GetFolder", Kind: ewstest.EWSServerBusyFault, BackOff: tt.backOff, Count: tt.count})
			_, err := listErr(ctx, f.mb)
			var se *ews.ServerError
			if !errors.Is(err, ews.ErrThrottled) || !errors.As(err, &se) {
				t.Fatalf("error = %v, want one matching ErrThrottled with a *ServerError", err)
			}
			if se.Code != "ErrorServerBusy" || se.RetryAfter != tt.backOff || se.StatusCode != 500 {
				t.Errorf("ServerError = %+v, want ErrorServerBusy, status 500, RetryAfter %v", se, tt.backOff)
			}
			if got := len(f.waits.all()); got != tt.wantWaits {
				t.Errorf("waited %d times, want %d", got, tt.wantWaits)
			}
			if got := f.srv.Requests("GetFolder"); got != tt.wantReqs {
				t.Errorf("GetFolder requests = %d, want %d", got, tt.wantReqs)
			}
		})
	}
}

// TestEWSResponseCodes answers with response codes and checks the errors
// they become.
func TestEWSResponseCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		op, code string
		want     error // nil: no sentinel
	}{
		{"GetItem", "ErrorItemNotFound", ews.ErrMessageNotFound},
		{"GetItem", "ErrorInvalidIdMalformed", ews.ErrInvalidID},
		{"GetItem", "ErrorAccessDenied", ews.ErrAuth},
		{"GetItem", "ErrorMimeContentConversionFailed", nil},
		{"GetFolder", "ErrorFolderNotFound", ews.ErrFolderNotFound},
		{"GetFolder", "ErrorNonExistentMailbox", nil},
	}
	for _, tt := range tests {
		t.Run(tt.op+"/"+tt.code, func(t *testing.T) {
			t.Parallel()
			f := newEWSFixture(t, nil)
			f.seed(t, "a", 0, false)
			ctx := t.Context()
			var err error
			if tt.op == "GetItem" {
				msgs := listAll(ctx, t, f.mb)
				f.srv.InjectFault(ewstest.EWSFault{Operation: tt.op, Kind: ewstest.EWSErrorResponse, ResponseCode: tt.code})
				_, err = f.mb.Open(ctx, msgs[0])
			} else {
				f.srv.InjectFault(ewstest.EWSFault{Operation: tt.op, Kind: ewstest.EWSErrorResponse, ResponseCode: tt.code})
				_, err = listErr(ctx, f.mb)
			}
			var se *ews.ServerError
			var oe *ews.OpError
			if !errors.As(err, &se) || !errors.As(err, &oe) {
				t.Fatalf("error = %v, want an *OpError wrapping a *ServerError", err)
			}
			if se.Code != tt.code || se.StatusCode != 200 {
				t.Errorf("ServerError code %q status %d, want %q 200", se.Code, se.StatusCode, tt.code)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v does not match %v", err, tt.want)
			}
			if oe.Protocol != "ews" || oe.Op != tt.op || oe.Folder != "Inbox" {
				t.Errorf("OpError = %+v, want protocol ews, op %s, folder Inbox", oe, tt.op)
			}
		})
	}
}

// TestEWSChangeKeyConflict answers the first UpdateItem with a stale
// ChangeKey error: the mailbox reads the message again and retries once.
func TestEWSChangeKeyConflict(t *testing.T) {
	t.Parallel()
	f := newEWSFixture(t, nil, ewstest.WithEWSChangeKeyRequired())
	a := f.seed(t, "a", 0, false)
	ctx := t.Context()
	msgs := listAll(ctx, t, f.mb)
	f.srv.InjectFault(ewstest.EWSFault{Operation: "UpdateItem", Kind: ewstest.EWSErrorResponse, ResponseCode: "ErrorIrresolvableConflict"})
	if err := f.mb.MarkProcessed(ctx, msgs[0]); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.srv.Message(a.ID); !got.Read {
		t.Error("the message is not read")
	}
	if got := f.srv.Requests("UpdateItem"); got != 2 {
		t.Errorf("UpdateItem requests = %d, want 2", got)
	}
	// A second conflict in a row is reported.
	b := f.seed(t, "b", time.Minute, false)
	f.srv.InjectFault(ewstest.EWSFault{Operation: "UpdateItem", Kind: ewstest.EWSErrorResponse, ResponseCode: "ErrorIrresolvableConflict", Count: 2})
	err := f.mb.MarkProcessed(ctx, ews.Message{ID: ews.MessageID(b.ID), Folder: "Inbox"})
	if !errors.Is(err, ews.ErrStale) {
		t.Errorf("error = %v, want ErrStale", err)
	}
}

// TestEWSMoveAnswerLost drops the connection after the server applied a
// MoveItem: the mailbox finds the message in the destination and reports
// success, and marking again is a no-op, from this mailbox or a new one.
func TestEWSMoveAnswerLost(t *testing.T) {
	t.Parallel()
	f := newEWSFixture(t, func(c *ews.EWSConfig) { c.Processed = ews.Disposition{Category: "done", MoveTo: "Processed"} })
	f.seed(t, "a", 0, false)
	ctx := t.Context()
	msgs := listAll(ctx, t, f.mb)
	f.srv.InjectFault(ewstest.EWSFault{Operation: "MoveItem", Kind: ewstest.EWSDropAfterApply})
	if err := f.mb.MarkProcessed(ctx, msgs[0]); err != nil {
		t.Fatalf("MarkProcessed: %v", err)
	}
	if err := f.mb.MarkProcessed(ctx, msgs[0]); err != nil {
		t.Fatalf("MarkProcessed again: %v", err)
	}
	if err := f.open(t).MarkProcessed(ctx, msgs[0]); err != nil {
		t.Fatalf("MarkProcessed from a new mailbox: %v", err)
	}
	inbox, _ := f.srv.Messages(ewstest.EWSSharedMailbox, "Inbox")
	done, _ := f.srv.Messages(ewstest.EWSSharedMailbox, "Processed")
	if len(inbox) != 0 || len(done) != 1 || !cmp.Equal(done[0].Categories, []string{"done"}) {
		t.Errorf("inbox holds %d messages, Processed %v; want the message moved once with its category", len(inbox), done)
	}
	if got := f.srv.Requests("MoveItem"); got != 1 {
		t.Errorf("MoveItem requests = %d, want 1", got)
	}
	// Opening by the old id follows the move.
	if got := readAll(ctx, t, f.mb, msgs[0]); len(got) == 0 {
		t.Error("opening the moved message by its listed id returned nothing")
	}
}

// TestEWSAuth signs in with each scheme, right and wrong.
func TestEWSAuth(t *testing.T) {
	t.Parallel()
	tokens := func(tok string) oauth2.TokenSource { return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok}) }
	tests := []struct {
		name    string
		auth    ews.EWSAuth
		pass    string
		ts      oauth2.TokenSource
		schemes *ewstest.EWSAuthSchemes
		wantErr bool
	}{
		{name: "Basic", auth: ews.EWSAuthBasic, pass: ewstest.EWSPassword},
		{name: "BasicWrongPassword", auth: ews.EWSAuthBasic, pass: "wrong-" + ewstest.EWSPassword, wantErr: true},
		{name: "BasicDisabled", auth: ews.EWSAuthBasic, pass: ewstest.EWSPassword, schemes: &ewstest.EWSAuthSchemes{NTLM: true}, wantErr: true},
		{name: "NTLM", auth: ews.EWSAuthNTLM, pass: ewstest.EWSPassword},
		{name: "NTLMOnly", auth: ews.EWSAuthNTLM, pass: ewstest.EWSPassword, schemes: &ewstest.EWSAuthSchemes{NTLM: true}},
		{name: "NTLMWrongPassword", auth: ews.EWSAuthNTLM, pass: "wrong-" + ewstest.EWSPassword, wantErr: true},
		{name: "Bearer", auth: ews.EWSAuthBearer, ts: tokens(ewstest.EWSToken)},
		{name: "BearerWrongToken", auth: ews.EWSAuthBearer, ts: tokens("not-" + ewstest.EWSToken), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []ewstest.EWSOption
			if tt.schemes != nil {
				opts = append(opts, ewstest.WithEWSAuthSchemes(*tt.schemes))
			}
			f := newEWSFixture(t, func(c *ews.EWSConfig) {
				c.Auth, c.Password, c.TokenSource = tt.auth, tt.pass, tt.ts
				if tt.ts != nil {
					c.Username, c.Password = "", ""
				}
			}, opts...)
			f.seed(t, "a", 0, false)
			msgs, err := listErr(t.Context(), f.mb)
			if !tt.wantErr {
				if err != nil || len(msgs) != 1 {
					t.Fatalf("Messages = %d, %v; want 1 message", len(msgs), err)
				}
				return
			}
			var se *ews.ServerError
			if !errors.Is(err, ews.ErrAuth) || !errors.As(err, &se) || se.StatusCode != 401 {
				t.Fatalf("error = %v, want ErrAuth with status 401", err)
			}
			if n := len(f.waits.all()); n != 0 {
				t.Errorf("a refused sign-in was retried %d times", n)
			}
		})
	}
}

// TestEWSNTLMKeepsConnectionsSignedIn checks that the NTLM handshake
// happens once per connection, not once per request.
func TestEWSNTLMKeepsConnectionsSignedIn(t *testing.T) {
	t.Parallel()
	f := newEWSFixture(t, func(c *ews.EWSConfig) { c.Auth = ews.EWSAuthNTLM; c.MaxConns = 1 })
	f.seed(t, "a", 0, false)
	ctx := t.Context()
	for range 5 {
		msgs := listAll(ctx, t, f.mb)
		readAll(ctx, t, f.mb, msgs[0])
	}
	// One handshake: the anonymous request and the NEGOTIATE leg get 401.
	if got := f.srv.Requests("Unauthorized"); got != 2 {
		t.Errorf("401 answers = %d, want 2 (one handshake)", got)
	}
}

// TestEWSImpersonation acts as the shared mailbox with
// ExchangeImpersonation, with and without the right.
func TestEWSImpersonation(t *testing.T) {
	t.Parallel()
	const user, pass = `EXAMPLE\helpdesk`, "Help-Desk-Pa55!"
	tests := []struct {
		name        string
		username    string
		mailbox     string
		impersonate bool
		wantCode    string
		wantKind    error
	}{
		{name: "Impersonation", username: ewstest.EWSUsername, mailbox: ewstest.EWSSharedMailbox, impersonate: true},
		{name: "NoRight", username: user, mailbox: ewstest.EWSSharedMailbox, impersonate: true, wantCode: "ErrorImpersonateUserDenied", wantKind: ews.ErrAuth},
		{name: "UnknownMailbox", username: ewstest.EWSUsername, mailbox: "nobody@example.com", impersonate: true, wantCode: "ErrorNonExistentMailbox"},
		{name: "DelegateWithoutAccess", username: user, mailbox: ewstest.EWSSharedMailbox, wantCode: "ErrorAccessDenied", wantKind: ews.ErrAuth},
		{name: "OwnMailbox", username: user, mailbox: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newEWSFixture(t, func(c *ews.EWSConfig) {
				c.Username, c.Mailbox, c.Impersonate = tt.username, tt.mailbox, tt.impersonate
				if tt.username == user {
					c.Password = pass
				}
			}, ewstest.WithEWSUser(ewstest.EWSUser{Username: user, Password: pass, Mailbox: "helpdesk@example.com"}))
			_, err := listErr(t.Context(), f.mb)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Messages: %v", err)
				}
				return
			}
			var se *ews.ServerError
			if !errors.As(err, &se) || se.Code != tt.wantCode {
				t.Fatalf("error = %v, want code %s", err, tt.wantCode)
			}
			if tt.wantKind != nil && !errors.Is(err, tt.wantKind) {
				t.Errorf("error %v does not match %v", err, tt.wantKind)
			}
		})
	}
}

// TestEWSErrorsHoldNoSecret fails in every way that involves credentials,
// with debug logging on, and checks that no password or token (or its
// Basic encoding) reaches an error or a log line, while errors still name
// the server, the folder and the operation.
func TestEWSErrorsHoldNoSecret(t *testing.T) {
	t.Parallel()
	const token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.c2VjcmV0.c2lnbmF0dXJl"
	wrong := "Wrong-" + ewstest.EWSPassword
	secrets := []string{ewstest.EWSPassword, wrong, token, ewstest.EWSToken}
	for _, user := range []string{ewstest.EWSUsername} {
		for _, p := range []string{ewstest.EWSPassword, wrong} {
			secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(user+":"+p)))
		}
	}
	tests := []struct {
		name      string
		configure func(*ews.EWSConfig)
	}{
		{"BasicWrongPassword", func(c *ews.EWSConfig) { c.Password = wrong }},
		{"NTLMWrongPassword", func(c *ews.EWSConfig) { c.Auth, c.Password = ews.EWSAuthNTLM, wrong }},
		{"BearerRefused", func(c *ews.EWSConfig) {
			c.Auth, c.Username, c.Password = ews.EWSAuthBearer, "", ""
			c.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})
		}},
		{"BearerTokenSourceFails", func(c *ews.EWSConfig) {
			c.Auth, c.Username, c.Password = ews.EWSAuthBearer, "", ""
			c.TokenSource = failingTokenSource{}
		}},
		{"MissingFolder", func(c *ews.EWSConfig) { c.Folders = []string{"Inbox/Nowhere"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newEWSFixture(t, tt.configure)
			_, err := listErr(t.Context(), f.mb)
			if err == nil {
				t.Fatal("Messages succeeded")
			}
			folder := f.cfg.Folders[0]
			for _, want := range []string{"ews", f.srv.URL()[len("http://"):][:len(f.srv.URL())-len("http://")-len(ewstest.EWSPath)], `"` + folder + `"`} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
			assertNoSecret(t, secrets, err.Error(), fmt.Sprintf("%+v %#v", err, err), f.logs.String(),
				fmt.Sprint(f.cfg), fmt.Sprintf("%#v", f.cfg), fmt.Sprint(f.mb))
		})
	}
}

// failingTokenSource fails like a token endpoint that refuses the client.
type failingTokenSource struct{}

func (failingTokenSource) Token() (*oauth2.Token, error) {
	return nil, &oauth2.RetrieveError{ErrorCode: "invalid_client", ErrorDescription: "AADSTS7000215: Invalid client secret provided."}
}

func TestEWSConfigErrors(t *testing.T) {
	t.Parallel()
	valid := ews.EWSConfig{
		URL: "https://mail.example.com/EWS/Exchange.asmx", Username: `EXAMPLE\svc`, Password: "pw",
		Folders: []string{"Inbox"}, Processed: ews.Disposition{MarkRead: true},
	}
	tests := []struct {
		name   string
		change func(*ews.EWSConfig)
	}{
		{"NoURL", func(c *ews.EWSConfig) { c.URL = "" }},
		{"RelativeURL", func(c *ews.EWSConfig) { c.URL = "/EWS/Exchange.asmx" }},
		{"URLWithCredentials", func(c *ews.EWSConfig) { c.URL = "https://svc:pw@mail.example.com/EWS/Exchange.asmx" }},
		{"NoPassword", func(c *ews.EWSConfig) { c.Password = "" }},
		{"BearerWithoutTokenSource", func(c *ews.EWSConfig) { c.Auth = ews.EWSAuthBearer }},
		{"UnknownAuth", func(c *ews.EWSConfig) { c.Auth = 42 }},
		{"ImpersonateWithoutMailbox", func(c *ews.EWSConfig) { c.Impersonate = true }},
		{"BadMailbox", func(c *ews.EWSConfig) { c.Mailbox = "not an address" }},
		{"UnknownVersion", func(c *ews.EWSConfig) { c.ServerVersion = "Exchange2003" }},
		{"NoFolders", func(c *ews.EWSConfig) { c.Folders = nil }},
		{"EmptyLevel", func(c *ews.EWSConfig) { c.Folders = []string{"Inbox//Phishing"} }},
		{"FolderTwice", func(c *ews.EWSConfig) { c.Folders = []string{"Inbox", "INBOX"} }},
		{"NothingProcessed", func(c *ews.EWSConfig) { c.Processed = ews.Disposition{} }},
		{"MoveToListedFolder", func(c *ews.EWSConfig) { c.Processed.MoveTo = "inbox" }},
		{"BlankCategory", func(c *ews.EWSConfig) { c.Processed.Category = " " }},
		{"ControlInCategory", func(c *ews.EWSConfig) { c.Quarantine.Category = "a\nb" }},
		{"PageSize", func(c *ews.EWSConfig) { c.PageSize = 5000 }},
		{"NegativeMaxConns", func(c *ews.EWSConfig) { c.MaxConns = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid
			tt.change(&c)
			mb, err := ews.NewEWS(c)
			if !errors.Is(err, ews.ErrInvalidConfig) || mb != nil {
				t.Fatalf("NewEWS = %v, %v; want ErrInvalidConfig", mb, err)
			}
			assertNoSecret(t, []string{"pw"}, strings.ReplaceAll(err.Error(), "Password", ""))
		})
	}
	if _, err := ews.NewEWS(valid); err != nil {
		t.Errorf("NewEWS(valid) = %v", err)
	}
}

func TestEWSConfigIsRedacted(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-Pa55word"
	c := ews.EWSConfig{
		URL: "https://mail.example.com/EWS/Exchange.asmx?token=" + secret, Username: `EXAMPLE\svc`, Password: secret,
		TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: secret}),
		Folders:     []string{"Inbox"}, Processed: ews.Disposition{MarkRead: true},
	}
	var logs syncBuffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "cfg", c)
	outputs := []string{fmt.Sprint(c), fmt.Sprintf("%+v %#v %s %q %x", c, c, c, c, c), logs.String()}
	assertNoSecret(t, []string{secret}, outputs...)
	if !strings.Contains(outputs[0], "Password:[REDACTED]") || !strings.Contains(logs.String(), "mail.example.com") {
		t.Errorf("String = %q, logs = %q; want the password redacted and the host named", outputs[0], logs.String())
	}
}

// TestEWSFolderRecreated deletes and recreates a listed folder between two
// listings: the remembered FolderId is stale, and the mailbox finds the
// folder again.
func TestEWSFolderRecreated(t *testing.T) {
	t.Parallel()
	f := newEWSFixture(t, func(c *ews.EWSConfig) { c.Folders = []string{"Inbox/Phishing"} })
	checkFolderRecreated(t, f.mb, f.srv.Exchange, ewstest.EWSSharedMailbox)
}

// TestEWSOverTLS reads a mailbox over HTTPS from a server whose
// certificate a private CA signed, with each authentication scheme.
func TestEWSOverTLS(t *testing.T) {
	t.Parallel()
	for _, auth := range []ews.EWSAuth{ews.EWSAuthBasic, ews.EWSAuthNTLM} {
		t.Run(auth.String(), func(t *testing.T) {
			t.Parallel()
			fake := ewstest.NewEWS()
			srv := httptest.NewTLSServer(fake.Handler())
			t.Cleanup(srv.Close)
			xchSeed(t, fake.Exchange, ewstest.EWSSharedMailbox, "Inbox", "a", 0, false)
			pool := x509.NewCertPool()
			pool.AddCert(srv.Certificate())
			cfg := ews.EWSConfig{
				URL: srv.URL + ewstest.EWSPath, Auth: auth, Username: ewstest.EWSUsername, Password: ewstest.EWSPassword,
				Mailbox: ewstest.EWSSharedMailbox, Folders: []string{"Inbox"}, Processed: ews.Disposition{MarkRead: true},
				TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			}
			mb, err := ews.NewEWS(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer mb.Close()
			ctx := t.Context()
			msgs := listAll(ctx, t, mb)
			if len(msgs) != 1 || len(readAll(ctx, t, mb, msgs[0])) == 0 {
				t.Fatalf("listed %d messages over TLS, want 1 with content", len(msgs))
			}
			// Without the CA, the certificate is refused, at once.
			cfg.TLSConfig = nil
			other, err := ews.NewEWS(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if _, err := listErr(ctx, other); err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Errorf("an untrusted certificate gave %v", err)
			}
		})
	}
}

// TestQuarantineLogsReason quarantines with each connector: the reason is
// logged, and a mailbox without a quarantine disposition refuses.
func TestQuarantineLogsReason(t *testing.T) {
	t.Parallel()
	type fixture struct {
		mb   ews.Mailbox
		logs *syncBuffer
		seed func()
	}
	build := map[string]func(t *testing.T, q ews.Disposition) fixture{
		"ews": func(t *testing.T, q ews.Disposition) fixture {
			f := newEWSFixture(t, func(c *ews.EWSConfig) { c.Quarantine = q })
			return fixture{f.mb, f.logs, func() { f.seed(t, "a", 0, false) }}
		},
		"graph": func(t *testing.T, q ews.Disposition) fixture {
			f := newGraphFixture(t, func(c *ews.GraphConfig) { c.Quarantine = q })
			return fixture{f.mb, f.logs, func() { f.seed(t, "a", 0, false) }}
		},
	}
	for name, newFixture := range build {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			f := newFixture(t, ews.Disposition{Category: "quarantine"})
			f.seed()
			msgs := listAll(ctx, t, f.mb)
			if err := f.mb.Quarantine(ctx, msgs[0], "failed 5 times: no body"); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(f.logs.String(), "failed 5 times: no body") {
				t.Errorf("the reason is not in the logs:\n%s", f.logs.String())
			}
			if left := listAll(ctx, t, f.mb); len(left) != 0 {
				t.Errorf("a quarantined message is still listed")
			}
			g := newFixture(t, ews.Disposition{})
			g.seed()
			msgs = listAll(ctx, t, g.mb)
			if err := g.mb.Quarantine(ctx, msgs[0], "x"); !errors.Is(err, ews.ErrInvalidConfig) {
				t.Errorf("Quarantine without a disposition: %v, want ErrInvalidConfig", err)
			}
		})
	}
}
