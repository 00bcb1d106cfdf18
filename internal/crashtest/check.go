package crashtest

import (
	"fmt"
	"slices"

	"github.com/synapse-go/synapse/internal/crashtest/mailkit"
)

// Check compares what a mail-to-case workflow left behind with the emails it
// was given: msgs, as generated; snap, what TheHive holds; left and
// quarantined, what the reported folder and the quarantine folder hold. It
// returns one line per broken promise:
//
//   - lost: an email with no log, or not marked processed;
//   - duplicated: two cases for a thread, two logs for an email, two tasks
//     in a case, an observable twice in a case (see [Snapshot.Problems]);
//   - misplaced: an email logged in another thread's case, or an
//     indicator or file missing from its thread's case;
//   - set aside: any email quarantined, since none of them is faulty.
func Check(msgs []mailkit.Message, snap *Snapshot, left, quarantined []mailkit.Stored) []string {
	if snap == nil {
		return []string{"no snapshot of TheHive to check"}
	}
	out := snap.Problems(TaskTitle)

	// One case per thread, titled after its first email.
	caseOf := map[int]Case{} // thread → case
	byTitle := map[string][]Case{}
	for _, c := range snap.Cases {
		byTitle[c.Title] = append(byTitle[c.Title], c)
	}
	threads := 0
	for _, m := range msgs {
		if m.Thread != m.Index {
			continue
		}
		threads++
		switch cs := byTitle[m.ThreadSubject]; len(cs) {
		case 0:
			out = append(out, fmt.Sprintf("thread of email %d (%q) has no case", m.Index, m.ThreadSubject))
		case 1:
			caseOf[m.Index] = cs[0]
			if cs[0].Assignee != Owner {
				out = append(out, fmt.Sprintf("case %q is assigned to %q, want %q", cs[0].Title, cs[0].Assignee, Owner))
			}
		default:
			out = append(out, fmt.Sprintf("thread of email %d (%q) has %d cases", m.Index, m.ThreadSubject, len(cs)))
		}
	}
	if len(snap.Cases) != threads {
		out = append(out, fmt.Sprintf("%d cases for %d threads", len(snap.Cases), threads))
	}
	if len(snap.Logs) != len(msgs) {
		out = append(out, fmt.Sprintf("%d logs for %d emails", len(snap.Logs), len(msgs)))
	}

	// Each email logged once, in its thread's case, with its indicators
	// and files among the case's observables.
	for _, m := range msgs {
		logs := snap.LogsOfMessage(m.SHA256)
		if len(logs) != 1 {
			out = append(out, fmt.Sprintf("email %d (%q) is attached to %d logs", m.Index, m.Subject, len(logs)))
			continue
		}
		c, ok := caseOf[m.Thread]
		if !ok {
			continue // reported above
		}
		if logs[0].Extra.CaseID != c.ID {
			out = append(out, fmt.Sprintf("email %d (%q) is logged in case %s, not in its thread's case %s", m.Index, m.Subject, logs[0].Extra.CaseID, c.ID))
		}
		values := map[string]bool{}
		for _, o := range snap.ObservablesOf(c.ID) {
			values[o.Value()] = true
		}
		for _, v := range m.Indicators {
			if !values[v] {
				out = append(out, fmt.Sprintf("email %d: indicator %s is missing from case %q", m.Index, v, c.Title))
			}
		}
		for _, a := range m.Attachments {
			if !values[a.SHA256] {
				out = append(out, fmt.Sprintf("email %d: file %s is missing from case %q", m.Index, a.Name, c.Title))
			}
		}
	}

	// Every email still in the folder, marked processed; none set aside.
	marked := 0
	for _, s := range left {
		if s.HasFlag(ProcessedKeyword) && s.HasFlag(`\Seen`) {
			marked++
		} else {
			out = append(out, fmt.Sprintf("email %q (UID %d) is not marked processed: %v", s.Subject, s.UID, s.Flags))
		}
	}
	if len(left) != len(msgs) || marked != len(msgs) {
		out = append(out, fmt.Sprintf("the folder holds %d emails, %d marked processed; %d were seeded", len(left), marked, len(msgs)))
	}
	for _, s := range quarantined {
		out = append(out, fmt.Sprintf("email %q was quarantined", s.Subject))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
