package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestRunPrintsURLAndServes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-cortex=false"}, pw)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("first line: %v", err)
	}
	url := strings.TrimSpace(line)
	if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.HasSuffix(url, "/") {
		t.Fatalf("URL line %q", line)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", url+"/api/connector/cortex/analyzer", nil)
	req.Header.Set("Authorization", "Bearer thehivetest-admin-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var analyzers []any
	err = json.NewDecoder(resp.Body).Decode(&analyzers)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(analyzers) != 0 {
		t.Errorf("analyzers %d %v %v, want 200 [] without Cortex", resp.StatusCode, analyzers, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	t.Parallel()
	if err := run(t.Context(), []string{"-latency", "soon"}, io.Discard); err == nil {
		t.Error("bad latency accepted")
	}
	if err := run(t.Context(), []string{"-addr", "256.0.0.1:99999"}, io.Discard); err == nil {
		t.Error("bad address accepted")
	}
}
