package ewstest

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"
	"github.com/google/go-cmp/cmp"
)

func TestMD4(t *testing.T) {
	t.Parallel()
	// RFC 1320, appendix A.5.
	tests := map[string]string{
		"":                              "31d6cfe0d16ae931b73c59d7e0c089c0",
		"a":                             "bde52cb31de33e46245e05fbdbd6fb24",
		"abc":                           "a448017aaf21d8525fc10ae87aa6729d",
		"message digest":                "d9130a8164549fe818874806e1c7014b",
		"abcdefghijklmnopqrstuvwxyz":    "d79e1c308aa5bbcdeea8ed63df412da9",
		strings.Repeat("1234567890", 8): "e33b4ddc9c38f2199c3e7b164fcc0536",
	}
	for in, want := range tests {
		sum := md4Sum([]byte(in))
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("md4(%q) = %s, want %s", in, got, want)
		}
	}
}

// soap wraps an operation in a SOAP envelope with the given version
// header and extra header elements, using the t: and m: prefixes.
func soap(version, headers, body string) string {
	h := ""
	if version != "" {
		h = `<t:RequestServerVersion Version="` + version + `"/>`
	}
	return `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ` +
		`xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">` +
		`<s:Header>` + h + headers + `</s:Header><s:Body>` + body + `</s:Body></s:Envelope>`
}

// post sends a SOAP request with Basic credentials and returns the status
// and the parsed answer.
func post(t *testing.T, s *EWSServer, body string, hdr ...string) (int, *xnode, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.SetBasicAuth(EWSUsername, EWSPassword)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	n, err := parseXML(raw)
	if err != nil {
		t.Fatalf("the answer is not XML (%v):\n%s", err, raw)
	}
	return resp.StatusCode, n, string(raw)
}

// path follows child elements by local name.
func path(n *xnode, names ...string) *xnode {
	for _, name := range names {
		if n == nil {
			return nil
		}
		var next *xnode
		for i := range n.Nodes {
			if n.Nodes[i].XMLName.Local == name {
				next = &n.Nodes[i]
				break
			}
		}
		n = next
	}
	return n
}

// responseMessage returns the i-th response message of an answer.
func responseMessage(n *xnode, i int) *xnode {
	rm := path(n, "Body")
	if rm == nil || len(rm.Nodes) == 0 {
		return nil
	}
	rm = path(&rm.Nodes[0], "ResponseMessages")
	if rm == nil || i >= len(rm.Nodes) {
		return nil
	}
	return &rm.Nodes[i]
}

// faultCode returns the response code of a SOAP fault answer.
func faultCode(n *xnode) string { return path(n, "Body", "Fault", "detail", "ResponseCode").text() }

func seedInbox(t *testing.T, s *EWSServer, n int) []ExchangeMessage {
	t.Helper()
	var out []ExchangeMessage
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range n {
		raw := fmt.Sprintf("From: a@example.com\r\nSubject: Report %d\r\nMessage-ID: <m%d@example.com>\r\n\r\nBody %d\r\n", i, i, i)
		m, err := s.AddMessage(EWSSharedMailbox, "Inbox", ExchangeMessage{Raw: []byte(raw), Received: base.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// unknownID returns an id shaped like id that names no item.
func unknownID(id string) string {
	b, _ := base64.StdEncoding.DecodeString(id)
	b[len(b)-1] ^= 0xff
	return base64.StdEncoding.EncodeToString(b)
}

const inboxOfShared = `<t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>soc@example.com</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>`

// TestEWSFakeAnswers sends requests shaped as Microsoft's documentation
// and exchangelib write them and checks the shape of the answers.
func TestEWSFakeAnswers(t *testing.T) {
	t.Parallel()
	s := NewEWSServer(t)
	msgs := seedInbox(t, s, 8)

	t.Run("GetFolderDefaultNamespace", func(t *testing.T) {
		t.Parallel()
		// The documentation's style: no prefixes on the operation.
		body := `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">` +
			`<soap:Header><RequestServerVersion Version="Exchange2010_SP2" xmlns="http://schemas.microsoft.com/exchange/services/2006/types"/></soap:Header>` +
			`<soap:Body><GetFolder xmlns="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">` +
			`<FolderShape><t:BaseShape>Default</t:BaseShape></FolderShape><FolderIds>` + inboxOfShared + `</FolderIds></GetFolder></soap:Body></soap:Envelope>`
		status, n, raw := post(t, s, body)
		rm := responseMessage(n, 0)
		if status != 200 || rm == nil || rm.XMLName.Local != "GetFolderResponseMessage" {
			t.Fatalf("status %d, answer:\n%s", status, raw)
		}
		f := path(rm, "Folders", "Folder")
		got := []string{path(rm, "ResponseCode").text(), path(f, "DisplayName").text(), path(f, "TotalCount").text(),
			path(f, "ChildFolderCount").text(), path(f, "UnreadCount").text()}
		if diff := cmp.Diff([]string{"NoError", "Inbox", "8", "0", "8"}, got); diff != "" {
			t.Errorf("GetFolder mismatch (-want +got):\n%s", diff)
		}
		if !strings.Contains(raw, `<h:ServerVersionInfo MajorVersion="15"`) || !strings.Contains(raw, `<m:GetFolderResponse xmlns:m=`) {
			t.Errorf("answer lacks ServerVersionInfo or the m: prefix:\n%s", raw)
		}
	})

	t.Run("FindItemPaging", func(t *testing.T) {
		t.Parallel()
		// The paging example of the documentation: 8 items, 6 per page.
		page := func(offset int) string {
			return soap("Exchange2013_SP1", "", `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>`+
				fmt.Sprintf(`<m:IndexedPageItemView MaxEntriesReturned="6" Offset="%d" BasePoint="Beginning"/>`, offset)+
				`<m:ParentFolderIds>`+inboxOfShared+`</m:ParentFolderIds></m:FindItem>`)
		}
		var got []string
		for _, off := range []int{0, 6} {
			_, n, _ := post(t, s, page(off))
			rf := path(responseMessage(n, 0), "RootFolder")
			a, _ := rf.attr("IndexedPagingOffset")
			b, _ := rf.attr("TotalItemsInView")
			c, _ := rf.attr("IncludesLastItemInRange")
			got = append(got, fmt.Sprintf("%s %s %s %d", a, b, c, len(path(rf, "Items").Nodes)))
		}
		if diff := cmp.Diff([]string{"6 8 false 6", "8 8 true 2"}, got); diff != "" {
			t.Errorf("paging (offset, total, last, items) mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("FindItemRestrictionAndSort", func(t *testing.T) {
		t.Parallel()
		body := soap("Exchange2013_SP1", "", `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>`+
			`<t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="message:IsRead"/></t:AdditionalProperties></m:ItemShape>`+
			`<m:Restriction><t:And><t:IsEqualTo><t:FieldURI FieldURI="message:IsRead"/><t:FieldURIOrConstant><t:Constant Value="false"/></t:FieldURIOrConstant></t:IsEqualTo>`+
			`<t:Contains ContainmentMode="Substring" ContainmentComparison="IgnoreCase"><t:FieldURI FieldURI="item:Subject"/><t:Constant Value="REPORT 1"/></t:Contains></t:And></m:Restriction>`+
			`<m:SortOrder><t:FieldOrder Order="Descending"><t:FieldURI FieldURI="item:DateTimeReceived"/></t:FieldOrder></m:SortOrder>`+
			`<m:ParentFolderIds>`+inboxOfShared+`</m:ParentFolderIds></m:FindItem>`)
		_, n, raw := post(t, s, body)
		items := path(responseMessage(n, 0), "RootFolder", "Items")
		if items == nil || len(items.Nodes) != 1 || path(&items.Nodes[0], "Subject").text() != "Report 1" {
			t.Fatalf("want only Report 1:\n%s", raw)
		}
		// Properties come in schema order, not request order.
		var order []string
		for _, c := range items.Nodes[0].Nodes {
			order = append(order, c.XMLName.Local)
		}
		if diff := cmp.Diff([]string{"ItemId", "Subject", "IsRead"}, order); diff != "" {
			t.Errorf("property order mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("GetItemMimeContentFirst", func(t *testing.T) {
		t.Parallel()
		body := soap("Exchange2013_SP1", "", `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:IncludeMimeContent>true</t:IncludeMimeContent>`+
			`<t:AdditionalProperties><t:FieldURI FieldURI="item:ConversationId"/><t:FieldURI FieldURI="message:InternetMessageId"/></t:AdditionalProperties></m:ItemShape>`+
			`<m:ItemIds><t:ItemId Id="`+msgs[3].ID+`"/><t:ItemId Id="AAMkAGM2"/><t:ItemId Id="`+unknownID(msgs[3].ID)+`"/></m:ItemIds></m:GetItem>`)
		_, n, raw := post(t, s, body)
		msg := path(responseMessage(n, 0), "Items", "Message")
		if msg == nil || msg.Nodes[0].XMLName.Local != "MimeContent" {
			t.Fatalf("MimeContent is not the first child:\n%s", raw)
		}
		if cs, _ := msg.Nodes[0].attr("CharacterSet"); cs != "UTF-8" {
			t.Errorf("CharacterSet = %q, want UTF-8", cs)
		}
		got, err := base64.StdEncoding.DecodeString(msg.Nodes[0].text())
		if err != nil || !bytes.Equal(got, msgs[3].Raw) {
			t.Errorf("MimeContent decodes to %q (%v), want the stored message", got, err)
		}
		if path(msg, "InternetMessageId").text() != "<m3@example.com>" || path(msg, "ConversationId") == nil {
			t.Errorf("InternetMessageId or ConversationId missing:\n%s", raw)
		}
		// One response message per id, in order: a malformed id and an
		// unknown one fail in their own slots.
		for i, want := range []string{"ErrorInvalidIdMalformed", "ErrorItemNotFound"} {
			rm := responseMessage(n, i+1)
			class, _ := rm.attr("ResponseClass")
			if class != "Error" || path(rm, "ResponseCode").text() != want || path(rm, "Items") == nil {
				t.Errorf("slot %d: class %s code %s, want Error %s with an empty Items", i+1, class, path(rm, "ResponseCode").text(), want)
			}
		}
		if got := path(responseMessage(n, 2), "MessageText").text(); got != "The specified object was not found in the store." {
			t.Errorf("ErrorItemNotFound text = %q", got)
		}
	})

	t.Run("ConvertIdProbe", func(t *testing.T) {
		t.Parallel()
		// exchangelib guesses the version with a dummy ConvertId.
		body := soap("Exchange2016", "", `<m:ConvertId DestinationFormat="EntryId"><m:SourceIds><t:AlternateId Format="EwsId" Id="DUMMY" Mailbox="DUMMY"/></m:SourceIds></m:ConvertId>`)
		status, n, raw := post(t, s, body)
		class, _ := responseMessage(n, 0).attr("ResponseClass")
		if status != 200 || class != "Error" || path(n, "Header", "ServerVersionInfo") == nil {
			t.Errorf("want a 200 error message with ServerVersionInfo:\n%s", raw)
		}
	})
}

// TestEWSFakeFaults checks the requests the fake refuses as a whole, with
// HTTP 500 SOAP faults.
func TestEWSFakeFaults(t *testing.T) {
	t.Parallel()
	s := NewEWSServer(t, WithEWSUser(EWSUser{Username: "plain", Password: "pw", Mailbox: "plain@example.com"}))
	msgs := seedInbox(t, s, 1)
	findItem := `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ParentFolderIds>` + inboxOfShared + `</m:ParentFolderIds></m:FindItem>`
	update := func(attrs string) string {
		return `<m:UpdateItem ` + attrs + `><m:ItemChanges><t:ItemChange><t:ItemId Id="` + msgs[0].ID + `"/><t:Updates><t:SetItemField>` +
			`<t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>true</t:IsRead></t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`
	}
	tests := []struct {
		name, body string
		user       string
		wantCode   string
		wantText   string
	}{
		{name: "MalformedXML", body: soap("Exchange2013", "", "<m:FindItem>"), wantCode: "ErrorSchemaValidation", wantText: "schema validation"},
		{name: "UnknownVersion", body: soap("Exchange2003", "", findItem), wantCode: "ErrorInvalidServerVersion", wantText: "The specified server version is invalid."},
		{name: "ElementOrder", body: soap("Exchange2013", "", `<m:FindItem Traversal="Shallow"><m:ParentFolderIds>`+inboxOfShared+`</m:ParentFolderIds><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape></m:FindItem>`),
			wantCode: "ErrorSchemaValidation", wantText: "has invalid child element 'ItemShape'"},
		{name: "MissingElement", body: soap("Exchange2013", "", `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape></m:FindItem>`),
			wantCode: "ErrorSchemaValidation", wantText: "incomplete content"},
		{name: "BadDistinguishedId", body: soap("Exchange2013", "", strings.Replace(findItem, `Id="inbox"`, `Id="inbox1"`, 1)),
			wantCode: "ErrorSchemaValidation", wantText: "DistinguishedFolderIdNameType"},
		{name: "DeepItemTraversal", body: soap("Exchange2013", "", strings.Replace(findItem, "Shallow", "Deep", 1)),
			wantCode: "ErrorSchemaValidation", wantText: "ItemQueryTraversalType"},
		{name: "UnknownFieldURI", body: soap("Exchange2013", "", strings.Replace(findItem, "<t:BaseShape>IdOnly</t:BaseShape>", `<t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="colour:Name"/></t:AdditionalProperties>`, 1)),
			wantCode: "ErrorSchemaValidation", wantText: "UnindexedFieldURIType"},
		{name: "ConversationIdBefore2010", body: soap("Exchange2007_SP1", "", strings.Replace(findItem, "<t:BaseShape>IdOnly</t:BaseShape>", `<t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:ConversationId"/></t:AdditionalProperties>`, 1)),
			wantCode: "ErrorSchemaValidation"},
		{name: "SuppressReadReceiptsBefore2013SP1", body: soap("Exchange2010_SP2", "", update(`MessageDisposition="SaveOnly" ConflictResolution="AutoResolve" SuppressReadReceipts="true"`)),
			wantCode: "ErrorSchemaValidation", wantText: "SuppressReadReceipts"},
		{name: "ImpersonationDenied", user: "plain", body: soap("Exchange2013", `<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>soc@example.com</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`, findItem),
			wantCode: "ErrorImpersonateUserDenied", wantText: "The account does not have permission to impersonate the requested user."},
		{name: "ImpersonatingNobody", body: soap("Exchange2013", `<t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>nobody@example.com</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`, findItem),
			wantCode: "ErrorNonExistentMailbox", wantText: "The SMTP address has no mailbox associated with it."},
		{name: "NotSOAP", body: `<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"><Body/></Envelope>`, wantCode: "ErrorSchemaValidation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL(), strings.NewReader(tt.body))
			if tt.user != "" {
				req.SetBasicAuth(tt.user, "pw")
			} else {
				req.SetBasicAuth(EWSUsername, EWSPassword)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			n, err := parseXML(raw)
			if err != nil || resp.StatusCode != 500 || faultCode(n) != tt.wantCode {
				t.Fatalf("status %d, want 500 with %s:\n%s", resp.StatusCode, tt.wantCode, raw)
			}
			if fc := path(n, "Body", "Fault", "faultcode").text(); fc != "a:"+tt.wantCode {
				t.Errorf("faultcode = %q, want a:%s", fc, tt.wantCode)
			}
			if fs := path(n, "Body", "Fault", "faultstring").text(); !strings.Contains(fs, tt.wantText) {
				t.Errorf("faultstring = %q, want it to contain %q", fs, tt.wantText)
			}
			if path(n, "Header") != nil {
				t.Error("a fault carries a SOAP header")
			}
		})
	}
}

// TestEWSFakeWrites checks UpdateItem's ChangeKey rules and MoveItem's new
// ids.
func TestEWSFakeWrites(t *testing.T) {
	t.Parallel()
	s := NewEWSServer(t)
	msgs := seedInbox(t, s, 2)
	if _, err := s.CreateFolder(EWSSharedMailbox, "Done"); err != nil {
		t.Fatal(err)
	}
	update := func(attrs, id, changeKey string) string {
		ck := ""
		if changeKey != "" {
			ck = ` ChangeKey="` + changeKey + `"`
		}
		return soap("Exchange2013_SP1", "", `<m:UpdateItem `+attrs+`><m:ItemChanges><t:ItemChange><t:ItemId Id="`+id+`"`+ck+`/><t:Updates>`+
			`<t:SetItemField><t:FieldURI FieldURI="item:Categories"/><t:Message><t:Categories><t:String>A</t:String><t:String>B</t:String></t:Categories></t:Message></t:SetItemField>`+
			`<t:SetItemField><t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>true</t:IsRead></t:Message></t:SetItemField>`+
			`</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`)
	}
	stale := changeKey(0)
	tests := []struct {
		name, body, wantCode string
	}{
		{"NoDisposition", update(`ConflictResolution="AutoResolve"`, msgs[0].ID, ""), "ErrorMessageDispositionRequired"},
		{"StaleNeverOverwrite", update(`MessageDisposition="SaveOnly" ConflictResolution="NeverOverwrite"`, msgs[0].ID, stale), "ErrorIrresolvableConflict"},
		{"BadChangeKey", update(`MessageDisposition="SaveOnly"`, msgs[0].ID, "not-a-key"), "ErrorInvalidChangeKey"},
		{"Unknown", update(`MessageDisposition="SaveOnly"`, unknownID(msgs[0].ID), ""), "ErrorItemNotFound"},
		{"StaleAutoResolve", update(`MessageDisposition="SaveOnly" ConflictResolution="AutoResolve"`, msgs[0].ID, stale), "NoError"},
	}
	for _, tt := range tests {
		_, n, raw := post(t, s, tt.body)
		if got := path(responseMessage(n, 0), "ResponseCode").text(); got != tt.wantCode {
			t.Errorf("%s: ResponseCode %q, want %q:\n%s", tt.name, got, tt.wantCode, raw)
		}
	}
	got, _ := s.Message(msgs[0].ID)
	if !got.Read || !cmp.Equal(got.Categories, []string{"A", "B"}) || got.ChangeKey == msgs[0].ChangeKey {
		t.Errorf("after UpdateItem: %+v, want read, categories A B and a new ChangeKey", got)
	}
	if _, n, _ := post(t, s, update(`MessageDisposition="SaveOnly" ConflictResolution="NeverOverwrite"`, got.ID, got.ChangeKey)); path(responseMessage(n, 0), "ConflictResults", "Count").text() != "0" {
		t.Error("UpdateItem with the current ChangeKey has no ConflictResults of 0")
	}

	done, _ := s.CreateFolder(EWSSharedMailbox, "Done")
	_, n, raw := post(t, s, soap("Exchange2013_SP1", "", `<m:MoveItem><m:ToFolderId><t:FolderId Id="`+done+`"/></m:ToFolderId>`+
		`<m:ItemIds><t:ItemId Id="`+msgs[1].ID+`"/></m:ItemIds><m:ReturnNewItemIds>true</m:ReturnNewItemIds></m:MoveItem>`))
	newID, _ := path(responseMessage(n, 0), "Items", "Message", "ItemId").attr("Id")
	if newID == "" || newID == msgs[1].ID {
		t.Fatalf("MoveItem returned id %q, want a new one:\n%s", newID, raw)
	}
	if m, err := s.Message(newID); err != nil || m.Folder != "Done" {
		t.Errorf("the moved message is %+v, %v; want it in Done", m, err)
	}
	if _, err := s.Message(msgs[1].ID); err == nil {
		t.Error("the old id still resolves after the move")
	}
}

// TestEWSFakeNTLM signs in with github.com/Azure/go-ntlmssp, the client the
// connector uses, over one connection.
func TestEWSFakeNTLM(t *testing.T) {
	t.Parallel()
	s := NewEWSServer(t, WithEWSAuthSchemes(EWSAuthSchemes{NTLM: true}))
	for _, tt := range []struct {
		name, user, pass string
		want             int
	}{
		{"DomainUser", EWSUsername, EWSPassword, 200},
		{"WrongPassword", EWSUsername, "nope", 401},
		{"UnknownUser", `EXAMPLE\mallory`, EWSPassword, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: ntlmssp.Negotiator{RoundTripper: tr}}
			body := soap("Exchange2013", "", `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds>`+inboxOfShared+`</m:FolderIds></m:GetFolder>`)
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL(), strings.NewReader(body))
			req.SetBasicAuth(tt.user, tt.pass)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

// TestEWSFakeChallenge checks the 401 answer to an anonymous request.
func TestEWSFakeChallenge(t *testing.T) {
	t.Parallel()
	s := NewEWSServer(t)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL(), strings.NewReader(soap("Exchange2013", "", "")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var schemes []string
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		schemes = append(schemes, strings.Fields(v)[0])
	}
	if resp.StatusCode != 401 || len(body) != 0 || !cmp.Equal(schemes, []string{"Negotiate", "NTLM", "Bearer", "Basic"}) {
		t.Errorf("status %d, schemes %v, %d-byte body; want 401 offering Negotiate, NTLM, Bearer, Basic with no body", resp.StatusCode, schemes, len(body))
	}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL(), strings.NewReader(soap("Exchange2013", "", "")))
	req.Header.Set("Authorization", "Bearer expired")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("x-ms-diagnostics"), "invalid_signature") {
		t.Errorf("a bad bearer token got %d with diagnostics %q", resp.StatusCode, resp.Header.Get("x-ms-diagnostics"))
	}
}

// TestEWSFakeInjectedFaults checks the answers of the throttling faults
// against the shapes captured from servers.
func TestEWSFakeInjectedFaults(t *testing.T) {
	t.Parallel()
	s := NewEWSServer(t)
	find := soap("Exchange2013", "", `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ParentFolderIds>`+inboxOfShared+`</m:ParentFolderIds></m:FindItem>`)

	s.InjectFault(EWSFault{Operation: "FindItem", Kind: EWSServerBusyFault, BackOff: 297749 * time.Millisecond})
	status, n, _ := post(t, s, find)
	mx := path(n, "Body", "Fault", "detail", "MessageXml", "Value")
	name, _ := mx.attr("Name")
	if status != 500 || faultCode(n) != "ErrorServerBusy" || name != "BackOffMilliseconds" || mx.text() != "297749" {
		t.Errorf("busy fault: status %d code %s value %s=%s", status, faultCode(n), name, mx.text())
	}
	if mx.XMLName.Space != nsTypes || path(n, "Body", "Fault", "detail", "ResponseCode").XMLName.Space != nsErrors {
		t.Error("MessageXml must be in the types namespace and ResponseCode in the errors namespace")
	}

	s.InjectFault(EWSFault{Operation: "FindItem", Kind: EWSInternalServerBusy, BackOff: time.Second})
	status, n, _ = post(t, s, find)
	rm := responseMessage(n, 0)
	if status != 200 || path(rm, "ResponseCode").text() != "ErrorInternalServerError" {
		t.Errorf("inner busy: status %d code %s", status, path(rm, "ResponseCode").text())
	}

	s.InjectFault(EWSFault{Kind: EWSServiceUnavailable, BackOff: 1500 * time.Millisecond})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL(), strings.NewReader(find))
	req.SetBasicAuth(EWSUsername, EWSPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("503 fault: status %d Retry-After %q, want 503 and 2", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if got := s.Requests("FindItem"); got != 3 {
		t.Errorf("FindItem requests = %d, want 3", got)
	}
}
