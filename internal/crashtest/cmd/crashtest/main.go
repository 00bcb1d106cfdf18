// Command crashtest runs the crash test of package crashtest as a program:
// the Ews2Case runner is killed with SIGKILL at random points while
// thehivetest and Dovecot run in processes of their own, then let finish;
// nothing may be lost or duplicated. It prints each kill with the stage it
// interrupted, what TheHive holds, and every problem found, and exits 1 when
// there is one.
//
// Usage, from the module root:
//
//	go run ./internal/crashtest/cmd/crashtest [-emails 200] [-kills 8] [-seed 1] \
//	    [-min 20ms] [-max 1s] [-concurrency 4] [-latency 10ms] [-race] [-v]
//
// It needs Dovecot (Debian: apt-get install dovecot-imapd) and the go
// command, which builds the fake and the runner.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/synapse-go/synapse/internal/crashtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashtest:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (bool, error) {
	fs := flag.NewFlagSet("crashtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	d := crashtest.DefaultConfig()
	var cfg crashtest.Config
	fs.IntVar(&cfg.Emails, "emails", d.Emails, "reported emails to seed")
	fs.IntVar(&cfg.Kills, "kills", d.Kills, "runner processes to kill")
	fs.Uint64Var(&cfg.Seed, "seed", d.Seed, "seed of the emails and the kill delays")
	fs.DurationVar(&cfg.MinDelay, "min", d.MinDelay, "shortest delay before a kill")
	fs.DurationVar(&cfg.MaxDelay, "max", d.MaxDelay, "longest delay before a kill")
	fs.IntVar(&cfg.Concurrency, "concurrency", d.Concurrency, "emails the runner handles at once")
	fs.DurationVar(&cfg.Latency, "latency", d.Latency, "delay of every TheHive request")
	fs.BoolVar(&cfg.Race, "race", false, "build the fake and the runner with the race detector")
	verbose := fs.Bool("v", false, "print progress")
	if err := fs.Parse(args); err != nil {
		return false, err
	}
	if *verbose {
		cfg.Logf = log.New(stderr, "crashtest: ", log.Ltime|log.Lmicroseconds).Printf
	}
	res, err := crashtest.Run(ctx, cfg)
	if err != nil {
		return false, err
	}
	res.Summary(stdout)
	return len(res.Problems) == 0, nil
}
