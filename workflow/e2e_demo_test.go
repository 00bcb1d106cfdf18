package workflow_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/synapse-go/synapse/internal/crashtest"
	"github.com/synapse-go/synapse/internal/crashtest/mailkit"
	"github.com/synapse-go/synapse/thehive/thehivetest"
	"github.com/synapse-go/synapse/workflow"
)

// TestE2EDovecotDemo runs the demo's scenario (examples/demo/mail: a
// phishing mail an analyst tagged, the victim's reply, a forwarded mail
// carrying the original with a zip and a PDF) through Ews2Case against
// Dovecot and the fake TheHive, and checks what TheHive holds and that every
// message is marked on the server.
func TestE2EDovecotDemo(t *testing.T) {
	t.Parallel()
	box := startE2EMailbox(t)
	names, raws := readEMLs(t, filepath.Join(moduleRoot(t), "examples", "demo", "mail"))
	if len(raws) != 3 {
		t.Fatalf("%d demo emails (%v), want 3", len(raws), names)
	}
	seeds := make([]mailkit.Seed, len(raws))
	for i, raw := range raws {
		seeds[i] = mailkit.Seed{Raw: raw, Received: time.Date(2026, 11, 4, 9, i, 0, 0, time.UTC)}
	}
	seeds[0].Keywords = []string{"analyst1"} // the category that names the owner
	stored := box.seed(t, seeds...)
	srv, th := e2eTheHive(t)

	cfg := workflow.MailConfig{
		Case:        workflow.CaseOptions{Tags: []string{"phishing", "reported-by-user"}},
		Owner:       workflow.OwnerOptions{Categories: map[string]string{"analyst1": e2eAnalyst}, Fallback: thehivetest.AdminLogin},
		Observables: workflow.ObservableOptions{Tags: []string{"synapse"}},
	}
	rep, err := workflow.Ews2Case(box.mailbox(t), th, cfg).Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	type counts struct{ Seen, Created, Updated, Skipped, Failed, Quarantined int }
	if diff := cmp.Diff(counts{Seen: 3, Created: 2, Updated: 1},
		counts{rep.Seen, rep.Created, rep.Updated, rep.Skipped, rep.Failed, rep.Quarantined}); diff != "" {
		t.Errorf("report (-want +got):\n%s\nerrors: %+v", diff, rep.Errors)
	}

	snap := snapshot(t, srv)
	for _, p := range snap.Problems("Communication") {
		t.Error(p)
	}

	// Two cases: the phishing thread (the mail and its reply), owned by the
	// analyst of the category, and the forwarded invoice, owned by the
	// fallback; each with its Communication task, started, for its owner.
	type caseView struct {
		Title, Owner string
		Tags         []string
		Task         string
		Logs         []string // SHA-256 of the attached originals
	}
	var got []caseView
	for _, c := range snap.Cases {
		v := caseView{Title: c.Title, Owner: c.Assignee}
		for _, tag := range c.Tags {
			if !strings.HasPrefix(tag, "synapse:") {
				v.Tags = append(v.Tags, tag)
			}
		}
		for _, task := range snap.Tasks {
			if task.Extra.CaseID == c.ID {
				v.Task = task.Title + " " + task.Status + " " + task.Assignee
				if task.StartDate == 0 {
					t.Errorf("task of case %q has no start date", c.Title)
				}
			}
		}
		for _, l := range snap.Logs {
			if l.Extra.CaseID == c.ID {
				for _, f := range l.Attachments {
					v.Logs = append(v.Logs, f.SHA256())
				}
			}
		}
		slices.Sort(v.Logs)
		got = append(got, v)
	}
	// The two threads are handled in parallel: their cases come in any order.
	slices.SortFunc(got, func(a, b caseView) int { return strings.Compare(a.Title, b.Title) })
	want := []caseView{{
		Title: "Action required: your mailbox will be suspended", Owner: e2eAnalyst,
		Tags: []string{"phishing", "reported-by-user"}, Task: "Communication InProgress " + e2eAnalyst,
		Logs: sorted(stored[0].SHA256, stored[1].SHA256),
	}, {
		Title: "Overdue invoice INV-20931", Owner: thehivetest.AdminLogin,
		Tags: []string{"phishing", "reported-by-user"}, Task: "Communication InProgress " + thehivetest.AdminLogin,
		Logs: []string{stored[2].SHA256},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cases (-want +got):\n%s", diff)
	}

	// Each log shows the headers and the body, with the original attached
	// whole.
	for i, body := range []string{
		"has exceeded its storage quota",
		"I clicked the link this morning",
		"We never ordered anything from this company",
	} {
		logs := snap.LogsOfMessage(stored[i].SHA256)
		if len(logs) != 1 {
			t.Errorf("%s is attached to %d logs, want 1", names[i], len(logs))
			continue
		}
		l := logs[0]
		for _, want := range []string{"**From:**", "**Sent:**", "**To:**", "**Subject:**", body} {
			if !strings.Contains(l.Message, want) {
				t.Errorf("log of %s lacks %q:\n%s", names[i], want, l.Message)
			}
		}
		f := l.Attachments[0]
		if f.ContentType != "message/rfc822" || !strings.HasSuffix(f.Name, ".eml") || f.Size != stored[i].Size {
			t.Errorf("log of %s attaches %s (%s, %d bytes), want the %d-byte original", names[i], f.Name, f.ContentType, f.Size, stored[i].Size)
		}
	}

	// Observables: the indicators of each thread, and the forwarded mail's
	// files with the content the MIME structure holds.
	phish, _ := caseTitled(snap, "Action required: your mailbox will be suspended")
	invoice, _ := caseTitled(snap, "Overdue invoice INV-20931")
	for _, tc := range []struct {
		c    crashtest.Case
		want []string
	}{
		{phish, []string{
			"url https://rnicrosoft-login.com/auth/verify?user=alice.martin&ref=88213",
			"url https://rnicrosoft-login.com/auth", // written defanged
			"domain rnicrosoft-login.com",
			"ip 185.220.101.47",
			"mail no-reply@rnicrosoft-secure.com",
			"mail it-support@helpdesk-rnicrosoft.com",
			"mail alice.martin@corp.example",
			"mail-subject Action required: your mailbox will be suspended",
			"mail-subject RE: Action required: your mailbox will be suspended",
		}},
		{invoice, []string{
			"url http://invoices-portal.net/pay/INV-20931",
			"ip 45.133.1.20",
			"mail billing@invoices-portal.net",
			"mail bob.nguyen@corp.example",
		}},
	} {
		have := map[string]bool{}
		for _, o := range snap.ObservablesOf(tc.c.ID) {
			have[o.DataType+" "+o.Data] = true
			if !slices.Contains(o.Tags, "synapse") {
				t.Errorf("observable %s %s lacks the configured tag", o.DataType, o.Value())
			}
		}
		for _, w := range tc.want {
			if !have[w] {
				t.Errorf("case %q lacks observable %s", tc.c.Title, w)
			}
		}
	}
	var files []string
	for _, o := range snap.ObservablesOf(invoice.ID) {
		if o.Attachment != nil {
			files = append(files, o.Attachment.Name+" "+o.Attachment.SHA256())
		}
	}
	slices.Sort(files)
	if diff := cmp.Diff(mimeFiles(t, raws[2]), files); diff != "" {
		t.Errorf("file observables of the forwarded mail (-MIME +TheHive):\n%s", diff)
	}
	for _, o := range snap.ObservablesOf(phish.ID) {
		if o.Attachment != nil {
			t.Errorf("the phishing thread has no attachment, yet file %s was added", o.Attachment.Name)
		}
	}

	// Every message is marked processed on the server, none is set aside,
	// and a new runner finds nothing left to do.
	for i, s := range box.inspect(t, e2eFolder) {
		if !s.HasFlag(e2eProcessed) || !s.HasFlag(`\Seen`) || s.HasFlag(e2eQuarantined) {
			t.Errorf("%s has flags %v, want it read and marked %s", names[i], s.Flags, e2eProcessed)
		}
	}
	if q := box.inspect(t, e2eQuarantine); len(q) != 0 {
		t.Errorf("%d messages quarantined", len(q))
	}
	again, err := workflow.Ews2Case(box.mailbox(t), th, cfg).Run(t.Context())
	if err != nil || again.Seen != 0 {
		t.Errorf("a new run saw %d messages (%v), want none", again.Seen, err)
	}
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

func caseTitled(s *crashtest.Snapshot, title string) (crashtest.Case, bool) {
	for _, c := range s.Cases {
		if c.Title == title {
			return c, true
		}
	}
	return crashtest.Case{}, false
}

// mimeFiles returns "name sha256" for every attachment of a message, found
// with the standard library alone: files in multipart bodies and attached
// messages (message/rfc822 parts, which count as files themselves), down to
// any depth.
func mimeFiles(t *testing.T, raw []byte) []string {
	t.Helper()
	var out []string
	var walk func(header map[string][]string, body io.Reader)
	walk = func(header map[string][]string, body io.Reader) {
		get := func(k string) string {
			if v := header[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		mt, params, err := mime.ParseMediaType(get("Content-Type"))
		if err != nil {
			mt = "text/plain"
		}
		switch {
		case strings.HasPrefix(mt, "multipart/"):
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header, p)
			}
		case mt == "message/rfc822":
			inner, err := io.ReadAll(body)
			if err != nil {
				t.Fatal(err)
			}
			_, dp, _ := mime.ParseMediaType(get("Content-Disposition"))
			out = append(out, dp["filename"]+" "+hexSHA256(inner))
			m, err := mail.ReadMessage(bytes.NewReader(inner))
			if err != nil {
				t.Fatal(err)
			}
			walk(m.Header, m.Body)
		default:
			disp, dp, _ := mime.ParseMediaType(get("Content-Disposition"))
			if disp != "attachment" {
				return
			}
			var r io.Reader = body
			if strings.EqualFold(get("Content-Transfer-Encoding"), "base64") {
				r = base64.NewDecoder(base64.StdEncoding, body)
			}
			data, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, dp["filename"]+" "+hexSHA256(data))
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	walk(m.Header, m.Body)
	slices.Sort(out)
	return out
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
