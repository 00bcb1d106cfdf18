package workflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/synapse-go/synapse/observable"
	"github.com/synapse-go/synapse/thehive"
)

// maxObservableData is the longest value TheHive accepts for an observable.
const maxObservableData = 4096

// AddMailLog adds the message to the communication task as a log: From,
// Sent, To, Cc and Subject, then the body (the text part, else the HTML part
// as Markdown, else a placeholder), with the original message attached as an
// .eml file streamed from the mailbox. A log that names the message's key
// already is not written again, so a rerun after a crash adds nothing.
func AddMailLog(th *thehive.Client) Step[Mail] {
	return NewStep("add-log", func(ctx context.Context, m *Mail) error {
		again := m.attempt("log")
		if !m.CaseCreated || again {
			for l, err := range th.TaskLogs.FindAll(ctx, m.Task.ID, nil) {
				if err != nil {
					return fmt.Errorf("reading the task's logs: %w", err)
				}
				if strings.Contains(l.Message, m.Keys.Message) {
					return nil
				}
			}
		}
		name, _ := observable.SanitizeFilename(strings.TrimSpace(m.Email.Subject) + ".eml")
		if name == ".eml" || name == "" {
			name = "message.eml"
		}
		_, err := th.TaskLogs.Create(ctx, m.Task.ID, &thehive.LogCreate{
			Message: logMessage(m),
			Attachments: []thehive.File{{
				Name:        name,
				ContentType: "message/rfc822",
				Size:        m.RawSize,
				Open:        m.openRaw(ctx),
			}},
		})
		if err != nil {
			return fmt.Errorf("adding the task log: %w", err)
		}
		m.raise(Updated)
		return nil
	})
}

// ObservableOptions say which observables mail pipelines add.
type ObservableOptions struct {
	// Extract tunes what is extracted (allow and deny lists, recipients,
	// inline images...).
	Extract observable.ExtractOptions
	// Tags are added to every observable.
	Tags []string
	// TLP of the observables; TheHive's default (amber) when nil.
	TLP *thehive.TLP
	// SkipFiles adds no file observables for attachments.
	SkipFiles bool
	// Logger receives a warning for each value TheHive refuses (a type it
	// does not know, a value it finds malformed): such values are skipped,
	// they do not fail the message. nil discards the warnings.
	Logger *slog.Logger
}

// AddMailObservables adds the message's observables to its case: the
// indicators observable.Extract finds (addresses, URLs, domains, IPs,
// hashes, the subject...) and, unless SkipFiles, each attachment as a file
// observable streamed from the mailbox (attached messages and their own
// attachments included). Observables the case already has are not sent
// again, and those TheHive rejects as duplicates count as added.
func AddMailObservables(th *thehive.Client, opts ObservableOptions) Step[Mail] {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return NewStep("add-observables", func(ctx context.Context, m *Mail) error {
		again := m.attempt("observables")
		existing := map[string]bool{}
		if !m.CaseCreated || again {
			for o, err := range th.Cases.FindObservablesAll(ctx, m.Case.ID, nil) {
				if err != nil {
					return fmt.Errorf("reading the case's observables: %w", err)
				}
				existing[observableKey(o.DataType, o.Data)] = true
				if o.Attachment != nil {
					existing[observableKey("file", o.Attachment.SHA256())] = true
				}
			}
		}
		from := "an unknown sender"
		if len(m.Email.From) > 0 {
			from = m.Email.From[0].Addr
		}
		groups := groupObservables(m.Email, opts, existing)
		inputs := make([]*thehive.ObservableCreate, len(groups))
		for i, g := range groups {
			in := &thehive.ObservableCreate{
				DataType: string(g.dataType),
				Data:     g.values,
				Message:  fmt.Sprintf("Found in the email from %s: %s", from, m.Email.Subject),
				TLP:      opts.TLP,
				Tags:     g.tags,
			}
			if g.file != nil {
				a := g.file
				in.Data = nil
				in.Message = fmt.Sprintf("Attachment %q of the email from %s: %s", a.Filename, from, m.Email.Subject)
				if len(a.Suspicious) > 0 {
					in.Message += " (suspicious name: " + strings.Join(a.Suspicious, ", ") + ")"
				}
				in.File = &thehive.File{
					Name:        a.SafeName,
					ContentType: a.ContentType,
					Size:        a.Size,
					Open:        m.openAttachment(ctx, a.Path, nil),
				}
			}
			inputs[i] = in
		}
		added, err := addAllObservables(ctx, th, m.Case.ID, inputs, logger)
		if err != nil {
			return err
		}
		if added && !m.CaseCreated {
			m.raise(Updated)
		}
		return nil
	})
}

// observableRequests bounds the observable requests of one message in
// flight at once: they are independent, and sending them one after the
// other would make a message cost a round trip per group.
const observableRequests = 4

// addAllObservables sends the groups, a few at a time, and returns the
// first error once every request ended.
func addAllObservables(ctx context.Context, th *thehive.Client, caseID thehive.CaseID, inputs []*thehive.ObservableCreate, logger *slog.Logger) (bool, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		added bool
		errs  []error
	)
	sem := make(chan struct{}, observableRequests)
	for _, in := range inputs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ok, err := addObservables(ctx, th, caseID, in, logger)
			mu.Lock()
			defer mu.Unlock()
			added = added || ok
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return added, errs[0]
	}
	return added, nil
}

func observableKey(dataType, data string) string { return dataType + "\x00" + data }

// observableGroup is one request's worth of observables: values of one type
// with the same tags, or one file.
type observableGroup struct {
	dataType observable.DataType
	tags     []string
	values   []string
	file     *observable.Attachment
}

// groupObservables extracts the message's observables, drops those the
// case has and groups the others by type and tags.
func groupObservables(e *observable.Email, opts ObservableOptions, existing map[string]bool) []observableGroup {
	var groups []observableGroup
	index := map[string]int{}
	for _, o := range observable.Extract(e, opts.Extract) {
		tags := slices.Concat(o.Tags, opts.Tags)
		slices.Sort(tags)
		tags = slices.Compact(tags)
		if o.Type == observable.TypeFile {
			if opts.SkipFiles || o.Attachment == nil || existing[observableKey("file", o.Attachment.SHA256)] {
				continue
			}
			existing[observableKey("file", o.Attachment.SHA256)] = true
			groups = append(groups, observableGroup{dataType: o.Type, tags: tags, file: o.Attachment})
			continue
		}
		if o.Value == "" || len(o.Value) > maxObservableData || existing[observableKey(string(o.Type), o.Value)] {
			continue
		}
		existing[observableKey(string(o.Type), o.Value)] = true
		key := string(o.Type) + "\x00" + strings.Join(tags, "\x00")
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, observableGroup{dataType: o.Type, tags: tags})
		}
		groups[i].values = append(groups[i].values, o.Value)
	}
	slices.SortStableFunc(groups, func(a, b observableGroup) int {
		// Values first, files last: a slow upload should not hold back the
		// indicators.
		return cmp.Compare(boolInt(a.file != nil), boolInt(b.file != nil))
	})
	return groups
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// addObservables sends one group. Duplicates count as success; values
// TheHive refuses for what they are are logged and skipped; other errors
// (TheHive unreachable, overloaded) are returned.
func addObservables(ctx context.Context, th *thehive.Client, caseID thehive.CaseID, in *thehive.ObservableCreate, logger *slog.Logger) (added bool, err error) {
	created, err := th.Observables.AddToCase(ctx, caseID, in, thehive.SafeToRetry())
	if err == nil {
		return len(created) > 0, nil
	}
	if errors.Is(err, thehive.ErrDuplicate) {
		return len(created) > 0, nil
	}
	var pe *thehive.PartialError
	if errors.As(err, &pe) {
		for _, f := range pe.Failures {
			if !f.Duplicate() {
				logger.Warn("observable refused", "case", string(caseID), "dataType", in.DataType,
					"type", f.Type, "message", f.Message)
			}
		}
		return len(created) > 0, nil
	}
	if errors.Is(err, thehive.ErrBadRequest) {
		logger.Warn("observables refused", "case", string(caseID), "dataType", in.DataType, "error", err.Error())
		return false, nil
	}
	return false, fmt.Errorf("adding %s observables: %w", in.DataType, err)
}

// AlertOptions are the fields of the alerts that Ews2Alert creates.
type AlertOptions struct {
	// Type and Source identify the alerts' origin (default "email" and
	// "synapse"); SourceRef is the message's Message-ID, so (Type, Source,
	// SourceRef) is unique per message and TheHive refuses a second alert
	// for the same message.
	Type   string
	Source string
	// Tags are added to every alert.
	Tags []string
	// Severity, TLP and PAP default to TheHive's (medium, amber, amber).
	Severity thehive.Severity
	TLP      *thehive.TLP
	PAP      *thehive.PAP
	// CaseTemplate is applied when the alert becomes a case.
	CaseTemplate string
	// CustomFields are set on every alert.
	CustomFields thehive.CustomFields
}

// mailSourceRef is the alert sourceRef of a message: its Message-ID when it
// has one that fits, else its key.
func mailSourceRef(m *Mail) string {
	if id := normaliseMessageID(m.Email.MessageID); id != "" && len(id) <= 128 {
		return id
	}
	return m.Keys.Message
}

// CreateMailAlert creates an alert from the message, with its observables
// (attachments streamed in the same request). SourceRef is the Message-ID:
// when TheHive already has the alert (a rerun, or the same message reported
// twice) the answer is a duplicate, and the message counts as skipped.
func CreateMailAlert(th *thehive.Client, opts AlertOptions, obs ObservableOptions) Step[Mail] {
	typ, source := cmp.Or(opts.Type, "email"), cmp.Or(opts.Source, "synapse")
	return NewStep("create-alert", func(ctx context.Context, m *Mail) error {
		var observables []thehive.ObservableCreate
		for _, g := range groupObservables(m.Email, obs, map[string]bool{}) {
			in := thehive.ObservableCreate{DataType: string(g.dataType), Data: g.values, TLP: obs.TLP, Tags: g.tags}
			if g.file != nil {
				in.Data = nil
				in.File = &thehive.File{
					Name:        g.file.SafeName,
					ContentType: g.file.ContentType,
					Size:        g.file.Size,
					Open:        m.openAttachment(ctx, g.file.Path, nil),
				}
			}
			observables = append(observables, in)
		}
		date := m.Email.Date
		if date.IsZero() {
			date = cmp.Or(m.Message.Received, time.Now())
		}
		a, err := th.Alerts.Create(ctx, &thehive.AlertCreate{
			Type:         typ,
			Source:       source,
			SourceRef:    mailSourceRef(m),
			Title:        caseTitle("", m.Email),
			Description:  alertDescription(m),
			Severity:     opts.Severity,
			TLP:          opts.TLP,
			PAP:          opts.PAP,
			Date:         date,
			Tags:         slices.Clone(opts.Tags),
			CaseTemplate: opts.CaseTemplate,
			CustomFields: opts.CustomFields,
			Observables:  observables,
		}, thehive.SafeToRetry())
		switch {
		case errors.Is(err, thehive.ErrDuplicate):
			return nil
		case err != nil:
			return fmt.Errorf("creating the alert: %w", err)
		}
		m.Alert = a
		m.raise(Created)
		return nil
	})
}
