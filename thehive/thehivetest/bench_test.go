package thehivetest_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

// benchPost sends a JSON body and fails the benchmark on an unexpected
// status.
func benchPost(b *testing.B, hc *http.Client, url, body string, want int) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+thehivetest.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Errorf("status %d, want %d", resp.StatusCode, want)
	}
}

// BenchmarkCreateCase measures one case creation over HTTP.
func BenchmarkCreateCase(b *testing.B) {
	srv := thehivetest.NewServer(b)
	hc := &http.Client{}
	b.ReportAllocs()
	for b.Loop() {
		benchPost(b, hc, srv.URL()+"/api/v1/case", `{"title": "t", "description": "d", "tags": ["x"]}`, http.StatusCreated)
	}
}

// BenchmarkQueryByCustomField measures the lookup a mail workflow makes
// for every message: the case whose thread custom field matches, among
// 1000 cases.
func BenchmarkQueryByCustomField(b *testing.B) {
	srv := thehivetest.NewServer(b, thehivetest.WithCustomField(thehivetest.CustomField{Name: "thread", Type: "string"}))
	hc := &http.Client{}
	for i := range 1000 {
		benchPost(b, hc, srv.URL()+"/api/v1/case", fmt.Sprintf(`{"title": "t", "description": "d", "customFields": {"thread": "<%d@example.com>"}}`, i), http.StatusCreated)
	}
	q := `{"query": [{"_name": "listCase"}, {"_name": "filter", "_eq": {"_field": "customFields.thread", "_value": "<500@example.com>"}}, {"_name": "page", "from": 0, "to": 1}]}`
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		benchPost(b, hc, srv.URL()+"/api/v1/query", q, http.StatusOK)
	}
}

// BenchmarkParallelWithLatency runs 16 clients against a fake with 20 ms of
// latency: requests wait in parallel, so the rate stays near 16 / 20 ms
// (800 requests/s) instead of 50 requests/s if they were serialised.
func BenchmarkParallelWithLatency(b *testing.B) {
	srv := thehivetest.NewServer(b, thehivetest.WithLatency(20*time.Millisecond))
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	hc := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((16 + procs - 1) / procs) // 16 goroutines in all
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchPost(b, hc, srv.URL()+"/api/v1/case", `{"title": "t", "description": "d"}`, http.StatusCreated)
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// BenchmarkUpload64MiB streams a 64 MiB file observable: the fake hashes
// and counts it without keeping it, so the bytes allocated per upload stay
// a small fraction of its size.
func BenchmarkUpload64MiB(b *testing.B) {
	srv := thehivetest.NewServer(b)
	hc := &http.Client{}
	req, _ := http.NewRequest("POST", srv.URL()+"/api/v1/case", strings.NewReader(`{"title": "t", "description": "d"}`))
	req.Header.Set("Authorization", "Bearer "+thehivetest.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	const size = 64 << 20
	chunk := bytes.Repeat([]byte{0xA5}, 64<<10)
	b.SetBytes(size)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			_ = mw.WriteField("_json", `{"dataType": "file"}`)
			w, _ := mw.CreateFormFile("attachment", "big.bin")
			// Vary the first bytes so that no upload duplicates another.
			_, _ = fmt.Fprintf(w, "%08d", i)
			for n := 8; n < size; n += len(chunk) {
				_, _ = w.Write(chunk[:min(len(chunk), size-n)])
			}
			pw.CloseWithError(mw.Close())
		}()
		req, _ := http.NewRequest("POST", srv.URL()+"/api/v1/case/1/observable", pr)
		req.Header.Set("Authorization", "Bearer "+thehivetest.APIKey)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
