package thehive_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/synapse-go/synapse/thehive"
)

// pattern yields an endless run of bytes without allocating.
type pattern struct{}

func (pattern) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	return len(p), nil
}

// BenchmarkUploadFileObservable streams a 64 MiB file observable to a
// server that discards it. B/op stays a small fraction of the file size:
// the file is never held in memory.
func BenchmarkUploadFileObservable(b *testing.B) {
	const size = 64 << 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, list(fileObservableJSON))
	}))
	defer srv.Close()
	c, err := thehive.NewClient(srv.URL, thehive.WithAPIKey(pinKey))
	if err != nil {
		b.Fatal(err)
	}
	in := &thehive.ObservableCreate{DataType: thehive.DataFile, File: &thehive.File{
		Name: "big.bin", Size: size,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(io.LimitReader(pattern{}, size)), nil },
	}}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Observables.AddToCase(b.Context(), "~1", in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseEvent parses a TheHive 5 case-closing notification.
func BenchmarkParseEvent(b *testing.B) {
	payload := samples(b)["th5-case-closed"]
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		e, err := thehive.ParseEvent(payload)
		if err != nil || !e.IsCaseClosed() {
			b.Fatal(err)
		}
	}
}
