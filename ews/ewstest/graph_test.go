package ewstest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// tokenRequest posts a token request and returns the status and JSON
// answer.
func tokenRequest(t *testing.T, s *GraphServer, tenant string, form url.Values, basicID, basicSecret string) (int, map[string]any) {
	t.Helper()
	u := strings.Replace(s.TokenURL(), GraphTenantID, tenant, 1)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func TestGraphFakeTokenEndpoint(t *testing.T) {
	t.Parallel()
	s := NewGraphServer(t)
	form := func(kv ...string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}, "scope": {"https://graph.microsoft.com/.default"},
			"client_id": {GraphClientID}, "client_secret": {GraphClientSecret}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	tests := []struct {
		name       string
		tenant     string
		form       url.Values
		basic      bool
		wantStatus int
		wantError  string
		wantCode   float64
	}{
		{name: "SecretInForm", tenant: GraphTenantID, form: form(), wantStatus: 200},
		{name: "SecretInBasic", tenant: GraphTenantDomain, form: form("client_id", "", "client_secret", ""), basic: true, wantStatus: 200},
		{name: "WrongSecret", tenant: GraphTenantID, form: form("client_secret", "nope"), wantStatus: 401, wantError: "invalid_client", wantCode: 7000215},
		{name: "UnknownClient", tenant: GraphTenantID, form: form("client_id", "00000000-0000-0000-0000-000000000000"), wantStatus: 400, wantError: "unauthorized_client", wantCode: 700016},
		{name: "ScopeWithoutDefault", tenant: GraphTenantID, form: form("scope", "https://graph.microsoft.com/Mail.Read"), wantStatus: 400, wantError: "invalid_scope", wantCode: 1002012},
		{name: "NoScope", tenant: GraphTenantID, form: form("scope", ""), wantStatus: 400, wantError: "invalid_request", wantCode: 900144},
		{name: "OtherGrant", tenant: GraphTenantID, form: form("grant_type", "password"), wantStatus: 400, wantError: "unsupported_grant_type", wantCode: 70003},
		{name: "UnknownTenant", tenant: "contoso.example", form: form(), wantStatus: 400, wantError: "invalid_request", wantCode: 90002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, secret := "", ""
			if tt.basic {
				id, secret = GraphClientID, GraphClientSecret
			}
			status, got := tokenRequest(t, s, tt.tenant, tt.form, id, secret)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %v", status, tt.wantStatus, got)
			}
			if tt.wantError == "" {
				if got["token_type"] != "Bearer" || got["expires_in"] != float64(3599) || got["ext_expires_in"] != float64(3599) || got["access_token"] == "" {
					t.Errorf("token answer %v", got)
				}
				return
			}
			desc, _ := got["error_description"].(string)
			if got["error"] != tt.wantError || !strings.HasPrefix(desc, fmt.Sprintf("AADSTS%d: ", int(tt.wantCode))) ||
				!cmp.Equal(got["error_codes"], []any{tt.wantCode}) || got["trace_id"] == nil || got["correlation_id"] == nil ||
				got["timestamp"] == nil || got["error_uri"] == nil {
				t.Errorf("error answer %v, want %s with AADSTS%d", got, tt.wantError, int(tt.wantCode))
			}
		})
	}
	// Go's own client, probing the authentication style.
	cc := clientcredentials.Config{ClientID: GraphClientID, ClientSecret: GraphClientSecret, TokenURL: s.TokenURL(),
		Scopes: []string{"https://graph.microsoft.com/.default"}}
	if tok, err := cc.Token(t.Context()); err != nil || !tok.Valid() {
		t.Errorf("x/oauth2 client credentials: %v, %v", tok, err)
	}
}

// graphCall sends a Graph request with a token from the fake and returns
// the status, headers and body.
func graphCall(t *testing.T, s *GraphServer, method, path string, body any, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequestWithContext(t.Context(), method, s.URL()+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if req.Header.Get("Authorization") == "" {
		cc := clientcredentials.Config{ClientID: GraphClientID, ClientSecret: GraphClientSecret, TokenURL: s.TokenURL(),
			Scopes: []string{"https://graph.microsoft.com/.default"}, AuthStyle: oauth2.AuthStyleInParams}
		tok, err := cc.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// graphErr decodes Graph's error body.
func graphErr(t *testing.T, b []byte) (code, msg string) {
	t.Helper()
	var e struct {
		Error struct {
			Code       string         `json:"code"`
			Message    string         `json:"message"`
			InnerError map[string]any `json:"innerError"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("not a Graph error body: %s", b)
	}
	if e.Error.InnerError["request-id"] == nil || e.Error.InnerError["date"] == nil {
		t.Errorf("innerError lacks request-id or date: %s", b)
	}
	return e.Error.Code, e.Error.Message
}

func TestGraphFakeErrors(t *testing.T) {
	t.Parallel()
	s := NewGraphServer(t)
	msg, err := s.AddMessage(GraphMailbox, "Inbox", ExchangeMessage{Raw: []byte("Subject: x\r\nMessage-ID: <x@y>\r\n\r\nx")})
	if err != nil {
		t.Fatal(err)
	}
	id := GraphID(msg.ID)
	const u = "/users/" + GraphMailbox
	tests := []struct {
		name, method, path string
		body               any
		hdr                []string
		wantStatus         int
		wantCode, wantMsg  string
	}{
		{"NoToken", "GET", u + "/messages", nil, []string{"Authorization", "Bearer"}, 401, "InvalidAuthenticationToken", "Access token is empty."},
		{"GarbledToken", "GET", u + "/messages", nil, []string{"Authorization", "Bearer abc"}, 401, "InvalidAuthenticationToken", "IDX14100"},
		{"Me", "GET", "/me/messages", nil, nil, 400, "BadRequest", "/me request is only valid with delegated authentication flow."},
		{"UnknownUser", "GET", "/users/nobody@example.com/messages", nil, nil, 404, "ErrorInvalidUser", "The requested user 'nobody@example.com' is invalid."},
		{"UnknownSegment", "GET", u + "/mailFolders/inbox/widgets", nil, nil, 400, "BadRequest", "Resource not found for the segment 'widgets'."},
		{"MalformedID", "GET", u + "/messages/not-an-id", nil, nil, 400, "ErrorInvalidIdMalformed", "Id is malformed."},
		{"UnknownFolder", "GET", u + "/mailFolders/" + GraphID(strings.Replace(msg.ID, "AAMk", "AQMk", 1)) + "/messages", nil, nil, 404, "ErrorItemNotFound", "The specified object was not found in the store."},
		{"UnknownProperty", "GET", u + "/messages?$filter=" + url.QueryEscape("colour eq 'red'"), nil, nil, 400, "BadRequest", "Could not find a property named 'colour' on type 'microsoft.graph.message'."},
		{"BadFilter", "GET", u + "/messages?$filter=" + url.QueryEscape("isRead eq"), nil, nil, 400, "BadRequest", "Invalid filter clause"},
		{"InefficientFilter", "GET", u + "/mailFolders/inbox/messages?$filter=" + url.QueryEscape("isRead eq false and receivedDateTime ge 2020-01-01T00:00:00Z") +
			"&$orderby=" + url.QueryEscape("receivedDateTime asc"), nil, nil, 400, "InefficientFilter", "The restriction or sort order is too complex for this operation."},
		{"UnknownSelect", "GET", u + "/messages/" + id + "?$select=colour", nil, nil, 400, "RequestBroker--ParseUri", "Could not find a property named 'colour' on type 'microsoft.graph.message'."},
		{"PatchUnknownProperty", "PATCH", u + "/messages/" + id, map[string]any{"colour": "red"}, nil, 400, "RequestBodyRead", "The property 'colour' does not exist on type 'microsoft.graph.message'."},
		{"PatchStaleETag", "PATCH", u + "/messages/" + id, map[string]any{"isRead": true}, []string{"If-Match", `W/"CQAAAA=="`}, 412, "ErrorIrresolvableConflict", "change key"},
		{"MoveNowhere", "POST", u + "/messages/" + id + "/move", map[string]any{"destinationId": ""}, nil, 400, "ErrorInvalidIdMalformed", "Id is malformed."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, h, b := graphCall(t, s, tt.method, tt.path, tt.body, append(tt.hdr, "client-request-id", "0f0f0f0f-aaaa-bbbb-cccc-000000000001")...)
			code, msg := graphErr(t, b)
			if status != tt.wantStatus || code != tt.wantCode || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("%d %s %q, want %d %s %q", status, code, msg, tt.wantStatus, tt.wantCode, tt.wantMsg)
			}
			if h.Get("request-id") == "" || h.Get("client-request-id") != "0f0f0f0f-aaaa-bbbb-cccc-000000000001" {
				t.Errorf("headers request-id %q client-request-id %q", h.Get("request-id"), h.Get("client-request-id"))
			}
			if status == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("401 without a Bearer challenge: %q", h.Get("WWW-Authenticate"))
			}
		})
	}
}

// TestGraphFakeMessages walks folders, lists with the OData options and
// @odata.nextLink, reads $value, patches and moves.
func TestGraphFakeMessages(t *testing.T) {
	t.Parallel()
	s := NewGraphServer(t)
	if _, err := s.CreateFolder(GraphMailbox, "Inbox/Phishing"); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var raws [][]byte
	for i := range 5 {
		raw := []byte(fmt.Sprintf("From: Reporter <r@example.com>\r\nSubject: Report %d\r\nMessage-ID: <m%d@example.com>\r\n\r\nBody\r\n", i, i))
		raws = append(raws, raw)
		cats := []string{}
		if i%2 == 1 {
			cats = []string{"Done"}
		}
		if _, err := s.AddMessage(GraphMailbox, "Inbox/Phishing", ExchangeMessage{Raw: raw, Received: base.Add(time.Duration(4-i) * time.Minute), Categories: cats}); err != nil {
			t.Fatal(err)
		}
	}
	const u = "/users/" + GraphMailbox
	get := func(p string, out any) {
		t.Helper()
		status, _, b := graphCall(t, s, "GET", p, nil)
		if status != 200 {
			t.Fatalf("GET %s: %d %s", p, status, b)
		}
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
	type folder struct {
		ID, DisplayName, ParentFolderID  string
		ChildFolderCount, TotalItemCount int
	}
	var top struct{ Value []folder }
	get(u+"/mailFolders?$top=50", &top)
	var names []string
	for _, f := range top.Value {
		names = append(names, f.DisplayName)
	}
	if diff := cmp.Diff([]string{"Inbox", "Drafts", "Sent Items", "Deleted Items", "Junk Email", "Outbox", "Archive"}, names); diff != "" {
		t.Errorf("top-level mail folders mismatch (-want +got):\n%s", diff)
	}
	var inbox folder
	get(u+"/mailFolders/Inbox", &inbox)
	var children struct{ Value []folder }
	get(u+"/mailFolders/"+inbox.ID+"/childFolders?$filter="+url.QueryEscape("displayName eq 'phishing'"), &children)
	if len(children.Value) != 1 || children.Value[0].TotalItemCount != 5 || children.Value[0].ParentFolderID != inbox.ID {
		t.Fatalf("childFolders = %+v", children.Value)
	}
	phishing := children.Value[0].ID

	// Oldest first without the category, two per page.
	type message struct {
		ETag       string `json:"@odata.etag"`
		ID         string
		Subject    string
		IsRead     *bool
		Categories []string
	}
	type page struct {
		Value    []message
		NextLink string `json:"@odata.nextLink"`
	}
	q := url.Values{"$filter": {"receivedDateTime ge 2026-01-01T00:00:00Z and not(categories/any(c:c eq 'done'))"},
		"$orderby": {"receivedDateTime asc"}, "$select": {"subject"}, "$top": {"2"}}
	var subjects []string
	var first message
	link := s.URL() + u + "/mailFolders/" + phishing + "/messages?" + q.Encode()
	for link != "" {
		var p page
		get(strings.TrimPrefix(link, s.URL()), &p)
		for _, m := range p.Value {
			if m.ID == "" || m.ETag == "" || m.IsRead != nil {
				t.Errorf("$select=subject gave %+v, want id, @odata.etag and subject only", m)
			}
			if first.ID == "" {
				first = m
			}
			subjects = append(subjects, m.Subject)
		}
		link = p.NextLink
	}
	if diff := cmp.Diff([]string{"Report 4", "Report 2", "Report 0"}, subjects); diff != "" {
		t.Errorf("listing mismatch (-want +got):\n%s", diff)
	}

	status, h, b := graphCall(t, s, "GET", u+"/messages/"+first.ID+"/$value", nil)
	if status != 200 || h.Get("Content-Type") != "text/plain" || string(b) != string(raws[4]) {
		t.Errorf("$value: %d %q %q", status, h.Get("Content-Type"), b)
	}

	status, _, b = graphCall(t, s, "PATCH", u+"/messages/"+first.ID, map[string]any{"isRead": true, "categories": []string{"Done"}}, "If-Match", first.ETag)
	var patched message
	_ = json.Unmarshal(b, &patched)
	if status != 200 || patched.IsRead == nil || !*patched.IsRead || !cmp.Equal(patched.Categories, []string{"Done"}) || patched.ETag == first.ETag {
		t.Errorf("PATCH: %d %+v, want 200 with the changes and a new etag", status, patched)
	}

	status, _, b = graphCall(t, s, "POST", u+"/messages/"+first.ID+"/move", map[string]string{"destinationId": "deleteditems"})
	var moved struct{ ID, ParentFolderID string }
	_ = json.Unmarshal(b, &moved)
	if status != 201 || moved.ID == "" || moved.ID == first.ID {
		t.Errorf("move: %d %+v, want 201 with a new id", status, moved)
	}
	if status, _, _ := graphCall(t, s, "GET", u+"/messages/"+first.ID, nil); status != 404 {
		t.Errorf("GET by the old id: %d, want 404", status)
	}
}

func TestGraphFakeConcurrencyLimit(t *testing.T) {
	t.Parallel()
	s := NewGraphServer(t, WithGraphMailboxConcurrency(1, 2500*time.Millisecond))
	if _, err := s.AddMessage(GraphMailbox, "Inbox", ExchangeMessage{Raw: []byte("Subject: x\r\n\r\nx")}); err != nil {
		t.Fatal(err)
	}
	// A request in progress holds the only slot while a second arrives.
	s.mu.Lock()
	mb, _ := s.Exchange.mailbox(GraphMailbox)
	s.inFlight[GraphClientID+"\x00"+mb.address] = 1
	s.mu.Unlock()
	status, h, b := graphCall(t, s, "GET", "/users/"+GraphMailbox+"/messages", nil)
	code, msg := graphErr(t, b)
	if status != 429 || code != "ApplicationThrottled" || msg != "Application is over its MailboxConcurrency limit." || h.Get("Retry-After") != "2.500" {
		t.Errorf("%d %s %q Retry-After %q", status, code, msg, h.Get("Retry-After"))
	}
}

func TestODataFilter(t *testing.T) {
	t.Parallel()
	it := &xItem{subject: "Invoice O'Brien", read: false, received: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		categories: []string{"Triage", "Done"}, folder: &xFolder{}, flag: "Flagged"}
	tests := []struct {
		filter string
		want   bool
		props  []string
	}{
		{"isRead eq false", true, []string{"isRead"}},
		{"isRead eq true", false, []string{"isRead"}},
		{"receivedDateTime ge 2026-03-02T09:00:00Z and isRead eq false", true, []string{"receivedDateTime", "isRead"}},
		{"receivedDateTime gt 2026-03-02T09:00:00Z", false, []string{"receivedDateTime"}},
		{"categories/any(c:c eq 'done')", true, []string{"categories"}},
		{"not(categories/any(c:c eq 'Done'))", false, []string{"categories"}},
		{"categories/any(x:x eq 'Other') or subject eq 'invoice o''brien'", true, []string{"categories", "subject"}},
		{"(isRead eq true or flag/flagStatus eq 'flagged') and not (subject eq 'x')", true, []string{"isRead", "flag/flagStatus", "subject"}},
	}
	for _, tt := range tests {
		f, err := parseODataFilter(tt.filter, "microsoft.graph.message", messageFieldKind, func(p string) bool { return p == "categories" })
		if err != nil {
			t.Errorf("%q: %v", tt.filter, err)
			continue
		}
		if got := f.eval(messageRecord{it}); got != tt.want {
			t.Errorf("%q = %t, want %t", tt.filter, got, tt.want)
		}
		if diff := cmp.Diff(tt.props, f.props); diff != "" {
			t.Errorf("%q properties mismatch (-want +got):\n%s", tt.filter, diff)
		}
	}
	for _, bad := range []string{"", "isRead", "isRead eq", "isRead eq 'x'", "subject eq 5", "(isRead eq true", "categories/any(c:d eq 'x')", "subject eq 'open"} {
		if _, err := parseODataFilter(bad, "microsoft.graph.message", messageFieldKind, func(string) bool { return true }); err == nil {
			t.Errorf("%q parsed without error", bad)
		}
	}
}

func FuzzODataFilter(f *testing.F) {
	f.Add("receivedDateTime ge 2026-03-02T09:00:00Z and not(categories/any(c:c eq 'Done'))")
	f.Add("(isRead eq true or subject eq 'a''b') and hasAttachments eq false")
	f.Fuzz(func(t *testing.T, s string) {
		it := &xItem{folder: &xFolder{}, categories: []string{"a"}}
		if flt, err := parseODataFilter(s, "microsoft.graph.message", messageFieldKind, func(p string) bool { return p == "categories" }); err == nil {
			flt.eval(messageRecord{it})
		}
	})
}
