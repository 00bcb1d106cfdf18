package ewstest_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/synapse-go/synapse/ews/ewstest"
)

// ExampleNewEWS serves a fake EWS endpoint, seeds a message, and asks for
// it with a hand-written FindItem, as any EWS client would. Tests usually
// call NewEWSServer(t) instead, which also closes the server.
func ExampleNewEWS() {
	srv := ewstest.NewEWS()
	if err := srv.Start("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	if _, err := srv.AddMessage(ewstest.EWSSharedMailbox, "Inbox", ewstest.ExchangeMessage{
		Raw:        []byte("Subject: Wire transfer request\r\nMessage-ID: <wt@example.com>\r\n\r\nUrgent.\r\n"),
		Received:   time.Date(2026, 3, 2, 9, 14, 7, 0, time.UTC),
		Categories: []string{"Phishing"},
	}); err != nil {
		log.Fatal(err)
	}

	body := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ` +
		`xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">` +
		`<s:Header><t:RequestServerVersion Version="Exchange2013_SP1"/></s:Header><s:Body>` +
		`<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>` +
		`<t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="item:Categories"/></t:AdditionalProperties></m:ItemShape>` +
		`<m:IndexedPageItemView MaxEntriesReturned="10" Offset="0" BasePoint="Beginning"/>` +
		`<m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>soc@example.com</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:ParentFolderIds>` +
		`</m:FindItem></s:Body></s:Envelope>`
	req, err := http.NewRequest(http.MethodPost, srv.URL(), strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.SetBasicAuth(ewstest.EWSUsername, ewstest.EWSPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	a := string(answer)
	fmt.Println(resp.Status)
	fmt.Println(a[strings.Index(a, "<m:RootFolder"):strings.Index(a, "<t:Items>")])
	fmt.Println(a[strings.Index(a, "<t:Subject>"):strings.Index(a, "</t:Message>")])
	fmt.Println("FindItem requests:", srv.Requests("FindItem"))
	// Output:
	// 200 OK
	// <m:RootFolder IndexedPagingOffset="1" TotalItemsInView="1" IncludesLastItemInRange="true">
	// <t:Subject>Wire transfer request</t:Subject><t:Categories><t:String>Phishing</t:String></t:Categories>
	// FindItem requests: 1
}

// ExampleEWSServer_InjectFault makes the next FindItem fail the way a
// throttled Exchange server answers: an HTTP 500 SOAP fault with
// ErrorServerBusy and the back-off to honour.
func ExampleEWSServer_InjectFault() {
	srv := ewstest.NewEWS()
	if err := srv.Start("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.InjectFault(ewstest.EWSFault{Operation: "FindItem", Kind: ewstest.EWSServerBusyFault, BackOff: 30 * time.Second})

	body := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ` +
		`xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">` +
		`<s:Body><m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>` +
		`<m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem></s:Body></s:Envelope>`
	req, err := http.NewRequest(http.MethodPost, srv.URL(), strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	req.SetBasicAuth(ewstest.EWSUsername, ewstest.EWSPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	a := string(answer)
	fmt.Println(resp.Status)
	fmt.Println(a[strings.Index(a, "<faultcode"):strings.Index(a, "<faultstring")])
	fmt.Println(a[strings.Index(a, `<t:Value`):strings.Index(a, "</t:MessageXml>")])
	// Output:
	// 500 Internal Server Error
	// <faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorServerBusy</faultcode>
	// <t:Value Name="BackOffMilliseconds">30000</t:Value>
}
