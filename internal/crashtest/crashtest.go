package crashtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/synapse-go/synapse/internal/crashtest/mailkit"
	"github.com/synapse-go/synapse/internal/dovecot"
	"github.com/synapse-go/synapse/thehive/thehivetest"
)

// What the runner and the driver agree on.
const (
	// User is the Dovecot user whose mailbox holds the reported emails.
	User = "soc"
	// Folder holds the reported emails and QuarantineFolder the emails set
	// aside.
	Folder           = "Inbox/Phishing"
	QuarantineFolder = "Inbox/Quarantine"
	// ProcessedKeyword marks a processed email, QuarantinedKeyword a
	// quarantined one.
	ProcessedKeyword   = "synapse-processed"
	QuarantinedKeyword = "synapse-quarantined"
	// Owner owns every case (the fallback owner: the emails carry no
	// category).
	Owner = thehivetest.AdminLogin
	// TaskTitle is the communication task's title.
	TaskTitle = "Communication"
	// MarkStep names the acknowledgement (marking the email processed) in
	// the runner's events.
	MarkStep = "mark"
)

// Config shapes a crash test. The zero value is the default test: 200
// emails, 8 kills between 20 ms and 1 s, 8 emails at once, 10 ms latency.
type Config struct {
	// Root is the module's root, where the commands are built; empty means
	// the nearest directory above the working directory with a go.mod.
	Root string
	// Go is the go command (default "go"), and Race builds the commands
	// with the race detector.
	Go   string
	Race bool
	// Emails is how many reported emails are seeded (default 200); every
	// tenth answers an earlier one and every fifth carries a file.
	Emails int
	// Kills is how many runner processes are killed (default 8), each after
	// a delay drawn between MinDelay and MaxDelay (default 20 ms and 1 s)
	// from Seed (default 1).
	Kills              int
	MinDelay, MaxDelay time.Duration
	Seed               uint64
	// Concurrency is how many emails the runner handles at once (default
	// 8).
	Concurrency int
	// Latency delays every TheHive request (default 10 ms), so that a run
	// lasts long enough to be killed in its middle.
	Latency time.Duration
	// FinalTimeout bounds the last, unkilled run (default 2 minutes).
	FinalTimeout time.Duration
	// Logf receives progress lines; nil discards them.
	Logf func(format string, args ...any)
}

// DefaultConfig returns the default test's configuration; Root and Logf
// are left empty.
func DefaultConfig() Config {
	return Config{
		Go:           "go",
		Emails:       200,
		Kills:        8,
		MinDelay:     20 * time.Millisecond,
		MaxDelay:     time.Second,
		Seed:         1,
		Concurrency:  8,
		Latency:      10 * time.Millisecond,
		FinalTimeout: 2 * time.Minute,
	}
}

func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	c.Go = cmp.Or(c.Go, d.Go)
	c.Emails = cmp.Or(c.Emails, d.Emails)
	c.Kills = cmp.Or(c.Kills, d.Kills)
	c.MinDelay = cmp.Or(c.MinDelay, d.MinDelay)
	c.MaxDelay = cmp.Or(c.MaxDelay, d.MaxDelay)
	c.Seed = cmp.Or(c.Seed, d.Seed)
	c.Concurrency = cmp.Or(c.Concurrency, d.Concurrency)
	c.Latency = cmp.Or(c.Latency, d.Latency)
	c.FinalTimeout = cmp.Or(c.FinalTimeout, d.FinalTimeout)
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	switch {
	case c.Emails < 1 || c.Kills < 0 || c.Concurrency < 1 || c.Latency < 0:
		return c, fmt.Errorf("crashtest: Emails and Concurrency must be positive, Kills and Latency not negative: %+v", c)
	case c.MinDelay < 0 || c.MaxDelay < c.MinDelay:
		return c, fmt.Errorf("crashtest: the kill delays [%v, %v] are not a range", c.MinDelay, c.MaxDelay)
	}
	if c.Root == "" {
		root, err := ModuleRoot()
		if err != nil {
			return c, err
		}
		c.Root = root
	}
	return c, nil
}

// Delays returns n kill delays drawn uniformly from [lo, hi] with seed:
// the same arguments give the same delays.
func Delays(seed uint64, n int, lo, hi time.Duration) []time.Duration {
	rng := rand.New(rand.NewPCG(seed, 0xc4a5))
	out := make([]time.Duration, max(n, 0))
	for i := range out {
		out[i] = lo + time.Duration(rng.Int64N(int64(max(hi-lo, 0))+1))
	}
	return out
}

// Kill is one runner process killed, or one that ended before its kill.
type Kill struct {
	// Delay is when the kill was due, from the runner's first event.
	Delay time.Duration
	// Killed is false when the runner ended on its own first.
	Killed bool
	// Progress is what the runner had done.
	Progress Progress
}

// Result is the outcome of a crash test.
type Result struct {
	// Config is the configuration, defaults filled in.
	Config Config
	// Kills lists the killed runner processes in order; Final is the
	// progress of the last run, which was let finish.
	Kills []Kill
	Final Progress
	// Emails and Threads count what was seeded.
	Emails, Threads int
	// Snapshot is what TheHive held at the end.
	Snapshot *Snapshot
	// Problems lists every broken promise: lost, duplicated, misplaced or
	// unmarked. An empty list is a pass.
	Problems []string
	// Duration is the whole test's, building included.
	Duration time.Duration
}

// Killed counts the runner processes that were killed mid-run.
func (r *Result) Killed() int {
	n := 0
	for _, k := range r.Kills {
		if k.Killed {
			n++
		}
	}
	return n
}

// Summary writes a human-readable account of the test to w.
func (r *Result) Summary(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "crash test: %d emails in %d threads, seed %d, %d emails at once, TheHive latency %v\n",
		r.Emails, r.Threads, c.Seed, c.Concurrency, c.Latency)
	for i, k := range r.Kills {
		what := "SIGKILL"
		if !k.Killed {
			what = "ended on its own before"
		}
		fmt.Fprintf(w, "  run %d: %s at %v after %d emails done (%d failed), %s\n",
			i+1, what, k.Delay.Round(time.Millisecond), k.Progress.Done, k.Progress.Failed, k.Progress.Stage())
	}
	fmt.Fprintf(w, "  final run: %d emails done, %d failed, in %d runs\n", r.Final.Done, r.Final.Failed, r.Final.Runs)
	if s := r.Snapshot; s != nil {
		fmt.Fprintf(w, "TheHive: %d cases, %d tasks, %d logs, %d observables, %d requests\n",
			len(s.Cases), len(s.Tasks), len(s.Logs), len(s.Observables), s.TotalRequests())
	}
	fmt.Fprintf(w, "%d of %d runs killed; %d problems; %v\n", r.Killed(), len(r.Kills), len(r.Problems), r.Duration.Round(time.Millisecond))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  PROBLEM: %s\n", p)
	}
}

// Run builds thehivetest's standalone command and the runner, starts the
// fake TheHive and a private Dovecot in processes of their own, seeds the
// emails, then starts the runner and kills it (SIGKILL) after each delay of
// the plan, and lets a last runner finish. It then checks, through the
// fake's state and the mailbox itself, that every email was logged once in
// its thread's case with its observables, that nothing is duplicated, and
// that every email is marked processed.
//
// The error reports a test that could not be carried out (no Dovecot, a
// build that failed); a carried-out test reports what broke in
// Result.Problems.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	start := time.Now()
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if _, err := dovecot.Binary(); err != nil {
		return nil, err
	}
	res := &Result{Config: cfg}
	dir, err := os.MkdirTemp("", "synapse-crashtest-")
	if err != nil {
		return nil, fmt.Errorf("crashtest: %w", err)
	}
	defer os.RemoveAll(dir)

	cfg.Logf("building thehivetest and crashrunner (race: %v)", cfg.Race)
	bins, err := build(ctx, cfg, dir)
	if err != nil {
		return nil, err
	}

	hive, err := StartTheHive(ctx, bins.thehive, cfg.Latency)
	if err != nil {
		return nil, err
	}
	defer hive.Stop()
	password := dovecot.RandomPassword()
	mail, err := dovecot.Launch(ctx, dovecot.Options{Users: map[string]string{User: password}})
	if err != nil {
		return nil, err
	}
	defer mail.Stop()
	cfg.Logf("thehivetest at %s, dovecot at %s", hive.URL, mail.Addr)

	store := &mailkit.Store{Addr: mail.Addr, Username: User, Password: password}
	msgs := mailkit.Generate(cfg.Emails, mailkit.Options{Seed: cfg.Seed, ReplyEvery: 10, AttachEvery: 5})
	if err := seed(ctx, store, msgs); err != nil {
		return nil, err
	}
	res.Emails = len(msgs)
	for _, m := range msgs {
		if m.Thread == m.Index {
			res.Threads++
		}
	}

	r := &runner{bin: bins.runner, imapAddr: mail.Addr, password: password, hiveURL: hive.URL, concurrency: cfg.Concurrency}
	for i, d := range Delays(cfg.Seed, cfg.Kills, cfg.MinDelay, cfg.MaxDelay) {
		k, err := r.runAndKill(ctx, d)
		if err != nil {
			return nil, fmt.Errorf("crashtest: run %d: %w", i+1, err)
		}
		res.Kills = append(res.Kills, k)
		cfg.Logf("run %d: killed=%v after %v: %d done, %s", i+1, k.Killed, d, k.Progress.Done, k.Progress.Stage())
	}
	finalCtx, cancel := context.WithTimeout(ctx, cfg.FinalTimeout)
	defer cancel()
	final, err := r.runAndKill(finalCtx, cfg.FinalTimeout+time.Minute)
	if err != nil {
		return nil, fmt.Errorf("crashtest: final run: %w", err)
	}
	res.Final = final.Progress
	if !final.Progress.Idle {
		res.Problems = append(res.Problems, "the final run did not end with a run that found nothing to do")
	}

	snap, err := FetchSnapshot(ctx, http.DefaultClient, hive.URL)
	if err != nil {
		return nil, err
	}
	res.Snapshot = snap
	left, err := store.Inspect(ctx, Folder)
	if err != nil {
		return nil, err
	}
	quarantined, err := store.Inspect(ctx, QuarantineFolder)
	if err != nil {
		return nil, err
	}
	res.Problems = append(res.Problems, Check(msgs, snap, left, quarantined)...)
	res.Duration = time.Since(start)
	return res, nil
}

// seed creates the folders and appends msgs, and checks that the server
// stored each one byte for byte.
func seed(ctx context.Context, store *mailkit.Store, msgs []mailkit.Message) error {
	if err := store.CreateFolders(ctx, Folder, QuarantineFolder); err != nil {
		return err
	}
	seeds := make([]mailkit.Seed, len(msgs))
	base := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	for i, m := range msgs {
		seeds[i] = mailkit.Seed{Raw: m.Raw, Received: base.Add(time.Duration(i) * time.Second)}
	}
	if err := store.Append(ctx, Folder, seeds...); err != nil {
		return err
	}
	stored, err := store.Inspect(ctx, Folder)
	if err != nil {
		return err
	}
	if len(stored) != len(msgs) {
		return fmt.Errorf("crashtest: %d messages stored, %d appended", len(stored), len(msgs))
	}
	for i, s := range stored {
		if s.SHA256 != msgs[i].SHA256 {
			return fmt.Errorf("crashtest: the server changed email %d", i)
		}
	}
	return nil
}

// ModuleRoot returns the nearest directory above the working directory
// that holds a go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("crashtest: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("crashtest: no go.mod above the working directory")
		}
		dir = parent
	}
}
