package observable_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"log"
	"net/netip"
	"strings"

	"github.com/synapse-go/synapse/observable"
)

// reported is a phishing message as a user forwards it to the SOC.
const reported = "Received: from mx.example.org (mx.example.org [10.0.0.5])\r\n" +
	"\tby store.example.org; Mon, 3 Nov 2025 09:30:02 +0100\r\n" +
	"Received: from smtp.invoices-secure.net (smtp.invoices-secure.net [185.220.101.4])\r\n" +
	"\tby mx.example.org; Mon, 3 Nov 2025 09:30:01 +0100\r\n" +
	"From: \"Accounts\" <billing@invoices-secure.net>\r\n" +
	"To: jane.doe@example.org\r\n" +
	"Subject: RE: Invoice overdue\r\n" +
	"Date: Mon, 3 Nov 2025 09:30:00 +0100\r\n" +
	"Message-ID: <4711@invoices-secure.net>\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b\"\r\n" +
	"\r\n" +
	"--b\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"\r\n" +
	"<p>Pay at <a href=\"https://invoices-secure.net/pay\">https://www.example-bank.com/</a></p>\r\n" +
	"--b\r\n" +
	"Content-Type: application/pdf; name=\"invoice.pdf\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"JVBERi0xLjQgZmFrZQ==\r\n" +
	"--b--\r\n"

func ExampleParseEmail() {
	e, err := observable.ParseEmail(strings.NewReader(reported))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("From:", e.From[0].Addr)
	fmt.Println("Subject:", e.Subject, "| thread:", e.ThreadSubject)
	fmt.Println("Message-ID:", e.MessageID)
	fmt.Println("Body:", e.BodyMarkdown())
	for _, a := range e.Attachments {
		fmt.Println("Attachment:", a.Path, a.SafeName, a.Size, a.SHA256[:16])
	}
	fmt.Println("Defects:", len(e.Defects))
	// Output:
	// From: billing@invoices-secure.net
	// Subject: RE: Invoice overdue | thread: Invoice overdue
	// Message-ID: 4711@invoices-secure.net
	// Body: Pay at [https://www.example-bank.com/](https://invoices-secure.net/pay)
	// Attachment: 2 invoice.pdf 13 932d2676c1e461ba
	// Defects: 0
}

func ExampleExtract() {
	e, err := observable.ParseEmail(strings.NewReader(reported))
	if err != nil {
		log.Fatal(err)
	}
	// The organisation's own infrastructure is not worth an observable.
	own, err := observable.ParseRules([]string{"example.org"}, []string{"10.0.0.0/8"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range observable.Extract(e, observable.ExtractOptions{Allow: own}) {
		fmt.Println(o)
	}
	// Output:
	// mail-subject:RE: Invoice overdue [src:header]
	// mail:billing@invoices-secure.net [src:header from]
	// domain:invoices-secure.net [src:header src:received src:html link-text-mismatch]
	// ip:185.220.101.4 [src:received external-relay public]
	// fqdn:smtp.invoices-secure.net [src:received]
	// url:https://invoices-secure.net/pay [src:html link-text-mismatch]
	// url:https://www.example-bank.com/ [src:html]
	// fqdn:www.example-bank.com [src:html]
	// domain:example-bank.com [src:html]
	// file:invoice.pdf [src:attachment]
}

func ExampleExtractText() {
	offense := "Beaconing from 10.1.2.3 to hxxps://c2-update[.]net/gate (45.147.229.18), " +
		"dropper sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	for _, o := range observable.ExtractText(offense, observable.ExtractOptions{}) {
		fmt.Println(o.Type, o.Value, o.Tags)
	}
	// Output:
	// url https://c2-update.net/gate [src:text defanged]
	// domain c2-update.net [src:text defanged]
	// ip 10.1.2.3 [src:text private]
	// ip 45.147.229.18 [src:text public]
	// hash e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 [src:text sha256]
}

// Attachments stream to a function as the parse reaches them; this is how
// a 200 MB file goes to TheHive without being held in memory.
func ExampleWithAttachmentFunc() {
	upload := func(a *observable.Attachment, content io.Reader) error {
		n, err := io.Copy(io.Discard, content) // an HTTP upload in real code
		fmt.Println("uploaded", a.SafeName, n, "bytes")
		return err
	}
	e, err := observable.ParseEmail(strings.NewReader(reported), observable.WithAttachmentFunc(upload))
	if err != nil {
		log.Fatal(err)
	}
	// The hashes are final once the parse is done.
	fmt.Println(e.Attachments[0].MD5)
	// Output:
	// uploaded invoice.pdf 13 bytes
	// 307ddb5f41f66df59f1e28b325a31c3e
}

// An upload that failed is retried from a fresh copy of the raw message,
// streamed again from the mailbox.
func ExampleOpenAttachment() {
	e, err := observable.ParseEmail(strings.NewReader(reported))
	if err != nil {
		log.Fatal(err)
	}
	a := e.Attachments[0]
	raw := bytes.NewReader([]byte(reported)) // in real code: the mailbox's Open
	rc, err := observable.OpenAttachment(raw, a.Path)
	if err != nil {
		log.Fatal(err)
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		log.Fatal(err)
	}
	fmt.Println(fmt.Sprintf("%x", h.Sum(nil)) == a.SHA256)
	// Output:
	// true
}

func ExampleEmail_ExternalRelay() {
	e, err := observable.ParseEmail(strings.NewReader(reported))
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range e.Received {
		fmt.Println(h.FromIP, h.Public())
	}
	if h, ok := e.ExternalRelay(); ok {
		fmt.Println("external relay:", h.FromIP, h.Hosts)
	}
	// With the relay's range trusted, no external hop is left.
	_, ok := e.ExternalRelay(netip.MustParsePrefix("185.220.101.0/24"))
	fmt.Println(ok)
	// Output:
	// 10.0.0.5 false
	// 185.220.101.4 true
	// external relay: 185.220.101.4 [smtp.invoices-secure.net mx.example.org]
	// false
}

func ExampleThreadSubject() {
	fmt.Println(observable.ThreadSubject("RE: AW: Fwd: [EXT] TR: Invoice overdue"))
	// Output:
	// Invoice overdue
}

func ExampleSanitizeFilename() {
	name, reasons := observable.SanitizeFilename("../../invoice\u202Efdp.exe")
	fmt.Println(name, reasons)
	// Output:
	// invoicefdp.exe [path bidi-override]
}

func ExampleHTMLToMarkdown() {
	fmt.Println(observable.HTMLToMarkdown(`<h2>Alert</h2><p>Login from <b>203.0.113.9</b>, see <a href="https://portal.example.com/">the portal</a>.</p>`))
	// Output:
	// ## Alert
	//
	// Login from **203.0.113.9**, see [the portal](https://portal.example.com/).
}
