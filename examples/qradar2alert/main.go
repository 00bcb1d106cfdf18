// Command qradar2alert runs the qradar2alert workflows of a synapse
// configuration once: QRadar offenses become TheHive alerts (or update
// theirs when they changed).
//
//	go run ./examples/qradar2alert -config synapse.yaml                 # offenses changed in the lookback window
//	go run ./examples/qradar2alert -config synapse.yaml -timerange 60   # the last 60 minutes, as POST /QRadar2alert
//	go run ./examples/qradar2alert -config synapse.yaml -workflow offenses-paris -offense 4211
//
// It exits with status 1 when an offense failed.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/synapse-go/synapse/qradar"
	"github.com/synapse-go/synapse/workflow"
)

func main() {
	path := flag.String("config", "synapse.yaml", "the configuration file")
	name := flag.String("workflow", "", "the qradar2alert workflow (default: every one)")
	minutes := flag.Int("timerange", 0, "take the offenses changed in the last N minutes, and print the original JSON answer")
	offense := flag.Int64("offense", 0, "handle this one offense (needs -workflow when there are several)")
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
	names := app.Workflows(workflow.WorkflowQRadar2Alert)
	if *name != "" {
		names = []string{*name}
	}
	if len(names) == 0 || app.QRadar2Alert(names[0]) == nil {
		fmt.Fprintln(os.Stderr, "qradar2alert: no such qradar2alert workflow in the configuration")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	switch {
	case *offense > 0:
		res, err := app.QRadar2Alert(names[0]).ProcessOffense(ctx, qradar.OffenseID(*offense))
		if err == nil {
			fmt.Printf("offense %d: alert %s %s\n", res.OffenseID, res.AlertID, res.Outcome)
		} else {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case *minutes > 0:
		resp := app.QRadarTimerange(ctx, time.Duration(*minutes)*time.Minute)
		out, _ := json.MarshalIndent(resp, "", "  ")
		fmt.Println(string(out))
		if !resp.Success {
			os.Exit(1)
		}
	default:
		reports, err := app.RunOnce(ctx, names...)
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
}
