// Command demo runs the whole mail-to-case pipeline with no outside server:
// it starts a fake TheHive and an in-memory IMAP server, puts three reported
// emails in the SOC's phishing folder (a phishing mail, the victim's reply to
// it, and a forwarded mail carrying an attached message with a zip and a
// PDF), runs Ews2Case once, and prints what TheHive now holds.
//
//	go run ./examples/demo
//	go run ./examples/demo -v    # with the workflow's logs
package main

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/synapse-go/synapse/ews"
	"github.com/synapse-go/synapse/ews/ewstest"
	"github.com/synapse-go/synapse/thehive"
	"github.com/synapse-go/synapse/thehive/thehivetest"
	"github.com/synapse-go/synapse/workflow"
)

//go:embed mail/*.eml
var mails embed.FS

const (
	mailUser   = "soc@corp.example"
	mailPass   = "demo-password"
	mailFolder = "Inbox/Phishing"
	analyst    = "analyst1@corp.example"
)

func main() {
	verbose := flag.Bool("v", false, "print the workflow's logs")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, verbose bool) error {
	logger := slog.New(slog.DiscardHandler)
	if verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	// A fake TheHive 5 with an analyst, on a loopback port.
	hive := thehivetest.New(thehivetest.WithUser(thehivetest.User{Login: analyst, Name: "Ana Lyst", Profile: "analyst"}))
	if err := hive.Start("127.0.0.1:0"); err != nil {
		return err
	}
	defer hive.Close()

	// An in-memory IMAP server holding the reported emails. The first one
	// carries the keyword "analyst1": the category an analyst gave it in her
	// mail client, which makes her the owner of its case.
	imap, err := ewstest.NewIMAPServer(nil)
	if err != nil {
		return err
	}
	defer imap.Close()
	if err := seedMailbox(imap); err != nil {
		return err
	}

	th, err := thehive.NewClient(hive.URL(), thehive.WithAPIKey(thehivetest.APIKey),
		thehive.WithOrganisation(thehivetest.Organisation), thehive.WithLogger(logger))
	if err != nil {
		return err
	}
	mb, err := ews.NewIMAP(ews.IMAPConfig{
		Addr: imap.Addr(), TLS: ews.TLSNone,
		Username: mailUser, Password: mailPass,
		Folders:    []string{mailFolder},
		Processed:  ews.Disposition{MarkRead: true, Category: "synapse-processed"},
		Quarantine: ews.Disposition{Category: "synapse-quarantined"},
		Logger:     logger,
	})
	if err != nil {
		return err
	}
	defer mb.Close()

	fmt.Fprintf(out, "synapse demo: %d reported emails in IMAP folder %s of %s, a fake TheHive at %s\n\n",
		countMails(), mailFolder, mailUser, hive.URL())

	runner := workflow.Ews2Case(mb, th, workflow.MailConfig{
		Case:        workflow.CaseOptions{Tags: []string{"phishing", "reported-by-user"}},
		Owner:       workflow.OwnerOptions{Categories: map[string]string{"analyst1": analyst}, Fallback: thehivetest.AdminLogin},
		Observables: workflow.ObservableOptions{Tags: []string{"synapse"}},
		// One email at a time, so that the cases are numbered in the
		// order the emails arrived; the pipeline runs with any
		// concurrency (threads keep their order).
		Concurrency: 1,
		Logger:      logger,
	})
	rep, err := runner.Run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Ews2Case: %d emails seen: %d cases created, %d updated, %d skipped, %d failed, %d quarantined, in %v\n\n",
		rep.Seen, rep.Created, rep.Updated, rep.Skipped, rep.Failed, rep.Quarantined, rep.Duration.Round(time.Millisecond))
	for _, e := range rep.Errors {
		fmt.Fprintf(out, "  error: %s: %s\n", e.Key, e.Error)
	}
	if err := printCases(ctx, out, th); err != nil {
		return err
	}

	again, err := runner.Run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "A second run sees %d emails: every email was marked processed.\n", again.Seen)
	return nil
}

func countMails() int {
	n, _ := fs.Glob(mails, "mail/*.eml")
	return len(n)
}

func seedMailbox(imap *ewstest.IMAPServer) error {
	if err := imap.AddUser(mailUser, mailPass); err != nil {
		return err
	}
	if err := imap.CreateFolder(mailUser, mailFolder); err != nil {
		return err
	}
	names, err := fs.Glob(mails, "mail/*.eml")
	if err != nil {
		return err
	}
	slices.Sort(names)
	for i, name := range names {
		raw, err := mails.ReadFile(name)
		if err != nil {
			return err
		}
		var cats []string
		if i == 0 {
			cats = []string{"analyst1"}
		}
		err = imap.Seed(mailUser, mailFolder, ewstest.SeedMessage{
			Raw: raw, Received: time.Date(2026, 11, 4, 9, i, 0, 0, time.UTC), Categories: cats,
		})
		if err != nil {
			return fmt.Errorf("seeding %s: %w", name, err)
		}
	}
	return nil
}

// printCases prints every case with its owner, task logs and observables,
// read back through the TheHive client.
func printCases(ctx context.Context, out io.Writer, th *thehive.Client) error {
	cases, err := th.Cases.Find(ctx, &thehive.Query{Sort: []thehive.Sort{thehive.Asc("number")}})
	if err != nil {
		return err
	}
	for _, c := range cases {
		fmt.Fprintf(out, "Case #%d  %s\n", c.Number, c.Title)
		fmt.Fprintf(out, "  owner  %s\n", c.Assignee)
		fmt.Fprintf(out, "  tags   %s\n", strings.Join(visibleTags(c.Tags), ", "))
		tasks, err := th.Cases.FindTasks(ctx, c.ID, nil)
		if err != nil {
			return err
		}
		for _, t := range tasks {
			fmt.Fprintf(out, "  task   %s (%s, started %s)\n", t.Title, t.Status, t.StartDate.Format(time.DateTime))
			logs, err := th.TaskLogs.Find(ctx, t.ID, &thehive.Query{Sort: []thehive.Sort{thehive.Asc("_createdAt")}})
			if err != nil {
				return err
			}
			for _, l := range logs {
				var files []string
				for _, a := range l.Attachments {
					files = append(files, a.Name)
				}
				fmt.Fprintf(out, "    log  %s | %s | attached: %s\n",
					field(l.Message, "From"), field(l.Message, "Subject"), strings.Join(files, ", "))
			}
		}
		obs, err := th.Cases.FindObservables(ctx, c.ID, &thehive.Query{Sort: []thehive.Sort{thehive.Asc("dataType"), thehive.Asc("data")}})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  observables (%d)\n", len(obs))
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, o := range obs {
			value := o.Data
			if o.Attachment != nil {
				value = fmt.Sprintf("%s (%d bytes, sha256 %.16s…)", o.Attachment.Name, o.Attachment.Size, o.Attachment.SHA256())
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\n", o.DataType, value, strings.Join(visibleTags(o.Tags), " "))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(out)
	}
	return nil
}

// visibleTags leaves out the keys synapse stores to find threads again.
func visibleTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if !strings.HasPrefix(t, "synapse:") {
			out = append(out, t)
		}
	}
	return out
}

// field returns the value of a "**Name:** value" line of a task log.
func field(msg, name string) string {
	prefix := "**" + name + ":** "
	for line := range strings.SplitSeq(msg, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return strings.ReplaceAll(strings.TrimSpace(v), `\`, "")
		}
	}
	return "?"
}
