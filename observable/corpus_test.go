package observable

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

type corpusMessage struct {
	name string
	raw  []byte
}

// corpusDir returns the shared corpus of real-world emails, which lives in
// ../shared/corpus beside the repository. Without it the calling test is
// skipped, except in CI (CI=true), where it fails.
func corpusDir(tb testing.TB) string {
	tb.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "corpus", "eml"))
	if err == nil {
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			return dir
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("corpus not found at %s", dir)
	}
	tb.Skipf("corpus not found at %s", dir)
	return ""
}

// corpusMessages reads every email of the shared corpus.
func corpusMessages(tb testing.TB) []corpusMessage {
	tb.Helper()
	dir := corpusDir(tb)
	paths, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(paths)
	var msgs []corpusMessage
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		msgs = append(msgs, corpusMessage{name: filepath.Base(p), raw: raw})
	}
	if len(msgs) == 0 {
		tb.Fatalf("no email in %s", dir)
	}
	return msgs
}
