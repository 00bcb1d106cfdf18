package workflow

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 1, 1, 10, 0, 30, 0, time.UTC)
	tests := []struct {
		spec string
		next time.Time
		bad  bool
	}{
		{spec: "90s", next: base.Add(90 * time.Second)},
		{spec: "@every 5m", next: base.Add(5 * time.Minute)},
		{spec: "*/10 * * * *", next: time.Date(2026, 1, 1, 10, 10, 0, 0, time.UTC)},
		{spec: "@hourly", next: time.Date(2026, 1, 1, 11, 0, 0, 0, time.UTC)},
		{spec: "10ms", bad: true},
		{spec: "every five minutes", bad: true},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.spec)
		if (err != nil) != tt.bad {
			t.Errorf("ParseSchedule(%q) error = %v", tt.spec, err)
			continue
		}
		if err == nil && !s.Next(base).Equal(tt.next) {
			t.Errorf("ParseSchedule(%q).Next = %v, want %v", tt.spec, s.Next(base), tt.next)
		}
	}
	if s, err := ParseSchedule(""); s != nil || err != nil {
		t.Error("an empty schedule is not 'triggered only'")
	}
}

func TestSchedulerRunsOneAtATime(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	var runs atomic.Int32
	job := JobFunc("slow", func(ctx context.Context) (Report, error) {
		runs.Add(1)
		started <- struct{}{}
		<-release
		return Report{Workflow: "slow", Seen: 3, Created: 3}, nil
	})
	var mu sync.Mutex
	var seen []JobStatus
	s := NewScheduler(nil, func(st JobStatus, _ Report, _ error) {
		mu.Lock()
		seen = append(seen, st)
		mu.Unlock()
	})
	if err := s.Add(job, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(job, ""); err == nil {
		t.Error("a second job with the same name was accepted")
	}
	s.Start(t.Context())
	done := make(chan error)
	go func() { _, err := s.Run(t.Context(), "slow"); done <- err }()
	<-started
	if _, err := s.Run(t.Context(), "slow"); !errors.Is(err, ErrRunning) {
		t.Errorf("a concurrent run gave %v, want ErrRunning", err)
	}
	if st := s.Status()[0]; !st.Running {
		t.Error("status does not say running")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := s.Status()[0]
	if st.Running || st.Runs != 1 || st.Last == nil || st.Last.Created != 3 || len(seen) != 1 {
		t.Errorf("status after the run: %+v", st)
	}
	if _, err := s.Run(t.Context(), "nope"); !errors.Is(err, ErrUnknownJob) {
		t.Errorf("unknown job: %v", err)
	}
	if err := s.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(t.Context(), "slow"); !errors.Is(err, ErrStopped) {
		t.Errorf("run after stop: %v", err)
	}
}

func TestSchedulerRunsOnScheduleAndStopsCleanly(t *testing.T) {
	t.Parallel()
	ran := make(chan struct{}, 10)
	var inRun atomic.Bool
	job := JobFunc("tick", func(ctx context.Context) (Report, error) {
		inRun.Store(true)
		defer inRun.Store(false)
		ran <- struct{}{}
		return Report{}, errors.New("source down")
	})
	s := NewScheduler(nil, nil)
	if err := s.Add(job, "1s"); err != nil {
		t.Fatal(err)
	}
	s.Start(t.Context())
	<-ran
	<-ran // at least two scheduled runs
	if err := s.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if inRun.Load() {
		t.Error("Stop returned while a run was in progress")
	}
	st := s.Status()[0]
	if st.Runs < 2 || st.Failures != st.Runs || st.LastError != "source down" || st.Next.IsZero() {
		t.Errorf("status %+v", st)
	}
}
