package ewstest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// XML namespaces of EWS. Requests are parsed by namespace URI, never by
// prefix; responses use the prefixes Exchange uses.
const (
	nsSOAP     = "http://schemas.xmlsoap.org/soap/envelope/"
	nsMessages = "http://schemas.microsoft.com/exchange/services/2006/messages"
	nsTypes    = "http://schemas.microsoft.com/exchange/services/2006/types"
	nsErrors   = "http://schemas.microsoft.com/exchange/services/2006/errors"
)

// xnode is a parsed XML element with its namespace-resolved name.
type xnode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []xnode    `xml:",any"`
	Text    string     `xml:",chardata"`
}

// attr returns the value of the unqualified attribute name, and whether it
// is present.
func (n *xnode) attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name.Local == name && (a.Name.Space == "" || a.Name.Space == n.XMLName.Space) {
			return a.Value, true
		}
	}
	return "", false
}

// child returns the first child element with the given namespace and local
// name, or nil.
func (n *xnode) child(space, local string) *xnode {
	if n == nil {
		return nil
	}
	for i := range n.Nodes {
		if n.Nodes[i].XMLName.Space == space && n.Nodes[i].XMLName.Local == local {
			return &n.Nodes[i]
		}
	}
	return nil
}

// children returns the child elements with the given namespace and local
// name.
func (n *xnode) children(space, local string) []*xnode {
	var out []*xnode
	for i := range n.Nodes {
		if n.Nodes[i].XMLName.Space == space && n.Nodes[i].XMLName.Local == local {
			out = append(out, &n.Nodes[i])
		}
	}
	return out
}

// text returns the trimmed character data of n.
func (n *xnode) text() string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.Text)
}

// xmlSyntaxError is a request that is not well-formed XML.
type xmlSyntaxError struct {
	line, col int
	msg       string
}

func (e *xmlSyntaxError) Error() string { return e.msg }

// parseXML parses a whole document into an xnode tree.
func parseXML(b []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var root xnode
	if err := d.Decode(&root); err != nil {
		line, col := d.InputPos()
		msg := err.Error()
		if se, ok := err.(*xml.SyntaxError); ok {
			msg = se.Msg
		}
		if err == io.EOF {
			msg = "Root element is missing."
		}
		return nil, &xmlSyntaxError{line: line, col: col, msg: msg}
	}
	return &root, nil
}

// esc escapes s for XML character data and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// xmlTime formats t as Exchange does: UTC, whole seconds, with a Z.
func xmlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// parseXMLBool parses an xs:boolean.
func parseXMLBool(s string) (bool, bool) {
	switch strings.TrimSpace(s) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

// parseXMLTime parses an xs:dateTime; a value without a zone is UTC.
func parseXMLTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// soapFault is a whole-request failure, sent as an HTTP 500 SOAP fault.
type soapFault struct {
	code       string // response code, such as ErrorServerBusy
	text       string
	messageXML string // inner XML of t:MessageXml, already escaped
}

func (f *soapFault) Error() string { return f.code + ": " + f.text }

// schemaFault returns an ErrorSchemaValidation fault.
func schemaFault(line, col int, violation string) *soapFault {
	return &soapFault{
		code: "ErrorSchemaValidation",
		text: "The request failed schema validation: " + violation,
		messageXML: fmt.Sprintf("<t:LineNumber>%d</t:LineNumber><t:LinePosition>%d</t:LinePosition><t:Violation>%s</t:Violation>",
			line, col, esc(violation)),
	}
}

// writeFault sends f as a SOAP 1.1 fault with HTTP 500, in the shape
// Exchange uses: a faultcode bound to the types namespace, and the response
// code, message and MessageXml in detail. Fault envelopes carry no
// ServerVersionInfo.
func writeFault(w http.ResponseWriter, f *soapFault) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>`)
	b.WriteString(`<s:Envelope xmlns:s="` + nsSOAP + `"><s:Body><s:Fault>`)
	b.WriteString(`<faultcode xmlns:a="` + nsTypes + `">a:` + esc(f.code) + `</faultcode>`)
	b.WriteString(`<faultstring xml:lang="en-US">` + esc(f.text) + `</faultstring>`)
	b.WriteString(`<detail>`)
	b.WriteString(`<e:ResponseCode xmlns:e="` + nsErrors + `">` + esc(f.code) + `</e:ResponseCode>`)
	b.WriteString(`<e:Message xmlns:e="` + nsErrors + `">` + esc(faultMessage(f)) + `</e:Message>`)
	if f.messageXML != "" {
		b.WriteString(`<t:MessageXml xmlns:t="` + nsTypes + `">` + f.messageXML + `</t:MessageXml>`)
	}
	b.WriteString(`</detail></s:Fault></s:Body></s:Envelope>`)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write(b.Bytes())
}

// faultMessage is the short message Exchange puts in a fault's detail: for
// schema errors it omits the violation, which is in MessageXml.
func faultMessage(f *soapFault) string {
	if f.code == "ErrorSchemaValidation" {
		return "The request failed schema validation."
	}
	return f.text
}

// envelopeHead is the start of every non-fault response, with the
// ServerVersionInfo header of an Exchange 2016 server.
const envelopeHead = `<?xml version="1.0" encoding="utf-8"?>` +
	`<s:Envelope xmlns:s="` + nsSOAP + `">` +
	`<s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6" Version="V2017_07_11"` +
	` xmlns:h="` + nsTypes + `" xmlns="` + nsTypes + `"` +
	` xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></s:Header>` +
	`<s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">`

// responseStart writes the envelope and the opening of op's response.
func responseStart(w io.Writer, op string) {
	_, _ = io.WriteString(w, envelopeHead)
	_, _ = fmt.Fprintf(w, `<m:%sResponse xmlns:m="%s" xmlns:t="%s"><m:ResponseMessages>`, op, nsMessages, nsTypes)
}

// responseEnd closes what responseStart opened.
func responseEnd(w io.Writer, op string) {
	_, _ = fmt.Fprintf(w, `</m:ResponseMessages></m:%sResponse></s:Body></s:Envelope>`, op)
}

// writeResponse writes op's response around messages, its response
// messages already rendered.
func writeResponse(w io.Writer, op string, messages []byte) {
	responseStart(w, op)
	_, _ = w.Write(messages)
	responseEnd(w, op)
}

// writeErrorResponse writes op's response with the one error message e.
func writeErrorResponse(w io.Writer, op string, e *respError) {
	responseStart(w, op)
	writeRespError(w, op, e, "")
	responseEnd(w, op)
}

// respError is a per-item error, sent inside a 200 response with
// ResponseClass="Error".
type respError struct {
	code       string
	text       string
	messageXML string // inner XML of m:MessageXml, already escaped
}

func (e *respError) Error() string { return e.code + ": " + e.text }

// writeRespError writes an error response message for op, closing with the
// empty payload element Exchange keeps in error messages (such as
// "<m:Items />"), if any.
func writeRespError(w io.Writer, op string, e *respError, emptyPayload string) {
	_, _ = fmt.Fprintf(w, `<m:%sResponseMessage ResponseClass="Error"><m:MessageText>%s</m:MessageText><m:ResponseCode>%s</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>`,
		op, esc(e.text), esc(e.code))
	if e.messageXML != "" {
		_, _ = fmt.Fprintf(w, `<m:MessageXml>%s</m:MessageXml>`, e.messageXML)
	}
	if emptyPayload != "" {
		_, _ = io.WriteString(w, emptyPayload)
	}
	_, _ = fmt.Fprintf(w, `</m:%sResponseMessage>`, op)
}

// Common per-item errors, with the texts Exchange sends.
func errItemNotFound() *respError {
	return &respError{code: "ErrorItemNotFound", text: "The specified object was not found in the store."}
}

func errFolderNotFound() *respError {
	return &respError{code: "ErrorFolderNotFound", text: "The specified folder could not be found in the store."}
}

func errIDMalformed() *respError {
	return &respError{code: "ErrorInvalidIdMalformed", text: "Id is malformed."}
}

func errAccessDenied() *respError {
	return &respError{code: "ErrorAccessDenied", text: "Access is denied. Check credentials and try again."}
}

// sequence checks that the child elements of n are drawn from allowed, in
// that order, each at most once unless repeatable, and that the required
// ones are there; it returns the ErrorSchemaValidation fault Exchange's
// schema validator would. Each entry of allowed is a namespace-qualified
// choice group: names separated by "|".
func sequence(n *xnode, required map[string]bool, allowed ...string) *soapFault {
	pos := 0
	seen := make(map[string]bool)
	for i := range n.Nodes {
		c := &n.Nodes[i]
		found := -1
		for j := pos; j < len(allowed); j++ {
			for _, name := range strings.Split(allowed[j], "|") {
				space, local := splitQName(name)
				if c.XMLName.Space == space && c.XMLName.Local == local {
					found = j
				}
			}
			if found >= 0 {
				break
			}
		}
		if found < 0 || (found == pos && seen[allowed[found]] && !strings.HasSuffix(allowed[found], "*")) {
			var expected []string
			for j := pos; j < len(allowed); j++ {
				for _, name := range strings.Split(allowed[j], "|") {
					space, local := splitQName(name)
					expected = append(expected, space+":"+strings.TrimSuffix(local, "*"))
				}
			}
			return schemaFault(1, 1, fmt.Sprintf("The element '%s' in namespace '%s' has invalid child element '%s' in namespace '%s'. List of possible elements expected: '%s'.",
				n.XMLName.Local, n.XMLName.Space, c.XMLName.Local, c.XMLName.Space, strings.Join(expected, "', '")))
		}
		pos = found
		seen[allowed[found]] = true
	}
	for j, group := range allowed {
		if required[group] && !seen[allowed[j]] {
			space, local := splitQName(strings.Split(group, "|")[0])
			return schemaFault(1, 1, fmt.Sprintf("The element '%s' in namespace '%s' has incomplete content. List of possible elements expected: '%s' in namespace '%s'.",
				n.XMLName.Local, n.XMLName.Space, local, space))
		}
	}
	return nil
}

// splitQName splits "m:Name" or "t:Name" into namespace and local name.
func splitQName(q string) (string, string) {
	prefix, local, _ := strings.Cut(q, ":")
	local = strings.TrimSuffix(local, "*")
	if prefix == "m" {
		return nsMessages, local
	}
	return nsTypes, local
}
