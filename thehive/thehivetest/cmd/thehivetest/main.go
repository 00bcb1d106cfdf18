// Command thehivetest runs the fake TheHive 5 of package thehivetest as a
// standalone server, for tests where TheHive must live in another process.
//
// Usage:
//
//	thehivetest [-addr 127.0.0.1:0] [-latency 20ms] [-webhook URL] [-webhook-auth VALUE] [-cortex=false]
//
// It prints the server's base URL on the first line of its standard output,
// then serves until it is interrupted or killed. The seeded credentials are
// those of package thehivetest (admin@thehive.local, password "secret",
// API key "thehivetest-admin-key"); the routes under /_thehivetest/ drive
// its test hooks (state, faults, latency, reset).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/synapse-go/synapse/thehive/thehivetest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "thehivetest:", err)
		os.Exit(1)
	}
}

// run starts the server and blocks until ctx ends or a signal arrives.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("thehivetest", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	latency := fs.Duration("latency", 0, "delay applied to every API request")
	webhook := fs.String("webhook", "", "URL to POST TheHive 5 notifications to")
	webhookAuth := fs.String("webhook-auth", "", "Authorization header value for the webhook")
	cortex := fs.Bool("cortex", true, "offer canned Cortex analyzers (false: behave as a TheHive without Cortex)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := []thehivetest.Option{thehivetest.WithLatency(*latency)}
	if *webhook != "" {
		opts = append(opts, thehivetest.WithWebhook(*webhook, *webhookAuth))
	}
	if !*cortex {
		opts = append(opts, thehivetest.WithoutCortex())
	}
	srv := thehivetest.New(opts...)
	if err := srv.Start(*addr); err != nil {
		return err
	}
	defer srv.Close()
	if _, err := fmt.Fprintln(stdout, srv.URL()); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	// Give in-flight webhooks a moment before closing.
	done := make(chan struct{})
	go func() { srv.FlushWebhooks(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	return nil
}
