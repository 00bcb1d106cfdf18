package workflow

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Metrics counts what a synapse server does and writes it in the
// Prometheus text exposition format. It is safe for concurrent use.
type Metrics struct {
	mu     sync.Mutex
	values map[string]map[string]float64 // metric → labels → value
	help   map[string]string
	kind   map[string]string
}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	m := &Metrics{values: map[string]map[string]float64{}, help: map[string]string{}, kind: map[string]string{}}
	for _, d := range []struct{ name, kind, help string }{
		{"synapse_workflow_runs_total", "counter", "Workflow runs, by result."},
		{"synapse_workflow_items_total", "counter", "Items handled by workflow runs, by outcome."},
		{"synapse_workflow_running", "gauge", "1 while a run of the workflow is in progress."},
		{"synapse_workflow_last_run_timestamp_seconds", "gauge", "When the last run of the workflow ended."},
		{"synapse_workflow_last_run_duration_seconds", "gauge", "How long the last run of the workflow took."},
		{"synapse_step_duration_seconds_sum", "counter", "Time spent in each step, summed over its runs."},
		{"synapse_step_runs_total", "counter", "Runs of each step, by result."},
		{"synapse_http_requests_total", "counter", "HTTP requests served, by route and status."},
		{"synapse_webhook_events_total", "counter", "TheHive notifications received, by action taken."},
	} {
		m.help[d.name], m.kind[d.name] = d.help, d.kind
	}
	return m
}

// labels renders label pairs ("k", "v", ...) in the exposition format.
func labels(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteString(`="`)
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(kv[i+1]))
		b.WriteByte('"')
	}
	return b.String()
}

func (m *Metrics) add(name string, v float64, kv ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.values[name] == nil {
		m.values[name] = map[string]float64{}
	}
	m.values[name][labels(kv...)] += v
}

func (m *Metrics) set(name string, v float64, kv ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.values[name] == nil {
		m.values[name] = map[string]float64{}
	}
	m.values[name][labels(kv...)] = v
}

// Value returns the current value of a metric with its labels, given as
// name/value pairs, for tests and status pages.
func (m *Metrics) Value(name string, kv ...string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.values[name][labels(kv...)]
}

// RecordRun records a finished run of a workflow.
func (m *Metrics) RecordRun(workflow string, rep Report, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.add("synapse_workflow_runs_total", 1, "workflow", workflow, "result", result)
	for _, o := range []struct {
		outcome string
		n       int
	}{
		{"created", rep.Created}, {"updated", rep.Updated}, {"skipped", rep.Skipped},
		{"failed", rep.Failed}, {"quarantined", rep.Quarantined},
	} {
		m.add("synapse_workflow_items_total", float64(o.n), "workflow", workflow, "outcome", o.outcome)
	}
	m.set("synapse_workflow_last_run_timestamp_seconds", float64(time.Now().UnixMilli())/1000, "workflow", workflow)
	m.set("synapse_workflow_last_run_duration_seconds", rep.Duration.Seconds(), "workflow", workflow)
}

// SetRunning records whether a workflow is running.
func (m *Metrics) SetRunning(workflow string, running bool) {
	v := 0.0
	if running {
		v = 1
	}
	m.set("synapse_workflow_running", v, "workflow", workflow)
}

// StepMiddleware returns middleware that records the duration and result
// of every step of a workflow's pipeline.
func (m *Metrics) StepMiddleware(workflow string) Middleware {
	return Observe(func(step string, d time.Duration, err error) {
		result := "ok"
		if err != nil {
			result = "error"
		}
		m.add("synapse_step_duration_seconds_sum", d.Seconds(), "workflow", workflow, "step", step)
		m.add("synapse_step_runs_total", 1, "workflow", workflow, "step", step, "result", result)
	})
}

// WriteTo writes every metric in the Prometheus text format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	m.mu.Lock()
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(m.values)) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, m.help[name], name, m.kind[name])
		series := m.values[name]
		for _, l := range slices.Sorted(maps.Keys(series)) {
			b.WriteString(name)
			if l != "" {
				b.WriteString("{" + l + "}")
			}
			b.WriteString(" " + strconv.FormatFloat(series[l], 'g', -1, 64) + "\n")
		}
	}
	m.mu.Unlock()
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}
