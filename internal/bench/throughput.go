package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
	"github.com/synapse-go/synapse/internal/crashtest"
	"github.com/synapse-go/synapse/internal/crashtest/mailkit"
	"github.com/synapse-go/synapse/thehive"
	"github.com/synapse-go/synapse/thehive/thehivetest"
	"github.com/synapse-go/synapse/workflow"
)

// throughput is the measure of one concurrency.
type throughput struct {
	Concurrency int
	Emails      int
	Latency     time.Duration
	// Duration sums the runs that found emails.
	Duration time.Duration
	// Requests counts every TheHive API request, and Routes by route
	// ("POST /api/v1/case").
	Requests int
	Routes   map[string]int
	// Bare is the mean time of a request as cheap as TheHive offers (GET
	// /api/v1/user/current) made by Concurrency clients at once against the
	// same fake: the floor of what a request costs on this machine.
	Bare time.Duration
	// Problems lists what the checks found wrong.
	Problems []string
}

// PerCall returns the wall time each of the Concurrency workers spent per
// TheHive request, everything included.
func (t throughput) PerCall() time.Duration {
	if t.Requests == 0 {
		return 0
	}
	return time.Duration(float64(t.Duration) * float64(t.Concurrency) / float64(t.Requests))
}

// Rate returns the emails handled per second.
func (t throughput) Rate() float64 {
	if t.Duration <= 0 {
		return 0
	}
	return float64(t.Emails) / t.Duration.Seconds()
}

// CallsPerEmail returns the TheHive requests per email.
func (t throughput) CallsPerEmail() float64 {
	if t.Emails == 0 {
		return 0
	}
	return float64(t.Requests) / float64(t.Emails)
}

// Limit returns the round-trip limit: the rate of a pipeline whose only
// cost is waiting for TheHive.
func (t throughput) Limit() float64 {
	return roundTripLimit(t.Concurrency, t.CallsPerEmail(), t.Latency)
}

// OfLimit returns the rate as a fraction of the round-trip limit.
func (t throughput) OfLimit() float64 {
	l := t.Limit()
	if l <= 0 {
		return 0
	}
	return t.Rate() / l
}

// roundTripLimit is concurrency ÷ (calls per email × latency), in emails
// per second; 0 when it is unbounded.
func roundTripLimit(concurrency int, callsPerEmail float64, latency time.Duration) float64 {
	if callsPerEmail <= 0 || latency <= 0 {
		return 0
	}
	return float64(concurrency) / (callsPerEmail * latency.Seconds())
}

// measureThroughput runs Ews2Case over msgs at concurrency c against a
// fresh in-memory IMAP server and a fresh fake TheHive delaying every
// request by latency, and checks the result.
func measureThroughput(ctx context.Context, msgs []mailkit.Message, c int, latency time.Duration) (throughput, error) {
	res := throughput{Concurrency: c, Emails: len(msgs), Latency: latency}
	imap, err := ewstest.NewIMAPServer(nil)
	if err != nil {
		return res, err
	}
	defer imap.Close()
	const password = "bench-imap-password"
	if err := imap.AddUser(crashtest.User, password); err != nil {
		return res, err
	}
	store := &mailkit.Store{Addr: imap.Addr(), Username: crashtest.User, Password: password}
	if err := store.CreateFolders(ctx, crashtest.Folder, crashtest.QuarantineFolder); err != nil {
		return res, err
	}
	seeds := make([]mailkit.Seed, len(msgs))
	base := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	for i, m := range msgs {
		seeds[i] = mailkit.Seed{Raw: m.Raw, Received: base.Add(time.Duration(i) * time.Second)}
	}
	if err := store.Append(ctx, crashtest.Folder, seeds...); err != nil {
		return res, err
	}

	hive := thehivetest.New()
	if err := hive.Start("127.0.0.1:0"); err != nil {
		return res, err
	}
	defer hive.Close()
	hive.SetLatency(latency)

	mb, th, err := clients(imap.Addr(), password, hive.URL(), thehivetest.APIKey, c)
	if err != nil {
		return res, err
	}
	defer mb.Close()
	r := workflow.Ews2Case(mb, th, mailConfig(c))
	for run := 0; ; run++ {
		if run == 5 {
			return res, fmt.Errorf("emails still left after %d runs", run)
		}
		rep, err := r.Run(ctx)
		if err != nil {
			return res, err
		}
		if rep.Seen == 0 {
			break
		}
		res.Duration += rep.Duration
	}
	snap, err := crashtest.NewSnapshot(hive.State())
	if err != nil {
		return res, err
	}
	res.Requests, res.Routes = snap.TotalRequests(), snap.Requests
	if res.Bare, err = bareRequest(ctx, th, c); err != nil {
		return res, err
	}
	hive.SetLatency(0)
	left, err := store.Inspect(ctx, crashtest.Folder)
	if err != nil {
		return res, err
	}
	quarantined, err := store.Inspect(ctx, crashtest.QuarantineFolder)
	if err != nil {
		return res, err
	}
	res.Problems = crashtest.Check(msgs, snap, left, quarantined)
	return res, nil
}

// bareRequest returns the mean time of GET /api/v1/user/current made by c
// clients at once, 20 times each.
func bareRequest(ctx context.Context, th *thehive.Client, c int) (time.Duration, error) {
	const each = 20
	errs := make(chan error, c)
	start := time.Now()
	for range c {
		go func() {
			var err error
			for i := 0; i < each && err == nil; i++ {
				_, err = th.Users.Current(ctx)
			}
			errs <- err
		}()
	}
	var err error
	for range c {
		err = errors.Join(err, <-errs)
	}
	return time.Since(start) / each, err
}

// clients returns the IMAP mailbox and the TheHive client the pipeline
// uses, sized for concurrency c: as many IMAP connections as emails in
// flight, and two more for listing and marking.
func clients(imapAddr, password, hiveURL, key string, c int) (*ews.IMAPMailbox, *thehive.Client, error) {
	mb, err := ews.NewIMAP(ews.IMAPConfig{
		Addr:       imapAddr,
		TLS:        ews.TLSNone,
		Username:   crashtest.User,
		Password:   password,
		Folders:    []string{crashtest.Folder},
		Processed:  ews.Disposition{MarkRead: true, Category: crashtest.ProcessedKeyword},
		Quarantine: ews.Disposition{Category: crashtest.QuarantinedKeyword, MoveTo: crashtest.QuarantineFolder},
		MaxConns:   c + 2,
	})
	if err != nil {
		return nil, nil, err
	}
	th, err := thehive.NewClient(hiveURL, thehive.WithAPIKey(key), thehive.WithTimeout(10*time.Minute))
	if err != nil {
		mb.Close()
		return nil, nil, err
	}
	return mb, th, nil
}

// mailConfig is the pipeline's configuration: cases owned by the fallback
// owner, observables tagged.
func mailConfig(c int) workflow.MailConfig {
	return workflow.MailConfig{
		Owner:       workflow.OwnerOptions{Fallback: crashtest.Owner},
		Observables: workflow.ObservableOptions{Tags: []string{"synapse"}},
		Concurrency: c,
	}
}

// printThroughput writes the table of measures and the verdicts.
func printThroughput(w io.Writer, msgs []mailkit.Message, results []throughput) {
	replies, files := 0, 0
	for _, m := range msgs {
		if m.Thread != m.Index {
			replies++
		}
		files += len(m.Attachments)
	}
	fmt.Fprintf(w, "throughput: %d emails (%d replies, %d files), TheHive latency %v\n",
		len(msgs), replies, files, results[0].Latency)
	fmt.Fprintf(w, "%12s %10s %12s %10s %9s %9s %9s %10s\n",
		"concurrency", "emails/s", "calls/email", "limit/s", "of limit", "ms/call", "bare ms", "time")
	for _, r := range results {
		fmt.Fprintf(w, "%12d %10.1f %12.2f %10.1f %8.1f%% %9.2f %9.2f %10v\n",
			r.Concurrency, r.Rate(), r.CallsPerEmail(), r.Limit(), 100*r.OfLimit(),
			ms(r.PerCall()), ms(r.Bare), r.Duration.Round(10*time.Millisecond))
		for _, p := range r.Problems {
			fmt.Fprintf(w, "  PROBLEM at concurrency %d: %s\n", r.Concurrency, p)
		}
	}
	last := results[len(results)-1]
	routes := slices.Collect(maps.Keys(last.Routes))
	slices.SortFunc(routes, func(a, b string) int { return cmp.Compare(last.Routes[b], last.Routes[a]) })
	var parts []string
	for _, r := range routes {
		parts = append(parts, fmt.Sprintf("%.2f %s", float64(last.Routes[r])/float64(last.Emails), r))
	}
	fmt.Fprintf(w, "calls per email: %s\n", strings.Join(parts, ", "))
	fmt.Fprintln(w, "ms/call is each worker's wall time per TheHive call; bare ms is a bare GET at the same concurrency")
	var one, sixteen *throughput
	for i := range results {
		switch results[i].Concurrency {
		case 1:
			one = &results[i]
		case 16:
			sixteen = &results[i]
		}
	}
	if sixteen != nil {
		fmt.Fprintf(w, "at concurrency 16: %.0f%% of the round-trip limit (target ≥ 90%%): %s\n",
			100*sixteen.OfLimit(), verdict(sixteen.OfLimit() >= 0.9))
		if sixteen.Bare > 0 {
			fmt.Fprintf(w, "  a bare call takes %.2f ms at 16 at once: calls alone cap the rate at %.1f%% of the limit on this machine\n",
				ms(sixteen.Bare), 100*float64(sixteen.Latency)/float64(sixteen.Bare))
		}
	}
	if one != nil && sixteen != nil && one.Rate() > 0 {
		speedup := sixteen.Rate() / one.Rate()
		fmt.Fprintf(w, "speed-up 16 vs 1: %.1f× (target ≥ 10×): %s\n", speedup, verdict(speedup >= 10))
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}
