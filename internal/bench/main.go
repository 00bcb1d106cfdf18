package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/synapse-go/synapse/internal/crashtest/mailkit"
)

func main() {
	if kind := os.Getenv(childEnv); kind != "" {
		if err := runChild(kind); err != nil {
			fmt.Fprintf(os.Stderr, "bench (%s child): %v\n", kind, err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signalContext()
	defer stop()
	ok, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// options are the command's flags.
type options struct {
	n           int
	latency     time.Duration
	concurrency []int
	bigMiB      int
	imap        string
	seed        uint64
	cpuProfile  string
	memProfile  string
	verbose     bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.n, "n", 1000, "emails per throughput run (0 skips the throughput runs)")
	fs.DurationVar(&o.latency, "latency", 20*time.Millisecond, "delay of every TheHive request in the throughput runs")
	conc := fs.String("conc", "1,16", "concurrencies to measure, comma-separated")
	fs.IntVar(&o.bigMiB, "big", 200, "attachment size in MiB for the memory run (0 skips it)")
	fs.StringVar(&o.imap, "imap", "auto", "IMAP server of the memory run: auto (Dovecot if installed), dovecot or memory")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated emails")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the throughput runs to this file")
	fs.StringVar(&o.memProfile, "memprofile", "", "write an allocation profile of the throughput runs to this file")
	fs.BoolVar(&o.verbose, "v", false, "print progress")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, f := range strings.Split(*conc, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 {
			return o, fmt.Errorf("-conc: %q is not a positive number", f)
		}
		o.concurrency = append(o.concurrency, c)
	}
	switch {
	case o.n < 0 || o.bigMiB < 0:
		return o, errors.New("-n and -big must not be negative")
	case o.latency < 0:
		return o, errors.New("-latency must not be negative")
	case o.imap != "auto" && o.imap != "dovecot" && o.imap != "memory":
		return o, fmt.Errorf("-imap %q: want auto, dovecot or memory", o.imap)
	}
	return o, nil
}

// run measures what the flags ask for and reports whether every target was
// met and every check passed.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (bool, error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return false, err
	}
	logf := func(string, ...any) {}
	if o.verbose {
		logf = log.New(stderr, "bench: ", log.Ltime).Printf
	}
	ok := true
	if o.n > 0 {
		met, err := runThroughput(ctx, o, stdout, logf)
		if err != nil {
			return false, err
		}
		ok = ok && met
	}
	if o.bigMiB > 0 {
		opts := bigOptions{Size: int64(o.bigMiB) << 20, IMAP: o.imap, Logf: logf}
		if o.cpuProfile != "" {
			opts.CPUProfile = o.cpuProfile + ".big"
		}
		if o.memProfile != "" {
			opts.MemProfile = o.memProfile + ".big"
		}
		res, err := measureBig(ctx, opts)
		if err != nil {
			return false, err
		}
		printBig(stdout, res)
		ok = ok && len(res.Problems) == 0 && res.Pipeline.VmHWMKiB <= 64*1024
	}
	return ok, nil
}

// runThroughput measures every concurrency, prints the table and reports
// whether the targets were met.
func runThroughput(ctx context.Context, o options, stdout io.Writer, logf func(string, ...any)) (bool, error) {
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return false, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return false, err
		}
		defer pprof.StopCPUProfile()
	}
	msgs := mailkit.Generate(o.n, mailkit.Options{Seed: o.seed, ReplyEvery: 20, AttachEvery: 4})
	var results []throughput
	for _, c := range o.concurrency {
		logf("%d emails at concurrency %d", o.n, c)
		r, err := measureThroughput(ctx, msgs, c, o.latency)
		if err != nil {
			return false, fmt.Errorf("concurrency %d: %w", c, err)
		}
		logf("%.1f emails/s, %.2f calls/email", r.Rate(), r.CallsPerEmail())
		results = append(results, r)
	}
	if o.memProfile != "" {
		if err := writeHeapProfile(o.memProfile); err != nil {
			return false, err
		}
	}
	printThroughput(stdout, msgs, results)
	ok := true
	var one, sixteen *throughput
	for i, r := range results {
		ok = ok && len(r.Problems) == 0
		switch r.Concurrency {
		case 1:
			one = &results[i]
		case 16:
			sixteen = &results[i]
		}
	}
	if sixteen != nil {
		ok = ok && sixteen.OfLimit() >= 0.9
		if one != nil {
			ok = ok && sixteen.Rate() >= 10*one.Rate()
		}
	}
	return ok, nil
}
