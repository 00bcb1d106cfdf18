package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

// binaries are the commands the test runs.
type binaries struct{ thehive, runner string }

// build builds thehivetest's standalone command and the runner into dir.
func build(ctx context.Context, cfg Config, dir string) (binaries, error) {
	b := binaries{thehive: filepath.Join(dir, "thehivetest"), runner: filepath.Join(dir, "crashrunner")}
	for pkg, out := range map[string]string{
		TheHiveCommand:                         b.thehive,
		"./internal/crashtest/cmd/crashrunner": b.runner,
	} {
		if err := GoBuild(ctx, cfg.Go, cfg.Root, cfg.Race, pkg, out); err != nil {
			return b, err
		}
	}
	return b, nil
}

// TheHiveCommand is the package of thehivetest's standalone command,
// relative to the module root.
const TheHiveCommand = "./thehive/thehivetest/cmd/thehivetest"

// GoBuild builds the package pkg (relative to root, the module root) into
// the executable out with the go command goCmd, with the race detector when
// race is set.
func GoBuild(ctx context.Context, goCmd, root string, race bool, pkg, out string) error {
	args := []string{"build"}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.CommandContext(ctx, goCmd, append(args, "-o", out, pkg)...)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("crashtest: go build %s: %w\n%s", pkg, err, bytes.TrimSpace(msg))
	}
	return nil
}

// TheHive is thehivetest's standalone command running in a process of its
// own.
type TheHive struct {
	// URL is the fake's base URL.
	URL string

	cmd    *exec.Cmd
	stderr *tailBuffer
}

// StartTheHive runs the command bin (built from TheHiveCommand) on a free
// loopback port, every request delayed by latency, and waits for it to
// print its URL. Stop ends it.
func StartTheHive(ctx context.Context, bin string, latency time.Duration) (*TheHive, error) {
	cmd := exec.CommandContext(ctx, bin, "-addr", "127.0.0.1:0", "-latency", latency.String())
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("crashtest: %w", err)
	}
	h := &TheHive{cmd: cmd, stderr: &tailBuffer{max: 4096}}
	cmd.Stderr = h.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("crashtest: starting thehivetest: %w", err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		for sc.Scan() { // keep the pipe drained
		}
	}()
	select {
	case line, ok := <-lines:
		if ok && strings.HasPrefix(line, "http://") {
			h.URL = line
			return h, nil
		}
		h.Stop()
		return nil, fmt.Errorf("crashtest: thehivetest printed %q, not its URL: %s", line, h.stderr)
	case <-time.After(30 * time.Second):
		h.Stop()
		return nil, errors.New("crashtest: thehivetest did not print its URL within 30s")
	case <-ctx.Done():
		h.Stop()
		return nil, ctx.Err()
	}
}

// Stop ends the fake with SIGTERM, or SIGKILL if it lingers, and waits for
// it. Stopping twice is harmless.
func (h *TheHive) Stop() {
	if h.cmd.ProcessState != nil {
		return
	}
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = h.cmd.Process.Kill()
		<-done
	}
}

// runner starts crashrunner processes against the servers.
type runner struct {
	bin, imapAddr, password, hiveURL string
	concurrency                      int
}

// runAndKill starts a runner and kills it with SIGKILL delay after it
// announced its pipeline (once started, so that the machine's speed at
// starting a process does not decide where kills land), unless it ends
// first, which is an error when it fails. It returns what the runner had
// done.
func (r *runner) runAndKill(ctx context.Context, delay time.Duration) (Kill, error) {
	k := Kill{Delay: delay}
	cmd := exec.CommandContext(ctx, r.bin,
		"-imap", r.imapAddr, "-user", User, "-folder", Folder, "-quarantine", QuarantineFolder,
		"-thehive", r.hiveURL, "-concurrency", strconv.Itoa(r.concurrency))
	cmd.Env = append(os.Environ(), "CRASHTEST_IMAP_PASSWORD="+r.password, "CRASHTEST_THEHIVE_KEY="+thehivetest.APIKey)
	stderr := &tailBuffer{max: 8192}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return k, err
	}
	if err := cmd.Start(); err != nil {
		return k, err
	}
	var progErr error
	read := make(chan struct{})
	ready := make(chan struct{})
	go func() {
		defer close(read)
		var once sync.Once
		k.Progress, progErr = ReadProgress(out, func(Event) { once.Do(func() { close(ready) }) })
	}()
	var due <-chan time.Time
	select {
	case <-ready:
		timer := time.NewTimer(delay)
		defer timer.Stop()
		due = timer.C
	case <-read:
	}
	select {
	case <-due:
		// The runner may just have ended; a kill then fails harmlessly.
		k.Killed = cmd.Process.Signal(syscall.SIGKILL) == nil
		<-read
	case <-read:
	}
	werr := cmd.Wait()
	if progErr != nil {
		return k, fmt.Errorf("reading the runner's events: %w", progErr)
	}
	if ctx.Err() != nil {
		return k, ctx.Err()
	}
	var exit *exec.ExitError
	if k.Killed && errors.As(werr, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return k, nil
		}
	}
	k.Killed = false
	if werr != nil {
		return k, fmt.Errorf("the runner failed: %w: %s", werr, stderr)
	}
	if k.Progress.Malformed > 0 {
		return k, fmt.Errorf("the runner wrote %d lines that are not events: %s", k.Progress.Malformed, stderr)
	}
	return k, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}
