package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/synapse-go/synapse/ews/ewstest"
	"github.com/synapse-go/synapse/internal/crashtest"
	"github.com/synapse-go/synapse/internal/crashtest/mailkit"
	"github.com/synapse-go/synapse/thehive/thehivetest"
)

// TestRun runs the runner to the end against in-memory servers: every
// email becomes a log in its thread's case, is marked processed, and the
// events add up.
func TestRun(t *testing.T) {
	t.Parallel()
	imap, err := ewstest.NewIMAPServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { imap.Close() })
	const password = "imap-test-password"
	if err := imap.AddUser(crashtest.User, password); err != nil {
		t.Fatal(err)
	}
	store := &mailkit.Store{Addr: imap.Addr(), Username: crashtest.User, Password: password}
	if err := store.CreateFolders(t.Context(), crashtest.Folder, crashtest.QuarantineFolder); err != nil {
		t.Fatal(err)
	}
	msgs := mailkit.Generate(12, mailkit.Options{Seed: 4, ReplyEvery: 4, AttachEvery: 3})
	for _, m := range msgs {
		if err := store.Append(t.Context(), crashtest.Folder, mailkit.Seed{Raw: m.Raw}); err != nil {
			t.Fatal(err)
		}
	}
	hive := thehivetest.NewServer(t)

	var out bytes.Buffer
	env := map[string]string{"CRASHTEST_IMAP_PASSWORD": password, "CRASHTEST_THEHIVE_KEY": thehivetest.APIKey}
	err = run(t.Context(), []string{"-imap", imap.Addr(), "-user", crashtest.User, "-thehive", hive.URL(), "-concurrency", "3"},
		func(k string) string { return env[k] }, &out)
	if err != nil {
		t.Fatal(err)
	}
	p, err := crashtest.ReadProgress(&out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Done != len(msgs) || p.Failed != 0 || !p.Idle || p.Runs != 2 || len(p.InFlight) != 0 || p.Malformed != 0 {
		t.Errorf("progress %+v, want %d done in one run then an idle one, nothing in flight", p, len(msgs))
	}
	if p.Steps[crashtest.MarkStep] != len(msgs) || p.Steps["add-log"] != len(msgs) {
		t.Errorf("steps %v, want each email logged and marked once", p.Steps)
	}
	snap, err := crashtest.NewSnapshot(hive.State())
	if err != nil {
		t.Fatal(err)
	}
	left, err := store.Inspect(t.Context(), crashtest.Folder)
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range crashtest.Check(msgs, snap, left, nil) {
		t.Error(problem)
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	full := map[string]string{"CRASHTEST_IMAP_PASSWORD": "secret-imap", "CRASHTEST_THEHIVE_KEY": "secret-key"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no flags", nil, full, "-imap, -user and -thehive are required"},
		{"no secrets", []string{"-imap", "127.0.0.1:1", "-user", "u", "-thehive", "http://127.0.0.1:1"}, nil, "must be set"},
		{"bad concurrency", []string{"-imap", "127.0.0.1:1", "-user", "u", "-thehive", "http://127.0.0.1:1", "-concurrency", "0"}, full, "must be positive"},
		{"unknown flag", []string{"-nope"}, full, "flag provided but not defined"},
		{"bad folder", []string{"-imap", "127.0.0.1:1", "-user", "u", "-thehive", "http://127.0.0.1:1", "-folder", "a//b"}, full, "empty level"},
	}
	for _, tt := range tests {
		err := run(t.Context(), tt.args, func(k string) string { return tt.env[k] }, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error shows a secret: %v", tt.name, err)
		}
	}
}
