package ews_test

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
)

// soapBody matches a request envelope with the version header, and
// captures its body.
var soapBody = regexp.MustCompile(`^<\?xml version="1.0" encoding="utf-8"\?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ` +
	`xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">` +
	`<s:Header><t:RequestServerVersion Version="Exchange2013_SP1"/></s:Header><s:Body>(.*)</s:Body></s:Envelope>$`)

// TestEWSRequests pins the SOAP requests of a whole cycle (find the folder,
// list, open, mark with a category and the read flag, move), as a delegate
// of the shared mailbox: the element order of the EWS schema, the
// namespaces, the Mailbox element, SuppressReadReceipts and the headers.
func TestEWSRequests(t *testing.T) {
	t.Parallel()
	fake := ewstest.NewEWS()
	rec, srv := startRecorded(t, fake.Handler())
	for _, f := range []string{"Inbox/Phishing", "Processed"} {
		if _, err := fake.CreateFolder(ewstest.EWSSharedMailbox, f); err != nil {
			t.Fatal(err)
		}
	}
	xchSeed(t, fake.Exchange, ewstest.EWSSharedMailbox, "Inbox/Phishing", "a", 0, false)
	mb, err := ews.NewEWS(ews.EWSConfig{
		URL: srv.URL + ewstest.EWSPath, Auth: ews.EWSAuthBasic, Username: ewstest.EWSUsername, Password: ewstest.EWSPassword,
		Mailbox: ewstest.EWSSharedMailbox, Folders: []string{"Inbox/Phishing"},
		Processed:  ews.Disposition{Category: "synapse", MarkRead: true, MoveTo: "Processed"},
		Quarantine: ews.Disposition{Category: "quarantine"},
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

	want := []struct{ op, body string }{
		{"GetFolder", `<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>` +
			`<m:FolderIds><t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>soc@example.com</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:FolderIds></m:GetFolder>`},
		{"FindFolder", `<m:FindFolder Traversal="Shallow"><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape>` +
			`<t:AdditionalProperties><t:FieldURI FieldURI="folder:DisplayName"/></t:AdditionalProperties></m:FolderShape>` +
			`<m:IndexedPageFolderView MaxEntriesReturned="10" Offset="0" BasePoint="Beginning"/>` +
			`<m:Restriction><t:IsEqualTo><t:FieldURI FieldURI="folder:DisplayName"/><t:FieldURIOrConstant><t:Constant Value="Phishing"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>` +
			`<m:ParentFolderIds><t:FolderId Id="…"/></m:ParentFolderIds></m:FindFolder>`},
		{"FindItem", `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>` +
			`<t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="item:DateTimeReceived"/><t:FieldURI FieldURI="item:Size"/><t:FieldURI FieldURI="item:Categories"/><t:FieldURI FieldURI="item:ConversationId"/><t:FieldURI FieldURI="message:InternetMessageId"/></t:AdditionalProperties></m:ItemShape>` +
			`<m:IndexedPageItemView MaxEntriesReturned="100" Offset="0" BasePoint="Beginning"/>` +
			`<m:Restriction><t:And>` +
			`<t:Not><t:Contains ContainmentMode="FullString" ContainmentComparison="IgnoreCase"><t:FieldURI FieldURI="item:Categories"/><t:Constant Value="synapse"/></t:Contains></t:Not>` +
			`<t:Not><t:Contains ContainmentMode="FullString" ContainmentComparison="IgnoreCase"><t:FieldURI FieldURI="item:Categories"/><t:Constant Value="quarantine"/></t:Contains></t:Not></t:And></m:Restriction>` +
			`<m:SortOrder><t:FieldOrder Order="Ascending"><t:FieldURI FieldURI="item:DateTimeReceived"/></t:FieldOrder></m:SortOrder>` +
			`<m:ParentFolderIds><t:FolderId Id="…"/></m:ParentFolderIds></m:FindItem>`},
		{"GetItem", `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:IncludeMimeContent>true</t:IncludeMimeContent></m:ItemShape>` +
			`<m:ItemIds><t:ItemId Id="…"/></m:ItemIds></m:GetItem>`},
		{"GetItem", `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>` +
			`<t:AdditionalProperties><t:FieldURI FieldURI="item:ParentFolderId"/><t:FieldURI FieldURI="item:Categories"/><t:FieldURI FieldURI="message:InternetMessageId"/><t:FieldURI FieldURI="message:IsRead"/></t:AdditionalProperties></m:ItemShape>` +
			`<m:ItemIds><t:ItemId Id="…"/></m:ItemIds></m:GetItem>`},
		{"UpdateItem", `<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="AutoResolve" SuppressReadReceipts="true"><m:ItemChanges><t:ItemChange><t:ItemId Id="…" ChangeKey="…"/>` +
			`<t:Updates>` +
			`<t:SetItemField><t:FieldURI FieldURI="item:Categories"/><t:Message><t:Categories><t:String>synapse</t:String></t:Categories></t:Message></t:SetItemField>` +
			`<t:SetItemField><t:FieldURI FieldURI="message:IsRead"/><t:Message><t:IsRead>true</t:IsRead></t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`},
		{"FindFolder", `<m:FindFolder Traversal="Shallow"><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape>` +
			`<t:AdditionalProperties><t:FieldURI FieldURI="folder:DisplayName"/></t:AdditionalProperties></m:FolderShape>` +
			`<m:IndexedPageFolderView MaxEntriesReturned="10" Offset="0" BasePoint="Beginning"/>` +
			`<m:Restriction><t:IsEqualTo><t:FieldURI FieldURI="folder:DisplayName"/><t:FieldURIOrConstant><t:Constant Value="Processed"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>` +
			`<m:ParentFolderIds><t:DistinguishedFolderId Id="msgfolderroot"><t:Mailbox><t:EmailAddress>soc@example.com</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:ParentFolderIds></m:FindFolder>`},
		{"MoveItem", `<m:MoveItem>` +
			`<m:ToFolderId><t:FolderId Id="…"/></m:ToFolderId>` +
			`<m:ItemIds><t:ItemId Id="…"/></m:ItemIds><m:ReturnNewItemIds>true</m:ReturnNewItemIds></m:MoveItem>`},
	}
	reqs := rec.requests()
	if len(reqs) != len(want) {
		t.Fatalf("sent %d requests, want %d", len(reqs), len(want))
	}
	for i, r := range reqs {
		m := soapBody.FindStringSubmatch(r.Body)
		if m == nil {
			t.Errorf("request %d is not a SOAP envelope with the version header:\n%s", i, r.Body)
			continue
		}
		if diff := cmp.Diff(want[i].body, normalizeIDs(m[1])); diff != "" {
			t.Errorf("request %d (%s) body mismatch (-want +got):\n%s", i, want[i].op, diff)
		}
		wantHeader := map[string]string{
			"Path":            ewstest.EWSPath,
			"Method":          "POST",
			"Content-Type":    "text/xml; charset=utf-8",
			"SOAPAction":      `"http://schemas.microsoft.com/exchange/services/2006/messages/` + want[i].op + `"`,
			"X-AnchorMailbox": ewstest.EWSSharedMailbox,
			"Accept":          "text/xml",
		}
		gotHeader := map[string]string{
			"Path": r.Path, "Method": r.Method, "Content-Type": r.Header.Get("Content-Type"),
			"SOAPAction": r.Header.Get("SOAPAction"), "X-AnchorMailbox": r.Header.Get("X-AnchorMailbox"),
			"Accept": r.Header.Get("Accept"),
		}
		if diff := cmp.Diff(wantHeader, gotHeader); diff != "" {
			t.Errorf("request %d (%s) headers mismatch (-want +got):\n%s", i, want[i].op, diff)
		}
	}
}
