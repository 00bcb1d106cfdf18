package thehive_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/synapse-go/synapse/thehive"
)

// onlyReader hides every method of a reader but Read, so that it cannot be
// rewound.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestFileObservableIsMultipart(t *testing.T) {
	t.Parallel()
	ps := newPinServer(t, ok(201, list(fileObservableJSON)))
	c := newClient(t, ps.URL+basePath)
	obs, err := c.Observables.AddToCase(ctx(t), "~4104", &thehive.ObservableCreate{
		DataType: thehive.DataFile, Message: "original mail", Tags: []string{"mail"},
		File: &thehive.File{Name: "mail.eml", ContentType: "message/rfc822", Reader: strings.NewReader("hello world")},
	})
	if err != nil {
		t.Fatal(record(err))
	}
	if len(obs) != 1 || obs[0].Attachment == nil || obs[0].Attachment.Name != "mail.eml" || obs[0].Attachment.SHA256() != "aa" {
		t.Fatalf("decoded %+v", obs)
	}
	r := ps.last(t)
	if r.Method != "POST" || r.Path != basePath+"/api/v1/case/~4104/observable" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	if r.Length != int64(len(r.Body)) {
		t.Errorf("Content-Length %d for %d bytes: a seekable file's size is known", r.Length, len(r.Body))
	}
	want := []part{
		{Name: "_json", Data: `{"dataType":"file","message":"original mail","tags":["mail"]}`},
		{Name: "attachment", FileName: "mail.eml", ContentType: "message/rfc822", Data: "hello world"},
	}
	if diff := cmp.Diff(want, partsOf(t, r)); diff != "" {
		t.Errorf("parts (-want +got):\n%s", diff)
	}
}

func TestAlertWithFileObservablesIsMultipart(t *testing.T) {
	t.Parallel()
	ps := newPinServer(t, ok(201, alertJSON))
	c := newClient(t, ps.URL+basePath)
	_, err := c.Alerts.Create(ctx(t), &thehive.AlertCreate{
		Type: "mail", Source: "imap", SourceRef: "<id@x>", Title: "t", Description: "d",
		Observables: []thehive.ObservableCreate{
			{DataType: "file", File: &thehive.File{Name: "a.pdf", Reader: bytes.NewReader([]byte("%PDF"))}},
			{DataType: "mail", Data: []string{"eve@example.org"}},
			{DataType: "file", File: &thehive.File{Name: "b.txt", ContentType: "text/plain", Size: 2,
				Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("hi")), nil }}},
		},
	})
	if err != nil {
		t.Fatal(record(err))
	}
	parts := partsOf(t, ps.last(t))
	if len(parts) != 3 {
		t.Fatalf("%d parts, want 3", len(parts))
	}
	wantJSON := jsonOf(t, []byte(`{"type":"mail","source":"imap","sourceRef":"<id@x>","title":"t","description":"d",
		"observables":[{"dataType":"file","attachment":"attachment0"},{"dataType":"mail","data":"eve@example.org"},
		{"dataType":"file","attachment":"attachment1"}]}`))
	if parts[0].Name != "_json" || parts[0].FileName != "" {
		t.Errorf("first part %+v, want the _json field", parts[0])
	}
	if diff := cmp.Diff(wantJSON, jsonOf(t, []byte(parts[0].Data))); diff != "" {
		t.Errorf("_json (-want +got):\n%s", diff)
	}
	wantFiles := []part{
		{Name: "attachment0", FileName: "a.pdf", ContentType: "application/octet-stream", Data: "%PDF"},
		{Name: "attachment1", FileName: "b.txt", ContentType: "text/plain", Data: "hi"},
	}
	if diff := cmp.Diff(wantFiles, parts[1:]); diff != "" {
		t.Errorf("file parts (-want +got):\n%s", diff)
	}
}

func TestTaskLogWithAttachmentsIsMultipart(t *testing.T) {
	t.Parallel()
	ps := newPinServer(t, ok(201, logJSON))
	c := newClient(t, ps.URL+basePath)
	l, err := c.TaskLogs.Create(ctx(t), "~500", &thehive.LogCreate{
		Message: "From: a@b", StartDate: t0,
		Attachments: []thehive.File{
			{Name: "mail.eml", ContentType: "message/rfc822", Reader: onlyReader{strings.NewReader("raw mail")}},
			{Name: "notes.txt", Reader: strings.NewReader("n")},
		},
	})
	if err != nil {
		t.Fatal(record(err))
	}
	if len(l.Attachments) != 1 || l.Attachments[0].ID != "~601" || !l.Date.Equal(t0) {
		t.Errorf("decoded %+v", l)
	}
	r := ps.last(t)
	if r.Path != basePath+"/api/v1/task/~500/log" {
		t.Errorf("path %s", r.Path)
	}
	if r.Length != -1 {
		t.Errorf("Content-Length %d, want a chunked body: a one-shot reader's size is unknown", r.Length)
	}
	want := []part{
		{Name: "_json", Data: `{"message":"From: a@b","startDate":1700000000000}`},
		{Name: "attachments", FileName: "mail.eml", ContentType: "message/rfc822", Data: "raw mail"},
		{Name: "attachments", FileName: "notes.txt", ContentType: "application/octet-stream", Data: "n"},
	}
	if diff := cmp.Diff(want, partsOf(t, r)); diff != "" {
		t.Errorf("parts (-want +got):\n%s", diff)
	}
}

func TestInvalidFiles(t *testing.T) {
	t.Parallel()
	c := newClient(t, "http://127.0.0.1:1")
	for name, f := range map[string]*thehive.File{
		"no name":         {Reader: strings.NewReader("x")},
		"no content":      {Name: "a"},
		"reader and open": {Name: "a", Reader: strings.NewReader("x"), Open: func() (io.ReadCloser, error) { return nil, nil }},
		"negative size":   {Name: "a", Size: -2, Reader: strings.NewReader("x")},
		"blank name":      {Name: "  ", Reader: strings.NewReader("x")},
	} {
		_, err := c.Observables.AddToCase(ctx(t), "~1", &thehive.ObservableCreate{DataType: "file", File: f})
		if !errors.Is(record(err), thehive.ErrInvalidParams) {
			t.Errorf("%s: error %v, want ErrInvalidParams", name, err)
		}
	}
}

func TestAnnouncedSizeMismatchFails(t *testing.T) {
	t.Parallel()
	ps := newPinServer(t, ok(201, list(fileObservableJSON)))
	c := newClient(t, ps.URL+basePath)
	_, err := c.Observables.AddToCase(ctx(t), "~1", &thehive.ObservableCreate{
		DataType: "file",
		File:     &thehive.File{Name: "a", Size: 100, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("short")), nil }},
	})
	if record(err) == nil {
		t.Fatal("a source shorter than its announced size was sent")
	}
}

// TestRetries shows which calls are retried after a 503: reads, updates,
// deletions and queries always; creations only when marked SafeToRetry.
func TestRetries(t *testing.T) {
	t.Parallel()
	unavailable := answer{status: 503, body: `{"type":"InternalError","message":"busy"}`}
	tests := []struct {
		name    string
		call    func(*thehive.Client) error
		success answer
		tries   int
	}{
		{"create case", func(c *thehive.Client) error {
			return drop(c.Cases.Create(ctx(t), &thehive.CaseCreate{Title: "t", Description: "d"}))
		}, ok(201, caseJSON), 1},
		{"create case marked safe", func(c *thehive.Client) error {
			return drop(c.Cases.Create(ctx(t), &thehive.CaseCreate{Title: "t", Description: "d"}, thehive.SafeToRetry()))
		}, ok(201, caseJSON), 2},
		{"create alert", func(c *thehive.Client) error {
			return drop(c.Alerts.Create(ctx(t), &thehive.AlertCreate{Type: "a", Source: "b", SourceRef: "c", Title: "t", Description: "d"}))
		}, ok(201, alertJSON), 1},
		{"create task log", func(c *thehive.Client) error {
			return drop(c.TaskLogs.Create(ctx(t), "~1", &thehive.LogCreate{Message: "m"}))
		}, ok(201, logJSON), 1},
		{"promote", func(c *thehive.Client) error { return drop(c.Alerts.Promote(ctx(t), "~1", nil)) }, ok(201, caseJSON), 1},
		{"merge alert", func(c *thehive.Client) error { return drop(c.Alerts.MergeIntoCase(ctx(t), "~1", "~2")) }, ok(200, caseJSON), 1},
		{"get", func(c *thehive.Client) error { return drop(c.Cases.Get(ctx(t), "~1")) }, ok(200, caseJSON), 2},
		{"update", func(c *thehive.Client) error {
			return c.Cases.Update(ctx(t), "~1", &thehive.CaseUpdate{Title: thehive.Ptr("x")})
		}, noContent, 2},
		{"delete", func(c *thehive.Client) error { return c.Alerts.Delete(ctx(t), "~1") }, noContent, 2},
		{"query", func(c *thehive.Client) error { return drop(c.Cases.Find(ctx(t), nil)) }, ok(200, "[]"), 2},
		{"follow", func(c *thehive.Client) error { return c.Alerts.Follow(ctx(t), "~1") }, noContent, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ps := newPinServer(t, unavailable, tc.success)
			c := newClient(t, ps.URL+basePath)
			err := record(tc.call(c))
			if got := len(ps.requests()); got != tc.tries {
				t.Fatalf("%d attempts, want %d", got, tc.tries)
			}
			if tc.tries == 1 {
				var ae *thehive.APIError
				if !errors.As(err, &ae) || ae.StatusCode != 503 || ae.Type != "InternalError" || !ae.Temporary() {
					t.Fatalf("error %v, want the 503 APIError", err)
				}
			} else if err != nil {
				t.Fatalf("retried call failed: %v", err)
			}
		})
	}
}

// TestRetriedUploadResendsIdenticalBytes uploads a file observable marked
// SafeToRetry from a seekable reader, an opener and a plain reader; the
// server fails the first attempt with a 503.
func TestRetriedUploadResendsIdenticalBytes(t *testing.T) {
	t.Parallel()
	content := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	tests := []struct {
		name  string
		file  func(opened *atomic.Int32) *thehive.File
		tries int
	}{
		{"seekable reader", func(*atomic.Int32) *thehive.File {
			return &thehive.File{Name: "big.bin", Reader: bytes.NewReader(content)}
		}, 2},
		{"opener", func(opened *atomic.Int32) *thehive.File {
			return &thehive.File{Name: "big.bin", Size: int64(len(content)), Open: func() (io.ReadCloser, error) {
				opened.Add(1)
				return io.NopCloser(bytes.NewReader(content)), nil
			}}
		}, 2},
		{"one-shot reader", func(*atomic.Int32) *thehive.File {
			return &thehive.File{Name: "big.bin", Reader: onlyReader{bytes.NewReader(content)}}
		}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ps := newPinServer(t, answer{status: 503, header: map[string]string{"Retry-After": "0"}}, ok(201, list(fileObservableJSON)))
			c := newClient(t, ps.URL+basePath)
			var opened atomic.Int32
			_, err := c.Observables.AddToCase(ctx(t), "~1",
				&thehive.ObservableCreate{DataType: "file", File: tc.file(&opened)}, thehive.SafeToRetry())
			reqs := ps.requests()
			if len(reqs) != tc.tries {
				t.Fatalf("%d attempts, want %d (error %v)", len(reqs), tc.tries, record(err))
			}
			if tc.tries == 1 {
				var ae *thehive.APIError
				if !errors.As(record(err), &ae) || ae.StatusCode != 503 {
					t.Fatalf("one-shot upload answered 503: error %v, want the 503", err)
				}
				return
			}
			if err != nil {
				t.Fatal(record(err))
			}
			first, second := sha256.Sum256(reqs[0].Body), sha256.Sum256(reqs[1].Body)
			if first != second {
				t.Fatal("the retried upload sent different bytes")
			}
			parts := partsOf(t, reqs[1])
			if len(parts) != 2 || parts[1].Data != string(content) {
				t.Fatal("the retried upload lost the file's content")
			}
			if tc.name == "opener" && opened.Load() != 2 {
				t.Errorf("opener called %d times, want 2", opened.Load())
			}
		})
	}
}

func TestDeleteRetriedAfterLostAnswerSucceeds(t *testing.T) {
	t.Parallel()
	ps := newPinServer(t, answer{status: 502}, ok(404, `{"type":"NotFoundError","message":"Alert ~1 not found"}`))
	c := newClient(t, ps.URL+basePath)
	if err := c.Alerts.Delete(ctx(t), "~1"); err != nil {
		t.Fatalf("delete whose retry found nothing: %v", record(err))
	}
	ps2 := newPinServer(t, ok(404, `{"type":"NotFoundError","message":"Alert ~1 not found"}`))
	c2 := newClient(t, ps2.URL+basePath)
	errIs(t, c2.Alerts.Delete(ctx(t), "~1"), thehive.ErrNotFound)
}

func TestRetryAfterIsReported(t *testing.T) {
	t.Parallel()
	ps := newPinServer(t, answer{status: 429, body: `{"type":"TooManyRequests","message":"slow down"}`, header: map[string]string{"Retry-After": "0"}})
	c := newClient(t, ps.URL+basePath, thehive.WithRetryPolicy(thehive.RetryPolicy{MaxRetries: -1}))
	_, err := c.Cases.Get(ctx(t), "~1")
	errIs(t, err, thehive.ErrRateLimited)
	var ae *thehive.APIError
	if !errors.As(err, &ae) || ae.Attempts != 1 || !ae.Temporary() {
		t.Fatalf("%#v", err)
	}
	if len(ps.requests()) != 1 {
		t.Fatalf("MaxRetries -1 still retried: %d attempts", len(ps.requests()))
	}
	_ = http.StatusOK
}
