package workflow_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/synapse-go/synapse/internal/crashtest/mailkit"
	"github.com/synapse-go/synapse/thehive/thehivetest"
	"github.com/synapse-go/synapse/workflow"
)

// corpusDir returns the shared email corpus, which CI clones beside the
// repository (../shared/corpus/eml from the module root). Without it the
// test is skipped, or fails when CI=true.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(moduleRoot(t)), "shared", "corpus", "eml")
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.tsv")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the shared corpus is missing (CI=true needs it beside the repository): %v", err)
		}
		t.Skipf("skipping: no shared corpus: %v", err)
	}
	return dir
}

// manifestFiles returns the file names MANIFEST.tsv lists.
func manifestFiles(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, _, _ := strings.Cut(sc.Text(), "\t")
		if strings.HasSuffix(name, ".eml") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// TestE2EDovecotCorpus puts every email of the shared corpus (real-world
// test emails from mail-parsing projects, many malformed) in one Dovecot
// folder, behind a message the mailbox never delivers, and runs Ews2Case
// with a quarantine until a run finds nothing. Each email must end up either
// marked processed, with a task log carrying it (emails that share a
// Message-ID but differ are different messages, each logged), or moved to the
// quarantine folder with a reason; nothing may be left unprocessed in the
// folder, and TheHive may hold no duplicate.
func TestE2EDovecotCorpus(t *testing.T) {
	t.Parallel()
	dir := corpusDir(t)
	box := startE2EMailbox(t)
	names, raws := readEMLs(t, dir)
	if want := manifestFiles(t, dir); !slices.Equal(names, want) {
		t.Fatalf("the corpus has %d emails, its manifest lists %d", len(names), len(want))
	}
	// First in the folder, a message that fails every time: it must be
	// set aside without holding up the corpus.
	poison := mailkit.Generate(1, mailkit.Options{Seed: 66})[0]
	seeds := []mailkit.Seed{{Raw: poison.Raw, Received: time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)}}
	for i, raw := range raws {
		seeds = append(seeds, mailkit.Seed{Raw: raw, Received: time.Date(2026, 11, 2, 8, 0, i, 0, time.UTC)})
	}
	stored := box.seed(t, seeds...)[1:]
	srv, th := e2eTheHive(t)
	mb := &recordingMailbox{Mailbox: box.mailbox(t), poison: "<" + poison.MessageID + ">"}
	r := workflow.Ews2Case(mb, th, workflow.MailConfig{
		Owner:       workflow.OwnerOptions{Fallback: thehivetest.AdminLogin},
		Observables: workflow.ObservableOptions{Tags: []string{"synapse"}},
		StepRetry:   workflow.RetryPolicy{MinWait: time.Millisecond, MaxWait: 10 * time.Millisecond},
		Concurrency: 8,
		MaxAttempts: 3,
	})
	r.RetryWait = time.Millisecond

	var total workflow.Report
	var reasons []workflow.ItemError
	runs := 0
	for ; runs < 5; runs++ {
		rep, err := r.Run(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		total.Seen += rep.Seen
		total.Created += rep.Created
		total.Updated += rep.Updated
		total.Skipped += rep.Skipped
		total.Failed += rep.Failed
		total.Quarantined += rep.Quarantined
		total.Duration += rep.Duration
		for _, e := range rep.Errors {
			if e.Quarantined {
				reasons = append(reasons, e)
			}
		}
		if rep.Seen == 0 {
			break
		}
	}
	if runs == 5 {
		t.Errorf("the fifth run still found messages: some keep failing without being set aside")
	}

	// The folder holds only processed messages; the others were moved to
	// quarantine with a reason; none vanished or doubled.
	left := box.inspect(t, e2eFolder)
	quarantined := box.inspect(t, e2eQuarantine)
	if len(left)+len(quarantined) != len(seeds) {
		t.Errorf("%d messages in the folder and %d in quarantine, %d were seeded", len(left), len(quarantined), len(seeds))
	}
	state := map[string]string{} // SHA-256 → "processed" or "quarantined"
	for _, s := range left {
		state[s.SHA256] = "processed"
		if !s.HasFlag(e2eProcessed) || !s.HasFlag(`\Seen`) {
			t.Errorf("message %q (UID %d) is still unprocessed: flags %v", s.Subject, s.UID, s.Flags)
		}
	}
	for _, s := range quarantined {
		state[s.SHA256] = "quarantined"
		if !s.HasFlag(e2eQuarantined) {
			t.Errorf("quarantined message %q lacks the keyword %s: %v", s.Subject, e2eQuarantined, s.Flags)
		}
	}
	if total.Quarantined != len(quarantined) || len(reasons) != min(len(quarantined), workflow.MaxReportErrors) {
		t.Errorf("the reports count %d quarantined with %d reasons; the quarantine folder holds %d",
			total.Quarantined, len(reasons), len(quarantined))
	}
	for _, e := range reasons {
		if strings.TrimSpace(e.Error) == "" {
			t.Errorf("message %s quarantined without a reason", e.Key)
		}
	}

	if reason := mb.reasons[poison.SHA256]; !strings.Contains(reason, errPoison.Error()) {
		t.Errorf("the poison message was set aside with reason %q, want its error", reason)
	}

	snap := snapshot(t, srv)
	for _, p := range snap.Problems("Communication") {
		t.Error(p)
	}

	// Every processed email has its own log, those that share a
	// Message-ID with another (broken mailers, test suites) included.
	var quarantinedNames []string
	for i := range raws {
		sum := stored[i].SHA256
		switch state[sum] {
		case "quarantined":
			quarantinedNames = append(quarantinedNames, fmt.Sprintf("%s: %s", names[i], mb.reasons[sum]))
			if mb.reasons[sum] == "" {
				t.Errorf("%s was quarantined without a reason", names[i])
			}
			continue
		case "":
			t.Errorf("%s is in neither folder", names[i])
			continue
		}
		if logs := snap.LogsOfMessage(sum); len(logs) != 1 {
			t.Errorf("%s is marked processed but attached to %d logs", names[i], len(logs))
		}
	}
	// No message key is logged twice (Problems already checks that no raw
	// message is attached twice).
	keys := map[string]int{}
	for _, l := range snap.Logs {
		k := logKey.FindString(l.Message)
		if k == "" {
			t.Errorf("log %s names no message key:\n%s", l.ID, l.Message)
		}
		keys[k]++
	}
	for k, n := range keys {
		if n > 1 {
			t.Errorf("message %s is logged %d times", k, n)
		}
	}

	types := map[string]int{}
	for _, o := range snap.Observables {
		types[o.DataType]++
	}
	t.Logf("corpus: %d emails and the poison message in %d runs (%v): %d created, %d updated, %d skipped, %d failed on the way, %d quarantined",
		len(raws), runs+1, total.Duration.Round(time.Millisecond), total.Created, total.Updated, total.Skipped, total.Failed, total.Quarantined)
	t.Logf("TheHive: %d cases, %d tasks, %d logs, %d observables %v, %d API requests",
		len(snap.Cases), len(snap.Tasks), len(snap.Logs), len(snap.Observables), types, snap.TotalRequests())
	t.Logf("%d corpus emails quarantined: %v", len(quarantinedNames), quarantinedNames)
}

// logKey finds the message key a task log ends with.
var logKey = regexp.MustCompile(`synapse:raw=[0-9a-f]+`)
