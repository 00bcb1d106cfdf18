package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/synapse-go/synapse/internal/crashtest/mailkit"
	"github.com/synapse-go/synapse/internal/dovecot"
)

// TestMain lets the test binary play the bench's child processes, as the
// command does.
func TestMain(m *testing.M) {
	if kind := os.Getenv(childEnv); kind != "" {
		if err := runChild(kind); err != nil {
			fmt.Fprintf(os.Stderr, "bench (%s child): %v\n", kind, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestFigures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                               string
		in                                 throughput
		rate, calls, limit, ofLimit, perMS float64
	}{
		{"sixteen", throughput{Concurrency: 16, Emails: 1000, Latency: 20 * time.Millisecond, Duration: 20 * time.Second, Requests: 12500},
			50, 12.5, 64, 50.0 / 64, 25.6},
		{"one", throughput{Concurrency: 1, Emails: 10, Latency: 10 * time.Millisecond, Duration: time.Second, Requests: 50},
			10, 5, 20, 0.5, 20},
		{"no latency: no limit", throughput{Concurrency: 4, Emails: 10, Duration: time.Second, Requests: 40},
			10, 4, 0, 0, 100},
		{"nothing measured", throughput{Concurrency: 4}, 0, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		got := []float64{tt.in.Rate(), tt.in.CallsPerEmail(), tt.in.Limit(), tt.in.OfLimit(), ms(tt.in.PerCall())}
		want := []float64{tt.rate, tt.calls, tt.limit, tt.ofLimit, tt.perMS}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: rate, calls, limit, of limit, ms/call (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestParseVmHWM(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status string
		want   int64
		err    string
	}{
		{"Name:\tbench\nVmPeak:\t  100 kB\nVmHWM:\t   13952 kB\nVmRSS:\t 9000 kB\n", 13952, ""},
		{"Name:\tbench\n", 0, "no VmHWM line"},
		{"VmHWM:\t12 MB\n", 0, "unexpected VmHWM line"},
		{"VmHWM:\tlots kB\n", 0, "invalid syntax"},
	}
	for _, tt := range tests {
		got, err := parseVmHWM([]byte(tt.status))
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("parseVmHWM(%q) = %d, %v; want %d, %q", tt.status, got, err, tt.want, tt.err)
		}
	}
	if kib, err := peakRSS(); err != nil || kib <= 0 {
		t.Errorf("peakRSS() = %d, %v", kib, err)
	}
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	def, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := options{n: 1000, latency: 20 * time.Millisecond, concurrency: []int{1, 16}, bigMiB: 200, imap: "auto", seed: 1}
	if diff := cmp.Diff(want, def, cmp.AllowUnexported(options{})); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-conc", "1,x"}, `"x" is not a positive number`},
		{[]string{"-conc", "0"}, "not a positive number"},
		{[]string{"-n", "-1"}, "must not be negative"},
		{[]string{"-latency", "-1s"}, "must not be negative"},
		{[]string{"-imap", "exchange"}, "want auto, dovecot or memory"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-nope"}, "flag provided but not defined"},
	} {
		if _, err := parseFlags(tt.args, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseFlags(%q): %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}

// TestThroughput runs the throughput measure on a few emails: the pipeline's
// result must pass the checks, and the figures and the table must add up.
func TestThroughput(t *testing.T) {
	t.Parallel()
	msgs := mailkit.Generate(24, mailkit.Options{Seed: 2, ReplyEvery: 6, AttachEvery: 4})
	var results []throughput
	for _, c := range []int{1, 16} {
		r, err := measureThroughput(t.Context(), msgs, c, time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range r.Problems {
			t.Errorf("concurrency %d: %s", c, p)
		}
		sum := 0
		for _, n := range r.Routes {
			sum += n
		}
		if r.Emails != len(msgs) || r.Requests == 0 || sum != r.Requests || r.Duration <= 0 || r.Bare < time.Millisecond {
			t.Errorf("concurrency %d: %+v", c, r)
		}
		results = append(results, r)
	}
	var out bytes.Buffer
	printThroughput(&out, msgs, results)
	for _, want := range []string{
		"throughput: 24 emails (3 replies, 6 files), TheHive latency 1ms",
		"calls per email: ",
		"POST /api/v1/case/{id}/observable",
		"at concurrency 16: ",
		"speed-up 16 vs 1: ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, out.String())
		}
	}
}

// TestBig runs the large-attachment measure with a small attachment,
// against each IMAP server at hand: the uploads must match the email, and
// the child must report its peak memory.
func TestBig(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: builds thehivetest and starts child processes")
	}
	t.Parallel()
	modes := []string{"memory"}
	if _, err := dovecot.Binary(); err == nil || os.Getenv("CI") == "true" {
		modes = append(modes, "dovecot")
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			res, err := measureBig(t.Context(), bigOptions{Size: 3 << 20, IMAP: mode, Logf: t.Logf})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range res.Problems {
				t.Error(p)
			}
			if res.Attachment != 3<<20 || res.Email <= res.Attachment || res.Pipeline.Done != 1 || res.Pipeline.VmHWMKiB <= 0 {
				t.Errorf("result %+v", res)
			}
			var out bytes.Buffer
			printBig(&out, res)
			if !strings.Contains(out.String(), "a 3 MiB file in a 4 MiB email") || !strings.Contains(out.String(), "peak RSS") {
				t.Errorf("report:\n%s", out.String())
			}
		})
	}
}

// The figures of a measure: 16 workers, 1000 emails of 13.72 calls each
// in 19.68 s against a TheHive answering in 20 ms.
func Example_figures() {
	t := throughput{Concurrency: 16, Emails: 1000, Latency: 20 * time.Millisecond,
		Duration: 19680 * time.Millisecond, Requests: 13720}
	fmt.Printf("%.1f emails/s, limit %.1f emails/s: %.1f%% of it, %.2f ms per call\n",
		t.Rate(), t.Limit(), 100*t.OfLimit(), ms(t.PerCall()))
	// Output:
	// 50.8 emails/s, limit 58.3 emails/s: 87.1% of it, 22.95 ms per call
}
