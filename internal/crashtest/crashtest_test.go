package crashtest_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/synapse-go/synapse/internal/crashtest"
	"github.com/synapse-go/synapse/internal/crashtest/mailkit"
	"github.com/synapse-go/synapse/internal/dovecot"
)

// TestCrash runs the crash test with its defaults: 200 emails, the runner
// killed 8 times, then a last run to the end; nothing may be lost or
// duplicated.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the crash test in short mode")
	}
	if _, err := dovecot.Binary(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v; CI=true requires Dovecot for the crash test", err)
		}
		t.Skipf("skipping: %v", err)
	}
	t.Parallel()
	res, err := crashtest.Run(t.Context(), crashtest.Config{Race: raceEnabled, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	res.Summary(&b)
	t.Log("\n" + b.String())
	for _, p := range res.Problems {
		t.Error(p)
	}
	// The test proves something only if kills landed while emails were
	// being handled.
	midBatch := 0
	for _, k := range res.Kills {
		if k.Killed && len(k.Progress.Steps) > 0 {
			midBatch++
		}
	}
	if midBatch == 0 {
		t.Errorf("no kill landed while the runner was handling emails")
	}
	if res.Emails != 200 || res.Final.Done+doneBefore(res) < res.Emails {
		t.Errorf("%d emails; %d handled before the final run, %d in it", res.Emails, doneBefore(res), res.Final.Done)
	}
}

func doneBefore(res *crashtest.Result) int {
	n := 0
	for _, k := range res.Kills {
		n += k.Progress.Done
	}
	return n
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  crashtest.Config
		want string
	}{
		{"negative emails", crashtest.Config{Emails: -1}, "must be positive"},
		{"negative concurrency", crashtest.Config{Concurrency: -2}, "must be positive"},
		{"negative kills", crashtest.Config{Kills: -1}, "not negative"},
		{"delays upside down", crashtest.Config{MinDelay: time.Second, MaxDelay: time.Millisecond}, "not a range"},
	}
	for _, tt := range tests {
		_, err := crashtest.Run(t.Context(), tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestDelays(t *testing.T) {
	t.Parallel()
	a := crashtest.Delays(7, 50, 20*time.Millisecond, time.Second)
	if diff := cmp.Diff(a, crashtest.Delays(7, 50, 20*time.Millisecond, time.Second)); diff != "" {
		t.Errorf("same seed, other delays:\n%s", diff)
	}
	if cmp.Equal(a, crashtest.Delays(8, 50, 20*time.Millisecond, time.Second)) {
		t.Error("another seed gave the same delays")
	}
	for _, d := range a {
		if d < 20*time.Millisecond || d > time.Second {
			t.Errorf("delay %v out of [20ms, 1s]", d)
		}
	}
	if got := crashtest.Delays(1, 3, time.Second, time.Second); !cmp.Equal(got, []time.Duration{time.Second, time.Second, time.Second}) {
		t.Errorf("a one-point range gave %v", got)
	}
	if got := crashtest.Delays(1, -1, 0, time.Second); len(got) != 0 {
		t.Errorf("a negative count gave %v", got)
	}
}

func TestProgress(t *testing.T) {
	t.Parallel()
	order := []string{"parse", "log", "observables"}
	tests := []struct {
		name   string
		events []crashtest.Event
		lines  string // raw lines appended after the events
		want   crashtest.Progress
		stage  string
	}{{
		name:   "nothing yet",
		events: []crashtest.Event{{Kind: "pipeline", Steps: order}},
		want:   crashtest.Progress{Steps: map[string]int{}, InFlight: map[string]int{}, Order: append(order, crashtest.MarkStep)},
		stage:  "before the first step (connecting, listing)",
	}, {
		name: "killed in two steps",
		events: []crashtest.Event{
			{Kind: "pipeline", Steps: order},
			{Kind: "begin", Step: "parse"}, {Kind: "end", Step: "parse"},
			{Kind: "begin", Step: "parse"}, {Kind: "end", Step: "parse"},
			{Kind: "begin", Step: "observables"}, {Kind: "begin", Step: "log"}, {Kind: "begin", Step: "log"},
			{Kind: "begin", Step: crashtest.MarkStep},
			{Kind: "item", Outcome: "created"}, {Kind: "item", Outcome: "failed", Err: "boom"},
		},
		want: crashtest.Progress{
			Steps:    map[string]int{"parse": 2, "log": 2, "observables": 1, crashtest.MarkStep: 1},
			InFlight: map[string]int{"log": 2, "observables": 1, crashtest.MarkStep: 1},
			Done:     1, Failed: 1, Order: append(order, crashtest.MarkStep),
		},
		stage: "in log×2, observables×1, mark×1",
	}, {
		name: "finished, with a torn line",
		events: []crashtest.Event{
			{Kind: "begin", Step: "parse"}, {Kind: "end", Step: "parse"},
			{Kind: "run", Seen: 1, Done: 1}, {Kind: "idle"},
		},
		lines: "{\"ev\":\"beg\n",
		want: crashtest.Progress{Steps: map[string]int{"parse": 1}, InFlight: map[string]int{},
			Runs: 2, Idle: true, Malformed: 1},
		stage: "between steps (listing, or waiting for a message's turn)",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			em := crashtest.NewEmitter(&buf)
			for _, e := range tt.events {
				em.Emit(e)
			}
			buf.WriteString(tt.lines)
			got, err := crashtest.ReadProgress(&buf, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("progress (-want +got):\n%s", diff)
			}
			if s := got.Stage(); s != tt.stage {
				t.Errorf("stage %q, want %q", s, tt.stage)
			}
		})
	}
}

// consistent builds what a correct workflow leaves behind for msgs.
func consistent(msgs []mailkit.Message) (*crashtest.Snapshot, []mailkit.Stored) {
	s := &crashtest.Snapshot{}
	caseID := map[int]string{}
	for _, m := range msgs {
		if m.Thread != m.Index {
			continue
		}
		id := "~c" + m.SHA256[:8]
		caseID[m.Index] = id
		s.Cases = append(s.Cases, crashtest.Case{ID: id, Number: len(s.Cases) + 1, Title: m.ThreadSubject, Assignee: crashtest.Owner})
		task := crashtest.Task{ID: "~t" + m.SHA256[:8], Title: crashtest.TaskTitle}
		task.Extra.CaseID = id
		s.Tasks = append(s.Tasks, task)
	}
	var stored []mailkit.Stored
	for _, m := range msgs {
		id := caseID[m.Thread]
		l := crashtest.Log{ID: "~l" + m.SHA256[:8], Attachments: []crashtest.File{{Name: "m.eml", Hashes: []string{m.SHA256}}}}
		l.Extra.CaseID = id
		s.Logs = append(s.Logs, l)
		for _, v := range m.Indicators {
			o := crashtest.Observable{ID: "~o" + v, DataType: "other", Data: v}
			o.Extra.CaseID = id
			s.Observables = append(s.Observables, o)
		}
		for _, a := range m.Attachments {
			o := crashtest.Observable{ID: "~f" + a.SHA256, DataType: "file", Attachment: &crashtest.File{Name: a.Name, Hashes: []string{a.SHA256}}}
			o.Extra.CaseID = id
			s.Observables = append(s.Observables, o)
		}
		stored = append(stored, mailkit.Stored{UID: uint32(m.Index + 1), Subject: m.Subject, SHA256: m.SHA256,
			Flags: []string{`\Seen`, crashtest.ProcessedKeyword}})
	}
	return s, stored
}

// TestCheck makes sure the checks catch each kind of breakage.
func TestCheck(t *testing.T) {
	t.Parallel()
	msgs := mailkit.Generate(12, mailkit.Options{Seed: 3, ReplyEvery: 4, AttachEvery: 3})
	tests := []struct {
		name   string
		break_ func(s *crashtest.Snapshot, left, quarantined *[]mailkit.Stored)
		want   []string // substrings of the problems, in order
	}{
		{"all well", func(*crashtest.Snapshot, *[]mailkit.Stored, *[]mailkit.Stored) {}, nil},
		{"a log lost", func(s *crashtest.Snapshot, _, _ *[]mailkit.Stored) { s.Logs = s.Logs[1:] },
			[]string{"11 logs for 12 emails", "email 0 (", "is attached to 0 logs"}},
		{"a log doubled", func(s *crashtest.Snapshot, _, _ *[]mailkit.Stored) {
			l := s.Logs[2]
			l.ID = "~again"
			s.Logs = append(s.Logs, l)
		}, []string{"13 logs for 12 emails", "email 2", "is logged twice"}},
		{"a case doubled", func(s *crashtest.Snapshot, _, _ *[]mailkit.Stored) {
			c := s.Cases[0]
			c.ID = "~other"
			s.Cases = append(s.Cases, c)
		}, []string{"11 cases for 10 threads", "has 0 tasks", "has 2 cases"}},
		{"a reply in the wrong case", func(s *crashtest.Snapshot, _, _ *[]mailkit.Stored) {
			s.Logs[4].Extra.CaseID = s.Cases[0].ID
		}, []string{"email 4", "not in its thread's case"}},
		{"an indicator lost", func(s *crashtest.Snapshot, _, _ *[]mailkit.Stored) { s.Observables = s.Observables[1:] },
			[]string{"indicator https://"}},
		{"an observable doubled", func(s *crashtest.Snapshot, _, _ *[]mailkit.Stored) {
			o := s.Observables[0]
			o.ID = "~dup"
			s.Observables = append(s.Observables, o)
		}, []string{"twice"}},
		{"an email not marked", func(_ *crashtest.Snapshot, left, _ *[]mailkit.Stored) { (*left)[5].Flags = nil },
			[]string{"11 marked processed", "is not marked processed"}},
		{"an email quarantined", func(_ *crashtest.Snapshot, left, q *[]mailkit.Stored) {
			*q = append(*q, (*left)[6])
			*left = append((*left)[:6], (*left)[7:]...)
		}, []string{"the folder holds 11 emails", "was quarantined"}},
		{"the wrong owner", func(s *crashtest.Snapshot, _, _ *[]mailkit.Stored) { s.Cases[1].Assignee = "someone@else" },
			[]string{"is assigned to \"someone@else\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			snap, left := consistent(msgs)
			var quarantined []mailkit.Stored
			tt.break_(snap, &left, &quarantined)
			got := crashtest.Check(msgs, snap, left, quarantined)
			if len(tt.want) == 0 && len(got) > 0 {
				t.Fatalf("problems in a consistent state:\n%s", strings.Join(got, "\n"))
			}
			all := strings.Join(got, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("no problem mentions %q; got:\n%s", w, all)
				}
			}
		})
	}
}

func TestCheckWithoutSnapshot(t *testing.T) {
	t.Parallel()
	got := crashtest.Check(mailkit.Generate(2, mailkit.Options{}), nil, nil, nil)
	if diff := cmp.Diff([]string{"no snapshot of TheHive to check"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRunWithoutDovecot(t *testing.T) {
	t.Parallel()
	if _, err := dovecot.Binary(); err == nil {
		t.Skip("Dovecot is installed")
	}
	_, err := crashtest.Run(t.Context(), crashtest.Config{})
	if !errors.Is(err, dovecot.ErrNotInstalled) {
		t.Errorf("error %v, want dovecot.ErrNotInstalled", err)
	}
}
