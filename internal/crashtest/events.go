package crashtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Event is one line the runner writes on its standard output, so that the
// driver can tell where a run was when it was killed.
type Event struct {
	// Kind is "pipeline" (the runner starts; Steps names the steps),
	// "begin" or "end" (of a step attempt, or of MarkStep, the
	// acknowledgement), "item" (an email done or failed), "run" (a run
	// ended) or "idle" (a run found nothing to do: the runner exits).
	Kind string `json:"ev"`
	// Steps lists the pipeline's steps in order, in a pipeline event.
	Steps []string `json:"steps,omitempty"`
	// Step names the step of a begin or end event.
	Step string `json:"step,omitempty"`
	// Outcome is an item's outcome ("created", "updated", "skipped") or
	// "failed".
	Outcome string `json:"outcome,omitempty"`
	// Err is the error of a failed step or item.
	Err string `json:"err,omitempty"`
	// Seen and Done count the items of a run event.
	Seen int `json:"seen,omitempty"`
	Done int `json:"done,omitempty"`
}

// Emitter writes events as JSON lines, each with a single Write, so that a
// process killed at any point leaves only whole lines behind. It is safe
// for concurrent use.
type Emitter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewEmitter returns an Emitter writing to w, which should be unbuffered
// (os.Stdout is).
func NewEmitter(w io.Writer) *Emitter { return &Emitter{w: w} }

// Emit writes e. Write errors are ignored: the driver notices a runner that
// stopped talking.
func (em *Emitter) Emit(e Event) {
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	em.mu.Lock()
	defer em.mu.Unlock()
	_, _ = em.w.Write(append(b, '\n'))
}

// Progress is what one runner process did, as its events tell.
type Progress struct {
	// Steps counts the step attempts begun, by step.
	Steps map[string]int
	// InFlight counts the step attempts begun and not ended, by step: where
	// a killed runner was.
	InFlight map[string]int
	// Done and Failed count the items finished and failed.
	Done, Failed int
	// Runs counts the runs that ended; Idle reports that the last one found
	// nothing to do.
	Runs int
	Idle bool
	// Order is the pipeline's steps in order, then MarkStep.
	Order []string
	// Malformed counts lines that were not events.
	Malformed int
}

// ReadProgress reads events from r until EOF and sums them up. It calls
// onEvent, unless nil, with each event as it arrives.
func ReadProgress(r io.Reader, onEvent func(Event)) (Progress, error) {
	p := Progress{Steps: map[string]int{}, InFlight: map[string]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			p.Malformed++
			continue
		}
		if onEvent != nil {
			onEvent(e)
		}
		switch e.Kind {
		case "pipeline":
			p.Order = append(slices.Clone(e.Steps), MarkStep)
		case "begin":
			p.Steps[e.Step]++
			p.InFlight[e.Step]++
		case "end":
			if p.InFlight[e.Step]--; p.InFlight[e.Step] <= 0 {
				delete(p.InFlight, e.Step)
			}
		case "item":
			if e.Outcome == "failed" {
				p.Failed++
			} else {
				p.Done++
			}
		case "run":
			p.Runs++
		case "idle":
			p.Runs++
			p.Idle = true
		default:
			p.Malformed++
		}
	}
	return p, sc.Err()
}

// Stage describes where the runner was: before its first step, between
// steps, or in the steps in flight, named in the order of the pipeline.
func (p Progress) Stage() string {
	if len(p.Steps) == 0 {
		return "before the first step (connecting, listing)"
	}
	if len(p.InFlight) == 0 {
		return "between steps (listing, or waiting for a message's turn)"
	}
	steps := slices.Collect(maps.Keys(p.InFlight))
	slices.SortFunc(steps, func(a, b string) int {
		ia, ib := slices.Index(p.Order, a), slices.Index(p.Order, b)
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(steps))
	for i, s := range steps {
		parts[i] = fmt.Sprintf("%s×%d", s, p.InFlight[s])
	}
	return "in " + strings.Join(parts, ", ")
}
