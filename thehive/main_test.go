package thehive_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Credentials used by the tests. None of them may appear in a log line or
// an error string: TestMain checks everything logged and every error
// recorded during the run.
const (
	pinKey      = "pin-api-key-5f8e2c91"
	pinLogin    = "pin-user@example.org"
	pinPassword = "pin-password-9d1b77"
	hookToken   = "hook-token-2b7e0a55"
	hookPass    = "hook-password-c41f"
)

// transcript collects every log line of the test clients and every error
// string the tests see.
var transcript struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

type transcriptWriter struct{}

func (transcriptWriter) Write(p []byte) (int, error) {
	transcript.mu.Lock()
	defer transcript.mu.Unlock()
	return transcript.buf.Write(p)
}

// clientsMade counts the clients newClient made.
var clientsMade atomic.Int32

// testLogger logs everything, at Debug level, into the transcript.
var testLogger = slog.New(slog.NewTextHandler(transcriptWriter{}, &slog.HandlerOptions{Level: slog.LevelDebug}))

// record adds an error's text to the transcript and returns the error.
func record(err error) error {
	if err != nil {
		fmt.Fprintf(transcriptWriter{}, "error: %v\n", err)
	}
	return err
}

var secrets = []string{
	pinKey, pinPassword, hookToken, hookPass,
	base64.StdEncoding.EncodeToString([]byte(pinLogin + ":" + pinPassword)),
	fakeAPIKey, fakePassword,
	base64.StdEncoding.EncodeToString([]byte(fakeLogin + ":" + fakePassword)),
}

func TestMain(m *testing.M) {
	code := m.Run()
	transcript.mu.Lock()
	text := transcript.buf.String()
	transcript.mu.Unlock()
	if code == 0 {
		if clientsMade.Load() > 0 && !strings.Contains(text, "http request") {
			fmt.Println("FAIL: the transcript holds no log line: the secret check saw nothing")
			code = 1
		}
		for _, s := range secrets {
			if i := strings.Index(text, s); i >= 0 {
				start := strings.LastIndexByte(text[:i], '\n') + 1
				end := len(text)
				if j := strings.IndexByte(text[i:], '\n'); j >= 0 {
					end = i + j
				}
				// The line is shown with the secret masked, so that the
				// failure does not leak it further.
				line := strings.ReplaceAll(text[start:end], s, "<SECRET>")
				fmt.Printf("FAIL: a secret leaked into the logs or an error: %q\n", line)
				code = 1
			}
		}
	}
	os.Exit(code)
}

// errIs fails the test unless errors.Is(err, target).
func errIs(t *testing.T, err, target error) {
	t.Helper()
	record(err)
	if !errors.Is(err, target) {
		t.Fatalf("error %v does not match %v", err, target)
	}
}
