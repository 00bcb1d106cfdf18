package ews

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/synapse-go/synapse/internal/httpx"
)

// SOAP envelopes of the EWS requests the connector sends, and decoding of
// the answers. Requests use the prefixes exchangelib and the EWS Managed
// API use (s, m, t) and the element order of the EWS schema; answers are
// matched on local names, so that a server writing a default namespace
// instead of prefixes (Exchange 2007), or Microsoft's examples' https://
// envelope namespace, decode alike.

const (
	ewsNSSOAP     = "http://schemas.xmlsoap.org/soap/envelope/"
	ewsNSMessages = "http://schemas.microsoft.com/exchange/services/2006/messages"
	ewsNSTypes    = "http://schemas.microsoft.com/exchange/services/2006/types"
)

// ewsEnvelope builds a request envelope around one operation.
type ewsEnvelope struct {
	version     string
	impersonate string // SMTP address for ExchangeImpersonation, or ""
	b           bytes.Buffer
}

func (m *EWSMailbox) envelope() *ewsEnvelope {
	e := &ewsEnvelope{version: m.cfg.ServerVersion}
	if m.cfg.Impersonate {
		e.impersonate = m.cfg.Mailbox
	}
	e.b.WriteString(`<?xml version="1.0" encoding="utf-8"?>`)
	e.b.WriteString(`<s:Envelope xmlns:s="` + ewsNSSOAP + `" xmlns:m="` + ewsNSMessages + `" xmlns:t="` + ewsNSTypes + `">`)
	e.b.WriteString(`<s:Header><t:RequestServerVersion Version="` + xmlEscape(e.version) + `"/>`)
	if e.impersonate != "" {
		e.b.WriteString(`<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>` +
			xmlEscape(e.impersonate) + `</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`)
	}
	e.b.WriteString(`</s:Header><s:Body>`)
	return e
}

// raw appends already-escaped XML.
func (e *ewsEnvelope) raw(s string) *ewsEnvelope { e.b.WriteString(s); return e }

// text appends escaped character data.
func (e *ewsEnvelope) text(s string) *ewsEnvelope { e.b.WriteString(xmlEscape(s)); return e }

// bytes closes the envelope and returns it.
func (e *ewsEnvelope) bytes() []byte {
	e.b.WriteString(`</s:Body></s:Envelope>`)
	return e.b.Bytes()
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// ewsTime formats a time as an xs:dateTime constant.
func ewsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// ---- decoding ----

// ewsAnswer is a decoded (non-streamed) response envelope.
type ewsAnswer struct {
	Body struct {
		Fault    *ewsFaultXML `xml:"Fault"`
		Response struct {
			Messages struct {
				List []ewsResponseMessage `xml:",any"`
			} `xml:"ResponseMessages"`
		} `xml:",any"`
	} `xml:"Body"`
}

type ewsFaultXML struct {
	FaultCode   string `xml:"faultcode"`
	FaultString string `xml:"faultstring"`
	Detail      struct {
		ResponseCode string        `xml:"ResponseCode"`
		Message      string        `xml:"Message"`
		MessageXML   ewsMessageXML `xml:"MessageXml"`
	} `xml:"detail"`
}

// code is the fault's EWS response code, or its SOAP fault code when the
// detail holds none.
func (f *ewsFaultXML) code() string {
	if strings.TrimSpace(f.Detail.ResponseCode) == "" {
		return f.FaultCode
	}
	return f.Detail.ResponseCode
}

// ewsMessageXML holds the t:Value elements of an m:MessageXml or
// t:MessageXml.
type ewsMessageXML struct {
	Values []struct {
		Name  string `xml:"Name,attr"`
		Value string `xml:",chardata"`
	} `xml:"Value"`
}

func (x ewsMessageXML) value(name string) string {
	for _, v := range x.Values {
		if v.Name == name {
			return strings.TrimSpace(v.Value)
		}
	}
	return ""
}

// ewsResponseMessage is one <m:XxxResponseMessage>.
type ewsResponseMessage struct {
	XMLName      xml.Name
	Class        string        `xml:"ResponseClass,attr"`
	MessageText  string        `xml:"MessageText"`
	ResponseCode string        `xml:"ResponseCode"`
	MessageXML   ewsMessageXML `xml:"MessageXml"`
	RootFolder   *struct {
		IndexedPagingOffset     string        `xml:"IndexedPagingOffset,attr"`
		TotalItemsInView        string        `xml:"TotalItemsInView,attr"`
		IncludesLastItemInRange string        `xml:"IncludesLastItemInRange,attr"`
		Items                   ewsItemList   `xml:"Items"`
		Folders                 ewsFolderList `xml:"Folders"`
	} `xml:"RootFolder"`
	Folders ewsFolderList `xml:"Folders"`
	Items   ewsItemList   `xml:"Items"`
}

// ewsItemList holds items of any class (Message, MeetingRequest, ...).
type ewsItemList struct {
	List []ewsItemXML `xml:",any"`
}

// ewsFolderList holds folders of any class (Folder, CalendarFolder, ...).
type ewsFolderList struct {
	List []ewsFolderXML `xml:",any"`
}

type ewsIDXML struct {
	ID        string `xml:"Id,attr"`
	ChangeKey string `xml:"ChangeKey,attr"`
}

type ewsItemXML struct {
	XMLName           xml.Name
	ItemID            ewsIDXML `xml:"ItemId"`
	ParentFolderID    ewsIDXML `xml:"ParentFolderId"`
	Subject           string   `xml:"Subject"`
	DateTimeReceived  string   `xml:"DateTimeReceived"`
	Size              string   `xml:"Size"`
	Categories        []string `xml:"Categories>String"`
	ConversationID    ewsIDXML `xml:"ConversationId"`
	InternetMessageID string   `xml:"InternetMessageId"`
	IsRead            string   `xml:"IsRead"`
}

type ewsFolderXML struct {
	XMLName     xml.Name
	FolderID    ewsIDXML `xml:"FolderId"`
	DisplayName string   `xml:"DisplayName"`
}

// ok reports whether the message succeeded. EWS Warning results (a batch
// stopped early) are failures for the single-item requests sent here.
func (r *ewsResponseMessage) ok() bool { return r.Class == "Success" }

// err turns a failed response message into a *ServerError.
func (r *ewsResponseMessage) err() error {
	return ewsServerError(http.StatusOK, r.ResponseCode, r.MessageText, r.MessageXML)
}

// ewsServerError builds the *ServerError of an EWS response code. An
// ErrorInternalServerError that wraps ErrorServerBusy is reported as the
// inner code, since that is what the client must act on.
func ewsServerError(status int, code, text string, mx ewsMessageXML) *ServerError {
	code = strings.TrimSpace(code)
	if i := strings.LastIndexByte(code, ':'); i >= 0 {
		code = code[i+1:] // a fault code is a QName such as a:ErrorServerBusy
	}
	text = strings.TrimSpace(text)
	if inner := mx.value("InnerErrorResponseCode"); inner != "" && code == "ErrorInternalServerError" {
		code = inner
		if t := mx.value("InnerErrorMessageText"); t != "" {
			text = t
		}
	}
	se := &ServerError{Code: code, Message: text, StatusCode: status, Kind: ewsErrorKind(code)}
	if ms, err := strconv.ParseInt(mx.value("BackOffMilliseconds"), 10, 64); err == nil && ms > 0 {
		se.RetryAfter = time.Duration(ms) * time.Millisecond
	}
	return se
}

// ewsErrorKind maps an EWS response code to a shared sentinel.
func ewsErrorKind(code string) error {
	switch code {
	case "ErrorFolderNotFound":
		return ErrFolderNotFound
	case "ErrorItemNotFound":
		return ErrMessageNotFound
	case "ErrorInvalidIdMalformed", "ErrorInvalidIdEmpty", "ErrorInvalidIdNotAnItemAttachmentId",
		"ErrorInvalidIdXml", "ErrorInvalidIdReturnedByResolveNames", "ErrorInvalidIdTooManyAttachmentLevels",
		"ErrorInvalidIdMonikerTooLong":
		return ErrInvalidID
	case "ErrorAccessDenied", "ErrorImpersonateUserDenied", "ErrorImpersonationDenied",
		"ErrorImpersonationFailed", "ErrorInvalidLicense", "ErrorProxyRequestNotAllowed":
		return ErrAuth
	case "ErrorServerBusy", "ErrorExceededConnectionCount", "ErrorTooManyObjectsOpened":
		return ErrThrottled
	case "ErrorStaleObject", "ErrorIrresolvableConflict", "ErrorChangeKeyRequiredForWriteOperations",
		"ErrorInvalidChangeKey":
		return ErrStale
	case "ErrorInvalidServerVersion", "ErrorIncorrectSchemaVersion", "ErrorInvalidSchemaVersionForMailboxVersion":
		return ErrUnsupported
	}
	return nil
}

// ewsDecodeHTTPError turns a non-2xx answer into a *ServerError: a SOAP
// fault (HTTP 500 with an XML body), an authentication failure, a busy
// server, or a gateway or IIS error page.
func ewsDecodeHTTPError(re *httpx.ResponseError) error {
	se := &ServerError{StatusCode: re.StatusCode, RetryAfter: re.RetryAfter, Err: re}
	var ans ewsAnswer
	if bytes.Contains(re.Body, []byte("Envelope")) && xml.Unmarshal(re.Body, &ans) == nil && ans.Body.Fault != nil {
		f := ans.Body.Fault
		text := f.FaultString
		if text == "" {
			text = f.Detail.Message
		}
		fse := ewsServerError(re.StatusCode, f.code(), text, f.Detail.MessageXML)
		fse.Err = re
		if fse.RetryAfter == 0 {
			fse.RetryAfter = re.RetryAfter
		}
		return fse
	}
	switch re.StatusCode {
	case http.StatusUnauthorized:
		se.Kind = ErrAuth
		se.Message = "the server refused the credentials"
		if d := re.Header.Get("X-Ms-Diagnostics"); d != "" {
			se.Message += " (" + d + ")"
		}
	case http.StatusForbidden:
		se.Kind = ErrAuth
		se.Message = "access to EWS is forbidden for this account"
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		se.Kind = ErrThrottled
		se.Message = "the server is busy"
	default:
		se.Message = http.StatusText(re.StatusCode)
	}
	if cas := re.Header.Get("X-Casererrorcode"); cas != "" {
		se.Code = cas
	}
	if se.StatusCode == http.StatusInternalServerError && bytes.Contains(re.Body, []byte("Server Error in '/EWS' Application")) {
		se.Message = "Server Error in '/EWS' Application"
	}
	return se
}

// decodeEWSAnswer decodes a 200 answer and returns its response messages,
// or the fault it carries.
func decodeEWSAnswer(body []byte) ([]ewsResponseMessage, error) {
	var ans ewsAnswer
	if err := xml.Unmarshal(body, &ans); err != nil {
		return nil, fmt.Errorf("decoding the answer: %w", err)
	}
	if f := ans.Body.Fault; f != nil {
		return nil, ewsServerError(http.StatusOK, f.code(), f.FaultString, f.Detail.MessageXML)
	}
	return ans.Body.Response.Messages.List, nil
}
