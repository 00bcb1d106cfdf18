package crashtest_test

import (
	"fmt"
	"os"
	"time"

	"github.com/synapse-go/synapse/internal/crashtest"
)

// The kill plan is reproducible: the same seed kills the runner at the same
// moments.
func ExampleDelays() {
	for _, d := range crashtest.Delays(1, 4, 20*time.Millisecond, time.Second) {
		fmt.Println(d.Round(time.Millisecond))
	}
	// Output:
	// 166ms
	// 157ms
	// 118ms
	// 912ms
}

// A runner's events tell where it was when it was killed.
func ExampleReadProgress() {
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	em := crashtest.NewEmitter(w)
	em.Emit(crashtest.Event{Kind: "pipeline", Steps: []string{"parse-mail", "add-log", "add-observables"}})
	em.Emit(crashtest.Event{Kind: "begin", Step: "parse-mail"})
	em.Emit(crashtest.Event{Kind: "end", Step: "parse-mail"})
	em.Emit(crashtest.Event{Kind: "begin", Step: "add-observables"})
	em.Emit(crashtest.Event{Kind: "begin", Step: "add-log"})
	w.Close() // as a killed runner's end of the pipe closes

	p, err := crashtest.ReadProgress(r, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Stage())
	// Output:
	// in add-log×1, add-observables×1
}
