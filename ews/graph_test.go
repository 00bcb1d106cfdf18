package ews_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"

	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
)

// graphFixture is a fake Graph server with the mailbox's inbox and a
// Processed folder, and a mailbox reading it.
type graphFixture struct {
	srv   *ewstest.GraphServer
	mb    *ews.GraphMailbox
	cfg   ews.GraphConfig
	waits *waitRecorder
	logs  *syncBuffer
}

func newGraphFixture(t testing.TB, configure func(*ews.GraphConfig), opts ...ewstest.GraphOption) *graphFixture {
	t.Helper()
	f := &graphFixture{srv: ewstest.NewGraphServer(t, opts...), waits: &waitRecorder{}, logs: &syncBuffer{}}
	if _, err := f.srv.CreateFolder(ewstest.GraphMailbox, "Processed"); err != nil {
		t.Fatal(err)
	}
	f.cfg = ews.GraphConfig{
		TenantID:     ewstest.GraphTenantID,
		ClientID:     ewstest.GraphClientID,
		ClientSecret: ewstest.GraphClientSecret,
		TokenURL:     f.srv.TokenURL(),
		BaseURL:      f.srv.URL(),
		User:         ewstest.GraphMailbox,
		Folders:      []string{"Inbox"},
		Processed:    ews.Disposition{MarkRead: true},
		Logger:       slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if configure != nil {
		configure(&f.cfg)
	}
	f.mb = f.open(t)
	return f
}

func (f *graphFixture) open(t testing.TB) *ews.GraphMailbox {
	t.Helper()
	mb, err := ews.NewGraph(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ews.SetGraphRetryWait(mb, f.waits.wait)
	t.Cleanup(func() { _ = mb.Close() })
	return mb
}

func (f *graphFixture) seed(t testing.TB, key string, offset time.Duration, read bool, cats ...string) ewstest.ExchangeMessage {
	t.Helper()
	return xchSeed(t, f.srv.Exchange, ewstest.GraphMailbox, "Inbox", key, offset, read, cats...)
}

// TestGraphRequests pins the requests of a whole cycle: the token request,
// the folder lookups, the listing query, $value, the PATCH with If-Match
// and the move.
func TestGraphRequests(t *testing.T) {
	t.Parallel()
	fake := ewstest.NewGraph()
	rec, srv := startRecorded(t, fake.Handler())
	for _, p := range []string{"Inbox/Phishing", "Processed"} {
		if _, err := fake.CreateFolder(ewstest.GraphMailbox, p); err != nil {
			t.Fatal(err)
		}
	}
	xchSeed(t, fake.Exchange, ewstest.GraphMailbox, "Inbox/Phishing", "a", 0, false, "Triage")
	mb, err := ews.NewGraph(ews.GraphConfig{
		TenantID: ewstest.GraphTenantID, ClientID: ewstest.GraphClientID, ClientSecret: ewstest.GraphClientSecret,
		TokenURL: srv.URL + "/" + ewstest.GraphTenantID + "/oauth2/v2.0/token", BaseURL: srv.URL + "/v1.0",
		User: ewstest.GraphMailbox, Folders: []string{"Inbox/Phishing"},
		Processed:  ews.Disposition{Category: "synapse", MarkRead: true, MoveTo: "Processed"},
		Quarantine: ews.Disposition{Category: "quarantine"},
		PageSize:   25,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	msgs := listAll(ctx, t, mb)
	if len(msgs) != 1 {
		t.Fatalf("listed %d messages, want 1", len(msgs))
	}
	readAll(ctx, t, mb, msgs[0])
	if err := mb.MarkProcessed(ctx, msgs[0]); err != nil {
		t.Fatal(err)
	}

	reqs := rec.requests()
	type req struct{ Method, Path, Query, Body, IfMatch string }
	var got []req
	ids := map[string]string{}
	name := func(id string) string {
		if id == "" {
			return ""
		}
		if _, ok := ids[id]; !ok {
			ids[id] = fmt.Sprintf("{id%d}", len(ids)+1)
		}
		return ids[id]
	}
	for _, r := range reqs[1:] {
		// Replace the random ids by names given in order of appearance.
		p := r.Path
		for _, seg := range strings.Split(p, "/") {
			if len(seg) > 30 {
				p = strings.Replace(p, seg, name(seg), 1)
			}
		}
		q, _ := url.QueryUnescape(r.Query)
		body := r.Body
		var js map[string]any
		if json.Unmarshal([]byte(body), &js) == nil {
			if d, ok := js["destinationId"].(string); ok {
				body = strings.Replace(body, d, name(d), 1)
			}
		}
		ifMatch := r.Header.Get("If-Match")
		if ifMatch != "" {
			ifMatch = `W/"…"`
		}
		got = append(got, req{r.Method, p, q, body, ifMatch})
		if a := r.Header.Get("Authorization"); !strings.HasPrefix(a, "Bearer eyJ") {
			t.Errorf("%s %s: Authorization %q, want a bearer token", r.Method, r.Path, a)
		}
	}
	const u = "/v1.0/users/soc@example.com"
	want := []req{
		{"GET", u + "/mailFolders/inbox", "$select=id,displayName", "", ""},
		{"GET", u + "/mailFolders/{id1}/childFolders", "$filter=displayName eq 'Phishing'&$select=id,displayName", "", ""},
		{"GET", u + "/mailFolders/{id2}/messages", "$filter=receivedDateTime ge 1900-01-01T00:00:00Z and " +
			"not(categories/any(c:c eq 'synapse')) and not(categories/any(c:c eq 'quarantine'))" +
			"&$orderby=receivedDateTime asc&$select=id,subject,receivedDateTime,internetMessageId,conversationId,categories&$top=25", "", ""},
		{"GET", u + "/messages/{id3}/$value", "", "", ""},
		{"GET", u + "/messages/{id3}", "$select=id,isRead,categories,parentFolderId,internetMessageId", "", ""},
		{"PATCH", u + "/messages/{id3}", "", `{"categories":["Triage","synapse"],"isRead":true}`, `W/"…"`},
		{"GET", u + "/mailFolders", "$filter=displayName eq 'Processed'&$select=id,displayName", "", ""},
		{"POST", u + "/messages/{id3}/move", "", `{"destinationId":"{id4}"}`, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests mismatch (-want +got):\n%s", diff)
	}
	tok := reqs[0]
	form, _ := url.ParseQuery(tok.Body)
	wantForm := url.Values{"grant_type": {"client_credentials"}, "scope": {"https://graph.microsoft.com/.default"},
		"client_id": {ewstest.GraphClientID}, "client_secret": {ewstest.GraphClientSecret}}
	if tok.Method != "POST" || tok.Path != "/"+ewstest.GraphTenantID+"/oauth2/v2.0/token" || !cmp.Equal(wantForm, form) {
		t.Errorf("token request %s %s with form keys %v, want POST to the tenant's token endpoint with %v",
			tok.Method, tok.Path, formKeys(form), formKeys(wantForm))
	}
}

// formKeys lists a form's keys, so that a failure does not print the
// secret.
func formKeys(v url.Values) []string {
	var out []string
	for k := range v {
		out = append(out, k)
	}
	return out
}

func TestGraphListsMessageFields(t *testing.T) {
	t.Parallel()
	f := newGraphFixture(t, func(c *ews.GraphConfig) { c.PageSize = 2 })
	b := f.seed(t, "b", time.Hour, false, "Phishing", "Triage")
	a := f.seed(t, "a", 0, false)
	f.seed(t, "c", 2*time.Hour, true)
	ctx := t.Context()
	got := listAll(ctx, t, f.mb)
	want := []ews.Message{
		{ID: ews.MessageID(ewstest.GraphID(a.ID)), Folder: "Inbox", ConversationID: ewstest.GraphID(a.ConversationID),
			InternetMessageID: "<a@test>", Subject: "Report a", Categories: []string{}, Size: -1, Received: xchBase},
		{ID: ews.MessageID(ewstest.GraphID(b.ID)), Folder: "Inbox", ConversationID: ewstest.GraphID(b.ConversationID),
			InternetMessageID: "<b@test>", Subject: "Report b", Categories: []string{"Phishing", "Triage"}, Size: -1, Received: xchBase.Add(time.Hour)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Messages mismatch (-want +got):\n%s", diff)
	}
	if got, want := string(readAll(ctx, t, f.mb, got[0])), string(a.Raw); got != want {
		t.Errorf("Open returned %q, want %q", got, want)
	}
}

// TestGraphListsTiesOnce is TestEWSListsTiesOnce for Graph: pages of
// messages received in one second are walked with the server's
// @odata.nextLink once everything on a page was listed.
func TestGraphListsTiesOnce(t *testing.T) {
	t.Parallel()
	for _, mark := range []bool{false, true} {
		t.Run(fmt.Sprintf("mark=%t", mark), func(t *testing.T) {
			t.Parallel()
			f := newGraphFixture(t, func(c *ews.GraphConfig) { c.PageSize = 2 })
			checkListsTiesOnce(t, f.mb, func(key string, offset time.Duration) { f.seed(t, key, offset, false) }, mark)
		})
	}
}

// TestGraphThrottling answers the first two listing requests with 429, 503
// and 504, and checks that the listing succeeds after waiting at least
// the Retry-After, including a decimal one.
func TestGraphThrottling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fault    ewstest.GraphFault
		wantWait time.Duration
	}{
		{"TooManyRequests", ewstest.GraphFault{Kind: ewstest.GraphThrottled, RetryAfter: 2 * time.Second}, 2 * time.Second},
		{"TooManyRequestsDecimal", ewstest.GraphFault{Kind: ewstest.GraphThrottled, RetryAfter: 2128 * time.Millisecond}, 2128 * time.Millisecond},
		{"ServiceUnavailable", ewstest.GraphFault{Kind: ewstest.GraphServiceUnavailable, RetryAfter: 3 * time.Second}, 3 * time.Second},
		{"ServiceUnavailableNoRetryAfter", ewstest.GraphFault{Kind: ewstest.GraphServiceUnavailable}, 0},
		{"GatewayTimeout", ewstest.GraphFault{Kind: ewstest.GraphGatewayTimeout}, 0},
		{"DropConnection", ewstest.GraphFault{Kind: ewstest.GraphDropConnection}, 0},
	}
	const route = "GET /users/{id}/mailFolders/{id}/messages"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newGraphFixture(t, nil)
			f.seed(t, "a", 0, false)
			ctx := t.Context()
			listAll(ctx, t, f.mb)
			tt.fault.Route, tt.fault.Count = route, 2
			f.srv.InjectFault(tt.fault)
			msgs, err := listErr(ctx, f.mb)
			if err != nil || len(msgs) != 1 {
				t.Fatalf("Messages = %d messages, %v; want the message after retries", len(msgs), err)
			}
			waits := f.waits.all()
			// net/http itself resends a GET whose reused connection was
			// closed, so a dropped connection may need no wait of ours.
			if len(waits) != 2 && (tt.fault.Kind != ewstest.GraphDropConnection || len(waits) > 2) {
				t.Fatalf("waited %d times (%v), want 2", len(waits), waits)
			}
			for _, w := range waits {
				if w < tt.wantWait || w <= 0 {
					t.Errorf("waited %v, want at least %v", w, max(tt.wantWait, time.Nanosecond))
				}
			}
			if got := f.srv.Requests(route); got != 4 {
				t.Errorf("%s requests = %d, want 4", route, got)
			}
		})
	}
}

func TestGraphThrottlingLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter time.Duration
		count      int
		maxRetries int
		deadline   time.Duration
		wantWaits  int
		wantReqs   int
	}{
		{"LongerThanMaxRetryWait", 10 * time.Minute, 1, 0, 0, 0, 1},
		{"LongerThanDeadline", 30 * time.Second, 1, 0, 10 * time.Second, 0, 1},
		{"RetriesExhausted", time.Second, 10, 2, 0, 2, 3},
	}
	const route = "GET /users/{id}/mailFolders/{id}"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newGraphFixture(t, func(c *ews.GraphConfig) { c.MaxRetries = tt.maxRetries })
			ctx := t.Context()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			f.srv.InjectFault(ewstest.GraphFault{Route: route, Kind: ewstest.GraphThrottled, RetryAfter: tt.retryAfter, Count: tt.count})
			_, err := listErr(ctx, f.mb)
			var se *ews.ServerError
			if !errors.Is(err, ews.ErrThrottled) || !errors.As(err, &se) {
				t.Fatalf("error = %v, want one matching ErrThrottled with a *ServerError", err)
			}
			if se.Code != "ApplicationThrottled" || se.RetryAfter != tt.retryAfter || se.StatusCode != 429 {
				t.Errorf("ServerError = %+v, want ApplicationThrottled, 429, RetryAfter %v", se, tt.retryAfter)
			}
			if got := len(f.waits.all()); got != tt.wantWaits {
				t.Errorf("waited %d times, want %d", got, tt.wantWaits)
			}
			if got := f.srv.Requests(route); got != tt.wantReqs {
				t.Errorf("%s requests = %d, want %d", route, got, tt.wantReqs)
			}
		})
	}
}

// TestGraphTokens checks the token's life: refused credentials, and a
// token the server stops accepting, which is refreshed once.
func TestGraphTokens(t *testing.T) {
	t.Parallel()
	t.Run("WrongSecret", func(t *testing.T) {
		t.Parallel()
		f := newGraphFixture(t, func(c *ews.GraphConfig) { c.ClientSecret = "wrong" })
		_, err := listErr(t.Context(), f.mb)
		var se *ews.ServerError
		if !errors.Is(err, ews.ErrAuth) || !errors.As(err, &se) || se.Code != "invalid_client" || se.StatusCode != 401 {
			t.Fatalf("error = %v, want ErrAuth with invalid_client, 401", err)
		}
		if !strings.Contains(se.Message, "AADSTS7000215") {
			t.Errorf("message %q does not give the AADSTS code", se.Message)
		}
	})
	t.Run("UnknownTenant", func(t *testing.T) {
		t.Parallel()
		f := newGraphFixture(t, func(c *ews.GraphConfig) {
			c.TokenURL = strings.Replace(c.TokenURL, ewstest.GraphTenantID, "contoso.example", 1)
		})
		_, err := listErr(t.Context(), f.mb)
		var se *ews.ServerError
		if !errors.Is(err, ews.ErrAuth) || !errors.As(err, &se) || se.Code != "invalid_request" || se.StatusCode != 400 {
			t.Fatalf("error = %v, want ErrAuth with invalid_request, 400", err)
		}
	})
	t.Run("ExpiredTokenIsRefreshed", func(t *testing.T) {
		t.Parallel()
		f := newGraphFixture(t, nil)
		f.seed(t, "a", 0, false)
		ctx := t.Context()
		listAll(ctx, t, f.mb)
		f.srv.ExpireTokens()
		if msgs := listAll(ctx, t, f.mb); len(msgs) != 1 {
			t.Fatalf("listed %d messages after the token expired, want 1", len(msgs))
		}
		if got := f.srv.Requests("POST /token"); got != 2 {
			t.Errorf("token requests = %d, want 2", got)
		}
	})
	t.Run("TokenSource", func(t *testing.T) {
		t.Parallel()
		f := newGraphFixture(t, func(c *ews.GraphConfig) {
			c.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "header.payload.signature"})
		})
		_, err := listErr(t.Context(), f.mb)
		var se *ews.ServerError
		if !errors.Is(err, ews.ErrAuth) || !errors.As(err, &se) || se.Code != "InvalidAuthenticationToken" {
			t.Fatalf("error = %v, want ErrAuth with InvalidAuthenticationToken", err)
		}
		if got := f.srv.Requests("POST /token"); got != 0 {
			t.Errorf("token requests = %d, want none with a TokenSource", got)
		}
	})
}

// TestGraphRefusals checks the errors of an app that may not do what it
// asks.
func TestGraphRefusals(t *testing.T) {
	t.Parallel()
	const id, secret = "0a0a0a0a-1111-2222-3333-444444444444", "reader-secret"
	tests := []struct {
		name     string
		app      ewstest.GraphApp
		user     string
		wantCode string
		wantKind error
		mark     bool
	}{
		{"AccessPolicy", ewstest.GraphApp{ClientID: id, Secret: secret, Mailboxes: []string{"other@example.com"}}, ewstest.GraphMailbox, "ErrorAccessDenied", ews.ErrAuth, false},
		{"ReadOnlyApp", ewstest.GraphApp{ClientID: id, Secret: secret, Roles: []string{"Mail.Read"}}, ewstest.GraphMailbox, "ErrorAccessDenied", ews.ErrAuth, true},
		{"UnknownUser", ewstest.GraphApp{ClientID: id, Secret: secret}, "nobody@example.com", "ErrorInvalidUser", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newGraphFixture(t, func(c *ews.GraphConfig) { c.ClientID, c.ClientSecret, c.User = id, secret, tt.user }, ewstest.WithGraphApp(tt.app))
			f.seed(t, "a", 0, false)
			ctx := t.Context()
			msgs, err := listErr(ctx, f.mb)
			if tt.mark {
				if err != nil {
					t.Fatal(err)
				}
				err = f.mb.MarkProcessed(ctx, msgs[0])
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

// TestGraphMailboxConcurrency runs sixteen workers against a server that
// refuses more than four requests at once per mailbox: the mailbox keeps
// to the limit, and a refusal that still happens (a message still
// streaming on the server's side) is retried.
func TestGraphMailboxConcurrency(t *testing.T) {
	t.Parallel()
	f := newGraphFixture(t, nil, ewstest.WithGraphMailboxConcurrency(4, time.Second))
	for i := range 20 {
		f.seed(t, fmt.Sprintf("m%02d", i), time.Duration(i)*time.Second, false)
	}
	ctx := t.Context()
	msgs := listAll(ctx, t, f.mb)
	var wg sync.WaitGroup
	errs := make(chan error, len(msgs))
	work := make(chan ews.Message)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range work {
				rc, err := f.mb.Open(ctx, m)
				if err == nil {
					_, err = io.Copy(io.Discard, rc)
					rc.Close()
				}
				if err == nil {
					err = f.mb.MarkProcessed(ctx, m)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, m := range msgs {
		work <- m
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if left := listAll(ctx, t, f.mb); len(left) != 0 {
		t.Errorf("%d messages left unprocessed", len(left))
	}
}

func TestGraphMoveAnswerLost(t *testing.T) {
	t.Parallel()
	f := newGraphFixture(t, func(c *ews.GraphConfig) { c.Processed = ews.Disposition{Category: "done", MoveTo: "Processed"} })
	f.seed(t, "a", 0, false)
	ctx := t.Context()
	msgs := listAll(ctx, t, f.mb)
	const route = "POST /users/{id}/messages/{id}/move"
	f.srv.InjectFault(ewstest.GraphFault{Route: route, Kind: ewstest.GraphDropAfterApply})
	if err := f.mb.MarkProcessed(ctx, msgs[0]); err != nil {
		t.Fatalf("MarkProcessed: %v", err)
	}
	if err := f.open(t).MarkProcessed(ctx, msgs[0]); err != nil {
		t.Fatalf("MarkProcessed from a new mailbox: %v", err)
	}
	inbox, _ := f.srv.Messages(ewstest.GraphMailbox, "Inbox")
	done, _ := f.srv.Messages(ewstest.GraphMailbox, "Processed")
	if len(inbox) != 0 || len(done) != 1 || !cmp.Equal(done[0].Categories, []string{"done"}) {
		t.Errorf("inbox holds %d messages, Processed %v; want the message moved once with its category", len(inbox), done)
	}
	if got := f.srv.Requests(route); got != 1 {
		t.Errorf("move requests = %d, want 1", got)
	}
}

// TestGraphNextLinkToAnotherHost serves a page whose @odata.nextLink
// points to another server: the mailbox refuses to send its token there.
func TestGraphNextLinkToAnotherHost(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var evil int
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		mu.Lock()
		evil++
		mu.Unlock()
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/token"):
			fmt.Fprint(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"a.b.c"}`)
		case strings.HasSuffix(r.URL.Path, "/mailFolders/inbox"):
			fmt.Fprint(w, `{"id":"AQMkAGI2"}`)
		default:
			fmt.Fprintf(w, `{"value":[{"id":"AAMkAGI2","receivedDateTime":"2026-03-02T09:14:07Z"}],"@odata.nextLink":"%s/v1.0/users/x/messages?$skip=1"}`, other.URL)
		}
	}))
	defer srv.Close()
	mb, err := ews.NewGraph(ews.GraphConfig{
		TenantID: "t", ClientID: "c", ClientSecret: "s", TokenURL: srv.URL + "/t/oauth2/v2.0/token", BaseURL: srv.URL + "/v1.0",
		User: "soc@example.com", Folders: []string{"Inbox"}, Processed: ews.Disposition{MarkRead: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := listErr(t.Context(), mb)
	if len(msgs) != 1 || err == nil || !strings.Contains(err.Error(), "another server") {
		t.Fatalf("Messages = %d, %v; want the first message, then a refused nextLink", len(msgs), err)
	}
	if evil != 0 {
		t.Error("the mailbox followed the link to another server")
	}
}

// TestGraphErrorsHoldNoSecret fails with each credential problem and
// debug logging on: neither the client secret nor an access token reaches
// an error or a log line.
func TestGraphErrorsHoldNoSecret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		configure func(*ews.GraphConfig)
		expire    bool
	}{
		{"WrongSecret", func(c *ews.GraphConfig) { c.ClientSecret = "Wrong-" + ewstest.GraphClientSecret }, false},
		{"MissingFolder", func(c *ews.GraphConfig) { c.Folders = []string{"Inbox/Nowhere"} }, false},
		{"ExpiredToken", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newGraphFixture(t, tt.configure)
			ctx := t.Context()
			var outputs []string
			if tt.expire {
				f.seed(t, "a", 0, false)
				listAll(ctx, t, f.mb)
				f.srv.ExpireTokens()
				listAll(ctx, t, f.mb)
			} else {
				_, err := listErr(ctx, f.mb)
				if err == nil {
					t.Fatal("Messages succeeded")
				}
				outputs = append(outputs, err.Error(), fmt.Sprintf("%+v %#v", err, err))
				host := strings.TrimPrefix(f.srv.URL(), "http://")
				host = host[:strings.IndexByte(host, '/')]
				for _, want := range []string{"graph", host, `"` + f.cfg.Folders[0] + `"`} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not name %q", err, want)
					}
				}
			}
			outputs = append(outputs, f.logs.String(), fmt.Sprintf("%v %+v %#v", f.cfg, f.cfg, f.cfg), fmt.Sprint(f.mb))
			// Issued tokens are JWT-shaped: they start with the header {"typ":"JWT".
			assertNoSecret(t, []string{ewstest.GraphClientSecret, "eyJ0eXAi"}, outputs...)
		})
	}
}

func TestGraphConfigErrors(t *testing.T) {
	t.Parallel()
	valid := ews.GraphConfig{
		TenantID: "contoso.onmicrosoft.com", ClientID: "c", ClientSecret: "s3cret",
		User: "soc@contoso.com", Folders: []string{"Inbox"}, Processed: ews.Disposition{Category: "Done"},
	}
	tests := []struct {
		name   string
		change func(*ews.GraphConfig)
	}{
		{"NoTenant", func(c *ews.GraphConfig) { c.TenantID = "" }},
		{"BadTenant", func(c *ews.GraphConfig) { c.TenantID = "a/b" }},
		{"NoClientID", func(c *ews.GraphConfig) { c.ClientID = "" }},
		{"NoSecret", func(c *ews.GraphConfig) { c.ClientSecret = "" }},
		{"BadTokenURL", func(c *ews.GraphConfig) { c.TokenURL = "login.example.com/token" }},
		{"NoUser", func(c *ews.GraphConfig) { c.User = "" }},
		{"BadUser", func(c *ews.GraphConfig) { c.User = "a/../b" }},
		{"BadBaseURL", func(c *ews.GraphConfig) { c.BaseURL = "ftp://graph.example.com" }},
		{"NoFolders", func(c *ews.GraphConfig) { c.Folders = nil }},
		{"NothingProcessed", func(c *ews.GraphConfig) { c.Processed = ews.Disposition{} }},
		{"PageSize", func(c *ews.GraphConfig) { c.PageSize = -1 }},
		{"MaxConcurrency", func(c *ews.GraphConfig) { c.MaxConcurrency = -4 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid
			tt.change(&c)
			mb, err := ews.NewGraph(c)
			if !errors.Is(err, ews.ErrInvalidConfig) || mb != nil {
				t.Fatalf("NewGraph = %v, %v; want ErrInvalidConfig", mb, err)
			}
			assertNoSecret(t, []string{"s3cret"}, err.Error())
		})
	}
	if _, err := ews.NewGraph(valid); err != nil {
		t.Errorf("NewGraph(valid) = %v", err)
	}
	c := valid
	c.TenantID, c.ClientID, c.ClientSecret = "", "", ""
	c.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"})
	if _, err := ews.NewGraph(c); err != nil {
		t.Errorf("NewGraph with a TokenSource = %v", err)
	}
}

func TestGraphConfigIsRedacted(t *testing.T) {
	t.Parallel()
	const secret = "Gr4ph-Cl1ent-S3cret"
	c := ews.GraphConfig{TenantID: "contoso.onmicrosoft.com", ClientID: "c", ClientSecret: secret, User: "soc@contoso.com",
		TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: secret})}
	var logs syncBuffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "cfg", c)
	outputs := []string{fmt.Sprint(c), fmt.Sprintf("%+v %#v %s %q %x", c, c, c, c, c), logs.String()}
	assertNoSecret(t, []string{secret}, outputs...)
	if !strings.Contains(outputs[0], "ClientSecret:[REDACTED]") {
		t.Errorf("String = %q, want the secret redacted", outputs[0])
	}
}

// TestGraphOpenLargeHeap streams a 50 MB message from $value and measures
// the heap. It does not run in parallel.
func TestGraphOpenLargeHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the 50 MB message in -short mode")
	}
	f := newGraphFixture(t, nil)
	checkOpenLargeHeap(t, f.mb, f.srv.Exchange, ewstest.GraphMailbox)
}

// BenchmarkGraphOpen streams an 8 MB message from the fake Graph server.
func BenchmarkGraphOpen(b *testing.B) {
	f := newGraphFixture(b, nil)
	benchmarkOpen(b, f.mb, f.srv.Exchange, ewstest.GraphMailbox)
}

func TestGraphFolderRecreated(t *testing.T) {
	t.Parallel()
	f := newGraphFixture(t, func(c *ews.GraphConfig) { c.Folders = []string{"Inbox/Phishing"} })
	checkFolderRecreated(t, f.mb, f.srv.Exchange, ewstest.GraphMailbox)
}

// TestGraphOverTLS talks to Graph and the token endpoint over HTTPS with a
// private CA.
func TestGraphOverTLS(t *testing.T) {
	t.Parallel()
	fake := ewstest.NewGraph()
	srv := httptest.NewTLSServer(fake.Handler())
	t.Cleanup(srv.Close)
	xchSeed(t, fake.Exchange, ewstest.GraphMailbox, "Inbox", "a", 0, false)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	cfg := ews.GraphConfig{
		TenantID: ewstest.GraphTenantID, ClientID: ewstest.GraphClientID, ClientSecret: ewstest.GraphClientSecret,
		TokenURL: srv.URL + "/" + ewstest.GraphTenantID + "/oauth2/v2.0/token", BaseURL: srv.URL + "/v1.0",
		User: ewstest.GraphMailbox, Folders: []string{"Inbox"}, Processed: ews.Disposition{MarkRead: true},
		TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}
	mb, err := ews.NewGraph(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	ctx := t.Context()
	msgs := listAll(ctx, t, mb)
	if len(msgs) != 1 || len(readAll(ctx, t, mb, msgs[0])) == 0 {
		t.Fatalf("listed %d messages over TLS, want 1 with content", len(msgs))
	}
	cfg.TLSConfig = nil
	other, err := ews.NewGraph(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := listErr(ctx, other); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an untrusted certificate gave %v", err)
	}
}
