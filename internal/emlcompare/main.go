// Command emlcompare compares what the observable package extracts from a
// corpus of emails with what the Python eml_parser library (used by
// TheHive's EmlParser analyzer) extracted from the same files.
//
// Usage:
//
//	go run ./internal/emlcompare [-corpus dir] [-q]
//
// The corpus directory holds eml/*.eml and eml_parser-output/*.json (one
// JSON file per email); it defaults to ../shared/corpus beside the module
// root. For each email the program prints how many of eml_parser's URLs,
// IP addresses, domains, mail addresses and attachment hashes we also
// report, and lists every difference with a verdict ("ours right",
// "theirs right" or "explained") and the reason; then the totals. It exits
// with status 1 when a target is missed: an email that panics, fails or
// loses its body, an attachment hash neither found nor explained, or less
// than 98% agreement on the indicators eml_parser gets right.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	dir := flag.String("corpus", "", "corpus directory holding eml/ and eml_parser-output/ (default ../shared/corpus beside the module root)")
	quiet := flag.Bool("q", false, "print the counts only, not every difference")
	flag.Parse()
	if *dir == "" {
		d, err := defaultCorpus()
		if err != nil {
			fmt.Fprintln(os.Stderr, "emlcompare:", err)
			os.Exit(2)
		}
		*dir = d
	}
	c, err := newCorpus(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "emlcompare:", err)
		os.Exit(2)
	}
	r, err := c.compareAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "emlcompare:", err)
		os.Exit(2)
	}
	r.write(os.Stdout, !*quiet)
	if fs := r.failures(); len(fs) > 0 {
		fmt.Println("\nTARGETS MISSED:")
		for _, f := range fs {
			fmt.Println("  " + f)
		}
		os.Exit(1)
	}
}
