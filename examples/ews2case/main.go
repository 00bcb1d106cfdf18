// Command ews2case runs the mail workflows of a synapse configuration once,
// against real servers, and prints what each did: every unprocessed message
// of the configured folders becomes a case (ews2case) or an alert
// (ews2alert) in TheHive and is marked processed.
//
//	go run ./examples/ews2case -config synapse.yaml                    # every mail workflow
//	go run ./examples/ews2case -config synapse.yaml -workflow phishing-cases
//
// It exits with status 1 when a run failed or left messages failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/synapse-go/synapse/workflow"
)

func main() {
	path := flag.String("config", "synapse.yaml", "the configuration file")
	names := flag.String("workflow", "", "comma-separated workflows to run (default: every ews2case and ews2alert workflow)")
	flag.Parse()

	cfg, err := workflow.LoadConfig(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	app, err := workflow.NewApp(cfg, workflow.NewLogger(cfg.Server, os.Stderr))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer app.Close()

	var run []string
	if *names != "" {
		run = strings.Split(*names, ",")
	} else {
		run = append(app.Workflows(workflow.WorkflowEws2Case), app.Workflows(workflow.WorkflowEws2Alert)...)
	}
	if len(run) == 0 {
		fmt.Fprintln(os.Stderr, "ews2case: the configuration has no ews2case or ews2alert workflow")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	reports, err := app.RunOnce(ctx, run...)
	failed := err != nil
	for _, rep := range reports {
		workflow.PrintReport(os.Stdout, rep)
		failed = failed || rep.Failed > 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	if failed {
		os.Exit(1)
	}
}
