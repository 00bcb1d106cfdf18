package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Targets the corpus comparison must meet.
const (
	// minAgreement is the least share of eml_parser's correct indicators
	// (URLs, IPs, domains, addresses) that we must also report.
	minAgreement = 0.98
)

// report is the comparison over a whole corpus.
type report struct {
	Emails []emailResult
	Totals map[string]*counts
}

// compareAll compares every email of the corpus.
func (c corpus) compareAll() (*report, error) {
	names, err := c.names()
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("corpus: no email with an eml_parser output")
	}
	r := &report{Totals: map[string]*counts{}}
	for _, cat := range categories {
		r.Totals[cat] = &counts{}
	}
	for _, name := range names {
		res := c.compareOne(name)
		for _, cat := range categories {
			r.Totals[cat].add(*res.Counts[cat])
		}
		r.Emails = append(r.Emails, res)
	}
	return r, nil
}

// agreement returns, over URLs, IPs, domains and addresses, how many of
// eml_parser's correct values we also report, and how many there are.
func (r *report) agreement() (agree, right int) {
	for _, cat := range []string{catURL, catIP, catDomain, catMail} {
		t := r.Totals[cat]
		agree += t.Found + t.Explained
		right += t.Found + t.Explained + t.Missed
	}
	return agree, right
}

// failures lists the targets the comparison misses.
func (r *report) failures() []string {
	var fs []string
	for _, e := range r.Emails {
		switch {
		case e.Panic != "":
			fs = append(fs, fmt.Sprintf("%s: panic: %s", e.Name, e.Panic))
		case e.ParseErr != "":
			fs = append(fs, fmt.Sprintf("%s: error: %s", e.Name, e.ParseErr))
		case e.BodyLost:
			fs = append(fs, fmt.Sprintf("%s: eml_parser found body text, we found none", e.Name))
		}
	}
	if h := r.Totals[catHash]; h.Missed > 0 {
		fs = append(fs, fmt.Sprintf("attachment hashes: %d of eml_parser's %d not found and not explained", h.Missed, h.Theirs))
	}
	agree, right := r.agreement()
	if right > 0 && float64(agree) < minAgreement*float64(right) {
		fs = append(fs, fmt.Sprintf("agreement %.2f%% (%d of %d) is below %.0f%%", pct(agree, right), agree, right, minAgreement*100))
	}
	return fs
}

func pct(a, b int) float64 {
	if b == 0 {
		return 100
	}
	return 100 * float64(a) / float64(b)
}

// write prints the per-email lines, every difference with its verdict and
// reason, and the totals.
func (r *report) write(w io.Writer, diffs bool) {
	fmt.Fprintf(w, "%-52s %9s %9s %9s %9s %9s  %s\n", "email (found/eml_parser's, +ours only)", "urls", "ips", "domains", "addresses", "hashes", "notes")
	for _, e := range r.Emails {
		fmt.Fprintf(w, "%-52s", truncate(e.Name, 52))
		for _, cat := range categories {
			c := e.Counts[cat]
			fmt.Fprintf(w, " %9s", fmt.Sprintf("%d/%d+%d", c.Found+c.Explained+c.Wrong, c.Theirs, c.OursOnly))
		}
		var notes []string
		if e.Panic != "" {
			notes = append(notes, "PANIC "+e.Panic)
		}
		if e.ParseErr != "" {
			notes = append(notes, "ERROR "+e.ParseErr)
		}
		if e.BodyLost {
			notes = append(notes, "BODY LOST")
		}
		if e.Defects > 0 {
			notes = append(notes, fmt.Sprintf("%d defects", e.Defects))
		}
		fmt.Fprintf(w, "  %s\n", strings.Join(notes, "; "))
		if diffs {
			for _, d := range e.Diffs {
				who := "eml_parser only"
				if d.Side == "ours" {
					who = "ours only"
				}
				fmt.Fprintf(w, "    %-6s %-15s [%s] %s: %s\n", d.Cat, who, d.Verdict, d.Value, d.Reason)
			}
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-10s %8s %8s %10s %10s %8s %10s\n", "totals", "theirs", "found", "explained", "theirs-bad", "missed", "ours-only")
	for _, cat := range categories {
		t := r.Totals[cat]
		fmt.Fprintf(w, "%-10s %8d %8d %10d %10d %8d %10d\n", cat, t.Theirs, t.Found, t.Explained, t.Wrong, t.Missed, t.OursOnly)
	}
	agree, right := r.agreement()
	fmt.Fprintf(w, "\nagreement on indicators where eml_parser is right: %.2f%% (%d of %d; target %.0f%%)\n", pct(agree, right), agree, right, minAgreement*100)
	h := r.Totals[catHash]
	fmt.Fprintf(w, "attachment hashes: %d of %d equal, %d explained (mostly attached messages, which eml_parser hashes on its own re-serialisation while we hash the original bytes), %d eml_parser's errors, %d missing\n",
		h.Found, h.Theirs, h.Explained, h.Wrong, h.Missed)
	texts, same, panics, errs, lost := 0, 0, 0, 0, 0
	for _, e := range r.Emails {
		texts += e.BodyTexts
		same += e.BodyTextsSame
		if e.Panic != "" {
			panics++
		}
		if e.ParseErr != "" {
			errs++
		}
		if e.BodyLost {
			lost++
		}
	}
	fmt.Fprintf(w, "emails: %d parsed, %d panics, %d errors, %d with the body lost; body texts decoded identically: %d of %d\n", len(r.Emails), panics, errs, lost, same, texts)
}

// moduleRoot walks up from dir to the directory holding go.mod.
func moduleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above " + dir)
		}
		dir = parent
	}
}

// defaultCorpus is ../shared/corpus next to the module root, where CI
// clones the shared data.
func defaultCorpus() (string, error) {
	root, err := moduleRoot(".")
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(root), "shared", "corpus"), nil
}
