package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/synapse-go/synapse/ews/ewstest"
	"github.com/synapse-go/synapse/internal/crashtest"
	"github.com/synapse-go/synapse/internal/crashtest/mailkit"
	"github.com/synapse-go/synapse/internal/dovecot"
	"github.com/synapse-go/synapse/thehive/thehivetest"
	"github.com/synapse-go/synapse/workflow"
)

// The bench starts itself again as a child process, told what to be by
// childEnv: an IMAP server ("imap") or the measured pipeline ("pipeline").
const (
	childEnv    = "SYNAPSE_BENCH_CHILD"
	imapAddrEnv = "SYNAPSE_BENCH_IMAP_ADDR"
	imapPassEnv = "SYNAPSE_BENCH_IMAP_PASSWORD"
	hiveURLEnv  = "SYNAPSE_BENCH_THEHIVE_URL"
	hiveKeyEnv  = "SYNAPSE_BENCH_THEHIVE_KEY"
	bigSizeEnv  = "SYNAPSE_BENCH_BIG_SIZE"
	cpuProfEnv  = "SYNAPSE_BENCH_CPUPROFILE"
	memProfEnv  = "SYNAPSE_BENCH_MEMPROFILE"
)

// bigOptions configure the large-attachment measure.
type bigOptions struct {
	Size       int64  // attachment bytes
	IMAP       string // "auto", "dovecot" or "memory"
	CPUProfile string // profiles of the measured child, if set
	MemProfile string
	Logf       func(format string, args ...any)
}

// bigResult is the large-attachment measure.
type bigResult struct {
	Attachment, Email int64  // sizes in bytes
	IMAP              string // which server
	Pipeline          pipelineResult
	Problems          []string
}

// pipelineResult is what the measured child reports on its standard
// output.
type pipelineResult struct {
	Seen     int     `json:"seen"`
	Done     int     `json:"done"`
	Errors   string  `json:"errors,omitempty"`
	Seconds  float64 `json:"seconds"`
	VmHWMKiB int64   `json:"vmhwmKiB"`
}

// measureBig streams one email with a large attachment from an IMAP server
// in another process to thehivetest's standalone command, through the
// pipeline in a child process, and reads the child's peak RSS.
func measureBig(ctx context.Context, opts bigOptions) (bigResult, error) {
	res := bigResult{}
	root, err := crashtest.ModuleRoot()
	if err != nil {
		return res, err
	}
	dir, err := os.MkdirTemp("", "synapse-bench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "thehivetest")
	opts.Logf("building %s", crashtest.TheHiveCommand)
	if err := crashtest.GoBuild(ctx, "go", root, false, crashtest.TheHiveCommand, bin); err != nil {
		return res, err
	}
	hive, err := crashtest.StartTheHive(ctx, bin, 0)
	if err != nil {
		return res, err
	}
	defer hive.Stop()

	big, err := mailkit.Big(opts.Size, bigSeed)
	if err != nil {
		return res, err
	}
	res.Attachment, res.Email = big.Attachment.Size, big.Size
	h := sha256.New()
	if _, err := io.Copy(h, big.Open()); err != nil {
		return res, err
	}
	emailSHA256 := hex.EncodeToString(h.Sum(nil))

	password := dovecot.RandomPassword()
	opts.Logf("starting the IMAP server with a %d-byte email", big.Size)
	addr, stop, kind, err := startIMAP(ctx, opts.IMAP, password, big)
	if err != nil {
		return res, err
	}
	defer stop()
	res.IMAP = kind

	opts.Logf("running the pipeline in a child process")
	res.Pipeline, err = runPipelineChild(ctx, addr, password, hive.URL, opts)
	if err != nil {
		return res, err
	}
	if res.Pipeline.Done != 1 || res.Pipeline.Errors != "" {
		res.Problems = append(res.Problems, fmt.Sprintf("the pipeline handled %d of %d emails: %s",
			res.Pipeline.Done, res.Pipeline.Seen, res.Pipeline.Errors))
	}

	snap, err := crashtest.FetchSnapshot(ctx, http.DefaultClient, hive.URL)
	if err != nil {
		return res, err
	}
	var file, eml bool
	for _, o := range snap.Observables {
		if a := o.Attachment; a != nil && a.SHA256() == big.Attachment.SHA256 && a.Size == big.Attachment.Size {
			file = true
		}
	}
	for _, l := range snap.Logs {
		for _, a := range l.Attachments {
			if a.SHA256() == emailSHA256 && a.Size == big.Size {
				eml = true
			}
		}
	}
	if !file {
		res.Problems = append(res.Problems, "no file observable has the attachment's size and SHA-256")
	}
	if !eml {
		res.Problems = append(res.Problems, "no task log carries the whole email")
	}
	return res, nil
}

// startIMAP starts the IMAP server the mode asks for, with the bench's
// user and big in its folder, and returns its address and how to stop it.
func startIMAP(ctx context.Context, mode, password string, big *mailkit.BigMessage) (addr string, stop func(), kind string, err error) {
	_, noDovecot := dovecot.Binary()
	switch {
	case mode == "dovecot" || (mode == "auto" && noDovecot == nil):
		srv, err := dovecot.Launch(ctx, dovecot.Options{Users: map[string]string{crashtest.User: password}})
		if err != nil {
			return "", nil, "", err
		}
		stop := func() { _ = srv.Stop() }
		store := &mailkit.Store{Addr: srv.Addr, Username: crashtest.User, Password: password}
		err = store.CreateFolders(ctx, crashtest.Folder, crashtest.QuarantineFolder)
		if err == nil {
			err = store.Append(ctx, crashtest.Folder, mailkit.Seed{Body: big.Open(), Size: big.Size})
		}
		if err != nil {
			stop()
			return "", nil, "", err
		}
		return srv.Addr, stop, "Dovecot", nil
	case mode == "memory" || mode == "auto":
		addr, stop, err := startIMAPChild(ctx, password, big.Attachment.Size)
		return addr, stop, "the in-memory IMAP server in a child process", err
	}
	return "", nil, "", fmt.Errorf("-imap %q: want auto, dovecot or memory", mode)
}

// bigSeed draws the large attachment's content.
const bigSeed = 1

// startIMAPChild runs the in-memory IMAP server in a child process, which
// puts the large email of an attachment of size bytes in its folder (the
// server takes no APPEND over 100 MiB), prints its address and serves until
// its standard input closes.
func startIMAPChild(ctx context.Context, password string, size int64) (string, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), childEnv+"=imap", imapPassEnv+"="+password, bigSizeEnv+"="+strconv.FormatInt(size, 10))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("the IMAP child printed no address: %w", err)
	}
	return strings.TrimSpace(line), stop, nil
}

// runPipelineChild runs the measured pipeline in a child process and
// decodes its report.
func runPipelineChild(ctx context.Context, addr, password, hiveURL string, opts bigOptions) (pipelineResult, error) {
	var res pipelineResult
	self, err := os.Executable()
	if err != nil {
		return res, err
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), childEnv+"=pipeline", imapAddrEnv+"="+addr, imapPassEnv+"="+password,
		hiveURLEnv+"="+hiveURL, hiveKeyEnv+"="+thehivetest.APIKey)
	if opts.CPUProfile != "" {
		cmd.Env = append(cmd.Env, cpuProfEnv+"="+opts.CPUProfile)
	}
	if opts.MemProfile != "" {
		cmd.Env = append(cmd.Env, memProfEnv+"="+opts.MemProfile)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("the pipeline child failed: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return res, fmt.Errorf("the pipeline child's report %q: %w", stdout.String(), err)
	}
	return res, nil
}

// runChild is main for a child process.
func runChild(kind string) error {
	switch kind {
	case "imap":
		size, err := strconv.ParseInt(os.Getenv(bigSizeEnv), 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %w", bigSizeEnv, err)
		}
		return serveIMAP(os.Getenv(imapPassEnv), size, os.Stdin, os.Stdout)
	case "pipeline":
		ctx, stop := signalContext()
		defer stop()
		res, err := runPipeline(ctx, os.Getenv(imapAddrEnv), os.Getenv(imapPassEnv), os.Getenv(hiveURLEnv), os.Getenv(hiveKeyEnv),
			os.Getenv(cpuProfEnv), os.Getenv(memProfEnv))
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	return fmt.Errorf("unknown child %q", kind)
}

// serveIMAP serves the in-memory IMAP server, with the large email of an
// attachment of size bytes, until stdin closes.
func serveIMAP(password string, size int64, stdin io.Reader, stdout io.Writer) error {
	if password == "" {
		return errors.New(imapPassEnv + " is not set")
	}
	big, err := mailkit.Big(size, bigSeed)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(big.Open())
	if err != nil {
		return err
	}
	srv, err := ewstest.NewIMAPServer(nil)
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := srv.AddUser(crashtest.User, password); err != nil {
		return err
	}
	for _, f := range []string{crashtest.Folder, crashtest.QuarantineFolder} {
		if err := srv.CreateFolder(crashtest.User, f); err != nil {
			return err
		}
	}
	if err := srv.Append(crashtest.User, crashtest.Folder, raw); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(stdout, srv.Addr()); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, stdin)
	return nil
}

// runPipeline runs Ews2Case once at concurrency 1 and reports the process's
// peak memory.
func runPipeline(ctx context.Context, addr, password, hiveURL, key, cpuProfile, memProfile string) (pipelineResult, error) {
	var res pipelineResult
	if addr == "" || password == "" || hiveURL == "" || key == "" {
		return res, errors.New("the pipeline child needs the IMAP address and password and TheHive's URL and key")
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return res, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, err
		}
		defer pprof.StopCPUProfile()
	}
	mb, th, err := clients(addr, password, hiveURL, key, 1)
	if err != nil {
		return res, err
	}
	defer mb.Close()
	start := time.Now()
	rep, err := workflow.Ews2Case(mb, th, mailConfig(1)).Run(ctx)
	if err != nil {
		return res, err
	}
	res.Seconds = time.Since(start).Seconds()
	res.Seen, res.Done = rep.Seen, rep.Done()
	for _, e := range rep.Errors {
		res.Errors += e.Error + "; "
	}
	if memProfile != "" {
		if err := writeHeapProfile(memProfile); err != nil {
			return res, err
		}
	}
	// VmHWM, not getrusage's ru_maxrss: Linux carries the parent's peak
	// into ru_maxrss across the exec that started this child.
	res.VmHWMKiB, err = peakRSS()
	return res, err
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// peakRSS returns VmHWM, the process's peak resident set size, in KiB.
func peakRSS() (int64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	return parseVmHWM(data)
}

// parseVmHWM reads the VmHWM line of a /proc/<pid>/status file.
func parseVmHWM(status []byte) (int64, error) {
	for line := range strings.SplitSeq(string(status), "\n") {
		v, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmHWM line %q", line)
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, errors.New("no VmHWM line in the process status")
}

// printBig writes the large-attachment measure and its verdict.
func printBig(w io.Writer, r bigResult) {
	const mib = 1 << 20
	fmt.Fprintf(w, "large attachment: a %.0f MiB file in a %.0f MiB email, from %s to thehivetest's command, pipeline in its own process\n",
		float64(r.Attachment)/mib, float64(r.Email)/mib, r.IMAP)
	p := r.Pipeline
	fmt.Fprintf(w, "  %d of %d emails done in %.1fs (%.0f MiB/s of email)\n",
		p.Done, p.Seen, p.Seconds, float64(r.Email)/(1<<20)/max(p.Seconds, 1e-9))
	for _, problem := range r.Problems {
		fmt.Fprintf(w, "  PROBLEM: %s\n", problem)
	}
	fmt.Fprintf(w, "peak RSS %.1f MiB (target ≤ 64 MiB): %s\n", float64(p.VmHWMKiB)/1024, verdict(p.VmHWMKiB <= 64*1024 && len(r.Problems) == 0))
}
