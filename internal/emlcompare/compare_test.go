package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCorpus runs the comparison over the shared corpus and enforces the
// targets: no panic, no error, no body lost, every attachment hash equal
// or explained, and at least 98% of eml_parser's correct indicators found.
// Without the corpus the test is skipped, except in CI (CI=true), where it
// fails.
func TestCorpus(t *testing.T) {
	dir, err := defaultCorpus()
	if err != nil {
		t.Fatal(err)
	}
	c, err := newCorpus(dir)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus missing in CI: %v", err)
		}
		t.Skipf("corpus missing: %v", err)
	}
	r, err := c.compareAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.failures() {
		t.Error(f)
	}
	var summary bytes.Buffer
	r.write(&summary, false)
	lines := strings.Split(strings.TrimSpace(summary.String()), "\n")
	for _, l := range lines[max(0, len(lines)-10):] {
		t.Log(l)
	}
}

// writeCorpus makes a one-email corpus in a temporary directory.
func writeCorpus(t *testing.T, eml, json string) corpus {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"eml", "eml_parser-output"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "eml", "m.eml"), []byte(eml), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "eml_parser-output", "m.json"), []byte(json), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := newCorpus(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestComparisonVerdicts checks the verdicts on a made-up eml_parser
// output: what we find, what eml_parser gets wrong, and a miss that makes
// the comparison fail.
func TestComparisonVerdicts(t *testing.T) {
	t.Parallel()
	eml := "From: a@example.com\r\nSubject: s\r\n\r\nSee https://found.example.com/x and 8.8.8.8; version 10.0.0.1 build.\r\n"
	json := `{"_oracle": {"error": null, "summary": {
		"urls": ["https://found.example.com/x", "https://missed.example.net/y"],
		"ips": ["8.8.8.8", "999.1.1.1"],
		"domains": ["found.example.com", "invoice.php"],
		"emails": ["a@example.com"], "from": "a@example.com",
		"attachments": [{"filename": "x.bin", "content_type": "application/octet-stream", "md5": "00000000000000000000000000000000", "size": 1}],
		"body_parts": [{"content_type": "text/plain", "length": 10, "sha256": "x"}]
	}}}`
	r, err := writeCorpus(t, eml, json).compareAll()
	if err != nil {
		t.Fatal(err)
	}
	res := r.Emails[0]
	var got []string
	for _, d := range res.Diffs {
		got = append(got, d.Cat+" "+d.Side+" "+d.Verdict+" "+d.Value)
	}
	want := []string{
		"url theirs theirs right https://missed.example.net/y",
		"ip theirs ours right 999.1.1.1",
		"domain theirs ours right invoice.php",
		"domain ours ours right example.com",
		"hash theirs theirs right x.bin (application/octet-stream, 1 bytes, md5 00000000000000000000000000000000)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diffs (-want +got):\n%s", diff)
	}
	if c := res.Counts[catURL]; c.Found != 1 || c.Missed != 1 {
		t.Errorf("url counts %+v", *c)
	}
	fs := r.failures()
	if len(fs) != 2 || !strings.Contains(fs[0], "attachment hashes") || !strings.Contains(fs[1], "agreement") {
		t.Errorf("failures = %q, want the hash and agreement targets missed", fs)
	}
}

func TestBodyLost(t *testing.T) {
	t.Parallel()
	json := `{"_oracle": {"error": null, "summary": {"body_parts": [{"content_type": "text/plain", "length": 5, "sha256": "x"}]}}}`
	r, err := writeCorpus(t, "Subject: s\r\n\r\n", json).compareAll()
	if err != nil {
		t.Fatal(err)
	}
	if fs := r.failures(); len(fs) != 1 || !strings.Contains(fs[0], "body") {
		t.Errorf("failures = %q, want a lost body", fs)
	}
}

func TestNormalisation(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"HTTP://Example.COM/Path/":     "http://example.com/Path",
		"http://bücher.de/a?x=1&amp;y": "http://xn--bcher-kva.de/a?x=1&y",
		"www.example.org/":             "www.example.org",
	} {
		if got := normURL(in); got != want {
			t.Errorf("normURL(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]bool{
		"example.com": true, "1.2.3.4": true, "[2001:db8::1]": true, "bücher.de": true,
		"invoice.php": false, "localhost": false, "co.uk": false, "10.15": false,
	} {
		if got := validHost(in); got != want {
			t.Errorf("validHost(%q) = %v", in, got)
		}
	}
	if diff := cmp.Diff([]string{"b@x.org"}, addressesIn(`"a@x.org" <b@x.org>`)); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"a@x.org", "c@y.net"}, addressesIn(`a@x.org, c@y.net`)); diff != "" {
		t.Error(diff)
	}
	for in, want := range map[string]bool{"Server id ": true, "with id\r\n ": true, "valid ": false, "id": false} {
		if got := idBefore(in); got != want {
			t.Errorf("idBefore(%q) = %v", in, got)
		}
	}
}
