//go:build race

package crashtest_test

// raceEnabled reports whether the test binary was built with -race, so that
// the commands it builds are too.
const raceEnabled = true
