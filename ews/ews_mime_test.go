package ews

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// getItemAnswer wraps a GetItem response message in an envelope shaped like
// Exchange 2016's.
func getItemAnswer(message string) string {
	return `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">` +
		`<s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6" Version="V2017_07_11" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"/></s:Header>` +
		`<s:Body><m:GetItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">` +
		`<m:ResponseMessages>` + message + `</m:ResponseMessages></m:GetItemResponse></s:Body></s:Envelope>`
}

func successWith(mime string) string {
	return getItemAnswer(`<m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:Message>` +
		`<t:MimeContent CharacterSet="UTF-8">` + mime + `</t:MimeContent><t:ItemId Id="AAMkAGM2" ChangeKey="CQAAABYA"/></t:Message></m:Items></m:GetItemResponseMessage>`)
}

const sampleMIME = "Received: from mx.example.com\r\nSubject: Phishing report\r\nMessage-ID: <a@b>\r\n\r\nHello.\r\n"

func TestEWSOpenMime(t *testing.T) {
	t.Parallel()
	b64 := base64.StdEncoding.EncodeToString([]byte(sampleMIME))
	wrapped := b64[:20] + "\r\n" + b64[20:40] + "\n \t" + b64[40:]
	withRefs := b64[:10] + "&#13;&#10;" + b64[10:20] + "&#xA;" + strings.NewReplacer("+", "&#43;", "/", "&#x2F;").Replace(b64[20:])
	tests := []struct {
		name    string
		body    string
		want    string
		wantErr string // substring of the error; "" for success
		code    string // ServerError code expected
	}{
		{name: "Plain", body: successWith(b64), want: sampleMIME},
		{name: "LineBreaksAndSpaces", body: successWith(wrapped), want: sampleMIME},
		{name: "CharacterReferences", body: successWith(withRefs), want: sampleMIME},
		{name: "DefaultNamespaces", body: `<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body>` +
			`<GetItemResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><ResponseMessages>` +
			`<GetItemResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode><Items>` +
			`<Message xmlns="http://schemas.microsoft.com/exchange/services/2006/types"><MimeContent CharacterSet="UTF-8">` + b64 +
			`</MimeContent></Message></Items></GetItemResponseMessage></ResponseMessages></GetItemResponse></Body></Envelope>`, want: sampleMIME},
		{name: "HTTPSEnvelopeNamespace", body: strings.Replace(successWith(b64), "http://schemas.xmlsoap.org", "https://schemas.xmlsoap.org", 1), want: sampleMIME},
		{name: "ItemNotFound", body: getItemAnswer(`<m:GetItemResponseMessage ResponseClass="Error"><m:MessageText>The specified object was not found in the store.</m:MessageText>` +
			`<m:ResponseCode>ErrorItemNotFound</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:Items /></m:GetItemResponseMessage>`),
			wantErr: "not found in the store", code: "ErrorItemNotFound"},
		{name: "BusyWithBackOff", body: getItemAnswer(`<m:GetItemResponseMessage ResponseClass="Error"><m:MessageText>busy</m:MessageText>` +
			`<m:ResponseCode> ErrorServerBusy </m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>` +
			`<m:MessageXml><t:Value Name="BackOffMilliseconds">1200</t:Value></m:MessageXml><m:Items /></m:GetItemResponseMessage>`),
			wantErr: "busy", code: "ErrorServerBusy"},
		{name: "FaultIn200", body: `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>` +
			`<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorSchemaValidation</faultcode>` +
			`<faultstring xml:lang="en-US">The request failed schema validation.</faultstring></s:Fault></s:Body></s:Envelope>`,
			wantErr: "schema validation", code: "ErrorSchemaValidation"},
		{name: "EmptyMimeContent", body: successWith("")[:strings.Index(successWith(""), "<t:MimeContent")] + `<t:MimeContent CharacterSet="UTF-8"/></t:Message></m:Items></m:GetItemResponseMessage></m:ResponseMessages></m:GetItemResponse></s:Body></s:Envelope>`,
			wantErr: "empty MimeContent"},
		{name: "NoMimeContent", body: getItemAnswer(`<m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:Message><t:ItemId Id="x"/></t:Message></m:Items></m:GetItemResponseMessage>`),
			wantErr: "no MimeContent"},
		{name: "Truncated", body: successWith(b64)[:strings.Index(successWith(b64), b64)+12], wantErr: "ended inside MimeContent"},
		{name: "NotBase64", body: successWith("!!!!"), wantErr: "illegal base64"},
		{name: "NamedEntity", body: successWith(b64[:8] + "&amp;" + b64[8:]), wantErr: "unexpected reference"},
		{name: "NotXML", body: "<html>Server Error in '/EWS' Application</html>", wantErr: "decoding the GetItem answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc, err := ewsOpenMime(io.NopCloser(strings.NewReader(tt.body)))
			var got []byte
			if err == nil {
				got, err = io.ReadAll(rc)
				rc.Close()
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, string(got)); diff != "" {
					t.Errorf("content mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			var se *ServerError
			if tt.code != "" && (!errors.As(err, &se) || se.Code != tt.code) {
				t.Errorf("error = %#v, want a ServerError with code %s", err, tt.code)
			}
		})
	}
}

// TestEWSOpenMimeSmallReads reads the stream one byte at a time, so that
// every boundary (between chunks, inside a character reference) is
// crossed.
func TestEWSOpenMimeSmallReads(t *testing.T) {
	t.Parallel()
	b64 := base64.StdEncoding.EncodeToString([]byte(sampleMIME))
	body := successWith(b64[:5] + "&#10;" + b64[5:])
	rc, err := ewsOpenMime(io.NopCloser(io.MultiReader(strings.NewReader(body[:len(body)/2]), strings.NewReader(body[len(body)/2:]))))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	p := make([]byte, 1)
	for {
		n, err := rc.Read(p)
		got.Write(p[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got.String() != sampleMIME {
		t.Errorf("read %q, want %q", got.String(), sampleMIME)
	}
}

func TestEWSServerErrorFromFault(t *testing.T) {
	t.Parallel()
	// The throttling fault exchangelib's tests hold, as captured from a
	// server.
	body := []byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>` +
		`<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorServerBusy</faultcode>` +
		`<faultstring xml:lang="en-US">The server cannot service this request right now. Try again later.</faultstring>` +
		`<detail><e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorServerBusy</e:ResponseCode>` +
		`<e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">The server cannot service this request right now. Try again later.</e:Message>` +
		`<t:MessageXml xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><t:Value Name="BackOffMilliseconds">297749</t:Value></t:MessageXml>` +
		`</detail></s:Fault></s:Body></s:Envelope>`)
	_, err := decodeEWSAnswer(body)
	want := &ServerError{Code: "ErrorServerBusy", Message: "The server cannot service this request right now. Try again later.",
		StatusCode: 200, RetryAfter: 297749e6, Kind: ErrThrottled}
	se, ok := err.(*ServerError)
	if !ok {
		t.Fatalf("error = %#v, want a *ServerError", err)
	}
	if diff := cmp.Diff(want, se, cmpopts.IgnoreFields(ServerError{}, "Kind")); diff != "" {
		t.Errorf("decoded fault mismatch (-want +got):\n%s", diff)
	}
	if se.Kind != ErrThrottled {
		t.Errorf("Kind = %v, want ErrThrottled", se.Kind)
	}
}

// FuzzEWSOpenMime feeds arbitrary answers to the streaming decoder: it
// must return an error or a reader, never panic, and never read past the
// answer.
func FuzzEWSOpenMime(f *testing.F) {
	b64 := base64.StdEncoding.EncodeToString([]byte(sampleMIME))
	f.Add(successWith(b64))
	f.Add(successWith(b64[:7] + "&#xD;&#xA;" + b64[7:]))
	f.Add(getItemAnswer(`<m:GetItemResponseMessage ResponseClass="Error"><m:MessageText>x</m:MessageText><m:ResponseCode>ErrorItemNotFound</m:ResponseCode></m:GetItemResponseMessage>`))
	f.Add(`<s:Envelope><s:Body><s:Fault><faultcode>a:ErrorServerBusy</faultcode></s:Fault></s:Body></s:Envelope>`)
	f.Fuzz(func(t *testing.T, body string) {
		rc, err := ewsOpenMime(io.NopCloser(strings.NewReader(body)))
		if err != nil {
			return
		}
		defer rc.Close()
		got, _ := io.ReadAll(io.LimitReader(rc, int64(len(body))+1))
		if len(got) > len(body) {
			t.Errorf("decoded %d bytes from a %d-byte answer", len(got), len(body))
		}
	})
}

// FuzzEWSDecodeAnswer feeds arbitrary answers to the whole-answer decoder.
func FuzzEWSDecodeAnswer(f *testing.F) {
	f.Add(getItemAnswer(`<m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:Message><t:ItemId Id="x"/></t:Message></m:Items></m:GetItemResponseMessage>`))
	f.Add(`<s:Envelope><s:Body><s:Fault><faultcode>a:ErrorServerBusy</faultcode><detail><MessageXml><Value Name="BackOffMilliseconds">-5</Value></MessageXml></detail></s:Fault></s:Body></s:Envelope>`)
	f.Fuzz(func(t *testing.T, body string) {
		msgs, err := decodeEWSAnswer([]byte(body))
		for i := range msgs {
			if !msgs[i].ok() {
				if se, ok := msgs[i].err().(*ServerError); !ok || se.RetryAfter < 0 {
					t.Errorf("response message %d gave %v", i, msgs[i].err())
				}
			}
		}
		if se, ok := err.(*ServerError); ok && se.RetryAfter < 0 {
			t.Errorf("negative RetryAfter %v", se.RetryAfter)
		}
	})
}

// BenchmarkEWSOpenMime decodes a 16 MB message from an in-memory answer, to
// follow the decoder's own throughput and allocations.
func BenchmarkEWSOpenMime(b *testing.B) {
	raw := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyz\r\n"), (16<<20)/38)
	body := []byte(successWith(base64.StdEncoding.EncodeToString(raw)))
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		rc, err := ewsOpenMime(io.NopCloser(bytes.NewReader(body)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, rc, buf); err != nil {
			b.Fatal(err)
		}
	}
}
