// Command synapse is the synapse server: it runs the workflows of a YAML
// configuration on their schedules and serves the HTTP API (the original
// Synapse endpoints GET /ews2case, POST /QRadar2alert, POST /webhook and
// GET /version, plus /workflows, /healthz and /metrics).
//
//	go run ./examples/synapse -config examples/synapse/synapse.yaml
//	go run ./examples/synapse -config synapse.yaml -check   # validate and exit
//
// SIGINT or SIGTERM stops it gracefully: no new run starts, runs in progress
// finish their current items.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/synapse-go/synapse/workflow"
)

func main() {
	path := flag.String("config", "synapse.yaml", "the configuration file")
	check := flag.Bool("check", false, "check the configuration and exit")
	flag.Parse()

	cfg, err := workflow.LoadConfig(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if *check {
		fmt.Printf("%s: %d sources, %d workflows: OK\n", cfg.File, len(cfg.Sources), len(cfg.Workflows))
		return
	}
	logger := workflow.NewLogger(cfg.Server, os.Stderr)
	app, err := workflow.NewApp(cfg, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer app.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Serve(ctx); err != nil {
		logger.Error("synapse stopped", "error", err.Error())
		os.Exit(1)
	}
}
